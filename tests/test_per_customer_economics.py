"""Unit economics (v2) of a `per customer` rate: profit, acquisition cost,
cac, clv, payback, money by place, channel and entry step, the cohort
curve and the levers' change of profit, each against an independent
computation: the shifted-beta-geometric closed forms (survival S(k) =
E[p^k] = B(a + k, b) / B(a, b)), or the integral over the draw by
scipy.integrate.quad.

The subscription: a prospect lands (an acquisition cost of 30 at the
first step, 5 more at the partner's link), 40% subscribe; a subscriber
with renewal rate p pays 49 a month at a 60% margin until it leaves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from journeydsl.simulate import simulate
from journeydsl.simulate.curve import cohort_curve
from journeydsl.simulate.levers import levers
from test_per_customer import REGULAR, compile_ok, discounted_lifetime, survival

MARGIN, PRICE, CONVERSION = 0.6, 49.0, 0.4
MONTHLY = 0.01  # discount 1% per month: a visit k months in counts 1 / 1.01^k
RTOL = 1e-9


def shop(rate: str, settings: str = "", landing_cost: float = 30.0) -> str:
    return f'''journey "Subscription" {{
  margin 60%
  discount 1% per month
  {settings}
  stage visit {{
    touchpoint landing "Landing page" {{ channel web; cost {landing_cost:g} }}
    touchpoint partner "Partner link" {{ channel partner; cost 35 }}
  }}
  stage paying {{ touchpoint paid "Monthly plan" {{ channel web; value 49 }} }}
  entry landing 70%, partner 30%
  landing -> paid 40%
  partner -> paid 40%
  paid    -> paid {rate} per customer after 1mo
  goal paid
}}'''


def lifetime(a: float, b: float, months: int | None = None) -> float:
    """A subscriber's discounted payments (in units of one month's price)."""
    return discounted_lifetime(a, b, MONTHLY, months)


def lifetime_by_quadrature(a: float, b: float) -> float:
    """E[1 / (1 - delta p)] over p ~ Beta(a, b): the same, by scipy's quad."""
    delta = 1.0 / (1.0 + MONTHLY)
    value, _ = integrate.quad(lambda p: stats.beta.pdf(p, a, b) / (1.0 - delta * p), 0.0, 1.0,
                              epsabs=0.0, epsrel=1e-12, limit=200)
    return value


def payback_month(a: float, b: float, spent: float, months: int | None = None) -> int | None:
    """The first month K from which -spent + 0.4 x 0.6 x 49 x sum_{k <= K}
    S(k) / 1.01^k stays >= 0 (the sum only grows), None if never."""
    months = months or 2000
    k = np.arange(months)
    earned = CONVERSION * MARGIN * PRICE * np.cumsum(survival(a, b, k) / (1 + MONTHLY) ** k)
    above = np.flatnonzero(earned - spent >= 0)
    return int(above[0]) if len(above) else None


@pytest.mark.parametrize("a, b", [(6.0, 2.0), REGULAR, (19.0, 1.0)])
@pytest.mark.parametrize("horizon", [None, 36])
def test_profit_cac_clv_and_payback_are_the_sbg_closed_forms(a, b, horizon):
    settings = f"horizon {horizon * 30}d" if horizon else ""
    m = simulate(compile_ok(shop(f"beta({a}, {b})", settings))).blended
    life = lifetime(a, b, horizon)  # (visits at months 0..35 fall before a 36-month horizon)
    spent = 0.7 * 30 + 0.3 * 35  # acquisition cost per prospect, all before converting
    assert m.conversion == pytest.approx(CONVERSION, rel=1e-14)
    assert m.revenue == pytest.approx(CONVERSION * PRICE * life, rel=RTOL)
    assert m.profit == pytest.approx(CONVERSION * MARGIN * PRICE * life - spent, rel=RTOL)
    assert m.acquisition_cost == pytest.approx(spent, rel=1e-12)
    assert m.cac == pytest.approx(spent / CONVERSION, rel=1e-12)
    assert m.clv == pytest.approx(MARGIN * PRICE * life, rel=RTOL)
    assert m.ltv_cac == pytest.approx(MARGIN * PRICE * life / (spent / CONVERSION), rel=RTOL)
    month = payback_month(a, b, spent, horizon)
    assert month is not None and month > 1  # (a payback of some months: a real test)
    assert m.payback == pytest.approx(30.0 * month)


def test_clv_is_the_integral_over_the_draw():
    # independent of the sBG series: scipy's adaptive quadrature of E[1 / (1 - delta p)]
    for a, b in ((6.0, 2.0), (2.5, 0.8)):
        m = simulate(compile_ok(shop(f"beta({a}, {b})"))).blended
        assert m.clv == pytest.approx(MARGIN * PRICE * lifetime_by_quadrature(a, b), rel=1e-9)


def test_a_range_per_customer_is_a_uniform_draw():
    m = simulate(compile_ok(shop("60%..90%"))).blended
    delta = 1.0 / (1.0 + MONTHLY)
    life = (math.log(1 - 0.6 * delta) - math.log(1 - 0.9 * delta)) / (0.3 * delta)
    assert m.clv == pytest.approx(MARGIN * PRICE * life, rel=1e-10)


def test_money_by_place_channel_and_entry_step():
    a, b = 6.0, 2.0
    m = simulate(compile_ok(shop(f"beta({a}, {b})"))).blended
    life = lifetime(a, b)
    earned = CONVERSION * PRICE * life
    assert m.steps["paid"]["revenue"] == pytest.approx(earned, rel=RTOL)
    assert m.steps["paid"]["profit"] == pytest.approx(MARGIN * earned, rel=RTOL)
    assert m.stages["paying"]["profit"] == pytest.approx(MARGIN * earned, rel=RTOL)
    assert m.stages["visit"]["cost"] == pytest.approx(0.7 * 30 + 0.3 * 35, rel=1e-12)
    assert m.channels["web"]["profit"] == pytest.approx(MARGIN * earned - 0.7 * 30, rel=RTOL)
    assert m.channels["partner"]["cost"] == pytest.approx(0.3 * 35, rel=1e-12)
    for step, cost, share in (("landing", 30.0, 0.7), ("partner", 35.0, 0.3)):
        entry = m.by_entry[step]
        assert entry.rate == pytest.approx(share)
        assert entry.value("profit") == pytest.approx(CONVERSION * MARGIN * PRICE * life - cost,
                                                      rel=RTOL)
        assert entry.value("cac") == pytest.approx(cost / CONVERSION, rel=1e-12)
        assert entry.value("clv") == pytest.approx(MARGIN * PRICE * life, rel=RTOL)
        assert entry.payback == pytest.approx(30.0 * payback_month(a, b, cost))


def test_a_payback_that_never_comes_says_so():
    # the partner's link costs 35: with a landing cost of 500 the blend never pays back
    m = simulate(compile_ok(shop("beta(6, 2)", landing_cost=500))).blended
    assert payback_month(6.0, 2.0, 0.7 * 500 + 0.3 * 35) is None
    assert m.payback is None and m.payback_why.startswith("never")
    assert m.by_entry["partner"].payback is not None  # the partner's prospects do


def test_the_cohort_curve_integrates_over_the_draw():
    a, b = 6.0, 2.0
    curve = cohort_curve(compile_ok(shop(f"beta({a}, {b})", "horizon 24mo")), "month")
    assert len(curve.rows) == 24
    spent = 0.7 * 30 + 0.3 * 35
    for row in curve.rows:
        k = row["period"]  # visits before the end of month k: months 0 .. k - 1
        assert row["profit"] == pytest.approx(
            CONVERSION * MARGIN * PRICE * lifetime(a, b, k) - spent, rel=RTOL)
        # still subscribed at the end of month k: renewed k times
        assert row["active_customers"] == pytest.approx(
            CONVERSION * float(survival(a, b, k)), rel=RTOL)
    # the mean rate (75% for everyone) would give 0.4 x 0.75^k: far below
    assert curve.rows[-1]["active_customers"] > 1.5 * CONVERSION * 0.75 ** 24


def test_a_lever_changes_profit_by_the_integrated_lifetime():
    a, b = 6.0, 2.0
    journey = compile_ok(shop(f"beta({a}, {b})"))
    found = {(x.source, x.target): x for x in levers(journey) if x.persona is None}
    lever = found[("landing", "paid")]
    # 1 pp more of the landing's 70% subscribe, each worth the integrated lifetime
    assert lever.d_profit == pytest.approx(0.7 * 0.01 * MARGIN * PRICE * lifetime(a, b),
                                           rel=1e-8)


def test_the_board_shows_an_infinite_amount_as_a_dash():
    # beta(9, 1) without a discount: E[1 / (1 - p)] is infinite, so are the
    # paying stage's revenue and profit and the journey's; cost stays finite
    from journeydsl.render.board.content import Context
    from journeydsl.render.board.lanes import Money

    journey = compile_ok(shop("beta(9, 1)").replace("discount 1% per month", ""))
    report = simulate(journey)
    assert report.blended.value("revenue") is None
    lane = Money().build(Context(journey, None, "en", report))
    visit, paying = lane.cells
    texts = {a.label: a.text for a in paying}
    assert texts == {"revenue": "\u2014", "cost": "0", "profit": "\u2014"}
    assert [a.text for a in visit][1] == "31.50"  # 0.7 x 30 + 0.3 x 35
    assert lane.span[0].text.endswith("revenue \u2014")

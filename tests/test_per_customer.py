"""`beta(a, b) per customer`: the exact engine against closed forms.

Each prospect draws its own rate p of the move once and keeps it; with the
renewal of a subscription that is the shifted-beta-geometric model (Fader &
Hardie 2007, "How to project customer retention"): their churn probability
theta ~ Beta(alpha, beta) is our renewal rate p = 1 - theta ~ Beta(beta,
alpha). Survival to period t is S(t) = E[p^t] = B(a + t, b) / B(a, b), and
the discounted expected lifetime is DEL = sum_t S(t) / (1 + d)^t.
Accuracy asked: 1e-6 relative; the quadrature gets within a few 1e-13.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.special import betaln

import journeydsl
from journeydsl.simulate import mixture, simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve
from journeydsl.simulate import quadrature
from journeydsl.simulate.quadrature import Draw, _gauss_beta

#: Fader & Hardie's estimates for their two segments (alpha, beta), as our
#: beta(a, b) on the renewal rate: beta(beta, alpha).
REGULAR = (1.182, 0.704)
HIGH_END = (3.806, 0.668)
RTOL = 1e-9


def compile_ok(text: str):
    result = journeydsl.loads(text)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result.journey


def survival(a: float, b: float, t: np.ndarray | int) -> np.ndarray:
    """S(t) = B(a + t, b) / B(a, b) = prod_{j < t} (a + j) / (a + b + j), as
    that product (betaln's difference loses digits when a is 10^6)."""
    t = np.asarray(t)
    j = np.arange(int(t.max()) if t.size else 0)
    logs = np.concatenate([[0.0], np.cumsum(-np.log1p(b / (a + j)))])
    return np.exp(logs[t])


def discounted_lifetime(a: float, b: float, d: float, periods: int | None = None) -> float:
    """sum over t < periods of S(t) / (1 + d)^t; without `periods`, until the
    terms are below 1e-18 of the sum (S(t) <= 1: the tail is below
    delta^T / (1 - delta))."""
    delta = 1.0 / (1.0 + d)
    if periods is None:
        periods = int(math.log(1e-18 * (1 - delta)) / math.log(delta)) + 1
    t = np.arange(periods)
    return math.fsum(survival(a, b, t) * delta ** t)


def subscription(rate: str, settings: str = "", extra: str = "") -> str:
    return f'''journey "Subscription" {{
  {settings}
  stage paying {{ value 1 }}
  entry paying
  paying -> paying {rate} per customer after 1mo{extra}
  goal paying
}}'''


# ---------------------------------------------------------------- the rules

@pytest.mark.parametrize("a, b", [(2.0, 3.0), (0.5, 0.7), HIGH_END, REGULAR, (1.0, 1.0),
                                  (1e6, 3.0), (0.5, 1e9), (1e9, 1e8)])
def test_the_gauss_rule_of_a_beta_is_exact_for_its_moments(a, b):
    m = 12
    p, w = _gauss_beta(m, a, b)
    assert np.all(w > 0) and abs(w.sum() - 1) < 1e-14 and np.all((p >= 0) & (p <= 1))
    for k in range(2 * m):  # E[p^k] = B(a + k, b) / B(a, b)
        # (a node near 0 or 1 is known to ~1e-17: E[p] of beta(0.5, 1e9) is 5e-10)
        assert w @ p ** k == pytest.approx(float(survival(a, b, k)), rel=1e-11, abs=1e-16)


@pytest.mark.parametrize("m", [1, 7, 64, quadrature.DENSE_POINTS])
@pytest.mark.parametrize("a, b", [(2.0, 3.0), (0.5, 0.7), (1e6, 3.0)])
def test_the_dense_eigensolver_matches_scipys_tridiagonal_one(monkeypatch, m, a, b):
    # small rules are solved densely by numpy (no scipy.linalg import at
    # start-up), larger ones by scipy's tridiagonal solver: the same rule
    dense = _gauss_beta(m, a, b)
    monkeypatch.setattr(quadrature, "DENSE_POINTS", 0)
    tridiagonal = _gauss_beta(m, a, b)
    for ours, theirs in zip(dense, tridiagonal):
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_a_rule_beyond_the_dense_size_is_exact_too():
    m = quadrature.DENSE_POINTS + 1
    p, w = _gauss_beta(m, 2.0, 3.0)
    for k in range(0, 2 * m, 37):
        assert w @ p ** k == pytest.approx(float(survival(2.0, 3.0, k)), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("a, b", [(2.0, 3.0), (9.0, 1.5), (0.5, 1.01), (19.0, 1.0001)])
def test_the_factored_rule_is_exact_for_a_pole_at_100_percent(a, b):
    # E[p^k / (1 - p)] = B(a + k, b - 1) / B(a, b): every customer's
    # expected visits of a loop nobody leaves at 100%
    p, w = Draw(a, b, 0.0, 1.0).rule(8)
    for k in range(8):
        exact = math.exp(betaln(a + k, b - 1) - betaln(a, b))
        assert w @ (p ** k / (1 - p)) == pytest.approx(exact, rel=1e-11)


def test_a_range_is_a_uniform_draw():
    p, w = Draw.of(compile_ok(subscription("60%..90%")).moves[0].rate.base).rule(6)
    assert np.all((p > 0.6) & (p < 0.9))
    for k in range(12):  # E[p^k] of U(0.6, 0.9)
        assert w @ p ** k == pytest.approx((0.9 ** (k + 1) - 0.6 ** (k + 1)) / (0.3 * (k + 1)),
                                           rel=1e-12)


# ---------------------------------------------------------------- sBG closed forms

@pytest.mark.parametrize("a, b", [REGULAR, HIGH_END, (6.0, 2.0), (19.0, 1.0), (0.5, 3.0),
                                  (90.0, 10.0)])
@pytest.mark.parametrize("t", [1, 2, 7, 12, 36])
def test_survival_is_the_sbg_closed_form(a, b, t):
    # the walk is still going at the horizon t months in when the customer
    # renewed t times: S(t) = B(a + t, b) / B(a, b)
    journey = compile_ok(subscription(f"beta({a}, {b})", f"horizon {t * 30}d"))
    m = simulate(journey).blended
    assert m.active_at_horizon == pytest.approx(float(survival(a, b, t)), rel=RTOL)
    # and every customer paid once a month while it stayed: sum_{t' < t} S(t')
    assert m.revenue == pytest.approx(discounted_lifetime(a, b, 0.0, t), rel=RTOL)


@pytest.mark.parametrize("a, b", [REGULAR, HIGH_END, (6.0, 2.0), (19.0, 1.0), (2.0, 1.05)])
@pytest.mark.parametrize("d", [0.1, 0.01, 0.0008])
def test_revenue_is_the_discounted_expected_lifetime(a, b, d):
    # one payment of 1 a month, discounted d per month, no horizon: DEL(d)
    journey = compile_ok(subscription(f"beta({a}, {b})", f"discount {d * 100:.10g}% per month"))
    m = simulate(journey).blended
    assert m.revenue == pytest.approx(discounted_lifetime(a, b, d), rel=RTOL)
    assert m.clv == pytest.approx(m.revenue, rel=1e-12)  # everyone converts at entry


def test_the_published_segments_with_a_horizon_and_a_yearly_discount():
    # Fader & Hardie's seven years of yearly renewals, discounted 10% a year
    for a, b in (REGULAR, HIGH_END):
        journey = compile_ok(subscription(f"beta({a}, {b})", "discount 10% per year\n"
                                          "horizon 7y").replace("after 1mo", "after 1y"))
        m = simulate(journey).blended
        assert m.revenue == pytest.approx(discounted_lifetime(a, b, 0.1, 7), rel=RTOL)
        assert m.steps["paying"]["visits"] == pytest.approx(
            discounted_lifetime(a, b, 0.0, 7), rel=RTOL)


# ---------------------------------------------------------------- a journey by hand

TRIAL = '''journey "Trial" {
  %s
  stage visit  { touchpoint landing }
  stage trial  {}
  stage paying { value 49 }
  stage survey { cost 5 }
  entry landing
  landing -> trial 40%%
  trial   -> paying 30%% after 14d
  paying  -> paying %s per customer after 1mo, survey 10%%
  %s
  goal paying
}'''


def test_a_subscription_journey_by_hand():
    m = simulate(compile_ok(TRIAL % ("", "beta(6, 2)", ""))).blended
    # conversion 40% x 30%; a customer with rate p pays 1 / (1 - p) months,
    # E[1 / (1 - p)] = (a + b - 1) / (b - 1) = 7 for beta(6, 2)
    assert m.conversion == pytest.approx(0.12, rel=1e-14)
    assert m.revenue == pytest.approx(0.12 * 49 * 7, rel=1e-12)
    # clv (v2): margin (100%) x value less the costs from the goal on: the survey's
    assert m.clv == pytest.approx(49 * 7 - 0.4 * 5, rel=1e-12)
    assert m.steps["paying"]["visits"] == pytest.approx(0.12 * 7, rel=1e-12)
    # the survey shares what p leaves: 10% x (1 - p) / (1 - 75%) a month,
    # 0.4 of a visit per customer whatever p
    assert m.steps["survey"]["visits"] == pytest.approx(0.12 * 0.4, rel=1e-12)
    assert m.cost == pytest.approx(0.12 * 0.4 * 5, rel=1e-12)
    assert m.steps["paying"]["churn"] == pytest.approx(0.12 * 0.6, rel=1e-12)
    assert m.steps["paying"]["reach"] == pytest.approx(0.12, rel=1e-12)


def test_a_range_per_customer_by_hand():
    m = simulate(compile_ok(TRIAL % ("", "60%..90%", ""))).blended
    months = math.log(0.4 / 0.1) / 0.3  # E[1 / (1 - p)], p ~ U(0.6, 0.9)
    assert m.revenue == pytest.approx(0.12 * 49 * months, rel=1e-12)


def test_referred_prospects_draw_their_own_rate():
    # each paid month refers 0.05 prospects: 0.12 x 7 x 0.05 per prospect,
    # and every referred prospect (a new customer, with a rate of its own)
    # again as many: the cascade is 1 / (1 - v) prospects per entering one
    # (had they kept the referrer's rate it would be larger: E[1/(1-p)^2])
    report = simulate(compile_ok(TRIAL % ("", "beta(6, 2)", "paying => landing 0.05")))
    v = 0.12 * 7 * 0.05
    assert report.blended.viral_coefficient == pytest.approx(v, rel=1e-12)
    assert report.cohort["prospects"] == pytest.approx(1 / (1 - v), rel=1e-12)
    assert report.cohort["customers"] == pytest.approx(0.12 / (1 - v), rel=1e-12)
    assert report.cohort["revenue"] == pytest.approx(0.12 * 49 * 7 / (1 - v), rel=1e-12)


def test_a_referral_cascade_under_a_horizon_against_the_mixture_of_walks():
    # under a horizon the exact engine follows the cascade in time (the
    # mixture chain); a prospect referred at s is cut at H - s. With a horizon
    # of 3 months and no delays but the renewal, generations are easy by hand:
    # a customer with rate p pays at months 0, 1, 2 while it stays and refers
    # 0.05 at each payment; a referred prospect starts at that month.
    journey = compile_ok((TRIAL % ("horizon 90d", "beta(6, 2)", "paying => landing 0.05"))
                         .replace("after 14d", ""))
    a, b = 6.0, 2.0
    s = survival(a, b, np.arange(3))  # P(still paying at month 0, 1, 2)
    conv = 0.12
    # referrals arriving at months 0, 1, 2 from one entering prospect
    first = conv * 0.05 * s
    # prospects of generation g arriving at month j: convolution, cut at 3
    total = np.zeros(3)
    gen = np.zeros(3)
    gen[0] = 1.0
    while gen.sum() > 1e-18:
        total += gen
        gen = np.convolve(gen, first)[:3]
    report = simulate(journey)
    assert report.cohort["prospects"] == pytest.approx(total.sum(), rel=1e-12)
    revenue = sum(total[j] * conv * 49 * s[:3 - j].sum() for j in range(3))
    assert report.cohort["revenue"] == pytest.approx(revenue, rel=1e-12)


def test_a_two_step_renewal_loop_by_hand():
    # reminder -> renewal p (the customer's own), renewal -> reminder 92%:
    # renewals per customer sum_{k >= 1} 0.92^(k-1) E[p^k]
    text = '''journey "Registrar" {
  stage year { touchpoint reminder; touchpoint renewal { value 1 } }
  entry reminder
  reminder -> renewal beta(6, 2) per customer after 1mo
  renewal  -> reminder 92% after 11mo
  goal renewal
}'''
    m = simulate(compile_ok(text)).blended
    k = np.arange(1, 2000)
    expected = math.fsum(0.92 ** (k - 1) * survival(6.0, 2.0, k))
    assert m.steps["renewal"]["visits"] == pytest.approx(expected, rel=RTOL)
    assert m.conversion == pytest.approx(0.75, rel=1e-12)  # E[p]
    # reach of a step on a cycle: P(renew at least once) = E[p]
    assert m.steps["renewal"]["reach"] == pytest.approx(0.75, rel=1e-12)


def test_ratios_are_formed_after_the_blend_of_personas():
    text = '''journey "Two kinds" {
  persona smb { share 70% }
  persona ent { share 30% }
  stage visit  { touchpoint landing { cost 3 } }
  stage paying { value 10 [ent: 100] }
  entry landing
  landing -> paying 10% [ent: 20%]
  paying  -> paying beta(6, 2) per customer [ent: 90%] after 1mo
  goal paying
}'''
    report = simulate(compile_ok(text))
    smb, ent, mix = report.personas["smb"], report.personas["ent"], report.blended
    assert smb.clv == pytest.approx(10 * 7, rel=1e-12)
    assert ent.clv == pytest.approx(100 * 10, rel=1e-12)
    value = 0.7 * 0.1 * 70 + 0.3 * 0.2 * 1000
    assert mix.clv == pytest.approx(value / (0.7 * 0.1 + 0.3 * 0.2), rel=1e-12)
    assert mix.cac == pytest.approx(3 / (0.7 * 0.1 + 0.3 * 0.2), rel=1e-12)


# ---------------------------------------------------------------- infinite expectations

def test_an_infinite_expectation_is_undefined_with_its_reason(tmp_path):
    # b <= 1: E[1 / (1 - p)] is infinite, and nothing discounts or cuts it
    text = TRIAL % ("", "beta(9, 1)", "")
    m = simulate(compile_ok(text)).blended
    assert m.conversion == pytest.approx(0.12)
    for name in ("revenue", "clv", "ltv_cac"):
        assert m.value(name) is None
        assert m.undefined()[name].startswith("infinite: customers keep their own rate of "
                                              "`paying -> paying`")
    assert m.steps["paying"]["visits"] is None and "visits(paying)" in m.unknown
    assert m.steps["paying"]["reach"] == pytest.approx(0.12)
    # the survey: 10% x (1 - p) / (1 - 90%) a month, one visit per customer
    assert m.value("cost") == pytest.approx(0.12 * 5)
    path = tmp_path / "t.journey"
    path.write_text(text)
    from typer.testing import CliRunner

    from journeydsl.cli import app

    out = CliRunner().invoke(app, ["simulate", str(path), "--format", "json"])
    assert out.exit_code == 0, out.output

    def no_constant(name):
        raise AssertionError(f"{name} in JSON")

    data = json.loads(out.stdout, parse_constant=no_constant)
    assert data["blended"]["metrics"]["revenue"] is None
    assert data["blended"]["metrics"]["undefined"]["revenue"].startswith("infinite")
    assert data["cohort"]["revenue"] is None
    text_out = CliRunner().invoke(app, ["simulate", str(path)])
    shown = " ".join(text_out.stdout.split())
    assert ("Revenue / prospect, Profit / prospect, CLV (per customer), LTV:CAC, Visits to "
            "paying, Revenue of stage paying, Profit of stage paying, Revenue of steps without "
            "a channel, Profit of steps without a channel and Cohort revenue are —: infinite: "
            "customers keep their own rate") in shown


@pytest.mark.parametrize("rate", ["beta(9, 1)", "beta(4.5, 0.5)", "80%..100%"])
def test_a_discount_makes_the_money_finite_and_a_horizon_everything(rate):
    discounted = simulate(compile_ok(TRIAL % ("discount 1% per month", rate, ""))).blended
    # the money is discounted, the visits are not: E[1 / (1 - p)] stays infinite
    assert math.isfinite(discounted.revenue) and discounted.revenue > 0
    assert set(discounted.unknown) == {"visits(paying)"}
    assert discounted.steps["paying"]["visits"] is None
    cut = simulate(compile_ok(TRIAL % ("horizon 3y", rate, ""))).blended
    assert not cut.unknown and cut.steps["paying"]["visits"] > 0


def test_a_range_up_to_100_percent_is_infinite_without_discount():
    m = simulate(compile_ok(TRIAL % ("", "80%..100%", ""))).blended
    assert m.value("revenue") is None and m.value("conversion") == pytest.approx(0.12)


# ---------------------------------------------------------------- the rule's size

def test_under_a_horizon_the_rule_is_exact(monkeypatch):
    journey = compile_ok(TRIAL % ("discount 10% per year\n  horizon 3y", "beta(1.5, 0.4)",
                                  "paying => landing 0.05"))
    base = simulate(journey)
    more = mixture.points
    monkeypatch.setattr(mixture, "points", lambda bound: more(bound) + 9)
    finer = simulate(journey)
    for name in ("conversion", "revenue", "cost", "profit", "acquisition_cost",
                 "profit_converted", "time_converted", "viral_coefficient", "active_at_horizon"):
        assert getattr(base.blended, name) == pytest.approx(getattr(finer.blended, name),
                                                            rel=1e-12)
    for key, value in base.cohort.items():
        assert value == pytest.approx(finer.cohort[key], rel=1e-12)


def test_without_a_horizon_more_points_change_nothing(monkeypatch):
    journey = compile_ok(TRIAL % ("discount 1% per month", "beta(3, 1.2)", ""))
    base = simulate(journey).blended
    monkeypatch.setattr(mixture, "MIN_POINTS", 1024)
    finer = simulate(journey).blended
    assert base.revenue == pytest.approx(finer.revenue, rel=1e-10)
    assert base.steps["paying"]["visits"] == pytest.approx(finer.steps["paying"]["visits"],
                                                           rel=1e-10)


# ---------------------------------------------------------------- levers, attribution

def test_levers_equal_the_re_run_over_the_draw():
    from journeydsl.simulate.lever_changes import raise_rate
    from journeydsl.simulate.levers import levers

    journey = compile_ok(TRIAL % ("discount 10% per year", "beta(6, 2)", ""))
    chain = build_chain(journey, "default")
    base = solve(chain)
    checked = 0
    for lever in levers(journey, "default"):
        if not lever.movable or (lever.source, lever.target) == ("paying", "paying"):
            continue  # (the drawn move: every customer's own rate rises)
        s, t = chain.steps.index(lever.source), chain.steps.index(lever.target)
        move = journey.edges[(lever.source, lever.target)]
        raised = solve(raise_rate(chain, s, t, lever.step, move.delay_days))
        assert lever.d_conversion == pytest.approx(raised.conversion - base.conversion,
                                                   rel=1e-9, abs=1e-15)
        assert lever.d_revenue == pytest.approx(raised.revenue - base.revenue, rel=1e-9,
                                                abs=1e-12)
        checked += 1
    assert checked == 3


def test_the_lever_of_the_drawn_move_raises_every_customers_rate():
    from journeydsl.simulate.levers import levers

    journey = compile_ok(TRIAL % ("discount 10% per year", "beta(6, 2)", ""))
    lever = next(lv for lv in levers(journey, "default") if lv.source == lv.target == "paying")
    # 1 pp on average (15% ends at `paying` at the mean), the same share of
    # every customer's own drop-off: a customer at p, whose drop-off is
    # 15% x (1 - p) / 25%, rises by 1 pp x (1 - p) / 25%, and pays
    # 1 / (1 - delta (p + rise)) months, discounted
    delta = 1.1 ** (-30 / 365)
    p, w = Draw(6.0, 2.0, 0.0, 1.0).rule(200)
    up = 0.01 * (1 - p) / 0.25
    gain = w @ (1 / (1 - delta * (p + up)) - 1 / (1 - delta * p))
    assert lever.step == pytest.approx(0.01, rel=1e-12)
    lead = 0.12 * 1.1 ** (-14 / 365)  # a converted prospect, 14 days in
    assert lever.d_revenue == pytest.approx(lead * 49 * gain, rel=1e-9)


def test_attribution_integrates_over_the_draw():
    from journeydsl.simulate.attribution import attribution

    text = (TRIAL % ("", "beta(6, 2)", "")).replace(
        "survey 10%", "survey 10%\n  survey -> paying 50%")
    journey = compile_ok(text)
    result = attribution(journey)
    # conversion does not depend on the renewal: 12%, and without `trial`, 0
    assert result.conversion == pytest.approx(0.12)
    assert result.steps["trial"].conversion_without == pytest.approx(0.0, abs=1e-15)
    assert result.steps["survey"].conversion_without == pytest.approx(0.12)


# ---------------------------------------------------------------- maps

def test_a_map_with_flows_integrates_the_moves_over_the_draw():
    from journeydsl.render.view import map_view

    view = map_view(compile_ok(TRIAL % ("", "beta(6, 2)", "")), flows=True)
    edges = {(e.source, e.target): e.flow for e in view.edges}
    steps = {s.id: s for stage in view.stages for s in stage.steps}
    # E[visits x p] = 0.12 E[p / (1 - p)] = 0.12 x 6, not E[visits] x 75% = 0.63
    assert edges["paying", "paying"] == pytest.approx(0.12 * 6, rel=1e-12)
    assert edges["paying", "survey"] == pytest.approx(0.12 * 0.4, rel=1e-12)
    assert steps["paying"].exit_flow == pytest.approx(0.12 * 0.6, rel=1e-12)
    assert steps["paying"].visits == pytest.approx(0.12 * 7, rel=1e-12)


def test_a_map_with_infinite_visits_says_so():
    from journeydsl.render.dot import to_dot
    from journeydsl.render.view import map_view

    journey = compile_ok(TRIAL % ("", "beta(9, 1)", ""))
    view = map_view(journey, flows=True)
    edges = {(e.source, e.target): e.flow for e in view.edges}
    assert edges["paying", "paying"] is None  # infinite
    assert edges["paying", "survey"] == pytest.approx(0.12, rel=1e-12)  # 10% x (1-p)/10%
    paying = next(s for stage in view.stages for s in stage.steps if s.id == "paying")
    assert paying.visits is None and "visits: infinite (see simulate)" in paying.lines
    assert "visits: infinite" in to_dot(journey, flows=True)


def test_a_map_with_flows_counts_the_referred_with_their_own_rates():
    from journeydsl.render.view import map_view

    # every referred prospect enters like a new one and draws its own rate:
    # the cascade's flows are a prospect's own times 1 / (1 - v)
    view = map_view(compile_ok(TRIAL % ("", "beta(6, 2)", "paying => landing 0.05")), flows=True)
    cascade = 1 / (1 - 0.12 * 7 * 0.05)
    edges = {(e.source, e.target, e.kind): e.flow for e in view.edges}
    assert edges["paying", "paying", "transition"] == pytest.approx(0.12 * 6 * cascade,
                                                                   rel=1e-12)
    assert edges["paying", "landing", "referral"] == pytest.approx(0.12 * 7 * 0.05 * cascade,
                                                                  rel=1e-12)
    steps = {s.id: s for stage in view.stages for s in stage.steps}
    assert steps["landing"].visits == pytest.approx(cascade, rel=1e-12)

"""Attribution of revenue and profit: removal effects on money.

A subscription solved by hand (the renewal carries revenue but no
conversion; a costly step has a negative profit effect), a dense
enumeration of a discounted journey with loops written here from the
definition (independent of the engine's rank-one formulas), and the
examples' post-conversion touchpoints (the registrar's renewal, the value
ladder's return path) credited with revenue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import journeydsl
from journeydsl.simulate.attribution import attribution

REPO = Path(__file__).resolve().parents[1]

SUBSCRIPTION = '''journey "subscription" {
  stage s {
    touchpoint ad { channel paid; cost 2 }
    touchpoint signup { channel web; value 100 }
    touchpoint renewal { channel web; value 50 }
    touchpoint spam { channel email; cost 30 }
  }
  entry ad
  ad -> signup 50%
  signup -> renewal 60%, spam 10%
  renewal -> renewal 50%
  goal signup
}
'''


def compiled(text: str):
    result = journeydsl.loads(text)
    assert result.ok, [d.message for d in result.errors]
    return result.journey


def test_subscription_by_hand():
    result = attribution(compiled(SUBSCRIPTION))
    # revenue = 0.5 (100 + 0.6 * 50 / (1 - 0.5)) = 80; cost = 2 + 0.5 * 0.1 * 30 = 3.5
    assert result.revenue == pytest.approx(80.0)
    assert result.profit == pytest.approx(76.5)
    steps = result.steps
    # without the renewal: 0.5 * 100 = 50; no conversion lost
    assert steps["renewal"].removal_effect == 0.0
    assert steps["renewal"].revenue_without == pytest.approx(50.0)
    assert steps["renewal"].revenue_effect == pytest.approx(30 / 80)
    assert steps["renewal"].profit_effect == pytest.approx(30 / 76.5)
    # without the ad: entering there ends at once, earning and spending nothing
    assert steps["ad"].revenue_without == 0.0 and steps["ad"].profit_without == 0.0
    assert steps["ad"].profit_effect == pytest.approx(1.0)
    # without signup: the ad's 2 is spent, nothing earned: profit -2
    assert steps["signup"].profit_without == pytest.approx(-2.0)
    assert steps["signup"].profit_effect == pytest.approx(78.5 / 76.5)
    # without the spam: its 0.05 x 30 is saved, profit rises: a negative effect
    assert steps["spam"].revenue_effect == 0.0
    assert steps["spam"].profit_without == pytest.approx(78.0)
    assert steps["spam"].profit_effect == pytest.approx(-1.5 / 76.5)
    # shares: by the sum of the positive effects; the negative one on that scale
    positive = 1 + 78.5 / 76.5 + 30 / 76.5
    assert steps["spam"].profit_share == pytest.approx(-1.5 / 76.5 / positive)
    assert sum(r.profit_share for r in steps.values() if r.profit_share > 0) == pytest.approx(1)
    assert {k: r.revenue_share for k, r in steps.items()} == pytest.approx(
        {"ad": 1 / 2.375, "signup": 1 / 2.375, "renewal": 0.375 / 2.375, "spam": 0.0})
    # order: conversion effect, then revenue effect (the renewal before the
    # spam), then profit effect (signup, whose removal leaves the ad's cost, first)
    assert list(steps) == ["signup", "ad", "renewal", "spam"]
    # channel web removes signup and renewal: all revenue, and profit -2
    web = result.channels["web"]
    assert web.revenue_without == 0.0 and web.profit_without == pytest.approx(-2.0)
    assert result.channels["email"].profit_effect == pytest.approx(-1.5 / 76.5)


LOOPY = '''journey "loops" {
  discount 12% per year
  margin 60%
  stage a { touchpoint ad { channel paid; cost 3 } ; touchpoint blog { channel organic; cost 1 } }
  stage b { touchpoint pricing { channel web } ; touchpoint demo { channel sales; cost 40 } }
  stage c { touchpoint buy { channel web; value 300; margin 40% } ;
            touchpoint renew { channel web; value 120 } ;
            touchpoint winback { channel email; cost 5 } }
  entry ad 60%, blog 40%
  ad -> pricing 20%, ad 10% after 1w
  blog -> pricing 15%, demo 5% after 3d
  pricing -> demo 20% after 2w, buy 10% after 1d, blog 10%
  demo -> buy 40% after 1mo, pricing 20%
  buy -> renew 70% after 1y, winback 10% after 2mo
  renew -> renew 75% after 1y, winback 15% after 1mo
  winback -> renew 30% after 1w, pricing 10%
  goal buy
}
'''


def dense_money_without(journey, removed: list[str]) -> tuple[float, float]:
    """Revenue and profit per prospect with `removed` steps ending the walk
    before their visit counts: a dense solve of the discounted visits,
    written from the definition (an amount at day t counts
    amount / (1 + d) ** (t / 365))."""
    ids = [s.id for s in journey.steps]
    where = {s: i for i, s in enumerate(ids)}
    numbers = journey.numbers
    persona = journey.persona_ids[0]
    n = len(ids)
    factor = 1.12 ** (-1 / 365)
    qd = np.zeros((n, n))
    for s, t, rate, delay in zip(numbers.move_from, numbers.move_to, numbers.rates[persona],
                                 numbers.delays):
        qd[s, t] += rate * factor ** delay
    value = np.array(numbers.value[persona], float)
    cost = np.array(numbers.cost[persona], float)
    margin = np.array(numbers.margin[persona], float)
    gone = [where[s] for s in removed]
    qd[gone, :] = 0.0
    value[gone] = 0.0
    cost[gone] = 0.0
    visits = np.linalg.solve((np.eye(n) - qd).T, np.array(numbers.entry[persona], float))
    return float(visits @ value), float(visits @ (margin * value - cost))


def test_loops_and_discount_against_a_dense_solve():
    journey = compiled(LOOPY)
    result = attribution(journey)
    revenue, profit = dense_money_without(journey, [])
    assert result.revenue == pytest.approx(revenue, rel=1e-12)
    assert result.profit == pytest.approx(profit, rel=1e-12)
    for step, removal in result.steps.items():
        r, p = dense_money_without(journey, [step])
        assert removal.revenue_without == pytest.approx(r, rel=1e-10, abs=1e-12), step
        assert removal.profit_without == pytest.approx(p, rel=1e-10, abs=1e-12), step
        assert removal.revenue_effect == pytest.approx((revenue - r) / revenue, abs=1e-12)
        assert removal.profit_effect == pytest.approx((profit - p) / abs(profit), abs=1e-12)
    for channel, removal in result.channels.items():
        r, p = dense_money_without(journey, list(removal.steps))
        assert removal.revenue_without == pytest.approx(r, rel=1e-10, abs=1e-12), channel
        assert removal.profit_without == pytest.approx(p, rel=1e-10, abs=1e-12), channel
    # the renewal and win-back carry money, not conversion
    for step in ("renew", "winback"):
        assert result.steps[step].removal_effect == 0.0
        assert result.steps[step].revenue_effect > 0.01
    # the demo's cost outweighs none of the margin it brings here; the
    # win-back's own cost is below what its renewals earn
    assert result.steps["winback"].profit_effect > 0


def test_channels_by_first_visits_and_by_taboo_lu_agree(monkeypatch):
    import journeydsl.simulate.removal_exact as module

    journey = compiled(LOOPY)
    low_rank = attribution(journey)
    monkeypatch.setattr(module, "_LOW_RANK", 0)
    refactored = attribution(journey)
    for name, removal in low_rank.channels.items():
        other = refactored.channels[name]
        assert other.revenue_without == pytest.approx(removal.revenue_without, rel=1e-12)
        assert other.profit_without == pytest.approx(removal.profit_without, rel=1e-12,
                                                     abs=1e-12)


def test_horizon_money_matches_the_exact_engine_on_a_long_horizon():
    """A horizon far beyond every walk's end: removals re-run the horizon
    engine, and agree with the exact formulas."""
    exact = attribution(compiled(SUBSCRIPTION.replace('  entry ad', '  entry ad')))
    text = SUBSCRIPTION.replace("renewal -> renewal 50%", "renewal -> renewal 50% after 1mo")
    long = attribution(compiled(text.replace("  entry ad", "  horizon 1000y\n  entry ad")))
    assert long.method == "horizon"
    for step, removal in exact.steps.items():
        assert long.steps[step].revenue_without == pytest.approx(removal.revenue_without,
                                                                 rel=1e-9)
        assert long.steps[step].profit_without == pytest.approx(removal.profit_without,
                                                                rel=1e-9)
        assert long.steps[step].profit_effect == pytest.approx(removal.profit_effect, rel=1e-9)


def test_post_conversion_touchpoints_of_the_examples_get_revenue_credit():
    registrar = attribution(journeydsl.load(REPO / "examples/domain_registrar.journey").journey)
    renewal = registrar.steps["renewal"]
    # every customer converts at the first year: the renewal adds no conversion
    assert renewal.removal_effect == 0.0
    assert renewal.revenue_effect > 0.05 and renewal.revenue_share > 0.02
    ladder = attribution(journeydsl.load(REPO / "examples/value_ladder.journey").journey)
    for step in ("newsletter", "community"):
        assert ladder.steps[step].revenue_effect > 0, step
        assert ladder.steps[step].revenue_share > 0, step
    # the return path earns more of the revenue than of the conversion it carries
    newsletter = ladder.steps["newsletter"]
    assert newsletter.revenue_effect > newsletter.removal_effect

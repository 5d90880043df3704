"""Monte Carlo with `per customer` rates: one draw per walk, against the
exact engine (which integrates over the draw).

A walker draws its own rate once and keeps it on every visit of the move,
so a customer who renews once is likelier to renew again: with beta(6, 2)
a paying customer stays E[1 / (1 - p)] = 7 months, where a rate drawn
afresh at every visit (or the mean, 75%) gives 4. Each test would fail for
a draw per visit or per run.
"""

from __future__ import annotations

import math

import pytest

import journeydsl
from journeydsl.simulate import simulate
from journeydsl.simulate.montecarlo import monte_carlo

Z = 4.0  # standard errors: a fixed seed, and 4 sigma is 6e-5 two-sided


def compile_ok(text: str):
    result = journeydsl.loads(text)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result.journey


def within(mc, exact, names) -> None:
    for name in names:
        se = mc.uncertainty[name]["stderr"]
        got, want = mc.blended.value(name), exact.blended.value(name)
        assert se is not None and se > 0, name
        assert abs(got - want) <= Z * se, f"{name}: {got} vs {want} (se {se})"


SELF_LOOP = '''journey "Subscription" {
  %s
  stage visit  { touchpoint landing }
  stage paying { value 1 }
  stage survey { cost 5 }
  entry landing
  landing -> paying 40%%
  paying  -> paying beta(6, 2) per customer after 1mo, survey 10%%
  goal paying
}'''


def test_a_renewal_loop_stays_as_long_as_each_customer_own_rate_says():
    journey = compile_ok(SELF_LOOP % "")
    exact = simulate(journey)
    # E[1 / (1 - p)] = 7 months, not 1 / 25%; clv less the survey's 0.4 x 5
    assert exact.blended.revenue / exact.blended.conversion == pytest.approx(7.0)
    assert exact.blended.clv == pytest.approx(7.0 - 2.0)
    mc = monte_carlo(journey, prospects=200_000, seed=11)
    within(mc, exact, ("conversion", "revenue", "cost", "profit", "clv"))
    assert abs(mc.blended.clv - (4.0 - 2.0)) > 20 * mc.uncertainty["clv"]["stderr"]


@pytest.mark.parametrize("t", [3, 12])
def test_survival_under_a_horizon(t):
    journey = compile_ok((SELF_LOOP % f"horizon {30 * t}d").replace("landing -> paying 40%",
                                                                     "landing -> paying 100%"))
    exact = simulate(journey)
    survival = math.prod((6 + j) / (8 + j) for j in range(t))  # B(6 + t, 2) / B(6, 2)
    assert exact.blended.active_at_horizon == pytest.approx(survival, rel=1e-12)
    mc = monte_carlo(journey, prospects=100_000, seed=5)
    within(mc, exact, ("active_at_horizon", "revenue", "cost"))


REGISTRAR = '''journey "Registrar" {
  discount 10% per year
  horizon 10y
  persona hobby { share 60% }
  persona business { share 40% }
  stage find { touchpoint ad { cost 8 }; touchpoint cart }
  stage year { touchpoint first { value 99; cost 290 } }
  stage renew { touchpoint reminder { cost 1 }; touchpoint renewal { value 380; cost 270 } }
  stage bundle { touchpoint hosting { value 1580; cost 700 }; touchpoint partner }
  entry ad
  ad       -> cart 30%
  cart     -> first 75%
  first    -> reminder 85% after 11mo, hosting 6%
  reminder -> renewal beta(6, 2) per customer [business: 80%..95% per customer] after 1mo
  renewal  -> reminder 92% after 11mo, hosting 3% after 1mo
  hosting  -> hosting 80% after 1y
  hosting  => partner 0.2 after 6mo
  partner  -> cart 50%
  goal first
}'''


def test_a_two_step_loop_with_personas_and_referrals():
    journey = compile_ok(REGISTRAR)
    exact = simulate(journey)
    mc = monte_carlo(journey, prospects=200_000, seed=3)
    within(mc, exact, ("conversion", "revenue", "cost", "clv", "viral_coefficient",
                       "active_at_horizon"))
    for step in ("renewal", "hosting"):
        want = exact.blended.steps[step]["visits"]
        assert mc.blended.steps[step]["visits"] == pytest.approx(want, rel=0.03)
    # the cascade: each referred prospect draws a rate of its own
    assert mc.cohort["revenue"] == pytest.approx(exact.cohort["revenue"], rel=0.03)


def test_infinite_expectations_are_none_with_their_reason():
    journey = compile_ok((SELF_LOOP % "").replace("beta(6, 2)", "beta(9, 1)"))
    mc = monte_carlo(journey, prospects=20_000, seed=1)
    assert mc.blended.value("revenue") is None and mc.blended.value("clv") is None
    assert mc.uncertainty["revenue"]["stderr"] is None
    data = mc.as_dict()
    assert data["undefined"]["uncertainty.revenue"].startswith("infinite")
    assert data["blended"]["metrics"]["revenue"] is None
    assert mc.blended.value("conversion") == pytest.approx(0.4, abs=0.02)

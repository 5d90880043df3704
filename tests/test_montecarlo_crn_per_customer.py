"""`--compare` deltas with common random numbers when customers draw their
own rates (`beta(a, b) per customer`, `LO..HI per customer`).

Prospect i's rate is each variant's quantile at one uniform shared by the
variants (own.PairedOwn): the deltas are checked against the exact
engine's (which integrates over the draw) and closed forms, their standard
errors over many seeds, and the pairing itself (a scenario that raises
every customer's rate never makes one renew less), which would fail for
rates drawn apart in each variant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

import journeydsl
from journeydsl.cli import app
from journeydsl.metrics import EXPECTATIONS
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.montecarlo import monte_carlo
from journeydsl.simulate.montecarlo.crn import TooLong, _walk, compare

REGISTRAR = Path(__file__).resolve().parents[1] / "examples" / "domain_registrar.journey"
Z = 4.0  # standard errors, on fixed seeds


def _variants(text: str):
    compiled = journeydsl.loads(text)
    assert compiled.ok, [(d.code, d.message) for d in compiled.diagnostics]
    return [compiled.variant(None)] + [compiled.variant(s) for s in compiled.scenarios]


def _exact_delta(variants, name: str) -> float:
    before, after = (simulate(v).blended.as_dict()[name] for v in variants)
    return after - before


# ------------------------------------------------------------------ the registrar

def test_registrar_auto_renew_deltas_agree_with_the_exact_engine():
    compiled = journeydsl.load(REGISTRAR)
    variants = [compiled.variant(None), compiled.variant("auto_renew")]
    exact = [simulate(v).blended.as_dict() for v in variants]
    (found,) = compare(variants, prospects=40_000, seed=12)
    checked = []
    for name, d in found.items():
        want = exact[1][name] - exact[0][name]
        assert d.delta is not None and d.stderr is not None, name
        if d.stderr == 0:
            # auto-renew changes nothing before the first year: conversion,
            # acquisition cost, cac and time to convert are the same walks
            assert name in ("conversion", "acquisition_cost", "cac", "time_to_convert_days")
            assert d.delta == 0 and abs(want) <= 1e-9 * max(1.0, abs(exact[0][name])), name
            continue
        assert abs(d.delta - want) <= Z * d.stderr, (name, d, want)
        checked.append(name)
    assert {"revenue", "cost", "profit", "clv", "ltv_cac", "active_at_horizon"} <= set(checked)
    # auto-renew earns more per prospect: many standard errors from no change
    assert found["revenue"].delta > 10 * found["revenue"].stderr
    # the pairing: far below what two independent runs of the same size show
    base = monte_carlo(variants[0], prospects=40_000, seed=1)
    other = monte_carlo(variants[1], prospects=40_000, seed=2)
    for name in ("revenue", "profit", "clv", "cost"):
        apart = math.hypot(base.uncertainty[name]["stderr"], other.uncertainty[name]["stderr"])
        assert found[name].stderr < 0.35 * apart, (name, found[name].stderr, apart)
        assert found[name].stderr_independent == pytest.approx(apart, rel=0.3), name


def test_registrar_compare_json_is_the_same_bytes_for_a_seed(tmp_path):
    from typer.testing import CliRunner

    args = ["simulate", str(REGISTRAR), "--compare", "--method", "monte-carlo",
            "--prospects", "4000", "--seed", "5", "-f", "json"]
    runs = [CliRunner().invoke(app, args) for _ in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    assert runs[0].output == runs[1].output
    data = json.loads(runs[0].output)
    assert "deltas_undefined" not in data["baseline"]
    d = data["auto_renew"]["deltas"]["revenue"]
    assert 0 < d["stderr"] < d["stderr_independent"]
    text = CliRunner().invoke(app, args[:-2], env={"COLUMNS": "160"}).output
    assert "auto_renew: change ± std. error" in text and "not computed" not in text


# ------------------------------------------------------------------ closed forms

# one renewal loop: a paying customer renews with its own p; one who does not
# goes to the win-back with 20% / (1 - mean p) of what p leaves
SUBSCRIPTION = '''journey "Subscription" {
  %s
  stage s { touchpoint paid { value 10; cost 1 }; touchpoint winback { value 5 } }
  entry paid
  paid -> paid %s per customer %s, winback 20%%
  goal paid
  scenario loyal { paid -> paid %s per customer %s }
}'''


def _beta_visits(a: float, b: float) -> float:
    """E[1 / (1 - p)], p ~ Beta(a, b): visits of a customer renewing with p
    (1 + E[p / (1 - p)] = 1 + a / (b - 1))."""
    return 1.0 + a / (b - 1.0)


def _range_visits(low: float, high: float) -> float:
    """E[1 / (1 - p)], p uniform on [low, high]."""
    return math.log((1.0 - low) / (1.0 - high)) / (high - low)


# paired: the paired standard error at most this part of the independent
# runs' (measured at seed 3: 0.44, 0.68, 0.57-0.60; with each variant's rates
# drawn apart, 0.86, 0.91, 0.67-0.70)
@pytest.mark.parametrize("before, after, visits, mean, paired", [
    ("beta(6, 4)", "beta(8, 4)", (_beta_visits(6, 4), _beta_visits(8, 4)), (0.6, 8 / 12), 0.6),
    ("beta(6, 4)", "beta(6, 3)", (_beta_visits(6, 4), _beta_visits(6, 3)), (0.6, 6 / 9), 0.8),
    ("40%..70%", "50%..80%", (_range_visits(0.4, 0.7), _range_visits(0.5, 0.8)), (0.55, 0.65),
     0.63)])
def test_a_renewal_loop_against_the_beta_moments(before, after, visits, mean, paired):
    variants = _variants(SUBSCRIPTION % ("", before, "", after, ""))
    # revenue: 10 a visit of `paid`, and 5 for the win-back, which a leaving
    # customer takes with 20% / (1 - mean p) whatever its own p
    want = [10 * visits[i] + 5 * 0.2 / (1 - mean[i]) for i in range(2)]
    assert [simulate(v).blended.revenue for v in variants] == pytest.approx(want, rel=1e-9)
    (found,) = compare(variants, prospects=20_000, seed=3)
    for name, delta in (("revenue", want[1] - want[0]), ("cost", visits[1] - visits[0])):
        d = found[name]
        assert abs(d.delta - delta) <= Z * d.stderr, (name, d, delta)
        assert d.stderr < paired * d.stderr_independent, (name, d)


def test_a_discounted_monthly_renewal_against_quadrature():
    variants = _variants(SUBSCRIPTION % ("discount 12% per year", "beta(6, 4)", "after 1mo",
                                         "beta(9, 4)", "after 1mo"))
    month = 1.12 ** (-30 / 365)  # a month's discount factor (30 days of a 365-day year)

    def renewals(a: float, b: float) -> float:
        """E[Σ_k≥1 (month p)^k] = E[month p / (1 - month p)]: discounted renewals."""
        return integrate.quad(lambda p: month * p / (1 - month * p) * stats.beta.pdf(p, a, b),
                              0, 1, epsabs=1e-13)[0]

    # cost: 1 a visit of `paid`, discounted by the months since entry
    want = renewals(9, 4) - renewals(6, 4)
    assert _exact_delta(variants, "cost") == pytest.approx(want, rel=1e-8)
    (found,) = compare(variants, prospects=20_000, seed=4)
    d = found["cost"]
    assert abs(d.delta - want) <= Z * d.stderr, (d, want)


def test_the_rate_is_paired_prospect_by_prospect():
    """Beta(8, 4) is stochastically larger than Beta(6, 4): at the same
    quantile every customer's rate is higher, so with the same uniforms
    at each renewal no customer renews less in the scenario (18% of them
    renew more). Rates drawn apart in each variant would make some renew
    less (p1 < p0 in 37% of independent pairs: 11% of these prospects)."""
    variants = _variants(SUBSCRIPTION % ("", "beta(6, 4)", "", "beta(8, 4)", ""))
    chains = [build_chain(v, v.persona_ids[0]) for v in variants]
    x = _walk(chains, [None, None], 5_000, np.random.default_rng(8))
    visits = x[:, :, EXPECTATIONS.index("cost")]  # 1 a visit of `paid`
    assert (visits[1] >= visits[0]).all()
    assert (visits[1] > visits[0]).mean() > 0.1
    assert visits.mean(axis=1) == pytest.approx([_beta_visits(6, 4), _beta_visits(8, 4)],
                                                rel=0.1)


def test_paired_standard_errors_with_customers_rates_over_many_seeds():
    variants = _variants(SUBSCRIPTION % ("", "beta(6, 5)", "", "beta(7, 5)", ""))
    exact = {name: _exact_delta(variants, name) for name in ("revenue", "cost", "profit")}
    z: dict[str, list[float]] = {name: [] for name in exact}
    for seed in range(80):
        (found,) = compare(variants, prospects=4_000, seed=seed)
        for name, want in exact.items():
            z[name].append((found[name].delta - want) / found[name].stderr)
    for name, values in z.items():
        a = np.array(values)
        # the mean of 80 N(0, 1): sd 0.11; the sd of 80 of them within 0.75..1.3
        assert abs(a.mean()) <= 0.45 and 0.75 <= a.std(ddof=1) <= 1.3, (name, a.mean(),
                                                                          a.std(ddof=1))


# ------------------------------------------------------------------ what is not walked

def test_infinite_expectations_are_not_walked_and_say_why():
    # beta(3, 1): customers arbitrarily close to 100% never leave the loop
    variants = _variants(SUBSCRIPTION % ("", "beta(6, 4)", "", "beta(3, 1)", ""))
    with pytest.raises(TooLong, match="in scenario `loyal`, customers keep their own rate "
                                      "of `paid -> paid`"):
        compare(variants, prospects=1_000, seed=1)
    # under a horizon the loop ends: walked
    variants = _variants(SUBSCRIPTION % ("horizon 2y", "beta(6, 4)", "after 1mo",
                                         "beta(3, 1)", "after 1mo"))
    (found,) = compare(variants, prospects=2_000, seed=1)
    want = _exact_delta(variants, "cost")
    assert abs(found["cost"].delta - want) <= Z * found["cost"].stderr


def test_a_scenario_that_gives_every_customer_the_same_rate():
    # the baseline draws each customer's rate, the scenario has none to draw
    # (and the other way round): the walk pairs what it can, the deltas stay right
    text = '''journey "Subscription" {
  persona a { share 60% }
  persona b { share 40% }
  stage s { touchpoint paid { value 10; cost 1 }; touchpoint winback { value 5 } }
  entry paid
  paid -> paid beta(6, 4) per customer [b: 60%], winback 20%
  goal paid
  scenario flat { paid -> paid 60% [b: 50%..70% per customer] }
}'''
    variants = _variants(text)
    # cost: visits of `paid`, E[1 / (1 - p)]
    before = 0.6 * _beta_visits(6, 4) + 0.4 / (1 - 0.6)
    after = 0.6 / (1 - 0.6) + 0.4 * _range_visits(0.5, 0.7)
    assert _exact_delta(variants, "cost") == pytest.approx(after - before, rel=1e-9)
    (found,) = compare(variants, prospects=20_000, seed=6)
    d = found["cost"]
    assert abs(d.delta - (after - before)) <= Z * d.stderr, (d, after - before)

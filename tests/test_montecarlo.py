"""The Monte Carlo engine against the exact engine and against closed forms.

Every comparison allows 4 standard errors, computed from the per-prospect
samples of the run (with a floor at the exact Bernoulli error, so that a
rare event that happens not to show up in the sample is not a certainty).
Seeds are fixed: the tests are deterministic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

import journeydsl
from journeydsl.diagnostics import JourneyError
from journeydsl.simulate import Report, simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.montecarlo import (MonteCarloReport, WalkTooLong, monte_carlo,
                                            simulate_chain)

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.journey"))
PROSPECTS = 200_000
Z = 4.0


def _cases():
    for path in EXAMPLES:
        compiled = journeydsl.load(path)
        for scenario in [None] + compiled.scenarios:
            yield pytest.param(path, scenario, id=f"{path.stem}-{scenario or 'baseline'}")


class Checks:
    """Collects |mc - expected| <= Z * stderr comparisons; fails with all of them."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.failed: list[str] = []
        self.count = 0

    def near(self, name: str, mc: float | None, expected: float | None, se: float) -> None:
        self.count += 1
        if mc is None or expected is None:
            if mc is not expected:
                self.failed.append(f"{name}: monte carlo {mc}, expected {expected}")
            return
        tolerance = Z * se + 1e-9 * max(1.0, abs(expected))
        if not abs(mc - expected) <= tolerance:
            self.failed.append(f"{name}: monte carlo {mc:.6g}, expected {expected:.6g}, "
                               f"{(mc - expected) / se if se else math.inf:+.1f} standard errors")

    def proportion(self, name: str, mc: float, expected: float, n: int) -> None:
        p = min(max(expected, 0.0), 1.0)
        self.near(name, mc, expected, math.sqrt(max(p * (1 - p), mc * (1 - mc), 0.0) / n))

    def done(self) -> None:
        assert not self.failed, f"{self.where}: {len(self.failed)} of {self.count} off:\n  " + \
            "\n  ".join(self.failed)


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0


# ------------------------------------------------------------------ against the exact engine

@pytest.mark.parametrize("path,scenario", list(_cases()))
def test_every_persona_of_every_example_agrees_with_the_exact_engine(path, scenario):
    compiled = journeydsl.load(path)
    exact = simulate(compiled.variant(scenario))
    graph = compiled.graph(scenario)
    variant = compiled.variant(scenario)
    for k, persona in enumerate(graph.graph["personas"]):
        chain = build_chain(variant, persona)
        mc, walks = simulate_chain(chain, PROSPECTS, np.random.default_rng(1000 + k))
        ex = exact.personas[persona]
        se = walks.stderr()
        n = walks.prospects
        check = Checks(f"{path.stem} {scenario} {persona}")
        check.proportion("conversion", mc.conversion, ex.conversion, n)
        check.near("revenue", mc.revenue, ex.revenue, se["revenue"])
        check.near("cost", mc.cost, ex.cost, se["cost"])
        conv = walks.converted
        check.near("time_to_convert", mc.time_to_convert, ex.time_to_convert,
                   _se(walks.converted_at[conv]))
        check.near("clv", mc.clv, ex.clv, _se(walks.value[conv]) if conv.sum() > 1 else 0.0)
        for step in chain.steps:
            mu = ex.steps[step]["visits"]
            floor = math.sqrt(max(mu * (1 - mu), 0.0) / n)  # visits are whole numbers
            check.near(f"visits({step})", mc.steps[step]["visits"], mu,
                       max(se["visits"][step], floor))
            for key in ("reach", "dropoff", "churn"):
                check.proportion(f"{key}({step})", mc.steps[step][key], ex.steps[step][key], n)
        for stage, values in ex.stages.items():
            for key in ("reach", "dropoff", "churn"):
                check.proportion(f"{key}({stage})", mc.stages[stage][key], values[key], n)
        check.proportion("active_at_horizon", mc.active_at_horizon, ex.active_at_horizon, n)
        check.near("viral_coefficient", mc.viral_coefficient, ex.viral_coefficient,
                   max(se["viral_coefficient"], math.sqrt(ex.viral_coefficient / n)))
        for key, sample in (("prospects", walks.cohort_prospects),
                            ("customers", walks.cohort_customers),
                            ("revenue", walks.cohort_value), ("cost", walks.cohort_cost)):
            check.near(f"cohort {key}", mc.cohort[key], ex.cohort[key],
                       max(_se(sample), math.sqrt((ex.cohort["prospects"] - 1) / n)
                           if key == "prospects" else _se(sample)))
        check.done()


def test_blended_report_and_its_standard_errors_agree_with_the_exact_engine():
    # no uncertain rate: a single draw, standard errors by the delta method
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("lifecycle_activities")])
    exact = simulate(compiled.journey).blended
    report = monte_carlo(compiled.journey, prospects=400_000, seed=5)
    assert report.draws == 1 and report.method == "monte_carlo"
    check = Checks("lifecycle_activities blended")
    for name, band in report.uncertainty.items():
        value = exact.as_dict()[name]
        check.near(name, report.blended.as_dict()[name], value, band["stderr"])
        if band["stderr"]:
            assert band["p05"] < band["p50"] < band["p95"]
        else:  # every converter takes the same time: no spread at all
            assert band["p05"] == band["p50"] == band["p95"]
        assert band["p50"] == pytest.approx(report.blended.as_dict()[name])
    check.done()


def test_persona_mix_is_walked_by_share():
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("saas_trial")])
    report = monte_carlo(compiled.journey, prospects=100_000, draws=4, seed=2)
    assert set(report.personas) == {"smb", "ent"}
    blended = report.blended
    mix = report.shares
    assert blended.conversion == pytest.approx(
        sum(mix[p] * report.personas[p].conversion for p in mix))
    # clv of the mix is a ratio of mix expectations, not a mix of ratios
    assert blended.clv == pytest.approx(
        sum(mix[p] * report.personas[p].profit_converted for p in mix) / blended.conversion)
    only = monte_carlo(compiled.journey, prospects=20_000, draws=2, seed=2, persona="ent")
    assert list(only.personas) == ["ent"]
    assert only.blended.conversion == only.personas["ent"].conversion


# ------------------------------------------------------------------ reproducibility

def test_same_seed_same_report_and_another_seed_another():
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("saas_trial")])
    first = monte_carlo(compiled.journey, prospects=30_000, draws=5, seed=11).as_dict()
    again = monte_carlo(compiled.journey, prospects=30_000, draws=5, seed=11).as_dict()
    other = monte_carlo(compiled.journey, prospects=30_000, draws=5, seed=12).as_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first["blended"] != other["blended"]
    chain = build_chain(compiled.journey, "ent")
    _, a = simulate_chain(chain, 5_000, np.random.default_rng(3))
    _, b = simulate_chain(chain, 5_000, np.random.default_rng(3))
    assert np.array_equal(a.value, b.value) and np.array_equal(a.end_step, b.end_step)


# ------------------------------------------------------------------ uncertain rates

OVERFULL = """journey "over-full draws" {
  stage a {}
  stage b {}
  stage c {}
  entry a
  a -> b 50%..90%, c 30%
  c -> b 50%
  goal b
}"""


def test_draws_over_100_percent_are_scaled_down_and_counted():
    compiled = journeydsl.loads(OVERFULL)
    assert compiled.ok and [d.code for d in compiled.diagnostics] == ["JD407"]
    draws = 400
    report = monte_carlo(compiled.journey, prospects=draws * 500, draws=draws, seed=3)
    # a draw u of `a -> b` is over-full when u + 30% > 100%: half of them
    assert report.draws == draws
    assert abs(report.rescaled_draws - draws / 2) <= Z * math.sqrt(draws / 4)
    assert report.rescaled_steps == {"default": {"a": report.rescaled_draws}}
    assert report.as_dict()["rescaled_draws"] == report.rescaled_draws
    # conversion of a draw: u + 0.15 when it fits, (u + 0.15) / (u + 0.3) once scaled;
    # its mean over u ~ uniform(0.5, 0.9) is 2.5 * (0.15 + 0.2 - 0.15 * ln 1.2)
    expected = 2.5 * (0.15 + 0.2 - 0.15 * math.log(1.2))
    assert report.blended.conversion == pytest.approx(
        expected, abs=Z * report.uncertainty["conversion"]["stderr"])
    band = report.uncertainty["conversion"]
    assert band["p05"] < expected < band["p95"]


def test_rates_override_must_not_exceed_100_percent():
    compiled = journeydsl.loads(OVERFULL)
    chain = build_chain(compiled.journey, "default")
    over = chain.rates.tolil()
    over[0, 1] = 0.9
    with pytest.raises(ValueError, match="more than 1"):
        simulate_chain(chain, 10, np.random.default_rng(0), sparse.csr_matrix(over))
    # scaled down by hand, it runs, and the rates are used as given
    over[0, 1], over[0, 2] = 0.9 / 1.2, 0.3 / 1.2
    mc, _ = simulate_chain(chain, 100_000, np.random.default_rng(0), sparse.csr_matrix(over))
    assert mc.conversion == pytest.approx((0.9 + 0.3 * 0.5) / 1.2, abs=0.01)


# ------------------------------------------------------------------ revenue concentration

CONCENTRATION = """journey "whales" {
  persona vip { share 10% }
  persona regular { share 90% }
  stage buy { value 100 [regular: 10]; cost 4 [vip: 30] }
  entry buy
  goal buy
}"""


def test_revenue_concentration_of_a_hand_made_journey():
    # every prospect converts on arrival: 10% bring 100, 90% bring 10
    report = monte_carlo(journeydsl.loads(CONCENTRATION).journey, prospects=50_000, seed=1)
    assert report.revenue_concentration == pytest.approx(8 / 19)  # top 8%: all whales
    assert report.top_share(0.5) == pytest.approx((10 + 40 * 10 / 100) / 19)
    assert report.top_share(1.0) == pytest.approx(1.0)
    assert report.top_share(0.05) == pytest.approx(5 / 19)
    # profit: whales 70, the others 6 -> 10% * 70 = 7 and 90% * 6 = 5.4
    assert report.profit_concentration == pytest.approx(0.08 * 70 / 12.4)
    # clv (v2): margin x value less the costs from the goal visit on: 70 and 6
    clv = report.clv_distribution
    assert clv["mean"] == pytest.approx(12.4)
    assert clv["p25"] == pytest.approx(6.0) and clv["p95"] == pytest.approx(70.0)
    assert simulate(journeydsl.loads(CONCENTRATION).journey).blended.clv == pytest.approx(12.4)
    assert report.as_dict()["revenue_concentration"] == report.revenue_concentration


def test_five_stage_concentration_claim_is_checkable():
    # the file's objective: "about 8% of customers, about 40% of profit"
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("lifecycle_five_stage")])
    report = monte_carlo(compiled.journey, prospects=200_000, draws=10, seed=4)
    assert 0.0 < report.revenue_concentration < 1.0
    assert 0.0 < report.profit_concentration < 1.0
    assert report.top_share(0.08) == report.revenue_concentration


# ------------------------------------------------------------------ the horizon

def _loop(horizon: str, discount: str = "") -> str:
    return f"""journey "monthly renewals" {{
  horizon {horizon}
  {discount}
  stage a {{ value 10 }}
  entry a
  a -> a 90% after 1mo
  goal a
}}"""


@pytest.mark.parametrize("horizon,visits", [("1y", 13), ("360d", 12), ("361d", 13)])
def test_horizon_cuts_visits_money_and_leaves_walks_active(horizon, visits):
    # visits at t = 0, 30, ..., while t < H: a visit at exactly H does not count
    compiled = journeydsl.loads(_loop(horizon))
    chain = build_chain(compiled.journey, "default")
    mc, walks = simulate_chain(chain, 200_000, np.random.default_rng(7))
    expected = sum(0.9 ** j for j in range(visits))
    check = Checks(f"horizon {horizon}")
    check.near("visits", mc.steps["a"]["visits"], expected, walks.stderr()["visits"]["a"])
    check.near("revenue", mc.revenue, 10 * expected, walks.stderr()["revenue"])
    check.proportion("active_at_horizon", mc.active_at_horizon, 0.9 ** visits, walks.prospects)
    check.proportion("churn", mc.steps["a"]["churn"], 1 - 0.9 ** visits, walks.prospects)
    check.done()
    assert walks.value.max() == pytest.approx(10 * visits)  # nobody earns past the horizon
    exact = simulate(compiled.journey).blended
    assert exact.steps["a"]["visits"] == pytest.approx(expected)


def test_discounting_to_the_prospects_entry():
    compiled = journeydsl.loads(_loop("1y", "discount 10% per year"))
    chain = build_chain(compiled.journey, "default")
    mc, walks = simulate_chain(chain, 200_000, np.random.default_rng(8))
    expected = sum(10 * 0.9 ** j * 1.1 ** (-30 * j / 365) for j in range(13))
    assert abs(mc.revenue - expected) <= Z * walks.stderr()["revenue"]
    assert walks.value.max() == pytest.approx(sum(10 * 1.1 ** (-30 * j / 365) for j in range(13)))


# ------------------------------------------------------------------ referrals

CASCADE = """journey "word of mouth" {{
  {horizon}
  stage a {{ value 5 }}
  entry a
  a => a {k}{delay}
  goal a
}}"""


def test_referral_cascade_totals_follow_one_over_one_minus_k():
    # each prospect converts at once and refers Poisson(0.3) others, who do the same
    compiled = journeydsl.loads(CASCADE.format(horizon="", k="0.3", delay=""))
    chain = build_chain(compiled.journey, "default")
    mc, walks = simulate_chain(chain, 200_000, np.random.default_rng(9))
    total = 1 / (1 - 0.3)
    check = Checks("cascade")
    check.near("cohort prospects", mc.cohort["prospects"], total, _se(walks.cohort_prospects))
    check.near("cohort customers", mc.cohort["customers"], total, _se(walks.cohort_customers))
    check.near("cohort revenue", mc.cohort["revenue"], 5 * total, _se(walks.cohort_value))
    check.near("viral_coefficient", mc.viral_coefficient, 0.3, _se(walks.referred.astype(float)))
    check.done()
    # the metrics themselves leave referred prospects out
    assert mc.conversion == 1.0 and mc.revenue == 5.0
    assert simulate(compiled.journey).cohort["customers"] == pytest.approx(total)


def test_referrals_arriving_at_the_horizon_do_not_count():
    # generation j arrives at 30j days; with a 1y horizon generations 0..12 count
    compiled = journeydsl.loads(CASCADE.format(horizon="horizon 1y", k="0.5",
                                               delay=" after 1mo"))
    chain = build_chain(compiled.journey, "default")
    mc, walks = simulate_chain(chain, 200_000, np.random.default_rng(10))
    total = sum(0.5 ** j for j in range(13))
    assert abs(mc.cohort["prospects"] - total) <= Z * _se(walks.cohort_prospects)
    assert mc.cohort["prospects"] == pytest.approx(simulate(compiled.journey).cohort["prospects"],
                                                   abs=Z * _se(walks.cohort_prospects))


def test_cascade_cap_is_reported():
    compiled = journeydsl.loads(CASCADE.format(horizon="horizon 10y", k="0.9",
                                               delay=" after 1mo"))
    chain = build_chain(compiled.journey, "default")
    mc, walks = simulate_chain(chain, 1_000, np.random.default_rng(1), cascade_limit=500)
    assert walks.cascade_capped
    assert mc.cohort["prospects"] == pytest.approx(1.5)  # 1000 entering + 500 referred


# ------------------------------------------------------------------ safety nets and the API

STUCK = """journey "stuck" {
  horizon 1y
  stage a {}
  entry a
  a -> a 100%
  goal a
}"""


def test_a_walk_that_never_ends_is_an_error_naming_its_loop():
    # a zero-delay 100% loop: the horizon never comes
    compiled = journeydsl.loads(STUCK)
    # variant() refuses a journey with errors: take the one the checker walked
    chain = build_chain(compiled.compilation.journey, "default")
    with pytest.raises(WalkTooLong, match=r"never leave.* loop at `a`.*exact engine"):
        simulate_chain(chain, 300, np.random.default_rng(0))
    # the checker rejects such a journey (JD405); the report refuses a journey with errors
    assert "JD405" in [d.code for d in compiled.diagnostics]
    with pytest.raises(JourneyError):
        compiled.monte_carlo(prospects=300)


RING = """journey "ring" {
  stage a {}
  stage b {}
  stage c {}
  entry a
  a -> b 99.99%
  b -> a 100%
  a -> c 0.01%
  goal c
}"""


def test_walks_too_long_for_the_cap_are_an_error_naming_the_loop():
    # a two-step loop left once in 10,000 rounds: no walk is cut short silently
    compiled = journeydsl.loads(RING)
    assert compiled.ok, compiled.diagnostics
    with pytest.raises(WalkTooLong, match=r"still going after 1,000 moves.* through `a`, `b`;"):
        monte_carlo(compiled.journey, prospects=1_000, max_moves=1_000)
    from journeydsl.simulate.montecarlo import walk

    with pytest.raises(WalkTooLong, match=r"needed over .* draws of a next move"):
        walk_budget = (walk.MIN_BUDGET, walk.MAX_DRAWS)
        try:
            walk.MIN_BUDGET, walk.MAX_DRAWS = 100_000, 10
            monte_carlo(compiled.journey, prospects=1_000)
        finally:
            walk.MIN_BUDGET, walk.MAX_DRAWS = walk_budget


def test_progress_and_report_shape():
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("saas_trial")])
    calls = []
    report = monte_carlo(compiled.variant("simpler_pricing"), prospects=50_000, draws=3, seed=1,
                         progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (50_000, 50_000)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    assert isinstance(report, MonteCarloReport) and isinstance(report, Report)
    data = json.loads(json.dumps(report.as_dict()))
    exact = simulate(compiled.variant("simpler_pricing")).as_dict()
    assert set(exact) <= set(data)
    assert data["method"] == "monte_carlo" and data["scenario"] == "simpler_pricing"
    assert set(data["personas"]) == set(exact["personas"])
    for persona, entry in exact["personas"].items():
        # the same keys (`undefined` where a run leaves a ratio undefined)
        assert (set(entry["metrics"]) - {"undefined"}
                == set(data["personas"][persona]["metrics"]) - {"undefined"})
        assert set(entry["by_entry"]) == set(data["personas"][persona]["by_entry"])
        assert set(entry["metrics"]["steps"]) == set(data["personas"][persona]["metrics"]["steps"])
    for key in ("uncertainty", "clv_distribution", "revenue_concentration", "rescaled_draws"):
        assert key in data
    assert set(data["uncertainty"]) == {"conversion", "revenue", "cost", "profit",
                                        "acquisition_cost", "clv", "cac", "ltv_cac",
                                        "time_to_convert_days", "viral_coefficient",
                                        "active_at_horizon"}
    assert set(data["clv_distribution"]) == {"p05", "p25", "p50", "p75", "p95", "mean"}
    assert report.transitions > 50_000


def test_errors():
    with pytest.raises(JourneyError):
        journeydsl.loads('journey "x" { stage a {}; entry nowhere }').monte_carlo()
    compiled = journeydsl.loads(OVERFULL)
    with pytest.raises(KeyError):
        monte_carlo(compiled.journey, persona="nobody")
    with pytest.raises(ValueError):
        monte_carlo(compiled.journey, prospects=0)


# ------------------------------------------------------------------ several worlds in one pool

def _check_tally(check: Checks, tally, ex, label: str) -> None:
    """A pair's sums against the exact metrics (standard errors from the sums)."""
    m, n = tally.metrics(), tally.n
    cov = tally.covariance()
    check.proportion(f"{label} conversion", m.conversion, ex.conversion, n)
    check.near(f"{label} revenue", m.revenue, ex.revenue, math.sqrt(cov[1, 1] / n))
    check.near(f"{label} cost", m.cost, ex.cost, math.sqrt(cov[2, 2] / n))
    check.proportion(f"{label} active", m.active_at_horizon, ex.active_at_horizon, n)
    for step, values in ex.steps.items():
        for key in ("reach", "dropoff", "churn"):
            check.proportion(f"{label} {key}({step})", m.steps[step][key], values[key], n)
        mu = values["visits"]
        # visits: whole numbers, so the variance is at least mu (1 - mu); cycles can add more
        check.near(f"{label} visits({step})", m.steps[step]["visits"], mu,
                   3 * math.sqrt(max(mu, mu * (1 - mu)) / n))
    for stage, values in ex.stages.items():
        check.proportion(f"{label} reach({stage})", m.stages[stage]["reach"], values["reach"], n)
    extra = ex.cohort["prospects"] - 1
    check.near(f"{label} cohort prospects", m.cohort["prospects"], ex.cohort["prospects"],
               math.sqrt(5 * extra / n) + 1e-12)


@pytest.mark.parametrize("name", ["value_ladder", "lifecycle_activities", "vn_label_printer"])
def test_pairs_walked_in_one_pool_keep_their_books_apart(name):
    from journeydsl.simulate.montecarlo.run import run_pairs
    from journeydsl.simulate.montecarlo.bins import Pair

    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index(name)])
    exact = simulate(compiled.journey)
    graph = compiled.graph()
    variant = compiled.variant()
    personas = list(graph.graph["personas"])
    # every persona twice (as two draws would be), with different numbers of prospects
    pairs = [Pair(build_chain(variant, p), None, 60_000 + 20_000 * j)
             for j in range(2) for p in personas]
    tallies, stats, _ = run_pairs(pairs, np.random.default_rng(21), max_moves=100_000, keep=False)
    assert stats.transitions > sum(p.prospects for p in pairs)
    check = Checks(name)
    for j, (pair, tally) in enumerate(zip(pairs, tallies)):
        assert tally.n == pair.prospects
        _check_tally(check, tally, exact.personas[pair.chain.persona], f"#{j} {pair.chain.persona}")
    check.done()


def test_visit_counts_kept_in_chunks(monkeypatch):
    # simulate_chain keeps per-walker visit counts of tracked steps, a chunk at a time
    from journeydsl.simulate.montecarlo import run

    monkeypatch.setattr(run, "COUNT_CELLS", 1 << 13)
    compiled = journeydsl.load(EXAMPLES[[p.stem for p in EXAMPLES].index("saas_trial")])
    chain = build_chain(compiled.journey, "ent")
    mc, walks = simulate_chain(chain, 30_000, np.random.default_rng(4))
    ex = simulate(compiled.journey).personas["ent"]
    check = Checks("chunks")
    for step in ("paying", "winback"):
        check.near(f"visits({step})", mc.steps[step]["visits"], ex.steps[step]["visits"],
                   walks.stderr()["visits"][step])
        check.proportion(f"reach({step})", mc.steps[step]["reach"], ex.steps[step]["reach"],
                         walks.prospects)
    check.done()


def test_more_tracked_steps_than_first_visit_bits():
    # 70 steps on a ring, each with a self-loop: 70 tracked steps (> 64 bits)
    lines = ['journey "ring" {', "  horizon 1y"]
    lines += [f"  stage s{i} {{}}" for i in range(70)]
    lines += ["  entry s0"]
    lines += [f"  s{i} -> s{i} 30% after 1d, s{(i + 1) % 70} 65% after 1d" for i in range(70)]
    lines += ["  goal s69", "}"]
    compiled = journeydsl.loads("\n".join(lines))
    assert compiled.ok, compiled.diagnostics
    exact = simulate(compiled.journey).blended
    report = monte_carlo(compiled.journey, prospects=40_000, seed=6)
    check = Checks("ring")
    for step in ("s1", "s10", "s40", "s69"):
        check.proportion(f"reach({step})", report.blended.steps[step]["reach"],
                         exact.steps[step]["reach"], 40_000)
    check.proportion("conversion", report.blended.conversion, exact.conversion, 40_000)
    check.done()

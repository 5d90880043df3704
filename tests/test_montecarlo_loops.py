"""Monte Carlo on loops near 100% and numbers at the extremes.

Self-loops take one draw however long the stay (loops.py); the tests check
the stays against the exact engine (4 standard errors), that every walk is
booked as drop-off, churn or active at the horizon (they sum to 1), that
walks it cannot finish are an error naming the loop, never cut short, and
that the JSON carries no inf or NaN, with the reason for each null.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.montecarlo import WalkTooLong, monte_carlo, simulate_chain

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.journey"))
Z = 4.0

SPIN = """journey "spin" {
  horizon 1y
  stage a { value 1; cost 0.5 }
  stage b { value 100 }
  entry a
  a -> a 99.99%, b 0.005%
  goal b
}"""


def _ends(metrics) -> float:
    """Drop-off + churn over every step + active at the horizon."""
    return (sum(s["dropoff"] + s["churn"] for s in metrics.steps.values())
            + metrics.active_at_horizon)


def test_a_99_99_percent_zero_delay_self_loop_is_fast_and_agrees_with_the_exact_engine():
    # ~10,000 moves a walk: 12-50 s before, with walks silently capped
    journey = journeydsl.loads(SPIN).journey
    monte_carlo(journey, prospects=1_000)  # imports, caches
    start = time.process_time()
    report = monte_carlo(journey, prospects=100_000)
    assert time.process_time() - start < 1.0
    assert report.transitions > 900_000_000  # every move back counts
    exact = simulate(journey).blended.as_dict()
    mean = report.blended.as_dict()
    for name in ("conversion", "revenue", "cost", "clv", "cac"):
        se = report.uncertainty[name]["stderr"]
        assert abs(mean[name] - exact[name]) <= Z * se, (name, mean[name], exact[name], se)
    assert _ends(report.blended) == pytest.approx(1.0, abs=1e-12)
    assert report.capped_walks == 0


LOOPS = {
    # a renewal under a horizon that cuts stays, discounted, with referrals
    "renewal": """journey "renewal" {
      horizon 2y
      discount 10% per year
      stage a { value 3; cost 1 }
      stage b { value 50 }
      stage x { cost 2 }
      entry a
      a -> a 99.9%, b 0.05% after 1d
      b -> b 90% after 1mo
      a => x 0.002
      b => x 0.1 after 1w
      x -> b 5%
      goal b
    }""",
    # hourly retries for 90 days, a return path, referrals from the loop
    "hourly": """journey "hourly" {
      horizon 90d
      discount 20% per year
      stage a { value 1 }
      stage b { value 10; cost 3 }
      entry a
      a -> a 99% after 1h, b 0.5% after 2d
      b -> b 30% after 3d, a 10%
      b => a 0.3 after 5d
      goal b
    }""",
    # no horizon: stays of ~10,000 days, discounted to almost nothing
    "endless": """journey "endless" {
      discount 5% per month
      stage a { value 1 }
      stage b { value 10; cost 3 }
      entry a
      a -> a 99.99% after 1d, b 0.005%
      b -> b 97% after 1mo
      b => a 0.01 after 5d
      goal b
    }""",
    # a loop at a goal, closed (100%) under a horizon: every walk active at H
    "closed": """journey "closed" {
      horizon 1y
      stage a { value 1 }
      stage b { value 2 }
      entry a
      a -> b 50% after 1w
      b -> b 100% after 1d
      goal b
    }""",
}


@pytest.mark.parametrize("name", list(LOOPS))
def test_self_loops_agree_with_the_exact_engine(name):
    journey = journeydsl.loads(LOOPS[name]).journey
    exact = simulate(journey).personas["default"]
    chain = build_chain(journey, "default")
    mc, walks = simulate_chain(chain, 100_000, np.random.default_rng(3))
    se = walks.stderr()
    n = walks.prospects
    off = []

    def near(what, got, want, error):
        if not abs(got - want) <= Z * error + 1e-9 * max(1.0, abs(want)):
            off.append(f"{what}: monte carlo {got:.6g}, exact {want:.6g}, error {error:.3g}")

    def rate(what, got, want):
        near(what, got, want, math.sqrt(max(want * (1 - want), got * (1 - got), 1 / n) / n))

    rate("conversion", mc.conversion, exact.conversion)
    near("revenue", mc.revenue, exact.revenue, se["revenue"])
    near("cost", mc.cost, exact.cost, se["cost"])
    near("viral", mc.viral_coefficient, exact.viral_coefficient,
         max(se["viral_coefficient"], math.sqrt(exact.viral_coefficient / n)))
    rate("active", mc.active_at_horizon, exact.active_at_horizon)
    for step, values in exact.steps.items():
        floor = math.sqrt(max(values["visits"], 1e-12) / n)
        near(f"visits({step})", mc.steps[step]["visits"], values["visits"],
             max(se["visits"][step], floor))
        for key in ("reach", "dropoff", "churn"):
            rate(f"{key}({step})", mc.steps[step][key], values[key])
    near("cohort prospects", mc.cohort["prospects"], exact.cohort["prospects"],
         float(walks.cohort_prospects.std() / math.sqrt(n)) + 1e-12)
    assert not off, "\n".join(off)
    assert _ends(mc) == pytest.approx(1.0, abs=1e-12)


# the loop's rate, and half of the rest (the other half ends the walk)
NEAR_100 = [("99.99%", "0.005%"), ("99.9999%", "0.00005%"),
            ("99.9999999999%", "0.00000000005%")]


@pytest.mark.parametrize("rate,rest", NEAR_100)
@pytest.mark.parametrize("delay,horizon", [("", "horizon 1y"), ("after 1h", "horizon 5y"),
                                           ("after 1d", "")])
def test_every_walk_ends_somewhere_on_loops_near_100_percent(rate, rest, delay, horizon):
    text = f"""journey "near" {{
      {horizon}
      discount 8% per year
      stage a {{ value 1 }}
      stage b {{ value 100; cost 2 }}
      entry a
      a -> a {rate} {delay}, b {rest}
      b -> b 99.99% {delay}
      goal b
    }}"""
    compiled = journeydsl.loads(text)
    assert compiled.ok, compiled.diagnostics
    journey = compiled.journey
    n = 20_000
    report = monte_carlo(journey, prospects=n, seed=2)
    for metrics in [report.blended, *report.personas.values()]:
        assert _ends(metrics) == pytest.approx(1.0, abs=1e-12)
    exact = simulate(journey).blended
    for name in ("conversion", "active_at_horizon"):
        p = getattr(exact, name)
        error = max(report.uncertainty[name]["stderr"], math.sqrt(p * (1 - p) / n))
        assert abs(getattr(report.blended, name) - p) <= Z * error + 1e-12, name
    data = json.loads(json.dumps(report.as_dict(), allow_nan=False))  # finite everywhere
    # the only nulls: ratios undefined in these runs (no prospect of 20,000
    # converts under the horizon; everything discounted to 0 without it),
    # and their standard errors, for the same reasons; and payback when
    # the simulated profit curve ends below zero (it has no uncertainty band)
    undefined = data["blended"]["metrics"].get("undefined", {})
    assert undefined.pop("payback_days", "never").startswith("never")
    assert data["undefined"] == {f"uncertainty.{k}": why for k, why in undefined.items()}
    assert set(undefined) <= {"clv", "cac", "ltv_cac", "time_to_convert_days"}


def test_drop_off_churn_and_active_sum_to_one_on_every_example():
    for path in EXAMPLES:
        compiled = journeydsl.load(path)
        for scenario in [None] + compiled.scenarios:
            report = monte_carlo(compiled.variant(scenario), prospects=20_000, draws=4, seed=1)
            for metrics in [report.blended, *report.personas.values()]:
                assert _ends(metrics) == pytest.approx(1.0, abs=1e-9), (path.stem, scenario)


RING = """journey "ring" {
  stage a {}
  stage b {}
  stage c {}
  entry a
  a -> b 99.999%
  b -> a 100%
  a -> c 0.001%
  goal c
}"""


def test_walks_monte_carlo_cannot_finish_exit_1_naming_the_loop(tmp_path, monkeypatch):
    from journeydsl.simulate.montecarlo import walk

    monkeypatch.setattr(walk, "MIN_BUDGET", 200_000)  # (the error comes sooner, the same)
    path = tmp_path / "ring.journey"
    path.write_text(RING, encoding="utf-8")
    done = CliRunner().invoke(app, ["simulate", str(path), "--method", "monte-carlo",
                                    "--prospects", "1000"])
    assert done.exit_code == 1, done.output
    assert "journey: Monte Carlo cannot finish these walks" in done.output
    assert "loop through `a`, `b`" in done.output and "--method exact" in done.output
    assert "Traceback" not in done.output
    with pytest.raises(WalkTooLong):
        monte_carlo(journeydsl.loads(RING).journey, prospects=1_000)


HUGE = """journey "huge" {
  horizon 1000y
  discount 1% per year
  stage a { cost 1_000_000_000_000_000; value 1_000_000_000_000_000 }
  stage b { value 1_000_000_000_000_000; cost 999_999_999_999_999 }
  stage x { value 1_000_000_000_000_000 }
  entry a
  a -> a 99.9999% after 2h, b 0.0001%
  b -> b 99.99999%
  a => x 1_000_000
  goal b
}"""


def test_the_largest_amounts_and_referral_counts_stay_finite():
    # values and costs at the 10^15 limit, a million referrals per visit,
    # stays of a million and ten million moves: no overflow, no memory blow-up
    journey = journeydsl.loads(HUGE).journey
    report = monte_carlo(journey, prospects=5_000, seed=1)
    data = json.loads(json.dumps(report.as_dict(), allow_nan=False))
    assert data["undefined"] == {}
    metrics = data["blended"]["metrics"]
    assert 1e21 < metrics["revenue"] < 1e23 and 1e11 < metrics["viral_coefficient"] < 1e13
    assert all(v["stderr"] is not None and math.isfinite(v["stderr"])
               for k, v in data["uncertainty"].items() if k != "time_to_convert_days")
    # the cascade is cut (20 per entering prospect), and says so
    assert data["cascade_capped"] and data["cohort"]["prospects"] == pytest.approx(21.0)
    # a walker stays a geometric 1 / (1 - 99.9999%) = 10^6 visits at `a`,
    # cut at the horizon (4.4 million laps of 2 hours away), each visit
    # sending 10^6 (a loop of 2 h, not seconds: finer is JD408 for the exact engine)
    laps = math.ceil(journey.horizon_days * 12)
    w = 0.999999
    expected = 1e6 * (1 - w ** laps) / (1 - w)
    se = report.uncertainty["viral_coefficient"]["stderr"]
    assert abs(report.blended.viral_coefficient - expected) <= Z * se


TINY = """journey "tiny" {{
  stage a {{ cost {amount}; value {amount} }}
  stage b {{ value 1 }}
  entry a
  a -> b 50%
  goal b
}}"""


def test_json_carries_no_inf_or_nan_and_the_text_says_why(tmp_path):
    # a cost of 1e-320 a visit: LTV:CAC is beyond double precision, and no
    # standard error of such amounts can be trusted
    path = tmp_path / "tiny.journey"
    path.write_text(TINY.format(amount="0." + "0" * 319 + "1"), encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(app, ["simulate", str(path), "--method", "monte-carlo", "-f", "json",
                               "--prospects", "2000"])
    assert done.exit_code == 0, done.output
    assert "Infinity" not in done.stdout and "NaN" not in done.stdout
    data = json.loads(done.stdout)
    metrics = data["blended"]["metrics"]
    assert metrics["ltv_cac"] is None
    assert "too small to divide by" in metrics["undefined"]["ltv_cac"]
    assert data["uncertainty"]["cost"]["stderr"] is None
    assert "too small or too large" in data["undefined"]["uncertainty.cost"]
    # the uncertainty of an undefined metric is null for the metric's reason
    assert data["uncertainty"]["ltv_cac"]["stderr"] is None
    assert data["undefined"]["uncertainty.ltv_cac"] == metrics["undefined"]["ltv_cac"]
    text = runner.invoke(app, ["simulate", str(path), "--method", "monte-carlo",
                               "--prospects", "2000"], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "inf" not in text.stdout and "nan" not in text.stdout
    assert "Shown as — (null in JSON): " in text.stdout
    assert "uncertainty.ltv_cac: CAC (2e-320) is too small to divide by" in text.stdout


def _chain(rates: list[str]) -> str:
    """Steps s0 -> s1 -> ... along `rates`, the last one the goal."""
    lines = ['journey "chain" {', "  stage s0 { cost 1 }"]
    lines += [f"  stage s{i} {{ value 100 }}" for i in range(1, len(rates) + 1)]
    lines += ["  entry s0"]
    lines += [f"  s{i} -> s{i + 1} {rate}" for i, rate in enumerate(rates)]
    lines += [f"  goal s{len(rates)}", "}"]
    return "\n".join(lines)


def test_a_conversion_of_1e_320_gives_nulls_with_their_reasons(tmp_path):
    # 26 steps of 1e-12 and one of 1e-8: conversion 1e-320 (a subnormal
    # double). No prospect of a million converts; the exact conversion is
    # below what a ratio may divide by: clv, cac, LTV:CAC, time to convert
    # are null in both engines, each with its reason, and nothing is inf/NaN.
    path = tmp_path / "chain.journey"
    path.write_text(_chain(["0.0000000001%"] * 26 + ["0.000001%"]), encoding="utf-8")
    runner = CliRunner()
    exact = runner.invoke(app, ["simulate", str(path), "-f", "json"])
    assert exact.exit_code == 0, exact.output
    metrics = json.loads(exact.stdout)["blended"]["metrics"]
    assert 0 < metrics["conversion"] < 1e-300
    start = time.process_time()
    done = runner.invoke(app, ["simulate", str(path), "--method", "monte-carlo", "-f", "json",
                               "--prospects", "1000000"])
    assert time.process_time() - start < 5.0
    assert done.exit_code == 0, done.output
    assert "Infinity" not in done.stdout and "NaN" not in done.stdout
    data = json.loads(done.stdout)
    mc = data["blended"]["metrics"]
    assert mc["conversion"] == 0.0 and mc["revenue"] == 0.0 and mc["cost"] == 1.0
    for key in ("clv", "cac", "ltv_cac", "time_to_convert_days"):
        assert mc[key] is None and mc["undefined"][key] == "conversion is zero", key
        assert metrics[key] is None and "is too small to divide by" in metrics["undefined"][key]
        assert data["uncertainty"][key]["stderr"] is None
        assert data["undefined"][f"uncertainty.{key}"] == "conversion is zero"

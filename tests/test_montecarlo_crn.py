"""Scenario deltas with common random numbers (montecarlo/crn.py) and the
revenue concentration over prospects (montecarlo/top.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import journeydsl
from journeydsl.cli import app
from journeydsl.simulate import simulate
from journeydsl.simulate.montecarlo import monte_carlo
from journeydsl.simulate.montecarlo.crn import TooLong, compare

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.journey"))

# a scenario moves one rate by one point
NUDGE = """journey "nudge" {
  discount 10% per year
  persona a { share 70% }
  persona b { share 30% }
  stage s {
    touchpoint ad { cost 2 }
    touchpoint trial { cost 5 }
    touchpoint paid { value 40; cost 4 }
  }
  entry ad
  ad -> trial 30%
  trial -> paid 40% [b: 50%] after 7d
  paid -> paid 85% after 1mo
  goal paid
  scenario better_trial { trial -> paid 41% [b: 51%] after 7d }
}"""


def _exact_deltas(variants):
    exact = [simulate(v).blended.as_dict() for v in variants]
    return [{k: (None if e[k] is None or exact[0][k] is None else e[k] - exact[0][k])
             for k in exact[0] if not isinstance(exact[0][k], dict)} for e in exact[1:]]


def test_common_random_numbers_make_a_small_change_measurable():
    compiled = journeydsl.loads(NUDGE)
    variants = [compiled.variant(None), compiled.variant("better_trial")]
    (found,) = compare(variants, prospects=40_000, seed=1)
    (exact,) = _exact_deltas(variants)
    for name in ("conversion", "revenue", "profit", "cost", "clv", "cac"):
        d = found[name]
        # the paired standard error is a small part of the independent runs' one
        assert d.stderr < 0.3 * d.stderr_independent, (name, d)
        assert abs(d.delta - exact[name]) <= 4 * d.stderr, (name, d, exact[name])
    # the independent runs' standard error is what two separate runs show
    base = monte_carlo(variants[0], prospects=40_000, seed=1)
    other = monte_carlo(variants[1], prospects=40_000, seed=2)
    apart = np.hypot(base.uncertainty["conversion"]["stderr"],
                     other.uncertainty["conversion"]["stderr"])
    assert found["conversion"].stderr_independent == pytest.approx(apart, rel=0.15)


def test_deltas_agree_with_the_exact_deltas_on_every_example():
    off, compared = [], 0
    for path in EXAMPLES:
        compiled = journeydsl.load(path)
        if not compiled.scenarios:
            continue
        variants = [compiled.variant(None)] + [compiled.variant(s) for s in compiled.scenarios]
        for scenario, found, exact in zip(compiled.scenarios,
                                          compare(variants, prospects=40_000, seed=7),
                                          _exact_deltas(variants)):
            for name, d in found.items():
                if d.delta is None or exact[name] is None:
                    continue
                compared += 1
                if d.stderr == 0:  # no prospect of 40,000 changed: a change rarer than that
                    assert abs(d.delta - exact[name]) <= 1e-4 * max(1.0, abs(exact[name])), \
                        (path.stem, name)
                elif abs(d.delta - exact[name]) > 4.5 * d.stderr:
                    off.append(f"{path.stem} {scenario} {name}: {d.delta} vs {exact[name]} "
                               f"(se {d.stderr})")
    assert compared > 50
    assert not off, "\n".join(off)


# five points, so that a run of 10,000 prospects has ~150 whose path
# changes: with a dozen, the z-scores of a rare-event count are far from
# normal (the standard error is smallest when the count is)
NUDGE5 = NUDGE.replace("41% [b: 51%]", "45% [b: 55%]")


@pytest.mark.parametrize("draws, seeds, text", [
    (1, 100, NUDGE5),
    # uncertain rates: each draw's rates at the same quantiles in both variants
    (10, 50, NUDGE5.replace("ad -> trial 30%", "ad -> trial 20%..40%"))])
def test_paired_standard_errors_are_right_over_many_seeds(draws, seeds, text):
    compiled = journeydsl.loads(text)
    variants = [compiled.variant(None), compiled.variant("better_trial")]
    (exact,) = _exact_deltas(variants)
    z: dict[str, list[float]] = {}
    for seed in range(seeds):
        (found,) = compare(variants, prospects=10_000, draws=draws, seed=seed)
        for name in ("conversion", "revenue", "profit", "clv", "ltv_cac"):
            z.setdefault(name, []).append((found[name].delta - exact[name])
                                          / found[name].stderr)
    problems = []
    for name, values in z.items():
        a = np.array(values)
        # the mean of n N(0, 1) has standard deviation 1/sqrt(n): 4 of them;
        # the sd within 0.75..1.3; with draws, the larger of the within- and
        # across-draw variances is conservative where the rates' spread
        # does not move the delta (clv: 0.62 measured), never too small
        low = 0.75 if draws == 1 else 0.5
        if not (abs(a.mean()) <= 4 / np.sqrt(seeds) and low <= a.std(ddof=1) <= 1.3
                and np.abs(a).max() <= 5):
            problems.append(f"{name}: mean {a.mean():+.3f}, sd {a.std(ddof=1):.3f}, "
                            f"max |z| {np.abs(a).max():.2f}")
    assert not problems, "\n".join(problems)


def test_a_loop_too_long_for_the_paired_walk_is_said_not_hidden(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import journeydsl.simulate.montecarlo.crn as crn

    monkeypatch.setattr(crn, "MAX_PASSES", 5)
    compiled = journeydsl.loads(NUDGE)
    with pytest.raises(TooLong):
        compare([compiled.variant(None), compiled.variant("better_trial")], prospects=500)
    path = tmp_path / "nudge.journey"
    path.write_text(NUDGE)
    out = CliRunner().invoke(app, ["simulate", str(path), "--compare", "--method",
                                   "monte-carlo", "--prospects", "2000", "-f", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["better_trial"]["deltas"] is None
    assert "still going after 5 moves" in data["baseline"]["deltas_undefined"]


def test_compare_cli_prints_and_writes_the_deltas(tmp_path):
    from typer.testing import CliRunner

    path = tmp_path / "nudge.journey"
    path.write_text(NUDGE)
    runner = CliRunner()
    args = ["simulate", str(path), "--compare", "--method", "monte-carlo", "--prospects",
            "20000", "--seed", "3"]
    data = json.loads(runner.invoke(app, args + ["-f", "json"]).output)
    d = data["better_trial"]["deltas"]["conversion"]
    assert set(d) == {"delta", "stderr", "stderr_independent"}
    assert 0 < d["stderr"] < d["stderr_independent"]
    text = runner.invoke(app, args, env={"COLUMNS": "160"}).output
    assert "common random numbers" in text and "better_trial: change ± std. error" in text


# ------------------------------------------------------------------ --top

# every prospect buys once: 100 with probability `big`, 10 with `small`,
# nothing otherwise
TWO_VALUES = """journey "two" {
  stage s {
    touchpoint a {}
    touchpoint big { value 100 }
    touchpoint small { value 10 }
  }
  entry a
  a -> big BIG, small SMALL
  goal big, small
}"""


@pytest.mark.parametrize("big, small, fraction", [
    (0.2, 0.8, 0.08), (0.2, 0.8, 0.30), (0.2, 0.3, 0.08), (0.05, 0.5, 0.2)])
def test_top_share_of_prospects_against_its_closed_form(big, small, fraction):
    text = TWO_VALUES.replace("BIG", f"{big * 100:g}%").replace("SMALL", f"{small * 100:g}%")
    journey = journeydsl.loads(text).journey
    n = 20_000
    mean = 100 * big + 10 * small

    def share(p_big: float, p_small: float) -> float:
        top = min(fraction, p_big) * 100 + min(max(fraction - p_big, 0.0), p_small) * 10
        return top / (100 * p_big + 10 * p_small)

    expected = share(big, small)
    # its standard error by the delta method over the two shares' multinomial
    h = 1e-6
    grad = np.array([(share(big + h, small) - share(big - h, small)) / (2 * h),
                     (share(big, small + h) - share(big, small - h)) / (2 * h)])
    cov = np.array([[big * (1 - big), -big * small], [-big * small, small * (1 - small)]]) / n
    se = float(np.sqrt(grad @ cov @ grad))
    z = []
    for seed in range(60):
        report = monte_carlo(journey, prospects=n, seed=seed, concentration=fraction)
        assert report.top_revenue_stderr == pytest.approx(se, rel=0.3)
        z.append((report.top_revenue_share - expected) / report.top_revenue_stderr)
    assert abs(np.mean(z)) < 0.55 and 0.7 < np.std(z, ddof=1) < 1.35
    assert report.as_dict()["top"] == {"fraction": fraction,
                                       "revenue_share": report.top_revenue_share,
                                       "stderr": report.top_revenue_stderr}
    assert mean > 0


def test_top_option_in_text_and_json(tmp_path):
    from typer.testing import CliRunner

    path = tmp_path / "two.journey"
    path.write_text(TWO_VALUES.replace("BIG", "20%").replace("SMALL", "80%"))
    runner = CliRunner()
    args = ["simulate", str(path), "--method", "monte-carlo", "--prospects", "20000",
            "--top", "5%"]
    data = json.loads(runner.invoke(app, args + ["-f", "json"]).output)
    assert data["top"]["fraction"] == 0.05
    assert data["top"]["revenue_share"] == pytest.approx(5 / 28, rel=0.03)
    text = runner.invoke(app, args, env={"COLUMNS": "120"}).output
    share = data["top"]["revenue_share"] * 100
    assert f"Top 5% of prospects earn {share:.1f}% of all revenue (standard error" in text
    bad = runner.invoke(app, args[:-1] + ["120%"])
    assert bad.exit_code == 2 and "is not a percentage" in bad.output

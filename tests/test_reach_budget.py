"""Reach of stages that walks leave and re-enter, under a horizon (issue 11).

Each such stage takes a taboo pass (walks stopping on entering it,
first_visits.reentered_stage_reach). The passes cover only the steps that
something reaches before the horizon and that lead into the stage, and are
bounded: past first_visits.TABOO_EVENTS the run stops up front with JD410,
which `journey check` reports too (limits.heavy_reach), and which every
command that needs reach reports cleanly (exit 1, located).

The numbers are checked against the independent grid engine of
tests/reference_horizon.py (a fixed time grid, a taboo solve per stage).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from reference_horizon import _edges, _first_visits, grid_step_days
from test_corpus import COMMANDS, run

import journeydsl
from journeydsl.simulate.chain import build_chain, stage_index

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_hardening import staged_loop  # (the bench's journey: one generator)


@pytest.mark.parametrize("steps, stages, horizon", [(40, 8, "60d"), (90, 30, "120d"),
                                                     (12, 12, "30d")])
def test_stage_reach_of_a_staged_loop_agrees_with_the_grid_engine(steps, stages, horizon):
    result = journeydsl.loads(staged_loop(steps, stages, horizon))
    assert result.ok, [d.message for d in result.diagnostics]
    report = result.simulate()
    got = {name: row["reach"] for name, row in report.blended.stages.items()}
    want = _grid_stage_reach(build_chain(result.journey, "default"))
    assert got.keys() == want.keys() and len(got) == stages
    for name, value in got.items():
        assert value == pytest.approx(want[name], rel=1e-9, abs=1e-15), name
    assert got["g0"] == 1.0 and 0 < got["g1"] < 1


def _grid_stage_reach(chain) -> dict[str, float]:
    """Each stage's reach by the reference's taboo passes on a time grid."""
    step = grid_step_days(chain)
    steps = max(1, int(np.ceil(chain.horizon_days / step - 1e-9)))
    row, col, val, unit = _edges(chain.rates, chain.delays, step)
    names, st = stage_index(chain)
    sets = st[None, :] == np.arange(len(names))[:, None]
    return dict(zip(names, _first_visits(chain, sets, row, col, val, unit, steps).tolist()))


def test_a_stage_nothing_reaches_before_the_horizon_has_reach_zero():
    # 40 steps of 1 day each under 20 days: the last stages are never reached
    result = journeydsl.loads(staged_loop(40, 4, "20d"))
    stages = result.simulate().blended.stages
    assert stages["g2"]["reach"] == 0.0 and stages["g3"]["reach"] == 0.0


def test_a_hundred_stages_on_a_ten_thousand_step_loop_in_seconds():
    """Took 8.9 s (a pass per stage over the whole network); a hang guard
    here, the figure is benchmarks/bench_hardening.py's."""
    result = journeydsl.loads(staged_loop(10_000, 100, "1y"))
    start = time.process_time()
    stages = result.simulate().blended.stages
    assert time.process_time() - start < 30
    reach = [row["reach"] for row in stages.values()]
    assert reach[0] == 1.0 and reach == sorted(reach, reverse=True)


def _small_budget(monkeypatch) -> None:
    monkeypatch.setattr("journeydsl.simulate.first_visits.TABOO_EVENTS", 5_000)
    monkeypatch.setattr("journeydsl.simulate.limits._TABOO_EVENTS", 5_000)


def test_check_reports_jd410_for_stages_without_an_expect(monkeypatch):
    _small_budget(monkeypatch)
    text = staged_loop(60, 30, "30d", "1h")
    [d] = journeydsl.loads(text, "t.journey").diagnostics
    assert d.code == "JD410"
    assert d.message.startswith("the reach of 30 stages that walks leave and re-enter through "
                                "the loop through `s0`, `s1`")
    assert text[d.span.start:d.span.end] == "s1 90% after 1h"
    assert "each stage that walks can leave and enter again" in (d.help or "")
    # within the budget the same file is checked clean and simulated
    monkeypatch.setattr("journeydsl.simulate.first_visits.TABOO_EVENTS", 10**9)
    monkeypatch.setattr("journeydsl.simulate.limits._TABOO_EVENTS", 10**9)
    assert journeydsl.loads(text).diagnostics == []


@pytest.mark.parametrize("expect", ["expect dropoff(g1) >= 0", "expect visits(s3) >= 0",
                                    "expect conversion >= 0"])
def test_check_reports_jd410_with_expect_lines_that_need_no_reach(monkeypatch, expect):
    """An `expect` line computes only what it reads (no reach unless it asks
    for one): the screen still finds what `simulate` would stop on."""
    _small_budget(monkeypatch)
    text = staged_loop(60, 30, "30d", "1h")
    text = text[:text.rstrip().rindex("}")] + f"  {expect}\n}}\n"
    assert [d.code for d in journeydsl.loads(text, "t.journey").diagnostics] == ["JD410"]


def test_check_runs_no_engine_on_ordinary_files():
    from journeydsl.simulate.limits import heavy_reach

    root = Path(__file__).resolve().parents[1]
    for path in sorted([*(root / "examples").glob("*.journey"),
                        *(root / "tests" / "corpus").glob("*.journey")]):
        journey = journeydsl.load(path).journey
        assert journey is None or not heavy_reach(journey), path.name


def test_every_command_reports_jd410_cleanly(monkeypatch, tmp_path):
    """Each command either does not need the stages' reach (levers, Monte
    Carlo, fmt, ...: exit 0) or stops with the located JD410 (exit 1)."""
    _small_budget(monkeypatch)
    path = tmp_path / "stages.journey"
    path.write_text(staged_loop(60, 30, "30d", "1h"), encoding="utf-8")
    stopped = set()
    for name, args, _ in COMMANDS:
        args = [a.replace("{out}", str(tmp_path / name)) for a in args]
        code, out, err, _ = run([*args[:1], str(path), *args[1:]])
        assert code in (0, 1), (name, code, err[-2000:])
        assert "Traceback" not in out + err, name
        if code == 1:
            # located: file:line:col in text (line= for GitHub), a line in JSON and SARIF
            located = re.search(r'stages\.journey(:\d+:\d+|,line=\d+)|"(line|startLine)": \d+', out + err)
            assert "JD410" in out + err and located, (name, out, err)
            stopped.add(name)
    assert {"check", "simulate", "simulate-json", "compare"} <= stopped

"""A loop too fine for its horizon (JD408) is a located error on every road
to the engine: `check` (with and without `expect` lines), the API's
back ends, levers, attribution and the `journey` command itself; a loop
whose delays share a long step never costs `check` an engine run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import journeydsl
from journeydsl.diagnostics import JourneyError
from journeydsl.simulate import lattice, limits, series
from journeydsl.simulate.attribution import attribution
from journeydsl.simulate.levers import levers

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "invalid" / "JD408_loop_too_fine.journey"
FINE = GOLDEN.read_text().replace("horizon 60y", "horizon 3y")
COARSE = FINE.replace("1.00001d", "1d").replace("1.00002d", "1d")


@pytest.fixture
def small_budget(monkeypatch):
    # the golden's 60 years need the real budget and seconds of CPU; 3 years
    # against a budget of 100,000 distinct times fail the same way at once
    monkeypatch.setattr(series, "EVENT_BUDGET", 100_000)


def test_the_budget_named_in_messages_is_the_engines() -> None:
    assert limits.EVENT_BUDGET == series.EVENT_BUDGET
    assert (limits._LATTICE_CELLS, limits._LATTICE_BLOCKS, limits._BLOCK_WIDTH) == (
        lattice.LATTICE_CELLS, lattice.LATTICE_BLOCKS, lattice._BLOCK_WIDTH)


def test_fine_loops_screen() -> None:
    assert limits.fine_loops(journeydsl.loads(FINE).journey)
    assert not limits.fine_loops(journeydsl.loads(COARSE).journey)
    for path in sorted((REPO / "examples").glob("*.journey")):
        journey = journeydsl.load(path).journey
        assert journey is not None and not limits.fine_loops(journey), path.name


def test_check_without_expect_lines_reports_it(small_budget) -> None:
    assert [d.code for d in journeydsl.loads(FINE, "t.journey").diagnostics] == ["JD408"]


def test_check_with_expect_lines_reports_it_instead_of_failing(small_budget) -> None:
    text = FINE.replace("  goal done\n", "  goal done\n  expect conversion >= 1%\n")
    assert [d.code for d in journeydsl.loads(text, "t.journey").diagnostics] == ["JD408"]


def test_every_back_end_of_the_api_raises_the_located_error(monkeypatch) -> None:
    # compiled with the real budget (the screen's run passes), run with a small one
    result = journeydsl.loads(FINE, "t.journey")
    assert result.ok
    monkeypatch.setattr(series, "EVENT_BUDGET", 100_000)
    for run in (result.simulate, result.levers, result.attribution):
        with pytest.raises(JourneyError) as err:
            run()
        assert [d.code for d in err.value.diagnostics] == ["JD408"]
        assert err.value.diagnostics[0].location == (12, 13)


def test_engines_called_directly_raise_time_budget_exceeded(monkeypatch) -> None:
    journey = journeydsl.loads(COARSE).journey
    fine = journeydsl.loads(FINE).journey  # with the real budget: clean
    assert journey is not None and fine is not None
    monkeypatch.setattr(series, "EVENT_BUDGET", 100_000)
    for engine in (levers, attribution):
        engine(journey)
        with pytest.raises(limits.TimeBudgetExceeded) as err:
            engine(fine)
        assert err.value.steps == ["remind", "snooze"]


def test_a_coarse_loop_is_not_run_at_check_time(monkeypatch) -> None:
    ran = []
    monkeypatch.setattr("journeydsl.simulate.simulate", lambda *a, **k: ran.append(a))
    assert journeydsl.loads(COARSE).ok and ran == []


def test_the_command_exits_1_with_the_diagnostic() -> None:
    # the real budget, as a user meets it (a few seconds of CPU)
    done = subprocess.run([sys.executable, "-m", "journeydsl.cli", "simulate", str(GOLDEN)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "error[JD408]" in done.stderr and "Traceback" not in done.stderr
    assert "internal error" not in done.stderr and done.stdout == ""


def test_a_renewal_every_few_seconds_over_centuries_is_reported_by_check() -> None:
    text = """journey "Fast renewals" {
  horizon 1000y
  stage s {
    touchpoint a { channel web }
    touchpoint b { channel web; value 1 }
  }
  entry a
  goal b
  a -> b 50%
  b -> b 99.9999% after 0.001h
}
"""
    journey = journeydsl.loads(text.replace("horizon 1000y", "horizon 1y")).journey
    assert journey is not None and not limits.fine_loops(journey)  # 7.9M instants: a lattice
    (d,) = journeydsl.loads(text, "t.journey").diagnostics
    assert d.code == "JD408" and d.location == (10, 8) and "4 s" in d.message
    assert d.help is not None and "longer delay" in d.help


def test_a_referral_loop_counts_in_the_screen() -> None:
    text = COARSE.replace("  remind -> done 0.05%", "  remind -> done 0.05%\n"
                          "  snooze => remind 0.001 after 1.00001d")
    # the walks' loop has whole days (a lattice); the cascade's referral makes it fine
    compiled = journeydsl.loads(text, "t.journey").compilation.journey
    assert compiled is not None and limits.fine_loops(compiled)
    (d,) = journeydsl.loads(text, "t.journey").diagnostics
    assert d.code == "JD408" and "86,401 s" in d.message
    assert "a referral of the loop" in [label.message for label in d.labels]


def test_a_large_coarse_loop_is_not_run_at_check_time(monkeypatch) -> None:
    # benchmarks/bench_check.py's journey: thousands of steps in one loop
    # (backward moves and referrals), delays of whole days, 3 years. Its
    # lattice passes the cells cap, but every state's times are among the
    # 1,095 days below the horizon: it cannot exceed the budget, and its
    # engine run took minutes of a `journey check` (dense solves).
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_check import generate

    # 3,000 steps against a cap of a million cells: at 10,000 steps, 8 million
    monkeypatch.setattr(limits, "_LATTICE_CELLS", 1_000_000)
    journey = journeydsl.loads(generate(stages=150)).journey
    assert journey is not None
    assert limits._off_lattice(journey)  # what alone sent it to the engine
    assert limits._distinct_times(journey) == (1095, 3000)
    assert not limits.fine_loops(journey)
    ran = []
    monkeypatch.setattr("journeydsl.simulate.simulate", lambda *a, **k: ran.append(a))
    assert journeydsl.loads(generate(stages=150)).ok and ran == []


def test_distinct_times_count_states_in_their_layers() -> None:
    # entry a; a -> b (goal) -> c; c => a: a twice (unconverted, and as a
    # referred prospect: unconverted again), b and c converted; d unreached
    text = """journey "layers" {
  horizon 1y
  stage s { touchpoint a {}; touchpoint b {}; touchpoint c {}; touchpoint d {} }
  entry a
  goal b
  a -> b 50% after 2d
  b -> c 50% after 4d
  c => a 0.1 after 6d
  d -> a 10%
}
"""
    journey = journeydsl.loads(text).journey
    assert journey is not None
    assert limits._distinct_times(journey) == (-(-365 // 2), 3)

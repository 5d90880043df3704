"""The benchmarks run on today's API: a small size of each one that takes
options for it, as a subprocess (a benchmark broken by a refactoring was
found only when someone ran it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(("script", "args", "expect"), [
    ("bench_render.py", ["--steps", "40", "--repeat", "1"], "build DOT text"),
    ("bench_simulate_exact.py", ["--steps", "200", "--repeat", "1"], "ratio simulate / spsolve"),
    ("bench_fit.py", ["--customers", "2000"], "written/s"),
    ("bench_board_report.py", ["--steps", "40", "--repeat", "1"], "Monte Carlo section"),
    ("bench_hardening.py", ["--only", "99.99% self-loop",
                            "--journey", str(Path(sys.executable).parent / "journey")],
     "case(s) miss their target"),
])
def test_benchmark_runs_small(script: str, args: list[str], expect: str) -> None:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=300, check=False)
    # exit 1 is a missed target (the small sizes miss some on purpose), never a crash
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert expect in done.stdout

"""Start-up: `journey check` on a file without `expect` lines loads neither
numpy nor the renderers, and a per-customer rate's `expect` lines load numpy
but not scipy (issue 9's start-up targets; benchmarks/bench_check.py
--startup-only measures the times)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "networkx", "graphviz", "journeydsl.render.board",
         "journeydsl.simulate.results")


def modules_after_check(path: Path) -> list[str]:
    code = ("import sys\n"
            "from journeydsl.cli import app\n"
            f"try:\n    app(['check', {str(path)!r}])\n"
            "except SystemExit:\n    pass\n"
            f"print(sorted(m for m in sys.modules if m in {HEAVY!r}))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=REPO)
    return eval(out.stdout.strip().splitlines()[-1])


def test_check_without_expects_loads_no_numerics_and_no_renderer(tmp_path: Path) -> None:
    source = (REPO / "examples" / "saas_trial.journey").read_text("utf-8")
    bare = tmp_path / "saas_trial.journey"
    bare.write_text("".join(line for line in source.splitlines(keepends=True)
                            if not line.lstrip().startswith("expect ")), "utf-8")
    assert modules_after_check(bare) == []


def test_expects_of_a_per_customer_rate_load_numpy_but_not_scipy() -> None:
    loaded = modules_after_check(REPO / "examples" / "domain_registrar.journey")
    assert "numpy" in loaded and "scipy" not in loaded

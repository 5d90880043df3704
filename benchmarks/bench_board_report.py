"""Benchmark for the board and the report.

Run:  python benchmarks/bench_board_report.py [--repeat N] [--steps N]

Prints, measured in the same run (medians of --repeat runs; journeys are
compiled beforehand and not timed):
  (a) the board SVG of a generated 500-step, two-persona journey (the one
      bench_render.py draws): target <= 0.5 s; against the exact engine's
      `simulate` of the same journey (which the board runs for its reach and
      KPI lanes) as the baseline;
  (b) the HTML report of the biggest example (most steps), the whole
      `journey report` work after compiling: target <= 3 s; against
      `simulate` of that example; and the HTML size, and the time of the
      Monte Carlo section's run (its prospect count printed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def median_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()

    import journeydsl
    from bench_render import generate
    from journeydsl.render.board import board_svg
    from journeydsl.render.report import report_html
    from journeydsl.simulate import simulate

    journey = journeydsl.loads(generate(args.steps)).raise_for_errors().journey
    base = median_time(lambda: simulate(journey, cohort=False), args.repeat)
    board = median_time(lambda: board_svg(journey), args.repeat)
    size = len(board_svg(journey).encode("utf-8"))
    print(f"board of a {len(journey.steps)}-step journey ({len(journey.stages)} stages): "
          f"{board:.3f} s (target <= 0.5 s: {'ok' if board <= 0.5 else 'MISSED'}); "
          f"SVG {size / 1024:.0f} KiB")
    print(f"  baseline, the exact engine on the same journey: {base:.3f} s; "
          f"board / simulate = {board / base:.2f}")

    examples = sorted((ROOT / "examples").glob("*.journey"))
    biggest = max(examples, key=lambda p: len(journeydsl.load(p).journey.steps))
    c = journeydsl.load(biggest)
    scenarios = [c.variant(s) for s in c.scenarios]
    base = median_time(lambda: simulate(c.journey), args.repeat)
    holder: list[str] = []
    report = median_time(lambda: holder.append(report_html(
        c.journey, scenarios, "en", biggest.name, c.expectations)), max(1, args.repeat // 2))
    html = holder[-1].encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "r.html").write_bytes(html)
    print(f"report of {biggest.name} ({len(c.journey.steps)} steps, "
          f"{len(scenarios)} scenario(s)): {report:.2f} s "
          f"(target <= 3 s: {'ok' if report <= 3 else 'MISSED'}); HTML {len(html) / 1024:.0f} KiB")
    print(f"  baseline, `simulate` of the same example: {base:.3f} s; "
          f"report / simulate = {report / base:.1f}")
    from journeydsl.render.report.sections import Report
    from journeydsl.render.report.uncertainty import PROSPECTS, run

    whole = Report(c.journey, scenarios, "en", biggest.name, c.expectations)
    whole.report  # the exact numbers, as the report has them before its Monte Carlo run
    mc = median_time(lambda: run(whole), max(1, args.repeat // 2))
    print(f"  of which the Monte Carlo section's run: {mc:.2f} s for {PROSPECTS:,} prospects "
          f"({mc / report:.0%} of the report)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

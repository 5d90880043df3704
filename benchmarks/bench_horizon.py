"""Benchmark for the exact engine under a horizon (issue: time grids).

Run:  python benchmarks/bench_horizon.py [--repeat N] [--skip-reference] [--big-loops]

Every case runs in its own subprocess (so its peak memory is its own) and
prints CPU seconds (median of --repeat) and peak RSS. Measured in the same
run, as baselines:
  - for each example with its horizon set to 100 years: `simulate`,
    `levers` and `attribution` (target: each under 2 s), and their ratio to
    `simulate` of the same journey without a horizon (the closed-form
    engine, the cheapest way to get the same metrics);
  - the issue's cases: delays `1d` and `1.00001d` under `horizon 30d` (the
    old grid engine: 2-4 s, 600 MB), a loop of `after 0.001h` under
    `horizon 1y` (old: 7 s, 1.3 GB) and `5y` (old: out of memory), hourly
    delays with 4 personas under `horizon 100y` (old: simulate 18.5 s,
    --compare 45 s), each beside the old grid engine (tests/
    reference_horizon.py, kept as the tests' oracle) run in the same way
    when it fits in memory (`--skip-reference` leaves it out);
  - a loop through 300 to 10,000 steps (each can go back to the start)
    under `horizon 1y` (target: 10,000 steps in 5 s), beside the old way
    of finding each step's reach (a taboo pass per step) at 300 and 1,000
    steps (at 10,000 it takes hours).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

EXAMPLES = ["domain_registrar", "lifecycle_activities", "lifecycle_five_stage", "saas_trial",
            "value_ladder", "vn_label_printer"]


def with_horizon(text: str, horizon: str | None) -> str:
    """The journey with its horizon replaced (or removed with None)."""
    text = re.sub(r"^  horizon .*\n", "", text, flags=re.M)
    if horizon is None:
        return text
    return re.sub(r'^(journey "[^"]*" \{\n)', rf"\1  horizon {horizon}\n", text, count=1,
                  flags=re.M)


LOOP = """journey "Fast loop" {{
  horizon {horizon}
  stage s {{
    touchpoint a {{ channel web; cost 1 }}
    touchpoint b {{ channel web }}
    touchpoint c {{ channel web; value 10 }}
  }}
  entry a
  goal c
  a -> b 60% after {d1}, c 5% after 1d
  b -> a 70% after {d2}
  c -> c 80% after 1mo
}}
"""

CENTURY = """journey "Hourly, four personas" {
  horizon 100y
  discount 8% per year
  persona p1 { share 25% }
  persona p2 { share 25% }
  persona p3 { share 25% }
  persona p4 { share 25% }
  stage visit "Visit" {
    touchpoint ad "Ad" { channel paid; cost 2 }
    touchpoint site "Site" { channel web }
  }
  stage buy "Buy" { touchpoint order "Order" { channel web; value 30 } }
  entry ad
  goal order
  ad -> site 40% [p2: 50%, p3: 30%] after 1h
  site -> ad 30% after 2h, order 10% [p4: 20%] after 1h
  order -> order 60% [p1: 70%] after 720h, site 10% after 5h
  scenario better "Better site" { site -> order 15% after 1h }
}
"""


def cases() -> dict[str, tuple[str, str]]:
    """name -> (journey text, what to run)."""
    out: dict[str, tuple[str, str]] = {}
    for name in EXAMPLES:
        text = (ROOT / "examples" / f"{name}.journey").read_text()
        for what in ("simulate", "levers", "attribution"):
            out[f"{name} 100y {what}"] = (with_horizon(text, "100y"), what)
        out[f"{name} no horizon simulate"] = (with_horizon(text, None), "simulate")
    out["1d vs 1.00001d, 30d"] = (LOOP.format(horizon="30d", d1="1d", d2="1.00001d"), "simulate")
    out["0.001h loop, 1y"] = (LOOP.format(horizon="1y", d1="0.001h", d2="0.002h"), "simulate")
    out["0.001h loop, 5y"] = (LOOP.format(horizon="5y", d1="0.001h", d2="0.002h"), "simulate")
    out["hourly, 4 personas, 100y"] = (CENTURY, "simulate")
    out["hourly, 4 personas, 100y --compare"] = (CENTURY, "compare")
    for steps in BIG_LOOPS:
        out[f"back to the start, {steps:,} steps, 1y"] = (big_loop(steps), "simulate")
    return out


#: Steps of the big loops (every step can go back to the start).
BIG_LOOPS = (300, 1_000, 2_000, 10_000)
#: Those the old way (a taboo pass per step) is run on as the baseline:
#: the passes grow as the steps squared (1,000 steps: 12 s; 10,000: about 20 min).
BIG_LOOPS_OLD = (300, 1_000)


def big_loop(steps: int, horizon: str = "1y") -> str:
    """A chain of `steps` steps, each able to go back to the start, under a
    horizon: every step is on the loop, and its reach needs first visits
    (one taboo pass per step before first_visits.through_hub).
    tests/test_first_visits.py checks its engines on it too."""
    lines = [f'journey "Back to the start, {steps} steps" {{', f"  horizon {horizon}",
             "  stage s {"]
    lines += [f"    touchpoint s{i} {{ cost 0.01 }}" for i in range(steps - 1)]
    lines += [f"    touchpoint s{steps - 1} {{ value 10 }}", "  }", "  entry s0",
              f"  goal s{steps - 1}"]
    lines += [f"  s{i} -> s{i + 1} 90% after 1d, s0 5% after 1d" for i in range(steps - 1)]
    lines += [f"  s{steps - 1} -> s0 50% after 1d", "}"]
    return "\n".join(lines) + "\n"


def run_case(name: str, repeat: int, reference: bool) -> None:
    """In the child: time one case and print {seconds, rss_mb} as JSON."""
    import journeydsl
    from journeydsl.simulate import simulate
    from journeydsl.simulate.attribution import attribution
    from journeydsl.simulate.levers import levers

    text, what = cases()[name]
    result = journeydsl.loads(text, "bench.journey")
    assert result.ok, [d.message for d in result.diagnostics]
    journey = result.journey
    assert journey is not None
    if reference and name.startswith("back to the start"):
        # the old way: a taboo pass per step (the hub method never tried)
        from journeydsl.simulate import first_visits

        first_visits.HUB_MIN_STATES = 10**9
        engine = lambda: simulate(journey)
    elif reference:
        from reference_horizon import solve_with_horizon

        from journeydsl.simulate.chain import build_chain

        def engine() -> object:
            return [solve_with_horizon(build_chain(journey, p)) for p in journey.persona_ids]
    elif what == "compare":
        def engine() -> object:
            return [simulate(result.variant(s)) for s in (None, *result.scenarios)]
    else:
        engine = {"simulate": lambda: simulate(journey), "levers": lambda: levers(journey),
                  "attribution": lambda: attribution(journey)}[what]
    times = []
    for _ in range(repeat):
        start = time.process_time()
        engine()
        times.append(time.process_time() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": statistics.median(times), "rss_mb": rss}))


def measure(name: str, repeat: int, reference: bool = False) -> dict | None:
    args = [sys.executable, __file__, "--case", name, "--repeat", str(repeat)]
    if reference:
        args.append("--reference")
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case")
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--big-loops", action="store_true",
                        help="only the loops through thousands of steps")
    options = parser.parse_args()
    if options.case:
        run_case(options.case, options.repeat, options.reference)
        return
    if not options.big_loops:
        examples_and_grids(options)
    big_loops(options)


def examples_and_grids(options: argparse.Namespace) -> None:

    print("Examples with horizon 100y (CPU seconds, median; target < 2 s each)")
    print(f"{'example':24} {'no horizon':>10} {'simulate':>9} {'levers':>9} {'attrib.':>9}"
          f" {'ratio':>7} {'peak MB':>8}")
    worst = 0.0
    for name in EXAMPLES:
        base = measure(f"{name} no horizon simulate", options.repeat)
        runs = {w: measure(f"{name} 100y {w}", options.repeat)
                for w in ("simulate", "levers", "attribution")}
        assert base is not None and all(runs.values()), name
        seconds = {w: r["seconds"] for w, r in runs.items() if r}
        worst = max(worst, *seconds.values())
        print(f"{name:24} {base['seconds']:10.3f} {seconds['simulate']:9.3f} "
              f"{seconds['levers']:9.3f} {seconds['attribution']:9.3f} "
              f"{seconds['simulate'] / max(base['seconds'], 1e-6):6.1f}x "
              f"{max(r['rss_mb'] for r in runs.values() if r):8.0f}")
    print(f"slowest: {worst:.2f} s ({'meets' if worst < 2 else 'MISSES'} the 2 s target)\n")

    print("The issue's cases (CPU seconds and peak memory; old = the grid engine it replaced)")
    print(f"{'case':36} {'now s':>8} {'now MB':>8} {'old s':>8} {'old MB':>8} {'ratio':>7}")
    for name in ("1d vs 1.00001d, 30d", "0.001h loop, 1y", "0.001h loop, 5y",
                 "hourly, 4 personas, 100y", "hourly, 4 personas, 100y --compare"):
        now = measure(name, options.repeat)
        old = None
        feasible = name in ("1d vs 1.00001d, 30d", "0.001h loop, 1y")
        if feasible and not options.skip_reference and "--compare" not in name:
            old = measure(name, 1, reference=True)
        assert now is not None, name
        old_text = (f"{old['seconds']:8.2f} {old['rss_mb']:8.0f} "
                    f"{old['seconds'] / max(now['seconds'], 1e-6):6.0f}x"
                    if old else f"{'(not run: hours or out of memory)':>26}")
        print(f"{name:36} {now['seconds']:8.3f} {now['rss_mb']:8.0f} {old_text}")


def big_loops(options: argparse.Namespace) -> None:
    print("\nA loop through thousands of steps (issue 11): every step's reach; old = a taboo"
          " pass per step\n(target: 10,000 steps in 5 s)")
    print(f"{'case':36} {'now s':>8} {'now MB':>8} {'old s':>8} {'old MB':>8} {'ratio':>7}")
    for steps in BIG_LOOPS:
        name = f"back to the start, {steps:,} steps, 1y"
        now = measure(name, options.repeat)
        assert now is not None, name
        old = None
        if steps in BIG_LOOPS_OLD and not options.skip_reference:
            old = measure(name, 1, reference=True)
        old_text = (f"{old['seconds']:8.2f} {old['rss_mb']:8.0f} "
                    f"{old['seconds'] / max(now['seconds'], 1e-6):6.0f}x"
                    if old else f"{'(not run: grows as steps squared)':>26}")
        print(f"{name:36} {now['seconds']:8.3f} {now['rss_mb']:8.0f} {old_text}")


if __name__ == "__main__":
    main()

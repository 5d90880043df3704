"""Benchmark for the exact engine, levers and attribution.

Run:  python benchmarks/bench_simulate_exact.py [--repeat N] [--steps N]

Prints, measured in the same run (medians of --repeat runs, the journey
compiled beforehand and not timed):
  (a) `simulate` (every metric, the exact engine, no horizon, discounted) of
      a generated one-persona journey of 5,000 steps (target <= 1 s), and
      its ratio to a bare `scipy.sparse.linalg.spsolve` of the same system
      (I - Q)^T x = alpha, the matrix built beforehand (target <= 3x);
  (b) `attribution` (exact: every step and every channel) of a generated
      1,000-step one-persona journey with 30 channels (target < 50 ms).
Also shown, not targeted: `levers` on the 5,000-step journey.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def generate(steps: int = 5_000, per_stage: int = 20, channels: int = 6, seed: int = 11,
             personas: int = 1) -> str:
    """A valid journey of about `steps` steps, no horizon, discounted.

    Stages of `per_stage` touchpoints; from each step 2-4 transitions
    forward (to the next step, which keeps every step reachable, and to
    steps up to 30 ahead), rates summing to at most 90%, half of them with
    delays; about 5% of steps loop on themselves and 5% go back one to
    three steps (short loops); costs on most touchpoints. The last stage is
    the goal region: a purchase, a monthly renewal loop with an upsell and
    a win-back loop, with values; a few referrals go from it back to the
    first stage."""
    rng = random.Random(seed)
    names = [f"c{k}" for k in range(channels)]
    region = ["purchase", "renewal", "upsell", "winback"]
    n = steps - len(region)
    stages = (n + per_stage - 1) // per_stage
    lines = ['journey "Generated exact-engine benchmark" {', "  currency USD",
             "  discount 10% per year", ""]
    if personas > 1:
        share = 100 // personas
        for p in range(personas):
            rest = 100 - share * (personas - 1)
            lines.append(f'  persona p{p} {{ share {share if p else rest}% }}')
    for s in range(stages):
        lines.append(f'  stage s{s} "Stage {s}" {{')
        for i in range(s * per_stage, min(n, (s + 1) * per_stage)):
            cost = f"; cost {rng.randint(0, 20)}.5" if rng.random() < 0.8 else ""
            lines.append(f"    touchpoint t{i} {{ channel {names[i % channels]}{cost} }}")
        lines.append("  }")
    lines += ['  stage customer "Customer" {',
              f"    touchpoint purchase {{ channel {names[0]}; value 120; cost 30 }}",
              f"    touchpoint renewal {{ channel {names[1 % channels]}; value 49; cost 6 }}",
              f"    touchpoint upsell {{ channel {names[2 % channels]}; value 200; cost 20 }}",
              f"    touchpoint winback {{ channel {names[3 % channels]}; cost 0.5 }}",
              "  }", ""]
    lines.append("  entry " + ", ".join(f"t{i} {p}%" for i, p in
                                        zip(range(0, 4 * per_stage, per_stage), (40, 30, 20, 10))))
    lines.append("")
    for i in range(n):
        targets: dict[str, int] = {}
        nxt = f"t{i + 1}" if i + 1 < n else "purchase"
        targets[nxt] = rng.randint(10, 30)
        for _ in range(rng.randint(1, 3)):
            j = i + rng.randint(2, 30)
            targets[f"t{j}" if j < n else "purchase"] = rng.randint(3, 20)
        if rng.random() < 0.05:
            targets[f"t{i}"] = rng.randint(5, 25)
        if rng.random() < 0.05 and i % per_stage >= 1:
            targets[f"t{i - rng.randint(1, min(3, i % per_stage))}"] = rng.randint(5, 25)
        total = sum(targets.values())
        scale = min(1.0, 90 / total)
        for target, rate in targets.items():
            delay = f" after {rng.randint(1, 30)}d" if rng.random() < 0.5 else ""
            lines.append(f"  t{i} -> {target} {max(1, int(rate * scale))}%{delay}")
    lines += ["  purchase -> renewal 90% after 1mo",
              "  renewal -> renewal 85% after 1mo, upsell 5% after 1mo, winback 6%",
              "  upsell -> renewal 80% after 1mo",
              "  winback -> renewal 30% after 1mo",
              "  renewal => t0 0.01 after 1mo",
              "  upsell => t20 0.02",
              "", "  goal customer", "}", ""]
    return "\n".join(lines)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5_000)
    args = parser.parse_args()

    import numpy as np
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    import journeydsl
    from journeydsl.simulate import simulate
    from journeydsl.simulate.attribution import attribution
    from journeydsl.simulate.chain import build_chain
    from journeydsl.simulate.levers import levers

    big = journeydsl.loads(generate(args.steps))
    if not big.ok:
        print("\n".join(str(d.message) for d in big.errors))
        return 2
    graph = big.graph()
    chain = build_chain(graph, graph.graph["personas"][0])
    print(f"(a) generated journey: {chain.n} steps, {chain.rates.nnz} transitions, "
          f"{chain.referrals.nnz} referrals, {int(chain.goal.sum())} goal steps, "
          f"{len(big.warnings)} warnings")
    report = simulate(big)  # warm-up (imports)
    system = (sparse.identity(chain.n, format="csc") - chain.rates.tocsc()).T.tocsc()
    alpha = chain.entry.copy()
    x = spsolve(system, alpha)
    assert np.allclose(x, [report.blended.steps[s]["visits"] for s in chain.steps])

    solve_time = median_time(lambda: simulate(big), args.repeat)
    bare = median_time(lambda: spsolve(system, alpha), args.repeat * 3)
    ratio = solve_time / bare
    print(f"    simulate (exact, all metrics)   {solve_time * 1000:8.1f} ms   "
          f"(target <= 1000 ms) {verdict(solve_time <= 1.0)}")
    print(f"    bare spsolve (I - Q)^T x = alpha {bare * 1000:7.1f} ms   ratio {ratio:5.1f}x  "
          f"(target <= 3x) {verdict(ratio <= 3.0)}")
    lever_time = median_time(lambda: levers(big), max(1, args.repeat // 2))
    print(f"    levers (every edge, exact derivatives) {lever_time * 1000:7.1f} ms   "
          f"({chain.rates.nnz} edges; no target)")

    wide = journeydsl.loads(generate(1_000, channels=30, seed=5))
    if not wide.ok:
        print("\n".join(str(d.message) for d in wide.errors))
        return 2
    wgraph = wide.graph()
    wchain = build_chain(wgraph, wgraph.graph["personas"][0])
    found = {wgraph.nodes[s]["channel"] for s in wgraph.nodes}
    print(f"\n(b) generated journey: {wchain.n} steps, {wchain.rates.nnz} transitions, "
          f"{len(found)} channels")
    attribution(wide)  # warm-up
    attr_time = median_time(lambda: attribution(wide), args.repeat)
    print(f"    attribution (exact, every step and channel) {attr_time * 1000:7.1f} ms   "
          f"(target < 50 ms) {verdict(attr_time < 0.05)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark for the exact engine, levers and attribution.

Run:  python benchmarks/bench_simulate_exact.py [--repeat N] [--steps N]

Prints, measured in the same run (medians of --repeat runs, the journey
compiled beforehand and not timed; the timed calls take turns, so a busy
machine slows them alike):
  (a) `simulate` (every metric, the exact engine, no horizon, discounted) of
      a generated one-persona journey of 5,000 steps (target <= 1 s), and
      its ratio to a bare `scipy.sparse.linalg.spsolve` of the same system
      (I - Q)^T x = alpha, the matrix built beforehand (target <= 3x).
      Also shown: where `simulate`'s time goes (building the chain, the
      engine's `solve`, the rest: the graph lookup and `blend`), the
      engine's own ratio to spsolve, and the stricter ratio that also
      counts the work compiling does ahead for the engines (`build_graph`
      fills the graph's `EngineIndex` as it adds the edges: the same calls,
      replayed here);
  (a2) the same with one big loop (`winback -> t0 5%`: almost every step in
      one strongly connected component; target <= 1 s);
  (b) `attribution` (exact: every step and every channel) of a generated
      1,000-step one-persona journey with 30 channels (target < 50 ms).
Also shown, not targeted: `levers` on the 5,000-step journey.
With --profile, where `simulate`'s time goes (cProfile, cumulative).
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
             personas: int = 1, big_loop: bool = False) -> str:
    """A valid journey of about `steps` steps, no horizon, discounted.

    Stages of `per_stage` touchpoints; from each step 2-4 transitions
    forward (to the next step, which keeps every step reachable, and to
    steps up to 30 ahead), rates summing to at most 90%, half of them with
    delays; about 5% of steps loop on themselves and 5% go back one to
    three steps (short loops); costs on most touchpoints. The last stage is
    the goal region: a purchase, a monthly renewal loop with an upsell and
    a win-back loop, with values; a few referrals go from it back to the
    first stage. `big_loop`: win-back also goes back to the first step, which
    puts almost every step in one strongly connected component."""
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
            lines.append(f" touchpoint t{i} {{ channel {names[i % channels]}{cost} }}")
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
        moves = []
        for target, rate in targets.items():
            delay = f" after {rng.randint(1, 30)}d" if rng.random() < 0.5 else ""
            moves.append(f"{target} {max(1, int(rate * scale))}%{delay}")
        lines.append(f" t{i} -> " + ", ".join(moves))  # one line per source: compact
    lines += ["  purchase -> renewal 90% after 1mo",
              "  renewal -> renewal 85% after 1mo, upsell 5% after 1mo, winback 6%",
              "  upsell -> renewal 80% after 1mo",
              "  winback -> renewal 30% after 1mo" + (", t0 5%" if big_loop else ""),
              "  renewal => t0 0.01 after 1mo",
              "  upsell => t20 0.02",
              "", "  goal customer", "}", ""]
    return "\n".join(lines)


def index_filling(graph, engine_index):
    """What filling the EngineIndex adds to `build_graph`: its calls, replayed
    with the arguments build_graph has at hand anyway."""
    where = {step: i for i, step in enumerate(graph.nodes)}
    edges = list(graph.edges(data=True))
    moves = [(u, v, d["delay_days"], d["rate"], d["uncertain"], d)
             for u, v, d in edges if d["rate"] is not None]
    sends = [(u, v, d["referral_delay_days"], d["referral"], d)
             for u, v, d in edges if d["referral"] is not None]
    personas = list(graph.graph["personas"])

    def fill():  # the statements build_graph runs for the index, in its order
        numbers = engine_index.empty(personas, len(where))
        add_from, add_to = numbers.move_from.append, numbers.move_to.append
        add_delay, add_rate = numbers.delays.append, numbers.rate_rows.append
        again = False
        for u, v, delay, rate, uncertain, data in moves:
            again = again or data["rate"] is None  # (never: the test's cost only)
            if uncertain:
                numbers.uncertain.append((len(numbers.rate_rows), uncertain))
            add_from(where[u])
            add_to(where[v])
            add_delay(delay)
            add_rate(rate)
        for u, v, delay, amount, data in sends:
            again = again or data["referral"] is None
            numbers.sent_from.append(where[u])
            numbers.sent_to.append(where[v])
            numbers.sent_delays.append(delay)
            numbers.amount_rows.append(amount)
        return numbers.finish(graph) if not again else None

    assert fill() == graph.graph["engine_index"]
    return fill


def times_of(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def interleaved(fns: dict, repeat: int) -> dict[str, list[float]]:
    """Times of each function, the functions taking turns."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def median_time(fn, repeat: int) -> float:
    return statistics.median(times_of(fn, repeat))


def profile(fn, top: int = 14) -> None:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="profile `simulate`")
    args = parser.parse_args()

    import numpy as np
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import spsolve

    import journeydsl
    from journeydsl.language.graph import EngineIndex
    from journeydsl.simulate import simulate
    from journeydsl.simulate.attribution import attribution
    from journeydsl.simulate.chain import build_chain
    from journeydsl.simulate.exact import solve
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

    persona = graph.graph["personas"][0]
    times = interleaved({"simulate": lambda: simulate(big),
                         "spsolve": lambda: spsolve(system, alpha),
                         "build_chain": lambda: build_chain(graph, persona),
                         "solve": lambda: solve(chain),
                         "index": index_filling(graph, EngineIndex)},
                        args.repeat)
    med = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    ratio = med["simulate"] / med["spsolve"]
    print(f"    simulate (exact, all metrics)    {med['simulate'] * 1000:8.1f} ms (best "
          f"{best['simulate'] * 1000:.1f})  (target <= 1000 ms) "
          f"{verdict(med['simulate'] <= 1.0)}")
    print(f"    bare spsolve (I - Q)^T x = alpha {med['spsolve'] * 1000:8.1f} ms (best "
          f"{best['spsolve'] * 1000:.1f})")
    print(f"    ratio simulate / spsolve         {ratio:8.1f}x    (target <= 3x) "
          f"{verdict(ratio <= 3.0)}")
    rest = med["simulate"] - med["build_chain"] - med["solve"]
    print(f"      of which build_chain {med['build_chain'] * 1000:.1f} ms, solve (the engine) "
          f"{med['solve'] * 1000:.1f} ms, the rest (graph, blend) {rest * 1000:.1f} ms")
    print(f"      ratio solve / spsolve          {med['solve'] / med['spsolve']:8.1f}x    "
          f"(best {best['solve'] / best['spsolve']:.1f}x)")
    strict = (med["index"] + med["simulate"]) / med["spsolve"]
    print(f"    counting also the engine index that compiling fills ({med['index'] * 1000:.1f} ms):"
          f" {strict:.1f}x spsolve   (no target: the work done ahead, shown for honesty)")
    loop = journeydsl.loads(generate(args.steps, big_loop=True))
    if not loop.ok:
        print("\n".join(str(d.message) for d in loop.errors))
        return 2
    lgraph = loop.graph()
    lchain = build_chain(lgraph, lgraph.graph["personas"][0])
    _, labels = connected_components(lchain.rates, directed=True, connection="strong")
    simulate(loop)  # warm-up
    ltimes = interleaved({"simulate": lambda: simulate(loop), "solve": lambda: solve(lchain)},
                         max(1, args.repeat // 2))
    lmed = {name: statistics.median(t) for name, t in ltimes.items()}
    print(f"(a2) with one big loop: largest strongly connected component "
          f"{int(np.bincount(labels).max())} steps")
    print(f"    simulate (exact, all metrics)    {lmed['simulate'] * 1000:8.1f} ms   "
          f"(target <= 1000 ms) {verdict(lmed['simulate'] <= 1.0)}   "
          f"solve {lmed['solve'] * 1000:.1f} ms")
    lever_time = median_time(lambda: levers(big), max(1, args.repeat // 2))
    print(f"    levers (every edge, exact derivatives) {lever_time * 1000:7.1f} ms   "
          f"({chain.rates.nnz} edges; no target)")
    if args.profile:
        print("    where simulate's time goes:")
        profile(lambda: simulate(big))

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
    attr_times = times_of(lambda: attribution(wide), args.repeat)
    attr_time = statistics.median(attr_times)
    print(f"    attribution (exact, every step and channel) {attr_time * 1000:7.1f} ms (best "
          f"{min(attr_times) * 1000:.1f})  (target < 50 ms) {verdict(attr_time < 0.05)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

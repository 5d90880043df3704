"""Benchmark for `journey check` (issue: language v1).

Run:  python benchmarks/bench_check.py [--repeat N]

Prints, measured in the same run:
  1. a generated 10,000-line journey (about 2,000 touchpoints and 8,000
     transitions): the time `journey check` spends compiling it (in process)
     against a bare lark LALR parse of the same text with the same grammar
     (target <= 2.5x), and the wall time of the `journey check` command on
     it (target <= 1.5 s);
  2. the wall time of `journey check` on each example against
     `python -c "import lark, pydantic, networkx"` (target <= 1.3x).
Times are medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(stages: int = 100, per_stage: int = 20, out_degree: int = 4, seed: int = 7) -> str:
    """A valid journey: `stages` x `per_stage` touchpoints, `out_degree`
    transitions out of each (forward mostly, some loops back), referrals."""
    rng = random.Random(seed)
    n = stages * per_stage
    lines = ['journey "Generated benchmark journey" {', "  currency USD",
             "  discount 10% per year", "  horizon 3y", "",
             '  persona smb "Small business" { share 70% }',
             '  persona ent "Enterprise" { share 30% }', ""]
    channels = ["web", "email", "paid_social", "events", "phone", "chat"]
    for s in range(stages):
        lines.append(f'  stage s{s} "Stage {s}" {{')
        for k in range(per_stage):
            i = s * per_stage + k
            lines.append(f'    touchpoint t{i} "Touchpoint {i}" {{ channel {rng.choice(channels)}; '
                         f"emotion {rng.randint(1, 5)}; cost {rng.randint(0, 20)}.5 }}")
        lines.append("  }")
    lines += ["", "  entry t0 60%, t1 40% [ent: 40%]", ""]
    count = 0
    for i in range(n - 1):
        targets = {i + 1}  # a spine through every step keeps all of them reachable
        while len(targets) < out_degree:
            j = min(n - 1, i + rng.randint(1, 30)) if rng.random() < 0.9 else rng.randrange(n)
            if j != i:
                targets.add(j)
        for j in sorted(targets):
            rate = rng.randint(5, 24)
            override = f" [ent: {rate - 3}%]" if rng.random() < 0.2 else ""
            delay = f" after {rng.randint(1, 9)}d" if rng.random() < 0.5 else ""
            lines.append(f"  t{i} -> t{j} {rate}%{override}{delay}")
            count += 1
    for i in range(0, n, 400):
        lines.append(f"  t{n - 1} => t{i} 0.01")
    lines += ["", f"  goal t{n - 1}", "}", ""]
    return "\n".join(lines)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def walls(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median wall time of each command, run interleaved so that machine
    noise hits the baseline and the measured commands alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def journey_command() -> list[str]:
    return [sys.executable, "-m", "journeydsl.cli"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from lark import Lark

    import journeydsl
    from journeydsl.syntax import grammar_text

    text = generate()
    lines = text.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.journey"
        big.write_text(text, encoding="utf-8")
        result = journeydsl.load(big)
        touchpoints = len(result.journey.steps()) if result.journey else 0
        transitions = len(result.journey.transitions) if result.journey else 0
        print(f"generated journey: {lines} lines, {touchpoints} touchpoints, "
              f"{transitions} transitions, {len(result.errors)} errors")

        bare = Lark(grammar_text(), parser="lalr")
        bare_parse = median_time(lambda: bare.parse(text), args.repeat)
        compile_time = median_time(lambda: journeydsl.load(big), args.repeat)
        ratio = compile_time / bare_parse
        print(f"bare lark LALR parse      {bare_parse:7.3f} s")
        print(f"journey check (compile)   {compile_time:7.3f} s   ratio {ratio:4.2f}x  "
              f"(target <= 2.5x) {'ok' if ratio <= 2.5 else 'MISSED'}")
        cli_big = walls({"big": journey_command() + ["check", str(big)]},
                        max(3, args.repeat // 2))["big"]
        print(f"journey check (command)   {cli_big:7.3f} s   "
              f"(target <= 1.5 s) {'ok' if cli_big <= 1.5 else 'MISSED'}")

    # The start-up target is for files without `expect` lines (those evaluate
    # the journey with numpy/scipy): measure each example with its expect
    # lines removed, and as written for information.
    examples = sorted((ROOT / "examples").glob("*.journey"))
    with tempfile.TemporaryDirectory() as tmp:
        commands = {"base": [sys.executable, "-c", "import lark, pydantic, networkx"]}
        for example in examples:
            bare = Path(tmp) / example.name
            bare.write_text("".join(line for line in example.read_text("utf-8")
                                    .splitlines(keepends=True)
                                    if not line.lstrip().startswith("expect ")), "utf-8")
            commands[example.name] = journey_command() + ["check", str(bare)]
            commands[example.name + " (with expect)"] = journey_command() + ["check",
                                                                             str(example)]
        times = walls(commands, args.repeat * 2)
    base = times.pop("base")
    print(f"\npython -c 'import lark, pydantic, networkx'  {base:6.3f} s")
    worst = 0.0
    for name, t in times.items():
        if "(with expect)" in name:
            print(f"  with its expect lines evaluated      {t:6.3f} s   ratio {t / base:4.2f}x")
            continue
        worst = max(worst, t / base)
        print(f"journey check {name:32s} {t:6.3f} s   ratio {t / base:4.2f}x")
    print(f"worst ratio without expect lines {worst:4.2f}x (target <= 1.3x) "
          f"{'ok' if worst <= 1.3 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

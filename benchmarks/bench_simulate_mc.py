"""Benchmark for the Monte Carlo engine (`journeydsl.simulate.montecarlo`).

Run:  python benchmarks/bench_simulate_mc.py [--prospects N] [--python-prospects M] [--repeat R]

Prints, measured in the same run on examples/saas_trial.journey with
1,000,000 prospects (both personas by share, referral cascade included),
each with 1 draw and with the default 20 draws of the uncertain rates:

  1. like-for-like with 139a6b9 (`monte_carlo(..., record=Record.V1)`):
     the walk and the figures 139a6b9's report computed, the headline
     metrics of version 1 (conversion, revenue, cost, time to convert,
     viral coefficient, active at horizon, visits, reach, drop-off,
     churn, the cohort, the converters' value and cost), none of the unit
     economics of version 2 recorded (no margin x value or acquisition
     cost per walk, no money by place, by entry, no profit events; so no
     clv, cac, payback; 139a6b9's clv was E[V | converted], which v2
     replaced). Throughput in transitions per second of CPU time, target
     >= 30M/s with 1 draw;
  2. the full report (`monte_carlo(...)` as every CLI output calls it:
     `Record.ALL`), the unit economics recorded and summed (profit,
     acquisition cost and clv per walk, money by step, stage and channel,
     by entry step, the profit events of the payback curves), and its
     extra CPU time over line 1. As in 139a6b9's benchmark, the report's
     extras computed when first read (uncertainty bands, standard errors
     of money by place, the payback read off the profit curve, the top
     share) are not read, so not counted, in either line;
  3. a plain pure-Python simulation of the same journey (one prospect at a
     time, `random.random()`, the metrics of line 1: visits, reach,
     drop-off, churn, conversion, time to convert, discounted revenue and
     cost, referrals and their cascade, horizon), run on fewer prospects,
     and the ratio of the per-transition rates of line 1 (1 draw) to it
     (target >= 40x), and of line 2 (1 draw) to it.

A transition is one draw of a walker's next move: to another step, or to
the end of its walk. Both engines count them the same way, and lines 1
and 2 walk the same prospects with the same draws (same seed: the same
transitions). Times are CPU times (one core: the engine does not use
threads), medians of --repeat runs, all the runs interleaved so that a
busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import journeydsl  # noqa: E402
from journeydsl.simulate.chain import build_chain  # noqa: E402
from journeydsl.simulate.montecarlo import Record, monte_carlo  # noqa: E402

EXAMPLE = ROOT / "examples" / "saas_trial.journey"


# ------------------------------------------------------------------ the pure-Python reference

def python_walks(chain, prospects: int, seed: int = 1) -> tuple[int, dict]:
    """Walk `prospects` prospects of one persona, one at a time; returns
    (transitions, totals per entering prospect)."""
    rnd = random.Random(seed)
    n = chain.n
    q, d = chain.rates.tocsr(), chain.delays.tocsr()
    rows = []
    for i in range(n):
        lo, hi = q.indptr[i], q.indptr[i + 1]
        rows.append([(int(j), float(x), float(d[i, j]))
                     for j, x in zip(q.indices[lo:hi], q.data[lo:hi])])
    r, rd = chain.referrals.tocsr(), chain.referral_delays.tocsr()
    refs = []
    for i in range(n):
        lo, hi = r.indptr[i], r.indptr[i + 1]
        refs.append([(int(j), float(k), float(rd[i, j]))
                     for j, k in zip(r.indices[lo:hi], r.data[lo:hi])])
    value = [float(v) for v in chain.value]
    cost = [float(c) for c in chain.cost]
    goal = [bool(g) for g in chain.goal]
    entry = [(i, float(p)) for i, p in enumerate(chain.entry) if p > 0]
    log_d = math.log(chain.daily_discount)
    horizon = chain.horizon_days if chain.horizon_days is not None else math.inf

    visits = [0] * n
    reach = [0] * n
    dropoff = [0] * n
    churn = [0] * n
    totals = dict(conversion=0, revenue=0.0, cost=0.0, time=0.0, referred=0, active=0,
                  cohort_prospects=0, cohort_customers=0, cohort_revenue=0.0, cohort_cost=0.0)
    transitions = 0
    queue = []  # (step, time, entering prospect?)
    for _ in range(prospects):
        u = rnd.random()
        step = entry[-1][0]
        for i, p in entry:
            if u < p:
                step = i
                break
            u -= p
        queue.append((step, 0.0, True))
    while queue:
        step, t, first = queue.pop()
        converted = goal[step]
        first_goal = t
        v = c = 0.0
        seen = set()
        while True:  # at a counted visit (t < H)
            if first:
                visits[step] += 1
                if step not in seen:
                    seen.add(step)
                    reach[step] += 1
            disc = math.exp(log_d * t)
            v += value[step] * disc
            c += cost[step] * disc
            for target, k, delay in refs[step]:  # Poisson(k) new prospects (Knuth)
                limit, count, prod = math.exp(-k), 0, rnd.random()
                while prod > limit:
                    count += 1
                    prod *= rnd.random()
                if count and t + delay < horizon:
                    totals["referred"] += count if first else 0
                    totals["cohort_prospects"] += count
                    queue.extend([(target, t + delay, False)] * count)
            transitions += 1
            u = rnd.random()
            nxt = None
            for target, rate, delay in rows[step]:
                if u < rate:
                    nxt = (target, t + delay)
                    break
                u -= rate
            if nxt is None:  # the walk ends here
                if first:
                    (churn if converted else dropoff)[step] += 1
                break
            step, t = nxt
            if t >= horizon:
                if first:
                    totals["active"] += 1
                break
            if goal[step] and not converted:
                converted, first_goal = True, t
        if first:
            totals["conversion"] += converted
            totals["time"] += first_goal if converted else 0.0
            totals["revenue"] += v
            totals["cost"] += c
        totals["cohort_customers"] += converted
        totals["cohort_revenue"] += v
        totals["cohort_cost"] += c
    totals["cohort_prospects"] += prospects
    out = {k: x / prospects for k, x in totals.items()}
    out["visits"], out["reach"] = visits, reach
    out["dropoff"], out["churn"] = dropoff, churn
    return transitions, out


def python_journey(journey, prospects: int, seed: int) -> int:
    """The whole journey in pure Python: every persona by share."""
    shares = dict(journey.shares)
    transitions = 0
    for i, p in enumerate(journey.persona_ids):
        count = round(prospects * shares[p])
        transitions += python_walks(build_chain(journey, p), count, seed + i)[0]
    return transitions


# ------------------------------------------------------------------ measurement

def cpu(fn):
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prospects", type=int, default=1_000_000)
    parser.add_argument("--python-prospects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    loaded = journeydsl.load(EXAMPLE)
    loaded.raise_for_errors()
    compiled = loaded.journey  # the engines take the compiled baseline
    monte_carlo(compiled, prospects=20_000, draws=1, seed=1)  # warm up (imports, caches)
    python_journey(compiled, 2_000, seed=1)

    def run(draws: int, record: Record, seed: int):
        return cpu(lambda: monte_carlo(compiled, prospects=args.prospects, draws=draws,
                                       seed=seed, record=record))

    lines = (("like-for-like (v1)", Record.V1), ("full report (v2)", Record.ALL))
    times: dict[tuple[str, int], list[float]] = {(name, d): [] for name, _ in lines
                                                 for d in (1, 20)}
    rates: dict[tuple[str, int], list[float]] = {key: [] for key in times}
    py_rates = []
    report = None
    for rep in range(args.repeat):
        parts = []
        for draws in (1, 20):
            for name, record in lines:
                dt, out = run(draws, record, 100 + rep)
                times[name, draws].append(dt)
                rates[name, draws].append(out.transitions / dt)
                parts.append(f"{name.split()[0]} {draws}d {dt * 1e3:6.1f} ms")
                if draws == 1 and record is Record.ALL:
                    report = out
        dt_py, py_transitions = cpu(lambda: python_journey(compiled, args.python_prospects,
                                                           seed=100 + rep))
        py_rates.append(py_transitions / dt_py)
        print(f"  run {rep + 1}: " + ", ".join(parts)
              + f"; pure Python {py_rates[-1] / 1e6:5.2f} M/s", flush=True)

    med = statistics.median
    assert report is not None
    b = report.blended
    py = med(py_rates)
    print()
    print(f"{EXAMPLE.name}, {args.prospects:,} prospects "
          f"(conversion {b.conversion:.4%}, clv {b.clv:,.0f}, "
          f"{report.transitions / args.prospects:.2f} transitions per prospect); "
          f"medians of {args.repeat}")
    for draws in (1, 20):
        for name, _ in lines:
            r = rates[name, draws]
            ratio = med(r) / py
            line = (f"{name:19s} {draws:2d} draw{'s' if draws > 1 else ' '}: "
                    f"{med(r) / 1e6:6.1f} M transitions/s (range {min(r) / 1e6:.1f}-"
                    f"{max(r) / 1e6:.1f}), {med(times[name, draws]) * 1e3:6.1f} ms")
            if name.startswith("full"):
                extra = [f - v for f, v in zip(times[name, draws],
                                                times[lines[0][0], draws])]
                line += (f"; +{med(extra) * 1e3:.1f} ms over like-for-like "
                         f"(+{med(extra) / med(times[lines[0][0], draws]):.0%})")
            if draws == 1:
                line += f"; ratio to pure Python {ratio:5.1f}x"
                if name.startswith("like"):
                    line += (f"   targets >= 30 M/s {'OK' if med(r) >= 30e6 else 'BELOW'}, "
                             f">= 40x {'OK' if ratio >= 40 else 'BELOW'}")
            print(line)
    print(f"pure Python reference:   {py / 1e6:6.2f} M transitions/s "
          f"({args.python_prospects:,} prospects; range {min(py_rates) / 1e6:.2f}-"
          f"{max(py_rates) / 1e6:.2f})")


if __name__ == "__main__":
    main()

"""Benchmark for the Monte Carlo engine (`journeydsl.simulate.montecarlo`).

Run:  python benchmarks/bench_simulate_mc.py [--prospects N] [--python-prospects M] [--repeat R]

Prints, measured in the same run on examples/saas_trial.journey:
  1. Monte Carlo throughput in transitions per second of CPU time with
     1,000,000 prospects (`monte_carlo(..., draws=1)`: the whole report,
     both personas by share, referral cascade included; target >= 30M/s),
     and the same with the default 20 draws of the uncertain rates;
  2. a plain pure-Python simulation of the same journey (one prospect at a
     time, `random.random()`, the same metrics: visits, reach, drop-off,
     churn, conversion, time to convert, discounted revenue and cost,
     referrals and their cascade, horizon), run on fewer prospects, and the
     ratio of the two per-transition rates (target >= 40x).

A transition is one draw of a walker's next move: to another step, or to
the end of its walk. Both engines count them the same way. Times are CPU
times (one core: the engine does not use threads), medians of --repeat
runs, Monte Carlo and pure Python interleaved so that a busy machine slows
both alike.
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
from journeydsl.simulate.montecarlo import monte_carlo  # noqa: E402

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

    mc_rates, mc20_rates, py_rates, ratios = [], [], [], []
    report = report20 = None
    for rep in range(args.repeat):
        dt, report = cpu(lambda: monte_carlo(compiled, prospects=args.prospects, draws=1,
                                             seed=100 + rep))
        mc = report.transitions / dt
        dt20, report20 = cpu(lambda: monte_carlo(compiled, prospects=args.prospects, draws=20,
                                                 seed=100 + rep))
        dt_py, py_transitions = cpu(lambda: python_journey(compiled, args.python_prospects,
                                                           seed=100 + rep))
        py = py_transitions / dt_py
        mc_rates.append(mc)
        mc20_rates.append(report20.transitions / dt20)
        py_rates.append(py)
        ratios.append(mc / py)
        print(f"  run {rep + 1}: monte carlo {dt * 1e3:7.1f} ms, {mc / 1e6:6.1f} M transitions/s "
              f"({report.transitions:,} transitions); 20 draws {mc20_rates[-1] / 1e6:6.1f} M/s; "
              f"pure Python {dt_py * 1e3:7.1f} ms, {py / 1e6:5.2f} M/s "
              f"({py_transitions:,} transitions); ratio {mc / py:5.1f}x", flush=True)

    med = statistics.median
    b = report.blended
    print()
    print(f"{EXAMPLE.name}, {args.prospects:,} prospects "
          f"(conversion {b.conversion:.4%}, clv {b.clv:,.0f}, "
          f"{report.transitions / args.prospects:.2f} transitions per prospect)")
    print(f"Monte Carlo, 1 draw:     {med(mc_rates) / 1e6:6.1f} M transitions/s "
          f"(median of {args.repeat}; range {min(mc_rates) / 1e6:.1f}-{max(mc_rates) / 1e6:.1f})"
          f"   target >= 30  {'OK' if med(mc_rates) >= 30e6 else 'BELOW TARGET'}")
    print(f"Monte Carlo, 20 draws:   {med(mc20_rates) / 1e6:6.1f} M transitions/s "
          f"(range {min(mc20_rates) / 1e6:.1f}-{max(mc20_rates) / 1e6:.1f})")
    print(f"pure Python reference:   {med(py_rates) / 1e6:6.2f} M transitions/s "
          f"({args.python_prospects:,} prospects; range {min(py_rates) / 1e6:.2f}-"
          f"{max(py_rates) / 1e6:.2f})")
    print(f"ratio (per transition):  {med(ratios):6.1f}x (median; range {min(ratios):.1f}-"
          f"{max(ratios):.1f}x)   target >= 40  {'OK' if med(ratios) >= 40 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()

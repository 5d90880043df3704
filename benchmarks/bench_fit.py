"""journey fit on big event logs: time, memory, and the time of a bare
DuckDB GROUP BY over the same file in the same run.

    python benchmarks/bench_fit.py            # 1M and 10M events (about 2 minutes)
    python benchmarks/bench_fit.py --quick    # 1M events only

The logs are Parquet files made by DuckDB itself (a recursive query walks
1M customers, or 100k, through a six-step journey with a renewal loop:
about 10 events a customer), so making them needs no Python loop and
writes nothing but the file. Each fit runs in a fresh process, so its
peak memory (ru_maxrss) is its own. The baseline groups the same file by
customer (COUNT, MIN and MAX of the time per user): the scan and one hash
aggregate over every customer, what any per-customer reading must do at
least. Targets (issue 14): 10M events in at most 30 s, at most 3x the
baseline, peak memory at most 2 GB, flat as the log grows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOURNEY = '''journey "Bench" {
  persona smb { share 70% }
  persona ent { share 30% }
  stage s {
    touchpoint ad { event "ad_click" }
    touchpoint pricing { event "pricing_view" }
    touchpoint trial { event "trial_start" }
    touchpoint paying { event "invoice_paid"; value 49 [ent: 490] }
    touchpoint winback
    touchpoint churned
  }
  entry ad
  ad -> pricing 90%
  pricing -> trial 90% [ent: 80%]
  trial -> paying 90% after 14d
  paying -> paying 95% [ent: 97%] after 1mo, winback 3% after 1mo
  winback -> paying 30% after 14d, churned 10%
  goal paying
}
'''

#: The journey's moves as the generator reads them: source, persona, the
#: cumulative probability band, target, delay in days (no row: the walk ends).
_MOVES = [
    ("ad", "*", 0.0, 0.9, "pricing", 0.0),
    ("pricing", "smb", 0.0, 0.9, "trial", 0.0),
    ("pricing", "ent", 0.0, 0.8, "trial", 0.0),
    ("trial", "*", 0.0, 0.9, "paying", 14.0),
    ("paying", "smb", 0.0, 0.95, "paying", 30.0),
    ("paying", "ent", 0.0, 0.97, "paying", 30.0),
    ("paying", "smb", 0.95, 0.98, "winback", 30.0),
    ("paying", "ent", 0.97, 1.0, "winback", 30.0),
    ("winback", "*", 0.0, 0.3, "paying", 14.0),
    ("winback", "*", 0.3, 0.4, "churned", 0.0),
]
_EVENTS = {"ad": "ad_click", "pricing": "pricing_view", "trial": "trial_start",
           "paying": "invoice_paid", "winback": "winback", "churned": "churned"}


def make_log(path: Path, customers: int) -> int:
    """A Parquet log of `customers` walks (arrivals over 240 days, the log
    ends at day 400); returns its rows."""
    import duckdb

    moves = ", ".join(f"('{s}', '{p}', {lo}, {hi}, '{t}', {d})" for s, p, lo, hi, t, d in _MOVES)
    events = ", ".join(f"('{k}', '{v}')" for k, v in _EVENTS.items())
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        COPY (
          WITH RECURSIVE
            moves(source, persona, lo, hi, target, delay) AS (VALUES {moves}),
            walk(u, k, step, t, persona) AS (
              SELECT i, 0, 'ad', i * 240.0 / {customers},
                     CASE WHEN hash(i, 'persona') % 10 < 7 THEN 'smb' ELSE 'ent' END
              FROM range({customers}) r(i)
              UNION ALL
              SELECT w.u, w.k + 1, m.target, w.t + m.delay, w.persona
              FROM walk w JOIN moves m
                ON m.source = w.step AND (m.persona = '*' OR m.persona = w.persona)
               AND (hash(w.u, w.k) % 1000000) / 1e6 >= m.lo
               AND (hash(w.u, w.k) % 1000000) / 1e6 < m.hi
              WHERE w.t + m.delay < 400 AND w.k < 200)
          SELECT 'c' || lpad(CAST(u AS VARCHAR), 8, '0') AS user, e.event,
                 TIMESTAMP '2024-01-01' + to_microseconds(CAST(t * 86400e6 AS BIGINT)) AS time,
                 CASE WHEN step = 'paying' THEN (CASE persona WHEN 'smb' THEN 49 ELSE 490 END)
                 END AS amount,
                 persona
          FROM walk JOIN (VALUES {events}) AS e(step, event) USING (step)
          ORDER BY u, k
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    rows = con.execute(f"SELECT COUNT(*) FROM '{path}'").fetchone()
    return int(rows[0]) if rows else 0


def _child(mode: str, journey: str, log: str) -> None:
    """One measurement in this (fresh) process; prints JSON."""
    import resource

    started = time.perf_counter()
    if mode == "fit":
        import journeydsl
        from journeydsl.calibrate import LogSpec, fit

        fitted = fit(journeydsl.load(journey).journey, LogSpec.of([log]))
        drifts = sum(len(g.drifts) for g in fitted.groups)
        extra = {"customers": fitted.counts.customers(), "drifts": drifts}
    else:
        import duckdb

        con = duckdb.connect()
        con.execute(f"SELECT user, COUNT(*), MIN(time), MAX(time) FROM '{log}' GROUP BY user"
                    ).fetchall()
        extra = {}
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    print(json.dumps({"seconds": seconds, "peak_mib": peak, **extra}))


def measure(mode: str, journey: Path, log: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(journey), str(log)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:5])
        return
    sizes = [100_000] if "--quick" in sys.argv else [100_000, 1_000_000]
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as folder:
        journey = Path(folder) / "bench.journey"
        journey.write_text(JOURNEY, encoding="utf-8")
        print(f"{'events':>12} {'customers':>10} {'fit s':>7} {'GROUP BY s':>11} {'ratio':>6} "
              f"{'fit MiB':>8} {'GROUP BY MiB':>13} {'events/s':>11}")
        for customers in sizes:
            log = Path(folder) / f"log-{customers}.parquet"
            started = time.perf_counter()
            rows = make_log(log, customers)
            made = time.perf_counter() - started
            fitted = measure("fit", journey, log)
            bare = measure("groupby", journey, log)
            assert fitted["customers"] == customers
            print(f"{rows:>12,} {customers:>10,} {fitted['seconds']:>7.2f} "
                  f"{bare['seconds']:>11.2f} {fitted['seconds'] / bare['seconds']:>6.1f} "
                  f"{fitted['peak_mib']:>8.0f} {bare['peak_mib']:>13.0f} "
                  f"{rows / fitted['seconds']:>11,.0f}   (log made in {made:.1f} s, "
                  f"{log.stat().st_size / 2**20:.0f} MiB; drifts: {fitted['drifts']})")


if __name__ == "__main__":
    main()

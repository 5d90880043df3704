"""journey fit on big event logs: time, memory, and the time of a bare
DuckDB GROUP BY over the same file in the same run.

    python benchmarks/bench_fit.py            # 1M and 10M events (about 2 minutes)
    python benchmarks/bench_fit.py --quick    # 1M events only
    python benchmarks/bench_fit.py --customers 2000   # one size
    python benchmarks/bench_fit.py --no-spark # without Spark's time on 1M events

Spark local mode (`--engine spark`, needs the spark extra and Java) is
timed on the 1M-event log (100k customers) beside DuckDB; its driver's
peak memory is printed, not the JVM's.

The logs are Parquet files written by `journey simulate --events-out`
(1M customers, or 100k, walked through a six-step journey with a renewal
loop, arriving over 240 days, the log ended by the journey's 500-day
horizon: about 10 events a customer); the time and peak memory of writing
each are printed too. Each write and each fit runs in a fresh process, so
its peak memory (VmHWM) is its own. The baseline groups the same file by
customer (COUNT, MIN and MAX of the time per user): the scan and one hash
aggregate over every customer, what any per-customer reading must do at
least. Targets (issue 14): 10M events in at most 30 s, at most 3x the
baseline, peak memory at most 2 GB, flat as the log grows. The CPU seconds
of both (every thread, user and system) are printed too: on a machine
shared with other work the wall clock of a two-thread query and of a
mostly one-thread one stretch differently.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOURNEY = '''journey "Bench" {
  horizon 500d
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

def _cpu() -> float:
    """This process's CPU seconds so far, every thread's (user + system)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _child(mode: str, journey: str, log: str, customers: str = "0") -> None:
    """One measurement in this (fresh) process; prints JSON."""
    started, cpu = time.perf_counter(), _cpu()
    extra: dict = {}
    if mode == "write":  # `journey simulate JOURNEY --events-out LOG`, as a user runs it
        from typer.testing import CliRunner

        from journeydsl.cli import app

        done = CliRunner().invoke(app, ["simulate", journey, "--events-out", log, "--prospects",
                                        customers, "--arrivals", "240d"])
        assert done.exit_code == 0, done.output
        extra = {"rows": int(done.stdout.split(": ")[1].split()[0].replace(",", ""))}
    elif mode in ("fit", "spark"):
        import journeydsl
        from journeydsl.calibrate import LogSpec, fit

        # Importing journeydsl (scipy, pydantic, ...) is timed apart: about
        # a second, whatever the log, and not the aggregation's.
        extra["imports"] = time.perf_counter() - started
        started, cpu = time.perf_counter(), _cpu()
        if mode == "spark":  # the JVM's start is timed apart: a cluster has it running
            from journeydsl.calibrate.spark import session

            session()
            extra["jvm_start"] = time.perf_counter() - started
            started, cpu = time.perf_counter(), _cpu()
        fitted = fit(journeydsl.load(journey).journey, LogSpec.of([log]),
                     engine="duckdb" if mode == "fit" else "spark")
        drifts = sum(len(g.drifts) for g in fitted.groups)
        extra.update({"customers": fitted.counts.customers(), "drifts": drifts})
    else:
        import duckdb

        con = duckdb.connect()
        con.execute(f"SELECT user, COUNT(*), MIN(time), MAX(time) FROM '{log}' GROUP BY user"
                    ).fetchall()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "cpu": _cpu() - cpu, "peak_mib": _peak_mib(),
                      **extra}))


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux
    carries that over from the parent across fork and exec, so a child
    would show its parent's peak if that was higher."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # KiB -> MiB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, journey: Path, log: Path, customers: int = 0) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(journey), str(log),
                           str(customers)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:6])
        return
    sizes = [100_000] if "--quick" in sys.argv else [100_000, 1_000_000]
    if "--customers" in sys.argv:  # one size (the tests run a small one)
        sizes = [int(sys.argv[sys.argv.index("--customers") + 1])]
    spark = "--no-spark" not in sys.argv and 100_000 in sizes
    print(f"load before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as folder:
        journey = Path(folder) / "bench.journey"
        journey.write_text(JOURNEY, encoding="utf-8")
        print(f"{'events':>12} {'customers':>10} {'fit s':>7} {'GROUP BY s':>11} {'ratio':>6} "
              f"{'fit MiB':>8} {'GROUP BY MiB':>13} {'events/s':>11} "
              f"{'write s':>8} {'write MiB':>10} {'written/s':>10}")
        for customers in sizes:
            log = Path(folder) / f"log-{customers}.parquet"
            written = measure("write", journey, log, customers)
            rows = written["rows"]
            fitted = measure("fit", journey, log)
            bare = measure("groupby", journey, log)
            assert fitted["customers"] == customers
            print(f"{rows:>12,} {customers:>10,} {fitted['seconds']:>7.2f} "
                  f"{bare['seconds']:>11.2f} {fitted['seconds'] / bare['seconds']:>6.1f} "
                  f"{fitted['peak_mib']:>8.0f} {bare['peak_mib']:>13.0f} "
                  f"{rows / fitted['seconds']:>11,.0f} {written['seconds']:>8.2f} "
                  f"{written['peak_mib']:>10.0f} {rows / written['seconds']:>10,.0f}   "
                  f"({log.stat().st_size / 2**20:.0f} MiB; drifts: {fitted['drifts']}; "
                  f"imports {fitted['imports']:.1f} s more)")
            print(f"{'':>12} {'':>10} CPU seconds (every thread; steadier than the wall "
                  f"clock on a shared machine): fit {fitted['cpu']:.2f}, GROUP BY "
                  f"{bare['cpu']:.2f}, ratio {fitted['cpu'] / bare['cpu']:.1f}")
            if spark and customers == 100_000:
                on_spark = measure("spark", journey, log)
                assert on_spark["customers"] == customers
                print(f"{'':>12} {'':>10} Spark local[*] on the same log: "
                      f"{on_spark['seconds']:.2f} s ({on_spark['seconds'] / fitted['seconds']:.1f}x "
                      f"DuckDB; the JVM's start {on_spark['jvm_start']:.1f} s more; "
                      f"driver {on_spark['peak_mib']:.0f} MiB)")
    print(f"load after: {_load()}   (2 cores; other processes share them: compare "
          "the ratios, measured in the same run)")


def _load() -> str:
    """The machine's load averages (1, 5, 15 minutes), as uptime shows them."""
    import os

    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

"""Calibration: a journey's rates, delays, entry split, values and renewals
estimated from an event log, and the declared rates checked against them
(docs/calibration.md).

`fit(journey, spec)` runs the aggregation (`sql.py`, written once) on an
engine (DuckDB embedded by default, `duck.py`; Apache Spark with
`engine="spark"`, `spark.py`), brings back only the counts
(`counts.py`) and estimates from them (`estimate.py`, `sbg.py`); `rewrite.py`
writes the estimates into the file, `report.py` prints them, `drift.py`
makes the drift warnings of `journey check --events`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..diagnostics import Diagnostic
from ..language.compiled import CompiledJourney
from ..language.source import SourceFile
from .counts import Engine, aggregate
from .estimate import Fit, estimate, load_modules
from .logs import LogProblem, LogSpec
from .plan import make_plan

#: The engines `fit` can run on.
ENGINES = ("duckdb", "spark")


def fit(journey: CompiledJourney, spec: LogSpec, window_days: float | None = None,
        engine: str = "duckdb", stage: Callable[[str], None] | None = None,
        watch: Callable[[object], None] | None = None, spark_master: str | None = None) -> Fit:
    """The journey fitted to the log `spec` names. LogProblem (with its
    diagnostics) when the log cannot be used; SparkUnavailable when
    `engine="spark"` cannot start. `stage` is told each step of the work;
    `watch` gets the engine while it runs (for a progress bar)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    plan = make_plan(journey, window_days)
    runner = _engine(engine, spark_master)
    try:
        if watch is not None:
            watch(runner)
        counts = aggregate(journey, plan, spec, runner, stage, meanwhile=load_modules)
    finally:
        runner.close()
    return estimate(journey, plan, counts)


def _engine(name: str, spark_master: str | None) -> Engine:
    if name == "spark":
        from .spark import SparkEngine

        return SparkEngine(spark_master)
    from .duck import DuckEngine

    return DuckEngine()


def check_against_log(journey: CompiledJourney, source: SourceFile | None, spec: LogSpec,
                      window_days: float | None = None,
                      stage: Callable[[str], None] | None = None,
                      watch: Callable[[object], None] | None = None,
                      engine: str = "duckdb",
                      spark_master: str | None = None) -> list[Diagnostic]:
    """`journey check --events`: a drift warning (JD601) per declared rate
    outside its observed interval, and the log's warnings; or the log's
    errors (JD602-JD604) when it cannot be used."""
    from .drift import drift_warnings

    try:
        fitted = fit(journey, spec, window_days, engine, stage=stage, watch=watch,
                     spark_master=spark_master)
    except LogProblem as problem:
        return problem.diagnostics
    return drift_warnings(journey, fitted, source, spec.label) + fitted.counts.warnings


__all__ = ["ENGINES", "Fit", "LogProblem", "LogSpec", "check_against_log", "fit"]

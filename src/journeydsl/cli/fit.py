"""`journey fit`: a journey's rates, delays, entry split and values from an
event log (docs/calibration.md); `--write` puts them in the file."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from .common import UsageError, command, compile_or_exit, report
from .root import app

if TYPE_CHECKING:
    from ..api import Compiled
    from ..atomic import Snapshot
    from ..calibrate import Fit
    from ..calibrate.logs import LogSpec
    from ..diagnostics import Diagnostic


class FitFormat(str, Enum):
    text = "text"
    json = "json"


def log_spec(events: list[str], user: str | None, event: str | None, time: str | None,
             amount: str | None, persona: str | None) -> LogSpec:
    from ..calibrate.logs import LogSpec

    named = {k: v for k, v in (("user", user), ("event", event), ("time", time),
                               ("amount", amount), ("persona", persona)) if v is not None}
    for role, value in named.items():
        if not value.strip():
            raise UsageError(f"--{role} takes a column name")
    return LogSpec.of(events, **named)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(mo|h|d|w|y)")


def window_days(text: str | None) -> float | None:
    """`--window 45d` in days (the language's units)."""
    from ..language.model import DAYS

    if text is None:
        return None
    found = _DURATION.fullmatch(text.strip())
    if not found or float(found[1]) <= 0:
        raise UsageError(f"--window takes a duration such as 45d, 8w or 3mo, not `{text}`")
    return float(found[1]) * DAYS[found[2]]


class EngineName(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


ENGINE_HELP = ("Where the log is aggregated: duckdb (embedded) or spark (Apache Spark; "
               "pip install 'journeydsl[spark]', needs Java).")
MASTER_HELP = ("With --engine spark: the cluster, such as spark://host:7077 or Spark Connect's "
               "sc://host:15002 (default: local[*], every core of this machine).")


@dataclass(frozen=True)
class EngineChoice:
    name: str = "duckdb"
    spark_master: str | None = None


def engine_choice(engine: EngineName, spark_master: str | None) -> EngineChoice:
    if spark_master is not None:
        if engine is not EngineName.spark:
            raise UsageError("--spark-master goes with --engine spark")
        if not spark_master.strip():
            raise UsageError("--spark-master takes a URL such as spark://host:7077 or local[4]")
    return EngineChoice(engine.value, spark_master)


def run_fit(result: Compiled, spec: LogSpec, window: float | None,
            engine: EngineChoice = EngineChoice()) -> Fit:
    """The fit, with a progress bar on stderr when it is a terminal and the
    scan is long; a log problem printed (exit 1); Spark missing (exit 2)."""
    from ..calibrate import LogProblem, fit

    journey = result.simulable()
    bar = _Bar() if sys.stderr.isatty() else None
    try:
        with _spark_errors():
            return fit(journey, spec, window, engine.name, stage=bar.stage if bar else None,
                       watch=bar.watch if bar else None, spark_master=engine.spark_master)
    except LogProblem as problem:
        report(problem.diagnostics)
        raise typer.Exit(1) from None
    finally:
        if bar is not None:
            bar.stop()


def drift_diagnostics(result: Compiled, spec: LogSpec, window: float | None,
                      engine: EngineChoice = EngineChoice()) -> list[Diagnostic]:
    """`journey check --events` on one compiled file, with a progress bar."""
    from ..calibrate import check_against_log

    bar = _Bar() if sys.stderr.isatty() else None
    try:
        with _spark_errors():
            return check_against_log(result.simulable(), result.source, spec, window,
                                     stage=bar.stage if bar else None,
                                     watch=bar.watch if bar else None, engine=engine.name,
                                     spark_master=engine.spark_master)
    finally:
        if bar is not None:
            bar.stop()


@contextmanager
def _spark_errors() -> Iterator[None]:
    """PySpark or Java missing, or Spark not starting: a usage error (exit 2)
    that says what to install, never a traceback."""
    from ..calibrate.spark import SparkUnavailable

    try:
        yield
    except SparkUnavailable as err:
        raise UsageError(str(err)) from None


@app.command()
@command
def fit(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    events: Annotated[list[str], typer.Option(
        "--events", "-e", help="The event log: CSV, Parquet or JSON-lines files, globs "
        "(quoted) or folders; repeat for more.", show_default=False, metavar="LOG")],
    user: Annotated[Optional[str], typer.Option(help="Column of the customer id (default: user).",
                                                show_default=False, metavar="COL")] = None,
    event: Annotated[Optional[str], typer.Option(help="Column of the event name (default: event).",
                                                 show_default=False, metavar="COL")] = None,
    time: Annotated[Optional[str], typer.Option(help="Column of the time (default: time).",
                                                show_default=False, metavar="COL")] = None,
    amount: Annotated[Optional[str], typer.Option(
        help="Column of the amount (revenue) of the event (default: amount, if the log has it).",
        show_default=False, metavar="COL")] = None,
    persona: Annotated[Optional[str], typer.Option(
        help="Column of the persona (default: persona, if the log has it).", show_default=False,
        metavar="COL")] = None,
    window: Annotated[Optional[str], typer.Option(
        help="A visit this close to the log's end is censored (default: 3x the longest "
             "delay out of its step, at least 30d).", show_default=False, metavar="DUR")] = None,
    output_format: Annotated[FitFormat, typer.Option(
        "--format", "-f", help="text (tables) or json.")] = FitFormat.text,
    write: Annotated[bool, typer.Option(
        "--write", help="Write the fitted rates, delays, entry split and values into FILE "
        "(comments and layout kept).")] = False,
    scenario: Annotated[Optional[str], typer.Option(
        help="Write them as this scenario instead (created or replaced).", show_default=False,
        metavar="NAME")] = None,
    add_moves: Annotated[bool, typer.Option(
        "--add-moves", help="With --write or --scenario: add the moves and entries the log "
        "shows that the journey does not declare.")] = False,
    engine: Annotated[EngineName, typer.Option(help=ENGINE_HELP)] = EngineName.duckdb,
    spark_master: Annotated[Optional[str], typer.Option(
        help=MASTER_HELP, show_default=False, metavar="URL")] = None,
) -> None:
    """Fit a journey to an event log: observed rates with 95% intervals, drift."""
    import json

    spec = log_spec(events, user, event, time, amount, persona)
    days = window_days(window)
    runner = engine_choice(engine, spark_master)
    if scenario is not None and not re.fullmatch(r"[^\W\d]\w*", scenario):
        raise UsageError(f"--scenario takes an id such as `observed`, not `{scenario}`")
    if add_moves and not (write or scenario):
        raise UsageError("--add-moves goes with --write or --scenario")
    snapshot = _snapshot(path) if write or scenario else None  # the bytes compiled
    result = compile_or_exit(path, simulable=True)
    if snapshot is not None and not snapshot.unchanged():
        raise UsageError(f"{path} changed while it was being read: run fit again")
    fitted = run_fit(result, spec, days, runner)
    journey = result.simulable()
    if fitted.counts.warnings and output_format is FitFormat.text:
        report(fitted.counts.warnings)
    written: dict[str, Any] | None = None
    if write or scenario:
        from ..calibrate.apply import WriteRefused, write_fit

        try:
            assert snapshot is not None
            written = write_fit(snapshot, result, fitted, spec, scenario, add_moves)
        except WriteRefused as refused:
            report(refused.diagnostics)
            typer.echo(f"journey: {refused}", err=True)
            raise typer.Exit(1) from None
    if output_format is FitFormat.json:
        from ..calibrate.report import to_json

        payload = to_json(fitted, str(path))
        if written is not None:
            payload["written"] = written
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))
        return
    from ..calibrate.report import render_text

    typer.echo(render_text(fitted, journey.title), nl=False)
    if written is not None:
        where = f"scenario `{scenario}` of {path}" if scenario else str(path)
        lines = len(written["changed_lines"])
        typer.echo(f"\nWrote the fitted values to {where}: {lines} line"
                   f"{'s' * (lines != 1)} changed")
        for line in written["skipped"]:
            typer.echo(f"  not written: {line}")


def _snapshot(path: Path) -> Snapshot:
    """The file as --write will replace it (atomic.Snapshot: only if it is
    still the same when the new text is ready)."""
    from ..atomic import Snapshot
    from ..language.source import DEFAULT_MAX_BYTES

    try:
        return Snapshot.read(path, DEFAULT_MAX_BYTES)
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None


class _Bar:
    """A progress bar on stderr for scans longer than a second: the stage
    of the work and DuckDB's progress of the running query."""

    def __init__(self) -> None:
        import threading
        import time

        self._time = time
        self._label = "reading the log"
        self._started = time.monotonic()
        self._engine: Any = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def stage(self, label: str) -> None:
        self._label = label

    def watch(self, engine: Any) -> None:
        self._engine = engine

    def _poll(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        if self._done.wait(1.0):
            return
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                      transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task(self._label, total=100.0)
            while not self._done.wait(0.2):
                done = -1.0
                if self._engine is not None:
                    try:
                        done = self._engine.progress()
                    except Exception:  # the connection is closing: nothing to show
                        done = -1.0
                bar.update(task, description=self._label,
                           completed=max(0.0, min(100.0, done)))

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=2.0)

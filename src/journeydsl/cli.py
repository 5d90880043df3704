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

from ._gc import paused_gc

with paused_gc():
    import typer

from . import __version__

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


def find_journey_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files named on the command line, and `*.journey` files under directories."""
    files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.journey") if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            missing.append(str(path))
    return list(dict.fromkeys(files)), missing


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
        "--format", "-f", help="text (with source and carets), concise (one line each) or json.")
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (exit 1) on warnings too.")] = False,
    color: Annotated[Color, typer.Option(help="Color the text output.")] = Color.auto,
) -> None:
    """Compile journey files and report every problem found."""
    with paused_gc():
        from .compiler import compile_path
        from .diagnostics import Severity, render_concise, render_json, render_text

    files, missing = find_journey_files(paths)
    if missing:
        for path in missing:
            typer.echo(f"journey: no such file or directory: {path}", err=True)
        raise typer.Exit(2)
    if not files:
        typer.echo("journey: no .journey files found in " + ", ".join(map(str, paths)), err=True)
        raise typer.Exit(2)
    diagnostics = []
    for path in files:
        diagnostics.extend(compile_path(path).diagnostics)
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if output_format is CheckFormat.json:
        typer.echo(render_json(diagnostics))
    elif output_format is CheckFormat.concise:
        for d in diagnostics:
            typer.echo(render_concise(d), err=True)
    else:
        colored = _use_color(color, sys.stderr)
        for d in diagnostics:
            typer.echo(render_text(d, color=colored) + "\n", err=True)
    if output_format is not CheckFormat.json:
        noun = "file" if len(files) == 1 else "files"
        typer.echo(f"checked {len(files)} {noun}: {errors} error{'s' * (errors != 1)}, "
                   f"{warnings} warning{'s' * (warnings != 1)}", err=True)
    failed = errors > 0 or (strict and warnings > 0)
    raise typer.Exit(1 if failed else 0)


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

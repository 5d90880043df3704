"""The typer app every command registers on, and its `--version`.

Exit codes: 0 clean (or warnings only), 1 errors found, 2 usage error,
3 internal error (a bug: please report it). Diagnostics go to stderr;
machine output (`--format json`) goes to stdout.
"""

from __future__ import annotations

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

"""The `journey` command (typer): thin commands that parse arguments, call
the library and print.

`root.py` holds the typer app; `common.py` what every command shares
(compiling and reporting, usage errors, colour, names); one module per
group of commands: `check`, `simulate` (with `tables.py`, its text
output), `render` (with `watch.py`, `--watch`), `report` (the HTML report),
`fmt` and `tools` (explain, export, schema, new), `diff` (two versions of
a journey compared) and `lsp` (the language server); `streams.py` makes
a failing stdout or stderr end cleanly. `main` is the console entry point.
"""

from __future__ import annotations

import os

from . import check, diff, fit, fmt, lsp, render, report, simulate, tools  # noqa: F401  (each registers its commands)
from .common import UsageError, error
from .root import app


def main() -> None:
    """Console entry point: no Python traceback ever reaches the user, and a
    stdout or stderr that cannot be written (a full disk, a closed pipe)
    ends with one line and exit 1 (see streams.py)."""
    import typer

    from .streams import OutputError, flush_streams, guard_streams, output_failed

    guard_streams()
    try:
        try:
            app()
            code = 0
        except KeyboardInterrupt:
            typer.echo("journey: interrupted", err=True)
            code = 130
        except UsageError as err:  # raised outside a command's own handling
            error(str(err))
            code = 2
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            if not isinstance(done.code, (int, type(None))):
                typer.echo(str(done.code), err=True)
        except OutputError:
            raise
        except Exception as err:  # a bug in journeydsl, not in the user's file
            limit = _engine_limit(err)
            if limit is not None:
                code = limit
            else:
                typer.echo(f"journey: internal error: {type(err).__name__}: {err}\n"
                           "This is a bug in journeydsl; please report it with the input file.",
                           err=True)
                code = 3
        flush_streams()
    except OutputError as err:
        code = output_failed(err)
    # Like mypy: skip the interpreter's teardown, which on a large journey
    # spends a noticeable time freeing objects the OS reclaims anyway.
    os._exit(code)


def _engine_limit(err: Exception) -> int | None:
    """Exit 1 with the located diagnostic when `err` is an engine limit the
    file ran into (a loop beyond the time budget, JD408); None otherwise.
    Every command reaches the engines through here, whatever it is."""
    from ..simulate.limits import TimeBudgetExceeded

    if not isinstance(err, TimeBudgetExceeded):
        return None
    from ..api import load
    from .common import report

    report([err.diagnostic(load(err.journey.path).source)])
    return 1


__all__ = ["app", "main"]

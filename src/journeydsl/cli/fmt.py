"""`journey fmt`: rewrite journey files in the canonical layout (the layout
itself is `journeydsl.fmt`; see docs/fmt.md).

Each file is read once (`atomic.Snapshot`: a regular file only, never
blocking on a FIFO) and replaced by `atomic.rewrite`: atomically, keeping
its mode and owner, and only if it did not change while it was being
formatted; read-only files are left alone unless `--force`. A file that
cannot be formatted or written is named on stderr and makes the exit code 1.

Exit codes: 0 ok, 1 files with errors or not written (or, with --check,
files that would change), 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import error
from .root import app


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
    force: Annotated[bool, typer.Option(
        "--force", help="Also rewrite read-only files (keeping their mode).")] = False,
) -> None:
    """Rewrite journey files in the canonical layout (see docs/fmt.md)."""
    raise typer.Exit(fmt_command(paths, check=check, diff=diff, ignore=not no_ignore,
                                 force=force))


def fmt_command(paths: list[Path], check: bool = False, diff: bool = False,
                ignore: bool = True, force: bool = False) -> int:
    """Format files in place; exit code 0 ok, 1 changes (--check) or bad files, 2 usage.

    Directories are searched for `*.journey` files, skipping hidden folders
    and what git ignores unless `ignore` is false (see files.py). With
    `check` or `diff` nothing is written: `check` lists the files that would
    change (stdout), `diff` prints a unified diff (stdout). Files with syntax
    errors are left untouched and their diagnostics go to stderr; so are
    read-only files (unless `force`), files edited while they were being
    formatted, and files whose folder is not writable.
    """
    from ..atomic import Refused, Snapshot, rewrite
    from ..ci.files import find_journey_files, no_files_message
    from ..display import lines_shown, shown
    from ..fmt import format_source
    from ..language.source import DEFAULT_MAX_BYTES, SourceFile, decode

    files, problems = find_journey_files(paths, ignore, journey_only=True)
    if problems or not files:
        for problem in problems or [no_files_message(paths, ignore)]:
            error(problem)
        return 2
    failed = changed = 0
    for path in files:
        try:
            snapshot = Snapshot.read(path, DEFAULT_MAX_BYTES)
        except OSError:  # the compiler says why (JD001), below
            failed += 1
            _not_formatted(path, None)
            continue
        source = decode(str(path), snapshot.data)
        if not isinstance(source, SourceFile):  # not UTF-8, too large ...
            failed += 1
            _not_formatted(path, None)
            continue
        formatted, diagnostics = format_source(source)
        if formatted is None:  # syntax errors
            failed += 1
            _not_formatted(path, diagnostics)
            continue
        original = snapshot.data.decode("utf-8")
        if formatted == original:
            continue
        changed += 1
        if diff:
            patch = _diff(path, original, formatted)
            # on a terminal, escapes in the file are shown, not run; a pipe
            # (to `patch`, `git apply`) gets the bytes as they are
            sys.stdout.write(lines_shown(patch) if sys.stdout.isatty() else patch)
        if check:
            print(shown(str(path)))
        elif not diff:
            try:
                rewrite(snapshot, formatted.encode("utf-8"), force)
            except Refused as err:
                error(str(err))
                failed += 1
                continue
            except OSError as err:
                error(f"cannot write `{path}`: {(err.strerror or str(err)).lower()}: "
                      "left as it is")
                failed += 1
                continue
            typer.echo(f"formatted {shown(str(path))}", err=True)
    if failed:
        return 1
    return 1 if check and changed else 0


def _not_formatted(path: Path, diagnostics: list | None) -> None:
    """Print why `path` was not formatted: its diagnostics (syntax errors, or
    when it could not be read or decoded, what the compiler says)."""
    from ..diagnostics import render_text
    from ..language.compiler import compile_path

    if diagnostics is None:
        diagnostics = compile_path(path).diagnostics
    for d in diagnostics:
        typer.echo(render_text(d) + "\n", err=True)
    error(f"{path}: not formatted (fix the errors above)")


def _diff(path: Path, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(before.split("\n"), after.split("\n"),
                                 fromfile=f"{path} (original)", tofile=f"{path} (formatted)",
                                 lineterm="")
    return "\n".join(lines) + "\n"

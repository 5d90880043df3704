"""`journey diff OLD NEW` and `journey diff --git REV FILE...`: what a change
to a journey does (see docs/ci.md, "Reviewing pull requests").

Exit codes: 0 the diff was shown, 1 a new side has errors (shown too),
2 usage error (neither file exists, no such revision, not a git work tree); a file
missing on one side is compared with nothing.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._gc import paused_gc
from .common import UsageError, command, size_limit
from .root import app


class DiffFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
@command
def diff(
    paths: Annotated[list[Path], typer.Argument(
        help="OLD NEW (two files), or with --git the FILEs (or folders) to compare with REV.",
        show_default=False, metavar="OLD NEW | FILE...")],
    git: Annotated[Optional[str], typer.Option(
        "--git", help="Compare each FILE with its version at this git revision (the files "
        "it uses as they were there too).", show_default=False, metavar="REV")] = None,
    output_format: Annotated[DiffFormat, typer.Option(
        "--format", "-f", help="text, markdown (a pull-request comment) or json.")
    ] = DiffFormat.text,
    max_size: Annotated[Optional[str], typer.Option(
        "--max-size", help="Largest file to compile (default 2MiB).", show_default=False,
        metavar="SIZE")] = None,
) -> None:
    """Structural changes, KPI deltas per persona and blended, and expect lines
    that flip between two versions of a journey."""
    limit = size_limit(max_size)
    with paused_gc():
        from ..diff import DiffError, compare, load_git_side, load_side
        from ..diff.render import as_json, markdown, text_all

    try:
        if git is None:
            if len(paths) != 2:
                raise UsageError("give two files, OLD NEW (or --git REV FILE...)")
            old, new = paths
            if not old.exists() and not new.exists():
                raise UsageError(f"no such files: {old}, {new}")
            pairs = [(load_side(old, max_bytes=limit), load_side(new, max_bytes=limit))]
        else:
            pairs = [(load_git_side(git, path, limit), load_side(path, max_bytes=limit))
                     for path in _files_at(git, paths)]
    except DiffError as err:
        raise UsageError(str(err)) from None
    for old_side, new_side in pairs:
        if not old_side.exists and not new_side.exists:
            raise UsageError(f"`{new_side.label}` exists on neither side")
    with paused_gc():
        diffs = [compare(old_side, new_side) for old_side, new_side in pairs]
    if output_format is DiffFormat.json:
        typer.echo(as_json(diffs))
    elif output_format is DiffFormat.markdown:
        typer.echo(markdown(diffs))
    else:
        typer.echo(text_all(diffs).rstrip("\n"))
    failed = any(d.new.exists and not d.new.ok for d in diffs)
    raise typer.Exit(1 if failed else 0)


def _files_at(rev: str, paths: list[Path]) -> list[Path]:
    """FILEs as named; a folder: its journey files now (as `journey check`
    finds them), and those it had at REV that are gone (diffed against nothing)."""
    from ..ci.files import find_journey_files
    from ..diff.sides import journey_files_at

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found, _ = find_journey_files([path])
            files += found
            files += [p for p in journey_files_at(rev, path) if not p.exists()]
        else:
            files.append(path)
    if not files:
        raise UsageError("no .journey files to compare in " + ", ".join(map(str, paths)))
    return list(dict.fromkeys(files))

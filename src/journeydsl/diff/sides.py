"""The two sides of a diff: a file on disk, or a file at a git revision.

A side is compiled as `journey check` compiles it (expectations included)
and, when it has no errors, simulated with the exact engine as `journey
simulate` does. A side with errors keeps its diagnostics and whatever of
it parses (for the structural diff); a side that does not exist (a file
added since the revision) is empty.

`--git REV FILE` reads the old side from git: every `.journey` file of the
revision is written to a temporary folder, in its place in the
repository, so `use` lines find the used files as they were; the paths
shown are `REV:path`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..language.compiler import recovered_model

if TYPE_CHECKING:
    from ..api import Compiled
    from ..language.model import Journey
    from ..language.source import SourceFile
    from ..simulate import Report


class DiffError(Exception):
    """A side cannot be read at all (not a git work tree, no such revision);
    the message says why."""


@dataclass
class Side:
    label: str  # as shown: `path` or `REV:path`
    exists: bool = True
    compiled: Compiled | None = None
    model: Journey | None = None  # the parsed journey, or what parses of it
    source: SourceFile | None = None
    report: Report | None = None  # exact metrics of the baseline (a side without errors)
    #: the texts of the file (key "") and of the files it uses (by path from
    #: the file's folder), for the changed lines
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No error at all (failed `expect` lines count, as in `journey check`)."""
        return self.compiled is not None and self.compiled.ok

    @property
    def compiles(self) -> bool:
        """No error but failed `expect` lines: the numbers mean something."""
        return self.compiled is not None and self.compiled.compilation.ok

    @property
    def errors(self) -> list:
        """The errors that stop the numbers (failed `expect` lines are not)."""
        return [d for d in self.diagnostics if d.severity.value == "error" and d.code != "JD501"]

    @property
    def diagnostics(self) -> list:
        return self.compiled.diagnostics if self.compiled is not None else []


def load_side(path: Path, label: str | None = None, max_bytes: int | None = None) -> Side:
    """A file on disk (missing: an empty side)."""
    from ..api import load

    label = label or str(path)
    if not os.path.lexists(path):
        return Side(label, exists=False)
    # anything else is read as `journey check` reads it: a folder or a FIFO
    # is JD001 "not a regular file" on that side, never read as nothing
    compiled = load(path, max_bytes)
    return _finish(Side(label, compiled=compiled), path)


def _finish(side: Side, path: Path) -> Side:
    compiled = side.compiled
    assert compiled is not None  # the callers set it
    side.source = compiled.source
    side.model = compiled.model
    if side.model is None and side.source is not None and side.source.text:
        side.model = recovered_model(side.source)
    journey = compiled.compilation.journey
    if not side.errors and journey is not None and not journey.library:
        # (`errors` holds JD408 when `load` found a loop beyond the engine's
        # time budget: such a side has no numbers, as one with errors)
        from ..simulate import simulate
        from ..simulate.limits import TimeBudgetExceeded

        try:
            side.report = simulate(journey, cohort=False)
        except TimeBudgetExceeded as err:  # (a loop `check`'s screen let through)
            compiled.diagnostics.append(err.diagnostic(compiled.source))
    folder = os.path.dirname(os.path.realpath(path))
    side.files[""] = side.source.text if side.source is not None else ""
    for used in compiled.imports:
        try:
            side.files[os.path.relpath(used, folder)] = Path(used).read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            pass
    return side


# ---------------------------------------------------------------- git

def _git(args: list[str], cwd: str, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True,
                              check=False)
    except OSError as err:
        raise DiffError(f"cannot run git: {err.strerror or err}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def _top(where: str) -> str:
    try:
        return _git(["rev-parse", "--show-toplevel"], where).decode().strip()
    except DiffError as err:
        raise DiffError(f"--git needs a git work tree, and {where} is not in one ({err})") \
            from None


def _revision(rev: str, where: str) -> str:
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                     f"{rev}^{{commit}}"], where).decode().strip()
    except DiffError:
        raise DiffError(f"no revision `{rev}` in the git repository at {where}") from None


def load_git_side(rev: str, path: Path, max_bytes: int | None = None) -> Side:
    """FILE as it was at REV, with the `.journey` files of REV around it."""
    from ..api import load

    where = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(where):
        raise DiffError(f"no such folder: {os.path.dirname(path)}")
    top = _top(where)
    commit = _revision(rev, where)
    relative = Path(os.path.relpath(os.path.realpath(path), os.path.realpath(top))).as_posix()
    label = f"{rev}:{relative}"
    names = [n for n in _git(["ls-tree", "-r", "-z", "--name-only", commit], top)
             .decode("utf-8", "surrogateescape").split("\0") if n.endswith(".journey")]
    if relative not in names:
        return Side(label, exists=False)
    blobs = _cat(commit, names, top)
    with tempfile.TemporaryDirectory(prefix="journey-diff-") as tmp:
        for name, data in blobs.items():
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        copy = Path(tmp, relative)
        compiled = load(copy, max_bytes)
        side = _finish(Side(label, compiled=compiled), copy)
        _relabel(compiled, os.path.realpath(tmp), f"{rev}:")
    return side


def journey_files_at(rev: str, folder: Path) -> list[Path]:
    """The `.journey` files under `folder` at REV (as paths like `folder`'s),
    for the files deleted since: they are diffed against nothing."""
    where = os.path.abspath(folder)
    top = _top(where)
    prefix = Path(os.path.relpath(os.path.realpath(where), os.path.realpath(top))).as_posix()
    commit = _revision(rev, where)
    names = _git(["ls-tree", "-r", "-z", "--name-only", commit, "--", "." if prefix == "." else
                  prefix], top).decode("utf-8", "surrogateescape").split("\0")
    inside = prefix + "/" if prefix != "." else ""
    return [folder / n[len(inside):] for n in names
            if n.endswith(".journey") and n.startswith(inside)]


def _cat(commit: str, names: list[str], top: str) -> dict[str, bytes]:
    """The blobs of `names` at `commit`, in one `git cat-file --batch`."""
    request = "".join(f"{commit}:{n}\n" for n in names).encode("utf-8", "surrogateescape")
    out = _git(["cat-file", "--batch"], top, request)
    found: dict[str, bytes] = {}
    at = 0
    for name in names:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        found[name] = out[at:at + size]
        at += size + 1
    return found


def _relabel(compiled: Compiled, root: str, prefix: str) -> None:
    """Show the temporary copies as `REV:path` (paths from the repository root)."""
    sources: list[SourceFile | None] = []
    if compiled.source is not None:
        sources.append(compiled.source)
        sources += [s for _, s in compiled.source.imported]
    for d in compiled.diagnostics:
        sources.append(d.source)
        sources += [label.source for label in d.labels]
    done: set[int] = set()
    for source in sources:
        if source is None or id(source) in done:
            continue
        done.add(id(source))
        real = os.path.realpath(source.path)
        if real.startswith(root + os.sep):
            source.path = prefix + Path(os.path.relpath(real, root)).as_posix()

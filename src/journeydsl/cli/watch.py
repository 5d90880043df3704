"""`journey render --watch`: render once, then again whenever the journey is saved.

`Watch.run` takes any iterable of change batches shaped like those
`watchfiles.watch` yields (sets of `(Change, path)`), so tests drive it with
a list or a generator. `file_changes` is the real source: it watches the
*folders* of the watched files, not the files (editors save by writing a new
file and renaming it over the old one, which a watch on the old file would
lose), keeps only changes to those files, and lets watchfiles group a burst
of changes into one batch.

What is watched comes from `watched_paths`: the journey file, plus the files
it imports once the compiled result lists them (`Compiled.imports`).

Exit codes: 0 stopped with Ctrl-C, 1 the file cannot be read or the first
render failed, 2 usage error. A journey with errors while watching prints
its diagnostics and keeps the last good picture.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..render import produce
from .common import UsageError, error, pick, report
from .outputs import check_output, refuse_journey, write_output
from .render_options import settle_options

if TYPE_CHECKING:
    from ..api import Compiled

#: watchfiles' debouncing: a batch ends after STEP_MS without a change, or
#: after DEBOUNCE_MS at the latest (an editor's write + rename is one batch).
DEBOUNCE_MS = 1600
STEP_MS = 100

Batch = set  # of (watchfiles.Change, str): what watchfiles.watch yields


def watched_paths(compiled: object, path: Path) -> set[Path]:
    """The files whose change calls for a new render: PATH and the files it
    imports (`Compiled.imports`, when the compiler provides it; relative
    paths are taken from PATH's folder).

    >>> sorted(str(p) for p in watched_paths(object(), Path("a.journey")))
    ['a.journey']
    """
    found = {Path(path)}
    for item in getattr(compiled, "imports", None) or ():
        imported = Path(os.fspath(getattr(item, "path", item)))
        found.add(imported if imported.is_absolute() else Path(path).parent / imported)
    return found


def path_keys(paths: Iterable[Path]) -> set[str]:
    """How watchfiles names each path: its real folder plus its name (and the
    real file too, for a symlink)."""
    keys = set()
    for p in paths:
        keys.add(os.path.join(os.path.realpath(p.parent), p.name))
        keys.add(os.path.realpath(p))
    return keys


def file_changes(keys: Callable[[], set[str]]) -> Iterator[Batch]:
    """Batches of changes to the files named by `keys()` (see path_keys), from
    watchfiles; the watch starts again when those files' folders change."""
    import watchfiles

    while True:
        folders = _folders(keys())
        changes = watchfiles.watch(
            *folders, watch_filter=lambda _change, name: name in keys(), recursive=False,
            debounce=DEBOUNCE_MS, step=STEP_MS, raise_interrupt=True)
        try:
            for batch in changes:
                yield batch
                if _folders(keys()) != folders:
                    break
            else:
                return
        finally:
            changes.close()


def _folders(keys: set[str]) -> list[str]:
    return sorted({os.path.dirname(k) for k in keys if os.path.isdir(os.path.dirname(k))})


class _Stop(Exception):
    """Ends the command with this exit code (its message already printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Watch:
    """One watched render: PATH drawn to OUT with the render options."""

    path: Path
    out: Path
    fmt: str
    persona: str | None = None
    scenario: str | None = None
    flows: bool = False
    view: str = "map"
    renderer: str = "auto"
    color: bool = False
    board: dict | None = None
    watched: set[Path] = field(default_factory=set)

    def keys(self) -> set[str]:
        return path_keys(self.watched or {self.path})

    def render(self, first: bool = False) -> bool:
        """Compile PATH and write OUT atomically; report on stderr. True when
        OUT was written. With `first`, a file that cannot be read, bad names
        and failed renders or writes end the command (raise)."""
        from .._gc import paused_gc
        from ..api import load
        from ..render.backends import RenderFailed

        started = time.perf_counter()
        with paused_gc():
            compiled = load(self.path)
        found = watched_paths(compiled, self.path)
        # a failed `expect` still draws (the board shows the KPIs as they are)
        drawable = compiled.compilation.ok
        self.watched = found if drawable else self.watched | found
        if not drawable:
            self._diagnostics(compiled)
            if first and any(d.code == "JD001" for d in compiled.diagnostics):
                raise _Stop(1)
            errors = len(compiled.errors)
            self._status(f"{self.path.name} has {errors} error{'s' * (errors != 1)}: "
                         f"{self._kept()}", started)
            return False
        try:
            journey = pick(compiled, self.path, self.scenario, self.persona)
            for source in sorted(self.watched):
                check_output(self.out, source)
            data = produce(journey, self.fmt, self.persona, self.flows, self.view, self.renderer,
                           self.board)
            write_output(self.out, data, self.path,
                         self.fmt if self.fmt in ("png", "pdf") else "")
        except (UsageError, RenderFailed, OSError) as err:
            if first:
                raise
            error(_message(err, self.out))
            self._status(f"not rendered: {self._kept()}", started)
            return False
        warnings = len(compiled.warnings)
        extra = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        self._status(f"wrote {self.out}", started, extra)
        return True

    def run(self, changes: Iterable[Batch]) -> int:
        """Render again for every batch that touches a watched file, until
        the changes end or Ctrl-C; exit code 0."""
        try:
            for batch in changes:
                keys = self.keys()
                if any(os.fspath(name) in keys for _change, name in batch):
                    self.render()
        except KeyboardInterrupt:
            pass
        # on a terminal the line after `^C`
        _say(("\n" if sys.stderr.isatty() else "") + "stopped watching")
        return 0

    def _kept(self) -> str:
        return f"kept the last {self.out}" if self.out.exists() else f"{self.out} not written"

    def _diagnostics(self, compiled: Compiled) -> None:
        report(compiled.diagnostics, self.color)
        sys.stderr.flush()

    def _status(self, message: str, started: float, extra: str = "") -> None:
        ms = (time.perf_counter() - started) * 1000
        _say(f"{time.strftime('%H:%M:%S')} {message} ({ms:.0f} ms{extra})")


def watch_command(path: Path, out: Path | None, fmt: str | None, persona: str | None,
                  scenario: str | None, flows: bool, view: str, renderer: str, *,
                  color: bool = False, changes: Iterable[Batch] | None = None,
                  board: dict | None = None) -> int:
    """`journey render FILE -o OUT --watch`: render now, then on every save.
    `changes`: the change batches to follow (default: `file_changes`)."""
    from ..render.backends import RenderFailed

    try:
        if out is None:
            raise UsageError("--watch needs -o/--output: the file to rewrite on every save")
        refuse_journey(out)
        fmt = settle_options(out, fmt, view, renderer, flows, board)
        if path.exists():
            check_output(out, path)
        watch = Watch(path, out, fmt, persona, scenario, flows, view, renderer, color, board)
        watch.render(first=True)
    except KeyboardInterrupt:
        return 0
    except _Stop as stop:
        return stop.code
    except UsageError as err:
        error(str(err))
        return 2
    except (RenderFailed, OSError) as err:
        error(_message(err, out))
        return 1
    others = len(watch.watched) - 1
    also = f" and {others} imported file{'s' * (others != 1)}" if others > 0 else ""
    _say(f"watching {path}{also} for changes (Ctrl-C to stop)")
    return watch.run(file_changes(watch.keys) if changes is None else changes)


def _message(err: Exception, out: Path | None) -> str:
    if isinstance(err, OSError):
        return f"cannot write `{out}`: {(err.strerror or str(err)).lower()}"
    return str(err)


def _say(line: str) -> None:
    from ..display import lines_shown

    print(lines_shown(line), file=sys.stderr, flush=True)

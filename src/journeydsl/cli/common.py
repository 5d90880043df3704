"""What every command shares: compiling a file and reporting its problems,
usage errors, colour, names of scenarios and personas.

One path each: a command that compiles a file calls `compile_or_exit`
(diagnostics printed the same way everywhere, coloured on a terminal), a
wrong option or name is a `UsageError` (`journey: ...`, exit 2), and a
scenario or persona name is checked by `pick`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TextIO, TypeVar

from .._gc import paused_gc

with paused_gc():
    import typer

if TYPE_CHECKING:
    from ..api import Compiled
    from ..diagnostics import Diagnostic
    from ..language.compiled import CompiledJourney
    from ..simulate.expectations import Outcome


class UsageError(Exception):
    """A mistake on the command line (exit 2); the message names it."""


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


def usage(message: str) -> NoReturn:
    """Print `journey: message` and exit 2."""
    error(message)
    raise typer.Exit(2)


def error(message: str) -> None:
    """`journey: message` on stderr (user text in it shown safe: `display`)."""
    from ..display import lines_shown

    typer.echo(f"journey: {lines_shown(message)}", err=True)


def use_color(choice: Color = Color.auto, stream: TextIO | None = None) -> bool:
    import os

    stream = sys.stderr if stream is None else stream
    if choice is Color.always:
        return True
    if choice is Color.never or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def report(diagnostics: list[Diagnostic], color: bool | None = None) -> None:
    """Diagnostics as text on stderr, each followed by a blank line."""
    from ..diagnostics import render_text

    colored = use_color() if color is None else color
    for d in diagnostics:
        # color=: click strips escapes from non-terminals unless told otherwise
        typer.echo(render_text(d, color=colored) + "\n", err=True, color=colored)


def size_limit(text: str | None) -> int:
    """`--max-size`, in bytes (UsageError when it is not a size)."""
    from ..language.source import DEFAULT_MAX_BYTES, parse_size

    if text is None:
        return DEFAULT_MAX_BYTES
    size = parse_size(text)
    if size is None:
        raise UsageError(f"--max-size takes a size such as 20MB, 512KiB or 100000 (bytes), "
                         f"not `{text}`")
    return size


def require_input(path: Path) -> None:
    """UsageError `no such file` when nothing is at `path` (anything else,
    even a FIFO, goes on to the compiler, which says what is wrong with it)."""
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no such file: {path}")


def compile_or_exit(path: Path, *, max_bytes: int | None = None,
                    simulable: bool = False, kpis: bool = False) -> Compiled:
    """Compile one file; print its diagnostics and exit 1 if it has errors
    (or, `simulable`, if it is a library with nothing to simulate). A path
    that is not a regular file (a FIFO, a device, a folder) gets JD001
    "not a regular file", as `journey check` gives it, without blocking.
    With `kpis`, failed `expect` lines (JD501) do not stop the command: it
    shows every expectation with its value (`simulate`'s scorecard, the
    board's KPIs); `journey check` is the gate."""
    from ..api import load
    from ..diagnostics import JourneyError

    require_input(path)
    with paused_gc():
        result = load(path, max_bytes)
    blocking = [d for d in result.errors if not (kpis and d.code == "JD501")]
    problems = [d for d in result.diagnostics if not (kpis and d.code == "JD501")] \
        if blocking else []
    if simulable and not problems:
        try:
            result.simulable()
        except JourneyError as err:
            problems = err.diagnostics
    if problems:
        report(problems)
        raise typer.Exit(1)
    return result


def failed_note(outcome: Outcome) -> str:
    """One line on a failed `expect`, for commands that go on regardless."""
    where = f" (scenario {outcome.scenario})" if outcome.scenario else ""
    return (f"note: expectation `{outcome.expect.text}`{where} fails: it is "
            f"{outcome.actual_text()}, expected {outcome.target_text()}")


def pick(result: Compiled, path: Path, scenario: str | None,
         persona: str | None) -> CompiledJourney:
    """The compiled journey of `scenario` (the baseline for None); UsageError
    for a scenario or a persona the file does not have."""
    scenarios = result.scenarios
    if scenario is not None and scenario not in scenarios:
        raise UsageError(f"no scenario `{scenario}` in {path} "
                         f"(scenarios: {', '.join(scenarios) or 'none'})")
    journey = result.variant(scenario)
    if persona is not None and persona not in journey.persona_ids:
        raise UsageError(f"no persona `{persona}` in {path} "
                         f"(personas: {', '.join(journey.persona_ids)})")
    return journey


_P = ParamSpec("_P")
_R = TypeVar("_R")


def command(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap a command: a `UsageError` becomes `journey: ...` and exit 2."""
    import functools

    @functools.wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except UsageError as err:
            usage(str(err))

    return run


class Choice(str, Enum):
    """What mypy sees of a `choices` type: a str Enum (the real ones are made
    at run time from lists defined once elsewhere, so no checker can list
    their members): `if TYPE_CHECKING: View = Choice`."""


def choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A typer choice type from a list defined once elsewhere."""
    # Enum's functional API with computed names: mypy reads the call as a
    # member lookup (an Enum), not the new Enum class it returns.
    return Enum(name, {v.replace("-", "_"): v for v in values}, type=str)  # type: ignore[return-value]

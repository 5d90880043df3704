"""The pipeline: SourceFile -> Tree -> Journey -> resolved -> checked -> graph.

`compile_source` never raises for a user's mistake: everything wrong comes
back as diagnostics in the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import diagnostics as diag
from .._gc import paused_gc
from .checks import Context, run_checks
from ..diagnostics import Diagnostic, Severity, sorted_diagnostics
from .graph import build_graph
from .model import Journey
from .resolve import Index, resolve
from .scenarios import apply_scenario
from .source import DEFAULT_MAX_BYTES, SourceFile, Span, decode, too_large
from .syntax import parse
from .transform import to_journey

if TYPE_CHECKING:
    import networkx as nx


class JourneyError(Exception):
    """Raised by `Compiled.raise_for_errors()`; its text is the rendered errors."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n\n".join(diag.render_text(d) for d in diagnostics))


@dataclass
class Compiled:
    """A compiled journey file: the model, its diagnostics and its graph.

    `journey` is None only when the file could not be parsed at all.
    """

    source: SourceFile | None
    journey: Journey | None
    index: Index | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: real paths of the files this one uses, directly or not
    imports: list[str] = field(default_factory=list)
    _graphs: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not diag.has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a compiled journey as its map."""
        from ..render import repr_svg

        return repr_svg(self)

    def raise_for_errors(self) -> "Compiled":
        if not self.ok:
            raise JourneyError(self.errors)
        return self

    def raise_unless_simulable(self) -> "Compiled":
        """JourneyError for errors, and for a library: with no entry, no
        prospect arrives and there is nothing to simulate."""
        self.raise_for_errors()
        if self.journey is None or self.journey.is_library:
            raise JourneyError([diag.make(
                "JD401", "the journey has no `entry`: it is a library of personas and stages "
                "(for other journeys to `use`), so there is nothing to simulate",
                self.source, _keyword(self.journey),
                help="simulate a journey that uses it, or add `entry STEP`")])
        return self

    def variant(self, scenario: str | None = None) -> Journey:
        """The journey, or the journey as scenario `scenario` changes it."""
        if self.journey is None:
            raise JourneyError(self.errors)
        if scenario is None:
            return self.journey
        found = self.journey.scenario(scenario)
        if found is None:
            known = ", ".join(s.id for s in self.journey.scenarios) or "none"
            raise KeyError(f"no scenario `{scenario}` (scenarios: {known})")
        return apply_scenario(self.journey, found)

    def graph(self, scenario: str | None = None) -> "nx.DiGraph":
        """The networkx graph of the journey (or of one scenario).

        Read-only: the simulation engines read its `engine_index`, filled
        when it was built. For a what-if use a scenario, or edit a
        `copy.deepcopy` of it (the copy drops the index).

        Raises `JourneyError` with the errors when the file has any: its
        graph would silently lack what they rejected (an edge to an unknown
        step, a rate out of range), warnings are fine.

        >>> from journeydsl import loads
        >>> loads('journey "x" { stage s { touchpoint a } ; entry a ; a -> b 5% ; goal a }'
        ...       ).graph()
        Traceback (most recent call last):
        ...
        journeydsl.language.compiler.JourneyError: error[JD201]: unknown step `b`
        ...
        """
        if not self.ok:
            raise JourneyError(self.errors)
        return self._graph(scenario)

    def _graph(self, scenario: str | None = None) -> "nx.DiGraph":
        """The graph whatever the diagnostics: the compiler's own checks run
        on it while the diagnostics are being collected."""
        if scenario not in self._graphs:
            self._graphs[scenario] = build_graph(self.variant(scenario), self.index)
        return self._graphs[scenario]


def _keyword(journey: Journey | None) -> Span | None:
    return Span(journey.span.start, journey.span.start + len("journey")) if journey else None


def compile_source(source: SourceFile, max_bytes: int = DEFAULT_MAX_BYTES) -> Compiled:
    with paused_gc():
        return _compile(source, _Loader(_real_path(source.path), max_bytes))


class _Loader:
    """Compiles the files a journey uses, each once per top-level compile."""

    def __init__(self, root: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.chain = (root,) if root else ()
        self.done: dict[str, Compiled] = {}
        self.max_bytes = max_bytes  # for each file, the used ones too

    def __call__(self, shown: str, real: str, chain: tuple[str, ...]) -> Compiled:
        if real not in self.done:
            outer, self.chain = self.chain, chain
            try:
                self.done[real] = _read_and_compile(shown, self)
            finally:
                self.chain = outer
        return self.done[real]


def _real_path(path: str) -> str | None:
    return os.path.realpath(path) if os.path.isfile(path) else None


def _compile(source: SourceFile, loader: _Loader) -> Compiled:
    tree, problems = parse(source)
    if tree is None or problems:
        # Later stages would only report the fallout of the syntax errors.
        return Compiled(source, None, None, _capped(sorted_diagnostics(problems), source))
    journey, problems = to_journey(tree, source)
    imported: list[str] = []
    if journey.uses:
        from .imports import load_imports

        imports = load_imports(journey, source, loader.chain, loader)
        problems += imports.problems
        imported = imports.files
        if imports.failed:  # the importer's own checks would report the missing names
            return Compiled(source, journey, None, _capped(sorted_diagnostics(problems), source),
                            imported)
        journey.personas[:0] = imports.personas
        journey.stages[:0] = imports.stages
    index, resolve_problems = resolve(journey, source)
    problems += resolve_problems
    result = Compiled(source, journey, index, imports=imported)
    # With names unresolved, the graph misses those edges: "unreachable" and
    # "never reaches a goal" would mostly be fallout of the unknown names.
    # Likewise after a value was rejected (its edge or entry was dropped):
    # sums and shape checks would report the hole the rejected value left.
    fallout = (_FALLOUT if diag.has_errors(problems) else set())
    seen = {_key(d) for d in problems}
    baseline = [d for d in run_checks(Context(journey, index, result._graph(), source))
                if d.code not in fallout]
    problems += [d for d in baseline if _key(d) not in seen]
    seen |= {_key(d) for d in baseline}
    for scenario in journey.scenarios:
        checks = run_checks(Context(result.variant(scenario.id), index,
                                    result._graph(scenario.id), source))
        for found in checks:
            if _key(found) not in seen and found.code not in fallout:
                seen.add(_key(found))
                problems.append(_in_scenario(found, scenario.id))
    if not diag.has_errors(problems) and _has_expects(journey):
        from ..simulate.expectations import evaluate  # numpy and scipy: only when needed

        result.diagnostics = problems
        problems += evaluate(result)
    result.diagnostics = _capped(sorted_diagnostics(problems), source)
    return result


#: A file with thousands of problems is better fixed from the first ones; the
#: cap also keeps rendering a pathological file fast.
MAX_DIAGNOSTICS = 200


def _capped(problems: list[Diagnostic], source: SourceFile) -> list[Diagnostic]:
    if len(problems) <= MAX_DIAGNOSTICS:
        return problems
    hidden = len(problems) - MAX_DIAGNOSTICS
    last = problems[MAX_DIAGNOSTICS - 1]
    return problems[:MAX_DIAGNOSTICS] + [diag.make(
        "JD006", f"{hidden:,} more problems not shown", source, last.span,
        help="fix the problems above and run the check again")]


def _has_expects(journey: Journey) -> bool:
    return bool(journey.expects) or any(s.expects for s in journey.scenarios)


_FALLOUT = {"JD304", "JD305", "JD401", "JD403", "JD404"}


def _key(d: Diagnostic) -> tuple:
    return (d.code, d.span, d.message)


def _in_scenario(d: Diagnostic, scenario: str) -> Diagnostic:
    from dataclasses import replace

    return replace(d, message=f"{d.message} (in scenario `{scenario}`)")


def compile_text(text: str, path: str = "<string>",
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Compiled:
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
        message, hint = too_large(size, max_bytes, "text")
        return Compiled(SourceFile(path, ""), None, None, [diag.make(
            "JD004", message, SourceFile(path, ""), None, help=hint)])
    return compile_source(SourceFile(path, text), max_bytes)


def compile_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Compiled:
    """Read and compile a file; unreadable or undecodable files give JD00x."""
    with paused_gc():
        return _read_and_compile(str(path), _Loader(_real_path(str(path)), max_bytes))


def _read_and_compile(shown: str, loader: _Loader) -> Compiled:
    path = shown
    if Path(path).exists() and not Path(path).is_file():
        return Compiled(None, None, None, [diag.make(
            "JD001", f"cannot read `{shown}`: not a regular file", SourceFile(shown, ""), None)])
    try:
        with open(path, "rb") as stream:
            # Read one byte past the limit, no more: a huge file costs no memory.
            data = stream.read(loader.max_bytes + 1)
            size = os.fstat(stream.fileno()).st_size if len(data) > loader.max_bytes else 0
    except OSError as err:
        reason = err.strerror or str(err)
        return Compiled(None, None, None, [diag.make(
            "JD001", f"cannot read `{shown}`: {reason.lower()}", SourceFile(shown, ""),
            None)])
    if len(data) > loader.max_bytes:
        message, hint = too_large(max(size, len(data)), loader.max_bytes)
        return Compiled(SourceFile(shown, ""), None, None, [diag.make(
            "JD004", message, SourceFile(shown, ""), None, help=hint)])
    decoded = decode(shown, data, loader.max_bytes)
    if isinstance(decoded, SourceFile):
        return _compile(decoded, loader)
    # Show the problem against a lossy decoding of the file, so the caret works.
    lossy = SourceFile(shown, data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
                       if len(data) < 1_000_000 else "")
    offset = _offset(lossy, decoded.line, decoded.column)
    span = Span(offset, offset + 1) if lossy.text else None  # too large: no line to show
    return Compiled(lossy, None, None, [diag.make(
        decoded.code, decoded.message, lossy, span, help=decoded.help)])


def _offset(source: SourceFile, line: int, column: int) -> int:
    if not source.text:
        return 0
    starts = source.line_starts
    return min(starts[min(line, len(starts)) - 1] + column - 1, len(source.text))

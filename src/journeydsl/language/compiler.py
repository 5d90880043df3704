"""The front end's driver: text -> diagnostics and a compiled journey.

    source -> syntax -> transform -> imports -> resolve -> build -> checks

`compile_source`, `compile_text` and `compile_path` never raise for a
user's mistake: everything wrong comes back as diagnostics in the
`Compilation`. The compiler stops there: evaluating `expect` lines (which
needs the simulator) and showing a journey (the renderer) belong to the API
layer (`journeydsl.api`), so nothing here imports a back end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import diagnostics as diag
from .._gc import paused_gc
from ..diagnostics import Diagnostic, sorted_diagnostics
from .build import build_journey
from .checks import Context, run_checks
from .compiled import CompiledJourney
from .model import Journey
from .resolve import Names, resolve
from .source import DEFAULT_MAX_BYTES, SourceFile, Span, decode, read_regular, too_large
from .syntax import parse
from .transform import to_journey


@dataclass
class Compilation(diag.HasDiagnostics):
    """What compiling one file gives: its diagnostics (sorted, not capped),
    and as far as it got, the parsed model, its names and the compiled
    journey of the baseline and of each scenario."""

    source: SourceFile | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the parsed journey with the declarations of the files it uses
    #: (None when it did not parse); never changed after the transformer
    model: Journey | None = None
    names: Names | None = None  # None when names were not resolved
    #: the baseline; None when the names were not resolved (syntax errors,
    #: a `use` that failed)
    journey: CompiledJourney | None = None
    variants: dict[str, CompiledJourney] = field(default_factory=dict)  # by scenario id
    #: real paths of the files this one uses, directly or not
    imports: list[str] = field(default_factory=list)


def compile_source(source: SourceFile, max_bytes: int = DEFAULT_MAX_BYTES) -> Compilation:
    with paused_gc():
        return _compile(source, _Loader(_real_path(source.path), max_bytes))


class _Loader:
    """Compiles the files a journey uses, each once per top-level compile."""

    def __init__(self, root: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.chain: tuple[str, ...] = (root,) if root else ()
        self.done: dict[str, Compilation] = {}
        self.max_bytes = max_bytes  # for each file, the used ones too

    def __call__(self, shown: str, real: str, chain: tuple[str, ...]) -> Compilation:
        if real not in self.done:
            outer, self.chain = self.chain, chain
            try:
                self.done[real] = _read_and_compile(shown, self)
            finally:
                self.chain = outer
        return self.done[real]


def _real_path(path: str) -> str | None:
    return os.path.realpath(path) if os.path.isfile(path) else None


def _compile(source: SourceFile, loader: _Loader) -> Compilation:
    tree, problems = parse(source)
    if tree is None or problems:
        # Later stages would only report the fallout of the syntax errors.
        return Compilation(source, sorted_diagnostics(problems))
    model, problems = to_journey(tree, source)
    return _compile_model(source, model, problems, loader)


def compile_model(source: SourceFile, model: Journey, problems: list[Diagnostic],
                  max_bytes: int = DEFAULT_MAX_BYTES) -> Compilation:
    """The stages after the transformer, for a model built some other way
    (the editor's incremental front end, `incremental.py`): the files it
    uses, names, the compiled variants and the checks. `problems` are the
    transformer's."""
    with paused_gc():
        return _compile_model(source, model, list(problems),
                              _Loader(_real_path(source.path), max_bytes))


def _compile_model(source: SourceFile, model: Journey, problems: list[Diagnostic],
                   loader: _Loader) -> Compilation:
    own_end = len(source.text)
    imported: list[str] = []
    if model.uses:
        from .imports import load_imports

        imports = load_imports(model, source, loader.chain, loader)
        problems += imports.problems
        imported = imports.files
        if imports.failed:  # the importer's own checks would report the missing names
            return Compilation(source, sorted_diagnostics(problems), model, imports=imported)
        model = model.model_copy(update={"personas": imports.personas + model.personas,
                                         "stages": imports.stages + model.stages})
    names, resolve_problems = resolve(model, source)
    problems += resolve_problems
    baseline = build_journey(model, names, own_end)
    variants = {s.id: build_journey(model, names, own_end, s) for s in model.scenarios}
    # With names unresolved, the journey misses those edges: "unreachable" and
    # "never reaches a goal" would mostly be fallout of the unknown names.
    # Likewise after a value was rejected (its edge or entry was dropped):
    # sums and shape checks would report the hole the rejected value left.
    fallout = (_FALLOUT if diag.has_errors(problems) else set())
    seen = {_key(d) for d in problems}
    found = [d for d in run_checks(Context(baseline, model, source)) if d.code not in fallout]
    problems += [d for d in found if _key(d) not in seen]
    seen |= {_key(d) for d in found}
    for scenario_id, variant in variants.items():
        for d in run_checks(Context(variant, model, source)):
            if _key(d) not in seen and d.code not in fallout:
                seen.add(_key(d))
                problems.append(_in_scenario(d, scenario_id))
    return Compilation(source, sorted_diagnostics(problems), model, names, baseline, variants,
                       imported)


def recovered_model(source: SourceFile, max_bytes: int = DEFAULT_MAX_BYTES) -> Journey | None:
    """The journey as far as it parses, for a file with syntax errors: the
    statements the parser had to drop are left out, nothing else is checked
    (editors and `journey diff` show what they can of a broken file), with
    the personas and stages of the files it uses, as a compiled model has
    them (a line being typed must not hide them from completion). None when
    nothing could be recovered."""
    with paused_gc():
        tree, _ = parse(source)
        if tree is None or not tree.children:
            return None
        try:
            model = to_journey(tree, source)[0]
        except Exception:  # a tree recovery left in a shape the builder never sees
            return None
        if not model.uses:
            return model
        from .imports import load_imports

        loader = _Loader(_real_path(source.path), max_bytes)
        imports = load_imports(model, source, loader.chain, loader)  # what could be used
        return model.model_copy(update={"personas": imports.personas + model.personas,
                                        "stages": imports.stages + model.stages})


#: A file with thousands of problems is better fixed from the first ones; the
#: cap also keeps rendering a pathological file fast.
MAX_DIAGNOSTICS = 200


def capped(problems: list[Diagnostic], source: SourceFile | None) -> list[Diagnostic]:
    """The first MAX_DIAGNOSTICS problems, then one JD006 saying how many more."""
    if len(problems) <= MAX_DIAGNOSTICS:
        return problems
    hidden = len(problems) - MAX_DIAGNOSTICS
    last = problems[MAX_DIAGNOSTICS - 1]
    return problems[:MAX_DIAGNOSTICS] + [diag.make(
        "JD006", f"{hidden:,} more problems not shown", source, last.span,
        help="fix the problems above and run the check again")]


_FALLOUT = {"JD304", "JD305", "JD401", "JD403", "JD404"}


def _key(d: Diagnostic) -> tuple:
    return (d.code, d.span, d.message)


def _in_scenario(d: Diagnostic, scenario: str) -> Diagnostic:
    return replace(d, message=f"{d.message} (in scenario `{scenario}`)")


def compile_text(text: str, path: str = "<string>",
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Compilation:
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
        message, hint = too_large(size, max_bytes, "text")
        return Compilation(SourceFile(path, ""), [diag.make(
            "JD004", message, SourceFile(path, ""), None, help=hint)])
    return compile_source(SourceFile(path, text), max_bytes)


def compile_path(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Compilation:
    """Read and compile a file; unreadable or undecodable files give JD00x."""
    with paused_gc():
        return _read_and_compile(str(path), _Loader(_real_path(str(path)), max_bytes))


def _read_and_compile(shown: str, loader: _Loader) -> Compilation:
    try:
        # One byte past the limit, no more: a huge file costs no memory; a
        # FIFO or device is refused without blocking.
        data, info = read_regular(shown, loader.max_bytes)
        size = info.st_size
    except OSError as err:
        reason = err.strerror or str(err)
        return Compilation(None, [diag.make(
            "JD001", f"cannot read `{shown}`: {reason.lower()}", SourceFile(shown, ""),
            None)])
    if len(data) > loader.max_bytes:
        message, hint = too_large(max(size, len(data)), loader.max_bytes)
        return Compilation(SourceFile(shown, ""), [diag.make(
            "JD004", message, SourceFile(shown, ""), None, help=hint)])
    decoded = decode(shown, data, loader.max_bytes)
    if isinstance(decoded, SourceFile):
        return _compile(decoded, loader)
    # Show the problem against a lossy decoding of the file, so the caret works.
    lossy = SourceFile(shown, data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
                       if len(data) < 1_000_000 else "")
    offset = _offset(lossy, decoded.line, decoded.column)
    span = Span(offset, offset + 1) if lossy.text else None  # too large: no line to show
    return Compilation(lossy, [diag.make(
        decoded.code, decoded.message, lossy, span, help=decoded.help)])


def _offset(source: SourceFile, line: int, column: int) -> int:
    if not source.text:
        return 0
    starts = source.line_starts
    return min(starts[min(line, len(starts)) - 1] + column - 1, len(source.text))

"""`use "path.journey"`: personas and stages declared in other files.

A team keeps one persona library (and shared stages) and every journey
uses it. Each used file is compiled on its own first (its own imports
included), so a mistake inside it is reported once, in that file. Its
personas and stages then join the importing journey ahead of its own
declarations, and from there on nothing downstream knows where they came
from: their spans are moved into the importing file's offset space (past
the end of its text, see `SourceFile.imported`), and `diagnostics.make`
maps such spans back to the file they are in.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label
from .model import Journey, Persona, Stage, Use
from .source import SourceFile, Span

if TYPE_CHECKING:
    from .compiler import Compilation

#: A chain of imports this deep is a mistake (and would exhaust the stack).
MAX_DEPTH = 32

#: compile_imported(display path, real path, chain of real paths) -> Compiled
Compile = Callable[[str, str, tuple[str, ...]], "Compilation"]


@dataclass
class Imports:
    """What the `use` lines of one file bring, and what went wrong."""

    personas: list[Persona] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file used, directly or not
    problems: list[Diagnostic] = field(default_factory=list)
    failed: bool = False  # a file could not be used: the importer's checks would be fallout


@dataclass(frozen=True)
class _Origin:
    """Where a name was declared: (file, span in that file), and via which `use`."""

    source: SourceFile
    span: Span
    use: Use | None  # None: declared in the importing file itself

    @property
    def key(self) -> tuple[str, int]:
        return (self.source.path, self.span.start)


def load_imports(journey: Journey, source: SourceFile, chain: tuple[str, ...],
                 compile_imported: Compile) -> Imports:
    """Compile the files `journey` uses and gather their declarations.

    `chain` holds the real paths of the files being compiled, outermost
    first (this one last), to find cycles. Sets `source.imported`."""
    out = Imports()
    names = _Names(source, out)
    for persona in journey.personas:
        names.taken[("persona", persona.id)] = _Origin(source, persona.id_span, None)
    for stage in journey.stages:
        for ident, span in _step_names(stage):
            names.taken.setdefault(("step", ident), _Origin(source, span, None))
    mapped: list[tuple[int, SourceFile]] = []
    base = source.extent
    folder = os.path.dirname(source.path)
    for use in journey.uses:
        problem = _bad_path(use, source)
        if problem is None:
            shown = os.path.normpath(os.path.join(folder, use.path))
            real = os.path.realpath(shown)
            out.files.append(real)
            problem = _unusable(use, shown, real, chain, source)
        if problem is not None:
            out.problems.append(problem)
            out.failed = True
            continue
        compiled = compile_imported(shown, real, chain + (real,))
        out.files.extend(compiled.imports)
        if compiled.model is None or not compiled.ok:
            # Located in their own files; a file reached twice reports once.
            out.problems.extend(e for e in compiled.errors if e not in out.problems)
            out.failed = True
            continue
        lib = compiled.source
        assert lib is not None  # it has a model, so it was read
        # A file reached again (a diamond) brings nothing new: every
        # declaration kept points into its first place, the only one mapped.
        known = {src.path for _, src in mapped}
        mapped.extend((base + inner, src) for inner, src in [(0, lib), *lib.imported]
                      if src.path not in known)
        for persona in compiled.model.personas:
            if names.claim("persona", persona.id, _origin(lib, persona.id_span, use)):
                out.personas.append(_shifted(persona, base))
        for stage in compiled.model.stages:
            # A stage comes whole or not at all: half a stage would only
            # produce fallout diagnostics.
            claims = [names.claim("step", ident, _origin(lib, span, use))
                      for ident, span in _step_names(stage)]
            if all(claims):
                out.stages.append(_shifted(stage, base))
        base += lib.extent
    source.imported = tuple(sorted(mapped, key=lambda pair: pair[0]))
    out.files = list(dict.fromkeys(out.files))
    return out


def _bad_path(use: Use, source: SourceFile) -> Diagnostic | None:
    """Only .journey files: a mistyped path must not print another file's
    lines (a key, a password file) into a CI log as syntax errors."""
    try:
        usable = "\0" not in use.path and len(os.fsencode(use.path)) <= 4096
    except UnicodeError:  # lone surrogates: only from Python strings, never from a file
        usable = False
    if not usable:
        return diag.make("JD007", "this is not a usable file path", source, use.path_span)
    if not use.path.endswith(".journey"):
        return diag.make("JD007", f"`{use.path}` is not a .journey file", source, use.path_span,
                         help="`use` brings personas and stages from another .journey file")
    return None


def _unusable(use: Use, shown: str, real: str, chain: tuple[str, ...],
              source: SourceFile) -> Diagnostic | None:
    if real in chain:
        loop = [os.path.basename(p) for p in chain[chain.index(real):]] + [
            os.path.basename(real)]
        return diag.make("JD008", "import cycle: " + " -> ".join(f"`{p}`" for p in loop),
                         source, use.path_span,
                         help="move what both files need into a third file that both use")
    if len(chain) > MAX_DEPTH:
        return diag.make("JD007", f"imports are nested more than {MAX_DEPTH} files deep",
                         source, use.path_span, help="use the files directly from here")
    try:
        return _unreadable(use, shown, real, source)
    except (OSError, ValueError) as err:  # a name too long for the system, say
        return diag.make("JD007", f"cannot read `{shown}`: {err}", source, use.path_span)


def _unreadable(use: Use, shown: str, real: str, source: SourceFile) -> Diagnostic | None:
    if not os.path.exists(real):
        where = "" if os.path.normpath(use.path) == shown else f" (no file `{shown}`)"
        return diag.make("JD007", f"cannot find `{use.path}`{where}", source,
                         use.path_span, help=_nearby(use.path, real))
    if not os.path.isfile(real):
        return diag.make("JD007", f"`{shown}` is not a file", source, use.path_span,
                         help="`use` takes the path of a .journey file")
    if not os.access(real, os.R_OK):
        return diag.make("JD007", f"cannot read `{shown}`: permission denied", source,
                         use.path_span)
    return None


def _nearby(written: str, real: str) -> str:
    """Did you mean a .journey file next to where the path points?"""
    folder, missing = os.path.split(real)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".journey"))
    except OSError:
        names = []
    guess = diag.close_matches(missing, names, n=1)
    if guess:
        return f"did you mean `{posixpath.join(posixpath.dirname(written), guess[0])}`?"
    return "paths are relative to the folder of the file that uses them"


class _Names:
    """Who declared each persona and step name first; clashes are JD209."""

    def __init__(self, source: SourceFile, out: Imports) -> None:
        self.source = source
        self.out = out
        self.taken: dict[tuple[str, str], _Origin] = {}
        self.seen: set[tuple[str, int]] = set()  # declarations met, kept or not

    def claim(self, kind: str, ident: str, origin: _Origin) -> bool:
        """Whether the declaration is new; a clash is reported once."""
        first = self.taken.get((kind, ident))
        if first is None:
            self.taken[(kind, ident)] = origin
            self.seen.add(origin.key)
            return True
        if origin.key not in self.seen:  # the same declaration reached twice is fine
            self.seen.add(origin.key)
            self.out.problems.append(self._clash(kind, ident, first, origin))
        return False

    def _clash(self, kind: str, ident: str, first: _Origin, second: _Origin) -> Diagnostic:
        noun = "persona" if kind == "persona" else "step or stage"
        use = second.use
        assert use is not None  # claim() is only asked about declarations a `use` brings
        brings = f"`{use.path}` brings {noun} `{ident}`"
        if first.use is None:
            message = f"{brings}, which this file declares too"
            labels = [Label(first.span, "declared here"),
                      Label(second.span, "and imported from here", second.source)]
        else:
            message = f"{brings}, which `{first.use.path}` brings too"
            labels = [Label(first.span, "first imported from here", first.source),
                      Label(second.span, "and from here", second.source)]
        return diag.make("JD209", message, self.source, use.path_span, labels=labels,
                         help="ids are unique across a journey and the files it uses: "
                              "rename one of them")


def _origin(lib: SourceFile, span: Span, use: Use) -> _Origin:
    where, local = lib.locate(span)
    return _Origin(where, local, use)


def _step_names(stage: Stage) -> list[tuple[str, Span]]:
    return [(stage.id, stage.id_span)] + [(t.id, t.id_span) for t in stage.touchpoints]


def _shifted(value: Any, by: int) -> Any:
    """A copy of a model (or a span, or a list of them) with every span moved
    `by` characters; anything else as it is."""
    if isinstance(value, Span):
        return Span(value.start + by, value.end + by)
    if isinstance(value, BaseModel):
        copy = value.model_copy()  # shallow: the fields holding spans are replaced
        for name, item in value.__dict__.items():
            if isinstance(item, (Span, BaseModel, list)):
                copy.__dict__[name] = _shifted(item, by)
        return copy
    if isinstance(value, list):
        return [_shifted(item, by) for item in value]
    return value

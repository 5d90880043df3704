"""What the language server knows about one version of a document.

`analyze` compiles the text (incrementally: `language.incremental`) and
gives an `Analysis`: the compilation, its diagnostics as `journey check`
shows them without `expect` lines, and the name index on demand. The
slower half, `evaluate`, runs off the typing path (the server calls it in
a worker thread): the `expect` lines evaluated with the exact engine
(JD501, exactly as `journey check`), and the baseline's exact report, for
the values hover shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic
from ..language.compiler import Compilation, capped, recovered_model
from ..language.incremental import Incremental
from ..language.model import Journey
from ..language.source import SourceFile, Span
from .symbols import Index

if TYPE_CHECKING:
    from ..simulate import Report
    from ..simulate.expectations import Outcome


@dataclass
class Evaluation:
    """The slow half of an analysis: `journey check`'s diagnostics (JD501
    included), each `expect` line's outcome by its span, the exact report
    of the baseline (None for a file with errors or a library)."""

    diagnostics: list[Diagnostic]
    outcomes: dict[Span, Outcome] = field(default_factory=dict)
    report: Report | None = None
    failed: str | None = None  # why the numbers could not be computed (a bug)


@dataclass
class Analysis:
    path: str
    text: str  # the document as the editor has it
    version: int | None
    compilation: Compilation
    evaluation: Evaluation | None = None  # set by the server once `evaluate` is done

    @property
    def source(self) -> SourceFile:
        return self.compilation.source or SourceFile(self.path, "")

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """What `journey check` reports: all of it once evaluated, else
        everything but the failed `expect` lines."""
        if self.evaluation is not None:
            return self.evaluation.diagnostics
        return capped(self.compilation.diagnostics, self.compilation.source)

    @cached_property
    def model(self) -> Journey | None:
        """The parsed journey; for a file with syntax errors (the usual state
        of a line being typed) what parses of it; None when nothing does."""
        if self.compilation.model is not None:
            return self.compilation.model
        if self.compilation.source is None or not self.compilation.source.text:
            return None
        return recovered_model(self.compilation.source)

    @cached_property
    def index(self) -> Index | None:
        """The names of the file; None when nothing of it parses."""
        model = self.model
        if model is None or self.compilation.source is None:
            return None
        return Index(model, self.compilation.source)


def analyze(incremental: Incremental, path: str, text: str,
            version: int | None = None) -> Analysis:
    return Analysis(path, text, version, incremental.compile(text, path))


def evaluate(analysis: Analysis) -> Evaluation:
    """The `expect` lines (as `journey check` evaluates them) and the
    baseline's exact report. Never raises: a failure is kept in `failed`."""
    from ..api import finish

    compilation = analysis.compilation
    try:
        compiled = finish(compilation)
        outcomes = {o.expect.span: o for o in compiled.expectations}
        report = None
        journey = compilation.journey
        if compiled.ok and journey is not None and not journey.library:
            from ..simulate import simulate

            report = simulate(journey, cohort=False)
        return Evaluation(compiled.diagnostics, outcomes, report)
    except Exception as err:  # a bug: keep the compile's diagnostics, say why
        return Evaluation(analysis.diagnostics, failed=f"{type(err).__name__}: {err}")

"""The public API: `load` and `loads` return a `Compiled` result.

The front end (`language.compiler`) stops at diagnostics and the compiled
journey; this layer adds what needs a back end: evaluating the file's
`expect` lines with the exact engine (JD501), and showing a journey in
Jupyter as its map. It also offers the back ends as methods
(`result.simulate()`, `.levers()`, `.attribution()`, `.monte_carlo()`),
each on the baseline or a scenario, refusing a file with errors or a
library with a `JourneyError`.
"""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeVar

from . import diagnostics as diag
from ._gc import paused_gc
from .diagnostics import Diagnostic, JourneyError
from .language.compiled import CompiledJourney
from .language.compiler import Compilation, capped, compile_path, compile_text
from .language.source import DEFAULT_MAX_BYTES, SourceFile

if TYPE_CHECKING:
    import networkx as nx

    from .language.model import Journey
    from .simulate import Report
    from .simulate.expectations import Outcome

_T = TypeVar("_T")


class Compiled(diag.HasDiagnostics):
    """A compiled journey file: its diagnostics and the compiled journey.

    `journey` is the compiled baseline (a `CompiledJourney`), None when the
    file has errors; `model` the journey as written (None when it did not
    parse); `diagnostics` every problem found, `expect` failures included.
    """

    def __init__(self, compilation: Compilation, diagnostics: list[Diagnostic],
                 outcomes: list[Outcome] | None = None) -> None:
        self._compilation = compilation
        self.source: SourceFile | None = compilation.source
        self.diagnostics = diagnostics
        #: real paths of the files this one uses, directly or not
        self.imports: list[str] = compilation.imports
        #: every `expect` line with its actual value (evaluated when the file
        #: has no other error)
        self.expectations: list[Outcome] = outcomes or []

    def __repr__(self) -> str:
        title = self.model.title if self.model is not None else None
        return (f"<Compiled {title!r}: {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings>")

    @property
    def compilation(self) -> Compilation:
        """What the front end gave: the model, its names, every variant."""
        return self._compilation

    @property
    def model(self) -> Journey | None:
        """The journey as written, with the declarations of the files it uses."""
        return self._compilation.model

    @property
    def journey(self) -> CompiledJourney | None:
        """The compiled baseline; None when the file does not compile. A failed
        `expect` line (JD501) is an error of the numbers, not of the file: the
        journey is there, and its numbers say by how much it misses."""
        return self._compilation.journey if self._compilation.ok else None

    @property
    def scenarios(self) -> list[str]:
        return list(self._compilation.variants)

    def notes(self) -> list[Diagnostic]:
        """A JD502 note (info) for each `expect` line that holds, with its
        value: what `journey check -v` and `--format json` add to the
        problems."""
        from .simulate.expectations import holds

        return diag.sorted_diagnostics(holds(o, self.source) for o in self.expectations
                                       if o.passed)

    def raise_for_errors(self) -> Compiled:
        if not self.ok:
            raise JourneyError(self.errors)
        return self

    def variant(self, scenario: str | None = None) -> CompiledJourney:
        """The compiled baseline, or scenario `scenario`'s variant.

        JourneyError when the file does not compile (failed `expect` lines do
        not stop it: the back ends show them), KeyError for an unknown
        scenario."""
        compilation = self._compilation
        if not compilation.ok:
            raise JourneyError(self.errors)
        if compilation.journey is None:  # pragma: no cover - only with errors
            raise JourneyError(self.errors)
        if scenario is None:
            return compilation.journey
        if scenario not in compilation.variants:
            known = ", ".join(compilation.variants) or "none"
            raise KeyError(f"no scenario `{scenario}` (scenarios: {known})")
        return compilation.variants[scenario]

    def simulable(self, scenario: str | None = None) -> CompiledJourney:
        """`variant(scenario)`, refusing a library (JD401): with no entry, no
        prospect arrives and there is nothing to simulate."""
        journey = self.variant(scenario)
        if journey.library:
            raise JourneyError([diag.make(
                "JD401", "the journey has no `entry`: it is a library of personas and stages "
                "(for other journeys to `use`), so there is nothing to simulate",
                self.source, journey.keyword_span,
                help="simulate a journey that uses it, or add `entry STEP`")])
        return journey

    def graph(self, scenario: str | None = None) -> nx.DiGraph:
        """The networkx graph of the journey (or of one scenario): a new one
        each call, yours to edit.

        Raises `JourneyError` with the errors when the file has any: its
        graph would silently lack what they rejected (an edge to an unknown
        step, a rate out of range); warnings are fine.

        >>> from journeydsl import loads
        >>> loads('journey "x" { stage s { touchpoint a } ; entry a ; a -> b 5% ; goal a }'
        ...       ).graph()
        Traceback (most recent call last):
        ...
        journeydsl.diagnostics.JourneyError: error[JD201]: unknown step `b`
        ...
        """
        return self.variant(scenario).graph()

    # ------------------------------------------------------------ back ends
    def simulate(self, scenario: str | None = None) -> Report:
        """Exact metrics of the baseline or a scenario (see `journeydsl.simulate`)."""
        from .simulate import simulate

        return self._run(simulate, self.simulable(scenario))

    def levers(self, scenario: str | None = None, persona: str | None = None,
               by: str = "revenue", size: str = "1pp") -> list:
        """Every transition's lever (see `journeydsl.simulate.levers`): `size`
        "1pp" (percentage points) or "10%" (of the rate), as `--lever` takes it."""
        from .simulate.levers import LeverSize, levers

        return self._run(levers, self.simulable(scenario), persona, by, LeverSize.parse(size))

    def attribution(self, scenario: str | None = None, persona: str | None = None) -> Any:
        from .simulate.attribution import attribution

        return self._run(attribution, self.simulable(scenario), persona)

    def _run(self, engine: Callable[..., _T], *args: Any) -> _T:
        """An engine's result; a loop beyond its time budget is a JourneyError (JD408)."""
        from .simulate.limits import TimeBudgetExceeded

        try:
            return engine(*args)
        except TimeBudgetExceeded as err:
            raise JourneyError([err.diagnostic(self.source)]) from None

    def monte_carlo(self, scenario: str | None = None, **options: Any) -> Any:
        """`simulate.montecarlo.monte_carlo` options: prospects, draws, seed,
        persona, progress."""
        from .simulate.montecarlo import monte_carlo

        return monte_carlo(self.simulable(scenario), **options)

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a compiled journey as its map."""
        from .render import repr_svg

        return repr_svg(self.journey) if self.journey is not None else None


def load(path: str | PathLike[str], max_bytes: int | None = None) -> Compiled:
    """Compile a `.journey` file and evaluate its `expect` lines. Never raises
    for problems in the file. `max_bytes`: larger files get JD004 (2 MiB by
    default)."""
    with paused_gc():  # the checks after compiling too (see `_gc.paused_gc`)
        return finish(compile_path(path, max_bytes or DEFAULT_MAX_BYTES))


def loads(text: str, path: str = "<string>", max_bytes: int | None = None) -> Compiled:
    """Compile journey source text (see `load`); `path` names it in
    diagnostics, and `use "..."` lines resolve from its folder."""
    with paused_gc():
        return finish(compile_text(text, path, max_bytes or DEFAULT_MAX_BYTES))


def finish(compilation: Compilation) -> Compiled:
    """The API result: the compiler's diagnostics plus a JD501 for each
    `expect` that fails (only when the file has no other error: the numbers
    of a broken journey mean nothing), sorted and capped."""
    problems = list(compilation.diagnostics)
    outcomes: list[Outcome] = []
    journey = compilation.journey
    variants = [journey, *compilation.variants.values()] if journey is not None else []
    if compilation.ok and any(v.expects for v in variants):
        from .simulate.expectations import evaluate, failure  # numpy: only when needed
        from .simulate.limits import TimeBudgetExceeded

        over_budget = False
        for variant in variants:
            if variant.expects and not variant.library:
                try:
                    found = evaluate(variant)
                except TimeBudgetExceeded as err:
                    problems.append(err.diagnostic(compilation.source))
                    over_budget = True
                    break  # every variant shares the loop
                outcomes += found
                problems += [failure(o, compilation.source) for o in found if not o.passed]
        if not over_budget:
            # the expect lines compute only what they read (the reach of the
            # places they name): what `simulate` would stop on is screened too
            problems += _time_budget(variants, compilation.source)
        problems = diag.sorted_diagnostics(problems)
    elif compilation.ok:
        problems += _time_budget(variants, compilation.source)
    return Compiled(compilation, capped(problems, compilation.source), outcomes)


def _time_budget(variants: list[CompiledJourney], source: SourceFile | None
                 ) -> list[Diagnostic]:
    """JD408 when a loop's fine delays over the horizon would take the engine
    past its time budget, JD410 when the first visits of reach would: found
    by running it, only for files with such a loop (`limits.fine_loops`,
    `limits.heavy_reach`, pure Python), so that `check` reports what
    `simulate` would stop on."""
    from .simulate.limits import TimeBudgetExceeded, fine_loops, heavy_reach

    for variant in variants:
        if variant.library:
            continue
        if fine_loops(variant) or heavy_reach(variant):
            from .simulate import simulate

            try:
                simulate(variant, cohort=True)
            except TimeBudgetExceeded as err:
                return [err.diagnostic(source)]
    return []


__all__ = ["Compiled", "JourneyError", "finish", "load", "loads"]

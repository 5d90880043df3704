"""Evaluating `expect` lines against the exact engine.

`evaluate(journey)` gives every expectation of one variant (the baseline or
a scenario) with its actual value and whether it holds; `failure` turns one
that does not hold into its JD501 diagnostic. The API layer runs this for
files without other errors; it imports numpy and scipy, so `journey check`
of a file without `expect` lines never loads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from ..language.compiled import CompiledJourney, Expectation
from ..language.source import SourceFile
from ..metrics import METRIC
from . import Report, simulate

_CLOSE = {"rel_tol": 1e-9, "abs_tol": 1e-12}
_OPS = {
    ">=": lambda a, b: a >= b or math.isclose(a, b, **_CLOSE),
    ">": lambda a, b: a > b and not math.isclose(a, b, **_CLOSE),
    "<=": lambda a, b: a <= b or math.isclose(a, b, **_CLOSE),
    "<": lambda a, b: a < b and not math.isclose(a, b, **_CLOSE),
    "==": lambda a, b: math.isclose(a, b, **_CLOSE),
}


@dataclass(frozen=True)
class Outcome:
    """One `expect` line, evaluated."""

    expect: Expectation
    scenario: str | None
    actual: float | None  # None: undefined (a ratio over nothing)
    passed: bool
    why_undefined: str | None  # with `actual` None
    currency: str | None

    def as_dict(self) -> dict:
        return {"expect": self.expect.text, "op": self.expect.op, "value": self.expect.value,
                "scenario": self.scenario, "actual": self.actual, "passed": self.passed}


def evaluate(journey: CompiledJourney) -> list[Outcome]:
    """Every `expect` line of this variant, with its actual value."""
    expects = journey.expects
    if not expects:
        return []
    wanted = frozenset(e.place for e in expects if e.place is not None)
    report = simulate(journey, places=wanted, cohort=False)
    out = []
    for expect in expects:
        value = metric_value(report, expect)
        # plain Python numbers: a metric read from numpy arrays is a numpy
        # scalar, which JSON output (`journey diff`, the editor) cannot write
        actual = None if value is None else float(value)
        passed = actual is not None and bool(_OPS[expect.op](actual, expect.value))
        why = None
        if actual is None:
            metrics = report.personas[expect.persona] if expect.persona else report.blended
            why = ("no prospect converts" if metrics.conversion == 0
                   else "the journey has no cost, so CAC is 0")
        out.append(Outcome(expect, journey.scenario, actual, passed, why, journey.currency))
    return out


def metric_value(report: Report, expect: Expectation) -> float | None:
    """The value `expect` compares: of the blend or its persona, or of its place."""
    if expect.place is not None:
        table = report.blended.stages if expect.place_is_stage else report.blended.steps
        return table[expect.place][expect.metric]
    metrics = report.personas[expect.persona] if expect.persona else report.blended
    return metrics.value(expect.metric)


def failure(outcome: Outcome, source: SourceFile | None) -> Diagnostic:
    """The JD501 error of an expectation that does not hold."""
    expect = outcome.expect
    where = f" in scenario `{outcome.scenario}`" if outcome.scenario else ""
    if outcome.actual is None:
        message = f"expectation failed{where}: `{expect.text}` is undefined ({outcome.why_undefined})"
    else:
        message = (f"expectation failed{where}: `{expect.text}` is "
                   f"{show(outcome.actual, expect, outcome.currency)}, expected {expect.op} "
                   f"{show(expect.value, expect, outcome.currency)}")
    return diag.make(
        "JD501", message, source, expect.span,
        help="the journey's numbers miss this target: change the journey or the target "
             "(`journey simulate` shows every metric)")


def show(value: float, expect: Expectation, currency: str | None) -> str:
    """A value as the expectation reads it: a rate in %, days, money or a number."""
    if expect.unit == "rate":
        return f"{value * 100:.3g}%"
    if expect.unit == "days":
        return f"{value:.3g} days"
    text = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    money = METRIC[expect.metric].unit == "money"
    return f"{text} {currency}" if money and currency else text

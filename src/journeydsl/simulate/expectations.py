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
        """JSON-ready: `why` says why `actual` is null (a ratio over nothing,
        a payback that never comes)."""
        return {"expect": self.expect.text, "op": self.expect.op, "value": self.expect.value,
                "unit": self.expect.unit, "scenario": self.scenario, "actual": self.actual,
                "passed": self.passed, "why": self.why_undefined}

    def actual_text(self) -> str:
        """The actual value as the expectation reads it ("never" for a
        payback that never comes, "undefined" for a ratio over nothing)."""
        if self.actual is not None:
            return show(self.actual, self.expect, self.currency)
        if self.expect.metric == "payback":
            return "never"
        return "undefined"

    def target_text(self) -> str:
        """`>= 0.75%`, `<= 18mo`: the comparison as written."""
        if self.expect.unit == "days":
            return f"{self.expect.op} {self.expect.written or duration(self.expect.value)}"
        return f"{self.expect.op} {show(self.expect.value, self.expect, self.currency)}"


def evaluate(journey: CompiledJourney) -> list[Outcome]:
    """Every `expect` line of this variant, with its actual value."""
    expects = journey.expects
    if not expects:
        return []
    # Only `reach` reads a place's first visits (a pass per step on a
    # cycle); its `visits`, `dropoff` and `churn` come with every solve.
    wanted = frozenset(e.place for e in expects if e.place is not None and e.metric == "reach")
    report = simulate(journey, places=wanted, cohort=False, by_entry=False)
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
            why = metrics.undefined().get(expect.metric, "not computed")
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
    if outcome.actual is None and expect.metric == "payback":
        message = (f"expectation failed{where}: `{expect.text}` is never "
                   f"({outcome.why_undefined}), expected {outcome.target_text()}")
    elif outcome.actual is None:
        message = f"expectation failed{where}: `{expect.text}` is undefined ({outcome.why_undefined})"
    else:
        message = (f"expectation failed{where}: `{expect.text}` is "
                   f"{show(outcome.actual, expect, outcome.currency)}, expected "
                   f"{outcome.target_text()}")
    return diag.make(
        "JD501", message, source, expect.span,
        help="the journey's numbers miss this target: change the journey or the target "
             "(`journey simulate` shows every metric)")


def holds(outcome: Outcome, source: SourceFile | None) -> Diagnostic:
    """The JD502 note of an expectation that holds (`journey check -v`, and
    every `journey check --format json`)."""
    expect = outcome.expect
    where = f" in scenario `{outcome.scenario}`" if outcome.scenario else ""
    return diag.make("JD502", f"expectation holds{where}: `{expect.text}` is "
                     f"{outcome.actual_text()}, expected {outcome.target_text()}",
                     source, expect.span)


def duration(days: float) -> str:
    """A duration in the unit it was most likely written in: `3y`, `18mo`,
    `2w`, `30d`, `12h`.

    >>> duration(1095.0), duration(540.0), duration(14.0), duration(0.5)
    ('3y', '18mo', '2w', '12h')
    """
    for unit, size in (("y", 365.0), ("mo", 30.0), ("w", 7.0), ("d", 1.0), ("h", 1 / 24)):
        count = days / size
        if count >= 1 and abs(count - round(count)) < 1e-9:
            return f"{round(count)}{unit}"
    return f"{days:g}d"


def show(value: float, expect: Expectation, currency: str | None) -> str:
    """A value as the expectation reads it: a rate in %, days, money or a number."""
    if expect.unit == "rate":
        return f"{value * 100:.3g}%"
    if expect.unit == "days":
        return f"{value:,.0f} days" if abs(value) >= 100 else f"{value:.3g} days"
    text = plain(value)
    money = METRIC[expect.metric].unit == "money"
    return f"{text} {currency}" if money and currency else text


def plain(value: float) -> str:
    """A number with four significant digits and never an exponent.

    >>> plain(312232.4), plain(10.1234), plain(0.1223), plain(8.037e-05), plain(0.0)
    ('312,232', '10.12', '0.1223', '0.00008037', '0')
    """
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 0.001 or size == 0:
        return f"{value:,.4g}"
    digits = min(3 - math.floor(math.log10(size)), 15)
    return f"{value:.{digits}f}"

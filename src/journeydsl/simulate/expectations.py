"""Evaluating `expect` lines against the exact engine (JD501).

Imported only when a file has `expect` lines: it brings in numpy and scipy.
"""

from __future__ import annotations

import math

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from ..language.model import Expect

_OPS = {
    ">=": lambda a, b: a >= b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
    ">": lambda a, b: a > b and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
    "<=": lambda a, b: a <= b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
    "<": lambda a, b: a < b and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
_MONEY = {"revenue", "clv", "cac"}


def evaluate(compiled) -> list[Diagnostic]:
    """A JD501 error for every `expect` that does not hold (baseline and scenarios)."""
    from . import simulate

    journey = compiled.journey
    problems: list[Diagnostic] = []
    runs = [(None, journey.expects)] + [(s.id, s.expects) for s in journey.scenarios]
    for scenario, expects in runs:
        if not expects:
            continue
        wanted = frozenset(e.argument.step for e in expects
                           if e.argument is not None and e.argument.step)
        report = simulate(compiled, scenario, places=wanted, cohort=False)
        for expect in expects:
            actual = metric_value(report, compiled.index, expect)
            if actual is not None and _OPS[expect.op](actual, expect.value):
                continue
            where = f" in scenario `{scenario}`" if scenario else ""
            name = _metric_text(expect)
            if actual is None:
                why = ("no prospect converts" if _conversion(report, expect) == 0
                       else "the journey has no cost, so CAC is 0")
                message = f"expectation failed{where}: `{name}` is undefined ({why})"
            else:
                message = (f"expectation failed{where}: `{name}` is "
                           f"{_show(actual, expect, journey.currency)}, expected {expect.op} "
                           f"{_show(expect.value, expect, journey.currency)}")
            problems.append(diag.make(
                "JD501", message, compiled.source, expect.span,
                help="the journey's numbers miss this target: change the journey or the target "
                     "(`journey simulate` shows every metric)"))
    return problems


def metric_value(report, index, expect: Expect) -> float | None:
    if expect.argument is not None:
        place = expect.argument.step
        table = report.blended.stages if (
            place in index.stage_steps and place not in index.steps) else report.blended.steps
        return table[place][expect.metric]
    metrics = report.personas[expect.persona] if expect.persona else report.blended
    return {
        "conversion": metrics.conversion,
        "revenue": metrics.revenue,
        "clv": metrics.clv,
        "cac": metrics.cac,
        "ltv_cac": metrics.ltv_cac,
        "time_to_convert": metrics.time_to_convert_days,
        "viral_coefficient": metrics.viral_coefficient,
    }[expect.metric]


def _conversion(report, expect: Expect) -> float:
    metrics = report.personas[expect.persona] if expect.persona else report.blended
    return metrics.conversion


def _metric_text(expect: Expect) -> str:
    if expect.argument is not None:
        return f"{expect.metric}({expect.argument.text})"
    return f"{expect.metric}({expect.persona})" if expect.persona else expect.metric


def _show(value: float, expect: Expect, currency: str | None) -> str:
    if expect.unit == "rate":
        return f"{value * 100:.3g}%"
    if expect.unit == "days":
        return f"{value:.3g} days"
    text = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{text} {currency}" if expect.metric in _MONEY and currency else text

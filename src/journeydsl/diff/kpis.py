"""KPI deltas and `expect` lines that flip, between two versions.

Every headline metric of the metric table (`metrics.HEADLINE`: conversion,
revenue, cost, CLV, CAC, LTV:CAC, time to convert, ...; payback and profit
join by themselves once the table has them), old and new, blended and per
persona, the biggest movers first. The values are `journey simulate`'s
(the exact engine on the baseline), so a test can hold the two to each
other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..metrics import HEADLINE, Metric

if TYPE_CHECKING:
    from ..simulate import Report
    from ..simulate.expectations import Outcome


#: Two values closer than this (relative) are the same number reached by
#: different sums: the engine's last digits, not a change a reviewer should
#: see (an edit elsewhere reorders a solve and `3 d` becomes `3 d + 4e-16`).
SAME = 1e-9
#: Movers are ordered by their relative change to this many digits, so equal
#: moves (CAC and cost per prospect when conversion holds) keep table order.
ORDER_DIGITS = 9


def same(a: float, b: float) -> bool:
    """
    >>> same(3.0, 3.0 + 4.44e-16), same(0.0, 0.0), same(1.0, 1.0001), same(0.0, 1e-300)
    (True, True, False, False)
    """
    return a == b or abs(a - b) <= SAME * max(abs(a), abs(b)) and a != 0 and b != 0


@dataclass(frozen=True)
class Delta:
    metric: Metric
    old: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return 0.0 if same(self.old, self.new) else self.new - self.old

    @property
    def relative(self) -> float | None:
        """The change over the old value; None when that means nothing."""
        if self.old is None or self.new is None or self.old == 0:
            return None
        return 0.0 if same(self.old, self.new) else (self.new - self.old) / abs(self.old)

    @property
    def moved(self) -> float:
        """How far it moved, for ordering: relative change; a value that
        appeared, vanished or left zero counts as the largest move."""
        if self.old is None and self.new is None:
            return 0.0
        if self.old is None or self.new is None:
            return math.inf
        if self.old == 0:
            return 0.0 if self.new == 0 else math.inf
        return float(f"{abs(self.relative or 0.0):.{ORDER_DIGITS}g}")

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric.name, "json": self.metric.json, "label": self.metric.label,
                "unit": self.metric.unit, "old": self.old, "new": self.new,
                "change": self.change, "relative": self.relative}


def deltas(old: dict[str, float | None] | None,
           new: dict[str, float | None] | None) -> list[Delta]:
    """One row per headline metric, biggest movers first (ties: table order)."""
    rows = [Delta(m, (old or {}).get(m.name), (new or {}).get(m.name)) for m in HEADLINE]
    order = {m.name: i for i, m in enumerate(HEADLINE)}
    return sorted(rows, key=lambda d: (-d.moved if d.moved != math.inf else -1e300,
                                       order[d.metric.name]))


def values(report: Report | None, persona: str | None = None) -> dict[str, float | None] | None:
    if report is None:
        return None
    metrics = report.blended if persona is None else report.personas.get(persona)
    if metrics is None:
        return None
    return {m.name: metrics.value(m.name) for m in HEADLINE}


@dataclass(frozen=True)
class Flip:
    """One `expect` line on either side, with how it did on each."""

    scenario: str | None
    text: str  # `metric(arg) OP VALUE` as written (the new side's when both)
    old: Outcome | None
    new: Outcome | None

    @property
    def flipped(self) -> bool:
        return (self.old is not None and self.new is not None
                and self.old.passed != self.new.passed)

    def as_dict(self) -> dict[str, Any]:
        def side(outcome: Outcome | None) -> dict[str, Any] | None:
            return None if outcome is None else {"passed": outcome.passed,
                                                 "actual": outcome.actual}

        return {"scenario": self.scenario, "expect": self.text, "flipped": self.flipped,
                "old": side(self.old), "new": side(self.new)}


def expectations(old: list[Outcome], new: list[Outcome],
                 renamed: Callable[[str], str] = lambda text: text) -> list[Flip]:
    """Each `expect` line of either side (matched by scenario, metric and
    operator; `renamed` writes an old metric text with today's names)."""
    def key(outcome: Outcome, rename: Callable[[str], str]) -> tuple[str | None, str, str]:
        return (outcome.scenario, rename(outcome.expect.text), outcome.expect.op)

    before = {key(o, renamed): o for o in old}
    after = {key(o, lambda t: t): o for o in new}
    out = []
    for k in dict.fromkeys([*after, *before]):
        a, b = before.get(k), after.get(k)
        shown = b or a
        assert shown is not None  # each key came from one side or the other
        text = f"{shown.expect.text} {shown.expect.op} {_threshold(shown)}"
        out.append(Flip(k[0], text, a, b))
    return out


def _threshold(outcome: Outcome) -> str:
    from ..simulate.expectations import show

    return show(outcome.expect.value, outcome.expect, outcome.currency)

"""Arrivals of one state: the values `timeline.propagate` passes around.

A `Series` is one state's arrivals as sorted, unique integer times (seconds)
with the amount arriving at each: a probability mass, money, or several
walks' amounts side by side (a 2-D array, one column per walk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Most amounts in flight one propagation may handle (memory and time
#: bound); more raises TooManyEvents.
EVENT_BUDGET = 20_000_000

class TooManyEvents(ValueError):
    """A journey whose loops make more distinct arrival times before the
    horizon than EVENT_BUDGET (a fast loop over a long horizon). `states`:
    the component being propagated when the budget ran out (the loop whose
    delays force the times apart)."""

    def __init__(self, states: list[int]) -> None:
        super().__init__(f"more than {EVENT_BUDGET:,} distinct arrival times before the horizon")
        self.states = states


@dataclass
class Series:
    """One state's arrivals: sorted unique integer times and amounts."""

    t: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def total(self, before: float = math.inf) -> float:
        """Sum of the amounts arriving at times < `before`."""
        if before == math.inf:
            return float(self.x.sum())
        return float(self.x[: np.searchsorted(self.t, before, side="left")].sum())

    def weighted(self, w: np.ndarray) -> float:
        return float(self.x @ w)


def merge(times: list[np.ndarray], amounts: list[np.ndarray]) -> Series:
    """The sum of several (times, amounts) parts as one Series."""
    if not times:
        return Series()
    if len(times) == 1:  # one part, most often already sorted and unique (a shift)
        t = times[0]
        if len(t) < 2 or bool((t[1:] > t[:-1]).all()):
            return Series(t, amounts[0])
    t = np.concatenate(times)
    x = np.concatenate(amounts)
    if not len(t):
        return Series()
    unique, where = np.unique(t, return_inverse=True)
    if x.ndim == 1:
        return Series(unique, np.bincount(where, weights=x, minlength=len(unique)))
    summed = np.zeros((len(unique), x.shape[1]))  # amounts of several walks side by side
    np.add.at(summed, where, x)
    return Series(unique, summed)


#: No arrivals (shared: a Series is never changed in place).
NONE = Series()


def nothing(size: int) -> list[Series]:
    """Inputs for `size` states, none arriving anywhere yet."""
    return [NONE] * size



def check_budget(events: int, group: list[int] | None = None) -> None:
    """TooManyEvents past the budget (`group`: the states being propagated)."""
    if events > EVENT_BUDGET:
        raise TooManyEvents([] if group is None else sorted(group))

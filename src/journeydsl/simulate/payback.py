"""Payback: the time from which the cumulative discounted profit stays >= 0.

  F(t) = E[sum over the visits at times <= t of the discounted
           (margin x value - cost) of the visited step]

per entering prospect. Payback is the smallest t with F(s) >= 0 for every
s >= t (up to the horizon, if any): 0 when F is never negative, "never"
(None) when F ends below 0, at the horizon or in the limit (where it is the
`profit` metric). F only changes at visit times, so payback is one of them.

F is a sum over arrival times (timeline.py). A `Money` is one walk's F: of
one persona's prospects entering at one step, with or without a horizon.
A `ProfitCurve` is a weighted sum of them (the prospects of one persona
entering anywhere: their entry rates; the persona mix: shares x entry
rates), so a blended payback is read off the blended curve, never averaged.

**Under a horizon** the horizon engine's arrivals already hold every visit
before H (`Settled`).

**Without a horizon** (`Open`) the arrivals are followed up to a time T,
doubled until the rest cannot matter. Two exact totals make that
rigorous: with p = margin x value - cost, p+ and p- its positive and
negative parts, and A = (I - Qd)^-1 (p+ + p-) the discounted absolute money
a walk makes from each step on (one solve), an arrival of amount x at step
s and time t can change F by at most x d(t) A(s) from then on. Arrivals
for which that is below PRUNE x the money at stake are dropped (a deep,
unlikely part of a journey costs nothing), and everything dropped or later
than T moves F by no less than -(E[sum d p-] - the negative money followed).
So once F(T-) less that slack is >= -tolerance, F stays >= -tolerance from
T on and the payback is the time after the last F < -tolerance before T.

The tolerance is TOLERANCE x the money at stake, E[sum d |p|]: F's rounding
(it is a sum of many terms) and the pruned amounts are far below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .._gc import paused_gc
from .timeline import Network, Series, TooManyEvents, nothing, propagate

DAY = 86_400  # seconds
#: F >= -TOLERANCE x (the money at stake) counts as >= 0.
TOLERANCE = 1e-9
#: An arrival whose money from then on is at most this share of the money at
#: stake is not followed (and counted in the slack).
PRUNE = 1e-16
#: Without a horizon, walks are followed at most this long (1000 years).
LONGEST_DAYS = 365_000.0


@dataclass(frozen=True)
class Events:
    """F's changes: at `times` (days, sorted, unique) by `gains`; `negative`
    and `positive` are the totals of the negative and positive money in
    them (what the slack is measured against)."""

    times: np.ndarray
    gains: np.ndarray
    negative: float
    positive: float


class Money(Protocol):
    """One walk's profit over time."""

    @property
    def profit(self) -> float:
        """F at the end (the horizon, or in the limit)."""

    @property
    def positive(self) -> float:
        """E[sum of discounted p+]."""

    @property
    def negative(self) -> float:
        """E[sum of discounted p-]."""

    @property
    def complete(self) -> bool:
        """Whether events(...) holds every visit (a horizon cuts the walk)."""

    def first_until(self) -> float:
        """Days to follow first (ignored when complete)."""
        ...

    def events(self, until_days: float) -> Events:
        """F's changes at times < until_days."""
        ...


def events_of(times: np.ndarray, money: np.ndarray) -> Events:
    """Events from the money of each arrival (times in seconds, unsorted)."""
    return columns_of(times, money[:, None])[0]


def columns_of(times: np.ndarray, money: np.ndarray) -> list[Events]:
    """`events_of` for several walks' money (columns) at the same arrivals
    (the times sorted once for all of them)."""
    if not len(times):
        return [Events(np.zeros(0), np.zeros(0), 0.0, 0.0) for _ in range(money.shape[1])]
    unique, where = np.unique(times, return_inverse=True)
    days = unique / DAY
    out = []
    for j in range(money.shape[1]):
        column = money[:, j]
        gains = np.bincount(where, weights=column, minlength=len(unique))
        out.append(Events(days, gains, float(-column[column < 0].sum()),
                          float(column[column > 0].sum())))
    return out


class Settled:
    """A walk under a horizon: every visit before H is among the arrivals
    (their money is summed on first use)."""

    complete = True

    def __init__(self, arrivals: list[Series], per_visit: np.ndarray, daily: float) -> None:
        self._arrivals: list[Series] | None = arrivals
        self._per_visit, self._daily = per_visit, daily
        self._events: Events | None = None

    def _settled(self) -> Events:
        if self._events is None:
            assert self._arrivals is not None
            n, daily = len(self._per_visit), self._daily
            parts_t, parts_m = [], []
            for state, series in enumerate(self._arrivals):
                p = self._per_visit[state % n]
                if len(series.t) and p:
                    parts_t.append(series.t)
                    parts_m.append(series.x * p * _discount(series.t, daily))
            self._events = events_of(
                np.concatenate(parts_t) if parts_t else np.zeros(0, np.int64),
                np.concatenate(parts_m) if parts_m else np.zeros(0))
            self._arrivals = None
        return self._events

    @property
    def positive(self) -> float:
        return self._settled().positive

    @property
    def negative(self) -> float:
        return self._settled().negative

    @property
    def profit(self) -> float:
        return float(self._settled().gains.sum())

    def first_until(self) -> float:
        return math.inf

    def events(self, until_days: float) -> Events:
        return self._settled()


class Walks:
    """One persona's walks from each of its entry steps, followed together
    without a horizon (the amounts of each start side by side: one pass
    over the steps for all of them), as far as a payback needs."""

    def __init__(self, network: Callable[[], Network], starts: list[int],
                 per_visit: np.ndarray, ahead_pos: np.ndarray, ahead_neg: np.ndarray,
                 durations: list[float], daily: float) -> None:
        """`network`: the persona's moves (made on first use); `starts`: a
        step per column; `ahead_pos`, `ahead_neg`: per step, the discounted
        p+ and p- a walk makes from a visit there on; `durations`: each
        start's expected walk length (days)."""
        self.network, self.starts, self.daily = network, starts, daily
        self.positive = ahead_pos[starts]
        self.negative = ahead_neg[starts]
        self.durations = durations
        ahead = ahead_pos + ahead_neg
        stake = self.positive + self.negative
        # keep an arrival of amount x at t when x d(t) A(s) > PRUNE x stake
        # (for some start: a row of `least` per step, a column per start)
        self.least = np.full((len(ahead), len(starts)), np.inf)
        np.divide(PRUNE * stake[None, :], ahead[:, None], out=self.least,
                  where=ahead[:, None] > 0)
        # per step: no money ahead at all
        self.hopeless: list[bool] = (~np.isfinite(self.least).any(axis=1)).tolist()
        # what a visit of each step brings (F changes at the visits of those with any)
        self.per_visit: list[float] = np.asarray(per_visit, float).tolist()
        self._cache: tuple[float, list[Events]] | None = None

    def events(self, until_days: float) -> list[Events]:
        """F's changes before `until_days`, per start."""
        if self._cache is not None and self._cache[0] >= until_days:
            return self._cache[1]  # followed further already: more of F, as good
        net = self.network()
        net.horizon = math.ceil(until_days * DAY)
        inputs = nothing(net.size)
        columns = len(self.starts)
        for j, s in enumerate(self.starts):
            amounts = np.zeros((1, columns))
            amounts[0, j] = 1.0
            inputs[s] = Series(np.zeros(1, np.int64), amounts) if inputs[s].x.ndim == 1 \
                else Series(inputs[s].t, inputs[s].x + amounts)
        least, hopeless, daily = self.least, self.hopeless, self.daily
        reached: list[int] = []  # (a few hundred of a large journey's steps)

        def keep(state: int, series: Series) -> Series:
            reached.append(state)
            if hopeless[state]:
                return Series()
            big = (np.abs(series.x) * _discount(series.t, daily)[:, None] > least[state]).any(1)
            return series if big.all() else Series(series.t[big], series.x[big])

        arrivals = propagate(net, inputs, keep)
        parts_t, parts_m = [], []
        for state in sorted(reached):  # (in step order: the sums' order)
            p = self.per_visit[state]
            series = arrivals[state]
            if p != 0 and len(series.t):
                parts_t.append(series.t)
                parts_m.append(series.x * (p * _discount(series.t, daily))[:, None])
        if parts_t:
            found = columns_of(np.concatenate(parts_t), np.concatenate(parts_m))
        else:
            found = columns_of(np.zeros(0, np.int64), np.zeros((0, columns)))
        self._cache = (until_days, found)
        return found


class Open:
    """The walks from one start without a horizon: a column of `Walks`."""

    complete = False

    def __init__(self, walks: Walks, column: int) -> None:
        self.walks, self.column = walks, column
        self.positive = float(walks.positive[column])
        self.negative = float(walks.negative[column])
        self.profit = self.positive - self.negative

    def first_until(self) -> float:
        return max(4.0 * self.walks.durations[self.column], 1.0)

    def events(self, until_days: float) -> Events:
        return self.walks.events(until_days)[self.column]


def _discount(t: np.ndarray, daily: float) -> np.ndarray:
    return np.ones(len(t)) if daily == 1.0 else np.power(daily, t / DAY)


class ProfitCurve:
    """F of some prospects: a weighted sum of walks' F (weights sum to 1),
    given, or made on first use (`make`: nothing is solved for a payback no
    one reads)."""

    def __init__(self, parts: tuple[tuple[float, Money], ...] = (),
                 make: Callable[[], tuple[tuple[float, Money], ...]] | None = None) -> None:
        self._parts = parts if make is None else None
        self._make = make
        self._found: tuple[float | None, str | None] | None = None
        #: the same prospects' F by a coarser quadrature rule over customers'
        #: own rates (mixture.py), and why a payback the two disagree on is
        #: not given
        self.coarse: ProfitCurve | None = None
        self.coarse_why = ""

    def check_against(self, coarse: ProfitCurve, why: str) -> None:
        """Give a payback only if `coarse` gives the same one."""
        self.coarse, self.coarse_why = coarse, why

    @property
    def parts(self) -> tuple[tuple[float, Money], ...]:
        if self._parts is None:
            assert self._make is not None
            self._parts = self._make()
        return self._parts

    @staticmethod
    def mix(curves: list[tuple[float, ProfitCurve]]) -> ProfitCurve:
        """sum of weight x curve (the persona mix: shares); checked against
        the mix of the coarser curves when any of them has one."""
        mixed = ProfitCurve(make=lambda: tuple((weight * w, money) for weight, curve in curves
                                               for w, money in curve.parts if weight * w))
        checked = [c for _, c in curves if c.coarse is not None]
        if checked:
            mixed.check_against(ProfitCurve.mix([(weight, c.coarse or c) for weight, c in curves]),
                                checked[0].coarse_why)
        return mixed

    @property
    def profit(self) -> float:
        return sum(w * m.profit for w, m in self.parts)

    def payback(self) -> tuple[float | None, str | None]:
        """(payback in days, None) or (None, why there is none)."""
        if self._found is None:
            with paused_gc():  # many small arrays, none of them garbage
                found = _payback(self.parts)
            if self.coarse is not None:
                other = self.coarse.payback()
                if not _same(found[0], other[0]):
                    found = (None, f"not computed: {self.coarse_why} (two rules give "
                             f"{_days(found[0])} and {_days(other[0])})")
            self._found = found
        return self._found


def _same(a: float | None, b: float | None) -> bool:
    """Two paybacks (days) equal to rounding, or both none."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def _days(days: float | None) -> str:
    return "never" if days is None else f"{days:g} days"


def _payback(parts: tuple[tuple[float, Money], ...]) -> tuple[float | None, str | None]:
    stake = sum(w * (m.positive + m.negative) for w, m in parts)
    if not stake > 0:
        return 0.0, None  # no money at all: F is 0, never negative
    tol = TOLERANCE * stake
    complete = all(m.complete for _, m in parts)
    end = "at the horizon" if complete else "in the long run"
    if sum(w * m.profit for w, m in parts) < -tol:
        return None, f"never: the cumulative profit ends below zero {end}"
    until = max((m.first_until() for _, m in parts if not m.complete), default=math.inf)
    while True:
        try:
            found = [(w, m.events(until)) for w, m in parts]
        except TooManyEvents as err:
            return None, f"not computed: {err}"
        times = np.concatenate([e.times for _, e in found])
        gains = np.concatenate([w * e.gains for w, e in found])
        times, where = np.unique(times, return_inverse=True)
        f = np.cumsum(np.bincount(where, weights=gains, minlength=len(times)))
        slack = 0.0 if complete else sum(w * max(m.negative - e.negative, 0.0)
                                         for (w, e), (_, m) in zip(found, parts))
        last = float(f[-1]) if len(f) else 0.0
        if complete or last - slack >= -tol or until >= LONGEST_DAYS:
            below = np.flatnonzero(f < -tol)
            if not len(below):
                return 0.0, None
            if below[-1] + 1 == len(times):
                return None, (f"never: the cumulative profit ends below zero {end}" if complete
                              else "never within 1000 years")
            return float(times[below[-1] + 1]), None
        until = min(2.0 * until, LONGEST_DAYS)

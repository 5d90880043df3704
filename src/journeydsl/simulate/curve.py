"""The cohort curve: what a cohort of entering prospects has earned, spent and
become by the end of each period (`journey simulate --curve month`).

Row k holds, per entering prospect, everything that happened before the end
of period k (t < k x P; P = 30, 7 or 1 days for month, week, day): the
cumulative discounted revenue, cost and profit (margin x revenue - cost),
the share converted, and the active customers (converted, walk not ended).
That is exactly what a `horizon` of k x P would count, so row k equals
`journey simulate` with `horizon` set to its end (tests hold it to that);
its profit is F(t) of the payback, just before t. Referred prospects are
left out, as in the metrics.

With a `per customer` rate the rows are integrated over the customers' own
rates: row k counts at most the visits a walk makes before its end, so the
quadrature rule with that visit bound (mixture.py) is exact for every row.
A loop through the drawn move that takes no time has no such bound: then
there is no curve (`NoCurve`, with why).

With a horizon the curve ends at it (the last row at H when H is not a
whole number of periods). Without one it runs until the payback (if any)
is behind it and at most 1% of the money at stake and of the walks is still
to come (at most MAX_ROWS rows); `rest` in the result says what is left
after the last row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..language.compiled import CompiledJourney
from .chain import Chain, build_chain
from .horizon import DAY, _Timed
from .timeline import Series, TooManyEvents, propagate

PERIODS = {"month": 30.0, "week": 7.0, "day": 1.0}
MAX_ROWS = 600
#: Without a horizon the curve goes on while more than this share of the
#: money at stake, or of the walks, is still to come.
REST = 0.01
#: Amounts of mass below this (per entering prospect) are not followed.
NEGLIGIBLE = 1e-13

COLUMNS = ("revenue", "cost", "profit", "converted", "active_customers")


@dataclass(frozen=True)
class Curve:
    period: str
    rows: list[dict]  # period, end_days and COLUMNS, cumulative per entering prospect
    rest: dict[str, float]  # no horizon: after the last row, the share of the money at
    # stake and of the walks still to come
    payback_days: float | None

    def as_list(self) -> list[dict]:
        return list(self.rows)


class NoCurve(ValueError):
    """A cohort curve that cannot be computed exactly (the message says why)."""


def cohort_curve(journey: CompiledJourney, period: str, persona: str | None = None,
                 payback: float | None = None) -> Curve:
    """The curve of one persona, or of the persona mix (share-weighted);
    `payback` (days) is shown with it and makes the curve reach it."""
    size = PERIODS[period] * DAY
    shares = {persona: 1.0} if persona else dict(journey.shares)
    chains = {p: build_chain(journey, p) for p in shares}
    horizon = journey.horizon_days
    if horizon is not None:
        end = horizon * DAY
    else:
        end = _open_end(list(chains.values()), size, payback)
    count = min(MAX_ROWS, max(1, math.ceil(end / size - 1e-12)))
    edges = np.minimum(np.arange(1, count + 1) * size, end)
    total = np.zeros((count, len(COLUMNS)))
    rest_money = rest_walks = 0.0
    for p, share in shares.items():
        table, money_left, walks_left = _mixed_rows(chains[p], edges)
        total += share * table
        rest_money += share * money_left
        rest_walks += share * walks_left
    rows = [{"period": k + 1, "end_days": float(edges[k] / DAY),
             **dict(zip(COLUMNS, map(float, total[k])))} for k in range(count)]
    # (under a horizon nothing after it counts: no rest)
    rest = {"money": rest_money, "walks": rest_walks} if horizon is None else {}
    return Curve(period, rows, rest, payback)


def _mixed_rows(chain: Chain, edges: np.ndarray) -> tuple[np.ndarray, float, float]:
    """`_rows`, integrated over a `per customer` rate's draw (the shares left
    over: of the money at stake over the draw, of the walks)."""
    from .mixture import MAX_POINTS, points
    from .quadrature import Drawn

    # under a horizon nothing after it counts: no rest to measure, and no money
    # at stake to solve for (a closed loop, JD405 without a horizon, makes
    # it infinite: I - Qd is singular)
    measure = chain.horizon_days is None
    drawn = Drawn.of(chain) if chain.per_customer else None
    if drawn is None:
        table, stake, seen, ended = _rows(chain, edges, measure)
        return table, _left(stake, seen), max(1.0 - ended, 0.0)
    bound = drawn.visit_bound(replace(chain, horizon_days=float(edges[-1]) / DAY))
    if bound is None or points(bound) > MAX_POINTS:
        raise NoCurve("no cohort curve: the customers' own rate of "
                      f"`{chain.steps[drawn.source]} -> {chain.steps[drawn.target]}` makes "
                      "a loop without delay (or too many visits to integrate exactly)")
    p, w = drawn.draw.rule(points(bound))
    total = np.zeros((len(edges), len(COLUMNS)))
    stake = seen = ended = 0.0
    for x, weight in zip(np.minimum(p, 1.0 - 2.0 ** -50).tolist(), w.tolist()):
        table, s, v, e = _rows(drawn.at(chain, x), edges, measure)
        total += weight * table
        stake, seen, ended = stake + weight * s, seen + weight * v, ended + weight * e
    return total, _left(stake, seen), max(1.0 - ended, 0.0)


def _left(stake: float, seen: float) -> float:
    return max(stake - seen, 0.0) / stake if stake > 0 else 0.0


def _rows(chain: Chain, edges: np.ndarray,
          measure: bool = True) -> tuple[np.ndarray, float, float, float]:
    """One persona's cumulative columns at each edge (seconds), the money at
    stake and the part of it seen before the last edge (0, 0 unless
    `measure`), and the walks ended."""
    timed = _Timed(replace(chain, horizon_days=float(edges[-1]) / DAY))
    n = timed.n
    arrivals = propagate(timed.layered, timed.start(2 * n), _negligible)
    count = len(edges)
    out = np.zeros((count, len(COLUMNS)))
    value, cost, profit = chain.value, chain.cost, chain.profit
    stop = chain.stop
    stake_seen = 0.0
    ended = 0.0
    for state, series in enumerate(arrivals):
        if not len(series.t):
            continue
        s = state % n
        bins = np.searchsorted(edges, series.t, side="right")  # the first edge after t
        disc = series.x * timed.discount(series.t)
        for col, amount in ((0, value[s]), (1, cost[s]), (2, profit[s])):
            if amount:
                out[:, col] += _cumulative(bins, disc * amount, count)
        stake_seen += float(np.abs(disc * profit[s]).sum())
        if stop[s]:
            gone = _cumulative(bins, series.x * stop[s], count)
            ended += float(gone[-1])
            if state >= n:
                out[:, 4] -= gone  # customers whose walk ended
    converted = np.zeros(count)
    goal = chain.goal
    entry = np.asarray(chain.entry, float)
    converted += float(entry[goal].sum())
    for e in np.flatnonzero(goal[chain.move_col]).tolist():
        series = arrivals[int(chain.move_row[e])]
        if len(series.t):
            at = series.t + timed.delay[e]
            bins = np.searchsorted(edges, at, side="right")
            converted += _cumulative(bins, series.x * float(chain.move_rate[e]), count)
    out[:, 3] = converted
    out[:, 4] += converted
    if not measure:
        return out, 0.0, 0.0, ended
    stake = float(np.asarray(chain.entry) @ _ahead_abs(chain))
    return out, stake, stake_seen, ended


def _cumulative(bins: np.ndarray, amounts: np.ndarray, count: int) -> np.ndarray:
    """Per edge k, the sum of the amounts whose time is before edge k."""
    return np.cumsum(np.bincount(bins, weights=amounts, minlength=count + 1)[:count])


def _negligible(state: int, series: Series) -> Series:
    big = np.abs(series.x) > NEGLIGIBLE
    return series if big.all() else Series(series.t[big], series.x[big])


def _ahead_abs(chain: Chain) -> np.ndarray:
    """(I - Qd)^-1 |margin x value - cost|: the money at stake from each step on."""
    from ..linalg import LU

    val = chain.move_rate if chain.daily_discount == 1.0 else chain.move_discounted
    lu = LU(chain.n, chain.move_row, chain.move_col, val)
    return lu.solve(np.abs(chain.profit))


def _open_end(chains: list[Chain], size: float, payback: float | None) -> float:
    """Without a horizon: the end (seconds) of the first period after which at
    most REST of the money at stake and of the walks is still to come, and
    not before the payback; doubled from a first guess, at most MAX_ROWS
    periods."""
    last = MAX_ROWS * size
    end = size * max(1.0, math.ceil(((payback or 0.0) * DAY + 1) / size))
    while end < last:
        try:
            left = [_mixed_rows(c, np.array([end]))[1:] for c in chains]
        except TooManyEvents:
            break
        if all(money <= REST and walks <= REST for money, walks in left):
            return end
        end = min(2.0 * end, last)
    return last

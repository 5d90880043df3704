"""Exact metrics under a `horizon`, from the arrival times of walks.

Only what happens at t < H counts: visits, money, conversions and referrals
arriving before the horizon; a walk still going at H is active at the
horizon. Arrival times come from `timeline.propagate` (event by event: the
cost depends on how many distinct times walks reach, not on how the delays
divide each other).

The walk's state is (step, converted yet): a move into a goal step from an
unconverted state enters the converted layer, so one propagation over the
two layers gives visits, money and conversions. E[V; converted] also needs,
for the money a walk earned before it converted, whether it converts before
H: a second propagation over the unconverted layer carries each walk's
money (discounted to its entry) along its moves, and books it when the
walk enters a goal step.

First visits (the reach of a step on a cycle, of a stage walks can leave and
re-enter) come from taboo passes (walks stop on entering the set), or, for
the steps of a big loop through one hub, from three passes over the loop
(first_visits.py). The referral cascade (`cohort`) is one more propagation
in which referrals move new prospects as moves move walks (a referred
prospect's walk is then cut at H - s, s the time it arrives,
automatically).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..linalg import components
from .chain import Chain, reentrant_stages, stage_index
from .first_visits import reentered_stage_reach, step_reach
from .payback import ProfitCurve, Settled
from .results import Entry, Metrics, channel_money, place_tables
from .timeline import Network, Series, nothing, propagate

DAY = 86_400  # seconds


def seconds(days: np.ndarray | float) -> np.ndarray:
    """Durations in whole seconds (how the engine counts time)."""
    return np.rint(np.asarray(days, float) * DAY).astype(np.int64)


class _Timed:
    """One persona's chain in seconds, and its two-layer network."""

    def __init__(self, chain: Chain) -> None:
        assert chain.horizon_days is not None
        self.chain = chain
        self.n = n = chain.n
        self.horizon = int(seconds(chain.horizon_days))
        self.delay = seconds(chain.move_delay)
        self.ref_delay = seconds(chain.ref_delay)
        goal = chain.goal
        row, col, rate = chain.move_row, chain.move_col, chain.move_rate
        # layer 0 (unconverted) states 0..n-1, layer 1 (converted) n..2n-1
        self.layered = Network(
            2 * n,
            np.concatenate([row, row + n]),
            np.concatenate([np.where(goal[col], col + n, col), col + n]),
            np.concatenate([rate, rate]),
            np.concatenate([self.delay, self.delay]),
            self.horizon)

    def start(self, size: int, layered: bool = True) -> list[Series]:
        """Every prospect entering at time 0 (at a goal step: converted)."""
        n, alpha = self.n, np.asarray(self.chain.entry, float)
        inputs = nothing(size)
        for s in np.flatnonzero(alpha).tolist():
            state = s + n if layered and self.chain.goal[s] else s
            inputs[state] = Series(np.zeros(1, np.int64), np.array([alpha[s]]))
        return inputs

    def discount(self, t: np.ndarray) -> np.ndarray:
        f = self.chain.daily_discount
        return np.ones(len(t)) if f == 1.0 else np.power(f, t / DAY)


def _before(series: Series, delay: int, horizon: int) -> float:
    """The amount of arrivals from which a move taking `delay` still arrives
    before the horizon."""
    return series.total(horizon - delay)


def totals(chain: Chain) -> tuple[dict[str, float], _Timed, list[Series]]:
    """Conversion, revenue, cost, profit, acquisition cost, E[margin x V -
    C_from_goal; converted] and E[T; converted] under the horizon, with the
    arrivals they came from (the one pass levers and attribution re-run for
    each what-if)."""
    timed = _Timed(chain)
    n, horizon = timed.n, timed.horizon
    arrivals = propagate(timed.layered, timed.start(2 * n))
    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    mass = discounted_visits(timed, arrivals)
    both = mass[:n] + mass[n:]
    goal = chain.goal
    conversion = float(np.asarray(chain.entry)[goal].sum())
    time_converted = 0.0
    into_goal = np.flatnonzero(goal[chain.move_col])
    for e in into_goal.tolist():
        u, d, r = int(chain.move_row[e]), int(timed.delay[e]), float(chain.move_rate[e])
        series = arrivals[u]
        cut = np.searchsorted(series.t, horizon - d, side="left")
        conversion += r * float(series.x[:cut].sum())
        time_converted += r * float(series.x[:cut] @ (series.t[:cut] + d)) / DAY
    # after converting: margin less every cost; before: the margin, booked
    # when (and if) the walk converts before H
    converted = float(mass[n:] @ chain.profit) + _booked(timed, arrivals,
                                                          chain.margin * value)
    return ({"conversion": conversion, "revenue": float(both @ value),
             "cost": float(both @ cost), "profit": float(both @ chain.profit),
             "acquisition_cost": float(mass[:n] @ cost), "profit_converted": converted,
             "time_converted": time_converted},
            timed, arrivals)


def discounted_visits(timed: _Timed, arrivals: list[Series]) -> np.ndarray:
    """Per state: the visits before H, each discounted to the entry."""
    return np.array([float(s.x @ timed.discount(s.t)) if len(s.t) else 0.0 for s in arrivals])


def _booked(timed: _Timed, arrivals: list[Series], amounts: np.ndarray) -> float:
    """The money (`amounts` per visit) unconverted walks earned before they
    converted (before H): carried along the unconverted layer and booked on
    entering a goal."""
    chain, n, horizon = timed.chain, timed.n, timed.horizon
    goal = chain.goal
    row, col, rate = chain.move_row, chain.move_col, chain.move_rate
    stay = ~goal[col]
    money = Network(n, row[stay], col[stay], rate[stay], timed.delay[stay], horizon)
    inputs = []
    for s in range(n):  # what each visit adds to the money a walk carries on
        series = arrivals[s]
        inputs.append(Series(series.t, series.x * amounts[s] * timed.discount(series.t))
                      if len(series.t) and amounts[s] else Series())
    carried = propagate(money, inputs)  # money of the walks leaving each state
    booked = 0.0
    for e in np.flatnonzero(goal[col]).tolist():
        booked += float(rate[e]) * _before(carried[int(row[e])], int(timed.delay[e]), horizon)
    return booked


def _entries(chain: Chain, linear: dict[str, float], curve: ProfitCurve) -> dict[str, Entry]:
    """The prospects of each entry step: the horizon engine run from that
    step alone (one entry: the persona's own numbers)."""
    alpha = np.asarray(chain.entry, float)
    at = np.flatnonzero(alpha > 0).tolist()
    if len(at) == 1:
        return {chain.steps[at[0]]: Entry(dict(linear), curve, 1.0)}
    out = {}
    for e in at:
        start = np.zeros(chain.n)
        start[e] = 1.0
        values, _, arrivals = totals(replace(chain, entry=start))
        money = Settled(arrivals, chain.profit, chain.daily_discount)
        out[chain.steps[e]] = Entry(values, ProfitCurve(((1.0, money),)), float(alpha[e]))
    return out


def solve_with_horizon(chain: Chain, places: frozenset[str] | None = None,
                       cohort: bool = True, by_entry: bool = True) -> Metrics:
    n = chain.n
    found, timed, arrivals = totals(chain)
    linear: dict[str, Any] = dict(found)  # Metrics' expectation fields (floats)
    horizon = timed.horizon
    unconverted = np.array([s.total() for s in arrivals[:n]])
    converted = np.array([s.total() for s in arrivals[n:]])
    visits = unconverted + converted
    stop = chain.stop
    dropoff = unconverted * stop
    churn = converted * stop
    row, col, val, delay = chain.move_row, chain.move_col, chain.move_rate, timed.delay
    both = [_merged(arrivals[s], arrivals[n + s]) for s in range(n)]
    moved = np.array([float(val[e]) * _before(both[int(row[e])], int(delay[e]), horizon)
                      for e in range(len(row))])  # moves arriving before H, per move
    names, st = stage_index(chain)
    count = len(names)
    if places is None:
        want_step = np.ones(n, bool)
        want_stage = np.ones(count, bool)
    else:
        want_step = np.fromiter((s in places for s in chain.steps), bool, count=n)
        want_stage = np.fromiter((s in places for s in names), bool, count=count)
    # Steps: outside cycles reach = visits; a step whose only cycle is its own
    # loop is first reached by arrivals from elsewhere; others: taboo passes.
    count_c, labels = components(n, row, col)
    cyclic = np.bincount(labels, minlength=count_c)[labels] > 1
    reach = visits.copy()
    loop = (row == col) & ~cyclic[row]
    timed_loop = loop & (delay > 0)
    reach[row[timed_loop]] -= moved[timed_loop]
    instant = loop & (delay == 0)  # repeated visits within one instant
    reach[row[instant]] = visits[row[instant]] * (1.0 - val[instant])
    reach[cyclic] = np.nan
    # Stages entered at most once: P(hit) = expected entries before H.
    cross = st[row] != st[col]
    stage_reach = (np.bincount(st, weights=chain.entry, minlength=count)
                   + np.bincount(st[col[cross]], weights=moved[cross], minlength=count))
    again = reentrant_stages(row, col, st, count)
    stage_reach[again] = np.nan
    on_loops = step_reach(timed, np.flatnonzero(cyclic & want_step).tolist(), labels, both)
    for s, value in on_loops.items():
        reach[s] = value
    for k, value in reentered_stage_reach(timed, np.flatnonzero(again & want_stage).tolist(), st,
                                          labels, both).items():
        stage_reach[k] = value
    mass = discounted_visits(timed, arrivals)
    mass = mass[:n] + mass[n:]
    money = np.column_stack([mass * chain.value, mass * chain.cost, mass * chain.profit])
    steps_out, stages = place_tables(chain.steps, reach, visits, dropoff, churn, names, st,
                                     stage_reach, money)
    sent = sum(float(chain.ref_amount[e]) * _before(both[int(chain.ref_row[e])],
                                                    int(timed.ref_delay[e]), horizon)
               for e in range(len(chain.ref_row)))
    curve = ProfitCurve(((1.0, Settled(arrivals, chain.profit, chain.daily_discount)),))
    metrics = Metrics(
        **linear,
        viral_coefficient=sent,
        active_at_horizon=float(max(0.0, 1.0 - dropoff.sum() - churn.sum())),
        steps=steps_out,
        stages=stages,
        channels=channel_money(chain, money),
        curve=curve,
    )
    if by_entry:
        metrics.by_entry = _entries(chain, linear, curve)
    if len(chain.ref_row) and cohort:
        metrics.cohort, cascade = _cascade(timed)
        metrics.cohort_visits = dict(zip(chain.steps, cascade.tolist()))
    else:
        metrics.cohort = {"prospects": 1.0, "customers": metrics.conversion,
                          "revenue": metrics.revenue, "cost": metrics.cost}
        if cohort:  # no referrals: the cascade is the prospect itself
            metrics.cohort_visits = dict(zip(chain.steps, visits.tolist()))
    return metrics


def _merged(a: Series, b: Series) -> Series:
    if not len(a.t):
        return b
    if not len(b.t):
        return a
    from .timeline import merge

    return merge([a.t, b.t], [a.x, b.x])


def _cascade(timed: _Timed) -> tuple[dict[str, float], np.ndarray]:
    """Totals per entering prospect with the whole referral cascade before H,
    and the cascade's visits per step before H: referrals move new prospects
    (into the target's layer) as moves move walks."""
    chain, n, horizon = timed.chain, timed.n, timed.horizon
    goal = chain.goal
    base = timed.layered
    r_row, r_col, r_amount, r_delay = chain.ref_row, chain.ref_col, chain.ref_amount, \
        timed.ref_delay
    target = np.where(goal[r_col], r_col + n, r_col)
    net = Network(2 * n,
                  np.concatenate([base.src, r_row, r_row + n]),
                  np.concatenate([base.dst, target, target]),
                  np.concatenate([base.weight, r_amount, r_amount]),
                  np.concatenate([base.delay, r_delay, r_delay]), horizon)
    # a cascade that never dies out (JD406, a warning under a horizon) can
    # outgrow double precision before the horizon: its totals are then
    # infinite (null in JSON), without a warning on the user's terminal
    with np.errstate(over="ignore", invalid="ignore"):
        arrivals = propagate(net, timed.start(2 * n))
    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    revenue = spend = 0.0
    for state, series in enumerate(arrivals):
        if len(series.t):
            money = float(series.x @ timed.discount(series.t))
            if value[state % n]:  # inf x 0 would be NaN: no value, no revenue
                revenue += money * value[state % n]
            if cost[state % n]:
                spend += money * cost[state % n]
    both = [_merged(arrivals[s], arrivals[n + s]) for s in range(n)]
    referred = [float(r_amount[e]) * _before(both[int(r_row[e])], int(r_delay[e]), horizon)
                for e in range(len(r_row))]
    customers = float(np.asarray(chain.entry)[goal].sum())
    for e in np.flatnonzero(goal[chain.move_col]).tolist():
        customers += float(chain.move_rate[e]) * _before(arrivals[int(chain.move_row[e])],
                                                         int(timed.delay[e]), horizon)
    customers += sum(x for x, g in zip(referred, goal[r_col]) if g)
    visits = np.array([both[s].total() for s in range(n)])
    return {"prospects": 1.0 + float(sum(referred)), "customers": customers,
            "revenue": revenue, "cost": spend}, visits

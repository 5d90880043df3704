"""The exact engine: absorbing Markov chain algebra on the journey.

Without a horizon everything follows from a handful of sparse solves
(one LU factorization per matrix, reused for every right-hand side; the
inverse is never formed). Notation for one persona: Q the rates, alpha the
entry distribution, U the non-goal steps, G the goal steps, Qd the rates
discounted by each move's delay.

  visits           nu     = alpha (I - Q)^-1
  disc. visits     nu_d   = alpha (I - Qd)^-1            revenue = nu_d . value
  conversion       h_U    = (I - Q_UU)^-1 Q_UG 1         conversion = alpha . h
  time to convert  g_U    = (I - Q_UU)^-1 [(Q*D)_UU h_U + (Q*D)_UG 1]
  visits before conversion  nu_U = alpha_U (I - Q_UU)^-1 (drop-off = nu_U * stop)
  value of converting walks = sum_U nu_dU value h + f_d . (N_d value)_G,
    f_d the discounted arrivals at a first goal step

Reach, per step and per stage, is in reach.py; with a horizon the same
quantities come from a time-grid recursion (horizon.py).

Each matrix is factored once (factor.py: in block order, journeys mostly
moving forward); with few goal steps the solves with I - Q_UU reuse the LU
of I - Q (a rank-|G| change, see _Converting), and without discounting
Qd = Q.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._gc import paused_gc
from ..linalg import LU, subsystem
from .chain import Chain
from .moves import Moves
from .payback import Money, Open, ProfitCurve, Walks
from .reach import ReachPlan, place_reach
from .results import Entry, Metrics, channel_money
from .timeline import Network

_WOODBURY = 16  # goal steps up to this many: I - Q_UU from the LU of I - Q


def _before(n, goal, row, col, val, pos, full: LU):
    """Solves with I - Q_UU (the walk before it converts)."""
    g = np.flatnonzero(goal)
    if not len(g):
        return _Plain(full, goal)  # U is every step
    if len(g) <= _WOODBURY and 4 * len(g) < n:
        return _Converting(full, g, ~goal)
    size, r, c, v, sub_pos = subsystem(~goal, row, col, val, pos)
    return _Plain(LU(size, r, c, v, sub_pos), goal)


class _Plain:
    """Solves with I - Q_UU from its own LU."""

    def __init__(self, lu: LU, goal: np.ndarray) -> None:
        self.lu, self.goal = lu, goal

    def solve(self, b):
        """(I - Q_UU)^-1 b."""
        return self.lu.solve(b)

    def hit_goal(self, into_goal):
        """h_U = (I - Q_UU)^-1 Q_UG 1 (into_goal = Q_UG 1)."""
        return self.lu.solve(into_goal)

    def visits(self, alpha, _all_visits):
        """alpha_U (I - Q_UU)^-1."""
        return self.lu.solve(alpha[~self.goal], transpose=True)


class _Converting:
    """Solves with I - Q_UU through N = (I - Q)^-1 (factored already).

    Q_UU is Q with the goal rows and columns removed: a change of rank |G|.
    With C = N_GG (the expected visits between goal steps), the first goal
    step a walk from u reaches is g with probability (N_UG C^-1)[u, g], so
      h_U = N_UG C^-1 1,
      (I - Q_UU)^-1 b = (N b)_U - N_UG C^-1 (N b)_G         (b on U),
      a (I - Q_UU)^-1 = (a N)_U - (a N)_G C^-1 N_GU         (a on U):
    all visits less those after the first goal step (Woodbury's identity)."""

    def __init__(self, full: LU, g: np.ndarray, u_mask: np.ndarray) -> None:
        self.full, self.g, self.u = full, g, np.flatnonzero(u_mask)
        self.n = len(u_mask)
        self.eye = np.zeros((self.n, len(g)))
        self.eye[g, np.arange(len(g))] = 1.0
        self._cols: np.ndarray | None = None
        self._rows: np.ndarray | None = None

    @property
    def cols(self) -> np.ndarray:  # N[:, G]
        if self._cols is None:
            self._cols = self.full.solve(self.eye)
        return self._cols

    @property
    def rows(self) -> np.ndarray:  # N[G, :]
        if self._rows is None:
            self._rows = self.full.solve(self.eye, transpose=True).T
        return self._rows

    def _pad(self, b):
        out = np.zeros(self.n)
        out[self.u] = b
        return out

    def hit_goal(self, _into_goal):
        """h_U: P(the walk from u reaches a goal step)."""
        cols = self.cols
        return cols[self.u] @ np.linalg.solve(cols[self.g], np.ones(len(self.g)))

    def solve(self, b):
        """(I - Q_UU)^-1 b."""
        x = self.full.solve(self._pad(b))
        cols = self.cols
        return x[self.u] - cols[self.u] @ np.linalg.solve(cols[self.g], x[self.g])

    def visits(self, alpha, all_visits):
        """alpha_U (I - Q_UU)^-1, given all_visits = alpha (I - Q)^-1."""
        rows = self.rows
        x = all_visits - alpha[self.g] @ rows  # walks that start at a goal step left out
        first = np.linalg.solve(rows[:, self.g].T, x[self.g])  # P(first goal step is g)
        return x[self.u] - first @ rows[:, self.u]


def solve(chain: Chain, places: frozenset[str] | None = None, cohort: bool = True,
          by_entry: bool = True) -> Metrics:
    """Every metric of one persona, exactly.

    `places` limits the expensive reach computations (steps inside cycles,
    stages that walks can leave and re-enter) to those step and stage ids;
    others get None. None means all. `cohort=False` skips the
    referral-cascade totals (which under a horizon cost a second pass);
    `by_entry=False` the metrics of each entry step's prospects. Payback is
    computed when it is first read (`Metrics.payback`). With a `per
    customer` rate, every metric is integrated over each prospect's draw
    (mixture.py)."""
    if chain.per_customer:
        from .mixture import integrate
        from .quadrature import Drawn

        drawn = Drawn.of(chain)
        if drawn is not None:
            return integrate(chain, drawn, solve, places, cohort, by_entry)
    if chain.horizon_days is not None:
        from .horizon import solve_with_horizon

        return solve_with_horizon(chain, places, cohort, by_entry)
    n = chain.n
    graph = Moves(chain)
    row, col, val = graph.row, graph.col, graph.val
    alpha, goal = np.asarray(chain.entry, float), np.asarray(chain.goal, bool)
    undiscounted = chain.daily_discount == 1.0
    val_d = val if undiscounted else chain.move_discounted

    plan = ReachPlan(chain, graph, places)
    pos = plan.pos
    full = LU(n, row, col, val, pos)
    visits = full.solve(alpha, transpose=True)
    full_d = full if undiscounted else LU(n, row, col, val_d, pos)
    visits_d = visits if undiscounted else full_d.solve(alpha, transpose=True)

    u = np.flatnonzero(~goal)
    before = _before(n, goal, row, col, val, pos, full)
    into_goal = np.bincount(row, weights=val * goal[col], minlength=n)[u]
    h_u = before.hit_goal(into_goal)
    h = np.ones(n)
    h[u] = h_u
    # (Q*D)_UU h_U + (Q*D)_UG 1 = ((Q*D) h)_U, since h = 1 on goals
    rate_delay = chain.move_rate * chain.move_delay
    g_u = before.solve(np.bincount(row, weights=rate_delay * h[col], minlength=n)[u])
    before_d = before if undiscounted else _before(n, goal, row, col, val_d, pos, full_d)
    visits_before = np.zeros(n)
    visits_before[u] = before.visits(alpha, visits)
    if undiscounted:
        visits_before_d = visits_before
    else:
        visits_before_d = np.zeros(n)
        visits_before_d[u] = before_d.visits(alpha, visits_d)

    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    per_visit = chain.profit  # margin x value - cost
    margin_value = chain.margin * value
    # From each step on: the discounted profit (the by-entry columns and the
    # payback's bounds are solved for when they are first wanted: _Starts).
    profit_ahead = full_d.solve(per_visit)
    # E[margin x V - C_from_goal; converted] as a sum of parts, never as a
    # total less the walks that never convert (with conversion at 1e-16 that
    # difference is all rounding): the margin walks earn before converting,
    # times the chance to convert from there, plus the profit from their
    # first goal step on (first_d: discounted arrivals at a first goal step).
    first_d = alpha * goal + np.bincount(col, weights=visits_before_d[row] * val_d * goal[col],
                                         minlength=n)
    converted = (float(np.sum(visits_before_d[u] * margin_value[u] * h_u))
                 + float(first_d[goal] @ profit_ahead[goal]))
    stop = chain.stop
    sends = np.bincount(chain.ref_row, weights=chain.ref_amount, minlength=n)
    metrics = Metrics(
        conversion=float(alpha @ h),
        revenue=float(visits_d @ value),
        cost=float(visits_d @ cost),
        profit=float(visits_d @ per_visit),
        acquisition_cost=float(visits_before_d @ cost),
        profit_converted=converted,
        time_converted=float(alpha[u] @ g_u),
        viral_coefficient=float(visits @ sends),
        active_at_horizon=0.0,
        steps={},
        stages={},
    )

    def place_tables() -> dict[str, Any]:
        """The step, stage and channel tables (asked for by most outputs,
        not by the headline metrics): from arrays nothing changes after this."""
        money = np.column_stack([visits_d * value, visits_d * cost, visits_d * per_visit])
        with paused_gc():  # thousands of small dicts, none of them garbage
            steps, stages = place_reach(chain, plan, visits, visits_before, stop, money)
            return {"steps": steps, "stages": stages, "channels": channel_money(chain, money)}

    metrics.later(place_tables, "steps", "stages", "channels")
    starts = _Starts(chain, full, full_d, before_d, h, g_u, profit_ahead, margin_value)
    metrics.curve = starts.curve()
    if by_entry:
        metrics.by_entry = starts.entries()
    # (cheap here: computed even when `cohort` is False)
    metrics.cohort, cascade = _cohort(chain, full, full_d, visits, visits_d, h, undiscounted,
                                      metrics)
    metrics.cohort_visits = dict(zip(chain.steps, cascade.tolist()))
    return metrics


class _Starts:
    """The metrics of walks from each entry step, as columns: each quantity
    from every start at once is one solve with I - Q (or I - Q_UU) and a
    right-hand side, whatever the number of entries."""

    def __init__(self, chain: Chain, full: LU, full_d: LU, before_d, h, g_u, profit_ahead,
                 margin_value) -> None:
        self.chain, self.full, self.full_d, self.before_d = chain, full, full_d, before_d
        self.h, self.g_u, self.profit_ahead = h, g_u, profit_ahead
        self.margin_value = margin_value
        self._ahead: np.ndarray | None = None
        self._duration: np.ndarray | None = None
        self.goal = np.asarray(chain.goal, bool)
        self.u = np.flatnonzero(~self.goal)
        alpha = np.asarray(chain.entry, float)
        self.entries_at = np.flatnonzero(alpha > 0)
        self.rates = alpha[self.entries_at]
        self._net: Network | None = None
        self._walks: Walks | None = None

    @property
    def ahead(self) -> np.ndarray:
        """(I - Qd)^-1 [p, p+, p-, value, cost], p = margin x value - cost: the
        discounted profit (its parts: the payback's bounds), revenue and cost
        of a walk from each step on, as columns (one solve)."""
        if self._ahead is None:
            chain, p = self.chain, self.chain.profit
            self._ahead = self.full_d.solve(np.column_stack([
                p, np.maximum(p, 0.0), np.maximum(-p, 0.0), chain.value, chain.cost]))
            self._ahead[:, 0] = self.profit_ahead  # (the same solve: one value everywhere)
        return self._ahead

    @property
    def duration(self) -> np.ndarray:
        """The expected length of a walk from each step (days): how far to
        follow it first for its payback."""
        if self._duration is None:
            chain = self.chain
            self._duration = self.full.solve(np.bincount(
                chain.move_row, weights=chain.move_rate * chain.move_delay, minlength=chain.n))
        return self._duration

    def network(self) -> Network:
        """One persona's moves in whole seconds, for following walks in time."""
        if self._net is None:
            from .horizon import seconds

            chain = self.chain
            self._net = Network(chain.n, chain.move_row, chain.move_col, chain.move_rate,
                                seconds(chain.move_delay), 0)
        return self._net

    def money(self, step: int) -> Open:
        """The profit over time of walks from the entry step `step` (all the
        entries' walks are followed together, once)."""
        if self._walks is None:
            starts = self.entries_at.tolist()
            self._walks = Walks(self.network, starts, self.chain.profit, self.ahead[:, 1],
                                self.ahead[:, 2], [float(self.duration[e]) for e in starts],
                                self.chain.daily_discount)
        return Open(self._walks, self.entries_at.tolist().index(step))

    def _one(self, step: int) -> Callable[[], tuple[tuple[float, Money], ...]]:
        """The parts of the curve of walks from `step` alone, when wanted."""
        return lambda: ((1.0, self.money(step)),)

    def curve(self) -> ProfitCurve:
        """F of this persona's prospects: the entry rates' mix of each entry's
        (made when a payback is first read)."""
        return ProfitCurve(make=lambda: tuple((float(r), self.money(int(e)))
                                              for r, e in zip(self.rates, self.entries_at)))

    def entries(self) -> dict[str, Entry]:
        chain, goal, u = self.chain, self.goal, self.u
        n = chain.n
        cost = np.asarray(chain.cost, float)
        ahead_value = self.ahead[:, 3:]
        acquisition = np.zeros(n)
        acquisition[u] = self.before_d.solve(cost[u])
        # E[margin x V - C_from_goal; converted] from each step (see solve)
        row, col = chain.move_row, chain.move_col
        val_d = chain.move_rate if chain.daily_discount == 1.0 else chain.move_discounted
        into = np.bincount(row, weights=val_d * goal[col] * self.ahead[col, 0], minlength=n)
        converted = self.ahead[:, 0].copy()
        converted[u] = self.before_d.solve(self.margin_value[u] * self.h[u] + into[u])
        time = np.zeros(n)
        time[u] = self.g_u
        out = {}
        for e, rate in zip(self.entries_at.tolist(), self.rates.tolist()):
            values = {"conversion": float(self.h[e]), "revenue": float(ahead_value[e, 0]),
                      "cost": float(ahead_value[e, 1]), "profit": float(self.ahead[e, 0]),
                      "acquisition_cost": float(acquisition[e]),
                      "profit_converted": float(converted[e]), "time_converted": float(time[e])}
            out[chain.steps[e]] = Entry(values, ProfitCurve(make=self._one(e)), rate)
        return out


def _cohort(chain: Chain, full: LU, full_d: LU, visits, visits_d, h, undiscounted: bool,
            m: Metrics):
    """Totals per entering prospect with the whole referral cascade included,
    and the cascade's visits per step.

    Referred prospects start at the referral targets; K[i, j] counts the
    prospects that one prospect starting at target i brings to target j
    (over its whole walk), so the prospects arriving at the targets over
    every generation are `first (I - K)^-1`, and each brings the visits of a
    walk from its target (a row of `(I - Q)^-1`)."""
    n = chain.n
    targets = np.flatnonzero(np.bincount(chain.ref_col, weights=chain.ref_amount, minlength=n) > 0)
    base = {"prospects": 1.0, "customers": m.conversion, "revenue": m.revenue, "cost": m.cost}
    if len(targets) == 0:
        return base, np.asarray(visits, float)
    k = len(targets)
    starts = np.zeros((n, k))
    starts[targets, range(k)] = 1.0
    rows = full.solve(starts, transpose=True).T  # visits from each target, k x n
    rows_d = rows if undiscounted else full_d.solve(starts, transpose=True).T
    column = np.full(n, -1)
    column[targets] = np.arange(k)
    send = np.zeros((n, k))  # n x k
    send_d = np.zeros((n, k))
    np.add.at(send, (chain.ref_row, column[chain.ref_col]), chain.ref_amount)
    np.add.at(send_d, (chain.ref_row, column[chain.ref_col]), chain.ref_discounted)
    gen = rows @ send  # next-generation matrix K (counts)
    gen_d = rows_d @ send_d  # K with money discounted to the sender's entry
    first = visits @ send
    first_d = visits_d @ send_d
    if np.max(np.abs(np.linalg.eigvals(gen))) >= 1.0:
        # The cascade never dies out. The checks (JD406) reject such a file,
        # but they read a `per customer` rate at its mean: the mixture of
        # customers' own rates (mixture.py) can still be beyond it.
        return dict.fromkeys(base, np.inf), np.full(n, np.inf)
    eye = np.eye(k)
    multiplier = np.linalg.solve((eye - gen).T, first)  # first (I - K)^-1
    multiplier_d = np.linalg.solve((eye - gen_d).T, first_d)
    return {
        "prospects": 1.0 + float(multiplier.sum()),
        "customers": m.conversion + float(multiplier @ h[targets]),
        "revenue": m.revenue + float(multiplier_d @ (rows_d @ chain.value)),
        "cost": m.cost + float(multiplier_d @ (rows_d @ chain.cost)),
    }, visits + multiplier @ rows

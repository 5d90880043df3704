"""Exact metrics under a `horizon`: a time-grid recursion.

Delays are put on a grid whose step is the largest whole number of hours
dividing every delay (a day when all delays are whole days). The state is
(step, converted yet); `arrivals[k]` is the probability mass arriving in
each state at grid time k (every arrival is a visit). Moves without delay
happen within the same instant: each instant closes over them with one
solve of (I - Z^T), Z the zero-delay moves, factored once.

Only what happens at t < H counts: visits, money, conversions and referrals
arriving before the horizon. A referred prospect enters the same grid at the
time it arrives, so its walk is cut at H - s automatically.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from .chain import Chain
from .results import Metrics


def grid_step_days(chain: Chain) -> float:
    """The time step: gcd of all delays in whole hours (1 day if none)."""
    delays = np.concatenate([chain.delays.data, chain.referral_delays.data])
    hours = [int(round(d * 24)) for d in delays if d > 0]
    if not hours:
        return 1.0
    step = 0
    for h in hours:
        step = math.gcd(step, h)
    return max(step, 1) / 24.0


class _Grid:
    """The augmented chain (2n states) grouped by delay in grid steps."""

    def __init__(self, chain: Chain, step_days: float) -> None:
        n = chain.n
        self.n = n
        goal = chain.goal
        q = chain.rates.tocoo()
        units = np.rint(chain.delays.tocsr()[q.row, q.col].A1 / step_days).astype(int) \
            if q.nnz else np.zeros(0, int)
        target0 = np.where(goal[q.col], q.col + n, q.col)  # from class 0
        rows = np.concatenate([q.row, q.row + n])
        cols = np.concatenate([target0, q.col + n])
        vals = np.concatenate([q.data, q.data])
        unit2 = np.concatenate([units, units])
        self.moves: dict[int, sparse.csr_matrix] = {}
        for d in np.unique(unit2):
            pick = unit2 == d
            # transposed: pushes arrivals (a column vector) forward
            self.moves[int(d)] = sparse.csr_matrix(
                (vals[pick], (cols[pick], rows[pick])), shape=(2 * n, 2 * n))
        zero = self.moves.pop(0, None)
        self.closure = splu((sparse.identity(2 * n, format="csc") - zero.tocsc()).tocsc()) \
            if zero is not None and zero.nnz else None
        # Conversions: moves from class 0 into class 1, by delay.
        first = goal[q.col]
        self.converting: dict[int, sparse.csr_matrix] = {}
        for d in np.unique(units[first]) if q.nnz else []:
            pick = first & (units == d)
            self.converting[int(d)] = sparse.csr_matrix(
                (q.data[pick], (q.col[pick], q.row[pick])), shape=(n, n))
        r = chain.referrals.tocoo()
        r_units = np.rint(chain.referral_delays.tocsr()[r.row, r.col].A1 / step_days).astype(int) \
            if r.nnz else np.zeros(0, int)
        self.referrals: dict[int, sparse.csr_matrix] = {}
        for d in np.unique(r_units) if r.nnz else []:
            pick = r_units == d
            self.referrals[int(d)] = sparse.csr_matrix(
                (r.data[pick], (r.col[pick], r.row[pick])), shape=(n, n))

    def close(self, injected: np.ndarray) -> np.ndarray:
        return self.closure.solve(injected) if self.closure is not None else injected


def _start(chain: Chain, mass: np.ndarray) -> np.ndarray:
    """New prospects arriving at steps: goal steps convert on arrival."""
    out = np.zeros(2 * chain.n)
    out[: chain.n] = np.where(chain.goal, 0.0, mass)
    out[chain.n:] = np.where(chain.goal, mass, 0.0)
    return out


def _run(chain: Chain, grid: _Grid, steps: int, step_days: float, cascade: bool):
    """Forward pass: arrivals per instant; returns them and what was sent."""
    n = chain.n
    pending: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(2 * n))
    pending[0] += _start(chain, chain.entry)
    arrivals = np.zeros((steps, 2 * n))
    conversions = np.zeros(steps)
    conversions[0] = float(chain.entry[chain.goal].sum())
    referred = np.zeros(steps)  # prospects arriving by referral at each instant
    sent_direct = 0.0
    future_conv: dict[int, float] = defaultdict(float)
    for k in range(steps):
        here = grid.close(pending.pop(k, np.zeros(2 * n)))
        arrivals[k] = here
        conversions[k] += future_conv.pop(k, 0.0)
        unconverted = here[:n]
        for d, m in grid.moves.items():
            if k + d < steps:
                pending[k + d] += m @ here
        for d, m in grid.converting.items():
            if d == 0:
                continue
            if k + d < steps:
                future_conv[k + d] += float((m @ unconverted).sum())
        if 0 in grid.converting:
            # zero-delay conversions happen within this instant; `here` already
            # holds their arrivals, count the flow itself
            conversions[k] += float((grid.converting[0] @ unconverted).sum())
        visits = here[:n] + here[n:]
        for d, m in grid.referrals.items():
            if k + d < steps:
                sent = m @ visits
                total = float(sent.sum())
                sent_direct += total
                if cascade:
                    pending[k + d] += _start(chain, sent)
                    referred[k + d] += total
    return arrivals, conversions, referred, sent_direct


def _convert_by_horizon(chain: Chain, grid_step: float, steps: int) -> np.ndarray:
    """h[k, s]: P(reach a goal before the horizon | at step s, unconverted, at instant k)."""
    n = chain.n
    goal = chain.goal
    q = chain.rates.tocoo()
    units = np.rint(chain.delays.tocsr()[q.row, q.col].A1 / grid_step).astype(int) \
        if q.nnz else np.zeros(0, int)
    by_delay = {}
    for d in np.unique(units) if q.nnz else []:
        pick = units == d
        by_delay[int(d)] = sparse.csr_matrix((q.data[pick], (q.row[pick], q.col[pick])),
                                             shape=(n, n))
    zero = by_delay.pop(0, None)
    lu = None
    if zero is not None:
        z = zero.tolil()
        z[:, np.flatnonzero(goal)] = 0  # reaching a goal ends the question
        lu = splu((sparse.identity(n, format="csc") - z.tocsc()).tocsc())
    h = np.zeros((steps, n))
    for k in range(steps - 1, -1, -1):
        rhs = np.zeros(n)
        if zero is not None:
            rhs += np.asarray(zero[:, goal].sum(axis=1)).ravel()
        for d, m in by_delay.items():
            if k + d < steps:
                later = np.where(goal, 1.0, h[k + d])
                rhs += m @ later
        h[k] = lu.solve(rhs) if lu is not None else rhs
        h[k][goal] = 1.0
    return h


def solve_with_horizon(chain: Chain) -> Metrics:
    n = chain.n
    step = grid_step_days(chain)
    steps = max(1, math.ceil(chain.horizon_days / step - 1e-9))
    grid = _Grid(chain, step)
    arrivals, conversions, _, sent = _run(chain, grid, steps, step, cascade=False)
    times = np.arange(steps) * step
    disc = chain.daily_discount ** times
    unconverted, converted = arrivals[:, :n], arrivals[:, n:]
    visits_at = unconverted + converted
    visits = visits_at.sum(axis=0)
    revenue = float(disc @ (visits_at @ chain.value))
    cost = float(disc @ (visits_at @ chain.cost))
    h = _convert_by_horizon(chain, step, steps)
    value_converted = float(disc @ (converted @ chain.value)) + \
        float(disc @ ((unconverted * h) @ chain.value))
    stop = chain.stop
    dropoff = unconverted.sum(axis=0) * stop
    churn = converted.sum(axis=0) * stop
    first_visit = _first_visits(chain, grid, arrivals, steps)
    steps_out = {
        s: {"reach": float(min(first_visit[i], 1.0)), "visits": float(visits[i]),
            "dropoff": float(dropoff[i]), "churn": float(churn[i])}
        for i, s in enumerate(chain.steps)
    }
    stages = {}
    members: dict[str, list[int]] = {}
    for i, stage in enumerate(chain.stage_of):
        members.setdefault(stage, []).append(i)
    for stage, idx in members.items():
        stages[stage] = {"reach": float(min(_first_visit_set(chain, grid, arrivals, steps, idx),
                                            1.0)),
                         "dropoff": float(dropoff[idx].sum()), "churn": float(churn[idx].sum())}
    metrics = Metrics(
        conversion=float(conversions.sum()),
        revenue=revenue,
        cost=cost,
        value_converted=value_converted,
        time_converted=float(times @ conversions),
        viral_coefficient=sent,
        active_at_horizon=float(max(0.0, 1.0 - dropoff.sum() - churn.sum())),
        steps=steps_out,
        stages=stages,
    )
    if grid.referrals:
        c_arrivals, c_conv, referred, _ = _run(chain, grid, steps, step, cascade=True)
        c_visits = c_arrivals[:, :n] + c_arrivals[:, n:]
        metrics.cohort = {
            "prospects": 1.0 + float(referred.sum()),
            "customers": float(c_conv.sum()) + _referred_goal_entries(chain, grid, c_arrivals,
                                                                      steps),
            "revenue": float(disc @ (c_visits @ chain.value)),
            "cost": float(disc @ (c_visits @ chain.cost)),
        }
    else:
        metrics.cohort = {"prospects": 1.0, "customers": metrics.conversion,
                          "revenue": revenue, "cost": cost}
    return metrics


def _referred_goal_entries(chain: Chain, grid: _Grid, arrivals, steps) -> float:
    """Referred prospects who enter straight at a goal step convert on arrival;
    `_run` counts only conversions by moves and the first cohort's entry."""
    n = chain.n
    total = 0.0
    for k in range(steps):
        visits = arrivals[k, :n] + arrivals[k, n:]
        for d, m in grid.referrals.items():
            if k + d < steps:
                total += float((m @ visits)[chain.goal].sum())
    return total


def _first_visits(chain: Chain, grid: _Grid, arrivals, steps) -> np.ndarray:
    """P(first visit to each step before the horizon)."""
    from scipy.sparse.csgraph import connected_components

    n = chain.n
    visits = (arrivals[:, :n] + arrivals[:, n:]).sum(axis=0)
    count, labels = connected_components(chain.rates, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    out = visits.copy()  # at most one visit per walk outside cycles
    diag = chain.rates.diagonal()
    for i in range(n):
        if sizes[labels[i]] > 1 or diag[i] > 0:
            out[i] = _first_visit_set(chain, grid, arrivals, steps, [i])
    return out


def _first_visit_set(chain: Chain, grid: _Grid, arrivals, steps, idx) -> float:
    """P(the walk visits any step of `idx` before the horizon): the same grid
    with those steps made absorbing (a taboo chain), counting arrivals."""
    inside = np.zeros(chain.n, bool)
    inside[idx] = True
    q = chain.rates.tolil(copy=True)
    for i in idx:
        q.rows[i], q.data[i] = [], []
    taboo = replace(chain, rates=q.tocsr())
    step = grid_step_days(chain)
    taboo_grid = _Grid(taboo, step)
    taboo_grid.referrals = {}
    hit, _, _, _ = _run(taboo, taboo_grid, steps, step, cascade=False)
    return float((hit[:, : chain.n] + hit[:, chain.n:])[:, inside].sum())

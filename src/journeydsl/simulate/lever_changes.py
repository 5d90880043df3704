"""The change of each lever: conversion, revenue, cost, profit and
E[M; converted] when one transition's rate rises by its step (levers.py
says what a lever is and ranks them).

Without a horizon the effects are exact changes (not derivatives), from a
fixed number of solves whatever the number of edges. Raising Q[s, t] by d
is a rank-one change: with N = (I - Q)^-1 (Sherman-Morrison),

  N' = N + d N e_s e_t^T N / (1 - d N[t, s]),

so any alpha N x changes by d (alpha N)_s (N x)_t / (1 - d N[t, s]): the
visits (one row solve) and one column solve per quantity x serve every
edge. N[t, s] is zero unless t leads back to s; for a move inside a loop it
comes from the loop's own block (a walk from t back to s never leaves the
strongly connected component they share). Per persona (notation of
exact.py; d_D = d x the move's discount):

  revenue, cost  d_D nu_d(s) R(t) / (1 - d_D Nd[t, s])   R = (I - Qd)^-1 value
  conversion     d nu_U(s) h(t) / (1 - d N_U[t, s])  for s in U (0 from a goal step)
  E[M; conv.]    M = margin x V - C_from_goal (the clv's numerator): a sum of
                 parts (never a difference of totals, so it stays exact when
                 conversion is 1e-200): the margin earned before converting
                 times the change of h, the profit after the first goal step
                 times the change of P = (I - Qd)^-1 (margin x value - cost),
                 and the rank-one change of the discounted visits before
                 conversion (see `_exact`); the discounted visits t -> s
                 that pass a goal step come from their own solves
                 (`_through_goal`), never as Nd[t, s] - Nd_U[t, s]
  clv            (d E[M; conv.] - clv d conversion) / (conversion + d conversion)

The factorizations use the steps' block order (strongly connected
components in topological order, see `linalg.block_order`), in which a
sparse LU of a mostly-forward journey has almost no fill. An edge may have
rate 0 for some persona (an override); its lever is the effect of opening
it. Uncertain rates count at their mean, as in the exact engine.

With a `horizon` there is no such closed form: each lever is the horizon
engine re-run with the rate raised (the arrival pass that yields
conversion, revenue, cost and E[M; converted]; reach and the referral
cascade are skipped), once per movable edge and persona.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..language.compiled import RATE_TOLERANCE
from ..linalg import LU
from .chain import Chain
from .loop_entries import LoopEntries, present

STEP = 0.01  # one percentage point
_FULL = RATE_TOLERANCE  # a remainder below this is "already at 100%"


@dataclass
class _Effects:
    """Per-edge changes (for +1pp) of one persona's (or the mix's) linear metrics."""

    method: str
    movable: np.ndarray  # bool per edge
    base: dict  # conversion, revenue, cost, profit_converted
    d_conversion: np.ndarray
    d_revenue: np.ndarray
    d_cost: np.ndarray
    d_profit_converted: np.ndarray
    d_profit: np.ndarray
    step: np.ndarray  # the rise of each edge's rate (0 where it cannot rise)
    rate: np.ndarray | None = None  # each edge's rate: set by levers() before use

    def rates(self) -> np.ndarray:
        assert self.rate is not None  # levers() sets every persona's before blending
        return self.rate


_FIELDS = ("d_conversion", "d_revenue", "d_cost", "d_profit_converted", "d_profit")


def _effects(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
             wanted: float | np.ndarray = STEP) -> _Effects:
    """`steps`: each edge's rise, if not the chain's own (`_steps` of `wanted`)."""
    if chain.horizon_days is not None:
        return _resolved(chain, src, dst, delay, steps, wanted)
    return _exact(chain, src, dst, delay, steps, wanted)


def _steps(chain: Chain, src, back: np.ndarray,
           wanted: float | np.ndarray = STEP) -> tuple[np.ndarray, np.ndarray]:
    """Which edges can rise, and by how much: by `wanted` (one percentage
    point, or each edge's own, LeverSize.wanted), or what is left at the
    source step if less, or half of that when taking all of it would trap
    walks in a loop (`back`: N[t, s] of each move s -> t)."""
    stop = chain.stop[src]
    movable = (stop > _FULL) & (np.asarray(wanted) > 0)
    step = np.where(movable, np.minimum(wanted, stop), 0.0)
    trapped = movable & (1.0 - step * back <= _TRAPPED * np.maximum(back, 1.0))
    return movable, np.where(trapped, stop / 2, step)


def _exact(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
           wanted: float | np.ndarray = STEP) -> _Effects:
    """The exact change of every edge's lever from a fixed number of solves
    (Sherman-Morrison: see the module docstring)."""
    n = chain.n
    q = chain.rates.tocsr()
    undiscounted = chain.daily_discount == 1.0
    qd = q if undiscounted else chain.discounted.tocsr()
    alpha, goal, value = chain.entry, chain.goal, np.asarray(chain.value, float)
    margin_value = chain.margin * value  # what a walk keeps of value before converting
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)
    values = np.column_stack([value, chain.cost, chain.profit])

    q_u = q[u]
    before = LU.of(q_u[:, u])  # I - Q_UU
    h = np.ones(n)
    h[u] = before.col(np.asarray(q_u[:, g].sum(axis=1)).ravel())
    nu_u = np.zeros(n)
    nu_u[u] = before.row(alpha[u])

    full_d = LU.of(qd)  # I - Qd
    nu_d = full_d.row(alpha)
    to_go = full_d.col(values)  # R, C, P: discounted value, cost and profit from each step on
    before_d = before if undiscounted else LU.of(qd[u][:, u])  # I - Qd_UU
    nu_du = np.zeros(n)
    nu_du[u] = before_d.row(alpha[u])
    y = np.zeros(n)
    y[u] = before.row(nu_du[u] * margin_value[u])
    # w: the net margin of converting walks from each unconverted step (the
    # margin earned before converting, if the walk converts, and the profit
    # from its first goal step on); p: discounted visits after converting
    rows, cols = np.asarray(chain.move_row), np.asarray(chain.move_col)
    val_d = np.asarray(chain.move_rate if undiscounted else chain.move_discounted)
    into_goal = goal[cols]
    w = np.zeros(n)
    w[u] = before_d.col(margin_value[u] * h[u] + np.bincount(
        rows[into_goal], weights=val_d[into_goal] * to_go[cols[into_goal], 2], minlength=n)[u])
    first_d = np.asarray(alpha, float) * goal + np.bincount(
        cols[into_goal], weights=nu_du[rows[into_goal]] * val_d[into_goal], minlength=n)
    p = full_d.row(first_d)

    # N[t, s] for each move s -> t: how a walk from t comes back to s
    moves = present(chain, src, dst)
    shared: dict = {}  # a loop without a goal step is one block in both
    full = LoopEntries(np.ones(n, bool), chain, moves, undiscounted, shared)
    back, back_d, _ = full.entries(src, dst)
    inside = LoopEntries(~goal, chain, moves, undiscounted, shared)
    back_u, back_du, back_w = inside.entries(src, dst, margin_value)

    movable, step = _steps(chain, src, back, wanted) if steps is None else (steps > 0, steps)

    step_d = step * chain.daily_discount ** delay
    from_u, into_u = ~goal[src], ~goal[dst]
    # every change is a sum of non-negative parts (no difference of totals)
    c1 = step * h[dst] / np.where(into_u, 1.0 - step * back_u, 1.0)  # h' = h + c1 N_U e_s
    d_conversion = np.where(from_u, nu_u[src] * c1, 0.0)
    k_r = step_d / (1.0 - step_d * back_d)  # R' = R + k_r R(t) Nd e_s
    reach_d = k_r * nu_d[src]
    d_revenue = reach_d * to_go[dst, 0]
    d_cost = reach_d * to_go[dst, 1]
    d_profit = reach_d * to_go[dst, 2]  # margin x value - cost from there on
    kappa = step_d * nu_du[src] / np.where(into_u, 1.0 - step_d * back_du, 1.0)
    # visits t -> s through a goal step: their own solves, never back_d -
    # back_du (a difference of two near-equal totals whose rounding, times
    # the profit from t on, outweighs a converted profit of 1e-18)
    after = _through_goal(chain, src, dst, movable & from_u & into_u, full_d, before_d, qd)
    # (the margin before converting, the profit from the first goal step on)
    d_value = np.where(
        into_u,
        c1 * y[src] + k_r * to_go[dst, 2] * p[src] + kappa * w[dst]
        + kappa * c1 * back_w + kappa * k_r * to_go[dst, 2] * after,
        step * y[src] + kappa * to_go[dst, 2] / (1.0 - step_d * back_d)
        + k_r * to_go[dst, 2] * p[src])
    d_value = np.where(from_u, d_value, d_profit)  # from a goal step: all converted

    base = {"conversion": float(alpha @ h), "revenue": float(nu_d @ value),
            "cost": float(nu_d @ chain.cost),
            "profit_converted": float(alpha[u] @ w[u]) + float(alpha[g] @ to_go[g, 2])}
    keep = np.where(movable, 1.0, 0.0)
    return _Effects("exact", movable, base, keep * d_conversion, keep * d_revenue,
                    keep * d_cost, keep * d_value, keep * d_profit, step=step)


def _through_goal(chain: Chain, src, dst, wanted: np.ndarray, full_d: LU, before_d: LU,
                  qd) -> np.ndarray:
    """Nd[t, s] - Nd_U[t, s] for each `wanted` move s -> t between unconverted
    steps: the discounted visits to s, from t, of walks that pass a goal step
    first. Split at the first goal step g reached,

      Nd[t, s] = Nd_U[t, s] + sum_g (Nd_U Qd_UG)[t, g] Nd[g, s],

    so the part through a goal is one column solve of the whole chain per
    distinct s, carried into the goal steps and back by one solve of the
    unconverted block: a sum of non-negative terms (exact to its last digits
    when it is 1e-30), and zero, with no solve, unless a goal step leads
    back to s and t leads to a goal step."""
    goal = chain.goal
    after = np.zeros(len(src))
    if not goal.any() or goal.all():
        return after
    live = chain.move_rate > 0
    row, col = chain.move_row[live], chain.move_col[live]
    from_goal = _reached(chain.n, goal, row, col)  # steps a goal step leads to
    to_goal = _reached(chain.n, goal, col, row)  # steps that lead to a goal step
    chosen = np.flatnonzero(wanted & from_goal[src] & to_goal[dst])
    if not len(chosen):
        return after
    u, g = np.flatnonzero(~goal), np.flatnonzero(goal)
    place = np.cumsum(~goal) - 1  # an unconverted step's row in the U block
    into_goal = qd.tocsr()[u][:, g]
    sources, column = np.unique(src[chosen], return_inverse=True)
    from .loop_entries import unit_columns

    for first in range(0, len(sources), _BATCH):
        batch = (column >= first) & (column < first + _BATCH)
        to_s = full_d.col(unit_columns(chain.n, sources[first:first + _BATCH]))  # Nd e_s
        via = before_d.col(np.asarray(into_goal @ to_s[g]))  # Nd_U Qd_UG Nd[G, s]
        e = chosen[batch]
        after[e] = np.maximum(via[place[dst[e]], column[batch] - first], 0.0)
    return after


_BATCH = 256  # columns of Nd solved for at once


def _reached(n: int, start: np.ndarray, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
    """Steps reached from the `start` steps along the moves frm -> to
    (swap frm and to for the steps that reach them): one breadth-first
    search in C from an extra node n that leads to every start. (A Python
    search kept a list per step: thousands of objects, whose collection by
    the cyclic GC cost a large journey's levers more than the search.)"""
    from scipy import sparse
    from scipy.sparse.csgraph import breadth_first_order

    starts = np.flatnonzero(start)
    rows = np.concatenate([frm, np.full(len(starts), n)])
    cols = np.concatenate([to, starts])
    graph = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    seen = start.copy()
    seen[order[order < n]] = True
    return seen


#: 1 - step N[t, s] at or below this (times N[t, s] when that is above 1):
#: the raised rate leaves (almost) no way out of a loop. In both forms the
#: raised loop would keep a walk for a billion times longer (or a billion
#: visits), where a rate's last digits (1e-16 next to 1) would set the answer.
_TRAPPED = 1e-9


def _horizon_linear(chain: Chain) -> dict:
    """Conversion, revenue, cost and E[M; converted] under the horizon: the
    same numbers as `solve(chain)`, from the horizon engine's arrival pass
    alone (without the reach and referral-cascade passes levers do not need)."""
    from .horizon import totals

    if chain.per_customer:
        from .mixture import over_draw
        from .quadrature import Drawn

        drawn = Drawn.of(chain)
        assert drawn is not None  # the chain has its per-customer move
        mixed, _ = over_draw(  # (a horizon: the exact rule, nothing left moving)
            chain, drawn, _horizon_linear,
            lambda parts, w: {k: sum(w[i] * part[k] for i, part in parts.items())
                              for k in next(iter(parts.values()))},
            lambda d: {k: np.array([v]) for k, v in d.items()})
        return mixed
    linear = totals(chain)[0]
    return {key: linear[key] for key in ("conversion", "revenue", "cost", "profit_converted",
                                         "profit")}


def _resolved(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
              wanted: float | np.ndarray = STEP) -> _Effects:
    """Under a horizon: re-run the horizon engine once per movable edge."""
    base = _horizon_linear(chain)
    k = len(src)
    movable, step = _steps(chain, src, _back(chain, src, dst), wanted) if steps is None else (
        steps > 0, steps)
    out = {key: np.zeros(k) for key in base}
    for e in np.flatnonzero(movable).tolist():
        raised = _horizon_linear(raise_rate(chain, int(src[e]), int(dst[e]), float(step[e]),
                                            float(delay[e])))
        for key in base:
            out[key][e] = raised[key] - base[key]
    return _Effects("resolve", movable, base, out["conversion"], out["revenue"], out["cost"],
                    out["profit_converted"], out["profit"], step=step)


def _back(chain: Chain, src, dst) -> np.ndarray:
    """N[t, s] of each move s -> t (0 where nothing leads back, or nothing can rise)."""
    if not (chain.stop[src] > _FULL).any():
        return np.zeros(len(src))
    # Under a horizon a loop nobody leaves is legal, and its block of I - M is
    # singular; no walk in it comes back to a step that can be left, so
    # N[t, s] comes from the steps that can end a walk.
    return LoopEntries(_can_end(chain), chain, present(chain, src, dst),
                       True).entries(src, dst)[0]


def _can_end(chain: Chain) -> np.ndarray:
    """Per step, whether a walk there can end: it reaches (with rates > 0) a
    step whose outgoing rates leave something (breadth-first, backwards)."""
    live = chain.move_rate > 0
    return _reached(chain.n, chain.stop > _FULL, chain.move_col[live], chain.move_row[live])


def raise_rate(chain: Chain, s: int, t: int, by: float, delay_days: float) -> Chain:
    """The chain with rate(s -> t) raised by `by` (taken from the remainder at s).

    `delay_days` is the edge's delay (used when the persona's rate was 0 and
    the chain has no entry for the edge).

    A `per customer` rate rises for every customer by the same share of
    what it has left: p becomes p + c (1 - p), c = by / (1 - mean p), so the
    mean rises by `by`; its distribution is stretched onto [c + (1 - c) low,
    c + (1 - c) high] (the other moves out of s keep, for each customer,
    what they had)."""
    at = np.flatnonzero((chain.move_row == s) & (chain.move_col == t))
    if len(at):
        rate = chain.move_rate.copy()
        rate[at] += by
        raised = chain.with_moves(chain.move_row, chain.move_col, rate, chain.move_delay)
        amount = chain.per_customer.get((s, t))
        if amount is None:
            return raised
        from .quadrature import Draw

        draw = Draw.of(amount)
        c = by / (1.0 - float(chain.move_rate[at[0]]))
        stretched = amount.model_copy(update={"low": c + (1 - c) * draw.low,
                                              "high": c + (1 - c) * draw.high,
                                              "mean": float(rate[at[0]])})
        return replace(raised, per_customer={(s, t): stretched})
    return chain.with_moves(np.append(chain.move_row, s), np.append(chain.move_col, t),
                            np.append(chain.move_rate, by),
                            np.append(chain.move_delay, delay_days))


__all__ = ["STEP", "raise_rate"]

"""Exact metrics under a `horizon`: a time-grid recursion.

Delays are put on a grid whose step is the largest whole number of hours
dividing every delay (one day when all delays are whole days). The state is
(step, converted yet); `here` is the probability mass arriving in each state
at a grid instant (every arrival is a visit). Moves without delay happen
within the same instant: each instant closes over them with (I - Z)^-1,
Z the zero-delay moves. Instants where nothing arrives are skipped.

Only what happens at t < H counts: visits, money, conversions and referrals
arriving before the horizon. A referred prospect enters the same grid at the
instant it arrives, so its walk is cut at H - s automatically.

E[V; converted] needs, for money earned before conversion, whether the walk
converts before H later on: the forward pass carries each unconverted
walk's discounted value so far and books it when the walk converts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from .chain import Chain
from .results import Metrics

_DENSE_LIMIT = 400  # states


def grid_step_days(chain: Chain) -> float:
    """The time step: gcd of all delays in whole hours (1 day if none)."""
    step = 0
    for d in np.concatenate([chain.delays.data, chain.referral_delays.data]):
        if d > 0:
            step = math.gcd(step, int(round(d * 24)))
    return step / 24.0 if step else 1.0


def _edges(matrix, delays, step: float):
    coo = matrix.tocoo()
    units = (np.rint(np.asarray(delays.tocsr()[coo.row, coo.col]).ravel() / step).astype(int)
             if coo.nnz else np.zeros(0, int))
    return coo.row, coo.col, coo.data, units


class _Push:
    """Linear maps grouped by delay: push[d] @ x is what x sends d instants on.

    `stacked` holds every positive delay's map on top of each other, so one
    matrix product per instant serves them all (the loop runs per instant,
    and numpy calls, not arithmetic, are its cost)."""

    def __init__(self, rows, cols, vals, units, shape) -> None:
        self.dense = max(shape) <= _DENSE_LIMIT
        self.shape = shape
        self.by_delay: dict[int, object] = {}
        for d in np.unique(units):
            pick = units == d
            m = sparse.csr_matrix((vals[pick], (cols[pick], rows[pick])), shape=shape)
            self.by_delay[int(d)] = m.toarray() if self.dense else m
        later = sorted(d for d in self.by_delay if d > 0)
        self.delays = np.array(later, dtype=int)
        if not later:
            self.stacked = None
        elif self.dense:
            self.stacked = np.vstack([self.by_delay[d] for d in later])
        else:
            self.stacked = sparse.vstack([self.by_delay[d] for d in later]).tocsr()
        # Row sums per delay (totals sent), for when only the total matters.
        self.totals = (np.vstack([np.asarray(self.by_delay[d].sum(axis=0)).ravel()
                                  for d in later]) if later else None)

    def spread(self, x: np.ndarray) -> np.ndarray:
        """What x sends, one row per delay in `delays`."""
        return (self.stacked @ x).reshape(len(self.delays), self.shape[0])

    def closure(self):
        """x -> (I - push[0])^-1 x, or None without zero-delay moves."""
        zero = self.by_delay.get(0)
        if zero is None:
            return None
        size = zero.shape[0]
        if isinstance(zero, np.ndarray):
            return np.linalg.inv(np.eye(size) - zero).__matmul__
        return splu((sparse.identity(size, format="csc") - zero.tocsc()).tocsc()).solve


@dataclass
class _Pass:
    arrivals: np.ndarray  # [instant, 2n]
    conversions: np.ndarray  # [instant]
    value_converted: float = 0.0
    referred: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _forward(chain: Chain, step: float, steps: int, cascade: bool) -> _Pass:
    n = chain.n
    goal = chain.goal
    row, col, val, unit = _edges(chain.rates, chain.delays, step)
    into_goal = goal[col]
    r_row, r_col, r_val, r_unit = _edges(chain.referrals, chain.referral_delays, step)
    if not cascade:
        r_row = r_col = r_val = r_unit = np.zeros(0, int)
    # A referral moves mass like a transition does (new prospects, from either
    # class, arriving unconverted unless at a goal step).
    moves = _Push(np.concatenate([row, row + n, r_row, r_row + n]),
                  np.concatenate([np.where(into_goal, col + n, col), col + n,
                                  np.where(goal[r_col], r_col + n, r_col),
                                  np.where(goal[r_col], r_col + n, r_col)]),
                  np.concatenate([val, val, r_val, r_val]),
                  np.concatenate([unit, unit, r_unit, r_unit]), (2 * n, 2 * n))
    close = moves.closure()
    # Unconverted -> unconverted moves carry the value earned so far; moves
    # into a goal book it as value of a converting walk.
    stay = ~into_goal
    carry = _Push(row[stay], col[stay], val[stay], unit[stay], (n, n))
    carry_zero = carry.by_delay.get(0)
    carry_close = carry.closure()
    book = _Push(row[into_goal], col[into_goal], val[into_goal], unit[into_goal], (n, n))
    # Prospects referred: total sent per unit of visits, by delay.
    refer = _Push(np.concatenate([r_row, r_row + n]), np.zeros(2 * len(r_row), int),
                  np.concatenate([r_val, r_val]), np.concatenate([r_unit, r_unit]),
                  (1, 2 * n)) if len(r_row) else None
    refer_zero = refer.by_delay.get(0) if refer is not None else None
    longest = max([0, *moves.by_delay, *(refer.by_delay if refer else [])])
    pending = np.zeros((steps + longest + 1, 2 * n))
    pending[0, :n] = np.where(goal, 0.0, chain.entry)
    pending[0, n:] = np.where(goal, chain.entry, 0.0)
    carried = np.zeros((steps + longest + 1, n))
    arrivals = np.zeros((steps, 2 * n))
    conversions = np.zeros(steps + longest + 1)
    conversions[0] = float(chain.entry[goal].sum())
    referred = np.zeros(steps + longest + 1)
    booked = np.zeros(steps + longest + 1)
    factor = chain.daily_discount ** step
    value = chain.value
    book_zero = book.by_delay.get(0)
    book_zero_total = (np.asarray(book_zero.sum(axis=0)).ravel()
                       if book_zero is not None else None)
    for k in range(steps):
        if not pending[k].any():
            continue
        here = close(pending[k]) if close else pending[k]
        arrivals[k] = here
        earned = (factor ** k) * value * here[:n]  # value of unconverted visits now
        w = carried[k]
        if carry_close is not None:
            # value carried along zero-delay moves within this instant
            w = carry_close(w + carry_zero @ earned)
        out = w + earned  # value carried by walks leaving each unconverted step
        if book_zero_total is not None:
            booked[k] += float(book_zero_total @ out)
            conversions[k] += float(book_zero_total @ here[:n])
        if moves.stacked is not None:
            pending[k + moves.delays] += moves.spread(here)
        if carry.stacked is not None:
            carried[k + carry.delays] += carry.spread(out)
        if book.totals is not None:
            booked[k + book.delays] += book.totals @ out
            conversions[k + book.delays] += book.totals @ here[:n]
        if refer is not None:
            if refer_zero is not None:
                referred[k] += float((refer_zero @ here).sum())
            if refer.stacked is not None:
                referred[k + refer.delays] += refer.spread(here)[:, 0]
    converted_value = float(booked[:steps].sum())
    disc = (factor ** np.arange(steps))
    converted_value += float(disc @ (arrivals[:, n:] @ value))
    return _Pass(arrivals, conversions[:steps], converted_value, referred[:steps])


def solve_with_horizon(chain: Chain) -> Metrics:
    n = chain.n
    step = grid_step_days(chain)
    steps = max(1, math.ceil(chain.horizon_days / step - 1e-9))
    run = _forward(chain, step, steps, cascade=False)
    times = np.arange(steps) * step
    disc = chain.daily_discount ** times
    unconverted, converted = run.arrivals[:, :n], run.arrivals[:, n:]
    plain = unconverted + converted
    visits = plain.sum(axis=0)
    cum = np.vstack([np.zeros(n), np.cumsum(plain, axis=0)])  # cum[m]: visits before m
    stop = chain.stop
    dropoff = unconverted.sum(axis=0) * stop
    churn = converted.sum(axis=0) * stop
    row, col, val, unit = _edges(chain.rates, chain.delays, step)
    reach = _reach_steps(chain, plain, cum, row, col, val, unit, steps)
    steps_out = {s: {"reach": float(min(reach[i], 1.0)), "visits": float(visits[i]),
                     "dropoff": float(dropoff[i]), "churn": float(churn[i])}
                 for i, s in enumerate(chain.steps)}
    members: dict[str, list[int]] = {}
    for i, stage in enumerate(chain.stage_of):
        members.setdefault(stage, []).append(i)
    stages = {stage: {"reach": float(min(_reach_set(chain, cum, row, col, val, unit, steps, idx),
                                         1.0)),
                      "dropoff": float(dropoff[idx].sum()), "churn": float(churn[idx].sum())}
              for stage, idx in members.items()}
    r_row, _, r_val, r_unit = _edges(chain.referrals, chain.referral_delays, step)
    sent = float(sum(v * cum[max(0, steps - d), a] for a, v, d in zip(r_row, r_val, r_unit)))
    metrics = Metrics(
        conversion=float(run.conversions.sum()),
        revenue=float(disc @ (plain @ chain.value)),
        cost=float(disc @ (plain @ chain.cost)),
        value_converted=run.value_converted,
        time_converted=float(times @ run.conversions),
        viral_coefficient=sent,
        active_at_horizon=float(max(0.0, 1.0 - dropoff.sum() - churn.sum())),
        steps=steps_out,
        stages=stages,
    )
    if len(r_row):
        cascade = _forward(chain, step, steps, cascade=True)
        c_plain = cascade.arrivals[:, :n] + cascade.arrivals[:, n:]
        metrics.cohort = {
            "prospects": 1.0 + float(cascade.referred.sum()),
            "customers": float(cascade.conversions.sum()) + _referred_into_goals(
                chain, c_plain, r_row, r_val, r_unit, steps, step),
            "revenue": float(disc @ (c_plain @ chain.value)),
            "cost": float(disc @ (c_plain @ chain.cost)),
        }
    else:
        metrics.cohort = {"prospects": 1.0, "customers": metrics.conversion,
                          "revenue": metrics.revenue, "cost": metrics.cost}
    return metrics


def _referred_into_goals(chain, plain, r_row, r_val, r_unit, steps, step) -> float:
    """Referred prospects who arrive straight at a goal step convert on arrival."""
    _, r_col, _, _ = _edges(chain.referrals, chain.referral_delays, step)
    total = 0.0
    for a, b, v, d in zip(r_row, r_col, r_val, r_unit):
        if chain.goal[b] and d < steps:
            total += float(v * plain[: steps - d, a].sum())
    return total


def _reach_steps(chain, plain, cum, row, col, val, unit, steps) -> np.ndarray:
    """P(first visit to each step before the horizon).

    Outside cycles a walk visits a step at most once, so reach = visits; a
    step whose only cycle is its own loop is first reached by arrivals from
    elsewhere; other cyclic steps get a taboo pass."""
    n = chain.n
    reach = plain.sum(axis=0).copy()
    count, labels = connected_components(chain.rates, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    for a, b, v, d in zip(row, col, val, unit):
        if a == b and sizes[labels[a]] == 1:
            if d > 0:
                reach[a] -= v * cum[max(0, steps - d), a]
            else:  # repeated visits within one instant
                reach[a] = plain[:, a].sum() * (1 - v)
    for i in range(n):
        if sizes[labels[i]] > 1:
            reach[i] = _reach_set(chain, cum, row, col, val, unit, steps, [i])
    return reach


def _reach_set(chain, cum, row, col, val, unit, steps, idx) -> float:
    """P(the walk visits any step of `idx` before the horizon)."""
    n = chain.n
    inside = np.zeros(n, bool)
    inside[idx] = True
    _, labels = connected_components(chain.rates, directed=True, connection="strong")
    if not set(labels[inside]) & set(labels[~inside]):
        # A walk enters the set at most once: P(hit) = expected entries before H.
        entries = float(chain.entry[inside].sum())
        for a, b, v, d in zip(row, col, val, unit):
            if inside[b] and not inside[a]:
                entries += v * cum[max(0, steps - d), a]
        return entries
    # Taboo pass: the set absorbs walks; count arrivals into it.
    keep = ~inside[row]
    push = _Push(row[keep], col[keep], val[keep], unit[keep], (n, n))
    close = push.closure()
    longest = max(push.by_delay, default=0)
    pending = np.zeros((steps + longest + 1, n))
    pending[0] = chain.entry
    hit = 0.0
    for k in range(steps):
        if not pending[k].any():
            continue
        here = close(pending[k]) if close else pending[k]
        hit += float(here[inside].sum())
        for d, m in push.by_delay.items():
            pending[k + d] += m @ here
    return hit

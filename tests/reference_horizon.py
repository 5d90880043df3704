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

The recursion is linear and the same at every instant once money is
counted in units discounted to the current instant (a move of d instants
then multiplies carried money by f^-d, f the discount per instant): with b_k
what arrives at instant k (mass, carried money, and the totals booked for
k), one matrix `step` gives what instant k records and what it sends to each
later instant, so an instant costs one matrix product and one scatter
(numpy calls, not arithmetic, are the loop's cost).

First visits (the reach of a step on a cycle, of a stage walks can leave
and re-enter) come from taboo passes: walks stop on entering the set; all
sets run side by side in one batched pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from journeydsl.linalg import LU, strong_components
from journeydsl.simulate.chain import Chain, reentrant_stages, stage_index
from journeydsl.simulate.results import Metrics, place_tables

_DENSE_LIMIT = 400  # states: closures as dense inverses up to this size
_DENSE_CELLS = 2_000_000  # numbers in a dense one-instant matrix (else sparse)


def grid_step_days(chain: Chain) -> float:
    """The time step: gcd of all delays in whole seconds (1 day if none), so
    a delay such as `0.1d` (2.4 hours) lands exactly on the grid."""
    step = 0
    for d in np.concatenate([chain.delays.data, chain.referral_delays.data]):
        if d > 0:
            step = math.gcd(step, round(float(d) * 86_400))
    return step / 86_400.0 if step else 1.0


def _edges(matrix, delays, step: float):
    coo = matrix.tocoo()
    units = (np.rint(np.asarray(delays.tocsr()[coo.row, coo.col]).ravel() / step).astype(int)
             if coo.nnz else np.zeros(0, int))
    return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, units


def _inverse_of(size: int, rows, cols, vals, dense: bool):
    """x -> (I - A)^-1 x for A given as (target rows, source cols); None if A is
    empty. Dense: the inverse matrix itself."""
    if not len(vals):
        return None
    if dense:
        a = sparse.csc_matrix((vals, (rows, cols)), shape=(size, size))
        return np.linalg.inv(np.eye(size) - a.toarray())
    return LU(size, rows, cols, vals).solve


@dataclass
class _Pass:
    arrivals: np.ndarray  # [instant, 2n]
    conversions: np.ndarray  # [instant]
    value_converted: float = 0.0
    referred: np.ndarray = field(default_factory=lambda: np.zeros(0))


def forward_pass(chain: Chain, step: float, steps: int, cascade: bool) -> _Pass:
    """The forward pass: arrivals, conversions, E[V; converted] and referrals.

    Layout of what an instant receives (b) and sends to a later one, W = 3n+3:
    [mass unconverted (n) | mass converted (n) | carried money (n) |
     money booked (1) | conversions (1) | prospects referred (1)].
    After the instant's zero-delay closure, x = [here (2n) | out (n)]: the
    mass arriving and the money carried by walks leaving each unconverted
    step (what they brought plus the step's value). What instant k records
    (`rec`) uses the same layout with x in the first 3n places. Money is in
    units discounted to the instant it is at (f^k times its value at 0)."""
    n = chain.n
    goal = np.asarray(chain.goal, bool)
    value = np.asarray(chain.value, float)
    row, col, val, unit = _edges(chain.rates, chain.delays, step)
    into_goal = goal[col]
    if cascade:
        r_row, r_col, r_val, r_unit = _edges(chain.referrals, chain.referral_delays, step)
    else:
        r_row = r_col = r_unit = np.zeros(0, np.int64)
        r_val = np.zeros(0)
    f = chain.daily_discount ** step  # discount per instant
    unit_f = unit.astype(float)
    width, inner = 3 * n + 3, 3 * n
    booked_at, conv_at, ref_at = 3 * n, 3 * n + 1, 3 * n + 2
    # Mass moves (2n states; a referral moves new prospects like a move does).
    m_src = np.concatenate([row, row + n, r_row, r_row + n])
    ref_dst = np.where(goal[r_col], r_col + n, r_col)
    m_dst = np.concatenate([np.where(into_goal, col + n, col), col + n, ref_dst, ref_dst])
    m_val = np.concatenate([val, val, r_val, r_val])
    m_unit = np.concatenate([unit, unit, r_unit, r_unit])
    stay = ~into_goal
    # (delay, output place, input place, amount): what x sends d instants on.
    # Zero-delay mass and money moves are the closure's; zero-delay booking,
    # conversions and referrals are recorded at the instant itself.
    to_goal = int(into_goal.sum())
    moving = [
        (m_unit, m_dst, m_src, m_val),
        # unconverted -> unconverted moves carry money (in later instants' units)
        (unit[stay], 2 * n + col[stay], 2 * n + row[stay], val[stay] * f ** -unit_f[stay]),
    ]
    counted = [
        # moves into a goal book the money carried and count a conversion
        (unit[into_goal], np.full(to_goal, booked_at), 2 * n + row[into_goal],
         val[into_goal] * f ** -unit_f[into_goal]),
        (unit[into_goal], np.full(to_goal, conv_at), row[into_goal], val[into_goal]),
        (np.concatenate([r_unit, r_unit]), np.full(2 * len(r_row), ref_at),
         np.concatenate([r_row, r_row + n]), np.concatenate([r_val, r_val])),
    ]
    d_all = np.concatenate([p[0] for p in moving + counted])
    delays = np.unique(d_all[d_all > 0])
    slot = np.zeros(int(d_all.max(initial=0)) + 1, np.int64)
    slot[delays] = np.arange(1, len(delays) + 1)
    zero = m_unit == 0
    carry_zero = stay & (unit == 0)
    # Slot 0 records x itself, and what the instant books.
    out_rows, in_rows, amounts = [np.arange(inner)], [np.arange(inner)], [np.ones(inner)]
    for d, o, i, a in [(d[d > 0], o[d > 0], i[d > 0], a[d > 0]) for d, o, i, a in moving] + counted:
        out_rows.append(slot[d] * width + o)
        in_rows.append(i)
        amounts.append(a)
    blocks = (1 + len(delays)) * width
    push = sparse.csr_matrix((np.concatenate(amounts),
                              (np.concatenate(out_rows), np.concatenate(in_rows))),
                             shape=(blocks, inner))
    # The instant's closure over zero-delay moves: x = L b.
    dense = inner <= _DENSE_LIMIT
    close = _inverse_of(2 * n, m_dst[zero], m_src[zero], m_val[zero], dense)
    keep_close = _inverse_of(n, col[carry_zero], row[carry_zero], val[carry_zero], dense)
    longest = int(delays[-1]) if len(delays) else 0
    n_later = len(delays)
    buf = np.zeros((steps + longest + 1, width))
    buf[0, :n] = np.where(goal, 0.0, chain.entry)
    buf[0, n:2 * n] = np.where(goal, chain.entry, 0.0)
    if dense:
        cl = np.eye(2 * n) if close is None else close
        k_inv = np.eye(n) if keep_close is None else keep_close
        closure = np.zeros((inner, inner))
        closure[:2 * n, :2 * n] = cl
        closure[2 * n:, 2 * n:] = k_inv
        closure[2 * n:, :2 * n] = k_inv @ (value[:, None] * cl[:n])
    if dense and blocks * inner <= _DENSE_CELLS:
        # One product per instant sends b on; what the instants record is
        # linear in b too: one product for all of them after the loop.
        push = push.tocsc()
        ahead = (push[width:] @ closure) if n_later else None
        if ahead is not None:
            targets = np.arange(steps)[:, None] + delays[None, :]
            for k in range(steps):
                b = buf[k, :inner]
                if np.count_nonzero(b):
                    buf[targets[k]] += (ahead @ b).reshape(n_later, width)
        rec = buf[:steps, :inner] @ (push[:width] @ closure).T
    else:
        if dense:
            def apply(b):
                return push @ (closure @ b)
        else:
            def apply(b):
                here = b[:2 * n] if close is None else close(b[:2 * n])
                money = b[2 * n:] + value * here[:n]
                out = money if keep_close is None else keep_close(money)
                return push @ np.concatenate([here, out])
        rec = np.zeros((steps, width))
        for k in range(steps):
            b = buf[k, :inner]
            if not np.count_nonzero(b):
                continue
            r = apply(b).reshape(1 + n_later, width)
            rec[k] = r[0]
            if n_later:
                buf[k + delays] += r[1:]
    disc = chain.daily_discount ** (np.arange(steps) * step)
    arrivals = rec[:, :2 * n]
    conversions = buf[:steps, conv_at] + rec[:, conv_at]
    conversions[0] += float(np.asarray(chain.entry)[goal].sum())
    booked = buf[:steps, booked_at] + rec[:, booked_at]  # in each instant's units
    converted_value = float(disc @ booked) + float(disc @ (arrivals[:, n:] @ value))
    referred = buf[:steps, ref_at] + rec[:, ref_at]
    return _Pass(arrivals, conversions, converted_value, referred)


def solve_with_horizon(chain: Chain, places: frozenset[str] | None = None,
                       cohort: bool = True) -> Metrics:
    n = chain.n
    step = grid_step_days(chain)
    steps = max(1, math.ceil(chain.horizon_days / step - 1e-9))
    run = forward_pass(chain, step, steps, cascade=False)
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
    before_h = val * cum[np.maximum(0, steps - unit), row]  # moves made before H
    names, st = stage_index(chain)
    count = len(names)
    if places is None:
        want_step = np.ones(n, bool)
        want_stage = np.ones(count, bool)
    else:
        want_step = np.fromiter((s in places for s in chain.steps), bool, count=n)
        want_stage = np.fromiter((s in places for s in names), bool, count=count)

    # Steps: outside cycles reach = visits; a step whose only cycle is its own
    # loop is first reached by arrivals from elsewhere; others: taboo pass.
    comp_count, labels = strong_components(chain.rates)
    sizes = np.bincount(labels, minlength=comp_count)
    cyclic = sizes[labels] > 1
    reach = visits.copy()
    loop = (row == col) & ~cyclic[row]
    timed = loop & (unit > 0)
    reach[row[timed]] -= before_h[timed]
    instant = loop & (unit == 0)  # repeated visits within one instant
    reach[row[instant]] = visits[row[instant]] * (1.0 - val[instant])
    reach[cyclic] = np.nan
    # Stages entered at most once: P(hit) = expected entries before H.
    cross = st[row] != st[col]
    stage_reach = (np.bincount(st, weights=chain.entry, minlength=count)
                   + np.bincount(st[col[cross]], weights=before_h[cross], minlength=count))
    again = reentrant_stages(row, col, st, count)
    stage_reach[again] = np.nan
    taboo_steps = np.flatnonzero(cyclic & want_step)
    taboo_stages = np.flatnonzero(again & want_stage)
    if len(taboo_steps) or len(taboo_stages):
        sets = np.zeros((len(taboo_steps) + len(taboo_stages), n), bool)
        sets[np.arange(len(taboo_steps)), taboo_steps] = True
        sets[len(taboo_steps):] = st[None, :] == taboo_stages[:, None]
        hits = _first_visits(chain, sets, row, col, val, unit, steps)
        reach[taboo_steps] = hits[:len(taboo_steps)]
        stage_reach[taboo_stages] = hits[len(taboo_steps):]
    steps_out, stages = place_tables(chain.steps, reach, visits, dropoff, churn, names, st,
                                     stage_reach)
    r_row, r_col, r_val, r_unit = _edges(chain.referrals, chain.referral_delays, step)
    sent = float(np.sum(r_val * cum[np.maximum(0, steps - r_unit), r_row]))
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
    if len(r_row) and cohort:
        cascade = forward_pass(chain, step, steps, cascade=True)
        c_plain = cascade.arrivals[:, :n] + cascade.arrivals[:, n:]
        metrics.cohort = {
            "prospects": 1.0 + float(cascade.referred.sum()),
            "customers": float(cascade.conversions.sum()) + _referred_into_goals(
                chain, c_plain, r_row, r_col, r_val, r_unit, steps),
            "revenue": float(disc @ (c_plain @ chain.value)),
            "cost": float(disc @ (c_plain @ chain.cost)),
        }
    else:
        metrics.cohort = {"prospects": 1.0, "customers": metrics.conversion,
                          "revenue": metrics.revenue, "cost": metrics.cost}
    return metrics


def _referred_into_goals(chain, plain, r_row, r_col, r_val, r_unit, steps) -> float:
    """Referred prospects who arrive straight at a goal step convert on arrival."""
    cum = np.vstack([np.zeros(chain.n), np.cumsum(plain, axis=0)])
    into = np.asarray(chain.goal, bool)[r_col] & (r_unit < steps)
    return float(np.sum(r_val[into] * cum[steps - r_unit[into], r_row[into]]))


def _first_visits(chain: Chain, sets: np.ndarray, row, col, val, unit, steps: int) -> np.ndarray:
    """P(the walk visits a step of each set before the horizon), all sets at once.

    Taboo passes: a walk stops on entering the set. For set j with `keep`
    its complement, an instant's arrivals close over zero-delay moves with
    (I - Z diag(keep))^-1; the set's share is recorded, the rest moves on.
    Small journeys: one batched product per instant for all sets."""
    n = chain.n
    m = len(sets)
    delays = np.unique(unit[unit > 0])
    zero = unit == 0
    pending0 = np.asarray(chain.entry, float)
    per_set = (1 + len(delays) * n) * n
    if n <= _DENSE_LIMIT and per_set <= _DENSE_CELLS:
        stacked = np.zeros((len(delays) * n, n))
        where = np.searchsorted(delays, unit[~zero])
        stacked[where * n + col[~zero], row[~zero]] = val[~zero]
        z = np.zeros((n, n))
        np.add.at(z, (col[zero], row[zero]), val[zero])
        eye = np.eye(n)
        hits = np.zeros(m)
        batch = max(1, _DENSE_CELLS // per_set)
        for lo in range(0, m, batch):
            group = sets[lo:lo + batch]
            keep = ~group
            # one (1 + D n) x n map per set: [recorded share; what moves on]
            maps = np.empty((len(group), 1 + len(delays) * n, n))
            for j, (inside, out) in enumerate(zip(group, keep)):
                close = np.linalg.inv(eye - z * out[None, :]) if zero.any() else eye
                maps[j, 0] = inside @ close
                maps[j, 1:] = (stacked * out[None, :]) @ close
            hits[lo:lo + batch] = _batched_pass(maps, pending0, delays, steps, n)
        return hits
    return np.array([_taboo_pass(chain, inside, row, col, val, unit, steps) for inside in sets])


def _batched_pass(maps: np.ndarray, start: np.ndarray, delays: np.ndarray, steps: int,
                  n: int) -> np.ndarray:
    """Run taboo chains side by side: maps[j] takes set j's arrivals at an
    instant to [recorded share; mass sent per delay]."""
    count = len(maps)
    longest = int(delays[-1]) if len(delays) else 0
    buf = np.zeros((steps + longest + 1, count, n))
    buf[0] = start
    hits = np.zeros(count)
    n_later = len(delays)
    targets = np.arange(steps)[:, None] + delays[None, :]
    for k in range(steps):
        x = buf[k]
        if not np.count_nonzero(x):
            continue
        r = np.matmul(maps, x[:, :, None])[:, :, 0]
        hits += r[:, 0]
        if n_later:
            buf[targets[k]] += r[:, 1:].reshape(count, n_later, n).transpose(1, 0, 2)
    return hits


def _taboo_pass(chain: Chain, inside: np.ndarray, row, col, val, unit, steps: int) -> float:
    """One taboo pass with sparse maps (large journeys)."""
    n = chain.n
    keep = ~inside[row]
    r, c, v, d = row[keep], col[keep], val[keep], unit[keep]
    zero = d == 0
    close = _inverse_of(n, c[zero], r[zero], v[zero], dense=False)
    delays = np.unique(d[~zero])
    later = ~zero
    where = np.searchsorted(delays, d[later])
    push = sparse.csr_matrix((v[later], (where * n + c[later], r[later])),
                             shape=(len(delays) * n, n))
    longest = int(delays[-1]) if len(delays) else 0
    pending = np.zeros((steps + longest + 1, n))
    pending[0] = chain.entry
    hit = 0.0
    for k in range(steps):
        if not np.count_nonzero(pending[k]):
            continue
        here = close(pending[k]) if close is not None else pending[k]
        hit += float(here[inside].sum())
        if len(delays):
            pending[k + delays] += (push @ here).reshape(len(delays), n)
    return hit

"""Referrals `A => B k`: Poisson(k) new prospects per visit to A, by thinning.

Most visits send nobody (k is a few hundredths), so the cost must follow
the referrals, not the visits. Every visit in the pool gets Poisson(K)
candidate referrals, K the largest total k of any step: Poisson(K * m)
candidates in all, each on a walker picked uniformly (Poisson splitting
makes that Poisson(K) per walker, independently). A candidate on a visit
to a step whose arrows total k is kept with probability k / K, along arrow
a with probability k_a / K: one uniform number and one search in the
arrows' boundaries (`Tables.a_bound`), so each arrow sends Poisson(k_a)
per visit, as it should. Walkers on steps that send nothing (and the dead)
simply reject every candidate. When K is large the candidates are drawn
among the visits to referral sources only.
"""

from __future__ import annotations

import numpy as np

from .books import Books
from .bins import Tables

_LIST_SOURCES = 0.25  # above this K, find the visits to referral sources first
# Above this K (a step may send up to a million per visit), candidates would
# outnumber what memory holds: referrals are counted per walker and arrow
# instead, and only as many made into prospects as the cascade has room for.
_PER_ARROW = 1.0
_MANY = 1 << 20  # candidates drawn at once at most (else counted per arrow)
_TABLE_SLOTS = 1 << 21  # stays' visits looked up in a table (from_runs) at most


def uniform_ints(rng, high: int, size: int) -> np.ndarray:
    """`size` integers uniform on [0, high) (floor of a double: without
    `Generator.integers`' per-call overhead, which dominates at these sizes)."""
    u = rng.random(size)
    u *= high
    return np.minimum(u.astype(np.intp), high - 1)  # (u * high rounds below high anyway)


def send(eng: Tables, books: Books, rng, who, row, t, key=None) -> None:
    """Keep or drop each candidate (`who` on a visit to `row` at time `t`)
    and queue the kept ones that arrive before the horizon. `key`: each
    candidate's uniform number (drawn here when None)."""
    if not len(row):
        return
    if key is None:
        key = rng.random(len(row))
    key += row
    arrow = np.searchsorted(eng.a_bound, key, side="right")
    kept = (arrow < eng.a_ptr.take(row + 1)).nonzero()[0]
    if not len(kept):
        return
    arrow = arrow.take(kept)
    arrive = t.take(kept) + eng.a_delay.take(arrow)
    counted = (arrive < eng.horizon).nonzero()[0]  # arriving at or after H does not count
    if len(counted):
        kept = kept.take(counted)
        books.refer(who.take(kept), row.take(kept) // eng.n,
                    eng.a_dst.take(arrow.take(counted)), arrive.take(counted))


def from_pool(eng: Tables, books: Books, rng, w, e, t) -> None:
    """Referrals of the visits of every walker in the pool."""
    lam = eng.lam_row_max
    m = len(e)
    if lam > _PER_ARROW:
        src = eng.ref_code.take(e).nonzero()[0]
        from_visits(eng, books, rng, w.take(src), eng.row.take(e.take(src)), t.take(src))
        return
    if lam <= _LIST_SOURCES:
        pos = uniform_ints(rng, m, rng.poisson(lam * m))
    else:
        src = eng.ref_code.take(e).nonzero()[0]
        pos = src.take(uniform_ints(rng, len(src), rng.poisson(lam * len(src))))
    send(eng, books, rng, w.take(pos), eng.row.take(e.take(pos)), t.take(pos))


def from_visits(eng: Tables, books: Books, rng, w, row, t) -> None:
    """Referrals of one visit each of walkers `w` (to `row` at `t`), counted
    per walker and arrow (for steps that send many per visit)."""
    if eng.lam_row_max <= _PER_ARROW:
        pos = uniform_ints(rng, len(row), rng.poisson(eng.lam_row_max * len(row)))
        send(eng, books, rng, w.take(pos), row.take(pos), t.take(pos))
        return
    _per_arrow(eng, books, rng, w, row, t, np.zeros(len(row)), np.ones(len(row), np.int64))


def from_runs(eng: Tables, books: Books, rng, w, row, t, step, visits) -> None:
    """Referrals of walkers that made `visits` more visits each along a
    self-loop (row `row`), the j-th at `t + j * step`.

    Usually a few: candidates by thinning, as for single visits, over the
    slots (walker, visit) of all the stays, Poisson(K * slots) in all, each
    on a slot picked uniformly. A stay can be millions of visits, though:
    when the candidates would be many, they are counted per arrow."""
    many = visits.astype(float)
    cum = np.cumsum(many)
    total = float(cum[-1]) if len(cum) else 0.0
    lam = eng.lam_row_max
    if lam <= _PER_ARROW and lam * total <= _MANY:
        slot = uniform_ints(rng, max(int(total), 1), rng.poisson(lam * total))
        if total <= _TABLE_SLOTS and total <= 64 * len(slot) + 4096:
            # the stay of each slot by a table read: a search per candidate
            # in the stays' bounds cost ten times more (~100 ns a search:
            # the candidates come in random order); the same walkers
            walker = np.repeat(np.arange(len(visits)), visits).take(slot)
        else:
            walker = np.searchsorted(cum, slot, side="right")
        j = slot - (cum.take(walker) - many.take(walker)) + 1.0  # the walker's visit 1..v
        send(eng, books, rng, w.take(walker), row.take(walker),
             t.take(walker) + j * step.take(walker))
        return
    _per_arrow(eng, books, rng, w, row, t, step, visits)


def _per_arrow(eng: Tables, books: Books, rng, w, row, t, step, visits) -> None:
    """`from_runs` per walker and arrow: the m visits whose referrals along
    arrow a (k per visit, after delay δ) arrive before the horizon send
    Poisson(k m) in all, each from a visit picked uniformly among those m.
    Every one counts for the viral coefficient, but only as many as the
    cascade has room for are made into prospects (the rest are counted as
    capped)."""
    first, last = eng.a_ptr.take(row), eng.a_ptr.take(row + 1)
    per = last - first
    walker = np.repeat(np.arange(len(row)), per)
    arrow = np.arange(len(walker)) - np.repeat(np.cumsum(per) - per, per) + np.repeat(first, per)
    many = visits.astype(float).take(walker)
    d = step.take(walker)
    start = t.take(walker) + eng.a_delay.take(arrow)  # arrival of a referral of visit 0
    if np.isfinite(eng.horizon):
        with np.errstate(divide="ignore", invalid="ignore"):
            # visit j counts while start + j d < H
            reach = np.where(d > 0, np.ceil((eng.horizon - start) / d) - 1.0,
                             np.where(start < eng.horizon, np.inf, 0.0))
        many = np.clip(reach, 0.0, many)
    # (a mean past 2**62 referrals is beyond numpy's Poisson; no run gets near it)
    count = rng.poisson(np.minimum(eng.a_amount.take(arrow) * many, 2.0 ** 62))
    if not count.any():
        return
    who = w.take(walker)
    books.count_sent(who, count)
    pair = row.take(walker) // eng.n // 2
    room = np.maximum(books.limits - books.queued, 0)
    made = _within(count, pair, room)
    if (made < count).any():
        books.cascade_capped[np.unique(pair[made < count])] = True
    if not made.any():
        return
    k = np.repeat(np.arange(len(made)), made)
    j = referrals_at(rng, many.take(k))
    books.refer(who.take(k), row.take(walker.take(k)) // eng.n, eng.a_dst.take(arrow.take(k)),
                start.take(k) + j * d.take(k), counted=False)


def _within(count: np.ndarray, pair: np.ndarray, room: np.ndarray) -> np.ndarray:
    """`count` cut so that each pair's total fits its room (the first
    entries first)."""
    made = count.copy()
    for i in np.unique(pair):
        mine = (pair == i).nonzero()[0]
        before = np.cumsum(count.take(mine)) - count.take(mine)
        made[mine] = np.clip(room[i] - before, 0, count.take(mine))
    return made


def referrals_at(rng, visits: np.ndarray) -> np.ndarray:
    """A visit number uniform on 1..v for each v in `visits` (floats)."""
    j = np.floor(rng.random(len(visits)) * visits) + 1.0
    return np.minimum(j, visits)

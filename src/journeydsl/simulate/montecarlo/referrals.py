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


def uniform_ints(rng, high: int, size: int) -> np.ndarray:
    """`size` integers uniform on [0, high) (floor of a double: without
    `Generator.integers`' per-call overhead, which dominates at these sizes)."""
    u = rng.random(size)
    u *= high
    return np.minimum(u.astype(np.intp), high - 1)  # (u * high rounds below high anyway)


def send(eng: Tables, books: Books, rng, who, row, t) -> None:
    """Keep or drop each candidate (`who` on a visit to `row` at time `t`)
    and queue the kept ones that arrive before the horizon."""
    if not len(row):
        return
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
    if lam <= _LIST_SOURCES:
        pos = uniform_ints(rng, m, rng.poisson(lam * m))
    else:
        src = eng.ref_code.take(e).nonzero()[0]
        pos = src.take(uniform_ints(rng, len(src), rng.poisson(lam * len(src))))
    send(eng, books, rng, w.take(pos), eng.row.take(e.take(pos)), t.take(pos))


def from_runs(eng: Tables, books: Books, rng, w, row, t, step, visits, most: int) -> None:
    """Referrals of walkers that made `visits` (at most `most`) more visits
    each along a renewal loop (row `row`), the j-th at `t + j * step`: the
    candidates fall on a walkers x `most` grid, and those past a walker's
    visits are dropped."""
    slots = len(visits) * most
    slot = uniform_ints(rng, slots, rng.poisson(eng.lam_row_max * slots))
    walker, j = np.divmod(slot, most)
    real = (j < visits.take(walker)).nonzero()[0]
    walker = walker.take(real)
    send(eng, books, rng, w.take(walker), row.take(walker),
         t.take(walker) + (j.take(real) + 1) * step.take(walker))

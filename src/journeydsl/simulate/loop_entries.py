"""Entries of the fundamental matrix N = (I - Q)^-1 that loops decide.

N[t, s] for moves s -> t: raising the rate of a move is a rank-one change
of the chain; its Sherman-Morrison denominator 1 - d N[t, s] needs how a
walk from t comes back to s, which is zero unless the move lies on a loop.
The levers (levers.py) take these entries, for every edge at once, from
each loop's own block (small and dense in most journeys), never from all
of N. N[k, k], the expected visits to k from k, turns visits into the
probability of ever reaching k (attribution.py).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..linalg import LU, strong_components
from .chain import Chain

_BATCH = 256  # columns per solve when computing the diagonal of a block inverse


def present(chain: Chain, src, dst) -> np.ndarray:
    """Per lever edge: whether the persona's chain has the move (rate > 0)."""
    n = chain.n
    # sorted, as the chain's moves are sorted by (source, target)
    have = (chain.move_row * n + chain.move_col)[chain.move_rate > 0]
    wanted = np.asarray(src, np.int64) * n + np.asarray(dst, np.int64)
    at = np.minimum(np.searchsorted(have, wanted), max(len(have) - 1, 0))
    return have[at] == wanted if len(have) else np.zeros(len(wanted), bool)


#: Components up to this many steps are inverted together, all those of one
#: size in one pass (`gth_inverses`): a journey's short loops number in the
#: hundreds, and one factorization each cost more in numpy's per-call
#: overhead than in arithmetic. Larger ones are factored one by one.
SMALL_LOOP = 16


class LoopEntries:
    """Entries [t, s] of N = (I - M)^-1, of Nd = (I - Md)^-1 and of
    W = Nd diag(value) N, for moves s -> t, M the moves among the steps in
    `keep` (all steps, or the unconverted ones) and Md the same discounted.

    They are zero unless t leads back to s. For a move the chain has, s and
    t are then in one strongly connected component, and a walk from t to s
    never leaves it: the entries come from that component's own block, dense
    when it is small. A move the persona lacks (rate 0, an override) can
    join components: its entries come from whole columns of N.

    `shared`: inverses of small blocks by their steps, for another
    LoopEntries of the same chain to reuse (a loop without a goal step is
    the same block whether the goal steps are kept or not)."""

    BATCH = 256  # columns of N solved for at once

    def __init__(self, keep: np.ndarray, chain: Chain, present: np.ndarray,
                 undiscounted: bool, shared: dict | None = None) -> None:
        from ..linalg import components

        self.keep, self.present, self.undiscounted = keep, present, undiscounted
        self.index = np.cumsum(keep) - 1
        row, col = chain.move_row, chain.move_col
        inside = keep[row] & keep[col]
        self.row, self.col = self.index[row[inside]], self.index[col[inside]]
        self.val = chain.move_rate[inside]
        self.val_d = self.val if undiscounted else chain.move_discounted[inside]
        self.size = int(keep.sum())
        self.count, self.labels = components(self.size, self.row, self.col)
        self.shared = {} if shared is None else shared

    def entries(self, src, dst, value: np.ndarray | None = None):
        k = len(src)
        back, back_d, back_w = np.zeros(k), np.zeros(k), np.zeros(k)
        both = self.keep[src] & self.keep[dst]
        if not both.any():  # (nothing kept: every step a goal, the unconverted block empty)
            return back, back_d, back_w
        s = np.where(both, self.index[src], 0)
        t = np.where(both, self.index[dst], 0)
        same = both & (self.labels[s] == self.labels[t]) & self.present
        local_value = None if value is None else np.asarray(value, float)[self.keep]
        if same.any():
            _Blocks(self, s, t, local_value, (back, back_d, back_w)).fill(np.flatnonzero(same))
        joined = both & ~self.present
        if joined.any():  # a missing move: t may lead back to s through other components
            at = np.flatnonzero(joined)
            self._fill(self.size, self.row, self.col, self.val, self.val_d, s[at], t[at], at,
                       back, back_d, back_w, local_value)
        return back, back_d, back_w

    def _fill(self, k, r, c, val, val_d, ps, pt, e, back, back_d, back_w, value) -> None:
        """Entries [pt, ps] of one block's N, Nd and W into the arrays at e,
        from the block's columns of its distinct sources (a batch at a time:
        a large loop with many sources never holds all of N)."""
        lu = LU(k, r, c, val)
        lu_d = lu if self.undiscounted else LU(k, r, c, val_d)
        sources, column = np.unique(ps, return_inverse=True)
        for first in range(0, len(sources), self.BATCH):
            chosen = (column >= first) & (column < first + self.BATCH)
            units = unit_columns(k, sources[first:first + self.BATCH])
            at, col = pt[chosen], column[chosen] - first
            n_cols = lu.col(units)
            nd_cols = n_cols if self.undiscounted else lu_d.col(units)
            back[e[chosen]] = n_cols[at, col]
            back_d[e[chosen]] = nd_cols[at, col]
            if value is not None:
                back_w[e[chosen]] = lu_d.col(value[:, None] * n_cols)[at, col]


class _Blocks:
    """The moves of `LoopEntries.entries` that lie in a loop, by component:
    the small components in batches of one size (their dense inverses, the
    same numbers as `LU` gives, see `gth_inverses`), the others one by one."""

    def __init__(self, loops: LoopEntries, s, t, value, out) -> None:
        self.loops, self.s, self.t, self.value, self.out = loops, s, t, value, out
        labels = loops.labels
        self.sizes = np.bincount(labels, minlength=loops.count)
        # each component's steps, in step order: order[first[c]:first[c + 1]]
        self.order = np.argsort(labels, kind="stable")
        self.first = np.concatenate(([0], np.cumsum(self.sizes)))
        self.local = np.empty(loops.size, np.int64)  # a step's place in its component
        self.local[self.order] = np.arange(loops.size) - self.first[labels[self.order]]
        self.inner = labels[loops.row] == labels[loops.col]

    def fill(self, edges: np.ndarray) -> None:
        label = self.loops.labels[self.s[edges]]
        wanted = np.unique(label)
        size = self.sizes[wanted]
        for k in np.unique(size[size <= SMALL_LOOP]).tolist():
            group = wanted[size == k]
            self._small(k, group, edges[self.sizes[label] == k])
        for c in wanted[size > SMALL_LOOP].tolist():
            self._one(c, edges[label == c])

    def _one(self, c: int, edges: np.ndarray) -> None:
        """One component's entries, from its own factorization."""
        loops, local = self.loops, self.local
        members = self.order[self.first[c]:self.first[c + 1]]
        within = self.inner & (loops.labels[loops.row] == c)
        back, back_d, back_w = self.out
        loops._fill(len(members), local[loops.row[within]], local[loops.col[within]],
                    loops.val[within], loops.val_d[within], local[self.s[edges]],
                    local[self.t[edges]], edges, back, back_d, back_w,
                    None if self.value is None else self.value[members])

    def _small(self, k: int, group: np.ndarray, edges: np.ndarray) -> None:
        """The entries of the components of k steps each in `group` (sorted
        labels), all inverted in one pass."""
        loops, local = self.loops, self.local
        members = self.order[self.first[group][:, None] + np.arange(k)]  # (components, k)
        inverse, inverse_d, ok = self._inverses(k, group, members)
        place = np.searchsorted(group, loops.labels[self.s[edges]])
        fine = ok[place]
        e, i = edges[fine], place[fine]
        ps, pt = local[self.s[e]], local[self.t[e]]
        back, back_d, back_w = self.out
        back[e] = inverse[i, pt, ps]  # = the LU's (I - M)^-1 e_s, read at t
        back_d[e] = inverse_d[i, pt, ps]
        if self.value is not None:
            value = self.value[members]
            moved = value.any(axis=1)[i]  # W = 0 where no step of the block has a value
            e, i, ps, pt = e[moved], i[moved], ps[moved], pt[moved]
            by_block = np.argsort(i, kind="stable")
            cuts = np.flatnonzero(np.diff(i[by_block])) + 1
            for mine in np.split(by_block, cuts) if len(by_block) else ():
                b = int(i[mine[0]])
                sources, column = np.unique(ps[mine], return_inverse=True)
                n_cols = inverse[b][:, sources]
                back_w[e[mine]] = (inverse_d[b] @ (value[b][:, None] * n_cols))[pt[mine], column]
        for c in group[~ok].tolist():  # no GTH inverse (a test's negative rate): one by one
            self._one(c, edges[loops.labels[self.s[edges]] == c])

    def _inverses(self, k: int, group: np.ndarray, members: np.ndarray):
        """(I - M)^-1 and (I - Md)^-1 of each component in `group`, and
        whether it has them; from `shared` when another LoopEntries made them."""
        from ..gth import gth_inverses

        loops, local = self.loops, self.local
        count = len(group)
        keys = [row.tobytes() for row in loops.keep.nonzero()[0][members]]  # the chain's steps
        inverse = np.empty((count, k, k))
        inverse_d = inverse if loops.undiscounted else np.empty((count, k, k))
        ok = np.ones(count, bool)
        known = np.array([key in loops.shared for key in keys], bool)
        for i in np.flatnonzero(known).tolist():
            inverse[i], inverse_d[i], ok[i] = loops.shared[keys[i]]
        todo = np.flatnonzero(~known)
        if not len(todo):
            return inverse, inverse_d, ok
        slot = np.full(loops.count, -1)
        slot[group[todo]] = np.arange(len(todo))
        block = slot[loops.labels[loops.row]]
        inner = self.inner & (block >= 0)
        at = (block[inner], local[loops.row[inner]], local[loops.col[inner]])
        kinds = [(loops.val, inverse)] + ([] if loops.undiscounted else [(loops.val_d, inverse_d)])
        for values, into in kinds:
            m = np.zeros((len(todo), k, k))
            np.add.at(m, at, values[inner])  # as LU builds its dense matrix
            done, fine = gth_inverses(m)
            into[todo] = done
            ok[todo] &= fine
        for i in todo.tolist():
            loops.shared[keys[i]] = (inverse[i], inverse_d[i], ok[i])
        return inverse, inverse_d, ok


def unit_columns(k: int, columns: np.ndarray) -> np.ndarray:
    out = np.zeros((k, len(columns)))
    out[columns, np.arange(len(columns))] = 1.0
    return out


def return_visits(q: sparse.csr_matrix, at: np.ndarray | None = None) -> np.ndarray:
    """N[k, k] for N = (I - q)^-1: expected visits to k by a walk from k.

    `at`: the steps whose entries are wanted (the others' may be left at 1):
    only their components are inverted, the same numbers, bit for bit, as
    when every component is (`gth_inverses` gives each block what it would
    alone; a component of more than SMALL_LOOP steps among them: all).

    Only k's strongly connected component matters. The small components
    are inverted together, those of one size in one pass (`gth_inverses`):
    a journey's short loops number in the hundreds, and one elimination
    over all of them would spend its time in numpy's per-call overhead.
    The others: keeping only the moves inside components makes I - q block
    diagonal, so one factorization serves them all, and one right-hand side
    serves the i-th step of every component at once (its blocks do not
    mix)."""
    m = q.shape[0]
    out = np.ones(m)
    if m == 0:
        return out
    count, labels = strong_components(q)
    sizes = np.bincount(labels, minlength=count)
    diag = q.diagonal()
    single = (sizes[labels] == 1) & (diag > 0)
    out[single] = 1.0 / (1.0 - diag[single])
    cyclic = sizes[labels] > 1
    wanted = np.ones(count, bool)
    if at is not None and (sizes[labels[at]] <= SMALL_LOOP).all():
        wanted[:] = False
        wanted[labels[at]] = True
        cyclic &= wanted[labels]
    if not cyclic.any():
        return out
    coo = q.tocoo()
    inside = (labels[coo.row] == labels[coo.col]) & cyclic[coo.row]
    row, col, val = coo.row[inside], coo.col[inside], coo.data[inside]
    rest = _small_return_visits(labels, sizes, wanted, row, col, val, out)
    cyclic &= rest[labels]
    if not cyclic.any():
        return out
    keep = cyclic[row]
    blocks = sparse.csr_matrix((val[keep], (row[keep], col[keep])), shape=(m, m))
    steps = np.flatnonzero(cyclic)
    order = steps[np.argsort(labels[steps], kind="stable")]
    comp = labels[order]
    first = np.searchsorted(comp, comp)  # where each step's component starts in `order`
    slot = np.arange(len(order)) - first  # i: the step is the i-th of its component
    sub = blocks[order][:, order]
    lu = LU.of(sub, np.arange(len(order)))  # block diagonal: already in block order
    width = int(slot.max()) + 1
    for start in range(0, width, _BATCH):
        stop = min(width, start + _BATCH)
        pick = (slot >= start) & (slot < stop)
        rhs = np.zeros((len(order), stop - start))
        rhs[np.flatnonzero(pick), slot[pick] - start] = 1.0
        x = lu.col(rhs)
        out[order[pick]] = x[np.flatnonzero(pick), slot[pick] - start]
    return out


def _small_return_visits(labels, sizes, wanted, row, col, val, out) -> np.ndarray:
    """`return_visits` of the `wanted` components of 2 to SMALL_LOOP steps
    (moves row -> col inside them), written into `out`; returns, per
    component, whether it is left to do (larger, or no GTH inverse: a
    negative rate; or not wanted)."""
    from ..gth import gth_inverses

    rest = sizes > 1
    order = np.argsort(labels, kind="stable")  # each component's steps, in step order
    first = np.concatenate(([0], np.cumsum(sizes)))
    local = np.empty(len(labels), np.int64)  # a step's place in its component
    local[order] = np.arange(len(labels)) - first[labels[order]]
    for k in range(2, min(int(sizes.max()), SMALL_LOOP) + 1):
        group = np.flatnonzero((sizes == k) & wanted)
        if not len(group):
            continue
        members = order[first[group][:, None] + np.arange(k)]  # (components, k)
        slot = np.full(len(sizes), -1)
        slot[group] = np.arange(len(group))
        mine = slot[labels[row]] >= 0
        m = np.zeros((len(group), k, k))
        np.add.at(m, (slot[labels[row[mine]]], local[row[mine]], local[col[mine]]), val[mine])
        inverse, ok = gth_inverses(m)
        out[members[ok]] = np.diagonal(inverse[ok], axis1=1, axis2=2)
        rest[group[ok]] = False
    return rest

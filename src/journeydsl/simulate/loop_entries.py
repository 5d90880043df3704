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
    have = set((chain.move_row * n + chain.move_col)[chain.move_rate > 0].tolist())
    return np.fromiter(((a * n + b) in have for a, b in zip(src.tolist(), dst.tolist())),
                       bool, count=len(src))


class LoopEntries:
    """Entries [t, s] of N = (I - M)^-1, of Nd = (I - Md)^-1 and of
    W = Nd diag(value) N, for moves s -> t, M the moves among the steps in
    `keep` (all steps, or the unconverted ones) and Md the same discounted.

    They are zero unless t leads back to s. For a move the chain has, s and
    t are then in one strongly connected component, and a walk from t to s
    never leaves it: the entries come from that component's own block, dense
    when it is small. A move the persona lacks (rate 0, an override) can
    join components: its entries come from whole columns of N."""

    BATCH = 256  # columns of N solved for at once

    def __init__(self, keep: np.ndarray, chain: Chain, present: np.ndarray,
                 undiscounted: bool) -> None:
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
        groups: dict[int, list[int]] = {}
        for e in np.flatnonzero(same).tolist():
            groups.setdefault(int(self.labels[s[e]]), []).append(e)
        edge_label_r = self.labels[self.row]
        edge_label_c = self.labels[self.col]
        for label, edges in groups.items():
            members = np.flatnonzero(self.labels == label)
            local = np.full(self.size, -1)
            local[members] = np.arange(len(members))
            within = (edge_label_r == label) & (edge_label_c == label)
            r, c = local[self.row[within]], local[self.col[within]]
            at = np.array(edges)
            self._fill(len(members), r, c, self.val[within], self.val_d[within],
                       local[s[at]], local[t[at]], at, back, back_d, back_w,
                       None if local_value is None else local_value[members])
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


def unit_columns(k: int, columns: np.ndarray) -> np.ndarray:
    out = np.zeros((k, len(columns)))
    out[columns, np.arange(len(columns))] = 1.0
    return out


def return_visits(q: sparse.csr_matrix) -> np.ndarray:
    """N[k, k] for N = (I - q)^-1: expected visits to k by a walk from k.

    Only k's strongly connected component matters. Keeping only the moves
    inside components makes I - q block diagonal, so one factorization
    serves every component, and one right-hand side serves the i-th step
    of every component at once (its blocks do not mix)."""
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
    if not cyclic.any():
        return out
    coo = q.tocoo()
    inside = (labels[coo.row] == labels[coo.col]) & cyclic[coo.row]
    blocks = sparse.csr_matrix((coo.data[inside], (coo.row[inside], coo.col[inside])),
                               shape=(m, m))
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

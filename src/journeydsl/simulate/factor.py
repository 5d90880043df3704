"""Sparse LU factorizations of I - M for the exact engine, in block order.

Journeys mostly move forward, so ordering the steps by their strongly
connected components, topologically, makes I - Q block upper triangular:
its LU then needs no fill-reducing permutation (fill stays inside the
cyclic components) and is nearly as sparse as Q. The order is verified,
not assumed; when it does not hold SuperLU's own ordering is used.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from .chain import Chain, strong_components


class LU:
    """An LU factorization of I - M for M over `n` states given as COO arrays,
    solving for columns or (transpose) rows.

    `pos[i]`: position of state i in a block order (M block upper triangular
    in it): factored in that order without pivoting (I - M is a nonsingular
    M-matrix, so elimination on the diagonal is stable) and with SuperLU's
    small-panel settings (the factors are nearly as sparse as M). None:
    SuperLU's fill-reducing ordering and partial pivoting."""

    def __init__(self, n: int, row, col, val, pos: np.ndarray | None = None) -> None:
        self.n = n
        self.pos = pos
        if not n:
            return
        diag = np.arange(n)
        if pos is not None:
            row, col, diag = pos[row], pos[col], pos
            self.order = np.argsort(pos)
        a = sparse.csc_matrix((np.concatenate([np.ones(n), -np.asarray(val, float)]),
                               (np.concatenate([diag, row]), np.concatenate([diag, col]))),
                              shape=(n, n))
        if pos is None:
            self.lu = splu(a)
        else:
            self.lu = splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0, relax=4,
                           panel_size=2, options={"Equil": False})

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if not self.n:
            return np.zeros_like(b)
        trans = "T" if transpose else "N"
        if self.pos is None:
            return self.lu.solve(np.ascontiguousarray(b), trans=trans)
        return self.lu.solve(np.ascontiguousarray(b[self.order]), trans=trans)[self.pos]


class Graph:
    """The moves of one persona as COO arrays (explicit zeros dropped), their
    strongly connected components and a block order (computed once)."""

    def __init__(self, chain: Chain) -> None:
        q = chain.rates.tocsr()
        coo = q.tocoo()
        keep = coo.data != 0
        self.n = chain.n
        self.row = coo.row[keep].astype(np.int64)
        self.col = coo.col[keep].astype(np.int64)
        self.val = coo.data[keep]
        self.q = q
        self.keep = None if keep.all() else keep
        self.count, self.labels = strong_components(
            q if self.keep is None else self.csr(self.row, self.col))
        self.sizes = np.bincount(self.labels, minlength=self.count)
        # scipy labels components in reverse topological order (checked here,
        # since it is not documented): sorting by -label puts every move forward.
        self.forward = not np.any(self.labels[self.row] < self.labels[self.col])

    def csr(self, row, col) -> sparse.csr_matrix:
        return sparse.csr_matrix((np.ones(len(row)), (row, col)), shape=(self.n, self.n))

    def along(self, m: sparse.spmatrix) -> np.ndarray:
        """The entries of `m` on the moves (m usually shares the rates' pattern)."""
        m = m.tocsr()
        q = self.q
        if (m.nnz == q.nnz and np.array_equal(m.indptr, q.indptr)
                and np.array_equal(m.indices, q.indices)):
            data = m.data
            return data if self.keep is None else data[self.keep]
        return np.asarray(m[self.row, self.col], dtype=float).ravel()

    def positions(self, sub_labels: np.ndarray | None = None) -> np.ndarray | None:
        """Position of each step in the block order (None if there is none);
        `sub_labels` orders the steps inside each component (reverse
        topological labels of a subgraph)."""
        if not self.forward:
            return None
        if sub_labels is None:
            order = np.argsort(-self.labels, kind="stable")
        else:
            order = np.lexsort((-sub_labels, -self.labels))
        pos = np.empty(self.n, dtype=np.int64)
        pos[order] = np.arange(self.n)
        return pos


def subsystem(keep: np.ndarray, row, col, val, pos):
    """The moves among the steps in `keep`, renumbered, and their order."""
    index = np.cumsum(keep) - 1
    inside = keep[row] & keep[col]
    sub_pos = None
    if pos is not None:
        sub_pos = np.argsort(np.argsort(pos[keep], kind="stable"), kind="stable")
    return int(keep.sum()), index[row[inside]], index[col[inside]], val[inside], sub_pos

"""One persona's moves as COO arrays, their strongly connected components and
a block order: what the exact engine's factorizations (`linalg.LU`) and the
reach computations share, computed once per chain."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..linalg import strong_components
from .chain import Chain


class Moves:
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

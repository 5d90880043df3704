"""One persona's moves as COO arrays, their strongly connected components and
a block order: what the exact engine's factorizations (`linalg.LU`) and the
reach computations share, computed once per chain."""

from __future__ import annotations

import numpy as np

from ..linalg import DENSE_LIMIT, components
from .chain import Chain


class Moves:
    """The moves of one persona as COO arrays (`row` -> `col` with rate
    `val`), their strongly connected components and a block order."""

    def __init__(self, chain: Chain) -> None:
        self.n = chain.n
        self.row = chain.move_row
        self.col = chain.move_col
        self.val = chain.move_rate
        rates = chain.rates if self.n > DENSE_LIMIT else None
        if rates is not None and rates.has_canonical_format:
            # scipy's, on the chain's own matrix (built once per chain, cached
            # on it), not on one rebuilt from the same arrays on every solve:
            # the same pattern, so the same labels
            from scipy.sparse.csgraph import connected_components

            self.count, self.labels = connected_components(rates, directed=True,
                                                           connection="strong")
        else:
            self.count, self.labels = components(self.n, self.row, self.col)
        self.sizes = np.bincount(self.labels, minlength=self.count)
        # components are labelled in reverse topological order (checked here):
        # sorting by -label puts every move forward.
        self.forward = not np.any(self.labels[self.row] < self.labels[self.col])

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

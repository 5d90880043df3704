"""Sums by cell over keys that come in long runs (`np.bincount`, faster).

The walk hands over its walkers in the order of their numbers, and the
numbers go pair by pair and, within a pair, batch by batch (ledger.py), so
the keys that the books and the ledger sum by come in long runs of one
cell. `np.bincount` then adds each element to the cell the element before
it has just written: a chain of dependent memory updates, three to four
times slower than updates spread over many cells. Spreading the elements
over `LANES` copies of each cell (element k to copy k mod LANES) breaks the
chain; the copies are added up at the end.

Counts come out the same. Float sums are added in another (fixed) order:
each copy in element order, then the copies in turn, so that their last
bits can differ from one sequential sum's.
"""

from __future__ import annotations

import numpy as np

LANES = 8


_lane = np.zeros(0, np.intp)  # element number mod LANES, grown as needed


def spread(key: np.ndarray) -> np.ndarray:
    """The keys of `sum_by`: key * LANES + (element number mod LANES)."""
    global _lane
    if len(_lane) < len(key):
        _lane = np.arange(max(len(key), 2 * len(_lane)), dtype=np.intp) & (LANES - 1)
    out = np.multiply(key, LANES, dtype=np.intp)
    out += _lane[:len(key)]
    return out


def sum_by(spread_key: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """np.bincount(key, weights, minlength=size) for `spread_key = spread(key)`
    (keys below `size`): each cell's elements summed copy by copy."""
    per = np.bincount(spread_key, weights=weights, minlength=size * LANES)
    return per.reshape(size, LANES).sum(axis=1)

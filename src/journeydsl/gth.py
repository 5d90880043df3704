"""Dense inverses (I - M)^-1 of small sub-stochastic systems by GTH
elimination, one at a time (`gth_inverse`, remembered for small systems:
`dense_inverse`) or many of one size at once (`gth_inverses`), with the
same floating-point operations bit for bit (linalg.py's `LU` uses them for
every system up to its DENSE_LIMIT)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Dense systems up to this many states have their inverses remembered (by
#: the bytes of their moves), and how many of them (at most 1024 x 48^2
#: doubles, 19 MB; a 12-step journey's take 1.2 kB each): the exact engine
#: over a `per customer` rate solves a chain per quadrature point, and the
#: systems the drawn rate does not enter (the steps before the goal, a
#: stage's loop...) are the same at every point (half of the LUs of the
#: domain_registrar example's attribution are such repeats).
_REMEMBERED_SIZE = 48
_REMEMBERED = 1024


def dense_inverse(n: int, row: np.ndarray, col: np.ndarray, val: np.ndarray,
                  pos: np.ndarray | None) -> np.ndarray:
    """(I - M)^-1 of a small system (M: the moves row -> col with rates val),
    by `gth_inverse` in the block order `pos` (if any); remembered up to
    _REMEMBERED_SIZE states (then read-only)."""
    if n > _REMEMBERED_SIZE:
        return _inverse(n, row, col, val, pos)
    # The key's bytes are decoded as int64 and float64: cast, never reinterpret.
    return _remembered_inverse(n, np.asarray(row, np.int64).tobytes(),
                               np.asarray(col, np.int64).tobytes(),
                               np.asarray(val, np.float64).tobytes(),
                               None if pos is None else np.asarray(pos, np.int64).tobytes())


def _inverse(n: int, row: np.ndarray, col: np.ndarray, val: np.ndarray,
             pos: np.ndarray | None) -> np.ndarray:
    m = np.zeros((n, n))
    np.add.at(m, (row, col), val)
    order = np.argsort(pos) if pos is not None else np.arange(n)
    m = m[np.ix_(order, order)]
    inverse = gth_inverse(m)
    if inverse is None:  # not a sub-stochastic matrix (a test's negative rate)
        inverse = np.linalg.inv(np.eye(n) - m)
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    return inverse[np.ix_(back, back)]


@lru_cache(maxsize=_REMEMBERED)
def _remembered_inverse(n: int, row: bytes, col: bytes, val: bytes,
                        pos: bytes | None) -> np.ndarray:
    """`_inverse`, remembered (read-only: shared by the LUs of the same
    system)."""
    inverse = _inverse(n, np.frombuffer(row, np.int64), np.frombuffer(col, np.int64),
                             np.frombuffer(val), None if pos is None else
                             np.frombuffer(pos, np.int64))
    inverse.flags.writeable = False
    return inverse


def gth_inverse(m: np.ndarray) -> np.ndarray | None:
    """(I - M)^-1 for a sub-stochastic M (M >= 0, rows summing to at most 1),
    to the last digits of every entry, however small: Gaussian elimination
    in the Grassmann-Taksar-Heyman form. Each pivot 1 - M'[k, k] is taken
    as what leaves k (its exit plus its moves to the states not yet
    eliminated), a sum, never a difference; so every operation adds
    non-negative numbers, and a path through a 1e-12 rate inside a loop
    keeps its relative digits (pivoting LU leaves absolute noise of 1e-17
    there, and an entry with no path is exactly 0). In a block order the
    eliminations touch only the rows of the pivot's own loop. None when M
    has a negative entry or a row summing above 1."""
    n = len(m)
    if (m < 0).any():
        return None
    exit_ = 1.0 - m.sum(axis=1)
    if exit_.min() < -1e-12:
        return None
    m = m.copy()
    exit_ = np.maximum(exit_, 0.0)
    pivot = np.empty(n)
    lower = np.zeros((n, n))  # multipliers M'[i, k] / pivot[k], i > k
    # A small matrix is eliminated on all the rows below the pivot at once:
    # a row without a multiplier adds exact zeros (as in `gth_inverses`),
    # cheaper than finding the others (not with a non-finite entry, where
    # 0 x inf would not be 0).
    every_row = n <= _REMEMBERED_SIZE and bool(np.isfinite(exit_).all())
    for k in range(n):
        pivot[k] = exit_[k] + m[k, k + 1:].sum()
        if pivot[k] <= 0:
            return None  # a closed loop: no inverse
        if every_row:
            f = m[k + 1:, k] / pivot[k]
            lower[k + 1:, k] = f
            m[k + 1:, k + 1:] += f[:, None] * m[k, k + 1:]
            exit_[k + 1:] += f * exit_[k]
            continue
        below = k + 1 + np.flatnonzero(m[k + 1:, k])
        if len(below):
            f = m[below, k] / pivot[k]
            lower[below, k] = f
            # (the rows below k that have a multiplier: elementwise, as an outer product)
            m[below, k + 1:] += f[:, None] * m[k, k + 1:]
            exit_[below] += f * exit_[k]
    upper = np.triu(m, 1)
    # The substitutions visit only the rows with a coefficient, found at
    # once (not a search per row). A sum of one product is that product
    # (a row times a scalar); a sum of more is the same BLAS product as
    # ever, so every entry keeps its last digits.
    x = np.eye(n)  # forward: b'_i = b_i + sum_k lower[i, k] b'_k
    for i, cols in _row_coefficients(lower):
        if len(cols) == 1:
            x[i] += lower[i, cols[0]] * x[cols[0]]
        else:
            x[i] += lower[i, cols] @ x[cols]
    terms = dict(_row_coefficients(upper))
    for k in range(n - 1, -1, -1):  # back: x_k = (b'_k + sum_j upper[k, j] x_j) / pivot_k
        back = terms.get(k)
        if back is not None:
            if len(back) == 1:
                x[k] += upper[k, back[0]] * x[back[0]]
            else:
                x[k] += upper[k, back] @ x[back]
        x[k] /= pivot[k]
    return x


def _row_coefficients(a: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(row, the columns of its nonzero entries, ascending) for each row of
    `a` with any, in row order."""
    rows, cols = np.nonzero(a)
    if not len(rows):
        return []
    counts = np.bincount(rows, minlength=len(a)).tolist()
    out, end = [], 0
    for row, count in enumerate(counts):
        if count:
            out.append((row, cols[end:end + count]))
            end += count
    return out


def gth_inverses(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`gth_inverse` of many blocks of one size at once: m is (B, n, n);
    returns the (B, n, n) inverses and, per block, whether it has one (False
    where `gth_inverse` returns None, or an entry is not finite: the caller
    takes those blocks one by one).

    Every block gets the same floating-point operations as from
    `gth_inverse`, bit for bit (tests/test_linalg_batch.py): the
    elimination runs on all rows, a row without a multiplier adding exact
    zeros; a substitution sum of one product is that product, however it is
    summed; sums of two or more are left to the same BLAS call as there (its
    kernel's order of the sum depends on the shapes and the memory it is
    given), one block at a time."""
    count, n, _ = m.shape
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ok = ~(m < 0).any(axis=(1, 2))
        exit_ = 1.0 - m.sum(axis=2)
        ok &= exit_.min(axis=1, initial=np.inf) >= -1e-12
        m = m.copy()
        exit_ = np.maximum(exit_, 0.0)
        pivot = np.empty((count, n))
        lower = np.zeros((count, n, n))
        for k in range(n):
            pivot[:, k] = exit_[:, k] + m[:, k, k + 1:].sum(axis=1)
            ok &= pivot[:, k] > 0
            f = m[:, k + 1:, k] / pivot[:, k, None]
            lower[:, k + 1:, k] = f
            m[:, k + 1:, k + 1:] += f[:, :, None] * m[:, None, k, k + 1:]
            exit_[:, k + 1:] += f * exit_[:, k, None]
        upper = np.triu(m, 1)
        x = np.broadcast_to(np.eye(n), (count, n, n)).copy()
        for i in range(1, n):
            _add_products(x, i, lower[:, i, :i], 0)
        for k in range(n - 1, -1, -1):
            _add_products(x, k, upper[:, k, k + 1:], k + 1)
            x[:, k] /= pivot[:, k, None]
    ok &= np.isfinite(x).all(axis=(1, 2))
    return x, ok


def _add_products(x: np.ndarray, i: int, coef: np.ndarray, offset: int) -> None:
    """x[b, i] += coef[b, cols] @ x[b, offset + cols] for every block b, cols
    where its coefficients are not zero (as `gth_inverse` sums them)."""
    nonzero = coef != 0
    count = nonzero.sum(axis=1)
    single = np.flatnonzero(count == 1)
    if len(single):  # one product: exact whichever way it is summed
        col = np.argmax(nonzero[single], axis=1)
        x[single, i] += coef[single, col][:, None] * x[single, offset + col]
    for b in np.flatnonzero(count > 1).tolist():
        cols = np.flatnonzero(nonzero[b])
        x[b, i] += coef[b, cols] @ x[b, offset + cols]

"""Solves with I - Q for a substochastic Q (the expected-visits matrix N).

For the checks that need N on large journeys (the referral cascade).
I - Q is a nonsingular M-matrix whenever every walk ends, so:
- journeys whose loops are small are solved directly: SuperLU in the block
  order of the strongly connected components (I - Q block triangular, no
  fill outside the loops);
- a journey with a loop through thousands of steps (a catalogue with
  links back from anywhere) would fill a direct factorization with
  millions of entries: it is solved by GMRES preconditioned with the
  diagonal, which needs only products with Q, and checked by its residual
  (SuperLU when that is not small enough).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import LinearOperator, gmres, splu

#: Steps in one loop up to which a direct factorization stays sparse enough.
DIRECT_LOOP_LIMIT = 2_000
_RTOL = 1e-13


def solve_visits(q: sparse.spmatrix, rhs: np.ndarray, transpose: bool = False) -> np.ndarray:
    """X with (I - Q) X = rhs, or (I - Q)^T X = rhs with `transpose`.

    >>> q = sparse.csr_matrix(np.array([[0.0, 0.5], [0.2, 0.0]]))
    >>> np.round(solve_visits(q, np.eye(2)), 6).tolist()  # N = (I - Q)^-1
    [[1.111111, 0.555556], [0.222222, 1.111111]]
    """
    n = q.shape[0]
    rhs = np.asarray(rhs, float)
    if n == 0:
        return np.zeros_like(rhs)
    a = (sparse.identity(n, format="csr") - sparse.csr_matrix(q)).tocsr()
    if transpose:
        a = a.T.tocsr()
    count, labels = connected_components(a, directed=True, connection="strong")
    largest = int(np.bincount(labels).max())
    if largest > DIRECT_LOOP_LIMIT:
        solved = _iterative(a, rhs)
        if solved is not None:
            return solved
    return _direct(a, rhs, labels)


def _direct(a: sparse.csr_matrix, rhs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    # scipy labels strong components in reverse topological order: sorting
    # the steps by -label makes I - Q block upper triangular.
    n = a.shape[0]
    coo = a.tocoo()
    if np.any(labels[coo.row] < labels[coo.col]):
        return splu(a.tocsc()).solve(rhs)
    order = np.argsort(-labels, kind="stable")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    permuted = sparse.csc_matrix((coo.data, (pos[coo.row], pos[coo.col])), shape=(n, n))
    lu = splu(permuted, permc_spec="NATURAL", diag_pivot_thresh=0.0,
              options={"Equil": False})
    return lu.solve(np.ascontiguousarray(rhs[order]))[pos]


def _iterative(a: sparse.csr_matrix, rhs: np.ndarray) -> np.ndarray | None:
    diagonal = a.diagonal()
    if np.any(diagonal <= 0):
        return None
    jacobi = LinearOperator(a.shape, matvec=lambda x: x / diagonal, dtype=float)
    columns = rhs.reshape(len(rhs), -1)
    out = np.empty_like(columns)
    for j in range(columns.shape[1]):
        b = columns[:, j]
        x, info = gmres(a, b, M=jacobi, rtol=_RTOL, atol=0.0, restart=60, maxiter=2_000)
        scale = max(float(np.abs(b).max()), 1e-300)
        if info != 0 or float(np.abs(a @ x - b).max()) > 1e-10 * scale:
            return None
        out[:, j] = x
    return out.reshape(rhs.shape)

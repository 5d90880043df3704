"""Linear algebra for every engine and check: solves with I - M for a
substochastic M (the moves of a journey), factored once and reused.

I - M is a nonsingular M-matrix whenever every walk ends, which is what
makes the shortcuts here safe:

- Journeys mostly move forward. Ordering the steps by their strongly
  connected components, topologically (`block_order`), makes I - M block
  upper triangular, so a sparse LU in that order needs no fill-reducing
  permutation (fill stays inside the loops) and no pivoting (elimination on
  the diagonal of an M-matrix is stable). The order is verified, not
  assumed; when it does not hold, SuperLU's own ordering is used.
- A journey with a loop through thousands of steps (a catalogue with links
  back from anywhere) would fill a direct factorization with millions of
  entries; `solve_visits`, for the checks, solves it by GMRES preconditioned
  with the diagonal, checked by its residual.

- Small systems (up to DENSE_LIMIT states, every example) are solved
  densely with numpy: `journey check` of a small journey evaluates its
  `expect` lines without importing scipy at all (its start-up target).

The exact engine, levers and attribution use `LU`; the checks use
`solve_visits`; nothing else factors a matrix.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .gth import dense_inverse

if TYPE_CHECKING:
    from scipy import sparse

#: States up to which a system is solved densely (numpy; no scipy import).
DENSE_LIMIT = 200
#: Steps in one loop up to which `solve_visits` factors directly.
DIRECT_LOOP_LIMIT = 2_000
_RTOL = 1e-13


def components(n: int, row: np.ndarray, col: np.ndarray) -> tuple[int, np.ndarray]:
    """Strongly connected components of the graph with edges row -> col over
    n nodes: (count, label per node), labelled in reverse topological order
    (a component's label is larger than those of the components it reaches,
    as scipy labels them). Small graphs: Tarjan's algorithm here; large
    ones: scipy's csgraph.

    >>> components(3, np.array([0, 1, 1]), np.array([1, 0, 2]))[1].tolist()
    [1, 1, 0]
    """
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    if n > DENSE_LIMIT:
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        m = sparse.csr_matrix((np.ones(len(row)), (row, col)), shape=(n, n))
        return connected_components(m, directed=True, connection="strong")
    count, labels = _remembered_tarjan(n, row.tobytes(), col.tobytes())
    return count, labels.copy()


@lru_cache(maxsize=1024)
def _remembered_tarjan(n: int, row: bytes, col: bytes) -> tuple[int, np.ndarray]:
    """`_tarjan`, remembered by the edges' bytes: the quadrature points of a
    `per customer` rate (mixture.py) solve chains of one structure."""
    return _tarjan(n, np.frombuffer(row, np.int64), np.frombuffer(col, np.int64))


def _tarjan(n: int, row: np.ndarray, col: np.ndarray) -> tuple[int, np.ndarray]:
    """Tarjan's strongly connected components, iterative. Components are
    numbered as they complete, sinks first: reverse topological order."""
    order = np.argsort(row, kind="stable")
    targets = col[order].tolist()
    starts = np.searchsorted(row[order], np.arange(n + 1)).tolist()
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    labels = [-1] * n
    stack: list[int] = []
    counter = count = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, starts[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, i = work[-1]
            if i < starts[v + 1]:
                work[-1] = (v, i + 1)
                w = targets[i]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, starts[w]))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    labels[w] = count
                    if w == v:
                        break
                count += 1
    return count, np.array(labels, dtype=np.int32)


def strong_components(m: sparse.spmatrix) -> tuple[int, np.ndarray]:
    """`components` of a sparse matrix's pattern (explicit zeros included)."""
    coo = m.tocoo()
    return components(m.shape[0], coo.row, coo.col)


def block_order(m: sparse.spmatrix) -> np.ndarray | None:
    """A step order that makes m block upper triangular (None if not found):
    the strongly connected components in topological order."""
    coo = m.tocoo()
    return order_of(m.shape[0], coo.row, coo.col)


def order_of(n: int, row: np.ndarray, col: np.ndarray) -> np.ndarray | None:
    """`block_order` of the graph row -> col over n states."""
    if n == 0:
        return None
    _, labels = components(n, row, col)
    if np.any(labels[row] < labels[col]):
        return None
    return np.argsort(-labels, kind="stable")


class LU:
    """An LU factorization of I - M, M over `n` states given as COO arrays
    (row, col, val), solving for columns or (`transpose`) rows.

    Up to DENSE_LIMIT states: the dense inverse, from LAPACK (numpy).
    Larger: SuperLU. `pos[i]`: position of state i in a block order (M block
    upper triangular in it): factored in that order without pivoting, with
    SuperLU's small-panel settings (the factors are nearly as sparse as M).
    None: SuperLU's fill-reducing ordering and partial pivoting.

    >>> lu = LU(2, np.array([0, 1]), np.array([1, 0]), np.array([0.5, 0.2]))
    >>> np.round(lu.solve(np.eye(2)), 6).tolist()  # (I - M)^-1
    [[1.111111, 0.555556], [0.222222, 1.111111]]
    """

    def __init__(self, n: int, row, col, val, pos: np.ndarray | None = None) -> None:
        self.n = n
        self.pos = pos
        self.inverse: np.ndarray | None = None
        if pos is not None:
            self.order = np.argsort(pos)
        if not n:
            return
        if n <= DENSE_LIMIT:
            row, col = np.asarray(row, np.int64), np.asarray(col, np.int64)
            val = np.asarray(val, float)
            self.inverse = dense_inverse(n, row, col, val, pos)
            return
        if pos is None:
            from scipy.sparse.linalg import splu

            self.lu = splu(identity_less(n, row, col, val))
        else:
            self.lu = block_splu(identity_less(n, pos[row], pos[col], val))

    @classmethod
    def of(cls, m: sparse.spmatrix, order: np.ndarray | None | str = "find") -> LU:
        """The LU of I - m for a sparse m; `order` a block order of its
        steps (`block_order`), "find" to compute it, or None for SuperLU's."""
        n = m.shape[0]
        if isinstance(order, str):
            order = block_order(m) if n else None
        pos = None
        if order is not None:
            pos = np.empty(n, dtype=np.int64)
            pos[order] = np.arange(n)
        coo = m.tocoo()
        return cls(n, coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, pos)

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if not self.n:
            return np.zeros_like(b)
        if self.inverse is not None:
            return (self.inverse.T if transpose else self.inverse) @ b
        trans = "T" if transpose else "N"
        if self.pos is None:
            return self.lu.solve(np.ascontiguousarray(b), trans=trans)
        return self.lu.solve(np.ascontiguousarray(b[self.order]), trans=trans)[self.pos]

    def col(self, b: np.ndarray) -> np.ndarray:
        """(I - M)^-1 b."""
        return self.solve(b)

    def units_at(self, columns: np.ndarray, rows: np.ndarray,
                 lead: np.ndarray | None = None) -> np.ndarray:
        """((I - M)^-1 [lead, e_c for c in columns])[rows]: the numbers of
        `col(...)[rows]`, without its two permuted copies of the whole
        n x k right-hand side and solution (the unit columns are built in
        the factors' order and only `rows` are read back; for a few dozen
        columns those copies cost as much as the solve)."""
        columns = np.asarray(columns, np.int64)
        extra = 0 if lead is None else 1
        if self.inverse is not None or self.pos is None or not self.n:
            b = unit_columns(self.n, columns)
            if lead is not None:
                b = np.column_stack([lead, b])
            return self.solve(b)[rows]
        b = np.zeros((len(columns) + extra, self.n))  # transposed: Fortran order for SuperLU
        if lead is not None:
            b[0] = lead[self.order]
        b[extra + np.arange(len(columns)), self.pos[columns]] = 1.0
        return self.lu.solve(b.T)[self.pos[rows]]

    def row(self, b: np.ndarray) -> np.ndarray:
        """b (I - M)^-1, as a column."""
        return self.solve(b, transpose=True)


def identity_less(n: int, row, col, val) -> sparse.csc_matrix:
    """I - M as a CSC matrix, M the moves row -> col with rates val."""
    from scipy import sparse

    diag = np.arange(n)
    return sparse.csc_matrix((np.concatenate([np.ones(n), -np.asarray(val, float)]),
                              (np.concatenate([diag, row]), np.concatenate([diag, col]))),
                             shape=(n, n))


def block_splu(a: sparse.csc_matrix):
    """SuperLU of a matrix already in a block order: no column permutation, no
    pivoting or equilibration (the diagonal dominates), small supernodes."""
    from scipy.sparse.linalg import splu

    return splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0, relax=4, panel_size=2,
                options={"Equil": False})


def unit_columns(n: int, columns: np.ndarray) -> np.ndarray:
    """The columns e_c of the n x n identity for c in `columns`."""
    out = np.zeros((n, len(columns)))
    out[columns, np.arange(len(columns))] = 1.0
    return out


def subsystem(keep: np.ndarray, row, col, val, pos):
    """The moves among the steps in `keep`, renumbered, and their block order."""
    index = np.cumsum(keep) - 1
    inside = keep[row] & keep[col]
    sub_pos = None
    if pos is not None:
        sub_pos = np.argsort(np.argsort(pos[keep], kind="stable"), kind="stable")
    return int(keep.sum()), index[row[inside]], index[col[inside]], val[inside], sub_pos


def solve_visits(q: sparse.spmatrix, rhs: np.ndarray, transpose: bool = False) -> np.ndarray:
    """X with (I - Q) X = rhs, or (I - Q)^T X = rhs with `transpose`, for a
    journey of any size: directly in block order unless a loop is larger
    than DIRECT_LOOP_LIMIT, then by GMRES.

    >>> from scipy import sparse
    >>> q = sparse.csr_matrix(np.array([[0.0, 0.5], [0.2, 0.0]]))
    >>> np.round(solve_visits(q, np.eye(2)), 6).tolist()  # N = (I - Q)^-1
    [[1.111111, 0.555556], [0.222222, 1.111111]]
    """
    from scipy import sparse

    n = q.shape[0]
    rhs = np.asarray(rhs, float)
    if n == 0:
        return np.zeros_like(rhs)
    m = sparse.csr_matrix(q.T if transpose else q)
    _, labels = strong_components(m)
    if int(np.bincount(labels).max()) > DIRECT_LOOP_LIMIT:
        a = (sparse.identity(n, format="csr") - m).tocsr()
        solved = _iterative(a, rhs)
        if solved is not None:
            return solved
    return LU.of(m).solve(rhs)


def _iterative(a: sparse.csr_matrix, rhs: np.ndarray) -> np.ndarray | None:
    from scipy.sparse.linalg import LinearOperator, gmres

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

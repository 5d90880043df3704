"""Exact removal effects (no horizon): conversion, revenue and profit
without each step and without each group of steps (a channel).

The formulas are in attribution.py's docstring. What costs time here is
the groups: each needs |S| columns of a fundamental matrix (N_UU for
conversion, Nd for money), about n columns in all for each metric family.
Each group's columns are solved in one call (SuperLU's per-column cost is
lowest for a few dozen columns), built in the factors' order, and only the
rows a formula reads are taken back (`LU.units_at`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..linalg import LU
from .chain import Chain
from .loop_entries import return_visits

_LOW_RANK = 48  # up to this many removed steps, update the base LU instead of a new one


def exact_removals(chain: Chain, groups: list[list[int]]):
    """The metrics (conversion, revenue, profit), and the metrics without
    each step (one row per step) and without each group (one row per group)."""
    conversion, conv_step, conv_group = _conversion(chain, groups)
    money, money_step, money_group = _money(chain, groups)
    return (np.array([conversion, *money]), np.column_stack([conv_step, money_step]),
            np.column_stack([conv_group, money_group]))


def _conversion(chain: Chain, groups: list[list[int]]):
    """Conversion, and conversion without each step and without each group."""
    n = chain.n
    q = chain.rates.tocsr()
    alpha, goal = chain.entry, chain.goal
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)
    q_u = q[u]
    q_uu = q_u[:, u].tocsr()
    q_ug = q_u[:, g].tocsc()
    into_goal = np.asarray(q_ug.sum(axis=1)).ravel()
    lu = LU.of(q_uu)
    h = np.ones(n)
    nu_u = np.zeros(n)
    h[u] = lu.col(into_goal)
    nu_u[u] = lu.row(alpha[u])
    conversion = float(alpha @ h)

    lost = np.zeros(n)
    # non-goal steps: h(k) P(reach k before converting)
    lost[u] = h[u] * nu_u[u] / return_visits(q_uu)
    # goal steps: P(the first goal reached is k)
    if len(g):
        lost[g] = alpha[g] + np.asarray(q_ug.T @ nu_u[u]).ravel()
    by_step = conversion - lost

    # Groups: the taboo chain is the U-chain with the rows of the removed
    # non-goal steps T zeroed (dead ends), walks into removed goal steps no
    # longer converting: I - Q' = (I - Q_UU) + E_T C, C the rows T of Q_UU.
    # Small T: Woodbury on the factorization above, |T| + 1 solves and a
    # |T| x |T| system; large T: one sparse LU of the taboo chain.
    m = len(u)
    pos = np.full(n, -1)
    pos[u] = np.arange(m)
    gpos = np.full(n, -1)
    gpos[g] = np.arange(len(g))
    nu = nu_u[u]
    alpha_g = alpha[g]
    entering_goals = alpha_g.sum()
    enters_unconverted = bool(alpha[u].any())
    taboo = None
    by_group = np.empty(len(groups))
    for j, group in enumerate(groups):
        idx = np.asarray(group, int)
        dead = pos[idx][pos[idx] >= 0]
        gone = gpos[idx][gpos[idx] >= 0]
        direct = float(entering_goals - alpha_g[gone].sum())
        into = into_goal - (np.asarray(q_ug[:, gone].sum(axis=1)).ravel() if len(gone) else 0)
        into[dead] = 0.0
        if m == 0 or not into.any() or not enters_unconverted:
            by_group[j] = direct
        elif len(dead) == 0:
            by_group[j] = direct + float(nu @ into)
        elif len(dead) <= _LOW_RANK:
            by_group[j] = direct + float(nu @ into - nu[dead] @ _woodbury(lu, q_uu, dead, into))
        else:
            taboo = taboo or _Taboo(q_uu, None if lu.pos is None else lu.order)
            by_group[j] = direct + float(alpha[u] @ taboo.solve(dead, into))
    return conversion, by_step, by_group


def _woodbury(lu: LU, q_uu: sparse.csr_matrix, dead: np.ndarray, into: np.ndarray):
    """(I + C N E_T)^-1 C N into, C the rows `dead` of Q_UU and N = (I -
    Q_UU)^-1: |T| + 1 solves in one call, of which C N reads only the rows
    of the steps C moves to. C's rows are read from Q_UU's arrays, not by
    scipy's row slicing and products (a tenth of a millisecond each, per
    channel), and summed in the order scipy sums them (0, then each move in
    the row's order): the same numbers."""
    start, stop = q_uu.indptr[dead], q_uu.indptr[dead + 1]
    count = stop - start
    at = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
    reached, column = np.unique(q_uu.indices[at], return_inverse=True)
    sol = lu.units_at(dead, reached, lead=into)
    products = q_uu.data[at][:, None] * sol[column.ravel()]
    c_n = np.zeros((len(dead), len(dead) + 1))
    first = np.cumsum(count) - count  # where each row's moves start in `products`
    for k in range(int(count.max(initial=0))):  # the k-th move of every row that has one
        rows = np.flatnonzero(count > k)
        c_n[rows] += products[first[rows] + k]
    return np.linalg.solve(np.eye(len(dead)) + c_n[:, 1:], c_n[:, 0])


def _money(chain: Chain, groups: list[list[int]]):
    """Revenue and profit, and both without each step (n x 2) and without
    each group (groups x 2): see attribution.py's docstring."""
    qd = chain.discounted.tocsr()
    x = np.column_stack([chain.value, chain.profit])
    lu = LU.of(qd)  # I - Qd
    nu_d = lu.row(chain.entry)
    to_go = lu.col(x)  # discounted revenue and profit from each step on
    base = chain.entry @ to_go
    by_step = base - (nu_d / return_visits(qd))[:, None] * to_go
    by_group = np.empty((len(groups), 2))
    # A small group S: X without S = X - nu_d[S] Nd[S, S]^-1 X[S] (the first
    # visit to S is at k with discounted probability (nu_d[S] Nd[S, S]^-1)_k),
    # Nd[S, S] from |S| columns of Nd, of which only the rows S are kept.
    taboo = None
    for j, group in enumerate(groups):
        idx = np.asarray(group, int)
        if len(group) <= _LOW_RANK:
            block = lu.units_at(idx, idx)  # Nd[S, S]
            first = np.linalg.solve(block.T, nu_d[idx])
            by_group[j] = base - first @ to_go[idx]
        else:  # a large group: the taboo chain's own LU
            kept = x.copy()
            kept[idx] = 0.0  # a removed step earns and spends nothing
            taboo = taboo or _Taboo(qd, None if lu.pos is None else lu.order)
            by_group[j] = chain.entry @ taboo.solve(idx, kept)
    return base, by_step, by_group


class _Taboo:
    """Sparse LUs of I - Q_UU with some rows made dead ends (rows of I)."""

    def __init__(self, q_uu: sparse.csr_matrix, order: np.ndarray | None) -> None:
        self.m = q_uu.shape[0]
        coo = q_uu.tocoo()
        self.row, self.col, self.val = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
        self.pos = None
        if order is not None:  # the block order stays one with rows removed
            self.pos = np.empty(self.m, dtype=np.int64)
            self.pos[order] = np.arange(self.m)

    def solve(self, dead: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(I - Q')^-1 b, Q' = Q_UU with the rows `dead` zeroed."""
        live = ~np.isin(self.row, dead)
        return LU(self.m, self.row[live], self.col[live], self.val[live], self.pos).solve(b)

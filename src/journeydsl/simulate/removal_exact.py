"""Exact removal effects (no horizon): conversion, revenue and profit
without each step and without each group of steps (a channel).

The formulas are in attribution.py's docstring. What costs time here is
the groups: each needs |S| columns of a fundamental matrix (N_UU for
conversion, Nd for money), about n columns in all for each metric family.
Each group's columns are solved in one call (SuperLU's per-column cost is
lowest for a few dozen columns), built in the factors' order, and only the
rows a formula reads are taken back (`LU.units_at`): for both families the
rows of the group itself (the first visits to it), and the groups' small
systems are solved in one batched call. Money (`MoneyRemovals`) is solved
part by part when attribution first asks for it (most of its readers want
conversion alone).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..linalg import LU, block_splu, identity_less
from .chain import Chain
from .loop_entries import return_visits

_LOW_RANK = 48  # up to this many removed steps, update the base LU instead of a new one
_BATCH = 32  # columns per SuperLU solve (its cost per column is lowest for a few dozen)


def conversion_removals(chain: Chain, groups: list[list[int]]):
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
    # longer converting (`into`: into_goal without them, zero on T). Small
    # T: its visits are nu less what follows the first visit to T, at t
    # with probability f_t, f = nu[T] N_UU[T, T]^-1 (as for money), so
    # conversion without S = direct + nu into - f (N_UU into)[T], all from
    # the |T| columns N_UU[:, T] (rows T) and h; large T: one sparse LU of
    # the taboo chain.
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
    small: dict[int, tuple] = {}  # group -> (dead, gone, direct + nu into, kept)
    for j, group in enumerate(groups):
        idx = np.asarray(group, int)
        dead = pos[idx][pos[idx] >= 0]
        gone = gpos[idx][gpos[idx] >= 0]
        direct = float(entering_goals - alpha_g[gone].sum())
        kept = into_goal - (np.asarray(q_ug[:, gone].sum(axis=1)).ravel() if len(gone) else 0)
        into = kept.copy()
        into[dead] = 0.0
        if m == 0 or not into.any() or not enters_unconverted:
            by_group[j] = direct
        elif len(dead) == 0:
            by_group[j] = direct + float(nu @ into)
        elif len(dead) <= _LOW_RANK:
            small[j] = (dead, gone, direct + float(nu @ into), kept)
        else:
            taboo = taboo or _Taboo(q_uu, None if lu.pos is None else lu.order)
            by_group[j] = direct + float(alpha[u] @ taboo.solve(dead, into))
    if small:
        sets = [small[j][0] for j in small]
        blocks = _blocks(lu, q_uu, sets)  # N_UU[T, T], padded with I
        # where the walks first reach T: nu[T] N_UU[T, T]^-1, all groups at once
        first = np.linalg.solve(blocks.transpose(0, 2, 1), _padded(nu, sets)[:, :, None])[..., 0]
        h_u = h[u]
        for i, j in enumerate(small):
            dead, gone, lead, kept = small[j]
            # (N_UU into)[T]: into is `kept` less the moves of T itself, and
            # kept is into_goal (N_UU into_goal = h) less the moves into the
            # removed goals
            back = h_u[dead] - blocks[i, :len(dead), :len(dead)] @ kept[dead]
            if len(gone):
                back -= lu.col(q_ug[:, gone].toarray())[dead].sum(axis=1)
            by_group[j] = lead - float(first[i, :len(dead)] @ back)
    return conversion, by_step, by_group


class MoneyRemovals:
    """Revenue and profit (`base`), and both without each step (`by_step`,
    n x 2) and without each group (`by_group`, groups x 2): see
    attribution.py's docstring. Each is solved when first asked for (most
    readers of an attribution want conversion alone); the three share one
    factorization of I - Qd and its solves, made once, so whichever is asked
    first the numbers are the same."""

    def __init__(self, chain: Chain, groups: list[list[int]]) -> None:
        self.chain, self.groups = chain, groups
        self._solved: tuple | None = None

    def _solve(self) -> tuple:
        """I - Qd's LU, the discounted visits nu_d, the discounted revenue and
        profit from each step on, and the base: made on the first call."""
        if self._solved is None:
            chain = self.chain
            qd = chain.discounted.tocsr()
            lu = LU.of(qd)  # I - Qd
            to_go = lu.col(np.column_stack([chain.value, chain.profit]))
            self._solved = (qd, lu, lu.row(chain.entry), to_go, chain.entry @ to_go)
        return self._solved

    def base(self) -> np.ndarray:
        return self._solve()[-1]

    def by_step(self, at: np.ndarray | None = None) -> np.ndarray:
        """Without each step; `at`: without each of these steps only (the
        same numbers, bit for bit: the formula is elementwise, and only
        their return visits are solved)."""
        qd, _, nu_d, to_go, base = self._solve()
        if at is None:
            return base - (nu_d / return_visits(qd))[:, None] * to_go
        return base - (nu_d[at] / return_visits(qd, at)[at])[:, None] * to_go[at]

    def by_group(self) -> np.ndarray:
        qd, lu, nu_d, to_go, base = self._solve()
        chain, groups = self.chain, self.groups
        by_group = np.empty((len(groups), 2))
        # A small group S: X without S = X - nu_d[S] Nd[S, S]^-1 X[S] (the first
        # visit to S is at k with discounted probability (nu_d[S] Nd[S, S]^-1)_k),
        # Nd[S, S] from |S| columns of Nd, of which only the rows S are kept;
        # the groups' small systems solved in one batched call.
        small = [j for j, group in enumerate(groups) if len(group) <= _LOW_RANK]
        if small:
            sets = [np.asarray(groups[j], int) for j in small]
            blocks = _blocks(lu, qd, sets)  # Nd[S, S], padded with I
            first = np.linalg.solve(blocks.transpose(0, 2, 1), _padded(nu_d, sets)[:, :, None])
            by_group[small] = base - np.einsum("gk,gkm->gm", first[..., 0],
                                               np.stack([_padded(to_go[:, k], sets)
                                                         for k in range(2)], axis=2))
        taboo = None
        for j, group in enumerate(groups):
            if len(group) > _LOW_RANK:  # a large group: the taboo chain's own LU
                idx = np.asarray(group, int)
                kept = np.column_stack([chain.value, chain.profit])
                kept[idx] = 0.0  # a removed step earns and spends nothing
                taboo = taboo or _Taboo(qd, None if lu.pos is None else lu.order)
                by_group[j] = chain.entry @ taboo.solve(idx, kept)
        return by_group


def _blocks(lu: LU, m: sparse.spmatrix, sets: list[np.ndarray]) -> np.ndarray:
    """N[S, S] for each S of `sets`, N = (I - m)^-1 and `lu` its LU, padded
    with the identity to the largest S: one stack for one batched solve.

    In a block order, I - m is block upper triangular: for a cut p of the
    order that no move crosses backwards, N[:p, :p] is the inverse of the
    leading p x p part, and a column of N for a step before p is zero after
    it. So the columns are solved in the order of the steps, each with the
    factors of the shortest leading part that holds it (of four: about
    five eighths of the sweeps of whole columns), and only the rows S are
    kept. Without a block order, or with the dense inverse of a small
    journey: |S| whole columns (`LU.units_at`)."""
    width = max(len(s) for s in sets)
    out = np.broadcast_to(np.eye(width), (len(sets), width, width)).copy()
    if lu.inverse is not None or lu.pos is None:
        for j, s in enumerate(sets):
            out[j, :len(s), :len(s)] = lu.units_at(s, s)
        return out
    n, pos = lu.n, lu.pos
    coo = m.tocoo()
    row, col = pos[coo.row], pos[coo.col]
    lowest = np.arange(n)  # the lowest position reached from p or later: p or more at a cut
    np.minimum.at(lowest, row, col)
    cuts = np.flatnonzero(np.minimum.accumulate(lowest[::-1])[::-1] >= np.arange(n))
    quarters = np.minimum(np.searchsorted(cuts, [n // 4, n // 2, 3 * n // 4]), len(cuts) - 1)
    ends = sorted({*cuts[quarters].tolist(), n} - {0})  # the first cuts from each quarter on
    a = identity_less(n, row, col, coo.data)
    at = np.full((len(sets), width), n)  # each set's positions, padded with n
    for j, s in enumerate(sets):
        at[j, :len(s)] = pos[s]
    group, slot = np.nonzero(at < n)
    order = np.argsort(at[group, slot], kind="stable")
    group, slot = group[order], slot[order]
    where = at[group, slot]
    start = 0
    for end in ends:
        stop = int(np.searchsorted(where, end))
        if stop == start:
            continue
        factor = lu.lu if end == n else block_splu(a[:end, :end].tocsc())
        rows = np.minimum(at, end - 1)
        inside = at < end  # the rows past the end are zeros
        units = np.zeros((_BATCH, end))  # transposed: Fortran order for SuperLU
        for first in range(start, stop, _BATCH):
            last = min(first + _BATCH, stop)
            b = units[:last - first]
            b[np.arange(last - first), where[first:last]] = 1.0
            x = factor.solve(b.T)
            b[np.arange(last - first), where[first:last]] = 0.0
            owner, place = group[first:last], slot[first:last]
            out[owner, :, place] = np.where(inside[owner], x[rows[owner],
                                                            np.arange(last - first)[:, None]], 0.0)
        start = stop
    return out


def _padded(values: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
    """values[S] for each S of `sets`, padded with zeros to the largest."""
    out = np.zeros((len(sets), max(len(s) for s in sets)))
    for j, s in enumerate(sets):
        out[j, :len(s)] = values[s]
    return out


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

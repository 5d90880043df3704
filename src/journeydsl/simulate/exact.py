"""The exact engine: absorbing Markov chain algebra on the journey.

Without a horizon everything follows from a handful of sparse solves
(one LU factorization per matrix, reused for every right-hand side; the
inverse is never formed). Notation for one persona: Q the rates, alpha the
entry distribution, U the non-goal steps, G the goal steps, Qd the rates
discounted by each move's delay.

  visits           nu     = alpha (I - Q)^-1
  disc. visits     nu_d   = alpha (I - Qd)^-1            revenue = nu_d . value
  conversion       h_U    = (I - Q_UU)^-1 Q_UG 1         conversion = alpha . h
  time to convert  g_U    = (I - Q_UU)^-1 [(Q*D)_UU h_U + (Q*D)_UG 1]
  visits before conversion  nu_U = alpha_U (I - Q_UU)^-1 (drop-off = nu_U * stop)
  value of walks that never convert = sum_U nu_dU value (1 - h)

Reach (the probability of visiting at least once):

  step s   visits[s] / N[s, s], N = (I - Q)^-1: a walk that reaches s
           visits it N[s, s] times on average. N[s, s] = 1 outside cycles.
  stage S  the expected number of entries into S (moves into S from outside
           it, plus starts in S) when no walk can leave S and come back
           (no cycle of the stage graph passes S); otherwise a first-passage
           computation (below).

Speed. Steps are factored in the order of their strongly connected
components, topologically (journeys mostly move forward, so I - Q is then
block upper triangular and its LU needs no fill-reducing permutation: fill
stays inside the cyclic components); the order is verified and SuperLU's
own ordering used when it does not hold. Each matrix is factored once;
with few goal steps the solves with I - Q_UU reuse the LU of I - Q (a
rank-|G| change, see _Converting), and without discounting Qd = Q.

N[s, s] for the cyclic steps comes from a small set F of steps ("cut"
steps) chosen so that the chain P, Q with the rows of F removed (walks stop
at F), has only small cyclic components and no stage a walk can leave and
re-enter. Then, with M = (I - P)^-1, A = I - Q and R the other steps
(Schur complement on F):

  N_FF = S^-1,  S = I - T,  T = Q_FF + Q_FR M_RR Q_RF  (moves F -> next F)
  N_rr = (A_RR^-1)_rr + sum_ij M[r, f_i] (S^-1)_ij (Q_F. M)[f_j, r]

and (A_RR^-1)_rr, the inverse of a block triangular matrix, only needs the
diagonal blocks: one LU of the small cyclic components side by side, and a
right-hand side per position inside a component ("colored" columns). The
reach of a stage S that walks can re-enter decomposes the walk at its
visits to F: between two of them S is entered at most once, so
P(hit S before the next F) = expected entries, and a |F| x |F| system
chains the pieces. Without cycles none of this runs.

With a horizon the same quantities come from a time-grid recursion
(horizon.py).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from .chain import Chain, reentrant_stages, stage_index, strong_components
from .results import Metrics, place_tables

_SMALL = 128  # cyclic components up to this size: solved block by block
_CHUNK = 256  # right-hand sides per solve call (bounds memory)
_MAX_CUT = 256  # most cut steps (beyond: wider block solves, per-stage solves)
_BATCH = 2_000_000  # numbers per batch of stages (memory)


class _LU:
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


class _Graph:
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
            q if self.keep is None else self._csr(self.row, self.col))
        self.sizes = np.bincount(self.labels, minlength=self.count)
        # scipy labels components in reverse topological order (checked here,
        # since it is not documented): sorting by -label puts every move forward.
        self.forward = not np.any(self.labels[self.row] < self.labels[self.col])

    def _csr(self, row, col) -> sparse.csr_matrix:
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


def _subsystem(keep: np.ndarray, row, col, val, pos):
    """The moves among the steps in `keep`, renumbered, and their order."""
    index = np.cumsum(keep) - 1
    inside = keep[row] & keep[col]
    sub_pos = None
    if pos is not None:
        sub_pos = np.argsort(np.argsort(pos[keep], kind="stable"), kind="stable")
    return int(keep.sum()), index[row[inside]], index[col[inside]], val[inside], sub_pos


_WOODBURY = 16  # goal steps up to this many: I - Q_UU from the LU of I - Q


def _before(n, goal, row, col, val, pos, full: _LU):
    """Solves with I - Q_UU (the walk before it converts)."""
    g = np.flatnonzero(goal)
    if not len(g):
        return _Plain(full, goal)  # U is every step
    if len(g) <= _WOODBURY and 4 * len(g) < n:
        return _Converting(full, g, ~goal)
    size, r, c, v, sub_pos = _subsystem(~goal, row, col, val, pos)
    return _Plain(_LU(size, r, c, v, sub_pos), goal)


class _Plain:
    """Solves with I - Q_UU from its own LU."""

    def __init__(self, lu: _LU, goal: np.ndarray) -> None:
        self.lu, self.goal = lu, goal

    def solve(self, b):
        """(I - Q_UU)^-1 b."""
        return self.lu.solve(b)

    def hit_goal(self, into_goal):
        """h_U = (I - Q_UU)^-1 Q_UG 1 (into_goal = Q_UG 1)."""
        return self.lu.solve(into_goal)

    def visits(self, alpha, _all_visits):
        """alpha_U (I - Q_UU)^-1."""
        return self.lu.solve(alpha[~self.goal], transpose=True)


class _Converting:
    """Solves with I - Q_UU through N = (I - Q)^-1 (factored already).

    Q_UU is Q with the goal rows and columns removed: a change of rank |G|.
    With C = N_GG (the expected visits between goal steps), the first goal
    step a walk from u reaches is g with probability (N_UG C^-1)[u, g], so
      h_U = N_UG C^-1 1,
      (I - Q_UU)^-1 b = (N b)_U - N_UG C^-1 (N b)_G         (b on U),
      a (I - Q_UU)^-1 = (a N)_U - (a N)_G C^-1 N_GU         (a on U):
    all visits less those after the first goal step (Woodbury's identity)."""

    def __init__(self, full: _LU, g: np.ndarray, u_mask: np.ndarray) -> None:
        self.full, self.g, self.u = full, g, np.flatnonzero(u_mask)
        self.n = len(u_mask)
        self.eye = np.zeros((self.n, len(g)))
        self.eye[g, np.arange(len(g))] = 1.0
        self._cols = self._rows = None

    @property
    def cols(self):  # N[:, G]
        if self._cols is None:
            self._cols = self.full.solve(self.eye)
        return self._cols

    @property
    def rows(self):  # N[G, :]
        if self._rows is None:
            self._rows = self.full.solve(self.eye, transpose=True).T
        return self._rows

    def _pad(self, b):
        out = np.zeros(self.n)
        out[self.u] = b
        return out

    def hit_goal(self, _into_goal):
        """h_U: P(the walk from u reaches a goal step)."""
        cols = self.cols
        return cols[self.u] @ np.linalg.solve(cols[self.g], np.ones(len(self.g)))

    def solve(self, b):
        """(I - Q_UU)^-1 b."""
        x = self.full.solve(self._pad(b))
        cols = self.cols
        return x[self.u] - cols[self.u] @ np.linalg.solve(cols[self.g], x[self.g])

    def visits(self, alpha, all_visits):
        """alpha_U (I - Q_UU)^-1, given all_visits = alpha (I - Q)^-1."""
        rows = self.rows
        x = all_visits - alpha[self.g] @ rows  # walks that start at a goal step left out
        first = np.linalg.solve(rows[:, self.g].T, x[self.g])  # P(first goal step is g)
        return x[self.u] - first @ rows[:, self.u]


def solve(chain: Chain, places: frozenset[str] | None = None, cohort: bool = True) -> Metrics:
    """Every metric of one persona, exactly.

    `places` limits the expensive reach computations (steps inside cycles,
    stages that walks can leave and re-enter) to those step and stage ids;
    others get None. None means all. `cohort=False` skips the
    referral-cascade totals (which under a horizon cost a second pass)."""
    if chain.horizon_days is not None:
        from .horizon import solve_with_horizon

        return solve_with_horizon(chain, places, cohort)
    n = chain.n
    graph = _Graph(chain)
    row, col, val = graph.row, graph.col, graph.val
    alpha, goal = np.asarray(chain.entry, float), np.asarray(chain.goal, bool)
    undiscounted = chain.daily_discount == 1.0
    val_d = val if undiscounted else graph.along(chain.discounted)

    plan = _ReachPlan(chain, graph, places)
    pos = plan.pos
    full = _LU(n, row, col, val, pos)
    visits = full.solve(alpha, transpose=True)
    full_d = full if undiscounted else _LU(n, row, col, val_d, pos)
    visits_d = visits if undiscounted else full_d.solve(alpha, transpose=True)

    u = np.flatnonzero(~goal)
    before = _before(n, goal, row, col, val, pos, full)
    into_goal = np.bincount(row, weights=val * goal[col], minlength=n)[u]
    h_u = before.hit_goal(into_goal)
    h = np.ones(n)
    h[u] = h_u
    # (Q*D)_UU h_U + (Q*D)_UG 1 = ((Q*D) h)_U, since h = 1 on goals
    rate_delay = graph.along(chain.rate_delay)
    g_u = before.solve(np.bincount(row, weights=rate_delay * h[col], minlength=n)[u])
    visits_before = np.zeros(n)
    visits_before[u] = before.visits(alpha, visits)
    if undiscounted:
        visits_before_d = visits_before
    else:
        before_d = _before(n, goal, row, col, val_d, pos, full_d)
        visits_before_d = np.zeros(n)
        visits_before_d[u] = before_d.visits(alpha, visits_d)

    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    revenue = float(visits_d @ value)
    never = float(np.sum(visits_before_d[u] * value[u] * (1.0 - h_u)))
    stop = chain.stop
    steps, stages = _places(chain, plan, visits, visits_before, stop)
    sends = np.asarray(chain.referrals.sum(axis=1)).ravel()
    metrics = Metrics(
        conversion=float(alpha @ h),
        revenue=revenue,
        cost=float(visits_d @ cost),
        value_converted=revenue - never,
        time_converted=float(alpha[u] @ g_u),
        viral_coefficient=float(visits @ sends),
        active_at_horizon=0.0,
        steps=steps,
        stages=stages,
    )
    # (cheap here: computed even when `cohort` is False)
    metrics.cohort = _cohort(chain, full, full_d, visits, visits_d, h, undiscounted, metrics)
    return metrics


class _ReachPlan:
    """What the reach computations need, decided before anything is factored:
    which steps and stages are wanted, the cut steps F, the chain P (Q
    without F's moves) and its components, and the block order."""

    def __init__(self, chain: Chain, graph: _Graph, places) -> None:
        n = chain.n
        self.graph = graph
        row, col = graph.row, graph.col
        labels, sizes = graph.labels, graph.sizes
        self.names, self.st = stage_index(chain)
        st, count = self.st, len(self.names)
        if places is None:
            want_step = np.ones(n, bool)
            want_stage = np.ones(count, bool)
        else:
            want_step = np.fromiter((s in places for s in chain.steps), bool, count=n)
            want_stage = np.fromiter((s in places for s in self.names), bool, count=count)
        self.cyclic = sizes[labels] > 1
        self.need_steps = self.cyclic & want_step
        self.again = reentrant_stages(row, col, st, count)
        self.need_stages = self.again & want_stage
        self.cut = np.zeros(n, bool)
        self.sub_labels = labels
        if self.need_steps.any() or self.need_stages.any():
            self._choose_cut(chain)
        # Inside a component of Q, P's components in topological order
        # (checked, as for Q).
        live = ~self.cut[row]
        inner_order = self.cut.any() and not np.any(
            self.sub_labels[row[live]] < self.sub_labels[col[live]])
        self.pos = graph.positions(self.sub_labels if inner_order else None)

    def _choose_cut(self, chain: Chain) -> None:
        """Greedy: while a big component of P holds a wanted step, or a stage
        graph cycle of P passes a wanted stage, cut the source of its longest
        backward move (in declaration order)."""
        graph, st = self.graph, self.st
        row, col = graph.row, graph.col
        n, count = chain.n, len(self.names)
        cut = self.cut
        limit = min(_MAX_CUT, max(16, n // 8))
        while True:
            live = ~cut[row]
            if cut.any():
                sub_count, sub = strong_components(graph._csr(row[live], col[live]))
            else:
                sub_count, sub = graph.count, graph.labels
            sub_sizes = np.bincount(sub, minlength=sub_count)
            big = np.zeros(sub_count, bool)
            big[sub[self.need_steps & ~cut]] = True
            big &= sub_sizes > _SMALL
            stage_cycles = self.need_stages & (
                reentrant_stages(row, col, st, count, cut) if cut.any() else self.again)
            self.sub_labels = sub
            if (not big.any() and not stage_cycles.any()) or cut.sum() >= limit:
                break
            if big.any():
                inner = live & (sub[row] == sub[col]) & big[sub[row]] & (col < row)
                _cut_longest(cut, row[inner], row[inner] - col[inner], sub[row[inner]])
            if stage_cycles.any():
                cross = live & (st[row] != st[col])
                s_row, s_col = st[row[cross]], st[col[cross]]
                graph_s = sparse.csr_matrix((np.ones(len(s_row)), (s_row, s_col)),
                                            shape=(count, count))
                _, s_lab = strong_components(graph_s)
                hot = np.zeros(s_lab.max() + 1, bool)
                hot[s_lab[stage_cycles]] = True
                back = hot[s_lab[s_row]] & (s_lab[s_row] == s_lab[s_col]) & (s_col < s_row)
                if back.any():
                    # the longest backward stage arc of each cycle: cut every
                    # step that makes it
                    arcs = np.flatnonzero(back)
                    span = s_row[arcs] - s_col[arcs]
                    order = np.lexsort((-span, s_lab[s_row[arcs]]))
                    group = s_lab[s_row[arcs[order]]]
                    first = arcs[order[np.r_[True, group[1:] != group[:-1]]]]
                    code = s_row * count + s_col
                    pick = np.isin(code, code[first])
                    cut[row[np.flatnonzero(cross)[pick]]] = True
        self.cut = cut


def _cut_longest(cut: np.ndarray, source: np.ndarray, span: np.ndarray, group: np.ndarray):
    """Cut the source of the longest move of each group."""
    if not len(source):
        return
    order = np.lexsort((-span, group))
    g = group[order]
    first = order[np.r_[True, g[1:] != g[:-1]]]
    cut[source[first]] = True


def _places(chain: Chain, plan: _ReachPlan, visits, visits_before, stop):
    """Per-step and per-stage reach, visits, drop-off and churn."""
    graph = plan.graph
    row, col, val = graph.row, graph.col, graph.val
    alpha = np.asarray(chain.entry, float)
    st, count = plan.st, len(plan.names)
    cross = st[row] != st[col]
    entries = (np.bincount(st, weights=alpha, minlength=count)
               + np.bincount(st[col[cross]], weights=visits[row[cross]] * val[cross],
                             minlength=count))
    stage_reach = np.where(plan.again, np.nan, entries)
    return_visits = np.where(plan.cyclic, np.nan, 1.0)
    loops = row == col
    return_visits[row[loops]] = np.where(plan.cyclic[row[loops]], np.nan,
                                         1.0 / (1.0 - val[loops]))
    if plan.need_steps.any() or plan.need_stages.any():
        _cyclic_reach(chain, plan, return_visits, stage_reach)
    return place_tables(chain.steps, visits / return_visits, visits, visits_before * stop,
                        (visits - visits_before) * stop, plan.names, st, stage_reach)


def _cyclic_reach(chain: Chain, plan: _ReachPlan, return_visits, stage_reach):
    """N[s, s] for the wanted cyclic steps and the reach of the wanted stages
    that walks can re-enter (filled in place)."""
    graph = plan.graph
    n = chain.n
    row, col, val = graph.row, graph.col, graph.val
    cut, sub, pos = plan.cut, plan.sub_labels, plan.pos
    need = plan.need_steps
    live = ~cut[row]
    # Diagonal of (I - Q_RR)^-1: the cyclic components of P side by side.
    sub_sizes = np.bincount(sub, minlength=sub.max() + 1 if n else 0)
    diag = np.ones(n)
    loops = (row == col) & live
    diag[row[loops]] = 1.0 / (1.0 - val[loops])
    blocks = np.zeros(len(sub_sizes), bool)
    blocks[sub[need & ~cut]] = True
    blocks &= sub_sizes > 1
    if blocks.any():
        _diag_blocks(diag, blocks[sub] & ~cut, sub, row, col, val, live)
    f = np.flatnonzero(cut)
    k = len(f)
    if not k:
        return_visits[need] = diag[need]
        if plan.need_stages.any():  # no cut: only when F could not grow
            _taboo_stages(chain, plan, stage_reach)
        return
    # M = (I - P)^-1 with P = Q without the moves out of F.
    p_lu = _LU(n, row[live], col[live], val[live], pos)
    eye_f = np.zeros((n, k))
    eye_f[f, np.arange(k)] = 1.0
    g = p_lu.solve(eye_f)  # M[:, F]: from each step, P(the walk stops at f)
    origins = np.zeros((1 + k, n))
    origins[0] = chain.entry
    out_f = np.isin(row, f)
    where_f = np.empty(n, np.int64)
    where_f[f] = np.arange(k)
    np.add.at(origins, (1 + where_f[row[out_f]], col[out_f]), val[out_f])
    z = p_lu.solve(origins.T, transpose=True).T  # visits of the walks from alpha and from F
    schur = np.eye(k) - z[1:, f]  # S = I - T
    y = np.linalg.solve(schur, z[1:])  # S^-1 (Q_F. M)
    steps_r = np.flatnonzero(need & ~cut)
    return_visits[steps_r] = diag[steps_r] + np.einsum("ij,ji->i", g[steps_r], y[:, steps_r])
    cut_need = need[f]
    return_visits[f[cut_need]] = np.diag(np.linalg.inv(schur))[cut_need]
    if plan.need_stages.any():
        _excursion_stages(chain, plan, f, g, origins, z, stage_reach)


def _diag_blocks(diag: np.ndarray, members: np.ndarray, labels: np.ndarray, row, col, val,
                live=None) -> None:
    """diag[i] = ((I - B)^-1)[i, i] for the steps in `members`, B the moves
    inside each one's component of `labels` (components side by side: one LU,
    and one right-hand side per position in a component, shared by all)."""
    idx = np.flatnonzero(members)
    order = idx[np.argsort(labels[idx], kind="stable")]
    comp = labels[order]
    slot = np.arange(len(order)) - np.searchsorted(comp, comp)
    local = np.full(len(diag), -1, np.int64)
    local[order] = np.arange(len(order))
    inside = members[row] & members[col] & (labels[row] == labels[col])
    if live is not None:
        inside &= live
    m = len(order)
    width = int(slot.max()) + 1
    lu = _LU(m, local[row[inside]], local[col[inside]], val[inside],
             np.arange(m) if width <= _SMALL else None)
    for start in range(0, width, _CHUNK):
        stop_ = min(width, start + _CHUNK)
        pick = np.flatnonzero((slot >= start) & (slot < stop_))
        rhs = np.zeros((m, stop_ - start))
        rhs[pick, slot[pick] - start] = 1.0
        diag[order[pick]] = lu.solve(rhs)[pick, slot[pick] - start]


def _excursion_stages(chain, plan, f, g, origins, z, stage_reach) -> None:
    """Reach of the wanted re-enterable stages, the walk cut at its visits to F.

    In P no walk re-enters a stage (the cut makes P's stage graph acyclic
    through them): from a start o (alpha, or one move out of a cut step)
    P(hit S before stopping at F) = E_o[entries into S] and the arrivals at
    f without hitting S are the arrivals at f less those after an entry.
    Stages P still lets walks re-enter (the cut stopped growing) get a
    first-passage solve."""
    graph = plan.graph
    row, col, val = graph.row, graph.col, graph.val
    st, count = plan.st, len(plan.names)
    cut = plan.cut
    n, k = chain.n, len(f)
    still = reentrant_stages(row, col, st, count, cut)
    cross = (st[row] != st[col]) & ~cut[row]
    p_cross = sparse.csr_matrix((val[cross], (row[cross], col[cross])), shape=(n, n))
    entries = origins + (p_cross.T @ z.T).T  # E[o, s]: expected entries into s
    wanted = np.flatnonzero(plan.need_stages & ~still)
    if len(wanted):
        pick = np.isin(st, wanted)
        steps = np.flatnonzero(pick)
        column = np.full(count, -1, np.int64)
        column[wanted] = np.arange(len(wanted))
        group = sparse.csr_matrix((np.ones(len(steps)), (np.arange(len(steps)),
                                                          column[st[steps]])),
                                  shape=(len(steps), len(wanted)))
        e_w = entries[:, steps]
        first = (group.T @ e_w.T).T  # [o, S]: P(o's walk enters S before stopping at F)
        in_s = st[f][:, None] == wanted[None, :]  # [j, S]: f_j is in S
        first[1:][in_s] = 0.0
        x = np.empty(len(wanted))
        g_w = g[steps]
        eye = np.eye(k)
        # stages per batch: about _BATCH numbers in `pairs`
        span = max(1, _BATCH * len(wanted) // ((1 + k) * k * len(steps)))
        for lo in range(0, len(wanted), span):
            hi = min(len(wanted), lo + span)
            cols = (column[st[steps]] >= lo) & (column[st[steps]] < hi)
            sub = group[cols][:, lo:hi]
            # after[o, f', S]: o's walk enters S and then stops at f'
            pairs = (e_w[:, None, cols] * g_w[cols].T[None, :, :]).reshape((1 + k) * k, -1)
            after = (sub.T @ pairs.T).T.reshape(1 + k, k, hi - lo)
            avoid = z[:, f][:, :, None] - after  # arrivals at f' without entering S
            avoid[:, in_s[:, lo:hi]] = 0.0
            move = np.moveaxis(avoid[1:], 2, 0).copy()  # [S, j, f']
            move[np.moveaxis(in_s[:, lo:hi], 1, 0)] = 0.0
            start = np.moveaxis(avoid[0], 1, 0)  # [S, f']
            # visits to F before entering S: x (I - move) = start
            visits_f = np.linalg.solve(np.swapaxes(eye - move, 1, 2), start[:, :, None])[:, :, 0]
            x[lo:hi] = first[0, lo:hi] + np.einsum("sj,js->s", visits_f, first[1:, lo:hi])
        stage_reach[wanted] = x
    if (plan.need_stages & still).any():
        _taboo_stages(chain, plan, stage_reach, plan.need_stages & still)


def _taboo_stages(chain, plan, stage_reach, which=None) -> None:
    """Reach of stages by a first-passage solve each (walks stop on entering)."""
    graph = plan.graph
    row, col, val = graph.row, graph.col, graph.val
    st = plan.st
    which = plan.need_stages if which is None else which
    alpha = np.asarray(chain.entry, float)
    for s in np.flatnonzero(which).tolist():
        outside = st != s
        size, r, c, v, sub_pos = _subsystem(outside, row, col, val, plan.pos)
        into = np.bincount(row, weights=val * (st[col] == s), minlength=chain.n)[outside]
        hit = _LU(size, r, c, v, sub_pos).solve(into)
        stage_reach[s] = alpha[~outside].sum() + alpha[outside] @ hit


def _cohort(chain: Chain, full: _LU, full_d: _LU, visits, visits_d, h, undiscounted: bool,
            m: Metrics):
    """Totals per entering prospect with the whole referral cascade included."""
    r, rd = chain.referrals.tocsr(), chain.referrals_discounted.tocsr()
    targets = np.flatnonzero(np.asarray(r.sum(axis=0)).ravel() > 0)
    base = {"prospects": 1.0, "customers": m.conversion, "revenue": m.revenue, "cost": m.cost}
    if len(targets) == 0:
        return base
    k = len(targets)
    starts = np.zeros((chain.n, k))
    starts[targets, range(k)] = 1.0
    rows = full.solve(starts, transpose=True).T  # visits from each target, k x n
    rows_d = rows if undiscounted else full_d.solve(starts, transpose=True).T
    send = r[:, targets].toarray()  # n x k
    send_d = rd[:, targets].toarray()
    gen = rows @ send  # next-generation matrix K (counts)
    gen_d = rows_d @ send_d  # K with money discounted to the sender's entry
    first = visits @ send
    first_d = visits_d @ send_d
    eye = np.eye(k)
    multiplier = np.linalg.solve((eye - gen).T, first)  # first (I - K)^-1
    multiplier_d = np.linalg.solve((eye - gen_d).T, first_d)
    return {
        "prospects": 1.0 + float(multiplier.sum()),
        "customers": m.conversion + float(multiplier @ h[targets]),
        "revenue": m.revenue + float(multiplier_d @ (rows_d @ chain.value)),
        "cost": m.cost + float(multiplier_d @ (rows_d @ chain.cost)),
    }

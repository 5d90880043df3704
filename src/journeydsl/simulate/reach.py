"""Reach (the probability of visiting at least once) for the exact engine.

  step s   visits[s] / N[s, s], N = (I - Q)^-1: a walk that reaches s
           visits it N[s, s] times on average. N[s, s] = 1 outside cycles.
  stage S  the expected number of entries into S (moves into S from outside
           it, plus starts in S) when no walk can leave S and come back
           (no cycle of the stage graph passes S); otherwise a first-passage
           computation (below).

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

The cut is chosen before anything is factored, because the block order
of the factorizations depends on it (ReachPlan).
"""

from __future__ import annotations

import numpy as np

from ..linalg import components
from .chain import Chain, reentrant_stages, stage_index
from ..linalg import LU, subsystem
from .moves import Moves
from .results import place_tables

_SMALL = 128  # cyclic components up to this size: solved block by block
_CHUNK = 256  # right-hand sides per solve call (bounds memory)
_MAX_CUT = 256  # most cut steps (beyond: wider block solves, per-stage solves)
_BATCH = 2_000_000  # numbers per batch of stages (memory)


class ReachPlan:
    """What the reach computations need, decided before anything is factored:
    which steps and stages are wanted, the cut steps F, the chain P (Q
    without F's moves) and its components, and the block order."""

    def __init__(self, chain: Chain, graph: Moves, places) -> None:
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
                sub_count, sub = components(n, row[live], col[live])
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
                _, s_lab = components(count, s_row, s_col)
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


def place_reach(chain: Chain, plan: ReachPlan, visits, visits_before, stop, money=None):
    """Per-step and per-stage reach, visits, drop-off and churn (and the
    `money` columns: revenue, cost, profit per step)."""
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
                        (visits - visits_before) * stop, plan.names, st, stage_reach, money)


def _cyclic_reach(chain: Chain, plan: ReachPlan, return_visits, stage_reach):
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
    p_lu = LU(n, row[live], col[live], val[live], pos)
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
    lu = LU(m, local[row[inside]], local[col[inside]], val[inside],
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
    entries = origins.copy()  # E[o, s]: expected entries into s
    np.add.at(entries.T, col[cross], (z[:, row[cross]] * val[cross]).T)  # by column
    wanted = np.flatnonzero(plan.need_stages & ~still)
    if len(wanted):
        pick = np.isin(st, wanted)
        steps = np.flatnonzero(pick)
        column = np.full(count, -1, np.int64)
        column[wanted] = np.arange(len(wanted))
        stage_col = column[st[steps]]  # each wanted step's stage, as a column
        e_w = entries[:, steps]
        first = np.zeros((1 + k, len(wanted)))  # [o, S]: P(o's walk enters S before F)
        np.add.at(first.T, stage_col, e_w.T)
        in_s = st[f][:, None] == wanted[None, :]  # [j, S]: f_j is in S
        first[1:][in_s] = 0.0
        x = np.empty(len(wanted))
        g_w = g[steps]
        eye = np.eye(k)
        # stages per batch: about _BATCH numbers in `pairs`
        span = max(1, _BATCH * len(wanted) // ((1 + k) * k * len(steps)))
        for lo in range(0, len(wanted), span):
            hi = min(len(wanted), lo + span)
            cols = (stage_col >= lo) & (stage_col < hi)
            # after[o, f', S]: o's walk enters S and then stops at f'
            pairs = (e_w[:, None, cols] * g_w[cols].T[None, :, :]).reshape((1 + k) * k, -1)
            flat = np.zeros(((1 + k) * k, hi - lo))
            np.add.at(flat.T, stage_col[cols] - lo, pairs.T)
            after = flat.reshape(1 + k, k, hi - lo)
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
        size, r, c, v, sub_pos = subsystem(outside, row, col, val, plan.pos)
        into = np.bincount(row, weights=val * (st[col] == s), minlength=chain.n)[outside]
        hit = LU(size, r, c, v, sub_pos).solve(into)
        stage_reach[s] = alpha[~outside].sum() + alpha[outside] @ hit

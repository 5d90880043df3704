"""The look-up tables of a set of worlds walked in one pool.

A pass over the walkers must be a handful of numpy gathers, whatever the
journey: so every persona under every draw of the rates is a "world" with
its own range of codes, a walker is known by the code of the edge it just
took, and everything a pass needs (target step, money, goal, delay,
first-visit bits, sampler row, referral rate) is one look-up by that code.
Each pair walks its entering prospects in world 2i and the prospects their
referrals bring in world 2i + 1, so that the books of the two never mix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ...language.compiled import RATE_TOLERANCE
from ...linalg import components
from ..chain import Chain, reentrant_stages
from ..quadrature import Draw
from .sampler import Sampler, bin_shift

# what a step needs when walkers are on it (OWN: a move with a `per customer` rate)
MONEY, TRACK, REFER, GOAL, LOOP, OWN = 1, 2, 4, 8, 16, 32
TIME_EPS = 1e-9  # days: a time this close to the horizon is at the horizon


class WalkTooLong(ValueError):
    """Walks that Monte Carlo cannot finish one move at a time: a loop that
    walkers (almost) never leave. The exact engine solves any loop."""

    def __init__(self, steps: list[str], why: str) -> None:
        self.steps = steps
        shown = ", ".join(f"`{s}`" for s in steps[:6])
        if len(steps) > 6:
            shown += f" and {len(steps) - 6} more steps"
        kind = "loop at" if len(steps) == 1 else "loop through"
        super().__init__(f"Monte Carlo cannot finish these walks: they {why} in the {kind} "
                         f"{shown}; the exact engine (--method exact) solves any loop")


@dataclass
class Pair:
    """One persona under one draw of the rates: `prospects` entering
    prospects, walked in world 2i, and the prospects their referral cascade
    brings, in world 2i + 1."""

    chain: Chain
    rates: sparse.spmatrix | None  # None: the chain's own (mean) rates
    prospects: int


def _canonical(m: sparse.spmatrix) -> sparse.csr_matrix:
    """CSR with sorted indices and no duplicates (a copy only when needed)."""
    m = m.tocsr()
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    return m


def _lookup(m: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """m[rows[k], cols[k]] for every k (0 where m has no entry)."""
    where = {(int(i), int(j)): float(x) for i, j, x in
             zip(np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)), m.indices, m.data)}
    return np.array([where.get((int(i), int(j)), 0.0) for i, j in zip(rows, cols)], float)


class _ChainParts:
    """What the tables need from one chain, computed once for all the pairs
    (every draw of the rates) that share it."""

    def __init__(self, chain: Chain) -> None:
        n = chain.n
        self.delays = _canonical(chain.delays)
        r = _canonical(chain.referrals).copy()
        r.eliminate_zeros()
        src = np.repeat(np.arange(n), np.diff(r.indptr))
        d = _canonical(chain.referral_delays)
        if np.array_equal(d.indptr, r.indptr) and np.array_equal(d.indices, r.indices):
            delay = d.data.astype(float)
        else:
            delay = _lookup(d, src, r.indices)
        self.referrals = (src, r.indices.astype(np.intp), r.data.astype(float), delay)
        self.sends = np.bincount(src, weights=r.data, minlength=n)  # referrals per visit
        self.money = chain.value.astype(float) + 1j * chain.cost.astype(float)
        # what a visit adds to the unit economics: margin x value + 1j * cost
        # (the cost counts toward acquisition until the walk converts)
        self.gain = (chain.margin * chain.value).astype(float) + 1j * chain.cost.astype(float)
        self.flags = (MONEY * ((chain.value != 0) | (chain.cost != 0))
                      + REFER * (self.sends > 0) + GOAL * chain.goal.astype(bool))


def moves_of(chain: Chain, rates: sparse.spmatrix | None, delays: sparse.csr_matrix):
    """(source, target, rate, delay) of the moves with a positive rate, by source."""
    q = _canonical(chain.rates if rates is None else rates)
    src = np.repeat(np.arange(chain.n), np.diff(q.indptr))
    if rates is not None:
        over = np.flatnonzero(np.bincount(src, weights=q.data, minlength=chain.n) > 1.0 + RATE_TOLERANCE)
        if len(over):
            raise ValueError(f"rates out of step `{chain.steps[over[0]]}` sum to more than 1")
    dst = q.indices.astype(np.intp)
    if np.array_equal(delays.indptr, q.indptr) and np.array_equal(delays.indices, q.indices):
        delay = delays.data.astype(float)
    else:  # another pattern (an override): look the delays up one by one
        delay = _lookup(delays, src, dst)
    keep = q.data > 0
    return src[keep], dst[keep], q.data[keep].astype(float), delay[keep]


class Tables:
    """World w owns the codes w * S + j: j < E_max for its moves (E_max: most
    moves of any world), E_max + i for "just entered at step i". Two more
    codes follow all worlds: END (the walk ends) and DEAD (a finished walker
    left in the pool: no money, no visit, drawn back to itself). Steps in
    world w are rows w * n + step of the per-row tables; the last row is
    the dead walkers'."""

    def __init__(self, pairs: list[Pair]) -> None:
        first = pairs[0].chain
        self.pairs = pairs
        self.n = n = first.n
        self.P = len(pairs)
        self.W = W = 2 * len(pairs)
        parts: dict[int, _ChainParts] = {}  # one per distinct chain
        for p in pairs:
            if id(p.chain) not in parts:
                parts[id(p.chain)] = _ChainParts(p.chain)
        self.parts = [parts[id(p.chain)] for p in pairs]
        self.moves = moves = [moves_of(p.chain, p.rates, part.delays)
                              for p, part in zip(pairs, self.parts)]
        self.E_max = E_max = max([len(m[0]) for m in moves] + [0])
        self.S = S = E_max + n
        self.END, self.DEAD = END, DEAD = W * S, W * S + 1
        self.rows = rows = W * n
        self.goal = first.goal.astype(bool)
        discount, horizon = first.daily_discount, first.horizon_days
        self.daily_discount = discount
        self.log_discount = math.log(discount) if discount != 1.0 else 0.0
        self.horizon = (horizon - TIME_EPS) if horizon is not None else math.inf
        self.has_delay = any(bool(m[3].any()) for m in moves)
        self._structure(first, moves)
        size = W * S + 2
        self.tgt = tgt = np.zeros(size, np.intp)
        self.world = world = np.full(size, W, np.intp)
        self.money = np.zeros(size, np.complex128)
        self.gain = np.zeros(size, np.complex128)
        self.delay = np.zeros(size)
        self.bits = np.zeros(size, np.uint64)
        self.track_step_e = np.full(size, -1, np.intp)
        self.track_stage_e = np.full(size, -1, np.intp)
        self.flags = np.zeros(rows + 1, np.int64)
        self.ref_total = np.zeros(rows + 1)
        self.entry: list[tuple[np.ndarray, np.ndarray]] = []  # per pair: entry steps, probabilities
        ptr = [np.zeros(1, np.int64)]
        probs: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        arrows: list[tuple[np.ndarray, ...]] = []
        for i, (pair, mv) in enumerate(zip(pairs, moves)):
            for w in (2 * i, 2 * i + 1):
                self._fill_world(w, pair.chain, self.parts[i], mv, ptr, probs, codes, arrows)
        tgt[DEAD] = n
        self.pair_of = world // 2  # END and DEAD: P
        self.goal_e = np.append(self.goal, False)[tgt]
        self.goal_e[END] = False
        self.row = world * n + tgt
        self.row[END] = self.row[DEAD] = rows
        self.end_key = self.pair_of * (2 * n) + tgt  # the drop-off cell of a walk ending here
        # a visit's margin x value by code, contiguous: the pool adds only
        # this up each pass (acquisition is read off the cost, walk.py)
        self.margin_value = np.ascontiguousarray(self.gain.real)
        # the sampler: one row per (world, step), then the dead row
        ptr.append(ptr[-1][-1:] + 1)
        probs.append(np.ones(1))
        codes.append(np.array([DEAD]))
        shift = bin_shift(rows + 1)
        self.sampler = Sampler.build(np.concatenate(ptr), np.concatenate(probs),
                                     np.concatenate(codes), END, shift, straddle=DEAD + 1)
        self.base = np.left_shift(self.row, shift)
        self._referral_tables(arrows)
        self._loops()
        self._own()

    def loop_steps(self, step: int) -> list[str]:
        """The ids of the steps of the loop (strongly connected component)
        through step number `step`."""
        mine = np.flatnonzero(self.component == self.component[step])
        return [self.pairs[0].chain.steps[i] for i in mine]

    def _fill_world(self, w: int, ch: Chain, part: _ChainParts, mv, ptr, probs, codes,
                    arrows) -> None:
        n, S, E_max = self.n, self.S, self.E_max
        src, dst, prob, dly = mv
        base, k = w * S, len(src)
        entered = slice(base + E_max, base + S)
        self.tgt[base:base + k] = dst
        self.tgt[entered] = np.arange(n)
        self.world[base:base + S] = w
        self.money[base:base + k] = part.money[dst]
        self.money[entered] = part.money
        self.gain[base:base + k] = part.gain[dst]
        self.gain[entered] = part.gain
        self.delay[base:base + k] = dly
        here = slice(w * n, (w + 1) * n)
        self.flags[here] = part.flags
        if w % 2 == 0:  # first visits are tracked for entering prospects only
            self.flags[here] |= TRACK * self.track_any
            for lookup, out in ((self.track_step, self.track_step_e),
                                (self.track_stage, self.track_stage_e)):
                out[base:base + k] = lookup[dst]
                out[entered] = lookup
            if self.step_bits is not None:
                self.bits[base:base + k] = self.step_bits[dst]
                self.bits[entered] = self.step_bits
            steps = np.flatnonzero(ch.entry > 0)
            self.entry.append((steps, ch.entry[steps] / ch.entry[steps].sum()))
        self.ref_total[here] = part.sends
        ptr.append(ptr[-1][-1] + np.cumsum(np.bincount(src, minlength=n)))
        probs.append(prob)
        codes.append(base + np.arange(k))
        r_src, r_dst, r_amount, r_delay = part.referrals
        arrows.append((np.bincount(r_src, minlength=n), r_dst, r_amount, r_delay))

    def _referral_tables(self, arrows) -> None:
        """Referral arrows by row, for drawing referrals by thinning: each
        visit gets Poisson(lam_max) candidates and keeps a candidate along
        arrow a of its row with probability k_a / lam_max, so a row's arrows
        cut (row, row + 1] at row + (cumulative k) / lam_max."""
        rows, W = self.rows, self.W
        counts = np.concatenate([a[0] for a in arrows] + [np.zeros(1, np.int64)])
        self.a_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        self.a_dst = np.concatenate([a[1] for a in arrows]).astype(np.intp)
        self.a_delay = np.concatenate([a[3] for a in arrows])
        amount = np.concatenate([a[2] for a in arrows])
        self.a_amount = amount  # prospects sent per visit along each arrow
        self.lam_row_max = float(self.ref_total.max()) if len(amount) else 0.0
        a_row = np.repeat(np.arange(rows + 1), counts)
        cum = np.cumsum(amount)
        start = np.concatenate([[0.0], cum])[self.a_ptr[:-1]]
        scale = self.lam_row_max if self.lam_row_max > 0 else 1.0
        self.a_bound = a_row + (cum - np.repeat(start, counts)) / scale
        sends = np.append(self.ref_total, 0.0)[np.where(self.world < W, self.row, rows)]
        self.ref_code = sends > 0  # per code: its step sends referrals

    def _loops(self) -> None:
        """Self-loops (a step's move back to itself, like `paying -> paying
        95% after 1mo` or a zero-delay retry): a walker that draws one stays
        a geometric number of moves, drawn at once (loops.py), however
        likely the loop. Per loop: its code, the chance to leave it, its
        delay, the discount over one move, and a row of `exits`: the step's
        other outcomes given that the walker leaves."""
        self.loop_of = np.full(len(self.tgt), -1, np.intp)
        code, leave, delay = [], [], []
        ptr, probs, outcomes = [0], [], []
        for i, (src, dst, prob, dly) in enumerate(self.moves):
            for j in np.flatnonzero(src == dst):
                others = np.flatnonzero(src == src[j])
                others = others[others != j]
                # what leaving means: the other moves and the end, in their
                # proportions (rates within the tolerance over 100% leave
                # no end); the chance to leave is 1 - stay, as the sampler has it
                end = max(0.0, 1.0 - float(prob[others].sum()) - float(prob[j]))
                out = float(prob[others].sum()) + end
                for w in (2 * i, 2 * i + 1):
                    code.append(w * self.S + j)
                    leave.append(max(1.0 - float(prob[j]), 0.0))
                    delay.append(float(dly[j]))
                    probs.append(prob[others] / out if out > 0 else np.zeros(0))
                    outcomes.append(w * self.S + others)
                    ptr.append(ptr[-1] + len(others))
        self.loop_code = np.array(code, np.intp)
        self.loop_leave = np.array(leave, float)
        self.loop_delay = np.array(delay, float)
        self.loop_log_q = self.loop_delay * self.log_discount  # log of one move's discount
        self.loop_of[self.loop_code] = np.arange(len(code))
        self.flags[self.row.take(self.loop_code)] |= LOOP
        self.exits: Sampler | None = None  # the loops' exits (None: no loop)
        if code:
            shift = bin_shift(len(code))
            self.exits = Sampler.build(np.array(ptr, np.int64), np.concatenate(probs),
                                       np.concatenate(outcomes).astype(np.int64), self.END,
                                       shift, straddle=self.DEAD + 1)

    def _own(self) -> None:
        """`per customer` rates (at most one move per chain, JD314): each
        walker draws its own rate p of the move once (own.py). Per world
        with one: the move's code, its source row, p's distribution, and a
        row of `own_exits`: the step's other outcomes given that the walker
        does not take the move (the other moves share what p leaves in
        their declared proportions, so given that, they are as declared)."""
        self.own_of_row = np.full(self.rows + 1, -1, np.intp)
        code, row, shape = [], [], []
        ptr, probs, outcomes = [0], [], []
        for i, (pair, (src, dst, prob, _)) in enumerate(zip(self.pairs, self.moves)):
            if not pair.chain.per_customer:
                continue
            ((s, t), amount), = pair.chain.per_customer.items()
            j = int(np.flatnonzero((src == s) & (dst == t))[0])
            others = np.flatnonzero(src == s)
            others = others[others != j]
            left = 1.0 - float(prob[j])
            draw = Draw.of(amount)
            for w in (2 * i, 2 * i + 1):
                code.append(w * self.S + j)
                row.append(w * self.n + s)
                shape.append((draw.a, draw.b, draw.low, draw.high))
                probs.append(prob[others] / left if left > 0 else np.zeros(0))
                outcomes.append(w * self.S + others)
                ptr.append(ptr[-1] + len(others))
        self.own_code = np.array(code, np.intp)
        self.own_shape = np.array(shape, float).reshape(-1, 4)  # a, b, low, high
        self.own_of_row[np.array(row, np.intp)] = np.arange(len(code))
        self.flags[np.array(row, np.intp)] |= OWN
        # per loop: whether its move is one with a `per customer` rate
        self.loop_own = np.isin(self.loop_code, self.own_code)
        self.own_exits: Sampler | None = None
        if code:
            self.own_exits = Sampler.build(np.array(ptr, np.int64), np.concatenate(probs),
                                           np.concatenate(outcomes).astype(np.int64),
                                           self.END, bin_shift(len(code)),
                                           straddle=self.DEAD + 1)

    def _structure(self, first: Chain, moves) -> None:
        """Steps a walk can visit more than once, and stages it can leave and
        enter again (in any world): their first visits are tracked."""
        n = self.n
        # every (source, target) once: the draws of one persona repeat its
        # moves, and the search for loops walks each given move
        pattern = np.unique(np.concatenate([m[0] * n + m[1] for m in moves]))
        src, dst = pattern // n, pattern % n
        count, labels = components(n, src, dst)  # (the moves as given: no matrix to build)
        self.component = labels  # per step: its strongly connected component (its loop)
        sizes = np.bincount(labels, minlength=count)
        cyclic = (sizes[labels] > 1) | np.isin(np.arange(n), src[src == dst])
        self.stages: list[str] = []
        self.stage_index = np.zeros(n, np.intp)
        for i, stage in enumerate(first.stage_of):
            if stage not in self.stages:
                self.stages.append(stage)
            self.stage_index[i] = self.stages.index(stage)
        self.tracked_steps = [int(i) for i in np.flatnonzero(cyclic)]
        self.track_step = np.full(n, -1, np.intp)
        self.track_step[self.tracked_steps] = np.arange(len(self.tracked_steps))
        self.track_stage = np.full(n, -1, np.intp)
        self.tracked_stages: list[str] = []
        # A walk can leave a stage and come back only along a cycle of the
        # stage graph through it (not only a cycle of steps that crosses it).
        reentrant = reentrant_stages(src, dst, self.stage_index, len(self.stages))
        for k, stage in enumerate(self.stages):
            if reentrant[k]:
                self.track_stage[self.stage_index == k] = (len(self.tracked_steps)
                                                           + len(self.tracked_stages))
                self.tracked_stages.append(stage)
        self.columns = len(self.tracked_steps) + len(self.tracked_stages)
        self.track_any = (self.track_step >= 0) | (self.track_stage >= 0)
        self.step_bits = None
        if self.columns <= 64:
            bits = np.zeros(n, np.uint64)
            for lookup in (self.track_step, self.track_stage):
                on = lookup >= 0
                bits[on] |= np.left_shift(np.uint64(1), lookup[on].astype(np.uint64))
            self.step_bits = bits

"""The Monte Carlo engine: walk many prospects through a journey at once.

Each walker (one prospect) starts at an entry step, earns each visited
step's value and spends its cost discounted to its entry, draws its next
move from the step's rates (the remainder ends the walk) and waits the
move's delay, until its walk ends, the horizon cuts it, or a safety cap on
the number of moves (reported) stops it. Only what happens at t < H counts;
a walk still going at H is active at the horizon.

The loop runs over passes of the walk, never over prospects: every walker
in flight advances at once, as numpy arrays. Walkers join a pool of at most
`POOL` as others finish (arrays stay a few MB, and the long tail of a
renewal loop is shared by all prospects). Every persona and every draw of
the uncertain rates is walked in the same pool, as its own "world", and so
is each referral cascade: a walker is known by the code of the edge it
just took, and world w owns its own range of codes, so one look-up by code
gives a walker's step, money (value + 1j * cost: one complex number),
goal, delay, tracked first visits and next-move table row. A finished
walker stays in place on a "dead" code until the dead make up a quarter of
the pool, instead of compacting every array at every pass. Results are
summed as walks stop, without per-prospect arrays (walks that end at their
first step, most of them often, are counted per step), except in
`simulate_chain`, which keeps them.

The next move is one table look-up per walker: each step's [0, 1) is cut
into 2**8..2**16 bins (a table of about 1 MB, so that it stays in cache),
each naming the move whose interval holds it; the few bins that straddle a
boundary between two moves are finished exactly with a second uniform
number. A *transition* is one such draw: one walker leaving a step, for
another step or for the end of its walk (the absorbing state).

Referrals (`A => B k`): each counted visit to A sends Poisson(k) new
prospects into B after the arrow's delay, on the first prospect's clock (a
referral arriving at or after H does not count). They join the pool as
they are sent, generation after generation, up to `CASCADE_FACTOR`
referred prospects per entering prospect (reported when reached), and
count only in `cohort`.

Uncertain rates (`20%..30%`, `beta(a, b)`): `monte_carlo` splits the
prospects over `draws` draws of the world. In each draw every uncertain rate
is sampled once (a range shared by personas, or written for several
personas, is drawn at the same quantile for all of them); a step whose
sampled rates sum to more than 100% is scaled down to exactly 100% and the
draw is counted in `rescaled_draws` (warning JD407 announces it).

Runs are reproducible: the same seed gives the same report.

>>> import journeydsl
>>> result = journeydsl.loads('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y }'
...                           ' ; entry x ; x -> y 40% after 2d ; goal y }')
>>> report = monte_carlo(result, prospects=20_000, seed=1)
>>> abs(report.blended.conversion - 0.4) < 0.02, report.blended.time_to_convert_days
(True, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from . import Report
from .chain import Chain, reentrant_stages
from .results import Metrics, blend

__all__ = ["MonteCarloReport", "Walks", "monte_carlo", "simulate_chain", "HEADLINE"]

# Blended headline metrics that get an uncertainty band.
HEADLINE = ("conversion", "revenue", "cost", "clv", "cac", "ltv_cac", "time_to_convert_days",
            "viral_coefficient", "active_at_horizon")

MAX_MOVES = 100_000  # safety cap on the moves of one walk (a walk that never ends)
CASCADE_FACTOR = 20  # at most this many referred prospects per entering prospect, in all
_TIME_EPS = 1e-9  # days: a time this close to the horizon is at the horizon
_Z90 = 1.6448536269514722  # standard normal 95th percentile

# Per-prospect quantities whose means (and covariances) give the headline metrics.
_LINEAR = ("conversion", "revenue", "cost", "value_converted", "time_converted",
           "viral_coefficient", "active_at_horizon")


# ------------------------------------------------------------------ sampling tables

def _bin_shift(n_rows: int) -> int:
    """log2 of the bins per row: as many as keep the table near 1 MB (gathers
    from a table that fits in cache are several times faster), 2**16 at
    most, 2**8 at least."""
    shift = 16
    while shift > 8 and n_rows << shift > 1 << 17:
        shift -= 1
    return shift


@dataclass
class _Sampler:
    """Draw one outcome per walker from its row's distribution.

    `table[row << shift | bits]` is the outcome of each bin; codes from
    `straddle` on name a straddling bin, finished with `thresholds` /
    `outcomes`.
    """

    shift: int
    table: np.ndarray
    straddle: int
    thresholds: np.ndarray  # [straddling bin, k]: boundaries inside it (inf padded)
    outcomes: np.ndarray  # [straddling bin, k + 1]: outcome below, between, above them

    @classmethod
    def build(cls, ptr: np.ndarray, probs: np.ndarray, codes: np.ndarray, end: int,
              shift: int, straddle: int | None = None) -> "_Sampler":
        """Rows in CSR form (`ptr`), outcome `codes` with probabilities `probs`
        (> 0, summing to at most 1 per row); the remainder of a row is `end`.
        Straddling bins get codes from `straddle` (above every outcome) on."""
        straddle = end + 1 if straddle is None else straddle
        n = len(ptr) - 1
        size = 1 << shift
        count = np.diff(ptr)
        row = np.repeat(np.arange(n), count)
        total = np.cumsum(probs)
        before = np.concatenate([[0.0], total])[ptr[:-1]]
        cum = np.minimum(total - np.repeat(before, count), 1.0)
        # bins whose start lies in [c_{j-1}, c_j) begin in outcome j
        first_bin = np.minimum(np.ceil(cum * size), size).astype(np.int64)
        prev = np.concatenate([[0], first_bin[:-1]])
        prev[ptr[:-1][count > 0]] = 0
        last = np.zeros(n, np.int64)
        last[count > 0] = first_bin[ptr[1:][count > 0] - 1]
        items = len(probs) + n
        all_codes = np.empty(items, np.int64)
        all_counts = np.empty(items, np.int64)
        edge_pos = np.arange(len(probs)) + row
        end_pos = ptr[1:] + np.arange(n)
        all_codes[edge_pos] = codes
        all_counts[edge_pos] = first_bin - prev
        all_codes[end_pos] = end
        all_counts[end_pos] = size - last
        scaled = cum * size
        inside = (scaled > np.floor(scaled)) & (cum > 0) & (cum < 1)
        j = np.flatnonzero(inside)
        key = row[j] * size + np.floor(scaled[j]).astype(np.int64)
        if len(j):
            uniq, start, inverse, per = np.unique(key, return_index=True, return_inverse=True,
                                                  return_counts=True)
        else:
            uniq = start = inverse = per = np.zeros(0, np.int64)
        straddling = len(uniq)
        table = np.repeat(all_codes, all_counts).astype(np.intp)
        k = int(per.max()) if straddling else 1
        thresholds = np.full((straddling, k), np.inf)
        outcomes = np.zeros((straddling, k + 1), np.int64)
        if straddling:
            rank = np.arange(len(j)) - start[inverse]
            thresholds[inverse, rank] = cum[j]
            last_in_row = j + 1 >= ptr[row[j] + 1]
            following = np.where(last_in_row, end, codes[np.minimum(j + 1, len(codes) - 1)])
            outcomes[:, 0] = codes[j[start]]
            outcomes[inverse, rank + 1] = following
            for col in range(1, k + 1):  # pad: past the last threshold nothing changes
                missing = col > per
                outcomes[missing, col] = outcomes[missing, col - 1]
            table[uniq] = straddle + np.arange(straddling)
        return cls(shift, table, straddle, thresholds, outcomes)

    def bits(self, bitgen, m: int) -> np.ndarray:
        raw = bitgen.random_raw((m + 3) >> 2).view(np.uint16)[:m]
        return raw >> (16 - self.shift) if self.shift < 16 else raw

    def draw(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One outcome per entry of `rows` (intp), as intp codes."""
        return self.draw_at(np.left_shift(rows, self.shift), rng)

    def draw_at(self, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The same, from `rows << shift` (a new array, used up)."""
        bits = self.bits(rng.bit_generator, len(base))
        base += bits
        code = self.table.take(base)
        if len(code) and code.max() >= self.straddle:
            where = np.flatnonzero(code >= self.straddle)
            straddle = code[where] - self.straddle
            u = (bits[where] + rng.random(len(where))) / (1 << self.shift)
            pick = (u[:, None] >= self.thresholds[straddle]).sum(axis=1)
            code[where] = self.outcomes[straddle, pick]
        return code


# ------------------------------------------------------------------ worlds and their tables

POOL = 1 << 18  # walkers in flight at once (arrays of a few MB at most stay cheap)
_COUNT_CELLS = 1 << 24  # per-walker visit counts kept at once (walkers x tracked steps)

_MONEY, _TRACK, _REFER, _GOAL = 1, 2, 4, 8  # what a step needs when walkers are on it
_ENDED, _CUT, _CAPPED = 0, 1, 2  # how a walk stops: its end, the horizon, the safety cap


@dataclass
class _Pair:
    """One persona under one draw of the rates: `prospects` entering
    prospects, walked in world 2i of the engine, and the prospects their
    referral cascade brings, in world 2i + 1."""

    chain: Chain
    rates: sparse.spmatrix | None  # None: the chain's own (mean) rates
    prospects: int


def _moves_of(chain: Chain, rates: sparse.spmatrix | None):
    """(source, target, rate, delay) of the moves with a positive rate, by source."""
    n = chain.n
    q = (chain.rates if rates is None else rates).tocsr().copy()
    q.sum_duplicates()
    q.sort_indices()
    if rates is not None:
        over = np.flatnonzero(np.asarray(q.sum(axis=1)).ravel() > 1.0 + 1e-9)
        if len(over):
            raise ValueError(f"rates out of step `{chain.steps[over[0]]}` sum to more than 1")
    src = np.repeat(np.arange(n), np.diff(q.indptr))
    dst = q.indices.astype(np.intp)
    d = chain.delays.tocsr().copy()
    d.sum_duplicates()
    d.sort_indices()
    if np.array_equal(d.indptr, q.indptr) and np.array_equal(d.indices, q.indices):
        delay = d.data.astype(float)
    else:  # another pattern (an override): look the delays up one by one
        where = {(int(i), int(j)): float(x) for i, j, x in
                 zip(np.repeat(np.arange(n), np.diff(d.indptr)), d.indices, d.data)}
        delay = np.array([where.get((int(i), int(j)), 0.0) for i, j in zip(src, dst)])
    keep = q.data > 0
    return src[keep], dst[keep], q.data[keep].astype(float), delay[keep]


def _referrals_of(chain: Chain):
    """(source, target, amount, delay) of the referral arrows, by source."""
    r = chain.referrals.tocsr().copy()
    r.sum_duplicates()
    r.eliminate_zeros()
    r.sort_indices()
    src = np.repeat(np.arange(chain.n), np.diff(r.indptr))
    delay = (np.asarray(chain.referral_delays.tocsr()[src, r.indices]).ravel().astype(float)
             if r.nnz else np.zeros(0))
    return src, r.indices.astype(np.intp), r.data.astype(float), delay


class _Engine:
    """The tables of a set of worlds walked in one pool.

    A walker is known by the code of the edge it just took. World w owns the
    codes w * S + j: j < E_max for its moves (E_max: most moves of any
    world), E_max + i for "just entered at step i". Two more codes follow
    all worlds: END (the walk ends) and DEAD (a finished walker left in the
    pool: no money, no visit, drawn back to itself). Everything a pass needs
    is one look-up by code: target step, money (value + 1j * cost), goal,
    delay, first-visit bits, and the sampler row of the target step in its
    world. Steps in world w are rows w * n + step of the per-row tables."""

    def __init__(self, pairs: list[_Pair]) -> None:
        first = pairs[0].chain
        n = first.n
        self.pairs = pairs
        self.n = n
        self.P = len(pairs)
        self.W = W = 2 * len(pairs)
        moves = [_moves_of(p.chain, p.rates) for p in pairs]
        self.moves = moves
        self.E_max = E_max = max([len(m[0]) for m in moves] + [0])
        self.S = S = E_max + n
        self.END = END = W * S
        self.DEAD = DEAD = W * S + 1
        size = W * S + 2
        self.rows = rows = W * n
        self.goal = first.goal.astype(bool)
        discount, horizon = first.daily_discount, first.horizon_days
        self.log_discount = math.log(discount) if discount != 1.0 else 0.0
        self.horizon = (horizon - _TIME_EPS) if horizon is not None else math.inf
        self.has_delay = any(bool(m[3].any()) for m in moves)
        self._structure(first, moves)
        # ---- per code
        tgt = np.zeros(size, np.intp)
        world = np.full(size, W, np.intp)
        money = np.zeros(size, np.complex128)
        delay = np.zeros(size)
        bits = np.zeros(size, np.uint64)
        track_step = np.full(size, -1, np.intp)
        track_stage = np.full(size, -1, np.intp)
        # ---- per row
        flags = np.zeros(rows + 1, np.int64)
        ref_total = np.zeros(rows + 1)
        ptr, probs, codes = [np.zeros(1, np.int64)], [], []
        a_count, a_dst, a_amount, a_delay = [], [], [], []
        self.entry = []
        for i, (pair, (src, dst, prob, dly)) in enumerate(zip(pairs, moves)):
            ch = pair.chain
            step_money = ch.value.astype(float) + 1j * ch.cost.astype(float)
            r_src, r_dst, r_amount, r_delay = _referrals_of(ch)
            sends = np.bincount(r_src, weights=r_amount, minlength=n)
            steps = np.flatnonzero(ch.entry > 0)
            self.entry.append((steps, ch.entry[steps] / ch.entry[steps].sum()))
            per_step = np.bincount(src, minlength=n)
            for w in (2 * i, 2 * i + 1):
                base, k = w * S, len(src)
                tgt[base:base + k] = dst
                tgt[base + E_max:base + S] = np.arange(n)
                world[base:base + S] = w
                money[base:base + k] = step_money[dst]
                money[base + E_max:base + S] = step_money
                delay[base:base + k] = dly
                if w % 2 == 0:  # first visits are tracked for entering prospects only
                    for lookup, out in ((self.track_step, track_step),
                                        (self.track_stage, track_stage)):
                        out[base:base + k] = lookup[dst]
                        out[base + E_max:base + S] = lookup
                    if self.step_bits is not None:
                        bits[base:base + k] = self.step_bits[dst]
                        bits[base + E_max:base + S] = self.step_bits
                here = slice(w * n, (w + 1) * n)
                flags[here] = (_MONEY * ((ch.value != 0) | (ch.cost != 0))
                               + (_TRACK * self.track_any if w % 2 == 0 else 0)
                               + _REFER * (sends > 0) + _GOAL * self.goal)
                ref_total[here] = sends
                ptr.append(ptr[-1][-1] + np.cumsum(per_step))
                probs.append(prob)
                codes.append(base + np.arange(k))
                a_count.append(np.bincount(r_src, minlength=n))
                a_dst.append(r_dst)
                a_amount.append(r_amount / sends[r_src] if len(r_src) else r_amount)
                a_delay.append(r_delay)
        tgt[DEAD] = n
        self.tgt, self.world, self.money, self.delay = tgt, world, money, delay
        self.bits, self.track_step_e, self.track_stage_e = bits, track_step, track_stage
        self.goal_e = np.append(self.goal, False)[tgt]
        self.goal_e[END] = False
        self.row = world * n + tgt  # END and DEAD: the dead row
        self.row[END] = self.row[DEAD] = rows
        self.flags, self.ref_total = flags, ref_total
        # the sampler: one row per (world, step), then the dead row
        ptr.append(ptr[-1][-1:] + 1)
        probs.append(np.ones(1))
        codes.append(np.array([DEAD]))
        shift = _bin_shift(rows + 1)
        self.sampler = _Sampler.build(np.concatenate(ptr), np.concatenate(probs),
                                      np.concatenate(codes), END, shift, straddle=DEAD + 1)
        self.base = np.left_shift(self.row, shift)
        # referral arrows by row: target, delay, and (row + cumulative share) to pick one
        counts = np.concatenate(a_count + [np.zeros(1, np.int64)])
        self.a_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        self.a_dst = np.concatenate(a_dst) if a_dst else np.zeros(0, np.intp)
        self.a_delay = np.concatenate(a_delay) if a_delay else np.zeros(0)
        share = np.concatenate(a_amount) if a_amount else np.zeros(0)
        a_row = np.repeat(np.arange(rows + 1), counts)
        cum = np.cumsum(share)
        start = np.concatenate([[0.0], cum])[self.a_ptr[:-1]]
        self.a_cum = a_row + cum - np.repeat(start, counts)
        last = self.a_ptr[1:][counts > 0] - 1
        self.a_cum[last] = a_row[last] + 1.0
        sends = np.append(ref_total, 0.0)[np.where(world < W, self.row, rows)]
        self.ref_code = sends > 0  # per code: its step sends referrals
        self.ref_lambda = sends
        self.ref_p0 = np.exp(-sends)

    def _structure(self, first: Chain, moves) -> None:
        """Steps a walk can visit more than once, and stages it can leave and
        enter again (in any world): their first visits are tracked."""
        n = self.n
        src = np.concatenate([m[0] for m in moves])
        dst = np.concatenate([m[1] for m in moves])
        pattern = sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        count, labels = connected_components(pattern, directed=True, connection="strong")
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
            inside = self.stage_index == k
            if reentrant[k]:
                self.track_stage[inside] = len(self.tracked_steps) + len(self.tracked_stages)
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


# ------------------------------------------------------------------ the books

class _Books:
    """What the walk leaves behind, by pair: counts per step and edge, and
    the walks that stop; the referral queue (the cascade) and its totals.

    Entering prospects are numbered 0..N0-1, pair after pair; referred ones
    N0, N0 + 1, ... as they are sent. With `keep`, per-prospect arrays of the
    entering prospects are kept (one pair only)."""

    def __init__(self, eng: _Engine, keep: bool, limits: list[int]) -> None:
        self.eng = eng
        P, n = eng.P, eng.n
        self.keep = keep
        sizes = [p.prospects for p in eng.pairs]
        self.block = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        self.N0 = N0 = int(self.block[-1])
        self.finished = 0
        self.starts = np.zeros((P, n), np.int64)
        self.edge_counts = np.zeros((P, eng.E_max), np.int64)
        self.ends = np.zeros((P, 2 * n), np.int64)  # drop-off by step, then churn by step
        self.active = np.zeros(P, np.int64)
        self.capped = np.zeros(P, np.int64)
        self.cost_sum = np.zeros(P)
        self.cost_sq = np.zeros(P)
        self.time_sum = np.zeros(P)  # first-goal times of the conversions (all before H)
        self.time_sq = np.zeros(P)
        self.reach = np.zeros((P, eng.columns))
        self.records: list[tuple] = []  # (pair, value, cost, converted, weight)
        self.stopped: list[tuple] = []  # (kind, code, money, converted, seen) as walks stop
        self.sent: list[np.ndarray] = []  # entering prospects who referred, once per referral
        self.counts = None  # [tracked column, walker - offset]: visits
        # the cascade
        self.limits = np.asarray(limits, np.int64)
        self.queued = np.zeros(P, np.int64)
        self.cascade_capped = np.zeros(P, bool)
        self.cascade_stopped = np.zeros(P, np.int64)  # stopped by the safety cap
        self.roots = np.zeros(0, np.intp)  # by referred prospect (the first n_roots)
        self.n_roots = 0
        self.queue: list[tuple] = []  # (world, target, time)
        self.taken = 0
        self.booked: list[tuple] = []  # (pair, root, converted, money) of referred prospects
        if keep:
            self.value = np.zeros(N0)
            self.cost = np.zeros(N0)
            self.converted_at = np.full(N0, np.nan)
            self.end_step = np.full(N0, -1, np.int32)

    # ---- entering prospects
    def first_block(self, i: int, lo: int, s0, occ0, going) -> None:
        """Pair i's new walkers (ids lo...) after their first draw; all at t = 0."""
        eng, n = self.eng, self.eng.n
        self.starts[i] += occ0
        if self.keep:
            ch = eng.pairs[i].chain
            hi = lo + len(s0)
            self.value[lo:hi] = ch.value[s0]
            self.cost[lo:hi] = ch.cost[s0]
            self.end_step[lo:hi] = s0  # walks that go on overwrite it when they stop
            self.finished += len(s0) - len(going)
            return
        ch = eng.pairs[i].chain
        moved = np.bincount(s0[going], minlength=n) if len(going) else 0
        ended = occ0 - moved  # per step: walks that end at their first step
        self.finished += int(ended.sum())
        goal = eng.goal
        self.ends[i] += np.concatenate([np.where(goal, 0, ended), np.where(goal, ended, 0)])
        self.cost_sum[i] += float((ended * ch.cost).sum())
        self.cost_sq[i] += float((ended * ch.cost ** 2).sum())
        worth = ((ended > 0) & (goal | (ch.value != 0))).nonzero()[0]
        if len(worth):
            self.records.append((np.full(len(worth), i), ch.value[worth], ch.cost[worth],
                                 goal[worth], ended[worth].astype(float)))
        if eng.columns and eng.step_bits is not None:
            for c in range(eng.columns):
                on = (eng.step_bits & np.uint64(1 << c)) != 0
                self.reach[i, c] += ended[on].sum()

    def convert(self, who, code, time) -> None:
        entering = who < self.N0
        if not entering.all():
            who, code, time = who[entering], code[entering], time[entering]
        if not len(who):
            return
        if self.keep:
            self.converted_at[who] = time
            return
        pair = self.eng.world.take(code) // 2
        self.time_sum += np.bincount(pair, weights=time, minlength=self.eng.P)
        self.time_sq += np.bincount(pair, weights=time * time, minlength=self.eng.P)

    def finish(self, kind, sel, w, e, money, cv, seen) -> None:
        who = w[sel]
        referred = who >= self.N0
        if referred.any():
            r = sel[referred]
            self._book(w[r], e[r], cv[r], money[r])
            if kind == _CAPPED:
                self.cascade_stopped += np.bincount(self.eng.world.take(e[r]) // 2,
                                                    minlength=self.eng.P)
            sel = sel[~referred]
            who = w[sel]
        if not len(sel):
            return
        self.finished += len(sel)
        if self.keep:
            both = money[sel]
            self.value[who] = both.real
            self.cost[who] = both.imag
            if kind == _ENDED:
                self.end_step[who] = self.eng.tgt.take(e[sel])
            else:
                self.end_step[who] = -1 if kind == _CUT else -2
            return
        self.stopped.append((kind, e[sel], money[sel], cv[sel],
                             seen[sel] if seen is not None else None))

    def close(self) -> None:
        """Sum the walks gathered by `finish` (summary mode)."""
        eng, P, n = self.eng, self.eng.P, self.eng.n
        if self.keep:
            ends = np.where(self.end_step >= 0, self.end_step, 2 * n)
            conv = ~np.isnan(self.converted_at)
            key = ends + np.where(self.end_step >= 0, n * conv, 0)
            self.ends[0] += np.bincount(key, minlength=2 * n + 1)[:2 * n]
            self.active[0] += np.count_nonzero(self.end_step == -1)
            self.capped[0] += np.count_nonzero(self.end_step == -2)
            self.cost_sum[0] += float(self.cost.sum())
            self.cost_sq[0] += _dot(self.cost, self.cost)
            note = (conv | (self.value != 0)).nonzero()[0]
            self.records.append((np.zeros(len(note), np.intp), self.value[note],
                                 self.cost[note], conv[note], np.ones(len(note))))
            times = self.converted_at[conv]
            self.time_sum[0] += float(times.sum())
            self.time_sq[0] += _dot(times, times)
            return
        if not self.stopped:
            return
        kinds = np.concatenate([np.full(len(x[1]), x[0], np.int8) for x in self.stopped])
        code = np.concatenate([x[1] for x in self.stopped])
        both = np.concatenate([x[2] for x in self.stopped])
        conv = np.concatenate([x[3] for x in self.stopped])
        pair = eng.world.take(code) // 2
        ended = kinds == _ENDED
        key = pair[ended] * (2 * n) + eng.tgt.take(code[ended]) + n * conv[ended]
        self.ends += np.bincount(key, minlength=P * 2 * n).reshape(P, 2 * n)
        self.active += np.bincount(pair[kinds == _CUT], minlength=P)
        self.capped += np.bincount(pair[kinds == _CAPPED], minlength=P)
        value, cost = both.real, both.imag
        self.cost_sum += np.bincount(pair, weights=cost, minlength=P)
        self.cost_sq += np.bincount(pair, weights=cost * cost, minlength=P)
        pick = (conv | (value != 0)).nonzero()[0]
        if len(pick):
            self.records.append((pair[pick], value[pick], cost[pick], conv[pick],
                                 np.ones(len(pick))))
        if self.stopped[0][4] is not None:
            bits = np.concatenate([x[4] for x in self.stopped])
            on = bits.nonzero()[0]
            bits, pair = bits[on], pair[on]
            for c in range(eng.columns):
                self.reach[:, c] += np.bincount(pair[(bits & np.uint64(1 << c)) != 0],
                                                minlength=P)
        self.stopped = []

    # ---- referrals and the cascade
    def refer(self, who, world, target, time) -> None:
        """Prospects sent by walkers `who` of `world` (per referral): queue
        them in the referred world of their pair, up to the pair's limit."""
        entering = who < self.N0
        if entering.any():
            self.sent.append(who[entering])
        root = who.copy()
        if not entering.all():
            root[~entering] = self.roots[who[~entering] - self.N0]
        pair = np.asarray(world) // 2
        pair = np.broadcast_to(pair, who.shape)
        counts = np.bincount(pair, minlength=self.eng.P)
        room = self.limits - self.queued
        if (counts > room).any():  # keep each pair's first referrals up to its limit
            keep = np.ones(len(who), bool)
            for i in np.flatnonzero(counts > room):
                mine = np.flatnonzero(pair == i)
                keep[mine[max(int(room[i]), 0):]] = False
                self.cascade_capped[i] = True
            root, target, time, pair = root[keep], target[keep], time[keep], pair[keep]
            counts = np.bincount(pair, minlength=self.eng.P)
        if not len(root):
            return
        self.queued += counts
        self._grow(len(root))
        self.roots[self.n_roots:self.n_roots + len(root)] = root
        self.n_roots += len(root)
        self.queue.append((2 * pair + 1, target, time))

    def _grow(self, k: int) -> None:
        if self.n_roots + k > len(self.roots):
            bigger = np.zeros(max(2 * len(self.roots), self.n_roots + k, 1024), np.intp)
            bigger[:self.n_roots] = self.roots[:self.n_roots]
            self.roots = bigger

    def waiting(self) -> int:
        return self.n_roots - self.taken

    def take(self, k: int):
        """The next k queued prospects: ids, worlds, steps, times."""
        parts = [np.concatenate([x[j] for x in self.queue]) for j in range(3)]
        self.queue = [tuple(p[k:] for p in parts)] if k < len(parts[0]) else []
        lo = self.taken
        self.taken += k
        ids = np.arange(self.N0 + lo, self.N0 + lo + k, dtype=np.intp)
        return ids, parts[0][:k], parts[1][:k], parts[2][:k]

    def _book(self, who, code, conv, money) -> None:
        self.booked.append((self.eng.world.take(code) // 2, self.roots[who - self.N0], conv,
                            money))

    def first_queue(self, ids, code0, cv0, money0, going) -> None:
        stop = np.ones(len(ids), bool)
        stop[going] = False
        idx = stop.nonzero()[0]
        if len(idx):
            self._book(ids[idx], code0[idx],
                       cv0[idx] if cv0 is not None else np.zeros(len(idx), bool), money0[idx])

    def cascade(self):
        """(pair, root, converted, money) of every referred prospect."""
        if not self.booked:
            return (np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, bool),
                    np.zeros(0, np.complex128))
        return tuple(np.concatenate(x) for x in zip(*self.booked))


# ------------------------------------------------------------------ the walk

def _walk(eng: _Engine, rng: np.random.Generator, books: _Books, *, lo: int = 0,
          hi: int | None = None, counts: bool = False, max_moves: int = MAX_MOVES,
          tick: Callable[[int], None] | None = None, pool: int | None = None) -> tuple[int, int]:
    """Walk the entering prospects numbered lo..hi-1 and their referral
    cascade until every walk has stopped; returns (transitions, moves).

    New walkers join a pool of at most `pool` as others leave it: referred
    prospects as they are sent, and entering prospects pair after pair (at
    their entry step, grouped by step: walkers are exchangeable, so only
    their numbering differs from drawing each entry on its own). Each pass
    books the visit of every walker in the pool (each is at a counted
    visit, t < H), draws all their next moves at once, hands the walks that
    stop to `books`, and moves the others. A walker is known by its edge
    code `e`, its time `t`, whether it has converted (`cv`), its discounted
    money (value + 1j * cost) and the tracked steps it has seen (`seen`
    bits), or, with `counts`, visits per tracked step in `books.counts`
    (by walker - lo). A walker still going `max_moves` passes after the last
    one joined is stopped (safety cap)."""
    hi = books.N0 if hi is None else hi
    n, S, E_max = eng.n, eng.S, eng.E_max
    END, DEAD = eng.END, eng.DEAD
    pool = pool or POOL
    log_d = eng.log_discount
    discounting = log_d != 0.0
    cut = math.isfinite(eng.horizon)
    use_counts = counts and eng.columns > 0
    use_seen = not use_counts and eng.step_bits is not None and eng.columns > 0
    flags = eng.flags if (use_counts or use_seen) else eng.flags & ~_TRACK
    entering = [max(0, min(hi, int(books.block[i + 1])) - max(lo, int(books.block[i])))
                for i in range(eng.P)]  # left to enter, by pair
    taken = [0] * eng.P
    w = np.zeros(0, np.intp)
    e = np.zeros(0, np.intp)
    t = np.zeros(0)
    cv = np.zeros(0, bool)
    money = np.zeros(0, np.complex128)
    seen = np.zeros(0, np.uint64) if use_seen else None
    code = np.zeros(0, np.intp)
    occ = np.zeros(eng.rows + 1)
    need = 0  # flags of the steps walkers are on
    dead = 0  # finished walkers left in the pool (on the DEAD code)
    last_join = 0
    transitions = moves = 0
    it = 0

    def bury(sel) -> None:
        """Leave finished walkers in place, on the DEAD code."""
        nonlocal dead
        code[sel] = DEAD
        t[sel] = 0.0
        cv[sel] = True
        dead += len(sel)

    def join(ids, s0, world, ts, block: int | None, occ_block=None):
        """New walkers at steps `s0` of `world` (a number, or one per walker):
        their first visit and first draw; returns those going on."""
        nonlocal transitions
        k = len(ids)
        first_code = world * S + E_max  # + step: "just entered at step"
        if occ_block is not None:  # a block of entering prospects: one world, counts known
            occ0 = np.zeros(eng.rows + 1, np.int64)
            occ0[block * 2 * n:block * 2 * n + n] = occ_block
        else:
            occ0 = np.bincount(eng.row.take(first_code + s0), minlength=eng.rows + 1)
        need0 = int(np.bitwise_or.reduce(flags[occ0 > 0]))
        e0 = first_code + s0 if need0 & (_GOAL | _TRACK | _REFER) or block is None else None
        cv0 = None
        if need0 & _GOAL:
            cv0 = eng.goal.take(s0)
            if cv0.any():
                at = ts[cv0] if ts is not None else np.zeros(int(cv0.sum()))
                books.convert(ids[cv0], e0[cv0], at)
        disc0 = np.exp(ts * log_d) if discounting and ts is not None else None
        if use_counts and need0 & _TRACK:
            _count_tracked(eng, books.counts, ids - lo, e0)
        if need0 & _REFER:
            _refer(eng, occ0, ids, e0, ts if ts is not None else np.zeros(k), rng, books)
        if block is not None:
            code0 = eng.sampler.draw_at(eng.base[first_code:first_code + n].take(s0), rng)
        else:
            code0 = eng.sampler.draw_at(eng.base.take(e0), rng)
        transitions += k
        go = (code0 != END).nonzero()[0]
        money0 = None
        if block is not None:
            books.first_block(block, int(ids[0]), s0, occ_block, go)
        else:
            money0 = eng.money.take(e0)
            if disc0 is not None:
                money0 *= disc0
            books.first_queue(ids, e0, cv0, money0, go)
        if not len(go):
            return None
        eg = e0[go] if e0 is not None else first_code + s0[go]
        mg = eng.money.take(eg) if money0 is None else money0[go]
        return (ids[go], code0[go], ts[go] if ts is not None else np.zeros(len(go)),
                cv0[go] if cv0 is not None else np.zeros(len(go), bool), mg,
                eng.bits.take(eg) if seen is not None else None)

    while True:
        m = len(w)
        # ---- the walkers in the pool: their visit, then their next move
        if m > dead:
            if need & _MONEY:
                earned = eng.money.take(e)
                if discounting:
                    earned *= np.exp(t * log_d)
                money += earned
            if need & _TRACK:
                if use_seen:
                    seen |= eng.bits.take(e)
                else:
                    _count_tracked(eng, books.counts, w - lo, e)
            if need & _REFER:
                _refer(eng, occ, w, e, t, rng, books)
            code = eng.sampler.draw_at(eng.base.take(e), rng)
            transitions += m - dead
            ended = (code == END).nonzero()[0]
            if len(ended):
                books.finish(_ENDED, ended, w, e, money, cv, seen)
                bury(ended)
        if dead and (4 * dead > m or m == dead):  # compact now and then
            keep = (code != DEAD).nonzero()[0]
            w, code, t, cv, money = w[keep], code[keep], t[keep], cv[keep], money[keep]
            if seen is not None:
                seen = seen[keep]
            dead = 0
        # ---- new walkers join: referred ones first, then entering ones
        room = pool - (len(w) - dead)
        if room >= pool // 2:
            batches = []
            k = min(room, books.waiting())
            if k:
                ids, worlds, s0, ts = books.take(k)
                batches.append(join(ids, s0, worlds, ts, None))
                room -= k
            for i in range(eng.P):
                if room <= 0:
                    break
                k = min(room, entering[i] - taken[i])
                if k <= 0:
                    continue
                steps, p = eng.entry[i]
                occ_i = np.zeros(n, np.int64)
                occ_i[steps] = rng.multinomial(k, p)
                s0 = np.repeat(np.arange(n), occ_i)
                first_id = max(lo, int(books.block[i])) + taken[i]
                ids = np.arange(first_id, first_id + k, dtype=np.intp)
                batches.append(join(ids, s0, 2 * i, None, i, occ_i))
                taken[i] += k
                room -= k
            batches = [b for b in batches if b is not None]
            if batches:
                w = np.concatenate([w] + [b[0] for b in batches])
                code = np.concatenate([code] + [b[1] for b in batches])
                t = np.concatenate([t] + [b[2] for b in batches])
                cv = np.concatenate([cv] + [b[3] for b in batches])
                money = np.concatenate([money] + [b[4] for b in batches])
                if seen is not None:
                    seen = np.concatenate([seen] + [b[5] for b in batches])
                last_join = it
        if len(w) == dead:
            if not books.waiting() and all(x >= y for x, y in zip(taken, entering)):
                break
            it += 1
            continue
        # ---- the moves (the dead stay where they are)
        moves += len(w) - dead
        e = code
        if eng.has_delay:
            t += eng.delay.take(e)
            if cut and t.max() >= eng.horizon:  # some arrive at or after H: active at H
                gone = (t >= eng.horizon).nonzero()[0]
                books.finish(_CUT, gone, w, e, money, cv, seen)
                bury(gone)
        per_edge = np.bincount(e, minlength=DEAD + 1)
        occ = np.bincount(eng.row, weights=per_edge, minlength=eng.rows + 1)
        occ[eng.rows] = 0
        need = int(np.bitwise_or.reduce(flags[occ > 0]))
        books.edge_counts += per_edge[:eng.W * S].reshape(eng.W, S)[0::2, :E_max]
        if need & _GOAL and len(w) > np.count_nonzero(cv):
            new = eng.goal_e.take(e)
            new &= ~cv
            if new.any():
                books.convert(w[new], e[new], t[new])
                cv |= new
        it += 1
        if it - last_join >= max_moves and len(w) > dead:  # safety cap
            books.finish(_CAPPED, (e != DEAD).nonzero()[0], w, e, money, cv, seen)
            none = np.zeros(0, np.intp)
            w, e, code, t, cv, money = w[none], e[none], code[none], t[none], cv[none], money[none]
            if seen is not None:
                seen = seen[none]
            dead = 0
        if tick is not None:
            tick(books.finished)
    return transitions, moves


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a . b without BLAS (whose threads only contend on a busy machine)."""
    return float(np.einsum("i,i->", a, b))


def _count_tracked(eng: _Engine, counts: np.ndarray, w: np.ndarray, e: np.ndarray) -> None:
    flat_counts = counts.reshape(-1)
    for lookup in (eng.track_step_e, eng.track_stage_e):
        column = lookup.take(e)
        some = (column >= 0).nonzero()[0]
        if len(some):
            # one visit per walker per pass: no repeated index
            flat_counts[column[some] * counts.shape[1] + w[some]] += 1


def _refer(eng: _Engine, occ, w, e, t, rng, books: _Books) -> None:
    """Referrals of these visits: Poisson(k) new prospects per visit to a
    referral source `A => B k`, each along an arrow picked in proportion to
    its k (Poisson splitting), arriving after the arrow's delay.

    When few (world, source step) groups send any, they are drawn per group:
    the v visits send Poisson(v * total k) prospects, each from a visitor
    picked uniformly at random (by rejection among all walkers), at a cost
    that grows with the referrals, not with the visits. Otherwise each visit
    draws its own count (inverse CDF; almost all are 0)."""
    rows = ((eng.flags & _REFER).astype(bool) & (occ > 0)).nonzero()[0]
    if not len(rows):
        return
    sent = rng.poisson(eng.ref_total[rows] * occ[rows])
    busy = sent.nonzero()[0]
    if not len(busy):
        return
    m = len(e)
    if len(busy) <= 4:
        parts = []
        for r, k in zip(rows[busy], sent[busy]):
            visitors = int(round(occ[r]))
            if visitors == m:
                pos = rng.integers(0, m, size=int(k))
            else:
                found: list[np.ndarray] = []
                need = int(k)
                while need > 0:
                    cand = rng.integers(0, m, size=int(need * m / visitors * 1.25) + 16)
                    cand = cand[eng.row.take(e.take(cand)) == r][:need]
                    found.append(cand)
                    need -= len(cand)
                pos = np.concatenate(found)
            parts.append(pos)
        pos = np.concatenate(parts)
    else:
        src = eng.ref_code.take(e).nonzero()[0]  # visits to a referral source
        u = rng.random(len(src))
        p = eng.ref_p0.take(e[src])
        hit = (u >= p).nonzero()[0]  # at least one referral
        if not len(hit):
            return
        src, u, p = src[hit], u[hit], p[hit]
        lam = eng.ref_lambda.take(e[src])
        count = np.zeros(len(src), np.int64)
        cdf = p.copy()
        for _ in range(10_000):  # P(X <= k) climbs past u within a few terms
            more = u >= cdf
            if not more.any():
                break
            count += more
            p = p * lam / np.maximum(count, 1)
            cdf += np.where(more, p, 0.0)
        pos = np.repeat(src, count)
    row = eng.row.take(e.take(pos))
    lo = eng.a_ptr.take(row)
    arrow = lo.copy()
    split = ((eng.a_ptr.take(row + 1) - lo) > 1).nonzero()[0]
    if len(split):
        arrow[split] = np.searchsorted(eng.a_cum, row[split] + rng.random(len(split)),
                                       side="right")
    arrive = t.take(pos) + eng.a_delay.take(arrow)
    counted = (arrive < eng.horizon).nonzero()[0]  # arriving at or after H does not count
    if len(counted):
        books.refer(w.take(pos[counted]), row[counted] // eng.n, eng.a_dst.take(arrow[counted]),
                    arrive[counted])


# ------------------------------------------------------------------ a run: pairs walked together

@dataclass
class Walks:
    """Per-prospect results of `simulate_chain` (arrays of length `prospects`,
    grouped by entry step).

    `value` and `cost` are each prospect's discounted money (before the
    horizon), `converted_at` the time of its first goal (nan if none),
    `referred` the prospects it referred directly, `end_step` the step
    index where its walk ended (-1 active at horizon, -2 stopped by the
    safety cap). `cohort_*` are the totals of each entering prospect's whole
    referral cascade, itself included (as `Metrics.cohort` counts them).
    `visits_mean` / `visits_var` are the mean and variance of one prospect's
    visits to each step.
    """

    steps: list[str]
    value: np.ndarray
    cost: np.ndarray
    converted_at: np.ndarray
    referred: np.ndarray
    end_step: np.ndarray
    cohort_prospects: np.ndarray
    cohort_customers: np.ndarray
    cohort_value: np.ndarray
    cohort_cost: np.ndarray
    visits_mean: np.ndarray
    visits_var: np.ndarray
    transitions: int = 0  # draws of a next move (entering prospects and the cascade)
    moves: int = 0  # of those, moves to another step
    capped_walks: int = 0
    cascade_capped: bool = False

    @property
    def prospects(self) -> int:
        return len(self.value)

    @property
    def converted(self) -> np.ndarray:
        return ~np.isnan(self.converted_at)

    @property
    def active(self) -> np.ndarray:
        return self.end_step == -1

    def stderr(self) -> dict:
        """Standard errors of the means, from the per-prospect samples."""
        n = max(self.prospects, 1)
        conv = self.converted

        def se(x: np.ndarray) -> float:
            return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.inf

        return {
            "conversion": se(conv.astype(float)),
            "revenue": se(self.value),
            "cost": se(self.cost),
            "time_to_convert_days": se(self.converted_at[conv]),
            "viral_coefficient": se(self.referred.astype(float)),
            "visits": {s: float(math.sqrt(max(v, 0.0) / n))
                       for s, v in zip(self.steps, self.visits_var)},
        }


@dataclass
class _Stats:
    transitions: int
    moves: int
    capped_walks: int
    cascade_capped: bool


def simulate_chain(chain: Chain, prospects: int, rng: np.random.Generator,
                   rates_override: sparse.spmatrix | None = None, *,
                   max_moves: int = MAX_MOVES,
                   cascade_limit: int | None = None) -> tuple[Metrics, Walks]:
    """Monte Carlo metrics of one persona and the per-prospect results.

    `rates_override` replaces `chain.rates` (same steps; delays are looked up
    in `chain.delays`); the rates are used as given (rows must sum to <= 1).
    `cascade_limit` caps the referred prospects in all (default
    `CASCADE_FACTOR` per entering prospect).
    """
    if prospects < 1:
        raise ValueError("prospects must be at least 1")
    tallies, stats, walks = _run([_Pair(chain, rates_override, prospects)], rng,
                                 max_moves=max_moves, keep=True, cascade_limit=cascade_limit)
    return tallies[0].metrics(), walks


def _run(pairs: list[_Pair], rng: np.random.Generator, *, max_moves: int, keep: bool,
         cascade_limit: int | None = None,
         progress: Callable[[int], None] | None = None):
    """Walk every pair's prospects and their cascades in one pool; returns
    (a _Tally per pair, _Stats, Walks of pair 0 with `keep`)."""
    eng = _Engine(pairs)
    n, P = eng.n, eng.P
    limits = [CASCADE_FACTOR * p.prospects if cascade_limit is None else cascade_limit
              for p in pairs]
    books = _Books(eng, keep, limits)
    done = [0]

    def tick(finished: int) -> None:
        if finished > done[0]:
            progress(finished - done[0])
            done[0] = finished

    # Per-walker visit counts of tracked steps (kept for simulate_chain, or when
    # there are too many tracked steps for first-visit bits) take columns x
    # walkers cells: walk the prospects in chunks that keep it bounded.
    counting = eng.columns > 0 and (keep or eng.step_bits is None)
    N0 = books.N0
    chunk = max(1 << 12, _COUNT_CELLS // max(eng.columns, 1)) if counting else max(N0, 1)
    visit_sum = np.zeros((P, eng.columns))
    visit_sq = np.zeros((P, eng.columns))
    transitions = moves = 0
    for lo in range(0, N0, chunk):
        hi = min(N0, lo + chunk)
        if counting:
            books.counts = np.zeros((eng.columns, hi - lo), np.int32)
        tr, mv = _walk(eng, rng, books, lo=lo, hi=hi, counts=counting, max_moves=max_moves,
                       tick=tick if progress else None)
        transitions += tr
        moves += mv
        if counting:
            for i in range(P):  # the pairs' blocks within this chunk
                a, b = max(lo, int(books.block[i])), min(hi, int(books.block[i + 1]))
                if a >= b:
                    continue
                for c, row in enumerate(books.counts[:, a - lo:b - lo]):
                    nz = row[row.nonzero()[0]].astype(np.float64)
                    visit_sum[i, c] += nz.sum()
                    visit_sq[i, c] += _dot(nz, nz)
                    books.reach[i, c] += len(nz)
            books.counts = None
    books.close()
    # ---- direct referrals of the entering prospects, and the cascades
    senders = np.concatenate(books.sent) if books.sent else np.zeros(0, np.intp)
    sent_by, sent = np.unique(senders, return_counts=True)
    sent_pair = np.searchsorted(books.block, sent_by, side="right") - 1
    c_pair, c_root, c_conv, c_money = books.cascade()
    if books.records:
        r_pair, r_value, r_cost, r_conv, r_weight = (np.concatenate(x) for x in zip(*books.records))
    else:
        r_pair = np.zeros(0, np.intp)
        r_value = r_cost = r_weight = np.zeros(0)
        r_conv = np.zeros(0, bool)
    tallies = []
    for i, pair in enumerate(pairs):
        src, dst = eng.moves[i][0], eng.moves[i][1]
        size = max(pair.prospects, 1)
        # ---- sums and cross moments of _LINEAR. Only the pairs the headline
        # metrics need are kept: referrals and active-at-horizon alone,
        # first-goal times with conversion only.
        mine = r_pair == i
        value, cost, conv, weight = r_value[mine], r_cost[mine], r_conv[mine], r_weight[mine]
        x = np.vstack([conv, value, cost, value * conv]).astype(float)
        sums = np.zeros(len(_LINEAR))
        cross = np.zeros((len(_LINEAR), len(_LINEAR)))
        sums[:4] = (x * weight).sum(axis=1)
        cross[:4, :4] = np.einsum("in,jn,n->ij", x, x, weight)
        sums[2], cross[2, 2] = books.cost_sum[i], books.cost_sq[i]
        sums[4], cross[4, 4] = books.time_sum[i], books.time_sq[i]
        cross[0, 4] = cross[4, 0] = books.time_sum[i]
        own = sent[sent_pair == i].astype(float)
        sums[5], cross[5, 5] = own.sum(), _dot(own, own)
        sums[6] = cross[6, 6] = float(books.active[i])
        # ---- visits and reach
        edge_counts = books.edge_counts[i, :len(src)]
        visits = books.starts[i] + np.bincount(dst, weights=edge_counts, minlength=n)
        mean = visits / size
        reach_count = visits.astype(float)
        for c, step in enumerate(eng.tracked_steps):
            reach_count[step] = books.reach[i, c]
        entering = eng.stage_index[src] != eng.stage_index[dst]
        stage_entries = (np.bincount(eng.stage_index, weights=books.starts[i],
                                     minlength=len(eng.stages))
                         + np.bincount(eng.stage_index[dst[entering]],
                                       weights=edge_counts[entering], minlength=len(eng.stages)))
        for c, stage in enumerate(eng.tracked_stages):
            stage_entries[eng.stages.index(stage)] = books.reach[i, len(eng.tracked_steps) + c]
        theirs = c_pair == i
        cohort = np.array([pair.prospects + books.queued[i],
                           sums[0] + float(c_conv[theirs].sum()),
                           sums[1] + float(c_money[theirs].real.sum()),
                           sums[2] + float(c_money[theirs].imag.sum())])
        tallies.append(_Tally(
            pair.chain, pair.prospects, sums, cross, visits=visits.astype(float),
            reach_count=reach_count, dropoff=books.ends[i, :n].astype(float),
            churn=books.ends[i, n:].astype(float), stage_reach_count=stage_entries,
            cohort=cohort, converters=np.column_stack([value[conv], cost[conv], weight[conv]])))
    stats = _Stats(transitions, moves, int(books.capped.sum() + books.cascade_stopped.sum()),
                   bool(books.cascade_capped.any()))
    walks = None
    if keep:
        pair = pairs[0]
        size = max(pair.prospects, 1)
        mean = tallies[0].visits / size
        var = mean * (1.0 - mean)  # outside cycles a step is visited at most once
        for c, step in enumerate(eng.tracked_steps):
            var[step] = visit_sq[0, c] / size - (visit_sum[0, c] / size) ** 2
        if pair.prospects > 1:
            var *= pair.prospects / (pair.prospects - 1)
        referred = np.zeros(pair.prospects, np.int64)
        referred[sent_by] = sent
        conv_all = ~np.isnan(books.converted_at)
        c_prospects = np.ones(pair.prospects)
        c_customers = conv_all.astype(float)
        c_value = books.value.copy()
        c_cost = books.cost.copy()
        if len(c_root):
            np.add.at(c_prospects, c_root, 1.0)
            np.add.at(c_customers, c_root, c_conv.astype(float))
            np.add.at(c_value, c_root, c_money.real)
            np.add.at(c_cost, c_root, c_money.imag)
        walks = Walks(list(pair.chain.steps), books.value, books.cost, books.converted_at,
                      referred, books.end_step, c_prospects, c_customers, c_value, c_cost,
                      mean, var, stats.transitions, stats.moves, stats.capped_walks,
                      stats.cascade_capped)
    return tallies, stats, walks


# ------------------------------------------------------------------ sums that add up

@dataclass
class _Tally:
    """Sums over the prospects of one persona (mergeable across draws)."""

    chain: Chain
    n: int
    sums: np.ndarray  # of _LINEAR per prospect
    cross: np.ndarray  # sums of products of _LINEAR per prospect (referrals: own square only)
    visits: np.ndarray
    reach_count: np.ndarray
    dropoff: np.ndarray
    churn: np.ndarray
    stage_reach_count: np.ndarray
    cohort: np.ndarray  # prospects, customers, revenue, cost (sums)
    converters: np.ndarray  # [converter, (value, cost, weight)]

    def merge(self, other: "_Tally") -> "_Tally":
        return _Tally(
            self.chain, self.n + other.n, self.sums + other.sums, self.cross + other.cross,
            self.visits + other.visits, self.reach_count + other.reach_count,
            self.dropoff + other.dropoff, self.churn + other.churn,
            self.stage_reach_count + other.stage_reach_count, self.cohort + other.cohort,
            np.concatenate([self.converters, other.converters]))

    @property
    def means(self) -> np.ndarray:
        return self.sums / max(self.n, 1)

    def covariance(self) -> np.ndarray:
        """Covariance matrix of the per-prospect _LINEAR quantities."""
        n = max(self.n, 1)
        mean = self.means
        cov = self.cross / n - np.outer(mean, mean)
        return cov * (n / (n - 1)) if n > 1 else cov

    def metrics(self) -> Metrics:
        chain = self.chain
        n = max(self.n, 1)
        steps = {s: {"reach": float(min(self.reach_count[i] / n, 1.0)),
                     "visits": float(self.visits[i] / n),
                     "dropoff": float(self.dropoff[i] / n), "churn": float(self.churn[i] / n)}
                 for i, s in enumerate(chain.steps)}
        order: list[str] = []
        for stage in chain.stage_of:
            if stage not in order:
                order.append(stage)
        stages = {}
        for k, stage in enumerate(order):
            idx = [i for i, st in enumerate(chain.stage_of) if st == stage]
            stages[stage] = {"reach": float(min(self.stage_reach_count[k] / n, 1.0)),
                             "dropoff": float(self.dropoff[idx].sum() / n),
                             "churn": float(self.churn[idx].sum() / n)}
        m = Metrics(**{k: float(v) for k, v in zip(_LINEAR, self.means)},
                    steps=steps, stages=stages)
        m.cohort = {k: float(v / n) for k, v in
                    zip(("prospects", "customers", "revenue", "cost"), self.cohort)}
        return m


# ------------------------------------------------------------------ headline statistics

def _headline(mean: np.ndarray) -> dict[str, float | None]:
    """Headline metrics from the means of _LINEAR."""
    conv, rev, cost, vconv, tconv, viral, active = (float(x) for x in mean)
    clv = vconv / conv if conv > 0 else None
    cac = cost / conv if conv > 0 else None
    return {"conversion": conv, "revenue": rev, "cost": cost, "clv": clv, "cac": cac,
            "ltv_cac": (clv / cac) if clv is not None and cac else None,
            "time_to_convert_days": tconv / conv if conv > 0 else None,
            "viral_coefficient": viral, "active_at_horizon": active}


def _gradients(mean: np.ndarray) -> dict[str, np.ndarray | None]:
    """d(headline metric) / d(means of _LINEAR), for the delta method."""
    conv, _, cost, vconv, tconv, _, _ = (float(x) for x in mean)
    g: dict[str, np.ndarray | None] = {}
    for i, name in enumerate(("conversion", "revenue", "cost")):
        g[name] = np.eye(7)[i]
    g["viral_coefficient"] = np.eye(7)[5]
    g["active_at_horizon"] = np.eye(7)[6]

    def ratio(a: int, b: int, num: float, den: float):
        if den <= 0:
            return None
        v = np.zeros(7)
        v[a] = 1.0 / den
        v[b] = -num / den ** 2
        return v

    g["clv"] = ratio(3, 0, vconv, conv)
    g["cac"] = ratio(2, 0, cost, conv)
    g["ltv_cac"] = ratio(3, 2, vconv, cost) if conv > 0 else None
    g["time_to_convert_days"] = ratio(4, 0, tconv, conv)
    return g


def _blended_linear(tallies: dict[str, _Tally], shares: dict[str, float]):
    """Means of _LINEAR over the persona mix and their covariance matrix."""
    mean = sum(shares[p] * t.means for p, t in tallies.items())
    cov = sum(shares[p] ** 2 * t.covariance() / max(t.n, 1) for p, t in tallies.items())
    return np.asarray(mean, float), np.asarray(cov, float)


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return [float(np.interp(q, cw, x)) for q in qs]


def _top_share(score: np.ndarray, amount: np.ndarray, weight: np.ndarray,
               fraction: float) -> float | None:
    """Share of sum(weight * amount) held by the top `fraction` (by weight) ranked by score."""
    if not len(score) or not 0 < fraction <= 1:
        return None if not len(score) else 0.0
    total = _dot(weight, amount)
    if total == 0:
        return None
    order = np.argsort(-score, kind="stable")
    a, w = amount[order], weight[order]
    cw = np.cumsum(w) / w.sum()
    k = int(np.searchsorted(cw, fraction, side="left"))
    k = min(k, len(a) - 1)
    before = float(cw[k - 1]) if k else 0.0
    part = _dot(w[:k], a[:k])
    # the customer straddling the cut counts for the part of its weight inside it
    inside = (fraction - before) / (float(cw[k]) - before) if cw[k] > before else 1.0
    part += min(max(inside, 0.0), 1.0) * float(w[k] * a[k])
    return part / total


# ------------------------------------------------------------------ the report

@dataclass
class MonteCarloReport(Report):
    """`simulate.Report` plus the Monte Carlo extras."""

    prospects: int = 0
    draws: int = 1
    seed: int | None = None
    uncertainty: dict[str, dict[str, float | None]] = field(default_factory=dict)
    clv_distribution: dict[str, float | None] = field(default_factory=dict)
    revenue_concentration: float | None = None
    profit_concentration: float | None = None
    rescaled_draws: int = 0
    rescaled_steps: dict[str, dict[str, int]] = field(default_factory=dict)
    transitions: int = 0
    moves: int = 0
    capped_walks: int = 0
    cascade_capped: bool = False
    concentration_fraction: float = 0.08
    # converters of the mix: discounted value, cost and weight (for top_share)
    _converters: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)), repr=False)

    def top_share(self, fraction: float, by: str = "revenue") -> float | None:
        """Share of the customers' total revenue (or profit, `by="profit"`: value
        minus cost) brought by the top `fraction` of customers ranked by it."""
        if by not in ("revenue", "profit"):
            raise ValueError("by must be 'revenue' or 'profit'")
        value, cost, weight = self._converters.T
        amount = value if by == "revenue" else value - cost
        return _top_share(amount, amount, weight, fraction)

    def as_dict(self) -> dict:
        out = super().as_dict()
        out.update({
            "prospects": self.prospects,
            "draws": self.draws,
            "seed": self.seed,
            "uncertainty": self.uncertainty,
            "clv_distribution": self.clv_distribution,
            "revenue_concentration": self.revenue_concentration,
            "profit_concentration": self.profit_concentration,
            "concentration_fraction": self.concentration_fraction,
            "rescaled_draws": self.rescaled_draws,
            "rescaled_steps": self.rescaled_steps,
            "transitions": self.transitions,
            "capped_walks": self.capped_walks,
            "cascade_capped": self.cascade_capped,
        })
        return out


def _sample_rates(chains: dict[str, Chain], rng: np.random.Generator):
    """One draw of every uncertain rate, per persona; rows over 100% scaled to 100%.

    Returns ({persona: csr rates}, {persona: [rescaled step indices]})."""
    from scipy.special import betaincinv  # the beta quantile function

    keys = sorted({key for ch in chains.values() for key in ch.uncertain})
    quantile = dict(zip(keys, rng.random(len(keys))))
    rates, rescaled = {}, {}
    for p, ch in chains.items():
        q = ch.rates.tocsr().copy()
        q.sort_indices()
        if ch.uncertain:
            for (i, j), amount in ch.uncertain.items():
                u = quantile[(i, j)]
                if amount.kind == "uniform":
                    value = amount.low + u * (amount.high - amount.low)
                elif amount.kind == "beta":
                    value = float(betaincinv(amount.alpha, amount.beta, u))
                else:
                    value = amount.mean
                lo, hi = q.indptr[i], q.indptr[i + 1]
                pos = lo + int(np.searchsorted(q.indices[lo:hi], j))
                q.data[pos] = value
        totals = np.bincount(np.repeat(np.arange(ch.n), np.diff(q.indptr)), weights=q.data,
                             minlength=ch.n)
        over = np.flatnonzero(totals > 1.0 + 1e-12)
        for i in over:
            lo, hi = q.indptr[i], q.indptr[i + 1]
            q.data[lo:hi] /= totals[i]
        rates[p], rescaled[p] = q, [int(i) for i in over]
    return rates, rescaled


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split by weights (largest remainder)."""
    w = np.asarray(weights, float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    raw = w * total
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(x) for x in out]


_MAX_ROWS = 1 << 14  # sampler rows (worlds x steps) walked together at most


def monte_carlo(compiled, scenario: str | None = None, prospects: int = 100_000,
                draws: int = 20, seed: int = 20261123, persona: str | None = None,
                progress: Callable[[int, int], None] | None = None, *,
                max_moves: int = MAX_MOVES,
                concentration: float = 0.08) -> MonteCarloReport:
    """Monte Carlo metrics of a journey (raises JourneyError on errors).

    `prospects` is the total number of entering prospects simulated. With
    uncertain rates they are split evenly over `draws` draws (each draw
    samples every uncertain rate once); without any, there is one draw of
    them all. In each draw the prospects are split over the personas by
    share (only `persona` when given) and the personas blended as
    `results.blend` does; every draw and persona is walked in one pool.
    `uncertainty` gives, for each blended headline metric, the standard
    error of the reported mean and p05/p50/p95 across draws (these include
    each draw's own sampling noise); with a single draw, the standard error
    comes from the per-prospect samples (delta method for ratios) and
    p05/p95 are mean -/+ 1.645 standard errors. `progress(done, total)` is
    called as walks end.
    """
    from ..compiler import JourneyError
    from .chain import build_chain

    if not compiled.ok or compiled.journey is None:
        raise JourneyError(compiled.errors)
    if prospects < 1:
        raise ValueError("prospects must be at least 1")
    graph = compiled.graph(scenario)
    shares = dict(graph.graph["shares"])
    everyone = list(graph.graph["personas"])
    if persona is not None and persona not in everyone:
        raise KeyError(f"no persona `{persona}` (personas: {', '.join(everyone)})")
    run = [persona] if persona is not None else everyone
    chains = {p: build_chain(graph, p) for p in run}
    uncertain = any(ch.uncertain for ch in chains.values())
    k = max(1, int(draws)) if uncertain else 1
    k = min(k, prospects)
    per_draw = _split(prospects, [1.0] * k)
    weights = {p: shares[p] for p in run} if len(run) > 1 else {run[0]: 1.0}
    mix = {p: weights[p] / sum(weights.values()) for p in run}
    pairs: list[_Pair] = []
    which: list[tuple[int, str]] = []  # (draw, persona) of each pair
    rescaled_draws = 0
    rescaled_steps: dict[str, dict[str, int]] = {}
    for d in range(k):
        rates: dict = {p: None for p in run}
        if uncertain:
            draw_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d, 0)))
            rates, rescaled = _sample_rates(chains, draw_rng)
            if any(rescaled.values()):
                rescaled_draws += 1
            for p, rows in rescaled.items():
                for i in rows:
                    counts = rescaled_steps.setdefault(p, {})
                    counts[chains[p].steps[i]] = counts.get(chains[p].steps[i], 0) + 1
        for p, count in zip(run, _split(per_draw[d], [mix[p] for p in run])):
            pairs.append(_Pair(chains[p], rates[p], max(count, 1)))
            which.append((d, p))
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(min(done, prospects), prospects)

    # every pair in one pool, unless the sampler would get too many rows
    n = chains[run[0]].n
    group = max(1, _MAX_ROWS // (2 * n + 1))
    tallies: list[_Tally] = []
    stats = _Stats(0, 0, 0, False)
    for g, lo in enumerate(range(0, len(pairs), group)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 30, g)))
        part, st, _ = _run(pairs[lo:lo + group], rng, max_moves=max_moves, keep=False,
                           progress=tick)
        tallies += part
        stats = _Stats(stats.transitions + st.transitions, stats.moves + st.moves,
                       stats.capped_walks + st.capped_walks,
                       stats.cascade_capped or st.cascade_capped)
    pooled: dict[str, _Tally] = {}
    per_draw_headline: list[dict[str, float | None]] = []
    converters = []
    for d in range(k):
        mine = {p: tallies[j] for j, (dd, p) in enumerate(which) if dd == d}
        for p, tally in mine.items():
            pooled[p] = tally if p not in pooled else pooled[p].merge(tally)
            c = tally.converters.copy()
            c[:, 2] *= mix[p] / (max(tally.n, 1) * k)
            converters.append(c)
        mean, _ = _blended_linear(mine, mix)
        per_draw_headline.append(_headline(mean))
    personas = {p: pooled[p].metrics() for p in run}
    blended = blend(personas, mix) if len(run) > 1 else personas[run[0]]
    uncertainty = _uncertainty(pooled, mix, per_draw_headline, k)
    conv = np.concatenate(converters) if converters else np.zeros((0, 3))
    report = MonteCarloReport(
        journey=compiled.journey.title, scenario=scenario, method="monte_carlo",
        currency=compiled.journey.currency, shares=shares, personas=personas, blended=blended,
        prospects=prospects, draws=k, seed=seed, uncertainty=uncertainty,
        rescaled_draws=rescaled_draws, rescaled_steps=rescaled_steps,
        transitions=stats.transitions, moves=stats.moves, capped_walks=stats.capped_walks,
        cascade_capped=stats.cascade_capped, concentration_fraction=concentration,
        _converters=conv)
    if len(conv):
        qs = _weighted_quantiles(conv[:, 0], conv[:, 2], (0.05, 0.25, 0.5, 0.75, 0.95))
        report.clv_distribution = dict(zip(("p05", "p25", "p50", "p75", "p95"), qs))
        report.clv_distribution["mean"] = _dot(conv[:, 0], conv[:, 2]) / float(conv[:, 2].sum())
    else:
        report.clv_distribution = {k_: None for k_ in ("p05", "p25", "p50", "p75", "p95", "mean")}
    report.revenue_concentration = report.top_share(concentration)
    report.profit_concentration = report.top_share(concentration, by="profit")
    return report


def _uncertainty(pooled: dict[str, _Tally], mix: dict[str, float],
                 per_draw: list[dict[str, float | None]], k: int) -> dict:
    mean, cov = _blended_linear(pooled, mix)
    point = _headline(mean)
    out: dict[str, dict[str, float | None]] = {}
    if k > 1:
        for name in HEADLINE:
            vals = np.array([h[name] for h in per_draw if h[name] is not None], float)
            if len(vals) < 2:
                out[name] = {"stderr": None, "p05": None, "p50": None, "p95": None}
                continue
            p05, p50, p95 = np.percentile(vals, [5, 50, 95])
            out[name] = {"stderr": float(vals.std(ddof=1) / math.sqrt(len(vals))),
                         "p05": float(p05), "p50": float(p50), "p95": float(p95)}
        return out
    grads = _gradients(mean)
    for name in HEADLINE:
        g, value = grads[name], point[name]
        if g is None or value is None:
            out[name] = {"stderr": None, "p05": None, "p50": None, "p95": None}
            continue
        se = float(math.sqrt(max(float(g @ cov @ g), 0.0)))
        out[name] = {"stderr": se, "p05": value - _Z90 * se, "p50": value,
                     "p95": value + _Z90 * se}
    return out

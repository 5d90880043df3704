"""The Monte Carlo engine: walk many prospects through a journey at once.

Every walker (one prospect) starts at an entry step, earns each visited
step's value and spends its cost discounted to its entry, picks its next
move by the step's rates (the remainder ends the walk) and waits the move's
delay, until its walk ends, the horizon cuts it, or a safety cap on the
number of moves (reported) stops it. The loop runs over the moves of the
walk, never over prospects: all walkers still going advance together, as
numpy arrays that shrink as walks end.

The next move is drawn with one table look-up per walker: each step's
[0, 1) is cut into 2**16 bins (fewer on large journeys) that name the move
whose interval holds them; the few bins that straddle a boundary between
two moves are finished exactly with a second uniform number. A
"transition" below is one such draw: one walker leaving a step, for
another step or for the end of its walk.

Referrals (`A => B k`): each counted visit to A sends Poisson(k) new
prospects into B after the referral's delay, on the first prospect's clock;
they are walked as later generations (extra batches) up to a cap on the
cascade's size (reported), and count in `cohort` only.

Uncertain rates (`20%..30%`, `beta(a, b)`): `monte_carlo` splits the
prospects over `draws` draws of the world. In each draw every uncertain rate
is sampled once (a range shared by personas, or written for several
personas, is drawn at the same quantile for all of them); a step whose
sampled rates sum to more than 100% is scaled down to exactly 100% and the
draw is counted in `rescaled_draws` (warning JD407 announces it).

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
from .chain import Chain
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
    """log2 of the bins per row: 2**16, fewer when the table would be large."""
    shift = 16
    while shift > 8 and (n_rows + 1) << shift > 1 << 22:
        shift -= 1
    return shift


@dataclass
class _Sampler:
    """Draw one outcome per walker from its row's distribution.

    `table[row << shift | bits]` is the outcome of each bin; codes above
    `end` name a straddling bin, finished with `thresholds` / `outcomes`.
    """

    shift: int
    table: np.ndarray
    end: int
    thresholds: np.ndarray  # [straddling bin, k]: boundaries inside it (inf padded)
    outcomes: np.ndarray  # [straddling bin, k + 1]: outcome below, between, above them

    @classmethod
    def build(cls, ptr: np.ndarray, probs: np.ndarray, codes: np.ndarray, end: int,
              shift: int) -> "_Sampler":
        """Rows in CSR form (`ptr`), outcome `codes` with probabilities `probs`
        (> 0, summing to at most 1 per row); the remainder of a row is `end`."""
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
        top = end + straddling
        dtype = np.int16 if top < np.iinfo(np.int16).max else np.int32
        table = np.repeat(all_codes, all_counts).astype(dtype)
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
            table[uniq] = end + 1 + np.arange(straddling)
        return cls(shift, table, end, thresholds, outcomes)

    def bits(self, bitgen, m: int) -> np.ndarray:
        raw = bitgen.random_raw((m + 3) >> 2).view(np.uint16)[:m]
        return raw >> (16 - self.shift) if self.shift < 16 else raw

    def draw(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One outcome per entry of `rows` (intp), as int64 codes."""
        bits = self.bits(rng.bit_generator, len(rows))
        idx = np.left_shift(rows, self.shift)
        idx += bits
        code = self.table.take(idx)
        if len(code) and code.max() > self.end:
            code = code.astype(np.int64)
            where = np.flatnonzero(code > self.end)
            straddle = code[where] - self.end - 1
            u = (bits[where] + rng.random(len(where))) / (1 << self.shift)
            pick = (u[:, None] >= self.thresholds[straddle]).sum(axis=1)
            code[where] = self.outcomes[straddle, pick]
        return code.astype(np.intp, copy=False)


# ------------------------------------------------------------------ one persona's tables

@dataclass
class _Tables:
    chain: Chain
    n: int
    edges: int
    col: np.ndarray  # per edge: target step (intp)
    delay: np.ndarray  # per edge: days
    into_goal: np.ndarray  # per edge: the target is a goal
    sampler: _Sampler
    entry_steps: np.ndarray
    entry_p: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    goal: np.ndarray
    log_discount: float
    horizon: float
    ref_ptr: np.ndarray  # referrals in CSR form by source step
    ref_col: np.ndarray
    ref_amount: np.ndarray
    ref_delay: np.ndarray
    has_ref: np.ndarray  # per step
    # steps a walk can visit more than once, stages it can leave and re-enter:
    # visits to them are counted per walker (reach needs first visits)
    track_step: np.ndarray  # per step: its column, or -1
    track_stage: np.ndarray  # per step: its stage's column, or -1
    tracked: bool
    tracked_steps: list[int]
    tracked_stages: list[str]
    stages: list[str]
    stage_index: np.ndarray  # per step
    edge_source: np.ndarray

    def __post_init__(self) -> None:
        self.value_steps = self.value != 0
        self.cost_steps = self.cost != 0
        self.has_value = bool(self.value_steps.any())
        self.has_cost = bool(self.cost_steps.any())
        self.has_refs = bool(self.has_ref.any())
        self.ref_total = np.bincount(np.repeat(np.arange(self.n), np.diff(self.ref_ptr)),
                                     weights=self.ref_amount, minlength=self.n)
        # per referral arrow: its source step + the cumulative share of the step's total
        src = np.repeat(np.arange(self.n), np.diff(self.ref_ptr))
        share = self.ref_amount / np.where(self.ref_total[src] > 0, self.ref_total[src], 1.0)
        cum = np.cumsum(share)
        start = np.concatenate([[0.0], cum])[self.ref_ptr[:-1]]
        self.ref_cum = src + cum - np.repeat(start, np.diff(self.ref_ptr))
        last = self.ref_ptr[1:][np.diff(self.ref_ptr) > 0] - 1
        self.ref_cum[last] = src[last] + 1.0
        self.track_any = (self.track_step >= 0) | (self.track_stage >= 0)
        self.columns = len(self.tracked_steps) + len(self.tracked_stages)
        self.track_bits = None
        if self.columns <= 64:
            bits = np.zeros(self.n, np.uint64)
            for lookup in (self.track_step, self.track_stage):
                on = lookup >= 0
                bits[on] |= np.left_shift(np.uint64(1), lookup[on].astype(np.uint64))
            self.track_bits = bits

    @classmethod
    def build(cls, chain: Chain, rates: sparse.spmatrix | None = None) -> "_Tables":
        n = chain.n
        q = (chain.rates if rates is None else rates).tocsr().copy()
        q.sum_duplicates()
        q.sort_indices()
        src = np.repeat(np.arange(n), np.diff(q.indptr))
        dst = q.indices.astype(np.intp)
        prob = q.data.astype(float)
        keep = prob > 0
        src, dst, prob = src[keep], dst[keep], prob[keep]
        delays = chain.delays.tocsr()
        delay = (np.asarray(delays[src, dst]).ravel().astype(float) if len(src)
                 else np.zeros(0))
        ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))]).astype(np.int64)
        edges = len(src)
        shift = _bin_shift(n)
        sampler = _Sampler.build(ptr, prob, np.arange(edges), edges, shift)
        entry_steps = np.flatnonzero(chain.entry > 0)
        entry_p = chain.entry[entry_steps] / chain.entry[entry_steps].sum()
        r = chain.referrals.tocsr().copy()
        r.eliminate_zeros()
        r.sort_indices()
        ref_src = np.repeat(np.arange(n), np.diff(r.indptr))
        ref_delay = (np.asarray(chain.referral_delays.tocsr()[ref_src, r.indices]).ravel()
                     if r.nnz else np.zeros(0))
        discount = chain.daily_discount
        horizon = chain.horizon_days
        # what can repeat
        pattern = sparse.csr_matrix((np.ones(edges), (src, dst)), shape=(n, n))
        count, labels = connected_components(pattern, directed=True, connection="strong")
        sizes = np.bincount(labels, minlength=count)
        cyclic = (sizes[labels] > 1) | np.isin(np.arange(n), src[src == dst])
        stages: list[str] = []
        stage_index = np.zeros(n, np.intp)
        for i, stage in enumerate(chain.stage_of):
            if stage not in stages:
                stages.append(stage)
            stage_index[i] = stages.index(stage)
        track_step = np.full(n, -1, np.intp)
        tracked_steps = [int(i) for i in np.flatnonzero(cyclic)]
        track_step[tracked_steps] = np.arange(len(tracked_steps))
        track_stage = np.full(n, -1, np.intp)
        tracked_stages = []
        for k, stage in enumerate(stages):
            inside = stage_index == k
            if set(labels[inside]) & set(labels[~inside]):
                track_stage[inside] = len(tracked_steps) + len(tracked_stages)
                tracked_stages.append(stage)
        return cls(
            chain=chain, n=n, edges=edges, col=dst, delay=delay, into_goal=chain.goal[dst],
            sampler=sampler, entry_steps=entry_steps.astype(np.intp), entry_p=entry_p,
            value=chain.value.astype(float), cost=chain.cost.astype(float),
            goal=chain.goal.astype(bool),
            log_discount=math.log(discount) if discount != 1.0 else 0.0,
            horizon=(horizon - _TIME_EPS) if horizon is not None else math.inf,
            ref_ptr=r.indptr.astype(np.intp), ref_col=r.indices.astype(np.intp),
            ref_amount=r.data.astype(float), ref_delay=ref_delay.astype(float),
            has_ref=np.diff(r.indptr) > 0,
            track_step=track_step, track_stage=track_stage,
            tracked=bool(tracked_steps or tracked_stages),
            tracked_steps=tracked_steps, tracked_stages=tracked_stages,
            stages=stages, stage_index=stage_index, edge_source=src,
        )


# ------------------------------------------------------------------ the walk

POOL = 1 << 18  # walkers advanced together (arrays of at most a few MB stay cheap)

_ENDED, _CUT, _CAPPED = 0, 1, 2  # how a walk stops: its end, the horizon, the safety cap


class _Sink:
    """Where `_walk` hands walks that stop, and referrals that are sent."""

    def __init__(self, tb: "_Tables", size: int) -> None:
        self.tb = tb
        self.size = size
        self.finished = 0
        self.capped = 0
        self.ref_sender: list[np.ndarray] = []
        self.ref_target: list[np.ndarray] = []
        self.ref_time: list[np.ndarray] = []

    def refer(self, who: np.ndarray, target: np.ndarray, time: np.ndarray) -> None:
        self.ref_sender.append(who)
        self.ref_target.append(target)
        self.ref_time.append(time)

    def referrals(self):
        if not self.ref_sender:
            return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
        return (np.concatenate(self.ref_sender), np.concatenate(self.ref_target),
                np.concatenate(self.ref_time))

    def finish(self, kind, sel, w, s, av, ac, cv, tc, seen) -> None:
        raise NotImplementedError


class _FirstSink(_Sink):
    """Entering prospects: per-step counts, and the per-prospect quantities
    behind the metrics, aggregated as walks stop (or kept, with `keep`)."""

    def __init__(self, tb: "_Tables", size: int, keep: bool) -> None:
        super().__init__(tb, size)
        n = tb.n
        self.keep = keep
        self.referred = np.zeros(size, np.int32)
        self.starts = np.zeros(n, np.int64)
        self.edge_counts = np.zeros(tb.edges, np.int64)
        self.ends = np.zeros(2 * n, np.int64)  # drop-off by step, then churn by step
        self.active = 0
        self.cost_sum = 0.0
        self.cost_sq = 0.0
        self.records: list[tuple] = []  # walks with anything but cost to report
        self.reach = np.zeros(tb.columns)
        self.counts = None
        if keep:
            self.value = np.zeros(size)
            self.cost = np.zeros(size)
            self.converted_at = np.full(size, np.nan)
            self.end_step = np.full(size, -1, np.int32)
            if tb.tracked:
                self.counts = np.zeros((tb.columns, size), np.int32)

    def finish(self, kind, sel, w, s, av, ac, cv, tc, seen) -> None:
        tb = self.tb
        who = w[sel]
        conv = cv[sel]
        value = av[sel] if av is not None else np.zeros(len(sel))
        cost = ac[sel] if ac is not None else np.zeros(len(sel))
        at = tc[sel]
        self.finished += len(sel)
        if kind == _ENDED:
            where = s[sel]
            self.ends += np.bincount(where + tb.n * conv, minlength=2 * tb.n)
        elif kind == _CUT:
            self.active += len(sel)
        else:
            self.capped += len(sel)
        if ac is not None:
            self.cost_sum += float(cost.sum())
            self.cost_sq += float(cost @ cost)
        refs = self.referred.take(who)
        note = conv | (value != 0) | (refs != 0)
        if kind == _CUT:
            note[:] = True
        pick = np.flatnonzero(note)
        if len(pick):
            self.records.append((value[pick], cost[pick], conv[pick], at[pick], refs[pick],
                                 np.full(len(pick), kind == _CUT)))
        if seen is not None:
            bits = seen[sel]
            bits = bits[np.flatnonzero(bits)]
            if len(bits):
                for c in range(tb.columns):
                    self.reach[c] += np.count_nonzero(bits & np.uint64(1 << c))
        if self.keep:
            self.value[who] = value
            self.cost[who] = cost
            self.converted_at[who] = at
            self.end_step[who] = where if kind == _ENDED else (-1 if kind == _CUT else -2)


class _CascadeSink(_Sink):
    """Referred prospects: totals per entering prospect of the cascade."""

    def __init__(self, tb: "_Tables", size: int, roots: np.ndarray) -> None:
        super().__init__(tb, size)
        self.roots = roots
        self.parts: list[tuple] = []

    def finish(self, kind, sel, w, s, av, ac, cv, tc, seen) -> None:
        who = w[sel]
        self.finished += len(sel)
        if kind == _CAPPED:
            self.capped += len(sel)
        self.parts.append((self.roots[who], cv[sel],
                           av[sel] if av is not None else np.zeros(len(sel)),
                           ac[sel] if ac is not None else np.zeros(len(sel))))

    def totals(self):
        if not self.parts:
            z = np.zeros(0)
            return np.zeros(0, np.intp), np.zeros(0, bool), z, z
        return tuple(np.concatenate(x) for x in zip(*self.parts))


def _walk(tb: "_Tables", rng: np.random.Generator, size: int, sink: _Sink, *,
          start: np.ndarray | None = None, t0: np.ndarray | None = None,
          track: bool = False, counts: bool = False, max_moves: int = MAX_MOVES,
          tick: Callable[[int], None] | None = None, pool: int = POOL) -> tuple[int, int]:
    """Walk `size` prospects until every walk has stopped; returns (transitions, moves).

    Walkers enter a pool of at most `pool` as others leave it: new prospects
    at their entry step at time 0 (grouped by entry step: walkers are
    exchangeable, so only their numbering differs from drawing each entry on
    its own), or at `start` steps at times `t0` (referred prospects). Every
    walker in the pool is at a counted visit (t < H); each loop pass books the
    visit, draws the next move for all of them at once, and hands the walks
    that stop to `sink`. With `track`, per-step counts and first visits of
    tracked steps (`seen` bits, or visit `counts` per walker) are kept."""
    n, E = tb.n, tb.edges
    discounting = tb.log_discount != 0.0
    has_delay = bool(tb.delay.any())
    cut = math.isfinite(tb.horizon)
    use_seen = track and tb.tracked and not counts and tb.track_bits is not None
    use_counts = track and tb.tracked and not use_seen
    if use_counts and getattr(sink, "counts", None) is None:
        sink.counts = np.zeros((tb.columns, size), np.int32)
    ref_counts = sink.referred if track else None
    w = np.zeros(0, np.intp)
    s = np.zeros(0, np.intp)
    t = np.zeros(0)
    cv = np.zeros(0, bool)
    tc = np.zeros(0)
    born = np.zeros(0, np.int64)
    av = np.zeros(0) if tb.has_value else None
    ac = np.zeros(0) if tb.has_cost else None
    seen = np.zeros(0, np.uint64) if use_seen else None
    occ = np.zeros(n)
    injected = 0
    transitions = moves = 0
    it = 0
    while True:
        m = len(w)
        if injected < size and m <= pool // 2:  # ---- new walkers join
            k = min(size - injected, pool - m)
            ids = np.arange(injected, injected + k, dtype=np.intp)
            if start is None:
                here_now = np.zeros(n, np.int64)
                here_now[tb.entry_steps] = rng.multinomial(k, tb.entry_p)
                s_new = np.repeat(np.arange(n), here_now)
                t_new = np.zeros(k)
            else:
                s_new = start[injected:injected + k].astype(np.intp)
                t_new = t0[injected:injected + k].astype(float)
                here_now = np.bincount(s_new, minlength=n)
            if track:
                sink.starts += here_now
            cv_new = tb.goal.take(s_new)
            w = np.concatenate([w, ids])
            s = np.concatenate([s, s_new])
            t = np.concatenate([t, t_new])
            cv = np.concatenate([cv, cv_new])
            tc = np.concatenate([tc, np.where(cv_new, t_new, np.nan)])  # entering at a goal
            born = np.concatenate([born, np.full(k, it, np.int64)])
            if av is not None:
                av = np.concatenate([av, np.zeros(k)])
            if ac is not None:
                ac = np.concatenate([ac, np.zeros(k)])
            if seen is not None:
                seen = np.concatenate([seen, np.zeros(k, np.uint64)])
            occ = occ + here_now
            injected += k
            m = len(w)
        if m == 0:
            break
        if born[0] <= it - max_moves:  # ---- safety cap: stop walks that go on and on
            j = int(np.searchsorted(born, it - max_moves, side="right"))
            sink.finish(_CAPPED, np.arange(j), w, s, av, ac, cv, tc, seen)
            w, s, t, cv, tc, born = w[j:], s[j:], t[j:], cv[j:], tc[j:], born[j:]
            av = av[j:] if av is not None else None
            ac = ac[j:] if ac is not None else None
            seen = seen[j:] if seen is not None else None
            occ = np.bincount(s, minlength=n).astype(float)
            m = len(w)
            if m == 0:
                continue
        here = occ > 0  # steps with a walker on them now
        # ---- the visit: money, first visits, referrals
        valued = tb.has_value and tb.value_steps[here].any()
        costed = tb.has_cost and tb.cost_steps[here].any()
        if valued or costed:
            disc = np.exp(t * tb.log_discount) if discounting else None
            if valued:
                av += _money(tb.value, s, disc)
            if costed:
                ac += _money(tb.cost, s, disc)
        if track and tb.tracked and tb.track_any[here].any():
            if seen is not None:
                seen |= tb.track_bits.take(s)
            else:
                _count_tracked(tb, sink.counts, w, s)
        if tb.has_refs and tb.has_ref[here].any():
            _refer(tb, occ, w, s, t, rng, sink, ref_counts)
        # ---- the next move
        code = tb.sampler.draw(s, rng)
        transitions += m
        going = code != E
        moving = int(np.count_nonzero(going))
        if moving < m:
            sink.finish(_ENDED, np.flatnonzero(~going), w, s, av, ac, cv, tc, seen)
            keep = np.flatnonzero(going)
            w, code, t, cv, tc, born = w[keep], code[keep], t[keep], cv[keep], tc[keep], born[keep]
            av = av[keep] if av is not None else None
            ac = ac[keep] if ac is not None else None
            seen = seen[keep] if seen is not None else None
        moves += moving
        s = tb.col.take(code)
        if has_delay and moving:
            t = t + tb.delay.take(code)
            if cut:
                late = t >= tb.horizon
                if late.any():  # arrives at or after H: active at horizon
                    sink.finish(_CUT, np.flatnonzero(late), w, s, av, ac, cv, tc, seen)
                    keep = np.flatnonzero(~late)
                    w, code, s, t, cv, tc, born = (w[keep], code[keep], s[keep], t[keep],
                                                   cv[keep], tc[keep], born[keep])
                    av = av[keep] if av is not None else None
                    ac = ac[keep] if ac is not None else None
                    seen = seen[keep] if seen is not None else None
        per_edge = np.bincount(code, minlength=E)
        occ = np.bincount(tb.col, weights=per_edge, minlength=n)
        if track:
            sink.edge_counts += per_edge
        if len(w) > np.count_nonzero(cv) and tb.goal[occ > 0].any():
            new = tb.into_goal.take(code)
            new &= ~cv
            if new.any():
                tc[new] = t[new]
                cv = cv | new
        if tick is not None:
            tick(sink.finished)
        it += 1
    return transitions, moves


def _money(amount: np.ndarray, s: np.ndarray, disc: np.ndarray | None) -> np.ndarray:
    out = amount.take(s)
    if disc is not None:
        out *= disc
    return out


def _count_tracked(tb: "_Tables", counts: np.ndarray, w: np.ndarray, s: np.ndarray) -> None:
    on = np.flatnonzero(tb.track_any.take(s))
    ws, ss = w[on], s[on]
    flat_counts = counts.reshape(-1)
    for lookup in (tb.track_step, tb.track_stage):
        column = lookup.take(ss)
        some = np.flatnonzero(column >= 0)
        if len(some):
            # one visit per walker per pass: no repeated index
            flat_counts[column[some] * counts.shape[1] + ws[some]] += 1


def _refer(tb: "_Tables", occ, w, s, t, rng, sink: _Sink, referred) -> None:
    """Referrals of this pass's visits: Poisson(k) new prospects per visit to
    a referral source `A => B k`.

    Drawn per source step: the m visits to A send Poisson(m * total k of A)
    prospects in all, each from a visitor picked uniformly at random and
    along an arrow picked in proportion to its k. That gives every visit
    independent Poisson(k) counts per arrow (Poisson splitting) at a cost
    that grows with the referrals, not with the visits."""
    m = len(s)
    for a in np.flatnonzero(tb.has_ref & (occ > 0)):
        visitors = int(round(occ[a]))
        k = int(rng.poisson(tb.ref_total[a] * visitors))
        if k == 0:
            continue
        pick = rng.integers(0, visitors, size=k)
        pos = pick if visitors == m else np.flatnonzero(s == a)[pick]
        lo, hi = tb.ref_ptr[a], tb.ref_ptr[a + 1]
        if hi - lo == 1:
            edge = np.full(k, lo, np.intp)
        else:
            edge = np.searchsorted(tb.ref_cum, a + rng.random(k), side="right")
        arrive = t[pos] + tb.ref_delay[edge]
        counted = np.flatnonzero(arrive < tb.horizon)  # arriving at or after H does not count
        if not len(counted):
            continue
        who = w[pos[counted]]
        if referred is not None:
            np.add.at(referred, who, 1)
        sink.refer(who, tb.ref_col[edge[counted]], arrive[counted])


# ------------------------------------------------------------------ one persona, many walks

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
            "visits": {s: float(math.sqrt(max(v, 0.0) / n))
                       for s, v in zip(self.steps, self.visits_var)},
        }


def simulate_chain(chain: Chain, prospects: int, rng: np.random.Generator,
                   rates_override: sparse.spmatrix | None = None, *,
                   max_moves: int = MAX_MOVES,
                   cascade_limit: int | None = None) -> tuple[Metrics, Walks]:
    """Monte Carlo metrics of one persona and the per-prospect results.

    `rates_override` replaces `chain.rates` (same steps; delays are looked up
    in `chain.delays`); the rates are used as given (rows must sum to <= 1).
    """
    tables = _Tables.build(chain, rates_override)
    tally, walks = _run(tables, prospects, rng, max_moves=max_moves, keep=True,
                        cascade_limit=cascade_limit)
    return tally.metrics(), walks


def _run(tb: "_Tables", prospects: int, rng: np.random.Generator, *, max_moves: int,
         keep: bool, cascade_limit: int | None = None,
         progress: Callable[[int], None] | None = None) -> tuple["_Tally", Walks | None]:
    """Walk `prospects` prospects of one persona, then their referral cascade."""
    n = tb.n
    first = _FirstSink(tb, prospects, keep)
    done = [0]

    def tick(finished: int) -> None:
        if finished > done[0]:
            progress(finished - done[0])
            done[0] = finished

    transitions, moves = _walk(tb, rng, prospects, first, track=True, counts=keep,
                               max_moves=max_moves, tick=tick if progress else None)
    capped_walks = first.capped
    # ---- the referral cascade, generation by generation (clock of the first prospect)
    limit = CASCADE_FACTOR * prospects if cascade_limit is None else cascade_limit
    total = 0
    cascade_capped = False
    root, target, when = first.referrals()
    parts = []
    while len(root):
        if total + len(root) > limit:
            cascade_capped = True
            root, target, when = root[: limit - total], target[: limit - total], when[: limit - total]
            if not len(root):
                break
        total += len(root)
        sink = _CascadeSink(tb, len(root), root)
        tr, mv = _walk(tb, rng, len(root), sink, start=target, t0=when, max_moves=max_moves)
        transitions += tr
        moves += mv
        capped_walks += sink.capped
        parts.append(sink.totals())
        sender, target, when = sink.referrals()
        root = root[sender]
    r_root, r_conv, r_value, r_cost = (tuple(np.concatenate(x) for x in zip(*parts)) if parts
                                       else (np.zeros(0, np.intp), np.zeros(0, bool),
                                             np.zeros(0), np.zeros(0)))
    # ---- per-prospect moments: every quantity but cost is 0 off the records
    if first.records:
        value, cost, conv, at, refs, active = (np.concatenate(x) for x in zip(*first.records))
    else:
        value = cost = at = np.zeros(0)
        conv = active = np.zeros(0, bool)
        refs = np.zeros(0, np.int32)
    x = np.zeros((len(_LINEAR), len(value)))
    x[0] = conv
    x[1] = value
    x[2] = cost
    x[3] = value * conv
    x[4] = np.where(conv, at, 0.0)
    x[5] = refs
    x[6] = active
    sums = x.sum(axis=1)
    cross = x @ x.T
    sums[2] = first.cost_sum
    cross[2, 2] = first.cost_sq
    # ---- visits and reach
    arrivals = (np.bincount(tb.col, weights=first.edge_counts, minlength=n) if tb.edges
                else np.zeros(n))
    visits = first.starts + arrivals
    size = max(prospects, 1)
    mean = visits / size
    var = mean * (1.0 - mean)  # outside cycles a step is visited at most once
    reach_count = visits.astype(float)
    seen_count = first.reach.copy()
    if first.counts is not None:
        for c, row in enumerate(first.counts):
            nz = row[np.flatnonzero(row)].astype(np.float64)
            seen_count[c] = len(nz)
            if c < len(tb.tracked_steps):
                i = tb.tracked_steps[c]
                var[i] = (nz @ nz) / size - (nz.sum() / size) ** 2
    elif tb.tracked_steps:
        var[tb.tracked_steps] = np.nan  # needs per-walker visit counts (keep)
    for c, i in enumerate(tb.tracked_steps):
        reach_count[i] = seen_count[c]
    if prospects > 1:
        var *= prospects / (prospects - 1)
    # stage reach: entries into the stage, or first visits for re-enterable stages
    entering = tb.stage_index[tb.edge_source] != tb.stage_index[tb.col]
    stage_entries = (np.bincount(tb.stage_index, weights=first.starts, minlength=len(tb.stages))
                     + np.bincount(tb.stage_index[tb.col[entering]],
                                   weights=first.edge_counts[entering], minlength=len(tb.stages)))
    for c, stage in enumerate(tb.tracked_stages):
        stage_entries[tb.stages.index(stage)] = seen_count[len(tb.tracked_steps) + c]
    tally = _Tally(
        tb.chain, prospects, sums, cross,
        visits=visits.astype(float), reach_count=reach_count,
        dropoff=first.ends[:n], churn=first.ends[n:],
        stage_reach_count=stage_entries,
        cohort=np.array([prospects + len(r_root), float(sums[0] + r_conv.sum()),
                         float(sums[1] + r_value.sum()), float(sums[2] + r_cost.sum())]),
        transitions=transitions, moves=moves, capped=capped_walks,
        cascade_capped=cascade_capped,
        converters=np.column_stack([value[conv], cost[conv]]))
    walks = None
    if keep:
        conv_all = ~np.isnan(first.converted_at)
        c_prospects = np.ones(prospects)
        c_customers = conv_all.astype(float)
        c_value = first.value.copy()
        c_cost = first.cost.copy()
        if len(r_root):
            np.add.at(c_prospects, r_root, 1.0)
            np.add.at(c_customers, r_root, r_conv.astype(float))
            np.add.at(c_value, r_root, r_value)
            np.add.at(c_cost, r_root, r_cost)
        walks = Walks(list(tb.chain.steps), first.value, first.cost, first.converted_at,
                      first.referred, first.end_step, c_prospects, c_customers, c_value, c_cost,
                      mean, var, transitions, moves, capped_walks, cascade_capped)
    return tally, walks


# ------------------------------------------------------------------ sums that add up

@dataclass
class _Tally:
    """Sums over the prospects of one persona (mergeable across draws)."""

    chain: Chain
    n: int
    sums: np.ndarray  # of _LINEAR per prospect
    cross: np.ndarray  # sum of outer products of _LINEAR per prospect
    visits: np.ndarray
    reach_count: np.ndarray
    dropoff: np.ndarray
    churn: np.ndarray
    stage_reach_count: np.ndarray
    cohort: np.ndarray  # prospects, customers, revenue, cost (sums)
    transitions: int
    moves: int
    capped: int
    cascade_capped: bool
    converters: np.ndarray  # [converter, (value, cost)]

    def merge(self, other: "_Tally") -> "_Tally":
        return _Tally(
            self.chain, self.n + other.n, self.sums + other.sums, self.cross + other.cross,
            self.visits + other.visits, self.reach_count + other.reach_count,
            self.dropoff + other.dropoff, self.churn + other.churn,
            self.stage_reach_count + other.stage_reach_count, self.cohort + other.cohort,
            self.transitions + other.transitions, self.moves + other.moves,
            self.capped + other.capped, self.cascade_capped or other.cascade_capped,
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
    total = float(weight @ amount)
    if total == 0:
        return None
    order = np.argsort(-score, kind="stable")
    a, w = amount[order], weight[order]
    cw = np.cumsum(w) / w.sum()
    k = int(np.searchsorted(cw, fraction, side="left"))
    k = min(k, len(a) - 1)
    before = float(cw[k - 1]) if k else 0.0
    part = float(w[:k] @ a[:k])
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
        value, cost, weight = self._converters.T
        amount = value if by == "revenue" else value - cost
        if by not in ("revenue", "profit"):
            raise ValueError("by must be 'revenue' or 'profit'")
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
    from scipy.stats import beta as beta_dist

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
                    value = float(beta_dist.ppf(u, amount.alpha, amount.beta))
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


def monte_carlo(compiled, scenario: str | None = None, prospects: int = 100_000,
                draws: int = 20, seed: int = 20261123, persona: str | None = None,
                progress: Callable[[int, int], None] | None = None, *,
                max_moves: int = MAX_MOVES,
                concentration: float = 0.08) -> MonteCarloReport:
    """Monte Carlo metrics of a journey (raises JourneyError on errors).

    `prospects` is the total number of entering prospects simulated. With
    uncertain rates they are split evenly over `draws` draws (each draw
    samples every uncertain rate once); without any, one draw of all of
    them. In each draw the prospects are split over the personas by share
    (only `persona` when given) and the personas blended as `results.blend`
    does. `uncertainty` gives, for each blended headline metric, the
    standard error of the reported mean and p05/p50/p95 across draws (these
    include each draw's own sampling noise); with a single draw, the
    standard error comes from the per-prospect samples (delta method for
    ratios) and p05/p95 are mean -/+ 1.645 standard errors. `progress(done,
    total)` is called as prospects are walked.
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
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, prospects)

    pooled: dict[str, _Tally] = {}
    per_draw_headline: list[dict[str, float | None]] = []
    converters = []
    rescaled_draws = 0
    rescaled_steps: dict[str, dict[str, int]] = {}
    for d in range(k):
        if uncertain:
            draw_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d, 0)))
            rates, rescaled = _sample_rates(chains, draw_rng)
            if any(rescaled.values()):
                rescaled_draws += 1
            for p, rows in rescaled.items():
                for i in rows:
                    counts = rescaled_steps.setdefault(p, {})
                    counts[chains[p].steps[i]] = counts.get(chains[p].steps[i], 0) + 1
        else:
            rates = {p: None for p in run}
        split = _split(per_draw[d], [mix[p] for p in run])
        tallies: dict[str, _Tally] = {}
        for p, count in zip(run, split):
            count = max(count, 1)
            rng = np.random.default_rng(
                np.random.SeedSequence(seed, spawn_key=(d, 1 + everyone.index(p))))
            tb = _Tables.build(chains[p], rates[p])
            tally, _ = _run(tb, count, rng, max_moves=max_moves, keep=False, progress=tick)
            tallies[p] = tally
            pooled[p] = tally if p not in pooled else pooled[p].merge(tally)
            w = mix[p] / (count * k)
            c = tally.converters
            converters.append(np.column_stack([c, np.full(len(c), w)]))
        mean, _ = _blended_linear(tallies, mix)
        per_draw_headline.append(_headline(mean))
    personas = {p: t.metrics() for p, t in pooled.items()}
    blended = blend(personas, mix) if len(run) > 1 else personas[run[0]]
    uncertainty = _uncertainty(pooled, mix, per_draw_headline, k)
    conv = np.concatenate(converters) if converters else np.zeros((0, 3))
    report = MonteCarloReport(
        journey=compiled.journey.title, scenario=scenario, method="monte_carlo",
        currency=compiled.journey.currency, shares=shares, personas=personas, blended=blended,
        prospects=prospects, draws=k, seed=seed, uncertainty=uncertainty,
        rescaled_draws=rescaled_draws, rescaled_steps=rescaled_steps,
        transitions=sum(t.transitions for t in pooled.values()),
        moves=sum(t.moves for t in pooled.values()),
        capped_walks=sum(t.capped for t in pooled.values()),
        cascade_capped=any(t.cascade_capped for t in pooled.values()),
        concentration_fraction=concentration, _converters=conv)
    if len(conv):
        qs = _weighted_quantiles(conv[:, 0], conv[:, 2], (0.05, 0.25, 0.5, 0.75, 0.95))
        report.clv_distribution = dict(zip(("p05", "p25", "p50", "p75", "p95"), qs))
        report.clv_distribution["mean"] = float(conv[:, 0] @ conv[:, 2] / conv[:, 2].sum())
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

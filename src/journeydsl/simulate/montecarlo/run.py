"""A run: a set of pairs walked together in one pool, and their sums.

Walking every persona and every draw of the uncertain rates in one pool
shares the long tail of the renewal loops (a few dozen passes) among them
all, instead of paying it once per pair. After the walk, each pair's sums
are turned into a `Tally`; `simulate_chain` keeps per-prospect arrays too,
for the tests' standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..chain import Chain
from ..results import Metrics
from .books import Books, dot
from .ledger import Ledger
from .bins import Pair, Tables
from .record import Record
from .tally import LINEAR, Tally
from .walk import MAX_MOVES, walk

CASCADE_FACTOR = 20  # at most this many referred prospects per entering prospect, in all
COUNT_CELLS = 1 << 23  # per-walker visit counts kept at once (walkers x tracked steps)

@dataclass
class Walks:
    """Per-prospect results of `simulate_chain` (arrays of length `prospects`,
    grouped by entry step).

    `value` and `cost` are each prospect's discounted money (before the
    horizon), `margin_value` its discounted margin x value and
    `acquisition` its discounted cost before its first goal visit (all of
    it if it never converts), `converted_at` the time of its first goal (nan if none),
    `referred` the prospects it referred directly, `end_step` the step
    index where its walk ended (-1 active at horizon). `cohort_*` are the totals of each entering prospect's whole
    referral cascade, itself included (as `Metrics.cohort` counts them).
    `visits_var` is the variance of one prospect's
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
    visits_var: np.ndarray
    transitions: int = 0  # draws of a next move (entering prospects and the cascade)
    moves: int = 0  # of those, moves to another step
    cascade_capped: bool = False
    margin_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    acquisition: np.ndarray = field(default_factory=lambda: np.zeros(0))

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
class Stats:
    transitions: int
    moves: int
    cascade_capped: bool
    ledgers: list[tuple[int, Ledger]] = field(default_factory=list)  # (first pair, its ledger)


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
    tallies, _, walks = run_pairs([Pair(chain, rates_override, prospects)], rng,
                                  max_moves=max_moves, keep=True, cascade_limit=cascade_limit)
    return tallies[0].metrics(), walks


def _keep_freed_memory() -> None:
    """Free one 30 MB block, so that glibc's malloc keeps freed arrays for reuse.

    The walk allocates arrays of a few MB every pass. glibc hands those out
    with mmap and gives them back on free, so that each new one is
    page-faulted in again (a few microseconds a page in a virtual machine:
    a quarter of the run time). Freeing a large block raises its mmap and
    trim thresholds to that size (its own heuristic, which any large free
    triggers, once): from then on freed arrays are reused from the heap.
    Elsewhere this costs one untouched allocation."""
    block = np.empty(30 << 20, np.uint8)
    del block


def run_pairs(pairs: list[Pair], rng: np.random.Generator, *, max_moves: int, keep: bool,
              cascade_limit: int | None = None, progress: Callable[[int], None] | None = None,
              record: Record = Record.ALL):
    """Walk every pair's prospects and their cascades in one pool; returns
    (a Tally per pair, Stats, Walks of pair 0 with `keep`), recording the
    families of `record` (record.py)."""
    _keep_freed_memory()
    eng = Tables(pairs)
    limits = [CASCADE_FACTOR * p.prospects if cascade_limit is None else cascade_limit
              for p in pairs]
    books = Books(eng, keep, limits, record)
    # the batches' partition (ledger.py): random each run, the walks' stream untouched
    seeds = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(seeds, np.random.SeedSequence):
        books.ledger.salt(int(seeds.generate_state(1, np.uint64)[0]))
    done = [0]

    def tick(finished: int) -> None:
        if finished > done[0]:
            assert progress is not None  # tick is passed on only with a progress callback
            progress(finished - done[0])
            done[0] = finished

    transitions, moves, visit_sum, visit_sq = _walk_chunks(
        eng, rng, books, keep, max_moves, tick if progress else None)
    books.close()
    tallies = _tallies(eng, books)
    stats = Stats(transitions, moves, bool(books.cascade_capped.any()), [(0, books.ledger)])
    walks = _walks(eng, books, tallies[0], visit_sum[0], visit_sq[0], stats) if keep else None
    return tallies, stats, walks


def _walk_chunks(eng: Tables, rng, books: Books, keep: bool, max_moves: int, tick):
    """Walk all prospects; returns (transitions, moves, visit sums, visit sums
    of squares per pair and tracked column).

    Per-walker visit counts of tracked steps (kept for simulate_chain, or
    when there are too many tracked steps for first-visit bits) take
    columns x walkers cells: the prospects are walked in chunks that keep
    that bounded."""
    P, N0 = eng.P, books.N0
    counting = eng.columns > 0 and (keep or eng.step_bits is None)
    chunk = max(1 << 12, COUNT_CELLS // max(eng.columns, 1)) if counting else max(N0, 1)
    visit_sum = np.zeros((P, eng.columns))
    visit_sq = np.zeros((P, eng.columns))
    transitions = moves = 0
    for lo in range(0, N0, chunk):
        hi = min(N0, lo + chunk)
        if counting:
            # int64: a stay in a loop near 100% can be billions of visits
            books.counts = np.zeros((eng.columns, hi - lo), np.int64)
        tr, mv = walk(eng, rng, books, lo=lo, hi=hi, counts=counting, max_moves=max_moves,
                      tick=tick)
        transitions += tr
        moves += mv
        if not counting:
            continue
        counts = books.counts
        assert counts is not None  # set above for this chunk
        for i in range(P):  # the pairs' blocks within this chunk
            a, b = max(lo, int(books.block[i])), min(hi, int(books.block[i + 1]))
            for c, row in enumerate(counts[:, a - lo:b - lo] if a < b else ()):
                nz = row[row.nonzero()[0]].astype(np.float64)
                visit_sum[i, c] += nz.sum()
                visit_sq[i, c] += dot(nz, nz)
                books.reach[i, c] += len(nz)
        books.counts = None
    return transitions, moves, visit_sum, visit_sq


def _tallies(eng: Tables, books: Books) -> list[Tally]:
    """Each pair's sums. Only the cross moments the headline metrics need
    are kept: referrals and active-at-horizon alone, first-goal times with
    conversion only."""
    n = eng.n
    sent_by, sent_count = books.senders()
    sent_pair = np.searchsorted(books.block, sent_by, side="right") - 1
    c_pair, _, c_conv, c_money = books.cascade()
    if books.records:
        r_pair, r_value, r_cost, r_margin, r_acq, r_conv, r_weight = (
            np.concatenate(x) for x in zip(*books.records))
    else:
        r_pair = np.zeros(0, np.intp)
        r_value = r_cost = r_margin = r_acq = r_weight = np.zeros(0)
        r_conv = np.zeros(0, bool)
    at = {name: k for k, name in enumerate(LINEAR)}
    # per walk: conversion, revenue, cost, profit, acquisition cost and the
    # net margin of a converting walk (clv's numerator), from its money
    per_walk = [at[k] for k in ("conversion", "revenue", "cost", "profit", "acquisition_cost",
                                "profit_converted")]
    # a walk with no value that never converts (not recorded one by one) is
    # its cost C times (0, 0, 1, -1, 1, 0): all it spends is acquisition
    silent = np.array([0.0, 0.0, 1.0, -1.0, 1.0, 0.0])
    time, viral, active = at["time_converted"], at["viral_coefficient"], at["active_at_horizon"]
    # each pair's rows as one slice of a stable order by pair (the rows in
    # their order, as a mask per pair picks them, without P passes over all)
    records = _by_pair(r_pair, eng.P, r_value, r_cost, r_conv, r_weight, r_margin, r_acq)
    own_sent = _by_pair(sent_pair, eng.P, sent_count)
    cascades = _by_pair(c_pair, eng.P, c_conv, c_money)
    tallies = []
    for i, pair in enumerate(eng.pairs):
        src, dst = eng.moves[i][0], eng.moves[i][1]
        value, cost, conv, weight, margin_value, acquisition = records[i]
        x = np.vstack([conv, value, cost, margin_value - cost, acquisition,
                       conv * (margin_value - cost + acquisition)]).astype(float)
        rest = books.cost_sum[i] - dot(cost, weight)  # cost of the walks not recorded
        rest_sq = books.cost_sq[i] - float(np.einsum("n,n,n->", cost, cost, weight))
        sums = np.zeros(len(LINEAR))
        cross = np.zeros((len(LINEAR), len(LINEAR)))
        xw = x * weight
        sums[per_walk] = xw.sum(axis=1) + rest * silent
        # (two operands: numpy's contiguous dot loops, twice as fast as three)
        cross[np.ix_(per_walk, per_walk)] = (np.einsum("in,jn->ij", xw, x)
                                             + rest_sq * np.outer(silent, silent))
        sums[time], cross[time, time] = books.time_sum[i], books.time_sq[i]
        cross[at["conversion"], time] = cross[time, at["conversion"]] = books.time_sum[i]
        own = own_sent[i][0].astype(float)
        sums[viral], cross[viral, viral] = own.sum(), dot(own, own)
        sums[active] = cross[active, active] = float(books.active[i])
        # ---- visits and reach
        edge_counts = books.edge_counts[i, :len(src)]
        visits = books.starts[i] + np.bincount(dst, weights=edge_counts, minlength=n)
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
        their_conv, their_money = cascades[i]
        cohort = np.array([pair.prospects + books.queued[i],
                           sums[at["conversion"]] + float(their_conv.sum()),
                           sums[at["revenue"]] + float(their_money.real.sum()),
                           sums[at["cost"]] + float(their_money.imag.sum())])
        tallies.append(Tally(
            pair.chain, pair.prospects, sums, cross, visits=visits.astype(float),
            reach_count=reach_count, dropoff=books.ends[i, :n].astype(float),
            churn=books.ends[i, n:].astype(float), stage_reach_count=stage_entries,
            cohort=cohort, converters=np.column_stack([
                value[conv], cost[conv], weight[conv],
                (margin_value - cost + acquisition)[conv]]),
            earners=np.column_stack([value[value != 0], weight[value != 0]])))
    return tallies


def _by_pair(pair: np.ndarray, P: int, *columns: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per pair 0..P-1, its rows of `columns` (`pair`: each row's), in
    their order: the same arrays as `column[pair == i]`, from one stable
    sort instead of a mask per pair."""
    order = np.argsort(pair, kind="stable")
    bounds = np.searchsorted(pair.take(order), np.arange(P + 1))
    grouped = [c.take(order) for c in columns]
    return [tuple(c[bounds[i]:bounds[i + 1]] for c in grouped) for i in range(P)]


def _walks(eng: Tables, books: Books, tally: Tally, visit_sum, visit_sq, stats: Stats) -> Walks:
    """Per-prospect results of the one pair walked with `keep`."""
    pair = eng.pairs[0]
    size = max(pair.prospects, 1)
    mean = tally.visits / size
    var = mean * (1.0 - mean)  # outside cycles a step is visited at most once
    for c, step in enumerate(eng.tracked_steps):
        var[step] = visit_sq[c] / size - (visit_sum[c] / size) ** 2
    if pair.prospects > 1:
        var *= pair.prospects / (pair.prospects - 1)
    referred = np.zeros(pair.prospects, np.int64)
    sent_by, sent_count = books.senders()
    referred[sent_by] = sent_count
    _, c_root, c_conv, c_money = books.cascade()
    c_prospects = np.ones(pair.prospects)
    c_customers = (~np.isnan(books.converted_at)).astype(float)
    c_value = books.value.copy()
    c_cost = books.cost.copy()
    if len(c_root):
        np.add.at(c_prospects, c_root, 1.0)
        np.add.at(c_customers, c_root, c_conv.astype(float))
        np.add.at(c_value, c_root, c_money.real)
        np.add.at(c_cost, c_root, c_money.imag)
    return Walks(list(pair.chain.steps), books.value, books.cost, books.converted_at, referred,
                 books.end_step, c_prospects, c_customers, c_value, c_cost, var,
                 stats.transitions, stats.moves, stats.cascade_capped,
                 books.margin_value, books.acquisition)

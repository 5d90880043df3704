"""The numeric form of one persona's journey: arrays the engines share.

Steps are indexed in declaration order. Rates, delays and referral amounts
are scipy sparse matrices (row = source step). Uncertain rates keep their
distribution so the Monte Carlo engine can sample them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse


from ..language.compiled import CompiledJourney
from ..linalg import strong_components
from ..language.model import PERIOD_DAYS, Amount


@dataclass(frozen=True)
class Chain:
    persona: str
    steps: list[str]
    stage_of: list[str]  # stage id of each step
    rates: sparse.csr_matrix  # rates[s, t]: P(move s -> t) (means of uncertain rates)
    delays: sparse.csr_matrix  # delays[s, t]: days the move takes (same pattern as rates)
    value: np.ndarray  # revenue per visit
    cost: np.ndarray  # spend per visit
    goal: np.ndarray  # bool per step
    entry: np.ndarray  # where a new prospect starts (sums to 1)
    referrals: sparse.csr_matrix  # referrals[a, b]: prospects sent into b per visit to a
    referral_delays: sparse.csr_matrix  # days until they arrive
    daily_discount: float  # multiply money by this per day elapsed (1 = no discount)
    horizon_days: float | None
    discounted: sparse.csr_matrix  # rates * daily_discount ** delays
    rate_delay: sparse.csr_matrix  # rates * delays (for expected times)
    referrals_discounted: sparse.csr_matrix  # referrals * daily_discount ** referral delays
    uncertain: dict[tuple[int, int], Amount] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def stop(self) -> np.ndarray:
        """Probability that the walk ends at each step (1 - outgoing rates)."""
        return np.clip(1.0 - np.asarray(self.rates.sum(axis=1)).ravel(), 0.0, 1.0)


def daily_discount(journey: CompiledJourney) -> float:
    """Per-day factor: an amount at day t counts amount / (1 + d) ** (t / P)."""
    if not journey.discount:
        return 1.0
    rate, period = journey.discount
    return (1.0 + rate) ** (-1.0 / PERIOD_DAYS[period])


def build_chain(journey: CompiledJourney, persona: str) -> Chain:
    """The chain of one persona: array operations on the journey's numbers
    by step number (`journey.numbers`)."""
    steps = [s.id for s in journey.steps]
    n = len(steps)
    index = journey.numbers

    rates_all = np.array(index.rates[persona], float)
    kept = rates_all > 0
    rows = np.array(index.move_from, np.int64)[kept]
    cols = np.array(index.move_to, np.int64)[kept]
    rates, delays = rates_all[kept], np.array(index.delays, float)[kept]
    amounts_all = np.array(index.amounts[persona], float)
    sent = amounts_all > 0
    ref_rows = np.array(index.sent_from, np.int64)[sent]
    ref_cols = np.array(index.sent_to, np.int64)[sent]
    amounts, ref_delays = amounts_all[sent], np.array(index.sent_delays, float)[sent]
    uncertain: dict[tuple[int, int], Amount] = {}
    for k, specs in index.uncertain:  # the few uncertain rates, in edge order
        if persona in specs and kept[k]:
            uncertain[(index.move_from[k], index.move_to[k])] = specs[persona]

    factor = daily_discount(journey)
    rate_m, delay_m, disc_m, rd_m = _matrices(
        n, rows, cols, rates, delays, rates * factor ** delays, rates * delays)
    ref_m, ref_delay_m, ref_disc_m = _matrices(
        n, ref_rows, ref_cols, amounts, ref_delays, amounts * factor ** ref_delays)
    return Chain(
        persona=persona,
        steps=steps,
        stage_of=list(index.stage_of),
        rates=rate_m,
        delays=delay_m,
        value=np.array(index.value[persona], float),
        cost=np.array(index.cost[persona], float),
        goal=np.array(index.goal, bool),
        entry=np.array(index.entry[persona], float),
        referrals=ref_m,
        referral_delays=ref_delay_m,
        daily_discount=factor,
        horizon_days=journey.horizon_days,
        discounted=disc_m,
        rate_delay=rd_m,
        referrals_discounted=ref_disc_m,
        uncertain=uncertain,
    )


def _matrices(n: int, rows, cols, *values: np.ndarray) -> list[sparse.csr_matrix]:
    """CSR matrices sharing one pattern (row = source), one per value array.

    (A graph has at most one edge per pair: no duplicates to sum. Entries
    that are zero stay stored, so every matrix has the rates' pattern.)"""
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    order = np.lexsort((c, r))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if len(r) < 2**31 and n < 2**31 else np.int64
    indices = c[order].astype(idx_dtype)
    indptr = indptr.astype(idx_dtype)
    return [sparse.csr_matrix((np.asarray(v, float)[order], indices, indptr), shape=(n, n))
            for v in values]


def stage_index(chain: Chain) -> tuple[list[str], np.ndarray]:
    """The stages in order of first appearance, and each step's stage number."""
    names = list(dict.fromkeys(chain.stage_of))
    number = {s: i for i, s in enumerate(names)}
    return names, np.fromiter(map(number.__getitem__, chain.stage_of), np.int64, count=chain.n)


def reentrant_stages(rows: np.ndarray, cols: np.ndarray, st: np.ndarray, count: int,
                     cut: np.ndarray | None = None) -> np.ndarray:
    """Per stage: whether a walk might leave it and come back later.

    Conservative and complete: a walk that leaves stage S and returns
    passes a cycle of the stage graph (an edge S -> T when some step of S
    moves to some step of T) through S, so stages on no such cycle are
    entered at most once. `cut`: steps whose outgoing moves are ignored
    (walks stop there)."""
    cross = st[rows] != st[cols]
    if cut is not None:
        cross &= ~cut[rows]
    if not cross.any():
        return np.zeros(count, bool)
    graph = sparse.csr_matrix((np.ones(int(cross.sum())), (st[rows[cross]], st[cols[cross]])),
                              shape=(count, count))
    k, labels = strong_components(graph)
    return np.bincount(labels, minlength=k)[labels] > 1


def or_none(values: np.ndarray) -> list[float | None]:
    """The values as Python floats, None where NaN (a reach not computed)."""
    out = values.tolist()
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out

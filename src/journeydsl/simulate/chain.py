"""The numeric form of one persona's journey: arrays the engines share.

Steps are indexed in declaration order. The moves and referrals are COO
arrays sorted by (source, target), one entry per pair with a positive rate
(or amount): `move_row`, `move_col`, `move_rate`, `move_delay` (days) and
`ref_*` likewise. A `per customer` rate is held at its mean; `per_customer`
names it, and simulate/draws.py makes the chain of any one draw. The engines work on these with numpy alone, so a small
journey is simulated without importing scipy; the scipy sparse matrices
(`rates`, `delays`, `discounted`, ...) that the Monte Carlo engine, levers
and attribution use are built from them on first use. Uncertain rates keep
their distribution so the Monte Carlo engine can sample them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ..language.compiled import CompiledJourney
from ..language.model import PERIOD_DAYS, Amount
from ..linalg import components

if TYPE_CHECKING:
    from scipy import sparse


@dataclass(frozen=True)
class Chain:
    persona: str
    steps: list[str]
    stage_of: list[str]  # stage id of each step
    move_row: np.ndarray  # source step of each move (int64), sorted by (row, col)
    move_col: np.ndarray  # target step
    move_rate: np.ndarray  # P(move), the mean of an uncertain rate; > 0
    move_delay: np.ndarray  # days the move takes
    value: np.ndarray  # revenue per visit
    cost: np.ndarray  # spend per visit
    margin: np.ndarray  # gross margin on each step's value (a rate)
    goal: np.ndarray  # bool per step
    entry: np.ndarray  # where a new prospect starts (sums to 1)
    ref_row: np.ndarray  # referrals: each visit to ref_row sends ref_amount prospects
    ref_col: np.ndarray  # into ref_col,
    ref_amount: np.ndarray
    ref_delay: np.ndarray  # after ref_delay days
    daily_discount: float  # multiply money by this per day elapsed (1 = no discount)
    horizon_days: float | None
    uncertain: dict[tuple[int, int], Amount] = field(default_factory=dict)
    #: `beta(a, b) per customer`: the move (source, target) whose rate each
    #: prospect draws for itself (at most one, JD314); move_rate holds its mean.
    per_customer: dict[tuple[int, int], Amount] = field(default_factory=dict)
    # money by channel: the channels ("" for none) and each step's number in it
    channels: tuple[str, ...] = ("",)
    channel_of: np.ndarray | None = None  # None: no step has a channel

    @property
    def n(self) -> int:
        return len(self.steps)

    @cached_property
    def profit(self) -> np.ndarray:
        """Profit per visit: margin x value - cost."""
        return self.margin * self.value - self.cost

    @cached_property
    def stop(self) -> np.ndarray:
        """Probability that the walk ends at each step (1 - outgoing rates)."""
        out = np.bincount(self.move_row, weights=self.move_rate, minlength=self.n)
        return np.clip(1.0 - out, 0.0, 1.0)

    @cached_property
    def move_discounted(self) -> np.ndarray:
        """Each move's rate times the discount over its delay."""
        return self.move_rate * self.daily_discount ** self.move_delay

    @cached_property
    def ref_discounted(self) -> np.ndarray:
        return self.ref_amount * self.daily_discount ** self.ref_delay

    # ------------------------------------------------------------ scipy forms
    @cached_property
    def rates(self) -> sparse.csr_matrix:
        """rates[s, t]: P(move s -> t)."""
        return _matrix(self.n, self.move_row, self.move_col, self.move_rate)

    @cached_property
    def delays(self) -> sparse.csr_matrix:
        """delays[s, t]: days the move takes (same pattern as rates)."""
        return _matrix(self.n, self.move_row, self.move_col, self.move_delay)

    @cached_property
    def discounted(self) -> sparse.csr_matrix:
        """rates * daily_discount ** delays."""
        return _matrix(self.n, self.move_row, self.move_col, self.move_discounted)

    @cached_property
    def rate_delay(self) -> sparse.csr_matrix:
        """rates * delays (for expected times)."""
        return _matrix(self.n, self.move_row, self.move_col, self.move_rate * self.move_delay)

    @cached_property
    def referrals(self) -> sparse.csr_matrix:
        """referrals[a, b]: prospects sent into b per visit to a."""
        return _matrix(self.n, self.ref_row, self.ref_col, self.ref_amount)

    @cached_property
    def referral_delays(self) -> sparse.csr_matrix:
        return _matrix(self.n, self.ref_row, self.ref_col, self.ref_delay)

    @cached_property
    def referrals_discounted(self) -> sparse.csr_matrix:
        return _matrix(self.n, self.ref_row, self.ref_col, self.ref_discounted)

    def with_moves(self, row: np.ndarray, col: np.ndarray, rate: np.ndarray,
                   delay: np.ndarray, goal: np.ndarray | None = None) -> Chain:
        """The chain with other moves (and goals): a what-if for levers and
        attribution. Entries are sorted and zero rates dropped, as built (a
        negative rate is kept: a finite difference may step below zero)."""
        keep = rate != 0
        row, col, rate, delay = row[keep], col[keep], rate[keep], delay[keep]
        order = np.lexsort((col, row))
        # a `per customer` move taken away (attribution's removals) is gone
        pairs = set(zip(row.tolist(), col.tolist())) if self.per_customer else set()
        drawn = {k: v for k, v in self.per_customer.items() if k in pairs}
        return replace(self, move_row=row[order], move_col=col[order], move_rate=rate[order],
                       move_delay=delay[order], goal=self.goal if goal is None else goal,
                       per_customer=drawn)


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
            uncertain[(int(index.move_from[k]), int(index.move_to[k]))] = specs[persona]
    per_customer: dict[tuple[int, int], Amount] = {}
    for k, specs in index.per_customer:
        if persona in specs and kept[k]:
            per_customer[(int(index.move_from[k]), int(index.move_to[k]))] = specs[persona]
    order = np.lexsort((cols, rows))  # (a pair has at most one entry)
    ref_order = np.lexsort((ref_cols, ref_rows))
    return Chain(
        persona=persona,
        steps=steps,
        stage_of=list(index.stage_of),
        move_row=rows[order],
        move_col=cols[order],
        move_rate=rates[order],
        move_delay=delays[order],
        value=np.array(index.value[persona], float),
        cost=np.array(index.cost[persona], float),
        margin=np.array(index.margin[persona], float),
        goal=np.array(index.goal, bool),
        entry=np.array(index.entry[persona], float),
        ref_row=ref_rows[ref_order],
        ref_col=ref_cols[ref_order],
        ref_amount=amounts[ref_order],
        ref_delay=ref_delays[ref_order],
        daily_discount=daily_discount(journey),
        horizon_days=journey.horizon_days,
        uncertain=uncertain,
        per_customer=per_customer,
        channels=tuple(index.channels),
        channel_of=np.array(index.channel_of, np.int64),
    )


def _matrix(n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
    """A CSR matrix (row = source) from sorted COO arrays; zeros stay stored,
    so every matrix of a chain has the rates' pattern."""
    from scipy import sparse

    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if len(rows) < 2**31 and n < 2**31 else np.int64
    return sparse.csr_matrix((np.asarray(values, float), cols.astype(idx_dtype),
                              indptr.astype(idx_dtype)), shape=(n, n))


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
    k, labels = components(count, st[rows[cross]], st[cols[cross]])
    return np.bincount(labels, minlength=k)[labels] > 1


def or_none(values: np.ndarray) -> list[float | None]:
    """The values as Python floats, None where NaN (a reach not computed)."""
    out = values.tolist()
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out

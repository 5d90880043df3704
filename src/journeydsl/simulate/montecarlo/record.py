"""What a Monte Carlo run records beyond the headline metrics of version 1.

The unit economics of version 2 (the profit metrics, money by place, by
entry step, the profit curve and payback) are recorded as the walk goes:
each is arrays gathered every pass and summed at the end, memory traffic
that a caller who never reads them should not pay (on saas_trial they
were a third of a run with 20 draws). A caller says what it will read
with a `Record`; `monte_carlo` records everything by default, so that the
report and every output are the same whoever asks.

What is not recorded is not made up either: a profit metric not recorded
is None with its reason in `Metrics.unknown` (as an infinite one is), a
place's money has no `revenue`, `cost` and `profit` keys, an entry no
row, and a payback no curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

NOT_RECORDED = "not recorded by this Monte Carlo run (monte_carlo(record=...) left it out)"


@dataclass(frozen=True)
class Record:
    """The families of numbers a run records (all by default).

    `profit`: each walk's discounted margin x value and acquisition cost
    (the pool's `margin` field and the converters' costs noted by
    `Books.acquired`: the `profit`, `acquisition_cost` and
    `profit_converted` expectations, hence clv, cac, ltv_cac, the clv
    distribution and the profit concentration); `place`: money by step,
    stage and channel (and their standard errors); `by_entry`: the
    metrics of each entry step's prospects (they need `profit` and
    `curve`: an entry's payback is read off its curve); `curve`: the
    profit events, from which the profit curves and payback are read."""

    profit: bool = True
    place: bool = True
    by_entry: bool = True
    curve: bool = True

    ALL: ClassVar[Record]
    #: what 139a6b9's report computed: the headline metrics of version 1
    V1: ClassVar[Record]
    #: the headline metrics and payback, no money by place or by entry (the
    #: tables of headline metrics: `journey simulate --compare`, the HTML
    #: report's Monte Carlo section)
    HEADLINE: ClassVar[Record]

    def __post_init__(self) -> None:
        if self.by_entry and not (self.profit and self.curve):
            raise ValueError("by_entry needs profit and curve (an entry's clv, cac, payback)")

    @property
    def ledger(self) -> bool:
        """Whether the ledger sums anything (by batch of prospects)."""
        return self.place or self.by_entry or self.curve

    @property
    def visits(self) -> bool:
        """Whether the visits' money is gathered (for places or profit events)."""
        return self.place or self.curve


Record.ALL = Record()
Record.V1 = Record(profit=False, place=False, by_entry=False, curve=False)
Record.HEADLINE = Record(place=False, by_entry=False)

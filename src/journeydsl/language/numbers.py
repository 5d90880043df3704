"""A compiled journey's numbers by step number: the arrays the engines read.

`CompiledJourney.numbers` builds one `NumericIndex` on first use (compiling
itself never does, so `journey check` does not import numpy). It is read by
every engine (simulate/chain.py, levers, calibration) and built for speed:
the moves come as flat arrays, already in order, from `journey.flow`, which
the compile's checks built in their one pass over the pairs (the models of
thousands of moves, scattered in memory, cost twice the rest of the index
when read again here); only the few moves that need more (a `[persona:
...]` override, an uncertain or `per customer` rate) are looked at one by
one; the steps' attributes are read in one loop, their columns filled at
once.

>>> import journeydsl
>>> journey = journeydsl.loads('journey "j" { stage a { touchpoint x ; touchpoint y } ; '
...                            'entry x ; x -> y 30% after 2d ; goal y }').journey
>>> numbers = journey.numbers
>>> numbers.move_from.tolist(), numbers.move_to.tolist(), numbers.rates["default"].tolist()
([0], [1], [0.3])
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .compiled import CompiledJourney
    from .model import Amount, PerPersona

# (the fields read with `map`: a loop in C)
_source, _target = attrgetter("source"), attrgetter("target")
_delay, _amount = attrgetter("delay_days"), attrgetter("amount")
_id, _stage, _attributes = attrgetter("id"), attrgetter("stage"), attrgetter("attributes")


class NumericIndex:
    """A journey's numbers by step number: numpy arrays that
    simulate/chain.py turns into a persona's chain with array operations
    alone (callers copy what they change: the index is shared).

    Steps in declaration order; the moves and referrals one per (source,
    target) pair, ordered by source step and then by the pair's first
    appearance (moves first; networkx's adjacency order, which `graph()`
    also has): `move_from`, `move_to` (int64), `delays` and per persona
    `rates[p]` (float64; a `per customer` rate at its mean); `uncertain`
    lists (position among the moves, {persona: Amount}) for the moves with
    an uncertain rate every prospect shares, `per_customer` likewise for a
    rate each prospect draws for itself; `sent_from`, `sent_to`,
    `sent_delays` and `amounts[p]` for the referrals; per step `stage_of`
    (a list of stage ids), `goal` (bool) and per persona `value[p]`,
    `cost[p]` (0 where none), `margin[p]` (the step's own `margin`, else its
    stage's, else the journey's) and `entry[p]`; `channels` (each channel
    once, in order of first appearance, "" for steps without one) and each
    step's number in it, `channel_of`.
    """

    __slots__ = ("amounts", "channel_of", "channels", "cost", "delays", "entry", "goal", "margin",
                 "move_from", "move_to", "per_customer",
                 "personas", "rates", "sent_delays", "sent_from", "sent_to", "stage_of",
                 "steps", "uncertain", "value")

    def __init__(self, journey: CompiledJourney) -> None:
        import numpy as np

        personas = journey.persona_ids
        self.personas = personas
        self.steps = len(journey.steps)
        self._index_moves(journey)
        self._index_referrals(journey)
        self._index_steps(journey)
        self.entry: dict[str, np.ndarray] = {}
        for p in personas:
            column = self.entry[p] = np.zeros(self.steps)
            for step_id, rate in journey.entry_rates(p).items():
                column[journey.step_number[step_id]] = rate

    def _index_moves(self, journey: CompiledJourney) -> None:
        import numpy as np

        # The compile's checks laid the moves out in this order already, as
        # flat arrays (`journey.flow`, built once): copied, not read again
        # from the moves' models.
        flow = journey.flow
        self.move_from = np.array(flow.move_from, np.int64)
        self.move_to = np.array(flow.move_to, np.int64)
        self.delays = np.array(flow.delays, np.float64)
        self.rates = {p: np.array(flow.means[p], np.float64) for p in self.personas}
        self.uncertain: list[tuple[int, dict[str, Amount]]] = []
        self.per_customer: list[tuple[int, dict[str, Amount]]] = []
        for k in flow.special:  # the few with overrides or an uncertain rate
            rate = flow.moves[k].rate
            specs = {p: rate.for_persona(p) for p in self.personas}
            uncertain = {p: a for p, a in specs.items() if a.kind != "fixed"
                         and not a.per_customer}
            drawn = {p: a for p, a in specs.items() if a.per_customer}
            if uncertain:
                self.uncertain.append((k, uncertain))
            if drawn:
                self.per_customer.append((k, drawn))

    def _index_referrals(self, journey: CompiledJourney) -> None:
        import numpy as np

        where, ordered = journey.step_number, journey.flow.referrals  # (few)
        r = len(ordered)
        self.sent_from = np.fromiter(map(where.__getitem__, map(_source, ordered)), np.int64, r)
        self.sent_to = np.fromiter(map(where.__getitem__, map(_target, ordered)), np.int64, r)
        self.sent_delays = np.fromiter(map(_delay, ordered), np.float64, r)
        amounts = list(map(_amount, ordered))
        self.amounts = {p: np.fromiter((a.mean_for(p) for a in amounts), np.float64, r)
                        for p in self.personas}

    def _index_steps(self, journey: CompiledJourney) -> None:
        import numpy as np

        n, steps = self.steps, journey.steps
        self.stage_of = list(map(_stage, steps))
        self.goal = np.fromiter(map(journey.goal_set.__contains__, map(_id, steps)), bool, n)
        stage_margin = {s.id: s.attributes.margin for s in journey.stages}
        channels: list[str] = []
        add_channel = channels.append
        value, cost, margin = _Column(), _Column(), _Column()
        # One loop, each step's attributes read once (as for the moves); most
        # steps have no value or margin of their own: the default stays.
        for i, (attributes, stage) in enumerate(zip(map(_attributes, steps), self.stage_of)):
            add_channel(attributes.channel or "")
            written = attributes.value
            if written is not None:
                value.put(i, written)
            written = attributes.cost
            if written is not None:
                cost.put(i, written)
            written = attributes.margin
            if written is None:  # a touchpoint without its own margin takes its stage's
                written = stage_margin.get(stage)
            if written is not None:
                margin.put(i, written)
        self.value = value.columns(self.personas, n, 0.0)
        self.cost = cost.columns(self.personas, n, 0.0)
        self.margin = margin.columns(self.personas, n, journey.margin)
        number = {c: i for i, c in enumerate(dict.fromkeys(channels))}
        self.channels = list(number)
        self.channel_of = np.fromiter(map(number.__getitem__, channels), np.int64, n)


class _Column:
    """A per-persona value of some steps, gathered step by step, then put
    into per-persona columns at once (numpy's item assignment, one at a
    time, cost more than the rest of the loop)."""

    __slots__ = ("means", "overridden", "rows")

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.means: list[float] = []  # the base, for every persona
        self.overridden: list[tuple[int, PerPersona]] = []  # `[persona: ...]`: done alone

    def put(self, i: int, written: PerPersona) -> None:
        if written.overrides:
            self.overridden.append((i, written))
        else:
            self.rows.append(i)
            self.means.append(written.base.mean)

    def columns(self, personas: list[str], n: int, default: float) -> dict[str, np.ndarray]:
        import numpy as np

        out = {}
        for p in personas:
            column = out[p] = np.full(n, default)
            column[self.rows] = self.means
            for i, written in self.overridden:
                column[i] = written.mean_for(p)
        return out

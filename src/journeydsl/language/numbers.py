"""A compiled journey's numbers by step number: the arrays the engines read.

`CompiledJourney.numbers` builds one `NumericIndex` on first use (compiling
itself never does, so `journey check` does not import numpy). It is built
once per journey and read by every engine (simulate/chain.py, levers,
calibration), so it is built for speed: the fields of the journey's
thousands of moves are read with `map(attrgetter(...))` (a loop in C, no
Python frame per move), the arrays are filled with `np.fromiter` and
reordered with one stable argsort, and only the few moves that need more
(a `[persona: ...]` override, an uncertain or `per customer` rate) are
looked at one by one in Python.

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

    from .compiled import CompiledJourney, Move, Referral
    from .model import Amount, PerPersona

# (the fields read with `map`: a loop in C)
_source, _target = attrgetter("source"), attrgetter("target")
_delay, _rate, _amount = attrgetter("delay_days"), attrgetter("rate"), attrgetter("amount")
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

        personas, where = self.personas, journey.step_number
        moves: list[Move] = list(journey.edges.values())  # one per pair, in first-appearance order
        m, number = len(moves), where.__getitem__
        self.move_from = np.fromiter(map(number, map(_source, moves)), np.int64, m)
        self.move_to = np.fromiter(map(number, map(_target, moves)), np.int64, m)
        self.delays = np.fromiter(map(_delay, moves), np.float64, m)
        # The rates are pydantic models, whose attributes cost three times a
        # dataclass's and are scattered in memory: one loop reads each once
        # (separate passes, even in C, were slower) and keeps the few moves
        # that need more for after: those with `[persona: ...]` overrides
        # or an uncertain rate (`per customer` ones are uncertain: JD307).
        means: list[float] = []
        special: list[int] = []
        add_mean = means.append
        for k, rate in enumerate(map(_rate, moves)):
            base = rate.base
            add_mean(base.mean)
            if rate.overrides or base.kind != "fixed":
                special.append(k)
        mean = np.array(means, np.float64).reshape(m)
        # The pair order is by source step, then first appearance: a stable
        # sort of the edges (already in first-appearance order) by source.
        order = _stable_order(self.move_from)
        if order is not None:
            self.move_from, self.move_to = self.move_from[order], self.move_to[order]
            self.delays, mean = self.delays[order], mean[order]
            position = np.empty_like(order)
            position[order] = np.arange(m)
            special = sorted(position[special].tolist())
            moves = [moves[k] for k in order.tolist()]
        self.rates = {p: mean.copy() for p in personas}
        self.uncertain: list[tuple[int, dict[str, Amount]]] = []
        self.per_customer: list[tuple[int, dict[str, Amount]]] = []
        for k in special:
            specs = {p: moves[k].rate.for_persona(p) for p in personas}
            for p, amount in specs.items():
                self.rates[p][k] = amount.mean
            uncertain = {p: a for p, a in specs.items() if a.kind != "fixed"
                         and not a.per_customer}
            drawn = {p: a for p, a in specs.items() if a.per_customer}
            if uncertain:
                self.uncertain.append((k, uncertain))
            if drawn:
                self.per_customer.append((k, drawn))

    def _index_referrals(self, journey: CompiledJourney) -> None:
        import numpy as np

        where, edges = journey.step_number, journey.edges
        sends = journey.sends
        # By source, then the pair's first appearance among moves and
        # referrals, moves first: a pair that is also a move ranks by the
        # move's place, before the referral-only pairs (few: looked up alone).
        moved = [pair for pair in sends if pair in edges]
        place = ({pair: k for k, pair in enumerate(edges)} if moved else {})

        def key(item: tuple[int, tuple[str, str]]) -> tuple[int, int, int]:
            k, pair = item
            return (where[pair[0]], 0, place[pair]) if pair in place else (where[pair[0]], 1, k)

        ordered: list[Referral] = [sends[pair] for _, pair in sorted(enumerate(sends), key=key)]
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

    __slots__ = ("rows", "means", "overridden")

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


def _stable_order(keys: np.ndarray) -> np.ndarray | None:
    """The stable sorting order of `keys`, None when they are sorted already
    (a journey written source by source)."""
    import numpy as np

    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        return None
    return np.argsort(keys, kind="stable")

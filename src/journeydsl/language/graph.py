"""Journey -> networkx DiGraph.

One node per step, in declaration order, with its stage, label and
attributes; per-persona values are dicts keyed by persona id. One edge per
(source, target) pair: `rate` (per persona, the mean of uncertain rates) and
`delay_days` when there is a transition, `referral` and
`referral_delay_days` when there is a referral; `kind` says which
("transition", "referral" or "both"). Graph attributes carry the settings,
and `engine_index` the same numbers by step number for the simulation
engines (an `EngineIndex`).
"""

from __future__ import annotations

from array import array
from operator import itemgetter

import networkx as nx

from .model import Journey, PerPersona, Stage
from .resolve import Index


def build_graph(journey: Journey, index: Index) -> nx.DiGraph:
    """The compiled journey (references must be resolved).

    >>> import journeydsl
    >>> result = journeydsl.loads('journey "j" { stage a { touchpoint x } ; stage b '
    ...                           '{ touchpoint y } ; entry x ; x -> y 30% after 2d ; goal y }')
    >>> g = result.graph()
    >>> list(g.nodes), g.edges["x", "y"]["rate"], g.edges["x", "y"]["delay_days"]
    (['x', 'y'], {'default': 0.3}, 2.0)
    """
    personas = index.personas
    graph = nx.DiGraph(
        title=journey.title,
        personas=list(personas),
        shares=persona_shares(journey),
        currency=journey.currency,
        horizon_days=journey.horizon_days,
        discount=(journey.discount.rate, journey.discount.period) if journey.discount else None,
    )
    entry: dict[str, dict[str, float]] = {}
    for point in journey.entries:
        if point.target.step:
            rates = entry.setdefault(point.target.step, dict.fromkeys(personas, 0.0))
            for persona in personas:
                rates[persona] += point.rate.mean_for(persona)
    goals = set(index.goal_steps)
    steps_by_id = {s.id: s for s in journey.steps()}
    for step_id in index.steps:
        node = steps_by_id.get(step_id, index.steps[step_id])
        attrs = node.attributes
        graph.add_node(
            step_id,
            label=node.label,
            stage=index.stage_of[step_id],
            kind="stage" if isinstance(node, Stage) else "touchpoint",
            channel=attrs.channel,
            owner=attrs.owner,
            emotion=_per_persona(attrs.emotion, personas),
            value=_per_persona(attrs.value, personas),
            cost=_per_persona(attrs.cost, personas),
            pains=list(attrs.pains),
            entry=entry.get(step_id, dict.fromkeys(personas, 0.0)),
            goal=step_id in goals,
            span=node.id_span,
        )
    # The engine index is filled in the same pass (a second walk over the
    # edges' scattered dicts would cost as much as the pass itself); bound
    # appends in locals, as this runs on every compile.
    numbers = EngineIndex.empty(list(personas), len(index.steps))
    where = {step: i for i, step in enumerate(index.steps)}
    add_from, add_to = numbers.move_from.append, numbers.move_to.append
    add_delay, add_rate = numbers.delays.append, numbers.rate_rows.append
    again = False  # a pair given twice (JD311): the graph keeps the last one
    for transition in journey.transitions:
        u, v = transition.source.step, transition.target.step
        if u is None or v is None:
            continue
        data = _edge(graph, u, v)
        again = again or data["rate"] is not None
        rate = {p: transition.rate.mean_for(p) for p in personas}
        uncertain = {p: transition.rate.for_persona(p) for p in personas
                     if transition.rate.for_persona(p).kind != "fixed"}
        if uncertain:
            numbers.uncertain.append((len(numbers.rate_rows), uncertain))
        add_from(where[u])
        add_to(where[v])
        add_delay(transition.delay_days)
        add_rate(rate)
        data.update(rate=rate, uncertain=uncertain, delay_days=transition.delay_days,
                    span=transition.span)
    for referral in journey.referrals:
        u, v = referral.source.step, referral.target.step
        if u is None or v is None:
            continue
        data = _edge(graph, u, v)
        again = again or data["referral"] is not None
        amount = {p: referral.amount.mean_for(p) for p in personas}
        numbers.sent_from.append(where[u])
        numbers.sent_to.append(where[v])
        numbers.sent_delays.append(referral.delay_days)
        numbers.amount_rows.append(amount)
        data.update(referral=amount, referral_delay_days=referral.delay_days,
                    referral_span=referral.span)
    for _, _, data in graph.edges(data=True):
        data["kind"] = ("both" if data["rate"] is not None and data["referral"] is not None
                        else "transition" if data["rate"] is not None else "referral")
    graph.graph["engine_index"] = (numbers.finish(graph) if not again
                                   else EngineIndex(graph, list(personas)))
    return graph


def persona_shares(journey: Journey) -> dict[str, float]:
    """Each persona's share of new prospects (one implicit persona: 100%)."""
    if not journey.personas:
        return {journey.persona_ids[0]: 1.0}
    if len(journey.personas) == 1 and journey.personas[0].share is None:
        return {journey.personas[0].id: 1.0}
    return {p.id: p.share.mean if p.share else 0.0 for p in journey.personas}


def _edge(graph: nx.DiGraph, u: str, v: str) -> dict:
    if not graph.has_edge(u, v):
        graph.add_edge(u, v, rate=None, delay_days=0.0, uncertain={}, referral=None,
                       referral_delay_days=0.0)
    return graph.edges[u, v]


def _per_persona(value: PerPersona | None, personas: list[str]) -> dict[str, float] | None:
    if value is None:
        return None
    return {p: value.mean_for(p) for p in personas}


class EngineIndex:
    """The graph's numbers by step number (steps in node order, edges in the
    graph's edge order), for the simulation engines: simulate/chain.py
    builds a persona's chain from these with array operations alone.

    Compact arrays: `move_from`, `move_to`, `delays` and per persona
    `rates[p]` for the edges with a `rate`; `uncertain` lists (position
    among those, the edge's `uncertain` dict); `sent_from`, `sent_to`,
    `sent_delays` and `amounts[p]` for the edges with a `referral`; per step
    `stage_of`, `goal` and per persona `value[p]`, `cost[p]` (0 where none)
    and `entry[p]`.

    A snapshot of the graph as built: `copy.deepcopy` leaves it out of the
    copy (a copy is made to be edited; chain.py then reads the copy's edges),
    and so should code that edits a graph in place (`del
    graph.graph["engine_index"]`). chain.py also reads the edges when the
    graph's nodes or edges no longer match (or it is a `graph.copy()`).

    >>> import journeydsl
    >>> g = journeydsl.loads('journey "j" { stage a { touchpoint x ; touchpoint y } ; '
    ...                      'entry x ; x -> y 30% after 2d ; goal y }').graph()
    >>> numbers = g.graph["engine_index"]
    >>> list(numbers.move_from), list(numbers.move_to), list(numbers.rates["default"])
    ([0], [1], [0.3])
    """

    _NUMBERS = ("amounts", "cost", "delays", "edges", "entry", "goal", "move_from", "move_to",
                "personas", "rates", "sent_delays", "sent_from", "sent_to", "stage_of", "steps",
                "uncertain", "value")
    __slots__ = _NUMBERS + ("sample", "rate_rows", "amount_rows")

    def __init__(self, graph: nx.DiGraph, personas: list[str]) -> None:
        """Index a graph from its edges (build_graph fills one as it goes)."""
        nodes, adj = graph._node, graph._adj  # the plain dicts: views cost a call each
        where = {step: i for i, step in enumerate(nodes)}
        self._start(personas, len(where))
        rates, amounts = self.rate_rows, self.amount_rows
        # each edge's data visited once (they are scattered in memory), bound
        # methods in locals
        add_from, add_to, add_delay = (self.move_from.append, self.move_to.append,
                                       self.delays.append)
        send_from, send_to, send_delay = (self.sent_from.append, self.sent_to.append,
                                          self.sent_delays.append)
        for u, targets in adj.items():
            i = where[u]
            for v, data in targets.items():
                rate = data["rate"]
                if rate is not None:
                    if data["uncertain"]:
                        self.uncertain.append((len(rates), data["uncertain"]))
                    add_from(i)
                    add_to(where[v])
                    add_delay(data["delay_days"])
                    rates.append(rate)
                referral = data["referral"]
                if referral is not None:
                    send_from(i)
                    send_to(where[v])
                    send_delay(data["referral_delay_days"])
                    amounts.append(referral)
        self.finish(graph)

    def _start(self, personas: list[str], steps: int) -> None:
        self.personas = personas
        self.steps = steps
        self.move_from, self.move_to, self.delays = array("q"), array("q"), array("d")
        self.sent_from, self.sent_to, self.sent_delays = array("q"), array("q"), array("d")
        self.uncertain: list[tuple[int, dict]] = []
        # per edge, the per-persona dicts: `finish` turns them into columns
        self.rate_rows: list[dict[str, float]] = []
        self.amount_rows: list[dict[str, float]] = []

    @classmethod
    def empty(cls, personas: list[str], steps: int) -> "EngineIndex":
        """An index for `build_graph` to fill edge by edge, then `finish`."""
        index = cls.__new__(cls)
        index._start(personas, steps)
        return index

    def finish(self, graph: nx.DiGraph) -> "EngineIndex":
        """The per-persona columns and per-step numbers, once the edges are in."""
        personas, adj = self.personas, graph._adj
        self.edges = sum(map(len, adj.values()))
        self.sample = next(((u, v, data) for u, targets in adj.items()
                            for v, data in targets.items()), None)
        # Uncertain rates in the graph's edge order (by source step, then as
        # written), the order the Monte Carlo engine samples them in.
        self.uncertain.sort(key=lambda item: self.move_from[item[0]])
        self.rates = {p: array("d", map(itemgetter(p), self.rate_rows)) for p in personas}
        self.amounts = {p: array("d", map(itemgetter(p), self.amount_rows)) for p in personas}
        del self.rate_rows, self.amount_rows
        # One pass over the steps; most have no value, cost or entry: their
        # zeros are already in place.
        zeros = bytes(8 * self.steps)
        self.value, self.cost, self.entry = ({p: array("d", zeros) for p in personas}
                                             for _ in range(3))
        self.goal = goal = array("B", bytes(self.steps))
        self.stage_of = []
        add_stage = self.stage_of.append
        for i, d in enumerate(graph._node.values()):
            add_stage(d["stage"])
            if d["goal"]:
                goal[i] = 1
            if d["value"]:
                _put(self.value, i, d["value"])
            if d["cost"]:
                _put(self.cost, i, d["cost"])
            if any(d["entry"].values()):
                _put(self.entry, i, d["entry"])
        return self

    def __eq__(self, other: object) -> bool:  # the same numbers (graphs compare by value)
        return type(other) is EngineIndex and all(
            getattr(self, k) == getattr(other, k) for k in self._NUMBERS)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo) -> None:
        return None

    def current(self, graph: nx.DiGraph) -> bool:
        """Whether this still describes `graph` (as far as cheap checks tell)."""
        adj = graph._adj
        if len(graph._node) != self.steps or sum(map(len, adj.values())) != self.edges:
            return False
        if self.sample is None:
            return True
        u, v, data = self.sample
        return u in adj and adj[u].get(v) is data


def _put(columns: dict[str, array], i: int, amounts: dict[str, float]) -> None:
    for persona, column in columns.items():
        column[i] = amounts.get(persona, 0.0)

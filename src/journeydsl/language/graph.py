"""A compiled journey as a networkx DiGraph, for users and graph algorithms.

One node per step, in declaration order, with its stage, label and
attributes; per-persona values are dicts keyed by persona id. One edge per
(source, target) pair: `rate` (per persona, the mean of uncertain rates),
`uncertain` and `delay_days` when there is a transition, `referral` and
`referral_delay_days` when there is a referral; `kind` says which
("transition", "referral" or "both"). Graph attributes carry the settings.
The simulation engines do not read it: they read the compiled journey's
`numbers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:  # annotations only: compiled.py imports this module (graph())
    from .compiled import CompiledJourney, Value


def to_networkx(journey: CompiledJourney) -> nx.DiGraph:
    """The journey's graph (a new one each call).

    >>> import journeydsl
    >>> result = journeydsl.loads('journey "j" { stage a { touchpoint x } ; stage b '
    ...                           '{ touchpoint y } ; entry x ; x -> y 30% after 2d ; goal y }')
    >>> g = result.graph()
    >>> list(g.nodes), g.edges["x", "y"]["rate"], g.edges["x", "y"]["delay_days"]
    (['x', 'y'], {'default': 0.3}, 2.0)
    """
    personas = journey.persona_ids
    graph = nx.DiGraph(
        title=journey.title,
        personas=list(personas),
        shares=dict(journey.shares),
        currency=journey.currency,
        horizon_days=journey.horizon_days,
        discount=journey.discount,
        margin=journey.margin,
    )
    entry: dict[str, dict[str, float]] = {}
    for point in journey.entries:
        rates = entry.setdefault(point.step, dict.fromkeys(personas, 0.0))
        for persona in personas:
            rates[persona] += point.rate.mean_for(persona)
    goals = journey.goal_set
    margins = journey.numbers.margin  # each step's own, its stage's or the journey's
    for i, step in enumerate(journey.steps):
        attrs = step.attributes
        graph.add_node(
            step.id,
            label=step.label,
            stage=step.stage,
            kind=step.kind,
            channel=attrs.channel,
            owner=attrs.owner,
            emotion=_per_persona(attrs.emotion, personas),
            value=_per_persona(attrs.value, personas),
            cost=_per_persona(attrs.cost, personas),
            margin={p: float(margins[p][i]) for p in personas},
            pains=list(attrs.pains),
            entry=entry.get(step.id, dict.fromkeys(personas, 0.0)),
            goal=step.id in goals,
            span=step.span,
        )
    for move in journey.moves:  # a pair given twice: the last one written
        data = _edge(graph, move.source, move.target)
        uncertain = {p: move.rate.for_persona(p) for p in personas
                     if move.rate.for_persona(p).kind != "fixed"}
        data.update(rate={p: move.rate.mean_for(p) for p in personas}, uncertain=uncertain,
                    delay_days=move.delay_days, span=move.span)
    for referral in journey.referrals:
        data = _edge(graph, referral.source, referral.target)
        data.update(referral={p: referral.amount.mean_for(p) for p in personas},
                    referral_delay_days=referral.delay_days, referral_span=referral.span)
    for _, _, data in graph.edges(data=True):
        data["kind"] = ("both" if data["rate"] is not None and data["referral"] is not None
                        else "transition" if data["rate"] is not None else "referral")
    return graph


def _edge(graph: nx.DiGraph, u: str, v: str) -> dict[str, Any]:
    if not graph.has_edge(u, v):
        graph.add_edge(u, v, rate=None, delay_days=0.0, uncertain={}, referral=None,
                       referral_delay_days=0.0)
    data: dict[str, Any] = graph.edges[u, v]  # networkx is untyped
    return data


def _per_persona(value: Value | None, personas: list[str]) -> dict[str, float] | None:
    if value is None:
        return None
    return {p: value.mean_for(p) for p in personas}

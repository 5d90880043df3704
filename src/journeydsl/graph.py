"""Journey -> networkx DiGraph.

One node per step, in declaration order, with its stage, label and
attributes; per-persona values are dicts keyed by persona id. One edge per
(source, target) pair: `rate` (per persona, the mean of uncertain rates) and
`delay_days` when there is a transition, `referral` and
`referral_delay_days` when there is a referral; `kind` says which
("transition", "referral" or "both"). Graph attributes carry the settings.
"""

from __future__ import annotations

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
    for transition in journey.transitions:
        u, v = transition.source.step, transition.target.step
        if u is None or v is None:
            continue
        data = _edge(graph, u, v)
        data.update(rate={p: transition.rate.mean_for(p) for p in personas},
                    uncertain={p: transition.rate.for_persona(p) for p in personas
                               if transition.rate.for_persona(p).kind != "fixed"},
                    delay_days=transition.delay_days, span=transition.span)
    for referral in journey.referrals:
        u, v = referral.source.step, referral.target.step
        if u is None or v is None:
            continue
        data = _edge(graph, u, v)
        data.update(referral={p: referral.amount.mean_for(p) for p in personas},
                    referral_delay_days=referral.delay_days, referral_span=referral.span)
    for _, _, data in graph.edges(data=True):
        data["kind"] = ("both" if data["rate"] is not None and data["referral"] is not None
                        else "transition" if data["rate"] is not None else "referral")
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

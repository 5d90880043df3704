"""What every check reads (`Context`: the compiled variant, the model as
written, the source) and the graph questions several checks ask: which
steps a walk can reach (`closure`), and which loops it can never leave
(`closed_classes`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from .compiled import RATE_TOLERANCE, CompiledJourney
from .model import Journey
from .source import SourceFile, Span

EPS = RATE_TOLERANCE


@dataclass(frozen=True)
class Context:
    journey: CompiledJourney  # the variant checked
    model: Journey  # the journey as written (the baseline's model)
    source: SourceFile

    def make(self, code: str, message: str, span: Span | None, **kw) -> Diagnostic:
        return diag.make(code, message, self.source, span, **kw)

    @property
    def keyword_span(self) -> Span:
        return self.journey.keyword_span

    @property
    def personas(self) -> list[str]:
        return self.journey.persona_ids

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The networkx form, built once per check run, for the graph algorithms."""
        return self.journey.graph()


def closure(adjacency, starts) -> set:
    """The starts and every node reachable from them in one pass (networkx's
    `descendants` would walk again from each start)."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for v in adjacency[todo.pop()]:
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


def closed_classes(graph: nx.DiGraph, persona: str) -> list[list[str]]:
    """Sets of steps that a walk of this persona can enter and never leave.

    Such a set holds only steps whose moves sum to 100% and lead only
    inside it, so its strongly connected components are looked for among
    those steps alone (usually none: then no graph is built at all)."""
    totals: dict[str, float] = {}
    for u, _, d in graph.edges(data=True):
        if d["rate"] is not None:
            totals[u] = totals.get(u, 0.0) + d["rate"][persona]
    full = [n for n in graph.nodes if abs(totals.get(n, 0.0) - 1) <= EPS]
    if not full:
        return []
    succ = {n: [v for _, v, d in graph.out_edges(n, data=True)
                if d["rate"] is not None and d["rate"][persona] > 0] for n in full}
    keep = set(full)
    moves = nx.DiGraph()
    moves.add_nodes_from(full)
    moves.add_edges_from((u, v) for u in full for v in succ[u] if v in keep)
    order = {n: i for i, n in enumerate(graph.nodes)}
    out = []
    for component in nx.strongly_connected_components(moves):
        if len(component) == 1:
            (node,) = component
            if not moves.has_edge(node, node):
                continue
        nodes = sorted(component, key=order.__getitem__)
        inside = set(nodes)
        if all(v in inside for n in nodes for v in succ[n]):
            out.append(nodes)
    return out

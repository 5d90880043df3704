"""What every check reads (`Context`: the compiled variant, the model as
written, the source) and the graph questions several checks ask: which
steps a walk can reach (`closure`), and which loops it can never leave
(`closed_classes`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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

    def make(self, code: str, message: str, span: Span | None, **kw: Any) -> Diagnostic:
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


def closure(adjacency: Mapping[str, Iterable[str]], starts: Iterable[str]) -> set[str]:
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
    """Sets of steps that a walk of this persona can enter and never leave."""
    moves = nx.DiGraph()
    moves.add_nodes_from(graph.nodes)
    moves.add_edges_from((u, v) for u, v, d in graph.edges(data=True)
                         if d["rate"] is not None and d["rate"][persona] > 0)
    out = []
    order = None
    for component in nx.strongly_connected_components(moves):
        if len(component) == 1:
            (node,) = component
            if not moves.has_edge(node, node):
                continue
        if order is None:
            order = {n: i for i, n in enumerate(graph.nodes)}
        nodes = sorted(component, key=order.__getitem__)
        inside = set(nodes)
        closed = all(
            abs(sum(d["rate"][persona] for _, _, d in graph.out_edges(n, data=True)
                    if d["rate"] is not None) - 1) <= EPS
            and all(v in inside for v in moves.successors(n))
            for n in nodes)
        if closed:
            out.append(nodes)
    return out

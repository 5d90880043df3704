"""What every check reads (`Context`: the compiled variant, the model as
written, the source) and the graph questions several checks ask: which
steps a walk can reach (`closure`), and which loops it can never leave
(`closed_classes`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from .compiled import RATE_TOLERANCE, CompiledJourney
from .flow import Flow
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

    @property
    def flow(self) -> Flow:
        """The pairs of steps, for the graph checks (built once per journey)."""
        return self.journey.flow


def closure(adjacency: Mapping[str, Iterable[str]], starts: Iterable[str]) -> set[str]:
    """The starts and every node reachable from them in one pass."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for v in adjacency[todo.pop()]:
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


def components(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            v, targets = work[-1]
            for w in targets:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    group = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.append(w)
                        if w == v:
                            break
                    out.append(group)
    return out


def closed_classes(flow: Flow, persona: str) -> list[list[str]]:
    """Sets of steps that a walk of this persona can enter and never leave."""
    succ, _ = flow.adjacency(lambda pair: pair.rate(persona) > 0)
    order = {s: i for i, s in enumerate(flow.steps)}
    out = []
    for component in components(flow.steps, succ):
        if len(component) == 1 and component[0] not in succ[component[0]]:
            continue
        nodes = sorted(component, key=order.__getitem__)
        inside = set(nodes)
        closed = all(
            abs(sum(p.rate(persona) for p in flow.moves_out(n)) - 1) <= EPS
            and all(v in inside for v in succ[n])
            for n in nodes)
        if closed:
            out.append(nodes)
    return out


def find_cycle(flow: Flow, nodes: list[str]) -> list[str]:
    """A cycle among `nodes` (pairs of either kind), depth first from the
    first node in the pairs' order, as `[a, b, ..., a]`."""
    inside = set(nodes)

    def onward(step: str) -> Iterator[str]:
        return iter([p.target for p in flow.out[step] if p.target in inside])

    path = [nodes[0]]
    on_path = {nodes[0]: 0}
    work = [onward(nodes[0])]
    done: set[str] = set()
    while work:
        for w in work[-1]:
            if w in on_path:
                return path[on_path[w]:] + [w]
            if w not in done:
                on_path[w] = len(path)
                path.append(w)
                work.append(onward(w))
                break
        else:
            work.pop()
            last = path.pop()
            del on_path[last]
            done.add(last)
    return nodes  # pragma: no cover - a closed class has a cycle

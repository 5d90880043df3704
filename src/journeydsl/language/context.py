"""What every check reads (`Context`: the compiled variant, the model as
written, the source) and the graph questions several checks ask: which
steps a walk can reach (`closure`), and which loops it can never leave
(`closed_classes`)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from .compiled import RATE_TOLERANCE, CompiledJourney, Move, Referral
from .model import Journey
from .source import SourceFile, Span

EPS = RATE_TOLERANCE


class Pair(NamedTuple):
    """One (source, target) pair of steps: its move and/or its referral (the
    last written of each, as the networkx graph has them). `position`: the
    move's position among the flow's moves (-1: none), whose mean rates by
    persona are `means` (the flow's columns, shared). A named tuple: a
    journey has one per pair, made while compiling (a frozen dataclass
    takes a call per field to make)."""

    source: str
    target: str
    move: Move | None
    referral: Referral | None
    position: int = -1
    means: Mapping[str, array] = {}

    def rate(self, persona: str) -> float:
        return self.means[persona][self.position] if self.position >= 0 else 0.0

    def sends(self, persona: str) -> float:
        return self.referral.amount.mean_for(persona) if self.referral is not None else 0.0


class Flow:
    """A compiled journey's pairs of steps in the networkx graph's order (by
    source step, then by the pair's first appearance, moves first), with the
    adjacency the graph checks walk: plain dicts, so `journey check` never
    imports networkx.

    The moves' numbers in that order, as flat arrays (stdlib `array`: no
    numpy at compile): `move_from`, `move_to` (step numbers), `delays`,
    `means[p]` (each persona's mean rate; what `Pair.rate` reads, so the
    checks ask no pydantic model again), `moves` and `special` (the
    positions of the moves with `[persona: ...]` overrides or an uncertain
    rate), and `referrals` in order. Built once per journey (`CompiledJourney.flow`) while compiling
    checks it, in the one pass over the pairs that the checks need anyway:
    the engines' `journey.numbers` takes its moves from here (read later,
    the models of 15,000 moves, scattered in memory, cost the index twice
    its time)."""

    def __init__(self, journey: CompiledJourney) -> None:
        where = journey.step_number
        first: dict[tuple[str, str], int] = {}
        for move in journey.moves:
            first.setdefault((move.source, move.target), len(first))
        for referral in journey.referrals:
            first.setdefault((referral.source, referral.target), len(first))
        moves, sends = journey.edges, journey.sends
        order = sorted(first, key=lambda pair: (where[pair[0]], first[pair]))
        self.steps = [s.id for s in journey.steps]
        self.move_from, self.move_to, self.delays = array("q"), array("q"), array("d")
        self.means = means = {p: array("d") for p in journey.persona_ids}
        self.moves: list[Move] = []
        self.special: list[int] = []
        self.referrals: list[Referral] = []  # the pairs' referrals, in order
        self.pairs = []
        add_from, add_to, add_delay = (self.move_from.append, self.move_to.append,
                                       self.delays.append)
        columns = list(means.values())
        for u, v in order:  # (runs on every compile: bound methods in locals)
            moved = moves.get((u, v))
            index = -1
            if moved is not None:
                index = len(self.moves)
                add_from(where[u])
                add_to(where[v])
                add_delay(moved.delay_days)
                rate = moved.rate
                base = rate.base
                if rate.overrides or base.kind != "fixed":  # (`per customer` is uncertain)
                    self.special.append(index)
                    for p, column in means.items():
                        column.append(rate.mean_for(p))
                else:  # most: one fixed rate for every persona
                    mean = base.mean
                    for column in columns:
                        column.append(mean)
                self.moves.append(moved)
            sent = sends.get((u, v))
            if sent is not None:
                self.referrals.append(sent)
            self.pairs.append(Pair(u, v, moved, sent, index, means))
        self.out: dict[str, list[Pair]] = {s: [] for s in self.steps}
        self.touched: set[str] = set()
        for pair in self.pairs:
            self.out[pair.source].append(pair)
            self.touched.update((pair.source, pair.target))

    def moves_out(self, step: str) -> list[Pair]:
        return [p for p in self.out[step] if p.move is not None]

    def adjacency(self, keep: Callable[[Pair], bool]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(successors, predecessors) over the pairs `keep(pair)` accepts."""
        succ: dict[str, list[str]] = {s: [] for s in self.steps}
        pred: dict[str, list[str]] = {s: [] for s in self.steps}
        for pair in self.pairs:
            if keep(pair):
                succ[pair.source].append(pair.target)
                pred[pair.target].append(pair.source)
        return succ, pred


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

"""The pairs of steps of a compiled journey, in order, with the moves'
numbers as flat arrays: what the checks walk (`language/context.py`) and
what `journey.numbers` copies (`language/numbers.py`). Its own module so
that `CompiledJourney.flow` can build one without compiled.py importing the
checks (context.py imports compiled.py)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .compiled import CompiledJourney, Move, Referral


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

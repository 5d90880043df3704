"""The compiled journey: the one typed, frozen value every back end reads.

The compiler turns a parsed, resolved file into one `CompiledJourney` per
variant (the baseline, and each scenario applied to it). Simulators,
renderers, levers, attribution, Monte Carlo and `expect` evaluation take
only this value: step ids are plain strings (never an unresolved
reference), every per-persona number keeps the form it was written in
(`Value`: a base and its `[persona: ...]` overrides, with spans), and the
numbers the engines need by step number (`numbers`, a `NumericIndex` of
language/numbers.py) are derived from the value on first use and owned by
it, so they can never go stale. `graph()` gives the same journey as a
networkx DiGraph, for users and for graph algorithms.

>>> import journeydsl
>>> journey = journeydsl.loads('journey "j" { stage a { touchpoint x ; touchpoint y } ; '
...                            'entry x ; x -> y 30% after 2d ; goal y }').journey
>>> [s.id for s in journey.steps], journey.moves[0].rate.mean_for("default")
(['x', 'y'], 0.3)
>>> journey.numbers.rates["default"].tolist()
[0.3]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from .model import DEFAULT_PERSONA, Attributes, PerPersona
from .numbers import NumericIndex
from .source import Span

if TYPE_CHECKING:
    import networkx as nx

    from .flow import Flow

#: A per-persona value as written: the base amount and `[persona: ...]`
#: overrides, each with its span (`model.PerPersona`, never changed after
#: the transformer built it).
Value = PerPersona

#: Outgoing rates of a step may exceed 100% by this much before it is an
#: error (JD303): the sum of decimal rates is not exact in binary.
RATE_TOLERANCE = 1e-9

#: Transitions with a `per customer` rate in one variant of a journey (JD314).
#: The exact engine integrates every metric over each prospect's draw with
#: a quadrature rule; with two such rates it would need the product of two
#: rules (hundreds of times the work), so one is the limit.
MAX_PER_CUSTOMER = 1


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    share: float  # of new prospects; the implicit persona of a journey without any: 1
    span: Span | None  # its id in the text (None for the implicit persona)


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    attributes: Attributes  # objective, notes, pains ... (a step's own are on the Step)
    steps: tuple[str, ...]  # its touchpoints, or itself when it has none
    span: Span  # its id in the text


@dataclass(frozen=True)
class Step:
    """A touchpoint, or a stage without touchpoints."""

    id: str
    label: str
    stage: str
    kind: Literal["touchpoint", "stage"]
    attributes: Attributes
    span: Span  # its id in the text

    @property
    def channel(self) -> str | None:
        return self.attributes.channel


@dataclass(frozen=True)
class Move:
    """`source -> target RATE [after DELAY]`: a prospect moving on."""

    source: str
    target: str
    rate: Value
    delay_days: float
    span: Span


@dataclass(frozen=True)
class Referral:
    """`source => target COUNT [after DELAY]`: each visit sends new prospects."""

    source: str
    target: str
    amount: Value
    delay_days: float
    span: Span


@dataclass(frozen=True)
class Entry:
    step: str
    rate: Value
    span: Span


@dataclass(frozen=True)
class Expectation:
    """`expect metric(argument) OP value`, the argument resolved."""

    metric: str
    op: Literal[">=", ">", "<=", "<", "=="]
    value: float
    unit: Literal["rate", "number", "days"]
    persona: str | None  # the per-persona metrics' optional persona
    place: str | None  # reach/visits/dropoff/churn: a step or stage id
    place_is_stage: bool
    text: str  # `metric(argument)` as written
    span: Span
    written: str = ""  # the value as written (`18mo`)


@dataclass(frozen=True)
class CompiledJourney:
    """One variant of a journey, compiled: the baseline, or one scenario."""

    title: str
    path: str
    currency: str | None
    discount: tuple[float, str] | None  # (rate, period: year | month | week | day)
    horizon_days: float | None
    personas: tuple[Persona, ...]  # never empty: the implicit persona when none declared
    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]
    moves: tuple[Move, ...]  # as written; a pair given twice (JD311) counts once, the last
    referrals: tuple[Referral, ...]
    entries: tuple[Entry, ...]
    goals: tuple[str, ...]
    expects: tuple[Expectation, ...]
    keyword_span: Span  # the `journey` keyword: where whole-journey problems point
    scenario: str | None = None
    scenario_label: str | None = None
    #: `margin RATE`: the gross margin on `value` where no step or stage sets one.
    margin: float = 1.0
    #: Declarations only (no entry, flow, goal, expect or scenario): a file of
    #: personas and stages for other journeys to `use`.
    library: bool = False
    #: Where this file's own text ends in the offset space: spans past it are
    #: in files it uses (`SourceFile.imported`).
    own_text_end: int = field(default=0, compare=False)

    # ------------------------------------------------------------ lookups
    @cached_property
    def persona_ids(self) -> list[str]:
        return [p.id for p in self.personas]

    @cached_property
    def shares(self) -> dict[str, float]:
        return {p.id: p.share for p in self.personas}

    @cached_property
    def step_number(self) -> dict[str, int]:
        """Each step's position: its row in the engines' arrays."""
        return {s.id: i for i, s in enumerate(self.steps)}

    def step(self, step_id: str) -> Step:
        return self.steps[self.step_number[step_id]]

    @cached_property
    def goal_set(self) -> frozenset[str]:
        return frozenset(self.goals)

    @cached_property
    def edges(self) -> dict[tuple[str, str], Move]:
        """The move of each (source, target) pair: the last one written."""
        return {(m.source, m.target): m for m in self.moves}

    @cached_property
    def sends(self) -> dict[tuple[str, str], Referral]:
        """The referral of each (source, target) pair: the last one written."""
        return {(r.source, r.target): r for r in self.referrals}

    def entry_rates(self, persona: str) -> dict[str, float]:
        """Where this persona's new prospects arrive (step -> rate)."""
        out: dict[str, float] = {}
        for entry in self.entries:
            out[entry.step] = out.get(entry.step, 0.0) + entry.rate.mean_for(persona)
        return out

    def outgoing(self, persona: str) -> dict[str, float]:
        """The total rate out of each step for a persona: what walks leave
        it with; 1 minus it is where walks end there (mean rates)."""
        totals = dict.fromkeys(self.step_number, 0.0)
        for move in self.edges.values():
            totals[move.source] += move.rate.mean_for(persona)
        return totals

    @cached_property
    def per_customer_moves(self) -> tuple[Move, ...]:
        """The moves whose rate is `per customer` for some persona."""
        return tuple(m for m in self.edges.values()
                     if any(m.rate.for_persona(p).per_customer for p in self.persona_ids))

    def is_imported(self, span: Span) -> bool:
        """Whether a span lies in a file this journey uses."""
        return span.start > self.own_text_end

    def persona(self, persona_id: str) -> Persona | None:
        return next((p for p in self.personas if p.id == persona_id), None)

    # ------------------------------------------------------------ derived forms
    @cached_property
    def flow(self) -> Flow:
        """The pairs of steps in order, with the moves' numbers as flat
        arrays: built by the checks while compiling, read by `numbers`."""
        from .flow import Flow

        return Flow(self)

    @cached_property
    def numbers(self) -> NumericIndex:
        """The numbers by step number, for the simulation engines."""
        return NumericIndex(self)

    def graph(self) -> nx.DiGraph:
        """The journey as a networkx DiGraph (a new one each call, yours to edit).

        One node per step, in declaration order, with its stage, label and
        attributes; per-persona values are dicts keyed by persona id. One
        edge per (source, target) pair: `rate` (per persona, the mean of
        uncertain rates), `uncertain` and `delay_days` when there is a
        move, `referral` and `referral_delay_days` when there is a referral;
        `kind` says which ("transition", "referral" or "both"). Graph
        attributes carry the settings."""
        from .graph import to_networkx

        return to_networkx(self)


def implicit_persona() -> Persona:
    """The one persona of a journey that declares none."""
    return Persona(DEFAULT_PERSONA, DEFAULT_PERSONA, 1.0, None)


__all__ = ["CompiledJourney", "Entry", "Expectation", "MAX_PER_CUSTOMER", "Move", "NumericIndex",
           "Persona", "RATE_TOLERANCE", "Referral", "Stage", "Step", "Value", "implicit_persona"]

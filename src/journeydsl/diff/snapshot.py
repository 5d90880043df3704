"""One side of a diff in journey terms: what a reviewer compares.

A `Snapshot` is built from the parsed model (with the declarations of the
used files), so it exists for any file that parses, and, for a file with
syntax errors, for what parses of it. Names are read as written, with the
language's one rule that matters for comparing edges: a stage with
touchpoints named as a target or an entry means its first touchpoint.
Every number keeps its text as written (`25% [ent: 10%]`) and its value
per persona.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, overload

from ..language.model import (
    DEFAULT_PERSONA,
    Journey,
    PerPersona,
    Referral,
    Scenario,
    Stage,
    StepRef,
    Touchpoint,
    Transition,
)
from ..language.source import SourceFile, Span

STEP_FIELDS = ("label", "stage", "channel", "owner", "emotion", "value", "cost", "margin")

# A declaration's fields by name (a persona's label and share, a stage's label
# and touchpoints, a step's STEP_FIELDS and kind): strings, `Value`s, tuples
# or None, which the diff reads key by key and compares as they are.
Record = dict[str, Any]


@dataclass(frozen=True)
class Value:
    """A number as written, and what it is for each persona."""

    text: str
    base: float
    overrides: tuple[tuple[str, float], ...] = ()
    kind: str = "fixed"  # fixed | uniform | beta: the mean is compared

    def of(self, persona: str) -> float:
        return dict(self.overrides).get(persona, self.base)


@dataclass(frozen=True)
class Edge:
    value: Value
    delay_days: float
    line: int


@dataclass
class Block:
    """What a scenario (or the baseline) says about moves and targets."""

    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)  # (from, to, arrow)
    entries: dict[str, Value] = field(default_factory=dict)
    expects: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    overrides: dict[str, Record] = field(default_factory=dict)  # scenarios only


@dataclass
class Snapshot:
    title: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    personas: dict[str, Record] = field(default_factory=dict)  # label, share
    stages: dict[str, Record] = field(default_factory=dict)  # label, touchpoints
    steps: dict[str, Record] = field(default_factory=dict)  # STEP_FIELDS, kind
    goals: list[str] = field(default_factory=list)
    baseline: Block = field(default_factory=Block)
    scenarios: dict[str, tuple[str, Block]] = field(default_factory=dict)  # id -> label, block
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, id) -> line

    @property
    def persona_ids(self) -> list[str]:
        return list(self.personas) or [DEFAULT_PERSONA]


def days_text(days: float) -> str:
    """A duration as one would write it: `14d`, `2w`, `1mo`, `3y`, `12h`.

    >>> days_text(14), days_text(30), days_text(1095), days_text(0.5)
    ('2w', '1mo', '3y', '12h')
    """
    for unit, length in (("y", 365.0), ("mo", 30.0), ("w", 7.0), ("d", 1.0)):
        if days >= length and abs(days / length - round(days / length)) < 1e-9:
            return f"{round(days / length)}{unit}"
    return f"{days * 24:g}h" if days < 1 else f"{days:g}d"


class _Reader:
    def __init__(self, model: Journey, source: SourceFile) -> None:
        self.model = model
        self.source = source
        self.first_touchpoint = {s.id: s.touchpoints[0].id for s in model.stages
                                 if s.touchpoints}

    def written(self, span: Span) -> str:
        where, local = self.source.locate(span)
        return " ".join(where.text[local.start:local.end].split())

    def line(self, span: Span) -> int:
        where, local = self.source.locate(span)
        return where.line_col(local.start)[0]

    @overload
    def value(self, value: PerPersona) -> Value: ...
    @overload
    def value(self, value: PerPersona | None) -> Value | None: ...

    def value(self, value: PerPersona | None) -> Value | None:
        if value is None:
            return None
        base = self.written(value.base.span)
        overrides = tuple((o.persona, o.amount.mean) for o in value.overrides)
        text = base if not value.overrides else base + " [" + ", ".join(
            f"{o.persona}: {self.written(o.amount.span)}" for o in value.overrides) + "]"
        return Value(text, value.base.mean, overrides, value.base.kind)

    def step(self, ref: StepRef, target: bool) -> str:
        """The step a reference names (a stage as a target: its first touchpoint)."""
        if ref.qualifier is None and target:
            return self.first_touchpoint.get(ref.name, ref.name)
        return ref.name

    def block(self, block: Journey | Scenario, scenario: str | None) -> Block:
        out = Block()
        edges: list[tuple[Transition | Referral, PerPersona, str]] = [
            *((t, t.rate, "->") for t in block.transitions),
            *((r, r.amount, "=>") for r in block.referrals)]
        for edge, amount, arrow in edges:
            key = (self.step(edge.source, False), self.step(edge.target, True), arrow)
            out.edges[key] = Edge(self.value(amount), edge.delay_days, self.line(edge.span))
        for entry in block.entries:
            out.entries[self.step(entry.target, True)] = self.value(entry.rate)
        for expect in block.expects:
            metric = self.written(expect.metric_span)  # `clv(smb` : the `)` is not kept
            metric += ")" if "(" in metric and not metric.endswith(")") else ""
            out.expects[(metric, expect.op)] = (self.written(expect.span), self.line(expect.span))
        if isinstance(block, Scenario):
            for override in block.attribute_overrides:
                attrs = override.attributes
                out.overrides[self.step(override.target, False)] = {
                    name: self.value(getattr(attrs, name))
                    if name in ("emotion", "value", "cost", "margin")
                    else getattr(attrs, name) for name in override.given
                    if name in STEP_FIELDS}
        return out


def snapshot(model: Journey | None, source: SourceFile | None) -> Snapshot:
    """The side's journey in the terms a diff compares (empty without a model)."""
    out = Snapshot()
    if model is None or source is None:
        return out
    read = _Reader(model, source)
    out.title = model.title
    if model.currency:
        out.settings["currency"] = model.currency
    if model.discount:
        out.settings["discount"] = f"{model.discount.rate * 100:g}% per {model.discount.period}"
    if model.horizon_days:
        out.settings["horizon"] = days_text(model.horizon_days)
    if model.margin is not None:
        out.settings["margin"] = f"{model.margin * 100:g}%"
    for persona in model.personas:
        share = persona.share
        out.personas[persona.id] = {
            "label": persona.label,
            "share": Value(read.written(share.span), share.mean) if share else None}
        out.lines[("persona", persona.id)] = read.line(persona.id_span)
    for stage in model.stages:
        out.lines[("stage", stage.id)] = read.line(stage.id_span)
        if stage.touchpoints:
            out.stages[stage.id] = {"label": stage.label,
                                    "touchpoints": tuple(t.id for t in stage.touchpoints)}
        nodes: list[Touchpoint | Stage] = [*stage.touchpoints] or [stage]
        for node in nodes:
            attrs = node.attributes
            out.steps[node.id] = {
                "kind": "touchpoint" if stage.touchpoints else "stage",
                "label": node.label, "stage": stage.id,
                "channel": attrs.channel, "owner": attrs.owner,
                "emotion": read.value(attrs.emotion), "value": read.value(attrs.value),
                "cost": read.value(attrs.cost), "margin": read.value(attrs.margin)}
            out.lines[("step", node.id)] = read.line(node.id_span)
    out.goals = [g.text for g in model.goals]
    out.baseline = read.block(model, None)
    for scenario in model.scenarios:
        out.scenarios[scenario.id] = (scenario.label, read.block(scenario, scenario.id))
        out.lines[("scenario", scenario.id)] = read.line(scenario.id_span)
    return out

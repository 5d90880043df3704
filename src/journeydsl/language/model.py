"""The compiled journey as pydantic models.

Every node keeps the Span of the source it came from, so any later stage can
point back at the text. References to steps (`StepRef`) are stored as
written; `resolve.py` fills in `StepRef.step` with the id of the step meant.
Rates are fractions in [0, 1]; durations are days; money is in the
journey's currency.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..metrics import EXPECTABLE
from .source import Span

#: Name of the one implicit persona of a journey that declares none.
DEFAULT_PERSONA = "default"

DAYS = {"h": 1 / 24, "d": 1.0, "w": 7.0, "mo": 30.0, "y": 365.0}
PERIOD_DAYS = {"year": 365.0, "month": 30.0, "week": 7.0, "day": 1.0}


# The transformer builds models with `model_construct` (no validation: the
# grammar already fixed every type) and schemas are built on first use, which
# keeps `journey check` fast; tests validate every example's dump round-trip.
_CONFIG = ConfigDict(extra="forbid", defer_build=True)


class Node(BaseModel):
    model_config = _CONFIG
    span: Span


class Amount(Node):
    """A number that may be uncertain: fixed, uniform(low, high) or beta(a, b).

    An uncertain rate is one rate nobody knows exactly (the exact engine uses
    `mean`; Monte Carlo draws it once per run), unless `per_customer`: then
    each prospect draws its own rate once and keeps it on every visit of the
    move (the exact engine integrates over the draw, Monte Carlo draws it
    once per walk).
    """

    kind: Literal["fixed", "uniform", "beta"] = "fixed"
    mean: float
    low: float | None = None
    high: float | None = None
    alpha: float | None = None
    beta: float | None = None
    per_customer: bool = False


class Override(Node):
    persona: str
    persona_span: Span
    amount: Amount


class PerPersona(Node):
    """A base amount with `[persona: amount, ...]` overrides."""

    base: Amount
    overrides: list[Override] = Field(default_factory=list)

    def for_persona(self, persona: str) -> Amount:
        for override in self.overrides:
            if override.persona == persona:
                return override.amount
        return self.base

    def mean_for(self, persona: str) -> float:
        return self.for_persona(persona).mean


class EventName(Node):
    """One name of `event "NAME", ...`: an event of the log that marks a
    visit to the step (see docs/calibration.md)."""

    name: str


class Attributes(BaseModel):
    """What a team writes about a stage or touchpoint."""

    model_config = _CONFIG
    channel: str | None = None
    owner: str | None = None
    emotion: PerPersona | None = None
    value: PerPersona | None = None
    cost: PerPersona | None = None
    margin: PerPersona | None = None  # gross margin on `value` (a rate); a stage's: its touchpoints'
    pains: list[str] = Field(default_factory=list)
    opportunities: list[str] = Field(default_factory=list)
    objective: str | None = None
    notes: list[str] = Field(default_factory=list)
    events: list[EventName] = Field(default_factory=list)


#: The per-persona numbers of a step's attributes (each may carry
#: `[persona: ...]` overrides whose persona names must resolve).
NUMERIC_ATTRIBUTES = ("emotion", "value", "cost", "margin")


class Persona(Node):
    id: str
    id_span: Span
    label: str
    share: Amount | None = None
    notes: list[str] = Field(default_factory=list)


class Touchpoint(Node):
    id: str
    id_span: Span
    label: str
    stage: str
    attributes: Attributes = Field(default_factory=Attributes)


class Stage(Node):
    id: str
    id_span: Span
    label: str
    attributes: Attributes = Field(default_factory=Attributes)
    touchpoints: list[Touchpoint] = Field(default_factory=list)

    @property
    def is_step(self) -> bool:
        """A stage without touchpoints is itself a step of the journey."""
        return not self.touchpoints


class StepRef(Node):
    """A step named in the text: `id` or `stage.touchpoint`."""

    name: str
    qualifier: str | None = None
    step: str | None = None  # filled by resolve.py

    @property
    def text(self) -> str:
        return f"{self.qualifier}.{self.name}" if self.qualifier else self.name


class Transition(Node):
    source: StepRef
    target: StepRef
    rate: PerPersona
    delay_days: float = 0.0


class Referral(Node):
    """`A => B k`: each visit to A sends k new prospects into B."""

    source: StepRef
    target: StepRef
    amount: PerPersona
    delay_days: float = 0.0


class EntryPoint(Node):
    target: StepRef
    rate: PerPersona


class Expect(Node):
    """`expect metric(arg) OP value`; arg is a persona or a step/stage."""

    metric: str
    metric_span: Span
    argument: StepRef | None = None  # reach/visits/dropoff/churn: a step or stage
    persona: str | None = None  # the other metrics: an optional persona
    persona_span: Span | None = None
    op: Literal[">=", ">", "<=", "<", "=="]
    value: float
    unit: Literal["rate", "number", "days"]
    written: str = ""  # the value as written (`18mo`, `1.5%`), for messages


class AttributeOverride(Node):
    """`step { attr ... }` inside a scenario."""

    target: StepRef
    attributes: Attributes
    given: list[str] = Field(default_factory=list)  # attribute names written


class Scenario(Node):
    id: str
    id_span: Span
    label: str
    transitions: list[Transition] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)
    entries: list[EntryPoint] = Field(default_factory=list)
    attribute_overrides: list[AttributeOverride] = Field(default_factory=list)
    expects: list[Expect] = Field(default_factory=list)


class Discount(Node):
    rate: float
    period: Literal["year", "month", "week", "day"]


class Use(Node):
    """`use "path.journey"`: personas and stages declared in another file."""

    path: str
    path_span: Span


class Journey(Node):
    title: str
    path: str = "<input>"
    uses: list[Use] = Field(default_factory=list)
    currency: str | None = None
    discount: Discount | None = None
    horizon_days: float | None = None
    margin: float | None = None  # `margin RATE`: gross margin on `value` (None: 100%)
    personas: list[Persona] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    entries: list[EntryPoint] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)
    goals: list[StepRef] = Field(default_factory=list)
    expects: list[Expect] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(default_factory=list)

    # ---------------------------------------------------------------- views
    @property
    def persona_ids(self) -> list[str]:
        """Declared personas, or the one implicit persona."""
        return [p.id for p in self.personas] or [DEFAULT_PERSONA]

    def steps(self) -> list[Touchpoint | Stage]:
        """Steps in declaration order: touchpoints, and stages without any."""
        out: list[Touchpoint | Stage] = []
        for stage in self.stages:
            if stage.touchpoints:
                out.extend(stage.touchpoints)
            else:
                out.append(stage)
        return out

    @property
    def is_library(self) -> bool:
        """Declarations only (no entry, flow, goal, expect or scenario): a file
        of personas and stages for other journeys to `use`."""
        return not (self.entries or self.transitions or self.referrals or self.goals
                    or self.expects or self.scenarios)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def scenario(self, scenario_id: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.id == scenario_id), None)


#: expect metrics: name -> (unit of the value, what the argument names), from
#: the metric table (`journeydsl.metrics`). "rate" compares as a fraction,
#: "days" as a duration; the argument is "persona" (optional), "step" (a
#: step) or "place" (a step or a stage).
METRICS: dict[str, tuple[Literal["rate", "number", "days"], str]] = {
    m.name: (m.expect_unit, m.argument) for m in EXPECTABLE.values()}


#: model class -> (field name, default, is_factory) per field: the default
#: is the value itself, or with is_factory the callable that makes it.
_FIELD_DEFAULTS: dict[type, list[tuple[str, Any, bool]]] = {}
_set = object.__setattr__
_Model = TypeVar("_Model", bound=BaseModel)


def build(cls: type[_Model], **data: Any) -> _Model:
    """Construct a model instance without validation, fast.

    The transformer calls this tens of thousands of times on large files;
    pydantic's `model_construct` inspects each default factory's signature
    on every call, which cost seconds there. Types are guaranteed by the
    grammar, and tests validate a dump of every example against the schema.
    """
    fields = _FIELD_DEFAULTS.get(cls)
    if fields is None:
        fields = [
            (name, field.default_factory, True) if field.default_factory is not None
            else (name, None if field.is_required() else field.default, False)
            for name, field in cls.model_fields.items()
        ]
        _FIELD_DEFAULTS[cls] = fields
    fields_set = set(data)
    ordered = {}  # in schema order, as validation would give
    for name, default, is_factory in fields:
        if name in data:
            ordered[name] = data[name]
        else:
            ordered[name] = default() if is_factory else default
    instance = cls.__new__(cls)
    _set(instance, "__dict__", ordered)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance

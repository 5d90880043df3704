"""Name resolution: which step, stage or persona each reference means.

Returns the `Names` of the journey (its steps, their stages, the goal
steps, the personas, and the step each reference means, keyed by the
reference's span), with JD2xx diagnostics for names that don't resolve
(with "did you mean"). The journey itself is not changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label, close_matches
from .model import (
    NUMERIC_ATTRIBUTES,
    EntryPoint,
    Expect,
    Journey,
    PerPersona,
    Referral,
    Stage,
    StepRef,
    Touchpoint,
    Transition,
)
from .source import SourceFile, Span

Role = Literal["source", "target", "goal", "place", "step"]


@dataclass
class Names:
    """The journey's steps in declaration order, where each belongs, and
    what every reference in the text means."""

    steps: dict[str, Touchpoint | Stage] = field(default_factory=dict)
    stage_of: dict[str, str] = field(default_factory=dict)  # step id -> stage id
    stage_steps: dict[str, list[str]] = field(default_factory=dict)  # stage id -> step ids
    goal_steps: list[str] = field(default_factory=list)
    personas: list[str] = field(default_factory=list)
    #: the span of each reference that resolved -> the step (or, for a goal
    #: or a `reach`/`dropoff`/`churn` argument naming a stage, the stage) it means
    meaning: dict[Span, str] = field(default_factory=dict)

    def of(self, ref: StepRef) -> str | None:
        """The step a reference means; None when it did not resolve."""
        return self.meaning.get(ref.span)


def resolve(journey: Journey, source: SourceFile) -> tuple[Names, list[Diagnostic]]:
    resolver = _Resolver(journey, source)
    resolver.run()
    return resolver.names, resolver.problems


class _Resolver:
    def __init__(self, journey: Journey, source: SourceFile) -> None:
        self.journey = journey
        self.source = source
        self.problems: list[Diagnostic] = []
        self.names = Names(personas=journey.persona_ids)
        self.stages: dict[str, Stage] = {}
        self.defined: dict[str, Touchpoint | Stage] = {}  # step/stage/touchpoint id -> its node

    def error(self, code: str, message: str, span: Span | None, **kw: Any) -> None:
        self.problems.append(diag.make(code, message, self.source, span, **kw))

    @property
    def flooded(self) -> bool:
        """Past this many problems, "did you mean" searches are not worth their time."""
        return len(self.problems) > 1000

    def run(self) -> None:
        self.declare()
        j = self.journey
        self.flows(j.transitions, j.referrals, j.entries)
        goals: list[str] = []
        for goal in j.goals:
            goals.extend(self.ref(goal, "goal"))
        self.names.goal_steps = list(dict.fromkeys(goals))
        holders = [*self.names.steps.values(), *(s for s in j.stages if s.touchpoints)]
        for step in holders:  # steps, and stages whose margin their touchpoints take
            for value in map(step.attributes.__getattribute__, NUMERIC_ATTRIBUTES):
                if value is not None:
                    self.personas_of(value)
        self.expects(j.expects)
        self.events()
        seen: dict[str, Span] = {}
        for scenario in j.scenarios:
            if scenario.id in seen:
                self.duplicate("scenario", scenario.id, scenario.id_span, seen[scenario.id])
            seen[scenario.id] = scenario.id_span
            self.flows(scenario.transitions, scenario.referrals, scenario.entries)
            for override in scenario.attribute_overrides:
                self.ref(override.target, "step")
                for value in map(override.attributes.__getattribute__, NUMERIC_ATTRIBUTES):
                    if value is not None:
                        self.personas_of(value)
            self.expects(scenario.expects)

    def flows(self, transitions: Iterable[Transition], referrals: Iterable[Referral],
              entries: Iterable[EntryPoint]) -> None:
        """Transitions, referrals and entry points, in the journey or a scenario."""
        for transition in transitions:
            self.ref(transition.source, "source")
            self.ref(transition.target, "target")
            self.personas_of(transition.rate)
        for referral in referrals:
            self.ref(referral.source, "source")
            self.ref(referral.target, "target")
            self.personas_of(referral.amount)
        for entry in entries:
            self.ref(entry.target, "target")
            self.personas_of(entry.rate)

    # ------------------------------------------------------------ definitions
    def declare(self) -> None:
        personas: dict[str, Span] = {}
        for persona in self.journey.personas:
            if persona.id in personas:
                self.duplicate("persona", persona.id, persona.id_span, personas[persona.id])
            personas[persona.id] = persona.id_span
        for stage in self.journey.stages:
            if self.define(stage.id, stage):
                self.stages[stage.id] = stage
            steps = []
            for touchpoint in stage.touchpoints:
                if self.define(touchpoint.id, touchpoint):
                    steps.append(touchpoint.id)
            if stage.is_step and stage.id in self.stages:
                steps = [stage.id]
            for step_id in steps:
                self.names.steps[step_id] = self.defined[step_id]
                self.names.stage_of[step_id] = stage.id
            if stage.id in self.stages:
                self.names.stage_steps[stage.id] = steps

    def define(self, ident: str, node: Touchpoint | Stage) -> bool:
        if ident in self.defined:
            first = self.defined[ident]
            kind = "stage" if isinstance(node, Stage) else "touchpoint"
            self.duplicate(kind, ident, node.id_span, first.id_span)
            return False
        self.defined[ident] = node
        return True

    def duplicate(self, kind: str, ident: str, span: Span, first_span: Span) -> None:
        self.error("JD202", f"{kind} `{ident}` is defined twice", span,
                   labels=[Label(first_span, "first defined here")],
                   help="ids are unique in a file: rename one of them")

    def events(self) -> None:
        """Each event name marks at most one step (JD210). A step that names
        no events is marked by its own id, so that name is taken too."""
        named = {step_id: step.attributes.events for step_id, step in self.names.steps.items()}
        owner: dict[str, tuple[str, Span | None]] = {}  # event -> (step, where it was named)
        for step_id, events in named.items():
            if not events:
                owner.setdefault(step_id, (step_id, None))
        for step_id, events in named.items():
            for event in events:
                first = owner.get(event.name)
                if first is None:
                    owner[event.name] = (step_id, event.span)
                    continue
                first_step, first_span = first
                if first_span is None:
                    self.error("JD210", f"event `{event.name}` also marks step `{first_step}`",
                               event.span, labels=[Label(self.names.steps[first_step].id_span,
                                                         "a step that names no events is "
                                                         "marked by its own id")],
                               help=f"give `{first_step}` its own `event` names, or rename "
                                    "the event in the log")
                elif first_step == step_id:
                    self.error("JD210", f"event `{event.name}` is named twice on `{step_id}`",
                               event.span, labels=[Label(first_span, "first named here")],
                               help="remove the second one")
                else:
                    self.error("JD210", f"event `{event.name}` marks two steps: "
                               f"`{first_step}` and `{step_id}`", event.span,
                               labels=[Label(first_span, f"first mapped to `{first_step}` here")],
                               help="an event marks one step: keep it on the step a customer "
                                    "is at when the event happens")

    # ------------------------------------------------------------ references
    def ref(self, ref: StepRef, role: Role) -> list[str]:
        """Resolve a reference; returns the steps it means (several for a goal stage)."""
        meaning = self.names.meaning
        if ref.span in meaning and role in ("source", "target"):
            return [meaning[ref.span]]  # a chain's middle step: resolved as the previous target
        if ref.qualifier is not None:
            return self.qualified(ref, ref.qualifier)
        node = self.defined.get(ref.name)
        if node is None:
            self.unknown(ref)
            return []
        if isinstance(node, Touchpoint):
            meaning[ref.span] = node.id
            return [node.id]
        stage: Stage = node
        if stage.is_step or role == "place":
            meaning[ref.span] = stage.id
            return self.names.stage_steps.get(stage.id, [stage.id])
        touchpoints = self.names.stage_steps.get(stage.id, [])
        if role in ("source", "step") and touchpoints:
            choices = ", ".join(f"`{stage.id}.{t}`" for t in touchpoints[:4])
            what = "the source of a transition or referral" if role == "source" else "a single step"
            self.error("JD204", f"stage `{stage.id}` has touchpoints and cannot be {what}",
                       ref.span, help=f"name one of its touchpoints: {choices}")
            return []
        if role == "goal":
            meaning[ref.span] = stage.id
            return list(touchpoints)
        if not touchpoints:
            return []
        meaning[ref.span] = touchpoints[0]  # a target: its first touchpoint
        return [touchpoints[0]]

    def qualified(self, ref: StepRef, qualifier: str) -> list[str]:
        """`stage.touchpoint`: `qualifier` is the stage's id."""
        stage = self.stages.get(qualifier)
        if stage is None:
            guess = close_matches(qualifier, self.stages, n=1)
            self.error("JD205", f"`{ref.text}`: there is no stage `{qualifier}`", ref.span,
                       help=f"did you mean `{guess[0]}.{ref.name}`?" if guess else None)
            return []
        names = [t.id for t in stage.touchpoints]
        if ref.name not in names:
            guess = close_matches(ref.name, names, n=1)
            self.error("JD205", f"stage `{stage.id}` has no touchpoint `{ref.name}`", ref.span,
                       help=f"did you mean `{stage.id}.{guess[0]}`?" if guess else
                       ("its touchpoints: " + ", ".join(f"`{n}`" for n in names) if names
                        else f"stage `{stage.id}` has no touchpoints; write `{stage.id}`"))
            return []
        self.names.meaning[ref.span] = ref.name
        return [ref.name]

    def unknown(self, ref: StepRef) -> None:
        guess = [] if self.flooded else close_matches(ref.name, list(self.defined), n=1)
        self.error("JD201", f"unknown step `{ref.name}`", ref.span,
                   help=f"did you mean `{guess[0]}`?" if guess
                   else "declare it as a touchpoint inside a stage, or as a stage")

    def personas_of(self, value: PerPersona) -> None:
        for override in value.overrides:
            self.persona(override.persona, override.persona_span)

    def persona(self, persona: str, span: Span | None) -> None:
        declared = [p.id for p in self.journey.personas]
        if persona in declared:
            return
        if not declared:
            self.error("JD203", f"unknown persona `{persona}`: this journey declares none",
                       span, help=f'declare it: `persona {persona} "..." {{ share 50% }}`')
            return
        guess = close_matches(persona, declared, n=1)
        self.error("JD203", f"unknown persona `{persona}`", span,
                   help=f"did you mean `{guess[0]}`?" if guess
                   else "declared personas: " + ", ".join(f"`{p}`" for p in declared))

    def expects(self, expects: Iterable[Expect]) -> None:
        for expect in expects:
            if expect.persona is not None and expect.persona not in self.names.personas:
                self.persona(expect.persona, expect.persona_span or expect.metric_span)
            if expect.argument is not None:
                role: Role = "step" if expect.metric == "visits" else "place"
                self.ref(expect.argument, role)

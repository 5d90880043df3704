"""The parsed model and its resolved names -> a `CompiledJourney`.

Only for journeys whose names resolved: every reference is looked up in
`Names`, and one that did not resolve (the file has an error then) is left
out of the compiled value, as the checks expect. A scenario is applied to
the model first (`scenarios.apply_scenario`), so the baseline and each
scenario are compiled the same way.
"""

from __future__ import annotations

from typing import Literal

from .compiled import (
    CompiledJourney,
    Entry,
    Expectation,
    Move,
    Persona,
    Referral,
    Stage,
    Step,
    implicit_persona,
)
from .model import Expect, Journey, Scenario, Touchpoint
from .model import Stage as StageModel
from .resolve import Names
from .scenarios import apply_scenario
from .source import Span


def build_journey(model: Journey, names: Names, own_text_end: int,
                  scenario: Scenario | None = None) -> CompiledJourney:
    """The compiled baseline (or, with `scenario`, that scenario's variant)."""
    if scenario is not None:
        model = apply_scenario(model, scenario, names)
    of = names.of
    steps_by_id = {s.id: s for s in model.steps()}
    steps = tuple(_step(step_id, steps_by_id.get(step_id, node), names.stage_of[step_id])
                  for step_id, node in names.steps.items())
    declared: dict[str, StageModel] = {}
    for s in model.stages:  # a stage declared twice (JD202): the first, as resolved
        declared.setdefault(s.id, s)
    stages = tuple(Stage(s.id, s.label, s.attributes, tuple(names.stage_steps[s.id]), s.id_span)
                   for s in declared.values() if s.id in names.stage_steps)
    moves = tuple(Move(u, v, t.rate, t.delay_days, t.span) for t in model.transitions
                  if (u := of(t.source)) is not None and (v := of(t.target)) is not None)
    referrals = tuple(Referral(u, v, r.amount, r.delay_days, r.span) for r in model.referrals
                      if (u := of(r.source)) is not None and (v := of(r.target)) is not None)
    entries = tuple(Entry(step, e.rate, e.span) for e in model.entries
                    if (step := of(e.target)) is not None)
    expects = tuple(_expectation(e, names) for e in model.expects)
    keyword = Span(model.span.start, model.span.start + len("journey"))
    return CompiledJourney(
        title=model.title,
        path=model.path,
        currency=model.currency,
        discount=(model.discount.rate, model.discount.period) if model.discount else None,
        horizon_days=model.horizon_days,
        personas=_personas(model),
        stages=stages,
        steps=steps,
        moves=moves,
        referrals=referrals,
        entries=entries,
        goals=tuple(names.goal_steps),
        expects=tuple(e for e in expects if e is not None),
        keyword_span=keyword,
        scenario=scenario.id if scenario else None,
        scenario_label=scenario.label if scenario else None,
        margin=1.0 if model.margin is None else model.margin,
        library=model.is_library,
        own_text_end=own_text_end,
    )


def _step(step_id: str, node: Touchpoint | StageModel, stage: str) -> Step:
    kind: Literal["touchpoint", "stage"] = "stage" if isinstance(node, StageModel) else "touchpoint"
    return Step(step_id, node.label, stage, kind, node.attributes, node.id_span)


def _personas(model: Journey) -> tuple[Persona, ...]:
    """Each persona with its share of new prospects (one implicit persona: 100%)."""
    declared = model.personas
    if not declared:
        return (implicit_persona(),)
    if len(declared) == 1 and declared[0].share is None:
        only = declared[0]
        return (Persona(only.id, only.label, 1.0, only.id_span),)
    return tuple(Persona(p.id, p.label, p.share.mean if p.share else 0.0, p.id_span)
                 for p in declared)


def _expectation(expect: Expect, names: Names) -> Expectation | None:
    place = None
    if expect.argument is not None:
        place = names.of(expect.argument)
        if place is None:
            return None  # an unknown name: reported already
    text = (f"{expect.metric}({expect.argument.text})" if expect.argument is not None
            else f"{expect.metric}({expect.persona})" if expect.persona else expect.metric)
    is_stage = place is not None and place in names.stage_steps and place not in names.steps
    return Expectation(expect.metric, expect.op, expect.value, expect.unit, expect.persona,
                       place, is_stage, text, expect.span, expect.written)

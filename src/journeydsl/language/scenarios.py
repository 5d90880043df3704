"""What-if scenarios: a resolved Journey with one scenario's lines applied.

A scenario transition replaces the baseline edge with the same source and
target (rate and delay), or adds the edge; likewise for referrals. Scenario
`entry` lines replace the baseline entry as a whole; attribute blocks
replace the attributes they name on that step.
"""

from __future__ import annotations

from typing import Any, TypeVar

from .model import Attributes, AttributeOverride, Journey, Referral, Scenario, Transition
from .resolve import Names

_Flow = TypeVar("_Flow", Transition, Referral)


def apply_scenario(journey: Journey, scenario: Scenario, names: Names) -> Journey:
    """The journey as the scenario sees it: a new model (the journey is not
    changed), its references meaning what `names` says."""
    of = names.of

    def merged(baseline: list[_Flow], overrides: list[_Flow]) -> list[_Flow]:
        replaced = {(of(o.source), of(o.target)) for o in overrides}
        kept = [b for b in baseline if (of(b.source), of(b.target)) not in replaced]
        return kept + list(overrides)

    stages = journey.stages
    if scenario.attribute_overrides:
        changes = {of(o.target): o for o in scenario.attribute_overrides if of(o.target)}
        stages = []
        for stage in journey.stages:
            touchpoints = [
                t.model_copy(update={"attributes": _override(t.attributes, changes[t.id])})
                if t.id in changes else t
                for t in stage.touchpoints
            ]
            attributes = stage.attributes
            if stage.is_step and stage.id in changes:
                attributes = _override(attributes, changes[stage.id])
            stages.append(stage.model_copy(update={"touchpoints": touchpoints,
                                                   "attributes": attributes}))
    return journey.model_copy(update={
        "stages": stages,
        "transitions": merged(journey.transitions, scenario.transitions),
        "referrals": merged(journey.referrals, scenario.referrals),
        "entries": list(scenario.entries) or journey.entries,
        "expects": list(scenario.expects),
    })


_LIST_FIELDS = {"pain": "pains", "opportunity": "opportunities", "note": "notes"}


def _override(attributes: Attributes, change: AttributeOverride) -> Attributes:
    update: dict[str, Any] = {}
    for key in change.given:
        field = _LIST_FIELDS.get(key, key)
        if field in type(attributes).model_fields:
            update[field] = getattr(change.attributes, field)
    return attributes.model_copy(update=update)

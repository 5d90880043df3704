"""What the aggregation needs to know about a journey: which step each
event marks, which steps loop on themselves, and how long to wait before a
customer's last visit counts as the end of their walk.

>>> import journeydsl
>>> journey = journeydsl.loads('journey "j" { stage a { touchpoint ads { event "ad_click" } '
...     '; touchpoint pay } ; entry ads ; ads -> pay 5% after 20d ; pay -> pay 90% after 1mo '
...     '; goal pay }').journey
>>> plan = make_plan(journey)
>>> plan.events
{'ad_click': 0, 'pay': 1}
>>> [(s.id, s.loop, s.window_days) for s in plan.steps]
[('ads', False, 60.0), ('pay', True, 90.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

from ..language.compiled import CompiledJourney

#: A customer's last visit counts as an end only after this long without a
#: next event, at least (design: three times the longest declared delay out
#: of the step, at least 30 days).
MIN_WINDOW_DAYS = 30.0
WINDOW_DELAYS = 3.0


@dataclass(frozen=True)
class StepPlan:
    number: int  # the step's position in the journey (declaration order)
    id: str
    loop: bool  # the journey has a move from the step to itself: each event is a visit
    window_days: float  # a last visit less than this before the log's end is censored


@dataclass(frozen=True)
class Plan:
    steps: tuple[StepPlan, ...]
    events: dict[str, int]  # event name -> step number

    def names_of(self, number: int) -> list[str]:
        """The event names that mark step `number`."""
        return [name for name, step in self.events.items() if step == number]


def make_plan(journey: CompiledJourney, window_days: float | None = None) -> Plan:
    """The plan of the journey's baseline; `window_days` overrides every
    step's censoring window (`--window`)."""
    events: dict[str, int] = {}
    longest: dict[str, float] = {}
    for move in journey.edges.values():
        longest[move.source] = max(longest.get(move.source, 0.0), move.delay_days)
    loops = {m.source for m in journey.edges.values() if m.source == m.target}
    steps = []
    for number, step in enumerate(journey.steps):
        for name in [e.name for e in step.attributes.events] or [step.id]:
            events.setdefault(name, number)  # a name marking two steps is JD210
        window = window_days if window_days is not None else max(
            MIN_WINDOW_DAYS, WINDOW_DELAYS * longest.get(step.id, 0.0))
        steps.append(StepPlan(number, step.id, step.id in loops, window))
    return Plan(tuple(steps), events)


def first_event(journey: CompiledJourney, step_id: str) -> str:
    """The event a log written from the journey uses for a step: its first
    `event` name, or its id."""
    events = journey.step(step_id).attributes.events
    return events[0].name if events else step_id

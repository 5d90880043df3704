"""What the board shows, before any layout: the context every lane reads
(the journey, the persona shown, the words of the language, the exact
engine's report and the `expect` outcomes, computed once) and the shapes a
lane hands to the layout.

Text here is clean user text (`text.clean`: one line, control, bidi and
invisible characters shown as their escapes), not yet escaped for XML:
the SVG writer escapes it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from ...language.compiled import CompiledJourney, Step
from ..i18n import human, words
from ..text import clean, isolate, money, money_exact, pct

if TYPE_CHECKING:
    from ...language.model import PerPersona
    from ...simulate import Report
    from ...simulate.expectations import Outcome
    from ...simulate.results import Metrics


def plain(text: str | None) -> str:
    """User text for the board: `text.clean` (an override mark, which could
    flip the rest of a line, is shown as `\\u{202e}`; natural right-to-left
    text is kept)."""
    return clean(text)


# ------------------------------------------------------------ shapes
@dataclass
class Item:
    """One entry of a text cell."""

    text: str
    tone: str = "plain"  # plain | pain | opportunity | note | pass | fail | muted
    source: str = ""  # the step it belongs to, shown after the text


@dataclass
class Card:
    """A touchpoint (or a stage that is itself a step)."""

    title: str
    lines: list[str]
    emotion: float | None
    goal: bool
    flags: list[str]  # entry share, exits
    badge: str = ""  # the word on a goal's badge
    exits: bool = False  # walks end here (the flags are drawn in red)


@dataclass
class Bar:
    """A labelled fraction (reach and drop-off)."""

    text: str
    fraction: float
    tone: str  # reach | dropoff | churn


@dataclass
class Amount:
    """A stage's revenue, cost or profit (the money lane): `fraction` is its
    size against the largest amount on the board, for its bar."""

    label: str
    text: str
    fraction: float
    tone: str  # revenue | cost | profit | loss


@dataclass
class Curve:
    """The emotion lane: per stage, the steps on some persona's most likely
    path (slots); per persona, its points in path order (None: n/a)."""

    slots: list[list[tuple[str, str]]]  # per stage: (step id, label)
    lines: list[tuple[str, str, list[tuple[str, float | None]]]]  # (persona, label, points)

    def columns(self) -> dict[str, int]:
        """Each slot's step -> its stage column."""
        return {step: i for i, slots in enumerate(self.slots) for step, _ in slots}

    @staticmethod
    def segments(points: list[tuple[str, float | None]], x_of: dict[str, float],
                 column_of: dict[str, int] | None = None
                 ) -> list[tuple[bool, list[tuple[float, float]]]]:
        """One persona's line as pieces to draw: (solid, [(x, emotion)...]).
        A point without an emotion ends a piece (no gap is bridged); a jump
        is a dashed piece of two points (drawn as a hop over the curve): a
        move back to an earlier x, or, given `column_of` (each slot's
        column), a move forward over a whole stage column that has slots
        of its own, which a straight line would seem to pass through. A
        piece of one point is a lone dot."""
        occupied = set(column_of.values()) if column_of else set()
        out: list[tuple[bool, list[tuple[float, float]]]] = []
        run: list[tuple[float, float]] = []
        last = ""
        for step, emotion in [*points, ("", None)]:
            if emotion is None:
                if run:
                    out.append((True, run))
                run = []
                continue
            here = (x_of[step], emotion)
            if run and (here[0] < run[-1][0] or column_of is not None and any(
                    c in occupied for c in range(column_of[last] + 1, column_of[step]))):
                out.append((True, run))
                out.append((False, [run[-1], here]))
                run = []
            run.append(here)
            last = step
        return out


@dataclass
class LaneData:
    key: str
    title: str
    kind: str  # cards | items | curve | bars | money
    cells: list[list] = field(default_factory=list)  # per stage
    span: list[Item] = field(default_factory=list)  # whole-journey items (KPIs)
    curve: Curve | None = None


# ------------------------------------------------------------ context
class Context:
    """Everything lanes read, each part computed on first use."""

    def __init__(self, journey: CompiledJourney, persona: str | None = None,
                 lang: str = "en", report: Report | None = None,
                 outcomes: list[Outcome] | None = None) -> None:
        """`report` (the exact engine's) and `outcomes` (the `expect` lines
        evaluated) when the caller has them already."""
        if report is not None:
            self.report = report
        if outcomes is not None:
            self.outcomes = outcomes
        self.journey = journey
        self.persona = persona
        self.lang = lang
        self.w = words(lang)
        self.stages = list(journey.stages)
        self.stage_index = {s.id: i for i, s in enumerate(self.stages)}
        self.steps_of = {s.id: [journey.step(x) for x in s.steps] for s in self.stages}
        self.personas = [persona] if persona else journey.persona_ids
        shares = journey.shares
        self.weights = {persona: 1.0} if persona else {p: shares[p] for p in self.personas}

    def persona_label(self, persona: str) -> str:
        found = self.journey.persona(persona)
        if found is None or found.span is None:
            return self.w("prospects")
        return plain(found.label) or persona

    def amount(self, value: PerPersona | None, fmt: Callable[[float], str]) -> str | None:
        """A per-persona value for people: the shown persona's, or the base
        and each differing persona by label (`$1.20; Enterprise: $2.50`)."""
        if value is None:
            return None
        if self.persona:
            return fmt(value.mean_for(self.persona))
        base = fmt(value.base.mean)
        others = [f"{isolate(self.persona_label(o.persona))}: {fmt(o.amount.mean)}"
                  for o in value.overrides if o.persona in self.weights
                  and fmt(o.amount.mean) != base]
        return "; ".join([base, *others])

    def money(self, x: float, exact: bool = False) -> str:
        """Short on the board (`text.money`), whole in a table (`exact`)."""
        return (money_exact if exact else money)(x, self.journey.currency)

    def mean(self, value: PerPersona | None) -> float | None:
        if value is None:
            return None
        total = sum(self.weights.values()) or 1.0
        return sum(value.mean_for(p) * w for p, w in self.weights.items()) / total

    @cached_property
    def report(self) -> Report | None:
        """The exact engine's report (None for a library: nobody enters)."""
        if self.journey.library or not self.journey.entries:
            return None
        from ...simulate import simulate

        return simulate(self.journey, cohort=False)

    @cached_property
    def outcomes(self) -> list[Outcome]:
        if self.report is None or not self.journey.expects:
            return []
        from ...simulate.expectations import evaluate

        return evaluate(self.journey)

    def metrics(self) -> Metrics | None:
        """The shown persona's metrics, or the share-weighted blend."""
        report = self.report
        if report is None:
            return None
        return report.personas[self.persona] if self.persona else report.blended

    def stage_metrics(self) -> dict[str, dict[str, float | None]]:
        metrics = self.metrics()
        return {} if metrics is None else metrics.stages

    def path(self, persona: str) -> list[str]:
        """`persona`'s most likely path: the most probable route from an
        entry to a goal (the product of entry share and rates), then on
        through later stages by the likeliest move or referral."""
        return most_likely_path(self.journey, persona, self.stage_index)

    def channel(self, step: Step) -> str:
        return human(plain(step.channel))


def emotion_curve(ctx: Context) -> Curve | None:
    """The emotion curve of the board's lane and of `--view emotion` (None
    when no step has an emotion): every step on some shown persona's most
    likely path gets a slot in its stage (in path order, the first
    persona's first); each persona's points follow its own path, None
    where the step has no emotion for it (drawn as `n/a`, never bridged).
    Only the entry on the path is a point, so alternative entries are
    never joined as if one came after the other."""
    journey = ctx.journey
    if not any(s.attributes.emotion is not None for s in journey.steps):
        return None
    paths = {p: ctx.path(p) for p in ctx.personas}
    order: list[str] = []
    for p in ctx.personas:
        order += [s for s in paths[p] if s not in order]
    stage_of = {s.id: s.stage for s in journey.steps}
    slots: list[list[tuple[str, str]]] = [[] for _ in ctx.stages]
    for step in order:
        label = plain(journey.step(step).label) or step
        slots[ctx.stage_index[stage_of[step]]].append((step, label))
    lines = []
    for p in ctx.personas:
        points = []
        for step in paths[p]:
            emotion = journey.step(step).attributes.emotion
            points.append((step, None if emotion is None else emotion.mean_for(p)))
        lines.append((p, ctx.persona_label(p), points))
    return Curve(slots, lines)


def most_likely_path(journey: CompiledJourney, persona: str,
                     stage_index: dict[str, int]) -> list[str]:
    number = journey.step_number
    stage_of = {s.id: s.stage for s in journey.steps}
    out: dict[str, list[tuple[float, str]]] = {}
    for move in journey.edges.values():
        rate = move.rate.mean_for(persona)
        if rate > 0 and move.source != move.target:
            out.setdefault(move.source, []).append((rate, move.target))
    best: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    queue: list[tuple[float, int, str, str | None]] = []
    for step, rate in journey.entry_rates(persona).items():
        if rate > 0:
            heapq.heappush(queue, (-math.log(rate), number[step], step, None))
    while queue:
        cost, _, step, before = heapq.heappop(queue)
        if step in best:
            continue
        best[step], previous[step] = cost, before
        for rate, target in out.get(step, ()):
            if target not in best:
                heapq.heappush(queue, (cost - math.log(rate), number[target], target, step))
    if not best:
        return []
    goals = [g for g in journey.goals if g in best]
    if goals:
        end = min(goals, key=lambda g: (best[g], number[g]))
    else:  # no goal reachable: the furthest stage, then the likeliest step there
        end = min(best, key=lambda s: (-stage_index[stage_of[s]], best[s], number[s]))
    path = [end]
    before = previous[end]
    while before is not None:
        path.append(before)
        before = previous[before]
    path.reverse()
    return _extend(journey, persona, path, stage_index, stage_of)


def _extend(journey: CompiledJourney, persona: str, path: list[str],
            stage_index: dict[str, int], stage_of: dict[str, str]) -> list[str]:
    """After the goal: the likeliest move or referral on to a later step (a
    later stage, or later in the same stage), never back."""
    seen = set(path)
    number = journey.step_number
    while True:
        here = path[-1]
        options = [(m.rate.mean_for(persona), m.target) for m in journey.edges.values()
                   if m.source == here]
        options += [(min(1.0, r.amount.mean_for(persona)), r.target)
                    for r in journey.sends.values() if r.source == here]
        later = [(rate, t) for rate, t in options if rate > 0 and t not in seen
                 and (stage_index[stage_of[t]], number[t])
                 > (stage_index[stage_of[here]], number[here])]
        if not later:
            return path
        rate, target = max(later, key=lambda o: (o[0], -number[o[1]]))
        path.append(target)
        seen.add(target)


def rate(x: float) -> str:
    return pct(x)

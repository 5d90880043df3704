"""What a map shows, computed once for every output format.

`map_view(journey, persona, flows)` turns a compiled journey into
plain, ordered, already-formatted data (text not yet escaped): stages in
declared order with their steps, the edges sorted by declaration order, each
step's exit, and (with flows) prospects per 1,000 entrants from the exact
engine. The DOT and Mermaid writers only lay this out.
"""

from __future__ import annotations

from ..language.compiled import RATE_TOLERANCE, CompiledJourney, Step, Value
from ..language.model import Amount

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from .i18n import Words, human, words
from .text import clean, days, isolate, money, pct, per_thousand, wrap

#: Emotion 1..5 -> fill colour (light enough for black text; red to green).
EMOTION_COLOURS = ("#f8b4b4", "#fcd5a5", "#fbeea6", "#cfe8a9", "#9fd8a8")
NO_EMOTION = "#f1f1f1"
#: Line colours of the map, shared by the DOT and Mermaid writers.
REFERRAL = "#6a51a3"
EXIT = "#b42318"
GOAL = "#1b7837"
EDGE = "#4a5568"
BACK = "#2b6cb0"
#: Longest `value ... · cost ...` line kept as one line.
MONEY_LINE = 36
EMOTION_NAMES = ("1 very negative", "2 negative", "3 neutral", "4 positive", "5 very positive")


@dataclass
class StepView:
    id: str
    label: str
    stage: str
    lines: list[str]  # second and later lines: channel/owner, emotion, money
    emotion: float | None  # the shown persona's (or the share-weighted mean)
    goal: bool
    entry: str | None  # entry share text, None when not an entry
    entry_weight: float
    exit_text: str | None  # "exits 70%" / "churn 3%"; None when nothing leaves
    exit_flow: float | None = None
    visits: float | None = None  # per entrant, with flows


@dataclass
class EdgeView:
    source: str
    target: str
    kind: str  # "transition" or "referral"
    text: str  # rate (with persona overrides) / referral amount
    delay: str
    flow: float | None = None  # prospects per entrant moving along it


@dataclass
class StageView:
    id: str
    label: str
    steps: list[StepView] = field(default_factory=list)


@dataclass
class MapView:
    title: str
    persona: str | None
    persona_label: str | None
    scenario: str | None
    scenario_label: str | None
    stages: list[StageView]
    edges: list[EdgeView]
    flows: bool
    currency: str | None
    #: (id, label, share) of each persona when several are blended: the key
    #: to the `[ent: 30%]` brackets
    personas: list[tuple[str, str, float]] = field(default_factory=list)
    lang: str = "en"  # the language of the map's own words (i18n.py)

    @property
    def steps(self) -> list[StepView]:
        return [s for stage in self.stages for s in stage.steps]


@lru_cache(maxsize=1024)  # a map asks for the same few colours hundreds of times
def colour(emotion: float | None) -> str:
    """Fill colour of an emotion, interpolated between the five stops."""
    if emotion is None:
        return NO_EMOTION
    x = min(max(emotion, 1.0), 5.0) - 1.0
    low = min(int(x), 3)
    t = x - low
    a, b = EMOTION_COLOURS[low], EMOTION_COLOURS[low + 1]
    mixed = [round(int(a[i:i + 2], 16) * (1 - t) + int(b[i:i + 2], 16) * t) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def persona_text(values: dict[str, float] | None, persona: str | None,
                 fmt: Callable[[float], str]) -> str | None:
    """One persona's value, or the common value with differing personas in brackets:
    `25% [ent: 10%]` (the most frequent value first, like the source)."""
    if values is None:
        return None
    if persona is not None:
        return fmt(values[persona])
    shown = list(values.values())
    if shown.count(shown[0]) == len(shown):
        return fmt(shown[0])  # one value for all (no brackets)
    counts: dict[float, int] = {}
    first: dict[float, int] = {}  # value -> where it first appears
    for i, value in enumerate(values.values()):
        counts[value] = counts.get(value, 0) + 1
        first.setdefault(value, i)
    base = max(counts, key=lambda v: (counts[v], -first[v]))
    others = [f"{isolate(p)}: {fmt(value)}" for p, value in values.items() if value != base]
    return fmt(base) + (f" [{', '.join(others)}]" if others else "")


def written(value: Value, persona: str | None, personas: list[str],
            fmt: Callable[[Amount], str]) -> str:
    """A per-persona value as the file writes it: its base and its
    `[persona: ...]` overrides in the written order, or, for one persona,
    that persona's value. `fmt` prints one Amount.

    >>> import journeydsl
    >>> j = journeydsl.loads('journey "j" { persona a { share 50% } ; persona b { share 25% } ; '
    ...     'persona c { share 25% } ; stage s { touchpoint x ; touchpoint y } ; entry x ; '
    ...     'x -> y 30% [a: 10%, b: 10%] ; goal y }').journey
    >>> rate = j.moves[0].rate
    >>> written(rate, None, j.persona_ids, rate_text), written(rate, "b", j.persona_ids, rate_text)
    ('30% [a: 10%, b: 10%]', '10%')
    """
    if persona is not None:
        return fmt(value.for_persona(persona))
    if not value.overrides:
        return fmt(value.base)
    extra = [f"{isolate(o.persona)}: {fmt(o.amount)}" for o in value.overrides
             if o.persona in personas]
    return fmt(value.base) + (f" [{', '.join(extra)}]" if extra else "")


def rate_text(amount: Amount) -> str:
    """A rate as written: `8%`, its range `6%..10%`, or `~8%` (the mean of a
    beta); `per customer` when each customer draws its own."""
    own = " per customer" if amount.per_customer else ""
    if amount.kind == "uniform" and amount.low is not None and amount.high is not None:
        return f"{pct(amount.low)}..{pct(amount.high)}{own}"
    if amount.kind == "beta":
        return "~" + pct(amount.mean) + own
    return pct(amount.mean)


def map_view(journey: CompiledJourney, persona: str | None = None,
             flows: bool = False, lang: str = "en") -> MapView:
    """The map of a compiled journey (the baseline or a scenario), its own
    words in `lang`.

    Read from the compiled value itself, not its networkx `graph()`: building
    that graph was a third of this function's time on a 500-step journey."""
    personas = journey.persona_ids
    shares = journey.shares
    currency = journey.currency
    weights = {persona: 1.0} if persona else {p: shares[p] for p in personas}
    visits = _visits(journey, persona) if flows else None
    stage_labels = {s.id: clean(s.label) or s.id for s in journey.stages}
    stages = {sid: StageView(sid, label) for sid, label in stage_labels.items()}
    totals = {p: journey.outgoing(p) for p in personas}
    entries = {p: journey.entry_rates(p) for p in personas}
    moves, sends = journey.edges, journey.sends  # one per pair: the last written
    # Nothing arrives at a step of a library (or one left unlinked): no exit
    # to draw there.
    reached = {v for _, v in moves} | {v for _, v in sends}
    goals = journey.goal_set
    w = words(lang)
    context = _StepContext(persona, personas, weights, currency, visits, w)
    for step in journey.steps:
        entry = {p: entries[p].get(step.id, 0.0) for p in personas}
        arrives = step.id in reached or any(entry.values())
        view = context.step(step, step.id in goals, entry,
                            {p: totals[p][step.id] for p in personas}, arrives)
        stages.setdefault(step.stage, StageView(step.stage, step.stage)).steps.append(view)
    order = journey.step_number
    edges = []
    for u, v in sorted(moves.keys() | sends.keys(), key=lambda e: (order[e[0]], order[e[1]])):
        move = moves.get((u, v))
        if move is not None:
            flow = None
            if visits is not None:
                flow = _flow([visits[p].move(u, v, w, move.rate.mean_for(p))
                              for p, w in weights.items()])
            rate = written(move.rate, persona, personas, rate_text)
            edges.append(EdgeView(u, v, "transition", rate, days(move.delay_days), flow))
        send = sends.get((u, v))
        if send is not None:
            flow = None
            if visits is not None:
                flow = _flow([_times(w, visits[p].visits[u], send.amount.mean_for(p))
                              for p, w in weights.items()])
            amount = written(send.amount, persona, personas, lambda a: _amount(a.mean))
            edges.append(EdgeView(u, v, "referral", w("map_refers", amount=amount),
                                  days(send.delay_days), flow))
    persona_labels = {p.id: clean(p.label) for p in journey.personas}
    return MapView(
        title=clean(journey.title), persona=persona,
        persona_label=persona_labels.get(persona, persona) if persona else None,
        scenario=journey.scenario,
        scenario_label=clean(journey.scenario_label) if journey.scenario_label else None,
        stages=[s for s in stages.values() if s.steps], edges=edges, flows=flows,
        currency=currency, personas=persona_key(journey, persona), lang=lang)


def persona_key(journey: CompiledJourney, persona: str | None) -> list[tuple[str, str, float]]:
    """(id, label, share) per persona when the map blends several, else []."""
    if persona is not None or len(journey.persona_ids) < 2:
        return []
    labels = {p.id: clean(p.label) or p.id for p in journey.personas}
    return [(p, labels.get(p, p), journey.shares[p]) for p in journey.persona_ids]


def _amount(x: float) -> str:
    return f"{x:.3g}"


@dataclass
class _StepContext:
    """What every step's view is made with: the persona shown (or the blend's
    weights), the currency, the exact engine's flows; and the `channel ·
    owner` lines made so far (a map has a few, on hundreds of steps)."""

    persona: str | None
    personas: list[str]
    weights: dict[str, float]
    currency: str | None
    visits: dict[str, _Flows] | None
    w: Words
    meta: dict[tuple[str | None, str | None], str] = field(default_factory=dict)

    def mean(self, value: Value) -> float:
        """The shown persona's mean, or the share-weighted mean of the blend."""
        weights = self.weights
        total = sum(weights.values())
        if total <= 0:
            return value.mean_for(next(iter(weights)))
        return sum(value.mean_for(p) * w for p, w in weights.items()) / total

    def step(self, step: Step, goal: bool, entry: dict[str, float], out_rate: dict[str, float],
             arrives: bool) -> StepView:
        persona, personas, weights, visits = (self.persona, self.personas, self.weights,
                                              self.visits)
        node, attributes = step.id, step.attributes
        lines = []
        key = (attributes.channel, attributes.owner)
        meta = self.meta.get(key)
        if meta is None:
            meta = self.meta[key] = " · ".join(
                isolate(x) for x in (human(clean(attributes.channel)), clean(attributes.owner))
                if x)
        if meta:
            lines.append(meta)
        if attributes.emotion is not None:
            lines.append(self.w("map_emotion", value=written(
                attributes.emotion, persona, personas, lambda a: f"{a.mean:g}")))
        money_parts = []
        for key_name in ("value", "cost"):
            value = getattr(attributes, key_name)
            if value is not None and any(value.mean_for(p) for p in personas):
                money_parts.append(self.w(key_name, amount=written(
                    value, persona, personas, lambda a: money(a.mean, self.currency))))
        if money_parts:
            # One line while it is short; value and cost each on its own when
            # persona overrides make it long (a wide box widens its whole stage).
            both = " · ".join(money_parts)
            lines.extend([both] if len(both) <= MONEY_LINE else money_parts)
        entry_weight = sum(entry[p] * w for p, w in weights.items())
        entry_text = (persona_text(entry, persona, pct) if any(entry[p] > 0 for p in weights)
                      else None)
        stop = {p: max(0.0, 1.0 - out_rate[p]) for p in out_rate}
        exit_text = None
        has_out = any(v > 0 for v in out_rate.values())
        if (arrives and any(stop[p] > RATE_TOLERANCE for p in weights)
                and (not goal or has_out)):
            exit_text = self.w("churn" if goal else "exits", rate=persona_text(stop, persona, pct))
        step_visits = exit_flow = None
        if visits is not None:
            step_visits = _flow([None if visits[p].visits[node] is None
                                 else w * cast(float, visits[p].visits[node])
                                 for p, w in weights.items()])
            exit_flow = _flow([visits[p].end(node, w, stop[p]) for p, w in weights.items()])
            lines.append(self.w("map_visits", n=per_thousand(step_visits))
                         if step_visits is not None else self.w("map_visits_infinite"))
        emotion = None if attributes.emotion is None else self.mean(attributes.emotion)
        return StepView(node, clean(step.label) or node, step.stage, lines, emotion, goal,
                        entry_text, entry_weight, exit_text, exit_flow, step_visits)


@dataclass
class _Flows:
    """One persona's expected numbers per entrant (the exact engine): visits
    per step (None: infinite); with a `per customer` rate, where a move's
    flow is not visits x rate, the walks ending at each step and the flow of
    each move (None: infinite)."""

    visits: dict[str, float | None]
    ends: dict[str, float] | None = None
    moves: dict[tuple[str, str], float | None] | None = None

    def move(self, u: str, v: str, w: float, rate: float) -> float | None:
        """w x the walks moving u -> v per entrant."""
        if self.moves is not None:
            x = self.moves.get((u, v), 0.0)
            return None if x is None else w * x
        return _times(w, self.visits[u], rate)

    def end(self, node: str, w: float, stop: float) -> float | None:
        """w x the walks ending at `node` per entrant."""
        if self.ends is not None:
            return w * self.ends[node]
        return _times(w, self.visits[node], stop)


def _visits(journey: CompiledJourney, persona: str | None) -> dict[str, _Flows]:
    """Expected visits (and flows) per entrant, per persona and step (the
    exact engine), the prospects that referrals bring (and theirs, and so
    on) included: the visits of each entrant's whole referral cascade."""
    from ..simulate import simulate
    from ..simulate.chain import build_chain
    from ..simulate.exact import solve
    from ..simulate.mixture import flows

    wanted = [persona] if persona else journey.persona_ids
    out = {}
    plain = [p for p in wanted if not build_chain(journey, p).per_customer]
    if plain:
        report = simulate(journey, places=frozenset(), cohort=True)
        out = {p: _Flows(dict(report.personas[p].cohort_visits)) for p in plain}
    for p in wanted:
        if p in out:
            continue
        chain = build_chain(journey, p)
        visits, ends, moves = flows(chain, solve)
        names = chain.steps

        def known(x: float) -> float | None:
            return None if math.isnan(x) else x

        out[p] = _Flows(dict(zip(names, map(known, visits.tolist()))),
                        dict(zip(names, ends.tolist())),
                        {(names[u], names[v]): known(x) for u, v, x in
                         zip(chain.move_row.tolist(), chain.move_col.tolist(), moves.tolist())})
    return out


def _times(w: float, x: float | None, y: float) -> float | None:
    """w * x * y, in that order (None when x is: infinite)."""
    return None if x is None else w * x * y


def _flow(parts: list[float | None]) -> float | None:
    """A sum of persona parts; None when one is infinite (None)."""
    return None if any(x is None for x in parts) else sum(cast("list[float]", parts))


# ------------------------------------------------------------------ titles
def title_lines(journey: CompiledJourney, persona: str | None, flows: bool,
                lang: str = "en") -> list[str]:
    """The map's title lines, from the journey (for maps without a view)."""
    labels = {p.id: clean(p.label) for p in journey.personas}
    scenario = clean(journey.scenario_label) if journey.scenario_label else journey.scenario
    return title_parts(clean(journey.title), scenario,
                       (labels.get(persona) or persona) if persona else None, flows,
                       persona_key(journey, persona), lang)


def title_parts(name: str, scenario: str | None, persona: str | None, flows: bool,
                personas: list[tuple[str, str, float]], lang: str = "en") -> list[str]:
    """The title, then one line of what the map shows, then the persona key."""
    w = words(lang)
    parts = [name]
    if scenario:
        parts.append(w("map_scenario", name=isolate(scenario)))
    if persona:
        parts.append(w("map_persona", name=isolate(persona)))
    if flows:
        parts.append(w("map_flows"))
    lines = parts[:1] + ([" · ".join(parts[1:])] if len(parts) > 1 else [])
    if personas:
        chunks = [f"{isolate(key)} = {isolate(label)} ({pct(share)}),"
                  for key, label, share in personas]
        chunks[-1] = chunks[-1][:-1] + ";"
        lines += _pack([w("map_personas")] + chunks
                       + [w("map_own_value", id=personas[-1][0])], 110)
    return lines


def _pack(chunks: list[str], width: int) -> list[str]:
    """Chunks of text joined into lines of at most `width` characters, a
    chunk never split (unless longer than a line on its own)."""
    lines: list[str] = []
    for chunk in chunks:
        if lines and len(lines[-1]) + 1 + len(chunk) <= width:
            lines[-1] += " " + chunk
        else:
            lines.extend(wrap(chunk, width))
    return lines

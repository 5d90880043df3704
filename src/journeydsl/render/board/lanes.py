"""The lanes (rows) of the board, one small class each.

A lane has a `key` (its name in `--lanes`) and `build(ctx)`, which returns
its `LaneData` (per stage cells of one kind: cards, items, the emotion
curve or bars) or None when the journey has nothing for it; the layout
draws each kind. Adding a lane is a class here and its key in `LANES`.
"""

from __future__ import annotations

import math

from typing import TYPE_CHECKING

from ..formats import LANE_NAMES
from .content import Amount, Bar, Card, Context, Item, LaneData, emotion_curve, plain, rate
from ..text import isolate

if TYPE_CHECKING:
    from ...language.compiled import Expectation


class Lane:
    key = ""

    def build(self, ctx: Context) -> LaneData | None:  # pragma: no cover - abstract
        raise NotImplementedError


class Touchpoints(Lane):
    key = "touchpoints"

    def build(self, ctx: Context) -> LaneData:
        journey, w = ctx.journey, ctx.w
        goals = journey.goal_set
        outgoing = {p: journey.outgoing(p) for p in ctx.weights}
        arrives = {m.target for m in journey.moves} | {r.target for r in journey.referrals}
        entries: dict[str, float] = {}
        for p, weight in ctx.weights.items():
            for entered, share in journey.entry_rates(p).items():
                entries[entered] = entries.get(entered, 0.0) + weight * share
        cells = []
        for stage in ctx.stages:
            cards = []
            for step in ctx.steps_of[stage.id]:
                a = step.attributes
                meta = " · ".join(isolate(x) for x in (ctx.channel(step), plain(a.owner)) if x)
                lines = [meta] if meta else []
                for key in ("cost", "value"):
                    text = ctx.amount(getattr(a, key), ctx.money)
                    if text is not None:
                        lines.append(w(key, amount=text))
                flags = []
                if entries.get(step.id, 0.0) > 0:
                    lines.append(w("entry", rate=rate(entries[step.id])))
                stop = sum(max(0.0, 1.0 - outgoing[p][step.id]) * wt
                           for p, wt in ctx.weights.items())
                leaves = any(outgoing[p][step.id] > 0 for p in ctx.weights)
                reached = step.id in arrives or entries.get(step.id, 0.0) > 0
                exits = reached and stop > 1e-9 and (step.id not in goals or leaves)
                if exits:
                    key = "churn" if step.id in goals else "exits"
                    flags.append(w(key, rate=rate(stop)))
                goal = step.id in goals
                cards.append(Card(plain(step.label) or step.id, lines, ctx.mean(a.emotion),
                                  goal, flags, w("goal") if goal else "", exits))
            cells.append(cards)
        return LaneData(self.key, w("touchpoints"), "cards", cells)


class Emotion(Lane):
    key = "emotion"

    def build(self, ctx: Context) -> LaneData | None:
        curve = emotion_curve(ctx)
        if curve is None:
            return None
        return LaneData(self.key, ctx.w("emotion"), "curve", curve=curve)


class _Texts(Lane):
    """Pains, opportunities or notes: the stage's own, then each step's."""

    field = ""
    tone = ""

    def build(self, ctx: Context) -> LaneData | None:
        cells = []
        for stage in ctx.stages:
            items = [Item(plain(t), self.tone) for t in getattr(stage.attributes, self.field)]
            for step in ctx.steps_of[stage.id]:
                if step.kind == "stage":
                    continue  # the stage's own attributes, listed above
                items += [Item(plain(t), self.tone, plain(step.label) or step.id)
                          for t in getattr(step.attributes, self.field)]
            cells.append([i for i in items if i.text])
        if not any(cells):
            return None
        return LaneData(self.key, ctx.w(self.key), "items", cells)


class Pains(_Texts):
    key, field, tone = "pains", "pains", "pain"


class Opportunities(_Texts):
    key, field, tone = "opportunities", "opportunities", "opportunity"


class Notes(_Texts):
    key, field, tone = "notes", "notes", "note"


class KPIs(Lane):
    """Each `expect` line with its actual value: in its stage when it names
    a step or stage, else across the whole journey."""

    key = "kpis"

    def build(self, ctx: Context) -> LaneData | None:
        outcomes = ctx.outcomes
        if not outcomes:
            return None
        journey, w = ctx.journey, ctx.w
        stage_of = {s.id: s.stage for s in journey.steps}
        cells: list[list[Item]] = [[] for _ in ctx.stages]
        span = []
        for o in outcomes:
            e = o.expect
            actual = w("undefined") if o.actual is None else kpi_value(ctx, e, o.actual)
            text = f"{kpi_name(ctx, e)} {_op(e.op)} {kpi_value(ctx, e, e.value)}: {actual}"
            item = Item(text, "pass" if o.passed else "fail")
            if e.place is not None:
                stage = e.place if e.place_is_stage else stage_of[e.place]
                cells[ctx.stage_index[stage]].append(item)
            else:
                span.append(item)
        return LaneData(self.key, w("kpis"), "items", cells, span)


def kpi_name(ctx: Context, e: Expectation) -> str:
    """`LTV:CAC (Small business)`, `Reach (Pricing page)`: an expect line's
    metric for people."""
    from ..i18n import metric_label

    name = metric_label(e.metric, ctx.lang)
    about = []
    if e.persona:
        about.append(isolate(short(ctx.persona_label(e.persona))))
    if e.place is not None:
        journey = ctx.journey
        if e.place_is_stage:
            label = next((s.label for s in journey.stages if s.id == e.place), e.place)
        else:
            label = journey.step(e.place).label
        about.append(isolate(short(plain(label) or e.place)))
    if not about:
        return name
    if name.endswith(")"):  # `CLV (per customer, Small business)`, not `(...) (...)`
        return f"{name[:-1]}, {', '.join(about)})"
    return f"{name} ({', '.join(about)})"


#: A label inside a KPI's name is cut to this many characters, so a long
#: label never pushes the target and the actual value out of the cell.
KPI_LABEL = 40


def short(label: str) -> str:
    return label if len(label) <= KPI_LABEL else label[:KPI_LABEL - 1].rstrip() + "…"


def kpi_value(ctx: Context, e: Expectation, value: float, exact: bool = False) -> str:
    """An `expect` line's value as the board shows it (money short), or
    `exact` (money whole: the report's scorecard table)."""
    from ...metrics import METRIC
    from ..text import quantity

    if e.unit == "rate":
        return rate(value)
    if e.unit == "days":
        return ctx.w("days", n=quantity(value))
    if e.metric in METRIC and METRIC[e.metric].unit == "money":
        return ctx.money(value, exact)
    return quantity(value)


def _op(op: str) -> str:
    return {">=": "≥", "<=": "≤"}.get(op, op)


class Reach(Lane):
    """Per stage: the share of prospects who visit it, and where walks end there."""

    key = "reach"

    def build(self, ctx: Context) -> LaneData | None:
        stages = ctx.stage_metrics()
        if not stages:
            return None
        w = ctx.w
        cells = []
        for stage in ctx.stages:
            m = stages.get(stage.id) or {}
            bars: list[Bar | Item] = []
            reach = m.get("reach")
            if reach is not None:
                bars.append(Bar(w("reach_of", rate=rate(reach)), reach, "reach"))
            if stage.id in referred_only(ctx):
                bars.append(Item(w("referred_only"), "muted"))
            for key, tone in (("dropoff", "dropoff"), ("churn", "churn")):
                share = m.get(key) or 0.0
                if share > 5e-5:
                    bars.append(Bar(w(f"{key}_of", rate=rate(share)), share, tone))
            cells.append(bars)
        return LaneData(self.key, w("reach"), "bars", cells)


def referred_only(ctx: Context) -> set[str]:
    """The stages no entering prospect visits (reach shown as 0%) that
    prospects referred by customers do visit: the reach lane and the funnel
    say so, instead of a bare 0%."""
    stages = ctx.stage_metrics()
    targets = {r.target for r in ctx.journey.referrals}
    out = set()
    for stage in ctx.stages:
        reach = (stages.get(stage.id) or {}).get("reach")
        if reach is not None and reach < 5e-5 and any(
                step.id in targets for step in ctx.steps_of[stage.id]):
            out.add(stage.id)
    return out


#: Below this an amount prints as 0 (two decimals at most).
CENT = 0.005


class Money(Lane):
    """Per stage: the revenue, cost and profit of its steps' visits, per
    prospect who enters (discounted, as `simulate` reports money by place:
    profit is margin x revenue - cost, so the three need not add up); the
    whole journey's in a row above. A loss is red, with a minus sign."""

    key = "money"
    KINDS = ("revenue", "cost", "profit")

    def build(self, ctx: Context) -> LaneData | None:
        metrics = ctx.metrics()
        stages = ctx.stage_metrics()
        if metrics is None or not stages:
            return None
        w = ctx.w
        # None: a number without a value (infinite over customers who keep
        # their own rate, `per customer`): shown as —, never as 0
        amounts = {(s.id, k): known_money((stages.get(s.id) or {}).get(k, 0.0))
                   for s in ctx.stages for k in self.KINDS}
        largest = max((abs(x) for x in amounts.values() if x is not None), default=0.0)
        if largest < CENT and None not in amounts.values():
            return None  # no step earns or costs anything

        def amount(kind: str, x: float | None) -> Amount:
            if x is None:
                return Amount(w(f"money_{kind}"), "\u2014", 0.0, kind)
            text = ctx.money(x)
            tone = "loss" if kind == "profit" and text.startswith("\u2212") else kind
            return Amount(w(f"money_{kind}"), text, abs(x) / largest if largest else 0.0, tone)

        cells: list[list] = []
        for stage in ctx.stages:
            row = [amount(k, amounts[stage.id, k]) for k in self.KINDS]
            if all(x is not None and abs(x) < CENT
                   for x in (amounts[stage.id, k] for k in self.KINDS)):
                cells.append([Item(w("money_none"), "muted")])
            else:
                cells.append(row)
        totals = [amount(k, known_money(metrics.value(k))) for k in self.KINDS]
        span = [Item(f"{w('whole_journey')}: {a.label} {a.text}" if i == 0
                     else f"{a.label} {a.text}", a.tone) for i, a in enumerate(totals)]
        return LaneData(self.key, w("money"), "money", cells, span)


def known_money(x: float | None) -> float | None:
    """A money amount, or None when it has no value (None, inf or NaN)."""
    return x if x is not None and math.isfinite(x) else None


LANES: dict[str, type[Lane]] = {lane.key: lane for lane in (
    Touchpoints, Emotion, Pains, Opportunities, Notes, KPIs, Reach, Money)}
DEFAULT_LANES = tuple(LANES)
if DEFAULT_LANES != LANE_NAMES:  # a bug: formats.py names the lanes for the CLI's help
    raise AssertionError(f"render/formats.py LANE_NAMES {LANE_NAMES} != {DEFAULT_LANES}")


def build_lanes(ctx: Context, keys: tuple[str, ...] = DEFAULT_LANES) -> list[LaneData]:
    """The lanes asked for, in the order asked, leaving out empty ones."""
    out = []
    for key in keys:
        lane = LANES[key]().build(ctx)
        if lane is not None:
            out.append(lane)
    return out

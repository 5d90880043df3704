"""The report's sections, each a method of `Report` returning HTML (or ""
when the journey has nothing for it). Numbers come from the back ends:
`simulate` (headline, funnel, scenarios), `expectations.evaluate` (the
scorecard), `levers`, `attribution`, the board and the map renderers.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

from ...language.compiled import CompiledJourney
from ..board.content import plain
from ..i18n import human, metric_label, words
from ..text import isolate, money, money_exact, pct, quantity
from . import charts

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ...simulate import Report as SimulationReport
    from ...simulate.expectations import Outcome
    from ...simulate.levers import Lever
    from ...simulate.results import Metrics
from .page import Raw, badge, esc, figure, page, section, table

HEADLINE = ("conversion", "revenue", "cost", "profit", "clv", "cac", "ltv_cac", "payback",
            "time_to_convert", "viral_coefficient")
TOP_LEVERS = 10
#: The board's width in the report: near a laptop's section width, so its
#: text shows at about 80% of its size (11 px and up), not 60%, with columns
#: wide enough for stage names.
BOARD_WIDTH = 1500


class Report:
    def __init__(self, baseline: CompiledJourney, scenarios: list[CompiledJourney],
                 lang: str = "en", source: str = "",
                 outcomes: list[Outcome] | None = None) -> None:
        self.journey, self.scenarios = baseline, scenarios
        self.outcomes = outcomes
        self.lang, self.source = lang, source
        self.w = words(lang)
        self._levers = _Background(_blended_levers, baseline)

    # ------------------------------------------------------------ data
    @cached_property
    def report(self) -> SimulationReport:
        from ...simulate import simulate

        return simulate(self.journey, cohort=False)

    def evaluated(self, variant: CompiledJourney) -> list[Outcome]:
        from ...simulate.expectations import evaluate

        if self.outcomes is None:
            return evaluate(variant)
        return [o for o in self.outcomes if o.scenario == variant.scenario]

    def label(self, step: str) -> str:
        return plain(self.journey.step(step).label) or step

    def value(self, name: str, metrics: Metrics) -> str:
        return self.show(name, metrics.value(name))

    def show(self, name: str, x: float | None, exact: bool = True) -> str:
        """Metric `name`'s value `x` for people: money whole (`exact`, for
        tables and cards) or short (beside a chart's rows)."""
        from ...metrics import METRIC

        if x is None:
            return "—"
        unit = METRIC[name].unit
        if unit == "rate":
            return pct(x)
        if unit == "money":
            return (money_exact if exact else money)(x, self.journey.currency)
        if unit == "days":
            return self.w("days", n=quantity(x))
        return quantity(x)

    # ------------------------------------------------------------ page
    def html(self) -> str:
        j, w = self.journey, self.w
        subtitle = [w("report_intro")]
        if len(j.personas) > 1:
            subtitle.append(f"{w('personas')}: " + ", ".join(
                f"{isolate(plain(p.label) or p.id)} {round(p.share * 100):g}%"
                for p in j.personas))
        body = [self.headline(), self.scorecard(), self.board(), self.map(), self.funnel(),
                self.money(), self.payback(), self.monte_carlo(), self.compare(), self.levers(),
                self.attribution()]
        footer = w("generated", file=isolate(plain(str(self.source or j.path))))
        return page(plain(j.title) or "journey", subtitle, [b for b in body if b], footer,
                    self.lang)

    def headline(self) -> str:
        blended = self.report.blended
        cards = "".join(
            f'<div class="card"><div class="label">{esc(metric_label(m, self.lang))}</div>'
            f'<div class="value">{esc(self.value(m, blended))}</div></div>' for m in HEADLINE)
        return section("headline", self.w("headline"), "", f'<div class="cards">{cards}</div>')

    def scorecard(self) -> str:
        from ..board.content import Context
        from ..board.lanes import kpi_name, kpi_value

        w = self.w
        rows = []
        for variant in [self.journey, *self.scenarios]:
            ctx = Context(variant, None, self.lang)
            name = (plain(variant.scenario_label) or variant.scenario if variant.scenario
                    else w("baseline"))
            for o in self.evaluated(variant):
                e = o.expect
                actual = (w("undefined") if o.actual is None
                          else kpi_value(ctx, e, o.actual, exact=True))
                op = {">=": "≥", "<=": "≤"}.get(e.op, e.op)
                target = f"{kpi_name(ctx, e)} {op} {kpi_value(ctx, e, e.value, exact=True)}"
                rows.append([name, target, actual, badge(o.passed, w("pass" if o.passed
                                                                    else "fail"))])
        if not rows:
            return section("scorecard", w("scorecard"), w("scorecard_none"), "")
        return section("scorecard", w("scorecard"), "", table(
            [w("scenario").capitalize(), w("expect"), w("actual"), w("result")], rows, {2}))

    def board(self) -> str:
        from ..board import board_svg

        svg = board_svg(self.journey, lang=self.lang, report=self.report, width=BOARD_WIDTH,
                        outcomes=self.evaluated(self.journey))
        return section("board", self.w("board"), "", f'<div class="scroll">{svg}</div>')

    def map(self) -> str:
        from .. import produce
        from ..backends import RenderFailed

        try:
            svg = produce(self.journey, "svg", flows=True,
                          board={"lang": self.lang}).decode("utf-8")  # (its words)
        except RenderFailed as err:
            return section("map", self.w("map"), self.w("map_missing", reason=str(err)), "")
        svg = _readable(svg[svg.find("<svg"):])  # no XML prolog or doctype inside HTML
        return section("map", self.w("map"), self.w("map_note"), f'<div class="scroll">{svg}</div>')

    def funnel(self) -> str:
        w = self.w
        stages = self.report.blended.stages
        rows = [{"stage": plain(s.label) or s.id, "reach": stages[s.id]["reach"] or 0.0}
                for s in self.journey.stages]
        svg = charts.bars(rows, "reach", "stage", metric_label("reach", self.lang),
                          prefix="funnel")
        data = table([w("stage"), metric_label("reach", self.lang),
                      metric_label("dropoff", self.lang), metric_label("churn", self.lang)],
                     [[plain(s.label) or s.id, pct(stages[s.id]["reach"] or 0.0),
                       pct(stages[s.id]["dropoff"] or 0.0), pct(stages[s.id]["churn"] or 0.0)]
                      for s in self.journey.stages], {1, 2, 3})
        note = w("funnel_note")
        only = _referred_only(self.journey, self.lang, self.report)
        if only:
            note += " " + w("funnel_referred", stages=", ".join(
                isolate(plain(s.label) or s.id) for s in self.journey.stages if s.id in only))
        return section("funnel", w("funnel"), note,
                       figure(svg, w("funnel"), data, w("data_table")))

    def money(self) -> str:
        """Revenue, cost and profit per stage (the board's money lane as a
        chart), with the whole journey's in the data table."""
        from ..board.content import Context
        from ..board.lanes import CENT, Money, known_money
        from ..board.pieces import MONEY

        w = self.w
        lane = Money().build(Context(self.journey, None, self.lang, self.report))
        if lane is None:
            return ""
        stages = self.report.blended.stages
        tones = {w(f"money_{k}" if k != "loss" else "money_loss"): MONEY[k] for k in MONEY}
        rows, table_rows = [], []
        for s in self.journey.stages:
            name = plain(s.label) or s.id
            # (None: no value, infinite for customers who keep their own rate: —)
            values = [known_money(stages[s.id][k]) for k in Money.KINDS]
            table_rows.append([name, *("\u2014" if x is None
                                       else money_exact(x, self.journey.currency)
                                       for x in values)])
            for kind, x in zip(Money.KINDS, values):
                if x is None:
                    continue
                shown = money(x, self.journey.currency)  # a loss as the board shows it
                tone = "loss" if kind == "profit" and shown.startswith("\u2212") else kind
                # (no label on an amount that rounds to zero: a row of `$0`s
                # said less than the data table and the board's "no revenue or cost")
                rows.append({"stage": name, "kind": w(f"money_{kind}"),
                             "tone": w(f"money_{tone}"), "value": x,
                             "text": shown if abs(x) >= CENT else ""})
        blended = self.report.blended
        totals = [known_money(blended.value(k)) for k in Money.KINDS]
        table_rows.append([w("whole_journey"), *("\u2014" if x is None else
                                                 money_exact(x, self.journey.currency)
                                                 for x in totals)])
        currency = plain(self.journey.currency) or ""
        title = w("money_axis", currency=f" ({currency})" if currency else "")
        svg = charts.money(rows, title, tones, prefix="money")
        data = table([w("stage"), *(w(f"money_{k}") for k in Money.KINDS)], table_rows,
                     {1, 2, 3})
        return section("money", w("money_title"), w("money_note"),
                       figure(svg, w("money_title"), data, w("data_table")))

    def payback(self) -> str:
        """The cohort curve (`journey simulate --curve month`): cumulative
        profit per entering prospect by month (revenue and cost too in its
        table), and the payback where profit turns positive for good."""
        from ...simulate.curve import NoCurve, cohort_curve
        from ...simulate.timeline import TooManyEvents
        from ..board.pieces import MONEY

        w = self.w
        blended = self.report.blended
        if not any(blended.value(k) for k in ("revenue", "cost")):
            return ""
        try:
            rows = cohort_curve(self.journey, "month").rows
        except (NoCurve, TooManyEvents):  # (`journey simulate --curve month` says why)
            return ""
        kinds = [(k, w(f"money_{k}")) for k in ("revenue", "cost", "profit")]
        # the chart draws profit alone (revenue, far larger, flattened it to a
        # line on zero); its table has all three
        profit = w("money_profit")
        data = [{"month": 0.0, "kind": profit, "value": 0.0}]
        data += [{"month": r["end_days"] / 30.0, "kind": profit, "value": float(r["profit"])}
                 for r in rows]
        payback = blended.payback
        text = (w("payback_at", days=self.value("payback", blended)) if payback is not None
                else w("payback_never"))
        currency = plain(self.journey.currency) or ""
        svg = charts.curve(data, w("payback_month"),
                           w("payback_money", currency=f" ({currency})" if currency else ""),
                           {profit: MONEY["profit"]},
                           None if payback is None else payback / 30.0, text, prefix="payback")
        cur = self.journey.currency
        table_rows = [[f"{r['end_days'] / 30.0:g}", money_exact(r["revenue"], cur),
                       money_exact(r["cost"], cur), money_exact(r["profit"], cur)]
                      for r in rows]
        table_html = table([w("payback_month"), *(name for _, name in kinds)], table_rows,
                           {0, 1, 2, 3})
        never = w("payback_never")
        note = w("payback_note") + ("" if payback is not None
                                    else f" {never[:1].upper()}{never[1:]}.")
        return section("payback", w("payback_title"), note,
                       figure(svg, w("payback_title"), table_html, w("data_table")))

    def monte_carlo(self) -> str:
        from .uncertainty import monte_carlo_section

        return monte_carlo_section(self)

    def compare(self) -> str:
        from ...simulate import simulate

        w = self.w
        if not self.scenarios:
            return ""
        reports: list[tuple[str, Metrics]] = [(w("baseline"), self.report.blended)]
        reports += [(plain(s.scenario_label) or s.scenario or "",
                     simulate(s, cohort=False).blended)
                    for s in self.scenarios]
        rows = [{"variant": name, "conversion": m.conversion} for name, m in reports]
        specs = [charts.bars_spec(rows, "conversion", "variant",
                                  metric_label("conversion", self.lang), fmt=".2%")]
        profits = [(name, m.value("profit")) for name, m in reports]
        if any(p for _, p in profits) and all(p is not None for _, p in profits):
            # a scenario that changes money, not conversion (a repeat-purchase
            # offer), had two equal bars and nothing else to see
            currency = plain(self.journey.currency) or ""
            specs.append(charts.bars_spec(
                [{"variant": name, "profit": p, "text": money(p or 0.0, self.journey.currency)}
                 for name, p in profits], "profit", "variant",
                metric_label("profit", self.lang) + (f" ({currency})" if currency else ""),
                fmt=",.2~f", colour=charts.GREEN, text="text"))
        svg = charts.stacked(specs, prefix="compare")
        headers = [w("metric")] + [name for name, _ in reports]
        body = [[metric_label(name, self.lang)] + [self.value(name, m) for _, m in reports]
                for name in HEADLINE]
        numeric = set(range(1, len(headers)))
        return section("scenarios", w("scenarios"), w("scenarios_note"),
                       figure(svg, w("scenarios"), table(headers, body, numeric),
                              w("data_table")))

    def levers(self) -> str:
        w = self.w
        gains = [(lv, lv.d_conversion or 0.0) for lv in self._levers.result()]
        gains.sort(key=lambda g: (-abs(g[1]), g[0].source, g[0].target))
        top = [lv for lv, _ in gains[:TOP_LEVERS]]
        if not top or gains[0][1] == 0:
            return ""
        rows = [{"move": f"{self.label(lv.source)} → {self.label(lv.target)}",
                 "low": -gain * 100, "high": gain * 100} for lv, gain in gains[:TOP_LEVERS]]
        svg = charts.tornado(rows, "move", "low", "high", w("conversion_pp"), w("minus"),
                             w("plus"), prefix="levers")
        data = table([w("move"), w("rate"), w("plus")],
                     [[f"{isolate(self.label(lv.source))} → {isolate(self.label(lv.target))}",
                       pct(lv.rate), f"{r['high']:+.3f} pp"]
                      for r, lv in zip(rows, top)], {1, 2})
        return section("levers", w("levers"), w("levers_note", n=len(top)),
                       figure(svg, w("levers"), data, w("data_table")))

    def attribution(self) -> str:
        from ...simulate.attribution import attribution

        w = self.w
        result = attribution(self.journey, steps=False)
        rows: list[dict[str, Any]] = [
            {"channel": human(plain(name)) if name else w("no_channel"),
             "share": r.share or 0.0, "effect": r.removal_effect or 0.0}
            for name, r in result.channels.items() if r.share]
        if not rows:
            return ""
        svg = charts.bars(rows, "share", "channel", w("share"), colour=charts.GREEN,
                          prefix="attribution")
        data = table([w("channel"), w("removal"), w("share")],
                     [[r["channel"], pct(r["effect"]), pct(r["share"])] for r in rows], {1, 2})
        return section("attribution", w("attribution"), w("attribution_note"),
                       figure(svg, w("attribution"), data, w("data_table")))


#: The flow map is shown at least this share of its own size (its 11 pt
#: text at about 9 px; the section scrolls sideways), never larger than it.
MAP_SCALE = 0.6


def _readable(svg: str) -> str:
    """Graphviz's SVG with a width that keeps its text readable: fitted to
    the section when that is large enough, else MAP_SCALE of its own width
    (the page scrolls it sideways; print fits it to the page)."""
    import re

    found = re.match(r'<svg width="([\d.]+)pt"', svg)
    if found is None:
        return svg
    px = float(found.group(1)) * 4 / 3
    return svg.replace("<svg ", f'<svg style="width:max(100%, {px * MAP_SCALE:.0f}px);'
                       f'max-width:{px:.0f}px" ', 1)


def _referred_only(journey: CompiledJourney, lang: str,
                   report: SimulationReport) -> set[str]:
    from ..board.content import Context
    from ..board.lanes import referred_only

    return referred_only(Context(journey, None, lang, report))


def _blended_levers(journey: CompiledJourney) -> list[Lever]:
    from ...simulate.levers import levers

    return [lv for lv in levers(journey) if lv.persona is None and lv.movable
            and lv.d_conversion is not None and lv.source != lv.target]


class _Background:
    """`function(journey)` in a forked child process, started at once (the
    levers of a journey with a horizon take about a second: they run while
    the report draws its charts); in this process where fork is missing."""

    def __init__(self, function: Callable[[CompiledJourney], list[Lever]],
                 journey: CompiledJourney) -> None:
        self.function, self.journey = function, journey
        self.future: Future[list[Lever]] | None = None
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            import pickle

            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
            # pickled here, not by the pool's feeder thread: this process goes
            # on using the journey, whose cached properties (its numbers)
            # fill its __dict__ while the feeder would be pickling it
            self.future = self.pool.submit(_unpickled, function, pickle.dumps(journey))

    def result(self) -> list[Lever]:
        if self.future is None:
            return self.function(self.journey)
        try:
            return self.future.result()
        finally:
            self.pool.shutdown()


def _unpickled(function: Callable[[CompiledJourney], list[Lever]], journey: bytes) -> list[Lever]:
    """`function` on a journey sent pickled (in the child process)."""
    import pickle

    return function(pickle.loads(journey))


__all__ = ["Raw", "Report"]

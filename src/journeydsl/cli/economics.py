"""Rich views for `journey simulate`'s unit economics: prospects by entry
step, money by stage and by channel, the KPI scorecard, the funnel's note on
referred prospects, and the cohort curve with its sparkline.

They follow the rules of tables.py: no row wraps (names are labels when they
fit in the width, else ids, cut with "…" only as a last resort), numbers are
never cut, negatives carry U+2212, and user text (labels, channels) is shown
safe (`display.one_line`: no escape sequence or bidi override reaches the
terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..display import one_line
from ..metrics import METRIC
from .tables import fmt, natural_width, payback_text, points, signed

if TYPE_CHECKING:
    from ..language.compiled import CompiledJourney
    from ..simulate.levers import Lever
    from ..simulate.curve import Curve
    from ..simulate.expectations import Outcome
    from ..simulate.results import Entry, Metrics

def _named(rows: list[tuple[str, str]], build: Callable[[list[str]], Table],
           width: int | None) -> Table:
    """The table with each row named by its label (first) when it fits in
    `width`, else by its id, else by ids cut to fit."""
    labels = [label for label, _ in rows]
    ids = [ident for _, ident in rows]
    for names in (labels, ids):
        table = build(names)
        if width is None or natural_width(table) <= width:
            return table
    longest = max(map(cell_len, ids), default=1)
    room = max(longest - (natural_width(table) - (width or 0)), 4)
    return build([_cut(name, room) for name in ids])


def _cut(name: str, room: int) -> str:
    if cell_len(name) <= room:
        return name
    while name and cell_len(name) + 1 > room:
        name = name[:-1]
    return name + "…"


def sections(journey: CompiledJourney, currency: str | None, width: int | None
             ) -> Callable[[Metrics], tuple[list, list]]:
    """For `tables.report_view`: what goes under the funnel (its note) and
    under the metrics (by entry step, money by stage and channel)."""
    def of(focus: Metrics) -> tuple[list, list]:
        return (funnel_note(focus, journey),
                entry_table(focus, journey, currency, width)
                + money_tables(focus, journey, currency, width))

    return of


# ------------------------------------------------------------------ by entry

def entry_table(metrics: Metrics, journey: CompiledJourney, currency: str | None,
                width: int | None = None) -> list[Table]:
    """Prospects by entry step: what a budget owner compares channels on.
    None with a single entry step (its numbers are the headline's). Entries
    by label when that fits in `width`, else by id; a table too wide is cut
    into two by its columns (each repeating the entries), as the metrics."""
    entries = metrics.by_entry
    if len(entries) < 2:
        return []
    steps = {s.id: s for s in journey.steps}

    def name(step: str) -> tuple[str, str]:
        s = steps[step]
        channel = f" ({one_line(s.channel)})" if s.channel else ""
        return f"{one_line(s.label) or step}{channel}", f"{step}{channel}"

    rows = [name(step) for step in entries]
    cells = [_entry_cells(entry, currency) for entry in entries.values()]
    heads = ("Share", "Conversion", "CAC", "CLV", "LTV:CAC", "Payback")
    title = "By entry step (per prospect entering there)"

    def build(names: list[str], columns: range, part: str) -> Table:
        table = Table(title=title + part, title_justify="left", caption_justify="left",
                      caption="CLV and CAC per customer won; payback from the entry"
                      if columns.stop == len(heads) else None)
        table.add_column("Entry", no_wrap=True)
        for k in columns:
            table.add_column(heads[k], justify="right", no_wrap=True)
        for label, row in zip(names, cells):
            table.add_row(label, *(row[k] for k in columns))
        return table

    def fits(table: Table) -> bool:
        return width is None or natural_width(table) <= width

    halves = (range(3), range(3, len(heads)))
    for names in ([label for label, _ in rows], [ident for _, ident in rows],
                  list(entries)):
        whole = build(names, range(len(heads)), "")
        if fits(whole):
            return [whole]
        parts = [build(names, cols, f" ({k}/2)") for k, cols in enumerate(halves, 1)]
        if all(map(fits, parts)):
            return parts
    room = max(4, (width or 0) - (natural_width(parts[0]) - max(map(cell_len, entries))))
    return [build([_cut(step, room) for step in entries], cols, f" ({k}/2)")
            for k, cols in enumerate(halves, 1)]


def _entry_cells(entry: Entry, currency: str | None) -> list[str]:
    return [fmt(entry.rate, "rate", None), fmt(entry.value("conversion"), "rate", None),
            fmt(entry.value("cac"), "money", currency, unit=False),
            fmt(entry.value("clv"), "money", currency, unit=False),
            fmt(entry.value("ltv_cac"), "ratio", None),
            payback_text(entry.payback, entry.payback_why)]


# ------------------------------------------------------------------ money by place

def money_tables(metrics: Metrics, journey: CompiledJourney, currency: str | None,
                 width: int | None = None) -> list[Table]:
    """Revenue, cost and profit per entering prospect, by stage and by
    channel (money in the currency named in the caption)."""
    if not any(row.get("revenue") or row.get("cost") for row in metrics.stages.values()):
        return []  # no money, or an engine that does not place it (Monte Carlo)
    labels = {s.id: one_line(s.label) or s.id for s in journey.stages}
    caption = (f"per entering prospect, discounted{f', {currency}' if currency else ''}; "
               "profit = margin x revenue - cost")
    out = []
    stages = [(labels.get(k, k), k) for k in metrics.stages]
    channels = [(one_line(k) or "(no channel)",) * 2 for k in metrics.channels]
    places: list[tuple[str, list[tuple[str, str]], list[Mapping[str, float | None]]]] = [
        ("Money by stage", stages, list(metrics.stages.values()))]
    if list(metrics.channels) != [""]:  # (no step has a channel: the stage table says it all)
        places.append(("Money by channel", channels, list(metrics.channels.values())))
    for title, rows, values in places:

        def build(names: list[str], title: str = title, values: list = values) -> Table:
            t = Table(title=title, title_justify="left", caption=caption,
                      caption_justify="left")
            t.add_column(title.split()[-1].capitalize(), no_wrap=True)
            for head in ("Revenue", "Cost", "Profit"):
                t.add_column(head, justify="right", no_wrap=True)
            for name, row in zip(names, values):
                t.add_row(name, *(fmt(row[k], "money", currency, unit=False)
                                  for k in ("revenue", "cost", "profit")))
            return t

        out.append(_named(rows, build, width))
    return out


# ------------------------------------------------------------------ the funnel's note

def funnel_note(metrics: Metrics, journey: CompiledJourney) -> list[Text]:
    """Under the funnel of a journey with referrals: referred prospects are
    not in it, and how far the referral cascade carries into the steps only
    referrals reach."""
    if not journey.referrals:
        return []
    text = ("Per entering prospect; prospects they refer are not in these rows "
            "(the cohort line below counts them).")
    referred = metrics.referred_visits
    if referred:
        labels = {s.id: one_line(s.label) or s.id for s in journey.steps}
        only = [(labels.get(s, s), v) for s, v in referred.items()]
        if only:
            text += " Reached only through referrals (visits by referred prospects per " \
                    "entering prospect, whole cascade): " + ", ".join(
                        f"{label} {fmt(v, 'ratio', None)}" for label, v in only) + "."
    return [Text(text, style="dim")]


# ------------------------------------------------------------------ scorecard

def scorecard(outcomes: list[Outcome], width: int | None = None) -> Table | None:
    """Every `expect` line with its actual value and whether it holds."""
    if not outcomes:
        return None
    rows = []
    for o in outcomes:
        where = f" (scenario {o.scenario})" if o.scenario else ""
        rows.append((Text(one_line(f"{o.expect.text} {o.target_text()}{where}")), _actual(o),
                     "pass" if o.passed else "FAIL"))
    failed = sum(not o.passed for o in outcomes)
    table = Table(title=f"Expectations: {len(outcomes) - failed} of {len(outcomes)} hold",
                  title_justify="left",
                  caption="`journey check` fails on a failed expectation; simulate shows it"
                  if failed else None, caption_justify="left")
    table.add_column("Expect", no_wrap=True)
    table.add_column("Actual", justify="right", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    for name, actual, result in rows:
        table.add_row(name, actual, Text(result, style="green" if result == "pass" else "bold red"))
    return table


def _actual(outcome: Outcome) -> str:
    """An expectation's value as the other tables print its unit."""
    if outcome.actual is None:
        return outcome.actual_text()  # never, undefined
    unit = METRIC[outcome.expect.metric].unit
    if unit == "number":
        from ..simulate.expectations import plain

        text = plain(abs(outcome.actual))
        return signed(text, outcome.actual < 0)
    return fmt(outcome.actual, unit, outcome.currency)


# ------------------------------------------------------------------ cohort curve

_BLOCKS = "▁▂▃▄▅▆▇█"
#: Rows the text table shows at most (the JSON has every row).
_SHOWN = 36


def curve_view(curve: Curve, currency: str | None, width: int | None = None) -> Group:
    """The cohort curve as a table and a sparkline of cumulative profit, with
    the payback period marked."""
    rows = curve.rows
    step = max(1, -(-len(rows) // _SHOWN))
    payback_row = _payback_row(curve)
    shown = [r for r in rows if (r["period"] % step == 0 or r is rows[-1]
                                 or r["period"] == payback_row)]
    title = f"Cohort curve by {curve.period} (cumulative, discounted, per entering prospect)"
    table = Table(title=title, title_justify="left", caption_justify="left",
                  caption=(f"one {curve.period} in {step} shown, and the payback's; "
                           "--format json has every row") if step > 1 else None)
    table.add_column(curve.period.capitalize(), justify="right", no_wrap=True)
    for head in ("Revenue", "Cost", "Profit", "Converted", "Active cust."):
        table.add_column(head, justify="right", no_wrap=True)
    for r in shown:
        table.add_row(str(r["period"]), fmt(r["revenue"], "money", currency, unit=False),
                      fmt(r["cost"], "money", currency, unit=False),
                      fmt(r["profit"], "money", currency, unit=False),
                      fmt(r["converted"], "rate", None), fmt(r["active_customers"], "rate", None))
    parts: list[RenderableType] = [table, *_sparkline(curve, currency, width)]
    rest = curve.rest
    if rest and (rest["money"] > 1e-9 or rest["walks"] > 1e-9):
        parts.append(Text(f"After the last row: {fmt(rest['money'], 'rate', None)} of the money at "
                          f"stake and {fmt(rest['walks'], 'rate', None)} of the walks are still "
                          "to come.", style="dim"))
    return Group(*parts)


def _payback_row(curve: Curve) -> int | None:
    """The period whose row first holds the payback visit (F(t) counts
    visits at t; row k those before its end)."""
    if curve.payback_days is None:
        return None
    for r in curve.rows:
        if r["end_days"] > curve.payback_days:
            return int(r["period"])
    return None


def _sparkline(curve: Curve, currency: str | None, width: int | None) -> list[Text]:
    values = [r["profit"] for r in curve.rows]
    room = max(10, (width or 100) - 9)
    if len(values) > room:  # one block per group of periods: their last value
        size = -(-len(values) // room)
        values = [values[min(i + size, len(values)) - 1] for i in range(0, len(values), size)]
    else:
        size = 1
    low, high = min(values), max(values)
    span = high - low
    blocks = "".join(_BLOCKS[0 if span <= 0 else min(7, int((v - low) / span * 8))]
                     for v in values)
    lines = [Text("Profit: " + blocks), Text(
        f"        from {fmt(values[0], 'money', currency)} to {fmt(values[-1], 'money', currency)}"
        if values else "")]
    row = _payback_row(curve)
    if curve.payback_days is not None and row is not None:
        lines.insert(1, Text(" " * (8 + (row - 1) // size) + "^"))
        lines.append(Text(f"Paid back in {curve.period} {row} "
                          f"(day {curve.payback_days:,.0f}), marked ^."))
    elif curve.payback_days is not None:
        lines.append(Text(f"Paid back on day {curve.payback_days:,.0f}, after the last row."))
    else:
        lines.append(Text("Never paid back: the cumulative profit ends below zero."))
    return lines


# ------------------------------------------------------------------ levers by stage

def stage_levers_table(found: list[Lever], journey: CompiledJourney, currency: str | None,
                       by: str, width: int | None = None) -> Table | None:
    """Which stage's lever moves `by` most: each stage's best transition out
    of it, stages in the order of their best levers."""
    from ..simulate.levers import best_by_stage

    best = best_by_stage(found, {s.id: s.stage for s in journey.steps})
    if not best:
        return None
    stage_labels = {s.id: one_line(s.label) or s.id for s in journey.stages}
    step_labels = {s.id: one_line(s.label) or s.id for s in journey.steps}
    kind = "rate" if by == "conversion" else "money"
    head = {"clv": "CLV"}.get(by, by)

    def value(lever: Lever) -> str:
        change = getattr(lever, f"d_{by}")
        return points(change, 3) if kind == "rate" else fmt(change, kind, currency, plus=True)

    rows = list(best.items())

    def build(names: list[str]) -> Table:
        table = Table(title=f"Best lever per stage (by Δ {head})", title_justify="left")
        table.add_column("Stage: its best transition", no_wrap=True)
        table.add_column(f"Δ {head}", justify="right", no_wrap=True)
        for name, (_, lever) in zip(names, rows):
            table.add_row(name, value(lever))
        return table

    for labelled in (True, False):
        names = [f"{stage_labels[s]}: {step_labels[lv.source]} → {step_labels[lv.target]}"
                 if labelled else f"{s}: {lv.source} → {lv.target}" for s, lv in rows]
        table = build(names)
        if width is None or natural_width(table) <= width:
            return table
    room = max(8, (width or 0) - (natural_width(table) - max(map(cell_len, names))))
    return build([_cut(name, room) for name in names])


# ------------------------------------------------------------------ Monte Carlo deltas

def crn_deltas_table(deltas: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                     currency: str | None) -> Table:
    """`simulate --compare --method monte-carlo`: each scenario's change from
    the baseline, walked with common random numbers, ± its standard error
    (and, for scale, what two independent runs would give)."""
    from ..metrics import HEADLINE, Metric

    table = Table(title="Scenario − baseline (Monte Carlo, common random numbers: the same "
                        "prospects walk every variant)", title_justify="left")
    table.add_column("Metric", no_wrap=True)
    for name in deltas:
        table.add_column(f"{name}: change ± std. error", justify="right")
    table.add_column("independent runs' std. error", justify="right")
    for metric in HEADLINE:
        cells = [deltas[name].get(metric.json) or {} for name in deltas]
        if not any(c.get("delta") is not None for c in cells):
            continue

        def show(x: float | None, plus: bool, metric: Metric = metric) -> str:
            if x is None:
                return "—"
            if metric.unit == "rate":
                return points(x) if plus else points(x).lstrip("+")
            return fmt(x, metric.unit if metric.unit != "number" else "ratio", currency, plus)

        row = [f"{show(c.get('delta'), True)} ± {show(c.get('stderr'), False)}"
               if c.get("delta") is not None else "—" for c in cells]
        alone = ", ".join(show(c.get("stderr_independent"), False) for c in cells)
        table.add_row(metric.label, *row, alone)
    return table

"""Rich tables for `journey simulate`: funnel, metrics per persona, cohort,
scenarios side by side, levers, attribution, Monte Carlo.

Each view takes the console's `width` and lays its tables out so that no
row wraps: a transition or touchpoint is named by its label when the labels
fit and by its step id when they do not; a table with more columns than
fit (personas, scenarios, percentiles) is split into a few tables, each
repeating the row names (and, for scenarios, the baseline). A wider console
gets the labels and one table. `width=None` lays out for an unbounded width.

Numbers are printed one way throughout: U+2212 (−) before a negative number,
"+" before a positive change, no sign on a number that rounds to zero.
User text (labels, the title) comes shown safe (`display.one_line`) and is
printed by a console without markup or emoji codes.

>>> fmt(-0.125, "rate", None), fmt(1234.5, "money", "USD"), delta(0.30, 0.25, "rate", None)
('−12.50%', '1,234.50 USD', '+5.00 pp')
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from io import StringIO
from typing import TYPE_CHECKING, Callable

from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..display import one_line
from ..metrics import HEADLINE as METRICS_SHOWN
from ..metrics import METRIC
from ..simulate.results import Metrics

if TYPE_CHECKING:
    from ..simulate import Report
    from ..simulate.attribution import Attribution, Removal
    from ..simulate.levers import Lever, LeverSize
    from ..simulate.montecarlo.report import MonteCarloReport

MINUS = "\u2212"

# currencies printed without decimals
_WHOLE_CURRENCIES = {"VND", "JPY", "KRW", "IDR", "CLP", "ISK", "HUF"}

#: The metrics table's rows, from the metric table: (JSON key, label, unit).
HEADLINE = tuple((m.json, m.label, m.unit) for m in METRICS_SHOWN)


# ------------------------------------------------------------------ numbers

def fmt(value: float | None, kind: str, currency: str | None, plus: bool = False,
        unit: bool = True) -> str:
    """`value` as the tables print it; `kind` is rate (a fraction, shown in %),
    money, days or ratio; "—" when undefined, or beyond double precision
    (inf, NaN: the output says why). `plus` puts "+" before a positive number
    (a change); `unit=False` leaves the currency out.

    >>> fmt(-2.5, "days", None), fmt(0.000033, "rate", None), fmt(26539, "money", "VND", plus=True)
    ('−2.5 d', '0.0033%', '+26,539 VND')
    >>> fmt(float("inf"), "ratio", None)
    '—'
    >>> fmt(1.0978885858138679e22, "money", "USD")
    '1.0979e+22 USD'
    """
    if value is None or not math.isfinite(value):
        return "—"
    size = abs(value)
    if kind == "rate":
        text = _percent(size * 100) + "%"
    elif kind == "days":
        text = f"{size:,.1f} d"
    elif kind == "money" and size >= 1e15:
        # beyond what any currency holds in a journey (values stop at 10^15):
        # digits past double precision's 16 would be noise
        text = f"{size:.4e}" + (f" {currency}" if currency and unit else "")
    elif kind == "money":
        text = f"{size:,.0f}" if currency in _WHOLE_CURRENCIES else f"{size:,.2f}"
        if currency and unit:
            text += f" {currency}"
    else:
        text = f"{size:,.3f}"
    return signed(text, value < 0, plus)


def points(change: float, decimals: int = 2, unit: bool = True) -> str:
    """A change of a rate in percentage points, always signed.

    >>> points(-0.0015), points(0.00034, 3, unit=False), points(-1e-18)
    ('−0.15 pp', '+0.034', '0.00 pp')
    """
    return signed(f"{abs(change) * 100:.{decimals}f}" + " pp" * unit, change < 0, True)


def signed(text: str, negative: bool, plus: bool = False) -> str:
    """The printed magnitude `text` with its sign: "−" when negative, "+" when
    positive and `plus`, none when every digit shown is 0."""
    if not any(c in "123456789" for c in text):
        return text
    return (MINUS if negative else "+" if plus else "") + text


def _percent(p: float) -> str:
    """p >= 0 in percent: two decimals, or two significant digits below 0.01
    (fixed notation, at most eight decimals: an exponent would bring a '-')."""
    if p == 0 or p >= 0.01:
        return f"{p:.2f}"
    digits = min(1 - math.floor(math.log10(p)), 8)
    return f"{p:.{digits}f}"


def _share(value: float) -> str:
    """A share in percent with one decimal (concentration)."""
    return signed(f"{abs(value) * 100:.1f}%", value < 0)


def delta(new: float | None, old: float | None, kind: str, currency: str | None) -> str:
    """`new - old`, signed; a change of a rate in percentage points."""
    if new is None or old is None:
        return "—"
    if kind == "rate":
        return points(new - old)
    return fmt(new - old, kind, currency, plus=True)


# ------------------------------------------------------------------ layout

def natural_width(renderable: RenderableType) -> int:
    """The width `renderable` takes when nothing has to wrap."""
    console = Console(width=100_000, file=StringIO(), color_system=None, markup=False,
                      emoji=False)
    return Measurement.get(console, console.options, renderable).maximum


def _fits(table: Table, width: int | None) -> bool:
    return width is None or natural_width(table) <= width


def _split(items: list, build: Callable[[list, str], Table], width: int | None) -> list[Table]:
    """`build(items, "")` when it fits in `width`; else `items` in the fewest
    groups of (nearly) equal size whose tables all fit, titled " (1/2)", ...
    (one item per table at worst)."""
    whole = build(items, "")
    if _fits(whole, width) or len(items) < 2:
        return [whole]  # (a single item that does not fit: the caller decides)
    tried = set()
    for count in range(2, len(items) + 1):
        size = -(-len(items) // count)
        if size in tried:
            continue
        tried.add(size)
        groups = [items[i:i + size] for i in range(0, len(items), size)]
        tables = [build(group, f" ({k}/{len(groups)})") for k, group in enumerate(groups, 1)]
        if all(_fits(t, width) for t in tables):
            return tables
    return tables


def _shorten(name: str, room: int) -> str:
    """`name` cut to `room` cells, "…" marking the cut."""
    if cell_len(name) <= room:
        return name
    while name and cell_len(name) + 1 > room:
        name = name[:-1]
    return name + "…"


def _pair(source: str, target: str, room: int) -> str:
    """"source → target" in at most `room` cells: the longer side is cut first."""
    a, b = cell_len(source), cell_len(target)
    while a + b + 3 > room and a + b > 2:
        if a >= b:
            a -= 1
        else:
            b -= 1
    return f"{_shorten(source, max(a, 1))} → {_shorten(target, max(b, 1))}"


# ------------------------------------------------------------------ report

def funnel_table(metrics: Metrics, stage_labels: dict[str, str], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Stage")
    table.add_column("Reach", justify="right")
    table.add_column("Drop-off", justify="right")
    table.add_column("Churn", justify="right")
    for stage, row in metrics.stages.items():
        table.add_row(stage_labels.get(stage, stage), fmt(row["reach"], "rate", None),
                      fmt(row["dropoff"], "rate", None), fmt(row["churn"], "rate", None))
    return table


def metrics_table(columns: dict[str, Metrics], currency: str | None, title: str,
                  deltas_from: str | None = None, wrap_names: bool = False) -> Table:
    """The headline metrics, one column per entry of `columns` (each but
    `deltas_from` followed by its change from `deltas_from`); `wrap_names`
    breaks a column name longer than its numbers over several lines."""
    table = Table(title=title, title_justify="left")
    table.add_column("Metric", no_wrap=True)
    names = list(columns)
    values = {name: columns[name].as_dict() for name in names}
    base = values.get(deltas_from) if deltas_from is not None else None
    rows = [[label] for _, label, _ in HEADLINE]
    for name in names:
        cells = [_cell(values[name], key, kind, currency) for key, _, kind in HEADLINE]
        head = _wrap(name, max(map(cell_len, cells))) if wrap_names else name
        table.add_column(head, justify="right", no_wrap=True)
        for row, cell in zip(rows, cells):
            row.append(cell)
        if base is not None and name != deltas_from:
            table.add_column("Δ", justify="right", style="dim", no_wrap=True)
            for row, (key, _, kind) in zip(rows, HEADLINE):
                row.append(delta(values[name][key], base[key], kind, currency))
    for row in rows:
        table.add_row(*row)
    return table


def payback_text(days: float | None, why: str | None) -> str:
    """A payback in the tables: days, "never" (JSON null, the reason saying
    never), or "—" when not computed."""
    if days is not None:
        return fmt(days, "days", None)
    return "never" if why and why.startswith("never") else "—"


def _cell(values: dict, key: str, kind: str, currency: str | None) -> str:
    """A headline value as the metrics table prints it (a payback that never
    comes reads "never")."""
    if key == "payback_days":
        return payback_text(values[key], values.get("undefined", {}).get(key))
    return fmt(values[key], kind, currency)


def _wrap(name: str, room: int) -> str:
    """`name` over lines of at most `room` cells, broken after "_", "-" or a
    space where it can be, else anywhere."""
    lines, line = [], ""
    for part in re.findall(r"[^_\- ]*[_\- ]?", name):
        if line and cell_len(line + part.rstrip()) > room:
            lines.append(line.rstrip())
            line = ""
        line += part
        while cell_len(line.rstrip()) > room:
            cut = next(i for i in range(len(line), 0, -1) if cell_len(line[:i]) <= room)
            lines.append(line[:cut])
            line = line[cut:]
    return "\n".join(lines + [line.rstrip()] if line.strip() else lines)


def metrics_tables(columns: dict[str, Metrics], currency: str | None, title: str,
                   width: int | None, deltas_from: str | None = None) -> list[Table]:
    """`metrics_table`, split by columns when it does not fit in `width`;
    every part keeps the `deltas_from` column."""
    names = [name for name in columns if name != deltas_from]
    first = [deltas_from] if deltas_from is not None else []

    def build(group: list[str], part: str, wrap_names: bool = False) -> Table:
        return metrics_table({name: columns[name] for name in first + group}, currency,
                             title + part, deltas_from, wrap_names)

    tables = _split(names, build, width)
    if all(_fits(t, width) for t in tables):
        return tables
    # a long persona or scenario name: over a few lines in its column
    return _split(names, lambda group, part: build(group, part, True), width)


def cohort_text(cohort: dict[str, float], currency: str | None,
                explained: Collection[str] = ()) -> Text:
    from ..simulate import COHORT_NOT_FINITE

    customers = cohort["customers"]
    shown = (f"{signed(f'{abs(customers):,.4f}', customers < 0)}" if math.isfinite(customers)
             else fmt(None, "ratio", None))
    # a total the blend's notes already explain (a `per customer` rate's
    # infinite expectation) is not the cascade's doing
    why = ("" if all(math.isfinite(v) or f"cohort.{k}" in explained
                     for k, v in cohort.items())
           else f" (— : {COHORT_NOT_FINITE})")
    return Text(
        "Cohort per entering prospect, whole referral cascade included: "
        f"{fmt(cohort['prospects'], 'ratio', None)} prospects, "
        f"{shown} customers, "
        f"revenue {fmt(cohort['revenue'], 'money', currency)}, "
        f"cost {fmt(cohort['cost'], 'money', currency)}{why}")


def report_view(report: Report, stage_labels: dict[str, str], persona: str | None,
                width: int | None = None,
                economics: Callable[[Metrics], tuple[list, list]] | None = None) -> Group:
    """The funnel and the metrics; `economics(focus)` gives what goes under
    the funnel and under the metrics (economics.py: the funnel's note,
    prospects by entry step, money by stage and by channel)."""
    currency = report.currency
    focus = report.personas[persona] if persona else report.blended
    who = f"persona {persona}" if persona else "all personas"
    scenario = f" — scenario {report.scenario}" if report.scenario else ""
    header = Text(f"{one_line(report.journey)}{scenario} ({report.method.replace('_', ' ')})",
                  style="bold")
    columns = {}
    if persona:
        columns[persona] = focus
    else:
        if len(report.personas) > 1:
            for p, m in report.personas.items():
                columns[f"{p} ({report.shares[p] * 100:.0f}%)"] = m
        columns["Blended" if len(report.personas) > 1 else "All prospects"] = report.blended
    under_funnel, under_metrics = economics(focus) if economics is not None else ([], [])
    return Group(header, funnel_table(focus, stage_labels, f"Funnel by stage ({who})"),
                 *under_funnel, *metrics_tables(columns, currency, "Metrics", width),
                 *undefined_notes(columns), *under_metrics,
                 cohort_text(focus.cohort, currency, focus.unknown))


def undefined_notes(columns: Mapping[str, Metrics]) -> list[Text]:
    """Why metrics show — (null in JSON): one line per reason and set of
    columns, naming the metrics (and the columns, unless all share it)."""
    from ..metrics import METRIC

    columns_of: dict[tuple[str, str], list[str]] = {}
    for name, metrics in columns.items():
        # the table's metrics, then the numbers a `per customer` rate made
        # infinite elsewhere (a step's visits, the cohort's totals)
        reasons = {k: why for k, why in metrics.undefined().items() if METRIC[k].headline}
        reasons |= {k: why for k, why in metrics.unknown.items() if k not in METRIC}
        for key, reason in reasons.items():
            if key == "payback" and reason.startswith("never"):
                continue  # shown as "never", not as —
            columns_of.setdefault((key, reason), []).append(name)
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (key, reason), names in columns_of.items():
        grouped.setdefault((reason, tuple(names)), []).append(_unknown_label(key))
    lines = []
    for (reason, shared), labels in grouped.items():
        where = "" if len(shared) == len(columns) else f" for {', '.join(shared)}"
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        verb = "is" if len(labels) == 1 else "are"
        lines.append(Text(f"{listed} {verb} —{where}: {reason}", style="yellow"))
    return lines


def _unknown_label(key: str) -> str:
    """A metric's label, `Visits to paying` for `visits(paying)`, `Cohort
    revenue` for `cohort.revenue`."""
    from ..metrics import METRIC

    if key in METRIC:
        return METRIC[key].label
    if key.startswith("cohort."):
        return f"Cohort {key[len('cohort.'):]}"
    for table in ("stage", "channel"):  # `stage revenue(paying)`: Revenue of stage paying
        if key.startswith(f"{table} "):
            name, _, place = key[len(table) + 1:].partition("(")
            place = place.rstrip(")")
            where = f"{table} {place}" if place else "steps without a channel"
            return f"{name.capitalize()} of {where}"
    name, _, place = key.partition("(")
    return f"{name.capitalize()} to {place.rstrip(')')}" if place else key


def compare_view(reports: Mapping[str, Report], currency: str | None, persona: str | None,
                 width: int | None = None) -> Group:
    """Baseline and scenarios side by side, each scenario with its change from
    the baseline; scenarios in groups when they do not fit in `width`."""
    columns = {name: (r.personas[persona] if persona else r.blended) for name, r in reports.items()}
    first = next(iter(columns))
    return Group(
        Text(f"{one_line(next(iter(reports.values())).journey)}: baseline and scenarios",
             style="bold"),
        *metrics_tables(columns, currency,
                        "Metrics" + (f" (persona {persona})" if persona else ""), width,
                        deltas_from=first),
        *undefined_notes(columns),
    )


# ------------------------------------------------------------------ levers, attribution

def levers_table(levers: list[Lever], currency: str | None, labels: dict[str, str],
                 limit: int = 15, width: int | None = None, by: str = "revenue",
                 size: LeverSize | None = None) -> Table:
    """Where to invest: the transitions whose rise by `size` (+1 pp by
    default) moves revenue (or `by`) most.

    Money is in the currency named under the headers. Transitions are named
    by their steps' labels when they fit in `width`, else by step ids (cut
    with "…" if even those do not fit); each stays on one line."""
    shown = [lever for lever in levers if lever.movable][:limit]
    named = [(labels.get(lv.source, lv.source), labels.get(lv.target, lv.target)) for lv in shown]
    ids = [(lv.source, lv.target) for lv in shown]
    for names, ranked, short in ((named, True, False), (named, False, False),
                                 (ids, True, False), (ids, False, False), (ids, False, True)):
        table = _levers(shown, [f"{a} → {b}" for a, b in names], ranked, short, currency, by,
                        size)
        if _fits(table, width):
            return table
    assert width is not None  # every table fits when there is no width
    longest = max(cell_len(f"{a} → {b}") for a, b in ids)
    room = max(longest - (natural_width(table) - width), 5)
    return _levers(shown, [_pair(a, b, room) for a, b in ids], False, True, currency, by, size)


def _levers(shown: list[Lever], names: list[str], ranked: bool, short: bool,
            currency: str | None, by: str = "revenue", size: LeverSize | None = None) -> Table:
    relative = size is not None and size.relative
    points_up = 0.01 if size is None else size.amount
    # a step with less than the size's points of drop-off left rises by what
    # it has; a relative lever's rise differs from edge to edge: both show it
    partial = relative or any(lever.step is not None and lever.step < points_up * (1 - 1e-9)
                              for lever in shown)
    label = "+1 pp" if size is None else size.label
    if relative:
        title = (f"Levers: {label} of a transition rate (or what is left), taken from that "
                 "step's drop-off")
    elif partial:
        title = (f"Levers: {label} on a transition rate (or what is left), taken from that "
                 "step's drop-off")
    else:
        title = f"Levers: {label} on a transition rate (taken from that step's drop-off)"
    table = Table(title=title, title_justify="left", caption_justify="left",
                  caption="Δ revenue and Δ profit per entering prospect, Δ CLV per customer"
                  f"; ranked by Δ {by if by != 'clv' else 'CLV'}")
    money = currency or ""
    if ranked:
        table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("Transition", no_wrap=True, overflow="ellipsis")
    table.add_column("Rate", justify="right", no_wrap=True)
    if partial:
        table.add_column("Up\npp", justify="right", no_wrap=True)
    table.add_column("Δ conv.\npp" if short else "Δ conversion\npp", justify="right",
                     no_wrap=True)
    table.add_column(f"Δ revenue\n{money}".rstrip(), justify="right", no_wrap=True)
    table.add_column(f"Δ profit\n{money}".rstrip(), justify="right", no_wrap=True)
    table.add_column(f"Δ CLV\n{money}".rstrip(), justify="right", no_wrap=True)
    for rank, (lever, name) in enumerate(zip(shown, names), 1):
        assert lever.d_conversion is not None  # a movable lever has its changes
        table.add_row(
            *([str(rank)] if ranked else []), name, fmt(lever.rate, "rate", None),
            *([points(lever.step or 0.0, 3, unit=False)] if partial else []),
            points(lever.d_conversion, 3, unit=False),
            fmt(lever.d_revenue, "money", currency, plus=True, unit=False),
            fmt(lever.d_profit, "money", currency, plus=True, unit=False),
            fmt(lever.d_clv, "money", currency, plus=True, unit=False),
        )
    return table


def attribution_tables(result: Attribution, labels: dict[str, str], limit: int = 15,
                       width: int | None = None) -> Group:
    """Markov removal effects on conversion, revenue and profit per touchpoint
    (by label, or by step id when the labels do not fit in `width`) and per
    channel; each effect with its share when that fits, else the effects
    alone (the shares are in the JSON)."""
    metrics = (("Conversion", "removal_effect", "share"),
               ("Revenue", "revenue_effect", "revenue_share"),
               ("Profit", "profit_effect", "profit_share"))

    def table(title: str, rows: list[tuple[str, Removal]], shares: bool) -> Table:
        last = title.endswith("channel")  # the note goes under the last table
        t = Table(title=title, title_justify="left", caption_justify="left",
                  caption=None if not last else
                  _ATTRIBUTION_NOTE if shares else _ATTRIBUTION_NOTE_SHORT)
        t.add_column(title.split(" ")[-1].capitalize())
        for head, _, _ in metrics:
            t.add_column(f"{head}\neffect", justify="right", no_wrap=True)
            if shares:
                t.add_column("\nshare", justify="right", no_wrap=True)
        for name, removal in rows:
            cells = [name]
            for _, effect, share in metrics:
                cells.append(fmt(getattr(removal, effect), "rate", None))
                if shares:
                    cells.append(fmt(getattr(removal, share), "rate", None))
            t.add_row(*cells)
        return t

    def fitting(title: str, named: list[tuple[str, Removal]],
                plain: list[tuple[str, Removal]]) -> Table:
        for rows, shares in ((named, True), (plain, True), (named, False), (plain, False)):
            t = table(title, rows, shares)
            if _fits(t, width):
                return t
        return t

    top = list(result.steps.items())[:limit]
    steps = fitting("Attribution by touchpoint", [(labels.get(k, k), r) for k, r in top], top)
    channels = [(k or "(no channel)", r) for k, r in result.channels.items()]
    return Group(steps, fitting("Attribution by channel", channels, channels))


_ATTRIBUTION_NOTE = ("Removal effect: the share of each metric per prospect lost when walks "
                     "reaching the step end there (its value and cost gone too); share: the "
                     "effects over the sum of the positive ones. A negative profit effect: "
                     "profit rises without the step.")
_ATTRIBUTION_NOTE_SHORT = ("Removal effect: the share of each metric lost when walks reaching "
                           "the step end there; negative: profit rises without it.")


# ------------------------------------------------------------------ Monte Carlo

def monte_carlo_view(report: MonteCarloReport, currency: str | None,
                     width: int | None = None) -> Group:
    """Uncertainty of the headline metrics, CLV among customers, concentration.

    The mean with its standard error and the percentiles are one table when
    it fits in `width`, else two (mean and standard error; percentiles)."""
    title = (f"Monte Carlo: {report.prospects:,} prospects, {report.draws} draw"
             f"{'s' * (report.draws != 1)}, seed {report.seed}")
    means = report.blended.as_dict()
    rows = [(key, label, kind, report.uncertainty[key]) for key, label, kind in HEADLINE
            if report.uncertainty.get(key)]

    def build(columns: tuple[str, ...], heading: str) -> Table:
        table = Table(title=heading, title_justify="left")
        table.add_column("Metric", no_wrap=True)
        heads = {"mean": "Mean", "stderr": "Std. error"}
        for column in columns:
            table.add_column(heads.get(column, column), justify="right")
        for key, label, kind, spread in rows:
            table.add_row(label, *(fmt(means.get(key) if c == "mean" else spread.get(c), kind,
                                       currency) for c in columns))
        return table

    parts: list = [build(("mean", "stderr", "p05", "p50", "p95"), title)]
    if not _fits(parts[0], width):
        parts = [Text(title), build(("mean", "stderr"), "Mean and standard error"),
                 build(("p05", "p50", "p95"), "Percentiles")]
    clv = report.clv_distribution
    if clv:
        parts.append(Text("CLV among customers: " + ", ".join(
            f"{k} {fmt(v, 'money', currency)}" for k, v in clv.items())))
    if report.top_revenue_share is not None:
        se = report.top_revenue_stderr
        parts.append(Text(
            f"Top {report.concentration_fraction * 100:g}% of prospects earn "
            f"{_share(report.top_revenue_share)} of all revenue"
            + (f" (standard error {se * 100:.2f} points)" if se is not None
               else "")))
    if report.revenue_concentration is not None:
        parts.append(Text(
            f"Revenue concentration: the top {report.concentration_fraction * 100:g}% of customers "
            f"bring {_share(report.revenue_concentration)} of customer revenue"
            + (f" ({_share(report.profit_concentration)} of profit)"
               if report.profit_concentration is not None else "")))
    undefined = report.as_dict()["undefined"]  # (the JSON's nulls and why)
    if undefined:
        by_reason: dict[str, list[str]] = {}
        for key, reason in undefined.items():
            by_reason.setdefault(reason, []).append(key)
        for reason, keys in by_reason.items():
            parts.append(Text(f"Shown as — (null in JSON): {', '.join(keys)}: {reason}",
                              style="yellow"))
    if report.cascade_capped:
        from ..simulate.montecarlo.run import CASCADE_FACTOR

        parts.append(Text(f"The referral cascade was cut at {CASCADE_FACTOR} referred prospects "
                          "per entering prospect: the cohort totals count only the prospects "
                          "walked (the exact engine has them all)", style="yellow"))
    if report.rescaled_draws:
        parts.append(Text(f"{report.rescaled_draws} draw(s) had uncertain rates summing over 100% "
                          "at some step and were scaled down to 100% (see JD407)", style="yellow"))
    return Group(*parts)

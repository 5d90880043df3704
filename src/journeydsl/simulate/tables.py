"""Rich tables for `journey simulate`: funnel, metrics per persona, cohort."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .results import Metrics

# currencies printed without decimals
_WHOLE_CURRENCIES = {"VND", "JPY", "KRW", "IDR", "CLP", "ISK", "HUF"}

HEADLINE = (
    ("conversion", "Conversion", "rate"),
    ("revenue", "Revenue / prospect", "money"),
    ("cost", "Cost / prospect", "money"),
    ("clv", "CLV (per customer)", "money"),
    ("cac", "CAC", "money"),
    ("ltv_cac", "LTV:CAC", "ratio"),
    ("time_to_convert_days", "Time to convert", "days"),
    ("viral_coefficient", "Viral coefficient", "ratio"),
    ("active_at_horizon", "Active at horizon", "rate"),
)


def fmt(value: float | None, kind: str, currency: str | None) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.2f}%" if abs(value) >= 1e-4 or value == 0 else f"{value * 100:.2g}%"
    if kind == "days":
        return f"{value:,.1f} d"
    if kind == "money":
        if currency in _WHOLE_CURRENCIES:
            return f"{value:,.0f} {currency}"
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    return f"{value:,.3f}"


def delta(new: float | None, old: float | None, kind: str, currency: str | None) -> str:
    if new is None or old is None:
        return "—"
    change = new - old
    if kind == "rate":
        text = f"{change * 100:+.2f} pp"
    else:
        text = fmt(abs(change), kind, currency)
        text = ("+" if change >= 0 else "−") + text
    return text


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
                  deltas_from: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Metric")
    names = list(columns)
    for name in names:
        table.add_column(name, justify="right")
        if deltas_from is not None and name != deltas_from:
            table.add_column("Δ", justify="right", style="dim")
    for key, label, kind in HEADLINE:
        cells = []
        for name in names:
            value = columns[name].as_dict()[key]
            cells.append(fmt(value, kind, currency))
            if deltas_from is not None and name != deltas_from:
                cells.append(delta(value, columns[deltas_from].as_dict()[key], kind, currency))
        table.add_row(label, *cells)
    return table


def cohort_text(cohort: dict[str, float], currency: str | None) -> Text:
    return Text(
        "Cohort per entering prospect, whole referral cascade included: "
        f"{cohort['prospects']:,.3f} prospects, {cohort['customers']:,.4f} customers, "
        f"revenue {fmt(cohort['revenue'], 'money', currency)}, "
        f"cost {fmt(cohort['cost'], 'money', currency)}")


def report_view(report, stage_labels: dict[str, str], persona: str | None) -> Group:
    currency = report.currency
    focus = report.personas[persona] if persona else report.blended
    who = f"persona {persona}" if persona else "all personas"
    scenario = f" — scenario {report.scenario}" if report.scenario else ""
    header = Text(f"{report.journey}{scenario} ({report.method.replace('_', ' ')})",
                  style="bold")
    columns = {}
    if persona:
        columns[persona] = focus
    else:
        if len(report.personas) > 1:
            for p, m in report.personas.items():
                columns[f"{p} ({report.shares[p] * 100:.0f}%)"] = m
        columns["Blended" if len(report.personas) > 1 else "All prospects"] = report.blended
    return Group(
        header,
        funnel_table(focus, stage_labels, f"Funnel by stage ({who})"),
        metrics_table(columns, currency, "Metrics"),
        cohort_text(focus.cohort, currency),
    )


def compare_view(reports: dict[str, object], currency: str | None, persona: str | None) -> Group:
    columns = {name: (r.personas[persona] if persona else r.blended) for name, r in reports.items()}
    first = next(iter(columns))
    return Group(
        Text(f"{next(iter(reports.values())).journey}: baseline and scenarios", style="bold"),
        metrics_table(columns, currency, "Metrics" + (f" (persona {persona})" if persona else ""),
                      deltas_from=first),
    )


def levers_table(levers, currency: str | None, labels: dict[str, str], limit: int = 15) -> Table:
    """Where to invest: the transitions whose +1 pp moves revenue most."""
    table = Table(title="Levers: +1 pp on a transition rate (taken from that step's drop-off)",
                  title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("Transition")
    table.add_column("Rate", justify="right")
    table.add_column("Δ conversion", justify="right")
    table.add_column("Δ revenue / prospect", justify="right")
    table.add_column("Δ CLV", justify="right")
    shown = [lever for lever in levers if lever.movable][:limit]
    for rank, lever in enumerate(shown, 1):
        name = f"{labels.get(lever.source, lever.source)} → {labels.get(lever.target, lever.target)}"
        table.add_row(
            str(rank), name, fmt(lever.rate, "rate", None),
            f"{lever.d_conversion * 100:+.3f} pp",
            ("+" if lever.d_revenue >= 0 else "−") + fmt(abs(lever.d_revenue), "money", currency),
            "—" if lever.d_clv is None else
            ("+" if lever.d_clv >= 0 else "−") + fmt(abs(lever.d_clv), "money", currency),
        )
    return table


def attribution_tables(result, labels: dict[str, str], limit: int = 15) -> Group:
    """Markov removal effects per touchpoint and per channel."""
    def table(title: str, rows) -> Table:
        t = Table(title=title, title_justify="left")
        t.add_column(title.split(" ")[-1].capitalize())
        t.add_column("Removal effect", justify="right")
        t.add_column("Share", justify="right")
        t.add_column("Conversion without", justify="right")
        for name, removal in rows:
            t.add_row(name, fmt(removal.removal_effect, "rate", None),
                      fmt(removal.share, "rate", None),
                      fmt(removal.conversion_without, "rate", None))
        return t

    steps = [(labels.get(k, k), r) for k, r in list(result.steps.items())[:limit]]
    channels = [(k or "(no channel)", r) for k, r in result.channels.items()]
    return Group(table("Attribution by touchpoint", steps),
                 table("Attribution by channel", channels))


def monte_carlo_view(report, currency: str | None) -> Group:
    """Uncertainty of the headline metrics, CLV among customers, concentration."""
    table = Table(title=f"Monte Carlo: {report.prospects:,} prospects, {report.draws} draw"
                        f"{'s' * (report.draws != 1)}, seed {report.seed}", title_justify="left")
    table.add_column("Metric")
    for column in ("Mean", "Std. error", "p05", "p50", "p95"):
        table.add_column(column, justify="right")
    means = report.blended.as_dict()
    for key, label, kind in HEADLINE:
        spread = report.uncertainty.get(key)
        if not spread:
            continue
        table.add_row(label, fmt(means.get(key), kind, currency),
                      fmt(spread.get("stderr"), kind, currency),
                      fmt(spread.get("p05"), kind, currency), fmt(spread.get("p50"), kind, currency),
                      fmt(spread.get("p95"), kind, currency))
    parts = [table]
    clv = report.clv_distribution
    if clv:
        parts.append(Text("CLV among customers: " + ", ".join(
            f"{k} {fmt(v, 'money', currency)}" for k, v in clv.items())))
    if report.revenue_concentration is not None:
        parts.append(Text(
            f"Revenue concentration: the top {report.concentration_fraction * 100:g}% of customers "
            f"bring {report.revenue_concentration * 100:.1f}% of customer revenue"
            + (f" ({report.profit_concentration * 100:.1f}% of profit)"
               if report.profit_concentration is not None else "")))
    if report.rescaled_draws:
        parts.append(Text(f"{report.rescaled_draws} draw(s) had uncertain rates summing over 100% "
                          "at some step and were scaled down to 100% (see JD407)", style="yellow"))
    return Group(*parts)

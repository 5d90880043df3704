"""The report's Monte Carlo section: the headline KPIs simulated, each with
its 95% interval, beside the exact engine's values, for the blend and for
each persona.

The interval is the Monte Carlo estimate ± 1.96 standard errors (the
engine's standard error of the mean: `montecarlo.report.uncertainty`, the
rates' draws included); payback has no standard error (a step function
of the simulated curve), so it shows the simulated value alone. The run
is seeded: the same journey gives the same section, byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...metrics import METRIC
from ..board.content import plain
from ..i18n import metric_label
from . import charts
from .page import figure, section, table

if TYPE_CHECKING:
    from ...simulate.montecarlo import MonteCarloReport
    from ...simulate.results import Metrics
    from .sections import Report

#: Prospects simulated for the report: a standard error near 0.1 pp on a few
#: percent conversion, and about a quarter of a second on the examples (the
#: report of the biggest example must stay well inside 3 s).
PROSPECTS = 200_000
SEED = 20261123  # `journey simulate --method monte-carlo`'s default: the same run
Z95 = 1.959963984540054  # standard normal 97.5th percentile
#: The KPIs shown, by metric name (payback without an interval).
SHOWN = ("conversion", "profit", "clv", "cac", "ltv_cac", "payback")


def run(report: Report) -> MonteCarloReport | str:
    """The Monte Carlo report of the baseline, or why there is none."""
    from ...simulate.montecarlo import Record, WalkTooLong, monte_carlo

    try:
        # the section shows headline metrics and payback: no money by place
        # or by entry to record
        return monte_carlo(report.journey, prospects=PROSPECTS, seed=SEED,
                           record=Record.HEADLINE)
    except WalkTooLong as err:
        return str(err)


def interval(metrics: Metrics, band: dict[str, dict[str, float | None]],
             name: str) -> tuple[float | None, float | None, float | None]:
    """(estimate, low, high) of one metric: low/high None without a
    standard error; a rate's interval clipped to [0, 1]."""
    estimate = metrics.value(name)
    se = band.get(METRIC[name].json, {}).get("stderr")
    if estimate is None or se is None:
        return estimate, None, None
    low, high = estimate - Z95 * se, estimate + Z95 * se
    if METRIC[name].unit == "rate":
        low, high = max(low, 0.0), min(high, 1.0)
    return estimate, low, high


def monte_carlo_section(report: Report) -> str:
    w, journey = report.w, report.journey
    mc = run(report)
    if isinstance(mc, str):
        return section("montecarlo", w("mc_title"), w("mc_missing", reason=mc), "")
    exact = report.report
    groups: list[tuple[str, Metrics, Metrics, dict]] = [
        (w("all_personas_short"), exact.blended, mc.blended, mc.uncertainty)]
    if len(journey.personas) > 1:
        groups += [(plain(p.label) or p.id, exact.personas[p.id], mc.personas[p.id],
                    mc.persona_uncertainty.get(p.id, {})) for p in journey.personas]
    currency = plain(journey.currency) or ""
    show = report.show

    def short(name: str, x: float | None) -> str:
        return report.show(name, x, exact=False)

    panels, body = [], []
    for name in SHOWN:
        unit = METRIC[name].unit
        title = _titled(metric_label(name, report.lang),
                        currency if unit == "money" else "")
        rows: list[dict[str, Any]] = []
        numbers: list[float] = []
        for label, ex, sim, band in groups:
            estimate, low, high = interval(sim, band, name)
            value = ex.value(name)
            numbers += [abs(x) for x in (estimate, value, low, high) if x is not None]
            span = "—" if low is None or high is None else f"{show(name, low)} – {show(name, high)}"
            label_span = "" if low is None or high is None else (
                f"  ({short(name, low)} – {short(name, high)})")
            body.append([label, metric_label(name, report.lang), show(name, value),
                         show(name, estimate), span])
            rows.append({"label": label, "estimate": estimate, "low": low, "high": high,
                         "exact": value,
                         "text": short(name, estimate) + label_span})
        if any(r["estimate"] is not None or r["exact"] is not None for r in rows):
            panels.append({"title": title, "fmt": _axis(unit, max(numbers)), "rows": rows})
    svg = charts.intervals(panels, (w("mc_estimate"), w("mc_exact")), prefix="montecarlo")
    data = table([w("persona").capitalize(), w("metric"), w("mc_exact"), w("mc_value"),
                  w("mc_interval")], body, {2, 3, 4})
    note = w("mc_note", prospects=f"{PROSPECTS:,}", seed=SEED,
             draws=(w("mc_draws", n=mc.draws) if mc.draws > 1 else ""))
    return section("montecarlo", w("mc_title"), note,
                   figure(svg, w("mc_title"), data, w("data_table")))


def _titled(label: str, unit: str) -> str:
    """`CLV (per customer)` with its currency: `CLV (per customer, USD)`,
    one pair of parentheses."""
    if not unit:
        return label
    return f"{label[:-1]}, {unit})" if label.endswith(")") else f"{label} ({unit})"


def _axis(unit: str, largest: float) -> str:
    """Plain numbers on the axis (16,000; 0.4), never exponents or SI
    prefixes (2.5e+5, 400m for 0.4)."""
    if unit == "rate":
        return ".2~%" if largest < 0.05 else ".1~%"  # (0.44%, not 0.4% twice)
    return ",.0f" if largest >= 20 else ",.2~f"

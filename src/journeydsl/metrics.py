"""The metric table: every number `journey simulate` reports, defined once.

A metric is registered in one line of `METRICS` (name, unit, how it is
computed from per-prospect expectations, its label and help text) and that
line drives the result type (`simulate.results.Metrics`), the text tables,
the JSON keys, the names and units `expect` accepts, the Monte Carlo
uncertainty of each headline metric, and the metric list of
docs/simulation.md (a test keeps the docs in step).

Three kinds of persona-level metric:
- an *expectation* is a mean over entering prospects of something each
  walk has (converted or not, its discounted revenue, ...): it blends over
  personas by share, and it is what the engines compute;
- a *ratio* is one metric over another (`clv` = E[margin x V - C_from_goal;
  converted] / P(converted)): it is never averaged, but recomputed from the
  blended expectations, so blended `clv` is that of the persona mix as a
  whole;
- a *curve* metric is read off the cumulative discounted profit curve F(t)
  (`payback`): blended, it is read off the blended curve (sum of share x
  F), never averaged.

Place metrics (`reach`, `visits`, `dropoff`, `churn`) are per step or stage;
they are expectations too and blend by share. The money of each place
(`PLACE_MONEY`: revenue, cost, profit per step, stage and channel) likewise.

Version 2 (unit economics as finance teams define them): `cac` divides the
acquisition cost (visits before the first goal visit) and `clv` is the
margin of a converting walk less its costs from the first goal visit on;
version 1 counted every cost in CAC and gross value in CLV.

>>> METRIC["clv"].of, METRIC["clv"].unit, METRIC["time_to_convert"].json
(('profit_converted', 'conversion'), 'money', 'time_to_convert_days')
>>> [m.name for m in HEADLINE][:5]
['conversion', 'revenue', 'cost', 'profit', 'acquisition_cost']
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Literal

#: How a value prints and how `expect` compares it: a rate as a percentage
#: (`>= 1.5%`), money in the journey's currency, days as a duration
#: (`<= 30d`), a plain number otherwise.
Unit = Literal["rate", "money", "days", "number"]
#: What `expect METRIC(ARG)` takes: an optional persona, a step or a stage
#: ("place"), or a step only.
Argument = Literal["persona", "place", "step"]


@dataclass(frozen=True)
class Metric:
    name: str  # the `expect` name and the results attribute
    unit: Unit
    label: str  # row label in the text tables
    help: str  # one line: what it means (docs, editors)
    # a ratio: (numerator, denominator), each an expectation or a ratio above it
    of: tuple[str, str] | None = None
    json: str = ""  # the JSON key (default: the name)
    argument: Argument = "persona"
    headline: bool = True  # a row of the metrics table (else internal, or per place)
    curve: bool = False  # read off the profit curve F(t) (blended: off the blended curve)

    def __post_init__(self) -> None:
        if not self.json:
            object.__setattr__(self, "json", self.name)

    @property
    def is_ratio(self) -> bool:
        return self.of is not None

    @property
    def is_expectation(self) -> bool:
        """A mean over entering prospects, blended by share (what engines sum)."""
        return self.of is None and not self.curve and self.argument == "persona"

    @property
    def expect_unit(self) -> Literal["rate", "number", "days"]:
        """How `expect` reads the value: money compares as a plain number."""
        return "number" if self.unit == "money" else self.unit


METRICS: tuple[Metric, ...] = (
    Metric("conversion", "rate", "Conversion",
           "P(the walk reaches any goal step)"),
    Metric("revenue", "money", "Revenue / prospect",
           "E[V], V the discounted value of the walk (gross)"),
    Metric("cost", "money", "Cost / prospect",
           "E[C], C the discounted cost of every visit of the walk"),
    Metric("profit", "money", "Profit / prospect",
           "E[margin x V - C]: the discounted margin on value less every cost"),
    Metric("acquisition_cost", "money", "Acquisition cost / prospect",
           "E[discounted cost of the visits before the first goal visit] (all of a "
           "walk's cost if it never converts)"),
    Metric("profit_converted", "money", "Net margin of converting walks",
           "E[margin x V - C_from_goal; converted], per prospect", headline=False),
    Metric("time_converted", "days", "Conversion-weighted time",
           "E[time of the first goal visit; converted], per prospect", headline=False),
    Metric("clv", "money", "CLV (per customer)",
           "E[margin x V - C_from_goal | converted]: a customer's discounted margin "
           "(value before the goal included) less the costs from the first goal visit on",
           of=("profit_converted", "conversion")),
    Metric("cac", "money", "CAC",
           "`acquisition_cost / conversion`: acquisition spend per customer won",
           of=("acquisition_cost", "conversion")),
    Metric("ltv_cac", "number", "LTV:CAC", "`clv / cac`", of=("clv", "cac")),
    Metric("payback", "days", "Payback",
           "the time from which the cumulative discounted profit F(t) stays >= 0 "
           "(0 if never negative; null: never, F ends below 0)",
           json="payback_days", curve=True),
    Metric("time_to_convert", "days", "Time to convert",
           "E[time of the first goal visit | converted], days",
           of=("time_converted", "conversion"), json="time_to_convert_days"),
    Metric("viral_coefficient", "number", "Viral coefficient",
           "expected prospects one prospect refers directly"),
    Metric("active_at_horizon", "rate", "Active at horizon",
           "P(the walk is still going at the horizon)"),
    Metric("reach", "rate", "Reach",
           "P(visiting the step, or any step of the stage, at least once)",
           argument="place", headline=False),
    Metric("visits", "number", "Visits", "expected visits to the step",
           argument="step", headline=False),
    Metric("dropoff", "rate", "Drop-off",
           "P(the walk ends at the step, or a step of the stage, before converting)",
           argument="place", headline=False),
    Metric("churn", "rate", "Churn",
           "P(the walk ends at the step, or a step of the stage, after converting)",
           argument="place", headline=False),
)

METRIC: dict[str, Metric] = {m.name: m for m in METRICS}
#: Per-prospect expectations the engines compute, in table order.
EXPECTATIONS: tuple[str, ...] = tuple(m.name for m in METRICS if m.is_expectation)
RATIOS: tuple[Metric, ...] = tuple(m for m in METRICS if m.is_ratio)
#: Metrics read off the profit curve (`payback`).
CURVES: tuple[str, ...] = tuple(m.name for m in METRICS if m.curve)
#: The rows of the metrics table, and the headline keys of the JSON, in order.
HEADLINE: tuple[Metric, ...] = tuple(m for m in METRICS if m.headline)
#: What `expect` accepts: the headline metrics and the per-place ones.
EXPECTABLE: dict[str, Metric] = {m.name: m for m in METRICS
                                 if m.headline or m.argument != "persona"}
#: The metrics of prospects entering at one entry step (`by_entry` in JSON).
BY_ENTRY: tuple[Metric, ...] = tuple(METRIC[k] for k in (
    "conversion", "revenue", "cost", "profit", "acquisition_cost", "clv", "cac", "ltv_cac",
    "payback", "time_to_convert"))
#: The money of each step, stage and channel, per entering prospect: the
#: expected discounted revenue, cost and profit (margin x revenue - cost)
#: of the visits there.
PLACE_MONEY: tuple[str, ...] = ("revenue", "cost", "profit")


#: The smallest denominator a ratio divides by: below the normal doubles a
#: probability has lost its digits (1e-320 is stored to 1 digit), and a
#: quotient of such numbers means nothing.
SMALLEST = sys.float_info.min


def ratio(metric: Metric, values: dict[str, float | None]) -> float | None:
    """A ratio metric from the expectations (and the ratios above it); None
    when either part is undefined, the denominator is not a positive normal
    double, or the quotient is beyond double precision (`undefined` says
    which)."""
    assert metric.of is not None
    numerator, denominator = values.get(metric.of[0]), values.get(metric.of[1])
    if numerator is None or denominator is None or not denominator >= SMALLEST:
        return None
    quotient = numerator / denominator
    return quotient if math.isfinite(quotient) else None


def undefined(values: dict[str, float | None],
              unknown: dict[str, str] | None = None) -> dict[str, str]:
    """Why each metric that is None is undefined, by metric name: the reason
    the JSON carries next to its null. `unknown`: expectations without a
    value (an infinite one), with their reasons; ratios of them inherit them.

    >>> undefined(with_ratios({"conversion": 0.0, "acquisition_cost": 2.0,
    ...                        "profit_converted": 0.0, "time_converted": 0.0}))["clv"]
    'conversion is zero'
    """
    out: dict[str, str] = {k: why for k, why in (unknown or {}).items() if k in METRIC}
    for metric in RATIOS:
        if values.get(metric.name) is not None:
            continue
        top, bottom = metric.of  # type: ignore[misc]
        numerator, denominator = values.get(top), values.get(bottom)
        if top in out or bottom in out:
            out[metric.name] = out.get(bottom) or out[top]
        elif numerator is None or denominator is None:
            out[metric.name] = "not computed"
        elif denominator == 0 and bottom == "conversion":
            out[metric.name] = "conversion is zero"
        elif denominator == 0 and bottom == "cac":
            out[metric.name] = "nothing is spent to acquire a customer"
        elif denominator < 0:
            out[metric.name] = f"{METRIC[bottom].label} is negative"
        elif denominator < SMALLEST:
            out[metric.name] = (f"{METRIC[bottom].label} ({denominator:.0e}) is too small "
                                "to divide by")
        else:
            out[metric.name] = "too large for double precision"
    return out


def with_ratios(expectations: dict[str, float]) -> dict[str, float | None]:
    """The expectations and every ratio computed from them, in table order.

    >>> values = with_ratios({"conversion": 0.5, "acquisition_cost": 2.0,
    ...                       "profit_converted": 10.0, "time_converted": 1.0})
    >>> values["clv"], values["cac"], values["ltv_cac"], values["time_to_convert"]
    (20.0, 4.0, 5.0, 2.0)
    """
    values: dict[str, float | None] = dict(expectations)
    for metric in RATIOS:
        values[metric.name] = ratio(metric, values)
    return values


# ------------------------------------------------------------ the docs' lists

_COMPARE = {"rate": "a rate: `>= 1.5%`", "money": "money, a plain number: `>= 1_500`",
            "number": "a plain number: `>= 3`", "days": "a duration: `<= 30d`"}
_ARGUMENT = {"persona": "optional `(persona)`", "place": "required `(step or stage)`",
             "step": "required `(step)`"}


def metrics_markdown() -> str:
    """The metric list of docs/simulation.md (a test keeps the docs equal to it)."""
    rows = ["| metric | JSON key | unit | definition |", "|---|---|---|---|"]
    for m in METRICS:
        if m.headline or m.argument != "persona":
            key = f"`{m.json}`" if m.argument == "persona" else f"`steps.S.{m.json}`" + (
                f", `stages.X.{m.json}`" if m.argument == "place" else "")
            rows.append(f"| `{m.name}` | {key} | {m.unit} | {m.help.replace('|', chr(92) + '|')} |")
    for name in PLACE_MONEY:
        rows.append(f"| {name} of a place | `steps.S.{name}`, `stages.X.{name}`, "
                    f"`channels.C.{name}` | money | {_PLACE_HELP[name]} |")
    return "\n".join(rows) + "\n"


_PLACE_HELP = {
    "revenue": "E[discounted value of the visits to the step (the stage's steps, the "
               "channel's steps)]",
    "cost": "E[discounted cost of those visits]",
    "profit": "E[discounted margin x value - cost of those visits]",
}


def expect_markdown() -> str:
    """The table of what `expect` accepts, for docs/language.md."""
    rows = ["| metric | argument | compare with |", "|---|---|---|"]
    for m in EXPECTABLE.values():
        rows.append(f"| `{m.name}` | {_ARGUMENT[m.argument]} | {_COMPARE[m.unit]} |")
    return "\n".join(rows) + "\n"

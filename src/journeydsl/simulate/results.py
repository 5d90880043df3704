"""What the engines return, and blending personas by share.

Blended conversion, revenue, cost, profit, acquisition cost and the
step/stage/channel numbers are share-weighted (they are expectations over
the persona mix). Blended clv, cac, ltv_cac and time to convert are ratios
of blended expectations, and blended payback is read off the blended
profit curve: never share-weighted averages of the personas' values. The
metrics of prospects entering at one step (`by_entry`) blend likewise, with
weights share x entry rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from ..metrics import BY_ENTRY, EXPECTATIONS, HEADLINE, METRIC, ratio, undefined
from .payback import ProfitCurve

if TYPE_CHECKING:
    from .chain import Chain

#: A place's numbers by key (reach, visits, ...; revenue, cost, profit).
Row = dict[str, float | None]


def _value(metrics: Metrics | Entry, name: str) -> float | None:
    """A headline metric by its table name: an expectation, a ratio or read
    off the profit curve."""
    metric = METRIC[name]
    if metric.curve:
        return metrics.payback
    if metric.of is None:
        return metrics.expectation(name)
    return ratio(metric, {k: _value(metrics, k) for k in metric.of})


def _why(metrics: Metrics | Entry, names: list[str]) -> dict[str, str]:
    """Why each undefined metric of `names` is None (their JSON keys)."""
    # a curve metric (payback) is read off the profit curve only when asked
    # for: no ratio is built on one (metrics.py), and following the curve
    # is the dearest part of a Monte Carlo run's money
    values = {m.name: _value(metrics, m.name) for m in METRIC.values()
              if m.argument == "persona" and (not m.curve or m.name in names)}
    reasons = undefined(values, metrics.unknown)
    if "payback" in names and values.get("payback") is None and "payback" not in reasons:
        reasons["payback"] = metrics.payback_why or "not computed"
    return {METRIC[k].json: why for k, why in reasons.items() if k in names}


@dataclass
class Entry:
    """The headline numbers of the prospects entering at one step: their
    expectations (`values`, by name), their profit curve, and the entry rate
    (the share of new prospects entering there)."""

    values: dict[str, float]
    curve: ProfitCurve | None = None
    rate: float = 1.0
    #: expectations without a value, and why (as Metrics.unknown)
    unknown: dict[str, str] = field(default_factory=dict)

    def expectation(self, name: str) -> float | None:
        return None if name in self.unknown else self.values.get(name)

    def __getattr__(self, name: str) -> float | None:
        """A metric by its table name, as on Metrics (`entry.cac`)."""
        if name in METRIC and METRIC[name].argument == "persona":
            return _value(self, name)
        raise AttributeError(name)

    def value(self, name: str) -> float | None:
        return _value(self, name)

    @property
    def payback(self) -> float | None:
        return None if self.curve is None else self.curve.payback()[0]

    @property
    def payback_why(self) -> str | None:
        return None if self.curve is None else self.curve.payback()[1]

    def as_dict(self) -> dict:
        out: dict = {m.json: self.value(m.name) for m in BY_ENTRY}
        reasons = _why(self, [m.name for m in BY_ENTRY])
        if reasons:
            out["undefined"] = reasons
        return out


@dataclass
class Metrics:
    """One persona's (or the blend's) metrics: the expectations of the metric
    table (`journeydsl.metrics`) as fields, its ratios and `payback` as
    properties; the places' tables; the prospects by entry step."""

    conversion: float
    revenue: float
    cost: float
    profit: float  # E[margin x V - C]
    acquisition_cost: float  # E[discounted cost before the first goal visit]
    profit_converted: float  # E[margin x V - C_from_goal; converted]
    time_converted: float  # E[T_first_goal; converted], days
    viral_coefficient: float
    active_at_horizon: float
    steps: dict[str, Row]  # step -> reach, visits, dropoff, churn, revenue, cost, profit
    stages: dict[str, Row]  # stage -> reach, dropoff, churn, revenue, cost, profit
    cohort: dict[str, float] = field(default_factory=dict)  # prospects, customers, revenue, cost
    channels: dict[str, dict[str, float]] = field(default_factory=dict)  # revenue, cost, profit
    by_entry: dict[str, Entry] = field(default_factory=dict)  # entry step -> its prospects
    #: expected visits per step of each entering prospect's whole referral
    #: cascade (itself and everyone its referrals bring, generation after
    #: generation); empty when not computed (`cohort=False` under a horizon)
    cohort_visits: dict[str, float] = field(default_factory=dict)
    #: Numbers without a value, and why: an expectation that is infinite (its
    #: field is inf) or could not be computed to 1e-6 (NaN), by metric name;
    #: a place's number as `visits(step)` (None in the table, inf in
    #: `cohort_visits`); a cohort total as `cohort.revenue` (inf). Only
    #: `per customer` rates make any.
    unknown: dict[str, str] = field(default_factory=dict)
    curve: ProfitCurve | None = None  # F(t) of these prospects (payback, --curve)

    def later(self, compute: Callable[[], dict[str, Any]], *names: str) -> None:
        """Fields `names` (the step, stage and channel tables) computed by
        `compute` (a dict of them by name) when one of them is first read:
        the headline metrics alone do not pay for 5,000 steps' rows (half a
        `simulate` of a large journey). Whoever reads them gets the same
        numbers: `compute` uses only arrays the engine no longer changes."""
        pending = dict(self.__dict__.get("_later", {}))
        for name in names:
            del self.__dict__[name]  # then __getattr__ is asked for it
            pending[name] = compute
        self.__dict__["_later"] = pending

    if not TYPE_CHECKING:  # (mypy would take any attribute name for a table)
        def __getattr__(self, name: str) -> Any:
            """A table that `later` put off, computed now (with its siblings)."""
            compute = self.__dict__.get("_later", {}).get(name)
            if compute is None:
                raise AttributeError(name)
            tables = compute()
            pending = self.__dict__["_later"]
            for key, f in pending.items():
                if f is compute:
                    self.__dict__[key] = tables[key]
            # a new dict, never the old one changed: a copy may share it
            self.__dict__["_later"] = {k: f for k, f in pending.items() if f is not compute}
            return tables[name]

    def value(self, name: str) -> float | None:
        """A headline metric by its table name (an expectation, a ratio or a
        curve metric); None when it has no value (see `undefined`)."""
        return _value(self, name)

    def expectation(self, name: str) -> float | None:
        return None if name in self.unknown else cast("float", getattr(self, name))

    @property
    def clv(self) -> float | None:
        return self.value("clv")

    @property
    def cac(self) -> float | None:
        return self.value("cac")

    @property
    def ltv_cac(self) -> float | None:
        return self.value("ltv_cac")

    @property
    def time_to_convert(self) -> float | None:
        """Days from entry to the first goal visit, among converting walks."""
        return self.value("time_to_convert")

    @property
    def referred_visits(self) -> dict[str, float]:
        """The steps only referrals reach (the entering prospect itself never
        visits them), with the referral cascade's expected visits there."""
        return {s: v for s, v in self.cohort_visits.items()
                if v > 0 and not self.steps.get(s, {}).get("visits")}

    @property
    def payback(self) -> float | None:
        """Days from which the cumulative discounted profit stays >= 0; None:
        never (or not computed: `payback_why` says which)."""
        return None if self.curve is None else self.curve.payback()[0]

    @property
    def payback_why(self) -> str | None:
        if self.curve is None:  # (Monte Carlo: the exact engine has the curve)
            return "not computed by this engine: the exact engine reads it off the profit curve"
        return self.curve.payback()[1]

    def undefined(self, curves: bool = True) -> dict[str, str]:
        """Why each undefined headline metric is None, by metric name
        (`curves=False`: those not read off the profit curve only)."""
        shown = [m for m in HEADLINE if curves or not m.curve]
        # one pass over the metrics for all of them (a pass per metric
        # evaluated every ratio again, a tenth of a Monte Carlo run)
        reasons = _why(self, [m.name for m in shown])
        return {m.name: reasons[m.json] for m in shown if m.json in reasons}

    def as_dict(self) -> dict:
        """The headline metrics by their JSON keys (null where undefined, and
        then `undefined` says why), then the per-place tables."""
        out: dict = {m.json: self.value(m.name) for m in HEADLINE}
        reasons = _why(self, [m.name for m in HEADLINE])
        extra = {k: why for k, why in self.unknown.items() if k not in METRIC}
        if reasons or extra:
            out["undefined"] = reasons | extra
        out["steps"] = self.steps
        out["stages"] = self.stages
        out["channels"] = self.channels
        return out


def place_tables(step_ids, reach, visits, dropoff, churn, stage_names, stage_of, stage_reach,
                 money=None):
    """The per-step and per-stage dicts of Metrics, from arrays (NaN reach:
    not computed, None). `stage_of[i]` is step i's stage number; `money`
    (steps x 3: revenue, cost, profit per step) adds those columns."""
    import numpy as np

    from .chain import or_none

    count = len(stage_names)
    reach, stage_reach = np.minimum(reach, 1.0), np.minimum(stage_reach, 1.0)
    if money is None:
        money = np.zeros((len(step_ids), 3))
    rev, cost, prof = (money[:, k].tolist() for k in range(3))
    steps = {s: {"reach": r, "visits": v, "dropoff": d, "churn": c, "revenue": a, "cost": b,
                 "profit": e}
             for s, r, v, d, c, a, b, e in zip(step_ids, or_none(reach), visits.tolist(),
                                               dropoff.tolist(), churn.tolist(), rev, cost, prof)}
    stage_drop = np.bincount(stage_of, weights=dropoff, minlength=count)
    stage_churn = np.bincount(stage_of, weights=churn, minlength=count)
    stage_money = [np.bincount(stage_of, weights=money[:, k], minlength=count).tolist()
                   for k in range(3)]
    stages = {name: {"reach": r, "dropoff": d, "churn": c, "revenue": a, "cost": b, "profit": e}
              for name, r, d, c, a, b, e in zip(stage_names, or_none(stage_reach),
                                                stage_drop.tolist(), stage_churn.tolist(),
                                                *stage_money)}
    return steps, stages


def channel_money(chain: Chain, money) -> dict[str, dict[str, float]]:
    """Revenue, cost and profit per channel (steps x 3 `money`), channels in
    order of first appearance; steps without a channel under "" (as in
    attribution's JSON)."""
    import numpy as np

    names = chain.channels
    code = chain.channel_of if chain.channel_of is not None else np.zeros(chain.n, np.int64)
    sums = [np.bincount(code, weights=money[:, k], minlength=len(names)).tolist()
            for k in range(3)]
    return {name: {"revenue": r, "cost": c, "profit": p}
            for name, r, c, p in zip(names, *sums)}


_LINEAR = EXPECTATIONS  # blended by share; the ratios follow from them


_Key = TypeVar("_Key")


def blend(parts: dict[_Key, Metrics], shares: dict[_Key, float]) -> Metrics:
    """The persona mix as a whole: expectations weighted by share, payback
    off the blended curve, each entry step's prospects weighted by share x
    entry rate. (Also the mixture of customers' own rates: points for
    personas, mixture.py.)"""
    if len(parts) == 1:
        (persona, only), = parts.items()
        if shares[persona] == 1.0:
            return only  # one persona is the whole mix
    parts = {p: m for p, m in parts.items() if shares[p] > 0}  # (0 x inf is not 0)
    first = next(iter(parts.values()))
    weights = [shares[p] for p in parts]
    steps = _mix_rows([m.steps for m in parts.values()], weights)
    stages = _mix_rows([m.stages for m in parts.values()], weights)
    channels = _mix_rows([cast("dict[str, Row]", m.channels) for m in parts.values()], weights)
    cohort = {k: _weighted(weights, [m.cohort[k] for m in parts.values()]) for k in first.cohort}
    cohort_visits = ({k: _weighted(weights, [m.cohort_visits[k] for m in parts.values()])
                      for k in first.cohort_visits}
                     if all(m.cohort_visits for m in parts.values()) else {})
    # Metrics' expectation fields by name (all floats; Any: mypy checks a
    # `**` dict against every parameter, the dict-typed ones too).
    linear: dict[str, Any] = {k: _weighted(weights, [getattr(m, k) for m in parts.values()])
                              for k in _LINEAR}
    unknown = {k: why for m in parts.values() for k, why in m.unknown.items()}
    curves = [(w, m.curve) for w, m in zip(weights, parts.values())]
    curve = None if any(c is None for _, c in curves) else ProfitCurve.mix(
        cast("list[tuple[float, ProfitCurve]]", curves))
    return Metrics(**linear, steps=steps, stages=stages, cohort=cohort,
                   channels=cast("dict[str, dict[str, float]]", channels),
                   by_entry=_blend_entries(parts, shares), curve=curve,
                   cohort_visits=cohort_visits, unknown=unknown)


def _blend_entries(parts: dict[_Key, Metrics], shares: dict[_Key, float]) -> dict[str, Entry]:
    """Prospects entering at each step, over the persona mix: weights share x
    the persona's entry rate there (an entry step in the order of the first
    persona that has it)."""
    steps: dict[str, None] = {}
    for m in parts.values():
        steps.update(dict.fromkeys(m.by_entry))
    out = {}
    for step in steps:
        held = [(shares[p] * m.by_entry[step].rate, m.by_entry[step])
                for p, m in parts.items() if step in m.by_entry]
        total = sum(w for w, _ in held)
        if not total > 0:
            continue
        values = {k: sum(w * e.values[k] for w, e in held) / total for k in held[0][1].values}
        curves = [(w / total, e.curve) for w, e in held]
        curve = None if any(c is None for _, c in curves) else ProfitCurve.mix(
            cast("list[tuple[float, ProfitCurve]]", curves))
        out[step] = Entry(values, curve, total,
                          {k: why for _, e in held for k, why in e.unknown.items()})
    return out


def _mix(weights: list[float], values: list[float | None]) -> float | None:
    """sum(share * value), None when a value is None (a reach not computed)."""
    known = [v for v in values if v is not None]
    if len(known) < len(values):
        return None
    return _weighted(weights, known)


def _weighted(weights: list[float], values: list[float]) -> float:
    """sum(share * value), for values that are never None (the expectations)."""
    return sum(w * v for w, v in zip(weights, values))


def _mix_rows(tables: list[dict[str, dict[str, float | None]]],
              weights: list[float]) -> dict[str, dict[str, float | None]]:
    """`_mix` of every entry of per-step (or per-stage) tables, rows and keys
    in the first table's order. Column by column with numpy when every row
    has the same keys: the same products, added in persona order (what
    `sum` does up to Python 3.11; from 3.12 on `sum` compensates rounding,
    which can change the last digit with three personas or more)."""
    import numpy as np

    first = tables[0]
    if not first:
        return {}
    ids = list(first)
    shape = first[ids[0]].keys()
    keys = list(shape)
    if not all(map(shape.__eq__, map(dict.keys, first.values()))):
        return {s: {k: _mix(weights, [t[s][k] for t in tables]) for k in first[s]} for s in ids}
    total = np.zeros((len(keys), len(ids)))
    missing: set[tuple[int, int]] = set()
    for weight, table in zip(weights, tables):
        rows = list(map(table.__getitem__, ids))
        for j, key in enumerate(keys):
            values = np.array(list(map(itemgetter(key), rows)), float)  # None: NaN
            for i in np.flatnonzero(np.isnan(values)).tolist():
                if rows[i][key] is None:
                    missing.add((j, i))
            total[j] = total[j] + weight * values
    # cast: tolist() gives floats; a value missing in some persona becomes None.
    out = cast("list[list[float | None]]", total.tolist())
    for j, i in missing:
        out[j][i] = None
    row = _ROWS.get(tuple(keys))
    if row is not None:
        return dict(zip(ids, map(row, *out)))
    return dict(zip(ids, map(dict, map(zip, repeat(keys), zip(*out)))))


#: the usual rows, built as literals (twice as fast as dict(zip(...)))
_ROWS: dict[tuple[str, ...], Callable[..., dict[str, float | None]]] = {
    ("reach", "visits", "dropoff", "churn"):
        lambda r, v, d, c: {"reach": r, "visits": v, "dropoff": d, "churn": c},
    ("reach", "dropoff", "churn"): lambda r, d, c: {"reach": r, "dropoff": d, "churn": c},
    ("reach", "visits", "dropoff", "churn", "revenue", "cost", "profit"):
        lambda r, v, d, c, a, b, e: {"reach": r, "visits": v, "dropoff": d, "churn": c,
                                     "revenue": a, "cost": b, "profit": e},
    ("reach", "dropoff", "churn", "revenue", "cost", "profit"):
        lambda r, d, c, a, b, e: {"reach": r, "dropoff": d, "churn": c, "revenue": a,
                                  "cost": b, "profit": e},
}

"""What the engines return, and blending personas by share.

Blended conversion, revenue, cost and the step/stage probabilities are
share-weighted (they are expectations over the persona mix). Blended clv,
cac, ltv_cac and time to convert are ratios of blended expectations, never
share-weighted averages of the personas' ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Callable, TypeVar, cast

from ..metrics import EXPECTATIONS, HEADLINE, METRIC, ratio, undefined


@dataclass
class Metrics:
    """One persona's (or the blend's) metrics: the expectations of the metric
    table (`journeydsl.metrics`) as fields, its ratios as properties."""

    conversion: float
    revenue: float
    cost: float
    value_converted: float  # E[V; converted]: discounted value of converting walks
    time_converted: float  # E[T_first_goal; converted], days
    viral_coefficient: float
    active_at_horizon: float
    steps: dict[str, dict[str, float | None]]  # step -> reach, visits, dropoff, churn
    stages: dict[str, dict[str, float | None]]  # stage -> reach, dropoff, churn
    cohort: dict[str, float] = field(default_factory=dict)  # prospects, customers, revenue, cost
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

    def value(self, name: str) -> float | None:
        """A headline metric by its table name (an expectation or a ratio);
        None when it has no value (see `undefined`)."""
        metric = METRIC[name]
        if metric.of is None:
            return None if name in self.unknown else getattr(self, name)
        return ratio(metric, {k: self.value(k) for k in metric.of})

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

    def undefined(self) -> dict[str, str]:
        """Why each undefined ratio is None, by metric name."""
        values = {m.name: self.value(m.name) for m in METRIC.values()
                  if m.argument == "persona"}
        return undefined(values, self.unknown)

    def as_dict(self) -> dict:
        """The headline metrics by their JSON keys (null where undefined, and
        then `undefined` says why), then the per-place tables."""
        out: dict = {m.json: self.value(m.name) for m in HEADLINE}
        reasons = self.undefined()
        extra = {k: why for k, why in self.unknown.items() if k not in METRIC}
        if reasons or extra:
            out["undefined"] = {METRIC[k].json: why for k, why in reasons.items()
                                if METRIC[k].headline} | extra
        out["steps"] = self.steps
        out["stages"] = self.stages
        return out


def place_tables(step_ids, reach, visits, dropoff, churn, stage_names, stage_of, stage_reach):
    """The per-step and per-stage dicts of Metrics, from arrays (NaN reach:
    not computed, None). `stage_of[i]` is step i's stage number."""
    import numpy as np

    from .chain import or_none

    count = len(stage_names)
    reach, stage_reach = np.minimum(reach, 1.0), np.minimum(stage_reach, 1.0)
    steps = {s: {"reach": r, "visits": v, "dropoff": d, "churn": c}
             for s, r, v, d, c in zip(step_ids, or_none(reach), visits.tolist(),
                                      dropoff.tolist(), churn.tolist())}
    stage_drop = np.bincount(stage_of, weights=dropoff, minlength=count)
    stage_churn = np.bincount(stage_of, weights=churn, minlength=count)
    stages = {name: {"reach": r, "dropoff": d, "churn": c}
              for name, r, d, c in zip(stage_names, or_none(stage_reach), stage_drop.tolist(),
                                       stage_churn.tolist())}
    return steps, stages


_LINEAR = EXPECTATIONS  # blended by share; the ratios follow from them


_Key = TypeVar("_Key")


def blend(parts: dict[_Key, Metrics], shares: dict[_Key, float]) -> Metrics:
    """The persona mix as a whole: expectations weighted by share. (Also
    the mixture of customers' own rates: points for personas, mixture.py.)"""
    if len(parts) == 1:
        (persona, only), = parts.items()
        if shares[persona] == 1.0:
            return only  # one persona is the whole mix
    parts = {p: m for p, m in parts.items() if shares[p] > 0}  # (0 x inf is not 0)
    first = next(iter(parts.values()))
    weights = [shares[p] for p in parts]
    steps = _mix_rows([m.steps for m in parts.values()], weights)
    stages = _mix_rows([m.stages for m in parts.values()], weights)
    cohort = {k: _weighted(weights, [m.cohort[k] for m in parts.values()]) for k in first.cohort}
    cohort_visits = ({k: _weighted(weights, [m.cohort_visits[k] for m in parts.values()])
                      for k in first.cohort_visits}
                     if all(m.cohort_visits for m in parts.values()) else {})
    # Metrics' expectation fields by name (all floats; Any: mypy checks a
    # `**` dict against every parameter, the dict-typed ones too).
    linear: dict[str, Any] = {k: _weighted(weights, [getattr(m, k) for m in parts.values()])
                              for k in _LINEAR}
    unknown = {k: why for m in parts.values() for k, why in m.unknown.items()}
    return Metrics(**linear, steps=steps, stages=stages, cohort=cohort,
                   cohort_visits=cohort_visits, unknown=unknown)


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
}

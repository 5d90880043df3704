"""What the engines return, and blending personas by share.

Blended conversion, revenue, cost and the step/stage probabilities are
share-weighted (they are expectations over the persona mix). Blended clv,
cac, ltv_cac and time to convert are ratios of blended expectations, never
share-weighted averages of the personas' ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Metrics:
    conversion: float
    revenue: float
    cost: float
    value_converted: float  # E[V; converted]: discounted value of converting walks
    time_converted: float  # E[T_first_goal; converted], days
    viral_coefficient: float
    active_at_horizon: float
    steps: dict[str, dict[str, float]]  # step -> reach, visits, dropoff, churn
    stages: dict[str, dict[str, float]]  # stage -> reach, dropoff, churn
    cohort: dict[str, float] = field(default_factory=dict)  # prospects, customers, revenue, cost

    @property
    def clv(self) -> float | None:
        return self.value_converted / self.conversion if self.conversion > 0 else None

    @property
    def cac(self) -> float | None:
        return self.cost / self.conversion if self.conversion > 0 else None

    @property
    def ltv_cac(self) -> float | None:
        clv, cac = self.clv, self.cac
        return clv / cac if clv is not None and cac else None

    @property
    def time_to_convert_days(self) -> float | None:
        return self.time_converted / self.conversion if self.conversion > 0 else None

    def as_dict(self) -> dict:
        return {
            "conversion": self.conversion,
            "revenue": self.revenue,
            "cost": self.cost,
            "clv": self.clv,
            "cac": self.cac,
            "ltv_cac": self.ltv_cac,
            "time_to_convert_days": self.time_to_convert_days,
            "viral_coefficient": self.viral_coefficient,
            "active_at_horizon": self.active_at_horizon,
            "steps": self.steps,
            "stages": self.stages,
        }


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


_LINEAR = ("conversion", "revenue", "cost", "value_converted", "time_converted",
           "viral_coefficient", "active_at_horizon")


def blend(parts: dict[str, Metrics], shares: dict[str, float]) -> Metrics:
    """The persona mix as a whole: expectations weighted by share."""
    if len(parts) == 1:
        (persona, only), = parts.items()
        if shares[persona] == 1.0:
            return only  # one persona is the whole mix
    def mix(get) -> float | None:
        values = [(shares[p], get(m)) for p, m in parts.items()]
        if any(v is None for _, v in values):
            return None  # a reach that was not computed
        return sum(share * v for share, v in values)

    first = next(iter(parts.values()))
    steps = {s: {k: mix(lambda m, s=s, k=k: m.steps[s][k]) for k in first.steps[s]}
             for s in first.steps}
    stages = {s: {k: mix(lambda m, s=s, k=k: m.stages[s][k]) for k in first.stages[s]}
              for s in first.stages}
    cohort = {k: mix(lambda m, k=k: m.cohort[k]) for k in first.cohort}
    return Metrics(**{k: mix(lambda m, k=k: getattr(m, k)) for k in _LINEAR},
                   steps=steps, stages=stages, cohort=cohort)

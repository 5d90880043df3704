"""Sums over the prospects of one persona, that add up across draws.

A draw of the uncertain rates walks each persona as its own pair; the
report pools a persona's draws by adding their sums, so the means and the
covariances the standard errors need are kept as sums and sums of
products, never as per-prospect arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...metrics import EXPECTATIONS
from ..chain import Chain
from ..results import Metrics

# Per-prospect quantities whose means (and covariances) give the headline metrics.
LINEAR = EXPECTATIONS


@dataclass
class Tally:
    """Sums over the prospects of one persona (mergeable across draws)."""

    chain: Chain
    n: int
    sums: np.ndarray  # of LINEAR per prospect
    cross: np.ndarray  # sums of products of LINEAR per prospect (referrals: own square only)
    visits: np.ndarray
    reach_count: np.ndarray
    dropoff: np.ndarray
    churn: np.ndarray
    stage_reach_count: np.ndarray
    cohort: np.ndarray  # prospects, customers, revenue, cost (sums)
    converters: np.ndarray  # [converter, (value, cost, weight, clv)]
    # [record, (value, weight)]: the walks that earn revenue (the rest earn 0)
    earners: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    def merge(self, other: Tally) -> Tally:
        return Tally(
            self.chain, self.n + other.n, self.sums + other.sums, self.cross + other.cross,
            self.visits + other.visits, self.reach_count + other.reach_count,
            self.dropoff + other.dropoff, self.churn + other.churn,
            self.stage_reach_count + other.stage_reach_count, self.cohort + other.cohort,
            np.concatenate([self.converters, other.converters]),
            np.concatenate([self.earners, other.earners]))

    @property
    def means(self) -> np.ndarray:
        return self.sums / max(self.n, 1)

    def covariance(self) -> np.ndarray:
        """Covariance matrix of the per-prospect LINEAR quantities."""
        n = max(self.n, 1)
        mean = self.means
        cov = self.cross / n - np.outer(mean, mean)
        return cov * (n / (n - 1)) if n > 1 else cov

    def metrics(self) -> Metrics:
        chain = self.chain
        n = max(self.n, 1)
        steps: dict[str, dict[str, float | None]] = {
            s: {"reach": float(min(self.reach_count[i] / n, 1.0)),
                "visits": float(self.visits[i] / n),
                "dropoff": float(self.dropoff[i] / n), "churn": float(self.churn[i] / n)}
            for i, s in enumerate(chain.steps)}
        order: list[str] = []
        for stage in chain.stage_of:
            if stage not in order:
                order.append(stage)
        stages: dict[str, dict[str, float | None]] = {}
        for k, stage in enumerate(order):
            idx = [i for i, st in enumerate(chain.stage_of) if st == stage]
            stages[stage] = {"reach": float(min(self.stage_reach_count[k] / n, 1.0)),
                             "dropoff": float(self.dropoff[idx].sum() / n),
                             "churn": float(self.churn[idx].sum() / n)}
        # Metrics' expectation fields by name (floats; Any: mypy checks a
        # `**` dict against every parameter, the dict-typed ones too).
        linear: dict[str, Any] = {k: float(v) for k, v in zip(LINEAR, self.means)}
        m = Metrics(**linear, steps=steps, stages=stages)
        m.cohort = {k: float(v / n) for k, v in
                    zip(("prospects", "customers", "revenue", "cost"), self.cohort)}
        return m


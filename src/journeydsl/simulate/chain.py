"""The numeric form of one persona's journey: arrays the engines share.

Steps are indexed in declaration order. Rates, delays and referral amounts
are scipy sparse matrices (row = source step). Uncertain rates keep their
distribution so the Monte Carlo engine can sample them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy import sparse

from ..model import PERIOD_DAYS, Amount


@dataclass(frozen=True)
class Chain:
    persona: str
    steps: list[str]
    stage_of: list[str]  # stage id of each step
    rates: sparse.csr_matrix  # rates[s, t]: P(move s -> t) (means of uncertain rates)
    delays: sparse.csr_matrix  # delays[s, t]: days the move takes (same pattern as rates)
    value: np.ndarray  # revenue per visit
    cost: np.ndarray  # spend per visit
    goal: np.ndarray  # bool per step
    entry: np.ndarray  # where a new prospect starts (sums to 1)
    referrals: sparse.csr_matrix  # referrals[a, b]: prospects sent into b per visit to a
    referral_delays: sparse.csr_matrix  # days until they arrive
    daily_discount: float  # multiply money by this per day elapsed (1 = no discount)
    horizon_days: float | None
    discounted: sparse.csr_matrix  # rates * daily_discount ** delays
    rate_delay: sparse.csr_matrix  # rates * delays (for expected times)
    referrals_discounted: sparse.csr_matrix  # referrals * daily_discount ** referral delays
    uncertain: dict[tuple[int, int], Amount] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def stop(self) -> np.ndarray:
        """Probability that the walk ends at each step (1 - outgoing rates)."""
        return np.clip(1.0 - np.asarray(self.rates.sum(axis=1)).ravel(), 0.0, 1.0)


def daily_discount(graph: nx.DiGraph) -> float:
    """Per-day factor: an amount at day t counts amount / (1 + d) ** (t / P)."""
    if not graph.graph.get("discount"):
        return 1.0
    rate, period = graph.graph["discount"]
    return (1.0 + rate) ** (-1.0 / PERIOD_DAYS[period])


def build_chain(graph: nx.DiGraph, persona: str) -> Chain:
    """The chain of one persona from a compiled journey graph."""
    steps = list(graph.nodes)
    where = {s: i for i, s in enumerate(steps)}
    n = len(steps)
    rows, cols, rates, delays = [], [], [], []
    ref_rows, ref_cols, amounts, ref_delays = [], [], [], []
    uncertain: dict[tuple[int, int], Amount] = {}
    for u, v, d in graph.edges(data=True):
        i, j = where[u], where[v]
        if d["rate"] is not None and d["rate"][persona] > 0:
            rows.append(i)
            cols.append(j)
            rates.append(d["rate"][persona])
            delays.append(d["delay_days"])
            if persona in d["uncertain"]:
                uncertain[(i, j)] = d["uncertain"][persona]
        if d["referral"] is not None and d["referral"][persona] > 0:
            ref_rows.append(i)
            ref_cols.append(j)
            amounts.append(d["referral"][persona])
            ref_delays.append(d["referral_delay_days"])

    def matrix(values, r, c) -> sparse.csr_matrix:
        return sparse.csr_matrix((np.asarray(values, float), (r, c)), shape=(n, n))

    factor = daily_discount(graph)
    rates_a, delays_a = np.asarray(rates, float), np.asarray(delays, float)
    amounts_a, ref_delays_a = np.asarray(amounts, float), np.asarray(ref_delays, float)

    data = graph.nodes

    def per_step(key: str) -> np.ndarray:
        return np.array([(data[s][key] or {}).get(persona, 0.0) for s in steps], float)

    return Chain(
        persona=persona,
        steps=steps,
        stage_of=[data[s]["stage"] for s in steps],
        rates=matrix(rates, rows, cols),
        delays=matrix(delays, rows, cols),
        value=per_step("value"),
        cost=per_step("cost"),
        goal=np.array([bool(data[s]["goal"]) for s in steps]),
        entry=np.array([data[s]["entry"][persona] for s in steps], float),
        referrals=matrix(amounts, ref_rows, ref_cols),
        referral_delays=matrix(ref_delays, ref_rows, ref_cols),
        daily_discount=factor,
        horizon_days=graph.graph.get("horizon_days"),
        discounted=matrix(rates_a * factor ** delays_a, rows, cols),
        rate_delay=matrix(rates_a * delays_a, rows, cols),
        referrals_discounted=matrix(amounts_a * factor ** ref_delays_a, ref_rows, ref_cols),
        uncertain=uncertain,
    )

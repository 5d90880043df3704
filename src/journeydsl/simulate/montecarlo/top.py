"""Revenue concentration over prospects: the share of all revenue that the
top X% of entering prospects earn (`journey simulate --top 8%`).

Every entering prospect counts, those who earn nothing included (they are
the bottom of the ranking): with fraction f, the top f of the prospects
ranked by their discounted revenue V earn

  S(f) = E[V; V among the top f] / E[V]

(a prospect straddling the cut counts for the part of its weight inside
it, so S is continuous in f). The persona mix and the draws of uncertain
rates weigh each prospect as `report.blended_linear` weighs its means.

Its standard error is the delta method's on S's influence function
(`_linear_variance`): S is a smooth function of two means once the cut q
is fixed, and moving q moves T by q x (the weight crossing it), which the
influence function's q f term accounts for. Exact for the closed forms
of the tests (revenue taking two values, the cut inside either). A
Poisson bootstrap (200 replicates) gave the same numbers but took four
times as long as the whole walk on value_ladder. With several draws of
the uncertain rates, the spread of the draws' own S over sqrt(draws) is
taken when larger (as for the headline metrics: the draws' rates are a
source of variance the prospects' own spread cannot see).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .books import dot
from .report import share_of_top


@dataclass
class Earners:
    """One pair's prospects who earn revenue: each record's revenue and
    count of identical walks, how many earn nothing, the weight of one
    prospect in the mix, and the pair's draw."""

    value: np.ndarray
    count: np.ndarray
    zeros: float
    unit: float
    draw: int


def _share(groups: list[Earners], counts: list[np.ndarray], zeros: list[float],
           fraction: float) -> float | None:
    value = np.concatenate([g.value for g in groups])
    weight = np.concatenate([c * g.unit for g, c in zip(groups, counts)])
    whole = float(weight.sum()) + sum(z * g.unit for g, z in zip(groups, zeros))
    some = (weight > 0).nonzero()[0]
    return share_of_top(value.take(some), weight.take(some), fraction, whole=whole)


def concentration(groups: list[Earners], fraction: float) -> tuple[float | None, float | None]:
    """(S(fraction), its standard error); None when no one earns anything."""
    if not groups or not any(len(g.value) for g in groups):
        return None, None
    share = _share(groups, [g.count for g in groups], [g.zeros for g in groups], fraction)
    if share is None:
        return None, None
    var = _linear_variance(groups, fraction, share)
    draws = sorted({g.draw for g in groups})
    if len(draws) > 1:
        own = [_share(mine, [g.count for g in mine], [g.zeros for g in mine], fraction)
               for mine in ([g for g in groups if g.draw == d] for d in draws)]
        known = [s for s in own if s is not None]
        if len(known) > 1:
            var = max(var, float(np.var(known, ddof=1)) / len(known))
    # a share with no spread (the top X% all earn the same, every run)
    # has a variance of rounding errors: 0
    se = math.sqrt(max(var, 0.0))
    return share, 0.0 if se <= 1e-9 * share else se


def _linear_variance(groups: list[Earners], fraction: float, share: float) -> float:
    """Var(S) by the delta method on S's influence function: with q the
    revenue at the cut, T = S x mu the top's revenue per prospect and mu
    the mean revenue, a prospect of revenue v moves T by
    (v - q)+ + q f - T and S by (that - S (v - mu)) / mu; the variance of
    the mean of those over each group's prospects (each group a stratum of
    the mix) is summed."""
    value = np.concatenate([g.value for g in groups])
    weight = np.concatenate([g.count * g.unit for g in groups])
    whole = float(weight.sum()) + sum(g.zeros * g.unit for g in groups)
    mu = dot(weight, value) / whole
    order = np.argsort(-value, kind="stable")
    cw = np.cumsum(weight.take(order)) / whole
    k = min(int(np.searchsorted(cw, fraction, side="left")), len(order) - 1)
    q = float(value[order[k]]) if cw[-1] >= fraction else 0.0
    top = share * mu

    def influence(v: np.ndarray) -> np.ndarray:
        return ((np.maximum(v - q, 0.0) + q * fraction - top) - share * (v - mu)) / mu

    var = 0.0
    for g in groups:
        size = float(g.count.sum()) + g.zeros
        if size < 2:
            continue
        x, at_zero = influence(g.value), float(influence(np.zeros(1))[0])
        total = dot(g.count, x) + g.zeros * at_zero
        squares = dot(g.count, x * x) + g.zeros * at_zero ** 2
        var += g.unit ** 2 * (squares - total * total / size) * size / (size - 1)
    return var

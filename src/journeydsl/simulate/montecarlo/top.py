"""Revenue concentration over prospects: the share of all revenue that the
top X% of entering prospects earn (`journey simulate --top 8%`).

Every entering prospect counts, those who earn nothing included (they are
the bottom of the ranking): with fraction f, the top f of the prospects
ranked by their discounted revenue V earn

  S(f) = E[V; V among the top f] / E[V]

(a prospect straddling the cut counts for the part of its weight inside
it, so S is continuous in f). The persona mix and the draws of uncertain
rates weigh each prospect as `report.blended_linear` weighs its means.

Its standard error is a Poisson bootstrap: each simulated prospect is
drawn Poisson(1) times (a record of c identical walks: Poisson(c); the
prospects who earn nothing: Poisson of their number), independently for
each of BOOTSTRAP replicates, and S is recomputed on each; the standard
deviation of the replicates is the standard error. With several draws of
the uncertain rates, the spread of the draws' own S over sqrt(draws) is
taken when larger (as for the headline metrics: the draws' rates are a
source of variance the prospects' resampling cannot see).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .report import share_of_top

BOOTSTRAP = 200  # replicates: the standard error's own relative error is about 5%


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


def concentration(groups: list[Earners], fraction: float,
                  seed: int) -> tuple[float | None, float | None]:
    """(S(fraction), its standard error); None when no one earns anything."""
    if not groups or not any(len(g.value) for g in groups):
        return None, None
    share = _share(groups, [g.count for g in groups], [g.zeros for g in groups], fraction)
    if share is None:
        return None, None
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3 << 30,)))
    replicates = []
    for _ in range(BOOTSTRAP):
        value = _share(groups, [rng.poisson(g.count).astype(float) for g in groups],
                       [float(rng.poisson(g.zeros)) for g in groups], fraction)
        if value is not None:
            replicates.append(value)
    if len(replicates) < 2:
        return share, None
    var = float(np.var(replicates, ddof=1))
    draws = sorted({g.draw for g in groups})
    if len(draws) > 1:
        own = [_share(mine, [g.count for g in mine], [g.zeros for g in mine], fraction)
               for mine in ([g for g in groups if g.draw == d] for d in draws)]
        known = [s for s in own if s is not None]
        if len(known) > 1:
            var = max(var, float(np.var(known, ddof=1)) / len(known))
    return share, math.sqrt(var)

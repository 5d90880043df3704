"""The exact engine: absorbing Markov chain algebra on the journey.

Without a horizon everything follows from a handful of sparse solves
(one LU factorization per matrix, reused for every right-hand side; the
inverse is never formed). Notation for one persona: Q the rates, alpha the
entry distribution, U the non-goal steps, G the goal steps, Qd the rates
discounted by each move's delay.

  visits           nu     = alpha (I - Q)^-1
  disc. visits     nu_d   = alpha (I - Qd)^-1            revenue = nu_d . value
  conversion       h_U    = (I - Q_UU)^-1 Q_UG 1         conversion = alpha . h
  time to convert  g_U    = (I - Q_UU)^-1 [(Q*D)_UU h_U + (Q*D)_UG 1]
  visits before conversion  nu_U = alpha_U (I - Q_UU)^-1 (drop-off = nu_U * stop)
  value of walks that never convert = sum_U nu_dU value (1 - h)

With a horizon the same quantities come from a time-grid recursion
(horizon.py).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from .chain import Chain
from .results import Metrics


class _Factor:
    """An LU factorization of I - M, solving for columns or (trans) rows."""

    def __init__(self, m: sparse.spmatrix) -> None:
        n = m.shape[0]
        self.n = n
        self.lu = splu((sparse.identity(n, format="csc") - m.tocsc()).tocsc()) if n else None

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        if self.n == 0:
            return np.zeros_like(b)
        return self.lu.solve(np.ascontiguousarray(b, dtype=float), trans="T" if transpose else "N")


def solve(chain: Chain) -> Metrics:
    """Every metric of one persona, exactly (no horizon)."""
    if chain.horizon_days is not None:
        from .horizon import solve_with_horizon

        return solve_with_horizon(chain)
    q, qd = chain.rates.tocsr(), chain.discounted.tocsr()
    alpha, goal = chain.entry, chain.goal
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)

    full = _Factor(q)
    visits = full.solve(alpha, transpose=True)
    visits_d = visits if qd is q else _Factor(qd).solve(alpha, transpose=True)

    q_uu = q[u][:, u]
    before = _Factor(q_uu)
    into_goal = np.asarray(q[u][:, g].sum(axis=1)).ravel()
    h_u = before.solve(into_goal)
    h = np.ones(chain.n)
    h[u] = h_u
    rd = chain.rate_delay.tocsr()
    g_u = before.solve(rd[u][:, u] @ h_u + np.asarray(rd[u][:, g].sum(axis=1)).ravel())
    visits_before = np.zeros(chain.n)
    visits_before[u] = before.solve(alpha[u], transpose=True)
    if qd is q:
        visits_before_d = visits_before
    else:
        visits_before_d = np.zeros(chain.n)
        visits_before_d[u] = _Factor(qd[u][:, u]).solve(alpha[u], transpose=True)

    revenue = float(visits_d @ chain.value)
    cost = float(visits_d @ chain.cost)
    never = float(np.sum(visits_before_d[u] * chain.value[u] * (1.0 - h_u)))
    conversion = float(alpha @ h)
    stop = chain.stop
    steps, stages = _places(chain, visits, visits_before, stop, full)
    sends = np.asarray(chain.referrals.sum(axis=1)).ravel()
    metrics = Metrics(
        conversion=conversion,
        revenue=revenue,
        cost=cost,
        value_converted=revenue - never,
        time_converted=float(alpha[u] @ g_u),
        viral_coefficient=float(visits @ sends),
        active_at_horizon=0.0,
        steps=steps,
        stages=stages,
    )
    metrics.cohort = _cohort(chain, full, visits, visits_d, h, qd is q, metrics)
    return metrics


def _places(chain: Chain, visits, visits_before, stop, full: _Factor):
    """Per-step and per-stage reach, visits, drop-off and churn."""
    reach = visits / _return_visits(chain)
    dropoff = visits_before * stop
    churn = (visits - visits_before) * stop
    steps = {
        s: {"reach": float(min(reach[i], 1.0)), "visits": float(visits[i]),
            "dropoff": float(dropoff[i]), "churn": float(churn[i])}
        for i, s in enumerate(chain.steps)
    }
    stages: dict[str, dict[str, float]] = {}
    members: dict[str, list[int]] = {}
    for i, stage in enumerate(chain.stage_of):
        members.setdefault(stage, []).append(i)
    for stage, idx in members.items():
        stages[stage] = {
            "reach": float(min(_reach_set(chain, idx, visits), 1.0)),
            "dropoff": float(dropoff[idx].sum()),
            "churn": float(churn[idx].sum()),
        }
    return steps, stages


def _return_visits(chain: Chain) -> np.ndarray:
    """N[s, s]: expected visits to s by a walk that starts at s.

    Only a cycle brings a walk back, so N[s, s] is 1 outside cyclic strongly
    connected components and comes from the (small) block of s's component
    otherwise."""
    from scipy.sparse.csgraph import connected_components

    q = chain.rates.tocsr()
    n = chain.n
    count, labels = connected_components(q, directed=True, connection="strong")
    out = np.ones(n)
    sizes = np.bincount(labels, minlength=count)
    diag = q.diagonal()
    for comp in range(count):
        idx = np.flatnonzero(labels == comp) if sizes[comp] > 1 else None
        if idx is None:
            continue
        block = _Factor(q[idx][:, idx])
        eye = np.eye(len(idx))
        out[idx] = np.diag(block.solve(eye))
    single = (sizes[labels] == 1) & (diag > 0)
    out[single] = 1.0 / (1.0 - diag[single])
    return out


def _reach_set(chain: Chain, idx: list[int], visits: np.ndarray) -> float:
    """P(the walk visits any step of `idx`)."""
    q = chain.rates.tocsr()
    n = chain.n
    inside = np.zeros(n, bool)
    inside[idx] = True
    outside = np.flatnonzero(~inside)
    into = np.asarray(q[outside][:, idx].sum(axis=1)).ravel()
    if not _can_return(q, inside):
        # A walk enters the set at most once: P(hit) = E[entries].
        return float(chain.entry[idx].sum() + visits[outside] @ into)
    # Taboo chain: walks outside the set until they enter it.
    hit = _Factor(q[outside][:, outside]).solve(into)
    return float(chain.entry[idx].sum() + chain.entry[outside] @ hit)


def _can_return(q: sparse.csr_matrix, inside: np.ndarray) -> bool:
    """Whether some cycle passes both inside and outside the set."""
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(q, directed=True, connection="strong")
    inside_labels = set(labels[inside])
    return any(labels[j] in inside_labels for j in np.flatnonzero(~inside))


def _cohort(chain: Chain, full: _Factor, visits, visits_d, h, undiscounted: bool, m: Metrics):
    """Totals per entering prospect with the whole referral cascade included."""
    r, rd = chain.referrals.tocsr(), chain.referrals_discounted.tocsr()
    targets = np.flatnonzero(np.asarray(r.sum(axis=0)).ravel() > 0)
    base = {"prospects": 1.0, "customers": m.conversion, "revenue": m.revenue, "cost": m.cost}
    if len(targets) == 0:
        return base
    k = len(targets)
    starts = np.zeros((chain.n, k))
    starts[targets, range(k)] = 1.0
    rows = full.solve(starts, transpose=True).T  # visits from each target, k x n
    disc = _Factor(chain.discounted) if not undiscounted else full
    rows_d = rows if undiscounted else disc.solve(starts, transpose=True).T
    send = r[:, targets].toarray()  # n x k
    send_d = rd[:, targets].toarray()
    gen = rows @ send  # next-generation matrix K (counts)
    gen_d = rows_d @ send_d  # K with money discounted to the sender's entry
    first = visits @ send
    first_d = visits_d @ send_d
    eye = np.eye(k)
    multiplier = np.linalg.solve((eye - gen).T, first)  # first (I - K)^-1
    multiplier_d = np.linalg.solve((eye - gen_d).T, first_d)
    return {
        "prospects": 1.0 + float(multiplier.sum()),
        "customers": m.conversion + float(multiplier @ h[targets]),
        "revenue": m.revenue + float(multiplier_d @ (rows_d @ chain.value)),
        "cost": m.cost + float(multiplier_d @ (rows_d @ chain.cost)),
    }

"""Attribution: how much conversion, revenue and profit each step and each
channel carries.

Markov removal effect: for a step k and a metric X (conversion, revenue or
profit per entering prospect),

    removal_effect_X(k) = (X - X without k) / |X|

where "without k" means that walks reaching k end there, before the visit
counts: no goal is reached there, its value is not earned and its cost not
spent (entering at k ends at once, with nothing). For a channel, every step
of that channel is removed at once. `share` normalizes the removal effects
of one metric by the sum of its positive effects (over steps, and
separately over channels), so the positive shares sum to 1; the effects
themselves need not sum to 1 (they overlap on paths through several steps).
Conversion and revenue effects are never negative (removing a step can only
end walks sooner; values are not negative). A profit effect is negative
when removing the step raises profit (its costs, and those of the walks
through it, outweigh the margin they bring): its share is then negative too,
on the same scale. Post-conversion steps (renewals, win-back, return paths)
carry no conversion but carry revenue and profit: that is what the money
effects are for.

Goal steps are included: removing a goal step removes the conversions
through it (a walk that reaches it first, before any other goal, no longer
converts; one that has reached another goal before is unaffected).
Removing the only goal gives a removal effect of 1. Steps with no `channel`
are grouped under the channel None.

Blended over personas by share: the effects come from the blended metric
(sum of share x persona metric, with and without the step), not from
averaging the personas' effects.

Exact, without a horizon (notation of exact.py; N_UU = (I - Q_UU)^-1):
  a non-goal step k is reached before conversion with probability
  nu_U(k) / N_UU[k, k], and a walk there converts with probability h(k), so
      conversion - conversion without k = h(k) nu_U(k) / N_UU[k, k];
  N_UU[k, k] is 1 outside cycles, 1 / (1 - loop) for a self-loop, and
  otherwise depends on k's strongly connected component alone: one sparse
  LU of the moves inside components (block diagonal) serves them all, with
  as many right-hand sides as the largest component has steps;
  a goal step k is the first goal reached with probability
      alpha(k) + sum_U nu_U(x) Q[x, k].
  So every step's effect comes from the solves for h and nu_U plus that
  one factorization. A channel (a set S) is one sparse LU and one solve on
  the taboo chain, which keeps the U-chain's shape with the rows of S made
  dead ends:
      conversion without S = alpha_U (I - Q'_UU)^-1 Q'_UG' 1 + alpha(G'),
      Q' = Q with the rows of S zeroed, G' = G \\ S.
  Money (Nd = (I - Qd)^-1 on all steps, Qd the discounted rates, nu_d =
  alpha Nd, X = Nd x for x = value or margin x value - cost): the money
  of a walk before its first visit to k is unchanged, and from that visit
  on it is X(k) in expectation, reached with discounted probability
  nu_d(k) / Nd[k, k], so
      X - X without k = nu_d(k) X(k) / Nd[k, k]
  (Nd[k, k] as N_UU[k, k] above, on the discounted rates of all steps).
  A channel S: the first visit to S is at k with discounted probability
  (nu_d[S] Nd[S, S]^-1)_k, so
      X without S = X - nu_d[S] Nd[S, S]^-1 X[S]
  from |S| columns of Nd for a small S (the step formula is its |S| = 1
  case); for a large S, alpha (I - Qd')^-1 x' on the taboo chain's own LU
  (Qd' with the rows of S zeroed, x' zero on S).
  The factorizations use the block order of linalg.block_order (no
  fill-reducing permutation needed). Uncertain rates count at their mean.
  Only the journey's own prospects count (the metrics of the report, not
  the referral cohort).

With a `horizon` (conversions and money before H), each removal re-runs
the horizon engine's forward pass with the removed steps made dead ends
that are not goals and earn nothing: one pass per step and per channel,
per persona, which yields the three metrics at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from ..language.compiled import CompiledJourney
from ..linalg import LU
from .chain import Chain, build_chain
from .loop_entries import return_visits

_LOW_RANK = 48  # up to this many removed steps, update the base LU instead of a new one


#: The metrics removals are measured on, in the order of the solvers' columns.
METRICS = ("conversion", "revenue", "profit")


@dataclass(frozen=True)
class Removal:
    """One step or channel taken out of the journey.

    The conversion fields keep their version 1 names (`removal_effect`,
    `share`); revenue and profit have theirs prefixed. An effect is None
    when its metric is 0 (nothing to lose), a share when no removal lowers
    its metric."""

    name: str | None  # step id, or channel id (None: steps without a channel)
    conversion_without: float
    removal_effect: float | None  # (conversion - conversion_without) / conversion
    share: float | None  # removal_effect / sum of removal effects in its group
    steps: tuple[str, ...]  # the steps removed
    revenue_without: float = 0.0
    revenue_effect: float | None = None  # (revenue - revenue_without) / revenue
    revenue_share: float | None = None
    profit_without: float = 0.0
    profit_effect: float | None = None  # (profit - profit_without) / |profit|; may be < 0
    profit_share: float | None = None  # profit_effect / sum of the positive ones

    def as_dict(self) -> dict:
        return {"conversion_without": self.conversion_without,
                "removal_effect": self.removal_effect, "share": self.share,
                "revenue_without": self.revenue_without,
                "revenue_removal_effect": self.revenue_effect,
                "revenue_share": self.revenue_share,
                "profit_without": self.profit_without,
                "profit_removal_effect": self.profit_effect,
                "profit_share": self.profit_share,
                "steps": list(self.steps)}


@dataclass(frozen=True)
class Attribution:
    """Removal effects per step and per channel, by conversion effect
    (largest first), then revenue effect, then profit effect.

    `removal_effect` and `share` are None when nothing converts (or when no
    removal changes conversion, for `share`); the same for revenue and
    profit."""

    persona: str | None  # None: the persona mix
    conversion: float
    method: str  # "exact" or "horizon"
    steps: dict[str, Removal]
    channels: dict[str | None, Removal]
    revenue: float = 0.0
    profit: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready; the channel None (steps without a channel) is keyed ""."""
        return {"persona": self.persona, "conversion": self.conversion,
                "revenue": self.revenue, "profit": self.profit, "method": self.method,
                "steps": {k: r.as_dict() for k, r in self.steps.items()},
                "channels": {("" if k is None else k): r.as_dict()
                             for k, r in self.channels.items()}}


def attribution(journey: CompiledJourney, persona: str | None = None,
                steps: bool = True) -> Attribution:
    """Markov removal effects of every step and every channel.

    `persona` None: the persona mix (by share); a persona id: that persona
    (KeyError for one the journey does not have). `steps` False: channels
    only (`steps` is then empty), which saves one horizon pass per step."""
    from . import check_persona
    from .limits import located

    check_persona(journey, persona)
    shares = dict(journey.shares) if persona is None else {persona: 1.0}
    want_steps = steps
    step_ids = [s.id for s in journey.steps]
    members: dict[str | None, list[int]] = {}
    for i, step in enumerate(journey.steps):
        members.setdefault(step.channel, []).append(i)
    groups = list(members.values())

    base = np.zeros(len(METRICS))  # conversion, revenue, profit
    without_step = np.zeros((len(step_ids), len(METRICS)))
    without_channel = np.zeros((len(groups), len(METRICS)))
    method = "exact"
    for p, share in shares.items():
        chain = build_chain(journey, p)
        if chain.horizon_days is not None:
            method = "horizon"
        with located(journey):
            conv, by_step, by_group = _removals(chain, groups, want_steps)
        base += share * conv
        without_step += share * by_step
        without_channel += share * by_group

    step_rows = (_rows([(s, (s,)) for s in step_ids], base, without_step) if want_steps
                 else {})
    channel_rows = _rows([(c, tuple(step_ids[i] for i in idx)) for c, idx in members.items()],
                         base, without_channel)
    conversion, revenue, profit = base.tolist()
    return Attribution(persona, conversion, method, step_rows, channel_rows, revenue, profit)


def _removals(chain: Chain, groups: list[list[int]], steps: bool):
    """Conversion, revenue and profit, and the same without each step and
    without each group; with a `per customer` rate, integrated over the
    customers' own rates (each is linear in the walks' probabilities, as the
    removals are; an infinite expectation stays inf and its effects None)."""
    def one(ch: Chain):
        if ch.horizon_days is None:
            return _exact(ch, groups)
        return _horizon(ch, groups, steps)

    if not chain.per_customer:
        return one(chain)
    from .mixture import over_draw
    from .quadrature import Drawn

    drawn = Drawn.of(chain)
    assert drawn is not None  # the chain has its per-customer move

    def mix(parts: dict, weights: dict[int, float]):
        return tuple(sum(weights[i] * np.asarray(part[k]) for i, part in parts.items())
                     for k in range(3))

    result, _ = over_draw(chain, drawn, one, mix, lambda r: {
        "conversion": np.atleast_1d(r[0]), "steps": np.asarray(r[1]),
        "groups": np.asarray(r[2])})
    conv, by_step, by_group = result
    return np.asarray(conv, float), by_step, by_group


#: A removal effect within this of 0 is 0 (the rounding of a difference of
#: two near-equal totals, e.g. a step that earns nothing and costs nothing).
_NOISE = 1e-12


def _effects(base: float, without: np.ndarray, signed: bool):
    """Removal effects (X - X without) / |X| and their shares (by the sum of
    the positive effects); None where undefined. `signed` False: the effect
    cannot be negative, and a negative one is rounding."""
    if base == 0 or not math.isfinite(base):
        return [None] * len(without), [None] * len(without)
    effects = [(base - float(w)) / abs(base) for w in without]
    effects = [0.0 if abs(e) < _NOISE or (e < 0 and not signed) else e for e in effects]
    total = math.fsum(e for e in effects if e > 0)
    return effects, [e / total if total > 0 else None for e in effects]


def _rows(named, base: np.ndarray, without: np.ndarray) -> dict:
    """Removals keyed by name: by conversion effect, largest first, then by
    revenue effect, then by profit effect (post-conversion steps carry no
    conversion but money)."""
    (conv, conv_share), (rev, rev_share), (prof, prof_share) = (
        _effects(float(base[j]), without[:, j], signed=metric == "profit")
        for j, metric in enumerate(METRICS))
    rows = [Removal(name, float(w[0]), conv[i], conv_share[i], members,
                    float(w[1]), rev[i], rev_share[i], float(w[2]), prof[i], prof_share[i])
            for i, ((name, members), w) in enumerate(zip(named, without))]
    order = sorted(range(len(rows)), key=lambda i: (-(rows[i].removal_effect or 0.0),
                                                   -(rows[i].revenue_effect or 0.0),
                                                   -(rows[i].profit_effect or 0.0)))
    return {rows[i].name: rows[i] for i in order}


# ---------------------------------------------------------------- exact


def _exact(chain: Chain, groups: list[list[int]]):
    """The metrics (conversion, revenue, profit), and the metrics without
    each step (one row per step) and without each group (one row per group)."""
    conversion, conv_step, conv_group = _conversion(chain, groups)
    money, money_step, money_group = _money(chain, groups)
    return (np.array([conversion, *money]), np.column_stack([conv_step, money_step]),
            np.column_stack([conv_group, money_group]))


def _conversion(chain: Chain, groups: list[list[int]]):
    """Conversion, and conversion without each step and without each group."""
    n = chain.n
    q = chain.rates.tocsr()
    alpha, goal = chain.entry, chain.goal
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)
    q_u = q[u]
    q_uu = q_u[:, u].tocsr()
    q_ug = q_u[:, g].tocsc()
    into_goal = np.asarray(q_ug.sum(axis=1)).ravel()
    lu = LU.of(q_uu)
    h = np.ones(n)
    nu_u = np.zeros(n)
    h[u] = lu.col(into_goal)
    nu_u[u] = lu.row(alpha[u])
    conversion = float(alpha @ h)

    lost = np.zeros(n)
    # non-goal steps: h(k) P(reach k before converting)
    lost[u] = h[u] * nu_u[u] / return_visits(q_uu)
    # goal steps: P(the first goal reached is k)
    if len(g):
        lost[g] = alpha[g] + np.asarray(q_ug.T @ nu_u[u]).ravel()
    by_step = conversion - lost

    # Groups: the taboo chain is the U-chain with the rows of the removed
    # non-goal steps T zeroed (dead ends), walks into removed goal steps no
    # longer converting: I - Q' = (I - Q_UU) + E_T C, C the rows T of Q_UU.
    # Small T: Woodbury on the factorization above, |T| + 1 solves and a
    # |T| x |T| system; large T: one sparse LU of the taboo chain.
    m = len(u)
    pos = np.full(n, -1)
    pos[u] = np.arange(m)
    gpos = np.full(n, -1)
    gpos[g] = np.arange(len(g))
    nu = nu_u[u]
    taboo = None
    by_group = np.empty(len(groups))
    for j, group in enumerate(groups):
        idx = np.asarray(group, int)
        dead = pos[idx][pos[idx] >= 0]
        gone = gpos[idx][gpos[idx] >= 0]
        direct = float(alpha[g].sum() - alpha[g][gone].sum())
        into = into_goal - (np.asarray(q_ug[:, gone].sum(axis=1)).ravel() if len(gone) else 0)
        into[dead] = 0.0
        if m == 0 or not into.any() or not alpha[u].any():
            by_group[j] = direct
        elif len(dead) == 0:
            by_group[j] = direct + float(nu @ into)
        elif len(dead) <= _LOW_RANK:
            rhs = np.zeros((m, len(dead) + 1))
            rhs[:, 0] = into
            rhs[dead, np.arange(1, len(dead) + 1)] = 1.0
            sol = lu.col(rhs)
            rows = q_uu[dead]
            small = np.eye(len(dead)) + rows @ sol[:, 1:]
            by_group[j] = direct + float(nu @ into - nu[dead] @ np.linalg.solve(
                small, rows @ sol[:, 0]))
        else:
            taboo = taboo or _Taboo(q_uu, None if lu.pos is None else lu.order)
            by_group[j] = direct + float(alpha[u] @ taboo.solve(dead, into))
    return conversion, by_step, by_group


def _money(chain: Chain, groups: list[list[int]]):
    """Revenue and profit, and both without each step (n x 2) and without
    each group (groups x 2): see the module docstring."""
    qd = chain.discounted.tocsr()
    x = np.column_stack([chain.value, chain.profit])
    lu = LU.of(qd)  # I - Qd
    nu_d = lu.row(chain.entry)
    to_go = lu.col(x)  # discounted revenue and profit from each step on
    base = chain.entry @ to_go
    by_step = base - (nu_d / return_visits(qd))[:, None] * to_go
    by_group = np.empty((len(groups), 2))
    # A small group S: X without S = X - nu_d[S] Nd[S, S]^-1 X[S] (the first
    # visit to S is at k with discounted probability (nu_d[S] Nd[S, S]^-1)_k),
    # Nd[S, S] from |S| columns of Nd (a group at a time: SuperLU solves
    # narrow right-hand sides faster per column than wide ones).
    for j, group in enumerate(groups):
        if len(group) <= _LOW_RANK:
            idx = np.asarray(group, int)
            block = lu.col(_unit(chain.n, idx))[idx]  # Nd[S, S]
            first = np.linalg.solve(block.T, nu_d[idx])
            by_group[j] = base - first @ to_go[idx]
    taboo = None
    for j, group in enumerate(groups):
        if len(group) > _LOW_RANK:  # a large group: the taboo chain's own LU
            dead = np.asarray(group, int)
            kept = x.copy()
            kept[dead] = 0.0  # a removed step earns and spends nothing
            taboo = taboo or _Taboo(qd, None if lu.pos is None else lu.order)
            by_group[j] = chain.entry @ taboo.solve(dead, kept)
    return base, by_step, by_group


def _unit(n: int, idx: np.ndarray) -> np.ndarray:
    """The columns e_k of the identity for k in `idx`."""
    out = np.zeros((n, len(idx)))
    out[idx, np.arange(len(idx))] = 1.0
    return out


class _Taboo:
    """Sparse LUs of I - Q_UU with some rows made dead ends (rows of I)."""

    def __init__(self, q_uu: sparse.csr_matrix, order: np.ndarray | None) -> None:
        self.m = q_uu.shape[0]
        coo = q_uu.tocoo()
        self.row, self.col, self.val = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
        self.pos = None
        if order is not None:  # the block order stays one with rows removed
            self.pos = np.empty(self.m, dtype=np.int64)
            self.pos[order] = np.arange(self.m)

    def solve(self, dead: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(I - Q')^-1 b, Q' = Q_UU with the rows `dead` zeroed."""
        live = ~np.isin(self.row, dead)
        return LU(self.m, self.row[live], self.col[live], self.val[live], self.pos).solve(b)


# ---------------------------------------------------------------- horizon


def _horizon(chain: Chain, groups: list[list[int]], steps: bool = True):
    from .lever_changes import _horizon_linear

    def metrics(ch: Chain) -> np.ndarray:
        linear = _horizon_linear(ch)
        return np.array([linear[key] for key in METRICS])

    base = metrics(chain)
    by_step = (np.array([metrics(remove(chain, [k])) for k in range(chain.n)]) if steps
               else np.zeros((chain.n, len(METRICS))))
    by_group = np.array([metrics(remove(chain, idx)) for idx in groups])
    return base, by_step, by_group


def remove(chain: Chain, idx: list[int]) -> Chain:
    """The chain where walks reaching a step of `idx` end there, before the
    visit counts: not converting, earning and spending nothing."""
    gone = np.zeros(chain.n, bool)
    gone[idx] = True
    keep = ~gone[chain.move_row]
    goal = chain.goal.copy()
    goal[idx] = False
    value, cost = chain.value.copy(), chain.cost.copy()
    value[idx] = 0.0
    cost[idx] = 0.0
    return replace(chain.with_moves(chain.move_row[keep], chain.move_col[keep],
                                    chain.move_rate[keep], chain.move_delay[keep], goal),
                   value=value, cost=cost)


__all__ = ["Attribution", "Removal", "attribution", "remove"]

"""Attribution: how much conversion each step and each channel carries.

Markov removal effect: for a step k,

    removal_effect(k) = (conversion - conversion without k) / conversion

where "without k" means that walks reaching k end there (a drop-off at k;
entering at k ends at once). For a channel, every step of that channel is
removed at once. `share` normalizes the removal effects so that they sum to
1 (over steps, and separately over channels); the effects themselves need
not sum to 1 (they overlap on paths through several steps).

Goal steps are included: removing a goal step removes the conversions
through it (a walk that reaches it first, before any other goal, no longer
converts; one that has reached another goal before is unaffected).
Removing the only goal gives a removal effect of 1. Steps with no `channel`
are grouped under the channel None.

Blended over personas by share: the effects come from blended conversion
(sum of share x persona conversion, with and without the step), not from
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
  The factorizations use the block order of linalg.block_order (no
  fill-reducing permutation needed). Uncertain rates count at their mean.
  Only the journey's own prospects count (conversion as in the report, not
  the referral cohort).

With a `horizon` (conversions before H), each removal re-runs the horizon
engine's forward pass with the removed steps made dead ends that are not
goals: one grid pass per step and per channel, per persona.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from ..language.compiled import CompiledJourney
from ..linalg import LU, strong_components
from .chain import Chain, build_chain

_BATCH = 256  # columns per solve when computing the diagonal of a block inverse
_LOW_RANK = 48  # up to this many removed steps, update the base LU instead of a new one


@dataclass(frozen=True)
class Removal:
    """One step or channel taken out of the journey."""

    name: str | None  # step id, or channel id (None: steps without a channel)
    conversion_without: float
    removal_effect: float | None  # (conversion - conversion_without) / conversion
    share: float | None  # removal_effect / sum of removal effects in its group
    steps: tuple[str, ...]  # the steps removed

    def as_dict(self) -> dict:
        return {"conversion_without": self.conversion_without,
                "removal_effect": self.removal_effect, "share": self.share,
                "steps": list(self.steps)}


@dataclass(frozen=True)
class Attribution:
    """Removal effects per step and per channel, largest first.

    `removal_effect` and `share` are None when nothing converts (or when no
    removal changes conversion, for `share`)."""

    persona: str | None  # None: the persona mix
    conversion: float
    method: str  # "exact" or "horizon"
    steps: dict[str, Removal]
    channels: dict[str | None, Removal]

    def as_dict(self) -> dict:
        """JSON-ready; the channel None (steps without a channel) is keyed ""."""
        return {"persona": self.persona, "conversion": self.conversion, "method": self.method,
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

    conversion = 0.0
    without_step = np.zeros(len(step_ids))
    without_channel = np.zeros(len(groups))
    method = "exact"
    for p, share in shares.items():
        chain = build_chain(journey, p)
        if chain.horizon_days is not None:
            method = "horizon"
        with located(journey):
            conv, by_step, by_group = _removals(chain, groups, want_steps)
        conversion += share * conv
        without_step += share * by_step
        without_channel += share * by_group

    step_rows = (_rows([(s, (s,)) for s in step_ids], conversion, without_step) if want_steps
                 else {})
    channel_rows = _rows([(c, tuple(step_ids[i] for i in idx)) for c, idx in members.items()],
                         conversion, without_channel)
    return Attribution(persona, float(conversion), method, step_rows, channel_rows)


def _removals(chain: Chain, groups: list[list[int]], steps: bool):
    """Conversion, and conversion without each step and without each group;
    with a `per customer` rate, integrated over the customers' own rates
    (conversion is linear in the walks' probabilities, as the removals are)."""
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
    conv, by_step, by_group = result  # (conversion is bounded: it always converges)
    return float(conv), by_step, by_group


def _rows(named, conversion: float, without: np.ndarray) -> dict:
    """Removals keyed by name, largest removal effect first."""
    if conversion > 0:
        effects = [max(0.0, (conversion - w) / conversion) for w in without]
        total = math.fsum(effects)
    else:
        effects, total = [None] * len(without), 0.0
    rows = [Removal(name, float(w), None if e is None else float(e),
                    float(e / total) if e is not None and total > 0 else None, members)
            for (name, members), w, e in zip(named, without, effects)]
    order = sorted(range(len(rows)), key=lambda i: -(rows[i].removal_effect or 0.0))
    return {rows[i].name: rows[i] for i in order}


# ---------------------------------------------------------------- exact


def _exact(chain: Chain, groups: list[list[int]]):
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
    lost[u] = h[u] * nu_u[u] / _return_visits(q_uu)
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


def _return_visits(q: sparse.csr_matrix) -> np.ndarray:
    """N[k, k] for N = (I - q)^-1: expected visits to k by a walk from k.

    Only k's strongly connected component matters. Keeping only the moves
    inside components makes I - q block diagonal, so one factorization
    serves every component, and one right-hand side serves the i-th step
    of every component at once (its blocks do not mix)."""
    m = q.shape[0]
    out = np.ones(m)
    if m == 0:
        return out
    count, labels = strong_components(q)
    sizes = np.bincount(labels, minlength=count)
    diag = q.diagonal()
    single = (sizes[labels] == 1) & (diag > 0)
    out[single] = 1.0 / (1.0 - diag[single])
    cyclic = sizes[labels] > 1
    if not cyclic.any():
        return out
    coo = q.tocoo()
    inside = (labels[coo.row] == labels[coo.col]) & cyclic[coo.row]
    blocks = sparse.csr_matrix((coo.data[inside], (coo.row[inside], coo.col[inside])),
                               shape=(m, m))
    steps = np.flatnonzero(cyclic)
    order = steps[np.argsort(labels[steps], kind="stable")]
    comp = labels[order]
    first = np.searchsorted(comp, comp)  # where each step's component starts in `order`
    slot = np.arange(len(order)) - first  # i: the step is the i-th of its component
    sub = blocks[order][:, order]
    lu = LU.of(sub, np.arange(len(order)))  # block diagonal: already in block order
    width = int(slot.max()) + 1
    for start in range(0, width, _BATCH):
        stop = min(width, start + _BATCH)
        pick = (slot >= start) & (slot < stop)
        rhs = np.zeros((len(order), stop - start))
        rhs[np.flatnonzero(pick), slot[pick] - start] = 1.0
        x = lu.col(rhs)
        out[order[pick]] = x[np.flatnonzero(pick), slot[pick] - start]
    return out


# ---------------------------------------------------------------- horizon


def _horizon(chain: Chain, groups: list[list[int]], steps: bool = True):
    from .lever_changes import _horizon_linear

    conversion = _horizon_linear(chain)["conversion"]
    by_step = np.array([_horizon_linear(remove(chain, [k]))["conversion"]
                        for k in range(chain.n)] if steps else np.zeros(chain.n))
    by_group = np.array([_horizon_linear(remove(chain, idx))["conversion"] for idx in groups])
    return conversion, by_step, by_group


def remove(chain: Chain, idx: list[int]) -> Chain:
    """The chain where walks reaching a step of `idx` end there (not converting)."""
    gone = np.zeros(chain.n, bool)
    gone[idx] = True
    keep = ~gone[chain.move_row]
    goal = chain.goal.copy()
    goal[idx] = False
    return chain.with_moves(chain.move_row[keep], chain.move_col[keep], chain.move_rate[keep],
                            chain.move_delay[keep], goal)


__all__ = ["Attribution", "Removal", "attribution", "remove"]

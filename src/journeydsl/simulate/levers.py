"""Levers: which transition rate is worth improving, and by how much.

For every transition `s -> t` of the journey (per persona, and for the
persona mix), a lever says how conversion, revenue, cost and clv per
entering prospect change when that rate rises by one percentage point,
taken from the step's drop-off: rate(s, t) += 0.01 while the remainder at
s (where walks end) falls by 0.01; the other rates out of s are unchanged.
A step whose outgoing rates already sum to 100% has no remainder to take
from: its levers are reported with `movable=False` and no effect (None).

Without a horizon the effects are exact first derivatives, times 0.01
(the linear effect of +1pp). With N = (I - Q)^-1 and alpha the entry
distribution, dN = N dQ N, so raising Q[s, t] by d changes any
alpha N x by (alpha N e_s)(e_t^T N x) d: one row solve (alpha N, the
visits) and one column solve per quantity x give the sensitivity of every
edge at once. Per persona (notation of exact.py):

  revenue     nu_d(s) δ^D(s,t) R(t) d        R = (I - Qd)^-1 value
  cost        nu_d(s) δ^D(s,t) C(t) d        C = (I - Qd)^-1 cost
  conversion  nu_U(s) h(t) d  for s in U     (h = 1 on goal steps; 0 from a goal step:
                                              a walk there has converted already)
  E[V; conv.] d revenue - d never, never = sum_U nu_dU value (1 - h):
              d never = nu_dU(s) δ^D(s,t) z(t) d - y(s) h(t) d   (t in U)
                      = - y(s) d                                  (t in G)
              with z = (I - Qd_UU)^-1 (value (1 - h))_U and
              y = (nu_dU value)_U (I - Q_UU)^-1, and 0 from a goal step
  clv         (d E[V; conv.] conversion - E[V; conv.] d conversion) / conversion^2

So a persona costs three sparse LU factorizations (I - Q_UU, I - Qd,
I - Qd_UU; one fewer without discount) and seven solves, whatever the
number of edges. The factorizations use the steps' block order (strongly
connected components in topological order, see `linalg.block_order`), in which
a sparse LU of a mostly-forward journey has almost no fill. An edge may
have rate 0 for some persona (an override); its lever is the effect of
opening it by 1pp. Uncertain rates count at their mean, as in the exact
engine.

With a `horizon` the grid recursion has no such closed form: each lever is
the exact effect of re-running the horizon engine with the rate raised by
1pp: one forward pass of its time grid per edge and persona (the pass that
yields conversion, revenue, cost and E[V; converted]; reach and the
referral cascade are skipped). Its cost is (edges x personas + personas)
grid passes, each proportional to horizon / grid step: fine for tens of
steps on a daily grid (about 1 s for the examples in examples/); a 2-hour
grid over 2 years (8,760 instants) takes 0.1-0.3 s per pass. If the
remainder at s is below 1pp, the rate is raised by the remainder and the
effect scaled to 1pp.

Blended levers raise the rate by 1pp for every persona at once (personas
with no remainder at s keep their rate): conversion, revenue and cost
changes are share-weighted sums; blended clv is E[V; converted] /
P(converted) over the mix, as in the report. Only the journey's own
prospects count (the metrics, not the referral cohort).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse

from .._gc import paused_gc
from ..language.compiled import RATE_TOLERANCE, CompiledJourney
from ..linalg import LU
from .chain import Chain, build_chain

STEP = 0.01  # one percentage point
_FULL = RATE_TOLERANCE  # a remainder below this is "already at 100%"


class Lever(NamedTuple):
    """Raising rate(source -> target) by one percentage point.

    `persona` is None for the persona mix. `rate` is the current rate (the
    share-weighted mean for the mix). The `d_*` fields are the change of
    each metric per entering prospect for +1pp (a rate of 0.01): None when
    the step cannot rise (`movable` False) and, for `d_clv`, when nobody
    converts. `method` is "derivative" (exact first derivative, no horizon)
    or "resolve" (the horizon engine re-run with the raised rate).
    (A named tuple: a journey of thousands of edges has tens of thousands
    of levers.)
    """

    source: str
    target: str
    persona: str | None
    rate: float
    movable: bool
    d_conversion: float | None
    d_revenue: float | None
    d_cost: float | None
    d_clv: float | None
    method: str

    def as_dict(self) -> dict:
        return self._asdict()


def levers(journey: CompiledJourney, persona: str | None = None) -> list[Lever]:
    """Every transition's lever, ranked by revenue gained, then conversion gained.

    With `persona` None: the persona mix's levers (persona None), then each
    persona's, in declaration order, each group ranked. With a persona id:
    that persona's levers only. Levers that cannot move come last in their
    group; ties keep declaration order. KeyError for a persona the journey
    does not have.
    """
    from . import check_persona

    check_persona(journey, persona)
    shares = dict(journey.shares)
    numbers = journey.numbers  # one move per pair, in the graph's edge order
    steps = [s.id for s in journey.steps]
    src = np.array(numbers.move_from, dtype=int)
    dst = np.array(numbers.move_to, dtype=int)
    delay = np.array(numbers.delays, dtype=float)
    names = [(steps[u], steps[v]) for u, v in zip(numbers.move_from, numbers.move_to)]

    wanted = journey.persona_ids if persona is None else [persona]
    effects = {p: _effects(build_chain(journey, p), src, dst, delay) for p in wanted}
    for p, e in effects.items():
        e.rate = np.array(numbers.rates[p], dtype=float)

    groups: list[tuple[str | None, _Effects]] = []
    if persona is None:
        groups.append((None, _blend(effects, shares)))
    groups += list(effects.items())
    with paused_gc():  # tens of thousands of small objects on a large journey
        return [lever for p, e in groups for lever in _group(names, p, e)]


@dataclass
class _Effects:
    """Per-edge changes (for +1pp) of one persona's (or the mix's) linear metrics."""

    method: str
    movable: np.ndarray  # bool per edge
    base: dict  # conversion, revenue, cost, value_converted
    d_conversion: np.ndarray
    d_revenue: np.ndarray
    d_cost: np.ndarray
    d_value_converted: np.ndarray
    rate: np.ndarray | None = None  # each edge's rate: set by levers() before use

    def rates(self) -> np.ndarray:
        assert self.rate is not None  # levers() sets every persona's before blending
        return self.rate


_FIELDS = ("d_conversion", "d_revenue", "d_cost", "d_value_converted")


def _blend(effects: dict[str, _Effects], shares: dict[str, float]) -> _Effects:
    """The persona mix: every persona's rate up by 1pp where it can rise."""
    parts = list(effects.items())
    first = parts[0][1]
    # `sum` starts from 0, so mypy reads `int | array`; with one persona or
    # more it is an array (Any: the _Effects fields they fill are arrays).
    mixed: dict[str, Any] = {
        f: sum(shares[p] * np.where(e.movable, getattr(e, f), 0.0) for p, e in parts)
        for f in _FIELDS}
    mixed["rate"] = sum(shares[p] * e.rates() for p, e in parts)
    return _Effects(
        method=first.method,
        movable=np.logical_or.reduce([e.movable for _, e in parts]),
        base={k: sum(shares[p] * e.base[k] for p, e in parts) for k in first.base},
        **mixed,  # the changes, and each edge's rate
    )


def _group(names: list[tuple[str, str]], persona: str | None, e: _Effects) -> list[Lever]:
    """One persona's (or the mix's) levers, ranked."""
    conversion, value_converted = e.base["conversion"], e.base["value_converted"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if conversion <= 0:
            d_clv = np.full(len(names), np.nan)
        elif e.method == "derivative":
            d_clv = ((e.d_value_converted * conversion - value_converted * e.d_conversion)
                     / conversion ** 2)
        else:
            after = conversion + e.d_conversion
            d_clv = np.where(after > 0, (value_converted + e.d_value_converted) / after
                             - value_converted / conversion, np.nan)
    revenue = np.where(e.movable, np.nan_to_num(e.d_revenue), -np.inf)
    converting = np.where(e.movable, np.nan_to_num(e.d_conversion), -np.inf)
    order = np.lexsort((np.arange(len(names)), -converting, -revenue, ~e.movable))
    d_clv = np.where(np.isnan(d_clv), np.array(None), d_clv)  # None: nobody converts
    rows = zip([names[k] for k in order.tolist()], e.rates()[order].tolist(),
               e.movable[order].tolist(), e.d_conversion[order].tolist(),
               e.d_revenue[order].tolist(), e.d_cost[order].tolist(), d_clv[order].tolist())
    method = e.method
    return [Lever(source, target, persona, rate, True, dc, dr, dk, dl, method) if movable
            else Lever(source, target, persona, rate, False, None, None, None, None, method)
            for (source, target), rate, movable, dc, dr, dk, dl in rows]


def _effects(chain: Chain, src, dst, delay) -> _Effects:
    if chain.horizon_days is not None:
        return _resolved(chain, src, dst, delay)
    return _derivatives(chain, src, dst, delay)


def _derivatives(chain: Chain, src, dst, delay) -> _Effects:
    """Exact first derivatives of every edge from a fixed number of solves."""
    n = chain.n
    q = chain.rates.tocsr()
    undiscounted = chain.daily_discount == 1.0
    qd = q if undiscounted else chain.discounted.tocsr()
    alpha, goal = chain.entry, chain.goal
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)
    values = np.column_stack([chain.value, chain.cost])

    q_u = q[u]
    before = LU.of(q_u[:, u])  # I - Q_UU
    h = np.ones(n)
    h[u] = before.col(np.asarray(q_u[:, g].sum(axis=1)).ravel())
    nu_u = np.zeros(n)
    nu_u[u] = before.row(alpha[u])

    full_d = LU.of(qd)  # I - Qd
    nu_d = full_d.row(alpha)
    to_go = full_d.col(values)  # R, C: discounted value and cost from each step on
    before_d = before if undiscounted else LU.of(qd[u][:, u])  # I - Qd_UU
    nu_du = np.zeros(n)
    nu_du[u] = before_d.row(alpha[u])
    z = np.zeros(n)
    z[u] = before_d.col(chain.value[u] * (1.0 - h[u]))
    y = np.zeros(n)
    y[u] = before.row(nu_du[u] * chain.value[u])

    disc = chain.daily_discount ** delay
    from_u = ~goal[src]
    d_conversion = np.where(from_u, nu_u[src] * h[dst], 0.0)
    reach_d = nu_d[src] * disc
    d_revenue = reach_d * to_go[dst, 0]
    d_cost = reach_d * to_go[dst, 1]
    d_never = np.where(goal[dst], -y[src], nu_du[src] * disc * z[dst] - y[src] * h[dst])
    d_never = np.where(from_u, d_never, 0.0)

    revenue = float(nu_d @ chain.value)
    never = float(np.sum(nu_du[u] * chain.value[u] * (1.0 - h[u])))
    base = {"conversion": float(alpha @ h), "revenue": revenue, "cost": float(nu_d @ chain.cost),
            "value_converted": revenue - never}
    movable = chain.stop[src] > _FULL
    return _Effects("derivative", movable, base, STEP * d_conversion, STEP * d_revenue,
                    STEP * d_cost, STEP * (d_revenue - d_never))


def _horizon_linear(chain: Chain) -> dict:
    """Conversion, revenue, cost and E[V; converted] under the horizon.

    The same numbers as `solve(chain)`, from the horizon engine's forward
    pass alone (without the reach and referral-cascade passes that levers
    do not need: about half the time of a full solve)."""
    from .horizon import forward_pass, grid_step_days

    horizon = chain.horizon_days
    assert horizon is not None  # only asked for a journey with a horizon
    step = grid_step_days(chain)
    steps = max(1, math.ceil(horizon / step - 1e-9))
    run = forward_pass(chain, step, steps, cascade=False)
    n = chain.n
    disc = chain.daily_discount ** (np.arange(steps) * step)
    plain = run.arrivals[:, :n] + run.arrivals[:, n:]
    money = disc @ plain
    return {"conversion": float(run.conversions.sum()), "revenue": float(money @ chain.value),
            "cost": float(money @ chain.cost), "value_converted": float(run.value_converted)}


def _resolved(chain: Chain, src, dst, delay) -> _Effects:
    """Under a horizon: re-run the horizon engine once per movable edge."""
    base = _horizon_linear(chain)
    stop = chain.stop
    k = len(src)
    movable = stop[src] > _FULL
    out = {key: np.zeros(k) for key in base}
    for e in range(k):
        if not movable[e]:
            continue
        up = min(STEP, float(stop[src[e]]))
        raised = _horizon_linear(raise_rate(chain, int(src[e]), int(dst[e]), up, float(delay[e])))
        for key in base:
            out[key][e] = (raised[key] - base[key]) * (STEP / up)
    return _Effects("resolve", movable, base, out["conversion"], out["revenue"], out["cost"],
                    out["value_converted"])


def raise_rate(chain: Chain, s: int, t: int, by: float, delay_days: float) -> Chain:
    """The chain with rate(s -> t) raised by `by` (taken from the remainder at s).

    `delay_days` is the edge's delay (used when the persona's rate was 0 and
    the chain has no entry for the edge)."""
    n = chain.n

    def plus(m: sparse.spmatrix, amount: float) -> sparse.csr_matrix:
        return (m + sparse.csr_matrix(([amount], ([s], [t])), shape=(n, n))).tocsr()

    delays = chain.delays.tolil()
    delays[s, t] = delay_days
    return replace(
        chain,
        rates=plus(chain.rates, by),
        delays=delays.tocsr(),
        discounted=plus(chain.discounted, by * chain.daily_discount ** delay_days),
        rate_delay=plus(chain.rate_delay, by * delay_days),
    )


__all__ = ["Lever", "levers", "raise_rate"]

"""Levers: which transition rate is worth improving, and by how much.

For every transition `s -> t` of the journey (per persona, and for the
persona mix), a lever says how conversion, revenue, cost and clv per
entering prospect change when that rate rises by one step, taken from the
step's drop-off: rate(s, t) += step while the remainder at s (where walks
end) falls by as much; the other rates out of s are unchanged. The step is
the lever's size (LeverSize): one percentage point (the default), or a
share of the rate itself (+10%: a 30% rate becomes 33%; an edge at 0% does
not move), or the remainder at s if less (a lever can only take what is
there, so no gain is ever larger than what is left to gain); when taking
all of the remainder would leave walks no way out of a loop (a 99.99%
self-loop raised to 100%), half of it. A step whose outgoing rates already
sum to 100% has no remainder: its levers have `movable=False` and no
effect (None).

Without a horizon the effects are exact changes (not derivatives), from a
fixed number of solves whatever the number of edges. Raising Q[s, t] by d
is a rank-one change: with N = (I - Q)^-1 (Sherman-Morrison),

  N' = N + d N e_s e_t^T N / (1 - d N[t, s]),

so any alpha N x changes by d (alpha N)_s (N x)_t / (1 - d N[t, s]): the
visits (one row solve) and one column solve per quantity x serve every
edge. N[t, s] is zero unless t leads back to s; for a move inside a loop it
comes from the loop's own block (a walk from t back to s never leaves the
strongly connected component they share). Per persona (notation of
exact.py; d_D = d x the move's discount):

  revenue, cost  d_D nu_d(s) R(t) / (1 - d_D Nd[t, s])   R = (I - Qd)^-1 value
  conversion     d nu_U(s) h(t) / (1 - d N_U[t, s])  for s in U (0 from a goal step)
  E[M; conv.]    M = margin x V - C_from_goal (the clv's numerator): a sum of
                 parts (never a difference of totals, so it stays exact when
                 conversion is 1e-200): the margin earned before converting
                 times the change of h, the profit after the first goal step
                 times the change of P = (I - Qd)^-1 (margin x value - cost),
                 and the rank-one change of the discounted visits before
                 conversion (see `_exact`)
  clv            (d E[M; conv.] - clv d conversion) / (conversion + d conversion)

The factorizations use the steps' block order (strongly connected
components in topological order, see `linalg.block_order`), in which a
sparse LU of a mostly-forward journey has almost no fill. An edge may have
rate 0 for some persona (an override); its lever is the effect of opening
it. Uncertain rates count at their mean, as in the exact engine.

With a `horizon` there is no such closed form: each lever is the horizon
engine re-run with the rate raised (the arrival pass that yields
conversion, revenue, cost and E[M; converted]; reach and the referral
cascade are skipped), once per movable edge and persona.

Blended levers raise the rate by its step for every persona at once
(a relative lever by that share of each persona's own rate; personas with
no remainder at s keep their rate; `step` is then the
share-weighted mean rise): conversion, revenue and cost changes are
share-weighted sums; blended clv is E[M; converted] / P(converted) over the
mix, as in the report. Only the journey's own prospects count (the metrics,
not the referral cohort).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._gc import paused_gc
from ..language.compiled import RATE_TOLERANCE, CompiledJourney
from ..linalg import LU
from ..metrics import SMALLEST
from .chain import Chain, build_chain
from .loop_entries import LoopEntries, present

STEP = 0.01  # one percentage point
_FULL = RATE_TOLERANCE  # a remainder below this is "already at 100%"


@dataclass(frozen=True)
class LeverSize:
    """How far a lever raises a rate: `amount` percentage points (as a
    fraction: 0.01 is +1 pp), or, `relative`, that fraction of the rate
    itself (0.10: +10% of the rate, a 30% rate becoming 33%). Either way the
    rise is taken from the step's drop-off and capped by what is left there
    (see the module docstring)."""

    amount: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str) -> LeverSize:
        """"1pp" (or "1 pp", "0.5pp"): percentage points; "10%": of the rate.
        ValueError, with the accepted forms, for anything else."""
        spoken = text.strip().lower().replace(" ", "").lstrip("+")
        for suffix, relative in (("pp", False), ("%", True)):
            if spoken.endswith(suffix):
                try:
                    number = float(spoken[:-len(suffix)])
                except ValueError:
                    break
                if math.isfinite(number) and 0 < number <= (1000 if relative else 100):
                    return cls(number / 100, relative)
                break
        raise ValueError(f"{text!r} is not a lever size: write percentage points (1pp, "
                         "0.5pp; at most 100pp) or a share of the rate (10%, 25%; above 0)")

    @property
    def label(self) -> str:
        """"+1 pp" or "+10%", as the tables title it."""
        return f"+{self.amount * 100:g}" + ("%" if self.relative else " pp")

    def as_dict(self) -> dict:
        """JSON: {"amount": 0.1, "relative": true, "label": "+10%"}."""
        return {"amount": self.amount, "relative": self.relative, "label": self.label}

    def wanted(self, rate: np.ndarray) -> float | np.ndarray:
        """The rise each edge asks for, before the cap: the size itself, or
        the share of each edge's rate (0 for an edge whose rate is 0)."""
        return self.amount * rate if self.relative else self.amount


#: +1 percentage point: the default lever.
ONE_POINT = LeverSize(STEP)
#: +10% of the rate: the relative lever.
TEN_PERCENT = LeverSize(0.10, relative=True)


class Lever(NamedTuple):
    """Raising rate(source -> target) by a LeverSize (or what is left).

    `persona` is None for the persona mix. `rate` is the current rate (the
    share-weighted mean for the mix). The `d_*` fields are the change of
    each metric per entering prospect when the rate rises by `step` (0.01
    for +1 pp, a tenth of the rate for +10%, or what is left at the source
    step; see the module docstring): None
    when the step cannot rise (`movable` False) and, for `d_clv`, when
    nobody converts. `method` is "exact" (Sherman-Morrison, no horizon) or
    "resolve" (the horizon engine re-run with the raised rate).
    (A named tuple: a journey of thousands of edges has tens of thousands
    of levers.)
    """

    source: str
    target: str
    persona: str | None
    rate: float
    movable: bool
    step: float | None
    d_conversion: float | None
    d_revenue: float | None
    d_cost: float | None
    d_profit: float | None  # margin x revenue - cost, per entering prospect
    d_clv: float | None
    method: str

    def as_dict(self) -> dict:
        return self._asdict()


#: What levers can be ranked by (`levers(by=...)`, `--by`): the change of
#: revenue (the default), profit, clv or conversion.
RANKINGS = ("revenue", "profit", "clv", "conversion")


def levers(journey: CompiledJourney, persona: str | None = None,
           by: str = "revenue", size: LeverSize = ONE_POINT) -> list[Lever]:
    """Every transition's lever of `size` (+1 pp by default), ranked by
    revenue gained (or by `by`: one of RANKINGS), then conversion gained.

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
    from .limits import located

    rates = {p: np.array(numbers.rates[p], dtype=float) for p in wanted}
    with located(journey):
        effects = {p: _effects(build_chain(journey, p), src, dst, delay,
                               wanted=size.wanted(rates[p])) for p in wanted}
    for p, e in effects.items():
        e.rate = rates[p]

    groups: list[tuple[str | None, _Effects]] = []
    if persona is None:
        groups.append((None, _blend(effects, shares)))
    groups += list(effects.items())
    with paused_gc():  # tens of thousands of small objects on a large journey
        return [lever for p, e in groups for lever in _group(names, p, e, by)]


@dataclass
class _Effects:
    """Per-edge changes (for +1pp) of one persona's (or the mix's) linear metrics."""

    method: str
    movable: np.ndarray  # bool per edge
    base: dict  # conversion, revenue, cost, profit_converted
    d_conversion: np.ndarray
    d_revenue: np.ndarray
    d_cost: np.ndarray
    d_profit_converted: np.ndarray
    d_profit: np.ndarray
    step: np.ndarray  # the rise of each edge's rate (0 where it cannot rise)
    rate: np.ndarray | None = None  # each edge's rate: set by levers() before use

    def rates(self) -> np.ndarray:
        assert self.rate is not None  # levers() sets every persona's before blending
        return self.rate


_FIELDS = ("d_conversion", "d_revenue", "d_cost", "d_profit_converted", "d_profit")


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
    mixed["step"] = sum(shares[p] * np.where(e.movable, e.step, 0.0) for p, e in parts)
    return _Effects(
        method=first.method,
        movable=np.logical_or.reduce([e.movable for _, e in parts]),
        base={k: sum(shares[p] * e.base[k] for p, e in parts) for k in first.base},
        **mixed,  # the changes, each edge's rate and its step
    )


def _group(names: list[tuple[str, str]], persona: str | None, e: _Effects,
           by: str = "revenue") -> list[Lever]:
    """One persona's (or the mix's) levers, ranked by the change of `by`."""
    conversion, converted = e.base["conversion"], e.base["profit_converted"]
    after = conversion + e.d_conversion
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # clv' - clv over one denominator: no difference of two near-equal clvs
        clv = converted / conversion if conversion >= SMALLEST else math.nan
        d_clv = (e.d_profit_converted - clv * e.d_conversion) / after
    d_clv = np.where((conversion >= SMALLEST) & (after >= SMALLEST) & np.isfinite(d_clv),
                     d_clv, np.nan)
    key = {"revenue": e.d_revenue, "profit": e.d_profit, "clv": d_clv,
           "conversion": e.d_conversion}[by]
    ranked = np.where(e.movable & np.isfinite(key), np.nan_to_num(key), -np.inf)
    converting = np.where(e.movable, np.nan_to_num(e.d_conversion), -np.inf)
    order = np.lexsort((np.arange(len(names)), -converting, -ranked, ~e.movable))
    d_clv = np.where(np.isnan(d_clv), np.array(None), d_clv)  # None: nobody converts
    rows = zip([names[k] for k in order.tolist()], e.rates()[order].tolist(),
               e.movable[order].tolist(), e.step[order].tolist(), e.d_conversion[order].tolist(),
               e.d_revenue[order].tolist(), e.d_cost[order].tolist(),
               e.d_profit[order].tolist(), d_clv[order].tolist())
    method = e.method
    return [Lever(source, target, persona, rate, True, up, dc, dr, dk, dp, dl, method)
            if movable else Lever(source, target, persona, rate, False, None, None, None, None,
                                  None, None, method)
            for (source, target), rate, movable, up, dc, dr, dk, dp, dl in rows]


def best_by_stage(found: list[Lever], stage_of: dict[str, str]) -> dict[str, Lever]:
    """The first movable lever (in the list's ranking) out of each stage,
    stages in the order their best levers rank: which stage's lever moves
    the ranked metric most."""
    out: dict[str, Lever] = {}
    for lever in found:
        if lever.movable:
            out.setdefault(stage_of[lever.source], lever)
    return out


def _effects(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
             wanted: float | np.ndarray = STEP) -> _Effects:
    """`steps`: each edge's rise, if not the chain's own (`_steps` of `wanted`)."""
    if chain.horizon_days is not None:
        return _resolved(chain, src, dst, delay, steps, wanted)
    return _exact(chain, src, dst, delay, steps, wanted)


def _steps(chain: Chain, src, back: np.ndarray,
           wanted: float | np.ndarray = STEP) -> tuple[np.ndarray, np.ndarray]:
    """Which edges can rise, and by how much: by `wanted` (one percentage
    point, or each edge's own, LeverSize.wanted), or what is left at the
    source step if less, or half of that when taking all of it would trap
    walks in a loop (`back`: N[t, s] of each move s -> t)."""
    stop = chain.stop[src]
    movable = (stop > _FULL) & (np.asarray(wanted) > 0)
    step = np.where(movable, np.minimum(wanted, stop), 0.0)
    trapped = movable & (1.0 - step * back <= _TRAPPED * np.maximum(back, 1.0))
    return movable, np.where(trapped, stop / 2, step)


def _exact(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
           wanted: float | np.ndarray = STEP) -> _Effects:
    """The exact change of every edge's lever from a fixed number of solves
    (Sherman-Morrison: see the module docstring)."""
    n = chain.n
    q = chain.rates.tocsr()
    undiscounted = chain.daily_discount == 1.0
    qd = q if undiscounted else chain.discounted.tocsr()
    alpha, goal, value = chain.entry, chain.goal, np.asarray(chain.value, float)
    margin_value = chain.margin * value  # what a walk keeps of value before converting
    u = np.flatnonzero(~goal)
    g = np.flatnonzero(goal)
    values = np.column_stack([value, chain.cost, chain.profit])

    q_u = q[u]
    before = LU.of(q_u[:, u])  # I - Q_UU
    h = np.ones(n)
    h[u] = before.col(np.asarray(q_u[:, g].sum(axis=1)).ravel())
    nu_u = np.zeros(n)
    nu_u[u] = before.row(alpha[u])

    full_d = LU.of(qd)  # I - Qd
    nu_d = full_d.row(alpha)
    to_go = full_d.col(values)  # R, C, P: discounted value, cost and profit from each step on
    before_d = before if undiscounted else LU.of(qd[u][:, u])  # I - Qd_UU
    nu_du = np.zeros(n)
    nu_du[u] = before_d.row(alpha[u])
    y = np.zeros(n)
    y[u] = before.row(nu_du[u] * margin_value[u])
    # w: the net margin of converting walks from each unconverted step (the
    # margin earned before converting, if the walk converts, and the profit
    # from its first goal step on); p: discounted visits after converting
    rows, cols = np.asarray(chain.move_row), np.asarray(chain.move_col)
    val_d = np.asarray(chain.move_rate if undiscounted else chain.move_discounted)
    into_goal = goal[cols]
    w = np.zeros(n)
    w[u] = before_d.col(margin_value[u] * h[u] + np.bincount(
        rows[into_goal], weights=val_d[into_goal] * to_go[cols[into_goal], 2], minlength=n)[u])
    first_d = np.asarray(alpha, float) * goal + np.bincount(
        cols[into_goal], weights=nu_du[rows[into_goal]] * val_d[into_goal], minlength=n)
    p = full_d.row(first_d)

    # N[t, s] for each move s -> t: how a walk from t comes back to s
    moves = present(chain, src, dst)
    full = LoopEntries(np.ones(n, bool), chain, moves, undiscounted)
    back, back_d, _ = full.entries(src, dst)
    inside = LoopEntries(~goal, chain, moves, undiscounted)
    back_u, back_du, back_w = inside.entries(src, dst, margin_value)

    movable, step = _steps(chain, src, back, wanted) if steps is None else (steps > 0, steps)

    step_d = step * chain.daily_discount ** delay
    from_u, into_u = ~goal[src], ~goal[dst]
    # every change is a sum of non-negative parts (no difference of totals)
    c1 = step * h[dst] / np.where(into_u, 1.0 - step * back_u, 1.0)  # h' = h + c1 N_U e_s
    d_conversion = np.where(from_u, nu_u[src] * c1, 0.0)
    k_r = step_d / (1.0 - step_d * back_d)  # R' = R + k_r R(t) Nd e_s
    reach_d = k_r * nu_d[src]
    d_revenue = reach_d * to_go[dst, 0]
    d_cost = reach_d * to_go[dst, 1]
    d_profit = reach_d * to_go[dst, 2]  # margin x value - cost from there on
    kappa = step_d * nu_du[src] / np.where(into_u, 1.0 - step_d * back_du, 1.0)
    after = np.maximum(back_d - back_du, 0.0)  # visits t -> s through a goal step
    # (the margin before converting, the profit from the first goal step on)
    d_value = np.where(
        into_u,
        c1 * y[src] + k_r * to_go[dst, 2] * p[src] + kappa * w[dst]
        + kappa * c1 * back_w + kappa * k_r * to_go[dst, 2] * after,
        step * y[src] + kappa * to_go[dst, 2] / (1.0 - step_d * back_d)
        + k_r * to_go[dst, 2] * p[src])
    d_value = np.where(from_u, d_value, d_profit)  # from a goal step: all converted

    base = {"conversion": float(alpha @ h), "revenue": float(nu_d @ value),
            "cost": float(nu_d @ chain.cost),
            "profit_converted": float(alpha[u] @ w[u]) + float(alpha[g] @ to_go[g, 2])}
    keep = np.where(movable, 1.0, 0.0)
    return _Effects("exact", movable, base, keep * d_conversion, keep * d_revenue,
                    keep * d_cost, keep * d_value, keep * d_profit, step=step)


#: 1 - step N[t, s] at or below this (times N[t, s] when that is above 1):
#: the raised rate leaves (almost) no way out of a loop. In both forms the
#: raised loop would keep a walk for a billion times longer (or a billion
#: visits), where a rate's last digits (1e-16 next to 1) would set the answer.
_TRAPPED = 1e-9


def _horizon_linear(chain: Chain) -> dict:
    """Conversion, revenue, cost and E[M; converted] under the horizon: the
    same numbers as `solve(chain)`, from the horizon engine's arrival pass
    alone (without the reach and referral-cascade passes levers do not need)."""
    from .horizon import totals

    linear = totals(chain)[0]
    return {key: linear[key] for key in ("conversion", "revenue", "cost", "profit_converted",
                                         "profit")}


def _resolved(chain: Chain, src, dst, delay, steps: np.ndarray | None = None,
              wanted: float | np.ndarray = STEP) -> _Effects:
    """Under a horizon: re-run the horizon engine once per movable edge."""
    base = _horizon_linear(chain)
    k = len(src)
    movable, step = _steps(chain, src, _back(chain, src, dst), wanted) if steps is None else (
        steps > 0, steps)
    out = {key: np.zeros(k) for key in base}
    for e in np.flatnonzero(movable).tolist():
        raised = _horizon_linear(raise_rate(chain, int(src[e]), int(dst[e]), float(step[e]),
                                            float(delay[e])))
        for key in base:
            out[key][e] = raised[key] - base[key]
    return _Effects("resolve", movable, base, out["conversion"], out["revenue"], out["cost"],
                    out["profit_converted"], out["profit"], step=step)


def _back(chain: Chain, src, dst) -> np.ndarray:
    """N[t, s] of each move s -> t (0 where nothing leads back, or nothing can rise)."""
    if not (chain.stop[src] > _FULL).any():
        return np.zeros(len(src))
    # Under a horizon a loop nobody leaves is legal, and its block of I - M is
    # singular; no walk in it comes back to a step that can be left, so
    # N[t, s] comes from the steps that can end a walk.
    return LoopEntries(_can_end(chain), chain, present(chain, src, dst),
                       True).entries(src, dst)[0]


def _can_end(chain: Chain) -> np.ndarray:
    """Per step, whether a walk there can end: it reaches (with rates > 0) a
    step whose outgoing rates leave something (breadth-first, backwards)."""
    can = chain.stop > _FULL
    live = chain.move_rate > 0
    into: dict[int, list[int]] = {}
    for a, b in zip(chain.move_row[live].tolist(), chain.move_col[live].tolist()):
        into.setdefault(b, []).append(a)
    todo = np.flatnonzero(can).tolist()
    while todo:
        for a in into.get(todo.pop(), ()):
            if not can[a]:
                can[a] = True
                todo.append(a)
    return can


def raise_rate(chain: Chain, s: int, t: int, by: float, delay_days: float) -> Chain:
    """The chain with rate(s -> t) raised by `by` (taken from the remainder at s).

    `delay_days` is the edge's delay (used when the persona's rate was 0 and
    the chain has no entry for the edge)."""
    at = np.flatnonzero((chain.move_row == s) & (chain.move_col == t))
    if len(at):
        rate = chain.move_rate.copy()
        rate[at] += by
        return chain.with_moves(chain.move_row, chain.move_col, rate, chain.move_delay)
    return chain.with_moves(np.append(chain.move_row, s), np.append(chain.move_col, t),
                            np.append(chain.move_rate, by),
                            np.append(chain.move_delay, delay_days))


__all__ = ["ONE_POINT", "RANKINGS", "TEN_PERCENT", "Lever", "LeverSize", "best_by_stage",
           "levers", "raise_rate"]

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
      Q' = Q with the rows of S zeroed, G' = G \\ S;
  for a small S, from |T| columns of N_UU (T = S minus the goals, rows T
  only): the first visit to T is at t with probability f_t, f = nu_U[T]
  N_UU[T, T]^-1, and the walks' visits without S are nu_U less what follows
  it, so with into = Q'_UG' 1 (zero on T)
      conversion without S = alpha(G') + nu_U into - f (N_UU into)[T].
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
  The money is solved when first read (most readers want conversion
  alone): the base, the steps' table and the channels' table each on its
  first read, from one factorization of I - Qd (`MoneyRemovals`); rows
  whose conversion effects tie are ordered by their money effects, made
  for those steps alone (their return visits only) or for the channels'
  whole table (removal_rows.py). The numbers are the same whatever is read
  first.

With a `horizon` (conversions and money before H), each removal re-runs
the horizon engine's forward pass with the removed steps made dead ends
that are not goals and earn nothing: one pass per step and per channel,
per persona, which yields the three metrics at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..language.compiled import CompiledJourney
from .chain import Chain, build_chain
from .removal_exact import MoneyRemovals, conversion_removals
from .removal_rows import MONEY, Removal, rows

#: The metrics removals are measured on, in the order of the solvers' columns.
METRICS = ("conversion", *MONEY)


@dataclass(frozen=True)
class Attribution:
    """Removal effects per step and per channel, by conversion effect
    (largest first), then revenue effect, then profit effect.

    `removal_effect` and `share` are None when nothing converts (or when no
    removal changes conversion, for `share`); the same for revenue and
    profit. Without a horizon, `revenue`, `profit` and the rows' money
    fields are solved when first read (a tie of conversion effects in a
    table reads its money to order its rows)."""

    persona: str | None  # None: the persona mix
    conversion: float
    method: str  # "exact" or "horizon"
    steps: dict[str, Removal]
    channels: dict[str | None, Removal]
    # factories for the reason given in Removal
    revenue: float = field(default_factory=float)
    profit: float = field(default_factory=float)

    if not TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any:
            """`revenue` or `profit`, solved now."""
            money = self.__dict__.get("_money")
            if money is None or name not in ("revenue", "profit"):
                raise AttributeError(name)
            self.__dict__.update(zip(("revenue", "profit"), money.base().tolist()))
            del self.__dict__["_money"]
            return self.__dict__[name]

    def __getstate__(self) -> dict:
        self.revenue  # noqa: B018 (solved now: pickled with its money)
        return dict(self.__dict__)

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

    conversion = 0.0
    without_step = np.zeros(len(step_ids))
    without_channel = np.zeros(len(groups))
    method = "exact"
    sources = []
    for p, share in shares.items():
        chain = build_chain(journey, p)
        if chain.horizon_days is not None:
            method = "horizon"
        with located(journey):
            conv, by_step, by_group, money = _removals(chain, groups, want_steps)
        conversion += share * conv  # (Python floats: numpy's arithmetic, bit for bit)
        without_step += share * by_step
        without_channel += share * by_group
        sources.append((share, money))
    blended = _Money(sources, len(step_ids), len(groups))

    step_rows = (rows([(s, (s,)) for s in step_ids], conversion, without_step,
                      blended.by_step, blended.by_step_at) if want_steps else {})
    channel_rows = rows([(c, tuple(step_ids[i] for i in idx)) for c, idx in members.items()],
                        conversion, without_channel, blended.by_group)
    result = Attribution(persona, float(conversion), method, step_rows, channel_rows)
    del result.__dict__["revenue"], result.__dict__["profit"]  # then __getattr__ solves them
    result.__dict__["_money"] = blended
    return result


class _Known:
    """Money removals solved with conversion's (a horizon pass, or the
    integral over a `per customer` draw: one pass yields the three metrics)."""

    def __init__(self, base: np.ndarray, by_step: np.ndarray, by_group: np.ndarray) -> None:
        self._base, self._by_step, self._by_group = base, by_step, by_group

    def base(self) -> np.ndarray:
        return self._base

    def by_step(self, at: np.ndarray | None = None) -> np.ndarray:
        return self._by_step if at is None else self._by_step[at]

    def by_group(self) -> np.ndarray:
        return self._by_group


class _Money:
    """The money (revenue, profit) of an attribution, blended over personas
    by share: the base, without each step, without each group, each made
    when first asked for, from each persona's solver (`MoneyRemovals`, or
    `_Known`). Personas are added in order, as conversion is: the same
    numbers as solving everything at once."""

    def __init__(self, sources: list[tuple[float, Any]], steps: int, groups: int) -> None:
        self.sources = sources
        self.shapes = {"base": (2,), "by_step": (steps, 2), "by_group": (groups, 2)}
        self.made: dict[str, np.ndarray] = {}

    def _blend(self, part: str) -> np.ndarray:
        if part not in self.made:
            total = np.zeros(self.shapes[part])
            for share, source in self.sources:
                total += share * getattr(source, part)()
            self.made[part] = total
        return self.made[part]

    def base(self) -> np.ndarray:
        return self._blend("base")

    def by_step(self) -> tuple[np.ndarray, np.ndarray]:
        return self._blend("base"), self._blend("by_step")

    def by_group(self) -> tuple[np.ndarray, np.ndarray]:
        return self._blend("base"), self._blend("by_group")

    def by_step_at(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`by_step` of the steps `at` alone, the same numbers (blended
        element by element, in the same order)."""
        if "by_step" in self.made:
            return self._blend("base"), self.made["by_step"][at]
        total = np.zeros((len(at), 2))
        for share, source in self.sources:
            total += share * source.by_step(at)
        return self._blend("base"), total


def _removals(chain: Chain, groups: list[list[int]], steps: bool):
    """Conversion, and conversion without each step and without each group,
    and what gives revenue and profit likewise; with a `per customer` rate,
    integrated over the customers' own rates (each is linear in the walks'
    probabilities, as the removals are; an infinite expectation stays inf
    and its effects None)."""
    def one(ch: Chain):
        if ch.horizon_days is None:
            conv, by_step, by_group = conversion_removals(ch, groups)
            money = MoneyRemovals(ch, groups)
            # the three metrics together (the draw's integral mixes them)
            return (np.array([conv, *money.base()]),
                    np.column_stack([by_step, money.by_step()]),
                    np.column_stack([by_group, money.by_group()]))
        return _horizon(ch, groups, steps)

    if not chain.per_customer:
        if chain.horizon_days is None:  # money solved when first read
            return (*conversion_removals(chain, groups), MoneyRemovals(chain, groups))
        conv, by_step, by_group = one(chain)
    else:
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
        conv = np.asarray(conv, float)
    return (float(conv[0]), by_step[:, 0], by_group[:, 0],
            _Known(conv[1:], by_step[:, 1:], by_group[:, 1:]))


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

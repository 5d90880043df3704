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

How each change is computed (exactly without a horizon, by re-running the
horizon engine with one): `lever_changes.py`.

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
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np

from .._gc import paused_gc
from ..language.compiled import CompiledJourney
from ..metrics import SMALLEST
from .chain import Chain, build_chain
from .lever_changes import _FIELDS, STEP, _back, _Effects, _effects, _steps


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
    step_names = np.array(steps, dtype=object)
    names = (step_names[src], step_names[dst])  # each edge's source and target

    wanted = journey.persona_ids if persona is None else [persona]
    from .limits import located

    rates = {p: np.array(numbers.rates[p], dtype=float) for p in wanted}
    with located(journey):
        effects = {p: _persona_effects(build_chain(journey, p), src, dst, delay, rates[p],
                                       size.wanted(rates[p])) for p in wanted}

    groups: list[tuple[str | None, _Effects]] = []
    if persona is None:
        groups.append((None, _blend(effects, shares)))
    groups += list(effects.items())
    found: list[Lever] = []
    with paused_gc():  # tens of thousands of small objects on a large journey
        for p, e in groups:
            found += _group(names, p, e, by)
    return found


def _persona_effects(chain: Chain, src, dst, delay, rate: np.ndarray,
                     wanted: float | np.ndarray) -> _Effects:
    """One persona's levers; with a `per customer` rate, integrated over the
    customers' own rates, the changes of the expectations mixed as the
    metrics are (mixture.py). A lever raises every customer's rate of the
    edge: by the step of the declared (mean) rates, and out of the step with
    that rate, by the same share of each customer's own drop-off there (a
    customer with rate p has (1 - p) / (1 - mean p) of the mean's): the rise
    is the step on average, never more than a customer has left, and smooth
    in p (a rise of min(1 pp, what is left) would put a kink in the integrand,
    which a quadrature rule converges on slowly). A change of an expectation
    that is infinite (or could not be integrated) is NaN, shown as None."""
    if not chain.per_customer:
        e = _effects(chain, src, dst, delay, wanted=wanted)
        e.rate = rate  # the declared rate: what the lever starts from
        return e
    from .exact import solve
    from .mixture import infinite, over_draw
    from .quadrature import Drawn

    drawn = Drawn.of(chain)
    assert drawn is not None  # the chain has its per-customer move
    _, mean_step = _steps(chain, src, _back(chain, src, dst), wanted)
    shared = src == drawn.source
    left = 1.0 - float(chain.move_rate[drawn.edge])

    def one(ch: Chain) -> _Effects:
        share = (1.0 - float(ch.move_rate[drawn.edge])) / left if left > 0 else 0.0
        e = _effects(ch, src, dst, delay, np.where(shared, mean_step * share, mean_step))
        e.rate = rate
        return e
    unknown = infinite(chain, drawn, solve)
    parts = {"d_revenue": "revenue", "d_cost": "cost", "d_profit": "profit",
             "d_profit_converted": "profit_converted"}
    gone = {f for f, metric in parts.items() if metric in unknown}
    mixed, moving = over_draw(chain, drawn, one, _blend,
                              lambda e: {f: getattr(e, f) for f in _FIELDS},
                              lambda field, i: field in gone)
    mixed.step = np.where(mixed.movable, mean_step, 0.0)  # (the mean rise, exactly)
    for field, i in moving:
        getattr(mixed, field)[i] = np.nan
    for field in gone:
        setattr(mixed, field, np.full(len(src), np.nan))
    return mixed


def _blend(effects: dict[Any, _Effects], shares: dict[Any, float]) -> _Effects:
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


def _group(names: tuple[np.ndarray, np.ndarray], persona: str | None, e: _Effects,
           by: str = "revenue") -> list[Lever]:
    """One persona's (or the mix's) levers, ranked by the change of `by`;
    `names`: each edge's source and target (object arrays)."""
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
    order = np.lexsort((np.arange(len(e.movable)), -converting, -ranked, ~e.movable))
    movable = e.movable[order]
    # a lever that cannot move has no step and no changes (None); nor has a
    # change that is NaN: nobody converts, or (a `per customer` rate) an
    # infinite expectation
    fields = [_floats(e.step[order], ~movable), _floats(e.d_conversion[order], ~movable)]
    for x in (e.d_revenue, e.d_cost, e.d_profit, d_clv):
        x = x[order]
        fields.append(_floats(x, ~movable | np.isnan(x)))
    rows = zip(names[0][order].tolist(), names[1][order].tolist(), repeat(persona),
               e.rates()[order].tolist(), movable.tolist(), *fields, repeat(e.method))
    return list(map(tuple.__new__, repeat(Lever), rows))  # (Lever(*row), built in C)


def _floats(x: np.ndarray, none: np.ndarray) -> list[float | None]:
    """x as Python floats, None where `none` (few, mostly: patched in)."""
    out: list[float | None] = x.tolist()
    for i in np.flatnonzero(none).tolist():
        out[i] = None
    return out


def best_by_stage(found: list[Lever], stage_of: dict[str, str]) -> dict[str, Lever]:
    """The first movable lever (in the list's ranking) out of each stage,
    stages in the order their best levers rank: which stage's lever moves
    the ranked metric most."""
    out: dict[str, Lever] = {}
    for lever in found:
        if lever.movable:
            out.setdefault(stage_of[lever.source], lever)
    return out


__all__ = ["RANKINGS", "LeverSize", "Lever", "ONE_POINT", "TEN_PERCENT", "best_by_stage", "levers"]

"""The exact engine over customers' own rates: every metric integrated over
the draw of a `per customer` rate.

A quadrature rule (points p_i, weights w_i; quadrature.py) turns the
integral over the draw into a finite mixture: every expectation the engine
computes (conversion, revenue, the place tables...) is sum_i w_i x (that
expectation for the customers who drew p_i), the persona blend with the
points as personas and the weights as shares (`results.blend`), and every
ratio (clv, cac, time to convert) is formed afterwards from the integrated
numerator and denominator.

The referral cascade needs more: a referred prospect draws a rate of its
own. The mixture is itself a chain (`expand`): m copies of the persona's
chain, copy i with the rate p_i, a new prospect entering copy i with
probability w_i; a walk never leaves its copy (its customer keeps its
rate), and each referral target gets a hub step that moves on at once to
copy j of the target with probability w_j. One solve of that chain gives
the cohort totals. (The other numbers are solved point by point: the reach
of a step on a cycle costs a pass per step, which on the mixture chain
would run over every copy, m times the work.)

How many points (see quadrature.py for why):
- under a horizon with a visit bound D (every cycle through the step takes
  time), ceil(D / 2) + 1 points: exact;
- otherwise rules of 16, 32, 64, ... points until two in a row agree to
  `TOLERANCE` on every number (expectations, each column of the place
  tables, the cohort), up to `MAX_POINTS`; a number still moving there is
  None with its reason (Metrics.unknown).

When customers' rates come arbitrarily close to 100% with b <= 1 and the
loop through the move never ends for a customer at 100% (no horizon, or a
loop without delay), expected visits are infinite. Which numbers are
infinite is read off the chains of two customers at 1 - 1e-6 and
1 - 1e-12: a number growing like 1 / (1 - p) is infinite (None, with the
reason), a bounded one is integrated as usual.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

from ..metrics import EXPECTATIONS
from .chain import Chain, stage_index
from .quadrature import Drawn
from .results import Metrics, blend

#: Points of the first rule, and the most any rule may have.
MIN_POINTS = 16
MAX_POINTS = 4096
#: Two rules in a row agreeing to this (relative to each number, or to its
#: column's largest) stop the doubling: the finer one is far closer.
TOLERANCE = 1e-8
#: A copy's rate stays below 1 by this much (a point rounded to 100% would
#: close a loop nobody leaves).
_TOP = 1.0 - 2.0 ** -50
#: Customers this close to 100% tell bounded numbers from infinite ones.
_NEAR = (1e-6, 1e-12)
_SEP = "\x1f"  # between a copy's number and a step or stage id

T = TypeVar("T")


def points(bound: int) -> int:
    """Points of the rule that is exact for a polynomial of degree `bound`."""
    return bound // 2 + 2


def over_draw(chain: Chain, drawn: Drawn, at_point: Callable[[Chain], T],
              mix: Callable[[dict[int, T], dict[int, float]], T],
              numbers: Callable[[T], dict[str, np.ndarray]],
              settled: Callable[[str, int], bool] = lambda group, i: False,
              then: Callable[[T, np.ndarray, np.ndarray], T] | None = None,
              ) -> tuple[T, list[tuple[str, int]]]:
    """Anything computed on one chain (`at_point`) and linear in the walks'
    probabilities, integrated over the drawn rate: `mix` weighs the points'
    results (the persona blend, with points for personas). `numbers` lists
    what must have converged, by group; `settled(group, i)` leaves some out
    (numbers known to be infinite); `then(result, p, w)` finishes a result
    with the rule itself (the cohort's mixture chain). Returns the result
    and the (group, index) of the numbers still moving at MAX_POINTS."""

    def at(m: int) -> T:
        p, w = drawn.draw.rule(m)
        parts = {i: at_point(drawn.at(chain, x))
                 for i, x in enumerate(np.minimum(p, _TOP).tolist())}
        out = mix(parts, dict(enumerate(w.tolist())))
        return out if then is None else then(out, p, w)

    bound = drawn.visit_bound(chain)
    if bound is not None and points(bound) <= MAX_POINTS:
        return at(points(bound)), []
    m = MIN_POINTS
    before = at(m)
    while True:
        m *= 2
        now = at(m)
        moving = _moving(numbers(before), numbers(now), settled)
        if not moving or m >= MAX_POINTS:
            return now, moving
        before = now


def integrate(chain: Chain, drawn: Drawn, solve: Callable[..., Metrics],
              places: frozenset[str] | None, cohort: bool, by_entry: bool = True) -> Metrics:
    """Every metric of one persona, integrated over the drawn rate. Each
    point's chain is solved on its own: the reach of steps on cycles costs a
    pass per step, which on the mixture chain would run over every copy.
    The profit curve (payback) is the points' curves mixed likewise; when
    the rule is not exact (no horizon), a payback is only given when the
    last two rules agree on it (`ProfitCurve.coarse`)."""
    rules: list[Metrics] = []

    def with_cohort(mixed: Metrics, p: np.ndarray, w: np.ndarray) -> Metrics:
        rules[:] = [*rules[-1:], mixed]  # (the last two rules)
        if cohort and len(chain.ref_row):
            whole = solve(expand(chain, drawn, p, w), frozenset(), True, False)
            mixed.cohort = whole.cohort
            visits = np.array(list(whole.cohort_visits.values()), float)[:len(p) * chain.n]
            mixed.cohort_visits = dict(zip(chain.steps, visits.reshape(len(p), chain.n)
                                           .sum(axis=0).tolist()))
        elif len(chain.ref_row):
            mixed.cohort = {"prospects": 1.0, "customers": mixed.conversion,
                            "revenue": mixed.revenue, "cost": mixed.cost}
        if cohort and not len(chain.ref_row):  # the cascade is the prospect itself
            mixed.cohort_visits = {s: float(row["visits"] or 0.0)  # (never None: not marked yet)
                                   for s, row in mixed.steps.items()}
        if not cohort:
            mixed.cohort_visits = {}
        return mixed

    rows = _rows(chain)
    unknown = infinite(chain, drawn, solve)
    result, moving = over_draw(
        chain, drawn, lambda one: solve(one, places, False, by_entry), blend, _numbers,
        lambda group, i: _key(group, rows, i) in unknown, with_cohort)
    why = (f"not integrated over the customers' own rate of `{_name(chain, drawn)}` to "
           f"1e-6 with {MAX_POINTS} points")
    if len(rules) > 1:  # a payback off this rule's curve must agree with the last rule's
        _coarse(result, rules[-2], why)
    return _marked(result, {**{_key(g, rows, i): why for g, i in moving}, **unknown},
                   chain, drawn)


def _coarse(metrics: Metrics, before: Metrics, why: str) -> None:
    """Give each profit curve of `metrics` the coarser rule's as a check."""
    if metrics.curve is not None and before.curve is not None:
        metrics.curve.check_against(before.curve, why)
    for step, entry in metrics.by_entry.items():
        other = before.by_entry.get(step)
        if entry.curve is not None and other is not None and other.curve is not None:
            entry.curve.check_against(other.curve, why)


def flows(chain: Chain, solve: Callable[..., Metrics]) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Per entering prospect, its whole referral cascade included: the
    expected visits of each step, the walks that end at each step, and the
    moves along each move of the chain (NaN where infinite); what a map
    with flows draws. With a `per customer` rate a move's flow is E[visits(p)
    x rate(p)], not E[visits] x mean rate, and each referred prospect draws
    its own p (the mixture chain's cascade)."""

    Three = tuple[np.ndarray, np.ndarray, np.ndarray]

    def numbers(visits: np.ndarray, rates: np.ndarray) -> Three:
        """(visits, ends, moves) of walks with these visits and move rates
        (rows: the copies of the mixture chain)."""
        out = np.zeros(visits.shape)
        for k in range(len(visits)):
            out[k] = np.bincount(chain.move_row, weights=rates[k], minlength=chain.n)
        stop = np.clip(1.0 - out, 0.0, 1.0)
        return (visits.sum(axis=0), (visits * stop).sum(axis=0),
                (visits[:, chain.move_row] * rates).sum(axis=0))

    def one(ch: Chain, whole: bool = False) -> Three:
        """A chain's numbers: its prospects' own walks (a point of the
        mixture: `cascade` adds the referred), or `whole` cascades."""
        m = solve(ch, frozenset(), whole, False)
        visits = np.array([m.cohort_visits[s] if whole else m.steps[s]["visits"]
                           for s in ch.steps], float)
        return numbers(visits[None, :], ch.move_rate[None, :])

    drawn = Drawn.of(chain) if chain.per_customer else None
    if drawn is None:
        return one(chain, whole=True)

    def cascade(out: Three, p: np.ndarray, w: np.ndarray) -> Three:
        if not len(chain.ref_row):
            return out
        whole = solve(expand(chain, drawn, p, w), frozenset(), True, False).cohort_visits
        visits = np.array(list(whole.values()), float)[:len(p) * chain.n]
        return numbers(visits.reshape(len(p), chain.n), drawn.rates(chain, np.minimum(p, _TOP)))

    unknown = infinite(chain, drawn, solve)
    endless = np.array([f"visits({s})" in unknown for s in chain.steps])
    if "cohort.prospects" in unknown:  # referred prospects without end: where they go
        endless |= _reached(chain, np.unique(chain.ref_col))
    # out of a step whose visits are infinite, the moves are too, but those
    # that share what the drawn rate leaves: E[visits (1 - p)] stays finite
    shares = (chain.move_row == drawn.source) & (np.arange(len(chain.move_row)) != drawn.edge)
    gone = endless[chain.move_row] & ~shares

    def mix(parts: dict, weights: dict[int, float]):
        return tuple(sum(weights[i] * part[k] for i, part in parts.items()) for k in range(3))

    (visits, ends, moves), moving = over_draw(
        chain, drawn, one, mix, lambda r: {"visits": r[0], "ends": r[1], "moves": r[2]},
        lambda group, i: (group == "visits" and bool(endless[i]))
        or (group == "moves" and bool(gone[i])), cascade)
    visits[endless] = np.nan
    moves[gone] = np.nan
    for group, i in moving:
        {"visits": visits, "ends": ends, "moves": moves}[group][i] = np.nan
    return visits, ends, moves


def _reached(chain: Chain, starts: np.ndarray) -> np.ndarray:
    """The steps walks from `starts` can reach (starts included)."""
    seen = np.zeros(chain.n, bool)
    seen[starts] = True
    while True:
        more = seen.copy()
        more[chain.move_col[seen[chain.move_row]]] = True
        if (more == seen).all():
            return seen
        seen = more


# ---------------------------------------------------------------- the mixture chain

def expand(chain: Chain, drawn: Drawn, p: np.ndarray, w: np.ndarray) -> Chain:
    """The mixture chain of the rule (p, w): copy i of step s is step
    `i * n + s`, hubs for the referral targets come last."""
    n, m = chain.n, len(p)
    rates = drawn.rates(chain, np.minimum(p, _TOP))
    offset = (np.arange(m) * n)[:, None]
    row = (chain.move_row[None, :] + offset).ravel()
    col = (chain.move_col[None, :] + offset).ravel()
    rate = rates.ravel()
    delay = np.tile(chain.move_delay, m)
    steps = [f"{i}{_SEP}{s}" for i in range(m) for s in chain.steps]
    ref_row = ref_col = np.zeros(0, np.int64)
    ref_amount = ref_delay = np.zeros(0)
    targets = np.unique(chain.ref_col)
    if len(targets):
        hub = m * n + np.searchsorted(targets, chain.ref_col)
        ref_row = (chain.ref_row[None, :] + offset).ravel()
        ref_col = np.tile(hub, m)
        ref_amount = np.tile(chain.ref_amount, m)
        ref_delay = np.tile(chain.ref_delay, m)
        k = len(targets)
        # hub h moves on to copy j of its target with probability w_j, at once
        row = np.concatenate([row, np.repeat(m * n + np.arange(k), m)])
        col = np.concatenate([col, (targets[:, None] + offset.T).ravel()])
        rate = np.concatenate([rate, np.tile(w, k)])
        delay = np.concatenate([delay, np.zeros(k * m)])
        steps += [f"{_SEP}hub{j}" for j in range(k)]
    keep = rate > 0
    order = np.lexsort((col[keep], row[keep]))
    ref_order = np.lexsort((ref_col, ref_row))
    pad = np.zeros(len(targets))
    return replace(
        chain, steps=steps, stage_of=steps,  # (no reach is computed on it)
        move_row=row[keep][order], move_col=col[keep][order],
        move_rate=rate[keep][order], move_delay=delay[keep][order],
        value=np.concatenate([np.tile(chain.value, m), pad]),
        cost=np.concatenate([np.tile(chain.cost, m), pad]),
        margin=np.concatenate([np.tile(chain.margin, m), pad]),
        channel_of=None if chain.channel_of is None else np.concatenate(
            [np.tile(chain.channel_of, m), np.zeros(len(targets), np.int64)]),
        goal=np.concatenate([np.tile(chain.goal, m), np.zeros(len(targets), bool)]),
        entry=np.concatenate([np.outer(w, chain.entry).ravel(), pad]),
        ref_row=ref_row[ref_order], ref_col=ref_col[ref_order],
        ref_amount=ref_amount[ref_order], ref_delay=ref_delay[ref_order],
        uncertain={}, per_customer={})


# ---------------------------------------------------------------- convergence

#: The place tables by the prefix of their groups: steps, stages, channels.
_TABLES = {"": "steps", "stage ": "stages", "channel ": "channels"}
_ENTRY = " of prospects entering at "  # an entry step's expectation: `profit of ... at signup`


def _numbers(metrics: Metrics) -> dict[str, np.ndarray]:
    """Every number of the metrics by group: each expectation alone, each
    column of the place tables (steps, stages, money by channel), each entry
    step's expectations, the cohort (NaN where None)."""
    out = {k: np.array([getattr(metrics, k)], float) for k in EXPECTATIONS}
    for prefix, name in _TABLES.items():
        table: dict = getattr(metrics, name)
        if table:
            first = next(iter(table.values()))
            for key in first:
                out[f"{prefix}{key}"] = np.array(
                    [np.nan if row[key] is None else row[key] for row in table.values()], float)
    for step, entry in metrics.by_entry.items():
        for key, value in entry.values.items():
            out[f"{key}{_ENTRY}{step}"] = np.array([value], float)
    for key, value in metrics.cohort.items():
        out[f"cohort.{key}"] = np.array([value], float)
    return out


def _rows(chain: Chain) -> dict[str, list[str]]:
    """The row ids of each place table, by its groups' prefix: the chain's
    own (`place_tables` and `channel_money` make the tables in this order),
    not read off a solve (a whole solve, for names)."""
    return {"": list(chain.steps), "stage ": stage_index(chain)[0],
            "channel ": list(chain.channels)}


def _moving(before: dict[str, np.ndarray], now: dict[str, np.ndarray],
            settled: Callable[[str, int], bool]) -> list[tuple[str, int]]:
    """The numbers (group, index) on which two rules still disagree: by more
    than TOLERANCE of the number, or of its group's largest (a column of a
    table, where a tiny entry may be all rounding)."""
    moving = []
    for group, x in now.items():
        y = before[group]
        floor = TOLERANCE * np.nanmax(np.abs(x), initial=0.0)
        bad = np.abs(x - y) > TOLERANCE * np.abs(x) + floor
        bad &= ~(np.isnan(x) & np.isnan(y))
        moving += [(group, i) for i in np.flatnonzero(bad).tolist() if not settled(group, i)]
    return moving


def _key(group: str, rows: dict[str, list[str]], i: int) -> str:
    """The name of number i of a group in Metrics.unknown: the group itself
    for one number (an expectation, a cohort total, an entry step's), else
    `visits(step)`, `stage visits(stage)`, `channel profit(channel)`."""
    if group.startswith("cohort.") or group in EXPECTATIONS or _ENTRY in group:
        return group
    prefix = next((p for p in ("stage ", "channel ") if group.startswith(p)), "")
    return f"{group}({rows[prefix][i]})"


def _marked(metrics: Metrics, unknown: dict[str, str], chain: Chain, drawn: Drawn) -> Metrics:
    """`marked`, and a referral cascade that never dies out (exact.py's
    cohort: inf) said so."""
    for key, value in metrics.cohort.items():
        if math.isinf(value) and f"cohort.{key}" not in unknown:
            unknown = {**unknown, f"cohort.{key}": (
                "infinite: the referral cascade never dies out (customers keep their own "
                f"rate of `{_name(chain, drawn)}`, and those who refer most outweigh the "
                "rate's mean, which `journey check` reads)")}
    return marked(metrics, unknown)


def marked(metrics: Metrics, unknown: dict[str, str]) -> Metrics:
    """The metrics with the numbers in `unknown` set to None in the tables,
    inf (infinite) or NaN (not integrated) in the fields and the cohort,
    and `unknown` recorded (so that `value()` and the JSON give None, with
    the reason)."""
    if not unknown:
        return metrics
    values: dict = {}  # (the expectations: inf or NaN)
    for key, why in unknown.items():
        bad = math.inf if why.startswith("infinite") else math.nan
        if key in EXPECTATIONS:
            values[key] = bad
    cohort = {k: (math.inf if f"cohort.{k}" in unknown else v) for k, v in metrics.cohort.items()}
    cohort_visits = {k: (math.inf if f"visits({k})" in unknown else v)
                     for k, v in metrics.cohort_visits.items()}
    tables: dict[str, Any] = {name: {s: {k: (None if f"{prefix}{k}({s})" in unknown else v)
                         for k, v in row.items()}
                     for s, row in getattr(metrics, name).items()}
              for prefix, name in _TABLES.items()}
    by_entry = {}
    for step, entry in metrics.by_entry.items():
        gone = {k: unknown[f"{k}{_ENTRY}{step}"] for k in entry.values
                if f"{k}{_ENTRY}{step}" in unknown}
        by_entry[step] = replace(entry, values={
            k: (math.inf if gone[k].startswith("infinite") else math.nan) if k in gone else v
            for k, v in entry.values.items()}, unknown={**entry.unknown, **gone})
    # (an entry step's own are its Entry's: shown with the by-entry table)
    mine = {k: why for k, why in unknown.items() if _ENTRY not in k}
    return replace(metrics, **values, **tables, cohort=cohort, cohort_visits=cohort_visits,
                   by_entry=by_entry, unknown={**metrics.unknown, **mine})


# ---------------------------------------------------------------- infinite expectations

def infinite(chain: Chain, drawn: Drawn, solve: Callable[..., Metrics]) -> dict[str, str]:
    """The numbers whose expectation over the draw is infinite, with why."""
    if not (drawn.draw.heavy_top and drawn.closes_at_one(chain)):
        return {}
    near = [_numbers(solve(drawn.at(chain, 1.0 - eta), frozenset(), False)) for eta in _NEAR]
    why = (f"infinite: customers keep their own rate of `{_name(chain, drawn)}`, some of them "
           "arbitrarily close to 100% (b <= 1 in beta(a, b), or a range up to 100%), and "
           "their loop never ends; b > 1 or a horizon makes it finite (a discount, its money)")
    out: dict[str, str] = {}
    rows = _rows(chain)
    for group in near[0]:  # (every number: probabilities never grow)
        grow = [np.nan_to_num(np.abs(x[group])) * eta for x, eta in zip(near, _NEAR)]
        # a pole at p = 1: (1 - p) f(p) tends to a positive limit, the same at
        # both points (a bounded f gives 10^-6 of it at the second), and not
        # one lost in its column's rounding (a probability never has one)
        scale = float(np.nan_to_num(np.abs(near[0][group])).max(initial=0.0))
        infinite = (grow[1] > 1e-3 * grow[0]) & (grow[1] > 1e-9 * scale)
        for i in np.flatnonzero(infinite).tolist():
            out[_key(group, rows, i)] = why
    for total, parts in (("prospects", ("viral_coefficient",)),
                         ("customers", ("viral_coefficient",)),
                         ("revenue", ("viral_coefficient", "revenue")),
                         ("cost", ("viral_coefficient", "cost"))):
        if any(part in out for part in parts):
            out[f"cohort.{total}"] = why
    return out


def _name(chain: Chain, drawn: Drawn) -> str:
    return f"{chain.steps[drawn.source]} -> {chain.steps[drawn.target]}"


__all__ = ["MAX_POINTS", "MIN_POINTS", "TOLERANCE", "expand", "flows", "infinite",
           "integrate", "marked", "over_draw", "points"]

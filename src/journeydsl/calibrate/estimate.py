"""From counts to estimates: rates with their Beta posteriors, delays,
entry splits, values and renewal heterogeneity, per persona (or for all
customers when the log has no persona column), each beside what the
journey declares.

Rate A -> B = moves(A -> B) / uncensored visits of A; its uncertainty the
posterior Beta(1 + moves, 1 + visits - moves) and its 95% interval, the
equal-tailed one except at the edges: with no move (or every visit moving)
the density is monotone and the interval is [0, 95% quantile] (or [5%
quantile, 1]), the shortest one, which holds the observed rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..language.compiled import CompiledJourney
from . import sql
from .counts import Counts
from .plan import Plan
from .sbg import RenewalFit, fit_renewals

LEVEL = 0.95


@dataclass(frozen=True)
class MoveFit:
    source: str
    target: str
    declared: float | None  # the journey's (mean) rate; None: an undeclared move
    moves: int
    visits: int  # uncensored visits of the source
    low: float  # 95% interval
    high: float
    median_days: float | None  # of the observed moves' times
    declared_days: float | None
    #: A `per customer` rate out of the source step: the observed rate is
    #: weighted by the visits of the customers who stay longest, so the
    #: declared one is tested otherwise (`_drawn`): whether the test rejects
    #: it, and how it was tested (the drift warning's words).
    rejected: bool | None = None
    test: str = ""

    @property
    def observed(self) -> float | None:
        return self.moves / self.visits if self.visits else None

    @property
    def drift(self) -> bool:
        """The declared rate lies outside the observed 95% interval (or the
        test of a `per customer` row rejects it)."""
        if self.rejected is not None:
            return self.rejected
        return (self.declared is not None and self.visits > 0
                and not self.low <= self.declared <= self.high)


@dataclass(frozen=True)
class EntryFit:
    step: str
    declared: float | None  # None: not a declared entry
    entries: int
    share: float  # of all first visits


@dataclass(frozen=True)
class ValueFit:
    step: str
    declared: float | None
    mean: float
    events: int  # events with an amount


@dataclass(frozen=True)
class Renewal:
    step: str
    declared: float | None
    fit: RenewalFit


@dataclass
class GroupFit:
    """The estimates of one persona, or of all customers (persona None)."""

    persona: str | None
    customers: int
    censored: int  # customers whose last visit is censored
    moves: list[MoveFit] = field(default_factory=list)  # declared, then undeclared
    entries: list[EntryFit] = field(default_factory=list)
    values: list[ValueFit] = field(default_factory=list)
    renewals: list[Renewal] = field(default_factory=list)

    @property
    def drifts(self) -> list[MoveFit]:
        return [m for m in self.moves if m.drift]


@dataclass
class Fit:
    groups: list[GroupFit]
    counts: Counts
    without_persona: int  # customers without a persona value (with a persona column)
    unknown_persona: int  # customers whose value the journey does not declare


def load_modules() -> None:
    """Import what `estimate` needs (scipy's Beta quantile and sparse
    solver): a fit calls this while the engine orders the events, when the
    main thread only waits, instead of after the counts, when it costs a
    tenth of a fit's wall clock."""
    import scipy.special  # noqa: F401
    from scipy import sparse  # noqa: F401

    from .. import linalg  # noqa: F401


def interval(moves: int, visits: int, level: float = LEVEL) -> tuple[float, float]:
    """The 95% interval of Beta(1 + moves, 1 + visits - moves).

    >>> [round(x, 4) for x in interval(25, 100)]
    [0.1756, 0.3433]
    >>> [round(x, 4) for x in interval(0, 10)]  # the shortest interval at an edge
    [0.0, 0.2384]
    """
    from scipy.special import betaincinv  # the Beta quantile (scipy.stats: 3 s to import)

    a, b = 1 + moves, 1 + visits - moves
    if moves == 0:
        return 0.0, float(betaincinv(a, b, level))
    if moves == visits:
        return float(betaincinv(a, b, 1 - level)), 1.0
    tail = (1 - level) / 2
    return float(betaincinv(a, b, tail)), float(betaincinv(a, b, 1 - tail))


def estimate(journey: CompiledJourney, plan: Plan, counts: Counts) -> Fit:
    if counts.by_persona:
        keys: list[tuple[str, str | None]] = [(p, p) for p in journey.persona_ids]
    else:
        keys = [(sql.NO_PERSONA, None)]
    declared = _declared_rates(journey, None if counts.by_persona else "blend")
    groups = [_group(journey, plan, counts, key, persona, declared)
              for key, persona in keys]
    return Fit(groups, counts,
               counts.customers(sql.NO_PERSONA) if counts.by_persona else 0,
               counts.customers(sql.UNKNOWN_PERSONA))


def _group(journey: CompiledJourney, plan: Plan, counts: Counts, key: str,
           persona: str | None, declared: dict[str | None, dict[tuple[str, str], float]]
           ) -> GroupFit:
    steps = [s.id for s in plan.steps]
    rates = declared[persona]
    group = GroupFit(persona, counts.customers(key), counts.censored(key))
    seen = set()
    for (source, target), move in journey.edges.items():
        i, j = journey.step_number[source], journey.step_number[target]
        group.moves.append(_move(counts, key, i, j, source, target, rates[(source, target)],
                                 move.delay_days))
        seen.add((i, j))
    undeclared = sorted(((i, j, c.n) for (k, i, j), c in counts.moves.items()
                         if k == key and (i, j) not in seen), key=lambda x: (-x[2], x[0], x[1]))
    for i, j, _ in undeclared:
        group.moves.append(_move(counts, key, i, j, steps[i], steps[j], None, None))
    entry_rates = journey.entry_rates(persona or journey.persona_ids[0]) \
        if persona is not None or len(journey.personas) == 1 else _blended_entries(journey)
    total = sum(c.entries for (k, _), c in counts.steps.items() if k == key)
    for number, step in enumerate(steps):
        count = counts.steps.get((key, number))
        if step in entry_rates or (count and count.entries):
            n = count.entries if count else 0
            group.entries.append(EntryFit(step, entry_rates.get(step), n,
                                          n / total if total else 0.0))
        amount = counts.amounts.get((key, number))
        if amount is not None and amount[1]:
            value = journey.steps[number].attributes.value
            group.values.append(ValueFit(
                step, value.mean_for(persona or journey.persona_ids[0]) if value else None,
                amount[0] / amount[1], amount[1]))
    for (k, number), runs in sorted(counts.spells.items()):
        if k != key:
            continue
        fit = fit_renewals(runs)
        if fit is not None:
            step = steps[number]
            group.renewals.append(Renewal(step, rates.get((step, step)), fit))
    _drawn(journey, counts, key, persona, group)
    return group


def _drawn(journey: CompiledJourney, counts: Counts, key: str, persona: str | None,
           group: GroupFit) -> None:
    """The declared `per customer` loop and the moves beside it, tested as
    the model reads them: the loop's draw against the sBG fit of the renewal
    runs (likelihood ratio, chi-square with 2 degrees of freedom, 5%); each
    other move r out of its step as the share r / (1 - mean p) of the
    customers leaving the loop, against the observed share's interval."""
    from .sbg import CHI2_2_95, beta_text, declared_log_likelihood

    def percent_text(x: float) -> str:
        return f"{x * 100:.1f}%"

    if persona is None and len(journey.personas) > 1:
        return  # (each persona's draw differs: tested per persona only)
    who = persona or journey.persona_ids[0]
    for i, move in enumerate(group.moves):
        if move.source != move.target or move.declared is None:
            continue
        amount = journey.edges[(move.source, move.target)].rate.for_persona(who)
        if not amount.per_customer:
            continue
        runs = counts.spells.get((key, journey.step_number[move.source]))
        renewal = next((r for r in group.renewals if r.step == move.source), None)
        if runs and renewal is not None:
            uniform = amount.kind != "beta"
            declared = declared_log_likelihood(
                runs, amount.alpha or 1.0, amount.beta or 1.0,
                0.0 if amount.low is None else amount.low,
                1.0 if amount.high is None else amount.high, uniform)
            statistic = max(0.0, 2.0 * (renewal.fit.log_likelihood - declared))
            group.moves[i] = replace(move, rejected=statistic > CHI2_2_95, test=(
                f"customers' own rates: likelihood ratio {statistic:.1f} against the fitted "
                f"{beta_text(renewal.fit)} (rejected above 5.99)"))
        leavers = move.visits - move.moves
        for j, other in enumerate(group.moves):
            if other.source != move.source or other.target == move.source or \
                    other.declared is None or leavers <= 0:
                continue
            share = other.declared / (1.0 - move.declared) if move.declared < 1 else 0.0
            low, high = interval(other.moves, leavers)
            group.moves[j] = replace(other, rejected=not low <= share <= high, test=(
                f"as a share of the customers leaving the loop: {percent_text(share)} "
                f"declared, {percent_text(other.moves / leavers)} observed ({other.moves:,} "
                f"of {leavers:,}; 95% interval {percent_text(low)}–{percent_text(high)})"))


def _move(counts: Counts, key: str, i: int, j: int, source: str, target: str,
          declared: float | None, declared_days: float | None) -> MoveFit:
    step = counts.steps.get((key, i))
    visits = step.uncensored if step else 0
    found = counts.moves.get((key, i, j))
    moves = found.n if found else 0
    low, high = interval(moves, visits) if visits else (0.0, 1.0)
    return MoveFit(source, target, declared, moves, visits, low, high,
                   found.median_days if found else None, declared_days)


def _declared_rates(journey: CompiledJourney, blend: str | None
                    ) -> dict[str | None, dict[tuple[str, str], float]]:
    """The declared (mean) rate of every move, per persona; with `blend`,
    for all customers (key None): each persona's rate weighted by the visits
    its prospects are expected to make to the source (share x visits per
    prospect, from the exact engine's visits), which is the rate a log of
    the journey's customers would show."""
    out: dict[str | None, dict[tuple[str, str], float]] = {
        p: {pair: m.rate.mean_for(p) for pair, m in journey.edges.items()}
        for p in journey.persona_ids}
    if blend is None:
        return out
    if len(journey.personas) == 1:
        out[None] = out[journey.persona_ids[0]]
        return out
    weights = _visit_weights(journey)
    blended = {}
    for pair in journey.edges:
        source = journey.step_number[pair[0]]
        total = sum(weights[p][source] for p in journey.persona_ids)
        blended[pair] = (sum(weights[p][source] * out[p][pair] for p in journey.persona_ids)
                         / total if total > 0 else
                         sum(journey.shares[p] * out[p][pair] for p in journey.persona_ids))
    out[None] = blended
    return out


def _visit_weights(journey: CompiledJourney) -> dict[str, list[float]]:
    """share x expected visits per prospect of each step, per persona."""
    import numpy as np
    from scipy import sparse

    from ..linalg import solve_visits

    numbers = journey.numbers
    n = numbers.steps
    out = {}
    for p in journey.persona_ids:
        q = sparse.csr_matrix((np.asarray(numbers.rates[p]),
                               (np.asarray(numbers.move_from), np.asarray(numbers.move_to))),
                              shape=(n, n))
        visits = solve_visits(q, np.asarray(numbers.entry[p]), transpose=True)
        out[p] = [journey.shares[p] * float(v) for v in visits]
    return out


def _blended_entries(journey: CompiledJourney) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in journey.persona_ids:
        for step, rate in journey.entry_rates(p).items():
            out[step] = out.get(step, 0.0) + journey.shares[p] * rate
    return out

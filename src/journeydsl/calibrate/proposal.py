"""What `journey fit --write` would write, as text per value, decided once
for the file and the scenario forms alike (`rewrite.py` puts it in place).

A rate is written to the precision its interval supports (one more decimal
than the interval's width in tenths: 27% from 60 visits, 27.34% from
100,000), per persona when the log has a persona column: the first
persona's value as the base and `[persona: ...]` for the others that
differ; a persona without visits keeps what the file says. The rates out
of a step never sum above 100% after rounding, and an entry split sums to
exactly 100% (largest remainders).

>>> rate_text(0.27341, 0.27, 0.2768)
'27.34%'
>>> rate_text(0.2734, 0.15, 0.4)
'27%'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..language.compiled import CompiledJourney
from ..language.model import Amount, PerPersona
from .durations import duration_text
from .estimate import Fit, GroupFit, MoveFit
from .sbg import beta_text

MAX_DECIMALS = 3


def decimals(width: float) -> int:
    """Decimals of a rate in % for an interval `width` (a fraction)."""
    if width <= 0:
        return MAX_DECIMALS
    return min(MAX_DECIMALS, max(0, math.ceil(-math.log10(width * 100 / 10))))


def percent_text(value: float, digits: int) -> str:
    text = f"{value * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def rate_text(value: float, low: float, high: float) -> str:
    return percent_text(value, decimals(high - low))


def money_text(value: float) -> str:
    """Money as `value` takes it: two decimals, none when whole.

    >>> money_text(49.0), money_text(12.345), money_text(1250.5)
    ('49', '12.35', '1250.50')
    """
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text


@dataclass
class Proposal:
    """Text per value to write, keyed by step ids; each a per-persona
    phrase such as `27.3% [ent: 12%]`."""

    rates: dict[tuple[str, str], str] = field(default_factory=dict)
    delays: dict[tuple[str, str], str] = field(default_factory=dict)  # "" : no delay
    added: list[tuple[str, str]] = field(default_factory=list)  # undeclared moves to add
    entries: dict[str, str] = field(default_factory=dict)  # step -> phrase
    values: dict[str, str] = field(default_factory=dict)  # step -> phrase
    skipped: list[str] = field(default_factory=list)  # what is not written, and why


def propose(journey: CompiledJourney, fit: Fit, source_text: str, add_moves: bool) -> Proposal:
    out = Proposal()
    personas = journey.persona_ids
    groups = {g.persona: g for g in fit.groups}
    by_persona = fit.counts.by_persona
    declared_text = _Declared(source_text)
    pairs = list(journey.edges)
    if add_moves:
        extra = {(m.source, m.target) for g in fit.groups for m in g.moves if m.declared is None}
        out.added = sorted(extra, key=lambda p: (journey.step_number[p[0]],
                                                 journey.step_number[p[1]]))
        pairs += out.added
    # rates: per source and persona, rounded without passing 100%
    per_persona: dict[str | None, dict[tuple[str, str], str]] = {}
    for persona in (personas if by_persona else [None]):
        group = groups.get(persona)
        texts: dict[tuple[str, str], str] = {}
        for source in dict.fromkeys(p[0] for p in pairs):
            row = [p for p in pairs if p[0] == source]
            texts.update(_row(journey, group, persona, row, declared_text))
        per_persona[persona] = texts
    seen = {m.source for g in fit.groups for m in g.moves if m.visits}
    for pair in pairs:
        move = journey.edges.get(pair)
        if pair[0] not in seen:  # no visit of the step: nothing to write
            continue
        if by_persona:
            out.rates[pair] = phrase(list(per_persona[p][pair] for p in personas), personas)
        elif move is not None and move.rate.overrides and len(personas) > 1:
            out.skipped.append(f"{pair[0]} -> {pair[1]}: its rate differs by persona and the log "
                               "has no persona column (name it with --persona)")
        else:
            out.rates[pair] = per_persona[None][pair]
    for pair in out.rates:
        found = fit.counts.delays.get((journey.step_number[pair[0]], journey.step_number[pair[1]]))
        if found is not None:
            out.delays[pair] = duration_text(found.median_days)
    for pair, loop_texts in _renewals(fit, per_persona, out).items():
        out.rates[pair] = (phrase([loop_texts[p] for p in personas], personas) if by_persona
                           else loop_texts[None])
    _entries(journey, fit, out, declared_text, add_moves)
    _values(journey, fit, out, declared_text)
    return out


def _renewals(fit: Fit, per_persona: dict[str | None, dict[tuple[str, str], str]],
              out: Proposal) -> dict[tuple[str, str], dict[str | None, str]]:
    """The rates out of the renewal loop whose customers differ (the sBG fit
    beats one rate, sbg.py), by persona: `beta(a, b) per customer` on the
    loop, and each other move out of its step the share of the leavers
    that took it times what the mean leaves (a declared r is r (1 - p) /
    (1 - mean p) for a customer with rate p). A journey has at most one
    `per customer` move (JD314): with several loops whose customers differ,
    the one with the strongest evidence (the largest likelihood ratio) is
    written and the others keep one rate, said in `skipped`. Personas whose
    customers are alike keep their constant rate."""
    evidence: dict[str, float] = {}
    for group in fit.groups:
        for renewal in group.renewals:
            if renewal.fit.per_customer and (renewal.step, renewal.step) in out.rates:
                evidence[renewal.step] = evidence.get(renewal.step, 0.0) + renewal.fit.statistic
    if not evidence:
        return {}
    step = max(evidence, key=lambda s: (evidence[s], s))
    for other in sorted(set(evidence) - {step}):
        out.skipped.append(f"{other} -> {other}: customers differ there too, but a journey "
                           f"has one `per customer` rate (JD314): `{step} -> {step}` has the "
                           "stronger evidence; one observed rate was written")
    row = [pair for pair in out.rates if pair[0] == step]
    texts: dict[tuple[str, str], dict[str | None, str]] = {
        pair: {p: t[pair] for p, t in per_persona.items()} for pair in row}
    for group in fit.groups:
        found = next((r for r in group.renewals if r.step == step), None)
        if found is None or not found.fit.per_customer:
            continue  # one rate fits these customers: the observed one stays
        mean = found.fit.mean
        texts[(step, step)][group.persona] = beta_text(found.fit)
        moves = {(m.source, m.target): m for m in group.moves if m.source == step}
        loop = moves.get((step, step))
        if loop is None:
            continue
        leavers = loop.visits - loop.moves
        for pair in row:
            move = moves.get(pair)
            if pair == (step, step) or move is None or leavers <= 0:
                continue
            share = (1.0 - mean) * move.moves / leavers
            digits = decimals(move.high - move.low)
            unit = 10 ** -(digits + 2)  # rounded down: the row stays within 100%
            texts[pair][group.persona] = percent_text(math.floor(share / unit) * unit, digits)
    return texts


def phrase(texts: list[str | None], personas: list[str]) -> str:
    """`base [p: x, ...]`: the first persona's text as the base (None: the
    same as the base)."""
    base = next((t for t in texts if t is not None), "0")
    overrides = [f"{p}: {t}" for p, t in zip(personas[1:], texts[1:])
                 if t is not None and t != base]
    if texts[0] is None:  # the first persona has nothing of its own: the base is another's
        overrides = [f"{p}: {t}" for p, t in zip(personas, texts)
                     if t is not None and t != base]
    return base + (f" [{', '.join(overrides)}]" if overrides else "")


class _Declared:
    """The text a persona's declared amount is written with."""

    def __init__(self, text: str) -> None:
        self.text = text

    def of(self, value: PerPersona | None, persona: str | None) -> str | None:
        if value is None:
            return None
        amount: Amount = value.base if persona is None else value.for_persona(persona)
        return self.text[amount.span.start:amount.span.end]


def _row(journey: CompiledJourney, group: GroupFit | None, persona: str | None,
         row: list[tuple[str, str]], declared: _Declared) -> dict[tuple[str, str], str]:
    fits = {(m.source, m.target): m for m in group.moves} if group else {}
    observed: list[tuple[tuple[str, str], MoveFit]] = [
        (pair, fits[pair]) for pair in row if pair in fits and fits[pair].visits]
    out: dict[tuple[str, str], str] = {}
    if not observed:  # no visit of the step: keep what the file says
        for pair in row:
            move = journey.edges.get(pair)
            out[pair] = (declared.of(move.rate, persona) if move else None) or "0%"
        return out
    digits = max(decimals(m.high - m.low) for _, m in observed)
    unit = 10 ** -(digits + 2)
    values = {pair: round(m.moves / m.visits / unit) * unit for pair, m in observed}
    while sum(values.values()) > 1 + 1e-12:  # rounding up must not pass 100%
        biggest = max(values, key=lambda p: (values[p] - fits[p].moves / fits[p].visits, values[p]))
        values[biggest] -= unit
    for pair in row:
        out[pair] = percent_text(values[pair], digits) if pair in values else "0%"
    return out


def _entries(journey: CompiledJourney, fit: Fit, out: Proposal, declared: _Declared,
             add_moves: bool) -> None:
    personas = journey.persona_ids
    steps = [e.step for e in journey.entries]
    seen = {e.step for g in fit.groups for e in g.entries if e.entries}
    extra = [s.id for s in journey.steps if s.id in seen and s.id not in steps]
    if extra and not add_moves:
        out.skipped.append("first visits at steps that are not entries (" + ", ".join(extra)
                           + "): left out of the entry split (--add-moves adds them)")
    elif extra:
        steps += extra
    if len(steps) < 2:
        return
    by_persona = fit.counts.by_persona
    if not by_persona and len(personas) > 1 and any(e.rate.overrides for e in journey.entries):
        out.skipped.append("entry: its split differs by persona and the log has no persona "
                           "column (name it with --persona)")
        return
    texts: dict[str | None, dict[str, str]] = {}
    for group in fit.groups:
        counts = {e.step: e.entries for e in group.entries if e.step in steps}
        total = sum(counts.values())
        if total == 0:
            entries = {e.step: e for e in journey.entries}
            texts[group.persona] = {s: (declared.of(entries[s].rate, group.persona)
                                        if s in entries else None) or "0%" for s in steps}
            continue
        digits = decimals(2 / math.sqrt(total))
        texts[group.persona] = _split(counts, steps, total, digits)
    for step in steps:
        out.entries[step] = phrase(list(texts[p][step] for p in personas), personas) \
            if by_persona \
            else texts[None][step]


def _split(counts: dict[str, int], steps: list[str], total: int, digits: int) -> dict[str, str]:
    """Shares that sum to exactly 100% at `digits` decimals (largest remainders)."""
    units = 10 ** (digits + 2)
    exact = {s: counts.get(s, 0) * units / total for s in steps}
    floors = {s: math.floor(v) for s, v in exact.items()}
    left = units - sum(floors.values())
    for s in sorted(steps, key=lambda s: (floors[s] - exact[s], steps.index(s)))[:left]:
        floors[s] += 1
    return {s: percent_text(floors[s] / units, digits) for s in steps}


def _values(journey: CompiledJourney, fit: Fit, out: Proposal, declared: _Declared) -> None:
    personas = journey.persona_ids
    by_persona = fit.counts.by_persona
    for number, step in enumerate(journey.steps):
        means = {g.persona: v.mean for g in fit.groups for v in g.values if v.step == step.id}
        if not means:
            continue
        value = step.attributes.value
        if not by_persona:
            if value is not None and value.overrides and len(personas) > 1:
                out.skipped.append(f"value of {step.id}: it differs by persona and the log has "
                                   "no persona column (name it with --persona)")
                continue
            out.values[step.id] = money_text(means[None])
            continue
        texts = [money_text(means[p]) if p in means else declared.of(value, p)
                 for p in personas]
        out.values[step.id] = phrase(texts, personas)

"""A small event log made from a journey: seeded walks, one row per visit,
in the format `journey fit` reads (user, event, time, amount, persona).

For examples and tests: it walks in plain Python, one prospect at a time,
and knows nothing of the fit (so fitting its log checks the fit). Each
prospect arrives at a time spread evenly over `arrivals_days` after
`start`, takes its persona by share and its entry by the entry split,
moves by the declared (mean) rates and delays (each delay times a factor
in [1 - jitter, 1 + jitter]) and ends where the remainder says; a rate
`per customer` is drawn once per prospect (Beta(a, b), or uniform between
the bounds) and kept, the other moves out of its step sharing what it
leaves (r (1 - p) / (1 - mean p), as the engines read them); the log
stops at `end_days`. Referrals are left out (they bring new prospects,
not moves). An event is the step's first `event` name, or its id; its
amount is the step's `value`.

>>> import journeydsl
>>> journey = journeydsl.loads('journey "j" { stage s { touchpoint a { event "a_view" }; '
...     'touchpoint b { value 9 } } ; entry a ; a -> b 50% after 1d ; goal b }').journey
>>> rows = event_rows(journey, prospects=4, seed=1)
>>> [(r[0], r[1], r[3]) for r in rows]
[('c0000001', 'a_view', None), ('c0000002', 'a_view', None), ('c0000002', 'b', 9.0), ('c0000003', 'a_view', None), ('c0000004', 'a_view', None), ('c0000004', 'b', 9.0)]
"""

from __future__ import annotations

import datetime as dt
import random

from ..language.compiled import CompiledJourney
from ..language.model import Amount
from .plan import first_event

Row = tuple[str, str, dt.datetime, float | None, str]


def event_rows(journey: CompiledJourney, prospects: int, seed: int = 0,
               start: dt.datetime = dt.datetime(2024, 1, 1), arrivals_days: float = 180.0,
               end_days: float = 365.0, jitter: float = 0.0, max_visits: int = 1000) -> list[Row]:
    """The rows of the walks, customer by customer, each in time order."""
    rng = random.Random(seed)
    personas = journey.persona_ids
    shares = [journey.shares[p] for p in personas]
    events = {s.id: first_event(journey, s.id) for s in journey.steps}
    moves: dict[str, dict[str, list[tuple[str, float, float]]]] = {p: {} for p in personas}
    own: dict[str, tuple[str, str, Amount]] = {}  # persona -> its `per customer` move
    for move in journey.edges.values():
        for p in personas:
            moves[p].setdefault(move.source, []).append(
                (move.target, move.rate.mean_for(p), move.delay_days))
            drawn = move.rate.for_persona(p)
            if drawn.per_customer:
                own[p] = (move.source, move.target, drawn)
    rows: list[Row] = []
    for number in range(1, prospects + 1):
        persona = rng.choices(personas, shares)[0]
        entries = journey.entry_rates(persona)
        step = rng.choices(list(entries), list(entries.values()))[0]
        clock = arrivals_days * (number - 0.5) / prospects
        user = f"c{number:07d}"
        mine = _own_moves(moves[persona], own.get(persona), rng)
        for _ in range(max_visits):
            if clock >= end_days:
                break
            value = journey.step(step).attributes.value
            amount = value.mean_for(persona) if value is not None else None
            rows.append((user, events[step], start + dt.timedelta(days=clock), amount, persona))
            draw, nxt = rng.random(), None
            for target, rate, delay in mine.get(step, []):
                if draw < rate:
                    nxt = (target, delay)
                    break
                draw -= rate
            if nxt is None:
                break
            step = nxt[0]
            clock += nxt[1] * (1 + jitter * (2 * rng.random() - 1))
    return rows


def _own_moves(moves: dict[str, list[tuple[str, float, float]]],
               own: tuple[str, str, Amount] | None, rng: random.Random
               ) -> dict[str, list[tuple[str, float, float]]]:
    """One prospect's moves: its own draw of a `per customer` rate."""
    if own is None:
        return moves
    source, target, amount = own
    if amount.kind == "beta":
        assert amount.alpha is not None and amount.beta is not None  # beta(a, b)
        p = rng.betavariate(amount.alpha, amount.beta)
    else:
        assert amount.low is not None and amount.high is not None  # a range
        p = rng.uniform(amount.low, amount.high)
    row = moves[source]
    mean = next(rate for t, rate, _ in row if t == target)
    share = (1.0 - p) / (1.0 - mean) if mean < 1.0 else 0.0
    return {**moves, source: [(t, p if t == target else rate * share, delay)
                              for t, rate, delay in row]}


def write_csv(rows: list[Row], path: str) -> None:
    """The rows as CSV with the default column names, times in ISO 8601 UTC."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["user", "event", "time", "amount", "persona"])
        for user, event, when, amount, persona in rows:
            out.writerow([user, event, when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "" if amount is None else f"{amount:g}", persona])

"""The numbers by step (`journey.numbers`, language/numbers.py) against a
plain reading of the compiled journey, and the exact engine's step, stage
and channel tables, made when first read, against the same tables made at
once.

The index is built for speed (fields read with `map`, one loop over the
rates, one stable argsort for the pair order): the reference here is the
obvious loop over the journey, written from the index's documented
meaning, on journeys that exercise every branch (moves written out of
source order, `[persona: ...]` overrides on rates, values, costs and
margins, uncertain and `per customer` rates, a referral on the pair of a
move, stage margins, steps without a channel).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import journeydsl
from journeydsl.language.compiled import CompiledJourney
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve

ROOT = Path(__file__).resolve().parents[1]

MIXED = """journey "mixed" {
  margin 50%
  persona a { share 60% }
  persona b { share 40% }
  stage s1 { margin 70% [b: 40%]
    touchpoint x { channel web; value 10 [b: 20]; cost 1 }
    touchpoint y { channel mail }
  }
  stage s2 {
    touchpoint z { cost 2 [a: 3]; value 4; margin 20% }
    touchpoint w { channel web; value 5 }
  }
  stage s3
  entry x 70% [b: 50%], z 30% [b: 50%]
  z -> w 40% after 2d, y 10%
  x -> y 30% [b: 10%..30%] after 1d, z 20%
  y -> w beta(3, 7), x 10%
  x -> w 5%
  w -> s3 50% [a: beta(2, 3) per customer]
  z => x 0.1
  w => x 0.2 [b: 0.3]
  x => w 0.05 after 3d
  z => w 0.02
  goal s3
}
"""


def reference(journey: CompiledJourney) -> dict:
    """The index's numbers, read off the journey one item at a time."""
    where = journey.step_number
    first: dict[tuple[str, str], int] = {}
    for item in (*journey.moves, *journey.referrals):
        first.setdefault((item.source, item.target), len(first))

    def ordered(pairs):
        return sorted(pairs.values(), key=lambda m: (where[m.source], first[(m.source, m.target)]))

    personas = journey.persona_ids
    moves, sends = ordered(journey.edges), ordered(journey.sends)
    out: dict = {
        "move_from": [where[m.source] for m in moves], "move_to": [where[m.target] for m in moves],
        "delays": [m.delay_days for m in moves],
        "rates": {p: [m.rate.mean_for(p) for m in moves] for p in personas},
        "sent_from": [where[r.source] for r in sends], "sent_to": [where[r.target] for r in sends],
        "sent_delays": [r.delay_days for r in sends],
        "amounts": {p: [r.amount.mean_for(p) for r in sends] for p in personas},
        "stage_of": [s.stage for s in journey.steps],
        "goal": [s.id in journey.goals for s in journey.steps],
        "uncertain": [], "per_customer": []}
    for k, m in enumerate(moves):
        specs = {p: m.rate.for_persona(p) for p in personas}
        shared = {p: a for p, a in specs.items() if a.kind != "fixed" and not a.per_customer}
        drawn = {p: a for p, a in specs.items() if a.per_customer}
        if shared:
            out["uncertain"].append((k, shared))
        if drawn:
            out["per_customer"].append((k, drawn))
    stage_margin = {s.id: s.attributes.margin for s in journey.stages}
    for key in ("value", "cost", "margin", "entry"):
        out[key] = {}
        for p in personas:
            column = []
            for s in journey.steps:
                written = getattr(s.attributes, key, None)
                if key == "margin" and written is None:
                    written = stage_margin.get(s.stage)
                if key == "entry":
                    column.append(journey.entry_rates(p).get(s.id, 0.0))
                elif written is None:
                    column.append(journey.margin if key == "margin" else 0.0)
                else:
                    column.append(written.mean_for(p))
            out[key][p] = column
    channels = [s.attributes.channel or "" for s in journey.steps]
    out["channels"] = list(dict.fromkeys(channels))
    out["channel_of"] = [out["channels"].index(c) for c in channels]
    return out


def as_plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value


def journeys() -> list[tuple[str, CompiledJourney]]:
    found = [("mixed", journeydsl.loads(MIXED).journey)]
    for path in sorted((ROOT / "examples").glob("*.journey")):
        result = journeydsl.load(path)
        for scenario in [None, *result.scenarios]:
            found.append((f"{path.name}:{scenario}", result.variant(scenario)))
    return found


@pytest.mark.parametrize("name, journey", journeys(), ids=lambda x: x if isinstance(x, str) else "")
def test_the_index_holds_what_the_journey_says(name: str, journey: CompiledJourney) -> None:
    numbers = journey.numbers
    want = reference(journey)
    for key, expected in want.items():
        assert as_plain(getattr(numbers, key)) == expected, (name, key)
    assert numbers.steps == len(journey.steps) and numbers.personas == journey.persona_ids
    assert numbers.move_from.dtype == np.int64 and numbers.rates[journey.persona_ids[0]].dtype == float


def test_the_mixed_journey_exercises_every_branch() -> None:
    """(So that the comparison above is not vacuous.)"""
    journey = journeydsl.loads(MIXED).journey
    numbers = journey.numbers
    written = [journey.step_number[m.source] for m in journey.moves]
    assert written != sorted(written) and numbers.move_from.tolist() == sorted(written)
    assert numbers.uncertain and numbers.per_customer
    assert numbers.rates["a"].tolist() != numbers.rates["b"].tolist()
    assert numbers.sent_to.tolist() == [3, 3, 0, 0]  # z => w (a move's pair) before z => x
    assert "" in numbers.channels
    assert numbers.margin["a"].tolist() != numbers.margin["b"].tolist()


def test_the_places_tables_made_when_read_are_those_made_at_once() -> None:
    """Metrics.later: the same tables whichever is read first, in a copy
    made before they were read too, and in the JSON."""
    journey = journeydsl.loads(MIXED).journey
    for persona in journey.persona_ids:
        chain = build_chain(journey, persona)
        if chain.per_customer:  # (mixture.py reads the tables of its points at once)
            continue
        first = solve(chain)
        assert "steps" not in vars(first)  # not made yet
        twin = copy.copy(first)
        channels, steps, stages = first.channels, first.steps, first.stages
        assert (twin.steps, twin.stages, twin.channels) == (steps, stages, channels)
        other = solve(chain)
        assert (other.steps, other.stages, other.channels) == (steps, stages, channels)
        assert steps and stages and channels
    report = simulate(journey)
    blended = report.as_dict()["blended"]["metrics"]
    assert blended["steps"] == report.blended.steps and blended["channels"]


def test_a_table_nobody_made_is_still_an_attribute_error() -> None:
    chain = build_chain(journeydsl.loads(MIXED).journey, "b")
    metrics = solve(chain)
    with pytest.raises(AttributeError):
        metrics.no_such_table  # noqa: B018

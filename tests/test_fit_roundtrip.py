"""The calibration's own test (design: "a log from a journey"): random
journeys, each walked into an event log (calibrate/synthetic.py, seeded),
fitted back: every rate comes back within its interval, and the 95%
intervals hold the truth about 95% of the time."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scipy.special import betaincinv

import journeydsl
from journeydsl.calibrate import LogSpec, fit
from journeydsl.calibrate.synthetic import event_rows, write_csv


def random_journey(seed: int) -> str:
    """Steps s0..sN in declaration order: forward moves, a renewal loop,
    a move back, rates differing by persona, delays of 0 to a month."""
    rng = random.Random(seed)
    n = rng.randrange(5, 9)
    lines = ['journey "Random" {', "  persona p { share 60% }", "  persona q { share 40% }",
             "  stage s { " + "; ".join(f"touchpoint s{i}" for i in range(n)) + " }",
             "  entry s0 70% [q: 50%], s1 30% [q: 50%]"]
    loop = rng.randrange(2, n)
    for i in range(n - 1):
        targets = sorted(rng.sample(range(i + 1, n), k=min(n - i - 1, rng.randrange(1, 3))))
        if i == loop:
            targets = [i] + targets
        if i >= 3 and rng.random() < 0.3:
            targets.append(rng.randrange(1, i))  # a move back
        budget, parts = 0.9, []
        for target in targets:
            share = 0.6 if target == i else rng.uniform(0.05, budget / len(targets))
            other = min(0.9 - 0.01, share * rng.uniform(0.5, 1.5))
            delay = rng.choice(["", " after 1d", " after 7d", " after 30d"])
            override = f" [q: {other:.1%}]" if rng.random() < 0.5 and target != i else ""
            parts.append(f"s{target} {share:.1%}{override}{' after 30d' if target == i else delay}")
            budget -= max(share, other)
        lines.append(f"  s{i} -> " + ", ".join(parts))
    lines += [f"  goal s{n - 1}", "}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_journey_walked_into_a_log_is_fitted_back(seed: int, tmp_path: Path) -> None:
    text = random_journey(seed)
    compiled = journeydsl.loads(text, "random.journey")
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    journey = compiled.journey
    log = tmp_path / "log.csv"
    rows = event_rows(journey, prospects=30_000, seed=seed, arrivals_days=300, end_days=360,
                      jitter=0.2)
    write_csv(rows, str(log))
    fitted = fit(journey, LogSpec.of([str(log)]))
    moves = [m for g in fitted.groups for m in g.moves if m.visits >= 30]
    assert len(moves) >= 6 and all(m.declared is not None for m in moves), text
    for m in moves:  # every rate within a wide interval of its own
        low = betaincinv(1 + m.moves, 1 + m.visits - m.moves, 0.00005)
        high = betaincinv(1 + m.moves, 1 + m.visits - m.moves, 0.99995)
        assert low <= m.declared <= high, (m, text)
    outside = sum(m.drift for m in moves)
    assert outside <= max(2, 0.12 * len(moves)), (outside, len(moves), text)
    for group in fitted.groups:  # entries and delays too
        entries = {e.step: e.share for e in group.entries}
        expected = journey.entry_rates(group.persona)["s0"]
        assert abs(entries["s0"] - expected) < 4 * (expected * (1 - expected)
                                                     / group.customers) ** 0.5
        for m in group.moves:
            if m.moves >= 30 and m.declared_days:
                assert m.median_days == pytest.approx(m.declared_days, rel=0.1)

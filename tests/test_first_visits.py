"""Reach of the steps of a loop through a hub (simulate/first_visits.py)
against the taboo passes it replaces, and its speed on a big loop.

The hub method solves every step's first visits from three passes over the
loop and a renewal recursion; a taboo pass per step (the walk stopped on
entering the step) is the independent computation. Seeded random journeys
whose every cycle runs through one step: delays of several sizes and
none, inputs from a prelude at odd times (several residues of the loop's
lattice), entries inside the loop, a self-loop on the hub.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import journeydsl
from journeydsl.linalg import components
from journeydsl.simulate import first_visits
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.horizon import _merged, totals

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_horizon import big_loop  # noqa: E402  (the bench's journey: one generator)

DELAYS = ["", " after 1h", " after 2h", " after 3h", " after 1d", " after 6h"]


def hub_journey(seed: int, k: int = 9) -> str:
    """A loop of k steps whose cycles all pass its hub, behind a prelude."""
    rng = random.Random(seed)
    hub = rng.randrange(k)
    order = [s for s in range(k) if s != hub]
    rng.shuffle(order)
    rank = {s: i for i, s in enumerate(order)}
    lines = [f'journey "Hub {seed}" {{', f"  horizon {rng.choice(['3d', '2w', '90d'])}",
             "  stage s {", "    touchpoint pre1; touchpoint pre2"]
    lines += [f"    touchpoint l{i}" for i in range(k)]
    lines += ["    touchpoint done { value 1 }", "  }"]
    entries = {"pre1": 0.6, f"l{hub}": 0.25, f"l{order[-1]}": 0.15}
    lines.append("  entry " + ", ".join(f"{s} {p * 100:g}%" for s, p in entries.items()))
    lines.append("  goal done")
    # the prelude reaches the loop at odd times: other residues of its lattice
    lines.append(f"  pre1 -> pre2 50% after 0.37h, l{order[0]} 30% after 1.3h")
    lines.append(f"  pre2 -> l{hub} 40% after 0.91h, l{order[len(order) // 2]} 40%")
    for s in range(k):
        targets = [t for t in order if (s == hub or rank[t] > rank.get(s, -1)) and t != s]
        targets = rng.sample(targets, min(len(targets), rng.randint(1, 3)))
        back = [hub] if s != hub else ([hub] if rng.random() < 0.5 else [])
        moves = [(f"l{t}", rng.choice(DELAYS)) for t in targets]
        # back to the hub: never instant from the hub itself (a closed instant loop)
        moves += [(f"l{t}", rng.choice(DELAYS[1:])) for t in back]
        moves.append(("done", ""))
        weights = [rng.random() + 0.1 for _ in moves]
        total = rng.uniform(0.5, 0.95)
        parts = [f"{m} {w / sum(weights) * total * 100:.4f}%{d}"
                 for (m, d), w in zip(moves, weights)]
        lines.append(f"  l{s} -> " + ", ".join(parts))
    # the hub gets more moves than any other step (the method tries the likeliest)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _both_ways(text: str, min_states: int = 2) -> list[tuple[dict, dict, bool]]:
    result = journeydsl.loads(text)
    assert result.ok, [d.message for d in result.diagnostics]
    out = []
    for persona in result.journey.persona_ids:
        chain = build_chain(result.journey, persona)
        _, timed, arrivals = totals(chain)
        n = timed.n
        both = [_merged(arrivals[s], arrivals[n + s]) for s in range(n)]
        count, labels = components(n, chain.move_row, chain.move_col)
        cyclic = np.bincount(labels, minlength=count)[labels] > 1
        targets = np.flatnonzero(cyclic).tolist()
        used = all(first_visits.through_hub(timed, np.flatnonzero(labels == label),
                                            [s for s in targets if labels[s] == label],
                                            both) is not None
                   for label in set(labels[targets].tolist()))
        new = first_visits.step_reach(timed, targets, labels, both, min_states=min_states)
        old = {s: first_visits.taboo_pass(timed, np.arange(n) == s) for s in targets}
        out.append((new, old, used))
    return out


@pytest.mark.parametrize("seed", range(24))
def test_hub_method_agrees_with_taboo_passes(seed):
    for new, old, used in _both_ways(hub_journey(seed, k=6 + seed % 7)):
        assert old, "the journey has a loop"
        assert used, "the hub method ran (not the fallback)"
        assert new.keys() == old.keys()
        for s in old:
            assert new[s] == pytest.approx(old[s], rel=1e-11, abs=1e-15), s


def test_loop_without_a_hub_falls_back_to_taboo_passes():
    """Returns to s0 from the first half, to s4 from the second: no hub."""
    lines = ['journey "Two ways back" {', "  horizon 30d", "  stage s {"]
    lines += [f"    touchpoint s{i}" for i in range(8)] + ["  }", "  entry s0", "  goal s7"]
    lines += [f"  s{i} -> s{i + 1} 80% after 1d, s{0 if i < 4 else 4} 10% after 2d"
              for i in range(7)]
    lines += ["  s7 -> s0 50% after 1d", "}"]
    [(new, old, used)] = _both_ways("\n".join(lines) + "\n")
    assert not used and len(old) == 8
    assert new == old


def test_big_loop_through_simulate_agrees_with_taboo_passes():
    """80 steps (over HUB_MIN_STATES: `simulate` takes the hub path itself)."""
    text = big_loop(80, "120d")
    [(new, old, used)] = _both_ways(text, min_states=first_visits.HUB_MIN_STATES)
    assert used and len(old) == 80
    for s in old:
        assert new[s] == pytest.approx(old[s], rel=1e-11, abs=1e-15)
    report = journeydsl.loads(text).simulate()
    reach = [row["reach"] for row in report.blended.steps.values()]
    assert reach == pytest.approx([old[s] for s in sorted(old)], rel=1e-11, abs=1e-15)


def test_ten_thousand_steps_in_seconds():
    """Issue 11: a 10,000-step loop under a horizon took hours (a taboo pass
    per step); a hang guard here, the figure is benchmarks/bench_horizon.py's."""
    result = journeydsl.loads(big_loop(10_000))
    start = time.process_time()
    report = result.simulate()
    assert time.process_time() - start < 60
    reach = [row["reach"] for row in report.blended.steps.values()]
    assert reach[0] == 1.0 and all(0 <= r <= 1 for r in reach)
    assert reach == sorted(reach, reverse=True)  # a chain: each step after the one before

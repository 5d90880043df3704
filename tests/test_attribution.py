"""Attribution: Markov removal effects per step and per channel.

Hand-computed journeys (two paths, two goals, two personas), shares that
sum to 1, channel grouping, and every removal of every example (horizon
removed, and with it) against a brute-force re-solve of the engine with
the removed steps made dead ends.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import journeydsl
from journeydsl.diagnostics import JourneyError
from journeydsl.simulate import simulate
from journeydsl.simulate.attribution import Attribution, attribution, remove
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))


def without_horizon(text: str) -> str:
    text = re.sub(r"^[ \t]*horizon\b.*$", "", text, flags=re.M)
    return re.sub(r"^[ \t]*expect\b.*$", "", text, flags=re.M)


def compiled_ok(text: str, path: str = "<string>"):
    """`path`: where the text's `use` lines are resolved from."""
    result = journeydsl.loads(text, path)
    assert result.ok, [d.message for d in result.errors]
    return result


TWO_PATHS = '''journey "two paths" {
  stage s1 { touchpoint a { channel x } ; touchpoint b { channel y } }
  stage s2 { touchpoint c { channel y } }
  stage s3 { touchpoint g { channel z } }
  entry a 50%, b 50%
  a -> g 20%
  b -> c 50%
  c -> g 40%
  goal g
}
'''


def test_two_paths_by_hand():
    result = attribution(compiled_ok(TWO_PATHS).journey)
    # conversion = 0.5 * 0.2 + 0.5 * 0.5 * 0.4 = 0.2; without a, b or c: 0.1; without g: 0
    assert result.conversion == pytest.approx(0.2)
    assert result.method == "exact" and result.persona is None
    effects = {k: r.removal_effect for k, r in result.steps.items()}
    assert effects == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5, "g": 1.0})
    assert {k: r.conversion_without for k, r in result.steps.items()} == pytest.approx(
        {"a": 0.1, "b": 0.1, "c": 0.1, "g": 0.0})
    # shares: effects / 2.5
    assert {k: r.share for k, r in result.steps.items()} == pytest.approx(
        {"a": 0.2, "b": 0.2, "c": 0.2, "g": 0.4})
    assert list(result.steps)[0] == "g"  # largest first
    # channels: y removes b and c at once (still 0.1 lost: one path)
    assert {k: r.removal_effect for k, r in result.channels.items()} == pytest.approx(
        {"x": 0.5, "y": 0.5, "z": 1.0})
    assert {k: r.share for k, r in result.channels.items()} == pytest.approx(
        {"x": 0.25, "y": 0.25, "z": 0.5})
    assert result.channels["y"].steps == ("b", "c")


def test_goal_steps_lose_the_conversions_reached_through_them_first():
    result = attribution(compiled_ok('''journey "two goals" {
      stage s { touchpoint a ; touchpoint g1 { channel shop } ; touchpoint g2 { channel shop } }
      entry a
      a -> g1 50%, g2 20%
      g1 -> g2 50%
      goal g1, g2
    }''').journey)
    # conversion 0.7; without g1: walks reaching g1 first end there -> 0.2;
    # without g2: only walks whose first goal is g2 are lost -> 0.5
    assert result.conversion == pytest.approx(0.7)
    assert result.steps["g1"].conversion_without == pytest.approx(0.2)
    assert result.steps["g2"].conversion_without == pytest.approx(0.5)
    assert result.steps["a"].removal_effect == pytest.approx(1.0)
    assert result.channels["shop"].conversion_without == pytest.approx(0.0)
    # the step without a channel is grouped under None
    assert result.channels[None].steps == ("a",)
    assert result.channels[None].removal_effect == pytest.approx(1.0)


def test_blended_over_personas_from_blended_conversion():
    personas = "  persona p { share 25% }\n  persona q { share 75% }\n  stage s1"
    text = TWO_PATHS.replace("  stage s1", personas).replace("a -> g 20%", "a -> g 20% [q: 60%]")
    compiled = compiled_ok(text)
    mix = attribution(compiled.journey)
    # p: conversion 0.2 (0.1 via a); q: 0.5 * 0.6 + 0.1 = 0.4 (0.3 via a)
    conversion = 0.25 * 0.2 + 0.75 * 0.4
    assert mix.conversion == pytest.approx(conversion)
    assert mix.conversion == pytest.approx(simulate(compiled.journey).blended.conversion)
    lost_a = 0.25 * 0.1 + 0.75 * 0.3
    assert mix.steps["a"].removal_effect == pytest.approx(lost_a / conversion)
    assert mix.steps["c"].removal_effect == pytest.approx(0.1 / conversion)
    q = attribution(compiled.journey, persona="q")
    assert q.persona == "q" and q.conversion == pytest.approx(0.4)
    assert q.steps["a"].removal_effect == pytest.approx(0.75)


def _brute_force(compiled, result: Attribution, scenario=None) -> None:
    graph = compiled.graph(scenario)
    variant = compiled.variant(scenario)
    shares = graph.graph["shares"] if result.persona is None else {result.persona: 1.0}
    chains = {p: build_chain(variant, p) for p in shares}
    where = {s: i for i, s in enumerate(graph.nodes)}
    base = sum(share * solve(chains[p]).conversion for p, share in shares.items())
    assert result.conversion == pytest.approx(base, rel=1e-9, abs=1e-14)
    for removal in list(result.steps.values()) + list(result.channels.values()):
        idx = [where[s] for s in removal.steps]
        # the engine re-run on the chain whose removed steps are dead ends that earn nothing
        solved = {p: solve(remove(chains[p], idx)) for p in shares}
        without = sum(share * solved[p].conversion for p, share in shares.items())
        assert removal.conversion_without == pytest.approx(without, rel=1e-9, abs=1e-13), removal
        for metric in ("revenue", "profit"):
            without = sum(share * getattr(solved[p], metric) for p, share in shares.items())
            assert getattr(removal, f"{metric}_without") == pytest.approx(
                without, rel=1e-9, abs=1e-9 * (1 + abs(getattr(result, metric)))), (metric, removal)
    for group in (result.steps, result.channels):
        if base > 0:
            assert sum(r.share for r in group.values()) == pytest.approx(1.0)
            effects = [r.removal_effect for r in group.values()]
            assert effects == sorted(effects, reverse=True)
            assert all(0 <= e <= 1 + 1e-12 for e in effects)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_exact_against_brute_force(path):
    compiled = compiled_ok(without_horizon(path.read_text(encoding="utf-8")), str(path))
    result = attribution(compiled.journey)
    assert result.method == "exact"
    assert set(result.steps) == set(compiled.graph().nodes)
    channels = {compiled.graph().nodes[s]["channel"] for s in compiled.graph().nodes}
    assert set(result.channels) == channels
    _brute_force(compiled, result)
    for scenario in compiled.model.scenarios:
        _brute_force(compiled, attribution(compiled.variant(scenario.id)), scenario.id)
    first = compiled.graph().graph["personas"][0]
    _brute_force(compiled, attribution(compiled.journey, persona=first))


def test_examples_with_their_horizon():
    for path in EXAMPLES[:2]:
        compiled = journeydsl.load(path)
        result = attribution(compiled.journey)
        assert result.method == "horizon"
        assert result.conversion == pytest.approx(simulate(compiled.journey).blended.conversion)
        _brute_force(compiled, result)


LOOPY = '''journey "loops" {
  persona a { share 40% }
  persona b { share 60% }
  stage top { touchpoint ad { channel paid } ; touchpoint blog { channel organic } }
  stage mid { touchpoint pricing { channel web } ; touchpoint demo { channel sales } ;
              touchpoint faq { channel web } }
  stage buy { touchpoint trial { channel product } ; touchpoint paying { channel product } }
  stage back { touchpoint winback { channel email } }
  entry ad 70% [b: 30%], blog 30% [b: 70%]
  ad -> pricing 10%, ad 5%
  blog -> pricing 15%, demo 3% [b: 0%], faq 5%
  pricing -> demo 8%, trial 20% [b: 10%], faq 10%
  faq -> pricing 30%, blog 10%
  demo -> trial 50%, pricing 20%
  trial -> paying 30%, demo 5%
  paying -> paying 90%, winback 4%
  winback -> paying 25%, pricing 10%
  goal trial, paying
}
'''


def test_loops_and_goal_region_against_brute_force():
    compiled = compiled_ok(LOOPY)
    _brute_force(compiled, attribution(compiled.journey))
    horizon = compiled_ok(LOOPY.replace('  persona a', '  horizon 90d\n  persona a'))
    result = attribution(horizon.journey)
    assert result.method == "horizon"
    _brute_force(horizon, result)


def test_both_channel_paths_agree(monkeypatch):
    """Channels are solved from columns of the base LU (first visits) when
    few steps are removed, by a new sparse LU of the taboo chain otherwise."""
    import journeydsl.simulate.removal_exact as module

    compiled = compiled_ok(LOOPY)
    low_rank = attribution(compiled.journey)
    monkeypatch.setattr(module, "_LOW_RANK", 0)
    refactored = attribution(compiled.journey)
    for name, removal in low_rank.channels.items():
        assert refactored.channels[name].conversion_without == pytest.approx(
            removal.conversion_without, rel=1e-12, abs=1e-15)
    _brute_force(compiled, refactored)


def test_random_journeys_against_brute_force():
    rng = np.random.default_rng(5)
    for trial in range(25):
        n = int(rng.integers(2, 9))
        lines = ['journey "r" {', "  stage s {"]
        lines += [f"    touchpoint t{i} {{ channel c{rng.integers(0, 3)} }}" for i in range(n)]
        lines += ["  }", "  entry t0"]
        for i in range(n):
            targets = sorted({int(j) for j in rng.integers(0, n, size=rng.integers(1, 4))})
            weights = rng.random(len(targets))
            weights = weights / weights.sum() * rng.uniform(0.2, 0.95)
            for j, w in zip(targets, weights):
                lines.append(f"  t{i} -> t{j} {max(0.001, round(float(w), 3))}")
        goals = sorted({int(j) for j in rng.integers(0, n, size=rng.integers(1, 3))})
        lines += ["  goal " + ", ".join(f"t{g}" for g in goals), "}"]
        compiled = journeydsl.loads("\n".join(lines))
        if not compiled.ok:
            continue
        _brute_force(compiled, attribution(compiled.journey))


def test_nothing_converts():
    result = attribution(compiled_ok('''journey "none" {
      stage s { touchpoint a ; touchpoint b ; touchpoint g }
      entry a
      a -> b 50%
      goal g
    }''').journey)
    assert result.conversion == 0.0
    assert all(r.removal_effect is None and r.share is None for r in result.steps.values())


def test_errors_and_dict():
    with pytest.raises(JourneyError):
        journeydsl.loads('journey "x" { entry nowhere }').attribution()
    compiled = compiled_ok(TWO_PATHS)
    with pytest.raises(KeyError):
        attribution(compiled.journey, persona="nobody")
    data = attribution(compiled.journey).as_dict()
    assert data["steps"]["g"] == {
        "conversion_without": 0.0, "removal_effect": 1.0, "share": pytest.approx(0.4),
        # the journey earns nothing: no money effect is defined
        "revenue_without": 0.0, "revenue_removal_effect": None, "revenue_share": None,
        "profit_without": 0.0, "profit_removal_effect": None, "profit_share": None,
        "steps": ["g"]}
    assert data["revenue"] == 0.0 and data["profit"] == 0.0


def _long_journey(steps: int = 320, channels: int = 7, seed: int = 3) -> str:
    """A journey over DENSE_LIMIT steps (sparse LUs in block order): short
    loops, goals inside channels (mid-way and at the end), values and costs."""
    rng = np.random.default_rng(seed)
    lines = ['journey "long" {', "  discount 10% per year", "  stage s {"]
    for i in range(steps):
        money = f"; value {int(rng.integers(10, 90))}" if i % 9 == 0 else ""
        lines.append(f"    touchpoint t{i} {{ channel c{i % channels}; cost 1.5{money} }}")
    lines += ["  }", "  entry t0 60%, t5 40%"]
    for i in range(steps - 1):
        moves = {i + 1: int(rng.integers(50, 60))}
        for _ in range(2):
            moves[min(steps - 1, i + int(rng.integers(2, 25)))] = int(rng.integers(8, 15))
        if i % 11 == 3:
            moves[max(0, i - int(rng.integers(0, 3)))] = 10  # a short loop (or a self-loop)
        lines.append(f"  t{i} -> " + ", ".join(f"t{j} {r}% after {1 + j % 5}d"
                                               for j, r in moves.items()))
    lines += [f"  goal t40, t{steps // 2}, t{steps - 3}, t{steps - 1}", "}"]
    return "\n".join(lines)


def test_channels_of_a_long_journey_against_brute_force():
    """The channels' first-visit formulas on SuperLU's columns (the small
    journeys above are solved densely) against re-solving without them."""
    compiled = compiled_ok(_long_journey())
    chain = build_chain(compiled.journey, compiled.journey.persona_ids[0])
    assert chain.n > 200
    result = attribution(compiled.journey)
    where = {s.id: i for i, s in enumerate(compiled.journey.steps)}
    assert result.conversion > 1e-3 and result.revenue > 0 and result.profit != 0
    for removal in result.channels.values():
        solved = solve(remove(chain, [where[s] for s in removal.steps]))
        assert removal.conversion_without == pytest.approx(solved.conversion, rel=1e-10)
        for metric in ("revenue", "profit"):
            assert getattr(removal, f"{metric}_without") == pytest.approx(
                getattr(solved, metric), rel=1e-10, abs=1e-10 * abs(getattr(result, metric)))

"""Levers: the effect of raising each transition rate by one step.

The step is 1pp, or what is left at the source step if less (half of it if
taking all of it would trap walks in a loop). Without a horizon a lever is
the exact change, from a fixed number of solves (Sherman-Morrison): every
lever of every example (baseline and scenarios, horizon removed) and of
hand-made journeys is checked against the exact engine re-run with the
rate raised by the lever's step. With a horizon it is the horizon engine
re-run with the rate raised, checked against an independent re-run (the
rate changed in the graph). Plus: hand-computed values, the bound on the
gain, the ranking, the "cannot rise" case, persona selection and errors.
"""

from __future__ import annotations

import copy
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeydsl
from journeydsl.diagnostics import JourneyError
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve
from journeydsl.simulate.lever_changes import _horizon_linear, raise_rate
from journeydsl.simulate.levers import Lever, levers
from journeydsl.simulate.results import blend

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
METRICS = {"d_conversion": "conversion", "d_revenue": "revenue", "d_cost": "cost",
           "d_profit": "profit", "d_clv": "clv"}


def without_horizon(text: str) -> str:
    """The journey with no horizon (and no expect lines, tuned to the horizon)."""
    text = re.sub(r"^[ \t]*horizon\b.*$", "", text, flags=re.M)
    return re.sub(r"^[ \t]*expect\b.*$", "", text, flags=re.M)


def compiled_ok(text: str, path: str = "<string>"):
    """`path`: where the text's `use` lines are resolved from."""
    result = journeydsl.loads(text, path)
    assert result.ok, [d.message for d in result.errors]
    return result


def _raised_metrics(graph, chain, u: str, v: str, by: float):
    """One persona's metrics with rate(u -> v) moved by `by` (chain algebra)."""
    s, t = chain.steps.index(u), chain.steps.index(v)
    return solve(raise_rate(chain, s, t, by, graph.edges[u, v]["delay_days"]))


def resolved_change(graph, lever: Lever, chains: dict, steps: dict) -> dict[str, float | None]:
    """The exact engine re-run with the rate raised by each persona's step
    (`steps[persona, source, target]`), less the engine on the journey."""
    shares = graph.graph["shares"]
    personas = list(shares) if lever.persona is None else [lever.persona]
    raised, base = {}, {}
    for p in personas:
        step = steps.get((p, lever.source, lever.target)) or 0.0
        raised[p] = _raised_metrics(graph, chains[p], lever.source, lever.target, step)
        base[p] = solve(chains[p])
    if lever.persona is None:
        up, down = blend(raised, shares), blend(base, shares)
    else:
        up, down = raised[lever.persona], base[lever.persona]
    out: dict = {}
    for field, metric in METRICS.items():
        a, b = getattr(up, metric), getattr(down, metric)
        out[field] = None if a is None or b is None else a - b
    # the size of the numbers whose rounding the re-run's difference carries
    size = max(abs(getattr(x, m) or 0.0) for x in (up, down) for m in METRICS.values())
    out["scale"] = {f: size for f in METRICS}
    # A solve's relative error is about machine epsilon times the condition of
    # I - Q, which grows with the expected visits of a step (a 99.5% loop
    # that only a 1e-12 rate leaves is visited ~1e8 times)
    visits = [v for x in (up, down) for v in (x.cohort_visits or {}).values()
              if v is not None and math.isfinite(v)]
    out["condition"] = max(visits, default=1.0)
    d_conv = abs(out["d_conversion"] or 0.0)
    out["clv_terms"] = (abs(down.clv or 0.0) * d_conv / up.conversion
                        if up.conversion and up.conversion > 0 else 0.0)
    return out


def assert_exact(result, scenario=None) -> int:
    graph = result.graph(scenario)
    variant = result.variant(scenario)
    chains = {p: build_chain(variant, p) for p in graph.graph["personas"]}
    found = levers(result.variant(scenario))
    steps = {(lv.persona, lv.source, lv.target): lv.step for lv in found if lv.persona}
    checked = 0
    for lever in found:
        assert lever.method == "exact"
        if not lever.movable:
            continue
        assert 0 < lever.step <= 0.01
        want = resolved_change(graph, lever, chains, steps)
        for field in METRICS:
            got, expected = getattr(lever, field), want[field]
            if expected is None:
                assert got is None
                continue
            # the re-run's difference of two totals carries their rounding
            rel = max(1e-9, 1e-15 * want["condition"])
            tol = rel * max(abs(got), abs(expected)) + 1e-11 * (1 + want["scale"][field])
            if field == "d_clv":
                # d_clv = (d E[M; conv.] - clv d conversion) / (conversion + d conversion):
                # a difference of two terms as large as clv times the relative
                # change of conversion (x500,000 when a 1 pp lever opens a
                # path beside a 1e-12 one): each is known to about 1e-8 of its
                # size there (the solves see a conversion of 1e-12), so is d_clv
                tol += 1e-7 * want["clv_terms"]
            assert abs(got - expected) <= tol, (lever, field, got, expected)
        checked += 1
    return checked


# ------------------------------------------------------------ derivatives


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_lever_is_the_exact_change(path):
    result = compiled_ok(without_horizon(path.read_text(encoding="utf-8")), str(path))
    checked = assert_exact(result)
    for scenario in result.model.scenarios:
        checked += assert_exact(result, scenario.id)
    assert checked > 0


LOOPS = '''journey "Loops and renewals" {
  currency USD
  discount 1% per month
  persona a { share 60% }
  persona b { share 40% }
  stage top { touchpoint ad { cost 2 } ; touchpoint blog { channel organic } }
  stage mid { touchpoint pricing { cost 1 } ; touchpoint demo { cost 30 [b: 60] } }
  stage buy { touchpoint trial { value 5 } ; touchpoint paying { value 49 [b: 99]; cost 6 } }
  stage back { touchpoint winback { cost 0.5 } ; touchpoint invite }
  entry ad 70% [b: 30%], blog 30% [b: 70%]
  ad -> pricing 10%, ad 5%
  blog -> pricing 15% after 2d, demo 3% [b: 0%]
  pricing -> demo 8% after 1w, trial 20% [b: 10%], blog 10%
  demo -> trial 50% after 3d, pricing 20%
  trial -> paying 30% after 14d, demo 5%
  paying -> paying 90% [b: 95%] after 1mo, winback 4%
  winback -> paying 25% after 1mo, pricing 10%
  paying => invite 0.02
  invite -> trial 40%
  goal trial, paying
}
'''


def test_hand_made_journey_with_loops_is_the_exact_change():
    result = compiled_ok(LOOPS)
    assert assert_exact(result) == 3 * 16  # mix and two personas, 16 transitions


def test_no_discount_and_rate_zero_override():
    # no discount: Qd = Q (the engine shares the factorization); `b` has
    # demo at 0%: its lever is opening the edge by 1pp
    result = compiled_ok(LOOPS.replace("  discount 1% per month\n", ""))
    assert assert_exact(result) == 3 * 16
    zero = [lv for lv in levers(result.journey, persona="b")
            if (lv.source, lv.target) == ("blog", "demo")]
    assert zero[0].rate == 0.0 and zero[0].movable and zero[0].d_conversion > 0


def test_linear_funnel_by_hand():
    result = compiled_ok('''journey "f" {
      stage s { touchpoint a ; touchpoint b { value 10 } ; touchpoint c { value 100; cost 4 } }
      entry a
      a -> b 40% -> c 50%
      goal c
    }''')
    found = {(lv.source, lv.target): lv for lv in levers(result.journey) if lv.persona is None}
    ab, bc = found["a", "b"], found["b", "c"]
    # conversion = 0.4 * 0.5; revenue = 0.4 * 10 + 0.2 * 100; cost = 0.2 * 4
    assert ab.d_conversion == pytest.approx(0.01 * 0.5)
    assert bc.d_conversion == pytest.approx(0.01 * 0.4)
    assert ab.d_revenue == pytest.approx(0.01 * (10 + 0.5 * 100))
    assert bc.d_revenue == pytest.approx(0.01 * 0.4 * 100)
    assert ab.d_cost == pytest.approx(0.01 * 0.5 * 4)
    # clv = (0.2 * 110) / 0.2 = 110 whatever a -> b; b -> c: E[V; conv] = 0.4 r 110,
    # conversion 0.4 r: clv stays 110, but E[V] of non-converters changes nothing
    assert ab.d_clv == pytest.approx(0.0, abs=1e-12)
    assert bc.d_clv == pytest.approx(0.0, abs=1e-12)
    assert [lv.method for lv in (ab, bc)] == ["exact", "exact"]


def test_lever_from_a_goal_step_changes_money_not_conversion():
    result = compiled_ok('''journey "renew" {
      discount 10% per year
      stage s { touchpoint a ; touchpoint paying { value 50 } }
      entry a
      a -> paying 20%
      paying -> paying 80% after 1mo
      goal paying
    }''')
    renew = next(lv for lv in levers(result.journey)
                 if (lv.source, lv.target) == ("paying", "paying") and lv.persona is None)
    assert renew.d_conversion == 0.0
    assert renew.d_revenue > 0 and renew.d_clv > 0
    assert_exact(result)


# ------------------------------------------------------------ ranking, movable


RANKED = '''journey "r" {
  stage s { touchpoint a ; touchpoint b ; touchpoint c { value 10 } ; touchpoint d { value 1 } }
  entry a
  a -> b 60%, c 40%
  b -> c 10%, d 50%
  goal c, d
}
'''


def test_ranking_and_cannot_rise():
    result = compiled_ok(RANKED)
    mix = [lv for lv in levers(result.journey) if lv.persona is None]
    # a is at 100%: both of its levers cannot move, and come last
    assert [(lv.source, lv.target, lv.movable) for lv in mix[-2:]] == [
        ("a", "b", False), ("a", "c", False)]
    for lv in mix[-2:]:
        assert lv.d_conversion is lv.d_revenue is lv.d_cost is lv.d_profit is lv.d_clv is None
    movable = mix[:-2]
    assert all(lv.movable for lv in movable)
    keys = [(lv.d_revenue, lv.d_conversion) for lv in movable]
    assert keys == sorted(keys, reverse=True)
    # b -> c: +0.006 revenue per +1pp (0.6 visits to b, value 10); b -> d: +0.006 * 0.1
    assert [(lv.source, lv.target) for lv in movable] == [("b", "c"), ("b", "d")]
    assert movable[0].d_revenue == pytest.approx(0.01 * 0.6 * 10)
    assert movable[1].d_revenue == pytest.approx(0.01 * 0.6 * 1)
    # both convert the same: ties on conversion broken by revenue only
    assert movable[0].d_conversion == pytest.approx(movable[1].d_conversion)


def test_groups_blend_then_personas_and_persona_filter():
    result = compiled_ok(LOOPS)
    every = levers(result.journey)
    personas = [lv.persona for lv in every]
    assert personas == [None] * 16 + ["a"] * 16 + ["b"] * 16
    only_b = levers(result.journey, persona="b")
    assert only_b == [lv for lv in every if lv.persona == "b"]
    # the mix: share-weighted conversion and revenue changes
    by = {(lv.persona, lv.source, lv.target): lv for lv in every}
    for (persona, u, v), lv in by.items():
        if persona is None and lv.movable:
            a, b = by["a", u, v], by["b", u, v]
            assert lv.d_conversion == pytest.approx(
                0.6 * a.d_conversion + 0.4 * b.d_conversion, rel=1e-12, abs=1e-15)
            assert lv.rate == pytest.approx(0.6 * a.rate + 0.4 * b.rate)


def test_mix_moves_only_personas_that_can_rise():
    result = compiled_ok('''journey "m" {
      persona x { share 50% }
      persona y { share 50% }
      stage s { touchpoint a ; touchpoint b ; touchpoint c }
      entry a
      a -> b 100% [y: 50%]
      b -> c 50%
      goal c
    }''')
    by = {(lv.persona, lv.source, lv.target): lv for lv in levers(result.journey)}
    assert not by["x", "a", "b"].movable
    assert by["y", "a", "b"].d_conversion == pytest.approx(0.01 * 0.5)
    assert by[None, "a", "b"].movable
    assert by[None, "a", "b"].d_conversion == pytest.approx(0.5 * 0.01 * 0.5)
    assert_exact(result)


def test_errors():
    with pytest.raises(JourneyError):
        journeydsl.loads('journey "x" { entry nowhere }').levers()
    result = compiled_ok(RANKED)
    with pytest.raises(KeyError):
        levers(result.journey, persona="nobody")
    with pytest.raises(KeyError):
        levers(result.variant("nothing"))


def test_as_dict():
    lever = levers(compiled_ok(RANKED).journey)[0]
    data = lever.as_dict()
    assert list(data) == ["source", "target", "persona", "rate", "movable", "step",
                          "d_conversion",
                          "d_revenue", "d_cost", "d_profit", "d_clv", "method"]


# ------------------------------------------------------------ horizon


HORIZON = '''journey "h" {
  discount 10% per year
  horizon 60d
  persona p { share 30% }
  persona q { share 70% }
  stage s { touchpoint a { cost 1 } ; touchpoint b ; touchpoint c { value 20; cost 2 } }
  entry a
  a -> b 50% after 10d, a 20% after 7d
  b -> c 30% [q: 89.5%] after 20d, a 10% after 5d
  c -> c 60% after 30d
  goal c
}
'''


def _rerun(graph, persona: str, u: str, v: str, up: float) -> dict:
    """The horizon engine on a copy of the graph with rate(u -> v) raised
    (its chain read from the edited graph's edges, independently of the
    engine's own `raise_rate`)."""
    from test_exact import chain_from_edges

    changed = copy.deepcopy(graph)
    changed.edges[u, v]["rate"][persona] += up
    return _horizon_linear(chain_from_edges(changed, persona))


def test_horizon_levers_are_rerun_effects():
    result = compiled_ok(HORIZON)
    graph = result.graph()
    variant = result.variant()
    shares = graph.graph["shares"]
    every = levers(result.journey)
    assert {lv.method for lv in every} == {"resolve"}
    base = {p: _horizon_linear(build_chain(variant, p)) for p in shares}
    for lv in every:
        if lv.persona is None:
            continue
        remainder = build_chain(variant, lv.persona).stop[list(graph.nodes).index(lv.source)]
        up = min(0.01, remainder)
        assert lv.step == pytest.approx(up, rel=1e-12)
        raised = _rerun(graph, lv.persona, lv.source, lv.target, up)
        scale = 1.0
        assert lv.d_conversion == pytest.approx(
            (raised["conversion"] - base[lv.persona]["conversion"]) * scale, abs=1e-13)
        assert lv.d_revenue == pytest.approx(
            (raised["revenue"] - base[lv.persona]["revenue"]) * scale, abs=1e-12)
        assert lv.d_cost == pytest.approx(
            (raised["cost"] - base[lv.persona]["cost"]) * scale, abs=1e-12)
    # b at 99.5% for q: raised by the 0.5pp left
    qb = next(lv for lv in every if (lv.persona, lv.source, lv.target) == ("q", "b", "c"))
    assert qb.movable and qb.d_conversion > 0


def test_horizon_forward_pass_matches_the_full_solve():
    """`_horizon_linear` (levers' cheaper horizon pass) gives solve()'s numbers."""
    for path in EXAMPLES[:2]:
        result = journeydsl.load(path)
        report = simulate(result.journey)
        graph = result.graph()
        variant = result.variant()
        for persona, metrics in report.personas.items():
            fast = _horizon_linear(build_chain(variant, persona))
            for key, value in fast.items():
                assert value == pytest.approx(getattr(metrics, key), rel=1e-12, abs=1e-12)


def test_long_horizon_agrees_with_the_exact_change_on_an_acyclic_journey():
    # a horizon longer than any walk: the re-run gives the exact change
    text = '''journey "acyclic" {
      discount 5% per year
      HORIZON
      stage s { touchpoint a { cost 1 } ; touchpoint b { cost 2 } ; touchpoint c { value 30 } }
      entry a 70%, b 30%
      a -> b 40% after 3d, c 10% after 2d
      b -> c 25% after 4d
      goal c
    }'''
    exact = levers(compiled_ok(text.replace("HORIZON", "")).journey)
    cut = levers(compiled_ok(text.replace("HORIZON", "horizon 1y")).journey)
    assert [(lv.source, lv.target, lv.persona) for lv in exact] == [
        (lv.source, lv.target, lv.persona) for lv in cut]
    for a, b in zip(exact, cut):
        assert a.method == "exact" and b.method == "resolve"
        for field in ("d_conversion", "d_revenue", "d_cost", "d_profit"):
            assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-9, abs=1e-14)


# ------------------------------------------------------------ bounds and extremes


def test_gain_is_bounded_by_what_is_left():
    # conversion 20%; the first derivative would say +200pp for +1pp on a -> b,
    # but only 0.4pp is left at a: raising by it converts everybody
    result = compiled_ok('''journey "loop" {
      stage s { touchpoint a ; touchpoint b ; touchpoint paying { value 100 } }
      entry a
      a -> a 99.5%, b 0.1%
      b -> paying 100%
      goal paying
    }''')
    assert simulate(result.journey).blended.conversion == pytest.approx(0.2)
    for lv in levers(result.journey):
        if lv.movable:
            assert lv.step == pytest.approx(0.004)
            assert lv.d_conversion == pytest.approx(0.8)
            assert lv.d_revenue == pytest.approx(80.0)
    assert assert_exact(result) == 4


@pytest.mark.parametrize("horizon", ["", "horizon 1y"])
def test_a_step_that_would_trap_walks_takes_half_of_what_is_left(horizon):
    # a -> a can take the 0.01% left at a only by trapping walks at a forever
    result = compiled_ok(f'''journey "trap" {{
      {horizon}
      stage s {{ touchpoint start ; touchpoint a {{ value 1 }} ; touchpoint paying {{ value 10 }} }}
      entry start
      start -> a 50%, paying 10% after 1d
      a -> a 99.99%
      paying -> paying 50% after 1mo
      goal paying
    }}''')
    found = {(lv.persona, lv.source, lv.target): lv for lv in levers(result.journey)}
    loop = found[None, "a", "a"]
    assert loop.step == pytest.approx(0.00005)  # half of the 0.01% left
    assert loop.d_revenue > 0 and loop.d_conversion == 0
    assert found[None, "start", "paying"].step == pytest.approx(0.01)
    if not horizon:
        assert_exact(result)
        # visits to a: 0.5 / 0.0001 before, 0.5 / 0.00005 after
        assert loop.d_revenue == pytest.approx(0.5 / 0.00005 - 0.5 / 0.0001)


def test_levers_of_a_tiny_conversion_stay_exact():
    steps = " ; ".join(f"touchpoint s{i}" for i in range(20))
    flows = "\n".join(f"  s{i} -> s{i + 1} 0.0000001%" for i in range(19))
    result = compiled_ok(f'''journey "tiny" {{
      stage a {{ {steps} ; touchpoint paying {{ value 100 }} }}
      entry s0
    {flows}
      s19 -> paying 0.0000001%
      goal paying
    }}''')
    conversion = simulate(result.journey).blended.conversion
    assert conversion == pytest.approx(1e-180, rel=1e-12)
    for lv in levers(result.journey):
        if lv.movable and lv.persona is None:
            # each rate 1e-9 raised by 0.01: conversion times (1e-9 + 0.01) / 1e-9
            assert lv.d_conversion == pytest.approx(conversion * 0.01 / 1e-9, rel=1e-9)
            assert lv.d_clv == pytest.approx(0.0, abs=1e-9)


_RATES = st.sampled_from([0.0, 1e-12, 1e-6, 0.001, 0.05, 0.2, 0.5, 0.9, 0.995, 0.9999])


@st.composite
def _loopy(draw):
    """A small journey with loops, extreme rates, discounting and values."""
    n = draw(st.integers(2, 5))
    lines = []
    for i in range(n):
        targets = draw(st.lists(st.integers(0, n), min_size=1, max_size=3, unique=True))
        rates = [draw(_RATES) for _ in targets]
        total = sum(rates)
        if total > 0.9999:
            rates = [r * 0.9999 / total for r in rates]
        arrows = ", ".join(f"{'goal_' if t == n else 's'}{t if t < n else ''} {r * 100:.10f}%"
                           f" after {draw(st.integers(0, 40))}d" for t, r in zip(targets, rates))
        lines.append(f"  s{i} -> {arrows}")
    renew = draw(_RATES)
    discount = draw(st.sampled_from(["", "discount 10% per year"]))
    steps = " ; ".join(f"touchpoint s{i} {{ value {draw(st.integers(0, 50))}; cost 1 }}"
                       for i in range(n))
    return f'''journey "loopy" {{
  {discount}
  stage a {{ {steps} ; touchpoint goal_ {{ value 30 }} }}
  entry s0
{chr(10).join(lines)}
  goal_ -> goal_ {min(renew, 0.99) * 100:.10f}% after 30d
  goal goal_
}}'''


# Derandomized (a fixed set of examples, as in test_properties_engines.py),
# so that CI gives the same answer every run; JOURNEY_FUZZ_EXAMPLES=N with a
# random seed (`--hypothesis-seed`) explores further.
@settings(max_examples=int(os.environ.get("JOURNEY_FUZZ_EXAMPLES", "60")), deadline=None,
          derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_loopy())
def test_generated_levers_are_exact_changes(text):
    result = journeydsl.loads(text)
    if not result.ok:  # a closed loop or a dead end the generator made: not a lever case
        return
    assert_exact(result)
    report = simulate(result.journey)
    for lv in levers(result.journey):
        if lv.movable and lv.persona is None:
            assert 0 <= report.blended.conversion + lv.d_conversion <= 1 + 1e-12


def test_d_clv_of_a_pre_conversion_self_loop_at_a_conversion_of_5e_20():
    # found by the generated test: raising s2 -> s2 (0%, 0 days, before
    # converting) leaves CLV unchanged (re-solved: exactly 0); the levers'
    # closed form gave -4.7e-7 on a CLV of 29.87 (the visits back to s2
    # through a goal step were a difference of two totals near 1, whose
    # rounding times the cost from s2 on outweighed a converted profit of 1e-18)
    result = compiled_ok('''journey "loopy" {
      discount 10% per year
      stage a { touchpoint s0 { value 0; cost 1 } ; touchpoint s1 { value 0; cost 1 }
                touchpoint s2 { value 0; cost 1 } ; touchpoint s3 { value 0; cost 1 }
                touchpoint goal_ { value 30 } }
      entry s0
      s0 -> s3 0%, s2 0.0001%, s0 0%
      s1 -> s0 0.0001%, s1 0%, goal_ 0.0000000001%
      s2 -> s2 0%, s1 5% after 16d, s0 0%
      s3 -> s0 0%
      goal_ -> goal_ 0% after 30d
      goal goal_
    }''')
    assert assert_exact(result) > 0
    loop = next(lv for lv in levers(result.journey) if (lv.source, lv.target) == ("s2", "s2"))
    clv = simulate(result.journey).blended.clv
    assert abs(loop.d_clv) <= 1e-14 * clv


def test_levers_under_a_horizon_beside_a_loop_nobody_leaves():
    # `loop -> loop 100%` is legal under a horizon (only the horizon ends it);
    # its block of I - M is singular, and no lever of the steps that can end
    # a walk needs it (was: LinAlgError, exit 3)
    result = compiled_ok('''journey "closed" {
      horizon 30d
      stage s { touchpoint a ; touchpoint b ; touchpoint loop ; touchpoint paid { value 10 } }
      entry a
      a -> b 34%, a 34% after 1mo, paid 10% after 1d
      b -> loop 0.0001%, a 50% after 1d
      loop -> loop 100% after 0.00027777777778h
      goal paid
    }''')
    found = {(lv.source, lv.target): lv for lv in levers(result.journey) if lv.persona is None}
    assert not found["loop", "loop"].movable
    chain = build_chain(result.journey, "default")
    base = _horizon_linear(chain)
    for (u, v), lever in found.items():
        if not lever.movable:
            continue
        s, t = chain.steps.index(u), chain.steps.index(v)
        delay = result.graph().edges[u, v]["delay_days"]
        raised = _horizon_linear(raise_rate(chain, s, t, lever.step, delay))
        assert lever.d_conversion == pytest.approx(raised["conversion"] - base["conversion"],
                                                   abs=1e-15), (u, v)


def test_levers_rank_by_the_chosen_metric_and_name_each_stage_best():
    from journeydsl.simulate.levers import RANKINGS, best_by_stage

    journey = journeydsl.load(REPO / "examples" / "lifecycle_activities.journey").journey
    stage_of = {s.id: s.stage for s in journey.steps}
    for by in RANKINGS:
        found = [lv for lv in levers(journey, by=by) if lv.persona is None]
        movable = [lv for lv in found if lv.movable]
        values = [getattr(lv, f"d_{by}") for lv in movable]
        values = [v if v is not None else -math.inf for v in values]
        assert values == sorted(values, reverse=True), by
        best = best_by_stage(found, stage_of)
        for stage, lever in best.items():
            first = next(lv for lv in movable if stage_of[lv.source] == stage)
            assert lever is first
    by_clv = best_by_stage([lv for lv in levers(journey, by="clv") if lv.persona is None],
                           stage_of)
    assert next(iter(by_clv)) == "after_purchase"  # the example's seed question
    assert by_clv["after_purchase"][:2] == ("first_service", "service_plan")


def test_a_loop_left_only_by_a_tiny_rate_is_a_trap_too():
    # taking all that is left (0.01 pp) would leave the loop only by a rate of
    # 1e-12, whose value next to 100% is set by the last digits of the rate:
    # the lever takes half, and equals the re-run (was 2e-5 off, d_conversion > 1)
    result = compiled_ok("""journey "Lever precision" {
  stage a {
    touchpoint s0 { channel web; cost 1 }
    touchpoint s1 { channel web; value 10 }
  }
  entry s0
  goal s1
  s0 -> s0 99.9899999999%
  s0 -> s1 0.0000000001%
}""")
    assert assert_exact(result) == 4
    loop = next(lv for lv in levers(result.journey) if lv.target == "s0")
    assert loop.step == pytest.approx(0.5e-4, rel=1e-6) and loop.d_conversion < 1


def test_every_step_a_goal_has_levers_of_money_only():
    # walks enter converted: the unconverted steps (the loops' block the
    # levers solve for the time to convert) are none (was IndexError, exit 3)
    text = """journey "all goals" {
  stage s { touchpoint a { value 10 }; touchpoint b { value 5 } }
  entry a
  a -> a 50%, b 20%
  goal a, b
}
"""
    journey = journeydsl.loads(text).journey
    assert journey is not None
    found = {(lever.source, lever.target): lever for lever in levers(journey)}
    assert set(found) == {("a", "a"), ("a", "b")}
    for lever in found.values():  # conversion is already 100%: nothing to gain
        assert lever.d_conversion == 0.0
        # revenue per prospect: V(a) = 10 / (1 - p_aa) + 5 p_ab / (1 - p_aa)
        # (no discount); each lever takes its step from the remainder at a
        p_aa, p_ab = 0.5 + (lever.step if lever.target == "a" else 0.0), \
            0.2 + (lever.step if lever.target == "b" else 0.0)
        assert lever.d_revenue == pytest.approx((10 + 5 * p_ab) / (1 - p_aa) - (10 + 1) / 0.5,
                                                rel=1e-9)


def test_a_loop_visited_1e8_times_is_checked_at_its_precision():
    # found by hypothesis: s0 -> s0 99.5% and s0 -> s1 -> s0 leave the loop
    # only by 1e-12; the lever's change of cost (~2e8 visits) and the
    # re-run's agree to the solve's precision, ~1e-8 relative, not 1e-9
    result = compiled_ok('''journey "loopy" {
  stage a { touchpoint s0 { value 0; cost 1 } ; touchpoint s1 { value 0; cost 1 } ; touchpoint goal_ { value 30 } }
  entry s0
  s0 -> s1 0.0001000000% after 0d, s0 99.5000000000% after 0d, goal_ 0.0000000001% after 0d
  s1 -> s0 99.5000000000% after 0d
  goal_ -> goal_ 0.0000000000% after 30d
  goal goal_
}''')
    assert assert_exact(result) > 0


def test_opening_a_path_beside_a_1e_12_conversion_keeps_clv_exact():
    # found by hypothesis: conversion 1e-12, a lever opening s1 -> s0 (rate 0)
    # changes conversion by 5e-14; d_clv is a difference of two terms of size
    # clv x 5%, checked to 1e-7 of them (it came out -5.9e-9 against 1e-14:
    # 2e-9 of the clv)
    result = compiled_ok('''journey "loopy" {
  discount 10% per year
  stage a { touchpoint s0 { value 0; cost 1 } ; touchpoint s1 { value 0; cost 1 } ; touchpoint s2 { value 0; cost 1 } ; touchpoint goal_ { value 30 } }
  entry s0
  s0 -> s0 90.0000000000% after 0d, goal_ 0.0000000001% after 1d, s1 5.0000000000% after 0d
  s1 -> s0 0.0000000000% after 0d
  s2 -> s0 0.0000000000% after 0d
  goal_ -> goal_ 0.0000000000% after 30d
  goal goal_
}''')
    assert assert_exact(result) > 0

"""The exact engine against closed forms and an independent computation.

Two independent methods must agree: the absorbing-chain algebra (no
horizon) and the time-grid recursion (with a horizon long enough that
nothing is left). Closed forms pin both.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import journeydsl
from journeydsl.metrics import EXPECTATIONS
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve


def compile_ok(text: str):
    result = journeydsl.loads(text)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result


def metrics(text: str, persona: str | None = None):
    result = compile_ok(text)
    report = simulate(result.journey)
    return report.personas[persona] if persona else report.blended


FUNNEL = """journey "funnel" {
  stage a { touchpoint x { cost 2 } }
  stage b { touchpoint y { value 10 } }
  stage c { touchpoint z { value 100 } }
  entry x
  x -> y 40% after 2d
  y -> z 25% after 3d
  goal z
}"""


def test_linear_funnel_is_the_product_of_rates_and_time_the_sum_of_delays():
    m = metrics(FUNNEL)
    assert m.conversion == pytest.approx(0.4 * 0.25)
    assert m.time_to_convert == pytest.approx(5.0)
    assert m.revenue == pytest.approx(0.4 * 10 + 0.1 * 100)
    assert m.cost == pytest.approx(2.0)
    assert m.cac == pytest.approx(2.0 / 0.1)
    # E[V | converted]: a converter earns 10 at y and 100 at z
    assert m.clv == pytest.approx(110.0)
    assert m.ltv_cac == pytest.approx(110.0 / 20.0)


def test_implicit_dropoff_is_the_remainder_of_outgoing_rates():
    m = metrics(FUNNEL)
    assert m.steps["x"]["dropoff"] == pytest.approx(0.6)
    assert m.steps["y"]["dropoff"] == pytest.approx(0.4 * 0.75)
    assert m.steps["z"]["churn"] == pytest.approx(0.1)  # ends at the goal it reached
    assert m.steps["z"]["dropoff"] == 0.0
    assert m.stages["b"] == pytest.approx({"reach": 0.4, "dropoff": 0.3, "churn": 0.0,
                                           "revenue": 4.0, "cost": 0.0, "profit": 4.0})
    total_end = sum(s["dropoff"] + s["churn"] for s in m.steps.values())
    assert total_end == pytest.approx(1.0)


GUPTA_LEHMANN = """journey "gl" {
  discount 10% per year
  stage s { touchpoint buy { value 100 } }
  entry buy
  buy -> buy 80% after 1y
  goal buy
}"""

GUPTA_LEHMANN_RENEWALS = """journey "gl2" {
  discount 10% per year
  stage s { touchpoint signup; touchpoint renew { value 100 } }
  entry signup
  signup -> renew 80% after 1y
  renew -> renew 80% after 1y
  goal signup
}"""


def test_gupta_lehmann_clv_with_margin_on_arrival():
    # m (1 + d) / (1 + d - r) = 100 * 1.1 / 0.3
    assert metrics(GUPTA_LEHMANN).clv == pytest.approx(366.6667, abs=1e-3)


def test_gupta_lehmann_clv_with_margin_only_on_renewals():
    # m r / (1 + d - r) = 100 * 0.8 / 0.3
    assert metrics(GUPTA_LEHMANN_RENEWALS).clv == pytest.approx(266.6667, abs=1e-3)


def test_kemeny_snell_expected_visits():
    # A 3-state transient chain; N = (I - Q)^-1 computed independently.
    text = """journey "ks" {
      stage s { touchpoint a; touchpoint b; touchpoint c }
      entry a
      a -> b 50%, c 20%
      b -> a 30%, c 40%
      c -> a 10%, b 10%
      goal c
    }"""
    q = np.array([[0, 0.5, 0.2], [0.3, 0, 0.4], [0.1, 0.1, 0]])
    n = np.linalg.inv(np.eye(3) - q)
    m = metrics(text)
    for i, step in enumerate("abc"):
        assert m.steps[step]["visits"] == pytest.approx(n[0, i])
        # reach = visits / expected visits from the step itself
        assert m.steps[step]["reach"] == pytest.approx(n[0, i] / n[i, i])


def test_referral_loop_gives_one_over_one_minus_k_customers_per_seed():
    k_rate, conv = 0.6, 0.5  # each customer refers 0.6; half of referred convert
    text = f"""journey "viral" {{
      stage s {{ touchpoint lead; touchpoint customer }}
      entry lead
      lead -> customer {conv * 100:g}%
      customer => lead {k_rate}
      goal customer
    }}"""
    m = metrics(text)
    k = conv * k_rate
    assert m.viral_coefficient == pytest.approx(k)
    assert m.cohort["customers"] == pytest.approx(conv / (1 - k))
    assert m.cohort["prospects"] == pytest.approx(1 / (1 - k))


def test_twelve_month_horizon_counts_twelve_monthly_payments():
    text = """journey "h" {
      horizon 12mo
      stage s { touchpoint pay { value 10 } }
      entry pay
      pay -> pay 90% after 1mo
      goal pay
    }"""
    m = metrics(text)
    assert m.revenue == pytest.approx(sum(10 * 0.9 ** k for k in range(12)))
    assert m.active_at_horizon == pytest.approx(0.9 ** 12)
    assert m.steps["pay"]["churn"] == pytest.approx(1 - 0.9 ** 12)
    assert m.steps["pay"]["visits"] == pytest.approx(sum(0.9 ** k for k in range(12)))


def test_a_referral_arriving_at_the_horizon_does_not_count():
    text = """journey "cut" {
      horizon 10d
      stage s { touchpoint a; touchpoint b }
      entry a
      a -> b 100% after 5d
      b => a 1 after 5d
      goal b
    }"""
    m = metrics(text)
    assert m.viral_coefficient == 0.0  # b at day 5 refers at day 10 = H
    assert m.cohort["prospects"] == 1.0


def test_blended_clv_is_not_the_average_of_the_personas_clv():
    text = """journey "mix" {
      persona small { share 50% }
      persona big { share 50% }
      stage s { touchpoint visit; touchpoint buy { value 10 [big: 1000] } }
      entry visit
      visit -> buy 50% [big: 1%]
      goal buy
    }"""
    report = simulate(compile_ok(text).journey)
    small, big, blended = report.personas["small"], report.personas["big"], report.blended
    assert small.clv == pytest.approx(10) and big.clv == pytest.approx(1000)
    expected = (0.5 * 0.5 * 10 + 0.5 * 0.01 * 1000) / (0.5 * 0.5 + 0.5 * 0.01)
    assert blended.clv == pytest.approx(expected)
    assert blended.clv != pytest.approx((small.clv + big.clv) / 2)
    assert blended.conversion == pytest.approx(0.5 * 0.5 + 0.5 * 0.01)


def test_entering_at_a_goal_converts_at_time_zero():
    text = """journey "direct" {
      stage s { touchpoint web; touchpoint store { value 5 } }
      entry web 70%, store 30%
      web -> store 10% after 4d
      goal store
    }"""
    m = metrics(text)
    assert m.conversion == pytest.approx(0.3 + 0.07)
    assert m.time_to_convert == pytest.approx(0.07 * 4 / 0.37)


LOOPY = """journey "loopy" {
  %s
  discount 12%% per year
  margin 70%%
  stage a { touchpoint x { cost 1; value 1 }; touchpoint q { value 1; margin 20%% } }
  stage b { touchpoint y { value 5; cost 3; channel web } }
  stage c { margin 40%%
    touchpoint z { value 50; cost 12; channel web } }
  entry x 90%%, q 10%%
  x -> y 40%% after 2d, q 10%%
  y -> z 25%% after 3d, x 10%% after 1d
  z -> z 80%% after 30d
  q -> q 20%%
  q -> x 5%%
  z => x 0.3 after 5d
  y => z 0.05
  goal z
}"""


def test_time_grid_recursion_agrees_with_the_algebra_on_a_long_horizon():
    algebra = metrics(LOOPY % "")
    grid = metrics(LOOPY % "horizon 80y")
    for key in EXPECTATIONS:
        if key != "active_at_horizon":
            assert getattr(grid, key) == pytest.approx(getattr(algebra, key), rel=1e-9,
                                                       abs=1e-12), key
    assert grid.payback == algebra.payback > 0
    assert list(grid.channels) == list(algebra.channels) == ["", "web"]
    for channel, money in algebra.channels.items():
        assert grid.channels[channel] == pytest.approx(money, rel=1e-9)
    assert list(grid.by_entry) == list(algebra.by_entry) == ["x", "q"]
    for step, entry in algebra.by_entry.items():
        assert grid.by_entry[step].values == pytest.approx(entry.values, rel=1e-9, abs=1e-12)
        assert grid.by_entry[step].payback == entry.payback
    for step in algebra.steps:
        assert grid.steps[step] == pytest.approx(algebra.steps[step], rel=1e-9, abs=1e-12)
    for stage in algebra.stages:
        assert grid.stages[stage] == pytest.approx(algebra.stages[stage], rel=1e-9, abs=1e-12)
    assert grid.cohort == pytest.approx(algebra.cohort, rel=1e-9)
    assert grid.active_at_horizon == pytest.approx(0.0, abs=1e-9)


def test_discounting_per_month_and_per_year_are_the_same_rule():
    monthly = metrics(GUPTA_LEHMANN.replace("10% per year", "1% per month"))
    per_day = (1.01) ** (-1 / 30)
    r, m = 0.8, 100
    expected = m / (1 - r * per_day ** 365)
    assert monthly.clv == pytest.approx(expected)


def test_every_example_has_consistent_probabilities():
    from pathlib import Path

    for path in sorted(Path(__file__).parents[1].glob("examples/*.journey")):
        result = journeydsl.load(path)
        report = simulate(result.journey)
        for m in list(report.personas.values()) + [report.blended]:
            ended = sum(s["dropoff"] + s["churn"] for s in m.steps.values())
            assert ended + m.active_at_horizon == pytest.approx(1.0), path
            assert 0 <= m.conversion <= 1
            for row in m.steps.values():
                assert -1e-12 <= row["reach"] <= 1 + 1e-12
                assert row["reach"] <= row["visits"] + 1e-9
            if m.conversion > 0:
                assert m.clv is not None and not math.isnan(m.clv)


def test_chain_of_the_saas_example_has_rows_summing_to_at_most_one():
    result = journeydsl.load(__import__("pathlib").Path(__file__).parents[1]
                             / "examples" / "saas_trial.journey")
    for persona in result.journey.persona_ids:
        chain = build_chain(result.journey, persona)
        rows = np.asarray(chain.rates.sum(axis=1)).ravel()
        assert (rows <= 1 + 1e-12).all()
        assert chain.entry.sum() == pytest.approx(1.0)
        assert solve(chain).conversion > 0



# ---------------------------------------------------------------- the chain


def chain_from_edges(graph, persona: str):
    """The chain from a walk over the networkx graph's edges: an independent
    reference for the array build from the compiled journey's numbers."""
    from journeydsl.language.model import PERIOD_DAYS
    from journeydsl.simulate.chain import Chain

    nodes = graph._node
    steps = list(nodes)
    where = {s: i for i, s in enumerate(steps)}
    n = len(steps)
    rows, cols, rates, delays = [], [], [], []
    ref_rows, ref_cols, amounts, ref_delays = [], [], [], []
    uncertain, drawn = {}, {}
    for u, targets in graph._adj.items():
        i = where[u]
        for v, d in targets.items():
            rate = d["rate"]
            if rate is not None and rate[persona] > 0:
                j = where[v]
                rows.append(i)
                cols.append(j)
                rates.append(rate[persona])
                delays.append(d["delay_days"])
                if persona in d["uncertain"]:  # (each prospect's own, or one for all)
                    amount = d["uncertain"][persona]
                    (drawn if amount.per_customer else uncertain)[(i, j)] = amount
            referral = d["referral"]
            if referral is not None and referral[persona] > 0:
                ref_rows.append(i)
                ref_cols.append(where[v])
                amounts.append(referral[persona])
                ref_delays.append(d["referral_delay_days"])
    discount = graph.graph["discount"]
    factor = (1.0 + discount[0]) ** (-1.0 / PERIOD_DAYS[discount[1]]) if discount else 1.0
    order = np.lexsort((cols, rows))
    ref_order = np.lexsort((ref_cols, ref_rows))

    def sorted_(values, how, dtype=float):
        return np.asarray(values, dtype)[how] if len(values) else np.zeros(0, dtype)

    data = [nodes[s] for s in steps]

    def per_step(key):
        return np.array([(d[key] or {}).get(persona, 0.0) for d in data], float)

    return Chain(persona=persona, steps=steps, stage_of=[d["stage"] for d in data],
                 move_row=sorted_(rows, order, np.int64), move_col=sorted_(cols, order, np.int64),
                 move_rate=sorted_(rates, order), move_delay=sorted_(delays, order),
                 value=per_step("value"), cost=per_step("cost"),
                 margin=np.array([d["margin"][persona] for d in data], float),
                 goal=np.array([bool(d["goal"]) for d in data]),
                 entry=np.array([d["entry"][persona] for d in data], float),
                 ref_row=sorted_(ref_rows, ref_order, np.int64),
                 ref_col=sorted_(ref_cols, ref_order, np.int64),
                 ref_amount=sorted_(amounts, ref_order), ref_delay=sorted_(ref_delays, ref_order),
                 daily_discount=factor, horizon_days=graph.graph.get("horizon_days"),
                 uncertain=uncertain, per_customer=drawn,
                 channels=tuple(dict.fromkeys(d["channel"] or "" for d in data)),
                 channel_of=np.array([list(dict.fromkeys(d["channel"] or "" for d in data))
                                      .index(d["channel"] or "") for d in data], np.int64))


def assert_same_chain(chain, expected):
    """Field by field, exactly: same values, dtypes, sparse layout, key order
    (the scipy forms the Monte Carlo engine reads included)."""
    import dataclasses

    from scipy import sparse

    names = [f.name for f in dataclasses.fields(expected)] + [
        "rates", "delays", "discounted", "rate_delay", "referrals", "referral_delays",
        "referrals_discounted", "stop"]
    for name in names:
        got, want = getattr(chain, name), getattr(expected, name)
        f = type("field", (), {"name": name})
        if sparse.issparse(want):
            assert sparse.issparse(got) and got.format == want.format, f.name
            assert got.shape == want.shape, f.name
            for part in ("indptr", "indices", "data"):
                a, b = getattr(got, part), getattr(want, part)
                assert a.dtype == b.dtype and np.array_equal(a, b), (f.name, part)
        elif isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray), f.name
            assert got.dtype == want.dtype and np.array_equal(got, want), f.name
        elif isinstance(want, dict):
            assert list(got.items()) == list(want.items()), f.name
        else:
            assert type(got) is type(want) and got == want, f.name


MIXED = """journey "mixed" {
  discount 8% per month
  persona p { share 40% }
  persona q { share 60% }
  stage s { touchpoint a { value 3 [q: 5]; cost 1 } ; touchpoint b ; touchpoint c { value 9 } }
  entry a 70% [q: 90%], b 30% [q: 10%]
  a -> b 0% [q: 40%] after 2d, c beta(2, 8) after 1d, a 10%
  b -> c 30% [p: 0%], a 20% after 3d
  c => a 0.2 [q: 0] after 5d
  c => b 0.1
  goal c
}"""


def test_array_built_chain_equals_the_chain_walked_from_the_edges():
    from pathlib import Path

    paths = sorted(Path(__file__).parents[1].glob("examples/*.journey"))
    compiled = [journeydsl.load(path) for path in paths] + [compile_ok(MIXED)]
    checked = 0
    for result in compiled:
        assert result.ok
        for scenario in [None] + result.scenarios:
            graph = result.graph(scenario)
            variant = result.variant(scenario)
            for persona in graph.graph["personas"]:
                assert_same_chain(build_chain(result.variant(scenario), persona),
                                  chain_from_edges(graph, persona))
                checked += 1
    assert checked > 2 * len(paths)


def test_the_compiled_journey_is_frozen_and_its_graph_a_copy():
    """The engines read the journey's own numbers: nothing a caller does to a
    graph it was given can reach them, and the journey cannot be changed."""
    import dataclasses

    result = compile_ok(MIXED)
    journey = result.journey
    before = build_chain(journey, "q")
    graph = journey.graph()
    graph.edges["b", "c"]["rate"]["q"] += 0.25
    graph.remove_node("a")
    assert list(journey.graph().nodes) == ["a", "b", "c"]
    assert_same_chain(build_chain(journey, "q"), before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        journey.title = "changed"  # type: ignore[misc]


# ---------------------------------------------------------------- reach

LEAVE_AND_RETURN = """journey "reach" {
  %s
  stage a { touchpoint a1 ; touchpoint a2 }
  stage b {}
  stage won {}
  entry a1 50%%, b 50%%
  a1 -> b 50%%
  b -> a2 50%%
  a2 -> won 10%%
  goal won
}"""


@pytest.mark.parametrize("horizon", ["", "horizon 100y"])
def test_stage_reach_counts_a_walk_that_leaves_and_comes_back_once(horizon):
    # No cycle, but a1 -> b -> a2 leaves stage a and enters it again: a walk
    # starting at a1 enters a twice with probability 1/4. Reach is
    # P(visit a) = 0.5 + 0.5 * 0.5 = 0.75, not the expected entries 0.875.
    m = metrics(LEAVE_AND_RETURN % horizon)
    assert m.stages["a"]["reach"] == pytest.approx(0.75, abs=1e-12)
    assert m.stages["b"]["reach"] == pytest.approx(0.75, abs=1e-12)
    assert m.stages["won"]["reach"] == pytest.approx(0.0375, abs=1e-12)
    assert m.steps["a2"]["reach"] == pytest.approx(0.375, abs=1e-12)


def random_journey(rng, horizon: str = "") -> str:
    """A small valid journey with loops, back moves across stages, zero and
    positive delays (whole months, so a long horizon stays a short grid)."""
    lines = ['journey "random" {', f"  {horizon}"]
    if rng.random() < 0.5:
        lines.append("  discount 10% per year")
    steps = []
    for s in range(rng.randint(1, 4)):
        names = [f"s{s}_{i}" for i in range(rng.randint(1, 3))]
        steps += names
        tps = " ; ".join(f"touchpoint {x} {{ value {rng.randint(0, 9)} }}" for x in names)
        lines.append(f"  stage st{s} {{ {tps} }}")
    starts = rng.sample(steps, rng.randint(1, min(3, len(steps))))
    shares = [100 // len(starts)] * len(starts)
    shares[0] += 100 - sum(shares)
    lines.append("  entry " + ", ".join(f"{x} {p}%" for x, p in zip(starts, shares)))
    for source in steps:
        targets = rng.sample(steps, rng.randint(0, min(3, len(steps))))
        if targets:
            each = rng.randint(30, 95) // len(targets)
            lines.append(f"  {source} -> " + ", ".join(
                f"{t} {rng.randint(1, max(1, each))}%"
                + (f" after {rng.randint(1, 3)}mo" if rng.random() < 0.5 else "")
                for t in targets))
    lines.append("  goal " + ", ".join(rng.sample(steps, rng.randint(1, min(2, len(steps))))))
    lines.append("}")
    return "\n".join(lines)


def dense_reach(chain, steps: bool = True):
    """P(visit each step) and P(visit each stage), by a dense taboo solve each."""
    q, alpha, n = chain.rates.toarray(), chain.entry, chain.n
    eye = np.eye(n)

    def hit(inside):
        out = ~inside
        into = q[out][:, inside].sum(axis=1)
        return alpha[inside].sum() + alpha[out] @ np.linalg.solve(
            eye[out][:, out] - q[out][:, out], into)

    stage_of = np.array(chain.stage_of)
    stages = {st: hit(stage_of == st) for st in dict.fromkeys(chain.stage_of)}
    if not steps:
        return None, stages
    return {s: hit(np.arange(n) == i) for i, s in enumerate(chain.steps)}, stages


def test_reach_agrees_with_a_dense_first_passage_solve_on_random_journeys():
    import random

    rng = random.Random(20240611)
    for chain in _random_chains(rng, 50):
        m = solve(chain)
        steps, stages = _assert_reach_is_dense(chain, m)
        # `places`: the others' reach may be left out, the asked-for ones agree
        asked = frozenset(rng.sample(list(steps) + list(stages), 2))
        part = solve(chain, asked, cohort=False)
        for table, full in ((part.steps, m.steps), (part.stages, m.stages)):
            for place, row in table.items():
                if place in asked or row["reach"] is not None:
                    assert row["reach"] == pytest.approx(full[place]["reach"], rel=1e-12)


def _random_chains(rng, count: int, *extra: str):
    """The first persona's chain of `count` random journeys that compile."""
    checked = 0
    while checked < count:
        result = journeydsl.loads(random_journey(rng, *extra))
        if not result.ok:
            continue
        checked += 1
        graph = result.graph()
        variant = result.variant()
        yield build_chain(variant, variant.persona_ids[0])


def _assert_reach_is_dense(chain, m):
    """Step and stage reach of `m` against the dense reference; returns it."""
    steps, stages = dense_reach(chain)
    for s, p in steps.items():
        assert m.steps[s]["reach"] == pytest.approx(min(p, 1.0), rel=1e-9, abs=1e-12), s
    for st, p in stages.items():
        assert m.stages[st]["reach"] == pytest.approx(min(p, 1.0), rel=1e-9, abs=1e-12), st
    return steps, stages


def test_time_grid_reach_agrees_with_the_dense_solve_on_random_journeys():
    import random

    rng = random.Random(7)
    for chain in _random_chains(rng, 15, "horizon 300y"):
        _assert_reach_is_dense(chain, solve(chain))


def big_loop_journey(steps: int = 300, per_stage: int = 10, seed: int = 3) -> str:
    """A long forward funnel with short loops inside stages, some moves back
    across stages, and a win-back move from the end to the start: one strongly
    connected component far larger than the block solves (cut steps)."""
    import random

    rng = random.Random(seed)
    lines = ['journey "loop" {', "  discount 10% per year"]
    for s in range(steps // per_stage):
        names = " ; ".join(f"touchpoint t{i} {{ value {rng.randint(0, 5)} }}"
                           for i in range(s * per_stage, (s + 1) * per_stage))
        lines.append(f"  stage s{s} {{ {names} }}")
    lines.append("  stage customer { touchpoint paid { value 50 } ; touchpoint winback }")
    lines.append("  entry t0 70%, t10 30%")
    for i in range(steps):
        targets = {f"t{i + 1}" if i + 1 < steps else "paid": rng.randint(20, 40)}
        targets[f"t{min(steps - 1, i + rng.randint(2, 12))}"] = rng.randint(5, 15)
        if rng.random() < 0.1 and i % per_stage:
            targets[f"t{i - 1}"] = rng.randint(5, 15)
        if rng.random() < 0.03 and i >= per_stage:
            targets[f"t{i - rng.randint(per_stage, 3 * per_stage) % i}"] = 5
        lines.append(f"  t{i} -> " + ", ".join(f"{t} {r}%" for t, r in targets.items()))
    lines += ["  paid -> paid 80% after 1mo, winback 10% after 1mo",
              "  winback -> paid 20%, t0 10%", "  goal paid", "}"]
    return "\n".join(lines)


def test_reach_in_one_big_loop_agrees_with_dense_algebra():
    result = compile_ok(big_loop_journey())
    chain = build_chain(result.journey, result.journey.persona_ids[0])
    m = solve(chain)
    q = chain.rates.toarray()
    n = chain.n
    inverse = np.linalg.inv(np.eye(n) - q)
    visits = chain.entry @ inverse
    for i, s in enumerate(chain.steps):
        assert m.steps[s]["visits"] == pytest.approx(visits[i], rel=1e-9)
        # reach = visits / expected visits from the step itself
        assert m.steps[s]["reach"] == pytest.approx(visits[i] / inverse[i, i], rel=1e-9)
    _, stages = dense_reach(chain, steps=False)
    for st, p in stages.items():
        assert m.stages[st]["reach"] == pytest.approx(min(p, 1.0), rel=1e-9, abs=1e-12), st


def test_a_delay_that_is_not_a_whole_hour_is_exact_under_a_horizon():
    # 2.4-hour loop, horizon 1 day: visits at 0, 2.4, ..., 21.6 h (10 instants)
    m = metrics("""journey "tenth" {
      horizon 1d
      stage s { touchpoint a }
      entry a
      a -> a 99% after 0.1d
      goal a
    }""")
    assert m.steps["a"]["visits"] == pytest.approx(sum(0.99 ** k for k in range(10)))
    assert m.active_at_horizon == pytest.approx(0.99 ** 10)


def test_a_loop_without_delay_is_an_error_even_under_a_horizon():
    result = journeydsl.loads("""journey "stuck" {
      horizon 1y
      stage a {}
      entry a
      a -> a 100%
      goal a
      expect conversion >= 1%
    }""")
    codes = [d.code for d in result.diagnostics]
    assert "JD405" in codes and "JD501" not in codes
    assert not result.ok


def test_blend_mixes_every_table_entry_as_share_weighted_sums():
    """The column-wise blend gives exactly the per-entry share-weighted sums,
    None where a persona's reach was not computed."""
    from pathlib import Path

    from journeydsl.simulate.results import blend

    def reference(values, weights):
        if any(v is None for v in values):
            return None
        total = 0.0
        for w, v in zip(weights, values):
            total += w * v
        return total

    result = journeydsl.load(Path(__file__).parents[1] / "examples" / "saas_trial.journey")
    for places in (None, frozenset({"trial", "paying", "activation"})):
        report = simulate(result.journey, places=places)
        parts = list(report.personas.values())
        weights = [report.shares[p] for p in report.personas]
        mixed = blend(report.personas, report.shares)
        for table in ("steps", "stages"):
            got, tables = getattr(mixed, table), [getattr(m, table) for m in parts]
            assert list(got) == list(tables[0])
            for row, keys in tables[0].items():
                assert list(got[row]) == list(keys)
                for k in keys:
                    want = reference([t[row][k] for t in tables], weights)
                    assert got[row][k] == want, (table, row, k)
        if places is not None:
            assert any(r["reach"] is None for r in mixed.steps.values())

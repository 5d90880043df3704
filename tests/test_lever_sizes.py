"""The relative lever (+10% of the rate) beside +1 pp, and lever sizes.

Closed forms on small chains (a funnel's conversion is a product of rates,
so +10% of any one rate is exactly +10% of conversion; a renewal loop's
visits are 1 / (1 - r)), the cap by what is left at the step, the trap
rule, the persona mix, the per-stage roll-up, every example's relative
levers against the engine re-run with the raised rate, and the CLI option.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_levers import EXAMPLES, METRICS, compiled_ok, resolved_change, without_horizon
from typer.testing import CliRunner

from journeydsl.cli import app
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.levers import (
    ONE_POINT,
    TEN_PERCENT,
    LeverSize,
    best_by_stage,
    levers,
)

REPO = Path(__file__).resolve().parents[1]

FUNNEL = '''journey "funnel" {
  stage top { touchpoint a }
  stage mid { touchpoint b }
  stage low { touchpoint c }
  stage won { touchpoint g { value 200 } }
  entry a
  a -> b 40%
  b -> c 30%
  c -> g 50%
  goal g
}
'''


def by_edge(found, persona=None):
    return {(lv.source, lv.target): lv for lv in found if lv.persona == persona}


def test_a_funnel_rises_by_a_tenth_of_its_conversion():
    found = by_edge(levers(compiled_ok(FUNNEL).journey, size=TEN_PERCENT))
    conversion = 0.4 * 0.3 * 0.5
    for (u, v), rate in {("a", "b"): 0.4, ("b", "c"): 0.3, ("c", "g"): 0.5}.items():
        lever = found[u, v]
        assert lever.step == pytest.approx(0.1 * rate, rel=1e-15)
        # conversion is a product of the rates: +10% of one is +10% of it
        assert lever.d_conversion == pytest.approx(0.1 * conversion, rel=1e-12)
        assert lever.d_revenue == pytest.approx(0.1 * conversion * 200, rel=1e-12)
        assert lever.d_profit == pytest.approx(0.1 * conversion * 200, rel=1e-12)
        assert lever.d_clv == pytest.approx(0.0, abs=1e-12)  # every customer is worth 200
    # +1 pp on b -> c: 0.4 x 0.01 x 0.5
    assert by_edge(levers(compiled_ok(FUNNEL).journey))["b", "c"].d_conversion == pytest.approx(
        0.4 * 0.01 * 0.5, rel=1e-12)


def test_the_rise_is_capped_by_what_is_left():
    text = FUNNEL.replace("b -> c 30%", "b -> c 60%, a 35%")
    found = by_edge(levers(compiled_ok(text).journey, size=TEN_PERCENT))
    # b keeps 5% for drop-off: +10% of 60% (6 pp) is capped at 5 pp; the
    # move back to a keeps its 35% (the lever takes from drop-off alone)
    lever = found["b", "c"]
    assert lever.step == pytest.approx(0.05, rel=1e-12)
    # conversion = 0.4 x r x 0.5 / (1 - 0.4 x 0.35): linear in r = rate(b -> c)
    def conversion(r):
        return 0.4 * r * 0.5 / (1 - 0.4 * 0.35)
    assert lever.d_conversion == pytest.approx(conversion(0.65) - conversion(0.60), rel=1e-12)
    # b -> a asks for 3.5 pp, less than the 5 pp left: not capped
    assert found["b", "a"].step == pytest.approx(0.035, rel=1e-12)


def test_a_renewal_loop_capped_then_halved_by_the_trap_rule():
    text = '''journey "renewals" {
      stage s { touchpoint buy { value 10 } ; touchpoint renew { value 10 } }
      entry buy
      buy -> renew 50%
      renew -> renew 95%
      goal buy
    }'''
    lever = by_edge(levers(compiled_ok(text).journey, size=TEN_PERCENT))["renew", "renew"]
    # +9.5 pp asked, 5 pp left; all of it would trap walks forever: half
    assert lever.step == pytest.approx(0.025, rel=1e-12)
    # renewals per customer 0.5 / (1 - r): 0.5 x 10 x (1/0.025 - 1/0.05)
    assert lever.d_revenue == pytest.approx(0.5 * 10 * (40 - 20), rel=1e-9)


def test_an_edge_at_zero_does_not_move_by_a_share_of_itself():
    text = '''journey "override" {
      persona p { share 50% }
      persona q { share 50% }
      stage s { touchpoint a ; touchpoint g }
      entry a
      a -> g 20% [q: 0%]
      goal g
    }'''
    found = levers(compiled_ok(text).journey, size=TEN_PERCENT)
    q = by_edge(found, "q")["a", "g"]
    assert not q.movable and q.d_conversion is None
    mix = by_edge(found)["a", "g"]
    # only p moves, by 2 pp: the mix's step is the share-weighted mean rise
    assert mix.step == pytest.approx(0.5 * 0.02)
    assert mix.d_conversion == pytest.approx(0.5 * 0.02, rel=1e-12)
    # +1 pp opens q's closed edge
    assert by_edge(levers(compiled_ok(text).journey), "q")["a", "g"].movable


def test_personas_each_rise_by_a_share_of_their_own_rate():
    text = FUNNEL.replace("  stage top", "  persona p { share 30% }\n  persona q { share 70% }\n"
                          "  stage top").replace("b -> c 30%", "b -> c 30% [q: 10%]")
    found = levers(compiled_ok(text).journey, size=TEN_PERCENT)
    mix = by_edge(found)["b", "c"]
    assert mix.step == pytest.approx(0.3 * 0.03 + 0.7 * 0.01, rel=1e-12)
    conv_p, conv_q = 0.4 * 0.3 * 0.5, 0.4 * 0.1 * 0.5
    assert mix.d_conversion == pytest.approx(0.1 * (0.3 * conv_p + 0.7 * conv_q), rel=1e-12)


ROLL_UP = '''journey "roll-up" {
  stage first { touchpoint x }
  stage middle { touchpoint y ; touchpoint z }
  stage last { touchpoint g { value 100 } }
  entry x
  x -> y 5%, z 50%
  y -> g 90%
  z -> g 10%
  goal g
}
'''


def test_the_best_lever_of_each_stage_follows_the_size():
    journey = compiled_ok(ROLL_UP).journey
    stage_of = {s.id: s.stage for s in journey.steps}
    # +1 pp: x -> y gains 0.01 x 0.9, x -> z only 0.01 x 0.1
    point = [lv for lv in levers(journey, by="conversion") if lv.persona is None]
    best = best_by_stage(point, stage_of)
    assert (best["first"].source, best["first"].target) == ("x", "y")
    assert best["first"].d_conversion == pytest.approx(0.009, rel=1e-12)
    # +10%: x -> y rises 0.5 pp (0.0045), x -> z 5 pp (0.005): z wins
    tenth = [lv for lv in levers(journey, by="conversion", size=TEN_PERCENT)
             if lv.persona is None]
    best = best_by_stage(tenth, stage_of)
    assert (best["first"].source, best["first"].target) == ("x", "z")
    assert best["first"].d_conversion == pytest.approx(0.005, rel=1e-12)
    # the middle stage's best: y -> g up 9 pp of 10 left (0.05 x 0.09),
    # z -> g up 1 pp (0.5 x 0.01)
    assert best["middle"].source == "z"
    assert best["middle"].d_conversion == pytest.approx(0.005, rel=1e-12)
    assert list(best) == ["first", "middle"]  # (g has no lever)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_relative_lever_is_the_exact_change(path):
    result = compiled_ok(without_horizon(path.read_text(encoding="utf-8")), str(path))
    graph, journey = result.graph(), result.journey
    chains = {p: build_chain(journey, p) for p in graph.graph["personas"]}
    found = levers(journey, size=TEN_PERCENT)
    steps = {(lv.persona, lv.source, lv.target): lv.step for lv in found if lv.persona}
    for lever in found:
        if lever.persona is not None and lever.movable:
            assert lever.step <= 0.1 * lever.rate * (1 + 1e-12)
        if not lever.movable:
            continue
        want = resolved_change(graph, lever, chains, steps)
        for field in METRICS:
            got, expected = getattr(lever, field), want[field]
            if expected is None:
                assert got is None
                continue
            tol = 1e-9 * max(abs(got), abs(expected)) + 1e-11 * (1 + want["scale"][field])
            assert abs(got - expected) <= tol, (lever, field, got, expected)


def test_a_horizon_re_runs_the_relative_lever():
    text = FUNNEL.replace("  entry a", "  horizon 1y\n  entry a").replace(
        "b -> c 30%", "b -> c 30% after 2mo")
    found = by_edge(levers(compiled_ok(text).journey, size=TEN_PERCENT))
    assert found["b", "c"].method == "resolve"
    assert found["b", "c"].d_conversion == pytest.approx(0.1 * 0.06, rel=1e-9)


def test_sizes_parse_as_an_analyst_writes_them():
    assert LeverSize.parse("1pp") == ONE_POINT
    assert LeverSize.parse("10%") == TEN_PERCENT
    assert LeverSize.parse(" +2.5 pp") == LeverSize(0.025)
    assert LeverSize.parse("25 %") == LeverSize(0.25, relative=True)
    assert (ONE_POINT.label, TEN_PERCENT.label) == ("+1 pp", "+10%")
    for bad in ("", "1", "pp", "ten%", "0%", "-1pp", "101pp", "nan%", "inf pp", "1.5.2pp"):
        with pytest.raises(ValueError, match="not a lever size"):
            LeverSize.parse(bad)


def test_cli_lever_option():
    runner = CliRunner()
    saas = str(REPO / "examples" / "saas_trial.journey")
    done = runner.invoke(app, ["simulate", saas, "--levers", "--lever", "10%", "--format",
                               "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["lever_size"] == {"amount": 0.1, "relative": True, "label": "+10%"}
    for lever in data["levers"]:
        if lever["movable"]:
            assert lever["step"] <= 0.1 * lever["rate"] * (1 + 1e-12)
    text = runner.invoke(app, ["simulate", saas, "--levers", "--lever", "10%"],
                         env={"COLUMNS": "120"})
    assert text.exit_code == 0
    assert "Levers: +10% of a transition rate" in text.stdout
    assert "Up" in text.stdout  # each edge's own rise is shown
    default = runner.invoke(app, ["simulate", saas, "--levers", "--format", "json"])
    assert json.loads(default.stdout)["lever_size"]["label"] == "+1 pp"
    bad = runner.invoke(app, ["simulate", saas, "--levers", "--lever", "ten"])
    assert bad.exit_code == 2
    assert "not a lever size" in bad.output and "Traceback" not in bad.output
    alone = runner.invoke(app, ["simulate", saas, "--lever", "10%"])
    assert alone.exit_code == 2 and "give --levers too" in alone.output


def test_api_takes_the_size_as_the_cli_writes_it():
    import journeydsl

    result = journeydsl.loads(FUNNEL)
    assert result.levers(size="10%") == levers(result.journey, size=TEN_PERCENT)
    assert result.levers(by="conversion") == levers(result.journey, by="conversion")
    with pytest.raises(ValueError, match="not a lever size"):
        result.levers(size="10")

"""Property tests beyond `check`: every engine and renderer on generated journeys.

test_properties.py shows the compiler never raises; this runs what comes
after it on every generated journey that compiles clean (issue 11): the
exact engine, levers, attribution, Monte Carlo and the text renderings.

- Journeys come from two generators: test_properties' `journey_texts`
  (ordinary shapes) and `extreme_journeys` here, built from the classes of
  issue 11: rates from 0 to 100% through 1e-12 and 99.99%, delays from 0
  through one second and 1 d + 0.864 s to a year, horizons up to 1,000
  years, money up to 10^15, margins from 0 to 100%, referrals up to a
  million a visit, uncertain rates, discounting, personas with overrides,
  hostile labels.
- Every number is finite (or None with a reason), JSON carries no Infinity
  or NaN, drop-off + churn + active at horizon = 1, levers never promise
  more than is left, removal effects lie in [0, 1] (tests/invariants.py).
- Independent computations: without a horizon, conversion, revenue, cost,
  profit, acquisition cost, visits and CLV (E[margin x V - C_from_goal;
  converted] / conversion, exact at conversions of 1e-60) from dense numpy
  solves of the chain, as sums of non-negative parts; under a horizon on a
  coarse grid, the old grid engine's forward pass (tests/
  reference_horizon.py); Monte Carlo's conversion within 6 binomial
  standard errors of the exact one.
- Renderings (DOT, both Mermaid diagrams, the board's SVG) carry no raw
  control, bidi or invisible character and no NaN coordinate.

Bounded for CI: each test draws a fixed number of examples (derandomized:
the same ones every run, tens of seconds on a quiet machine). numpy's
RuntimeWarnings (overflow, NaN) fail the tests: they would reach a user's
terminal.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from invariants import assert_clean_picture, assert_report, strict_json
from reference_horizon import forward_pass, grid_step_days
from test_properties import journey_texts

import journeydsl
from journeydsl.render import produce
from journeydsl.simulate import simulate
from journeydsl.simulate.attribution import attribution
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.levers import levers
from journeydsl.simulate.montecarlo import WalkTooLong, monte_carlo

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
# no per-example deadline: on a shared runner one example's wall time
# varied from 49 s to 158 s (hypothesis then fails it as unreliable); the
# slowest (a loop of one-second and one-day moves, levers re-running it 40
# times) is 15 s of CPU. The fixed, derandomized examples bound the run:
# 12 extreme journeys keep it near a minute in CI; JOURNEY_FUZZ_EXAMPLES=N
# runs N of them (the campaign that built this file ran 40 and more).
EXTREME_EXAMPLES = int(os.environ.get("JOURNEY_FUZZ_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXTREME_EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
PROSPECTS = 4_000
#: Instants the reference grid engine may take (it costs one product each).
REFERENCE_INSTANTS = 4_000

_RATES = [0.0, 1e-12, 1e-6, 0.001, 0.05, 0.3, 0.5, 0.9, 0.99, 0.9999, 1.0]
_COARSE_DELAYS = ["", " after 0h", " after 1h", " after 1d", " after 1w", " after 1mo",
                  " after 1y"]
#: One second, and a day and 0.864 s: delays with (almost) no common step.
_DELAYS = [*_COARSE_DELAYS, " after 0.00027777777778h", " after 1.00001d"]
_MONEY = ["0", "0.01", "1", "49.99", "1_000_000", "1_000_000_000_000_000"]
_HORIZONS = [None, "30d", "1y", "100y", "1000y"]
_REFERRALS = ["0.001", "0.3", "0.999", "2", "1_000_000"]
_LABELS = ["Plain", "\u202eevil.exe\u202c", "zero\u200bwidth", "\x1b[31mred\x1b[0m",
           "bell\x07", "<b>&amp;</b> \\\"q\\\"", "👩\u200d💻 广告 عربي", "%%{init}%% -->"]


def _percent(rate: float) -> str:
    return np.format_float_positional(rate * 100, trim="-") + "%"


@st.composite
def extreme_journeys(draw) -> str:
    """Small journeys (2-6 steps and a goal) with the extremes of issue 11."""
    n = draw(st.integers(2, 6))
    personas = [f"p{i}" for i in range(draw(st.integers(0, 2)))]
    lines = []
    if (horizon := draw(st.sampled_from(_HORIZONS))) is not None:
        lines.append(f"horizon {horizon}")
    # Fine delays under a century or more cost the horizon engine tens of
    # seconds (tests/corpus has such files; the bound here is CI time):
    # long horizons get hourly to yearly delays
    delays = _COARSE_DELAYS if horizon in ("100y", "1000y") else _DELAYS
    if draw(st.booleans()):
        lines.append(f"margin {draw(st.sampled_from(['0%', '0.0001%', '35%', '100%']))}")
    if draw(st.booleans()):
        lines.append(f"discount {draw(st.sampled_from(['0.0001%', '10%', '99.99%']))} per "
                     f"{draw(st.sampled_from(['day', 'year']))}")
    if personas:
        first = draw(st.sampled_from([0.0001, 50, 99.9999])) if len(personas) == 2 else 100
        shares = [first, 100 - first][:len(personas)]
        lines += [f"persona {p} {{ share {np.format_float_positional(s, trim='-')}% }}"
                  for p, s in zip(personas, shares)]

    def override(pick) -> str:
        chosen = [p for p in personas if draw(st.integers(0, 3)) == 0]
        return f" [{', '.join(f'{p}: {pick()}' for p in chosen)}]" if chosen else ""

    def money() -> str:
        return draw(st.sampled_from(_MONEY))

    steps = [f"s{i}" for i in range(n)]
    label = lambda: draw(st.sampled_from(_LABELS))
    def margin() -> str:  # sometimes a step's own, with persona overrides
        if draw(st.integers(0, 2)):
            return ""
        rate = lambda: draw(st.sampled_from(["0%", "18%", "60%", "100%"]))  # noqa: E731
        return f"; margin {rate()}{override(rate)}"

    body = "; ".join(f'touchpoint {s} "{label()}" {{ value {money()}{override(money)}; '
                     f"cost {money()}{margin()} }}" for s in steps)
    lines.append(f'stage funnel "{label()}" {{ {body} }}')
    lines.append(f'stage won "{label()}" {{ touchpoint goal_ {{ value {money()} }} }}')
    lines.append("entry s0" if draw(st.booleans()) else "entry s0 60%, s1 40%")
    targets = steps + ["goal_"]
    for source in steps:
        outs = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
        rates = [draw(st.sampled_from(_RATES)) for _ in outs]
        scale = min(1.0, 1.0 / sum(rates)) if sum(rates) else 1.0
        legs = []
        for target, rate in zip(outs, rates):
            rate = rate * scale
            written = _percent(rate)
            if draw(st.integers(0, 7)) == 0:  # sometimes uncertain around the rate
                written = f"{_percent(rate * 0.5)}..{written}"
            legs.append(f"{target} {written}"
                        + override(lambda scale=scale: _percent(draw(st.sampled_from(_RATES)) * scale))
                        + draw(st.sampled_from(delays)))
        lines.append(f"{source} -> " + ", ".join(legs))
    lines.append(f"goal_ -> goal_ {_percent(draw(st.sampled_from(_RATES[:-1])))}"
                 + draw(st.sampled_from(delays[2:])))
    if draw(st.integers(0, 2)) == 0:
        lines.append(f"{draw(st.sampled_from(targets))} => {draw(st.sampled_from(steps))} "
                     f"{draw(st.sampled_from(_REFERRALS))}{draw(st.sampled_from(delays))}")
    lines.append("goal goal_")
    if draw(st.booleans()):
        lines.append(f"scenario lift {{ s0 -> goal_ {_percent(draw(st.sampled_from(_RATES)))} }}")
    return f'journey "{label()}" {{\n  ' + "\n  ".join(lines) + "\n}\n"


# ---------------------------------------------------------------- independent computations

def _dense(chain) -> dict:
    """The metrics without a horizon from dense solves, every quantity a sum
    of non-negative parts (so CLV stays exact at conversions of 1e-60):
    conversion, revenue, cost, profit, acquisition cost, E[margin x V -
    C_from_goal; converted] and visits."""
    n = chain.n
    q, qd = np.zeros((n, n)), np.zeros((n, n))
    np.add.at(q, (chain.move_row, chain.move_col), chain.move_rate)
    np.add.at(qd, (chain.move_row, chain.move_col), chain.move_discounted)
    alpha, goal = np.asarray(chain.entry, float), np.asarray(chain.goal, bool)
    u = ~goal
    eye, eye_u = np.eye(n), np.eye(int(u.sum()))
    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    earned = np.asarray(chain.margin, float) * value  # margin x value per visit
    visits = np.linalg.solve((eye - q).T, alpha)
    discounted = np.linalg.solve((eye - qd).T, alpha)
    h_u = np.linalg.solve(eye_u - q[np.ix_(u, u)], q[np.ix_(u, goal)].sum(axis=1))
    # discounted visits before the first goal visit, and from it on
    before = np.linalg.solve((eye_u - qd[np.ix_(u, u)]).T, alpha[u])
    entering = np.where(goal, alpha, 0.0)
    entering[goal] += before @ qd[np.ix_(u, goal)]
    after = np.linalg.solve((eye - qd).T, entering)
    return {"conversion": alpha[goal].sum() + alpha[u] @ h_u,
            "revenue": discounted @ value, "cost": discounted @ cost,
            "profit": discounted @ (earned - cost), "acquisition_cost": before @ cost[u],
            # a walk that converts keeps what it earned before (probability h)
            "profit_converted": earned[u] @ (before * h_u) + (earned - cost) @ after,
            "visits": visits}


def _grid(chain) -> dict:
    """The metrics under a horizon from the old grid engine's forward pass
    (tests/reference_horizon.py: a time grid at the delays' common step)."""
    n = chain.n
    step = grid_step_days(chain)
    steps = max(1, math.ceil(chain.horizon_days / step - 1e-9))
    run = forward_pass(chain, step, steps, cascade=False)
    disc = chain.daily_discount ** (np.arange(steps) * step)
    unconverted, converted = run.arrivals[:, :n], run.arrivals[:, n:]
    plain = unconverted + converted
    value, cost = np.asarray(chain.value, float), np.asarray(chain.cost, float)
    earned = np.asarray(chain.margin, float) * value
    ended = (plain.sum(axis=0) * chain.stop).sum()
    return {"conversion": float(run.conversions.sum()), "revenue": disc @ (plain @ value),
            "cost": disc @ (plain @ cost), "profit": disc @ (plain @ (earned - cost)),
            "acquisition_cost": disc @ (unconverted @ cost),
            "active_at_horizon": max(0.0, 1.0 - ended)}


def _agree(actual: float, expected: float, what: str) -> None:
    assert actual == pytest.approx(expected, rel=1e-6, abs=1e-12 * max(1.0, abs(expected))), \
        f"{what}: engine {actual!r}, independent {expected!r}"


def _check_against_independent(variant) -> None:
    report = simulate(variant)
    for persona in variant.persona_ids:
        chain = build_chain(variant, persona)
        metrics = report.personas[persona]
        if chain.horizon_days is None:
            dense = _dense(chain)
            event("checked against dense solves")
            for key in ("conversion", "revenue", "cost", "profit", "acquisition_cost"):
                _agree(getattr(metrics, key), dense[key], f"{persona} {key}")
            if dense["conversion"] > 0:
                _agree(metrics.profit_converted / metrics.conversion,
                       dense["profit_converted"] / dense["conversion"], f"{persona} clv")
            for i, step in enumerate(chain.steps):
                _agree(metrics.steps[step]["visits"], dense["visits"][i], f"{persona} {step}")
        elif chain.horizon_days / grid_step_days(chain) <= REFERENCE_INSTANTS:
            event("checked against the grid engine")
            grid = _grid(chain)
            for key, expected in grid.items():
                _agree(getattr(metrics, key), expected, f"{persona} {key}")


# ---------------------------------------------------------------- the property

def _run_everything(text: str) -> None:
    result = journeydsl.loads(text, "generated.journey")
    if not result.ok:
        event("rejected by check: " + ",".join(sorted({d.code for d in result.errors})))
        return
    event("clean")
    for scenario in [None, *result.scenarios]:
        variant = result.variant(scenario)
        report = simulate(variant)
        payload = report.as_dict()
        payload["levers"] = [lever.as_dict() for lever in levers(variant)]
        payload["attribution"] = attribution(variant).as_dict()
        # what `simulate --format json` prints, parsed back strictly
        assert_report(strict_json(json.dumps(payload, allow_nan=False, ensure_ascii=False)))
        _check_against_independent(variant)
        _monte_carlo(variant, report)
        for fmt, options in (("dot", {}), ("dot", {"flows": True}), ("mermaid-journey", {}),
                             ("mermaid-flowchart", {}), ("svg", {"view": "board"})):
            picture = produce(variant, fmt, **options).decode("utf-8")
            assert_clean_picture(picture, f"{fmt} {options}")


def _monte_carlo(variant, exact) -> None:
    try:
        mc = monte_carlo(variant, prospects=PROSPECTS, draws=2, seed=11)
    except WalkTooLong:  # the command says so and exits 1 (walks it cannot finish)
        event("Monte Carlo: walks too long")
        return
    assert_report(strict_json(json.dumps(mc.as_dict(), allow_nan=False, ensure_ascii=False)))
    if not any(build_chain(variant, p).uncertain for p in variant.persona_ids):
        p = exact.blended.conversion
        se = math.sqrt(max(p * (1 - p), 0.0) / PROSPECTS)
        assert abs(mc.blended.conversion - p) <= 6 * se + 1e-12, (mc.blended.conversion, p, se)


@SETTINGS
@given(extreme_journeys())
def test_engines_on_extreme_journeys(text):
    _run_everything(text)


@settings(SETTINGS, max_examples=150)
@given(journey_texts())
def test_engines_on_generated_journeys(text):
    _run_everything(text)


def test_extreme_generator_yields_clean_journeys():
    """Guard against the properties passing vacuously."""
    clean = 0

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(extreme_journeys())
    def count(text):
        nonlocal clean
        clean += journeydsl.loads(text).ok

    count()
    assert clean >= 20, clean

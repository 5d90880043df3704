"""What `journey check` computes for its `expect` lines, and no more: the
block impulse response of a horizon loop by powers of its companion, a
`per customer` rate integrated without a solve at the mean for the tables'
row names, and a place's first visits only for `reach` (issue: a new
user's first hour, start-up with expect lines <= 1.8x the bare imports)."""

from __future__ import annotations

import numpy as np
import pytest

import journeydsl
from journeydsl.simulate import expectations, lattice, mixture
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve


def _recursion(step, k, width):
    """h[n] = sum over lags q <= n of h[n - q] A_q, one step at a time."""
    h = [np.eye(k)] + [np.zeros((k, k)) for _ in range(width - 1)]
    for n in range(1, width):
        for lag, a in step:
            if lag <= n:
                h[n] = h[n] + h[n - lag] @ a
    return np.array(h)


@pytest.mark.parametrize("companion", [10**9, 0], ids=["by powers", "step by step"])
@pytest.mark.parametrize("k, lags, width", [
    (2, [1, 11], 111),   # domain_registrar's renewal: a 1-month loop in steps of a 3-day lattice
    (1, [1], 256),       # one state, one lag: h[n] = a^n
    (3, [2, 5], 85),     # no lag of 1: the companion's zero slots carry the history
    (1, [3, 7, 40], 200),
    (5, [20], 60),
    (2, [1, 40], 16),    # a lag longer than the block: it never reaches h
    (3, [1, 2], 2),
    (4, [1, 3], 64),     # a power of two: the last doubling is a whole one
    (2, [2, 3], 33),     # one more than a power of two: the last doubling takes one state
])
def test_the_impulse_response_is_the_recursion(monkeypatch, companion, k, lags, width):
    monkeypatch.setattr(lattice, "_COMPANION", companion)
    rng = np.random.default_rng(k * 1000 + width)
    step = [(lag, rng.random((k, k)) * 0.9 / (k * len(lags))) for lag in lags]
    got = lattice._impulse(step, k, width)
    want = _recursion(step, k, width)
    assert got.shape == (width, k, k)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_one_state_one_lag_gives_the_powers():
    h = lattice._impulse([(1, np.array([[0.9]]))], 1, 200)
    np.testing.assert_allclose(h[:, 0, 0], 0.9 ** np.arange(200), rtol=1e-12)


@pytest.mark.parametrize("example", ["domain_registrar", "saas_trial", "value_ladder"])
def test_the_row_names_are_the_tables_own(example):
    journey = journeydsl.load(f"examples/{example}.journey").journey
    for persona in journey.persona_ids:
        chain = build_chain(journey, persona)
        solved = solve(chain, frozenset(), False, False)
        rows = mixture._rows(chain)
        assert rows[""] == list(solved.steps)
        assert rows["stage "] == list(solved.stages)
        assert rows["channel "] == list(solved.channels)


def test_a_per_customer_rate_is_integrated_without_a_solve_at_its_mean(monkeypatch):
    journey = journeydsl.load("examples/domain_registrar.journey").journey
    chain = build_chain(journey, journey.persona_ids[0])
    from journeydsl.simulate.quadrature import Drawn

    drawn = Drawn.of(chain)
    assert drawn is not None
    mean = drawn.draw.mean
    seen = []
    original = drawn.at.__func__

    def at(self, base, x):
        seen.append(float(x))
        return original(self, base, x)

    monkeypatch.setattr(type(drawn), "at", at)
    solve(chain, frozenset(), False, False)
    # only the rule's points: exact for this horizon's bound on the visits
    assert len(seen) == mixture.points(drawn.visit_bound(chain))
    assert mean not in seen


ODD_ORDER = """journey "Odd order" {
  horizon 2y
  stage late "Late" { touchpoint paying { channel web; value 10 } }
  stage early "Early" {
    touchpoint ad { channel email }
    touchpoint call
    touchpoint site { channel web }
  }
  entry ad
  ad -> call 50%
  call -> site 60%
  site -> paying 40%
  paying -> paying beta(8, 2) per customer after 1mo
  goal paying
}
"""


def test_the_row_names_follow_a_journey_with_its_stages_out_of_order():
    """A stage declared before the steps that come first, and a step with
    no channel (the "" channel) between channels."""
    journey = journeydsl.loads(ODD_ORDER).journey
    assert journey is not None
    chain = build_chain(journey, journey.persona_ids[0])
    solved = solve(chain, frozenset(), False, False)
    rows = mixture._rows(chain)
    assert rows["stage "] == list(solved.stages)
    assert rows["channel "] == list(solved.channels)
    assert "" in rows["channel "]


def _places_asked(monkeypatch, text):
    asked = []
    real = expectations.simulate

    def spy(journey, places=None, **kw):
        asked.append(places)
        return real(journey, places=places, **kw)

    monkeypatch.setattr(expectations, "simulate", spy)
    outcomes = journeydsl.loads(text).expectations
    return asked, outcomes


JOURNEY = """journey "Loop" {
  horizon 1y
  stage s { touchpoint a
            touchpoint b }
  entry a
  a -> b 50%
  b -> a 40% after 1w
  goal b
  EXPECTS
}
"""


def test_only_reach_asks_for_a_places_first_visits(monkeypatch):
    expects = "expect visits(a) >= 1\n  expect dropoff(b) <= 1"
    asked, outcomes = _places_asked(monkeypatch, JOURNEY.replace("EXPECTS", expects))
    assert asked == [frozenset()]
    assert all(o.passed for o in outcomes)
    expects = "expect reach(a) >= 1\n  expect visits(b) >= 0.1"
    asked, outcomes = _places_asked(monkeypatch, JOURNEY.replace("EXPECTS", expects))
    assert asked == [frozenset({"a"})]
    assert outcomes[0].actual == pytest.approx(1.0)

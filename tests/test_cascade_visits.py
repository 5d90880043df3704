"""Visits per step of the whole referral cascade (`Metrics.cohort_visits`)
against independent computations: generation by generation with a dense
inverse (no horizon), and a day-by-day recursion over arrival times (with a
horizon). The flow map (`--flows`) draws these numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import journeydsl
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain

REFERRALS = """journey "referrals" {{
  {horizon}
  persona a {{ share 60% }}
  persona b {{ share 40% }}
  stage s {{ touchpoint ad ; touchpoint page }}
  stage t {{ touchpoint buy }}
  stage u {{ touchpoint invite ; touchpoint friend }}
  entry ad
  ad -> page 50%
  page -> page 10% after 1d
  page -> buy 30% [b: 40%] after 2d
  buy -> buy 80% after 30d
  buy => invite 0.3 after 5d
  buy => friend 0.05 [b: 0.1] after 3d
  invite -> page 60% after 1d
  friend -> buy 20% after 1d
  goal buy
}}
"""


def _compiled(horizon: str = ""):
    result = journeydsl.loads(REFERRALS.format(horizon=horizon))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result.journey


def _dense(chain):
    n = chain.n
    q = np.zeros((n, n))
    np.add.at(q, (chain.move_row, chain.move_col), chain.move_rate)
    send = np.zeros((n, n))
    np.add.at(send, (chain.ref_row, chain.ref_col), chain.ref_amount)
    return q, send


def _generations(chain) -> np.ndarray:
    """Visits of the prospect, then of its referrals, then of theirs...,
    each generation's walks from the dense inverse, summed until they vanish."""
    q, send = _dense(chain)
    fundamental = np.linalg.inv(np.eye(chain.n) - q)
    start = np.asarray(chain.entry, float)
    total = np.zeros(chain.n)
    for _ in range(500):
        visits = start @ fundamental
        total += visits
        start = visits @ send
        if start.sum() < 1e-15:
            break
    return total


def _by_day(chain) -> np.ndarray:
    """Arrivals per step and day before the horizon, moves and referrals
    both pushing amounts forward by their delays (whole days here)."""
    horizon = int(round(chain.horizon_days))
    n = chain.n
    arrivals = np.zeros((horizon, n))
    arrivals[0] = chain.entry
    pushes = [(int(r), int(c), float(x), int(round(d))) for r, c, x, d in
              zip(chain.move_row, chain.move_col, chain.move_rate, chain.move_delay)]
    pushes += [(int(r), int(c), float(x), int(round(d))) for r, c, x, d in
               zip(chain.ref_row, chain.ref_col, chain.ref_amount, chain.ref_delay)]
    assert all(d > 0 for *_, d in pushes if _[0] == _[1])  # no instant loops
    for day in range(horizon):
        # Same-day moves (delay 0) first: what arrived pushes on, the same day.
        fresh = arrivals[day].copy()
        for _ in range(n):
            extra = np.zeros(n)
            for r, c, x, d in pushes:
                if d == 0:
                    extra[c] += x * fresh[r]
            arrivals[day] += extra
            fresh = extra
        for r, c, x, d in pushes:
            if d > 0 and day + d < horizon:
                arrivals[day + d, c] += x * arrivals[day, r]
    return arrivals.sum(axis=0)


def test_cascade_visits_agree_with_generation_by_generation_sums():
    journey = _compiled()
    report = simulate(journey)
    for persona in journey.persona_ids:
        chain = build_chain(journey, persona)
        expected = _generations(chain)
        got = report.personas[persona].cohort_visits
        assert list(got) == chain.steps
        assert np.allclose([got[s] for s in chain.steps], expected, rtol=1e-10, atol=1e-14)
        # the prospect's own walk is part of it, and referred ones add visits
        own = report.personas[persona].steps
        assert got["invite"] > 0 == own["invite"]["visits"]
        assert got["page"] > own["page"]["visits"]
    blended = report.blended.cohort_visits
    shares = journey.shares
    for step, value in blended.items():
        assert value == pytest.approx(sum(shares[p] * report.personas[p].cohort_visits[step]
                                          for p in journey.persona_ids))


def test_cascade_prospects_are_the_visits_of_the_referral_targets_plus_one():
    journey = _compiled()
    m = simulate(journey).personas["a"]
    # every referred prospect starts at invite or friend and visits it once there
    # (nothing moves into them), so their visits count the referred prospects
    assert m.cohort["prospects"] == pytest.approx(
        1 + m.cohort_visits["invite"] + m.cohort_visits["friend"])


def test_cascade_visits_under_a_horizon_agree_with_a_day_by_day_recursion():
    journey = _compiled("horizon 400d")
    report = simulate(journey)
    for persona in journey.persona_ids:
        chain = build_chain(journey, persona)
        expected = _by_day(chain)
        got = report.personas[persona].cohort_visits
        assert np.allclose([got[s] for s in chain.steps], expected, rtol=1e-9, atol=1e-14)
        assert got["invite"] > 0


def test_without_referrals_the_cascade_is_the_prospect_itself():
    text = """journey "plain" {
      horizon 1y
      stage s { touchpoint a ; touchpoint b }
      entry a
      a -> b 40% after 2d
      b -> b 50% after 1mo
      goal b
    }"""
    result = journeydsl.loads(text)
    for journey in (result.journey, journeydsl.loads(text.replace("horizon 1y", "")).journey):
        m = simulate(journey).blended
        assert m.cohort_visits == {s: m.steps[s]["visits"] for s in m.steps}
    # skipped on request under a horizon (it costs a second propagation)
    assert simulate(result.journey, cohort=False).blended.cohort_visits == {}

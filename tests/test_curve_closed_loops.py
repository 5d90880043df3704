"""The cohort curve of a journey with a closed loop (100% around a cycle,
never left: JD405 unless a horizon cuts it). The money at stake after the
horizon, which the curve's `rest` measures without one, is infinite there
(I - Qd is singular), and solving for it raised LinAlgError; under a
horizon nothing after it counts, so the curve never needs it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import journeydsl
from journeydsl.simulate import simulate
from journeydsl.simulate.curve import cohort_curve

CORPUS = Path(__file__).resolve().parent / "corpus"

LOOP = """journey "Ping-pong" {
  currency USD
  DISCOUNT
  horizon 50d
  stage s { touchpoint a { value 3 }; touchpoint b { cost 1 } }
  entry a
  a -> b 100% after 1d
  b -> a 100% after 1d
  goal b
}
"""


@pytest.mark.parametrize("rate", [0.0, 0.01])
def test_a_closed_loop_curve_by_hand(rate):
    # every walk alternates: a at days 0, 2, 4, ..., b at 1, 3, 5, ...; each
    # amount discounted by (1 + rate)^(-t / 30); row k counts t < its end
    # (undiscounted, I - Q of the loop is singular)
    c = journeydsl.loads(LOOP.replace("DISCOUNT", f"discount {rate * 100:g}% per month"
                                      if rate else ""))
    assert c.ok, c.diagnostics
    curve = cohort_curve(c.journey, "month")
    assert [r["end_days"] for r in curve.rows] == [30.0, 50.0]
    for row in curve.rows:
        end = row["end_days"]
        revenue = sum(3 * (1 + rate) ** (-t / 30) for t in range(0, math.ceil(end), 2))
        cost = sum((1 + rate) ** (-t / 30) for t in range(1, math.ceil(end), 2))
        assert row["revenue"] == pytest.approx(revenue, rel=1e-12)
        assert row["cost"] == pytest.approx(cost, rel=1e-12)
        assert row["profit"] == pytest.approx(revenue - cost, rel=1e-12)
        assert row["converted"] == pytest.approx(1.0)  # at b, day 1
        assert row["active_customers"] == pytest.approx(1.0)  # no walk ever ends
    assert curve.rest == {}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("closed_loop_*.journey")))
def test_the_corpus_closed_loops_end_at_the_horizon_as_simulate_does(name):
    # the last row is the horizon: the exact engine's totals
    c = journeydsl.load(CORPUS / name)
    assert c.ok
    last = cohort_curve(c.journey, "month").rows[-1]
    assert last["end_days"] == c.journey.horizon_days
    exact = simulate(c.journey).blended
    for key in ("revenue", "cost", "profit"):
        assert last[key] == pytest.approx(getattr(exact, key), rel=1e-9, abs=1e-12), key
    assert last["converted"] == pytest.approx(exact.conversion, rel=1e-9)


def test_the_report_shows_the_payback_of_a_closed_loop(tmp_path):
    from journeydsl.cli.report import report_command

    out = tmp_path / "r.html"
    assert report_command(CORPUS / "closed_loop_beside_levers.journey", out) == 0
    text = out.read_text(encoding="utf-8")
    assert 'id="payback"' in text and "No payback within the curve." in text

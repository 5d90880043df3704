"""Loops under a horizon end where what is left of them can no longer change
a total, not at the horizon (issue 11: one-second delays under a year's
horizon took 7 s and 1.3 GB; a 1,000-year horizon with hourly renewals 15 s
and 820 MB; a 4-second renewal over 5 years was refused as JD408).

A renewal of weight w stops after the laps j with w^j <= TAIL (1e-17 of
its input: below double precision of any sum it feeds); a loop on its
lattice grows its room only while its tail runs on. The numbers are those
of the closed forms; the sizes are the number of distinct times kept.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import journeydsl
from journeydsl.simulate import simulate
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.exact import solve
from journeydsl.simulate.cycles import TAIL, _geometric, _laps
from journeydsl.simulate.series import Series
from journeydsl.simulate.timeline import Network, propagate

YEAR = 365 * 86_400


def test_laps_of_a_renewal():
    assert _laps(0.99) == math.ceil(math.log(TAIL) / math.log(0.99))  # 3,896
    assert 0.99 ** _laps(0.99) <= TAIL < 0.99 ** (_laps(0.99) - 1)
    assert _laps(0.0) == 0
    assert _laps(1.0) > 10**15  # a renewal nobody leaves: only the horizon ends it


@pytest.mark.parametrize("w", [0.5, 0.99, 0.9999])
def test_a_renewal_ends_at_its_tail_with_the_geometric_sum(w):
    horizon = 1000 * YEAR
    series = _geometric(np.array([7], np.int64), np.array([2.0]), w, 4, horizon)
    assert len(series.t) == _laps(w) + 1  # not 7.9 billion instants
    assert series.t[0] == 7 and np.all(np.diff(series.t) == 4)
    assert series.total() == pytest.approx(2.0 / (1 - w), rel=1e-14)


def test_a_renewal_nobody_leaves_runs_to_the_horizon():
    series = _geometric(np.array([0], np.int64), np.array([1.0]), 1.0, 3600, 30 * 86_400)
    assert len(series.t) == 30 * 24 and series.total() == 30 * 24


def test_inputs_at_many_residues_end_at_their_tail_too():
    # 5,000 inputs at distinct residues of an hourly renewal: unrolled lap by lap
    t = np.arange(5_000, dtype=np.int64) * 7 + 1
    x = np.full(len(t), 1e-3)
    series = _geometric(t, x, 0.9, 3600, 1000 * YEAR)
    assert len(series.t) <= len(t) * (_laps(0.9) + 1)
    assert series.total() == pytest.approx(x.sum() / 0.1, rel=1e-13)


def test_a_one_second_loop_under_a_year_ends_at_its_tail():
    # a -> b -> a, one second each way, 99% each (1,950 laps to the tail),
    # fed at 2,000 odd seconds: on its lattice (room grown as the tail runs
    # on), not 2,000 x 3,900 arrivals generation by generation
    net = Network(2, np.array([0, 1]), np.array([1, 0]), np.array([0.99, 0.99]),
                  np.array([1, 1]), YEAR)
    t = np.arange(2_000, dtype=np.int64) * 2 + 1
    arrivals = propagate(net, [Series(t, np.full(len(t), 1e-3)), Series()])
    assert arrivals[0].t[-1] < 20_000  # not 31 million instants
    lap = 0.99 * 0.99
    assert arrivals[0].total() == pytest.approx(2.0 / (1 - lap), rel=1e-13)
    assert arrivals[1].total() == pytest.approx(2.0 * 0.99 / (1 - lap), rel=1e-13)
    # every arrival time of b is odd + 1 (even), of a odd: the lattice keeps residues
    assert np.all(arrivals[1].t % 2 == 0) and np.all(arrivals[0].t % 2 == 1)


def test_second_delays_under_long_horizons_agree_with_the_algebra():
    text = '''journey "seconds" {
      horizon HORIZON
      stage s { touchpoint a { cost 0.001 }; touchpoint b { value 0.002 } }
      stage win { touchpoint paid { value 1 } }
      entry a
      a -> b 99% after 0.001h
      b -> a 99.9% after 0.001h, paid 0.05% after 1d
      paid -> paid 99% after 0.001h
      goal paid
    }'''
    free = solve(build_chain(journeydsl.loads(text.replace("horizon HORIZON", "")).journey,
                             "default"))
    for horizon in ("1y", "5y", "1000y"):
        result = journeydsl.loads(text.replace("HORIZON", horizon))
        assert result.ok, [d.message for d in result.diagnostics]  # no JD408
        report = simulate(result.journey).blended
        # walks end within days: the horizon cuts nothing but the last 1e-17
        for key in ("conversion", "revenue", "cost", "profit_converted"):
            assert getattr(report, key) == pytest.approx(getattr(free, key), rel=1e-12), key
        assert report.active_at_horizon == pytest.approx(0.0, abs=1e-12)


def test_a_long_tail_grows_its_lattice_up_to_the_cap(monkeypatch):
    # continuation 0.999 a lap of two one-second moves: 39,000 laps, 78,000
    # instants, between half the block cap and the cap. Doubling the room
    # must stop at the cap, not refuse the lattice (the generation-by-
    # generation fallback then took 240 s to give up with JD408).
    import journeydsl.simulate.cycles as cycles
    from journeydsl.simulate import lattice

    def no_fallback(*args):
        raise AssertionError("went generation by generation")

    monkeypatch.setattr(cycles, "_decay", no_fallback)
    net = Network(2, np.array([0, 1]), np.array([1, 0]), np.array([1.0, 0.999]),
                  np.array([1, 1]), 5 * YEAR)
    arrivals = propagate(net, [Series(np.zeros(1, np.int64), np.ones(1)), Series()])
    assert 70_000 < arrivals[0].t[-1] < lattice.LATTICE_BLOCKS
    assert arrivals[0].total() == pytest.approx(1 / (1 - 0.999), rel=1e-12)
    assert arrivals[1].total() == pytest.approx(1 / (1 - 0.999), rel=1e-12)


def test_a_move_slower_than_the_horizon_neither_fines_nor_pads_the_lattice(monkeypatch):
    # a -> b after 2 s, b -> a after 1 d, and b -> a after a year and a
    # second that never arrives before the 30-day horizon: its lag would pad
    # the lattice with 500 MB of zeros, and its delay would make the lattice
    # step 1 s instead of 2 s
    import journeydsl.simulate.cycles as cycles
    from journeydsl.simulate import lattice

    monkeypatch.setattr(cycles, "_decay", lambda *args: pytest.fail("no lattice"))
    net = Network(2, np.array([0, 1, 1]), np.array([1, 0, 0]), np.array([0.9, 0.5, 0.4]),
                  np.array([2, 86_400, YEAR + 1]), 30 * 86_400)
    arrivals = propagate(net, [Series(np.zeros(1, np.int64), np.ones(1)), Series()])
    laps = np.arange(30)  # lap j arrives at a at j (86,402 s): 30 of them before 30 days
    at_a = (0.9 * 0.5) ** laps[laps * 86_402 < 30 * 86_400]
    assert arrivals[0].total() == pytest.approx(at_a.sum(), rel=1e-13)
    assert list(arrivals[0].t) == [j * 86_402 for j in range(len(at_a))]

"""The Monte Carlo ledger's shortcuts against the plain computations they replace.

Each shortcut (radix sorts of whole days, batches as runs of numbers
counted by a search, the stays of many passes unrolled together, the
jackknife's replicates computed at once, the top share's cut taken from
its own partial sort) must give what the plain computation gives (exactly,
or to rounding where sums are regrouped): the outputs of a fixed seed stay
byte-identical."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import journeydsl.simulate.montecarlo.money as money_module
from journeydsl.metrics import METRIC, ratio
import journeydsl.simulate.montecarlo.stays as stays_module
from journeydsl.simulate.montecarlo.ledger import BATCHES, ENTRY_COLUMNS, Ledger
from journeydsl.simulate.montecarlo.profit_events import _by_key_then_time
from journeydsl.simulate.montecarlo.top import Earners, _linear_variance, _share

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("n, days, keys, fraction", [
    (0, 1, 1, 0.0), (1, 1, 1, 0.0), (5000, 1094, 6, 0.0), (20000, 3, 2, 0.0),
    (30000, 1094, 161, 0.0),  # key x days past 15 bits: by day, then by key
    (3000, 40000, 3, 0.0),  # days past 15 bits: lexsort
    (3000, 100, 40000, 0.0),  # keys past 15 bits: lexsort
    (5000, 700, 5, 1.0),  # fractional times: lexsort
])
def test_events_order_is_lexsorts(n, days, keys, fraction):
    rng = np.random.default_rng(n + days)
    key = rng.integers(0, keys, n).astype(np.int64)
    t = rng.integers(0, days + 1, n).astype(float) + rng.random(n) * fraction
    if fraction == 0.0:
        t[::7] = -0.0  # equal to 0.0 for lexsort: the same here
    assert np.array_equal(_by_key_then_time(key, t), np.lexsort((t, key)))


def _entering(salt: int, n: int = 1) -> Ledger:
    """A ledger of one pair and one entry step, for `enter` alone."""
    ledger = Ledger.__new__(Ledger)
    ledger.salt(salt)
    ledger.entry_index = np.zeros(1, np.intp)
    ledger.slot = np.empty(n, np.uint8)
    ledger.by_entry = np.zeros((1, 1, BATCHES, 8))
    return ledger


@pytest.mark.parametrize("count", [1, 2, 17, 1001, 200_000])
def test_batches_are_runs_and_members_per_batch_a_search(count):
    """Batches are runs of consecutive numbers of the drawn sizes; any sorted
    subset's members per batch (a flock's) are what counting labels gives."""
    ledger = _entering(count, 5 + count + 3)
    bounds, sizes = ledger.enter(0, 0, 5, count)
    assert np.array_equal(sizes, np.diff(bounds))
    assert bounds[0] == 5 and bounds[-1] == 5 + count and (sizes >= 0).all()
    assert np.array_equal(ledger.slot[5:5 + count], np.repeat(np.arange(BATCHES), sizes))
    assert np.array_equal(ledger.by_entry[0, 0, :, 0], sizes)
    rng = np.random.default_rng(count)
    for share in (0.0, 0.01, 0.5, 1.0):
        ids = np.flatnonzero(rng.random(count) < share) + 5
        assert np.array_equal(Ledger.per_batch(ids, bounds),
                              np.bincount(ledger.slot[ids], minlength=BATCHES))


def test_batch_sizes_vary_as_a_prospect_drawn_at_random_would():
    """Each prospect in a batch with chance 1/16, independently: a batch's
    size over many entries of 1600 has mean 100 and variance 1600/16 x 15/16
    (an even split, as numbers mod 16 give, has none and hid the variance
    of the entries' split). 4000 entries: the variance within 12% (4 of its
    standard errors) and the mean within 0.6 (6 of them)."""
    ledger = _entering(11, 1600)
    sizes = np.array([ledger.enter(0, 0, 0, 1600)[1] for _ in range(4000)])
    assert abs(sizes.mean() - 100.0) < 0.6
    var = sizes.var(axis=0, ddof=1)
    assert np.all(np.abs(var / (1600 / 16 * 15 / 16) - 1.0) < 0.12), var


def _stays_ledger(codes: int) -> Ledger:
    ledger = Ledger.__new__(Ledger)
    ledger.place_of_e = np.zeros(codes, np.intp)
    ledger._events, ledger._pending, ledger._later = [], 0, 0
    ledger.keys, ledger.times, ledger.amounts = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    return ledger


def test_stays_of_many_passes_unrolled_together_are_the_passes_unrolled_one_by_one():
    """The flush groups the stays of every pass since the last one: the same
    profit events as pass by pass, summed (fewer of them); and when the
    passes' stays together would unroll past the budget, it goes pass by pass."""
    rng = np.random.default_rng(5)
    base, delay = np.array([4.0, -3.0, 0.5, 9.0]), np.array([30.0, 30.0, 7.0, 365.0])
    passes = []
    for _ in range(6):  # a stay's a, log q and delay follow from its loop and start
        m = 300
        code = rng.integers(0, 4, m)
        t0 = rng.integers(0, 5, m).astype(float)
        visits = rng.geometric(0.05, m).astype(np.int64) * (1 + 2000 * (rng.random(m) < 0.01))
        passes.append((rng.integers(0, 3, m).astype(np.int64), code, t0, delay[code], visits,
                       base[code] * np.exp(-0.001 * t0), -0.003 * (1 + code)))
    together, apart = _stays_ledger(4), _stays_ledger(4)
    joined = tuple(np.concatenate(x) for x in zip(*passes))
    assert together._stay_events(joined, whole=True)
    for part in passes:
        assert apart._stay_events(part, whole=False)
    together._reduce()
    apart._reduce()
    (k1, t1, a1), (k2, t2, a2) = ((x.keys, x.times, x.amounts) for x in (together, apart))
    assert len(k1) > 1000
    assert np.array_equal(k1, k2) and np.array_equal(t1, t2)
    assert np.allclose(a1, a2, rtol=1e-12, atol=1e-12 * np.abs(a2).max())
    # a budget the passes fit one by one but not together: nothing booked
    # together, and each pass on its own unrolls in full (the same rule)
    def unrolled(stays) -> int:
        longest: dict = {}
        for key, code, t0, v in zip(*(x.tolist() for x in (stays[0], stays[1], stays[2],
                                                            stays[4]))):
            at = (key, code, t0)
            longest[at] = max(longest.get(at, 0), min(v, stays_module.STAY_EVENTS))
        return sum(longest.values())

    budget = max(unrolled(p) for p in passes)
    assert unrolled(joined) > budget
    saved = stays_module.STAY_BUDGET
    try:
        stays_module.STAY_BUDGET = budget
        small = _stays_ledger(4)
        assert not small._stay_events(joined, whole=True)
        assert not small._events
        assert all(small._stay_events(p, whole=True) for p in passes)
    finally:
        stays_module.STAY_BUDGET = saved


def _plain_numbers(place, entry, persona_of, mix, rates, stage, channel) -> np.ndarray:
    """money.py's numbers of one replicate, written plainly (a loop, floats,
    `metrics.ratio`): what the vectorized `_numbers` replaces."""
    E = entry.shape[1]
    by_entry, weight = np.zeros((E, len(ENTRY_COLUMNS) - 1)), np.zeros(E)
    money = np.zeros((place.shape[1], 3))
    for p, share in mix.items():
        mine = persona_of == p
        sums = entry[mine].sum(axis=0)
        per = place[mine].sum(axis=0) / max(float(sums[:, 0].sum()), 1.0)
        money = money + share * np.column_stack([per[:, 0], per[:, 1], per[:, 2] - per[:, 1]])
        for k in range(E):
            w = share * rates[p][k]
            if w > 0 and sums[k, 0] > 0:
                by_entry[k] += w * sums[k, 1:] / sums[k, 0]
                weight[k] += w
    out = [money.reshape(-1)]
    for number, count in (stage, channel):
        out.append(np.column_stack([np.bincount(number, weights=money[:, c], minlength=count)
                                    for c in range(3)]).reshape(-1))
    for k in range(E):
        row = by_entry[k] / weight[k] if weight[k] else np.full(len(ENTRY_COLUMNS) - 1, math.nan)
        known: dict = dict(zip(ENTRY_COLUMNS[1:], row.tolist()))

        def get(name):
            if name not in known:
                known[name] = ratio(METRIC[name], {x: get(x) for x in METRIC[name].of})
            return known[name]

        values = [get(name) for name in money_module._ROW]
        if any(math.isnan(v) for v in row):
            values = [None] * len(values)
        out.append(np.array([math.nan if v is None else v for v in values], float))
    return np.concatenate(out)


def test_numbers_of_every_replicate_at_once_are_the_plain_loops():
    """The jackknife's replicates computed together give, bit for bit, what
    the plain loop gives one replicate at a time: entries with no prospects,
    a zero conversion (undefined ratios), a negative profit, two personas."""
    rng = np.random.default_rng(2)
    pairs, steps, E = 4, 7, 3
    persona_of = np.array(["a", "b", "a", "b"])
    mix = {"a": 0.3, "b": 0.7}
    rates = {"a": np.array([0.5, 0.5, 0.0]), "b": np.array([0.2, 0.3, 0.5])}
    stage, channel = (np.array([0, 0, 1, 1, 2, 2, 2]), 3), (np.array([0, 1, 0, 1, 0, 1, 1]), 2)
    place = rng.random((5, pairs, steps, 3)) * 100 - 20
    entry = rng.random((5, pairs, E, 8)) * 50
    entry[..., 0] = rng.integers(0, 40, (5, pairs, E))
    entry[1, :, 2, 0] = 0.0  # no prospects at entry 2 in replicate 1
    entry[2, :, 1, 1] = 0.0  # no conversion at entry 1 in replicate 2
    entry[3, :, 0, 4] = -5.0  # a loss
    fast = money_module._numbers(place, entry, persona_of, mix, rates, stage, channel)
    for g in range(5):
        plain = _plain_numbers(place[g], entry[g], persona_of, mix, rates, stage, channel)
        assert np.array_equal(fast[g], plain, equal_nan=True), g


@pytest.mark.parametrize("fraction", [0.01, 0.08, 0.5, 0.9])
def test_top_share_cut_is_the_full_sorts(fraction):
    """Revenue with many ties (as flocks make) and earners holding less than
    the whole: the cut found by the share's partial sort is the one a full
    sort finds."""
    rng = np.random.default_rng(3)
    groups = [Earners(rng.choice([5.0, 40.0, 40.0, 120.0, 600.0], 3000),
                      rng.integers(1, 30, 3000).astype(float), 50_000.0, 1e-5 * (d + 1), d)
              for d in range(2)]
    share, cut = _share(groups, [g.count for g in groups], [g.zeros for g in groups], fraction)
    assert share is not None and cut is not None
    assert _linear_variance(groups, fraction, share, cut) == \
        _linear_variance(groups, fraction, share, None)


@pytest.mark.parametrize("reduce_at", [1 << 21, 5_000, 300])
def test_profit_events_made_when_summed_are_those_made_at_once(monkeypatch, reduce_at):
    """The pool's visits and the stays make their profit events only when a
    curve wants them (`Ledger._event_later`): the curves, payback and every
    other number are those of events made at once, also when the events
    are summed part way (`_REDUCE_AT`) before the curve is read."""
    import journeydsl
    import journeydsl.simulate.montecarlo.profit_events as events_module
    from journeydsl.simulate.montecarlo import monte_carlo

    journey = journeydsl.load("examples/saas_trial.journey").journey
    monkeypatch.setattr(events_module, "_REDUCE_AT", reduce_at)

    def run() -> dict:
        report = monte_carlo(journey, prospects=30_000, draws=2, seed=7)
        curve = report.blended.curve
        assert curve is not None
        events = [m.events(math.inf) for _, m in curve.parts]
        return {"json": report.as_dict(),
                "events": [(e.times.tolist(), e.gains.tolist()) for e in events]}

    later = run()
    made_at_once = []

    def at_once(self, make, bound):
        made_at_once.append(bound)
        for key, t, amount in make():
            self._event(key, t, amount)

    monkeypatch.setattr(Ledger, "_event_later", at_once)
    assert run() == later
    assert made_at_once  # (the run did leave events for later)


def test_a_dropped_report_is_freed_without_the_cycle_collector(monkeypatch):
    """The extras left for later hold the run's arrays, never the report or
    the ledger: a report dropped unread frees them at once (a cycle kept
    every run's arrays until the next collection: ~15 MB a run of
    1,000,000 prospects, and fresh memory for the next run to fault in)."""
    import gc
    import weakref

    import journeydsl
    from journeydsl.simulate.montecarlo import monte_carlo

    ledgers: list[weakref.ref] = []
    made = Ledger.__init__

    def remembered(self, *args, **kwargs):
        made(self, *args, **kwargs)
        ledgers.append(weakref.ref(self))

    monkeypatch.setattr(Ledger, "__init__", remembered)
    journey = journeydsl.load(EXAMPLES / "saas_trial.journey").journey  # stays, referrals
    gc.collect()
    gc.disable()
    try:
        report = monte_carlo(journey, prospects=20_000, draws=3, seed=1)
        assert report.blended.conversion > 0  # the means only: every extra still pending
        gone = weakref.ref(report)
        del report
        assert gone() is None
        assert ledgers and all(led() is None for led in ledgers)
    finally:
        gc.enable()

"""The Monte Carlo ledger's shortcuts against the plain computations they replace.

Each shortcut (radix sorts of whole days, batches counted two labels or
two bytes at a time, the top share's cut taken from its own partial sort)
must give exactly what the plain numpy call gives: the outputs of a fixed
seed stay byte-identical."""

from __future__ import annotations

import numpy as np
import pytest

from journeydsl.simulate.montecarlo.ledger import _PAIRED, _PAIRED_BYTES, Ledger, _by_key_then_time
from journeydsl.simulate.montecarlo.top import Earners, _linear_variance, _share


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


@pytest.mark.parametrize("count", [1, 2, 3, 1001, 2 * _PAIRED_BYTES + 1, 2 * _PAIRED_BYTES + 4])
def test_drawn_batches_and_their_counts(count):
    plain, fast = Ledger.__new__(Ledger), Ledger.__new__(Ledger)
    plain.salt(7)
    fast.salt(7)
    raw = np.frombuffer(plain._labels.bytes((count + 1) // 2), np.uint8)
    expected = np.concatenate([raw & 15, raw >> 4])[:count]  # two batches a byte
    out = np.empty(count, np.uint8)
    per_batch = fast._draw_batches(out)
    assert np.array_equal(out, expected)
    assert np.array_equal(per_batch, np.bincount(expected, minlength=16))


@pytest.mark.parametrize("count", [0, 1, 5, _PAIRED - 1, _PAIRED, _PAIRED + 1, 100_001])
def test_members_per_batch(count):
    ledger = Ledger.__new__(Ledger)
    rng = np.random.default_rng(count)
    ledger.batch = rng.integers(0, 16, 200_000).astype(np.uint8)
    ids = rng.choice(200_000, count, replace=False)
    assert np.array_equal(ledger.batches(ids), np.bincount(ledger.batch[ids], minlength=16))


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

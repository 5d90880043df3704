"""`gth.gth_inverses` inverts many small blocks at once and must give,
bit for bit, what `_gth_inverse` gives each block (the levers' and
attribution's goldens are byte-for-byte; a batched elimination that summed
differently would move their last digits), and must refuse the blocks
`_gth_inverse` refuses."""

from __future__ import annotations

import numpy as np
import pytest

from journeydsl.gth import gth_inverse as _gth_inverse
from journeydsl.gth import gth_inverses


def _blocks(rng: np.random.Generator, count: int, n: int, density: float) -> np.ndarray:
    """Sub-stochastic blocks: random sparsity, some rates of 1e-12, rows
    summing to between 0.001 and 1."""
    m = rng.random((count, n, n)) * (rng.random((count, n, n)) < density)
    m *= np.where(rng.random((count, n, n)) < 0.1, 1e-12, 1.0)
    rows = m.sum(axis=2, keepdims=True)
    scale = rng.random((count, n, 1)) * 0.999 + 0.001
    return np.where(rows > 0, m / np.maximum(rows, 1e-300) * scale, m)


@pytest.mark.parametrize("n", [*range(1, 13), 49, 60])  # (over 48: the row-by-row elimination)
def test_batched_inverses_equal_the_single_ones_bit_for_bit(n):
    rng = np.random.default_rng(n)
    for density in (0.2, 0.5, 0.9):
        m = _blocks(rng, 40, n, density)
        m[0] /= np.maximum(m[0].sum(axis=1, keepdims=True), 1e-300)  # rows of 1: maybe closed
        m[1, 0, 0] = -0.1  # negative: refused
        m[2, -1, -1] = 1.5  # a row above 1: refused
        inverses, ok = gth_inverses(m)
        for b in range(len(m)):
            single = _gth_inverse(m[b])
            assert (single is not None and np.isfinite(single).all()) == ok[b], (n, b)
            if single is not None and ok[b]:
                assert np.array_equal(single, inverses[b]), (n, density, b)
        assert not ok[1] and not ok[2]


def test_batched_inverses_are_inverses():
    m = _blocks(np.random.default_rng(0), 20, 5, 0.6)
    inverses, ok = gth_inverses(m)
    assert ok.all()
    for b in range(len(m)):
        np.testing.assert_allclose(inverses[b] @ (np.eye(5) - m[b]), np.eye(5), atol=1e-9)


def _generated(**options):
    import importlib.util
    from pathlib import Path

    import journeydsl

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_simulate_exact.py"
    spec = importlib.util.spec_from_file_location("bench_simulate_exact", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return journeydsl.loads(bench.generate(**options)).journey


@pytest.mark.parametrize("options", [dict(steps=400, profitable=True),
                                     dict(steps=300, personas=2, seed=3)])
def test_levers_of_batched_loops_equal_those_of_loops_one_by_one(options, monkeypatch):
    """The levers' N[t, s] entries of a journey with a hundred short loops:
    batched by size (and shared between the blocks with and without the
    goal steps) as taken one loop at a time, bit for bit."""
    from journeydsl.simulate import loop_entries
    from journeydsl.simulate.levers import levers

    journey = _generated(**options)
    batched = levers(journey)
    monkeypatch.setattr(loop_entries, "SMALL_LOOP", 0)
    one_by_one = levers(journey)
    assert [tuple(x) for x in batched] == [tuple(x) for x in one_by_one]
    assert sum(x.movable for x in batched) > 100


def test_remembered_dense_inverses_are_shared_read_only_and_equal_fresh_ones():
    from journeydsl.gth import dense_inverse
    from journeydsl.linalg import LU

    row, col = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 0])
    val = np.array([0.5, 0.2, 0.3, 1e-12])
    pos = np.array([2, 0, 1])
    first, again = LU(3, row, col, val, pos), LU(3, row.copy(), col.copy(), val.copy(), pos)
    assert first.inverse is again.inverse  # one system, inverted once
    assert np.array_equal(first.inverse, dense_inverse(3, row, col, val, pos))
    with pytest.raises(ValueError):
        first.inverse[0, 0] = 0.0
    other = LU(3, row, col, val * 0.5, pos)  # another system: its own inverse
    assert not np.array_equal(other.inverse, first.inverse)


def test_a_remembered_inverse_reads_its_moves_whatever_their_integer_width():
    """The memory's key is the moves' bytes: moves given as int32 (or rates
    as float32) must give the inverse of the same system, not of their bytes
    read as int64."""
    from journeydsl.gth import dense_inverse

    row, col = np.array([0, 1, 2]), np.array([1, 2, 0])
    val = np.array([0.5, 0.25, 0.125])
    wide = dense_inverse(3, row, col, val, None)
    narrow = dense_inverse(3, row.astype(np.int32), col.astype(np.int32),
                           val.astype(np.float32).astype(np.float64), None)
    assert np.array_equal(wide, narrow)
    m = np.zeros((3, 3))
    m[row, col] = val
    assert np.allclose(wide @ (np.eye(3) - m), np.eye(3))

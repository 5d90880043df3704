"""lever_changes._reached (a breadth-first search in scipy) against a
plain Python search, on random graphs with loops, repeated moves and
steps without any."""

from __future__ import annotations

import numpy as np

from journeydsl.simulate.lever_changes import _reached


def reference(n: int, start: np.ndarray, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
    seen = start.copy()
    out: dict[int, list[int]] = {}
    for a, b in zip(frm.tolist(), to.tolist()):
        out.setdefault(a, []).append(b)
    todo = np.flatnonzero(seen).tolist()
    while todo:
        for b in out.get(todo.pop(), ()):
            if not seen[b]:
                seen[b] = True
                todo.append(b)
    return seen


def test_reached_is_what_a_plain_search_finds() -> None:
    rng = np.random.default_rng(7)
    found_some = 0
    for _ in range(300):
        n = int(rng.integers(1, 60))
        m = int(rng.integers(0, 150))
        frm, to = rng.integers(0, n, m), rng.integers(0, n, m)
        start = rng.random(n) < rng.random() * 0.3
        want = reference(n, start, frm, to)
        got = _reached(n, start, frm, to)
        assert got.dtype == bool and got.tolist() == want.tolist()
        assert _reached(n, start, to, frm).tolist() == reference(n, start, to, frm).tolist()
        found_some += int(want.sum() > start.sum())
    assert found_some > 100  # (the searches went somewhere)

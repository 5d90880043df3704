"""`per customer` rates: each walker draws its own rate once, and keeps it.

A move written `beta(a, b) per customer` (or `LO..HI per customer`) has a
rate of its own for every prospect: the walker draws it from that
distribution the first time it leaves the move's source step (a draw
taken then or at entry is the same draw: nothing before uses it), keeps it
in the pool (`_Pool.own`, NaN until drawn), and every time it leaves that
step takes the move with its own probability p; otherwise it goes to one of
the step's other outcomes in their declared proportions (the other moves
share what p leaves: a declared rate r is r (1 - p) / (1 - mean p)). A
self-loop with such a rate is a stay of geometric(1 - p) moves, the
walker's own p (loops.py). Referred prospects are new walkers: they draw
their own.
"""

from __future__ import annotations

import numpy as np

from .bins import Tables

#: A drawn rate stays below 1 by this much (numpy's beta can round to 1.0,
#: and a customer certain to stay would never leave a loop).
_TOP = 1.0 - 2.0 ** -53


def choose(eng: Tables, rng: np.random.Generator, code: np.ndarray, e: np.ndarray,
           own: np.ndarray) -> None:
    """Redraw, in `code`, the next move of the walkers on a step whose move
    has a `per customer` rate, by their own rates (`own`, drawn now for
    those that have none yet)."""
    which = eng.own_of_row.take(eng.row.take(e))
    idx = (which >= 0).nonzero()[0]
    if not len(idx):
        return
    which = which.take(idx)
    rate = own.take(idx)
    new = np.isnan(rate).nonzero()[0]
    if len(new):
        rate[new] = draw(eng, rng, which.take(new))
        own[idx.take(new)] = rate.take(new)
    takes = rng.random(len(idx)) < rate
    assert eng.own_exits is not None  # built whenever there is such a move
    other = eng.own_exits.draw_at(np.left_shift(which, eng.own_exits.shift), rng)
    code[idx] = np.where(takes, eng.own_code.take(which), other)


def draw(eng: Tables, rng: np.random.Generator, which: np.ndarray) -> np.ndarray:
    """One rate per walker, from the distribution of its world's move:
    Beta(a, b) stretched onto [low, high] (a range is Beta(1, 1))."""
    a, b, low, high = eng.own_shape.take(which, axis=0).T
    return np.minimum(low + (high - low) * rng.beta(a, b), _TOP)

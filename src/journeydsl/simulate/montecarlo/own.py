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

The paired walk of `--compare` (crn.py) draws the same rates differently
(`PairedOwn`): by inverse transform from one uniform per prospect, shared
by every variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chain import Chain
from ..quadrature import Draw
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


@dataclass(frozen=True)
class PairedOwn:
    """A variant's `per customer` move in the paired walk (crn.py), whose
    moves are rows of one cumulative table (`crn._tables`, built at the
    move's mean rate): the walker's own rate p replaces that row.

    Prospect i's rate is the inverse CDF of the variant's distribution at
    one uniform V[i], the same in every variant, so a scenario that moves
    the distribution moves each customer's rate by a little (the customers
    keep their rank). At the source step the move's own uniform u (the one
    every variant shares) takes the move when u < p; otherwise (u - p) /
    (1 - p), uniform given that, picks among the other moves in their
    declared proportions (what p leaves), or the end. A walker whose p and u
    fall on the same side in two variants moves the same way in both."""

    source: int
    take: int  # the move's position in the table
    others: np.ndarray  # positions of the step's other moves, then `end`
    cumulative: np.ndarray  # their cumulative probabilities given the move not taken
    draw: Draw

    @classmethod
    def of(cls, chain: Chain, src: np.ndarray, dst: np.ndarray, prob: np.ndarray,
           end: int) -> PairedOwn | None:
        """From the table's moves (source, target, rate, in its order) and
        the position that ends a walk; None without a `per customer` move."""
        if not chain.per_customer:
            return None
        ((s, t), amount), = chain.per_customer.items()  # at most one (JD314)
        found = np.flatnonzero((src == s) & (dst == t))
        if not len(found):
            return None
        take = int(found[0])
        others = np.flatnonzero(src == s)
        others = others[others != take]
        left = 1.0 - float(prob[take])  # what the mean rate leaves
        given = prob[others] / left if left > 0 else np.zeros(len(others))
        return cls(s, take, np.append(others, end), np.cumsum(given), Draw.of(amount))

    def rates(self, v: np.ndarray) -> np.ndarray:
        """The rates of the customers at quantiles v of the distribution."""
        from scipy.special import betaincinv  # the beta quantile function

        d = self.draw
        x = v if d.a == 1.0 and d.b == 1.0 else betaincinv(d.a, d.b, v)
        return np.minimum(d.low + (d.high - d.low) * x, _TOP)

    def choose(self, position: np.ndarray, at: np.ndarray, u: np.ndarray,
               p: np.ndarray) -> None:
        """Set `position[at]` (the table positions of walkers `at` on the
        source step, by their moves' uniforms `u` and rates `p`)."""
        given = (u - p) / (1.0 - p)
        other = self.others[np.searchsorted(self.cumulative, given, side="right")]
        position[at] = np.where(u < p, self.take, other)

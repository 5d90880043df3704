"""Flocks: entering prospects that share their whole history so far.

Prospects entering at the same step have the same state (time 0, nothing
earned, nothing seen), and after the same moves they still do: time,
money, conversion and seen steps all follow from the path. Such walkers
need no arrays of their own for that state: a flock keeps it once, with
the numbers of its members. Each member still draws its own next move
(random bits, and a table read for those whose bits fall below the row's
end bins), so every transition is a draw of one walker; but the walks
that end, most of them at the first steps, are booked once per flock,
and those that move on are split by their draw into the next flocks.
A flock too small for that to pay (its bookkeeping costs a few dozen
numpy calls) joins the pool of walkers in flight, one walker each; so
does a flock that reaches a renewal loop, where the pool's runs (see
loops.py) move it many months a pass instead of one a flock step, and one
that reaches a step whose move has a `per customer` rate (each walker then
draws with its own rate, own.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import referrals
from .books import CUT, ENDED, Books
from .bins import LOOP, OWN, Tables

FLOCK_MIN = 2048  # smaller flocks join the pool
FLOCK_DEPTH = 64  # moves a flock makes at most before joining the pool


@dataclass
class Flock:
    """Walkers that drew the move `code` (or "enter at a step") at time `t`,
    and have not made it yet: the state a walker joins the pool in."""

    ids: np.ndarray  # its members (entering prospect numbers)
    code: int
    t: float
    converted: bool
    money: complex  # discounted value + 1j * cost so far
    gain: complex  # discounted margin x value + 1j * cost before the first goal visit
    seen: int  # first-visit bits of the tracked steps seen so far
    bounds: np.ndarray  # the ledger's batches of its members' entry (Ledger.enter)
    depth: int = 0
    batches: np.ndarray | None = None  # members per ledger batch (None: not counted yet)


class Flocks:
    """Walks entering prospects in flocks until the flocks get small."""

    def __init__(self, eng: Tables, books: Books, rng, join: Callable, counts, lo: int) -> None:
        self.eng, self.books, self.rng, self.join = eng, books, rng, join
        self.counts, self.lo = counts, lo  # per-walker visit counts (or None)
        self.transitions = self.moves = 0

    def enter(self, i: int, first_id: int, k: int) -> None:
        """k entering prospects of pair i (numbered first_id...)."""
        eng, books = self.eng, self.books
        steps, p = eng.entry[i]
        stack = []
        for s, c in zip(steps, self.rng.multinomial(k, p)):
            s, c = int(s), int(c)
            if c:
                books.starts[i, s] += c
                bounds, batches = books.ledger.enter(i, s, first_id, c)
                ids = np.arange(first_id, first_id + c, dtype=np.intp)
                stack.append(Flock(ids, 2 * i * eng.S + eng.E_max + s, 0.0, False, 0j, 0j, 0,
                                   bounds, batches=batches))
                first_id += c
        while stack:
            flock = stack.pop()
            if (len(flock.ids) < FLOCK_MIN or flock.depth >= FLOCK_DEPTH
                    or eng.flags[eng.row[flock.code]] & (LOOP | OWN)):
                self._join(flock)
            else:
                stack += self._step(i, flock)

    def _join(self, c: Flock) -> None:
        # (its acquisition cost stands only once converted: walk.py)
        if c.converted and self.books.record.profit:
            self.books.acquired(c.ids, np.full(len(c.ids), c.gain.imag))
        self.join(c.ids, c.code, c.t, c.converted, c.money, c.gain.real, c.seen)

    def _visit(self, i: int, c: Flock):
        """Make the flock's move and book its visit: (time, row), or None when
        the move arrives at or after the horizon."""
        eng, books, rng = self.eng, self.books, self.rng
        code, n = c.code, len(c.ids)
        t = c.t + float(eng.delay[code])
        if t >= eng.horizon:  # active at the horizon
            books.stop_flock(CUT, i, -1, c, n, c.ids)
            return None
        if not c.converted and eng.goal_e[code]:
            c.converted = True
            books.convert_flock(i, c, t)
        j = code - 2 * i * eng.S
        if j < eng.E_max:  # a move (entries are counted as starts)
            books.edge_counts[i, j] += n
        row = int(eng.row[code])
        factor = eng.daily_discount ** t
        earned = complex(eng.money[code]) * factor
        c.money += earned
        gained = complex(eng.gain[code]) * factor
        books.ledger.flock_visit(i, c, int(eng.tgt[code]), t, earned, gained.real)
        c.gain += complex(gained.real, 0.0) if c.converted else gained
        c.seen |= int(eng.bits[code])
        if self.counts is not None:
            for lookup in (eng.track_step_e, eng.track_stage_e):
                if lookup[code] >= 0:
                    self.counts[lookup[code], c.ids - self.lo] += 1
        if eng.ref_code[code]:
            referrals.from_visits(eng, books, rng, c.ids, np.full(n, row, np.intp), np.full(n, t))
        return t, row

    def _step(self, i: int, c: Flock) -> list[Flock]:
        """The flock's move and visit, then its members' next moves: book the
        walks that end and return the flocks of the others."""
        eng, books = self.eng, self.books
        visit = self._visit(i, c)
        if visit is None:
            return []
        t, row = visit
        n = len(c.ids)
        go, outcome = eng.sampler.draw_row(row, n, self.rng)
        self.transitions += n
        self.moves += len(go)
        ids = c.ids.take(go)
        # the ledger books walks by batch: the members going on per batch
        # (a search: batches are runs of numbers), those ending the rest
        members = books.ledger.members(c)
        going = members if len(go) == n else books.ledger.per_batch(ids, c.bounds)
        if len(go) < n:
            ended = c.ids
            if books.keep:  # who ends: needed for the per-prospect arrays only
                mask = np.ones(n, bool)
                mask[go] = False
                ended = c.ids[mask]
            books.stop_flock(ENDED, i, int(eng.tgt[c.code]), c, n - len(go), ended,
                             members - going)
        if not len(go):
            return []
        found = np.bincount(outcome).nonzero()[0]
        return [Flock(ids if len(found) == 1 else ids[outcome == o], int(o), t, c.converted,
                      c.money, c.gain, c.seen, c.bounds, c.depth + 1,
                      going if len(found) == 1 else None)
                for o in found]

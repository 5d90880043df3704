"""The profit events of the ledger (ledger.py): (key, time, amount) rows,
summed by (key, time) as they pile up and when read.

Only a profit curve (payback, `--curve`) reads them, so the ledger may
leave rows to be made when they are summed (`_event_later`): the pool's
visits and the self-loop stays. The sums stay those of rows made at once:
a row left for later keeps its place in the order (the sums within a
(key, time) add in that order), and the rows are summed at the same
counts (`_REDUCE_AT`; rows left for later are made as soon as their bound
could pass it, and counted exactly then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_REDUCE_AT = 1 << 21  # profit events gathered before they are summed by (entry, time)


class ProfitEvents:
    """The ledger's profit events (a base class: the ledger's own state)."""

    keys: np.ndarray  # pair * E + entry, by event (summed so far)
    times: np.ndarray
    amounts: np.ndarray

    def _init_events(self) -> None:
        # gathered, in order: (key, t, amount), or a function making a list
        # of them when they are summed (`_event_later`)
        self._events: list[Any] = []
        self._pending = 0
        self._later = 0  # at most this many events still to be made
        self.keys = np.zeros(0, np.int64)
        self.times = np.zeros(0)
        self.amounts = np.zeros(0)

    def room_for_later(self, bound: int) -> bool:
        """Whether `bound` more events can be left for later (no sum can be
        due before they are made)."""
        return self._pending + self._later + bound <= _REDUCE_AT

    def _event(self, key, t, amount) -> None:
        self._events.append((np.asarray(key, np.int64), np.asarray(t, float),
                             np.asarray(amount, float)))
        self._pending += len(key)
        self._sum_when_many()

    def _event_later(self, make: Callable[[], list[tuple]], bound: int) -> None:
        """Events made by `make` (at most `bound` of them) when they are
        summed: only a profit curve wants them, and a run read for its means
        never sums them. The sums stay the same: the events keep their
        place in the order, and are summed at the same counts (`_REDUCE_AT`:
        made as soon as the bound could pass it)."""
        self._events.append(make)
        self._later += bound
        self._sum_when_many()

    def _sum_when_many(self) -> None:
        if self._pending + self._later > _REDUCE_AT:
            self._make_events()
            if self._pending > _REDUCE_AT:
                self._reduce()

    def _make_events(self) -> None:
        """Make the events left for later, in their place."""
        if not self._later:
            return
        made: list = []
        for x in self._events:
            if callable(x):
                for key, t, amount in x():
                    made.append((np.asarray(key, np.int64), np.asarray(t, float),
                                 np.asarray(amount, float)))
                    self._pending += len(key)
            else:
                made.append(x)
        self._events, self._later = made, 0

    def _reduce(self) -> None:
        """Sum the events gathered so far by (key, time)."""
        self._make_events()
        if not self._events:
            return
        key = np.concatenate([self.keys] + [x[0] for x in self._events])
        t = np.concatenate([self.times] + [x[1] for x in self._events])
        amount = np.concatenate([self.amounts] + [x[2] for x in self._events])
        self._events, self._pending = [], 0
        order = _by_key_then_time(key, t)
        key, t, amount = key.take(order), t.take(order), amount.take(order)
        new = np.ones(len(key), bool)
        new[1:] = (key[1:] != key[:-1]) | (t[1:] != t[:-1])
        starts = new.nonzero()[0]
        self.keys, self.times = key.take(starts), t.take(starts)
        self.amounts = np.add.reduceat(amount, starts) if len(starts) else amount


def _by_key_then_time(key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """`np.lexsort((t, key))`, the stable order by key then time, sped up for
    the usual case: visits on whole days (every delay in days), keys and
    days below 2^15, where the stable sorts are radix sorts of 16-bit
    numbers (sorting the times took most of the run's reduce): one of
    key x (days + 1) + day when that fits, else by day then by key."""
    if not len(key):
        return np.zeros(0, np.intp)
    last, top = float(t.max()), int(key.max())
    if (float(t.min()) < 0 or last >= 1 << 15 or top >= 1 << 15
            or not (t == np.rint(t)).all()):
        return np.lexsort((t, key))
    day = t.astype(np.int16)  # whole days: as exact, equal where t is
    if (top + 1) * (last + 1.0) < 1 << 15:
        day += (key * (int(last) + 1)).astype(np.int16)
        return np.argsort(day, kind="stable")
    by_day = np.argsort(day, kind="stable")
    return by_day.take(np.argsort(key.take(by_day).astype(np.int16), kind="stable"))

"""The ledger: the money of entering prospects by place, by entry and over time.

The books (books.py) keep what the headline metrics need per pair. The
unit economics of version 2 also want, per pair (persona x draw):

- money by place: the discounted value, cost and margin x value of the
  visits to each step (stages and channels are sums of steps);
- by entry: each entry step's prospects' counts and per-walk sums
  (conversion, revenue, cost, profit, acquisition cost, the net margin of
  converting walks, the conversion-weighted time);
- the profit events: (entry, time, discounted margin x value - cost) of
  every visit, summed by (entry, time), from which the cumulative profit
  curve F(t) and payback are read as the exact engine reads them.

Money and by-entry sums are kept per *batch* of prospects (of sizes drawn
as they enter: `Ledger.enter`): prospects are independent, so the batches
are independent samples, and a statistic recomputed without each batch in
turn (the jackknife) gives its standard error, ratios included (money.py).
Only entering prospects count (referred ones are left out of the metrics).

The walk reports visits, stays and stops pass by pass, a few thousand
walkers each: they are gathered and summed a few numpy calls for all of
them (`flush`), the flocks' (one row each) likewise.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .bins import Tables
from .profit_events import ProfitEvents
from .record import Record
from .stays import STAY_EVENTS, unroll, unrolled
from .sums import spread, sum_by

BATCHES = 16  # batches of prospects (jackknife groups)
# (count, conversion, revenue, cost, profit, acquisition cost,
#  profit of converting walks, conversion-weighted time): by-entry columns
ENTRY_COLUMNS = ("count", "conversion", "revenue", "cost", "profit", "acquisition_cost",
                 "profit_converted", "time_converted")
_FLUSH_AT = 1 << 19  # pool visits, stays and stops gathered before they are summed
_EVEN = np.full(BATCHES, 1.0 / BATCHES)  # a prospect's chance to be in each batch


class Ledger(ProfitEvents):
    """Per (pair, batch) sums of the money by step and by entry, and the
    profit events per (pair, entry step)."""

    def __init__(self, eng: Tables, block: np.ndarray, salt: int = 0,
                 record: Record = Record.ALL) -> None:
        self.salt(salt)
        # the families summed (record.py); the others are not even gathered
        self.record = record
        # the per-code tables `close` needs, not the walk's whole Tables:
        # the report keeps the ledger (its profit events, read later), and
        # the samplers' tables need not stay with it
        self.P, self.n = P, n = eng.P, eng.n
        self._codes = (eng.pair_of, eng.money, eng.gain)
        self.N0 = int(block[-1])
        self.block = block
        steps = sorted({int(s) for s, _ in eng.entry for s in s})
        self.entries = steps  # entry step numbers (any pair's)
        self.entry_index = np.full(n, -1, np.intp)
        self.entry_index[steps] = np.arange(len(steps))
        E = len(steps)
        self.E = E
        # [pair, batch, step, (value, cost, margin x value)]
        self.place = np.zeros((P, BATCHES, n, 3))
        self.by_entry = np.zeros((P, E, BATCHES, len(ENTRY_COLUMNS)))
        # per entering prospect, each written as it enters (every one does
        # before it is looked up): uninitialized, and small for the gathers
        # -> entry index x BATCHES + batch (one gather for both)
        self.slot = np.empty(self.N0, np.uint8 if E * BATCHES <= 256
                             else np.uint16 if E * BATCHES <= 1 << 16 else np.int32)
        self._init_events()
        # what the walk reports, gathered until `flush` sums it: pool visits
        # (slot, code, t, discount factor), stays (slot: entry x BATCHES +
        # batch, code, start, delay, visits, discount factors summed, a, log q:
        # `stays`), stopped walks (pair, walker, value, cost, margin x value,
        # acquisition, converted), conversions (pair, walker, time), and the
        # flocks' (by batch: rows of Python numbers, one per flock)
        self._visits: list[tuple] = []
        self._stays: list[tuple] = []
        self._stops: list[tuple] = []
        self._conversions: list[tuple] = []
        self._flock_visits: list[tuple] = []
        self._flock_events: list[tuple[int, float, float]] = []
        self._flock_stops: list[tuple] = []
        self._flock_conversions: list[tuple] = []
        self._gathered = 0
        # by edge code: the place cell of its target step, batch 0, and the
        # pair's first event key (END and DEAD: pair P, never looked up)
        self.place_of_e = eng.pair_of * (BATCHES * n) + eng.tgt
        self.event_of_e = eng.pair_of * E
        self.profit_of_e = eng.gain.real - eng.money.imag  # a visit's, before discounting
        # the pool's visits: their discount factors summed by [batch, code]
        self._by_code = np.zeros((BATCHES, len(eng.tgt) if record.place else 0))
        # by slot (entry x BATCHES + batch): its batch's first cell of `_by_code`
        self._batch_cell = (np.arange(E * BATCHES) % BATCHES) * len(eng.tgt)

    def salt(self, salt: int) -> None:
        """Seed the batches' own generator (run.py: from the run's seed)."""
        self._labels = np.random.default_rng(salt)

    # ---- entering
    def enter(self, i: int, step: int, first_id: int,
              count: int) -> tuple[np.ndarray, np.ndarray]:
        """`count` prospects of pair i numbered from first_id enter at `step`:
        returns their batches' bounds (prospect numbers: batch b is
        bounds[b]..bounds[b+1]-1) and sizes (how many in each batch).

        How many fall in each batch is drawn (multinomial, from a generator
        of the run's own salt, never the walk's stream); who falls in which
        is by number, each batch a run of consecutive numbers. That is as
        good as a label drawn per prospect: prospects entering together are
        exchangeable (the walk draws each one's moves independently of its
        number), so which of them make up a batch of a given size does not
        matter, only its size does; and drawn sizes keep the variance of
        the entries' split (every batch the same share of each entry, as
        numbers mod BATCHES would give, hid it: a cost paid at entry came
        out 19 standard errors off). Random each run, the partition is no
        fixed one either (a fixed hash of the number, balanced by chance,
        made every run's standard error 17% too small on a test journey).
        Being runs, a flock's members per batch are a search in its sorted
        members (`per_batch`), not a count of labels."""
        k = int(self.entry_index[step])
        per_batch = self._labels.multinomial(count, _EVEN)
        bounds = np.empty(BATCHES + 1, np.intp)
        bounds[0] = first_id
        np.cumsum(per_batch, out=bounds[1:])
        bounds[1:] += first_id
        # the slots of the run first_id.. in one write (not one per batch)
        slots = np.arange(k * BATCHES, (k + 1) * BATCHES, dtype=self.slot.dtype)
        self.slot[first_id:first_id + count] = np.repeat(slots, per_batch)
        self.by_entry[i, k, :, 0] += per_batch
        return bounds, per_batch

    @staticmethod
    def per_batch(ids: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """How many of the entering prospects `ids` (sorted, all of one
        `enter`, whose batches' bounds are `bounds`) are in each batch."""
        # (a slice difference, not np.diff: a flock step makes a few of
        # these, and np.diff's Python-level checks cost more than the search)
        at = ids.searchsorted(bounds)
        return at[1:] - at[:-1]

    def entry(self, c) -> int:
        """The entry index of flock c's members."""
        return int(self.slot[c.ids[0]]) // BATCHES

    def members(self, c) -> np.ndarray:
        """Flock c's members per batch (counted once, then kept on it)."""
        if c.batches is None:
            c.batches = self.per_batch(c.ids, c.bounds)
        return c.batches

    # ---- what the walk reports: gathered, summed by `flush`
    def visits(self, w, e, t, earned, disc) -> None:
        """Visits of pool walkers `w` at codes `e` (times t), earning `earned`
        (value + 1j * cost, discounted: the code's money times `disc`, the
        discount factor at t, None: 1)."""
        if not self.record.visits:
            return
        on = ((earned != 0) & (w < self.N0)).nonzero()[0]
        if len(on):
            who = w.take(on)
            self._visits.append((self.slot.take(who), e.take(on),
                                 t.take(on), np.ones(len(on)) if disc is None else disc.take(on)))
            self._gather(len(on))

    def flock_visit(self, i: int, c, step: int, t: float, earned: complex,
                    margin_value: float) -> None:
        """Flock c's members (entering prospects of pair i) visit `step` at t."""
        if earned and self.record.visits:
            self._flock_visits.append((i, step, self.members(c), earned.real, earned.imag,
                                       margin_value))
            self._flock_events.append((i * self.E + self.entry(c), t,
                                       len(c.ids) * (margin_value - earned.imag)))

    def stays(self, w, own, t_run, step, visits, earned, weight, profit_at) -> None:
        """Self-loop stays (loops.py): walker w makes `visits` visits to the
        step of code `own`, at t_run + j * step (j = 1..visits), earning
        `earned` (value + 1j cost) in all: the code's money times `weight`,
        the visits' discount factors summed; the j-th visit's discounted
        profit is a * q^j with (a, log q) = `profit_at(walker indexes)`
        (unrolled in time by `_stay_events`)."""
        if not self.record.visits:
            return
        on = ((earned != 0) & (w < self.N0) & (visits > 0)).nonzero()[0]
        if len(on):
            a, log_q = profit_at(on)
            who = w.take(on)
            self._stays.append((self.slot.take(who), own.take(on),
                                t_run.take(on), step.take(on), visits.take(on).astype(np.int64),
                                weight.take(on), a, log_q))
            self._gather(len(on))

    def walks(self, pair, slot, value, cost, margin_value, acquisition, cv) -> None:
        """Entering walkers (of pairs `pair`, in slots `slot`: `self.slot` of
        their numbers, taken by the books as they stop, a byte each, not
        their numbers) stop with their totals."""
        if not self.record.by_entry:
            return
        self._stops.append((pair, slot, value, cost, margin_value, acquisition, cv))
        self._gather(len(slot))

    def flock_walks(self, i: int, c, per_batch: np.ndarray) -> None:
        """Members of flock c (of pair i), `per_batch` of them in each batch, stop."""
        if not self.record.by_entry:
            return
        profit = c.gain.real - c.money.imag
        converted = float(c.converted)
        self._flock_stops.append((i * self.E + self.entry(c), per_batch,
                                  (converted, c.money.real, c.money.imag, profit, c.gain.imag,
                                   converted * (profit + c.gain.imag))))

    def flock_converted(self, i: int, c, time: float) -> None:
        if not self.record.by_entry:
            return
        self._flock_conversions.append((i * self.E + self.entry(c),
                                        self.members(c), time))

    def converted(self, pair, w, time) -> None:
        """Entering walkers `w` (of pairs `pair`) convert at `time` (the books
        have left the referred ones out already)."""
        if len(w) and self.record.by_entry:
            self._conversions.append((pair, w, time))
            self._gather(len(w))

    def _gather(self, count: int) -> None:
        self._gathered += count
        if self._gathered > _FLUSH_AT:
            self.flush()

    # ---- summing
    def close(self) -> None:
        """Sum everything gathered (before `place` or `by_entry` are read; the
        profit events' last sum waits for `events`: only a payback or a
        profit curve reads them)."""
        self.flush()
        # the pool's visits by (batch, code) into money by (pair, batch, step)
        if self._by_code.any():
            pair_of, money, gain = self._codes
            live = (pair_of < self.P).nonzero()[0]  # codes of a pair (not END, DEAD)
            cell = self.place_of_e.take(live) + self.n * np.arange(BATCHES)[:, None]
            weight = self._by_code[:, live]
            self._place(cell.reshape(-1), *((weight * x.take(live)).reshape(-1)
                                            for x in (money.real, money.imag, gain.real)))
            self._by_code[:] = 0.0

    def flush(self) -> None:
        """Sum what the walk reported since the last flush: a few numpy calls
        for all of it, not a few per pass (the passes' arrays are small)."""
        self._gathered = 0
        places = []  # (batch, code, discount factors summed)
        if self._visits:
            slot, e, t, weight = _joined(self._visits)
            self._visits = []
            if self.record.place:
                places.append((self._code_key(slot, e), weight))

            # (the tables as defaults, not `self`: a ledger holding a function
            # that holds it would wait for the cycle collector to be freed)
            def visit_events(slot=slot, e=e, t=t, weight=weight, event_of_e=self.event_of_e,
                             profit_of_e=self.profit_of_e) -> list[tuple]:
                ekey = (slot // BATCHES).astype(np.int64)
                ekey += event_of_e.take(e)
                return [(ekey, t, profit_of_e.take(e) * weight)]

            if self.record.curve:
                self._event_later(visit_events, len(slot))
        if self._stays:
            parts, self._stays = self._stays, []
            slot, code, t0, d, v, weight, a, log_q = _joined(parts)
            if self.record.place:
                places.append((self._code_key(slot, code), weight))
            if self.record.curve:
                self._book_stay_events(parts, slot, code, t0, d, v, weight, a, log_q)
        if places:
            # by (batch, code): a visit's money is its code's times its
            # discount factor, so one sum per cell does for value, cost and
            # margin x value (made money by step at `close`). The stays are
            # added after the visits, in order (np.add.at), as one bincount
            # of both joined would add them, without joining the visits'
            key, weight = places[0]
            sums = np.bincount(key, weights=weight, minlength=self._by_code.size)
            for key, weight in places[1:]:
                np.add.at(sums, key, weight)
            self._by_code.reshape(-1)[:] += sums
        if self._stops:
            pair, slot, value, cost, margin_value, acquisition, cv = _joined(self._stops)
            self._stops = []
            profit = margin_value - cost
            key = pair * (self.E * BATCHES)  # (as `_entry_key`, the slots known)
            key += slot
            self._entry_sums(key, [(2, value), (3, cost), (4, profit), (5, acquisition)])
            # conversion and the converting walks' profit: only the converters
            # add to them (the others add zeros, which change no sum)
            converted = cv.nonzero()[0]
            if len(converted):
                key = key.take(converted)
                self._entry_sums(key, [(1, None),
                                       (6, profit.take(converted) + acquisition.take(converted))])
        if self._conversions:
            pair, w, time = _joined(self._conversions)
            self._conversions = []
            self._entry_sums(self._entry_key(pair, w), [(7, time)])
        self._flush_flocks()

    def _book_stay_events(self, parts, slot, code, t0, d, v, weight, a, log_q) -> None:
        """The profit events of the stays gathered (`parts`, joined)."""
        ekey = (slot // BATCHES).astype(np.int64)
        ekey += self.event_of_e.take(code)
        still = (d == 0).nonzero()[0]  # a stay at one time: one event
        if len(still):
            self._event(ekey.take(still), t0.take(still),
                        self.profit_of_e.take(code.take(still)) * weight.take(still))
        stays = (ekey, code, t0, d, v, a, log_q)
        # at most one event per visit unrolled (STAY_EVENTS a stay), plus
        # one for the rest of a longer stay
        bound = int(np.minimum(v, STAY_EVENTS).sum()) + len(v)
        sizes = [len(x[0]) for x in parts]
        if self.room_for_later(bound):
            self._event_later(partial(unrolled, stays, sizes, len(self.place_of_e)), bound)
        elif not self._stay_events(stays, whole=True):
            # too many visits to unroll together: pass by pass (STAY_BUDGET each)
            ends = np.cumsum(sizes)
            for lo, hi in zip(np.concatenate([[0], ends[:-1]]), ends):
                self._stay_events(tuple(x[lo:hi] for x in stays), whole=False)

    def _code_key(self, slot: np.ndarray, e: np.ndarray) -> np.ndarray:
        """batch x codes + code: the cell of `_by_code` of visits by slot and code."""
        key = self._batch_cell.take(slot)
        key += e
        return key

    def _flush_flocks(self) -> None:
        """Sum the flocks' visits, stops and conversions (per batch each)."""
        n, cells = self.n, self.P * self.E * BATCHES
        batches = np.arange(BATCHES)
        if self._flock_visits:
            i, step, members, value, cost, margin_value = zip(*self._flock_visits)
            self._flock_visits = []
            if self.record.place:
                count = np.array(members, float)  # [visit, batch]
                key = (np.array(i)[:, None] * BATCHES + batches) * n + np.array(step)[:, None]
                self._place(key.reshape(-1), *((count * np.array(x)[:, None]).reshape(-1)
                                               for x in (value, cost, margin_value)))
            key, t, amount = zip(*self._flock_events)
            self._flock_events = []
            if self.record.curve:
                self._event(np.array(key, np.int64), np.array(t, float),
                            np.array(amount, float))
        flat = self.by_entry.reshape(cells, -1)
        if self._flock_stops:
            entry, members, rows = zip(*self._flock_stops)
            self._flock_stops = []
            key = (np.array(entry)[:, None] * BATCHES + batches).reshape(-1)
            count = np.array(members, float)
            for c, col in enumerate(np.array(rows, float).T):
                flat[:, 1 + c] += np.bincount(key, weights=(count * col[:, None]).reshape(-1),
                                              minlength=cells)
        if self._flock_conversions:
            entry, members, time = zip(*self._flock_conversions)
            self._flock_conversions = []
            key = (np.array(entry)[:, None] * BATCHES + batches).reshape(-1)
            weights = np.array(members, float) * np.array(time, float)[:, None]
            flat[:, 7] += np.bincount(key, weights=weights.reshape(-1), minlength=cells)

    def _stay_events(self, stays: tuple, whole: bool) -> bool:
        """Book the profit events of stays (`stays.unroll`); False, booking
        nothing, when `whole` and they would unroll past the budget."""
        events = unroll(stays, len(self.place_of_e), whole)
        if events is None:
            return False
        for key, t, amount in events:
            self._event(key, t, amount)
        return True

    def _entry_key(self, pair, w) -> np.ndarray:
        """(pair * E + entry) * BATCHES + batch of entering walkers `w`."""
        key = pair * (self.E * BATCHES)
        key += self.slot.take(w)
        return key

    def _entry_sums(self, key, cols: list[tuple[int, np.ndarray | None]]) -> None:
        """Add per-walk columns to the by-entry columns: `cols` are (by-entry
        column, per-walk numbers; None: ones, a count), all by the one `key`."""
        cells = self.P * self.E * BATCHES
        flat = self.by_entry.reshape(cells, -1)
        key = spread(key)  # (a batch is a run of numbers: sums.py)
        for c, col in cols:
            # a count is exact either way, and cheaper without weights
            flat[:, c] += sum_by(key, col, cells)

    def _place(self, key, value, cost, margin_value) -> None:
        size = self.place.shape[0] * BATCHES * self.n
        flat = self.place.reshape(size, 3)
        for c, col in enumerate((value, cost, margin_value)):
            flat[:, c] += np.bincount(key, weights=col, minlength=size)

    # ---- profit events
    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pair * E + entry index, time in days, summed discounted profit),
        sorted by key then time."""
        self.close()
        self._reduce()
        return self.keys, self.times, self.amounts


def _joined(parts: list[tuple]) -> tuple:
    """Tuples of arrays joined field by field."""
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(x) for x in zip(*parts))

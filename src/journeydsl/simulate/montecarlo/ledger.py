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

Money and by-entry sums are kept per *batch* of prospects (drawn at random
as they enter: `Ledger.batch_of`): prospects are independent, so the batches
are independent samples, and a statistic recomputed without each batch in
turn (the jackknife) gives its standard error, ratios included (money.py).
Only entering prospects count (referred ones are left out of the metrics).
"""

from __future__ import annotations

import numpy as np

from .bins import Tables

BATCHES = 16  # batches of prospects (jackknife groups)
# (count, conversion, revenue, cost, profit, acquisition cost,
#  profit of converting walks, conversion-weighted time): by-entry columns
ENTRY_COLUMNS = ("count", "conversion", "revenue", "cost", "profit", "acquisition_cost",
                 "profit_converted", "time_converted")
_REDUCE_AT = 1 << 21  # profit events gathered before they are summed by (entry, time)
STAY_EVENTS = 1 << 14  # visits of one self-loop stay unrolled in time, at most
STAY_BUDGET = 1 << 22  # visits unrolled in time per pass, at most (then fewer per stay)


class Ledger:
    """Per (pair, batch) sums of the money by step and by entry, and the
    profit events per (pair, entry step)."""

    def __init__(self, eng: Tables, block: np.ndarray, salt: int = 0) -> None:
        self.eng = eng
        self.salt(salt)
        P, n = eng.P, eng.n
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
        self.entry_of = np.zeros(self.N0, np.int32)  # entering prospect -> entry index
        self.batch = np.zeros(self.N0, np.uint8)  # entering prospect -> its batch
        self._events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending = 0
        self.keys = np.zeros(0, np.int64)  # pair * E + entry, by event
        self.times = np.zeros(0)
        self.amounts = np.zeros(0)

    def salt(self, salt: int) -> None:
        """Seed the batches' own generator (run.py: from the run's seed)."""
        self._labels = np.random.default_rng(salt)

    def batch_of(self, count: int) -> np.ndarray:
        """The batches of `count` prospects entering together: drawn at random
        (from a generator of the run's own salt, never the walk's stream).
        Prospects entering together are numbered by entry step (and flocks
        by path), so numbers mod BATCHES would give every batch the same
        share of each entry and hide the variance of the entries' split (a
        cost paid at entry came out 19 standard errors off); and a fixed
        hash of the number is one fixed partition, which, balanced by
        chance, made every run's standard error 17% too small on a test
        journey. Drawn, the partition is random each run."""
        # (two batches a random byte: BATCHES = 16)
        raw = np.frombuffer(self._labels.bytes((count + 1) // 2), np.uint8)
        return np.concatenate([raw & 15, raw >> 4])[:count]

    # ---- entering
    def enter(self, i: int, step: int, first_id: int, count: int) -> np.ndarray:
        """`count` prospects of pair i numbered from first_id enter at `step`:
        their batches are drawn; returns how many fall in each."""
        k = int(self.entry_index[step])
        self.entry_of[first_id:first_id + count] = k
        batch = self.batch_of(count)
        self.batch[first_id:first_id + count] = batch
        per_batch = np.bincount(batch, minlength=BATCHES)
        self.by_entry[i, k, :, 0] += per_batch
        return per_batch

    # ---- visits
    def visits(self, w, e, t, earned, margin_value) -> None:
        """Visits of pool walkers `w` at codes `e` (times t): discounted value
        + 1j * cost `earned` and margin x value."""
        on = ((earned != 0) & (w < self.N0)).nonzero()[0]
        if not len(on):
            return
        w, e, t = w.take(on), e.take(on), t.take(on)
        earned, margin_value = earned.take(on), margin_value.take(on)
        eng = self.eng
        pair = eng.pair_of.take(e)
        key = (pair * BATCHES + self.batch.take(w)) * eng.n + eng.tgt.take(e)
        self._place(key, earned, margin_value)
        self._event(pair * self.E + self.entry_of.take(w), t, margin_value - earned.imag)

    def batches(self, ids) -> np.ndarray:
        """How many of the entering prospects `ids` are in each batch."""
        return np.bincount(self.batch.take(ids), minlength=BATCHES)

    def members(self, c) -> np.ndarray:
        """Flock c's members per batch (counted once, then kept on it)."""
        if c.batches is None:
            c.batches = self.batches(c.ids)
        return c.batches

    def flock_visit(self, i: int, c, step: int, t: float, earned: complex,
                    margin_value: float) -> None:
        """Flock c's members (entering prospects of pair i) visit `step` at t."""
        if not earned:
            return
        per_batch = self.members(c).astype(float)
        self.place[i, :, step, 0] += per_batch * earned.real
        self.place[i, :, step, 1] += per_batch * earned.imag
        self.place[i, :, step, 2] += per_batch * margin_value
        key = np.array([i * self.E + int(self.entry_of[c.ids[0]])], np.int64)
        self._event(key, np.array([t]), np.array([len(c.ids) * (margin_value - earned.imag)]))

    def stays(self, w, own, t_run, step, visits, earned, margin_value, profit_at) -> None:
        """Self-loop stays (loops.py): walker w makes `visits` visits to the
        step of code `own`, at t_run + j * step (j = 1..visits), earning
        `earned` (value + 1j cost) and `margin_value` in all; the j-th
        visit's discounted profit is a * q^j with (a, log q) =
        `profit_at(walker indexes)`.

        A stay is not unrolled walker by walker: the stays of one entry,
        loop and start time are one group, and its j-th visit happens for
        every stay of the group at least j long. Past STAY_EVENTS visits (fewer
        when the pass's stays would unroll more than STAY_BUDGET), a stay's
        remaining profit is booked at its last visit: the curve is exact but
        within such long stays (the docs say so)."""
        on = ((earned != 0) & (w < self.N0) & (visits > 0)).nonzero()[0]
        if not len(on):
            return
        eng = self.eng
        ww, code = w.take(on), own.take(on)
        pair = eng.pair_of.take(code)
        key = (pair * BATCHES + self.batch.take(ww)) * eng.n + eng.tgt.take(code)
        self._place(key, earned.take(on), margin_value.take(on))
        ekey = pair * self.E + self.entry_of.take(ww)
        t0 = t_run.take(on)
        d = step.take(on)
        still = d == 0  # a stay at one time: one event
        if still.any():
            self._event(ekey[still], t0[still], margin_value.take(on)[still]
                        - earned.imag.take(on)[still])
        timed = (~still).nonzero()[0]
        if not len(timed):
            return
        a, log_q = profit_at(on.take(timed))
        v = visits.take(on).take(timed).astype(np.int64)
        g_key, g_code, g_t = ekey.take(timed), code.take(timed), t0.take(timed)
        order = np.lexsort((g_t, g_code, g_key))
        g_key, g_code, g_t = g_key.take(order), g_code.take(order), g_t.take(order)
        a, log_q, v, dd = a.take(order), log_q.take(order), v.take(order), d.take(timed).take(order)
        new = np.ones(len(order), bool)
        new[1:] = (g_key[1:] != g_key[:-1]) | (g_code[1:] != g_code[:-1]) | (g_t[1:] != g_t[:-1])
        group = np.cumsum(new) - 1
        first = new.nonzero()[0]
        cap = STAY_EVENTS
        while True:  # visits unrolled per group: STAY_BUDGET in all at most
            capped = np.minimum(v, cap)
            length = np.maximum.reduceat(capped, first)
            if cap == 1 or int(length.sum()) <= STAY_BUDGET:
                break
            cap //= 2
        offset = np.concatenate([[0], np.cumsum(length)])
        ending = np.bincount(offset[group] + capped - 1, minlength=int(offset[-1]))
        # stays of each group at least j long: suffix sums within the group
        suffix = np.cumsum(ending[::-1])[::-1]
        after = np.append(suffix, 0.0)[np.repeat(offset[1:], length)]
        count = suffix - after
        g = np.repeat(np.arange(len(first)), length)
        j = np.arange(len(g)) - offset[g] + 1
        lead = first.take(g)  # a stay of the group: its start, delay and amounts
        self._event(g_key.take(lead), g_t.take(lead) + j * dd.take(lead),
                    count * a.take(lead) * np.exp(log_q.take(lead) * j))
        long = (v > cap).nonzero()[0]
        if len(long):  # the rest of a very long stay, at its last visit
            vl, ql, J = v.take(long).astype(float), log_q.take(long), float(cap)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                rest = np.where(ql == 0.0, vl - J, np.exp(ql * (J + 1.0))
                                * np.expm1((vl - J) * ql) / np.expm1(ql))
            self._event(g_key.take(long), g_t.take(long) + vl * dd.take(long),
                        a.take(long) * rest)

    # ---- walks ending and converting
    def walks(self, pair, w, money, gain, cv) -> None:
        """Entering walkers `w` (of pairs `pair`) stop with their totals."""
        on = (w < self.N0).nonzero()[0]
        if not len(on):
            return
        pair, w = pair.take(on), w.take(on)
        money, gain, cv = money.take(on), gain.take(on), cv.take(on).astype(float)
        profit = gain.real - money.imag
        cols = np.column_stack([cv, money.real, money.imag, profit, gain.imag,
                                cv * (profit + gain.imag)])
        self._entry_sums(pair, w, cols, slice(1, 7))

    def flock_walks(self, i: int, c, per_batch: np.ndarray) -> None:
        """Members of flock c (of pair i), `per_batch` of them in each batch, stop."""
        profit = c.gain.real - c.money.imag
        converted = float(c.converted)
        row = np.array([converted, c.money.real, c.money.imag, profit, c.gain.imag,
                        converted * (profit + c.gain.imag)])
        k = int(self.entry_of[c.ids[0]])
        self.by_entry[i, k, :, 1:7] += per_batch.astype(float)[:, None] * row[None, :]

    def flock_converted(self, i: int, c, time: float) -> None:
        k = int(self.entry_of[c.ids[0]])
        self.by_entry[i, k, :, 7] += self.members(c) * time

    def converted(self, pair, w, time) -> None:
        on = (w < self.N0).nonzero()[0]
        if len(on):
            self._entry_sums(pair.take(on), w.take(on), time.take(on)[:, None], slice(7, 8))

    def _entry_sums(self, pair, w, cols, where: slice) -> None:
        P, E = self.eng.P, self.E
        key = (pair * E + self.entry_of.take(w)) * BATCHES + self.batch.take(w)
        flat = self.by_entry.reshape(P * E * BATCHES, -1)
        for c in range(cols.shape[1]):
            flat[:, where.start + c] += np.bincount(key, weights=cols[:, c],
                                                    minlength=P * E * BATCHES)

    def _place(self, key, earned, margin_value) -> None:
        size = self.place.shape[0] * BATCHES * self.eng.n
        flat = self.place.reshape(size, 3)
        flat[:, 0] += np.bincount(key, weights=earned.real, minlength=size)
        flat[:, 1] += np.bincount(key, weights=earned.imag, minlength=size)
        flat[:, 2] += np.bincount(key, weights=margin_value, minlength=size)

    # ---- profit events
    def _event(self, key, t, amount) -> None:
        self._events.append((np.asarray(key, np.int64), np.asarray(t, float),
                             np.asarray(amount, float)))
        self._pending += len(key)
        if self._pending > _REDUCE_AT:
            self._reduce()

    def _reduce(self) -> None:
        """Sum the events gathered so far by (key, time)."""
        if not self._events:
            return
        key = np.concatenate([self.keys] + [x[0] for x in self._events])
        t = np.concatenate([self.times] + [x[1] for x in self._events])
        amount = np.concatenate([self.amounts] + [x[2] for x in self._events])
        self._events, self._pending = [], 0
        order = np.lexsort((t, key))
        key, t, amount = key.take(order), t.take(order), amount.take(order)
        new = np.ones(len(key), bool)
        new[1:] = (key[1:] != key[:-1]) | (t[1:] != t[:-1])
        starts = new.nonzero()[0]
        self.keys, self.times = key.take(starts), t.take(starts)
        self.amounts = np.add.reduceat(amount, starts) if len(starts) else amount

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pair * E + entry index, time in days, summed discounted profit),
        sorted by key then time."""
        self._reduce()
        return self.keys, self.times, self.amounts

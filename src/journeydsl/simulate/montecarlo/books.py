"""What the walk leaves behind, summed by pair as walks stop.

The metrics are means, so the walk keeps no per-prospect arrays (except
for `simulate_chain`, which returns them): the walks of a flock that stop
together are booked once, with their number as weight, and the walkers
of the pool are gathered as they stop and summed once at the end, a few
numpy calls for all of them instead of a few per pass. The referral queue
lives here too, because the cohort totals of a cascade (the `cohort`
metric) are booked to the entering prospect at its root.
"""

from __future__ import annotations

import numpy as np

from .bins import Tables
from .ledger import Ledger
from .record import Record
from .sums import spread, sum_by

ENDED, CUT = 0, 1  # how a walk stops: its end, or the horizon


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """a . b without BLAS (whose threads only contend on a busy machine)."""
    return float(np.einsum("i,i->", a, b))


class Books:
    """Counts per step and edge, the walks that stop, the referral queue.

    Entering prospects are numbered 0..N0-1, pair after pair; referred ones
    N0, N0 + 1, ... as they are sent. With `keep`, per-prospect arrays of the
    entering prospects are kept (one pair only)."""

    def __init__(self, eng: Tables, keep: bool, limits: list[int],
                 record: Record = Record.ALL) -> None:
        if keep and record != Record.ALL:
            raise ValueError("per-prospect arrays (keep) are kept with every family recorded")
        self.eng = eng
        self.record = record
        P, n = eng.P, eng.n
        self.keep = keep
        sizes = [p.prospects for p in eng.pairs]
        self.block = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        self.N0 = N0 = int(self.block[-1])
        self.finished = 0
        self.starts = np.zeros((P, n), np.int64)
        # (floats: a stay in a loop near 100% can be ~1e16 moves)
        self.edge_counts = np.zeros((P, eng.E_max))
        self.ends = np.zeros((P, 2 * n), np.int64)  # drop-off by step, then churn by step
        self.active = np.zeros(P, np.int64)
        self.cost_sum = np.zeros(P)
        self.cost_sq = np.zeros(P)
        self.time_sum = np.zeros(P)  # first-goal times of the conversions (all before H)
        self.time_sq = np.zeros(P)
        self.reach = np.zeros((P, eng.columns))
        # (pair, value, cost, margin x value, acquisition cost, converted, weight): arrays
        self.records: list[tuple] = []
        self.flock_records: list[tuple] = []  # the same, one flock each
        self.reach_by_bits = False  # reach from first-visit bits (not from visit counts)
        # (kind, code, money, margin x value, the converters' numbers,
        # converted, seen, ledger slot) as walks stop (no profit recorded:
        # None for the margin and the converters)
        self.stopped: list[tuple] = []
        # entering prospects who referred: (who, how many each; None: one)
        self.sent: list[tuple[np.ndarray, np.ndarray | None]] = []
        self.counts: np.ndarray | None = None  # [tracked column, walker - offset]: visits
        # the cascade
        self.limits = np.asarray(limits, np.int64)
        self.queued = np.zeros(P, np.int64)
        self.cascade_capped = np.zeros(P, bool)
        self.roots = np.zeros(1024, np.intp)  # by referred prospect (the first n_roots)
        self.n_roots = 0
        self.queue: list[tuple] = []  # (world, target, time)
        self.taken = 0
        self.booked: list[tuple] = []  # (pair, root, converted, money) of referred prospects
        self.ledger = Ledger(eng, self.block, record=record)  # money by place, by entry, ...
        # (walker numbers, acquisition costs) of converted pool walkers
        # (entering ones), sorted by number when looked up
        self._acquired: list[tuple[np.ndarray, np.ndarray]] = []
        self._acquired_sorted = True
        if keep:
            self.value = np.zeros(N0)
            self.cost = np.zeros(N0)
            self.margin_value = np.zeros(N0)
            self.acquisition = np.zeros(N0)
            self.converted_at = np.full(N0, np.nan)
            self.end_step = np.full(N0, -1, np.int32)

    # ---- entering prospects
    def convert_flock(self, i: int, c, time: float) -> None:
        """Flock c of pair i reaches its first goal at `time`."""
        ids = c.ids
        self.ledger.flock_converted(i, c, time)
        if self.keep:
            self.converted_at[ids] = time
        else:
            self.time_sum[i] += len(ids) * time
            self.time_sq[i] += len(ids) * time * time

    def stop_flock(self, kind, i: int, step: int, c, count: int, ids,
                   batches: np.ndarray | None = None) -> None:
        """`count` members of flock c of pair i stop (`kind`) at `step`
        (`ids`: who, needed with `keep` only; `batches`: how many in each
        ledger batch, None: all the flock's members)."""
        self.finished += count
        self.ledger.flock_walks(i, c, self.ledger.members(c) if batches is None else batches)
        value, cost = c.money.real, c.money.imag
        if self.keep:
            self.value[ids] = value
            self.cost[ids] = cost
            self.margin_value[ids] = c.gain.real
            self.acquisition[ids] = c.gain.imag
            self.end_step[ids] = step if kind == ENDED else -1
            return
        if kind == ENDED:
            self.ends[i, step + self.eng.n * c.converted] += count
        else:
            self.active[i] += count
        self.cost_sum[i] += count * cost
        self.cost_sq[i] += count * cost * cost
        if c.converted or value:
            self.flock_records.append((i, value, cost, c.gain.real, c.gain.imag, c.converted,
                                       count))
        if self.reach_by_bits and c.seen:
            for col in range(self.eng.columns):
                if c.seen >> col & 1:
                    self.reach[i, col] += count

    def convert(self, who, code, time) -> None:
        entering = who < self.N0
        if not entering.all():
            who, code, time = who[entering], code[entering], time[entering]
        if not len(who):
            return
        pair = self.eng.pair_of.take(code)
        self.ledger.converted(pair, who, time)
        if self.keep:
            self.converted_at[who] = time
            return
        self.time_sum += np.bincount(pair, weights=time, minlength=self.eng.P)
        self.time_sq += np.bincount(pair, weights=time * time, minlength=self.eng.P)

    def acquired(self, who, cost) -> None:
        """Pool walkers `who` convert, having spent `cost` (their acquisition
        cost); referred ones are left out (only entering prospects' count)."""
        entering = who < self.N0
        if not entering.all():
            who, cost = who[entering], cost[entering]
        if not len(who):
            return
        if self.keep:  # per-prospect arrays: written in place, read in `finish`
            self.acquisition[who] = cost
            return
        self._acquired.append((who, cost))
        self._acquired_sorted = False

    def _acquisition_of(self, who: np.ndarray) -> np.ndarray:
        """The acquisition costs of converted entering walkers `who` (`acquired`)."""
        if not self._acquired_sorted:
            ids, cost = (np.concatenate(x) for x in zip(*self._acquired))
            order = np.argsort(ids, kind="stable")
            self._acquired = [(ids.take(order), cost.take(order))]
            self._acquired_sorted = True
        ids, cost = self._acquired[0]
        at = np.searchsorted(ids, who)
        assert np.array_equal(ids.take(at, mode="clip"), who)  # every converter was noted
        return cost.take(at)

    def finish(self, kind, sel, w, e, money, margin, cv, seen) -> None:
        """Walkers `sel` of the pool stop (`kind`); `margin`: their margin x
        value (walk.py; None: not recorded, `Record.profit`)."""
        who = w.take(sel)
        referred = who >= self.N0
        if referred.any():
            r = sel[referred]
            self._book(w.take(r), e.take(r), cv.take(r), money.take(r))
            sel = sel[~referred]
            who = w.take(sel)
        if not len(sel):
            return
        self.finished += len(sel)
        code, both, conv = e.take(sel), money.take(sel), cv.take(sel)
        margin_value = acquisition = None
        if margin is not None:
            margin_value = margin.take(sel)
            # the acquisition cost: all the cost, unless converted. The
            # converters' (few) are looked up once, at `close` (here: their
            # numbers); the per-prospect arrays want them now
            acquisition = who.compress(conv)
        if self.keep:
            if acquisition is not None:
                acquisition = both.imag.copy()
                if conv.any():
                    acquisition[conv] = self.acquisition.take(who.compress(conv))
            self.ledger.walks(self.eng.pair_of.take(code), self.ledger.slot.take(who),
                              both.real, both.imag,
                              margin_value, acquisition, conv)
            self.value[who] = both.real
            self.cost[who] = both.imag
            self.margin_value[who] = margin_value
            self.acquisition[who] = acquisition
            self.end_step[who] = self.eng.tgt.take(code) if kind == ENDED else -1
            return
        # (the ledger's slots of the walkers, not their numbers: a byte each)
        self.stopped.append((kind, code, both, margin_value, acquisition, conv,
                             seen.take(sel) if seen is not None else None,
                             self.ledger.slot.take(who)))

    def close(self) -> None:
        """Sum the walks that stopped (summary mode) and the ledger."""
        if self.keep:
            self._close_kept()
        else:
            self._close_stopped()
        self.ledger.close()

    def _close_stopped(self) -> None:
        eng, P, n = self.eng, self.eng.P, self.eng.n
        self._close_flocks()
        if not self.stopped:
            return
        kinds = np.concatenate([np.full(len(x[1]), x[0], np.int8) for x in self.stopped])
        code = np.concatenate([x[1] for x in self.stopped])
        both = np.concatenate([x[2] for x in self.stopped])
        # (profit not recorded: no margin, no acquisition, zeros in the records)
        profit = self.stopped[0][3] is not None
        margin_value = np.concatenate([x[3] for x in self.stopped]) if profit else None
        acquisition = np.concatenate([x[4] for x in self.stopped]) if profit else None
        conv = np.concatenate([x[5] for x in self.stopped])
        pair = eng.pair_of.take(code)
        # (contiguous: each is summed several times)
        value, cost = np.ascontiguousarray(both.real), np.ascontiguousarray(both.imag)
        if acquisition is not None:  # converters' numbers -> every walk's acquisition cost
            converters = acquisition
            acquisition = cost.copy()
            if len(converters):
                acquisition[conv] = self._acquisition_of(converters)
        # the ledger's by-entry sums of the same walks (gathered once, here)
        self.ledger.walks(pair, np.concatenate([x[7] for x in self.stopped]), value, cost,
                          margin_value, acquisition, conv)
        ended = (kinds == ENDED).nonzero()[0]
        key = eng.end_key.take(code.take(ended))
        key += n * conv.take(ended)
        self.ends += sum_by(spread(key), None, P * 2 * n).reshape(P, 2 * n).astype(np.int64)
        by_pair = spread(pair)  # (pairs come in long runs: sums.py)
        self.active += np.bincount(pair[kinds == CUT], minlength=P)
        self.cost_sum += sum_by(by_pair, cost, P)
        self.cost_sq += sum_by(by_pair, cost * cost, P)
        pick = (conv | (value != 0)).nonzero()[0]
        if len(pick):
            none = np.zeros(len(pick))
            self.records.append((pair.take(pick), value.take(pick), cost.take(pick),
                                 none if margin_value is None else margin_value.take(pick),
                                 none if acquisition is None else acquisition.take(pick),
                                 conv.take(pick), np.ones(len(pick))))
        if self.stopped[0][6] is not None:
            bits = np.concatenate([x[6] for x in self.stopped])
            on = bits.nonzero()[0]
            self._reach_from_bits(bits.take(on), pair.take(on))
        self.stopped = []

    def _reach_from_bits(self, bits: np.ndarray, pair: np.ndarray) -> None:
        """First visits per tracked column, from the walkers' seen bits: a
        byte of bits at a time, counted per (pair, byte value)."""
        P, columns = self.eng.P, self.eng.columns
        ones = (np.arange(256)[:, None] >> np.arange(8)) & 1  # [byte value, bit]
        for lo in range(0, columns, 8):
            byte = ((bits >> np.uint64(lo)) & np.uint64(255)).astype(np.intp)
            byte += pair * 256
            per = np.bincount(byte, minlength=P * 256).reshape(P, 256)
            width = min(8, columns - lo)
            self.reach[:, lo:lo + width] += (per @ ones)[:, :width]

    def _close_flocks(self) -> None:
        if self.flock_records:
            pair, value, cost, margin_value, acquisition, conv, weight = (
                np.array(x) for x in zip(*self.flock_records))
            if not self.record.profit:  # (as the pool's walkers: zeros)
                margin_value, acquisition = np.zeros(len(pair)), np.zeros(len(pair))
            self.records.append((pair, value, cost, margin_value, acquisition,
                                 conv.astype(bool), weight.astype(float)))
            self.flock_records = []

    def _close_kept(self) -> None:
        n = self.eng.n
        ends = np.where(self.end_step >= 0, self.end_step, 2 * n)
        conv = ~np.isnan(self.converted_at)
        key = ends + np.where(self.end_step >= 0, n * conv, 0)
        self.ends[0] += np.bincount(key, minlength=2 * n + 1)[:2 * n]
        self.active[0] += np.count_nonzero(self.end_step == -1)
        self.cost_sum[0] += float(self.cost.sum())
        self.cost_sq[0] += dot(self.cost, self.cost)
        note = (conv | (self.value != 0)).nonzero()[0]
        self.records.append((np.zeros(len(note), np.intp), self.value[note],
                             self.cost[note], self.margin_value[note], self.acquisition[note],
                             conv[note], np.ones(len(note))))
        times = self.converted_at[conv]
        self.time_sum[0] += float(times.sum())
        self.time_sq[0] += dot(times, times)

    # ---- referrals and the cascade
    def count_sent(self, who, count) -> None:
        """Walkers `who` sent `count` prospects each (for the viral coefficient)."""
        entering = (who < self.N0) & (count > 0)
        if entering.any():
            self.sent.append((who[entering], count[entering]))

    def refer(self, who, world, target, time, counted: bool = True) -> None:
        """Prospects sent by walkers `who` of `world` (per referral): queue
        them in the referred world of their pair, up to the pair's limit
        (`counted`: not yet counted by `count_sent`)."""
        entering = who < self.N0
        if counted and entering.any():
            self.sent.append((who[entering], None))
        root = who.copy()
        if not entering.all():
            root[~entering] = self.roots[who[~entering] - self.N0]
        pair = world // 2
        counts = np.bincount(pair, minlength=self.eng.P)
        room = self.limits - self.queued
        if (counts > room).any():  # keep each pair's first referrals up to its limit
            keep = np.ones(len(who), bool)
            for i in np.flatnonzero(counts > room):
                mine = np.flatnonzero(pair == i)
                keep[mine[max(int(room[i]), 0):]] = False
                self.cascade_capped[i] = True
            root, target, time, pair = root[keep], target[keep], time[keep], pair[keep]
            counts = np.bincount(pair, minlength=self.eng.P)
        if not len(root):
            return
        self.queued += counts
        if self.n_roots + len(root) > len(self.roots):
            bigger = np.zeros(max(2 * len(self.roots), self.n_roots + len(root)), np.intp)
            bigger[:self.n_roots] = self.roots[:self.n_roots]
            self.roots = bigger
        self.roots[self.n_roots:self.n_roots + len(root)] = root
        self.n_roots += len(root)
        self.queue.append((2 * pair + 1, target, time))

    def senders(self) -> tuple[np.ndarray, np.ndarray]:
        """(entering prospects who referred someone, how many each)."""
        if not hasattr(self, "_senders"):
            if not self.sent:
                self._senders: tuple[np.ndarray, np.ndarray] = np.zeros(0, np.intp), np.zeros(0)
                return self._senders
            who = np.concatenate([x[0] for x in self.sent])
            count = np.concatenate([np.ones(len(x[0])) if x[1] is None else x[1].astype(float)
                                    for x in self.sent])
            ids, inverse = np.unique(who, return_inverse=True)
            self._senders = ids, np.bincount(inverse, weights=count, minlength=len(ids))
        return self._senders

    def waiting(self) -> int:
        return self.n_roots - self.taken

    def take(self, k: int):
        """The next k queued prospects: ids, worlds, steps, times."""
        parts = [np.concatenate([x[j] for x in self.queue]) for j in range(3)]
        self.queue = [tuple(p[k:] for p in parts)] if k < len(parts[0]) else []
        lo = self.taken
        self.taken += k
        ids = np.arange(self.N0 + lo, self.N0 + lo + k, dtype=np.intp)
        return ids, parts[0][:k], parts[1][:k], parts[2][:k]

    def _book(self, who, code, conv, money) -> None:
        self.booked.append((self.eng.pair_of.take(code), self.roots[who - self.N0], conv, money))

    def cascade(self):
        """(pair, root, converted, money) of every referred prospect."""
        if not self.booked:
            return (np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, bool),
                    np.zeros(0, np.complex128))
        return tuple(np.concatenate(x) for x in zip(*self.booked))

"""Drawing the next move of many walkers at once, from a table of bins.

A draw must cost a walker a couple of memory reads, not a search: each
row's [0, 1) is cut into 2**shift equal bins, and a bin that lies inside
one outcome's interval names that outcome, so 16 random bits and one table
read settle almost every draw. The few bins that straddle a boundary
between two outcomes are finished exactly with a second uniform number:
every probability is honoured to double precision, whatever the bin size.
The table stays near 1 MB (2**8..2**16 bins per row) because gathers from
a table that fits in cache are several times faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bin_shift(n_rows: int) -> int:
    """log2 of the bins per row: as many as keep the table near 1 MB, 2**16
    at most, 2**8 at least."""
    shift = 16
    while shift > 8 and n_rows << shift > 1 << 17:
        shift -= 1
    return shift


@dataclass
class Sampler:
    """Draw one outcome per walker from its row's distribution.

    `table[row << shift | bits]` is the outcome of each bin; codes from
    `straddle` on name a straddling bin, finished with `thresholds` /
    `outcomes`.
    """

    shift: int
    table: np.ndarray
    straddle: int
    thresholds: np.ndarray  # [straddling bin, k]: boundaries inside it (inf padded)
    outcomes: np.ndarray  # [straddling bin, k + 1]: outcome below, between, above them
    end: int
    moving: np.ndarray  # per row: bins below this may hold a move (the rest are the end)

    @classmethod
    def build(cls, ptr: np.ndarray, probs: np.ndarray, codes: np.ndarray, end: int,
              shift: int, straddle: int | None = None) -> Sampler:
        """Rows in CSR form (`ptr`), outcome `codes` with probabilities `probs`
        (> 0, summing to at most 1 per row); the remainder of a row is `end`.
        Straddling bins get codes from `straddle` (above every outcome) on."""
        straddle = end + 1 if straddle is None else straddle
        n = len(ptr) - 1
        size = 1 << shift
        count = np.diff(ptr)
        row = np.repeat(np.arange(n), count)
        total = np.cumsum(probs)
        before = np.concatenate([[0.0], total])[ptr[:-1]]
        cum = np.minimum(total - np.repeat(before, count), 1.0)
        # bins whose start lies in [c_{j-1}, c_j) begin in outcome j
        first_bin = np.minimum(np.ceil(cum * size), size).astype(np.int64)
        prev = np.concatenate([[0], first_bin[:-1]])
        prev[ptr[:-1][count > 0]] = 0
        last = np.zeros(n, np.int64)
        last[count > 0] = first_bin[ptr[1:][count > 0] - 1]
        items = len(probs) + n
        all_codes = np.empty(items, np.int64)
        all_counts = np.empty(items, np.int64)
        edge_pos = np.arange(len(probs)) + row
        end_pos = ptr[1:] + np.arange(n)
        all_codes[edge_pos] = codes
        all_counts[edge_pos] = first_bin - prev
        all_codes[end_pos] = end
        all_counts[end_pos] = size - last
        scaled = cum * size
        inside = (scaled > np.floor(scaled)) & (cum > 0) & (cum < 1)
        j = np.flatnonzero(inside)
        key = row[j] * size + np.floor(scaled[j]).astype(np.int64)
        if len(j):
            uniq, start, inverse, per = np.unique(key, return_index=True, return_inverse=True,
                                                  return_counts=True)
        else:
            uniq = start = inverse = per = np.zeros(0, np.int64)
        straddling = len(uniq)
        table = np.repeat(all_codes, all_counts).astype(np.intp)
        k = int(per.max()) if straddling else 1
        thresholds = np.full((straddling, k), np.inf)
        outcomes = np.zeros((straddling, k + 1), np.int64)
        if straddling:
            rank = np.arange(len(j)) - start[inverse]
            thresholds[inverse, rank] = cum[j]
            last_in_row = j + 1 >= ptr[row[j] + 1]
            following = np.where(last_in_row, end, codes[np.minimum(j + 1, len(codes) - 1)])
            outcomes[:, 0] = codes[j[start]]
            outcomes[inverse, rank + 1] = following
            for col in range(1, k + 1):  # pad: past the last threshold nothing changes
                missing = col > per
                outcomes[missing, col] = outcomes[missing, col - 1]
            table[uniq] = straddle + np.arange(straddling)
        return cls(shift, table, straddle, thresholds, outcomes, end, last)

    def bits(self, bitgen, m: int) -> np.ndarray:
        """m bin numbers: 16 random bits each (four per 64-bit draw)."""
        raw = bitgen.random_raw((m + 3) >> 2).view(np.uint16)[:m]
        return raw >> (16 - self.shift) if self.shift < 16 else raw

    def draw_at(self, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One outcome per entry of `base` (`row << shift`, intp, used up)."""
        bits = self.bits(rng.bit_generator, base.size).reshape(base.shape)
        base += bits
        return self._finish(self.table.take(base), bits, rng)

    def draw_row(self, row: int, m: int, rng: np.random.Generator):
        """m draws from one row (the walkers entering at one step), when most
        of them end the walk: (which draws move, their outcomes). Only the
        draws below the row's end bins are looked up."""
        raw = rng.bit_generator.random_raw((m + 3) >> 2).view(np.uint16)[:m]
        spread = 16 - self.shift
        moving = int(self.moving[row]) << spread  # a Python int: compared as uint16
        pos = (raw < moving).nonzero()[0] if moving < 1 << 16 else np.arange(m)
        bits = raw.take(pos)
        bits >>= spread
        code = self._finish(self.table.take(np.add(bits, row << self.shift, dtype=np.intp)),
                            bits, rng)
        if len(code) and code.max() == self.end:  # a straddling bin settled on the end
            moved = (code != self.end).nonzero()[0]
            pos, code = pos.take(moved), code.take(moved)
        return pos, code

    def _finish(self, code: np.ndarray, bits: np.ndarray, rng) -> np.ndarray:
        """Settle the draws that fell in a straddling bin."""
        if code.size and code.max() >= self.straddle:
            flat = code.reshape(-1)
            where = np.flatnonzero(flat >= self.straddle)
            straddle = flat[where] - self.straddle
            u = (bits.reshape(-1)[where] + rng.random(len(where))) / (1 << self.shift)
            pick = (u[:, None] >= self.thresholds[straddle]).sum(axis=1)
            flat[where] = self.outcomes[straddle, pick]
        return code

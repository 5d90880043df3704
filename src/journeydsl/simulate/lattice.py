"""A loop's arrivals on the lattice of its own delays (for cycles.py): in
blocks of instants, dense products for a small component, sparse matrices
and an LU of the instant closure for a large one (a mixture chain's)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .series import Series, merge

if TYPE_CHECKING:  # (cycles imports this module)
    from .cycles import _Loop

#: Relative size below which what is still in flight in a loop cannot change
#: any total in double precision (the geometric tail is bounded by it).
TAIL = 1e-17
#: Numbers a loop's lattice may hold (residues x instants x states), and
#: blocks it may take; beyond either, the loop goes generation by generation.
LATTICE_CELLS = 8_000_000
LATTICE_BLOCKS = 100_000
#: Instants x states of a lattice block solved in one product (see _lattice).
_BLOCK_WIDTH = 256
#: Instants of tail a loop's lattice first makes room for (see _lattice).
_FIRST_TAIL = 4096
#: Components with more states than this run the lattice with sparse
#: matrices (the mixture chains of `per customer` rates make them: copies of
#: a loop joined by referrals).
_DENSE = 64


def _lattice(times: np.ndarray, table: np.ndarray, loop: _Loop, horizon: int
             ) -> list[Series] | None:
    """A loop's arrivals on the lattice of its own delays, when that is cheap.

    `table` is times x states, or times x states x walks: the amounts of
    several walks side by side go on the lattice as rows of their own, and
    each state's Series then has a column per walk.

    Every time a walk reaches inside the component is an input time plus a
    multiple of g, the greatest common divisor of the loop's delays: the
    arrivals of each input residue (mod g) lie on a lattice of step g. On
    it the recursion x[j] = (in[j] + sum_e w_e x[j - q_e] at dst_e) K (K the
    instant closure) runs in blocks of m = the shortest delay (in steps of
    g): nothing within a block depends on another of its instants but
    through K, so a block is a few array operations, and the cost is the
    horizon over the shortest delay, whatever g is. None when the lattice
    would not fit LATTICE_CELLS (a fine lattice over a long horizon): the
    caller goes generation by generation instead."""
    src, dst, w, d, close = loop.src, loop.dst, loop.w, loop.d, loop.close
    # a move that takes the whole horizon never arrives before it: left out,
    # it neither fines the lattice (its delay in the gcd) nor pads it
    arrives = d < horizon
    src, dst, w, d = src[arrives], dst[arrives], w[arrives], d[arrives]
    # what is cached depends on which moves arrive: a shorter horizon (the
    # payback's first, short look) must not leave a slow move out for good
    moves = arrives.tobytes()
    moving = d > 0
    if not moving.any():
        return None
    g = 0
    for q in d[moving].tolist():
        g = math.gcd(g, int(q))
    residues, where = np.unique(times % g, return_inverse=True)
    base = np.array([times[where == r].min() for r in range(len(residues))])
    length = int(math.ceil((horizon - base.min()) / g))
    k = table.shape[1]
    q = (d // g).astype(np.int64)
    m = int(q[moving].min())
    walks = 1 if table.ndim == 2 else table.shape[2]
    width_max = max(m, min(length, _BLOCK_WIDTH // k))
    pad = int(q.max())  # zeros before the lattice: every block reads a full window
    j = (times - base[where]) // g
    last_input = int(j.max())
    e_src, e_dst, e_w, e_q = src[moving], dst[moving], w[moving], q[moving]
    if k > _DENSE:  # many states: sparse products, to the horizon (no tail test)
        if len(residues) * walks * length * k > LATTICE_CELLS or length / m > LATTICE_BLOCKS:
            return None
        x = _inputs(len(residues) * walks, pad, length, where, j, table, walks)
        _sparse_lattice(x, pad, length, m, (src, dst, w, d), q, loop)
        return _lattice_series(x[:, pad:, :], base, g, length, horizon,
                               walks if table.ndim == 3 else None)
    if ("later", moves) not in loop.cache:
        loop.cache[("later", moves)] = _input_total(k, e_src, e_dst, e_w, close)
    later = loop.cache[("later", moves)]
    # The lattice runs to the horizon, but in a loop every walk can leave
    # (`later` finite) the tail check below ends it soon after the last
    # input: room for the inputs and as long a tail, grown (doubled) only
    # while the tail runs on. One-second delays under a year's horizon: a
    # few thousand instants, not 31 million. A tail has at least two laps
    # of the longest lag (pad) when that lag carries anything: a lattice
    # without room for them would only be grown until refused.
    most = min(LATTICE_CELLS // (len(residues) * walks * k) - pad,  # instants, pad included
               LATTICE_BLOCKS * width_max)
    most = length if most >= length else most // width_max * width_max
    if later is None:  # only the horizon ends the loop
        size = length
    else:
        size = min(most, -(-(2 * (last_input + 1) + _FIRST_TAIL) // width_max) * width_max)
    if (length if later is None else min(length, last_input + 1 + 2 * pad)) > most:
        return None
    x = _inputs(len(residues) * walks, pad, size, where, j, table, walks)
    # x[j] = (in[j] + sum over lags q of x[j - q] W_q) K: with A_q = W_q K and
    # the inputs closed once, a block is one matrix product per lag
    if ("step", g, moves) not in loop.cache:
        step = []
        for lag in sorted(set(e_q.tolist())):
            at_lag = e_q == lag
            weights = np.zeros((k, k))
            np.add.at(weights, (e_src[at_lag], e_dst[at_lag]), e_w[at_lag])
            step.append((lag, weights @ close if close is not None else weights))
        loop.cache[("step", g, moves)] = step
    step = loop.cache[("step", g, moves)]
    if close is not None:
        x[:, pad:, :] = x[:, pad:, :] @ close
    # Blocks of `width` instants: what reaches a block from before it comes
    # through each lag's history rows; what happens inside it is one product
    # with the block's impulse response (width m: none, as nothing within m
    # instants depends on another). Wider blocks trade a little arithmetic
    # for far fewer Python steps (a 1-day lag over 100 years: 36,500 steps).
    if ("response", g, width_max, moves) not in loop.cache:
        loop.cache[("response", g, width_max, moves)] = \
            _response(step, k, width_max) if width_max > m else None
    response = loop.cache[("response", g, width_max, moves)]
    # tail checks about every 32 instants, or every quarter of the longest
    # lag: a check sums what is in flight along each move (its lag's worth
    # of instants), so checking more often would cost more than the blocks
    every = max(1, 32 // width_max, pad // (4 * width_max))
    done, counted = 0.0, 0
    for index, b0 in enumerate(range(0, length, width_max)):
        if b0 >= size:  # the tail runs on past the room made for it: double it
            if size >= most:
                return None
            size = min(2 * size, most)
            x = np.concatenate([x, np.zeros((len(x), pad + size - x.shape[1], k))], axis=1)
        width = min(width_max, length - b0)
        if later is not None and b0 > last_input and index % every == 0:
            # after the last input, stop once all that is still in flight
            # (sent from the last blocks, arriving from here on) is too
            # little to change a total: `later` bounds what a unit brings
            done += float(np.abs(x[:, pad + counted:pad + b0, :]).sum())
            counted = b0
            pending = sum(float(e_w[e]) * later[int(e_dst[e])]
                          * float(np.abs(x[:, pad + max(0, b0 - int(e_q[e])):pad + b0,
                                           int(e_src[e])]).sum())
                          for e in range(len(e_src)))
            if pending <= TAIL * done:
                break
        block = x[:, pad + b0:pad + b0 + width, :]
        for lag, a_q in step:
            rows = min(lag, width)  # the rows whose lag reaches back before the block
            block[:, :rows] += x[:, pad + b0 - lag:pad + b0 - lag + rows, :] @ a_q
        if response is not None:
            flat = block.reshape(len(block), width * k) @ response[:width * k, :width * k]
            block[...] = flat.reshape(len(block), width, k)
    return _lattice_series(x[:, pad:, :], base, g, size, horizon,
                           walks if table.ndim == 3 else None)


def _inputs(rows: int, pad: int, size: int, where: np.ndarray, j: np.ndarray,
            table: np.ndarray, walks: int) -> np.ndarray:
    """The lattice (rows, pad + size instants, states) holding the inputs:
    row r * walks + c is residue r of walk c."""
    x = np.zeros((rows, pad + size, table.shape[1]))
    if table.ndim == 2:
        np.add.at(x, (where, pad + j), table)
    else:
        at = where[:, None] * walks + np.arange(walks)[None, :]
        np.add.at(x, (at, (pad + j)[:, None]), table.transpose(0, 2, 1))
    return x


def _lattice_series(x: np.ndarray, base: np.ndarray, g: int, length: int, horizon: int,
                    walks: int | None) -> list[Series]:
    """Each state's arrivals from the lattice x (residues x walks, instants,
    states): a Series per state, with a column per walk unless walks is None
    (the amounts of one walk)."""
    residues = len(base)
    at = base[:, None] + g * np.arange(length)[None, :]  # residues x lattice times
    out = []
    for i in range(x.shape[2]):
        if walks is None:
            live = (x[:, :, i] != 0) & (at < horizon)
            out.append(merge([at[live]], [x[:, :, i][live]]))
            continue
        state = x[:, :, i].reshape(residues, walks, length).transpose(0, 2, 1)
        live = (state != 0).any(axis=2) & (at < horizon)  # [residue, instant]
        out.append(merge([at[live]], [state[live]]))
    return out


def _sparse_lattice(x: np.ndarray, pad: int, length: int, m: int,
                    moves: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                    q: np.ndarray, loop: _Loop) -> None:
    """`_lattice`'s recursion, in place on x, for a component of many
    states, with sparse matrices: W_q as they are, and the instant closure
    K = (I - Z)^-1 as a sparse LU of I - Z, never formed (in a large
    component it would be dense, and each block's products with it cost the
    number of states squared). Runs to the horizon (no tail test: that
    needs K's spectral radius)."""
    from scipy import sparse
    from scipy.sparse.linalg import splu

    src, dst, w, d = moves  # (those that arrive before the horizon)
    lags = sorted(set(q[d > 0].tolist()))
    k = x.shape[2]
    zero = d == 0
    if "splu" not in loop.cache:
        lu = None
        if zero.any():
            z = sparse.csc_matrix((w[zero], (dst[zero], src[zero])), shape=(k, k))  # Z^T
            lu = splu(sparse.identity(k, format="csc") - z)
        loop.cache["splu"] = lu
    lu = loop.cache["splu"]

    def closed(rows: np.ndarray) -> np.ndarray:  # rows K, for rows as a (count, k) array
        return rows if lu is None else lu.solve(np.ascontiguousarray(rows.T)).T

    step = []
    for lag in lags:
        at_lag = (q == lag) & ~zero
        step.append((lag, sparse.csr_matrix((w[at_lag], (dst[at_lag], src[at_lag])),
                                            shape=(k, k))))  # W_q^T
    rows = x.shape[0]
    x[:, pad:, :] = closed(x[:, pad:, :].reshape(-1, k)).reshape(rows, length, k)
    for b0 in range(0, length, m):
        width = min(m, length - b0)
        moved = np.zeros((rows * width, k))
        for lag, w_t in step:
            window = x[:, pad + b0 - lag:pad + b0 - lag + width, :].reshape(-1, k)
            moved += (w_t @ window.T).T
        x[:, pad + b0:pad + b0 + width, :] += closed(moved).reshape(rows, width, k)


def _response(step: list[tuple[int, np.ndarray]], k: int, width: int) -> np.ndarray:
    """The block impulse response as one (width k) x (width k) matrix T:
    a block's arrivals are (its inputs + what reaches it from before) @ T.
    T's (i, l) block is h[l - i] for l >= i, with h[0] = I and h[n] = sum
    over lags q <= n of h[n - q] A_q (row vectors, as in the recursion)."""
    h = _impulse(step, k, width)
    # T[i, a, l, b] = h[l - i][a, b]: windows of h behind width - 1 zero blocks
    # (a strided view; the final reshape is the one copy)
    padded = np.zeros((k, 2 * width - 1, k))
    padded[:, width - 1:, :] = h.transpose(1, 0, 2)
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)  # [a, s, b, l]
    return windows[:, ::-1].transpose(1, 0, 3, 2).reshape(width * k, width * k)


#: Largest companion state (states x longest lag, in lattice steps) whose
#: powers `_impulse` takes: about where squaring the companion starts to
#: cost more than the recursion (both well under a millisecond there).
_COMPANION = 64


def _impulse(step: list[tuple[int, np.ndarray]], k: int, width: int) -> np.ndarray:
    """h[0..width-1] (width, k, k) of `_response`: h[0] = I and h[n] = sum
    over lags q <= n of h[n - q] A_q.

    With a small companion state s[n] = (h[n], h[n-1], ..., h[n-Q+1]) (Q
    the longest lag shorter than the width: a longer one never reaches
    h[width - 1]), s[n] = s[0] C^n: the first j states times C^j are the
    next j, so about log2(width) products with a squared C, instead of
    width steps of Python (a 1-month loop under a 3-year horizon took most
    of a `per customer` quadrature point's solve)."""
    step = [(lag, a_q) for lag, a_q in step if lag < width]
    longest = max((lag for lag, _ in step), default=1)
    size = longest * k
    if size > _COMPANION:
        h = np.zeros((width, k, k))
        h[0] = np.eye(k)
        for n in range(1, width):
            for lag, a_q in step:
                if lag <= n:
                    h[n] += h[n - lag] @ a_q
        return h
    companion = np.zeros((size, size))
    for lag, a_q in step:  # h[n+1] = sum over q of (slot q-1 of s[n]) A_q
        companion[(lag - 1) * k:lag * k, :k] += a_q
    companion[:size - k, k:] += np.eye(size - k)  # slot j of s[n] is slot j+1 of s[n+1]
    states = np.zeros((1, k, size))
    states[0, :, :k] = np.eye(k)
    power = companion
    while len(states) < width:
        states = np.concatenate([states, states[:width - len(states)] @ power])
        if len(states) < width:
            power = power @ power
    return states[:, :, :k]


def _input_total(k: int, src, dst, w, close) -> np.ndarray | None:
    """Per state, all the arrivals a unit amount entering it causes (itself,
    closed over instant moves, and everything after), without the horizon's
    cut: K (I - G)^-1 1 with G = W K, W the delayed moves and K the instant
    closure. None when that is unbounded (a loop some walk never leaves)."""
    moves = np.zeros((k, k))
    np.add.at(moves, (src, dst), w)
    close = np.eye(k) if close is None else close
    g = moves @ close
    if max(abs(np.linalg.eigvals(g))) >= 1:
        return None
    total = close @ np.linalg.solve(np.eye(k) - g, np.ones(k))
    if not np.all(np.isfinite(total)) or total.min() < 0:
        return None
    return total

"""Arrivals inside one strongly connected component (a loop), for
`timeline.propagate`: a state with a delayed loop onto itself is a geometric
series on its own lattice; other loops go on the lattice of their delays
when that is cheap, else generation by generation, with a rigorous bound on
what is still in flight; moves without delay are closed over at each
instant with (I - Z)^-1. Amounts of several walks side by side (columns)
go one walk at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .series import Series, check_budget, merge

if TYPE_CHECKING:  # (timeline imports this module)
    from .timeline import Network

#: Relative size below which what is still in flight in a loop cannot change
#: any total in double precision (the geometric tail is bounded by it).
TAIL = 1e-17
#: Numbers a loop's lattice may hold (residues x instants x states), and
#: blocks it may take; beyond either, the loop goes generation by generation.
LATTICE_CELLS = 8_000_000
LATTICE_BLOCKS = 100_000
#: Instants x states of a lattice block solved in one product (see _lattice).
_BLOCK_WIDTH = 256
_UNDERFLOW = 1e-300
#: Components with more states than this run the lattice with sparse
#: matrices (the mixture chains of `per customer` rates make them: copies of
#: a loop joined by referrals).
_DENSE = 64



@dataclass
class _Loop:
    """A component's moves in local state numbers, and the closure over its
    instant moves: (I - Z)^-1 for row vectors (None without any)."""

    src: np.ndarray
    dst: np.ndarray
    w: np.ndarray
    d: np.ndarray
    close: np.ndarray | None
    # what depends on the structure alone, on first use (every propagation,
    # and every walk of several side by side, reuses it)
    cache: dict = field(default_factory=dict)


def _loop(net: Network, group: np.ndarray) -> _Loop:
    """The component's structure (computed once per network: every
    propagation on it reuses it)."""
    key = int(group[0])
    found = net.loops.get(key)
    if found is not None:
        return found
    k = len(group)
    local = {s: i for i, s in enumerate(group.tolist())}
    edges = [e for s in group.tolist()
             for e in net.by_src[net.out_start[s]:net.out_start[s + 1]].tolist()
             if net.inside[e]]
    src = np.array([local[int(net.src[e])] for e in edges], np.int64)
    dst = np.array([local[int(net.dst[e])] for e in edges], np.int64)
    w = net.weight[edges]
    d = net.delay[edges]
    zero = d == 0
    close = None
    if zero.any():
        z = np.zeros((k, k))
        np.add.at(z, (src[zero], dst[zero]), w[zero])
        close = np.linalg.inv(np.eye(k) - z)
    net.loops[key] = found = _Loop(src, dst, w, d, close)
    return found


def component(net: Network, group: np.ndarray, pending_t, pending_x) -> list[Series]:
    """Arrivals in one strongly connected component (or a state with a loop);
    amounts of several walks side by side (columns) go on the loop's lattice
    together when they can, else one walk at a time."""
    members = group.tolist()
    parts = [x for m in members for x in pending_x[m]]
    if not parts or parts[0].ndim == 1:
        return _component_of_one(net, group, pending_t, pending_x)
    together = _columns_on_lattice(net, group, pending_t, pending_x)
    if together is not None:
        return together
    columns = parts[0].shape[1]
    found = []
    for j in range(columns):
        column_t = {m: list(pending_t[m]) for m in members}
        column_x = {m: [x[:, j] for x in pending_x[m]] for m in members}
        found.append(_component_of_one(net, group, column_t, column_x))
    for m in members:
        pending_t[m] = pending_x[m] = []
    out = []
    for i in range(len(members)):
        times = np.unique(np.concatenate([f[i].t for f in found]))
        amounts = np.zeros((len(times), columns))
        for j, f in enumerate(found):
            amounts[np.searchsorted(times, f[i].t), j] = f[i].x
        out.append(Series(times, amounts))
    return out


def _columns_on_lattice(net: Network, group: np.ndarray, pending_t, pending_x
                        ) -> list[Series] | None:
    """Several walks' amounts (columns) in a loop that is no single renewal,
    on its lattice at once (each column is rows of its own); None (nothing
    consumed) when the lattice does not fit."""
    loop = _loop(net, group)
    k, members = len(group), group.tolist()
    if k == 1 and len(loop.src) == 1:
        return None  # a renewal: its geometric filter, a column at a time, is cheap
    parts_t, parts_c, parts_x = [], [], []
    for i, s in enumerate(members):
        for t, x in zip(pending_t[s], pending_x[s]):
            parts_t.append(t)
            parts_c.append(np.full(len(t), i))
            parts_x.append(x)
    times, where = np.unique(np.concatenate(parts_t), return_inverse=True)
    amounts = np.concatenate(parts_x)
    table = np.zeros((len(times), k, amounts.shape[1]))
    np.add.at(table, (where, np.concatenate(parts_c)), amounts)
    found = _lattice(times, table, loop, net.horizon)
    if found is not None:
        for s in members:
            pending_t[s] = pending_x[s] = []
    return found


def _component_of_one(net: Network, group: np.ndarray, pending_t, pending_x) -> list[Series]:
    """`_component` for one walk's amounts."""
    k = len(group)
    loop = _loop(net, group)
    src, dst, w, d = loop.src, loop.dst, loop.w, loop.d
    edges = src  # (one entry per move)
    # the component's input, as one table: times x states
    parts_t, parts_c, parts_x = [], [], []
    for i, s in enumerate(group.tolist()):
        for t, x in zip(pending_t[s], pending_x[s]):
            parts_t.append(t)
            parts_c.append(np.full(len(t), i))
            parts_x.append(x)
        pending_t[s] = pending_x[s] = []
    if not parts_t:
        return [Series() for _ in range(k)]
    times, table = _table(np.concatenate(parts_t), np.concatenate(parts_c),
                          np.concatenate(parts_x), k)
    if k == 1 and len(edges) == 1 and d[0] > 0:
        return [_geometric(times, table[:, 0], float(w[0]), int(d[0]), net.horizon)]
    if k == 1 and len(edges) == 1 and w[0] < 1:  # an instant self-loop: closed at once
        return [Series(times, table[:, 0] / (1.0 - float(w[0])))]
    zero = d == 0
    close = loop.close  # row vectors: x (I - Z)^-1
    on_lattice = _lattice(times, table, loop, net.horizon)
    if on_lattice is not None:
        return on_lattice
    moving = ~zero
    # A loop of a state onto itself (a renewal) is unrolled as a geometric
    # series within each generation, so generations count the laps of the
    # longer loops only (when no move is instant: laps would need closing).
    laps = moving & (src == dst) if close is None else np.zeros(len(edges), bool)
    onward = moving & ~laps
    lap = {int(src[e]): (float(w[e]), int(d[e])) for e in np.flatnonzero(laps).tolist()}
    if "decay" not in loop.cache:
        loop.cache["decay"] = _decay(k, src, dst, w, onward, close, laps)
    decay = loop.cache["decay"]
    all_t: list[np.ndarray] = []
    all_c: list[np.ndarray] = []
    all_x: list[np.ndarray] = []
    frontier_t, frontier = times, (table @ close if close is not None else table)
    o_src, o_dst, o_w, o_d = src[onward], dst[onward], w[onward], d[onward]
    total = 0.0
    while len(frontier_t):
        if lap:  # unroll the renewals: arrivals as (time, state, amount) triples
            gen_t, gen_c, gen_x = _with_laps(frontier_t, frontier, lap, net.horizon)
        else:
            rows, cols = np.nonzero(frontier)
            gen_t, gen_c, gen_x = frontier_t[rows], cols, frontier[rows, cols]
        if not len(gen_t):
            break
        all_t.append(gen_t)
        all_c.append(gen_c)
        all_x.append(gen_x)
        total += float(np.abs(gen_x).sum())
        if not len(o_src):
            break
        if decay is not None and float(np.abs(gen_x) @ decay[gen_c]) <= TAIL * total:
            break  # all that is still to come cannot change a total any more
        # every arrival moves along each move out of its state
        by_state = np.argsort(gen_c, kind="stable")
        bounds = np.searchsorted(gen_c[by_state], np.arange(k + 1))
        new_t, new_c, new_x = [], [], []
        for e in range(len(o_src)):
            lo, hi = bounds[o_src[e]], bounds[o_src[e] + 1]
            if lo == hi:
                continue
            rows = by_state[lo:hi]
            at = gen_t[rows] + o_d[e]
            keep = at < net.horizon
            new_t.append(at[keep])
            new_c.append(np.full(int(keep.sum()), o_dst[e]))
            new_x.append(gen_x[rows][keep] * o_w[e])
        if not new_t or not sum(map(len, new_t)):
            break
        frontier_t, frontier = _table(np.concatenate(new_t), np.concatenate(new_c),
                                      np.concatenate(new_x), k)
        if close is not None:
            frontier = frontier @ close
        check_budget(sum(map(len, all_t)) + len(frontier_t), group.tolist())
    if not all_t:  # (inputs of amount 0 only)
        return [Series() for _ in range(k)]
    return _split(np.concatenate(all_t), np.concatenate(all_c), np.concatenate(all_x), k)


def _decay(k: int, src, dst, w, onward, close, laps) -> np.ndarray | None:
    """What each arrival recorded in a generation brings in all later ones:
    with G the map from one generation's arrivals to the next (one more move
    along a loop, closed over instant moves and renewals as the pass does),
    a unit arriving at state i brings (G (I - G)^-1 1)_i in total, without
    the horizon's cut (which only takes away). A rigorous bound on what is
    still in flight. None when the loop is one some walk never leaves
    (spectral radius >= 1: only the horizon ends it)."""
    onward_m = np.zeros((k, k))
    np.add.at(onward_m, (src[onward], dst[onward]), w[onward])
    if close is not None:
        g = onward_m @ close
    else:
        renew = np.zeros(k)
        renew[src[laps]] = w[laps]
        if np.any(renew >= 1):
            return None
        g = onward_m / (1.0 - renew)[None, :]
    if not g.any():
        return np.zeros(k)
    if max(abs(np.linalg.eigvals(g))) >= 1:
        return None
    later = np.linalg.solve(np.eye(k) - g, np.ones(k)) - 1.0
    if not np.all(np.isfinite(later)) or later.min() < -1e-9:
        return None
    return np.maximum(later, 0.0)


def _with_laps(frontier_t: np.ndarray, frontier: np.ndarray, lap: dict[int, tuple[float, int]],
               horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A generation's arrivals with each state's renewal loop unrolled."""
    parts_t, parts_c, parts_x = [], [], []
    for i in range(frontier.shape[1]):
        live = frontier[:, i] != 0
        if not live.any():
            continue
        t_i, x_i = frontier_t[live], frontier[live, i]
        if i in lap:
            series = _geometric(t_i, x_i, *lap[i], horizon)
            t_i, x_i = series.t, series.x
        parts_t.append(t_i)
        parts_c.append(np.full(len(t_i), i))
        parts_x.append(x_i)
    if not parts_t:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(parts_t), np.concatenate(parts_c), np.concatenate(parts_x)


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
    if (len(residues) * walks * length * k > LATTICE_CELLS
            or length / width_max > LATTICE_BLOCKS):
        return None
    pad = int(q.max())  # zeros before the lattice: every block reads a full window
    x = np.zeros((len(residues) * walks, pad + length, k))
    j = (times - base[where]) // g
    if table.ndim == 2:
        np.add.at(x, (where, pad + j), table)
    else:  # row r * walks + c: residue r of walk c
        rows = where[:, None] * walks + np.arange(walks)[None, :]
        np.add.at(x, (rows, (pad + j)[:, None]), table.transpose(0, 2, 1))
    last_input = int(j.max())
    e_src, e_dst, e_w, e_q = src[moving], dst[moving], w[moving], q[moving]
    if k > _DENSE:
        _sparse_lattice(x, pad, length, m, sorted(set(e_q.tolist())), loop, q)
        return _lattice_series(x[:, pad:, :], base, g, length, horizon,
                           walks if table.ndim == 3 else None)
    if "later" not in loop.cache:
        loop.cache["later"] = _input_total(k, e_src, e_dst, e_w, close)
    later = loop.cache["later"]
    # x[j] = (in[j] + sum over lags q of x[j - q] W_q) K: with A_q = W_q K and
    # the inputs closed once, a block is one matrix product per lag
    if ("step", g) not in loop.cache:
        step = []
        for lag in sorted(set(e_q.tolist())):
            at_lag = e_q == lag
            weights = np.zeros((k, k))
            np.add.at(weights, (e_src[at_lag], e_dst[at_lag]), e_w[at_lag])
            step.append((lag, weights @ close if close is not None else weights))
        loop.cache[("step", g)] = step
    step = loop.cache[("step", g)]
    if close is not None:
        x[:, pad:, :] = x[:, pad:, :] @ close
    # Blocks of `width` instants: what reaches a block from before it comes
    # through each lag's history rows; what happens inside it is one product
    # with the block's impulse response (width m: none, as nothing within m
    # instants depends on another). Wider blocks trade a little arithmetic
    # for far fewer Python steps (a 1-day lag over 100 years: 36,500 steps).
    if ("response", g, width_max) not in loop.cache:
        loop.cache[("response", g, width_max)] = \
            _response(step, k, width_max) if width_max > m else None
    response = loop.cache[("response", g, width_max)]
    every = max(1, 32 // width_max)  # tail checks about every 32 instants
    done, counted = 0.0, 0
    for index, b0 in enumerate(range(0, length, width_max)):
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
    return _lattice_series(x[:, pad:, :], base, g, length, horizon,
                           walks if table.ndim == 3 else None)


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


def _sparse_lattice(x: np.ndarray, pad: int, length: int, m: int, lags: list[int],
                    loop: _Loop, q: np.ndarray) -> None:
    """`_lattice`'s recursion, in place on x, for a component of many
    states, with sparse matrices: W_q as they are, and the instant closure
    K = (I - Z)^-1 as a sparse LU of I - Z, never formed (in a large
    component it would be dense, and each block's products with it cost the
    number of states squared). Runs to the horizon (no tail test: that
    needs K's spectral radius)."""
    from scipy import sparse
    from scipy.sparse.linalg import splu

    src, dst, w, d = loop.src, loop.dst, loop.w, loop.d
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
    h = np.zeros((width, k, k))
    h[0] = np.eye(k)
    for n in range(1, width):
        for lag, a_q in step:
            if lag <= n:
                h[n] += h[n - lag] @ a_q
    apart = np.arange(width)[None, :] - np.arange(width)[:, None]  # l - i
    blocks = h[np.clip(apart, 0, None)] * (apart >= 0)[:, :, None, None]  # (i, l, k, k)
    return blocks.transpose(0, 2, 1, 3).reshape(width * k, width * k)


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


def _split(t: np.ndarray, c: np.ndarray, x: np.ndarray, k: int) -> list[Series]:
    """Per state, its arrivals as a Series (one sort for all of them)."""
    order = np.lexsort((t, c))
    t, c, x = t[order], c[order], x[order]
    bounds = np.searchsorted(c, np.arange(k + 1))
    out = []
    for i in range(k):
        ti, xi = t[bounds[i]:bounds[i + 1]], x[bounds[i]:bounds[i + 1]]
        if not len(ti):
            out.append(Series())
            continue
        first = np.r_[True, ti[1:] != ti[:-1]]
        starts = np.flatnonzero(first)
        out.append(Series(ti[first], np.add.reduceat(xi, starts)))
    return out


def _table(t: np.ndarray, c: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(unique times, times x k table of summed amounts)."""
    unique, where = np.unique(t, return_inverse=True)
    table = np.bincount(where * k + c, weights=x, minlength=len(unique) * k)
    return unique, table.reshape(len(unique), k)


def _geometric(t: np.ndarray, x: np.ndarray, w: float, d: int, horizon: int) -> Series:
    """Arrivals at a state with a loop onto itself (weight w, delay d > 0):
    each input amount x at t comes back w x at t + d, w^2 x at t + 2d, ...
    before the horizon. Times t and t + j d share their residue mod d, so
    per residue this is the filter y[j] = x[j] + w y[j - 1] on the lattice
    j = t // d, run as a few cumulative sums (all residues at once)."""
    residues, which = np.unique(t % d, return_inverse=True)
    length = int((horizon - 1) // d) + 1
    if len(residues) * length > LATTICE_CELLS:  # inputs at many residues: unroll them
        return _unrolled(t, x, w, d, horizon)
    lattice = np.zeros((len(residues), length))
    np.add.at(lattice, (which, t // d), x)
    y = _filter(lattice, w)
    at = residues[:, None] + d * np.arange(length)[None, :]
    live = (y != 0) & (at < horizon)
    return merge([at[live]], [y[live]])


def _filter(x: np.ndarray, w: float) -> np.ndarray:
    """y[:, j] = x[:, j] + w y[:, j - 1] along the rows, by chunks in which
    w^i stays within 1e-100..1e100 (so x / w^i and back lose nothing)."""
    if w == 0:
        return x
    if w == 1:
        return np.cumsum(x, axis=1)
    length = x.shape[1]
    chunk = max(1, int(100 * math.log(10) / abs(math.log(w)))) if w != 1 else length
    out = np.empty_like(x)
    carry = np.zeros(x.shape[0])
    for start in range(0, length, chunk):
        stop = min(length, start + chunk)
        powers = np.power(w, np.arange(stop - start, dtype=float))
        out[:, start:stop] = powers * (w * carry[:, None] + np.cumsum(x[:, start:stop] / powers,
                                                                       axis=1))
        carry = out[:, stop - 1]
    return out


def _unrolled(t: np.ndarray, x: np.ndarray, w: float, d: int, horizon: int) -> Series:
    """`_geometric` lap by lap (inputs at too many residues for a lattice)."""
    laps = np.maximum((horizon - 1 - t) // d, 0)  # the last j with t + j d < horizon
    if w < 1:
        laps = np.minimum(laps, int(math.log(_UNDERFLOW) / math.log(w)) if w > 0 else 0)
    lengths = laps + 1
    check_budget(int(lengths.sum()))
    which = np.repeat(np.arange(len(t)), lengths)
    j = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return merge([t[which] + j * d], [x[which] * np.power(w, j)])

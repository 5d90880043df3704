"""Arrivals inside one strongly connected component (a loop), for
`timeline.propagate`: a state with a delayed loop onto itself is a geometric
series on its own lattice; other loops go on the lattice of their delays
when that is cheap, else generation by generation, with a rigorous bound on
what is still in flight; moves without delay are closed over at each
instant with (I - Z)^-1. Amounts of several walks side by side (columns)
go one walk at a time. The lattice itself is lattice.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .lattice import LATTICE_CELLS, TAIL, _lattice
from .series import Series, check_budget, merge

if TYPE_CHECKING:  # (timeline imports this module)
    from .timeline import Network

_UNDERFLOW = 1e-300



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
    renewed = _renewal_columns(net, group, pending_t, pending_x)
    if renewed is not None:
        return renewed
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


def _renewal_columns(net: Network, group: np.ndarray, pending_t, pending_x
                     ) -> list[Series] | None:
    """Several walks' amounts (columns) at a state with a loop onto itself:
    with a delay, the geometric filter of `_geometric` with a row per
    residue and walk, all walks at once (the same sums as a walk at a time:
    the filter runs along each row alone); an instant one, closed at once.
    None (nothing consumed) for another loop, or inputs at too many residues
    for one lattice."""
    loop = _loop(net, group)
    if len(group) != 1 or len(loop.src) != 1 or not (loop.d[0] > 0 or loop.w[0] < 1):
        return None
    s = int(group[0])
    w, d, horizon = float(loop.w[0]), int(loop.d[0]), net.horizon
    # the input: its times and a row of amounts per time (walks side by side)
    first = pending_t[s][0]
    if len(pending_t[s]) == 1 and (len(first) < 2 or bool((first[1:] > first[:-1]).all())):
        t, x = first, pending_x[s][0]  # one part, sorted and unique (a shift)
    else:
        t, where = np.unique(np.concatenate(pending_t[s]), return_inverse=True)
        parts = np.concatenate(pending_x[s])
        x = np.zeros((len(t), parts.shape[1]))
        for j in range(parts.shape[1]):  # (the per-walk table's bincount, walk by walk)
            x[:, j] = np.bincount(where, weights=parts[:, j], minlength=len(t))
    if not len(t):
        pending_t[s] = pending_x[s] = []
        return [Series()]
    if d == 0:  # an instant loop: closed at once
        pending_t[s] = pending_x[s] = []
        return [Series(t, x / (1.0 - w))]
    residues, which = np.unique(t % d, return_inverse=True)
    length = min(int((horizon - 1) // d) + 1, int(t.max() // d) + _laps(w) + 1)
    walks = x.shape[1]
    if len(residues) * walks * length > LATTICE_CELLS:
        return None
    pending_t[s] = pending_x[s] = []
    lattice = np.zeros((len(residues), walks, length))
    lattice[which, :, t // d] = x
    y = _filter(lattice.reshape(len(residues) * walks, length), w).reshape(lattice.shape)
    at = residues[:, None] + d * np.arange(length)[None, :]  # residues x lattice times
    nonzero = y != 0
    live = nonzero.any(axis=1) & (at < horizon)  # [residue, instant]
    times = at[live]
    amounts = np.where(nonzero, y, 0.0).transpose(0, 2, 1)[live]  # (a walk's 0s as 0.0)
    order = np.argsort(times, kind="stable")  # (residues' times are all distinct)
    return [Series(times[order], amounts[order])]


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
    length = min(int((horizon - 1) // d) + 1, int(t.max() // d) + _laps(w) + 1)
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


def _laps(w: float) -> int:
    """Laps of a renewal of weight w after which what still comes back, w^j
    of the input and less, cannot change a total any more (w^j <= TAIL):
    a 99% monthly renewal needs 3,900 laps, not one per month of a
    1,000-year horizon. Unbounded (as many as the horizon allows) at w = 1."""
    if w <= 0:
        return 0
    if w >= 1:
        return 2**62
    return math.ceil(math.log(TAIL) / math.log(w))


def _unrolled(t: np.ndarray, x: np.ndarray, w: float, d: int, horizon: int) -> Series:
    """`_geometric` lap by lap (inputs at too many residues for a lattice)."""
    laps = np.maximum((horizon - 1 - t) // d, 0)  # the last j with t + j d < horizon
    laps = np.minimum(laps, _laps(w))
    lengths = laps + 1
    check_budget(int(lengths.sum()))
    which = np.repeat(np.arange(len(t)), lengths)
    j = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return merge([t[which] + j * d], [x[which] * np.power(w, j)])

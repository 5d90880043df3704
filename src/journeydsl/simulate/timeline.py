"""Arrival times, event by event: the core of the exact engine under a horizon.

A walk's visits happen at sums of the delays along its path. Delays are
whole seconds (durations are counted to the second), so every arrival time
is an integer number of seconds, and only the times some walk can actually
reach are ever represented: a `Series` is one state's arrivals as sorted,
unique times with the amount (probability mass, or money) arriving at each.
Nothing is laid on a fixed grid, so the cost does not depend on how the
delays divide each other (a journey with delays of 1 day and 1.00001 days
costs what one with 1 and 2 days costs), only on how many distinct times
walks reach before the horizon.

`propagate` pushes amounts through a weighted graph with delays (states,
edges src -> dst with weight w and delay d): arrivals(dst, t + d) += w *
arrivals(src, t), for t + d < H. It visits the strongly connected
components in topological order, so a state's arrivals are complete before
anything downstream reads them:
- outside loops, a state's arrivals are just what flows in (array shifts);
- a loop on one state with a delay (a monthly renewal) is a geometric
  series, unrolled in one vectorized step;
- other loops go generation by generation (every walk in the loop making
  one more move), each generation a few array operations over the distinct
  times in flight; a loop every walk can leave stops once what is still in
  flight can no longer change a sum in double precision, and a loop nobody
  leaves stops at the horizon.
Moves without delay happen within an instant: each time's arrivals in a
component are closed over them with (I - Z)^-1.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..linalg import components
from .cycles import _Loop, component
from .lattice import TAIL
from .series import EVENT_BUDGET, NONE, Series, TooManyEvents, check_budget, merge, nothing


@dataclass
class Network:
    """States 0..size-1 and edges src -> dst (weight, integer delay >= 0), with
    the strongly connected components in topological order (computed once,
    reused by every propagation on the same network)."""

    size: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    horizon: int  # arrivals at times >= horizon are dropped (seconds)

    def __post_init__(self) -> None:
        count, labels = components(self.size, self.src, self.dst)
        # labels are reverse topological: the largest label goes first
        order = np.argsort(-labels, kind="stable")
        starts = np.searchsorted(-labels[order], np.arange(-(count - 1), 1))
        ends = np.append(starts[1:], self.size)
        self.label = labels
        inside = labels[self.src] == labels[self.dst]
        self.inside = inside
        by_src = np.argsort(self.src, kind="stable")
        self.out_start = np.searchsorted(self.src[by_src], np.arange(self.size + 1))
        self.by_src = by_src
        # Everything below is made with array operations, not a Python step
        # per state or edge: a propagation from a few entries reaches a few
        # hundred of a 5,000-step journey's states (the payback's first look)
        # and must not pay for all of them (nor leave thousands of small
        # lists and tuples for the garbage collector).
        self._order = order
        self._order_list: list[int] = order.tolist()
        self._starts: list[int] = starts.tolist()
        self._ends: list[int] = ends.tolist()
        # per group: its one state when it is a state without a loop onto
        # itself (arrivals are what flows in), else -1
        looped = np.zeros(self.size, bool)
        looped[self.src[self.src == self.dst]] = True
        first = order[np.minimum(starts, self.size - 1)] if self.size else order
        single = (ends - starts == 1) & ~looped[first]
        self.plain: list[int] = np.where(single, first, -1).tolist()
        # each state's group, in topological order (group g has label count - 1 - g)
        self.rank: list[int] = (count - 1 - np.asarray(labels, np.int64)).tolist()
        self.loops: dict[int, _Loop] = {}  # each component's structure, on first use
        # per state: its moves out of its group (targets, delays, weights),
        # edges leave_start[s]:leave_start[s + 1] of flat lists, in edge order
        out = by_src[~inside[by_src]]
        self.leave_start: list[int] = np.searchsorted(
            self.src[out], np.arange(self.size + 1)).tolist()
        self.leave_dst: list[int] = self.dst[out].tolist()
        self.leave_delay: list[int] = self.delay[out].tolist()
        self.leave_weight: list[float] = self.weight[out].tolist()

    def group(self, g: int) -> np.ndarray:
        """The states of group g (topological order)."""
        return self._order[self._starts[g]:self._ends[g]]

    def members(self, g: int) -> list[int]:
        """The states of group g, as a list."""
        return self._order_list[self._starts[g]:self._ends[g]]


#: Which of a state's arrivals to follow: (state, its arrivals) -> the kept part.
Keep = Callable[[int, Series], Series]


def propagate(net: Network, inputs: list[Series], keep: Keep | None = None) -> list[Series]:
    """Every state's arrivals: its input plus all that flows in along edges
    before the horizon (inputs are indexed by state; consumed).

    `keep`, if given, prunes: each state's arrivals (complete once its
    component is done) are replaced by what `keep` returns before anything
    reads them, so what it drops is neither reported nor pushed on (the
    payback's bounded pruning of amounts too small to matter, payback.py)."""
    # what has arrived at each state and is not merged yet (only at the
    # states reached: no list per state of a large journey)
    pending_t: defaultdict[int, list[np.ndarray]] = defaultdict(list)
    pending_x: defaultdict[int, list[np.ndarray]] = defaultdict(list)
    # the groups something arrives at, in topological order (a heap of their
    # ranks): the cost follows the states walks reach, not the journey's size
    rank = net.rank
    todo: list[int] = []
    for state, series in enumerate(inputs):
        if series is not NONE and len(series.t):
            pending_t[state].append(series.t)
            pending_x[state].append(series.x)
            heapq.heappush(todo, rank[state])
    out = [NONE] * net.size
    events = 0
    last = -1
    while todo:
        g = heapq.heappop(todo)
        if g == last:
            continue  # (pushed once per arriving part)
        last = g
        state, members = net.plain[g], net.members(g)
        if state >= 0:
            arrived = merge(pending_t.pop(state), pending_x.pop(state))
            if keep is not None and len(arrived.t):
                arrived = keep(state, arrived)
            out[state] = arrived
            events += len(arrived.t)
        else:
            try:
                arrived_group = component(net, net.group(g), pending_t, pending_x)
            except TooManyEvents as err:
                err.states = err.states or sorted(members)
                raise
            for state, series in zip(members, arrived_group):
                if keep is not None and len(series.t):
                    series = keep(state, series)
                out[state] = series
                events += len(series.t)
        _push(net, members, out, pending_t, pending_x, todo)
        check_budget(events, members)
    return out


def _push(net: Network, members: list[int], out: list[Series], pending_t, pending_x,
          todo: list[int]) -> None:
    """Send the group's arrivals along its edges to states outside it (and
    put the groups they reach on the heap `todo`)."""
    horizon, rank = net.horizon, net.rank
    start, targets, delays, weights = net.leave_start, net.leave_dst, net.leave_delay, \
        net.leave_weight
    for state in members:
        series = out[state]
        t = series.t
        if not len(t):
            continue
        x, size, last = series.x, len(t), int(t[-1])
        for e in range(start[state], start[state + 1]):
            target, delay = targets[e], delays[e]
            # times are sorted: those arriving before the horizon are a prefix
            cut = size if last + delay < horizon else int(np.searchsorted(
                t, horizon - delay, side="left"))
            if cut:
                if not pending_t[target]:
                    heapq.heappush(todo, rank[target])
                if cut == size:
                    pending_t[target].append(t + delay)
                    pending_x[target].append(x * weights[e])
                else:
                    pending_t[target].append(t[:cut] + delay)
                    pending_x[target].append(x[:cut] * weights[e])


__all__ = ["EVENT_BUDGET", "TAIL", "Network", "Series", "TooManyEvents", "merge", "nothing",
           "propagate"]

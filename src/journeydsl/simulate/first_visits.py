"""First visits under a horizon: P(a walk visits a step before H), for the
steps on loops (elsewhere reach is the visits themselves, horizon.py).

The plain way is a taboo pass per step: the whole journey propagated again
with walks stopping on entering the step (`taboo_pass`). A loop of
thousands of steps then costs thousands of passes over thousands of
states: a 1,000-step loop took 47 s, 10,000 steps hours. Most big loops
run through one step, a hub (every step of a long chain can go back to the
start; a renewal ring): remove the hub and the loop is a DAG. Then every
step's first visits come from three passes over the DAG and a renewal
equation per step, on the lattice of the loop's delays (`through_hub`).

With h the hub, in generating functions of time (z^t: a move of delay d
is z^d, a path the product of its moves):
  b_s   inputs of the loop reaching s before they reach h (h a sink),
  x_s   paths h -> s that do not pass h again, R = x_h the returns to h,
  y_s   paths s -> h that do not pass h before;
in a DAG a path visits s at most once, so the paths through s are x_s y_s
(from h) and b_s y_s (from the inputs), and for a walk that has not yet
visited s:
  arrivals at h   G_s = (b_h - b_s y_s) / (1 - (R - x_s y_s)),
  first visits    F_s = b_s + G_s x_s,
reach = the coefficients of F_s for times before H. Each product is a
convolution on the lattice (times a multiple of the loop's delays' gcd,
inputs at their own residues), the division a renewal recursion run for
all steps at once, one instant at a time.

A big loop without a hub keeps the taboo passes while they fit a budget
(TABOO_EVENTS); past it the run stops before the first pass with
LoopTooLarge, which `limits.located` reports as JD410 (remove the horizon,
give the loop a hub, or simulate by Monte Carlo).

A stage walks can leave and re-enter takes a taboo pass too (walks stopping
on entering the stage, `reentered_stage_reach`). A taboo pass reaches only
steps the full pass reached, so each pass is built over those that also
lead into the stage: 100 stages of a 10,000-step loop under a year cost
about a second, not 100 networks of 10,000 states. The same budget bounds
the stages' passes (JD410, worded for stages).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .series import Series, TooManyEvents
from .timeline import Network, propagate

if TYPE_CHECKING:
    from .horizon import _Timed

#: Loops with fewer states keep the taboo passes (cheap there, and the
#: numbers every existing test pins).
HUB_MIN_STATES = 64
#: Lattice cells (states x instants, for the passes from the hub, to it, and
#: from the inputs of each residue) the hub method holds: 200 MB.
HUB_CELLS = 24_000_000
#: Multiply-adds of the renewal recursions (steps x instants x the returns'
#: reach) the hub method may spend: about a second.
HUB_WORK = 2_000_000_000
#: Arrival times (passes x the loop's distinct arrival times in the first
#: pass, a bound on each pass's) the taboo passes of the steps of big loops
#: without a hub may follow together: beyond, LoopTooLarge up front (JD410)
#: rather than minutes of passes (50 M: 2 to 10 s, 40 to 200 ns each).
TABOO_EVENTS = 50_000_000
#: Cells of the per-step arrays in one chunk of the renewal recursion.
_CHUNK_CELLS = 2_000_000
#: Candidate hubs tried (the states most moves arrive at).
_CANDIDATES = 4


def taboo_pass(timed: _Timed, inside: np.ndarray, active: np.ndarray | None = None) -> float:
    """P(the walk visits a step of the set before the horizon): a taboo pass,
    walks stopping on entering the set.

    `active`: the steps anything arrives at before the horizon in the full
    pass (a taboo pass reaches fewer). Only those are built into the pass's
    network: a 10,000-step loop under a 1-year horizon of daily moves has
    ~370 of them, and the pass then costs what they cost, not a network of
    10,000 states (its components, its per-state arrays) per pass."""
    chain = timed.chain
    row, col = chain.move_row, chain.move_col
    keep = ~inside[row]
    if active is None:
        size, number = timed.n, np.arange(timed.n)
    else:
        keep &= active[row] & active[col]
        size = int(active.sum())
        number = np.cumsum(active) - 1  # an active step's state in the pass
    net = Network(size, number[row[keep]], number[col[keep]], chain.move_rate[keep],
                  timed.delay[keep], timed.horizon)
    start = timed.start(timed.n, layered=False)
    if active is not None:
        start = [start[s] for s in np.flatnonzero(active).tolist()]
    arrivals = propagate(net, start)
    wanted = inside if active is None else inside & active
    return float(sum(arrivals[number[s]].total() for s in np.flatnonzero(wanted).tolist()))


def step_reach(timed: _Timed, targets: list[int], labels: np.ndarray, both: list[Series],
               min_states: int | None = None) -> dict[int, float]:
    """Reach of each target step (steps on loops): through the hub of its
    loop when it is big and has one, else a taboo pass per step. `labels`:
    each step's strongly connected component; `both`: each step's arrivals
    (both layers merged)."""
    out: dict[int, float] = {}
    by_loop: dict[int, list[int]] = {}
    for s in targets:
        by_loop.setdefault(int(labels[s]), []).append(s)
    n = timed.n
    least = HUB_MIN_STATES if min_states is None else min_states
    taboo: list[int] = []
    events, worst, most = 0, (0, 0), 0
    refusals: dict[int, str] = {}  # loop (its first step) -> why the hub method declined it
    for label, steps in by_loop.items():
        members = np.flatnonzero(labels == label)
        found = None
        if len(members) >= least:
            found = through_hub(timed, members, steps, both, refusals)
            if found is None:  # refused up front (below) when too many passes
                # a pass follows at most the times the first one reached
                cost = len(steps) * sum(len(both[s].t) for s in members.tolist())
                events += cost
                if cost > most:
                    most, worst = cost, (label, len(steps))
        if found is None:
            taboo += steps
        else:
            out.update(found)
    if events > TABOO_EVENTS:
        loop = np.flatnonzero(labels == worst[0])
        raise LoopTooLarge(loop.tolist(), worst[1], events,
                           hub_refused=refusals.get(int(loop[0])) == "budget")
    active = arrived(both)
    for s in taboo:
        out[s] = taboo_pass(timed, np.arange(n) == s, active)
    return out


def arrived(both: list[Series]) -> np.ndarray:
    """Per step, whether anything arrives there before the horizon."""
    return np.fromiter((len(x.t) > 0 for x in both), bool, count=len(both))


def reentered_stage_reach(timed: _Timed, stages: list[int], st: np.ndarray,
                          labels: np.ndarray, both: list[Series]) -> dict[int, float]:
    """Reach of each stage walks can leave and re-enter: a taboo pass each
    (walks stopping on entering the stage), over the steps that something
    reaches before the horizon and that lead into the stage. Bounded like
    the steps' passes: when the passes would follow more arrival times than
    TABOO_EVENTS (each pass at most the times the first pass reached on
    those steps), LoopTooLarge up front (JD410, naming the stages' loop)."""
    active = arrived(both)
    times = np.array([len(x.t) for x in both], np.int64)
    chain = timed.chain
    live = active[chain.move_row] & active[chain.move_col]  # (a pass moves nothing else)
    into: dict[int, list[int]] = {}
    for a, b in zip(chain.move_row[live].tolist(), chain.move_col[live].tolist()):
        into.setdefault(b, []).append(a)
    plans, events, most, worst, passes = [], 0, -1, 0, 0
    for k in stages:
        inside = st == k
        # the steps that lead into the stage (a pass reaches nothing else that counts)
        lead = _reaching(inside & active, into)
        cost = int(times[lead & ~inside].sum()) + int(lead.sum())
        events += cost
        passes += bool(lead.any())
        if cost > most:
            most, worst = cost, k
        plans.append((k, inside, lead))
    if events > TABOO_EVENTS:
        on_loop = np.flatnonzero(np.isin(labels, np.unique(labels[st == worst])))
        raise LoopTooLarge(on_loop.tolist(), passes, events, what="stages")
    return {k: taboo_pass(timed, inside, lead) if lead.any() else 0.0
            for k, inside, lead in plans}


def _reaching(target: np.ndarray, into: dict[int, list[int]]) -> np.ndarray:
    """The steps with a path (of any number of moves) into `target`'s steps;
    `into`: each step's predecessors."""
    seen = target.copy()
    todo = np.flatnonzero(seen).tolist()
    while todo:
        for a in into.get(todo.pop(), ()):
            if not seen[a]:
                seen[a] = True
                todo.append(a)
    return seen


class LoopTooLarge(TooManyEvents):
    """The steps of a big loop without a hub whose reach under the horizon
    would take more taboo passes than TABOO_EVENTS allows (`limits.located`
    makes it JD410). `states`: the loop's steps; `events`: the estimate."""

    def __init__(self, states: list[int], passes: int, events: int, what: str = "steps",
                 hub_refused: bool = False) -> None:
        super().__init__(states)
        self.passes, self.events, self.budget = passes, events, TABOO_EVENTS
        self.what = what  # "steps" or "stages": whose reach takes the passes
        # the loop has a hub, but its lattice or its work passed their budgets
        # (the help must not then say the loop has none)
        self.hub_refused = hub_refused


def _hub(k: int, src: np.ndarray, dst: np.ndarray) -> int | None:
    """A state of the loop (local numbers) on every cycle: without it the
    loop is a DAG (no self-loop either). None if the few likeliest fail."""
    from ..linalg import components

    indegree = np.bincount(dst, minlength=k)
    for h in np.argsort(-indegree, kind="stable")[:_CANDIDATES].tolist():
        rest = (src != h) & (dst != h)
        if (src[rest] == dst[rest]).any():
            return None  # a self-loop off the hub: on no single hub's cycles
        count, _ = components(k, src[rest], dst[rest])
        if count == k:
            return h
    return None


def _topological(k: int, src: np.ndarray, dst: np.ndarray, skip: int) -> list[int]:
    """The states but `skip` in an order every move among them goes forward in."""
    rest = (src != skip) & (dst != skip)
    s, d = src[rest], dst[rest]
    indegree = np.bincount(d, minlength=k)
    order_by_src = np.argsort(s, kind="stable")
    starts = np.searchsorted(s[order_by_src], np.arange(k + 1))
    targets = d[order_by_src].tolist()
    ready = [v for v in range(k) if v != skip and indegree[v] == 0]
    left = indegree.tolist()
    out = []
    while ready:
        u = ready.pop()
        out.append(u)
        for v in targets[starts[u]:starts[u + 1]]:
            left[v] -= 1
            if left[v] == 0:
                ready.append(v)
    return out


def through_hub(timed: _Timed, members: np.ndarray, steps: list[int], both: list[Series],
                refusals: dict[int, str] | None = None) -> dict[int, float] | None:
    """Reach of `steps` (all in the loop `members`) by the hub decomposition
    (module doc); None when the loop has no hub, or the lattice or the work
    would pass their budgets (the caller then runs taboo passes; `refusals`,
    keyed by the loop's first step, says which: "no hub" or "budget")."""
    if refusals is None:
        refusals = {}
    chain, horizon = timed.chain, timed.horizon
    row, col, rate, delay = chain.move_row, chain.move_col, chain.move_rate, timed.delay
    k = len(members)
    local = np.full(timed.n, -1, np.int64)
    local[members] = np.arange(k)
    inside = (local[row] >= 0) & (local[col] >= 0) & (delay < horizon)
    src, dst, w, d = local[row[inside]], local[col[inside]], rate[inside], delay[inside]
    if not (d > 0).any():
        return None
    h = _hub(k, src, dst)
    if h is None:
        refusals[int(members[0])] = "no hub"
        return None
    g = 0
    for q in np.unique(d[d > 0]).tolist():
        g = math.gcd(g, int(q))
    length = -(-horizon // g)  # lattice instants at times g j < H
    lag = d // g
    # the loop's inputs: prospects entering at its steps, moves from outside
    entering = (local[col] >= 0) & (local[row] < 0)
    parts_t, parts_s, parts_x = [], [], []
    alpha = np.asarray(chain.entry, float)
    for s in np.flatnonzero(alpha[members] > 0).tolist():
        parts_t.append(np.zeros(1, np.int64))
        parts_s.append(np.array([s]))
        parts_x.append(np.array([alpha[members[s]]]))
    for e in np.flatnonzero(entering).tolist():
        series = both[int(row[e])]
        at = series.t + int(delay[e])
        live = at < horizon
        if live.any():
            parts_t.append(at[live])
            parts_s.append(np.full(int(live.sum()), local[col[e]]))
            parts_x.append(series.x[live] * float(rate[e]))
    if not parts_t:
        return {s: 0.0 for s in steps}
    t_in, s_in, x_in = map(np.concatenate, (parts_t, parts_s, parts_x))
    residues = np.unique(t_in % g)
    if k * length * (len(residues) + 2) > HUB_CELLS:
        refusals[int(members[0])] = "budget"
        return None
    order = _topological(k, src, dst, h)
    forward = _moves_by(src, order, h)
    x = np.zeros((k, length))
    for e in np.flatnonzero(src == h).tolist():  # one unit leaving h at time 0
        if lag[e] < length:
            x[dst[e], lag[e]] += w[e]
    _spread(x, order, forward, dst, w, lag)
    returns = x[h].copy()
    y = np.zeros((k, length))
    y[h, 0] = 1.0
    for u in reversed(order):  # paths u -> h, from the states nearest h back
        for e in forward[u]:
            q = int(lag[e])
            if q < length:
                y[u, q:] += w[e] * y[dst[e], :length - q]
    y[h] = 0.0
    targets = [int(local[s]) for s in steps]
    others = [t for t in targets if t != h]
    reach_of = dict.fromkeys(targets, 0.0)
    # steps x instants x the reach of the returns: the recursion's work
    support = int(np.flatnonzero(returns)[-1]) + 1 if returns.any() else 1
    if len(others) * length * min(length, support) * len(residues) > HUB_WORK:
        refusals[int(members[0])] = "budget"
        return None
    for r in residues.tolist():
        size = -(-(horizon - r) // g)  # instants at times r + g j < H
        b = np.zeros((k, size))
        pick = t_in % g == r
        np.add.at(b, (s_in[pick], (t_in[pick] - r) // g), x_in[pick])
        _spread(b, order, forward, dst, w, lag)
        if h in reach_of:
            reach_of[h] += float(b[h].sum())
        if others:
            found = _renewal(b, x, y, returns, h, np.array(others), size)
            for t, value in zip(others, found.tolist()):
                reach_of[t] += value
    return {int(members[t]): min(1.0, max(0.0, v)) for t, v in reach_of.items()}


def _moves_by(src: np.ndarray, order: list[int], h: int) -> dict[int, list[int]]:
    """Each state's moves within the loop (the hub's own are the first pass's)."""
    out: dict[int, list[int]] = {u: [] for u in order}
    for e, u in enumerate(src.tolist()):
        if u != h:
            out[u].append(e)
    return out


def _spread(a: np.ndarray, order: list[int], forward: dict[int, list[int]], dst: np.ndarray,
            w: np.ndarray, lag: np.ndarray) -> None:
    """Push each row of `a` (arrivals per state on the lattice) along the
    DAG's moves in topological order, in place; the hub collects what
    arrives at it and sends nothing on."""
    length = a.shape[1]
    for u in order:
        row = a[u]
        if not row.any():
            continue
        for e in forward[u]:
            q = int(lag[e])
            if q < length:
                a[dst[e], q:] += w[e] * row[:length - q]


def _convolved(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Row by row, the first `size` coefficients of a * b (each row a series)."""
    out = np.zeros((len(a), size))
    for i in np.flatnonzero(a[:, :size].any(axis=0)).tolist():
        live = a[:, i] != 0
        out[live, i:] += a[live, i, None] * b[live, :size - i]
    return out


def _renewal(b: np.ndarray, x: np.ndarray, y: np.ndarray, returns: np.ndarray, h: int,
             others: np.ndarray, size: int) -> np.ndarray:
    """Per step s of `others`, the coefficients of F_s before the horizon,
    for inputs `b` on one residue's lattice of `size` instants (module doc);
    in chunks of steps (memory)."""
    chunk = max(1, _CHUNK_CELLS // size)
    return np.concatenate([_renewal_chunk(b, x, y, returns, h, others[a:a + chunk], size)
                           for a in range(0, len(others), chunk)])


def _renewal_chunk(b: np.ndarray, x: np.ndarray, y: np.ndarray, returns: np.ndarray, h: int,
                   others: np.ndarray, size: int) -> np.ndarray:
    xs, ys, bs = x[others, :size], y[others, :size], b[others, :size]
    # instants x steps from here on: each instant's row is contiguous
    avoid = (returns[None, :size] - _convolved(xs, ys, size)).T  # returns that miss s
    np.maximum(avoid, 0.0, out=avoid)  # (only rounding makes one negative)
    first = (b[h, :size][None, :] - _convolved(bs, ys, size)).T  # inputs at h before s
    np.maximum(first, 0.0, out=first)
    lead = 1.0 - avoid[0]
    lead = np.where(lead <= 0, np.inf, lead)  # instantly back forever: no arrivals
    # G[j] = (first[j] + sum_{1<=i<=j} avoid[i] G[j - i]) / lead, all steps at
    # once; `back` holds G reversed in time, so each sum is over one block
    back = np.zeros((size, len(others)))
    live = np.flatnonzero(avoid.any(axis=1))
    reach = int(live[-1]) if len(live) else 0  # returns take at most `reach` instants
    for j in range(size):
        total = first[j]
        top = min(j, reach)
        if top:
            total = total + np.einsum("ij,ij->j", avoid[1:top + 1],
                                      back[size - j:size - j + top])
        back[size - 1 - j] = total / lead
    # F = b_s + G x_s: G at instant j and x_s at i arrive at j + i < size, so
    # G[j] meets the sum of x_s over i < size - j (back[size - 1 - j] is G[j])
    cumulative = np.cumsum(xs, axis=1).T  # [i] = sum of x_s up to i
    onward = np.einsum("ij,ij->j", back, cumulative)
    return bs.sum(axis=1) + onward

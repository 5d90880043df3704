"""Referral cascades that never die out (JD406).

Each prospect walks the journey and, on every visit to A with `A => B k`,
sends k new prospects into B, who walk and refer in turn. Grouping
prospects by the step they enter at, the next-generation matrix K[j, k] is
the expected number of prospects entering at k sent by one prospect entering
at j; the cascade is finite iff K's spectral radius is below 1.

Only when some referral lies on a cycle is there anything to compute
(without one the cascade has bounded depth). Small journeys are solved in
plain Python so that `journey check` does not pay for importing numpy;
large ones with scipy's sparse LU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..diagnostics import Diagnostic, Severity
from .compiled import RATE_TOLERANCE, CompiledJourney
from .context import Context, closed_classes, closure
from .flow import Flow, Pair

if TYPE_CHECKING:
    import numpy as np

#: (row, column, value): an entry of a sparse matrix (rates: step -> step;
#: sends: sending step -> referral target's column).
_Entry = tuple[int, int, float]


def referral_cycle(flow: Flow, personas: list[str]) -> list[str] | None:
    """A cycle `a => b -> ... -> a` that uses a referral, if the journey has one
    (the first referral in the pairs' order that closes one, the shortest way
    back)."""
    def used(pair: Pair) -> bool:
        return any(pair.rate(p) > 0 or pair.sends(p) > 0 for p in personas)

    succ, _ = flow.adjacency(used)
    for pair in flow.pairs:
        if pair.referral is not None and any(pair.sends(p) > 0 for p in personas):
            back = _shortest_path(succ, pair.target, pair.source)
            if back is not None:
                return [pair.source] + back
    return None


def _shortest_path(succ: dict[str, list[str]], start: str, end: str) -> list[str] | None:
    """Breadth first, successors in the pairs' order."""
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    for v in queue:
        if v == end:
            path: list[str] = []
            at: str | None = v
            while at is not None:
                path.append(at)
                at = parent[at]
            return path[::-1]
        for w in succ[v]:
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return None


def surely_dies_out(flow: Flow, persona: str) -> bool:
    """A cheap sufficient test that needs no linear algebra.

    A walk survives t moves with probability at most q^t, q being the
    largest total outgoing rate of any step, so it makes at most 1 / (1 - q)
    visits and sends at most S / (1 - q) prospects, S being the most any one
    visit sends. Every row sum of the next-generation matrix is below that
    bound, and so is its spectral radius."""
    out_rate: dict[str, float] = {}
    sent: dict[str, float] = {}
    for pair in flow.pairs:
        if pair.move is not None:
            out_rate[pair.source] = out_rate.get(pair.source, 0.0) + pair.rate(persona)
        if pair.referral is not None:
            sent[pair.source] = sent.get(pair.source, 0.0) + pair.sends(persona)
    q = max(out_rate.values(), default=0.0)
    return q < 1 and max(sent.values(), default=0.0) / (1 - q) < 1


def _over_full(journey: CompiledJourney, persona: str) -> bool:
    return any(t > 1 + RATE_TOLERANCE for t in journey.outgoing(persona).values())


def spectral_radius(flow: Flow, persona: str) -> float:
    """Spectral radius of the next-generation matrix for one persona."""
    where = {n: i for i, n in enumerate(flow.steps)}
    targets = sorted({p.target for p in flow.pairs if p.sends(persona) > 0}, key=where.__getitem__)
    if not targets:
        return 0.0
    # Only steps a referred prospect can visit matter.
    succ, _ = flow.adjacency(lambda pair: pair.rate(persona) > 0)
    nodes = sorted(closure(succ, targets), key=where.__getitem__)
    local = {n: i for i, n in enumerate(nodes)}
    rates = [(local[p.source], local[p.target], p.rate(persona)) for p in flow.pairs
             if p.source in local and p.target in local and p.rate(persona) > 0]
    sends = [(local[p.source], targets.index(p.target), p.sends(persona)) for p in flow.pairs
             if p.source in local and p.sends(persona) > 0]
    sources = [local[t] for t in targets]
    if len(nodes) <= _PURE_PYTHON_LIMIT:
        visits = _visits_pure(len(nodes), rates, sources)
        next_generation = [[sum(visits[j][a] * k for a, col, k in sends if col == c)
                            for c in range(len(targets))] for j in range(len(targets))]
        return _perron_root(next_generation)
    return _radius_numpy(len(nodes), rates, sends, sources, len(targets))


_PURE_PYTHON_LIMIT = 60


def _visits_pure(n: int, rates: list[_Entry], sources: list[int]) -> list[list[float]]:
    """visits[j][a]: expected visits to a from an entry at sources[j].

    Row j solves x (I - Q) = e_j, i.e. (I - Q)^T x = e_j, by Gauss-Jordan
    elimination with partial pivoting on the small dense system."""
    a = [[0.0] * n for _ in range(n)]  # a = (I - Q)^T
    for i in range(n):
        a[i][i] = 1.0
    for u, v, rate in rates:
        a[v][u] -= rate
    rhs = [[1.0 if i == s else 0.0 for s in sources] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
        p = a[col][col]
        if abs(p) < 1e-12:  # only when walks never end: JD405 reports that
            return [[float("inf")] * n for _ in sources]
        for r in range(n):
            if r != col and a[r][col] != 0.0:
                f = a[r][col] / p
                row, prow = a[r], a[col]
                for c in range(col, n):
                    row[c] -= f * prow[c]
                rr, pr = rhs[r], rhs[col]
                for c in range(len(sources)):
                    rr[c] -= f * pr[c]
    return [[rhs[i][j] / a[i][i] for i in range(n)] for j in range(len(sources))]


def _perron_root(matrix: list[list[float]]) -> float:
    """Spectral radius of a small non-negative matrix, by bisection.

    For K >= 0, rho(K) < s exactly when sI - K is a non-singular M-matrix,
    i.e. when elimination without pivoting meets only positive pivots."""
    k = len(matrix)
    high = max(sum(row) for row in matrix)
    if high <= 0:
        return 0.0

    def below(s: float) -> bool:
        m = [[(s if i == j else 0.0) - matrix[i][j] for j in range(k)] for i in range(k)]
        for col in range(k):
            if m[col][col] <= 0:
                return False
            for r in range(col + 1, k):
                f = m[r][col] / m[col][col]
                for c in range(col, k):
                    m[r][c] -= f * m[col][c]
        return True

    low = 0.0
    high *= 1.0 + 1e-12
    for _ in range(64):
        mid = (low + high) / 2
        if below(mid):
            high = mid
        else:
            low = mid
    return high


def _radius_numpy(n: int, rates: list[_Entry], sends: list[_Entry], sources: list[int],
                  k: int) -> float:
    """K = N[T, A] S[A, T] (N the expected visits (I - Q)^-1, T the referral
    targets, A the steps that send): its nonzero eigenvalues are those of
    S[A, T] N[T, A], so only min(|A|, |T|) solves are needed, from the
    senders' side (columns of N) or the targets' (rows)."""
    import numpy as np
    from scipy.sparse import coo_matrix

    from ..linalg import solve_visits

    rows, cols, vals = zip(*rates) if rates else ((), (), ())
    q = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    senders = sorted({a for a, _, _ in sends})
    send = np.zeros((len(senders), k))  # S[A, T]
    at = {a: i for i, a in enumerate(senders)}
    for a, column, amount in sends:
        send[at[a], column] += amount
    if len(senders) <= k:
        columns = solve_visits(q, _units(n, senders))  # N[:, A]
        small = send @ columns[sources, :]  # S[A, T] N[T, A]
    else:
        rows_t = solve_visits(q, _units(n, sources), transpose=True).T  # N[T, :]
        small = rows_t[:, senders] @ send  # N[T, A] S[A, T]
    return float(max(abs(np.linalg.eigvals(small))))


def _units(n: int, at: list[int]) -> np.ndarray:
    """The unit columns e_i for i in `at`, as an n x len(at) array."""
    import numpy as np

    out = np.zeros((n, len(at)))
    out[at, np.arange(len(at))] = 1.0
    return out


def supercritical_loops(ctx: Context) -> Iterable[Diagnostic]:
    flow = ctx.flow
    cycle = referral_cycle(flow, ctx.personas)
    if cycle is None:
        return
    worst: tuple[float, str] | None = None
    for persona in ctx.personas:
        if surely_dies_out(flow, persona) or _over_full(ctx.journey, persona):
            continue  # (rates over 100% are JD303 already: no walk model to solve)
        if closed_classes(flow, persona):
            continue  # infinite visits: JD405 says so already (or the horizon cuts them)
        radius = spectral_radius(flow, persona)
        if radius >= 1 - 1e-12 and (worst is None or radius > worst[0]):
            worst = (radius, persona)
    if worst is None:
        return
    radius, persona = worst
    text = f"`{cycle[0]} => " + " -> ".join(cycle[1:]) + "`"
    who = "" if len(ctx.personas) == 1 else f" (persona `{persona}`)"
    horizon = ctx.journey.horizon_days is not None
    span = ctx.journey.sends[cycle[0], cycle[1]].span
    yield ctx.make(
        "JD406",
        f"referral loop {text} never dies out: each generation is {radius:.3g}x the last{who}",
        span,
        severity=Severity.WARNING if horizon else None,
        help=("the horizon cuts it, but the cohort grows without limit past the horizon"
              if horizon else
              "lower the referral numbers or the rates in the loop so each prospect brings "
              "fewer than one more"),
    )

"""Referral cascades that never die out (JD406).

Each prospect walks the journey and, on every visit to A with `A => B k`,
sends k new prospects into B, who walk and refer in turn. Grouping
prospects by the step they enter at, the next-generation matrix K[j, k] is
the expected number of prospects entering at k sent by one prospect entering
at j; the cascade is finite iff K's spectral radius is below 1.

numpy (and scipy for large journeys) is imported only when some referral
lies on a cycle: without one the cascade has bounded depth and is finite.
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from .checks import Context, closed_classes
from .diagnostics import Diagnostic, Severity

_DENSE_LIMIT = 400


def referral_cycle(graph: nx.DiGraph) -> list[str] | None:
    """A cycle `a => b -> ... -> a` that uses a referral, if the journey has one."""
    moves = nx.DiGraph()
    moves.add_edges_from(
        (u, v) for u, v, d in graph.edges(data=True)
        if (d["rate"] and any(d["rate"].values())) or (d["referral"] and any(d["referral"].values())))
    for u, v, d in graph.edges(data=True):
        if d["referral"] and any(d["referral"].values()) and u in moves and v in moves:
            try:
                back = nx.shortest_path(moves, v, u)
            except nx.NetworkXNoPath:
                continue
            return [u] + back
    return None


def spectral_radius(graph: nx.DiGraph, persona: str) -> float:
    """Spectral radius of the next-generation matrix for one persona."""
    import numpy as np

    nodes = list(graph.nodes)
    where = {n: i for i, n in enumerate(nodes)}
    targets = sorted({v for _, v, d in graph.edges(data=True)
                      if d["referral"] and d["referral"][persona] > 0}, key=where.get)
    if not targets:
        return 0.0
    rows, cols, vals = [], [], []
    for u, v, d in graph.edges(data=True):
        if d["rate"] is not None and d["rate"][persona] > 0:
            rows.append(where[u])
            cols.append(where[v])
            vals.append(d["rate"][persona])
    n = len(nodes)
    rhs = np.zeros((n, len(targets)))
    for column, target in enumerate(targets):
        rhs[where[target], column] = 1.0
    # visits[a, j]: expected visits to a by a prospect entering at targets[j]
    # solves (I - Q)^T visits = E.
    if n <= _DENSE_LIMIT:
        q = np.zeros((n, n))
        np.add.at(q, (rows, cols), vals)
        visits = np.linalg.solve(np.eye(n) - q.T, rhs)
    else:
        from scipy.sparse import coo_matrix, identity
        from scipy.sparse.linalg import splu

        q = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsc()
        visits = splu((identity(n, format="csc") - q.T).tocsc()).solve(rhs)
    sends = np.zeros((n, len(targets)))  # sends[a, k]: prospects into targets[k] per visit to a
    position = {t: k for k, t in enumerate(targets)}
    for u, v, d in graph.edges(data=True):
        if d["referral"] and d["referral"][persona] > 0:
            sends[where[u], position[v]] += d["referral"][persona]
    next_generation = visits.T @ sends
    return float(max(abs(np.linalg.eigvals(next_generation))))


def supercritical_loops(ctx: Context) -> Iterable[Diagnostic]:
    graph = ctx.graph
    cycle = referral_cycle(graph)
    if cycle is None:
        return
    worst: tuple[float, str] | None = None
    for persona in ctx.index.personas:
        if closed_classes(graph, persona):
            continue  # infinite visits: JD405 says so already (or the horizon cuts them)
        radius = spectral_radius(graph, persona)
        if radius >= 1 - 1e-12 and (worst is None or radius > worst[0]):
            worst = (radius, persona)
    if worst is None:
        return
    radius, persona = worst
    text = f"`{cycle[0]} => " + " -> ".join(cycle[1:]) + "`"
    who = "" if len(ctx.index.personas) == 1 else f" (persona `{persona}`)"
    horizon = ctx.journey.horizon_days is not None
    span = graph.edges[cycle[0], cycle[1]]["referral_span"]
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

"""Checks of a compiled journey (the baseline or a scenario): sums,
reachability, loops.

Each check is a pure function (Context) -> Iterable[Diagnostic]; `CHECKS`
lists them in the order their findings are most useful to read. They read
the compiled journey, its networkx graph for the graph algorithms, and the
model for what was written but may not have resolved (an `entry` or a
`goal` line).
"""

from __future__ import annotations

from typing import Callable, Iterable

import networkx as nx

from ..diagnostics import Diagnostic, Label, Severity
from .cascade import supercritical_loops
from .compiled import RATE_TOLERANCE
from .context import Context, closed_classes, closure
from .model import Amount
from .source import Span

EPS = RATE_TOLERANCE


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _for(persona: str, personas: list[str], all_alike: bool) -> str:
    return "" if all_alike or len(personas) == 1 else f" for persona `{persona}`"


# ---------------------------------------------------------------- personas

def persona_shares_sum(ctx: Context) -> Iterable[Diagnostic]:
    personas = ctx.model.personas
    if ctx.journey.library:
        return  # shares are checked in the journey that uses them, with all its personas
    if len(personas) == 1:
        share = personas[0].share
        if share is not None and abs(share.mean - 1) > EPS:
            yield ctx.make("JD305", f"the only persona has a share of {_pct(share.mean)}, not 100%",
                           share.span, help="one persona is all new prospects: write `share 100%` "
                                            "or leave the share out")
        return
    missing = [p for p in personas if p.share is None]
    for persona in missing:
        yield ctx.make("JD305", f"persona `{persona.id}` has no share", persona.id_span,
                       help="add `{ share 50% }`: shares of all personas sum to 100%")
    if missing:
        return
    total = sum(ctx.journey.shares.values())
    if abs(total - 1) > EPS:
        # Point at this file's own personas first: imported ones (spans past
        # the end of the text) are fine in their library.
        end = len(ctx.source.text)
        shares = sorted(((p.id, p.share.span) for p in personas if p.share is not None),
                        key=lambda item: item[1].start > end)  # all of them: none is missing
        yield ctx.make("JD305", f"persona shares sum to {_pct(total)}, not 100%",
                       shares[0][1],
                       labels=[Label(span, f"`{ident}`") for ident, span in shares[1:6]],
                       help="each share is the part of new prospects with that persona")


# ---------------------------------------------------------------- entry

def entry_sums(ctx: Context) -> Iterable[Diagnostic]:
    entries = ctx.journey.entries  # those that resolved
    if not ctx.model.entries and not ctx.journey.library:
        yield ctx.make("JD401", "the journey has no `entry`: no prospect ever arrives",
                       ctx.keyword_span, help="add `entry STEP` (or `entry a 60%, b 40%`)")
        return
    if not entries:
        return
    personas = ctx.personas
    totals = {p: sum(e.rate.mean_for(p) for e in entries) for p in personas}
    wrong = {p: t for p, t in totals.items() if abs(t - 1) > EPS}
    alike = len(set(round(t, 12) for t in wrong.values())) == 1 and len(wrong) == len(personas)
    for persona, total in wrong.items():
        yield ctx.make("JD304", f"entry rates sum to {_pct(total)}"
                       f"{_for(persona, personas, alike)}, not 100%", entries[0].span | entries[-1].span,
                       help="every new prospect arrives somewhere: make the entry rates sum to 100%")
        if alike:
            break


# ---------------------------------------------------------------- rates

def outgoing_rates(ctx: Context) -> Iterable[Diagnostic]:
    graph, personas = ctx.graph, ctx.personas
    for node in graph.nodes:
        edges = [(v, d) for _, v, d in graph.out_edges(node, data=True) if d["rate"] is not None]
        if not edges:
            continue
        totals = {p: sum(d["rate"][p] for _, d in edges) for p in personas}
        over = {p: t for p, t in totals.items() if t > 1 + EPS}
        if not over:
            continue
        alike = len(over) == len(personas) and len({round(t, 12) for t in over.values()}) == 1
        spans = [d["span"] for _, d in edges]
        for persona, total in over.items():
            yield ctx.make(
                "JD303", f"rates out of `{node}` sum to {_pct(total)}"
                f"{_for(persona, personas, alike)}, more than 100%", spans[-1],
                labels=[Label(s, "") for s in spans[:-1][:5]],
                help="the part below 100% is the drop-off at this step; lower a rate")
            if alike:
                break


def uncertain_upper_bounds(ctx: Context) -> Iterable[Diagnostic]:
    graph, personas = ctx.graph, ctx.personas
    for node in graph.nodes:
        edges = [d for _, _, d in graph.out_edges(node, data=True) if d["rate"] is not None]
        if not any(d["uncertain"] for d in edges):
            continue
        for persona in personas:
            top = 0.0
            for d in edges:
                amount = d["uncertain"].get(persona)
                top += _upper(amount) if amount else d["rate"][persona]
            if top > 1 + EPS and sum(d["rate"][persona] for d in edges) <= 1 + EPS:
                uncertain = [d for d in edges if persona in d["uncertain"]]
                has_beta = any(d["uncertain"][persona].kind == "beta" for d in uncertain)
                yield ctx.make(
                    "JD407", f"uncertain rates out of `{node}` can sum to {_pct(top)}",
                    uncertain[0]["span"],
                    help="Monte Carlo scales a draw that sums to more than 100% down to 100%; "
                         "narrow the ranges to avoid it"
                         + (" (a beta rate counts at its mean plus three standard deviations)" if has_beta else ""))
                break


def _upper(amount: Amount) -> float:
    """The high end of an uncertain rate: a range's bound; for beta(a, b), its
    mean plus three standard deviations (capped at 1) — a cheap stand-in for a
    high percentile that keeps scipy.stats out of `journey check`."""
    if amount.kind == "uniform":
        assert amount.high is not None  # a range has both ends
        return amount.high
    a, b = amount.alpha, amount.beta
    assert a is not None and b is not None  # not a range: beta(a, b)
    sd: float = (a * b / ((a + b) ** 2 * (a + b + 1))) ** 0.5  # a, b > 0: real
    return min(1.0, a / (a + b) + 3 * sd)


def duplicate_edges(ctx: Context) -> Iterable[Diagnostic]:
    items: tuple
    for kind, items in (("transition", ctx.journey.moves),
                        ("referral", ctx.journey.referrals)):
        first: dict[tuple, Span] = {}
        for item in items:
            key = (item.source, item.target)
            if key in first:
                arrow = "->" if kind == "transition" else "=>"
                yield ctx.make("JD311", f"{kind} `{key[0]} {arrow} {key[1]}` is given twice",
                               item.span, labels=[Label(first[key], "first given here")],
                               help="keep one line per pair of steps")
            else:
                first[key] = item.span


# ---------------------------------------------------------------- shape

def goals_present(ctx: Context) -> Iterable[Diagnostic]:
    if not ctx.model.goals and not ctx.journey.library:
        yield ctx.make("JD402", "the journey has no `goal`: conversion is always 0",
                       ctx.keyword_span, help="add `goal STEP` for the step that counts as converted")


def _moves(graph: nx.DiGraph) -> nx.DiGraph:
    """Edges a prospect (or a referral) can actually take: some rate > 0."""
    view = nx.DiGraph()
    view.add_nodes_from(graph.nodes)
    view.add_edges_from(
        (u, v) for u, v, d in graph.edges(data=True)
        if any(d["rate"].values() if d["rate"] else ()) or
        any(d["referral"].values() if d["referral"] else ()))
    return view


def reachability(ctx: Context) -> Iterable[Diagnostic]:
    graph = ctx.graph
    starts = [n for n, d in graph.nodes(data=True) if any(d["entry"].values())]
    if not starts:
        return
    moves = _moves(graph)
    reached = closure(moves._succ, starts)
    for node, data in graph.nodes(data=True):
        if node not in reached and not (ctx.journey.is_imported(data["span"])
                                        and not graph.degree(node)):
            # (A step brought by `use` that this journey never links is not
            # a mistake: journeys often use part of a shared stage.)
            yield ctx.make("JD403", f"step `{node}` can never be reached", data["span"],
                           help="add a transition or referral into it, or an `entry`")
    goals = [n for n, d in graph.nodes(data=True) if d["goal"]]
    if not goals:
        return
    leads_to_goal = closure(moves._pred, goals)
    after_goal = closure(moves._succ, goals)
    for node, data in graph.nodes(data=True):
        if node in reached and node not in leads_to_goal and node not in after_goal:
            yield ctx.make("JD404", f"no walk from `{node}` ever reaches a goal", data["span"],
                           help="every prospect here drops off; add a transition toward a goal")


def closed_loops(ctx: Context) -> Iterable[Diagnostic]:
    # A horizon ends every walk, unless the loop takes no time at all: a loop
    # whose moves all have no delay never reaches the horizon either.
    horizon = ctx.journey.horizon_days is not None
    graph, personas = ctx.graph, ctx.personas
    reported: set[frozenset] = set()
    for persona in personas:
        for loop in closed_classes(graph, persona):
            key = frozenset(loop)
            inside = graph.subgraph(loop).edges(data=True)
            if key in reported or (horizon and any(d["delay_days"] > 0 for _, _, d in inside
                                                   if d["rate"] is not None)):
                continue
            reported.add(key)
            cycle = _cycle_text(graph, loop, persona)
            first = graph.edges[cycle[0], cycle[1]]["span"] if len(cycle) > 1 else \
                graph.edges[loop[0], loop[0]]["span"]
            if horizon:
                yield ctx.make(
                    "JD405", f"closed loop {_loop_text(cycle)} takes no time: a walk that "
                             "enters it never ends, and the horizon never comes",
                    first, help="give a move in the loop a delay (`after 1d`) or lower a rate "
                                "below 100% so walks can end there")
            else:
                yield ctx.make(
                    "JD405", f"closed loop {_loop_text(cycle)}: a walk that enters it never ends",
                    first, help="lower a rate in the loop below 100% so walks can end there, "
                                "or set a `horizon`")


def _cycle_text(graph: nx.DiGraph, loop: list[str], persona: str) -> list[str]:
    sub = graph.subgraph(loop)
    try:
        edges = nx.find_cycle(sub, source=loop[0])
    except nx.NetworkXNoCycle:  # pragma: no cover - a closed class has a cycle
        return loop
    return [u for u, _ in edges] + [edges[0][0]]


def _loop_text(cycle: list[str]) -> str:
    shown = cycle if len(cycle) <= 8 else cycle[:7] + ["...", cycle[-1]]
    return "`" + " -> ".join(shown) + "`"


def referral_cascades(ctx: Context) -> Iterable[Diagnostic]:
    yield from supercritical_loops(ctx)  # numpy only when referrals loop back


CHECKS: tuple[Callable[[Context], Iterable[Diagnostic]], ...] = (
    persona_shares_sum,
    entry_sums,
    outgoing_rates,
    uncertain_upper_bounds,
    duplicate_edges,
    goals_present,
    reachability,
    closed_loops,
    referral_cascades,
)


def run_checks(ctx: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(ctx))
    return out


__all__ = ["CHECKS", "Context", "Severity", "closed_classes", "run_checks"]

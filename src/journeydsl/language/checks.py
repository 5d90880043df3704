"""Checks of a compiled journey (the baseline or a scenario): sums,
reachability, loops.

Each check is a pure function (Context) -> Iterable[Diagnostic]; `CHECKS`
lists them in the order their findings are most useful to read. They read
the compiled journey, its pairs of steps (`context.Flow`: plain dicts, so
checking never imports networkx), and the model for what was written but
may not have resolved (an `entry` or a `goal` line).
"""

from __future__ import annotations

from typing import Callable, Iterable

from ..diagnostics import Diagnostic, Label, Severity
from .cascade import supercritical_loops
from .compiled import MAX_PER_CUSTOMER, RATE_TOLERANCE, Move
from .context import Context, closed_classes, closure, find_cycle
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
    flow, personas = ctx.flow, ctx.personas
    for node in flow.steps:
        edges = flow.moves_out(node)
        if not edges:
            continue
        totals = {p: sum(e.rate(p) for e in edges) for p in personas}
        over = {p: t for p, t in totals.items() if t > 1 + EPS}
        if not over:
            continue
        alike = len(over) == len(personas) and len({round(t, 12) for t in over.values()}) == 1
        spans = [e.move.span for e in edges if e.move is not None]
        for persona, total in over.items():
            yield ctx.make(
                "JD303", f"rates out of `{node}` sum to {_pct(total)}"
                f"{_for(persona, personas, alike)}, more than 100%", spans[-1],
                labels=[Label(s, "") for s in spans[:-1][:5]],
                help="the part below 100% is the drop-off at this step; lower a rate")
            if alike:
                break


def uncertain_upper_bounds(ctx: Context) -> Iterable[Diagnostic]:
    flow, personas = ctx.flow, ctx.personas
    for node in flow.steps:
        moves = [e.move for e in flow.moves_out(node) if e.move is not None]
        if not any(m.rate.for_persona(p).kind != "fixed" for m in moves for p in personas):
            continue
        for persona in personas:
            top = 0.0
            drawn = next((m.rate.for_persona(persona) for m in moves
                          if m.rate.for_persona(persona).per_customer), None)
            for move in moves:
                amount = move.rate.for_persona(persona)
                if amount is not drawn:
                    top += _upper(amount) if amount.kind != "fixed" else amount.mean
            if drawn is not None:
                # The other moves share what the customer's own rate p leaves,
                # r (1 - p) / (1 - mean p): the row is at most 100% for every
                # p unless they take more than the mean leaves.
                top = 1.0 if drawn.mean >= 1 else max(1.0, top / (1 - drawn.mean))
            if top > 1 + EPS and sum(m.rate.mean_for(persona) for m in moves) <= 1 + EPS:
                # (a row over 100% always has a shared uncertain rate)
                uncertain = [m for m in moves if m.rate.for_persona(persona).kind != "fixed"
                             and not m.rate.for_persona(persona).per_customer]
                has_beta = any(m.rate.for_persona(persona).kind == "beta" for m in uncertain)
                yield ctx.make(
                    "JD407", f"uncertain rates out of `{node}` can sum to {_pct(top)}",
                    uncertain[0].span,
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


def per_customer_limit(ctx: Context) -> Iterable[Diagnostic]:
    moves = ctx.journey.per_customer_moves
    if len(moves) <= MAX_PER_CUSTOMER:
        return
    first = moves[0]
    for move in moves[MAX_PER_CUSTOMER:]:
        yield ctx.make(
            "JD314", f"too many `per customer` rates: `{move.source} -> {move.target}` is one "
                     f"more than the limit of {MAX_PER_CUSTOMER} per journey",
            _drawn_span(move, ctx.personas),
            labels=[Label(_drawn_span(first, ctx.personas), "the one this journey may have")],
            help="the exact engine integrates every metric over each customer's own draw, "
                 "one such rate per journey; give this move a rate every customer shares: "
                 "its mean, or `beta(a, b)` without `per customer`")


def _drawn_span(move: Move, personas: list[str]) -> Span:
    """Where a move's first `per customer` rate is written."""
    return next(move.rate.for_persona(p).span for p in personas
                if move.rate.for_persona(p).per_customer)


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


def reachability(ctx: Context) -> Iterable[Diagnostic]:
    journey, flow = ctx.journey, ctx.flow
    entered = {s for p in ctx.personas for s, rate in journey.entry_rates(p).items() if rate}
    starts = [s for s in flow.steps if s in entered]
    if not starts:
        return
    # moves a prospect (or a referral) can actually take: some rate > 0
    succ, pred = flow.adjacency(lambda pair: any(
        pair.rate(p) > 0 or pair.sends(p) > 0 for p in ctx.personas))
    reached = closure(succ, starts)
    for step in journey.steps:
        if step.id not in reached and not (journey.is_imported(step.span)
                                           and step.id not in flow.touched):
            # (A step brought by `use` that this journey never links is not
            # a mistake: journeys often use part of a shared stage.)
            yield ctx.make("JD403", f"step `{step.id}` can never be reached", step.span,
                           help="add a transition or referral into it, or an `entry`")
    goals = [s for s in flow.steps if s in journey.goal_set]
    if not goals:
        return
    leads_to_goal = closure(pred, goals)
    after_goal = closure(succ, goals)
    for step in journey.steps:
        if step.id in reached and step.id not in leads_to_goal and step.id not in after_goal:
            yield ctx.make("JD404", f"no walk from `{step.id}` ever reaches a goal", step.span,
                           help="every prospect here drops off; add a transition toward a goal")


def closed_loops(ctx: Context) -> Iterable[Diagnostic]:
    # A horizon ends every walk, unless the loop takes no time at all: a loop
    # whose moves all have no delay never reaches the horizon either.
    horizon = ctx.journey.horizon_days is not None
    flow, personas = ctx.flow, ctx.personas
    reported: set[frozenset] = set()
    for persona in personas:
        for loop in closed_classes(flow, persona):
            key = frozenset(loop)
            inside = [p.move for n in loop for p in flow.out[n]
                      if p.target in key and p.move is not None]
            if key in reported or (horizon and any(m.delay_days > 0 for m in inside)):
                continue
            reported.add(key)
            cycle = find_cycle(flow, loop)
            first = _span(ctx, cycle[0], cycle[1]) if len(cycle) > 1 else \
                _span(ctx, loop[0], loop[0])
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


def _span(ctx: Context, u: str, v: str) -> Span:
    """Where the move (or else the referral) from u to v is written."""
    move = ctx.journey.edges.get((u, v))
    return move.span if move is not None else ctx.journey.sends[u, v].span


def _loop_text(cycle: list[str]) -> str:
    shown = cycle if len(cycle) <= 8 else cycle[:7] + ["...", cycle[-1]]
    return "`" + " -> ".join(shown) + "`"


def referral_cascades(ctx: Context) -> Iterable[Diagnostic]:
    yield from supercritical_loops(ctx)  # numpy only when referrals loop back


# ---------------------------------------------------------------- money

def margins_without_value(ctx: Context) -> Iterable[Diagnostic]:
    """A `margin` is the share kept of a step's `value`: on a step with no
    value (or a stage none of whose touchpoints it reaches has one) it
    changes nothing, and was probably meant for another step."""
    journey = ctx.journey
    by_stage: dict[str, list] = {}
    for step in journey.steps:
        by_stage.setdefault(step.stage, []).append(step)
    for stage in journey.stages:
        margin = stage.attributes.margin
        steps = by_stage.get(stage.id, [])
        if margin is None or stage.id in journey.step_number:
            continue  # (a stage that is a step: checked as a step below)
        reached = [s for s in steps if s.attributes.margin is None]
        if not any(s.attributes.value is not None for s in reached):
            yield ctx.make("JD409", f"`margin` on stage `{stage.id}` applies to no value: "
                           + ("its touchpoints have no `value`" if reached else
                              "each of its touchpoints sets its own margin"),
                           margin.span, help="put the margin where the value is, or add the "
                                             "`value` it is the margin of")
    for step in journey.steps:
        margin = step.attributes.margin
        if margin is not None and step.attributes.value is None:
            yield ctx.make("JD409", f"`margin` on `{step.id}`, a step without `value`",
                           margin.span, help="the margin is the share of `value` kept: add the "
                                             "step's `value`, or move the margin to the step "
                                             "that earns it")


CHECKS: tuple[Callable[[Context], Iterable[Diagnostic]], ...] = (
    persona_shares_sum,
    entry_sums,
    outgoing_rates,
    uncertain_upper_bounds,
    per_customer_limit,
    duplicate_edges,
    goals_present,
    reachability,
    closed_loops,
    referral_cascades,
    margins_without_value,
)


def run_checks(ctx: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(ctx))
    return out


__all__ = ["CHECKS", "Context", "Severity", "closed_classes", "run_checks"]

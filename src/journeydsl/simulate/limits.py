"""What a file may ask of the engines beyond what they can do in bounded time
and memory, as located diagnostics.

Under a horizon the exact engine follows every distinct time a walk reaches
(timeline.py). Loops whose delays share a long common step cost little; a
loop whose delays have almost no common divisor (`1d` against `1.00001d`)
over a long horizon reaches a number of distinct times that grows with the
square of the horizon. Past `series.EVENT_BUDGET` the engine stops with
TooManyEvents; `located` turns that into `TimeBudgetExceeded`, which names
the loop and its delays (JD408), so `check`, `simulate` and the API all
report it at the loop's moves instead of failing inside the engine.
Likewise a big loop without a hub whose steps' reach would take too many
taboo passes (first_visits.py) stops up front with LoopTooLarge, reported
as `LoopTooLargeForReach` (JD410).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label
from ..language.compiled import CompiledJourney, Move, Referral
from ..language.source import SourceFile

#: The engine's budget of distinct arrival times (series.EVENT_BUDGET,
#: repeated so that `check` can name it without importing numpy).
EVENT_BUDGET = 20_000_000
_LATTICE_CELLS = 8_000_000  # lattice.LATTICE_CELLS and LATTICE_BLOCKS, likewise
_LATTICE_BLOCKS = 100_000
_BLOCK_WIDTH = 256


class TimeBudgetExceeded(Exception):
    """A loop whose delays make more distinct arrival times before the
    horizon than the engine's budget; `diagnostic()` says which."""

    def __init__(self, journey: CompiledJourney, steps: list[str]) -> None:
        self.journey = journey
        self.steps = steps
        inside = set(steps)
        # the referral cascade is propagated like the walks: its arrows count
        flows: list[Move | Referral] = [*journey.edges.values(), *journey.sends.values()]
        self.moves = [f for f in flows if f.source in inside and f.target in inside]
        super().__init__(self.message())

    def message(self) -> str:
        names = ", ".join(f"`{s}`" for s in self.steps[:4])
        more = f" and {len(self.steps) - 4} more" if len(self.steps) > 4 else ""
        return (f"the loop through {names}{more} reaches more than {EVENT_BUDGET:,} distinct "
                "times before the horizon")

    def diagnostic(self, source: SourceFile | None) -> Diagnostic:
        """JD408 at the loop's first move, a label at each of its other moves."""
        from .horizon import seconds

        delays = sorted({int(seconds(m.delay_days)) for m in self.moves if m.delay_days > 0})
        listed = ", ".join(f"{d:,} s" for d in delays[:4]) + (", ..." if len(delays) > 4 else "")
        moves = sorted(self.moves, key=lambda m: m.span.start)
        span = moves[0].span if moves else self.journey.keyword_span
        labels = [Label(m.span, "a referral of the loop" if isinstance(m, Referral)
                        else "another move of the loop") for m in moves[1:6]]
        if len(delays) > 1:
            why = ("the engine follows every distinct time a walk reaches; delays with a long "
                   "common step (whole days or hours) keep that number small: round the "
                   "loop's delays to a common unit, or shorten the horizon")
        else:
            why = ("a walk can go round this loop every few seconds until the horizon: "
                   "give the loop a longer delay, or shorten the horizon")
        return diag.make(
            "JD408", f"{self.message()} (its delays: {listed or 'none'})", source, span,
            labels=labels, help=why)


class LoopTooLargeForReach(TimeBudgetExceeded):
    """A loop of many steps, none of them on every cycle, whose steps' reach
    under the horizon would take a pass over the loop per step, past the
    engine's budget (first_visits.TABOO_EVENTS); `diagnostic()` is JD410."""

    def __init__(self, journey: CompiledJourney, steps: list[str], passes: int,
                 events: int, budget: int, what: str = "steps", hub_refused: bool = False
                 ) -> None:
        self.passes, self.events, self.budget = passes, events, budget
        self.what = what  # "steps", or "stages" (stages walks leave and re-enter)
        self.hub_refused = hub_refused  # a hub exists; its lattice is past its budget
        super().__init__(journey, steps)

    def message(self) -> str:
        names = ", ".join(f"`{s}`" for s in self.steps[:4])
        more = f" and {len(self.steps) - 4} more" if len(self.steps) > 4 else ""
        if self.what == "stages":
            return (f"the reach of {self.passes:,} stages that walks leave and re-enter through "
                    f"the loop through {names}{more} under the horizon needs a pass over the "
                    f"loop per stage: up to {self.events:,} arrival times to follow, more than "
                    f"the budget of {self.budget:,}")
        return (f"the reach of {self.passes:,} steps of the loop through {names}{more} "
                f"under the horizon needs a pass over the loop per step: up to "
                f"{self.events:,} arrival times to follow, more than the budget of "
                f"{self.budget:,}")

    def diagnostic(self, source: SourceFile | None) -> Diagnostic:
        """JD410 at the loop's first move, a label at a few of its other moves."""
        moves = sorted(self.moves, key=lambda m: m.span.start)
        span = moves[0].span if moves else self.journey.keyword_span
        labels = [Label(m.span, "another move of the loop") for m in moves[1:4]]
        if self.what == "stages":
            why = ("each stage that walks can leave and enter again takes a pass of its own "
                   "for its first visits; put fewer stages on the loop, remove the `horizon` "
                   "(reach without one is exact at any size), or estimate with "
                   "`journey simulate --method monte-carlo`")
        elif self.hub_refused:
            why = ("every return of this loop passes one step, but solving through it needs "
                   "the loop's steps times the instants of its delays' common step up to the "
                   "horizon, past the engine's budget: shorten the horizon, write the loop's "
                   "delays in a coarser common unit, remove the `horizon` (reach without one "
                   "is exact at any size), or estimate with `journey simulate --method "
                   "monte-carlo`")
        else:
            why = ("no step of this loop is on all of its cycles, so each step's first visits "
                   "take a pass of their own; a loop whose every return passes one step (back "
                   "to the start, a renewal) is solved at once at any size. Route the returns "
                   "through one step, remove the `horizon` (reach without one is exact at any "
                   "size), or estimate with `journey simulate --method monte-carlo`")
        return diag.make("JD410", self.message(), source, span, labels=labels, help=why)


@contextmanager
def located(journey: CompiledJourney) -> Iterator[None]:
    """Run an engine on `journey`; its TooManyEvents becomes
    TimeBudgetExceeded naming the steps of the loop (states are step
    numbers, or step numbers plus a multiple of the step count in the
    engines' layered networks)."""
    from .first_visits import LoopTooLarge
    from .timeline import TooManyEvents

    try:
        yield
    except TooManyEvents as err:
        n = len(journey.steps)
        numbers = sorted({s % n for s in err.states}) if n else []
        steps = [journey.steps[i].id for i in numbers]
        if isinstance(err, LoopTooLarge):
            raise LoopTooLargeForReach(journey, steps, err.passes, err.events,
                                       err.budget, err.what, err.hub_refused) from None
        raise TimeBudgetExceeded(journey, steps) from None


def fine_loops(journey: CompiledJourney) -> bool:
    """Whether some loop under the horizon could take the engine past its
    time budget, so that `journey check` runs the engine on the file to
    report JD408 itself. Pure Python (no numpy): `check` of an ordinary
    file, and of a big one whose loops cannot exceed the budget, stays fast.

    Three screens, all needed: a loop the engine cannot put on the lattice
    of its delays; delays fine against the horizon (more than
    LATTICE_BLOCKS distinct times for one state: JD408's advice, a coarser
    common step or a shorter horizon, is about them); and more distinct
    arrival times than the budget in the largest network the engine
    propagates (`_distinct_times`). A journey large but coarse (10,000
    steps in one loop, daily delays, 3 years) is not run: `check` stays
    within a few times a bare parse. A loop let through can still stop a
    run: going generation by generation (a lattice refused because its
    tail outruns the cells) counts a (state, time) pair once per
    generation that reaches it, a bound on time, not on distinct times;
    `simulate` then reports the JD408 `check` did not."""
    if journey.horizon_days is None or not _off_lattice(journey):
        return False
    instants, states = _distinct_times(journey)
    return instants > _LATTICE_BLOCKS and instants * states > EVENT_BUDGET


#: first_visits.TABOO_EVENTS and HUB_MIN_STATES, repeated (no numpy in `check`'s screen)
_TABOO_EVENTS = 50_000_000
_HUB_MIN_STATES = 64
#: The first pass `check` may run to find out (states x instants before the
#: horizon: about a second of the engine): beyond, only the commands that
#: need reach report JD410.
CHECK_RUN_CELLS = 2_000_000


def heavy_reach(journey: CompiledJourney) -> bool:
    """Whether the first-visit passes of reach under the horizon (first_visits.py:
    a pass per step of a big loop without a hub, a pass per stage that walks
    leave and re-enter) could go past their budget, and finding out is
    cheap, so that `journey check` runs the engine on the file to report
    JD410 itself, as `simulate` would.

    Pure Python, a bound: passes x the steps a pass may cover x the instants
    before the horizon (`_distinct_times`), the passes being every step of
    each loop of HUB_MIN_STATES steps or more and every stage on a cycle of
    the stage graph. An ordinary file (small loops, stages entered once) is
    never run. Nor is one whose first pass alone would cost more than
    CHECK_RUN_CELLS (the states walks reach times the instants): `check`
    stays within a few times a bare parse on thousands of steps in a loop
    (benchmarks/bench_check.py), and JD410 comes from the commands that need
    reach (`simulate`, `report`, `render --flows`, ...), located as well."""
    from ..language.context import components

    if journey.horizon_days is None:
        return False
    moves = list(journey.edges.values())
    succ: dict[str, list[str]] = {s.id: [] for s in journey.steps}
    for m in moves:
        succ[m.source].append(m.target)
    instants, states = _distinct_times(journey)
    if instants * states > CHECK_RUN_CELLS:
        return False
    n = len(journey.steps)
    events = sum(len(group) ** 2 for group in components(list(succ), succ)
                 if len(group) >= _HUB_MIN_STATES) * instants
    stage_of = {s.id: s.stage for s in journey.steps}
    stage_succ: dict[str, list[str]] = {stage: [] for stage in set(stage_of.values())}
    for m in moves:
        a, b = stage_of[m.source], stage_of[m.target]
        if a != b:
            stage_succ[a].append(b)
    again = sum(len(group) for group in components(sorted(stage_succ), stage_succ)
                if len(group) > 1)
    return events + again * n * instants > _TABOO_EVENTS


def _flows(journey: CompiledJourney) -> list[Move | Referral]:
    # moves and referrals alike: the referral cascade is propagated the same way
    return [*journey.edges.values(), *journey.sends.values()]


def _off_lattice(journey: CompiledJourney) -> bool:
    """Whether some loop's lattice (its delays' common step over the
    horizon, times its steps) would not fit the engine's caps."""
    import math

    from ..language.context import components

    assert journey.horizon_days is not None
    horizon = round(journey.horizon_days * 86_400)
    flows = _flows(journey)
    succ: dict[str, list[str]] = {s.id: [] for s in journey.steps}
    for flow in flows:
        succ[flow.source].append(flow.target)
    for group in components(list(succ), succ):
        inside = set(group)
        delays = [round(f.delay_days * 86_400) for f in flows
                  if f.source in inside and f.target in inside]
        moving = [d for d in delays if d > 0]
        if not moving:
            continue  # no loop, or one without delays (solved in closed form)
        step = math.gcd(*moving)
        length = horizon // step
        if len(delays) == 1:  # a renewal: a geometric filter on its own lattice
            if length > _LATTICE_CELLS:
                return True
        elif (length * len(group) > _LATTICE_CELLS
              or length / max(min(moving) // step, min(length, _BLOCK_WIDTH // len(group)))
              > _LATTICE_BLOCKS):
            return True
    return False


def _distinct_times(journey: CompiledJourney) -> tuple[int, int]:
    """(instants, states): their product bounds the events `timeline.propagate` counts on the largest
    network the engine builds (the referral cascade's: every step in two
    layers, unconverted and converted), counted as it counts them: per
    state, its distinct arrival times. Walks enter at time 0 and every
    delay is a multiple of G, the greatest common divisor of the delays
    that arrive before the horizon, so a state's times are among the
    ceil(H / G) multiples of G below H (the instants); only the states
    walks can reach (from an entry, along moves and referrals, in their
    layer) count."""
    import math

    assert journey.horizon_days is not None
    horizon = round(journey.horizon_days * 86_400)
    flows = _flows(journey)
    delays = [round(f.delay_days * 86_400) for f in flows]
    step = math.gcd(*[d for d in delays if 0 < d < horizon])
    instants = -(-horizon // step) if step else 1  # (no delay: all at time 0)
    goals = journey.goal_set
    out: dict[str, list[tuple[str, bool]]] = {s.id: [] for s in journey.steps}
    for flow in flows:  # a referral's new prospect starts unconverted
        out[flow.source].append((flow.target, isinstance(flow, Referral)))
    todo = [(e.step, e.step in goals) for e in journey.entries]
    seen = set(todo)
    while todo:
        step_id, converted = todo.pop()
        for target, referred in out[step_id]:
            state = (target, target in goals or (converted and not referred))
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return instants, len(seen)

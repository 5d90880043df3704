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


@contextmanager
def located(journey: CompiledJourney) -> Iterator[None]:
    """Run an engine on `journey`; its TooManyEvents becomes
    TimeBudgetExceeded naming the steps of the loop (states are step
    numbers, or step numbers plus a multiple of the step count in the
    engines' layered networks)."""
    from .timeline import TooManyEvents

    try:
        yield
    except TooManyEvents as err:
        n = len(journey.steps)
        numbers = sorted({s % n for s in err.states}) if n else []
        raise TimeBudgetExceeded(journey, [journey.steps[i].id for i in numbers]) from None


def fine_loops(journey: CompiledJourney) -> bool:
    """Whether some loop under the horizon is one the engine cannot put on
    the lattice of its delays (their common step is fine against the
    horizon): only then can a run exceed the time budget, so `journey
    check` runs the engine on such a file to report JD408 itself. Pure
    Python (no numpy): `check` of an ordinary file stays fast."""
    import math

    from ..language.context import components

    if journey.horizon_days is None:
        return False
    horizon = round(journey.horizon_days * 86_400)
    # moves and referrals alike: the referral cascade is propagated the same way
    flows: list[Move | Referral] = [*journey.edges.values(), *journey.sends.values()]
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

"""The Monte Carlo walks as events: one per visit (`journey simulate --events-out`).

The engine's walk (walk.py) books what stopped walks leave behind, summed;
a log needs every visit, one by one. So this walk keeps the engine's look-up
tables (bins.py: the same moves, delays, horizon and referral arrows, the
same sampler of next moves) but none of its shortcuts that skip visits
(flocks booked once, a self-loop's stay drawn at once): each pass records
the visit of every walker in flight, then draws its next move.

Prospects enter in chunks; a chunk's walks and its referral cascade are
walked to the end before the next chunk enters, and its events come back
as one `EventBatch`, grouped by prospect and in time order for each. So
memory follows the chunk, never the run: chunks are sized to about
`TARGET_EVENTS` events from the events per prospect seen so far, and a
chunk whose walks run long hands back what it has every `MAX_BUFFER`
events (a prospect's later events then follow in a later batch).

Who and when:
- entering prospect k (of N) arrives at `arrivals * (k - 1/2) / N` days,
  evenly over `arrivals` days (0: all at once, one cohort, as the engine's
  metrics have them; None: a year, or half the horizon if shorter), takes a persona by share (at random) and an entry
  step by the persona's entry split;
- a referred prospect is a prospect too, with its own number (after all
  the entering ones), the referrer's persona and its arrival time;
- the horizon H ends the log: a visit is at t < H days from the start
  (for a cohort: from its entry, as the engine counts); a move or a
  referral that would arrive at or after H is not made. (Each walk cut H
  days after its own arrival would leave ends in the log where customers
  were only no longer counted: a fit would read them as churn.)
Rates are the declared means (a range `20%..30%` walks its mean): the log
of the journey as written, which `journey fit` should give back. A rate
`per customer` is each prospect's own, drawn once and kept (own.py, as the
engine's walk does): its log shows the customers who differ, which `journey
fit` reads back as `beta(a, b) per customer`.

>>> import journeydsl
>>> j = journeydsl.loads('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y '
...                      '{ value 5 } } ; entry x ; x -> y 40% after 2d ; goal y }').journey
>>> batch = next(iter(EventWalk(j, prospects=5, seed=1, arrivals=0).batches()))
>>> [(int(u), int(s), float(t), float(a)) for u, s, t, a in
...  zip(batch.user, batch.step, batch.time, batch.amount)][:3]
[(1, 0, 0.0, nan), (2, 0, 0.0, nan), (2, 1, 2.0, 5.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ...language.compiled import CompiledJourney
from . import own
from .bins import Pair, Tables, WalkTooLong
from .run import CASCADE_FACTOR
from .walk import MAX_MOVES

TARGET_EVENTS = 1 << 20  # events a chunk of prospects should give, about
MAX_BUFFER = 1 << 22  # events held at most before they are handed back
FIRST_CHUNK = 1 << 14  # prospects in the first chunk (before events per prospect are known)


class ArrivalsPastHorizon(ValueError):
    """Arrivals spread over the horizon or longer: some prospects would
    arrive after the log's end."""


@dataclass
class EventBatch:
    """Events as parallel arrays: prospect number (from 1), step index (in
    `EventWalk.steps`), time in days from the start, amount (nan: the step
    has no value) and persona index (in `EventWalk.personas`)."""

    user: np.ndarray
    step: np.ndarray
    time: np.ndarray
    amount: np.ndarray
    persona: np.ndarray

    def __len__(self) -> int:
        return len(self.user)


class EventWalk:
    """The walks of `prospects` entering prospects (and the cascade their
    referrals bring) as events, batch by batch; seeded, so the same
    arguments give the same batches."""

    def __init__(self, journey: CompiledJourney, prospects: int, seed: int = 20261123,
                 persona: str | None = None, arrivals: float | None = None) -> None:
        from .. import check_persona
        from ..chain import build_chain

        check_persona(journey, persona)
        if prospects < 1:
            raise ValueError("prospects must be at least 1")
        self.personas = [persona] if persona is not None else list(journey.persona_ids)
        chains = [build_chain(journey, p) for p in self.personas]
        self.steps = list(chains[0].steps)
        shares = np.array([journey.shares[p] for p in self.personas], float)
        self.mix = shares / shares.sum() if shares.sum() > 0 else np.full(len(shares),
                                                                           1 / len(shares))
        self.eng = Tables([Pair(ch, None, prospects) for ch in chains])
        # the amount of a visit: the step's value for the persona, nan where
        # the step declares none (a log has no amount there, not a zero)
        declared = np.array([journey.step(s).attributes.value is not None for s in self.steps])
        self.amounts = np.array([np.where(declared, ch.value, np.nan) for ch in chains])
        self.prospects = prospects
        if arrivals is None:  # a year, or half the horizon when it is shorter
            arrivals = min(365.0, chains[0].horizon_days / 2) if chains[0].horizon_days else 365.0
        if arrivals < 0:
            raise ValueError("arrivals must be 0 days or more")
        if arrivals >= self.eng.horizon:
            raise ArrivalsPastHorizon(f"prospects must arrive before the horizon "
                                      f"({chains[0].horizon_days:g} days)")
        self.arrivals = float(arrivals)
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 29,)))
        self.referred = 0  # referred prospects numbered so far
        self.capped = False  # a chunk's cascade reached its cap (CASCADE_FACTOR)

    def batches(self, progress: Callable[[int], None] | None = None) -> Iterator[EventBatch]:
        """The events, chunk by chunk of entering prospects; `progress(k)`
        after each chunk of k prospects."""
        done, chunk = 0, min(FIRST_CHUNK, self.prospects)
        while done < self.prospects:
            size = min(chunk, self.prospects - done)
            events = 0
            for batch in self._chunk(done, size):
                events += len(batch)
                yield batch
            done += size
            if progress is not None:
                progress(size)
            per = max(events / size, 1e-3)
            chunk = int(min(max(TARGET_EVENTS / per, 1024), 4 * chunk + 1024))

    def _enter(self, lo: int, size: int):
        """Numbers, pairs (personas) and start codes of entering prospects lo+1..lo+size."""
        eng, rng = self.eng, self.rng
        pair = (rng.choice(len(self.mix), size, p=self.mix) if len(self.mix) > 1
                else np.zeros(size, np.intp))
        code = np.empty(size, np.intp)
        for i, (steps, probs) in enumerate(eng.entry):
            mine = (pair == i).nonzero()[0]
            if not len(mine):
                continue
            at = steps[np.minimum(np.searchsorted(np.cumsum(probs), rng.random(len(mine)),
                                                  side="right"), len(steps) - 1)]
            code[mine] = 2 * i * eng.S + eng.E_max + at
        return np.arange(lo + 1, lo + size + 1, dtype=np.int64), pair.astype(np.intp), code

    def _chunk(self, lo: int, size: int) -> Iterator[EventBatch]:
        """The events of one chunk's walks and cascade, grouped by prospect."""
        eng, rng = self.eng, self.rng
        user, pair, e = self._enter(lo, size)
        t = np.zeros(size)  # days since the arrival of the walk's entering prospect
        mine = np.full(size, np.nan)  # each walker's own `per customer` rate (NaN: none yet)
        drawn = bool((eng.own_of_row >= 0).any())
        at = self.arrivals * (user - 0.5) / self.prospects  # that arrival
        room = CASCADE_FACTOR * size  # referred prospects this chunk may still bring
        parts: list[tuple[np.ndarray, ...]] = []
        held = passes = 0
        while len(e):
            step = eng.tgt.take(e)
            parts.append((user, step, t + at, pair))
            held += len(e)
            new = None
            if eng.lam_row_max > 0:
                new, room = self._referrals(user, pair, e, t, at, room)
            code = eng.sampler.draw_at(eng.base.take(e), rng)
            if drawn:
                own.choose(eng, rng, code, e, mine)
            t = t + eng.delay.take(code)
            keep = ((code != eng.END) & (t + at < eng.horizon)).nonzero()[0]
            user, pair, e, t, at, mine = (x.take(keep) for x in (user, pair, code, t, at, mine))
            if new is not None:  # the referred join at their first visit, booked next pass
                user, pair, e, t, at = (np.concatenate([a, b]) for a, b in
                                        zip((user, pair, e, t, at), new))
                mine = np.concatenate([mine, np.full(len(new[0]), np.nan)])  # they draw their own
            passes += 1
            if passes > MAX_MOVES and len(e):
                steps = eng.tgt.take(e)
                raise WalkTooLong(eng.loop_steps(int(np.bincount(steps).argmax())),
                                  f"were still going after {MAX_MOVES:,} moves each")
            if held >= MAX_BUFFER:
                yield self._batch(parts)
                parts, held = [], 0
        if parts:
            yield self._batch(parts)

    def _referrals(self, user, pair, e, t, at, room: int):
        """The prospects referred by these visits: Poisson(k) along each
        referral arrow `A => B k` of the visited step, arriving after the
        arrow's delay (before the horizon), within the chunk's room."""
        eng, rng = self.eng, self.rng
        row = eng.row.take(e)
        first, last = eng.a_ptr.take(row), eng.a_ptr.take(row + 1)
        sends = (last > first).nonzero()[0]
        if not len(sends) or room <= 0:
            self.capped |= bool(len(sends)) and room <= 0
            return None, room
        per = (last - first).take(sends)
        who = np.repeat(sends, per)  # one entry per (visit, arrow)
        arrow = (np.arange(len(who)) - np.repeat(np.cumsum(per) - per, per)
                 + np.repeat(first.take(sends), per))
        count = rng.poisson(eng.a_amount.take(arrow))
        k = np.repeat(np.arange(len(who)), count)
        if not len(k):
            return None, room
        arrive = t.take(who.take(k)) + eng.a_delay.take(arrow.take(k))
        counted = (arrive + at.take(who.take(k)) < eng.horizon).nonzero()[0]
        if len(counted) > room:
            counted, self.capped = counted[:room], True
        k = k.take(counted)
        n = len(k)
        if not n:
            return None, room
        # numbered after every entering prospect, in the order they are referred
        ids = np.arange(self.referred + 1, self.referred + n + 1, dtype=np.int64) + self.prospects
        self.referred += n
        their = pair.take(who.take(k))
        code = (2 * their + 1) * eng.S + eng.E_max + eng.a_dst.take(arrow.take(k))
        return (ids, their, code, arrive.take(counted), at.take(who.take(k))), room - n

    def _batch(self, parts: list[tuple[np.ndarray, ...]]) -> EventBatch:
        """The passes' visits, grouped by prospect (a stable sort keeps each
        prospect's visits in walk order, which is time order)."""
        user, step, t, pair = (np.concatenate(x) for x in zip(*parts))
        order = np.argsort(user, kind="stable")
        user, step, t, pair = user.take(order), step.take(order), t.take(order), pair.take(order)
        return EventBatch(user, step, t, self.amounts[pair, step], pair)

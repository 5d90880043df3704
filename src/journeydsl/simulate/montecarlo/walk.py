"""The walk: passes over a pool of walkers, never a loop over prospects.

Each pass books the visit of every walker in the pool (each is at a
counted visit, t < H), draws all their next moves at once, hands the walks
that stop to the books and moves the others. A walker is known by its edge
code `e`, its time `t`, whether it has converted (`cv`), its discounted
money (value + 1j * cost: one complex number) and the tracked steps it has
seen (`seen` bits), or, with `counts`, its visits per tracked step in
`books.counts`.

Entering prospects start in flocks (flocks.py) and join the pool only
when their flock gets small. Referred prospects wait in a queue and join
in batches (their arrival time travels with them, so when a pass picks
them up does not matter) as "just entered" codes, whose first visit the
next pass books like any other. Walkers join in the state "move drawn, not
made yet", so that every pass ends with the same move phase for all. A
finished walker stays in place on the DEAD code until the dead make up a
quarter of the pool, instead of compacting every array at every pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import loops, own, referrals
from .books import CUT, ENDED, Books
from .flocks import Flocks
from .bins import GOAL, LOOP, MONEY, OWN, REFER, TRACK, Tables, WalkTooLong

# Walks that Monte Carlo cannot finish are an error (WalkTooLong), never cut
# short: a walk cut short would bias every metric with no trace in the
# standard errors. Self-loops take one draw however long the stay (loops.py),
# so only loops of several steps that walkers rarely leave, or hours-long
# loops under a horizon of decades, come near these limits; the exact
# engine solves them.
MAX_MOVES = 100_000  # moves of one walk (after it joins the pool)
MAX_DRAWS = 2_000  # draws of a next move per entering prospect, on average,
MIN_BUDGET = 100_000_000  # ... or this many in all, whichever is more
POOL = 1 << 18  # walkers in flight at once (arrays of a few MB at most stay cheap)
BLOCK = 1 << 20  # entering prospects drawn at once, at most
_FIELDS = ("w", "e", "t", "cv", "money", "margin", "seen", "own")
_DTYPES = (np.intp, np.intp, np.float64, bool, np.complex128, np.float64, np.uint64, np.float64)


def count_tracked(eng: Tables, counts: np.ndarray, w: np.ndarray, e: np.ndarray) -> None:
    """One visit more, in the per-walker counts, for walkers on tracked steps."""
    flat_counts = counts.reshape(-1)
    for lookup in (eng.track_step_e, eng.track_stage_e):
        column = lookup.take(e)
        some = (column >= 0).nonzero()[0]
        if len(some):
            # one visit per walker per pass: no repeated index
            flat_counts[column.take(some) * counts.shape[1] + w.take(some)] += 1


class _Pool:
    """The walkers in flight (and the dead among them), as parallel arrays."""

    def __init__(self, eng: Tables, seen: bool, profit: bool) -> None:
        self.end, self.dead_code = eng.END, eng.DEAD
        self.w = np.zeros(0, np.intp)
        self.e = np.zeros(0, np.intp)
        self.t = np.zeros(0)
        self.cv = np.zeros(0, bool)
        self.money = np.zeros(0, np.complex128)
        # discounted margin x value so far; None when the run does not
        # record profit (record.py). The acquisition cost (the cost before
        # the first goal visit) is the cost so far until a walker converts,
        # read off `money` when it stops: only the few converters need a
        # number of their own, which the books keep (`Books.acquired`), not
        # a field every walker carries through every pass
        self.margin = np.zeros(0) if profit else None
        self.seen = np.zeros(0, np.uint64) if seen else None
        # each walker's own rate of a `per customer` move (NaN: none yet);
        # None when no step has one (nothing to carry through the passes)
        self.own = np.zeros(0) if (eng.flags & OWN).any() else None
        self.dead = 0
        self.incoming: list[tuple] = []
        self.waiting = 0

    @property
    def live(self) -> int:
        return len(self.e) - self.dead

    def __len__(self) -> int:
        """Walkers in flight, those waiting to join included."""
        return self.live + self.waiting

    def bury(self, sel) -> None:
        """Leave finished walkers in place, on the DEAD code."""
        self.e[sel] = self.dead_code
        self.t[sel] = 0.0
        self.cv[sel] = True
        self.dead += len(sel)

    def compact(self) -> None:
        """Drop the dead and the walkers whose walk just ended (codes DEAD and END)."""
        keep = (self.e < self.end).nonzero()[0]
        for name in _FIELDS:
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name).take(keep))
        self.dead = 0

    def add(self, w, e, t, cv, money, margin, seen) -> None:
        """New walkers (entering or referred): no rate of their own drawn yet."""
        self.incoming.append((w, e, t, cv, money, margin, seen,
                              None if self.own is None else np.full(len(w), np.nan)))
        self.waiting += len(w)

    def add_flock(self, w, e, t, cv, money, margin, seen) -> None:
        """New walkers `w` that share one state (a flock): the other fields
        are numbers, made arrays when they merge (one `np.repeat` per field
        for all the flocks joining together, not one `np.full` per flock)."""
        self.incoming.append((w, e, t, cv, money, margin, seen, np.nan))
        self.waiting += len(w)

    def merge(self) -> bool:
        """Let the waiting walkers in (in the order they came); False when
        there were none."""
        if not self.incoming:
            return False
        pieces: list[list[np.ndarray]] = [[getattr(self, name)] for name in _FIELDS]
        numbers: list[tuple] = []  # a run of flocks: their fields' numbers
        sizes: list[int] = []

        def expand() -> None:
            for j, column in enumerate(zip(*numbers)):
                # (field 0, the ids, is always an array; None: a field not kept)
                if j and pieces[j][0] is not None:
                    pieces[j].append(np.repeat(np.array(column, _DTYPES[j]), sizes))
            numbers.clear()
            sizes.clear()

        for part in self.incoming:
            if isinstance(part[1], np.ndarray):
                if numbers:
                    expand()
                for j in range(len(_FIELDS)):
                    pieces[j].append(part[j])
            else:
                pieces[0].append(part[0])
                numbers.append(part)
                sizes.append(len(part[0]))
        if numbers:
            expand()
        for j, name in enumerate(_FIELDS):
            if getattr(self, name) is not None:
                setattr(self, name, np.concatenate(pieces[j]))
        self.incoming = []
        self.waiting = 0
        return True


class _Walk:
    def __init__(self, eng: Tables, rng, books: Books, lo: int, hi: int, counts: bool,
                 max_moves: int, pool: int) -> None:
        self.eng, self.rng, self.books, self.lo = eng, rng, books, lo
        self.max_moves, self.pool_size = max_moves, pool
        self.use_counts = counts and eng.columns > 0
        self.use_seen = not self.use_counts and eng.step_bits is not None and eng.columns > 0
        self.flags = eng.flags if (self.use_counts or self.use_seen) else eng.flags & ~TRACK
        self.counts = books.counts if self.use_counts else None
        books.reach_by_bits = self.use_seen
        self.left = [max(0, min(hi, int(books.block[i + 1])) - max(lo, int(books.block[i])))
                     for i in range(eng.P)]  # entering prospects still to enter, by pair
        self.taken = [0] * eng.P
        self.go_share = []  # share of the entering prospects that move on from their entry
        for (steps, p), (src, _, prob, _) in zip(eng.entry, eng.moves):
            out = np.bincount(src, weights=prob, minlength=eng.n)
            self.go_share.append(float((p * np.minimum(out[steps], 1.0)).sum()))
        self.st = _Pool(eng, self.use_seen, books.record.profit)
        self.flocks = Flocks(eng, books, rng, self.st.add_flock, self.counts, lo)
        self.need = 0  # flags of the steps walkers are on
        self.transitions = self.moves = 0

    def draw(self) -> None:
        """Book the visit of every walker in the pool and draw its next move."""
        eng, books, st, need = self.eng, self.books, self.st, self.need
        w, e, t = st.w, st.e, st.t
        disc = np.exp(t * eng.log_discount) if eng.log_discount and need & (MONEY | LOOP) else None
        if need & MONEY:
            earned = eng.money.take(e)
            if disc is not None:
                earned *= disc
            st.money += earned
            books.ledger.visits(w, e, t, earned, disc)
            if st.margin is not None:
                gained = eng.margin_value.take(e)
                if disc is not None:
                    gained *= disc
                st.margin += gained
        if need & TRACK:
            if self.use_seen:
                assert st.seen is not None  # the pool keeps `seen` bits with use_seen
                st.seen |= eng.bits.take(e)
            else:
                assert self.counts is not None  # tracked, not by bits: by counts
                count_tracked(eng, self.counts, w - self.lo, e)
        if need & REFER:
            referrals.from_pool(eng, books, self.rng, w, e, t)
        code = eng.sampler.draw_at(eng.base.take(e), self.rng)
        if need & OWN:
            assert st.own is not None  # kept whenever a step has a `per customer` move
            own.choose(eng, self.rng, code, e, st.own)
        live = st.live
        self.transitions += live
        if need & LOOP:
            extra = loops.extend(eng, self.rng, books, code, w, t, st.money,
                                 st.margin,
                                 disc, self.counts, self.lo, st.own)
            self.transitions += extra
            self.moves += extra
        ended = (code == eng.END).nonzero()[0]
        self.moves += live - len(ended)
        if len(ended):
            books.finish(ENDED, ended, w, e, st.money, st.margin, st.cv, st.seen)
        st.e = code
        if 4 * (st.dead + len(ended)) > len(code):  # compact now and then
            st.compact()
        elif len(ended):
            st.bury(ended)

    def admit(self) -> bool:
        """New walkers join: referred ones first, then entering ones (their
        flocks first). False when no one is left to walk."""
        eng, books, st = self.eng, self.books, self.st
        live = st.live
        room = self.pool_size - live
        waiting = books.waiting()
        if waiting and (live == 0 or (room > 0 and (4 * waiting >= live or waiting >= room))):
            k = min(max(room, 1), waiting)
            ids, worlds, steps, times = books.take(k)
            st.add(ids, worlds * eng.S + eng.E_max + steps, times, np.zeros(k, bool),
                   np.zeros(k, np.complex128),
                   None if st.margin is None else np.zeros(k),
                   np.zeros(k, np.uint64))
            room -= k
        if room >= self.pool_size // 2:
            for i in range(eng.P):
                while room > 0 and self.taken[i] < self.left[i]:
                    k = min(self.left[i] - self.taken[i], BLOCK,
                            max(int(room / max(self.go_share[i], 1e-3)), 1024))
                    before = len(st)
                    self.flocks.enter(i, max(self.lo, int(books.block[i])) + self.taken[i], k)
                    self.taken[i] += k
                    room -= len(st) - before
        return bool(st.waiting or st.live or books.waiting()
                    or any(x < y for x, y in zip(self.taken, self.left)))

    def move(self) -> None:
        """Every walker in the pool makes the move it drew."""
        eng, books, st = self.eng, self.books, self.st
        w, e, t, cv = st.w, st.e, st.t, st.cv
        if eng.has_delay:
            t += eng.delay.take(e)
            if math.isfinite(eng.horizon) and t.max() >= eng.horizon:
                gone = (t >= eng.horizon).nonzero()[0]  # arrive at or after H: active at H
                books.finish(CUT, gone, w, e, st.money, st.margin, cv, st.seen)
                st.bury(gone)
        per_edge = np.bincount(e, minlength=eng.DEAD + 1)
        occ = np.bincount(eng.row, weights=per_edge, minlength=eng.rows + 1)
        occ[eng.rows] = 0
        self.need = int(np.bitwise_or.reduce(self.flags[occ > 0]))
        # visits are counted for entering prospects (even worlds) only
        books.edge_counts += per_edge[:eng.W * eng.S].reshape(eng.W, eng.S)[0::2, :eng.E_max]
        if self.need & GOAL and np.count_nonzero(cv) < len(cv):
            new = eng.goal_e.take(e)
            new &= ~cv
            if new.any():
                # (indexes found once, not a boolean mask per array)
                at = new.nonzero()[0]
                books.convert(w.take(at), e.take(at), t.take(at))
                cv |= new
                if st.margin is not None:  # the cost before this goal visit
                    books.acquired(w.take(at), st.money.imag.take(at))

    def too_long(self, why: str) -> WalkTooLong:
        """The error for walks that cannot be finished, naming the loop where
        most of the walkers in flight are."""
        eng, st = self.eng, self.st
        steps = eng.tgt.take(st.e[st.e < eng.END])
        return WalkTooLong(eng.loop_steps(int(np.bincount(steps).argmax())), why)


def walk(eng: Tables, rng: np.random.Generator, books: Books, *, lo: int = 0,
         hi: int | None = None, counts: bool = False, max_moves: int = MAX_MOVES,
         tick: Callable[[int], None] | None = None, pool: int | None = None) -> tuple[int, int]:
    """Walk the entering prospects numbered lo..hi-1 and their referral
    cascade until every walk has stopped; returns (transitions, moves).

    WalkTooLong when a walker is still going `max_moves` moves after the
    last one joined, or when the draws of next moves pass the budget."""
    hi = books.N0 if hi is None else hi
    run = _Walk(eng, rng, books, lo, hi, counts, max_moves, pool or POOL)
    st = run.st
    last_join = it = draws = 0
    while True:
        if st.live:
            draws += st.live
            run.draw()
        elif st.dead:
            st.compact()
        if not run.admit():
            break
        if st.merge():
            last_join = it
        it += 1
        if st.live:
            run.move()
            # joiners make their first move (or entry) in the pass they join
            if it - last_join > max_moves and st.live:
                raise run.too_long(f"were still going after {max_moves:,} moves each")
            # per prospect let in so far: their draws only grow, so a run
            # that will pass the budget is stopped before it walks the rest
            entered = sum(run.taken)
            if draws > max(MIN_BUDGET, MAX_DRAWS * entered) and st.live:
                raise run.too_long(f"needed over {draws:,} draws of a next move "
                                   f"({draws / max(entered, 1):,.0f} per prospect)")
        if tick is not None:
            tick(books.finished)
    if tick is not None:
        tick(books.finished)
    return (run.transitions + run.flocks.transitions, run.moves + run.flocks.moves)

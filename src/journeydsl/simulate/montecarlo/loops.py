"""Renewal loops: a walker that stays on a step draws its next moves at once.

A monthly renewal (`paying -> paying 95% after 1mo`) under a three-year
horizon keeps a few walkers going for dozens of passes, each pass paying
the fixed cost of some fifty numpy calls for a small pool. A walker whose
draw is the move back to the same step therefore draws up to RUN - 1 more
moves from that step at once, as a row of a 2-D array: the first that
leaves the loop, or the first whose arrival falls at or after the horizon,
ends the run, and the visits in between are booked in closed form (money
is a geometric sum of the discount over one move; referrals are drawn over
the run's visits at their own times). Every move is still one draw of the
walker's next move, counted as a transition; only the draws after a run
ended are thrown away (and not counted).
"""

from __future__ import annotations

import numpy as np

from . import referrals
from .books import Books
from .bins import RUN, Tables

RUN_MIN_WALKERS = 1  # (a run pays even for one walker: it saves passes)


def extend(eng: Tables, rng, books: Books, code, w, t, money, disc, counts, lo: int):
    """Extend the runs of the walkers whose draw `code` is a loop's move back
    to their step; returns the extra transitions (= extra moves). `disc`:
    the discount factor at each walker's time (None: no discounting);
    `counts`: per-walker visit counts (or None)."""
    lid = eng.loop_of.take(code)
    idx = (lid >= 0).nonzero()[0]
    k = len(idx)
    if k < RUN_MIN_WALKERS:
        return 0
    lid = lid.take(idx)
    own = code.take(idx)
    # draws 2..RUN: the first that leaves the loop (RUN - 1: none) and where to
    first, leave = eng.sampler.stays(eng.base.take(own), own, eng.loop_lo.take(lid),
                                     eng.loop_hi.take(lid), RUN - 1, rng)
    visits = first + 1  # the visits along the loop before the draw that leaves,
    np.minimum(visits, RUN - 1, out=visits)  # the loop move just drawn included
    step = eng.loop_delay.take(lid)
    t_run = t.take(idx)
    if np.isfinite(eng.horizon):  # nor one that arrives at or after H
        reach = np.ceil((eng.horizon - t_run) / step).astype(np.intp)
        reach -= 1
        np.minimum(visits, reach, out=visits)
    total = int(visits.sum())
    if not total:
        return 0
    code[idx] = np.where(visits == first + 1, leave, own)  # else: a move back, made next
    earned = eng.run_money.take(lid * RUN + visits)
    if disc is not None:
        earned *= disc.take(idx)
    money[idx] += earned
    t[idx] = t_run + visits * step
    who = w.take(idx)
    if counts is not None:
        flat = counts.reshape(-1)
        for lookup in (eng.track_step_e, eng.track_stage_e):
            column = lookup.take(own)
            some = (column >= 0).nonzero()[0]
            if len(some):
                flat[column.take(some) * counts.shape[1] + who.take(some) - lo] += visits.take(some)
    if eng.ref_code.take(own).any():
        referrals.from_runs(eng, books, rng, who, eng.row.take(own), t_run, step, visits, RUN - 1)
    per_code = np.bincount(own, weights=visits, minlength=eng.W * eng.S)
    # visits are counted for entering prospects (even worlds) only
    books.edge_counts += per_code.reshape(eng.W, eng.S)[0::2, :eng.E_max].astype(np.int64)
    return total

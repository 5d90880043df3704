"""Self-loops: a walker that draws a step's move back to itself stays there
a geometric number of moves, drawn at once.

Walking a loop one move per pass costs a pass per move: a monthly renewal
(`paying -> paying 95% after 1mo`) keeps walkers going for dozens of
passes, and a 99.99% zero-delay retry for tens of thousands, so that a run
took minutes or had to cap its walks. But from a step with a self-loop of
probability p, the number of moves back before the walker leaves is
geometric: one draw (numpy's `geometric(1 - p)`) gives the walker's whole
stay, and one draw from the step's other outcomes, given that it leaves
(`Tables.exits`), where it goes next. What the moves back leave behind
follows in closed form:

- visits j = 1..v at times t + j d, with d the loop's delay; under a
  horizon only those before H count (the (v+1)-th move is then the one that
  arrives at or after H, and the walker is active at the horizon there);
- money: the visit's value and cost times the discount at each visit,
  sum_j q^j = q (1 - q^v) / (1 - q) with q the discount over one move
  (written with expm1 so that a q within rounding of 1 stays exact);
- referrals: Poisson(k v) over the v visits, each at the time of a visit
  picked uniformly among them (referrals.from_runs).

Every move back still counts as a transition (and a move), as if it had
been drawn on its own: the counts stay comparable with a plain walk.
"""

from __future__ import annotations

import math

import numpy as np

from . import referrals
from .books import Books
from .bins import Tables, WalkTooLong

_NEVER = np.iinfo(np.int64).max  # numpy's geometric for a loop one cannot leave
_FAR = 1 << 62  # more moves than any walk makes: "no horizon in reach"


def extend(eng: Tables, rng, books: Books, code, w, t, money, margin, disc, counts,
           lo: int, rates: np.ndarray | None = None) -> int:
    """Make the stays of the walkers whose draw `code` is a loop's move back
    to their step; returns the moves made (each one transition). `money`
    and `margin` (margin x value; None: not recorded) grow by the stay's visits (a stay never
    converts: its step was visited before it; the acquisition cost of one
    that has not converted is its cost, walk.py); `disc`: the discount factor at each
    walker's time (None: no discounting); `counts`: per-walker visit counts
    (or None); `rates`: each walker's own rate of a `per customer` move
    (own.py), the chance to stay in such a loop."""
    lid = eng.loop_of.take(code)
    idx = (lid >= 0).nonzero()[0]
    if not len(idx):
        return 0
    lid = lid.take(idx)
    own = code.take(idx)
    leave = eng.loop_leave.take(lid)
    if rates is not None and eng.loop_own.any():
        mine = eng.loop_own.take(lid)
        if mine.any():
            leave = np.where(mine, 1.0 - rates.take(idx), leave)
    # moves back, the one just drawn included: geometric, the trials up to
    # and including the first that leaves
    visits = rng.geometric(np.where(leave > 0, leave, 1.0))
    visits[leave <= 0] = _NEVER
    step = eng.loop_delay.take(lid)
    t_run = t.take(idx)
    cut = np.zeros(len(idx), bool)
    timed = (step > 0).nonzero()[0]  # (zero-delay stays happen at one time)
    if math.isfinite(eng.horizon):
        # visits at t + j d count while t + j d < H: j <= ceil((H - t) / d) - 1
        # (zero-delay stays happen at one time, before H: nothing cuts them)
        reach = np.full(len(idx), _NEVER, np.int64)
        if len(timed):
            room = np.ceil((eng.horizon - t_run.take(timed)) / step.take(timed)) - 1.0
            reach[timed] = np.minimum(room, float(_FAR)).astype(np.int64)
        cut = visits > reach
        np.minimum(visits, reach, out=visits)
    endless = ~cut & (visits == _NEVER)
    if endless.any():
        raise WalkTooLong(eng.loop_steps(eng.tgt[own[endless][0]]), "never leave")
    total = _total(visits)
    if not total:
        return 0
    # where the walkers that leave go: the step's other outcomes, as given
    assert eng.exits is not None  # built whenever there is a loop
    go = eng.exits.draw_at(np.left_shift(lid, eng.exits.shift), rng)
    code[idx] = np.where(cut, own, go)  # cut: a move back, made next, at or after H
    many = visits.astype(float)
    log_q = eng.loop_log_q.take(lid)
    with np.errstate(invalid="ignore", divide="ignore"):
        # sum_{j=1..v} q^j = q (1 - q^v) / (1 - q), exact near q = 1 too
        sums = np.where(log_q == 0.0, many,
                        np.exp(log_q) * np.expm1(many * log_q) / np.expm1(log_q))
    earned = eng.money.take(own) * sums
    disc_run = disc.take(idx) if disc is not None else None  # at each stay's start
    if disc_run is not None:
        earned *= disc_run
    money[idx] += earned
    base = books.ledger.profit_of_e  # profit of one visit, by code

    def profit_at(k):
        """(discounted profit of the stay's visit 0, log of one move's discount)"""
        return (base.take(own.take(k)) * (disc_run.take(k) if disc_run is not None else 1.0),
                log_q.take(k))

    weight = sums if disc_run is None else sums * disc_run  # the stay's discount factors
    who = w.take(idx)
    books.ledger.stays(who, own, t_run, step, visits, earned, weight, profit_at)
    if margin is not None:
        gained = eng.margin_value.take(own) * sums
        if disc_run is not None:
            gained *= disc_run
        margin[idx] += gained
    if len(timed):
        t[idx.take(timed)] = t_run.take(timed) + many.take(timed) * step.take(timed)
    if counts is not None:
        flat = counts.reshape(-1)
        for lookup in (eng.track_step_e, eng.track_stage_e):
            column = lookup.take(own)
            some = (column >= 0).nonzero()[0]
            if len(some):
                flat[column.take(some) * counts.shape[1] + who.take(some) - lo] += visits.take(some)
    if eng.ref_code.take(own).any():
        referrals.from_runs(eng, books, rng, who, eng.row.take(own), t_run, step, visits)
    per_code = np.bincount(own, weights=many, minlength=eng.W * eng.S)
    # visits are counted for entering prospects (even worlds) only
    books.edge_counts += per_code.reshape(eng.W, eng.S)[0::2, :eng.E_max]
    return total


def _total(visits: np.ndarray) -> int:
    """The sum of the visits, exact while int64 holds it (a sum beyond it,
    from loops within rounding of 100%, is only needed to a few digits)."""
    if not len(visits) or int(visits.max()) < (1 << 62) // len(visits):
        return int(visits.sum())
    return int(visits.sum(dtype=np.float64))

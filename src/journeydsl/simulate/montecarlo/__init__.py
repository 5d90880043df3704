"""The Monte Carlo engine: walk many prospects through a journey at once.

Each walker (one prospect) starts at an entry step, earns each visited
step's value and spends its cost discounted to its entry, draws its next
move from the step's rates (the remainder ends the walk) and waits the
move's delay, until its walk ends or the horizon cuts it (walks too long
to finish are an error, `WalkTooLong`, never cut short). Only what happens at t < H counts;
a walk still going at H is active at the horizon. A *transition* is one
draw of a walker's next move: to another step, or to the end of its walk.

The engine is vectorized over prospects, never a Python loop over them;
the modules follow the life of a run:

  draws.py      `monte_carlo`: personas x draws of the uncertain rates -> pairs
  bins.py       every pair's worlds as look-up tables by edge code
  sampler.py    the next move of many walkers: one table read each
  flocks.py     entering prospects with one history: booked once per flock
  walk.py       passes over the pool of walkers in flight
  loops.py      self-loops: a geometric stay in one draw
  referrals.py  Poisson referrals by thinning, and the cascade's queue
  books.py      what stopped walks leave behind, summed by pair
  sums.py       sums by cell over keys in long runs (a faster bincount)
  ledger.py     money by step and by entry, profit events, by batch
  profit_events.py  the profit events summed by (entry, time), made when summed
  stays.py      self-loop stays unrolled in time for the profit curve
  record.py     `Record`: the unit economics a caller will read (recorded only then)
  run.py        a set of pairs walked together -> a `Tally` per pair
  tally.py      sums that add up across draws
  report.py     `MonteCarloReport`: means, uncertainty, concentration
  money.py      money by place, by entry, payback; jackknife standard errors
  top.py        `--top`: the revenue share of the top prospects
  crn.py        `--compare` deltas: every variant walks the same prospects

Runs are reproducible: the same seed gives the same report.

>>> import journeydsl
>>> result = journeydsl.loads('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y }'
...                           ' ; entry x ; x -> y 40% after 2d ; goal y }')
>>> report = monte_carlo(result.journey, prospects=20_000, seed=1)
>>> abs(report.blended.conversion - 0.4) < 0.02, report.blended.time_to_convert
(True, 2.0)
"""

from __future__ import annotations

from .bins import WalkTooLong
from .draws import monte_carlo
from .record import Record
from .report import HEADLINE, MonteCarloReport
from .run import Walks, simulate_chain

__all__ = ["HEADLINE", "MonteCarloReport", "Record", "WalkTooLong", "Walks", "monte_carlo",
           "simulate_chain"]

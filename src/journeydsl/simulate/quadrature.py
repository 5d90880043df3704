"""A customer's own rate (`beta(a, b) per customer`): its distribution, the
quadrature rules over it, and the chain of one draw.

Each prospect draws its own rate p of one move s -> t once and keeps it on
every visit of that move; the other moves out of s share what p leaves in
their declared proportions (a declared rate r becomes r (1 - p) / (1 - mean
p)). Every metric is then an expectation over p of the metric of the chain
with that rate, an integral against p's density: Beta(a, b) on [0, 1], or a
range `LO..HI` (Beta(1, 1) stretched onto [LO, HI]).

What the integrand looks like decides the rule (see `mixture.py` for their
use):
- Under a horizon, when every cycle through s takes time, a walk visits s
  at most D times before the horizon, so every metric is a polynomial of
  degree at most D in p: a Gauss rule with m > D / 2 + 1 points is exact.
- Without a horizon every metric is a rational function of p, and the
  expected visits of a loop that customers at p = 1 never leave grow like
  1 / (1 - p). For Beta(a, b) with b > 1 the rule is then built on
  Beta(a, b - 1), its weights times (1 - p): it is exact for g(p) / (1 - p),
  g any polynomial of degree 2m - 1, and so for that pole. With b <= 1 (or a
  range up to 100%) that expectation is infinite (`Draw.heavy_top`).

Nodes and weights come from the Jacobi matrix of the Beta distribution
(Golub-Welsch, with scipy's `eigh_tridiagonal`), which stays finite for
beta parameters up to the language's limit of 10^9 (scipy's `roots_jacobi`
overflows its normalization there).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace

import numpy as np

from ..language.compiled import RATE_TOLERANCE
from ..language.model import Amount
from .chain import Chain
from .horizon import seconds


@dataclass(frozen=True)
class Draw:
    """The distribution of a customer's own rate: Beta(a, b) on [low, high]."""

    a: float
    b: float
    low: float
    high: float

    @classmethod
    def of(cls, amount: Amount) -> Draw:
        """`beta(a, b)` (on [0, 1], or on [low, high] when a lever stretched
        it: levers.raise_rate) or a range `low..high` (Beta(1, 1))."""
        if amount.kind == "beta":
            assert amount.alpha is not None and amount.beta is not None  # beta(a, b)
            low = 0.0 if amount.low is None else amount.low
            high = 1.0 if amount.high is None else amount.high
            return cls(amount.alpha, amount.beta, low, high)
        assert amount.low is not None and amount.high is not None  # a range
        return cls(1.0, 1.0, amount.low, amount.high)

    @property
    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    @property
    def reaches_one(self) -> bool:
        """Whether customers' rates come arbitrarily close to 100%."""
        return self.high >= 1.0

    @property
    def heavy_top(self) -> bool:
        """E[1 / (1 - p)] is infinite: the density does not vanish at p = 1
        (b <= 1; a range up to 100% is b = 1)."""
        return self.reaches_one and self.b <= 1.0

    def rule(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """m points p and weights w (positive, summing to 1) with sum w f(p)
        ~ E[f(p)]: exact for polynomials of degree 2m - 2, and, when p reaches
        100% with a finite E[1 / (1 - p)], for f = g / (1 - p) too."""
        if self.reaches_one and self.b > 1.0:
            x, w = _gauss_beta(m, self.a, self.b - 1.0)
            w = w * (1.0 - x)  # (1 - p is (1 - x) times the constant 1 - low)
            w = w / w.sum()
        else:
            x, w = _gauss_beta(m, self.a, self.b)
        return self.low + (self.high - self.low) * x, w


def _gauss_beta(m: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The m-point Gauss rule of Beta(a, b) on [0, 1] (Golub-Welsch).

    The three-term recurrence of the Jacobi polynomials of weight
    (1 - x)^al (1 + x)^be on [-1, 1], al = b - 1 and be = a - 1, moved to
    [0, 1]; the weights are the squared first components of the
    eigenvectors (the distribution has total mass 1)."""
    al, be = b - 1.0, a - 1.0
    n = np.arange(m, dtype=float)
    s = 2.0 * n + al + be
    diag = np.empty(m)
    diag[0] = (be - al) / (al + be + 2.0)
    # (be^2 - al^2) as a product: no cancellation when a and b are ~10^9
    diag[1:] = (be - al) * (be + al) / (s[1:] * (s[1:] + 2.0))
    k = n[1:]
    sk = s[1:]
    off2 = 4.0 * k * (k + al) * (k + be) * (k + al + be) / (sk * sk * (sk + 1.0) * (sk - 1.0))
    if m > 1:  # n = 1 with (al + be + 1) cancelled, exact when al + be = -1
        off2[0] = 4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + al + be) ** 2 * (3.0 + al + be))
    x, vectors = _eigh_tridiagonal((1.0 + diag) / 2.0, np.sqrt(off2) / 2.0)
    w = vectors[0] ** 2
    return np.clip(x, 0.0, 1.0), w / w.sum()


#: Rules up to this many points are solved as a dense matrix by numpy: a
#: `journey check` evaluating a per-customer rate's `expect` lines (7 points)
#: then starts without scipy.linalg's 160 ms import. Beyond it the dense
#: solve's m^3 costs more than the import.
DENSE_POINTS = 256


def _eigh_tridiagonal(diagonal: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric tridiagonal matrix."""
    m = len(diagonal)
    if m <= DENSE_POINTS:
        matrix = np.diag(diagonal)
        if m > 1:
            matrix += np.diag(off, 1) + np.diag(off, -1)
        return np.linalg.eigh(matrix)
    from scipy.linalg import eigh_tridiagonal

    return eigh_tridiagonal(diagonal, off)


@dataclass(frozen=True)
class Drawn:
    """The move of a chain whose rate each prospect draws: its position in
    the chain's move arrays, its distribution, and the other moves out of
    its source step (which share what the draw leaves)."""

    edge: int
    source: int
    target: int
    draw: Draw
    siblings: np.ndarray  # positions of the other moves out of `source`

    @classmethod
    def of(cls, chain: Chain) -> Drawn | None:
        if not chain.per_customer:
            return None
        ((s, t), amount), = chain.per_customer.items()  # at most one (JD314)
        found = np.flatnonzero((chain.move_row == s) & (chain.move_col == t))
        if not len(found):
            return None  # (a chain whose move was taken away: Chain.with_moves drops it)
        edge = int(found[0])
        siblings = np.flatnonzero(chain.move_row == s)
        return cls(edge, s, t, Draw.of(amount), siblings[siblings != edge])

    def rates(self, chain: Chain, p: np.ndarray) -> np.ndarray:
        """The chain's move rates for each rate p (one row per p)."""
        rates = np.tile(chain.move_rate, (len(p), 1))
        rates[:, self.edge] = p
        left = 1.0 - chain.move_rate[self.edge]  # what the mean leaves
        scale = (1.0 - p) / left if left > RATE_TOLERANCE else np.zeros(len(p))
        rates[:, self.siblings] *= scale[:, None]
        return rates

    def at(self, chain: Chain, p: float) -> Chain:
        """The chain of the prospects who drew p (no rate of its own left to draw)."""
        return replace(chain, move_rate=self.rates(chain, np.array([p]))[0], per_customer={})

    # ------------------------------------------------------------ shape of the integrand
    def visit_bound(self, chain: Chain) -> int | None:
        """Most visits to the source step a walk can make before the horizon
        (every metric is then a polynomial of that degree in p); None without
        a horizon or when a cycle through the step takes no time."""
        if chain.horizon_days is None:
            return None
        cycle = _shortest_cycle(chain, self.source)
        if cycle == 0:
            return None
        if cycle is None:
            return 1
        return max(1, math.ceil(int(seconds(chain.horizon_days)) / cycle))

    def closes_at_one(self, chain: Chain) -> bool:
        """Whether a customer whose rate is 100% can never leave the loop
        through the move once in it (without end: a horizon ends only loops
        that take time): then expected visits grow like 1 / (1 - p)."""
        row, col, rate = chain.move_row, chain.move_col, chain.move_rate
        endless = (np.ones(len(row), bool) if chain.horizon_days is None
                   else chain.move_delay == 0)
        if not endless[self.edge]:
            return False
        keep = endless & (row != self.source)
        total = np.bincount(row[keep], weights=rate[keep], minlength=chain.n)
        total[self.source] = 1.0  # only the drawn move, at 100%
        succ: dict[int, list[int]] = {}
        for u, v in zip(row[keep].tolist(), col[keep].tolist()):
            succ.setdefault(u, []).append(v)
        succ[self.source] = [self.target]
        reach = _closure(succ, self.target)
        return self.source in reach and all(total[u] >= 1.0 - RATE_TOLERANCE for u in reach)


def _closure(succ: dict[int, list[int]], start: int) -> set[int]:
    seen, stack = set(), [start]
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            stack.extend(succ.get(u, ()))
    return seen


def _shortest_cycle(chain: Chain, s: int) -> int | None:
    """The least time (whole seconds, as the horizon engine counts) of a
    cycle through step s; None when there is none (Dijkstra on the moves)."""
    delay = seconds(chain.move_delay).tolist()
    succ: dict[int, list[tuple[int, int]]] = {}
    for u, v, d in zip(chain.move_row.tolist(), chain.move_col.tolist(), delay):
        succ.setdefault(u, []).append((v, d))
    best: dict[int, int] = {}
    heap = [(d, v) for v, d in succ.get(s, ())]
    heapq.heapify(heap)
    while heap:
        d, u = heapq.heappop(heap)
        if u in best:
            continue
        best[u] = d
        if u == s:
            return d
        for v, step in succ.get(u, ()):
            if v not in best:
                heapq.heappush(heap, (d + step, v))
    return None

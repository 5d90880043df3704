"""Scenario deltas with common random numbers (`simulate --compare`).

The difference of two independent Monte Carlo runs carries both runs'
noise: a scenario that moves a rate by a point is lost in it. Here the
baseline and every scenario walk *the same prospects*: prospect i's k-th
move draws the same uniform number U[i, k] in every variant, and takes
the move whose cumulative rate interval holds it (inverse transform), so
a prospect whose step's rates did not change, or changed by less than the
distance of U to the nearest boundary, moves the same way in every
variant. A delta is then the mean of per-prospect differences, and its
standard error comes from those differences (delta method for the ratios,
with the covariance of the two variants' means): far smaller than the
independent runs' sqrt(se0^2 + se1^2), which is reported beside it.

The walk is plain: one pass per move for every prospect in every variant
(self-loops too, no geometric stay; no flocks), the entry and each
referral count drawn by inverse transform from their own uniform. Only
the headline metrics' per-prospect quantities are kept (referred
prospects are not walked: the headline metrics leave them out). Uncertain
rates are drawn at the same quantiles in every variant, draw by draw. A
`per customer` rate is drawn the same way, prospect by prospect: prospect
i's rate is each variant's quantile at one uniform V[i] (own.PairedOwn),
so a scenario that changes customers' rates pairs each customer with
itself. Only expectations made infinite by customers' own rates close to
100% (see mixture.infinite) are not walked (TooLong, with why): such walks
practically never end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...language.compiled import CompiledJourney
from ...metrics import EXPECTATIONS
from ..chain import Chain, build_chain
from .bins import moves_of, _canonical
from .draws import _infinite, _split, sample_rates
from .own import PairedOwn
from .report import HEADLINE, _gradients, headline

MAX_PASSES = 20_000  # moves of the longest walk, at most (then the deltas are not computed)
_AT = {name: k for k, name in enumerate(EXPECTATIONS)}


class TooLong(ValueError):
    """Walks too long for the plain paired walk (a loop near 100%)."""


@dataclass
class Delta:
    delta: float | None
    stderr: float | None
    stderr_independent: float | None  # what two independent runs would give

    def as_dict(self) -> dict:
        return {"delta": self.delta, "stderr": self.stderr,
                "stderr_independent": self.stderr_independent}


def _tables(chain: Chain, rates) -> tuple:
    """(bounds, source, target, delay, own) of the moves, where the moves out of step s
    cut (s, s + 1] at s + their cumulative rate: the move of a walker at s
    with uniform u is the first bound above s + u (none in the row: the
    walk ends, as at the last position, which no step owns); and the
    chain's `per customer` move in that table (None without one)."""
    src, dst, prob, delay = moves_of(chain, rates, _canonical(chain.delays))
    start = np.searchsorted(src, np.arange(chain.n))
    cum = np.cumsum(prob)
    before = np.concatenate([[0.0], cum])[start]
    bounds = src + (cum - before[src])
    return (np.append(bounds, np.inf), np.append(src, -1), np.append(dst, -1),
            np.append(delay, 0.0), PairedOwn.of(chain, src, dst, prob, len(src)))


def _poisson(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Poisson(lam) count whose cumulative probability first passes u
    (inverse transform, term by term: referral rates are small)."""
    term = np.exp(-lam)
    cdf = term.copy()
    count = np.zeros(len(u))
    more = (u >= cdf).nonzero()[0]
    k = 0
    while len(more) and k < 10_000:
        k += 1
        term[more] *= lam[more] / k
        cdf[more] += term[more]
        count[more] = k
        more = more[u[more] >= cdf[more]]
    return count


def _walk(chains: list[Chain], rates: list, n: int, rng: np.random.Generator) -> np.ndarray:
    """[variant, prospect, EXPECTATIONS] of n prospects walked in every variant
    with common random numbers."""
    V = len(chains)
    out = np.zeros((V, n, len(EXPECTATIONS)))
    tables = [_tables(ch, r) for ch, r in zip(chains, rates)]
    entry = [np.cumsum(ch.entry / ch.entry.sum()) for ch in chains]
    sends = [np.bincount(ch.ref_row, weights=ch.ref_amount, minlength=ch.n) for ch in chains]
    u = rng.random(n)
    step = np.array([np.minimum(np.searchsorted(c, u, side="right"), len(c) - 1)
                     for c in entry])
    # customers' own rates: each variant's quantile at the prospect's one
    # uniform (drawn only when some variant has such a rate, so that other
    # journeys keep their random numbers), NaN until the prospect first
    # reaches the move (the quantile function is slow: most never do)
    own = [tab[4] for tab in tables]
    quantile = rng.random(n) if any(o is not None for o in own) else np.zeros(0)
    own_rate = [np.zeros(0) if o is None else np.full(n, np.nan) for o in own]
    t = np.zeros((V, n))
    alive = np.ones((V, n), bool)
    converted = np.zeros((V, n), bool)
    horizon = chains[0].horizon_days
    log_d = math.log(chains[0].daily_discount)
    live = np.arange(n)  # prospects still walking in some variant
    u, u_refer = np.zeros(n), np.zeros(n)
    for _ in range(MAX_PASSES):
        # one uniform per prospect still walking, the same in every variant
        u[live], u_refer[live] = rng.random(len(live)), rng.random(len(live))
        for v, ch in enumerate(chains):
            who = live[alive[v, live]]
            if not len(who):
                continue
            s, tv = step[v, who], t[v, who]
            x = out[v]
            disc = np.exp(tv * log_d) if log_d else 1.0
            new = ch.goal[s] & ~converted[v, who]
            converted[v, who[new]] = True
            x[who[new], _AT["conversion"]] = 1.0
            x[who[new], _AT["time_converted"]] = tv[new]
            value, cost = ch.value[s] * disc, ch.cost[s] * disc
            x[who, _AT["revenue"]] += value
            x[who, _AT["cost"]] += cost
            x[who, _AT["profit"]] += ch.margin[s] * value - cost
            x[who, _AT["acquisition_cost"]] += np.where(converted[v, who], 0.0, cost)
            k = sends[v][s]
            sending = (k > 0).nonzero()[0]
            if len(sending):
                x[who[sending], _AT["viral_coefficient"]] += _poisson(
                    u_refer[who[sending]], k[sending])
            bounds, source, target, delay, mine = tables[v]
            j = np.searchsorted(bounds, s + u[who], side="right")
            if mine is not None:
                at = (s == mine.source).nonzero()[0]
                if len(at):
                    there, rate = who[at], own_rate[v]
                    fresh = there[np.isnan(rate[there])]
                    if len(fresh):
                        rate[fresh] = mine.rates(quantile[fresh])
                    mine.choose(j, at, u[there], rate[there])
            moved = source[j] == s  # else the first bound above is a later step's: the end
            ends = who[~moved]
            alive[v, ends] = False
            go = who[moved]
            jj = j[moved]
            step[v, go] = target[jj]
            t[v, go] += delay[jj]
            if horizon is not None:
                cut = go[t[v, go] >= horizon - 1e-9]
                alive[v, cut] = False
                x[cut, _AT["active_at_horizon"]] = 1.0
        live = live[alive[:, live].any(axis=0)]
        if not len(live):
            break
    else:
        raise TooLong(f"some walks were still going after {MAX_PASSES:,} moves")
    profit = out[:, :, _AT["profit"]] + out[:, :, _AT["acquisition_cost"]]
    out[:, :, _AT["profit_converted"]] = out[:, :, _AT["conversion"]] * profit
    return out


def compare(journeys: list[CompiledJourney], prospects: int = 100_000, draws: int = 20,
            seed: int = 20261123, persona: str | None = None) -> list[dict[str, Delta]]:
    """For each variant after the first (the baseline): its delta from the
    baseline in each blended headline metric (by JSON key), with standard
    errors. TooLong when a walk does not end within MAX_PASSES moves;
    ValueError when the variants' steps differ."""
    base = journeys[0]
    run = [persona] if persona is not None else base.persona_ids
    chains = [{p: build_chain(j, p) for p in run} for j in journeys]
    if any(ch[p].steps != chains[0][p].steps for ch in chains for p in run):
        raise ValueError("the scenarios' steps differ from the baseline's")
    for journey, ch in zip(journeys, chains):
        # customers so close to 100% that their loop practically never ends:
        # the expectations are infinite (a discount keeps money finite, but
        # not the walks' length), so the paired walk would not end
        for p, marks in _infinite(ch).items():
            if marks:
                (s, t), = ch[p].per_customer
                where = f"scenario `{journey.scenario}`" if journey.scenario else "the baseline"
                raise TooLong(f"in {where}, customers keep their own rate of "
                              f"`{ch[p].steps[s]} -> {ch[p].steps[t]}`, some of them "
                              "arbitrarily close to 100% (b <= 1 in beta(a, b), or a range up "
                              "to 100%): their loop practically never ends, so neither would "
                              "the paired walk; b > 1, or a horizon on a loop that takes "
                              "time, ends it")
    shares = dict(base.shares)
    weights = {p: shares[p] for p in run} if len(run) > 1 else {run[0]: 1.0}
    mix = {p: weights[p] / sum(weights.values()) for p in run}
    uncertain = any(ch[p].uncertain for ch in chains for p in run)
    k = min(max(1, int(draws)) if uncertain else 1, prospects)
    V, m = len(journeys), len(EXPECTATIONS)
    mean = np.zeros((V, m))
    cov = np.zeros((V * m, V * m))
    per_draw = []
    for d, size in enumerate(_split(prospects, [1.0] * k)):
        rates: list[dict] = [{p: None for p in run} for _ in journeys]
        if uncertain:
            for v, ch in enumerate(chains):
                draw_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d, 0)))
                rates[v] = sample_rates(ch, draw_rng)[0]
        draw_mean = np.zeros((V, m))
        draw_cov = np.zeros((V * m, V * m))
        for p, count in zip(run, _split(size, [mix[p] for p in run])):
            count = max(count, 1)
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(5 << 28, d,
                                                                                 run.index(p))))
            x = _walk([ch[p] for ch in chains], [r[p] for r in rates], count, rng)
            flat = x.transpose(1, 0, 2).reshape(count, V * m)
            draw_mean += mix[p] * x.mean(axis=1)
            if count > 1:
                draw_cov += mix[p] ** 2 * np.cov(flat, rowvar=False) / count
        mean += draw_mean / k
        cov += draw_cov / k ** 2
        per_draw.append(draw_mean)
    if k > 1:
        spread = np.cov(np.array([x.reshape(-1) for x in per_draw]), rowvar=False) / k
    out = []
    g0 = _gradients(mean[0])
    h0 = headline(mean[0])
    for v in range(1, V):
        gv, hv = _gradients(mean[v]), headline(mean[v])
        deltas = {}
        for name in HEADLINE:
            a, b = g0.get(name), gv.get(name)
            before, after = h0[name], hv[name]
            if a is None or b is None or before is None or after is None:
                deltas[name] = Delta(None, None, None)
                continue
            grad = np.zeros(V * m)
            grad[:m] -= a
            grad[v * m:(v + 1) * m] += b
            var = float(grad @ cov @ grad)
            alone = float(a @ cov[:m, :m] @ a + b @ cov[v * m:(v + 1) * m, v * m:(v + 1) * m] @ b)
            if k > 1:
                var = max(var, float(grad @ spread @ grad))
                g_a, g_b = np.zeros(V * m), np.zeros(V * m)
                g_a[:m], g_b[v * m:(v + 1) * m] = a, b
                alone = max(alone, float(g_a @ spread @ g_a) + float(g_b @ spread @ g_b))
            deltas[name] = Delta(after - before, math.sqrt(max(var, 0.0)),
                                 math.sqrt(max(alone, 0.0)))
        out.append(deltas)
    return out

"""`monte_carlo`: the personas and the draws of the uncertain rates as pairs.

A range like `20%..30%` is not a rate but a belief about one, so each of
`draws` draws samples every uncertain rate once (a range shared by
personas, or written for several, at the same quantile for all of them)
and walks its share of the prospects with those rates; the spread across
draws is what the report's percentiles show. A draw that pushes a step's
rates over 100% scales them down to exactly 100% and is counted
(`rescaled_draws`; warning JD407 announces it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from ...language.compiled import RATE_TOLERANCE, CompiledJourney
from ..chain import Chain
from ...metrics import METRIC
from ..mixture import infinite, marked
from ..results import blend
from . import money
from .record import NOT_RECORDED, Record
from .report import MonteCarloReport, blended_linear, uncertainty
from .top import Earners, concentration as top_share
from .run import Stats, run_pairs
from .bins import Pair
from .tally import Tally
from .walk import MAX_MOVES

_MAX_ROWS = 1 << 14  # sampler rows (worlds x steps) walked together at most


def sorted_rates(chain: Chain) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The chain's rates as CSR with sorted indices, and each entry's row:
    what every draw of `sample_rates` starts from (made once per chain)."""
    q = chain.rates.tocsr().copy()
    q.sort_indices()
    return q, np.repeat(np.arange(chain.n), np.diff(q.indptr))


def sample_rates(chains: dict[str, Chain], rng: np.random.Generator,
                 start: dict[str, tuple[sparse.csr_matrix, np.ndarray]] | None = None):
    """One draw of every uncertain rate, per persona; rows over 100% scaled to 100%.
    `start`: `sorted_rates` of each persona's chain, when already made.

    Returns ({persona: csr rates}, {persona: [rescaled step indices]})."""
    from scipy.special import betaincinv  # the beta quantile function

    keys = sorted({key for ch in chains.values() for key in ch.uncertain})
    quantile = dict(zip(keys, rng.random(len(keys))))
    rates, rescaled = {}, {}
    for p, ch in chains.items():
        q, row_of = start[p] if start is not None else sorted_rates(ch)
        q = q.copy()
        if ch.uncertain:
            for (i, j), amount in ch.uncertain.items():
                u = quantile[(i, j)]
                if amount.kind == "uniform":
                    assert amount.low is not None and amount.high is not None  # its bounds
                    value = amount.low + u * (amount.high - amount.low)
                elif amount.kind == "beta":
                    value = float(betaincinv(amount.alpha, amount.beta, u))
                else:
                    value = amount.mean
                lo, hi = q.indptr[i], q.indptr[i + 1]
                pos = lo + int(np.searchsorted(q.indices[lo:hi], j))
                q.data[pos] = value
        totals = np.bincount(row_of, weights=q.data, minlength=ch.n)
        over = np.flatnonzero(totals > 1.0 + RATE_TOLERANCE)
        for row in over:
            lo, hi = q.indptr[row], q.indptr[row + 1]
            q.data[lo:hi] /= totals[row]
        rates[p], rescaled[p] = q, [int(i) for i in over]
    return rates, rescaled


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split by weights (largest remainder)."""
    w = np.asarray(weights, float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    raw = w * total
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(x) for x in out]


def monte_carlo(journey: CompiledJourney, prospects: int = 100_000,
                draws: int = 20, seed: int = 20261123, persona: str | None = None,
                progress: Callable[[int, int], None] | None = None, *,
                max_moves: int = MAX_MOVES,
                concentration: float = 0.08, record: Record = Record.ALL) -> MonteCarloReport:
    """Monte Carlo metrics of a compiled journey (the baseline or a scenario).

    `prospects` is the total number of entering prospects simulated. With
    uncertain rates they are split evenly over `draws` draws (each draw
    samples every uncertain rate once); without any, there is one draw of
    them all. In each draw the prospects are split over the personas by
    share (only `persona` when given) and the personas blended as
    `results.blend` does; every draw and persona is walked in one pool.
    `uncertainty` gives, for each blended headline metric, the standard
    error of the reported mean (see `report.uncertainty`) and p05/p50/p95
    across draws (these include each draw's own sampling noise); with a
    single draw, p05/p95 are mean -/+ 1.645 standard errors. `progress(done, total)` is
    called as walks end. `record` (record.py): the unit economics a caller
    will read (all by default); the walks and the numbers recorded are the
    same whatever it leaves out.
    """
    from .. import check_persona
    from ..chain import build_chain

    check_persona(journey, persona)
    if prospects < 1:
        raise ValueError("prospects must be at least 1")
    shares = dict(journey.shares)
    run = [persona] if persona is not None else journey.persona_ids
    chains = {p: build_chain(journey, p) for p in run}
    uncertain = any(ch.uncertain for ch in chains.values())
    k = min(max(1, int(draws)) if uncertain else 1, prospects)
    weights = {p: shares[p] for p in run} if len(run) > 1 else {run[0]: 1.0}
    mix = {p: weights[p] / sum(weights.values()) for p in run}
    pairs, which, rescaled_draws, rescaled_steps = _pairs(chains, mix, prospects, k, seed,
                                                          uncertain)
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(min(done, prospects), prospects)

    tallies, stats = _walk_groups(pairs, seed, max_moves, tick, record)
    pooled: dict[str, Tally] = {}
    per_draw: list[tuple[np.ndarray, np.ndarray]] = []  # each draw's means and their covariance
    # the same, each persona alone (its own uncertainty band, for the report)
    own_draws: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {p: [] for p in run}
    converters = []
    earners = []
    for d in range(k):
        mine = {p: tallies[j] for j, (dd, p) in enumerate(which) if dd == d}
        for p, tally in mine.items():
            earners.append(Earners(tally.earners[:, 0], tally.earners[:, 1],
                                   float(tally.n - tally.earners[:, 1].sum()),
                                   mix[p] / (max(tally.n, 1) * k), d))
            pooled[p] = tally if p not in pooled else pooled[p].merge(tally)
            c = tally.converters.copy()
            c[:, 2] *= mix[p] / (max(tally.n, 1) * k)
            converters.append(c)
        per_draw.append(blended_linear(mine, mix))
        for p, tally in mine.items():
            own_draws[p].append(blended_linear({p: tally}, {p: 1.0}))
    personas = {p: pooled[p].metrics() for p in run}
    books = money.join(stats.ledgers, len(pairs), chains[run[0]].n) if record.ledger else None
    if books is not None:
        money.fill(personas, chains, which, books, record)
    # expectations the exact engine finds infinite: None with the reason
    # (a run's mean of them is finite but estimates nothing); those not
    # recorded, None with theirs
    infinite = _infinite(chains)
    left_out = _not_recorded(record)
    personas = {p: marked(personas[p], {**infinite.get(p, {}), **left_out}) for p in run}
    notes: dict[str, str] = {}
    report = MonteCarloReport(
        journey=journey.title, scenario=journey.scenario, method="monte_carlo",
        currency=journey.currency, shares=shares, personas=personas,
        blended=blend(personas, mix) if len(run) > 1 else personas[run[0]],
        prospects=prospects, draws=k, seed=seed,
        _notes=notes,
        rescaled_draws=rescaled_draws, rescaled_steps=rescaled_steps,
        transitions=stats.transitions, moves=stats.moves,
        cascade_capped=stats.cascade_capped, concentration_fraction=concentration,
        _profit=record.profit,
        _converters=np.concatenate(converters) if converters else np.zeros((0, 4)))
    # the standard errors of money by place and the top share: when read
    if books is not None:
        report.later(("place_stderr",), lambda _: {"place_stderr": money.stderr(
            books, chains, which, mix, k, record)})
    report.later(("top_revenue_share", "top_revenue_stderr"),
                 lambda _: dict(zip(("top_revenue_share", "top_revenue_stderr"),
                                    top_share(earners, concentration))))

    def spread(report: MonteCarloReport) -> dict[str, dict]:
        """The uncertainty (when first read: the delta method's gradients and
        the draws' percentiles are wanted by the tables and the JSON only)."""
        found = uncertainty(pooled, mix, per_draw, notes)
        infinite_reasons = set(report.blended.unknown.values())
        for name, why in report.blended.undefined(curves=False).items():  # (no curve has one)
            key = METRIC[name].json
            if key in found and why in infinite_reasons:  # (and ratios of them)
                found[key] = {"stderr": None, "p05": None, "p50": None, "p95": None}
                notes[f"uncertainty.{key}"] = why
        return {"uncertainty": found}

    report.later(("uncertainty",), spread)

    def own_spread(report: MonteCarloReport) -> dict[str, dict]:
        """Each persona's band (the report's Monte Carlo section reads it)."""
        bands = {p: uncertainty({p: pooled[p]}, {p: 1.0}, own_draws[p]) for p in run}
        for p, band in bands.items():
            own = set(report.personas[p].unknown.values())
            for name, why in report.personas[p].undefined(curves=False).items():
                if METRIC[name].json in band and why in own:
                    band[METRIC[name].json] = {"stderr": None, "p05": None, "p50": None,
                                               "p95": None}
        return {"persona_uncertainty": bands}

    if len(run) > 1:  # (one persona: its band is the blend's)
        report.later(("persona_uncertainty",), own_spread)
    return report


def _not_recorded(record: Record) -> dict[str, str]:
    """The headline numbers a run did not record, with the reason (by name)."""
    out = {}
    if not record.profit:
        out.update(dict.fromkeys(("profit", "acquisition_cost", "profit_converted"),
                                 NOT_RECORDED))
    if not record.curve:
        out["payback"] = NOT_RECORDED
    return out


def _infinite(chains: dict[str, Chain]) -> dict[str, dict[str, str]]:
    """Per persona, the expectations that a `per customer` rate makes
    infinite (the exact engine's test, mixture.infinite): their Monte Carlo
    means are finite but estimate nothing, so they are None with the reason."""
    from ..exact import solve
    from ..quadrature import Drawn

    out = {}
    for p, chain in chains.items():
        drawn = Drawn.of(chain)
        if drawn is not None:
            out[p] = infinite(chain, drawn, solve)
    return out


def _pairs(chains: dict[str, Chain], mix: dict[str, float], prospects: int, k: int, seed: int,
           uncertain: bool):
    """The pairs of k draws (prospects split evenly over the draws, then by
    share), their (draw, persona), and the draws and steps rescaled."""
    pairs: list[Pair] = []
    which: list[tuple[int, str]] = []
    rescaled_draws = 0
    rescaled_steps: dict[str, dict[str, int]] = {}
    start = {p: sorted_rates(ch) for p, ch in chains.items()} if uncertain else None
    for d, size in enumerate(_split(prospects, [1.0] * k)):
        rates: dict = {p: None for p in chains}
        if uncertain:
            draw_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d, 0)))
            rates, rescaled = sample_rates(chains, draw_rng, start)
            rescaled_draws += any(rescaled.values())
            for p, rows in rescaled.items():
                counts = rescaled_steps.setdefault(p, {}) if rows else {}
                for i in rows:
                    counts[chains[p].steps[i]] = counts.get(chains[p].steps[i], 0) + 1
        for p, count in zip(chains, _split(size, [mix[p] for p in chains])):
            pairs.append(Pair(chains[p], rates[p], max(count, 1)))
            which.append((d, p))
    return pairs, which, rescaled_draws, rescaled_steps


def _walk_groups(pairs: list[Pair], seed: int, max_moves: int, tick, record: Record):
    """Every pair in one pool, unless the sampler would get too many rows."""
    group = max(1, _MAX_ROWS // (2 * pairs[0].chain.n + 1))
    tallies: list[Tally] = []
    stats = Stats(0, 0, False)
    for g, lo in enumerate(range(0, len(pairs), group)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 30, g)))
        part, st, _ = run_pairs(pairs[lo:lo + group], rng, max_moves=max_moves, keep=False,
                                progress=tick, record=record)
        tallies += part
        stats = Stats(stats.transitions + st.transitions, stats.moves + st.moves,
                      stats.cascade_capped or st.cascade_capped,
                      stats.ledgers + [(lo, led) for _, led in st.ledgers])
    return tallies, stats

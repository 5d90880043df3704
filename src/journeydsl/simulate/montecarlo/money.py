"""Money by place, by entry and payback, from the ledgers, with standard errors.

Each persona's Metrics gain what the exact engine reports beside the
headline metrics: `revenue`, `cost` and `profit` per step, stage and
channel, `by_entry` (each entry step's prospects: their expectations and
profit curve) and the profit curve F(t) itself, read off the simulated
visits (`Sampled`), so that payback is found on it exactly as the exact
engine finds it on its own (payback.py); blending over personas then
follows `results.blend` unchanged.

Standard errors (blended, or the one persona run) are delete-one-group
jackknife estimates: every number is recomputed without one group of
prospects at a time, and the variance is (G - 1) / G x the sum of squared
deviations of those G recomputations. The groups are the ledger's
interleaved batches of prospects (independent samples); with uncertain
rates the draws are groups too, and the larger of the two variances is
kept (as `report.uncertainty` keeps the larger of the within-draw and the
across-draw variance). For a mean this is the batch-means variance; for a
ratio (cac, clv, ltv_cac by entry) it is the delta method's, without
writing its gradient. Payback has none: it is one of the visit times where
the mean curve last crosses zero, a step function of the data whose
jackknife is known to be inconsistent (the docs say so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...metrics import BY_ENTRY, METRIC, SMALLEST
from ..chain import Chain, stage_index
from ..payback import Events, ProfitCurve
from ..results import Entry, Metrics, channel_money
from .ledger import BATCHES, ENTRY_COLUMNS, Ledger
from .record import Record

_EXPECT = ENTRY_COLUMNS[1:]  # the by-entry expectations (after the count)


class Sampled:
    """One group of prospects' F(t), from the simulated visits (per entering
    prospect): complete, a `payback.Money`. Without a horizon the walks all
    ended, yet payback's wording for a curve ending below 0 must say "in
    the long run": `complete` is then False with nothing left to follow."""

    def __init__(self, times: np.ndarray, gains: np.ndarray, horizon: bool) -> None:
        self._events = Events(times, gains, float(-gains[gains < 0].sum()),
                              float(gains[gains > 0].sum()))
        self.complete = horizon

    @property
    def profit(self) -> float:
        return float(self._events.gains.sum())

    @property
    def positive(self) -> float:
        return self._events.positive

    @property
    def negative(self) -> float:
        return self._events.negative

    def first_until(self) -> float:
        return math.inf

    def events(self, until_days: float) -> Events:
        return self._events


@dataclass
class Books:
    """Every ledger of a run joined: arrays by global pair number."""

    place: np.ndarray  # [pair, batch, step, (value, cost, margin x value)]
    entry: np.ndarray  # [pair, entry, batch, ENTRY_COLUMNS]
    entries: list[int]  # entry step numbers
    ledgers: list[tuple[int, Ledger]]  # (first pair number, ledger)
    _events: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The profit events (pair * E + entry, time, amount), joined when a
        profit curve first wants them (a run read for its means never does)."""
        if self._events is None:
            E = len(self.entries)
            keys, times, amounts = [], [], []
            for lo, led in self.ledgers:
                at = np.searchsorted(self.entries, led.entries)
                k, t, a = led.events()
                pair, e = np.divmod(k, max(led.E, 1))
                keys.append((lo + pair) * E + at[e] if len(k) else k)
                times.append(t)
                amounts.append(a)
            self._events = (np.concatenate(keys), np.concatenate(times),
                            np.concatenate(amounts))
        return self._events


def join(ledgers: list[tuple[int, Ledger]], pairs: int, n: int) -> Books:
    """The ledgers of the groups of pairs (each with its first pair number)."""
    entries = sorted({s for _, led in ledgers for s in led.entries})
    E = len(entries)
    place = np.zeros((pairs, BATCHES, n, 3))
    entry = np.zeros((pairs, E, BATCHES, len(ENTRY_COLUMNS)))
    for lo, led in ledgers:
        led.close()
        P = led.place.shape[0]
        place[lo:lo + P] = led.place
        at = np.searchsorted(entries, led.entries)
        entry[lo:lo + P, at] = led.by_entry
    return Books(place, entry, entries, ledgers)


def _curve(books: Books, pairs: np.ndarray, entry: int | None, count: float,
           horizon: bool) -> ProfitCurve:
    """F(t) of the prospects of `pairs` (entering at entry index `entry`,
    None: all), made when first read."""

    def parts() -> tuple[tuple[float, Sampled], ...]:
        keys, t_all, a_all = books.events()
        pair, e = np.divmod(keys, max(len(books.entries), 1))
        mine = np.isin(pair, pairs) & ((e == entry) if entry is not None else True)
        t, a = t_all[mine], a_all[mine]
        times, where = np.unique(t, return_inverse=True)
        gains = np.bincount(where, weights=a, minlength=len(times)) / max(count, 1.0)
        return ((1.0, Sampled(times, gains, horizon)),)

    return ProfitCurve(make=parts)


def fill(personas: dict[str, Metrics], chains: dict[str, Chain], which: list[tuple[int, str]],
         books: Books, record: Record = Record.ALL) -> None:
    """Each persona's money by place, by entry and profit curve, pooled over
    its draws (pairs `which[j] = (draw, persona)`): the families `record`
    recorded (the others left as they are: no money columns, no entries,
    no curve)."""
    for p, m in personas.items():
        chain = chains[p]
        pairs = np.array([j for j, (_, q) in enumerate(which) if q == p])
        entry = books.entry[pairs].sum(axis=(0, 2))  # [entry, column]
        count = float(entry[:, 0].sum())
        horizon = chain.horizon_days is not None
        if record.curve:
            m.curve = _curve(books, pairs, None, count, horizon)
        if not record.place:
            if record.by_entry:
                _fill_entries(m, chain, books, pairs, entry, horizon)
            continue
        money = _money(books.place[pairs].sum(axis=(0, 1)) / max(count, 1.0))
        for s, (rev, cost, prof) in zip(chain.steps, money.tolist()):
            m.steps[s].update(revenue=rev, cost=cost, profit=prof)
        names, number = stage_index(chain)
        for k, name in enumerate(names):
            rev, cost, prof = money[number == k].sum(axis=0).tolist()
            m.stages[name].update(revenue=rev, cost=cost, profit=prof)
        m.channels = channel_money(chain, money)
        if record.by_entry:
            _fill_entries(m, chain, books, pairs, entry, horizon)


def _fill_entries(m: Metrics, chain: Chain, books: Books, pairs: np.ndarray,
                  entry: np.ndarray, horizon: bool) -> None:
    """The persona's prospects by entry step (`entry`: [entry, column] sums)."""
    rates = chain.entry / chain.entry.sum()
    m.by_entry = {}
    for k, step in enumerate(books.entries):
        c = float(entry[k, 0])
        if rates[step] > 0 and c > 0:
            values = dict(zip(_EXPECT, (entry[k, 1:] / c).tolist()))
            m.by_entry[chain.steps[step]] = Entry(
                values, _curve(books, pairs, k, c, horizon), float(rates[step]))


# ------------------------------------------------------------------ standard errors

def _numbers(place, entry, persona_of: np.ndarray, mix: dict[str, float],
             rates: dict[str, np.ndarray], stage_number, channel_number) -> np.ndarray:
    """Every blended number that gets a standard error, as one row per
    replicate: money per step, stage and channel (revenue, cost, profit),
    then the by-entry metrics (BY_ENTRY order but payback); NaN where
    undefined. `place` [replicate, pair, step, 3] and `entry` [replicate,
    pair, entry, column] are sums (all the jackknife's replicates at once:
    a loop over them in Python cost more than the rest of the run's money)."""
    G, E = entry.shape[0], entry.shape[2]
    by_entry = np.zeros((G, E, len(_EXPECT)))
    weight = np.zeros((G, E))
    money = np.zeros((G, place.shape[2], 3))
    for p, share in mix.items():
        mine = persona_of == p
        sums = entry[:, mine].sum(axis=1)  # [replicate, entry, column]
        count = np.maximum(sums[:, :, 0].sum(axis=1), 1.0)
        money = money + share * _money(place[:, mine].sum(axis=1) / count[:, None, None])
        w = share * rates[p]
        some = (w > 0) & (sums[:, :, 0] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            part = w[:, None] * sums[:, :, 1:] / sums[:, :, :1]
        by_entry += np.where(some[:, :, None], part, 0.0)
        weight += np.where(some, w, 0.0)
    out = [x.reshape(G, -1) for x in (money, _group(money, *stage_number),
                                      _group(money, *channel_number))]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = by_entry / weight[:, :, None]
    out.append(_entry_rows(mean).reshape(G, -1))
    return np.concatenate(out, axis=1)


def _money(per: np.ndarray) -> np.ndarray:
    """(revenue, cost, profit) per step from (value, cost, margin x value) means."""
    return np.stack([per[..., 0], per[..., 1], per[..., 2] - per[..., 1]], axis=-1)


def _group(money: np.ndarray, number: np.ndarray, count: int) -> np.ndarray:
    """[replicate, step, 3] summed into [replicate, group, 3] (`number`: each step's group)."""
    G = money.shape[0]
    key = (number[None, :] + count * np.arange(G)[:, None]).reshape(-1)
    return np.stack([np.bincount(key, weights=money[:, :, c].reshape(-1),
                                 minlength=G * count).reshape(G, count)
                     for c in range(3)], axis=-1)


_ROW = tuple(m.name for m in BY_ENTRY if not m.curve)  # by-entry numbers with a stderr


def _entry_rows(values: np.ndarray) -> np.ndarray:
    """The by-entry numbers (`_ROW`) from entries' expectations (`_EXPECT`,
    the last axis), NaN where undefined (all of them when an expectation
    is): `metrics.ratio` on arrays. Each ratio is computed once (ltv_cac
    reuses clv and cac)."""
    known = {name: values[..., i] for i, name in enumerate(_EXPECT)}

    def get(name: str) -> np.ndarray:
        if name not in known:
            metric = METRIC[name]
            assert metric.of is not None  # not an expectation: a ratio
            numerator, denominator = (get(k) for k in metric.of)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                quotient = numerator / denominator
            # (NaN numerators stay NaN; NaN denominators fail the comparison)
            known[name] = np.where((denominator >= SMALLEST) & np.isfinite(quotient),
                                   quotient, np.nan)
        return known[name]

    out = np.stack([get(name) for name in _ROW], axis=-1)
    out[np.isnan(values).any(axis=-1)] = np.nan
    return out


def _jackknife(x: np.ndarray) -> np.ndarray:
    """[replicate, number] -> each number's jackknife variance."""
    g = len(x)
    with np.errstate(invalid="ignore"):
        return (g - 1) / g * ((x - x.mean(axis=0)) ** 2).sum(axis=0)


def stderr(books: Books, chains: dict[str, Chain], which: list[tuple[int, str]],
           mix: dict[str, float], draws: int, record: Record = Record.ALL) -> dict:
    """Standard errors of the blended money by place and by-entry metrics
    (those `record` recorded: the others' tables are empty)."""
    first = next(iter(chains.values()))
    persona_of = np.array([p for _, p in which])
    draw_of = np.array([d for d, _ in which])
    rates = {p: (ch.entry / ch.entry.sum())[books.entries] for p, ch in chains.items()}
    names, stage_number = stage_index(first)
    channel_number = (first.channel_of if first.channel_of is not None
                      else np.zeros(first.n, np.int64))

    def numbers(place, entry):
        return _numbers(place, entry, persona_of, mix, rates, (stage_number, len(names)),
                        (channel_number, len(first.channels)))

    place_all, entry_all = books.place.sum(axis=1), books.entry.sum(axis=2)
    by_batch = numbers(place_all - books.place.transpose(1, 0, 2, 3),
                       entry_all - books.entry.transpose(2, 0, 1, 3))
    var = _jackknife(by_batch)
    if draws > 1:
        keep = (draw_of[None, :] != np.arange(draws)[:, None]).astype(float)  # [draw, pair]
        by_draw = numbers(place_all * keep[:, :, None, None], entry_all * keep[:, :, None, None])
        var = np.fmax(var, _jackknife(by_draw))
    # a number with no spread (time to convert when every path takes 14
    # days) has a jackknife variance of rounding errors: 0
    size = np.abs(by_batch).max(axis=0)
    se = [None if not math.isfinite(v) else 0.0 if math.sqrt(max(v, 0.0)) <= 1e-9 * s
          else math.sqrt(max(v, 0.0)) for v, s in zip(var.tolist(), size.tolist())]
    at = 0

    def take(ids: list[str], keys: tuple[str, ...]) -> dict:
        nonlocal at
        out = {}
        for i in ids:
            out[i] = dict(zip(keys, se[at:at + len(keys)]))
            at += len(keys)
        return out

    money_keys = ("revenue", "cost", "profit")
    result = {"steps": take(list(first.steps), money_keys),
              "stages": take(names, money_keys),
              "channels": take(list(first.channels), money_keys)}
    entry_keys = tuple(m.json for m in BY_ENTRY if not m.curve)
    result["by_entry"] = take([first.steps[s] for s in books.entries], entry_keys)
    if not record.place:
        result.update(steps={}, stages={}, channels={})
    if not record.by_entry:
        result["by_entry"] = {}
    return result

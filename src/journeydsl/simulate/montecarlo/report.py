"""The Monte Carlo report: means, their uncertainty, and who brings the money.

A mean alone would hide how much of it is noise and how much is the
uncertain rates: `uncertainty` gives each blended headline metric its
standard error and p05/p50/p95 (across draws, or by the delta method with
one draw), and the converters' discounted value, cost and clv are kept so
that a claim like "8% of customers bring 40% of profit" can be checked.
Payback is read off the simulated profit curve (money.py) and has no
standard error here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ...metrics import EXPECTATIONS, HEADLINE as METRICS_SHOWN, METRIC, undefined, with_ratios
from .. import Report
from .books import dot
from .record import NOT_RECORDED
from .tally import Tally

# Blended headline metrics that get an uncertainty band, by their JSON keys
# (not payback: read off the simulated profit curve, a step function of
# the data with no delta-method gradient; money.py says why).
HEADLINE = tuple(m.json for m in METRICS_SHOWN if not m.curve)

_Z90 = 1.6448536269514722  # standard normal 95th percentile
# Standard errors come from sums of squares: amounts whose squares leave
# double precision (a cost of 1e-320 per visit) have none we could trust.
_TINY, _HUGE = 1e-150, 1e150
NO_STDERR = "the amounts are too small or too large for double precision to give a standard error"
NOT_FINITE = "not a finite number in double precision"


def headline(mean: np.ndarray) -> dict[str, float | None]:
    """Headline metrics (by JSON key) from the means of the expectations."""
    values = with_ratios(dict(zip(EXPECTATIONS, (float(x) for x in mean))))
    return {m.json: values.get(m.name) for m in METRICS_SHOWN}  # (a curve metric: None)


def _parts(name: str) -> tuple[str, str] | None:
    """A ratio as (numerator, denominator) expectations: a ratio of two ratios
    over the same denominator is the ratio of their numerators (LTV:CAC =
    E[value; converted] / E[cost])."""
    of = METRIC[name].of
    if of is None:
        return None
    top, bottom = of
    if METRIC[top].is_ratio and METRIC[bottom].is_ratio:
        top_parts, bottom_parts = _parts(top), _parts(bottom)
        assert top_parts is not None and bottom_parts is not None  # ratios have parts
        (a, den_a), (b, den_b) = top_parts, bottom_parts
        if den_a == den_b:
            return a, b
        raise ValueError(f"no delta-method gradient for {name}")
    return top, bottom


def _gradients(mean: np.ndarray) -> dict[str, np.ndarray | None]:
    """d(headline metric) / d(means of the expectations), for the delta method;
    None where the metric is undefined."""
    k = len(EXPECTATIONS)
    where = {name: i for i, name in enumerate(EXPECTATIONS)}
    point = headline(mean)
    g: dict[str, np.ndarray | None] = {}
    for metric in METRICS_SHOWN:
        if metric.curve:  # not an expectation: no delta method
            g[metric.json] = None
            continue
        parts = _parts(metric.name)
        if parts is None:
            g[metric.json] = np.eye(k)[where[metric.name]]
            continue
        if point[metric.json] is None:
            g[metric.json] = None
            continue
        a, b = where[parts[0]], where[parts[1]]
        num, den = float(mean[a]), float(mean[b])
        v = np.zeros(k)
        with np.errstate(over="ignore", divide="ignore"):
            v[a] = 1.0 / den
            v[b] = -(num / den) / den  # (den ** 2 would underflow first)
        g[metric.json] = v
    return g


def blended_linear(tallies: dict[str, Tally], shares: dict[str, float]):
    """Means of LINEAR over the persona mix and their covariance matrix."""
    mean = sum(shares[p] * t.means for p, t in tallies.items())
    cov = sum(shares[p] ** 2 * t.covariance() / max(t.n, 1) for p, t in tallies.items())
    return np.asarray(mean, float), np.asarray(cov, float)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> list[float]:
    """Quantiles of x weighted by w; x ascending."""
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return [float(np.interp(q, cw, x)) for q in qs]


def share_of_top(amount: np.ndarray, weight: np.ndarray, fraction: float,
                 whole: float | None = None) -> float | None:
    """Share of sum(weight * amount) held by the top `fraction` (by weight) of
    the entries ranked by amount. Only the top is sorted: enough entries to
    hold `fraction` of the weight, picked by a partition (weights > 0).
    `whole`: the weight the fraction is of (default the entries' total;
    more when entries of amount 0 are left out)."""
    return share_and_cut(amount, weight, fraction, whole)[0]


def share_and_cut(amount: np.ndarray, weight: np.ndarray, fraction: float,
                  whole: float | None = None) -> tuple[float | None, float | None]:
    """(`share_of_top`, the amount at the cut: of the entry straddling it,
    0 when the entries hold less than `fraction` of `whole`; None when the
    share is not computed from a ranking). top.py's standard error needs
    the cut: found here, it costs no second sort."""
    if not len(amount) or not 0 < fraction <= 1:
        return (None if not len(amount) else 0.0), None
    if not bool((weight > 0).all()):  # entries of weight 0 (a persona of share 0) hold nothing
        live = weight > 0
        amount, weight = amount[live], weight[live]
        if not len(amount):
            return None, None
    total = dot(weight, amount)
    if total == 0:
        return None, None
    whole = float(weight.sum()) if whole is None else whole
    top = min(len(amount), int(fraction * whole / float(weight.min())) + 2)
    order = np.argpartition(-amount, top - 1)[:top] if top < len(amount) else np.arange(top)
    order = order.take(np.argsort(-amount.take(order), kind="stable"))
    a, w = amount.take(order), weight.take(order)
    cw = np.cumsum(w) / whole
    k = min(int(np.searchsorted(cw, fraction, side="left")), len(a) - 1)
    before = float(cw[k - 1]) if k else 0.0
    part = dot(w[:k], a[:k])
    # the customer straddling the cut counts for the part of its weight inside it
    inside = (fraction - before) / (float(cw[k]) - before) if cw[k] > before else 1.0
    part += min(max(inside, 0.0), 1.0) * float(w[k] * a[k])
    return part / total, (float(a[k]) if cw[-1] >= fraction else 0.0)


# ------------------------------------------------------------------ the report

@dataclass
class MonteCarloReport(Report):
    """`simulate.Report` plus the Monte Carlo extras."""

    prospects: int = 0
    draws: int = 1
    seed: int | None = None
    rescaled_draws: int = 0
    rescaled_steps: dict[str, dict[str, int]] = field(default_factory=dict)
    transitions: int = 0
    moves: int = 0
    capped_walks: int = 0  # always 0: a walk is never cut short (WalkTooLong instead)
    cascade_capped: bool = False  # some referred prospects were not walked (CASCADE_FACTOR)
    concentration_fraction: float = 0.08
    # values null in the JSON outside the metrics tables (whose own
    # `undefined` explains their ratios), by key ("uncertainty.cost"): why
    # (read as `undefined`, after the uncertainty has added its own)
    _notes: dict[str, str] = field(default_factory=dict, repr=False)
    # converters of the mix: discounted value, cost, weight and clv (margin x
    # value less the costs from the first goal visit on), for top_share
    _converters: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)), repr=False)
    # False when the run did not record profit (record.py): the converters'
    # clv column is then no number, and what is read off it is None
    _profit: bool = field(default=True, repr=False)
    # The extras below sort the converters or recompute every number per
    # batch of prospects: a fifth of a run on saas_trial, which a caller
    # reading only the means (`expect`, the benchmark) need not pay. Each is
    # computed when first read, by a function set in `_pending` (`later`),
    # and kept in `_known`: the values are the same whenever they are read.
    # The function is given the report (it keeps no reference to it: a
    # report dropped unread is freed at once, not by the cycle collector,
    # with the run's arrays its extras hold)
    _pending: dict[str, Callable[[MonteCarloReport], dict[str, Any]]] = field(
        default_factory=dict, repr=False)
    _known: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.later(("clv_distribution", "revenue_concentration", "profit_concentration"),
                   MonteCarloReport._describe_converters)
        self._known.update(uncertainty={}, place_stderr={}, top_revenue_share=None,
                           top_revenue_stderr=None, persona_uncertainty={})

    def later(self, names: tuple[str, ...],
              compute: Callable[[MonteCarloReport], dict[str, Any]]) -> None:
        """Compute the extras `names` (a dict by name, from the report) when
        one is first read."""
        for name in names:
            self._known.pop(name, None)
            self._pending[name] = compute

    def _extra(self, name: str) -> Any:
        if name not in self._known:
            found = self._pending[name](self)
            for key in found:
                self._pending.pop(key, None)
            self._known.update(found)
        return self._known[name]

    @property
    def uncertainty(self) -> dict[str, dict[str, float | None]]:
        """Standard error and p05/p50/p95 of each blended headline metric
        (`uncertainty` below), by JSON key."""
        return cast("dict[str, dict[str, float | None]]", self._extra("uncertainty"))

    @property
    def persona_uncertainty(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """Each persona's own band, as `uncertainty` gives the blend's (with
        several personas; not in the JSON yet): {persona: {KEY: {...}}}."""
        return cast("dict[str, dict[str, dict[str, float | None]]]",
                    self._extra("persona_uncertainty"))

    @property
    def undefined(self) -> dict[str, str]:
        """Why values outside the metrics tables are null, by key."""
        self._extra("uncertainty")  # (which notes its own)
        return self._notes

    @property
    def clv_distribution(self) -> dict[str, float | None]:
        """p05, p25, p50, p75, p95 and mean of the converters' clv."""
        return cast("dict[str, float | None]", self._extra("clv_distribution"))

    @property
    def revenue_concentration(self) -> float | None:
        """`top_share(concentration_fraction)`: of the customers' revenue."""
        return cast("float | None", self._extra("revenue_concentration"))

    @property
    def profit_concentration(self) -> float | None:
        """`top_share(concentration_fraction, by="profit")`."""
        return cast("float | None", self._extra("profit_concentration"))

    @property
    def place_stderr(self) -> dict:
        """Standard errors of the blended money by place and by-entry metrics
        ({"steps": {S: {revenue, cost, profit}}, "stages", "channels", "by_entry"})."""
        return cast("dict", self._extra("place_stderr"))

    @property
    def top_revenue_share(self) -> float | None:
        """The share of all revenue the top `concentration_fraction` of
        entering prospects earn (top.py)."""
        return cast("float | None", self._extra("top_revenue_share"))

    @property
    def top_revenue_stderr(self) -> float | None:
        """The standard error of `top_revenue_share` (top.py: delta method)."""
        return cast("float | None", self._extra("top_revenue_stderr"))

    def top_share(self, fraction: float, by: str = "revenue") -> float | None:
        """Share of the customers' total revenue (or profit, `by="profit"`: each
        customer's clv, margin x value less the costs from the first goal
        visit on) brought by the top `fraction` of customers ranked by it."""
        if by not in ("revenue", "profit"):
            raise ValueError("by must be 'revenue' or 'profit'")
        value, _, weight, clv = (np.ascontiguousarray(c) for c in self._converters.T)
        return share_of_top(value if by == "revenue" else clv, weight, fraction)

    def _describe_converters(self) -> dict[str, Any]:
        """The clv distribution among converters and the concentration shares."""
        keys = ("p05", "p25", "p50", "p75", "p95")
        clv: dict[str, float | None]
        if not self._profit:
            self._notes.update(dict.fromkeys(("clv_distribution", "profit_concentration"),
                                              NOT_RECORDED))
            return {"clv_distribution": {k: None for k in keys + ("mean",)},
                    "revenue_concentration": self.top_share(self.concentration_fraction),
                    "profit_concentration": None}
        if len(self._converters):
            weight, value = (np.ascontiguousarray(c) for c in self._converters.T[2:])
            order = np.argsort(value, kind="stable")
            qs = weighted_quantiles(value.take(order), weight.take(order),
                                    (0.05, 0.25, 0.5, 0.75, 0.95))
            clv = dict(zip(keys, qs))
            clv["mean"] = dot(value, weight) / float(weight.sum())
        else:
            clv = {k: None for k in keys + ("mean",)}
        return {"clv_distribution": clv,
                "revenue_concentration": self.top_share(self.concentration_fraction),
                "profit_concentration": self.top_share(self.concentration_fraction,
                                                       by="profit")}

    def as_dict(self) -> dict:
        out = super().as_dict()
        out.update({
            "prospects": self.prospects,
            "draws": self.draws,
            "seed": self.seed,
            "uncertainty": self.uncertainty,
            "clv_distribution": self.clv_distribution,
            "revenue_concentration": self.revenue_concentration,
            "profit_concentration": self.profit_concentration,
            "concentration_fraction": self.concentration_fraction,
            "rescaled_draws": self.rescaled_draws,
            "rescaled_steps": self.rescaled_steps,
            "transitions": self.transitions,
            "capped_walks": self.capped_walks,
            "cascade_capped": self.cascade_capped,
            "stderr": self.place_stderr,
            "top": {"fraction": self.concentration_fraction,
                    "revenue_share": self.top_revenue_share,
                    "stderr": self.top_revenue_stderr},
        })
        notes = dict(self.undefined)
        out = _finite(out, "", notes)
        out["undefined"] = notes
        return out



def uncertainty(pooled: dict[str, Tally], mix: dict[str, float],
                per_draw: list[tuple[np.ndarray, np.ndarray]],
                notes: dict[str, str] | None = None) -> dict:
    """Standard error and p05/p50/p95 of each blended headline metric.

    `per_draw`: each draw's blended means of the expectations and their
    covariance (of the mean). The reported mean pools the k draws; its
    variance is (sigma_b^2 + v) / k, with sigma_b^2 the variance that the
    uncertain rates give a draw's true mean and v a draw's sampling
    variance. The spread s^2 of the draws' means estimates sigma_b^2 + v
    with only k - 1 degrees of freedom, skewed when a few customers bring
    most of the revenue (then the standard error is smallest when the mean
    is furthest off, and with 20 draws runs landed 3 to 4 standard errors
    off the exact value), while v comes from every prospect: the variance
    is max(s^2, v) / k, the random-effects (DerSimonian-Laird) estimate
    with sigma_b^2 = max(0, s^2 - v). Ratios go through the delta method
    at the pooled means. With one draw it is v alone. A standard error that
    double precision cannot give is None, its reason in `notes` (by key)."""
    mean, cov = blended_linear(pooled, mix)
    point = headline(mean)
    # an undefined metric has no uncertainty either, for the metric's reason
    why = undefined(with_ratios(dict(zip(EXPECTATIONS, (float(x) for x in mean)))))
    grads = _gradients(mean)
    k = len(per_draw)
    within = cov
    between = None
    if k > 1:
        within = sum(c for _, c in per_draw) / k / k  # v / k
        between = np.cov(np.array([m for m, _ in per_draw]), rowvar=False, ddof=1) / k
    per_draw_points = [headline(m) for m, _ in per_draw] if k > 1 else []
    out: dict[str, dict[str, float | None]] = {}
    for name in HEADLINE:
        g, value = grads[name], point[name]
        if g is None or value is None:
            out[name] = {"stderr": None, "p05": None, "p50": None, "p95": None}
            metric = next(m for m in METRICS_SHOWN if m.json == name)
            if notes is not None and metric.name in why:
                notes[f"uncertainty.{name}"] = why[metric.name]
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            var = float(g @ within @ g)
            if between is not None:
                var = max(var, float(g @ between @ g))
        used = np.abs(mean[g != 0])
        if not (math.isfinite(var) and np.isfinite(g).all()) or (
                (used > 0) & (used < _TINY)).any() or (used > _HUGE).any():
            out[name] = {"stderr": None, "p05": None, "p50": value, "p95": None}
            if notes is not None:
                notes[f"uncertainty.{name}"] = NO_STDERR
            continue
        se = math.sqrt(var) if var > 0 else 0.0
        if k == 1:
            out[name] = {"stderr": se, "p05": value - _Z90 * se, "p50": value,
                         "p95": value + _Z90 * se}
            continue
        vals = np.array([h[name] for h in per_draw_points if h[name] is not None], float)
        p05, p50, p95 = np.percentile(vals, [5, 50, 95]) if len(vals) >= 2 else (None,) * 3
        out[name] = {"stderr": se, "p05": _float(p05), "p50": _float(p50), "p95": _float(p95)}
    return out


def _float(x) -> float | None:
    return None if x is None else float(x)


def _finite(value, key: str, notes: dict[str, str]):
    """`value` with every float that is not finite made None (JSON has no
    inf or NaN), its key noted."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        notes.setdefault(key, NOT_FINITE)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{key}.{k}" if key else str(k), notes) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v, f"{key}[{i}]", notes) for i, v in enumerate(value)]
    return value

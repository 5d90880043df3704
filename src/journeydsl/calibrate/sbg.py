"""Renewals of customers who differ: the shifted-beta-geometric model
(Fader & Hardie 2007, "How to project customer retention").

Each customer keeps their own renewal rate p ~ Beta(a, b) (our `beta(a, b)
per customer`; Fader and Hardie put the beta on churning, so their (alpha,
beta) is our (b, a)). A run of n visits at the loop step that ended (the
customer did not renew after the nth) has probability E[p^(n-1) (1 - p)] =
B(a + n - 1, b + 1) / B(a, b); a run whose last visit is censored (the log
ended before the window) E[p^(n-1)] = B(a + n - 1, b) / B(a, b). (a, b) is
the maximum of the summed log-likelihood (Newton's method over log a, log b);
the constant rate p = renewals / (renewals + ends) is the model's limit
a + b -> infinity, and the likelihood-ratio test (chi-square, 1 degree of
freedom, 5%) says whether customers differ enough to prefer the beta.

>>> regular = survivors_to_runs([1000, 631, 468, 382, 326, 289, 262, 241])
>>> fit = fit_renewals(regular)
>>> round(fit.b, 3), round(fit.a, 3)  # Fader & Hardie's alpha, beta
(0.704, 1.182)
>>> fit.per_customer
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: chi-square(1) at 95%: the likelihood-ratio test's threshold.
CHI2_95 = 3.841458820694124
#: chi-square(2) at 95%: a declared beta(a, b) (both fixed) against the fit.
CHI2_2_95 = 5.991464547107979
#: Runs this long or longer are needed (at least three periods of data).
MIN_PERIODS = 3
#: Bounds of a and b in the fit.
MIN_PRECISION = 1e-4
MAX_PRECISION = 1e7
#: Newton steps at most (it takes about ten).
MAX_STEPS = 500

Runs = list[tuple[int, bool, int]]  # (visits in the run, last visit censored, how many runs)


@dataclass(frozen=True)
class RenewalFit:
    a: float  # renewal rate p ~ Beta(a, b) per customer
    b: float
    log_likelihood: float
    constant: float  # the constant renewal rate's estimate
    constant_log_likelihood: float
    renewals: int
    ends: int
    censored: int  # runs whose last visit was censored

    @property
    def statistic(self) -> float:
        """The likelihood-ratio statistic 2 (log L_sBG - log L_constant)."""
        return max(0.0, 2.0 * (self.log_likelihood - self.constant_log_likelihood))

    @property
    def per_customer(self) -> bool:
        """The beta beats the constant rate at 5%."""
        return self.statistic > CHI2_95

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def survivors(self, start: float, periods: int) -> list[float]:
        """Expected customers still renewing after each of 0..periods
        renewals, of `start` who began: start B(a + t, b) / B(a, b)."""
        from scipy.special import betaln

        return [start * math.exp(betaln(self.a + t, self.b) - betaln(self.a, self.b))
                for t in range(periods + 1)]


def beta_text(fit: RenewalFit) -> str:
    """`beta(a, b) per customer` with a and b to three significant digits.

    >>> beta_text(RenewalFit(1.1823, 0.70412, 0.0, 0.5, 0.0, 1, 1, 0))
    'beta(1.18, 0.704) per customer'
    """
    return f"beta({_significant(fit.a)}, {_significant(fit.b)}) per customer"


def _significant(x: float, digits: int = 3) -> str:
    places = max(0, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0
    text = f"{x:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def survivors_to_runs(survivors: list[int]) -> Runs:
    """Runs from a cohort's survivor counts (customers active at periods
    0, 1, ..., T): those lost between t - 1 and t made t visits and did not
    renew; those still active at T made T + 1 visits, the last censored.

    >>> survivors_to_runs([10, 6, 5])
    [(1, False, 4), (2, False, 1), (3, True, 5)]
    """
    runs: Runs = [(t, False, survivors[t - 1] - survivors[t]) for t in range(1, len(survivors))]
    runs.append((len(survivors), True, survivors[-1]))
    return [r for r in runs if r[2] > 0]


def _summary(runs: Runs) -> tuple[int, int, int]:
    renewals = sum((n - 1) * k for n, _, k in runs)
    ends = sum(k for _, censored, k in runs if not censored)
    censored = sum(k for _, c, k in runs if c)
    return renewals, ends, censored


def fit_renewals(runs: Runs) -> RenewalFit | None:
    """The sBG fit of a loop step's runs; None without enough data (no run
    of MIN_PERIODS visits, no renewal or no end)."""
    import numpy as np
    from scipy.special import betaln

    renewals, ends, censored = _summary(runs)
    if not runs or max(n for n, _, _ in runs) < MIN_PERIODS or renewals == 0 or ends == 0:
        return None
    m = np.array([r[0] - 1 for r in runs], float)  # renewals in the run
    e = np.array([0.0 if r[1] else 1.0 for r in runs])  # the run ended
    count = np.array([r[2] for r in runs], float)

    def log_likelihood(x: np.ndarray) -> float:
        a, b = np.exp(x)
        return float(np.sum(count * (betaln(a + m, b + e) - betaln(a, b))))

    p = renewals / (renewals + ends)
    constant_ll = renewals * math.log(p) + ends * math.log1p(-p)
    best = max((_newton(log_likelihood, count, m, e, p, precision)
                for precision in (1.0, 10.0, 1000.0)),  # customers differ a lot .. hardly
               key=lambda found: found[1])
    a, b = (float(v) for v in np.exp(best[0]))
    return RenewalFit(a, b, best[1], p, constant_ll, renewals, ends, censored)


def declared_log_likelihood(runs: Runs, a: float, b: float, low: float = 0.0,
                            high: float = 1.0, uniform: bool = False) -> float:
    """The runs' log-likelihood under a declared draw: Beta(a, b), or (with
    `uniform`) p uniform on [low, high], where a run's probability is
    E[p^m (1 - p)^e] = (I_high - I_low)(m + 1, e + 1) B(m + 1, e + 1) / (high
    - low), I the regularized incomplete beta.

    >>> runs = survivors_to_runs([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> fit = fit_renewals(runs)
    >>> abs(declared_log_likelihood(runs, fit.a, fit.b) - fit.log_likelihood) < 1e-9
    True
    """
    import numpy as np
    from scipy.special import betainc, betaln

    m = np.array([r[0] - 1 for r in runs], float)
    e = np.array([0.0 if r[1] else 1.0 for r in runs])
    count = np.array([r[2] for r in runs], float)
    if not uniform:
        return float(np.sum(count * (betaln(a + m, b + e) - betaln(a, b))))
    mass = betainc(m + 1, e + 1, high) - betainc(m + 1, e + 1, low)
    with np.errstate(divide="ignore"):
        logs = np.log(mass) + betaln(m + 1, e + 1) - math.log(high - low)
    return float(np.sum(count * logs))


def _newton(log_likelihood: Callable[[Any], float], count: Any, m: Any, e: Any, p: float,
            precision: float) -> tuple[Any, float]:
    """The maximum of the log-likelihood over x = (log a, log b) from a
    start with mean p, by Newton's method with the exact gradient and
    Hessian (digamma, trigamma), halving steps that do not climb; a and b
    kept within [MIN_PRECISION, MAX_PRECISION] (past it the beta is a
    constant rate for any data, and betaln's differences lose their
    digits). Plain numpy on two numbers: no optimizer's BLAS threads,
    which a busy machine makes slow."""
    import numpy as np
    from scipy.special import digamma, polygamma

    low, high = math.log(MIN_PRECISION), math.log(MAX_PRECISION)
    x = np.clip(np.log([p * precision, (1 - p) * precision]), low, high)
    value = log_likelihood(x)
    for _ in range(MAX_STEPS):
        a, b = np.exp(x)
        s, whole = a + b, a + b + m + e
        fa = np.sum(count * (digamma(a + m) - digamma(whole) - digamma(a) + digamma(s)))
        fb = np.sum(count * (digamma(b + e) - digamma(whole) - digamma(b) + digamma(s)))
        t_whole, t_s = polygamma(1, whole), polygamma(1, s)
        faa = np.sum(count * (polygamma(1, a + m) - t_whole - polygamma(1, a) + t_s))
        fbb = np.sum(count * (polygamma(1, b + e) - t_whole - polygamma(1, b) + t_s))
        fab = np.sum(count * (t_s - t_whole))
        ga, gb = a * fa, b * fb
        haa, hab, hbb = a * a * faa + a * fa, a * b * fab, b * b * fbb + b * fb
        # Newton's step where the surface is concave; elsewhere the Hessian
        # shifted below zero (Levenberg), which still climbs. 2 x 2 by hand.
        top = (haa + hbb) / 2 + math.hypot((haa - hbb) / 2, hab)  # larger eigenvalue
        if top >= 0:
            shift = top + 1e-6 * (1 + abs(haa) + abs(hbb))
            haa, hbb = haa - shift, hbb - shift
        det = haa * hbb - hab * hab
        step = -np.array([hbb * ga - hab * gb, haa * gb - hab * ga]) / det
        scale = 1.0
        while scale > 1e-12:
            trial = np.clip(x + scale * step, low, high)
            found = log_likelihood(trial)
            if found >= value:
                break
            scale /= 2
        else:
            break
        moved = float(np.max(np.abs(trial - x)))
        gained = found - value
        x, value = trial, found
        if moved < 1e-12 or gained <= 1e-13 * max(1.0, abs(value)):
            break
    return x, value

"""Renewals of customers who differ: the shifted-beta-geometric model
(Fader & Hardie 2007, "How to project customer retention").

Each customer keeps their own renewal rate p ~ Beta(a, b) (our `beta(a, b)
per customer`; Fader and Hardie put the beta on churning, so their (alpha,
beta) is our (b, a)). A run of n visits at the loop step that ended (the
customer did not renew after the nth) has probability E[p^(n-1) (1 - p)] =
B(a + n - 1, b + 1) / B(a, b); a run whose last visit is censored (the log
ended before the window) E[p^(n-1)] = B(a + n - 1, b) / B(a, b). (a, b) is
the maximum of the summed log-likelihood (scipy.optimize over log a, log b);
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
from dataclasses import dataclass

#: chi-square(1) at 95%: the likelihood-ratio test's threshold.
CHI2_95 = 3.841458820694124
#: Runs this long or longer are needed (at least three periods of data).
MIN_PERIODS = 3
#: Bounds of a + b in the fit.
MIN_PRECISION = 1e-3
MAX_PRECISION = 1e7

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
    from scipy.optimize import minimize
    from scipy.special import betaln

    renewals, ends, censored = _summary(runs)
    if not runs or max(n for n, _, _ in runs) < MIN_PERIODS or renewals == 0 or ends == 0:
        return None
    n = np.array([r[0] for r in runs], float)
    ended = np.array([0.0 if r[1] else 1.0 for r in runs])
    count = np.array([r[2] for r in runs], float)

    def minus_log_likelihood(x: np.ndarray) -> float:
        mean = 1 / (1 + math.exp(-x[0]))
        a, b = mean * math.exp(x[1]), (1 - mean) * math.exp(x[1])
        terms = betaln(a + n - 1, b + ended) - betaln(a, b)
        return -float(np.dot(count, terms))

    p = renewals / (renewals + ends)
    constant_ll = renewals * math.log(p) + ends * math.log1p(-p)
    # Over the mean a / (a + b) and the precision a + b (bounded: past
    # MAX_PRECISION the beta is a constant rate for any data, and betaln's
    # differences lose their digits).
    bounds = [(-30.0, 30.0), (math.log(MIN_PRECISION), math.log(MAX_PRECISION))]
    best = None
    for precision in (1.0, 10.0, 1000.0):  # customers differ a lot .. hardly
        start = np.array([math.log(p / (1 - p)), math.log(precision)])
        found = minimize(minus_log_likelihood, start, method="Nelder-Mead", bounds=bounds,
                         options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
        if best is None or found.fun < best.fun:
            best = found
    assert best is not None
    mean = 1 / (1 + math.exp(-float(best.x[0])))
    a, b = mean * math.exp(float(best.x[1])), (1 - mean) * math.exp(float(best.x[1]))
    return RenewalFit(a, b, -float(best.fun), p, constant_ll, renewals, ends, censored)

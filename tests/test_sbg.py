"""The shifted-beta-geometric renewal fit against Fader & Hardie (2007),
"How to project customer retention" (Journal of Interactive Marketing 21:
76-90): survivors of a cohort of 1,000 customers over 12 years, for the
"regular" and "high end" segments. Fitted to the first 7 years, the paper
gives alpha = 0.704, beta = 1.182 (regular) and alpha = 0.668, beta = 3.806
(high end) on the churn probability; our beta(a, b) is on renewing, so
(a, b) = (beta, alpha)."""

from __future__ import annotations

import math

import pytest
from scipy.special import betaln

from journeydsl.calibrate.sbg import CHI2_95, fit_renewals, survivors_to_runs

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


@pytest.mark.parametrize("survivors, alpha, beta", [
    (REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_published_estimates_from_seven_years(survivors, alpha, beta) -> None:
    fit = fit_renewals(survivors_to_runs(survivors[:8]))
    assert fit is not None
    assert (round(fit.b, 3), round(fit.a, 3)) == (alpha, beta)
    assert fit.per_customer and fit.statistic > CHI2_95


@pytest.mark.parametrize("survivors, alpha, beta", [
    (REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_projected_survivors(survivors, alpha, beta) -> None:
    """Years 8 to 12 projected from the first 7: the closed form at the
    published estimates (S(t) = B(alpha, beta + t) / B(alpha, beta)), and
    within 5% of what the customers did."""
    fit = fit_renewals(survivors_to_runs(survivors[:8]))
    projected = fit.survivors(1000, 12)
    for t in range(8, 13):
        published = 1000 * math.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
        assert projected[t] == pytest.approx(published, abs=0.5)
        assert projected[t] == pytest.approx(survivors[t], rel=0.05)


def test_the_likelihood_is_the_papers() -> None:
    """log L = sum over years of churners x log P(T = t) + survivors x log S(7)."""
    runs = survivors_to_runs(REGULAR[:8])
    fit = fit_renewals(runs)
    a, b = 0.704, 1.182  # the paper's (alpha, beta) on churning
    p = [math.exp(betaln(a + 1, b + t - 1) - betaln(a, b)) for t in range(1, 8)]
    survive = math.exp(betaln(a, b + 7) - betaln(a, b))
    lost = [REGULAR[t - 1] - REGULAR[t] for t in range(1, 8)]
    paper = sum(n * math.log(q) for n, q in zip(lost, p)) + REGULAR[7] * math.log(survive)
    assert fit.log_likelihood == pytest.approx(paper, abs=0.05)  # at 3 decimals of (a, b)
    assert fit.log_likelihood >= paper - 1e-9  # the maximum


def test_customers_alike_keep_the_constant_rate() -> None:
    """A cohort that loses the same share each year is geometric: the beta
    does not beat the constant rate."""
    survivors = [round(1000 * 0.8 ** t) for t in range(8)]
    fit = fit_renewals(survivors_to_runs(survivors))
    assert fit is not None and not fit.per_customer
    assert fit.constant == pytest.approx(0.8, abs=0.005)


def test_too_little_data() -> None:
    assert fit_renewals([(1, False, 10), (2, True, 5)]) is None  # under 3 periods
    assert fit_renewals([(3, True, 10)]) is None  # nobody ended

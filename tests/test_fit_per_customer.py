"""`journey fit` on a renewal loop: `beta(a, b) per customer` written when
the shifted-beta-geometric fit beats one rate (likelihood-ratio test, 5%),
the constant rate otherwise. The logs are made by calibrate/synthetic.py
from journeys whose truth is known: customers with Beta-distributed
renewal rates (drawn once per customer and kept), and customers who all
renew at one rate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.calibrate import LogSpec, fit
from journeydsl.calibrate.sbg import RenewalFit, beta_text
from journeydsl.calibrate.synthetic import event_rows, write_csv
from journeydsl.cli import app

runner = CliRunner()

JOURNEY = '''# Monthly plan; the renewal rate is a guess.
journey "Subscription" {
  stage visit { touchpoint landing { event "landing_view" } }
  stage paying {
    touchpoint paid    { event "payment"; value 49 }
    touchpoint winback { event "winback_mail" }
  }
  entry landing
  landing -> paid 40%%
  paid    -> paid %s after 1mo, winback 5%%  # renewals
  goal paid
}
'''


def log_of(folder: Path, rate: str, seed: int) -> tuple[Path, Path]:
    """The journey with this renewal rate, its log, and a copy of the file
    with the renewal rate a guess (70%) for the fit to correct."""
    truth = journeydsl.loads(JOURNEY % rate)
    assert truth.ok, truth.diagnostics
    log = folder / "log.csv"
    write_csv(event_rows(truth.journey, prospects=12_000, seed=seed, arrivals_days=360,
                         end_days=1800), str(log))
    path = folder / "sub.journey"
    path.write_text(JOURNEY % "70%", encoding="utf-8")
    return path, log


@pytest.fixture(scope="module")
def differ(tmp_path_factory) -> tuple[Path, Path]:
    return log_of(tmp_path_factory.mktemp("differ"), "beta(6, 2) per customer", seed=3)


@pytest.fixture(scope="module")
def alike(tmp_path_factory) -> tuple[Path, Path]:
    return log_of(tmp_path_factory.mktemp("alike"), "75%", seed=4)


def renewal_of(path: Path, log: Path):
    found = fit(journeydsl.load(path).journey, LogSpec.of([str(log)]))
    (group,) = found.groups
    return next(r for r in group.renewals if r.step == "paid")


def test_customers_who_differ_are_found(differ) -> None:
    renewal = renewal_of(*differ)
    assert renewal.fit.per_customer and renewal.fit.statistic > 20
    # the truth is beta(6, 2): mean 75%; a and b themselves are less sharp
    assert renewal.fit.mean == pytest.approx(0.75, abs=0.02)
    assert renewal.fit.a == pytest.approx(6.0, rel=0.35)
    assert renewal.fit.b == pytest.approx(2.0, rel=0.35)


def test_customers_alike_keep_one_rate(alike) -> None:
    renewal = renewal_of(*alike)
    assert not renewal.fit.per_customer
    assert renewal.fit.constant == pytest.approx(0.75, abs=0.01)


def test_write_puts_the_beta_on_the_loop(tmp_path: Path, differ) -> None:
    path = tmp_path / "sub.journey"
    path.write_text(differ[0].read_text(encoding="utf-8"), encoding="utf-8")
    done = runner.invoke(app, ["fit", str(path), "--events", str(differ[1]), "--write"])
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert "# renewals" in text and "# Monthly plan" in text
    written = journeydsl.load(path)
    assert written.ok, written.diagnostics
    loop = written.journey.edges[("paid", "paid")].rate.base
    assert loop.per_customer and loop.kind == "beta"
    assert loop.alpha / (loop.alpha + loop.beta) == pytest.approx(0.75, abs=0.02)
    assert f"paid    -> paid {beta_text(renewal_of(*differ).fit)} after 1mo" in text
    # winback: 5% x (1 - p) / 25% of each customer's month, written as the
    # share of the leavers who took it times what the fitted mean leaves
    winback = written.journey.edges[("paid", "winback")].rate.base.mean
    assert winback == pytest.approx(0.05, abs=0.006)
    # and the engine reads it back: a subscriber stays E[1 / (1 - p)] months
    m = written.simulate().blended
    a, b = loop.alpha, loop.beta
    assert m.steps["paid"]["visits"] / m.conversion == pytest.approx((a + b - 1) / (b - 1),
                                                                    rel=1e-9)


def test_write_keeps_one_rate_for_customers_alike(tmp_path: Path, alike) -> None:
    path = tmp_path / "sub.journey"
    path.write_text(alike[0].read_text(encoding="utf-8"), encoding="utf-8")
    done = runner.invoke(app, ["fit", str(path), "--events", str(alike[1]), "--write"])
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert "per customer" not in text
    loop = journeydsl.load(path).journey.edges[("paid", "paid")].rate.base
    assert loop.kind == "fixed" and loop.mean == pytest.approx(0.75, abs=0.01)


def test_scenario_and_json(tmp_path: Path, differ) -> None:
    path = tmp_path / "sub.journey"
    path.write_text(differ[0].read_text(encoding="utf-8"), encoding="utf-8")
    done = runner.invoke(app, ["fit", str(path), "--events", str(differ[1]),
                               "--scenario", "observed", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    (renewal,) = data["groups"][0]["renewals"]
    assert renewal["per_customer"] is True
    assert renewal["fitted"] == beta_text(renewal_of(*differ).fit)
    written = journeydsl.load(path)
    assert written.ok, written.diagnostics
    observed = written.variant("observed").edges[("paid", "paid")].rate.base
    assert observed.per_customer
    assert not written.journey.edges[("paid", "paid")].rate.base.per_customer  # 70% kept
    compare = runner.invoke(app, ["simulate", str(path), "--compare"])
    assert compare.exit_code == 0, compare.output
    table = runner.invoke(app, ["fit", str(path), "--events", str(differ[1])])
    assert f"customers differ: {renewal['fitted']}" in " ".join(table.stdout.split())


def test_the_text_of_a_beta() -> None:
    for a, b, text in ((12345.6, 4321.01, "beta(12346, 4321) per customer"),
                       (0.0123456, 0.00456789, "beta(0.0123, 0.00457) per customer")):
        fitted = RenewalFit(a, b, 0.0, 0.5, 0.0, 1, 1, 0)
        assert beta_text(fitted) == text
        assert journeydsl.loads(JOURNEY % text).ok


def check_events(path: Path, log: Path) -> list[str]:
    done = runner.invoke(app, ["check", str(path), "--events", str(log), "--format", "json"])
    return [d["message"] for d in json.loads(done.stdout) if d["code"] == "JD601"]


def test_drift_of_a_rate_per_customer(tmp_path: Path, differ) -> None:
    # the observed rate of the loop is weighted by the loyal customers' many
    # visits (84% here, for a mean of 75%): a `per customer` rate is tested
    # against the renewal runs instead, and the moves beside it as shares of
    # the customers leaving the loop
    path = tmp_path / "sub.journey"
    path.write_text(differ[0].read_text(encoding="utf-8"), encoding="utf-8")
    assert any(m.startswith("`paid -> paid` declares 70%") for m in check_events(path, differ[1]))
    assert runner.invoke(app, ["fit", str(path), "--events", str(differ[1]), "--write"]
                         ).exit_code == 0
    assert check_events(path, differ[1]) == []  # what fit wrote holds
    truth = path.read_text(encoding="utf-8")
    loop = journeydsl.load(path).journey.edges[("paid", "paid")].rate.base
    path.write_text(truth.replace(beta_text(renewal_of(*differ).fit), "beta(3, 1) per customer"),
                    encoding="utf-8")
    (found,) = check_events(path, differ[1])  # the same mean, customers who differ more
    assert found.startswith("`paid -> paid` declares a rate per customer with mean 75%, "
                            "rejected by the log, customers' own rates: likelihood ratio")
    assert abs(loop.mean - 0.75) < 0.02
    path.write_text(re.sub(r"winback [0-9.]+%", "winback 12%", truth), encoding="utf-8")
    (found,) = check_events(path, differ[1])
    assert found.startswith("`paid -> winback` declares 12%, rejected by the log, as a share "
                            "of the customers leaving the loop")


def test_events_out_walks_each_customer_with_its_own_rate(tmp_path: Path) -> None:
    """`journey simulate --events-out` draws a `per customer` rate once per
    prospect: its visits to the loop are the exact engine's (integrated
    over the draw, not at the mean rate), and `journey fit` reads the log
    back as customers who differ."""
    import duckdb

    from journeydsl.simulate import simulate
    from journeydsl.simulate.eventlog import write_event_log

    text = JOURNEY.replace("journey \"Subscription\" {", "journey \"Subscription\" {\n  horizon 5y") \
        % "beta(6, 2) per customer"
    path = tmp_path / "sub.journey"
    path.write_text(text, encoding="utf-8")
    journey = journeydsl.load(path).journey
    n = 20_000
    log = tmp_path / "log.csv"
    write_event_log(journey, log, n, seed=5, arrivals=0)
    counts = duckdb.connect().execute(
        f"SELECT c FROM (SELECT user, COUNT(*) AS c FROM read_csv('{log}') "
        "WHERE event = 'payment' GROUP BY user)").fetchall()
    per_user = np.zeros(n)
    per_user[:len(counts)] = [c for (c,) in counts]
    mean, se = per_user.mean(), per_user.std() / np.sqrt(n)
    exact = simulate(journey).blended.steps["paid"]["visits"]
    assert abs(mean - exact) < 5 * se, (mean, exact, se)
    at_mean = 0.4 * (1 - 0.75 ** 60) / 0.25  # everyone at 75%: far fewer renewals
    assert abs(mean - at_mean) > 20 * se
    renewal = renewal_of(path, log)
    assert renewal.fit.per_customer
    assert renewal.fit.mean == pytest.approx(0.75, abs=0.02)

"""`Record`: a Monte Carlo run records only the unit economics asked for.

What is recorded must be the default run's numbers exactly (same seed,
same walks), what is not must be absent (never a zero that reads as a
number), and the callers that ask for less must print what they printed
with everything recorded.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.render.report.sections import Report
from journeydsl.render.report.uncertainty import monte_carlo_section
from journeydsl.simulate.montecarlo import Record, monte_carlo
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.montecarlo.bins import Pair
from journeydsl.simulate.montecarlo.books import Books
from journeydsl.simulate.montecarlo.record import NOT_RECORDED
from journeydsl.simulate.montecarlo.run import run_pairs

REPO = Path(__file__).resolve().parents[1]
SAAS = REPO / "examples" / "saas_trial.journey"  # loops, referrals, two personas, ranges
PROFIT = ("profit", "acquisition_cost", "profit_converted")
PARTIAL = (Record.V1, Record.HEADLINE, Record(by_entry=False), Record(place=False),
           Record(curve=False, by_entry=False), Record(profit=False, by_entry=False))


def _flat(value, key: str = "") -> dict:
    if isinstance(value, dict):
        return {k: v for a, b in value.items() for k, v in _flat(b, f"{key}.{a}").items()}
    if isinstance(value, list):
        return {k: v for a, b in enumerate(value) for k, v in _flat(b, f"{key}[{a}]").items()}
    return {key: value}


@pytest.fixture(scope="module")
def saas():
    loaded = journeydsl.load(SAAS)
    loaded.raise_for_errors()
    return loaded.journey


@pytest.fixture(scope="module")
def full(saas):
    return {draws: monte_carlo(saas, prospects=40_000, draws=draws, seed=7)
            for draws in (1, 4)}


def test_a_family_needs_what_it_is_read_from():
    with pytest.raises(ValueError, match="by_entry"):
        Record(curve=False)
    with pytest.raises(ValueError, match="by_entry"):
        Record(profit=False, place=False, curve=True)


@pytest.mark.parametrize("draws", [1, 4])
@pytest.mark.parametrize("record", PARTIAL, ids=str)
def test_recorded_numbers_are_the_default_runs(saas, full, record, draws):
    mine = monte_carlo(saas, prospects=40_000, draws=draws, seed=7, record=record)
    a, b = _flat(full[draws].as_dict()), _flat(mine.as_dict())
    # every number the partial run gives is the full run's, bit for bit
    differ = [k for k, v in b.items() if v is not None and k in a and a[k] != v]
    assert not differ
    assert mine.transitions == full[draws].transitions
    # the headline metrics of version 1 are all there, whatever is left out
    for key in ("conversion", "revenue", "cost", "time_to_convert_days",
                "viral_coefficient", "active_at_horizon"):
        assert b[f".blended.metrics.{key}"] == a[f".blended.metrics.{key}"] is not None
    blended, reference = mine.blended, full[draws].blended
    for name in PROFIT + ("clv", "cac", "ltv_cac"):
        if record.profit:
            assert blended.value(name) == reference.value(name)
        else:
            assert blended.value(name) is None
            if name in PROFIT:
                assert blended.unknown[name] == NOT_RECORDED
            else:  # a ratio of them
                assert name in blended.undefined()
    if record.profit:
        assert mine.clv_distribution == full[draws].clv_distribution
    else:
        assert set(mine.clv_distribution.values()) == {None}
        assert mine.profit_concentration is None
    assert mine.revenue_concentration == full[draws].revenue_concentration
    assert (blended.payback == reference.payback) if record.curve else (
        blended.curve is None and blended.payback is None)
    step = next(iter(blended.steps))
    if record.place:
        assert blended.steps == reference.steps and blended.channels == reference.channels
        assert mine.place_stderr["steps"] == full[draws].place_stderr["steps"]
    else:  # absent, not zero
        assert "revenue" not in blended.steps[step] and not blended.channels
        assert "revenue" not in blended.stages[next(iter(blended.stages))]
    if record.by_entry:
        assert blended.by_entry.keys() == reference.by_entry.keys()
        for k, entry in blended.by_entry.items():
            assert entry.as_dict() == reference.by_entry[k].as_dict()
        assert mine.place_stderr["by_entry"] == full[draws].place_stderr["by_entry"]
    else:
        assert not blended.by_entry
        assert not mine.place_stderr.get("by_entry")


def test_families_not_asked_for_are_not_recorded(saas, monkeypatch):
    # the pool's `margin` field (margin x value) reaches the books as walkers
    # stop: None when profit is not recorded
    margins: list = []
    finish = Books.finish

    def spy(self, kind, sel, w, e, money, margin, cv, seen):
        margins.append(margin)
        return finish(self, kind, sel, w, e, money, margin, cv, seen)

    monkeypatch.setattr(Books, "finish", spy)
    pairs = [Pair(build_chain(saas, p), None, 20_000) for p in saas.persona_ids]

    def ledger_of(record: Record):
        _, stats, _ = run_pairs(pairs, np.random.default_rng(3), max_moves=100_000,
                                keep=False, record=record)
        (_, ledger), = stats.ledgers
        ledger.close()
        return ledger

    for record, margin_kept in ((Record.V1, False), (Record.ALL, True)):
        margins.clear()
        ledger = ledger_of(record)
        assert margins and all((m is not None) == margin_kept for m in margins)
        keys, times, amounts = ledger.events()
        if record is Record.V1:  # nothing summed: no money by place, by entry, no events
            assert not ledger.place.any() and not ledger.by_entry[..., 1:].any()
            assert len(keys) == len(times) == len(amounts) == 0
            # (the prospects' batches are still drawn: the same on every run)
            assert ledger.by_entry[..., 0].sum() == sum(p.prospects for p in pairs)
        else:
            assert ledger.place.any() and ledger.by_entry[..., 1:].any() and len(keys)
    ledger = ledger_of(Record.HEADLINE)
    assert not ledger.place.any() and not ledger.by_entry[..., 1:].any()
    assert len(ledger.events()[0])  # payback's profit events: recorded


def test_profit_not_recorded_has_no_stderr_made_up(saas):
    mine = monte_carlo(saas, prospects=20_000, draws=1, seed=3, record=Record.V1)
    for key in ("profit", "acquisition_cost", "clv", "cac", "ltv_cac"):
        assert mine.uncertainty[key] == {"stderr": None, "p05": None, "p50": None, "p95": None}
    assert mine.uncertainty["conversion"]["stderr"] is not None
    assert math.isfinite(mine.uncertainty["conversion"]["stderr"])
    out = mine.as_dict()
    assert out["undefined"]["clv_distribution"] == NOT_RECORDED
    assert out["blended"]["metrics"]["undefined"]["payback_days"] == NOT_RECORDED


def _everything(monkeypatch) -> None:
    """Make the callers that ask for the headline record everything instead."""
    monkeypatch.setattr(Record, "HEADLINE", Record.ALL)


def test_compare_tables_print_what_everything_recorded_gives(monkeypatch):
    # `journey simulate --compare --method monte-carlo` (text) records the
    # headline only: the tables must not change
    args = ["simulate", str(REPO / "examples" / "b2b_webinar.journey"), "--compare",
            "--method", "monte-carlo", "--prospects", "20000", "--draws", "3"]
    monkeypatch.setenv("COLUMNS", "160")
    headline = CliRunner().invoke(app, args)
    assert headline.exit_code == 0, headline.output
    _everything(monkeypatch)
    everything = CliRunner().invoke(app, args)
    assert everything.exit_code == 0, everything.output
    assert headline.stdout == everything.stdout
    assert "Profit" in headline.stdout and "Payback" in headline.stdout


def test_report_section_shows_what_everything_recorded_gives(saas, monkeypatch):
    report = Report(saas, [], "en")
    headline = monte_carlo_section(report)
    _everything(monkeypatch)
    assert monte_carlo_section(Report(saas, [], "en")) == headline
    assert headline.count("<tr>") > 4

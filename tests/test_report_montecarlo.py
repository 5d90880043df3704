"""The report's Monte Carlo section: simulated headline KPIs with 95%
intervals beside the exact values, for the blend and each persona."""

from __future__ import annotations

import math
import re
from pathlib import Path

import journeydsl
from journeydsl.render.report.sections import Report
from journeydsl.render.report.uncertainty import (PROSPECTS, SEED, Z95, interval,
                                                  monte_carlo_section, run)
from journeydsl.render.text import pct

REPO = Path(__file__).resolve().parents[1]

# Two personas, no money loops: conversion is a Bernoulli trial per
# prospect, so its interval has a closed form (the binomial's).
TWO = """journey "Two coins" {
  currency USD
  persona fast "Fast buyer" { share 50% }
  persona slow "Slow buyer" { share 50% }
  stage s { touchpoint ad { cost 2 } ; touchpoint buy { value 30 } }
  entry ad
  ad -> buy 40% [slow: 10%] after 1d
  goal buy
}
"""


def _report(source: str, tmp_path: Path, lang: str = "en") -> Report:
    path = tmp_path / "j.journey"
    path.write_text(source, encoding="utf-8")
    c = journeydsl.load(path)
    assert c.ok, c.diagnostics
    return Report(c.journey, [], lang)


def _section(source: str, tmp_path: Path, lang: str = "en") -> str:
    return monte_carlo_section(_report(source, tmp_path, lang))


def _rows(part: str) -> dict[tuple[str, str], list[str]]:
    cells = re.findall(r"<tr>((?:<td[^>]*>[^<]*</td>){5})</tr>", part)
    out = {}
    for row in cells:
        values = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        out[(values[0], values[1])] = values[2:]
    return out


def test_conversion_interval_is_the_binomial_one(tmp_path):
    # each persona walks its share of the prospects: its conversion's 95%
    # interval is p ± 1.96 sqrt(p (1 - p) / n) (an independent computation
    # from the simulated share alone), and the exact rate lies inside it
    report = _report(TWO, tmp_path)
    mc = run(report)
    assert not isinstance(mc, str)
    rows = _rows(monte_carlo_section(report))
    bands = [("All personas", mc.blended, mc.uncertainty, 0.25)]
    bands += [(label, mc.personas[p], mc.persona_uncertainty[p], rate)
              for label, p, rate in (("Fast buyer", "fast", 0.4), ("Slow buyer", "slow", 0.1))]
    for label, metrics, band, rate in bands:
        p, low, high = interval(metrics, band, "conversion")
        assert p is not None and low is not None and high is not None
        if label == "All personas":  # each persona a stratum of half the prospects
            var = 0.25 * (0.4 * 0.6 + 0.1 * 0.9) / (PROSPECTS / 2)
            assert abs((high - low) / 2 - Z95 * math.sqrt(var)) < 2e-5
        else:
            # (the sample variance: n - 1 in the denominator)
            half = Z95 * math.sqrt(p * (1 - p) / (PROSPECTS / 2 - 1))
            assert abs(low - (p - half)) < 1e-9 and abs(high - (p + half)) < 1e-9
        assert low < rate < high
        assert rows[(label, "Conversion")] == [pct(rate), pct(p), f"{pct(low)} – {pct(high)}"]
    # payback has no interval
    assert rows[("All personas", "Payback")][2] == "—"


def test_section_words_and_chart(tmp_path):
    part = monte_carlo_section(_report(TWO, tmp_path))
    assert part.count("<svg") == 1 and "Monte Carlo (95% interval)" in part
    assert f"{PROSPECTS:,} simulated prospects (seed {SEED})" in part
    assert "CLV (per customer, USD)" in part  # one pair of parentheses


def test_same_bytes_every_time(tmp_path):
    source = (REPO / "examples" / "value_ladder.journey").read_text(encoding="utf-8")
    first = _section(source, tmp_path)
    assert first == _section(source, tmp_path)
    assert ", 20 draws of the uncertain rates)" in first  # value_ladder has ranges


def test_the_section_says_why_when_monte_carlo_cannot_walk(tmp_path):
    source = (REPO / "tests" / "corpus" / "closed_loop_under_horizon.journey").read_text(
        encoding="utf-8")
    part = _section(source, tmp_path)
    assert "No Monte Carlo run: Monte Carlo cannot finish these walks" in part
    assert "<svg" not in part


def test_vietnamese_words(tmp_path):
    part = _section(TWO, tmp_path, "vi")
    assert "Monte Carlo: mô phỏng, với khoảng tin cậy 95%" in part
    assert "Mọi chân dung" in part and "Khoảng 95%" in part

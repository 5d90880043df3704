"""The metric table (journeydsl/metrics.py) is the one definition of every
metric: the result type, the JSON keys, the text tables, the names `expect`
accepts and the docs' metric lists all follow it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import journeydsl
from journeydsl.cli.tables import HEADLINE as TEXT_ROWS
from journeydsl.language.model import METRICS as EXPECT_METRICS
from journeydsl.metrics import (
    BY_ENTRY,
    CURVES,
    EXPECTABLE,
    EXPECTATIONS,
    HEADLINE,
    METRIC,
    METRICS,
    PLACE_MONEY,
    expect_markdown,
    metrics_markdown,
    with_ratios,
)
from journeydsl.simulate import simulate
from journeydsl.simulate.montecarlo.report import HEADLINE as MONTE_CARLO_KEYS
from journeydsl.simulate.results import Metrics

from goldens import updating

REPO = Path(__file__).resolve().parents[1]


def test_the_result_type_holds_exactly_the_expectations():
    fields = [f.name for f in dataclasses.fields(Metrics)]
    assert fields[:len(EXPECTATIONS)] == list(EXPECTATIONS)
    assert fields[len(EXPECTATIONS):] == ["steps", "stages", "cohort", "channels", "by_entry",
                                          "cohort_visits", "unknown", "curve"]
    assert set(EXPECTATIONS) == {m.name for m in METRICS if m.is_expectation}
    assert CURVES == ("payback",)


def test_ratios_are_of_metrics_defined_before_them():
    seen: set[str] = set()
    for metric in METRICS:
        if metric.of is not None:
            assert set(metric.of) <= seen, metric.name
        seen.add(metric.name)


def test_json_text_and_monte_carlo_follow_the_table():
    report = simulate(journeydsl.load(REPO / "examples" / "saas_trial.journey").journey)
    keys = list(report.blended.as_dict())
    assert keys == [m.json for m in HEADLINE] + ["steps", "stages", "channels"]
    assert [key for key, _, _ in TEXT_ROWS] == [m.json for m in HEADLINE]
    assert [label for _, label, _ in TEXT_ROWS] == [m.label for m in HEADLINE]
    # Monte Carlo: every headline metric but those read off the profit curve
    assert list(MONTE_CARLO_KEYS) == [m.json for m in HEADLINE if not m.curve]
    for entry in report.blended.by_entry.values():
        assert list(entry.as_dict()) == [m.json for m in BY_ENTRY]
    for table in (report.blended.steps, report.blended.stages, report.blended.channels):
        for row in table.values():
            assert set(PLACE_MONEY) <= set(row)
    for metric in HEADLINE:  # each value comes from its table definition
        assert report.blended.as_dict()[metric.json] == report.blended.value(metric.name)


def test_expect_accepts_the_table_and_nothing_else():
    assert set(EXPECT_METRICS) == set(EXPECTABLE)
    for name, (unit, argument) in EXPECT_METRICS.items():
        assert (unit, argument) == (METRIC[name].expect_unit, METRIC[name].argument)
    for name in EXPECTABLE:
        argument = {"persona": "", "place": "(a)", "step": "(a)"}[METRIC[name].argument]
        value = {"rate": "1%", "number": "0", "days": "1d"}[METRIC[name].expect_unit]
        text = (f'journey "x" {{ stage a {{}} ; stage b {{}} ; entry a ; a -> b 50% ; goal b ; '
                f"expect {name}{argument} >= {value} }}")
        codes = [d.code for d in journeydsl.loads(text).diagnostics]
        assert not [c for c in codes if c in ("JD207", "JD307", "JD309")], (name, codes)


def test_ratios_blend_as_ratios_of_expectations():
    values = with_ratios({"conversion": 0.25, "revenue": 0.0, "cost": 9.0, "profit": 3.0,
                          "acquisition_cost": 5.0, "profit_converted": 10.0,
                          "time_converted": 2.0, "viral_coefficient": 0.0,
                          "active_at_horizon": 0.0})
    assert values["clv"] == 40.0 and values["cac"] == 20.0 and values["ltv_cac"] == 2.0
    assert values["time_to_convert"] == 8.0
    nothing = with_ratios({"conversion": 0.0, "revenue": 0.0, "cost": 1.0, "profit": -1.0,
                           "acquisition_cost": 1.0, "profit_converted": 0.0,
                           "time_converted": 0.0, "viral_coefficient": 0.0,
                           "active_at_horizon": 0.0})
    assert nothing["clv"] is nothing["cac"] is nothing["ltv_cac"] is None


def _section(path: Path, name: str, generated: str) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:start[^\n]*-->\n)(.*?)(<!-- {name}:end -->)", re.S)
    found = pattern.search(text)
    assert found, f"{path.name} has no generated `{name}` section"
    if updating():
        path.write_text(pattern.sub(lambda m: m.group(1) + generated + m.group(3), text),
                        encoding="utf-8")
        return
    assert found.group(2) == generated, (
        f"{path.name}'s {name} list is not the metric table's; rewrite it with "
        "JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_metric_table.py")


def test_the_docs_list_the_table():
    _section(REPO / "docs" / "simulation.md", "metrics", metrics_markdown())
    _section(REPO / "docs" / "language.md", "expect", expect_markdown())

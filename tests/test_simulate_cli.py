"""`journey simulate` through typer's CliRunner: shapes, options, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SAAS = ROOT / "examples" / "saas_trial.journey"
runner = CliRunner()

METRIC_KEYS = {"conversion", "revenue", "cost", "clv", "cac", "ltv_cac", "time_to_convert_days",
               "viral_coefficient", "active_at_horizon", "steps", "stages"}


def run(*args: str):
    return runner.invoke(app, ["simulate", *args])


def test_json_has_the_documented_shape_and_the_engine_numbers():
    done = run(str(SAAS), "--format", "json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert set(data) >= {"journey", "scenario", "method", "currency", "personas", "blended",
                         "cohort"}
    assert data["method"] == "exact" and data["scenario"] is None and data["currency"] == "USD"
    assert set(data["personas"]) == {"smb", "ent"}
    assert data["personas"]["smb"]["share"] == pytest.approx(0.7)
    for block in [*data["personas"].values(), data["blended"]]:
        assert set(block["metrics"]) == METRIC_KEYS
        for step in block["metrics"]["steps"].values():
            assert set(step) == {"reach", "visits", "dropoff", "churn"}
        for stage in block["metrics"]["stages"].values():
            assert set(stage) == {"reach", "dropoff", "churn"}
    assert set(data["cohort"]) == {"prospects", "customers", "revenue", "cost"}
    report = simulate(journeydsl.load(SAAS).journey)
    assert data["blended"]["metrics"]["conversion"] == pytest.approx(report.blended.conversion)
    assert data["blended"]["metrics"]["clv"] == pytest.approx(report.blended.clv)


def test_journey_without_personas_reports_one_default_persona(tmp_path):
    path = tmp_path / "f.journey"
    path.write_text('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y }\n'
                    ' entry x ; x -> y 30% ; goal y }', encoding="utf-8")
    data = json.loads(run(str(path), "--format", "json").stdout)
    assert list(data["personas"]) == ["default"]
    assert data["currency"] is None
    metrics = data["blended"]["metrics"]
    assert metrics["conversion"] == pytest.approx(0.3)
    assert metrics["clv"] == 0.0 and metrics["cac"] == 0.0 and metrics["ltv_cac"] is None


def test_undefined_values_are_null(tmp_path):
    path = tmp_path / "never.journey"
    path.write_text('journey "never" { stage a { touchpoint x } ; stage b { touchpoint y }\n'
                    ' entry x ; x -> y 0% ; goal y }', encoding="utf-8")
    done = run(str(path), "--format", "json")
    metrics = json.loads(done.stdout)["blended"]["metrics"]
    assert metrics["conversion"] == 0
    assert metrics["clv"] is None and metrics["time_to_convert_days"] is None


def test_text_tables_show_the_funnel_metrics_and_money_in_the_currency():
    done = run(str(SAAS))
    assert done.exit_code == 0
    out = done.stdout
    for word in ("Funnel by stage", "Conversion", "LTV:CAC", "Time to convert", "USD",
                 "Cohort per entering prospect"):
        assert word in out


def test_vnd_money_has_no_decimals():
    done = run(str(ROOT / "examples" / "vn_label_printer.journey"))
    assert done.exit_code == 0
    assert "VND" in done.stdout
    assert ".00 VND" not in done.stdout


def test_scenario_and_compare():
    result = journeydsl.load(SAAS)
    scenario = result.model.scenarios[0].id
    data = json.loads(run(str(SAAS), "--scenario", scenario, "--format", "json").stdout)
    assert data["scenario"] == scenario
    expected = simulate(result.variant(scenario)).blended.conversion
    assert data["blended"]["metrics"]["conversion"] == pytest.approx(expected)
    compared = json.loads(run(str(SAAS), "--compare", "--format", "json").stdout)
    assert list(compared) == ["baseline", *result.scenarios]
    text = run(str(SAAS), "--compare").stdout
    assert "Δ" in text and "baseline" in text


def test_persona_option_shows_that_persona():
    done = run(str(SAAS), "--persona", "ent")
    assert done.exit_code == 0
    assert "persona ent" in done.stdout


def test_levers_and_attribution_in_json():
    data = json.loads(run(str(SAAS), "--levers", "--attribution", "--format", "json").stdout)
    levers = data["levers"]
    assert levers and all(lever["persona"] is None for lever in levers)
    movable = [lever["d_revenue"] for lever in levers if lever["movable"]]
    assert movable == sorted(movable, reverse=True)
    shares = [r["share"] for r in data["attribution"]["steps"].values() if r["share"]]
    assert sum(shares) == pytest.approx(1.0)


def test_usage_errors_exit_2_and_file_errors_exit_1(tmp_path):
    assert run(str(SAAS), "--scenario", "nope").exit_code == 2
    assert run(str(SAAS), "--persona", "nope").exit_code == 2
    assert run(str(tmp_path / "missing.journey")).exit_code == 2
    bad = tmp_path / "bad.journey"
    bad.write_text('journey "b" { stage a { touchpoint x }\n entry x\n x -> y 10%\n goal x }',
                   encoding="utf-8")
    done = run(str(bad))
    assert done.exit_code == 1
    assert "JD201" in done.stderr


NO_SPEND = """journey "No spend" {
  persona a { share 50% }
  persona b { share 50% }
  stage s {
    touchpoint x { channel web }
    touchpoint y { channel web; value 10 }
  }
  entry x
  goal y
  x -> y 10% [b: 0%]
}
"""


def test_text_output_says_why_a_metric_is_undefined(tmp_path: Path) -> None:
    path = tmp_path / "nospend.journey"
    path.write_text(NO_SPEND)
    result = run(str(path))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "LTV:CAC is — for a (50%), Blended: nothing is spent to acquire a customer" in text
    assert ("CLV (per customer), CAC, LTV:CAC and Time to convert are — for b (50%): "
            "conversion is zero") in text
    # the JSON carries the same reasons beside its nulls
    data = json.loads(run(str(path), "--format", "json").stdout)
    assert data["blended"]["metrics"]["ltv_cac"] is None
    assert data["blended"]["metrics"]["undefined"] == {
        "ltv_cac": "nothing is spent to acquire a customer"}

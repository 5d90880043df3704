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

# v1 keys stay; v2 adds profit, acquisition_cost, payback_days and the channels
METRIC_KEYS = {"conversion", "revenue", "cost", "clv", "cac", "ltv_cac", "time_to_convert_days",
               "viral_coefficient", "active_at_horizon", "steps", "stages",
               "profit", "acquisition_cost", "payback_days", "channels"}
ENTRY_KEYS = {"conversion", "revenue", "cost", "profit", "acquisition_cost", "clv", "cac",
              "ltv_cac", "payback_days", "time_to_convert_days"}


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
            assert set(step) == {"reach", "visits", "dropoff", "churn", "revenue", "cost",
                                 "profit"}
        for stage in block["metrics"]["stages"].values():
            assert set(stage) == {"reach", "dropoff", "churn", "revenue", "cost", "profit"}
        for channel in block["metrics"]["channels"].values():
            assert set(channel) == {"revenue", "cost", "profit"}
        assert set(block["by_entry"]) == {"paid_ad", "seo_blog", "trade_show"}
        for entry in block["by_entry"].values():
            assert set(entry) - {"undefined"} == ENTRY_KEYS
    assert set(data["cohort"]) == {"prospects", "customers", "revenue", "cost", "referred_visits"}
    assert set(data["cohort"]["referred_visits"]) == {"invite", "review"}  # referrals only
    report = simulate(journeydsl.load(SAAS).journey)
    blended = data["blended"]["metrics"]
    assert blended["conversion"] == pytest.approx(report.blended.conversion)
    assert blended["clv"] == pytest.approx(report.blended.clv)
    assert blended["payback_days"] == report.blended.payback
    assert blended["acquisition_cost"] == pytest.approx(report.blended.acquisition_cost)
    assert [e["expect"] for e in data["expectations"]] == [
        "conversion", "ltv_cac(smb)", "ltv_cac", "payback", "time_to_convert",
        "viral_coefficient"]
    assert all(e["passed"] for e in data["expectations"])
    assert "curve" not in data


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


def test_a_cascade_beyond_double_precision_is_null_with_its_reason(tmp_path):
    # two referrals a visit, one a second, for 30 days: 2^2,592,000 prospects
    path = tmp_path / "boom.journey"
    path.write_text('''journey "boom" {
      horizon 30d
      stage s { touchpoint a ; touchpoint b { value 1 } }
      entry a
      a -> b 34%
      b => b 2 after 0.00027777777778h
      goal b
    }''')
    result = run("-f", "json", str(path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cohort"]["prospects"] is None and data["cohort"]["revenue"] is None
    assert data["undefined"]["cohort.prospects"] == \
        "the referral cascade grows past any number before the horizon"
    assert data["blended"]["metrics"]["conversion"] == pytest.approx(0.34)
    text = run(str(path))
    assert text.exit_code == 0 and "— prospects" in text.stdout
    assert "grows past any number" in " ".join(text.stdout.split())
    assert "Warning" not in text.stderr  # no numpy overflow warning on the terminal


FAILING = """journey "sub" {
  currency USD
  margin 80%
  stage s { touchpoint ad { cost 30 }; touchpoint trial; touchpoint paying { value 20; cost 1 } }
  entry ad
  ad -> trial 100%
  trial -> paying 100% after 14d
  paying -> paying 90% after 1mo
  goal paying
  expect conversion >= 50%
  expect payback <= 1mo
  expect cac <= 40
}
"""


def test_a_failed_expectation_does_not_stop_simulate(tmp_path):
    path = tmp_path / "sub.journey"
    path.write_text(FAILING, encoding="utf-8")
    done = runner.invoke(app, ["simulate", str(path)], env={"COLUMNS": "100"})
    assert done.exit_code == 0, done.output
    assert "Expectations: 2 of 3 hold" in done.stdout
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith("│ payback") or line.startswith("│ conversion")}
    assert "FAIL" in rows["payback <= 1mo"] and "74.0 d" in rows["payback <= 1mo"]
    assert "pass" in rows["conversion >= 50%"]
    data = json.loads(runner.invoke(app, ["simulate", str(path), "-f", "json"]).stdout)
    failed = [e for e in data["expectations"] if not e["passed"]]
    assert [(e["expect"], e["actual"]) for e in failed] == [("payback", 74.0)]
    # the gate stays: check fails on it
    assert runner.invoke(app, ["check", str(path)]).exit_code == 1


def test_render_draws_whatever_the_kpis_say(tmp_path):
    path = tmp_path / "sub.journey"
    path.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "map.dot"
    done = runner.invoke(app, ["render", str(path), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8").startswith("digraph")
    assert ("note: expectation `payback` fails: it is 74 days, expected <= 1mo"
            in done.stderr)


def test_monte_carlo_options_without_monte_carlo_are_a_usage_error():
    done = runner.invoke(app, ["simulate", str(SAAS), "--draws", "5",
                               "--seed", "3"])
    assert done.exit_code == 2
    assert "--draws, --seed are for Monte Carlo: give --method monte-carlo too" in done.stderr
    top = runner.invoke(app, ["simulate", str(SAAS), "--top", "5%"])
    assert top.exit_code == 2 and "--top is for Monte Carlo" in top.stderr
    walked = runner.invoke(app, ["simulate", str(SAAS), "--draws", "2",
                                 "--method", "monte-carlo", "--prospects", "2000", "-f", "json"])
    assert walked.exit_code == 0 and '"draws": 2' in walked.stdout


def test_check_verbose_and_json_list_the_expectations_that_hold(tmp_path):
    path = tmp_path / "sub.journey"
    path.write_text(FAILING, encoding="utf-8")
    done = runner.invoke(app, ["check", "-v", str(path)])
    assert done.exit_code == 1
    assert done.stderr.count("info[JD502]") == 2 and done.stderr.count("error[JD501]") == 1
    assert "expectation holds: `cac` is 30 USD, expected <= 40 USD" in done.stderr
    assert done.stderr.rstrip().endswith("1 error, 0 warnings, 2 expectations hold")
    one = tmp_path / "one.journey"
    one.write_text(FAILING.replace("expect cac <= 40", ""), encoding="utf-8")
    assert runner.invoke(app, ["check", "-v", str(one)]).stderr.rstrip().endswith(
        "1 error, 0 warnings, 1 expectation holds")
    quiet = runner.invoke(app, ["check", str(path)])
    assert "JD502" not in quiet.stderr
    data = json.loads(runner.invoke(app, ["check", "-f", "json", str(path)]).stdout)
    assert [(d["code"], d["expectation"]["expect"], d["expectation"]["passed"]) for d in data] == [
        ("JD502", "conversion", True), ("JD501", "payback", False), ("JD502", "cac", True)]
    assert data[1]["expectation"]["actual"] == 74.0


def test_curve_in_json_and_text():
    done = run(str(ROOT / "examples" / "domain_registrar.journey"), "--curve", "month",
               "-f", "json")
    data = json.loads(done.stdout)
    rows = data["curve"]
    # 10 years of 30-day months: 121 whole months and the days to the horizon
    assert len(rows) == 122 and rows[-2]["end_days"] == 3630.0 and rows[-1]["end_days"] == 3650.0
    assert set(rows[0]) == {"period", "end_days", "revenue", "cost", "profit", "converted",
                            "active_customers"}
    payback = data["blended"]["metrics"]["payback_days"]
    paid = next(r["period"] for r in rows if r["end_days"] > payback)
    assert rows[paid - 2]["profit"] < 0 <= rows[paid - 1]["profit"]
    assert rows[-1]["profit"] == pytest.approx(data["blended"]["metrics"]["profit"])
    text = runner.invoke(app, ["simulate", str(ROOT / "examples" / "domain_registrar.journey"),
                               "--curve", "month"], env={"COLUMNS": "100"}).stdout
    assert f"Paid back in month {paid} (day {payback:,.0f}), marked ^." in text


def test_levers_by_profit_in_json_with_each_stage_best():
    data = json.loads(run(str(SAAS), "--levers", "--by", "profit", "-f", "json").stdout)
    movable = [lv for lv in data["levers"] if lv["movable"]]
    assert [lv["d_profit"] for lv in movable] == sorted((lv["d_profit"] for lv in movable),
                                                         reverse=True)
    stages = data["levers_by_stage"]
    journey = journeydsl.load(SAAS).journey
    stage_of = {s.id: s.stage for s in journey.steps}
    assert all(stage_of[lv["source"]] == stage for stage, lv in stages.items())
    assert list(stages.values())[0] == movable[0]
    text = runner.invoke(app, ["simulate", str(SAAS), "--levers", "--by", "profit"],
                         env={"COLUMNS": "120"}).stdout
    assert "Best lever per stage (by Δ profit)" in text and "ranked by Δ profit" in text


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

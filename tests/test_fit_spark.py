"""`--engine spark`: the aggregation run by Apache Spark (local mode) gives
the same counts as DuckDB on the same logs (CSV, Parquet, a glob of files;
per persona, with censoring, ties in time and time going backwards), the
same `journey fit` and `journey check --events` output, and a clear
message (exit 2) when PySpark or Java is missing.

One SparkSession serves the whole test session (starting the JVM takes
seconds); the logs are tiny. CI (.ci/run) installs Java and the spark
extra: there a missing one fails these tests, it never skips them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.calibrate.counts import Counts, aggregate
from journeydsl.calibrate.duck import DuckEngine
from journeydsl.calibrate.logs import LogSpec
from journeydsl.calibrate.plan import make_plan
from journeydsl.cli import app

from test_fit_counts import JOURNEY, random_log, write_csv

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _spark_or_skip() -> None:
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("PySpark (pip install -e '.[spark]')")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        missing.append("a Java runtime (apt-get install default-jre-headless)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {' and '.join(missing)} (.ci/run)")
        pytest.skip(f"needs {' and '.join(missing)}")


@pytest.fixture(scope="module")
def spark_engine():
    _spark_or_skip()
    from journeydsl.calibrate.spark import SparkEngine, session

    # Tiny logs: one partition after each shuffle, not one per core (the
    # CLI tests below use this session too: it is the process's local[*]).
    session().conf.set("spark.sql.shuffle.partitions", "1")

    def make() -> SparkEngine:
        return SparkEngine()
    return make


def counts_on(engine, patterns: list[str], persona: bool = True,
              window: float | None = None) -> Counts:
    journey = journeydsl.loads(JOURNEY, "shop.journey").journey
    plan = make_plan(journey, window)
    spec = LogSpec.of(patterns) if persona else LogSpec.of(patterns, persona=None)
    try:
        return aggregate(journey, plan, spec, engine)
    finally:
        engine.close()


def comparable(counts: Counts) -> dict:
    """Everything the aggregation brings back; medians to the microsecond
    (one engine's double may differ from the other's in the last bit)."""
    out = {f.name: getattr(counts, f.name) for f in dataclasses.fields(counts)}
    out["files"] = counts.files.paths
    out["moves"] = {k: (m.n, round(m.median_days * 86_400e6)) for k, m in counts.moves.items()}
    out["delays"] = {k: (m.n, round(m.median_days * 86_400e6)) for k, m in counts.delays.items()}
    out["amounts"] = {k: (round(t, 6), n) for k, (t, n) in counts.amounts.items()}
    out["warnings"] = [(d.code, d.message, d.path) for d in counts.warnings]
    return out


def assert_same(spark: Counts, duck: Counts) -> None:
    a, b = comparable(spark), comparable(duck)
    assert a == b
    assert duck.steps and duck.moves and duck.spells  # something was counted


def test_identical_counts_on_csv_per_persona(spark_engine, tmp_path: Path) -> None:
    rows = random_log(1, users=150)
    log = tmp_path / "log.csv"
    write_csv(log, rows)
    spark = counts_on(spark_engine(), [str(log)])
    duck = counts_on(DuckEngine(), [str(log)])
    assert_same(spark, duck)
    assert spark.unknown_personas  # "vip" is not declared: JD606 on both
    assert any(c.censored for c in spark.steps.values())


def test_identical_counts_on_parquet_with_a_window_and_no_persona(spark_engine,
                                                                  tmp_path: Path) -> None:
    rows = random_log(3, users=80)
    write_csv(tmp_path / "log.csv", rows)
    log = tmp_path / "log.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""COPY (SELECT "user", event, CAST(time AS TIMESTAMP) AS time,
                               CAST(amount AS DOUBLE) AS amount, persona
                        FROM read_csv('{tmp_path / "log.csv"}', all_varchar = true))
                    TO '{log}' (FORMAT parquet)""")
    for persona, window in ((True, None), (False, 3.0)):
        spark = counts_on(spark_engine(), [str(log)], persona, window)
        duck = counts_on(DuckEngine(), [str(log)], persona, window)
        assert_same(spark, duck)
        assert spark.by_persona is persona


def test_identical_counts_on_a_glob_with_ties_across_files(spark_engine, tmp_path: Path) -> None:
    """Rows of one customer spread over three files, with the same time in
    two files (ties are ordered by file, then row) and time going backwards
    within a file (JD605, the same example row on both)."""
    rows = random_log(4, users=60)
    day = 86_400_000_000
    rows += [("t1", "blog", 5 * day, None, "smb"), ("t1", "ad_click", 5 * day, None, "smb"),
             ("t1", "cart_add", 5 * day, None, None)]
    parts = [rows[0::3], rows[1::3], rows[2::3]]
    folder = tmp_path / "logs"
    folder.mkdir()
    for i, part in enumerate(parts):
        write_csv(folder / f"part-{i}.csv", part)
    pattern = str(folder / "part-*.csv")
    spark = counts_on(spark_engine(), [pattern])
    duck = counts_on(DuckEngine(), [pattern])
    assert_same(spark, duck)
    assert len(spark.files.paths) == 3
    assert any(d.code == "JD605" for d in spark.warnings)


def test_fit_and_check_give_the_same_output_on_both_engines(spark_engine) -> None:
    journey = ROOT / "examples" / "saas_trial.journey"
    log = ROOT / "examples" / "events" / "saas_trial.csv"
    outputs = {}
    for engine in ("duckdb", "spark"):
        fit = runner.invoke(app, ["fit", str(journey), "--events", str(log), "--format", "json",
                                  "--engine", engine])
        check = runner.invoke(app, ["check", str(journey), "--events", str(log),
                                    "--format", "json", "--engine", engine])
        assert fit.exit_code == 0, fit.output
        assert check.exit_code in (0, 1), check.output
        outputs[engine] = (fit.stdout, check.stdout, check.exit_code)
    assert outputs["spark"] == outputs["duckdb"]


def test_a_bad_row_is_located_on_spark_too(spark_engine, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\nu1,ad_click,2024-01-01T00:00:00\n"
                   "u1,blog,2024-01-02T00:00:00\nu2,blog,yesterday\n", encoding="utf-8")
    journey = ROOT / "examples" / "saas_trial.journey"
    results = [runner.invoke(app, ["check", str(journey), "--events", str(log), "--engine", e])
               for e in ("duckdb", "spark")]
    assert [r.exit_code for r in results] == [1, 1]
    assert "JD604" in results[1].output and "line 4" in results[1].output
    assert results[0].output == results[1].output


def test_spark_master_goes_with_engine_spark() -> None:
    journey = ROOT / "examples" / "saas_trial.journey"
    log = ROOT / "examples" / "events" / "saas_trial.csv"
    result = runner.invoke(app, ["fit", str(journey), "--events", str(log),
                                 "--spark-master", "local[2]"])
    assert result.exit_code == 2
    assert "--spark-master goes with --engine spark" in result.output
    result = runner.invoke(app, ["check", str(journey), "--engine", "spark"])
    assert result.exit_code == 2 and "go with --events" in result.output


def test_missing_pyspark_or_java_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    """Exit 2 with what to install, no traceback (a master no test started,
    so no session is reused)."""
    journey = ROOT / "examples" / "saas_trial.journey"
    log = ROOT / "examples" / "events" / "saas_trial.csv"
    args = ["fit", str(journey), "--events", str(log), "--engine", "spark",
            "--spark-master", "local[3]"]
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "needs a Java runtime" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)  # import fails
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "pip install 'journeydsl[spark]'" in result.output

"""Reading event logs: every format gives the same counts (CSV, gzip CSV,
Parquet with typed or text times, JSON lines; globs, folders, several
files), times with offsets are read in UTC, and every bad log is a
diagnostic naming the file, the column and an example row."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

import journeydsl
from journeydsl.calibrate import LogProblem, LogSpec
from journeydsl.calibrate.counts import aggregate
from journeydsl.calibrate.duck import DuckEngine
from journeydsl.calibrate.plan import make_plan

from test_fit_counts import JOURNEY, random_log, write_csv


def counts_of(*patterns: str, **columns):
    journey = journeydsl.loads(JOURNEY, "shop.journey").journey
    engine = DuckEngine()
    try:
        return aggregate(journey, make_plan(journey), LogSpec.of(list(patterns), **columns),
                         engine)
    finally:
        engine.close()


def summary(counts) -> tuple:
    amounts = {k: (round(total, 6), n) for k, (total, n) in counts.amounts.items()}
    return (counts.rows, sorted(counts.steps.items()), sorted(counts.moves.items()),
            sorted(amounts.items()), sorted(counts.spells.items()), counts.unmapped)


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    """One random log in every format."""
    folder = tmp_path_factory.mktemp("logs")
    write_csv(folder / "log.csv", random_log(3))
    with (folder / "log.csv").open("rb") as raw, gzip.open(folder / "log.csv.gz", "wb") as out:
        shutil.copyfileobj(raw, out)
    csv = str(folder / "log.csv")
    duckdb.sql(f"COPY (SELECT * REPLACE (CAST(time AS TIMESTAMP) AS time, "
               f"TRY_CAST(amount AS DOUBLE) AS amount) FROM read_csv('{csv}', all_varchar=true)) "
               f"TO '{folder / 'typed.parquet'}' (FORMAT parquet)")
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true)) "
               f"TO '{folder / 'text.parquet'}' (FORMAT parquet)")
    rows = duckdb.sql(f"SELECT * FROM read_csv('{csv}', all_varchar=true)").fetchall()
    with (folder / "log.jsonl").open("w", encoding="utf-8") as out:
        for user, event, time, amount, persona in rows:
            record = {"user": user, "event": event, "time": time, "persona": persona}
            if amount is not None:
                record["amount"] = float(amount)
            out.write(json.dumps(record) + "\n")
    parts = folder / "parts"
    parts.mkdir()
    for k in range(3):  # split by row: each file keeps its rows' order
        chunk = rows[k::3]
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true) LIMIT 0) "
                   f"TO '{parts / f'part-{k}.csv'}' (FORMAT csv, HEADER)")
        with (parts / f"part-{k}.csv").open("a", encoding="utf-8") as out:
            for row in chunk:
                out.write(",".join("" if v is None else v for v in row) + "\n")
    return folder


@pytest.mark.parametrize("name", ["log.csv.gz", "typed.parquet", "text.parquet", "log.jsonl"])
def test_every_format_gives_the_same_counts(logs: Path, name: str) -> None:
    assert summary(counts_of(str(logs / name))) == summary(counts_of(str(logs / "log.csv")))


def test_globs_folders_and_several_files(logs: Path) -> None:
    """A customer's events spread over files are one walk (split by row,
    ties in time are ordered by file then row: the same moves here, as the
    random log has no two events of a customer at one time in two files)."""
    whole = counts_of(str(logs / "log.csv"))
    by_glob = counts_of(str(logs / "parts" / "part-*.csv"))
    by_folder = counts_of(str(logs / "parts"))
    listed = counts_of(*(str(logs / "parts" / f"part-{k}.csv") for k in range(3)))
    assert summary(by_glob) == summary(by_folder) == summary(listed)
    assert by_glob.rows == whole.rows and by_glob.customers() == whole.customers()
    assert len(by_glob.files.paths) == 3


def test_times_with_offsets_are_utc(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\nu1,ad_click,2024-03-01T09:00:00+07:00\n"
                   "u1,cart_add,2024-03-01T03:00:00Z\nu2,ad_click,2024-06-01 00:00:00\n",
                   encoding="utf-8")
    counts = counts_of(str(log))
    assert counts.moves[("", 0, 2)].median_days == pytest.approx(1 / 24)  # 02:00 to 03:00 UTC


def test_times_without_an_offset_are_utc_whatever_the_machine_s_time_zone(
        tmp_path: Path) -> None:
    """The summary and the ordering pass run on two DuckDB connections (side
    by side); a new one starts in the machine's time zone. u1's visit is
    30 days and 3 hours before the log's end in UTC: not censored (30-day
    window). Read in New York's time by one pass and in UTC by the other,
    it would be 29 days and 22 hours: censored."""
    import os
    import subprocess
    import sys

    log = tmp_path / "log.csv"
    log.write_text("user,event,time\nu1,ad_click,2024-01-01 00:00:00\n"
                   "u2,ad_click,2024-01-31 03:00:00\n", encoding="utf-8")
    script = (
        "import journeydsl\n"
        "from journeydsl.calibrate import LogSpec\n"
        "from journeydsl.calibrate.counts import aggregate\n"
        "from journeydsl.calibrate.duck import DuckEngine\n"
        "from journeydsl.calibrate.plan import make_plan\n"
        "from test_fit_counts import JOURNEY\n"
        "journey = journeydsl.loads(JOURNEY, 'shop.journey').journey\n"
        f"counts = aggregate(journey, make_plan(journey), LogSpec.of([{str(log)!r}]), DuckEngine())\n"
        "print(counts.steps[('', 0)].censored)\n")
    env = {**os.environ, "TZ": "America/New_York",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                          os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "1"  # u2's visit, at the log's end; not u1's


def problems_of(*patterns: str, **columns) -> list:
    with pytest.raises(LogProblem) as caught:
        counts_of(*patterns, **columns)
    return caught.value.diagnostics


def test_a_folder_without_logs_an_unknown_format_and_a_mix(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (d,) = problems_of(str(tmp_path / "empty"))
    assert (d.code, d.message) == ("JD602", f"folder `{tmp_path / 'empty'}` holds no event log file")
    (tmp_path / "log.xlsx").write_bytes(b"PK")
    (d,) = problems_of(str(tmp_path / "log.xlsx"))
    assert d.message == f"`{tmp_path / 'log.xlsx'}` is not an event log file this command reads"
    (tmp_path / "a.csv").write_text("user,event,time\n", encoding="utf-8")
    (tmp_path / "b.parquet").write_bytes(b"PAR1")
    (d,) = problems_of(str(tmp_path / "a.csv"), str(tmp_path / "b.parquet"))
    assert d.message.startswith("the log mixes file formats: csv (")


def test_a_broken_parquet_file(tmp_path: Path) -> None:
    (tmp_path / "log.parquet").write_bytes(b"PAR1 not really")
    (d,) = problems_of(str(tmp_path / "log.parquet"))
    assert d.code == "JD602" and d.message.startswith("the event log cannot be read: ")
    assert d.path == str(tmp_path / "log.parquet")


def test_a_csv_row_with_extra_fields(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\nu1,ad_click,2024-03-01T09:00:00Z\n"
                   "u2,ad_click,2024-03-01T09:00:00Z,extra,fields\n", encoding="utf-8")
    (d,) = problems_of(str(log))
    assert d.code == "JD602" and "cannot be read" in d.message
    assert "line 3" in d.message or "line: 3" in d.message or "Line: 3" in d.message, d.message


def test_csv_files_with_different_headers(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("user,event,time\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("user,time,event\n", encoding="utf-8")
    (d,) = problems_of(str(tmp_path / "*.csv"))
    assert d.message == (f"the CSV files have different columns: `{tmp_path / 'a.csv'}` has user, "
                         f"event, time; `{tmp_path / 'b.csv'}` has user, time, event")


def test_parquet_types_that_cannot_be_their_role(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    duckdb.sql(f"COPY (SELECT 'u1' AS user, TRUE AS event, TIMESTAMP '2024-01-01' AS time, "
               f"DATE '2024-01-01' AS amount) TO '{path}' (FORMAT parquet)")
    found = problems_of(str(path), amount="amount")
    assert [(d.code, d.message) for d in found] == [
        ("JD603", "column `event` (the event column) holds BOOLEAN values"),
        ("JD603", "column `amount` (the amount column) holds DATE values")]


def test_a_time_column_of_dates_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    duckdb.sql(f"COPY (SELECT * FROM (VALUES ('u1', 'ad_click', DATE '2024-01-01'), "
               f"('u1', 'cart_add', DATE '2024-01-03'), ('u2', 'ad_click', DATE '2024-12-01')) "
               f"AS t(user, event, time)) TO '{path}' (FORMAT parquet)")
    counts = counts_of(str(path))
    assert counts.moves[("", 0, 2)].median_days == 2.0


def test_names_needing_quotes_are_quoted(tmp_path: Path) -> None:
    """Column names come from users: quoted by sqlglot, never pasted."""
    log = tmp_path / "log.csv"
    log.write_text('"user id","event""name","t; DROP TABLE x"\nu1,ad_click,2024-03-01T09:00:00Z\n'
                   "u1,cart_add,2024-03-02T09:00:00Z\nu2,ad_click,2024-09-01T00:00:00Z\n",
                   encoding="utf-8")
    counts = counts_of(str(log), user="user id", event='event"name', time="t; DROP TABLE x")
    assert counts.moves[("", 0, 2)].n == 1

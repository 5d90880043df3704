"""`journey simulate --events-out`: the Monte Carlo walks as an event log.

The log's numbers are checked against the exact engine (visits per step,
referral cascade included), the horizon, the columns and their types,
determinism, the formats, and the refusals; a failure leaves nothing
behind. The round trip through `journey fit` is tests/test_fit_roundtrip.py.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.simulate import simulate
from journeydsl.simulate.eventlog import write_event_log
from journeydsl.simulate.montecarlo import events as events_module

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SAAS = EXAMPLES / "saas_trial.journey"
runner = CliRunner()


def rows(path: Path, query: str = "SELECT * FROM log") -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
    con.execute(f"CREATE VIEW log AS SELECT * FROM {reader}('{path}')")
    return con.execute(query).fetchall()


def test_visits_per_step_are_the_exact_engines(tmp_path: Path) -> None:
    """Events per step / entering prospects = the exact engine's expected
    visits of a prospect's whole referral cascade (under the 3-year
    horizon), within 5 standard errors (from the per-user counts)."""
    journey = journeydsl.load(SAAS).journey
    n = 150_000
    log = tmp_path / "log.parquet"
    written = write_event_log(journey, log, n, seed=7, arrivals=0)
    expected = simulate(journey).blended.cohort_visits
    per_user = rows(log, "SELECT event, SUM(c), SUM(c * c) FROM (SELECT user, event, "
                         "COUNT(*) AS c FROM log GROUP BY ALL) GROUP BY event")
    seen = {e: (int(total), float(sq)) for e, total, sq in per_user}
    assert set(seen) == {s for s, v in expected.items() if v > 0}
    for step, (total, sq) in seen.items():
        mean = total / n
        se = max(np.sqrt(max(sq / n - mean ** 2, 0.0) / n), 1e-9)
        assert abs(mean - expected[step]) < 5 * se, (step, mean, expected[step], se)
    assert written.rows == sum(t for t, _ in seen.values())
    users = rows(log, "SELECT COUNT(DISTINCT user), MIN(user), MAX(user) FROM log")[0]
    assert users == (written.prospects, 1, written.prospects)
    # the referred: numbered after the entering, as many as the cascade brings
    expected_referred = n * (simulate(journey).blended.cohort["prospects"] - 1)
    assert abs(written.referred - expected_referred) < 5 * np.sqrt(expected_referred)
    firsts = rows(log, f"SELECT arg_min(event, time), COUNT(*) FROM log WHERE user > {n} "
                       "GROUP BY user")
    assert {e for e, _ in firsts} == {"invite", "review"}  # where referrals enter


def test_columns_amounts_and_personas(tmp_path: Path) -> None:
    journey = journeydsl.load(SAAS).journey
    log = tmp_path / "log.parquet"
    write_event_log(journey, log, 20_000, seed=1, start=dt.datetime(2025, 3, 1, 9), arrivals=0)
    con = duckdb.connect()
    types = con.execute(f"DESCRIBE SELECT * FROM '{log}'").fetchall()
    assert [(c[0], c[1]) for c in types] == [
        ("user", "BIGINT"), ("event", "VARCHAR"), ("time", "TIMESTAMP"), ("amount", "DOUBLE"),
        ("persona", "VARCHAR")]
    # the amount: the step's value for the persona, NULL where it has none
    amounts = set(rows(log, "SELECT DISTINCT event, persona, amount FROM log"))
    assert ("paying", "smb", 49.0) in amounts and ("paying", "ent", 490.0) in amounts
    assert all(a is None for e, _, a in amounts if e != "paying")
    share = rows(log, "SELECT AVG(CASE WHEN persona = 'smb' THEN 1 ELSE 0 END) FROM log "
                      "WHERE user <= 20000 AND time = TIMESTAMP '2025-03-01 09:00:00' "
                      "AND event IN ('paid_ad', 'seo_blog', 'trade_show')")[0][0]
    assert abs(share - journey.shares["smb"]) < 5 * np.sqrt(0.7 * 0.3 / 20_000)
    first = rows(log, "SELECT MIN(time) FROM log")[0][0]
    assert first == dt.datetime(2025, 3, 1, 9)
    # each user's events in time order, grouped
    order = rows(log, "SELECT SUM(CASE WHEN u0 = user AND t0 > time THEN 1 ELSE 0 END), "
                      "SUM(CASE WHEN u0 IS DISTINCT FROM user THEN 1 ELSE 0 END), "
                      "COUNT(DISTINCT user) FROM (SELECT user, time, LAG(time) OVER w AS t0, "
                      "LAG(user) OVER w AS u0 FROM read_parquet("
                      f"'{log}', file_row_number = true) WINDOW w AS (ORDER BY file_row_number))")
    backwards, runs, users = order[0]
    assert backwards == 0 and runs == users


def test_event_names_and_the_horizon(tmp_path: Path) -> None:
    text = ('journey "h" { horizon 100d ; stage s { touchpoint a { event "ad_click", "ad2" } '
            '; touchpoint b } ; entry a ; a -> b 50% after 3d ; b -> b 90% after 7d ; goal b }')
    journey = journeydsl.loads(text).journey
    log = tmp_path / "log.parquet"
    write_event_log(journey, log, 5_000, seed=3, arrivals=0)
    names = {e for (e,) in rows(log, "SELECT DISTINCT event FROM log")}
    assert names == {"ad_click", "b"}  # the first event name, or the id
    last = rows(log, "SELECT MAX(time) FROM log")[0][0]
    assert last < dt.datetime(2024, 1, 1) + dt.timedelta(days=100)
    # b at 3, 10, ..., 94 days: 14 visits at most before the horizon, and
    # some walks get there (0.9 ** 13 of half the prospects)
    most = rows(log, "SELECT MAX(c) FROM (SELECT user, COUNT(*) AS c FROM log "
                     "WHERE event = 'b' GROUP BY user)")[0][0]
    assert most == 14
    # prospects arriving over 60 days: the horizon ends the log, 100 days
    # from the start, whenever they arrived (by default over half of it)
    for arrivals, spread in ((60, 60), (None, 50)):
        write_event_log(journey, log, 5_000, seed=3, arrivals=arrivals)
        first, last = rows(log, "SELECT MAX(t), MAX(last) FROM (SELECT user, MIN(time) AS t, "
                                "MAX(time) AS last FROM log GROUP BY user)")[0]
        start = dt.datetime(2024, 1, 1)
        assert start + dt.timedelta(days=spread - 0.1) < first < start + dt.timedelta(days=spread)
        assert start + dt.timedelta(days=93) < last < start + dt.timedelta(days=100)
    with pytest.raises(ValueError, match="arrive before the horizon"):
        write_event_log(journey, log, 5_000, arrivals=100)


def test_the_same_seed_gives_the_same_bytes_and_csv_the_same_rows(tmp_path: Path) -> None:
    journey = journeydsl.load(SAAS).journey
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    write_event_log(journey, a, 30_000, seed=5, arrivals=0)
    write_event_log(journey, b, 30_000, seed=5, arrivals=0)
    write_event_log(journey, c, 30_000, seed=6, arrivals=0)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    csv = tmp_path / "a.csv"
    write_event_log(journey, csv, 30_000, seed=5, arrivals=0)
    with csv.open(encoding="utf-8") as handle:
        assert handle.readline() == "user,event,time,amount,persona\n"
        assert handle.readline() == "1,paid_ad,2024-01-01T00:00:00.000000Z,,smb\n"
    assert rows(csv, "SELECT user, event, CAST(time AS TIMESTAMP), amount, persona FROM log") \
        == rows(a)
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.parquet", "b.parquet", "c.parquet"]


def test_small_chunks_give_the_same_walk_law(tmp_path: Path, monkeypatch) -> None:
    """Chunks and buffers of a few events (many batches, a user's events
    split over batches) still give every user's events in time order."""
    monkeypatch.setattr(events_module, "TARGET_EVENTS", 64)
    monkeypatch.setattr(events_module, "FIRST_CHUNK", 16)
    monkeypatch.setattr(events_module, "MAX_BUFFER", 50)
    journey = journeydsl.load(SAAS).journey
    log = tmp_path / "log.parquet"
    written = write_event_log(journey, log, 3_000, seed=2)
    assert rows(log, "SELECT COUNT(*) FROM log")[0][0] == written.rows
    back = rows(log, "SELECT COUNT(*) FROM (SELECT user, time, LAG(time) OVER "
                     "(PARTITION BY user ORDER BY file_row_number) AS t0 FROM "
                     f"read_parquet('{log}', file_row_number = true)) WHERE t0 > time")
    assert back == [(0,)]


def test_the_cli_writes_the_log_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "log.parquet"
    done = runner.invoke(app, ["simulate", str(SAAS), "--events-out", str(log),
                               "--prospects", "2000", "--scenario", "simpler_pricing",
                               "--persona", "ent", "--start", "2025-06-01", "--seed", "4",
                               "--arrivals", "0"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"{log}: ") and " events of 2,0" in done.stdout
    assert rows(log, "SELECT DISTINCT persona FROM log") == [("ent",)]
    assert rows(log, "SELECT MIN(time) FROM log")[0][0] == dt.datetime(2025, 6, 1)
    # by default the prospects arrive evenly over a year from 2024-01-01
    done = runner.invoke(app, ["simulate", str(SAAS), "--events-out", str(log),
                               "--prospects", "1000"])
    assert done.exit_code == 0, done.output
    entries = rows(log, "SELECT MIN(time) FROM log WHERE user <= 1000 GROUP BY user "
                        "ORDER BY user")
    day = dt.timedelta(days=1)
    assert [t for (t,) in entries] == [dt.datetime(2024, 1, 1) + 365 * (k + 0.5) / 1000 * day
                                       for k in range(1000)]


@pytest.mark.parametrize(("out", "extra", "message"), [
    ("x.journey", [], "refusing to write over"),
    ("x.txt", [], "an event log is .parquet or .csv"),
    ("no/x.parquet", [], "there is no folder"),
    ("x.parquet", ["--compare"], "does not take --compare"),
    ("x.parquet", ["--levers", "--format", "json"], "does not take --levers, --format json"),
    ("x.parquet", ["--start", "yesterday"], "--start takes a date"),
    ("x.parquet", ["--arrivals", "soon"], "--arrivals takes a duration"),
    ("x.parquet", ["--arrivals", "3y"], ("--arrivals 3y: prospects must arrive before the "
                                         "horizon (1095 days)")),
    (None, ["--start", "2024-01-01"], "--start is for the --events-out log"),
    (None, ["--arrivals", "0"], "--arrivals is for the --events-out log"),
])
def test_the_cli_refuses(tmp_path: Path, out, extra, message) -> None:
    target = tmp_path / out if out else None
    if target is not None and target.suffix == ".journey":
        target.write_text("keep me", encoding="utf-8")
    args = ["simulate", str(SAAS), "--prospects", "100", *extra]
    if target is not None:
        args += ["--events-out", str(target)]
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == (["x.journey"] if out == "x.journey" else [])
    if out == "x.journey":
        assert (tmp_path / out).read_text(encoding="utf-8") == "keep me"


def test_an_interrupted_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C after a batch: no log, no temporary folder, the old log kept."""
    log = tmp_path / "log.parquet"
    log.write_bytes(b"old")
    original = events_module.EventWalk.batches

    def interrupted(self, progress=None):
        for k, batch in enumerate(original(self, progress)):
            if k == 2:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(events_module.EventWalk, "batches", interrupted)
    monkeypatch.setattr(events_module, "TARGET_EVENTS", 1000)
    monkeypatch.setattr(events_module, "FIRST_CHUNK", 100)
    journey = journeydsl.load(SAAS).journey
    with pytest.raises(KeyboardInterrupt):
        write_event_log(journey, log, 50_000, seed=1)
    assert os.listdir(tmp_path) == ["log.parquet"] and log.read_bytes() == b"old"


def test_walks_that_cannot_end_are_an_error_and_write_nothing(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(events_module, "MAX_MOVES", 50)
    text = ('journey "l" { stage s { touchpoint a ; touchpoint b } ; entry a ; a -> b 100% ; '
            'b -> a 99.9% ; goal b }')
    path = tmp_path / "loop.journey"
    path.write_text(text, encoding="utf-8")
    done = runner.invoke(app, ["simulate", str(path), "--events-out",
                               str(tmp_path / "log.parquet"), "--prospects", "10"])
    assert done.exit_code == 1, done.output
    assert "Monte Carlo cannot finish these walks" in done.stderr
    assert "nothing written" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.journey"]

"""The SQL aggregation (run by DuckDB) against an independent reading of
the same logs in plain Python (tests/reference_fit.py): every count and
median, on random logs with ties in time, loops, repeated events,
unmapped events and persona values the journey does not declare."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest

import journeydsl
from journeydsl.calibrate.counts import aggregate
from journeydsl.calibrate.duck import DuckEngine
from journeydsl.calibrate.logs import LogSpec
from journeydsl.calibrate.plan import make_plan

from reference_fit import reference_counts

JOURNEY = '''journey "Shop" {
  persona smb "Small" { share 60% }
  persona ent "Large" { share 40% }
  stage visit "Visit" {
    touchpoint ad { event "ad_click", "ad_view" }
    touchpoint blog
  }
  stage buy "Buy" {
    touchpoint cart { event "cart_add" }
    touchpoint order { event "order_paid" }
  }
  entry ad 70%, blog 30%
  ad -> blog 20%, cart 10%
  blog -> cart 15% after 2d
  cart -> order 40% after 1d
  order -> order 60% after 1mo
  goal order
}
'''
EVENTS = ["ad_click", "ad_view", "blog", "cart_add", "order_paid", "page_view", "login"]
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def random_log(seed: int, users: int = 60) -> list[tuple]:
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        persona = rng.choice(["smb", "ent", "ent", None, "vip"])
        clock = rng.randrange(0, 200 * 86_400)
        for _ in range(rng.randrange(1, 12)):
            clock += rng.choice([0, 0, 60, 3600, 86_400, 30 * 86_400, 45 * 86_400])
            amount = round(rng.uniform(1, 100), 2) if rng.random() < 0.3 else None
            rows.append((f"u{u:03d}", rng.choice(EVENTS), clock * 1_000_000, amount,
                         persona if rng.random() < 0.8 else None))
    rng.shuffle(rows)  # not in time order: the aggregation orders them
    return rows


def write_csv(path: Path, rows: list[tuple], persona: bool = True) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["user", "event", "time", "amount"] + (["persona"] if persona else []))
        for user, event, t, amount, p in rows:
            when = (START + dt.timedelta(microseconds=t)).strftime("%Y-%m-%dT%H:%M:%S")
            out.writerow([user, event, when, "" if amount is None else amount]
                         + ([p or ""] if persona else []))


def counts_of(tmp_path: Path, rows: list[tuple], persona: bool = True, window: float | None = None,
              text: str = JOURNEY):
    journey = journeydsl.loads(text, "shop.journey").journey
    plan = make_plan(journey, window)
    write_csv(tmp_path / "log.csv", rows, persona)
    engine = DuckEngine()
    try:
        counts = aggregate(journey, plan, LogSpec.of([str(tmp_path / "log.csv")]), engine)
    finally:
        engine.close()
    return plan, counts


def as_reference(rows: list[tuple]) -> list[tuple]:
    """Times from the CSV's whole seconds, relative to 1970 as the engine reads them."""
    base = int(START.timestamp()) * 1_000_000
    return [(u, e, base + t, a, p) for u, e, t, a, p in rows]


@pytest.mark.parametrize("seed", range(6))
def test_counts_equal_an_independent_reading(seed: int, tmp_path: Path) -> None:
    rows = random_log(seed)
    plan, counts = counts_of(tmp_path, rows)
    expected = reference_counts(plan, as_reference(rows), ["smb", "ent"])
    assert {k: (c.visits, c.censored, c.entries, c.still) for k, c in counts.steps.items()} \
        == expected["steps"]
    assert {k: (c.n, pytest.approx(c.median_days, abs=1e-9)) for k, c in counts.moves.items()} \
        == expected["moves"]
    assert {k: (c.n, pytest.approx(c.median_days, abs=1e-9)) for k, c in counts.delays.items()} \
        == expected["delays"]
    assert {k: (pytest.approx(t), n) for k, (t, n) in counts.amounts.items()} \
        == expected["amounts"]
    spells = {(k, no, n, c): runs for (k, no), items in counts.spells.items()
              for n, c, runs in items}
    assert spells == expected["spells"]
    unmapped = {e: n for e, n in counts.unmapped}
    assert unmapped == {e: sum(r[1] == e for r in rows) for e in ("page_view", "login")
                        if any(r[1] == e for r in rows)}
    assert counts.rows == len(rows)


def test_counts_without_a_persona_column_and_with_a_window(tmp_path: Path) -> None:
    rows = random_log(11)
    plan, counts = counts_of(tmp_path, rows, persona=False, window=3.0)
    assert not counts.by_persona
    expected = reference_counts(plan, as_reference([r[:4] + (None,) for r in rows]), None)
    assert {k: (c.visits, c.censored, c.entries, c.still) for k, c in counts.steps.items()} \
        == expected["steps"]
    assert all(s.window_days == 3.0 for s in plan.steps)


@pytest.mark.parametrize("seed", range(4))
def test_renewal_runs_at_two_loop_steps_with_their_own_windows(seed: int,
                                                                tmp_path: Path) -> None:
    """Runs at two loop steps whose censoring windows differ (the runs'
    query keeps the events that may be edges by the widest and narrowest
    window): the runs as the independent reading finds them."""
    text = JOURNEY.replace("blog -> cart 15% after 2d",
                           "blog -> cart 15% after 2d, blog 30% after 4d")
    rng = random.Random(100 + seed)
    rows = []
    for u in range(150):  # long runs at both loop steps, many near the log's end
        clock, event = rng.randrange(0, 150 * 86_400), rng.choice(["blog", "order_paid"])
        for _ in range(rng.randrange(1, 15)):
            if rng.random() < 0.25:
                event = rng.choice(["ad_click", "blog", "cart_add", "order_paid"])
            clock += rng.choice([0, 86_400, 3 * 86_400, 10 * 86_400, 20 * 86_400, 31 * 86_400])
            rows.append((f"u{u:03d}", event, clock * 1_000_000, None, rng.choice(["smb", "ent"])))
    rng.shuffle(rows)
    plan, counts = counts_of(tmp_path, rows, text=text)
    windows = {s.window_days for s in plan.steps if s.loop}
    assert len(windows) == 2
    expected = reference_counts(plan, as_reference(rows), ["smb", "ent"])
    assert {(k, no, n, c): runs for (k, no), items in counts.spells.items()
            for n, c, runs in items} == expected["spells"]
    assert {k: (c.visits, c.censored, c.entries, c.still) for k, c in counts.steps.items()} \
        == expected["steps"]


def test_visits_moves_and_censoring_by_hand(tmp_path: Path) -> None:
    """One customer each, worked out by hand."""
    day = 86_400_000_000
    rows = [
        # u1: ad, ad (one visit: ad does not loop), blog 1 day later, cart, order, order (loop)
        ("u1", "ad_click", 0, None, "smb"), ("u1", "ad_view", 60_000_000, None, None),
        ("u1", "blog", day, None, None), ("u1", "cart_add", 3 * day, None, None),
        ("u1", "order_paid", 4 * day, 49.0, None), ("u1", "order_paid", 34 * day, 51.0, None),
        # u2: entered at cart 200 days later, last event at the log's end: censored
        ("u2", "cart_add", 200 * day, None, "ent"),
        # u3: ties in time keep the file's order: blog then ad
        ("u3", "blog", 10 * day, None, "ent"), ("u3", "ad_click", 10 * day, None, "ent"),
    ]
    plan, counts = counts_of(tmp_path, rows)
    ad, blog, cart, order = 0, 1, 2, 3
    assert counts.steps[("smb", ad)].visits == 1
    assert counts.moves[("smb", ad, blog)].n == 1
    assert counts.moves[("smb", ad, blog)].median_days == pytest.approx(1.0)
    assert counts.moves[("smb", order, order)].n == 1
    assert counts.moves[("smb", order, order)].median_days == pytest.approx(30.0)
    assert counts.steps[("smb", order)].visits == 2
    assert counts.steps[("smb", order)].censored == 0  # 166 days before the end > 90d window
    assert counts.steps[("ent", cart)].censored == 1 and counts.steps[("ent", cart)].entries == 1
    assert counts.moves[("ent", blog, ad)].n == 1
    assert counts.steps[("ent", blog)].entries == 1
    assert counts.amounts[("smb", order)] == (100.0, 2)
    assert counts.spells[("smb", order)] == [(2, False, 1)]
    assert counts.customers() == 3 and counts.censored() == 1


@pytest.mark.parametrize("time_type", ["TIMESTAMP", "TIMESTAMPTZ", "VARCHAR"])
def test_parquet_logs_over_several_files_count_as_the_csv(time_type: str, tmp_path: Path) -> None:
    """The log split over three Parquet files (ties in time across them and
    within them: ordered by file, then row) with the time column a
    TIMESTAMP (read as it is), a TIMESTAMPTZ or text (cast): the counts are
    the CSV files' and the independent reading's."""
    import dataclasses

    import duckdb

    rows = random_log(5, users=80)
    day = 86_400_000_000
    rows += [("t1", "blog", 5 * day, None, "smb"), ("t1", "ad_click", 5 * day, None, "smb"),
             ("t1", "cart_add", 5 * day, None, None), ("t1", "order_paid", 5 * day, 9.0, None)]
    parts = [rows[0::3], rows[1::3], rows[2::3]]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for i, part in enumerate(parts):
        write_csv(tmp_path / f"part-{i}.csv", part)
        time = "time" if time_type == "VARCHAR" else f"CAST(time AS {time_type})"
        con.execute(f"""COPY (SELECT "user", event, {time} AS time,
                                   CAST(amount AS DOUBLE) AS amount, persona
                            FROM read_csv('{tmp_path / f"part-{i}.csv"}', all_varchar = true))
                        TO '{tmp_path / f"part-{i}.parquet"}' (FORMAT parquet)""")
    journey = journeydsl.loads(JOURNEY, "shop.journey").journey
    plan = make_plan(journey)

    def counts(pattern: str) -> dict:
        engine = DuckEngine()
        try:
            found = aggregate(journey, plan, LogSpec.of([str(tmp_path / pattern)]), engine)
        finally:
            engine.close()
        out = {f.name: getattr(found, f.name) for f in dataclasses.fields(found)
               if f.name not in ("files", "warnings", "amounts")}
        out["amounts"] = {k: (round(t, 6), n) for k, (t, n) in found.amounts.items()}
        out["warnings"] = [d.code for d in found.warnings]
        return out

    parquet, csv_counts = counts("part-*.parquet"), counts("part-*.csv")
    assert parquet == csv_counts
    assert "JD605" in parquet["warnings"]  # time goes backwards within a file
    expected = reference_counts(plan, as_reference([r for part in parts for r in part]),
                                ["smb", "ent"])
    assert {k: (c.visits, c.censored, c.entries, c.still)
            for k, c in parquet["steps"].items()} == expected["steps"]
    assert {k: (c.n, pytest.approx(c.median_days, abs=1e-9))
            for k, c in parquet["moves"].items()} == expected["moves"]
    assert {(k, no, n, c): runs for (k, no), items in parquet["spells"].items()
            for n, c, runs in items} == expected["spells"]


def test_events_mapped_by_a_join_count_as_by_a_case(monkeypatch, tmp_path: Path) -> None:
    """Past `_CASE_NAMES` event names the mapping is a join, not a CASE: the
    same counts (forced here on the shop journey's few names)."""
    from journeydsl.calibrate import sql

    rows = random_log(8)
    _, by_case = counts_of(tmp_path, rows)
    monkeypatch.setattr(sql, "_CASE_NAMES", 0)
    assert "JOIN" in sql.mapped(make_plan(journeydsl.loads(JOURNEY, "shop.journey").journey))
    _, by_join = counts_of(tmp_path, rows)
    assert by_join.steps == by_case.steps and by_join.moves == by_case.moves
    assert by_join.spells == by_case.spells and by_join.unknown_personas == by_case.unknown_personas
    assert by_join.steps

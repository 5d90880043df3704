"""`journey fit` and `journey check --events`: estimates against logs whose
truth is known (made by calibrate/synthetic.py from a journey), the
tables, JSON, `--write` (in place, comments kept, atomic, refused when the
result would not compile), `--scenario`, `--add-moves`, and the drift
warnings in every check format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scipy.stats import beta
from typer.testing import CliRunner

import journeydsl
from journeydsl.calibrate import LogSpec, fit
from journeydsl.calibrate.estimate import interval
from journeydsl.calibrate.synthetic import event_rows, write_csv
from journeydsl.cli import app

runner = CliRunner()

JOURNEY = '''# A small shop; rates from last year's report.
journey "Shop" {
  persona smb "Small" { share 60% }
  persona ent "Large" { share 40% }
  stage visit "Visit" {
    touchpoint ad { event "ad_click" }  # paid clicks only
    touchpoint blog
  }
  stage buy "Buy" {
    touchpoint cart  { event "cart_add" }
    touchpoint order { event "order_paid"; value 40 [ent: 400] }
  }
  entry ad 70% [ent: 40%], blog 30% [ent: 60%]
  ad   -> blog 20%, cart 10% [ent: 5%]
  blog -> cart 15% after 2d
  cart -> order 40% after 1d  # checkout
  order -> order 60% [ent: 80%] after 1mo
  goal order
}
'''


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("shop")
    path = folder / "shop.journey"
    path.write_text(JOURNEY, encoding="utf-8")
    journey = journeydsl.load(path).journey
    write_csv(event_rows(journey, prospects=20_000, seed=5, arrivals_days=300,
                         end_days=400), str(folder / "log.csv"))
    return path, folder / "log.csv"


def fitted(path: Path, log: Path, **columns):
    return fit(journeydsl.load(path).journey, LogSpec.of([str(log)], **columns))


def test_rates_come_back_within_their_intervals(shop) -> None:
    """The log was made from the journey's own rates: each comes back
    inside a wide (99.99%) interval, and few outside the 95% one."""
    result = fitted(*shop)
    moves = [m for g in result.groups for m in g.moves]
    assert {g.persona for g in result.groups} == {"smb", "ent"}
    assert all(m.declared is not None for m in moves)  # no undeclared move
    for m in moves:
        low, high = beta.ppf([0.00005, 0.99995], 1 + m.moves, 1 + m.visits - m.moves)
        assert low <= m.declared <= high, m
    assert sum(m.drift for m in moves) <= 2


def test_entries_values_delays_and_renewals(shop) -> None:
    result = fitted(*shop)
    groups = {g.persona: g for g in result.groups}
    for persona, ad in (("smb", 0.7), ("ent", 0.4)):
        group = groups[persona]
        entries = {e.step: e for e in group.entries}
        n = group.customers
        share = entries["ad"].share
        assert abs(share - ad) < 4 * (ad * (1 - ad) / n) ** 0.5
        assert {v.step: v.mean for v in group.values} == {
            "order": pytest.approx(40 if persona == "smb" else 400)}
        delays = {(m.source, m.target): m.median_days for m in group.moves}
        assert delays[("cart", "order")] == pytest.approx(1.0, abs=1 / 86_400)
        assert delays[("order", "order")] == pytest.approx(30.0, abs=1 / 86_400)
        renewal = next(r for r in group.renewals if r.step == "order")
        assert not renewal.fit.per_customer  # the walks renew at one rate
    assert result.counts.unmapped == []


def test_censoring_keeps_the_rates_unbiased(tmp_path: Path) -> None:
    """A log cut while many customers are still between visits: counting
    their last visits as ends would bias the rates down; censored, they do not."""
    path = tmp_path / "slow.journey"
    path.write_text('journey "Slow" {\n  stage s { touchpoint a; touchpoint b }\n'
                    '  entry a\n  a -> b 50% after 20d\n  goal b\n}\n', encoding="utf-8")
    journey = journeydsl.load(path).journey
    write_csv(event_rows(journey, 4000, seed=2, arrivals_days=100, end_days=100),
              str(tmp_path / "log.csv"))
    move = fit(journey, LogSpec.of([str(tmp_path / "log.csv")])).groups[0].moves[0]
    assert move.low <= 0.5 <= move.high
    naive = fit(journey, LogSpec.of([str(tmp_path / "log.csv")]), window_days=1e-9)
    assert naive.groups[0].moves[0].high < 0.5  # every last visit an end: biased down


def test_blended_declared_rate_is_weighted_by_visits(tmp_path: Path, shop) -> None:
    """Without a persona column, a rate that differs by persona is compared
    as each persona's rate weighted by its expected visits to the step."""
    path, log = shop
    result = fit(journeydsl.load(path).journey, LogSpec.of([str(log)], persona=None))
    (group,) = result.groups
    assert group.persona is None and result.counts.by_persona is False
    ad_cart = next(m for m in group.moves if (m.source, m.target) == ("ad", "cart"))
    visits = {"smb": 0.6 * 0.7, "ent": 0.4 * 0.4}  # share x entries at ad (ad is visited once)
    expected = (visits["smb"] * 0.10 + visits["ent"] * 0.05) / sum(visits.values())
    assert ad_cart.declared == pytest.approx(expected)
    assert ad_cart.low <= expected <= ad_cart.high


def test_interval_is_the_beta_posterior() -> None:
    assert interval(30, 100) == pytest.approx(tuple(beta.ppf([0.025, 0.975], 31, 71)))
    assert interval(0, 50) == (0.0, pytest.approx(beta.ppf(0.95, 1, 51)))
    assert interval(50, 50) == (pytest.approx(beta.ppf(0.05, 51, 1)), 1.0)


# ---------------------------------------------------------------- the command

def run(*args: str):
    return runner.invoke(app, [*args])


def test_text_and_json(shop) -> None:
    path, log = shop
    done = run("fit", str(path), "--events", str(log))
    assert done.exit_code == 0, done.output
    assert "smb: " in done.stdout and "ent: " in done.stdout
    assert "cart -> order" in done.stdout and "Unmapped events: none" in done.stdout
    done = run("fit", str(path), "--events", str(log), "--format", "json")
    data = json.loads(done.stdout)
    assert [g["persona"] for g in data["groups"]] == ["smb", "ent"]
    move = data["groups"][0]["moves"][0]
    assert set(move) == {"source", "target", "declared_move", "declared", "observed", "moves",
                         "visits", "interval", "drift", "declared_delay_days",
                         "median_delay_days"}
    assert move["observed"] == pytest.approx(move["moves"] / move["visits"])
    assert data["log"]["rows"] > 20_000 and data["customers"] == 20_000


def test_write_in_place_keeps_comments_and_compiles(tmp_path: Path, shop) -> None:
    path = tmp_path / "shop.journey"
    path.write_text(JOURNEY, encoding="utf-8")
    os.chmod(path, 0o640)
    done = run("fit", str(path), "--events", str(shop[1]), "--write")
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    for comment in ("# A small shop", "# paid clicks only", "# checkout"):
        assert comment in text
    assert os.stat(path).st_mode & 0o777 == 0o640
    written = journeydsl.load(path)
    assert written.ok, written.diagnostics
    again = fitted(path, shop[1])
    for group in again.groups:  # the written rates are what the log shows
        for m in group.moves:
            assert m.low <= m.declared <= m.high
    moves = written.journey.edges
    assert moves[("cart", "order")].delay_days == pytest.approx(1.0)
    assert moves[("order", "order")].delay_days == pytest.approx(30.0)
    entry = sum(e.rate.mean_for("ent") for e in written.journey.entries)
    assert entry == pytest.approx(1.0, abs=1e-12)


def test_write_scenario_created_then_replaced(tmp_path: Path, shop) -> None:
    path = tmp_path / "shop.journey"
    path.write_text(JOURNEY, encoding="utf-8")
    for _ in range(2):
        done = run("fit", str(path), "--events", str(shop[1]), "--scenario", "observed")
        assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert text.count("scenario observed") == 1
    assert text.startswith(JOURNEY.rstrip().rstrip("}"))  # the baseline is untouched
    result = journeydsl.load(path)
    assert result.ok and result.scenarios == ["observed"]
    compare = run("simulate", str(path), "--compare", "--format", "json")
    assert set(json.loads(compare.stdout)) == {"baseline", "observed"}


def test_add_moves(tmp_path: Path) -> None:
    path = tmp_path / "j.journey"
    path.write_text('journey "j" {\n  stage s { touchpoint a; touchpoint b; touchpoint c }\n'
                    '  entry a\n  a -> b 50%\n  goal b\n}\n', encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\n" + "".join(
        f"u{i},a,2024-01-01T00:00:00Z\nu{i},{'b' if i % 2 else 'c'},2024-01-02T00:00:00Z\n"
        for i in range(20)) + "x,a,2024-12-01T00:00:00Z\n", encoding="utf-8")
    done = run("fit", str(path), "--events", str(log))
    assert "undeclared" in done.stdout
    assert run("fit", str(path), "--events", str(log), "--add-moves").exit_code == 2
    done = run("fit", str(path), "--events", str(log), "--write", "--add-moves")
    assert done.exit_code == 0, done.output
    edges = journeydsl.load(path).journey.edges
    assert edges[("a", "b")].rate.base.mean == 0.5 and edges[("a", "c")].rate.base.mean == 0.5


def test_nothing_is_written_when_the_result_would_not_compile(tmp_path: Path) -> None:
    """An observed rate that, with a rate the log cannot write (it differs by
    persona, and the log has no persona column), passes 100%: refused, the
    file untouched."""
    text = ('journey "j" {\n  persona p { share 50% }\n  persona q { share 50% }\n'
            '  stage s { touchpoint a; touchpoint b; touchpoint c }\n  entry a\n'
            '  a -> b 10%, c 10% [q: 90%]\n  goal b\n}\n')
    path = tmp_path / "j.journey"
    path.write_text(text, encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\n" + "".join(
        f"u{i},a,2024-01-01T00:00:00Z\nu{i},b,2024-01-02T00:00:00Z\n" for i in range(20))
        + "late,a,2024-06-01T00:00:00Z\n", encoding="utf-8")
    done = run("fit", str(path), "--events", str(log), "--write")
    assert done.exit_code == 1
    assert "JD303" in done.output and "was not written" in done.output
    assert path.read_text(encoding="utf-8") == text


def test_nothing_is_written_for_a_bad_log(tmp_path: Path) -> None:
    path = tmp_path / "j.journey"
    path.write_text(JOURNEY, encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\nu1,ad_click,2024-01-01\nu1,cart_add,never\n",
                   encoding="utf-8")
    done = run("fit", str(path), "--events", str(log), "--write")
    assert done.exit_code == 1 and "JD604" in done.output
    assert path.read_text(encoding="utf-8") == JOURNEY


def test_canonical_files_stay_canonical(tmp_path: Path, shop) -> None:
    from journeydsl.fmt import format_text

    path = tmp_path / "shop.journey"
    canonical = format_text(JOURNEY)
    assert canonical is not None
    path.write_text(canonical, encoding="utf-8")
    assert run("fit", str(path), "--events", str(shop[1]), "--write").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert format_text(text) == text


def test_crlf_files_keep_their_line_ends(tmp_path: Path, shop) -> None:
    path = tmp_path / "shop.journey"
    path.write_bytes(JOURNEY.replace("\n", "\r\n").encode("utf-8"))
    assert run("fit", str(path), "--events", str(shop[1]), "--write").exit_code == 0
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")


def test_usage_errors(shop) -> None:
    path, log = shop
    assert run("fit", str(path)).exit_code == 2  # --events is required
    done = run("fit", str(path), "--events", str(log), "--window", "3 days")
    assert done.exit_code == 2 and "--window takes a duration" in done.output
    done = run("fit", str(path), "--events", str(log), "--scenario", "9x")
    assert done.exit_code == 2
    done = run("check", str(path), "--persona", "segment")
    assert done.exit_code == 2 and "go with --events" in done.output


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github"])
def test_check_events_drift_in_every_format(tmp_path: Path, shop, fmt: str) -> None:
    path = tmp_path / "shop.journey"
    path.write_text(JOURNEY.replace("cart -> order 40%", "cart -> order 20%"), encoding="utf-8")
    done = run("check", str(path), "--events", str(shop[1]), "--format", fmt)
    assert done.exit_code == 0, done.output  # a warning
    assert "JD601" in done.output
    strict = run("check", str(path), "--events", str(shop[1]), "--strict", "--format", fmt)
    assert strict.exit_code == 1
    if fmt == "sarif":
        results = json.loads(done.stdout)["runs"][0]["results"]
        drift = [r for r in results if r["ruleId"] == "JD601"]
        assert len(drift) == 2  # both personas
        region = drift[0]["locations"][0]["physicalLocation"]["region"]
        line = JOURNEY.splitlines().index("  cart -> order 40% after 1d  # checkout") + 1
        assert region["startLine"] == line
    if fmt == "json":
        found = [d for d in json.loads(done.stdout) if d["code"] == "JD601"]
        assert found[0]["severity"] == "warning" and "outside what the log shows" in \
            found[0]["message"]


def test_check_events_no_drift(shop) -> None:
    done = run("check", str(shop[0]), "--events", str(shop[1]), "--format", "json")
    assert done.exit_code == 0
    assert [d["code"] for d in json.loads(done.stdout)] in ([], ["JD601"], ["JD601"] * 2)


def test_a_file_edited_during_the_fit_is_not_replaced(tmp_path: Path, shop) -> None:
    from journeydsl.atomic import Snapshot
    from journeydsl.calibrate.apply import WriteRefused, write_fit

    path = tmp_path / "shop.journey"
    path.write_text(JOURNEY, encoding="utf-8")
    snapshot = Snapshot.read(path, 2 ** 20)
    result = journeydsl.load(path)
    fitted_shop = fit(result.journey, LogSpec.of([str(shop[1])]))
    edited = JOURNEY.replace("# checkout", "# checkout, edited meanwhile")
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(WriteRefused, match="changed while it was being fitted"):
        write_fit(snapshot, result, fitted_shop, LogSpec.of([str(shop[1])]), None, False)
    assert path.read_text(encoding="utf-8") == edited


def test_a_delay_the_log_cannot_time_is_kept(tmp_path: Path) -> None:
    """Visits of `a` but no move to `c`: its rate is written (0%), its
    delay stays as written."""
    path = tmp_path / "j.journey"
    path.write_text('journey "j" {\n  stage s { touchpoint a; touchpoint b; touchpoint c }\n'
                    '  entry a\n  a -> b 50% after 2d, c 5% after 1.5mo\n  goal b\n}\n',
                    encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("user,event,time\n" + "".join(
        f"u{i},a,2024-01-01T00:00:00Z\nu{i},b,2024-01-04T00:00:00Z\n" for i in range(10))
        + "late,a,2024-06-01T00:00:00Z\n", encoding="utf-8")
    assert run("fit", str(path), "--events", str(log), "--write").exit_code == 0
    assert "a -> b 100% after 3d, c 0% after 1.5mo" in path.read_text(encoding="utf-8")

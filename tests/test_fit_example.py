"""The worked example of docs/calibration.md: the shipped log is what its
generator makes (seeded), `journey fit` on it matches its goldens, and the
output the page quotes is the real output."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from typer.testing import CliRunner

from journeydsl.calibrate.synthetic import write_csv
from journeydsl.cli import app

from goldens import check_golden

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "examples" / "events" / "saas_trial.csv"
JOURNEY = "examples/saas_trial.journey"
GOLDEN = ROOT / "tests" / "golden" / "fit"
runner = CliRunner()


def test_the_shipped_log_is_its_generators(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make", LOG.parent / "make_saas_trial.py")
    assert spec is not None and spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    write_csv(make.rows(), str(tmp_path / "again.csv"))
    assert (tmp_path / "again.csv").read_bytes() == LOG.read_bytes()


def _fit(monkeypatch, *args: str) -> str:
    monkeypatch.chdir(ROOT)
    done = runner.invoke(app, ["fit", JOURNEY, "--events", "examples/events/saas_trial.csv",
                               *args])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_text_golden(monkeypatch) -> None:
    check_golden(GOLDEN / "saas_trial.txt", _fit(monkeypatch))


def test_json_golden(monkeypatch) -> None:
    check_golden(GOLDEN / "saas_trial.json", _fit(monkeypatch, "--format", "json"))


def test_the_page_quotes_the_real_output(monkeypatch) -> None:
    page = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    output = _fit(monkeypatch)
    fence = re.search(r"\$ journey fit examples/saas_trial.journey --events "
                      r"examples/events/saas_trial.csv\n```\n\n```text\n(.*?)```", page, re.S)
    assert fence is not None
    for line in fence.group(1).splitlines():
        assert line in output.splitlines(), line
    monkeypatch.chdir(ROOT)
    check = runner.invoke(app, ["check", JOURNEY, "--events", "examples/events/saas_trial.csv"])
    shown = re.search(r"```text\n(warning\[JD601\].*?)```", page, re.S)
    assert shown is not None and shown.group(1).strip() in check.output


def test_a_folder_checked_against_a_log_names_the_journey_of_each_log_problem(
        monkeypatch, tmp_path: Path) -> None:
    """`journey check --events LOG journeys/`: a problem located in the log
    says which journeys it is about (a log that marks no step of one journey
    is fine for another); with one file, the message is as it was."""
    monkeypatch.chdir(ROOT)
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "saas.journey").write_text(Path(JOURNEY).read_text(encoding="utf-8"),
                                         encoding="utf-8")
    (folder / "other.journey").write_text(
        'journey "Other" {\n  stage s { touchpoint a\n            touchpoint b }\n'
        "  entry a\n  a -> b 50%\n  goal b\n}\n", encoding="utf-8")
    done = runner.invoke(app, ["check", str(folder), "--events", str(LOG), "--format", "concise"])
    assert done.exit_code == 1, done.output
    unmarked = [line for line in done.stderr.splitlines() if "JD602" in line]
    assert unmarked == [f"{LOG}:1:1: error[JD602] no event of the log marks a step of the "
                        f"journey (journey `{folder / 'other.journey'}`)"]
    assert done.stderr.count("JD601") == 3  # the drifts: located in saas.journey, as they were
    alone = runner.invoke(app, ["check", str(folder / "other.journey"), "--events", str(LOG),
                                "--format", "concise"])
    assert [line for line in alone.stderr.splitlines() if "JD602" in line] == [
        f"{LOG}:1:1: error[JD602] no event of the log marks a step of the journey"]

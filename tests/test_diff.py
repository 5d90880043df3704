"""`journey diff`: two versions of every example (tests/golden/diff/new/,
written by make_new_versions.py), their KPI deltas held to `journey
simulate` run on each side, the outputs as goldens; `--git REV` with used
files at that revision; sides that fail to compile."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from goldens import check_golden
from typer.testing import CliRunner

from journeydsl.cli import app
from journeydsl.diff.kpis import ORDER_DIGITS, Delta, deltas
from journeydsl.diff.render import change
from journeydsl.metrics import HEADLINE

ROOT = Path(__file__).resolve().parents[1]
NEW = ROOT / "tests" / "golden" / "diff" / "new"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.journey"))
runner = CliRunner()


def _run(*args: str, cwd: Path = ROOT, monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.chdir(cwd)
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_every_example_has_a_second_version():
    assert sorted(p.name for p in NEW.glob("*.journey")) == EXAMPLES
    assert sorted(p.name for p in (NEW / "lib").glob("*.journey")) == sorted(
        p.name for p in (ROOT / "examples" / "lib").glob("*.journey"))


def _simulate(path: str, tmp_path: Path) -> dict:
    """`journey simulate --format json`; for a file that fails an `expect`
    line (simulate refuses it, diff does not), the same file without its
    `expect` lines, which do not change a number."""
    simulated = _run("simulate", path, "--format", "json")
    if simulated.exit_code != 0:
        text = (ROOT / path).read_text(encoding="utf-8")
        assert "error[JD501]" in simulated.output and "use " not in text
        bare = tmp_path / Path(path).name
        bare.write_text("".join(line for line in text.splitlines(keepends=True)
                                if not line.lstrip().startswith("expect ")), encoding="utf-8")
        simulated = _run("simulate", str(bare), "--format", "json")
    assert simulated.exit_code == 0, simulated.output
    return json.loads(simulated.stdout)


@pytest.mark.parametrize("name", EXAMPLES)
def test_kpis_are_simulate_on_each_side(name, monkeypatch, tmp_path):
    old, new = f"examples/{name}", f"tests/golden/diff/new/{name}"
    done = _run("diff", old, new, "--format", "json", monkeypatch=monkeypatch)
    assert done.exit_code in (0, 1), done.output
    found = json.loads(done.stdout)
    sides = {label: _simulate(path, tmp_path) for label, path in (("old", old), ("new", new))}
    rows = found["kpis"]["blended"]
    assert [r["metric"] for r in sorted(rows, key=lambda r: r["metric"])] == sorted(
        m.name for m in HEADLINE)
    for row in rows:
        for side in ("old", "new"):
            assert row[side] == sides[side]["blended"]["metrics"][row["json"]], (row, side)
    for persona, persona_rows in found["kpis"]["personas"].items():
        for row in persona_rows:
            for side in ("old", "new"):
                want = sides[side]["personas"][persona]["metrics"][row["json"]]
                assert row[side] == want, (persona, row, side)
    # biggest movers first (to ORDER_DIGITS: equal moves in the metric table's order)
    order = {m.name: i for i, m in enumerate(HEADLINE)}
    moved = [(-float(f"{abs(r['relative']):.{ORDER_DIGITS}g}"), order[r["metric"]])
             for r in rows if r["relative"] is not None]
    assert moved == sorted(moved)
    assert found["structure"], "every second version changes something"


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_outputs(name, fmt, monkeypatch):
    done = _run("diff", f"examples/{name}", f"tests/golden/diff/new/{name}", "--format", fmt,
                monkeypatch=monkeypatch)
    suffix = {"text": "txt", "markdown": "md"}[fmt]
    check_golden(ROOT / "tests" / "golden" / "diff" / f"{Path(name).stem}.{suffix}", done.stdout)


def test_structure_in_journey_terms(monkeypatch):
    done = _run("diff", "examples/saas_trial.journey", "tests/golden/diff/new/saas_trial.journey",
                "--format", "json", monkeypatch=monkeypatch)
    found = json.loads(done.stdout)
    changes = {(c["op"], c["kind"], c["subject"], c["field"]) for c in found["structure"]}
    assert ("renamed", "step", "`demo`", None) in changes
    assert ("removed", "step", "`winback`", None) in changes
    assert ("added", "step", "`chatbot`", None) in changes
    assert ("changed", "transition", "`pricing -> trial`", "rate") in changes
    assert ("changed", "transition", "`procurement -> paying`", "delay") in changes
    assert ("changed", "persona", "`smb`", "share") in changes
    # renamed: its edges compare through the rename, not as removed and added
    assert not any("demo" in c["subject"] and c["kind"] == "transition"
                   for c in found["structure"])
    rate = next(c for c in found["structure"] if c["subject"] == "`pricing -> trial`"
                and c["scenario"] is None)
    assert rate["personas"] == [{"persona": "smb", "old": "25%", "new": "30%"},
                                {"persona": "ent", "old": "10%", "new": "12%"}]
    assert found["renames"]["steps"] == {"demo": "call"}
    (flip,) = [e for e in found["expectations"] if e["flipped"]]
    assert flip["expect"] == "conversion >= 2.6%"
    assert flip["old"]["passed"] and not flip["new"]["passed"]
    assert done.exit_code == 1  # the new side fails an expectation


def test_used_files_are_compared_too(monkeypatch):
    done = _run("diff", "examples/b2b_webinar.journey", "tests/golden/diff/new/b2b_webinar.journey",
                "--format", "json", monkeypatch=monkeypatch)
    found = json.loads(done.stdout)
    subjects = {(c["kind"], c["subject"], c["field"]) for c in found["structure"]}
    assert ("persona", "`founder`", "share") in subjects  # lib/b2b_personas.journey
    assert ("step", "`linkedin`", "cost") in subjects  # lib/b2b_awareness.journey
    files = [f["file"] for f in found["lines"]]
    assert set(files) == {".", "lib/b2b_personas.journey", "lib/b2b_awareness.journey"}


def test_a_side_with_errors_still_gets_its_structure(tmp_path, monkeypatch):
    text = (ROOT / "examples" / "saas_trial.journey").read_text(encoding="utf-8")
    broken = tmp_path / "broken.journey"
    broken.write_text(text.replace("seo_blog   -> pricing 12%", "seo_blog   -> pricing 12%%")
                      .replace("pricing     -> trial 25%", "pricing     -> trial 27%"))
    done = _run("diff", str(ROOT / "examples" / "saas_trial.journey"), str(broken))
    assert done.exit_code == 1
    assert "The new side has 1 error(s):" in done.stdout and "error[JD102]" in done.stdout
    assert "transition `pricing -> trial` rate: 25% [ent: 10%] → 27% [ent: 10%]" in done.stdout
    assert "transition `seo_blog -> pricing` (was 12%)" in done.stdout  # the line that broke
    assert "no KPI deltas: the new side" in done.stdout
    unknown = tmp_path / "unknown.journey"
    unknown.write_text(text.replace("comparison -> pricing 35%", "comparison -> pricng 35%"))
    done = _run("diff", str(ROOT / "examples" / "saas_trial.journey"), str(unknown))
    assert "error[JD201]" in done.stdout and "transition `comparison -> pricng`: 35%" in done.stdout


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                        "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"})


def test_git_reads_the_old_side_and_its_used_files_at_the_revision(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "journeys" / "lib").mkdir(parents=True)
    for name in ("b2b_webinar.journey", "lib/b2b_personas.journey", "lib/b2b_awareness.journey"):
        (repo / "journeys" / name).write_text((ROOT / "examples" / name).read_text("utf-8"))
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    for name in ("b2b_webinar.journey", "lib/b2b_personas.journey", "lib/b2b_awareness.journey"):
        (repo / "journeys" / name).write_text((NEW / name).read_text("utf-8"))
    (repo / "journeys" / "added.journey").write_text(
        (ROOT / "examples" / "saas_trial.journey").read_text("utf-8"))
    monkeypatch.chdir(repo / "journeys")
    done = _run("diff", "--git", "HEAD", "b2b_webinar.journey", "--format", "json")
    assert done.exit_code == 0, done.output
    found = json.loads(done.stdout)
    assert found["old"]["label"] == "HEAD:journeys/b2b_webinar.journey"
    on_disk = json.loads(_run("diff", str(ROOT / "examples" / "b2b_webinar.journey"),
                              str(NEW / "b2b_webinar.journey"), "--format", "json").stdout)
    assert found["structure"] == on_disk["structure"]
    assert found["kpis"] == on_disk["kpis"]
    # a file that is new since the revision: everything is added, no KPI deltas
    done = _run("diff", "--git", "HEAD", "added.journey", "b2b_webinar.journey")
    assert "journey diff  HEAD:journeys/added.journey → added.journey" in done.stdout
    assert "no KPI deltas: the file does not exist on the old side" in done.stdout
    assert "+ step `paid_ad`" in done.stdout
    # the old side's errors are shown at REV:path
    (repo / "journeys" / "lib" / "b2b_personas.journey").write_text("journey { }\n")
    _git(repo, "commit", "-qam", "broken library")
    (repo / "journeys" / "lib" / "b2b_personas.journey").write_text(
        (NEW / "lib" / "b2b_personas.journey").read_text("utf-8"))
    done = _run("diff", "--git", "HEAD", "b2b_webinar.journey")
    assert "The old side has" in done.stdout
    assert "--> HEAD:journeys/lib/b2b_personas.journey:1:9" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["diff", "examples/saas_trial.journey"], "give two files"),
    (["diff", "nope.journey", "nada.journey"], "no such files"),
    (["diff", "--git", "no-such-revision-xyz", "examples/saas_trial.journey"], "journey: "),
])
def test_usage_errors(args, message, monkeypatch):
    done = _run(*args, monkeypatch=monkeypatch)
    assert done.exit_code == 2 and message in done.output


def test_git_outside_a_work_tree(tmp_path):
    path = tmp_path / "x.journey"
    path.write_text('journey "x" { stage s { touchpoint a } ; entry a ; goal a }\n')
    done = _run("diff", "--git", "HEAD", str(path))
    assert done.exit_code == 2 and "journey: " in done.output


def test_captured_outputs_in_the_docs_are_current():
    """A fence after `<!-- captured: PATH -->` shows that golden file exactly
    (rewritten with the goldens: JOURNEY_UPDATE_GOLDEN=1)."""
    import re

    from goldens import updating

    found = 0
    pattern = re.compile(r"^(<!-- captured: (\S+) -->\n```\w*\n)(.*?)^```$", re.M | re.S)
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if updating():
            text = pattern.sub(lambda m: m.group(1) + (ROOT / m.group(2)).read_text(
                encoding="utf-8") + "```", text)
            page.write_text(text, encoding="utf-8")
        for mark in pattern.finditer(text):
            found += 1
            assert mark.group(3) == (ROOT / mark.group(2)).read_text(encoding="utf-8"), (
                f"{page.name}: the output shown is not {mark.group(2)} any more "
                "(JOURNEY_UPDATE_GOLDEN=1 rewrites it)")
    assert found >= 1


def test_per_persona_values_only_where_overrides_make_personas_differ(monkeypatch):
    """Without overrides on either side every persona moves as the value
    does: a per-persona list would only repeat it."""
    done = _run("diff", "examples/b2b_webinar.journey", "tests/golden/diff/new/b2b_webinar.journey",
                "--format", "json", monkeypatch=monkeypatch)
    changes = json.loads(done.stdout)["structure"]
    numbers = [c for c in changes if c["op"] == "changed" and c["field"] in ("rate", "cost")]
    plain = [c for c in numbers if "[" not in c["old"] + c["new"]]
    overridden = [c for c in numbers if "[" in c["old"] + c["new"]]
    assert plain and all(c["personas"] == [] for c in plain)
    assert overridden and all(c["personas"] for c in overridden)


def test_last_digit_noise_is_no_change():
    """The same number reached by different sums (an edit elsewhere reorders a
    solve) is shown as unchanged, and moves equal to ORDER_DIGITS keep the
    metric table's order, so the output does not depend on the last bits."""
    days = next(m for m in HEADLINE if m.unit == "days")
    assert change(Delta(days, 3.0, 3.0 + 4.44e-16)) == "="
    assert change(Delta(days, 3.0, 3.0 + 1e-6)) != "="
    first, second = HEADLINE[0].name, HEADLINE[1].name
    old = {m.name: 1.0 for m in HEADLINE}
    new = {**old, first: 1.1, second: 1.1 + 3e-16}  # the second "moved more", by noise
    assert [d.metric.name for d in deltas(old, new)][:2] == [first, second]
    new = {**old, first: 1.1, second: 1.2}
    assert [d.metric.name for d in deltas(old, new)][:2] == [second, first]


def test_a_side_that_is_not_a_regular_file_says_so(tmp_path, monkeypatch):
    """A FIFO or a folder is never read as a missing file (a diff against
    nothing): that side gets JD001, as `journey check` gives it."""
    fifo = tmp_path / "pipe.journey"
    os.mkfifo(fifo)
    example = "examples/saas_trial.journey"
    for old, new, code in [(fifo, example, 0), (example, tmp_path, 1)]:
        done = _run("diff", str(old), str(new), "--format", "json", monkeypatch=monkeypatch)
        assert done.exit_code == code, done.output
        found = json.loads(done.stdout)
        side = found["old" if old != example else "new"]
        assert side["exists"] and [d["code"] for d in side["diagnostics"]] == ["JD001"]
        assert "not a regular file" in side["diagnostics"][0]["message"]

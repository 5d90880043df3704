"""Golden tests: the exact diagnostics text of every invalid fixture.

Each `tests/golden/invalid/<CODE>_<slug>.journey` has an expected
`<CODE>_<slug>.txt` next to it: the text rendering of all its diagnostics
(`journeydsl.diagnostics.render_text`, no color), joined by blank lines, with
the file shown as `tests/golden/invalid/<CODE>_<slug>.journey` (the tests
load it by that relative path from the repository root). The fixture must
produce its own code, the one its name starts with.

Two cases have only a .txt: the test makes their input itself (GENERATED):
JD001 (a file that cannot be read) and JD004 (a file over the size limit).
JD002 / JD003 fixtures hold raw bytes (invalid UTF-8, a NUL byte): edit them
as bytes, never in a text editor.

The comparison is tests/goldens.py (`check_golden`, byte for byte). To
rewrite the expected files on purpose, after a message changed:

    JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py [-k JD201]

(only the exact value `1` rewrites; `0` or any other value compares), then
read `git diff tests/golden` line by line before committing: the expected
files are the review of what users see. Without `-k`, every expected file
is rewritten.

A fixture with a `<CODE>_<slug>.events.json` beside it is checked against
an event log as `journey check --events` does (the JD6xx codes): the JSON
names the log (`events`, paths relative to the fixtures' folder; files such
as `<CODE>_<slug>.csv` beside it) and any column options.

Valid goldens: every `examples/*.journey` (and any `tests/golden/valid/*.journey`)
compiles with zero diagnostics. Examples are not symlinked into
tests/golden/valid/ (symlinks are not allowed in the repository).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import journeydsl
from journeydsl.diagnostics import render_text

from goldens import check_golden, updating

REPO = Path(__file__).resolve().parents[1]
INVALID = REPO / "tests" / "golden" / "invalid"
VALID = REPO / "tests" / "golden" / "valid"
EXAMPLES = REPO / "examples"
RELATIVE = "tests/golden/invalid"  # how fixture paths are shown in the output


def _missing_file(root: Path) -> str:
    """JD001: a path that does not exist (nothing is created)."""
    return f"{RELATIVE}/JD001_missing_file.journey"


def _too_large(root: Path) -> str:
    """JD004: a 3 MiB journey, over the 2 MiB limit."""
    relative = f"{RELATIVE}/JD004_too_large.journey"
    head = b'journey "Too large" {\n'
    line = b"  # " + b"x" * 75 + b"\n"
    size = 3 * 1024 * 1024
    body = line * ((size - len(head) - 2) // len(line))
    data = head + body
    data += b"#" * (size - len(data) - 2) + b"\n}"
    assert len(data) == size
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


#: Cases whose input the test makes in a temporary directory.
GENERATED = {"JD001_missing_file": _missing_file, "JD004_too_large": _too_large}

FIXTURES = sorted(p.stem for p in INVALID.glob("*.journey"))
CASES = sorted(FIXTURES + list(GENERATED))


#: Codes that are notes (`journey check -v`), not problems: their fixtures
#: render the problems and the notes together.
NOTES = {"JD502"}


def shown(result, name: str = "") -> list:
    """What `journey check` shows of a fixture (with `-v` for a note's)."""
    if name.split("_", 1)[0] in NOTES:
        from journeydsl.diagnostics import sorted_diagnostics

        return sorted_diagnostics(result.diagnostics + result.notes())
    return result.diagnostics


def render(result, name: str = "") -> str:
    return "\n\n".join(render_text(d) for d in shown(result, name)) + "\n"


def compile_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if name in GENERATED:
        monkeypatch.chdir(tmp_path)
        return journeydsl.load(GENERATED[name](tmp_path))
    monkeypatch.chdir(REPO)
    result = journeydsl.load(f"{RELATIVE}/{name}.journey")
    log = INVALID / f"{name}.events.json"
    if log.exists():  # a journey checked against an event log: `journey check --events`
        return _with_log(result, json.loads(log.read_text(encoding="utf-8")))
    return result


def _with_log(result, spec: dict):
    """The journey's diagnostics and those of its event log (JD6xx), as
    `journey check FILE --events LOG [--user COL ...]` finds them; the log's
    paths are relative to the fixtures' folder."""
    from journeydsl.calibrate import LogSpec, check_against_log

    events = [f"{RELATIVE}/{p}" for p in spec.pop("events")]
    found = check_against_log(result.journey, result.source, LogSpec.of(events, **spec))
    return SimpleNamespace(diagnostics=list(result.diagnostics) + found)


@pytest.mark.parametrize("name", CASES)
def test_invalid_golden(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actual = render(compile_case(name, tmp_path, monkeypatch), name)
    expected_file = INVALID / f"{name}.txt"
    if not updating() and not expected_file.exists():
        pytest.fail(f"no expected output {expected_file.relative_to(REPO)}: run "
                    f"JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py -k {name} "
                    "and review what it wrote")
    check_golden(expected_file, actual)


@pytest.mark.parametrize("name", CASES)
def test_fixture_produces_its_own_code(name: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code = name.split("_", 1)[0]
    result = compile_case(name, tmp_path, monkeypatch)
    codes = [d.code for d in shown(result, name)]
    assert code in codes, f"{name} should produce {code}, got {codes}"


def test_fixture_names_are_codes() -> None:
    from journeydsl.diagnostics import REGISTRY

    for name in CASES:
        code, _, slug = name.partition("_")
        assert code in REGISTRY, f"{name}: {code} is not a registered code"
        assert re.fullmatch(r"[a-z0-9_]+", slug), f"{name}: slug should be lowercase snake_case"


def test_no_orphan_expected_files() -> None:
    orphans = sorted(p.name for p in INVALID.glob("*.txt") if p.stem not in CASES)
    assert not orphans, f"expected files without a fixture: {orphans}"


def test_no_symlinks_in_goldens() -> None:
    links = [str(p.relative_to(REPO)) for p in (REPO / "tests" / "golden").rglob("*")
             if p.is_symlink()]
    assert not links, f"symlinks are not allowed: {links}"


VALID_FILES = sorted(EXAMPLES.glob("*.journey")) + sorted(VALID.glob("*.journey"))


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_valid_journey_has_no_diagnostics(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = journeydsl.load(path.relative_to(REPO).as_posix())
    assert result.journey is not None
    assert result.diagnostics == [], render(result)


def test_examples_exist() -> None:
    assert len(list(EXAMPLES.glob("*.journey"))) >= 1

"""The golden helper itself (tests/goldens.py): one update variable, read one
way. Only `JOURNEY_UPDATE_GOLDEN=1` rewrites an expected file; unset, empty,
`0`, `true` or anything else compares and fails on a difference without
touching the file. And no other test module reads the variable itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from goldens import UPDATE_VARIABLE, check_golden, updating

TESTS = Path(__file__).resolve().parent
NOT_UPDATING = ["0", "", "true", "yes", "1 ", " 1", "01", "on"]


def _golden(tmp_path: Path, text: str = "old\n") -> Path:
    path = tmp_path / "golden" / "case.txt"
    path.parent.mkdir()
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("value", NOT_UPDATING, ids=repr)
def test_other_values_compare_and_never_write(value: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE_VARIABLE, value)
    assert not updating()
    path = _golden(tmp_path)
    with pytest.raises(AssertionError, match="differs at line 1"):
        check_golden(path, "new\n")
    with pytest.raises(AssertionError, match="differs in length"):
        check_golden(path, b"old\nmore\n")
    assert path.read_bytes() == b"old\n"
    check_golden(path, "old\n")  # equal: passes


def test_unset_compares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_VARIABLE, raising=False)
    assert not updating()
    path = _golden(tmp_path)
    with pytest.raises(AssertionError):
        check_golden(path, "new\n")
    assert path.read_bytes() == b"old\n"


@pytest.mark.parametrize("value", [None, "0"])
def test_missing_golden_fails_and_is_not_created(value: str | None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv(UPDATE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(UPDATE_VARIABLE, value)
    path = tmp_path / "golden" / "absent.txt"
    with pytest.raises(AssertionError, match="missing golden"):
        check_golden(path, "anything\n")
    assert not path.exists() and not path.parent.exists()


def test_one_rewrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE_VARIABLE, "1")
    assert updating()
    path = _golden(tmp_path)
    check_golden(path, "new\n")
    assert path.read_bytes() == b"new\n"
    created = tmp_path / "fresh" / "deeper" / "case.bin"
    check_golden(created, b"\x00\xff")
    assert created.read_bytes() == b"\x00\xff"


def test_bytes_are_compared_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No newline translation: a CRLF golden does not match LF output."""
    monkeypatch.delenv(UPDATE_VARIABLE, raising=False)
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"a\r\nb\r\n")
    with pytest.raises(AssertionError):
        check_golden(path, "a\nb\n")


def _reads_the_variable(tree: ast.AST) -> list[int]:
    """Lines where a module names the update variable as a value (an
    `os.environ` key, a `getenv` argument ...); mentions inside longer
    strings (docstrings, hints such as "run JOURNEY_UPDATE_GOLDEN=1 ...") are
    fine."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value == UPDATE_VARIABLE]


@pytest.mark.parametrize("path", sorted(p for p in TESTS.glob("*.py") if p.name != "goldens.py"),
                         ids=lambda p: p.name)
def test_only_goldens_py_reads_the_variable(path: Path) -> None:
    lines = _reads_the_variable(ast.parse(path.read_text(encoding="utf-8")))
    assert not lines, (f"{path.name} reads {UPDATE_VARIABLE} itself (line {lines}); use "
                       "`from goldens import check_golden, updating`")

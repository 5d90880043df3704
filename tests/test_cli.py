"""The `journey` command: through typer's CliRunner, and a few real subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

GOOD = 'journey "good" {\n  stage a {}\n  stage b {}\n  entry a\n  a -> b 30%\n  goal b\n}\n'
BAD = 'journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n'
NO_GOAL = 'journey "no goal" {\n  stage a {}\n  entry a\n}\n'

CONCISE = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): "
                     r"(?P<severity>error|warning|info)\[(?P<code>JD\d{3})\] (?P<message>.+)$")
SUMMARY = re.compile(r"^checked \d+ files?: \d+ errors?, \d+ warnings?$")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _invoke(runner: CliRunner, *args: str, **kw):
    result = runner.invoke(app, list(args), **kw)
    # A SystemExit is how typer reports the exit code; anything else is a crash.
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


# ---------------------------------------------------------------- check

def test_check_examples_directory_exits_0(runner):
    result = _invoke(runner, "check", str(EXAMPLES))
    assert result.exit_code == 0, result.stderr
    n = len(list(EXAMPLES.rglob("*.journey")))  # the libraries in examples/lib/ too
    assert n >= 1
    assert f"checked {n} files: 0 errors, 0 warnings" in result.stderr
    assert result.stdout == ""


def test_check_each_example_exits_0(runner):
    for path in sorted(EXAMPLES.glob("*.journey")):
        result = _invoke(runner, "check", str(path))
        assert result.exit_code == 0, (path, result.stderr)


def test_check_good_file(runner, tmp_path):
    path = _write(tmp_path, "good.journey", GOOD)
    result = _invoke(runner, "check", str(path))
    assert result.exit_code == 0
    assert result.stderr.strip() == "checked 1 file: 0 errors, 0 warnings"


def test_bad_file_exits_1_with_rustc_style_text_on_stderr(runner, tmp_path):
    path = _write(tmp_path, "bad.journey", BAD)
    result = _invoke(runner, "check", str(path))
    assert result.exit_code == 1
    err = result.stderr
    assert result.stdout == ""
    assert "error[JD201]: unknown step `pricng`" in err
    assert f" --> {path}:4:8" in err
    lines = err.splitlines()
    source_line = next(i for i, line in enumerate(lines) if line.startswith("4 |"))
    assert lines[source_line] == "4 |   a -> pricng 5%"
    caret = lines[source_line + 1]
    assert re.fullmatch(r"\s*\| +\^+", caret), caret
    # the carets sit exactly under `pricng`
    assert caret.index("^") == lines[source_line].index("pricng")
    assert caret.count("^") == len("pricng")
    assert re.search(r"^\s*= help: ", err, re.M)
    assert "checked 1 file: 1 error, 0 warnings" in err


def test_strict_fails_on_warnings(runner, tmp_path):
    path = _write(tmp_path, "nogoal.journey", NO_GOAL)
    normal = _invoke(runner, "check", str(path))
    assert normal.exit_code == 0
    assert "warning[JD402]" in normal.stderr
    assert "0 errors, 1 warning" in normal.stderr
    strict = _invoke(runner, "check", "--strict", str(path))
    assert strict.exit_code == 1
    assert "warning[JD402]" in strict.stderr


def test_strict_passes_clean_files(runner, tmp_path):
    path = _write(tmp_path, "good.journey", GOOD)
    assert _invoke(runner, "check", "--strict", str(path)).exit_code == 0
    assert _invoke(runner, "check", "--strict", str(EXAMPLES)).exit_code == 0


def test_concise_format_one_line_per_diagnostic(runner, tmp_path):
    bad = _write(tmp_path, "bad.journey", BAD)
    nogoal = _write(tmp_path, "nogoal.journey", NO_GOAL)
    result = _invoke(runner, "check", "--format", "concise", str(bad), str(nogoal))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    expected = (journeydsl.load(bad).diagnostics + journeydsl.load(nogoal).diagnostics)
    assert len(lines) == len(expected) + 1
    assert SUMMARY.match(lines[-1])
    for line in lines[:-1]:
        assert CONCISE.match(line), line
    assert lines[0] == f"{bad}:4:8: error[JD201] unknown step `pricng`"
    assert lines[1].startswith(f"{nogoal}:1:1: warning[JD402] ")
    assert "-->" not in result.stderr and "^" not in result.stderr


def test_concise_short_option(runner, tmp_path):
    bad = _write(tmp_path, "bad.journey", BAD)
    result = _invoke(runner, "check", "-f", "concise", str(bad))
    assert result.exit_code == 1
    assert CONCISE.match(result.stderr.splitlines()[0])


def test_json_format_on_stdout(runner, tmp_path):
    bad = _write(tmp_path, "bad.journey", BAD)
    nogoal = _write(tmp_path, "nogoal.journey", NO_GOAL)
    result = _invoke(runner, "check", "--format", "json", str(bad), str(nogoal))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 2
    first = data[0]
    assert first["code"] == "JD201"
    assert first["severity"] == "error"
    assert first["line"] == 4 and first["column"] == 8
    assert first["path"] == str(bad)
    assert first["message"] == "unknown step `pricng`"
    assert data[1]["code"] == "JD402" and data[1]["severity"] == "warning"
    for item in data:
        assert {"code", "severity", "message", "path", "line", "column"} <= item.keys()
    # machine output only on stdout; nothing human on it
    assert "error[" not in result.stdout


def test_json_format_clean_lists_only_the_expectations_that_hold(runner):
    result = _invoke(runner, "check", "--format", "json", str(EXAMPLES))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data and {d["code"] for d in data} == {"JD502"}  # no problem, only notes
    assert all(d["severity"] == "info" and d["expectation"]["passed"] for d in data)


def test_json_keeps_unicode(runner, tmp_path):
    path = _write(tmp_path, "vn.journey",
                  'journey "x" {\n  stage nhận_thức {}\n  entry nhận_thức\n  nhận_thức -> mua 5%\n'
                  '  goal nhận_thức\n}\n')
    result = _invoke(runner, "check", "--format", "json", str(path))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [("JD201", 4, 16)]


def test_nonexistent_path_exits_2(runner, tmp_path):
    missing = tmp_path / "nope.journey"
    result = _invoke(runner, "check", str(missing))
    assert result.exit_code == 2
    assert str(missing) in result.stderr


def test_nonexistent_among_good_paths_exits_2(runner, tmp_path):
    good = _write(tmp_path, "good.journey", GOOD)
    result = _invoke(runner, "check", str(good), str(tmp_path / "missing"))
    assert result.exit_code == 2


def test_missing_argument_and_bad_option_exit_2(runner):
    assert _invoke(runner, "check").exit_code == 2
    assert _invoke(runner, "check", "--format", "xml", str(EXAMPLES)).exit_code == 2
    assert _invoke(runner, "check", "--no-such-option", str(EXAMPLES)).exit_code == 2
    assert _invoke(runner, "no-such-command").exit_code == 2


def test_directory_without_journey_files_exits_2(runner, tmp_path):
    _write(tmp_path, "notes.txt", "hello")
    result = _invoke(runner, "check", str(tmp_path))
    assert result.exit_code == 2


def test_directory_recursion_finds_nested_journey_files(runner, tmp_path):
    _write(tmp_path, "top.journey", GOOD)
    _write(tmp_path, "a/b/c/deep.journey", BAD)
    _write(tmp_path, "a/other/nogoal.journey", NO_GOAL)
    _write(tmp_path, "a/b/readme.txt", "not a journey: {{{")
    _write(tmp_path, "a/b/bad.journey.bak", "junk {{{")
    result = _invoke(runner, "check", "--format", "concise", str(tmp_path))
    assert result.exit_code == 1
    err = result.stderr
    assert "checked 3 files: 1 error, 1 warning" in err
    assert f"{tmp_path / 'a' / 'b' / 'c' / 'deep.journey'}:4:8: error[JD201]" in err
    assert f"{tmp_path / 'a' / 'other' / 'nogoal.journey'}:1:1: warning[JD402]" in err
    assert "readme" not in err and ".bak" not in err


def test_same_file_twice_is_checked_once(runner, tmp_path):
    bad = _write(tmp_path, "bad.journey", BAD)
    result = _invoke(runner, "check", "--format", "json", str(bad), str(bad), str(tmp_path))
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)) == 1


def test_binary_file_reports_jd003(runner, tmp_path):
    path = _write(tmp_path, "binary.journey", b'journey "x" {\n  \x00\x01\x02\xff\n}\n')
    result = _invoke(runner, "check", str(path))
    assert result.exit_code == 1
    assert "error[JD003]" in result.stderr
    assert f" --> {path}:2:3" in result.stderr
    assert "Traceback" not in result.output


def test_color_never(runner, tmp_path):
    bad = _write(tmp_path, "bad.journey", BAD)
    plain = _invoke(runner, "check", "--color", "never", str(bad))
    assert plain.exit_code == 1
    assert "\x1b[" not in plain.stderr
    assert "error[JD201]" in plain.stderr


def test_color_always_even_when_piped(tmp_path):
    """`--color always` is for pipes (CI logs, `less -R`): the escapes must survive."""
    _write(tmp_path, "bad.journey", BAD)
    done = _run("check", "--color", "always", "bad.journey", cwd=tmp_path)
    assert done.returncode == 1
    assert "JD201" in done.stderr
    assert "\x1b[" in done.stderr
    auto = _run("check", "bad.journey", cwd=tmp_path)  # piped: auto means no color
    assert "\x1b[" not in auto.stderr


def test_version(runner):
    result = _invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"journey {journeydsl.__version__}"


def test_help(runner):
    result = _invoke(runner, "--help")
    assert result.exit_code == 0
    assert "check" in result.stdout
    result = _invoke(runner, "check", "--help")
    assert result.exit_code == 0
    assert "--strict" in result.stdout and "--format" in result.stdout


# ---------------------------------------------------------------- real subprocesses

def _journey_command() -> list[str]:
    exe = shutil.which("journey")
    return [exe] if exe else [sys.executable, "-m", "journeydsl.cli"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([*_journey_command(), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env, timeout=120)


def test_subprocess_check_examples(tmp_path):
    done = _run("check", str(EXAMPLES), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert re.search(r"checked \d+ files: 0 errors, 0 warnings", done.stderr)
    assert _run("--version").stdout.strip() == f"journey {journeydsl.__version__}"


def test_subprocess_never_shows_a_traceback(tmp_path):
    binary = _write(tmp_path, "binary.journey", bytes(range(256)) * 8)
    _write(tmp_path, "junk/utf8.journey", b'journey "x" {\n  stage \xc3\x28 {}\n}\n')
    _write(tmp_path, "junk/braces.journey", "{" * 50_000)
    _write(tmp_path, "junk/parens.journey", 'journey "x" {' + "(" * 50_000)
    _write(tmp_path, "junk/empty.journey", "")
    _write(tmp_path, "junk/string.journey", 'journey "x" {\n  stage a "abc')
    _write(tmp_path, "junk/bom_crlf.journey", b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())

    one = _run("check", str(binary))
    assert one.returncode == 1
    assert "Traceback" not in one.stderr and "Traceback" not in one.stdout
    assert "error[JD003]" in one.stderr
    assert "internal error" not in one.stderr

    every = _run("check", str(tmp_path))
    assert every.returncode == 1
    assert "Traceback" not in every.stderr and "Traceback" not in every.stdout
    assert "internal error" not in every.stderr
    for code in ("JD002", "JD003", "JD005", "JD103"):
        assert f"error[{code}]" in every.stderr, code
    assert "checked 7 files:" in every.stderr


def test_subprocess_json_and_exit_codes(tmp_path):
    _write(tmp_path, "bad.journey", BAD)
    done = _run("check", "--format", "json", "bad.journey", cwd=tmp_path)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [(d["code"], d["path"], d["line"], d["column"]) for d in data] == \
        [("JD201", "bad.journey", 4, 8)]
    assert "Traceback" not in done.stderr
    missing = _run("check", str(tmp_path / "missing.journey"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


# ---------------------------------------------------------------- --max-size

def _big_journey(stages: int) -> str:
    body = "".join(f"  stage s{i} {{}}\n  s{i} -> s{i + 1} 50%\n" for i in range(stages))
    return f'journey "big" {{\n{body}  stage s{stages} {{}}\n  entry s0\n  goal s{stages}\n}}\n'


def test_check_max_size_raises_and_lowers_the_limit(runner, tmp_path):
    text = _big_journey(60_000)  # about 2.3 MB: over the default limit
    path = _write(tmp_path, "big.journey", text)
    assert len(text.encode()) > 2 * 1024 * 1024
    refused = _invoke(runner, "check", str(path))
    assert refused.exit_code == 1
    assert "error[JD004]: file is too large (2.3 MiB; the limit is 2 MiB)" in refused.stderr
    assert "--max-size" in refused.stderr
    accepted = _invoke(runner, "check", "--max-size", "3MB", str(path))
    assert accepted.exit_code == 0, accepted.stderr
    small = _invoke(runner, "check", "--max-size", "1KiB", str(EXAMPLES / "saas_trial.journey"))
    assert small.exit_code == 1
    assert "the limit is 1 KiB" in small.stderr


@pytest.mark.parametrize("size", ["big", "-3", "0", "12 parsecs", ""])
def test_check_max_size_rejects_what_is_not_a_size(runner, size):
    result = _invoke(runner, "check", "--max-size", size, str(EXAMPLES / "saas_trial.journey"))
    assert result.exit_code == 2
    assert "--max-size takes a size" in result.stderr


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path):
    import tracemalloc

    path = tmp_path / "huge.journey"
    with open(path, "wb") as out:
        out.truncate(50 * 1024 * 1024)  # 50 MiB (sparse): only the first bytes are read
    tracemalloc.start()
    result = journeydsl.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [d.code for d in result.diagnostics] == ["JD004"]
    assert "50 MiB" in result.diagnostics[0].message
    assert peak < 8 * 1024 * 1024

"""Every command on every file of tests/corpus/: nasty journeys that `journey check` accepts.

Issue 11's rule: a file either gets a located diagnostic, or every command on
it finishes with finite numbers in bounded time. Each corpus file says in its
first line what it stresses. For every (file, command) pair, run as the CLI
(typer's CliRunner, in process):

- the exit code is 0 or 1, never 3 (an internal error) or a crash, and no
  Python traceback is printed;
- an exit code 1 comes with a diagnostic (`error[JD...]`) or a `journey: ...`
  message saying why;
- JSON output has no Infinity or NaN, and nothing in the text tables or the
  pictures' coordinates reads `inf` or `nan`;
- drop-off + churn + active at horizon = 1, per persona and blended, for
  steps and for stages, exact and Monte Carlo (a capped walk must not vanish);
- levers never promise more than is left (conversion + gain <= 100%, never
  negative), removal effects lie in [0, 1];
- no raw terminal escape, control, bidi or invisible character reaches any
  output, and no numpy RuntimeWarning (overflow, NaN) is raised;
- `fmt` leaves a file whose numbers are the same, and is idempotent.

The bound on each command is a hang guard (SIGALRM), not a timing test:
issue 11 asks for seconds, the guard is generous for a loaded CI runner.
"""

from __future__ import annotations

import re
import shutil
import signal
import time
import traceback
import warnings
from pathlib import Path

import pytest
from invariants import (
    INF_NAN_WORD,
    assert_clean_picture,
    assert_clean_text,
    assert_report,
    strict_json,
)
from typer.testing import CliRunner

from journeydsl.cli import app

CORPUS = Path(__file__).resolve().parent / "corpus"
#: Every file passes `check`; every command runs on the journeys and the
#: libraries next to them (the 32 levels of deep_imports.journey's chain
#: are run through it, not each on its own).
ALL_FILES = sorted(CORPUS.rglob("*.journey"))
FILES = sorted([*CORPUS.glob("*.journey"), *CORPUS.glob("lib/*.journey")])
IDS = [str(p.relative_to(CORPUS)) for p in FILES]
HANG_GUARD_S = 120
MC = ["--method", "monte-carlo", "--prospects", "20000", "--draws", "5"]

#: (name, arguments after the file, what the output is). `{out}` is a path in tmp.
COMMANDS: list[tuple[str, list[str], str]] = [
    ("check", ["check"], "text"),
    ("check-concise", ["check", "-f", "concise"], "text"),
    ("check-json", ["check", "-f", "json"], "json"),
    ("check-sarif", ["check", "-f", "sarif"], "json"),
    ("check-github", ["check", "-f", "github"], "text"),
    ("simulate", ["simulate"], "table"),
    ("simulate-json", ["simulate", "-f", "json"], "report"),
    ("monte-carlo", ["simulate", *MC], "table"),
    ("monte-carlo-json", ["simulate", *MC, "-f", "json"], "report"),
    ("monte-carlo-default", ["simulate", "--method", "monte-carlo", "-f", "json"], "report"),
    ("levers", ["simulate", "--levers"], "table"),
    ("levers-json", ["simulate", "--levers", "-f", "json"], "report"),
    ("attribution", ["simulate", "--attribution"], "table"),
    ("attribution-json", ["simulate", "--attribution", "-f", "json"], "report"),
    ("compare", ["simulate", "--compare"], "table"),
    ("compare-json", ["simulate", "--compare", "-f", "json"], "compare"),
    ("compare-mc-json", ["simulate", "--compare", *MC, "-f", "json"], "compare"),
    ("render-svg", ["render", "-o", "{out}.svg"], "svg"),
    ("render-png", ["render", "-o", "{out}.png"], "binary"),
    ("render-pdf", ["render", "-o", "{out}.pdf"], "binary"),
    ("render-dot", ["render", "-f", "dot"], "text"),
    ("render-mermaid-journey", ["render", "-f", "mermaid-journey"], "text"),
    ("render-mermaid-flowchart", ["render", "-f", "mermaid-flowchart"], "text"),
    ("render-flows", ["render", "--flows", "-o", "{out}.svg"], "svg"),
    ("render-emotion", ["render", "--view", "emotion", "-o", "{out}.svg"], "svg"),
    ("render-board-svg", ["render", "--view", "board", "-o", "{out}.svg"], "svg"),
    ("render-board-html", ["render", "--view", "board", "-o", "{out}.html"], "svg"),
    ("render-board-png", ["render", "--view", "board", "--size", "16:9", "-o", "{out}.png"],
     "binary"),
    ("render-board-pdf-vi", ["render", "--view", "board", "--lang", "vi", "-o", "{out}.pdf"],
     "binary"),
    ("report", ["report", "-o", "{out}.html"], "svg"),
    ("export", ["export"], "json"),
]

class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no handler in the CLI swallows it."""


def _on_alarm(signum, frame):
    raise Hang(f"still running after {HANG_GUARD_S} s (hang guard)")


def run(args: list[str]) -> tuple[int, str, str, float]:
    """The CLI in process: exit code (3 for an exception, as `journey` would), stdout, stderr."""
    runner = CliRunner()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_GUARD_S)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # numpy's overflow and invalid-value warnings would reach the
            # user's terminal: here they fail the command (exit 3)
            warnings.simplefilter("error", RuntimeWarning)
            result = runner.invoke(app, args, catch_exceptions=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    stdout, stderr = result.stdout, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        return 3, stdout, stderr + "\n" + tb, elapsed
    return result.exit_code, stdout, stderr, elapsed


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus-out")


def test_corpus_is_there():
    """The corpus has files, each opening with a comment saying what it stresses."""
    assert len(FILES) >= 30
    for path in ALL_FILES:
        first = path.read_text("utf-8-sig").splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, path


@pytest.mark.parametrize("path", ALL_FILES, ids=[str(p.relative_to(CORPUS)) for p in ALL_FILES])
def test_corpus_file_passes_check(path):
    """Nasty but valid: no errors (warnings are fine)."""
    code, stdout, stderr, _ = run(["check", "-f", "json", str(path)])
    assert code == 0, stderr
    diagnostics = strict_json(stdout)
    assert all(d["severity"] != "error" for d in diagnostics), diagnostics


@pytest.mark.parametrize("name, args, kind", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_command_on_corpus_file(path, name, args, kind, outputs):
    out = outputs / f"{path.stem}.{name}"
    argv = [a.replace("{out}", str(out)) for a in args]
    code, stdout, stderr, elapsed = run([argv[0], str(path), *argv[1:]])
    assert code in (0, 1), f"exit {code} after {elapsed:.1f} s:\n{stderr[-3000:]}"
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        assert_clean_text(text, f"{name} {stream}")
    if code == 1:
        # a located diagnostic, or the command's own one-line refusal
        assert re.search(r"error\[JD\d{3}\]|^journey: ", stderr, re.MULTILINE), stderr[-2000:]
        return
    if kind in ("json", "report", "compare"):
        data = strict_json(stdout)
        reports = list(data.values()) if kind == "compare" else [data] if kind == "report" else []
        for report in reports:
            assert_report(report)
    if kind == "table":
        bad = INF_NAN_WORD.search(stdout)
        assert bad is None, f"{bad.group()!r} in the table: {stdout[max(0, bad.start() - 200):bad.end() + 50]}"
    written = [Path(a) for a in argv if str(out) in a]
    for file in written:
        assert file.stat().st_size > 0, file
        if kind == "svg":
            assert_clean_picture(file.read_text("utf-8"), str(file))


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fmt_keeps_the_numbers(path, tmp_path):
    """`fmt` on a copy (its folder too, for `use`): idempotent, and the same numbers."""
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    target = copy / path.relative_to(CORPUS)
    code, _, stderr, _ = run(["fmt", str(target)])
    assert code == 0, stderr
    code, stdout, stderr, _ = run(["fmt", "--check", str(target)])
    assert code == 0, f"fmt is not idempotent: {stdout}{stderr}"
    before = run(["simulate", "-f", "json", str(path)])
    after = run(["simulate", "-f", "json", str(target)])
    assert before[0] == after[0]
    if before[0] == 0:
        assert strict_json(before[1]) == strict_json(after[1])

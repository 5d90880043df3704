"""`journey fmt` and `journey diff` on every file of tests/corpus/ (issue 11).

test_corpus.py runs the commands that read a file; these two also write
one (fmt) or read two sides, one of them out of git (diff). For every
corpus file, as the CLI (in process, with test_corpus's hang guard and its
numpy-warnings-are-errors rule):

- `fmt --check` and `fmt --diff` write nothing (`--diff` to a pipe is a
  patch of the file's own bytes, hostile ones included: only a terminal
  gets them escaped, tests/test_display.py): the input's bytes and
  modification time are unchanged; the exit code is 0 or 1;
- `fmt` in place (on a copy of the corpus, for its `use` lines) leaves no
  temporary file beside the target and changes nothing but the target;
- `diff` of a file with itself reports no change, and with a version whose
  first rate is changed reports the change (JSON, text, markdown);
- `diff --git HEAD` in a temporary repository, the working copy
  reformatted and its first rate changed, agrees with the two-file diff.

The hostile inputs of tests/golden/invalid/ (every diagnostic's example):
`fmt` rewrites a file only if it parses (it refuses one with a syntax
error, saying so, and leaves it byte for byte), and `diff` against a valid
journey gives a result or a diagnostic, never a traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from invariants import assert_clean_text, strict_json
from test_corpus import CORPUS, FILES, IDS, run

GOLDEN_INVALID = Path(__file__).resolve().parent / "golden" / "invalid"
INVALID = sorted(GOLDEN_INVALID.glob("*.journey"))
#: The first rate written in a file (`12%`, `0.5%`), to change it.
RATE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)%")


def _clean(code: int, stdout: str, stderr: str, what: str) -> None:
    assert code in (0, 1), f"{what}: exit {code}:\n{stderr[-3000:]}"
    if what != "fmt --diff":  # a patch to a pipe carries the file's bytes as they are
        assert_clean_text(stdout, f"{what} stdout")
    assert_clean_text(stderr, f"{what} stderr")
    if code == 1 and "fmt --check" not in what:
        # (diff's exit 1: a new side with errors, shown in its output)
        assert re.search(r'error\[JD\d{3}\]|^journey: |"code": "JD\d{3}"', stderr + stdout,
                         re.MULTILINE), \
            f"{what}: exit 1 without a diagnostic:\n{stderr[-2000:]}"


def _changed_rate(text: str) -> str | None:
    """The text with its first rate outside comments moved (halved, or 1% if
    it was 0%)."""
    offset = 0
    for line in text.splitlines(keepends=True):
        match = None if line.lstrip().startswith("#") else RATE.search(line)
        if match is not None:
            value = float(match.group(1))
            new = "1" if value == 0 else f"{value / 2:g}"
            at = offset + match.start(1)
            return text[:at] + new + text[offset + match.end(1):]
        offset += len(line)
    return None


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fmt_check_and_diff_write_nothing(path):
    before = path.stat().st_mtime_ns, path.read_bytes()
    for args in (["fmt", "--check"], ["fmt", "--diff"]):
        code, stdout, stderr, _ = run([*args, str(path)])
        _clean(code, stdout, stderr, " ".join(args))
        assert (path.stat().st_mtime_ns, path.read_bytes()) == before, args
    # --diff's output is the change fmt would make (empty when --check passes)
    check = run(["fmt", "--check", str(path)])
    diff = run(["fmt", "--diff", str(path)])
    assert (check[0] == 0) == (diff[1].strip() == ""), (check, diff[1][:2000])


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fmt_in_place_touches_only_its_target(path, tmp_path):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    target = copy / path.relative_to(CORPUS)
    others = {k: v for k, v in _snapshot(copy).items()
              if k != str(target.relative_to(copy))}
    code, stdout, stderr, _ = run(["fmt", str(target)])
    _clean(code, stdout, stderr, "fmt")
    assert code == 0, stderr
    after = _snapshot(copy)
    assert set(after) == set(others) | {str(target.relative_to(copy))}, \
        "fmt left a file behind (a temporary?)"
    assert {k: v for k, v in after.items() if k in others} == others
    # the target still compiles with no errors
    code, stdout, _, _ = run(["check", "-f", "json", str(target)])
    assert code == 0 and all(d["severity"] != "error" for d in strict_json(stdout))


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_diff_two_files(path, tmp_path):
    # (each diff simulates both sides: the three formats on the changed pair only)
    code, stdout, stderr, _ = run(["diff", str(path), str(path), "-f", "json"])
    _clean(code, stdout, stderr, "diff (itself) -f json")
    assert code == 0, stderr
    same = strict_json(stdout)
    assert not same["structure"], same["structure"]
    changed = _changed_rate(path.read_text("utf-8-sig"))
    if changed is None:
        return
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    new = copy / path.relative_to(CORPUS)
    new.write_text(changed, "utf-8")
    code, stdout, stderr, _ = run(["diff", str(path), str(new), "-f", "json"])
    _clean(code, stdout, stderr, "diff (a rate changed) -f json")
    # (exit 1: the change made the new side wrong, e.g. shares no longer sum to 100%)
    assert strict_json(stdout)["structure"], "a changed rate is a change"
    for fmt in ("text", "markdown"):
        code, stdout, stderr, _ = run(["diff", str(path), str(new), "-f", fmt])
        _clean(code, stdout, stderr, f"diff (a rate changed) -f {fmt}")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                        "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_git_on_the_corpus(tmp_path, monkeypatch):
    """One repository for the corpus (a commit is slow): each file reformatted
    and its first rate changed in the working copy, then `diff --git HEAD`
    on every file at once and on each alone, compared with the two-file
    diff."""
    repo = tmp_path / "repo"
    shutil.copytree(CORPUS, repo)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "corpus")
    picked = FILES[::4]  # a quarter of the corpus: each diff simulates both sides
    for path in picked:
        target = repo / path.relative_to(CORPUS)
        changed = _changed_rate(target.read_text("utf-8-sig"))
        if changed is not None:
            target.write_text(changed, "utf-8")
        run(["fmt", str(target)])
    monkeypatch.chdir(repo)
    for path in picked:
        name = str(path.relative_to(CORPUS))
        code, stdout, stderr, _ = run(["diff", "--git", "HEAD", name, "-f", "json"])
        _clean(code, stdout, stderr, f"diff --git HEAD {name}")
        found = strict_json(stdout)
        again, on_disk_text, stderr, _ = run(["diff", str(path), name, "-f", "json"])
        assert again == code, stderr
        on_disk = strict_json(on_disk_text)
        assert found["structure"] == on_disk["structure"], name
        assert found["kpis"] == on_disk["kpis"], name


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_fmt_and_diff_on_every_diagnostic_example(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    original = copy.read_bytes()
    code, stdout, stderr, _ = run(["fmt", str(copy)])
    _clean(code, stdout, stderr, f"fmt {path.name}")
    syntax_error = re.search(r"error\[JD(0\d\d|1\d\d)\]", stderr) is not None
    if code == 1 or syntax_error:
        assert copy.read_bytes() == original, "fmt rewrote a file it could not parse"
        assert "not formatted" in stderr or "journey: " in stderr, stderr
    else:  # a file that parses: rewritten, and stable
        code, stdout, stderr, _ = run(["fmt", "--check", str(copy)])
        assert code == 0, f"fmt is not idempotent: {stdout}{stderr}"
    assert list(tmp_path.iterdir()) == [copy], "fmt left a file behind"
    valid = CORPUS / "certain_path.journey"
    for args in ([str(path), str(valid)], [str(valid), str(path)]):
        code, stdout, stderr, _ = run(["diff", *args, "-f", "json"])
        assert code in (0, 1), f"diff {args}: exit {code}:\n{stderr[-3000:]}"
        assert_clean_text(stdout, "diff stdout")
        assert_clean_text(stderr, "diff stderr")
        if code == 0:
            strict_json(stdout)

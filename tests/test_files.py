"""Which files `journey check DIR` and `journey fmt DIR` take (journeydsl.ci.files):
hidden folders and what git ignores are skipped, `--no-ignore` takes them,
files named on the command line are always taken. In temporary git
repositories, through typer's CliRunner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeydsl.ci import files
from journeydsl.cli import app
from journeydsl.ci.files import find_journey_files

BAD = 'journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n'
UNFORMATTED = 'journey "u" {\nstage a {}\n  entry a\n  goal a\n}\n'
CONCISE = re.compile(r"^(?P<path>.+?):\d+:\d+: error\[JD201\]")

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

#: the tree every test starts from; .gitignore ignores node_modules/, build/, *.draft.journey
TREE = ["specs/a.journey", "specs/deep/b.journey", "ü a.journey",
        ".venv/lib/v.journey", "sub/.hidden/h.journey", ".github/journeys/g.journey",
        "node_modules/pkg/n.journey", "build/b.journey", "build/tracked.journey",
        "specs/x.draft.journey"]
KEPT = {"specs/a.journey", "specs/deep/b.journey", "ü a.journey", "build/tracked.journey"}


def _git(repo: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, env=env,
                   check=True, capture_output=True, timeout=60)


def _tree(root: Path, text: str = BAD) -> None:
    for name in TREE:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".gitignore").write_text("node_modules/\nbuild/\n*.draft.journey\n",
                                     encoding="utf-8")


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git repository holding TREE, with build/tracked.journey tracked
    although build/ is ignored; the current directory."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    _tree(root)
    _git(root, "add", "-f", "build/tracked.journey")
    _git(root, "add", "specs/a.journey")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def plain(tmp_path, monkeypatch) -> Path:
    """TREE in a folder that is not in a git work tree."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "plain"
    root.mkdir()
    _tree(root)
    monkeypatch.chdir(root)
    return root


def check(*args: str) -> tuple[int, set[str]]:
    """`journey check --format concise ARGS`: the exit code and the files reported."""
    result = CliRunner().invoke(app, ["check", "--format", "concise", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    reported = {m["path"] for line in result.stderr.splitlines()
                if (m := CONCISE.match(line))}
    return result.exit_code, {Path(p).as_posix() for p in reported}


@needs_git
def test_check_skips_hidden_folders_and_what_git_ignores(repo):
    assert check(".") == (1, KEPT)


@needs_git
def test_no_ignore_takes_everything(repo):
    assert check("--no-ignore", ".") == (1, set(TREE))


@needs_git
def test_a_folder_below_the_root(repo):
    assert check("specs") == (1, {"specs/a.journey", "specs/deep/b.journey"})
    os.chdir(repo / "specs")
    assert check("..") == (1, {f"../{name}" for name in KEPT})


@needs_git
def test_files_named_are_always_checked(repo):
    named = ["node_modules/pkg/n.journey", ".venv/lib/v.journey", "specs/x.draft.journey"]
    assert check(*named) == (1, set(named))


@needs_git
@pytest.mark.parametrize("folder, found", [
    ("node_modules", {"node_modules/pkg/n.journey"}),      # ignored itself
    ("node_modules/pkg", {"node_modules/pkg/n.journey"}),  # inside an ignored folder
    (".github/journeys", {".github/journeys/g.journey"}),  # hidden itself
    (".venv", {".venv/lib/v.journey"}),
])
def test_a_folder_named_is_searched_even_if_ignored_or_hidden(repo, folder, found):
    assert check(folder) == (1, found)


@needs_git
def test_nothing_found_says_what_was_skipped(repo):
    result = CliRunner().invoke(app, ["check", "sub"])
    assert result.exit_code == 2
    assert result.stderr == ("journey: no .journey files found in sub (hidden folders and "
                             "files git ignores are skipped; --no-ignore includes them)\n")
    assert check("--no-ignore", "sub") == (1, {"sub/.hidden/h.journey"})


@needs_git
def test_a_deleted_tracked_file_is_not_listed(repo):
    (repo / "specs" / "a.journey").unlink()
    assert check("specs") == (1, {"specs/deep/b.journey"})


@needs_git
def test_one_git_call(repo, monkeypatch):
    calls = []
    real = subprocess.run

    def counting(command, *args, **kwargs):
        calls.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    for n in range(30):
        (repo / "specs" / f"many{n}").mkdir()
        (repo / "specs" / f"many{n}" / "m.journey").write_text(BAD, encoding="utf-8")
    found, problems = find_journey_files([Path(".")])
    assert not problems and len(found) == len(KEPT) + 30
    assert [c[:2] for c in calls] == [["git", "ls-files"]]


def test_outside_a_git_work_tree_only_hidden_folders_are_skipped(plain):
    hidden = {".venv/lib/v.journey", "sub/.hidden/h.journey", ".github/journeys/g.journey"}
    assert check(".") == (1, set(TREE) - hidden)
    assert check("--no-ignore", ".") == (1, set(TREE))


@needs_git
def test_without_git_only_hidden_folders_are_skipped(repo, monkeypatch):
    monkeypatch.setenv("PATH", str(repo / "no-git-here"))
    hidden = {".venv/lib/v.journey", "sub/.hidden/h.journey", ".github/journeys/g.journey"}
    assert check(".") == (1, set(TREE) - hidden)


@needs_git
def test_git_refusing_the_repository_falls_back(repo, monkeypatch):
    monkeypatch.setattr(files, "_git", lambda folder, *args: (128, b""))
    assert len(find_journey_files([Path(".")])[0]) == len(TREE) - 3


# -------------------------------------------------------------------- fmt

@needs_git
def test_fmt_uses_the_same_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    _git(tmp_path, "init", "-q")
    _tree(tmp_path, UNFORMATTED)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["fmt", "--check", "."])
    assert result.exit_code == 1
    assert {Path(line).as_posix() for line in result.stdout.splitlines()} == \
        KEPT - {"build/tracked.journey"}  # not tracked in this repository
    result = runner.invoke(app, ["fmt", "--check", "--no-ignore", "."])
    assert {Path(line).as_posix() for line in result.stdout.splitlines()} == set(TREE)
    result = runner.invoke(app, ["fmt", "--check", "node_modules/pkg/n.journey"])
    assert result.stdout == "node_modules/pkg/n.journey\n"
    result = runner.invoke(app, ["fmt", "sub"])
    assert result.exit_code == 2 and "--no-ignore includes them" in result.stderr
    result = runner.invoke(app, ["fmt", "."])
    assert result.exit_code == 0
    assert (tmp_path / "node_modules" / "pkg" / "n.journey").read_text() == UNFORMATTED
    assert (tmp_path / "specs" / "a.journey").read_text() != UNFORMATTED

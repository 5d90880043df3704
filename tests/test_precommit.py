"""The integrations: `.pre-commit-hooks.yaml` through a real `pre-commit try-repo`,
and the composite GitHub Action's scripts.

try-repo needs the hooks repository committed; the working tree may have
changes not committed yet, so the test copies it (tracked and new files) into
a temporary git repository. pre-commit then builds the hook's environment
from that copy; it is made offline: the hook's virtualenv sees the site-packages
of the environment running the tests (lark, pydantic, hatchling ... are there,
from the `test` extra) through PYTHONPATH, and pip uses no index and no build
isolation. (Not `--system-site-packages`: when the tests run in a virtual
environment, as the README says, that would show only the base interpreter's
packages.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GOOD = 'journey "good" {\n  stage a {}\n  stage b {}\n  entry a\n  a -> b 30%\n  goal b\n}\n'
BAD = 'journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n'

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(*args, cwd: Path, env: dict | None = None) -> str:
    command = ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args]
    done = subprocess.run(command, check=False, cwd=cwd, env=env or _git_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.invalid",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=os.environ.get("HOME", "/tmp"))
    return env


def _init(path: Path) -> None:
    _git("init", "-q", "-b", "main", ".", cwd=path)


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """A committed copy of the working tree (tracked files and new ones not ignored)."""
    copy = tmp_path_factory.mktemp("hooks-repo")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO)
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPO / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert (copy / ".pre-commit-hooks.yaml").is_file()
    _init(copy)
    _git("add", "-A", cwd=copy)
    _git("commit", "-q", "-m", "hooks", cwd=copy)
    return copy


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("project")
    _init(path)
    (path / "good.journey").write_text(GOOD, encoding="utf-8")
    (path / "bad.journey").write_text(BAD, encoding="utf-8")
    (path / "notes.txt").write_text("not a journey", encoding="utf-8")
    _git("add", "-A", cwd=path)
    return path


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory) -> dict[str, str]:
    pytest.importorskip("pre_commit", reason="pre-commit is a test extra")
    env = _git_env()
    env.pop("VIRTUAL_ENV", None)
    env.update(
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
        PRE_COMMIT_COLOR="never",
        # dependencies (and the build backend) from the environment running the tests
        PYTHONPATH=os.pathsep.join(_site_dirs()),
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's reversed spelling: this *disables* isolation
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def _site_dirs() -> list[str]:
    """The site-packages of the interpreter running the tests (a venv's own)."""
    import site
    import sysconfig

    dirs = [*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    return list(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def _try_repo(hooks_repo: Path, project: Path, env: dict, *args: str):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), "journey-check",
         "--verbose", *args],
        check=False, cwd=project, env=env, capture_output=True, text=True, timeout=900)


def test_hooks_file_declares_both_hooks():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {hook["id"]: hook for hook in hooks}
    assert set(by_id) == {"journey-check", "journey-fmt"}
    assert by_id["journey-check"]["entry"] == "journey check"
    assert by_id["journey-fmt"]["entry"] == "journey fmt"
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["files"] == r"\.journey$"
        assert hook["name"]


def test_try_repo_passes_a_good_file(hooks_repo, project, pre_commit_env):
    done = _try_repo(hooks_repo, project, pre_commit_env, "--files", "good.journey")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "journey check" in done.stdout and "Passed" in done.stdout


def test_try_repo_fails_a_bad_file(hooks_repo, project, pre_commit_env):
    done = _try_repo(hooks_repo, project, pre_commit_env, "--files", "bad.journey")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "error[JD201]: unknown step `pricng`" in done.stdout
    assert "--> bad.journey:4:8" in done.stdout


def test_try_repo_all_files_checks_only_journeys(hooks_repo, project, pre_commit_env):
    done = _try_repo(hooks_repo, project, pre_commit_env, "--all-files")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "checked 2 files: 1 error, 0 warnings" in done.stdout
    assert "notes.txt" not in done.stdout


# ------------------------------------------------------------ GitHub Action

def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def _step(name: str) -> dict:
    return next(step for step in _action()["runs"]["steps"] if step.get("name") == name)


def test_action_is_a_composite_action_with_inputs():
    action = _action()
    assert action["runs"]["using"] == "composite"
    # no `version`: journeydsl comes from the action's checkout, pinned by `uses: ...@ref`
    assert set(action["inputs"]) == {"mode", "paths", "strict", "python-version", "sarif-file",
                                     "base", "github-token"}
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through env only, never spliced into the script
            assert "${{" not in step["run"]
    assert "--format github" in _step("journey check")["run"]


def test_action_installs_from_its_own_checkout(tmp_path):
    """The install script, run with a `python` that records its arguments:
    one pip install of the action's checkout, nothing from an index by name."""
    step = _step("Install journeydsl")
    assert step["env"] == {"JOURNEYDSL_SOURCE": "${{ github.action_path }}"}
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "calls"
    for name in ("python", "journey"):
        (fake / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n', encoding="utf-8")
        (fake / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}/usr/bin{os.pathsep}/bin",
               JOURNEYDSL_SOURCE="/actions/OWNER/journeydsl/v0.1.0")
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], check=False,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text(encoding="utf-8").splitlines() == [
        "python -m pip install --disable-pip-version-check /actions/OWNER/journeydsl/v0.1.0",
        "journey --version",
    ]


def _script_env(**variables: str) -> dict[str, str]:
    """The environment for an action script: the `journey` on PATH imports
    this checkout's journeydsl (the one under test), whatever the directory."""
    import journeydsl

    here = str(Path(journeydsl.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_WORKSPACE"}
    return dict(env, PYTHONPATH=path, **variables)


def _journey_has_ci_formats() -> bool:
    from journeydsl.cli import check as cli

    return "github" in {f.value for f in cli.CheckFormat}


needs_journey = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("journey") is None
    or not _journey_has_ci_formats(),
    reason="needs bash and the `journey` command with `check --format github|sarif` "
           "(cli.py wrapper not pasted yet)")


@needs_journey
@pytest.mark.parametrize("strict, code", [("false", 0), ("true", 1)])
def test_action_check_script(tmp_path, strict, code):
    (tmp_path / "a.journey").write_text(GOOD, encoding="utf-8")
    (tmp_path / "w.journey").write_text('journey "w" {\n  stage a {}\n  entry a\n}\n',
                                        encoding="utf-8")
    env = _script_env(JOURNEY_PATHS="a.journey\n  w.journey", JOURNEY_STRICT=strict)
    script = _step("journey check")["run"]
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], check=False,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stdout.startswith("::warning file=w.journey,")


@needs_journey
def test_action_sarif_script_tolerates_findings(tmp_path):
    import json

    (tmp_path / "bad.journey").write_text(BAD, encoding="utf-8")
    env = _script_env(JOURNEY_PATHS="bad.journey", SARIF_FILE="out.sarif")
    script = _step("Write SARIF")["run"]
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], check=False,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["results"][0]["ruleId"] == "JD201"


@needs_journey
def test_action_scripts_name_files_from_the_workspace(tmp_path):
    """The scripts run in the workspace; a journey below it, or a run from a
    folder below it, is named from the workspace in both outputs."""
    import json

    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "bad.journey").write_text(BAD, encoding="utf-8")
    for cwd, paths in ((tmp_path, "journeys"), (tmp_path / "journeys", "bad.journey")):
        env = _script_env(JOURNEY_PATHS=paths, JOURNEY_STRICT="false", SARIF_FILE="out.sarif",
                          GITHUB_WORKSPACE=str(tmp_path))
        for name in ("Write SARIF", "journey check"):
            done = subprocess.run(["bash", "-eo", "pipefail", "-c", _step(name)["run"]],
                                  check=False, cwd=cwd, env=env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == (0 if name == "Write SARIF" else 1), done.stderr
        assert done.stdout.startswith("::error file=journeys/bad.journey,line=4,col=8,")
        log = json.loads((cwd / "out.sarif").read_text(encoding="utf-8"))
        location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "journeys/bad.journey"

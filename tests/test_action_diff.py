"""The GitHub Action's `diff` mode: its script run in a git repository (the
job summary gets `journey diff --git BASE`), and the one pull-request
comment it keeps up to date (journeydsl.ci.comment) against a fake GitHub
API on localhost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from journeydsl.ci import comment
from journeydsl.diff.render import MARKER

ROOT = Path(__file__).resolve().parents[1]


def _step(name: str) -> dict:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return next(step for step in action["runs"]["steps"] if step.get("name") == name)


class FakeGitHub:
    """Enough of the REST API: list, create and update issue comments."""

    def __init__(self) -> None:
        self.comments: list[dict] = [{"id": 1, "body": "LGTM", "html_url": "u1"}]
        self.calls: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, code: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self):  # noqa: N802
                fake.calls.append(("GET", self.path))
                if self.headers.get("Authorization") != "Bearer secret":
                    return self._reply(401, {"message": "Bad credentials"})
                page = int(self.path.rsplit("page=", 1)[1])
                self._reply(200, fake.comments if page == 1 else [])

            def do_POST(self):  # noqa: N802
                fake.calls.append(("POST", self.path))
                made = {"id": len(fake.comments) + 1, "body": self._body()["body"],
                        "html_url": f"u{len(fake.comments) + 1}"}
                fake.comments.append(made)
                self._reply(201, made)

            def do_PATCH(self):  # noqa: N802
                fake.calls.append(("PATCH", self.path))
                number = int(self.path.rsplit("/", 1)[1])
                found = next(c for c in fake.comments if c["id"] == number)
                found["body"] = self._body()["body"]
                self._reply(200, found)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()


def test_one_comment_created_then_updated(github):
    what, url = comment.upsert(f"{MARKER}\nfirst", "o/r", 7, "secret", github.url)
    assert (what, url) == ("created", "u2")
    what, url = comment.upsert(f"{MARKER}\nsecond", "o/r", 7, "secret", github.url)
    assert (what, url) == ("updated", "u2")
    assert [c["body"] for c in github.comments] == ["LGTM", f"{MARKER}\nsecond"]
    assert ("PATCH", "/repos/o/r/issues/comments/2") in github.calls


def test_refusals_are_one_line_not_a_traceback(github, tmp_path, capsys, monkeypatch):
    body = tmp_path / "d.md"
    body.write_text(f"{MARKER}\nx", encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("JOURNEY_GITHUB_TOKEN", "wrong")
    assert comment.main(["--body-file", str(body)]) == 1
    assert "HTTP 401" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "none.json"))
    assert comment.main(["--body-file", str(body)]) == 0
    assert "not a pull request" in capsys.readouterr().out


def test_long_bodies_are_cut_to_githubs_limit():
    assert len(comment.fit("x" * 100_000)) == comment.LIMIT


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin")})


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("git") is None,
                    reason="needs bash and git")
def test_action_diff_script(tmp_path, github):
    repo = tmp_path / "repo"
    (repo / "journeys").mkdir(parents=True)
    saas = (ROOT / "examples" / "saas_trial.journey").read_text(encoding="utf-8")
    (repo / "journeys" / "saas.journey").write_text(saas, encoding="utf-8")
    (repo / "journeys" / "same.journey").write_text(
        'journey "s" { stage a { touchpoint x }; entry x; goal x }\n', encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout.strip()
    (repo / "journeys" / "saas.journey").write_text(
        saas.replace("pricing     -> trial 25%", "pricing     -> trial 30%"), encoding="utf-8")
    summary = tmp_path / "summary.md"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    import journeydsl

    here = str(Path(journeydsl.__file__).resolve().parents[1])
    bin_dir = tmp_path / "bin"  # `journey` and `python` as the action's steps find them
    bin_dir.mkdir()
    (bin_dir / "journey").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m journeydsl.cli "$@"\n')
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])),
               JOURNEY_PATHS="journeys", JOURNEY_BASE="", PR_BASE_SHA=base, PUSH_BEFORE="",
               JOURNEY_GITHUB_TOKEN="secret", GITHUB_STEP_SUMMARY=str(summary),
               GITHUB_EVENT_PATH=str(event), GITHUB_REPOSITORY="o/r", GITHUB_API_URL=github.url,
               RUNNER_TEMP=str(tmp_path))
    env.pop("GITHUB_WORKSPACE", None)
    for run in range(2):  # pushed twice: still one comment
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", _step("journey diff")["run"]],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert ("created" if run == 0 else "updated") in done.stdout
    written = summary.read_text(encoding="utf-8")
    assert written.startswith(MARKER) and "### `journeys/saas.journey`" in written
    assert "`25% [ent: 10%]` → `30% [ent: 10%]`" in written
    assert "1 other journey file(s) compared: no change" in written
    body = (tmp_path / "journey-diff.md").read_text(encoding="utf-8")
    assert written == body * 2  # each run adds to the summary; the comment is replaced
    assert [c["body"] for c in github.comments][1:] == [body]
    env["PR_BASE_SHA"] = ""
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", _step("journey diff")["run"]],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "::error title=journey diff::" in done.stdout

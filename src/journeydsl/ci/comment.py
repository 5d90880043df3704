"""One pull-request comment that the GitHub Action keeps up to date.

`python -m journeydsl.ci.comment --body-file diff.md` (the action's `diff`
mode runs it when given a token): finds the comment on the pull request
whose body starts with the diff's marker (`<!-- journeydsl-diff -->`) and
replaces its body, or adds the comment if there is none yet, so a pull
request carries one journey diff however often it is pushed to.

It reads the workflow's environment: `JOURNEY_GITHUB_TOKEN` (or
`GITHUB_TOKEN`), `GITHUB_REPOSITORY`, `GITHUB_EVENT_PATH` (the pull
request's number) and `GITHUB_API_URL`. Outside a pull request it says so
and does nothing. Exit codes: 0 done (or nothing to do), 1 the API refused
(the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from ..diff.render import MARKER

#: GitHub refuses comment bodies longer than this (characters).
LIMIT = 65_536


class CommentError(Exception):
    pass


def _call(method: str, url: str, token: str, payload: dict[str, str] | None = None) -> Any:
    """The API's JSON answer (None for an empty body)."""
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "journeydsl",
        **({"Content-Type": "application/json"} if data is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:300]
        raise CommentError(f"{method} {url}: HTTP {err.code} {err.reason} {detail}".strip()) \
            from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise CommentError(f"{method} {url}: {getattr(err, 'reason', err)}") from None


def fit(body: str) -> str:
    """The body cut to GitHub's limit, saying so (the job summary has it all)."""
    if len(body) <= LIMIT:
        return body
    note = ("\n\n… cut here: the comment is longer than GitHub allows; the workflow run's "
            "summary has all of it.\n")
    return body[:LIMIT - len(note)] + note


def upsert(body: str, repository: str, number: int, token: str,
           api: str = "https://api.github.com") -> tuple[str, str]:
    """("updated" or "created", the comment's URL)."""
    base = f"{api.rstrip('/')}/repos/{repository}/issues"
    body = fit(body if body.startswith(MARKER) else f"{MARKER}\n{body}")
    page = 1
    while True:
        comments = _call("GET", f"{base}/{number}/comments?per_page=100&page={page}", token)
        for comment in comments or []:
            if (comment.get("body") or "").startswith(MARKER):
                done = _call("PATCH", f"{base}/comments/{comment['id']}", token, {"body": body})
                return "updated", done.get("html_url", "")
        if not comments or len(comments) < 100:
            break
        page += 1
    done = _call("POST", f"{base}/{number}/comments", token, {"body": body})
    return "created", done.get("html_url", "")


def pull_request_number(event_path: str | None) -> int | None:
    if not event_path or not os.path.isfile(event_path):
        return None
    try:
        with open(event_path, encoding="utf-8") as stream:
            event = json.load(stream)
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number")
    return number if isinstance(number, int) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m journeydsl.ci.comment",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--body-file", required=True, help="the markdown of `journey diff`")
    args = parser.parse_args(argv)
    env = os.environ
    token = env.get("JOURNEY_GITHUB_TOKEN") or env.get("GITHUB_TOKEN")
    repository = env.get("GITHUB_REPOSITORY")
    number = pull_request_number(env.get("GITHUB_EVENT_PATH"))
    if number is None:
        print("journey diff: not a pull request, no comment to write")
        return 0
    if not token or not repository:
        print("journey diff: no token (input `github-token`) or no GITHUB_REPOSITORY: "
              "no comment written", file=sys.stderr)
        return 2
    try:
        with open(args.body_file, encoding="utf-8") as stream:
            body = stream.read()
        what, url = upsert(body, repository, number, token,
                           env.get("GITHUB_API_URL") or "https://api.github.com")
    except (OSError, UnicodeError) as err:
        print(f"journey diff: cannot read {args.body_file}: {err}", file=sys.stderr)
        return 2
    except CommentError as err:
        print(f"journey diff: cannot write the pull-request comment: {err}", file=sys.stderr)
        return 1
    print(f"journey diff: {what} the pull-request comment {url}".rstrip())
    return 0


def run() -> int:
    """`main`, and never a traceback: a bug is one line and exit code 3."""
    try:
        return main()
    except Exception as err:  # a bug in journeydsl
        print(f"journey diff: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(run())

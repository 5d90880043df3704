"""Diagnostics for CI: SARIF 2.1.0 (code scanning) and GitHub workflow commands.

Both are other renderings of the same list of diagnostics as
`diagnostics.render_text`. Columns here count UTF-16 code units (a
character outside the Basic Multilingual Plane, such as an emoji, counts
as 2), as SARIF's default `columnKind` and JavaScript-based viewers expect;
end columns point one past the last character (SARIF's convention).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from ..diagnostics import REGISTRY, Diagnostic, Label, Severity
from ..display import json_shown, lines_shown
from ..language.source import SourceFile

SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
SRCROOT = "%SRCROOT%"

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


# ------------------------------------------------------------------ columns

def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units.

    >>> utf16_len("a😀b"), len("a😀b")
    (4, 3)
    """
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def region(diagnostic: Diagnostic) -> dict[str, int] | None:
    """1-based start/end line and UTF-16 column of the primary span (end exclusive).

    >>> from journeydsl.diagnostics import make
    >>> from journeydsl.language.source import SourceFile, Span
    >>> src = SourceFile("f.journey", "\\"😀\\" -> pricng\\n")
    >>> region(make("JD201", "unknown step `pricng`", src, Span(7, 13)))
    {'startLine': 1, 'startColumn': 9, 'endLine': 1, 'endColumn': 15}
    """
    src, span = diagnostic.source, diagnostic.span
    if src is None or span is None:
        return None
    start_line, start_col = _utf16_line_col(src, span.start)
    end_line, end_col = _utf16_line_col(src, max(span.end, span.start))
    return {"startLine": start_line, "startColumn": start_col,
            "endLine": end_line, "endColumn": end_col}


def _utf16_line_col(src: SourceFile, offset: int) -> tuple[int, int]:
    line, col = src.line_col(offset)
    start = src.line_starts[line - 1]
    return line, utf16_len(src.text[start:start + col - 1]) + 1


# -------------------------------------------------------------------- SARIF

def render_sarif(diagnostics: Iterable[Diagnostic], root: Path) -> str:
    """A SARIF 2.1.0 log with one run: every registered code as a rule, and the results.

    File URIs are relative to `root` (forward slashes, `uriBaseId` `%SRCROOT%`);
    a file outside `root` gets an absolute `file:` URI instead.

    >>> from journeydsl.diagnostics import make
    >>> from journeydsl.language.source import SourceFile, Span
    >>> src = SourceFile("/repo/j/a.journey", "a -> pricng 5%\\n")
    >>> log = json.loads(render_sarif([make("JD201", "unknown step `pricng`", src,
    ...                                     Span(5, 11))], Path("/repo")))
    >>> result = log["runs"][0]["results"][0]
    >>> result["ruleId"], result["level"], result["locations"][0]["physicalLocation"]
    ('JD201', 'error', {'artifactLocation': {'uri': 'j/a.journey', 'uriBaseId': '%SRCROOT%'}, \
'region': {'startLine': 1, 'startColumn': 6, 'endLine': 1, 'endColumn': 12}})
    """
    from .. import __version__

    codes = sorted(REGISTRY)
    rule_index = {code: i for i, code in enumerate(codes)}
    explanations = _explanations()
    rules = [_rule(code, explanations.get(code)) for code in codes]
    results = [_result(d, rule_index, root) for d in diagnostics]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "journeydsl",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    }
    return json_shown(json.dumps(log, indent=2, ensure_ascii=False))


def _explanations() -> dict[str, str]:
    from ..cli.explain import explanations

    try:
        return explanations()
    except OSError:  # no copy of docs/diagnostics.md anywhere: titles only
        return {}


def _rule(code: str, explanation: str | None) -> dict:
    severity, title = REGISTRY[code]
    rule: dict = {
        "id": code,
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
    }
    if explanation:
        from ..cli.explain import summary

        rule["fullDescription"] = {"text": summary(explanation) or title}
        rule["help"] = {"text": explanation, "markdown": explanation}
    else:
        rule["fullDescription"] = {"text": title}
        rule["help"] = {"text": title}
    return rule


def _result(d: Diagnostic, rule_index: dict[str, int], root: Path) -> dict:
    text = d.message + (f"\nhelp: {d.help}" if d.help else "")
    result: dict = {"ruleId": d.code, "level": _SARIF_LEVEL[d.severity],
                    "message": {"text": text}}
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    if d.source is None:
        return result
    artifact = _artifact_location(d.path, root)
    location: dict = {"physicalLocation": {"artifactLocation": artifact}}
    where = region(d)
    if where is not None:
        location["physicalLocation"]["region"] = where
    result["locations"] = [location]
    if d.labels:
        result["relatedLocations"] = [
            {"id": i, "message": {"text": label.message or "related"},
             "physicalLocation": {
                 "artifactLocation": (artifact if label.source is None
                                      else _artifact_location(label.source.path, root)),
                 "region": region(_at(d, label))}}
            for i, label in enumerate(d.labels)
        ]
    return result


def _at(d: Diagnostic, label: Label) -> Diagnostic:
    from dataclasses import replace

    return replace(d, span=label.span, source=label.source or d.source, labels=())


def _artifact_location(path: str, root: Path) -> dict:
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path(os.path.abspath(root)))
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def repository_root(start: Path | None = None) -> Path:
    """The root that SARIF URIs and GitHub annotation paths are relative to:
    the GitHub workspace when `GITHUB_WORKSPACE` is set (in a workflow), else
    the git work tree around `start` (default: the current directory).

    Both formats use it, so a workflow step with a `working-directory:`
    below the checkout still names files as GitHub knows them."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    return Path(workspace) if workspace else find_root(start)


def find_root(start: Path | None = None) -> Path:
    """The enclosing git work tree of `start` (default: the current directory), or `start`."""
    here = Path(os.path.abspath(start or Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


# ------------------------------------------------------------------- GitHub

def escape_data(text: str) -> str:
    """Escape a workflow command's message (control, bidi and invisible
    characters first shown as their escapes: `journeydsl.display`).

    >>> escape_data("100% sure\\nnext\\x1b[2J")
    '100%25 sure%0Anext\\\\u{1b}[2J'
    """
    return lines_shown(text, "\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value (`file=`, `title=` ...).

    >>> escape_property("a:b,c%")
    'a%3Ab%2Cc%25'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Iterable[Diagnostic], root: Path | None = None) -> str:
    """One GitHub Actions workflow command per diagnostic, one a line.

    Paths are shown relative to `root` when given and inside it (GitHub wants
    paths from the repository root: see `repository_root`), else as given.
    Columns are given only for a span on one line (GitHub ignores them otherwise).

    >>> from journeydsl.diagnostics import make
    >>> from journeydsl.language.source import SourceFile, Span
    >>> src = SourceFile("j/a.journey", "a -> pricng 5%\\n")
    >>> print(render_github([make("JD201", "unknown step `pricng`", src, Span(5, 11))]))
    ... # doctest: +NORMALIZE_WHITESPACE
    ::error file=j/a.journey,line=1,col=6,endLine=1,endColumn=12,title=JD201
    unknown step or stage::unknown step `pricng`
    """
    return "\n".join(github_command(d, root) for d in diagnostics)


def github_command(d: Diagnostic, root: Path | None = None) -> str:
    props: list[tuple[str, str]] = []
    if d.source is not None:
        props.append(("file", _github_path(d.path, root)))
        where = region(d)
        if where is not None:
            props.append(("line", str(where["startLine"])))
            if where["startLine"] == where["endLine"]:
                props.append(("col", str(where["startColumn"])))
            props.append(("endLine", str(where["endLine"])))
            if where["startLine"] == where["endLine"]:
                props.append(("endColumn", str(where["endColumn"])))
    title = REGISTRY.get(d.code, (None, ""))[1]
    props.append(("title", f"{d.code} {title}".strip()))
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{_GITHUB_COMMAND[d.severity]} {joined}::{escape_data(message)}"


def _github_path(path: str, root: Path | None) -> str:
    if root is not None:
        try:
            path = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root))).as_posix()
        except ValueError:
            pass
    return path.replace(os.sep, "/") if os.sep != "/" else path


def render_for_ci(diagnostics: Iterable[Diagnostic], fmt: str) -> str:
    """`journey check --format sarif|github` output (for stdout); paths in both
    are relative to the repository root (`repository_root`)."""
    if fmt == "sarif":
        return render_sarif(diagnostics, repository_root())
    if fmt == "github":
        return render_github(diagnostics, repository_root())
    raise ValueError(f"unknown format {fmt!r}")

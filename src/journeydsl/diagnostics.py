"""Diagnostics as data, the code registry, and their text/JSON renderings.

A Diagnostic never raises and never prints itself: stages collect them and
the CLI (or the API caller) decides how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Iterable

from .display import json_shown, lines_shown, shown, width
from .language.source import SourceFile, Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary location, such as "first defined here".

    `source` is set only when the label is in another file than the
    diagnostic (a declaration brought in by `use`)."""

    span: Span
    message: str
    source: SourceFile | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    source: SourceFile | None
    span: Span | None
    help: str | None = None
    labels: tuple[Label, ...] = field(default=())

    @property
    def path(self) -> str:
        return self.source.path if self.source else "<input>"

    @property
    def location(self) -> tuple[int, int]:
        """1-based (line, column) of the primary span."""
        if self.source is None or self.span is None:
            return (1, 1)
        return self.source.line_col(self.span.start)

    def sort_key(self) -> tuple:
        start = self.span.start if self.span else 0
        return (self.path, start, self.code, self.message)


# code -> (severity, one-line title). The long explanation of each code lives
# in docs/diagnostics.md; tests/test_diagnostic_codes.py keeps both in step.
REGISTRY: dict[str, tuple[Severity, str]] = {
    "JD001": (Severity.ERROR, "file cannot be read"),
    "JD002": (Severity.ERROR, "file is not valid UTF-8"),
    "JD003": (Severity.ERROR, "file looks binary"),
    "JD004": (Severity.ERROR, "file is too large"),
    "JD005": (Severity.ERROR, "file has no journey"),
    "JD006": (Severity.INFO, "too many problems"),
    "JD007": (Severity.ERROR, "imported file cannot be used"),
    "JD008": (Severity.ERROR, "import cycle"),
    "JD101": (Severity.ERROR, "syntax error"),
    "JD102": (Severity.ERROR, "unexpected character"),
    "JD103": (Severity.ERROR, "unterminated string"),
    "JD104": (Severity.ERROR, "unclosed `{`"),
    "JD105": (Severity.ERROR, "missing arrow between steps"),
    "JD106": (Severity.ERROR, "more than one journey in a file"),
    "JD107": (Severity.ERROR, "unknown statement"),
    "JD201": (Severity.ERROR, "unknown step or stage"),
    "JD202": (Severity.ERROR, "duplicate id"),
    "JD203": (Severity.ERROR, "unknown persona"),
    "JD204": (Severity.ERROR, "stage with touchpoints used as a source"),
    "JD205": (Severity.ERROR, "qualified name does not resolve"),
    "JD206": (Severity.ERROR, "unknown attribute or setting"),
    "JD207": (Severity.ERROR, "unknown metric"),
    "JD208": (Severity.ERROR, "invalid setting value"),
    "JD209": (Severity.ERROR, "name clash with an imported file"),
    "JD210": (Severity.ERROR, "event mapped to two steps"),
    "JD301": (Severity.ERROR, "rate outside [0, 100%]"),
    "JD302": (Severity.ERROR, "bare number where a rate is expected"),
    "JD303": (Severity.ERROR, "outgoing rates exceed 100%"),
    "JD304": (Severity.ERROR, "entry rates do not sum to 100%"),
    "JD305": (Severity.ERROR, "persona shares do not sum to 100%"),
    "JD306": (Severity.ERROR, "emotion outside 1..5"),
    "JD307": (Severity.ERROR, "wrong kind of value"),
    "JD308": (Severity.ERROR, "missing rate"),
    "JD309": (Severity.ERROR, "unit mismatch in expect"),
    "JD310": (Severity.ERROR, "invalid uncertain rate"),
    "JD311": (Severity.ERROR, "duplicate transition"),
    "JD312": (Severity.ERROR, "chain continues from several targets"),
    "JD313": (Severity.ERROR, "number beyond the limits"),
    "JD314": (Severity.ERROR, "too many `per customer` rates"),
    "JD401": (Severity.ERROR, "no entry"),
    "JD402": (Severity.WARNING, "no goal"),
    "JD403": (Severity.WARNING, "unreachable step"),
    "JD404": (Severity.WARNING, "step can never reach a goal"),
    "JD405": (Severity.ERROR, "closed loop a walk can never leave"),
    "JD406": (Severity.ERROR, "referral cascade never dies out"),
    "JD407": (Severity.WARNING, "uncertain rates can exceed 100%"),
    "JD408": (Severity.ERROR, "loop too fine for the horizon"),
    "JD409": (Severity.WARNING, "margin without a value"),
    "JD501": (Severity.ERROR, "expectation failed"),
    "JD502": (Severity.INFO, "expectation holds"),
    "JD601": (Severity.WARNING, "declared rate outside the observed interval"),
    "JD602": (Severity.ERROR, "event log cannot be used"),
    "JD603": (Severity.ERROR, "event log column missing or of the wrong type"),
    "JD604": (Severity.ERROR, "event log value cannot be read"),
    "JD605": (Severity.WARNING, "time goes backwards in the event log"),
    "JD606": (Severity.WARNING, "persona the journey does not declare"),
}


def make(
    code: str,
    message: str,
    source: SourceFile | None,
    span: Span | None,
    *,
    help: str | None = None,
    labels: Iterable[Label] = (),
    severity: Severity | None = None,
) -> Diagnostic:
    """Build a diagnostic with the registry's severity unless overridden.

    Spans of declarations imported with `use` lie past the end of the
    importing file's text; they are mapped to the file they are in."""
    labels = tuple(labels)
    if source is not None and source.imported:
        root = source
        if span is not None:
            source, span = root.locate(span)
        labels = tuple(_located(label, root, source) for label in labels)
    return Diagnostic(
        code=code,
        severity=severity or REGISTRY[code][0],
        message=message,
        source=source,
        span=span,
        help=help,
        labels=labels,
    )


def _located(label: Label, root: SourceFile, primary: SourceFile) -> Label:
    if label.source is not None:
        return label
    where, span = root.locate(label.span)
    return Label(span, label.message, None if where is primary else where)


def close_matches(word: str, candidates: Iterable[str], n: int = 1,
                  cutoff: float = 0.6) -> list[str]:
    """"Did you mean" candidates (difflib is imported only when a name is wrong)."""
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=cutoff)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


class HasDiagnostics:
    """`ok`, `errors` and `warnings` of anything holding a `diagnostics` list
    (a compilation, a compiled file)."""

    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


class JourneyError(Exception):
    """Errors as an exception, for callers that prefer one (`raise_for_errors`,
    the back ends of the API); its text is the rendered errors."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n\n".join(render_text(d) for d in diagnostics))


# --------------------------------------------------------------------- text

_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;36m",
}
_BOLD, _BLUE, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"
_TAB = "    "


def render_text(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """rustc-style rendering with the source line and a caret underline.

    User text (messages, paths, source lines) is shown with its control,
    bidi and invisible characters escaped (`journeydsl.display`), the carets
    under the escapes.

    >>> from journeydsl.language.source import SourceFile, Span
    >>> src = SourceFile("f.journey", "a -> pricng 5%\\n")
    >>> d = make("JD201", "unknown step `pricng`", src, Span(5, 11),
    ...          help="did you mean `pricing`?")
    >>> print(render_text(d))
    error[JD201]: unknown step `pricng`
     --> f.journey:1:6
      |
    1 | a -> pricng 5%
      |      ^^^^^^
      |
      = help: did you mean `pricing`?
    """
    if color:
        sev, bold, blue, reset = _STYLE[diagnostic.severity], _BOLD, _BLUE, _RESET
    else:
        sev = bold = blue = reset = ""
    out = [f"{sev}{diagnostic.severity.value}[{diagnostic.code}]{reset}{bold}: "
           f"{lines_shown(diagnostic.message)}{reset}"]
    src, span = diagnostic.source, diagnostic.span
    if src is None or span is None:
        out.append(f" {blue}-->{reset} {shown(diagnostic.path)}")
        pad = ""
    else:
        # One snippet per file: the diagnostic's own, then each other file
        # that holds labels (declarations brought in by `use`), as rustc does.
        files: dict[SourceFile, list[tuple[Span, str, str]]] = {src: [(span, "", sev)]}
        for lab in diagnostic.labels:
            files.setdefault(lab.source or src, []).append((lab.span, lab.message, blue))
        numbers = [f.line_col(m[0].start)[0] for f, marks in files.items() for m in marks]
        pad = " " * len(str(max(numbers)))
        for number, (where, marks) in enumerate(files.items()):
            line, col = where.line_col(marks[0][0].start)
            if number:
                out.append(f"{pad} {blue}|{reset}")
            arrow = "-->" if number == 0 else ":::"
            out.append(f"{pad}{blue}{arrow}{reset} {shown(where.path)}:{line}:{col}")
            out.append(f"{pad} {blue}|{reset}")
            out.extend(_snippet(where, marks, pad, blue, reset))
    if diagnostic.help:
        if src is not None and span is not None:
            out.append(f"{pad} {blue}|{reset}")
        out.append(f"{pad} {blue}={reset} {bold}help{reset}: {lines_shown(diagnostic.help)}")
    return "\n".join(out)


def _snippet(src: SourceFile, marks: list[tuple[Span, str, str]], pad: str, blue: str,
             reset: str) -> list[str]:
    """The lines of `src` that hold the marks, with carets (and labels) under them."""
    out: list[str] = []
    gutter = len(pad)
    previous = None
    for number in sorted({src.line_col(s.start)[0] for s, _, _ in marks}):
        if previous is not None and number > previous + 1:
            out.append(f"{blue}{'...':<{gutter}}{reset}")
        previous = number
        line_marks = [m for m in marks if src.line_col(m[0].start)[0] == number]
        text, shift = _window(src.line_text(number), line_marks[0][0].start
                              - src.line_starts[number - 1])
        out.append(f"{blue}{number:>{gutter}} |{reset} {shown(text).replace(chr(9), _TAB)}"
                   .rstrip())
        silent = [m for m in line_marks if not m[1]]
        if silent:  # unlabelled spans on one line share one caret line
            merged: list[str] = []
            for mark_span, _, _ in silent:
                carets = _underline(src, mark_span, text, number, shift)
                merged.extend(" " * (len(carets) - len(merged)))
                for i, char in enumerate(carets):
                    if char == "^":
                        merged[i] = "^"
            style = silent[0][2]
            out.append(f"{pad} {blue}|{reset} {style}{''.join(merged).rstrip()}{reset}")
        for mark_span, message, style in line_marks:
            if message:
                carets = _underline(src, mark_span, text, number, shift)
                out.append(f"{pad} {blue}|{reset} {style}{carets} {shown(message)}{reset}")
    return out


_MAX_SHOWN = 120


def _window(text: str, column: int) -> tuple[str, int]:
    """Cut a long source line to about _MAX_SHOWN characters around `column`.

    Returns the text to show and how many characters were cut on the left
    (minus the one `…` put in their place)."""
    if len(text) <= _MAX_SHOWN:
        return text, 0
    start = max(0, min(column - 40, len(text) - _MAX_SHOWN))
    part = text[start:start + _MAX_SHOWN]
    if start + _MAX_SHOWN < len(text):
        part += "…"
    if start > 0:
        return "…" + part, start - 1
    return part, 0


def _underline(src: SourceFile, span: Span, text: str, line: int, shift: int = 0) -> str:
    line_start = src.line_starts[line - 1] + shift
    start = max(0, span.start - line_start)
    end = min(span.end - line_start, len(text))
    return " " * _width(text[:start]) + "^" * max(1, _width(text[start:end]))


def _width(text: str) -> int:
    """Columns a terminal uses for `text` as shown (escapes included)."""
    return width(shown(text), len(_TAB))


def render_concise(diagnostic: Diagnostic) -> str:
    """One line: ``path:line:col: severity[CODE] message``."""
    line, col = diagnostic.location
    return (f"{shown(diagnostic.path)}:{line}:{col}: {diagnostic.severity.value}"
            f"[{diagnostic.code}] {shown(diagnostic.message)}")


def to_dict(diagnostic: Diagnostic) -> dict:
    line, col = diagnostic.location
    end_line, end_col = (
        diagnostic.source.line_col(diagnostic.span.end)
        if diagnostic.source and diagnostic.span
        else (line, col)
    )
    return {
        "code": diagnostic.code,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "path": diagnostic.path,
        "line": line,
        "column": col,
        "end_line": end_line,
        "end_column": end_col,
        "help": diagnostic.help,
        "labels": [_label_dict(label, diagnostic) for label in diagnostic.labels],
    }


def _label_dict(label: Label, diagnostic: Diagnostic) -> dict:
    src = label.source or diagnostic.source
    line, col = src.line_col(label.span.start) if src else (1, 1)
    out = {"message": label.message, "line": line, "column": col}
    if label.source is not None:
        out["path"] = label.source.path  # only for labels in another file
    return out


def render_json(diagnostics: Iterable[Diagnostic],
                extra: Callable[[Diagnostic], dict] | None = None) -> str:
    """A JSON list of the diagnostics; `extra(d)` adds keys to d's entry."""
    import json

    return json_shown(json.dumps([to_dict(d) | (extra(d) if extra else {}) for d in diagnostics],
                                 indent=2, ensure_ascii=False))

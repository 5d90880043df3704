"""An event log as the user names it: files (globs, folders), their format,
and the columns to read; and the diagnostics about a log (JD602-JD606),
which name the file, the column and an example row.

A log's problems are `Diagnostic`s like a journey's, so every output
format (text, JSON, SARIF, GitHub) shows them; they point at the log file
itself, without a line (a log can be a billion rows): the message says
which row.

>>> spec = LogSpec.of(["events/*.csv"], amount=None)
>>> spec.columns.user, spec.columns.optional
('user', frozenset({'persona'}))
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, close_matches
from ..language.source import SourceFile

#: Formats by file name ending (lower case; `.gz` compressed CSV and JSON
#: lines are read too).
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "json", ".ndjson": "json", ".json": "json"}
_COMPRESSED = (".gz",)


@dataclass(frozen=True)
class Columns:
    """The log's column names. `amount` and `persona` are None when not
    read; `optional` holds those read only if the log has them (the
    defaults, not named on the command line)."""

    user: str = "user"
    event: str = "event"
    time: str = "time"
    amount: str | None = "amount"
    persona: str | None = "persona"
    optional: frozenset[str] = frozenset({"amount", "persona"})

    def named(self) -> dict[str, str]:
        """role -> column, for the columns to read."""
        out = {"user": self.user, "event": self.event, "time": self.time}
        if self.amount is not None:
            out["amount"] = self.amount
        if self.persona is not None:
            out["persona"] = self.persona
        return out

    def without(self, role: str) -> Columns:
        return Columns(**{**self.__dict__, role: None,
                          "optional": self.optional - {role}})


@dataclass(frozen=True)
class LogSpec:
    """What `--events` and the column options say."""

    patterns: tuple[str, ...]
    columns: Columns = field(default_factory=Columns)

    @classmethod
    def of(cls, patterns: list[str] | tuple[str, ...], **names: str | None) -> LogSpec:
        """Columns named by role (`user=`, `persona=` ...); a role left out
        keeps its default, optional for amount and persona; None: not read."""
        defaults = Columns()
        given = {k: v for k, v in names.items()}
        optional = frozenset(r for r in defaults.optional if r not in given)
        values = {**defaults.named(), **given}
        return cls(tuple(patterns), Columns(
            user=values["user"] or "user", event=values["event"] or "event",
            time=values["time"] or "time", amount=values.get("amount"),
            persona=values.get("persona"), optional=optional))

    @property
    def label(self) -> str:
        return ", ".join(self.patterns)


@dataclass(frozen=True)
class LogFiles:
    """The files a LogSpec matched, all of one format."""

    paths: tuple[str, ...]
    format: str  # csv | parquet | json


class LogProblem(Exception):
    """The log cannot be fitted: the diagnostics say why (errors)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.message for d in diagnostics))


def problem(code: str, message: str, where: str, help: str | None = None) -> Diagnostic:
    """A diagnostic about the log file `where` (a path or a pattern)."""
    return diag.make(code, message, SourceFile(where, ""), None, help=help)


def fail(code: str, message: str, where: str, help: str | None = None) -> LogProblem:
    return LogProblem([problem(code, message, where, help)])


def format_of(path: str) -> str | None:
    name = path.lower()
    for ending in _COMPRESSED:
        if name.endswith(ending):
            name = name[: -len(ending)]
    return FORMATS.get(os.path.splitext(name)[1])


def find_files(spec: LogSpec) -> LogFiles:
    """The files the patterns match, sorted, one format; LogProblem (JD602)
    for a pattern that matches nothing, a file of no known format or a mix."""
    found: list[str] = []
    for pattern in spec.patterns:
        path = Path(pattern)
        if path.is_dir():
            matched = sorted(str(p) for p in path.rglob("*")
                             if p.is_file() and format_of(str(p)) and not p.name.startswith("."))
            if not matched:
                raise fail("JD602", f"folder `{pattern}` holds no event log file", pattern,
                           "journey fit reads .csv, .parquet and .jsonl files (also .gz)")
        elif glob.has_magic(pattern):
            matched = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not matched:
                raise fail("JD602", f"no file matches `{pattern}`", pattern,
                           _nearby(pattern))
        elif path.is_file():
            matched = [pattern]
        else:
            raise fail("JD602", f"no such file `{pattern}`" if not path.exists()
                       else f"`{pattern}` is not a regular file", pattern, _nearby(pattern))
        found.extend(m for m in matched if m not in found)
    formats = {p: format_of(p) for p in found}
    unknown = [p for p, f in formats.items() if f is None]
    if unknown:
        raise fail("JD602", f"`{unknown[0]}` is not an event log file this command reads",
                   unknown[0], "name the files .csv, .tsv, .parquet or .jsonl (.gz compressed "
                   "CSV and JSON lines too)")
    kinds = sorted({f for f in formats.values() if f})
    if len(kinds) > 1:
        first = {k: next(p for p, f in formats.items() if f == k) for k in kinds}
        raise fail("JD602", "the log mixes file formats: " + ", ".join(
            f"{k} (`{p}`)" for k, p in first.items()), spec.label,
            "give the files of one format (a glob such as `events/*.parquet`)")
    return LogFiles(tuple(found), kinds[0])


def _nearby(pattern: str) -> str | None:
    folder = os.path.dirname(pattern) or "."
    if not os.path.isdir(folder):
        return f"there is no folder `{folder}`"
    names = sorted(n for n in os.listdir(folder) if format_of(n))
    guess = close_matches(os.path.basename(pattern), names, n=1)
    if guess:
        return f"did you mean `{os.path.join(folder, guess[0]) if folder != '.' else guess[0]}`?"
    if names:
        shown = ", ".join(f"`{n}`" for n in names[:5])
        return f"log files in `{folder}`: {shown}" + (" ..." if len(names) > 5 else "")
    return None


def missing_column(column: str, role: str, where: str, have: list[str]) -> Diagnostic:
    guess = close_matches(column, have, n=1)
    option = f"--{role}"
    hint = (f"did you mean `{guess[0]}`? (name it with `{option} {guess[0]}`)" if guess
            else f"name the {role} column with `{option} COLUMN`; the log's columns: "
            + ", ".join(f"`{c}`" for c in have[:12]) + (" ..." if len(have) > 12 else ""))
    return problem("JD603", f"the log has no column `{column}` (the {role} column)", where, hint)


def shown(value: object) -> str:
    """A value of the log as a message quotes it (cut when long)."""
    text = "" if value is None else str(value)
    text = text.replace("\n", "\\n").replace("`", "'")
    return text if len(text) <= 40 else text[:37] + "..."

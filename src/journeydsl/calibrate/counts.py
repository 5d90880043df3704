"""Run the aggregation on an engine: check the log, count, bring back the
aggregates (`Counts`). Nothing here grows with the log but the number of
distinct event names and persona values.

Bad input stops with a `LogProblem` whose diagnostics name the file, the
column and an example row (JD602-JD604); what is wrong but fittable comes
back as warnings in `Counts.warnings` (JD605 time going backwards, JD606
persona values the journey does not declare).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..diagnostics import Diagnostic
from ..language.compiled import CompiledJourney
from . import shown_rows, sql
from ..diagnostics import close_matches
from .logs import LogFiles, LogProblem, LogSpec, fail, find_files, missing_column, problem, shown
from .plan import Plan

_US = 1_000_000
T = TypeVar("T")


class Engine(Protocol):
    dialect: str

    def columns(self, files: LogFiles) -> dict[str, str]: ...
    def open(self, files: LogFiles, names: dict[str, str], time_type: str) -> None: ...
    def run(self, text: str) -> None: ...
    def materialize(self, name: str, text: str) -> None: ...
    def view(self, name: str, text: str) -> None: ...
    def fetch(self, text: str) -> list[tuple[Any, ...]]: ...
    def fetch_all(self, texts: list[str]) -> list[list[tuple[Any, ...]]]: ...
    def fetch_beside(self, text: str, then: Callable[[list[tuple[Any, ...]]], T], name: str,
                     table: str) -> T: ...
    def progress(self) -> float: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class StepCount:
    visits: int
    censored: int  # visits less than the step's window before the log's end
    entries: int  # first visits
    still: int  # customers whose last visit is censored: they may still move

    @property
    def uncensored(self) -> int:
        return self.visits - self.censored


@dataclass(frozen=True)
class MoveCount:
    n: int
    median_days: float


@dataclass
class Counts:
    """The aggregates of one log against one journey's plan. Keys hold the
    persona key (a declared persona, `sql.NO_PERSONA` or
    `sql.UNKNOWN_PERSONA`) and step numbers."""

    files: LogFiles
    columns: dict[str, str]  # role -> column read
    rows: int
    start_us: int
    end_us: int
    events: dict[str, int]  # rows per event name
    unmapped: list[tuple[str, int]]  # events no step names, most rows first
    steps: dict[tuple[str, int], StepCount] = field(default_factory=dict)
    moves: dict[tuple[str, int, int], MoveCount] = field(default_factory=dict)
    delays: dict[tuple[int, int], MoveCount] = field(default_factory=dict)  # every customer
    amounts: dict[tuple[str, int], tuple[float, int]] = field(default_factory=dict)
    #: (persona key, loop step) -> [(visits in the run, censored, runs)]
    spells: dict[tuple[str, int], list[tuple[int, bool, int]]] = field(default_factory=dict)
    unknown_personas: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def by_persona(self) -> bool:
        return "persona" in self.columns

    def customers(self, key: str | None = None) -> int:
        return sum(c.entries for (k, _), c in self.steps.items() if key is None or k == key)

    def censored(self, key: str | None = None) -> int:
        """Customers whose last visit is censored (they may still move)."""
        return sum(c.still for (k, _), c in self.steps.items() if key is None or k == key)


Progress = Callable[[str], None]


def aggregate(journey: CompiledJourney, plan: Plan, spec: LogSpec, engine: Engine,
              stage: Progress | None = None,
              meanwhile: Callable[[], None] | None = None) -> Counts:
    """The counts of the log `spec` names; LogProblem when it cannot be fitted.
    `meanwhile` is run while the engine orders the events (the longest
    query), once the log is known to be fittable."""
    say = stage or (lambda _: None)
    files = find_files(spec)
    have = engine.columns(files)
    names = _check_columns(spec, files, have)
    engine.open(files, names, have[names["time"]])
    personas = journey.persona_ids if "persona" in names else None
    engine.view("jf_mapped", sql.mapped(plan))
    where = files.paths[0] if len(files.paths) == 1 else spec.label

    loops = [s.number for s in plan.steps if s.loop]

    def statements(end: int) -> list[str]:
        """The counts' queries, the longest first (the engine may run them
        side by side), once the log's end is known."""
        return [sql.visits(), sql.spells(plan, end) if loops else sql.NOTHING, sql.AMOUNTS,
                sql.BACKWARDS]

    def summarized(summary: list[tuple[Any, ...]]) -> Counts:
        """The log's summary checked (LogProblem if it cannot be fitted);
        then, while the engine still orders the events and this thread
        would only wait, the next statements translated to the engine's
        dialect (sqlglot takes a tenth of a second: `transpile` keeps
        them) and `meanwhile`."""
        counts = _summarized(engine, files, names, plan, where, summary)
        for text in [sql.FIX, sql.visits_view(plan, counts.end_us), *statements(counts.end_us)]:
            sql.transpile(text, engine.dialect)
        if meanwhile is not None:
            meanwhile()
        return counts

    # The summary and the ordering pass (which does not need the log's end)
    # run side by side; a log that cannot be fitted stops the ordering.
    say("reading the log and ordering each customer's events")
    counts = engine.fetch_beside(sql.SUMMARY, summarized, "jf_events",
                                 sql.events(plan, personas, len(files.paths)))
    end = counts.end_us
    say("finding the visits")
    engine.materialize("jf_fix", sql.FIX)
    engine.view("jf_visits", sql.visits_view(plan, end))
    say("counting")
    ids = list(journey.persona_ids)
    visit_rows, spell_rows, amount_rows, (backwards,) = engine.fetch_all(statements(end))
    steps: dict[tuple[str, int], list[int]] = {}
    for code, no, nxt, every, visits, censored, entries, still, moved, median in visit_rows:
        found = MoveCount(int(moved), float(median) / _US / 86_400) if moved else None
        if every:
            if found and nxt is not None:
                counts.delays[(int(no), int(nxt))] = found
            continue
        pk = sql.persona_key(int(code), ids)
        total = steps.setdefault((pk, int(no)), [0, 0, 0, 0])
        for i, n in enumerate((visits, censored, entries, still)):
            total[i] += int(n)
        if found and nxt is not None:
            counts.moves[(pk, int(no), int(nxt))] = found
    counts.steps = {key: StepCount(*n) for key, n in sorted(steps.items())}
    for code, no, total_amount, n in amount_rows:
        counts.amounts[(sql.persona_key(int(code), ids), int(no))] = (float(total_amount), int(n))
    for code, no, n, censored, runs in spell_rows:
        counts.spells.setdefault((sql.persona_key(int(code), ids), int(no)), []).append(
            (int(n), bool(censored), int(runs)))
    for spell in counts.spells.values():
        spell.sort()
    if counts.customers(sql.UNKNOWN_PERSONA):
        # Only then: the values are found again among those customers' events.
        unknown = engine.fetch(shown_rows.UNKNOWN_PERSONAS)
        counts.unknown_personas = [(str(p), int(n)) for p, n, _ in unknown]
        counts.warnings.append(_unknown_personas(journey, names["persona"], where, unknown))
    if backwards[0]:
        counts.warnings.append(_backwards(engine, files, names, int(backwards[0]),
                                          str(backwards[1])))
    return counts


def _summarized(engine: Engine, files: LogFiles, names: dict[str, str], plan: Plan, where: str,
                summary: list[tuple[Any, ...]]) -> Counts:
    """Counts with the rows, event names and time span of SUMMARY's rows;
    LogProblem for an empty log, unreadable values or no mapped event."""
    rows = sum(r[1] for r in summary)
    if rows == 0:
        raise fail("JD602", "the event log has no rows", where,
                   "journey fit needs one row per event: user, event, time")
    totals = {key: sum(r[i] or 0 for r in summary)
              for i, key in enumerate(("no_user", "no_time", "bad_time", "bad_amount"), 2)}
    problems = [_unreadable(engine, files, names, key, n)
                for key, n in totals.items() if n]
    if problems:
        raise LogProblem(problems)
    events = {("" if r[0] is None else str(r[0])): int(r[1]) for r in summary}
    unmapped = sorted(((e, n) for e, n in events.items() if e not in plan.events),
                      key=lambda x: (-x[1], x[0]))
    if all(e not in plan.events for e in events):
        top = ", ".join(f"`{shown(e)}`" for e, _ in unmapped[:5])
        raise fail("JD602", "no event of the log marks a step of the journey", where,
                   f"the log's most frequent events are {top}: name them on the steps with "
                   '`event "NAME"` (a step without `event` is marked by its own id)')
    start = min(r[6] for r in summary if r[6] is not None)
    end = max(r[7] for r in summary if r[7] is not None)
    return Counts(files, names, rows, int(start), int(end), events, unmapped)


def _check_columns(spec: LogSpec, files: LogFiles, have: dict[str, str]) -> dict[str, str]:
    """role -> column for the columns to read; LogProblem (JD603) for a
    missing column or one of a type that cannot mean its role."""
    from .duck import ACCEPTED, WANTED  # Spark's types are named like DuckDB's

    where = files.paths[0] if len(files.paths) == 1 else spec.label
    names: dict[str, str] = {}
    problems = []
    for role, name in spec.columns.named().items():
        if name not in have:
            if role not in spec.columns.optional:
                problems.append(missing_column(name, role, where, list(have)))
            continue
        kind = have[name]
        if not kind.upper().startswith(ACCEPTED[role]):
            problems.append(problem(
                "JD603", f"column `{name}` (the {role} column) holds {kind} values", where,
                f"the {role} column must be {WANTED[role]}"
                + ("; epoch numbers are not read as times: convert them to a TIMESTAMP "
                   "column" if role == "time" and kind.upper().startswith(
                       ("INT", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL")) else "")))
            continue
        names[role] = name
    if problems:
        raise LogProblem(problems)
    return names


_WHAT = {
    "no_user": ("user", "has no user"),
    "no_time": ("time", "has no time"),
    "bad_time": ("time", "has a time that cannot be read"),
    "bad_amount": ("amount", "has an amount that is not a number"),
}


def _unreadable(engine: Engine, files: LogFiles, names: dict[str, str], key: str,
                n: int) -> Diagnostic:
    role, what = _WHAT[key]
    f, r, user, event, traw, araw = engine.fetch(shown_rows.example(shown_rows.CONDITIONS[key]))[0]
    path = files.paths[int(f)]
    row = _position(engine, files, int(f), int(r))
    value = {"time": traw, "amount": araw}.get(role)
    shown_value = f": `{shown(value)}`" if value is not None else ""
    message = (f"{row} {what} (column `{names[role]}`){shown_value}"
               + (f", and {n - 1:,} more {'row' if n == 2 else 'rows'}" if n > 1 else ""))
    context = f"user `{shown(user)}`, event `{shown(event)}`"
    help = {
        "time": "write times in ISO 8601, such as 2024-03-01T09:30:00, 2024-03-01 09:30:00Z "
                "or 2024-03-01T09:30:00+07:00 (UTC when no offset is given)",
        "amount": "amounts are plain numbers such as 49 or 1250.50, without currency signs",
        "user": "every row needs the id of the customer it is about",
    }[role]
    return problem("JD604", message, path, f"the row is {context}; {help}")


def _position(engine: Engine, files: LogFiles, file_number: int, row: int) -> str:
    """`line 7` (CSV, JSON lines) or `row 6` (Parquet) of a row within its file."""
    # Counted, not subtracted: an engine's row positions may leave gaps
    # (Spark's increase within each split of a file, not by one).
    before = engine.fetch(f"SELECT COUNT(*) FROM jf_ev WHERE f = {file_number} AND r < {row}")
    within = int(before[0][0]) + 1
    if files.format == "csv":
        return f"line {within + 1}"
    return f"line {within}" if files.format == "json" else f"row {within}"


def _unknown_personas(journey: CompiledJourney, column: str, where: str,
                      unknown: list[tuple[Any, ...]]) -> Diagnostic:
    value, n, user = unknown[0]
    customers = sum(int(u[1]) for u in unknown)
    others = f" and {len(unknown) - 1} more value{'s' * (len(unknown) > 2)}" \
        if len(unknown) > 1 else ""
    declared = ", ".join(f"`{p}`" for p in journey.persona_ids)
    lower = {p.lower(): p for p in journey.persona_ids}
    guess = lower.get(str(value).strip().lower()) or next(iter(close_matches(
        str(value), journey.persona_ids, n=1)), None)
    hint = f"did you mean `{guess}`? " if guess else ""
    return problem(
        "JD606", f"{_plural(customers, 'customer')} with a persona the journey does not "
        f"declare in column `{column}`: `{shown(value)}` ({int(n):,}, such as user "
        f"`{shown(user)}`){others}", where,
        f"{hint}the journey's personas are {declared}; these customers are left out of the "
        "per-persona rates: map the values to persona ids in the log, or declare the persona")


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _backwards(engine: Engine, files: LogFiles, names: dict[str, str], n: int,
               user: str) -> Diagnostic:
    f, r, t = engine.fetch(shown_rows.backwards_example(user))[0]
    later = engine.fetch(shown_rows.earlier_later(user, int(r), int(t)))
    path = files.paths[int(f)]
    here = _position(engine, files, int(f), int(r))
    there = _position(engine, files, int(f), int(later[0][0])) if later else "a later row"
    return problem(
        "JD605", f"time goes backwards for {_plural(n, 'event')} (column `{names['time']}`): user "
        f"`{shown(user)}` has an event on {there} that is earlier than the one on {here}",
        path, "journey fit orders each customer's events by time; if the clock of some events "
        "is off (a time zone missing?), the moves between them are wrong")

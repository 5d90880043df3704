"""The aggregation, written once: SQL text in Spark's dialect, transpiled by
sqlglot to the engine's (DuckDB by default, Spark as it is).

The engine provides one relation, `jf_log`: the log's rows with the user's
columns as they are, plus `jf_file` (the number of the file a row came
from), `jf_row` (the row's position as read, increasing within a file) and
`jf_pos` (one orderable value in the order of file, then row: DuckDB's is a
BIGINT, which sorts faster than the pair; Spark's the pair as a struct).
Everything after that is here:

1. `jf_ev`: the five columns normalized (the user as it is: integer ids
   order faster than their text; event as text, time as
   microseconds since 1970 UTC, amount as a number, persona as text), the
   raw time and amount kept to show a row that cannot be read.
2. `SUMMARY`: per event name, rows and the values that cannot be read, the
   first and last time (one pass; the log's end is its last time).
3. `jf_mapped`: the events some step names, with the step's number (a
   CASE, not a join). `jf_events`: those events in each customer's time
   order (ties in file order, then row order), in one window pass: the customer's
   persona (their first non-empty value, as a number), whether the event starts a
   visit (a new step, or any event at a step that loops on itself), the
   next event, and whether the file had it before an earlier event of the
   same customer (time going backwards). Not whether it is censored (less
   than its step's window before the log's end): the counts read that
   afterwards, so this pass need not know the log's end and runs beside
   SUMMARY.
4. `jf_visits`: the visits, each with the next one (the move and its time)
   and whether it is the customer's first (the entry); `jf_fix` finds the
   next visit of the visits that last several events.
5. The aggregates that come back to Python: VISITS (the steps' counts
   and the moves', one pass), AMOUNTS, SPELLS, BACKWARDS. (`shown_rows.py`
   finds the rows a diagnostic shows.)

Identifiers and literals that come from users are quoted by sqlglot, never
pasted: `column("a`b")` is a safe name.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlglot import exp, parse_one

from .plan import Plan

#: The dialect the text is written in.
SOURCE_DIALECT = "spark"
_DAY_US = 86_400_000_000

#: Persona keys: a customer without a persona value, and one whose value the
#: journey does not declare.
NO_PERSONA = ""
UNKNOWN_PERSONA = "?"
#: The same as numbers, as the aggregation carries them (`pk`); a declared
#: persona's is its position among the journey's personas.
NO_PERSONA_CODE = -2
UNKNOWN_CODE = -1


def persona_key(code: int, personas: list[str]) -> str:
    """The persona key of a `pk` number.

    >>> [persona_key(c, ["smb", "ent"]) for c in (0, 1, -1, -2)]
    ['smb', 'ent', '?', '']
    """
    if code == NO_PERSONA_CODE:
        return NO_PERSONA
    return UNKNOWN_PERSONA if code == UNKNOWN_CODE else personas[code]


def column(name: str) -> str:
    return exp.column(name, quoted=True).sql(SOURCE_DIALECT)


def string(value: str) -> str:
    return exp.Literal.string(value).sql(SOURCE_DIALECT)


def transpile(text: str, dialect: str) -> str:
    """One statement of the aggregation in the engine's dialect."""
    return _transpile(" ".join(text.split()), dialect)


@lru_cache(maxsize=64)
def _transpile(text: str, dialect: str) -> str:
    return parse_one(text, read=SOURCE_DIALECT).sql(dialect)


#: Column types (DuckDB's names, as both engines report them) whose times are
#: read as they are: microseconds since 1970 UTC with no cast. (DuckDB casts
#: a TIMESTAMP to Spark's TIMESTAMP, its TIMESTAMPTZ, through the time zone
#: library, one value at a time: that cast was a fifth of a fit.)
TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def normalized(names: dict[str, str], time_type: str = "VARCHAR") -> str:
    """`jf_ev`: the log's columns by role (user, event, time, amount?,
    persona?) as the aggregation reads them; `time_type` is the time
    column's type."""
    user, event, time = column(names["user"]), column(names["event"]), column(names["time"])
    amount = column(names["amount"]) if "amount" in names else None
    persona = column(names["persona"]) if "persona" in names else None
    micros = (f"UNIX_MICROS({time})" if time_type.upper() in TIMESTAMPS
              else f"UNIX_MICROS(TRY_CAST({time} AS TIMESTAMP))")
    return f"""
        SELECT {user} AS u,
               CAST({event} AS STRING) AS e,
               {micros} AS t,
               CAST({time} AS STRING) AS traw, {time} IS NULL AS tnone,
               {f"TRY_CAST({amount} AS DOUBLE)" if amount else "CAST(NULL AS DOUBLE)"} AS a,
               {f"CAST({amount} AS STRING)" if amount else "CAST(NULL AS STRING)"} AS araw,
               {f"{amount} IS NULL" if amount else "TRUE"} AS anone,
               {f"CAST({persona} AS STRING)" if persona else "CAST(NULL AS STRING)"} AS p,
               jf_file AS f, jf_row AS r, jf_pos AS pos
        FROM jf_log"""


#: Per event name (NULL: rows without one): rows, values that cannot be
#: read, first and last time. (The raw values as text are for the example
#: rows only: formatting every time as text would double this scan.)
SUMMARY = """
    SELECT e, COUNT(*) AS n,
           SUM(CASE WHEN u IS NULL THEN 1 ELSE 0 END) AS no_user,
           SUM(CASE WHEN tnone THEN 1 ELSE 0 END) AS no_time,
           SUM(CASE WHEN NOT tnone AND t IS NULL THEN 1 ELSE 0 END) AS bad_time,
           SUM(CASE WHEN NOT anone AND a IS NULL THEN 1 ELSE 0 END) AS bad_amount,
           MIN(t) AS first_t, MAX(t) AS last_t
    FROM jf_ev GROUP BY e"""


def _values(rows: Iterable[tuple[object, ...]], names: str) -> str:
    items = ", ".join("(" + ", ".join(string(v) if isinstance(v, str) else
                                      ("TRUE" if v is True else "FALSE" if v is False
                                       else repr(v)) for v in row) + ")" for row in rows)
    return f"(VALUES {items}) AS {names}"


#: Up to this many event names are mapped to steps by a CASE expression (no
#: join: cheaper per row); more by a join with the mapping.
_CASE_NAMES = 32


def mapped(plan: Plan) -> str:
    """`jf_mapped`: the events some step names, with the step's number `no`."""
    names = sorted(plan.events.items())
    if len(names) <= _CASE_NAMES:
        cases = " ".join(f"WHEN {string(name)} THEN {int(no)}" for name, no in names)
        return f"""
            SELECT * FROM (SELECT u, t, a, p, f, r, pos, CASE e {cases} END AS no
                           FROM jf_ev) AS x
            WHERE no IS NOT NULL"""
    return f"""
        SELECT ev.u, ev.t, ev.a, ev.p, ev.f, ev.r, ev.pos, jf_map.no
        FROM jf_ev AS ev JOIN {_values(names, "jf_map(event, no)")} ON ev.e = jf_map.event"""


#: Each customer's mapped events in order: by time, ties in file order
#: (`pos`: the file's number, then the row's position within it, as one
#: orderable value: a narrow sort key sorts faster than (t, f, r)).
ORDER = "PARTITION BY u ORDER BY t, pos"


def persona_code(personas: list[str]) -> str:
    """A row's persona value as a number: its position among the journey's
    personas, `UNKNOWN_CODE` for a value the journey does not declare, NULL
    for none. (Numbers, not text, go through the ordering: a narrower row
    sorts faster, and a CASE over text a row was a tenth of the pass.)"""
    cases = "".join(f"WHEN p = {string(name)} THEN {i} " for i, name in enumerate(personas))
    return f"CASE WHEN p IS NULL THEN NULL {cases}ELSE {UNKNOWN_CODE} END"


#: The bits of `jf_events.flags`: whether the event starts a visit (a new
#: step, or any event at a step that loops on itself), is one of a visit
#: of several events at a step that does not loop, starts or ends a run of
#: visits at a loop step, or came in its file after a later event of the
#: customer (time going backwards). One number, not a column each: writing
#: the ordered events is a good part of the pass, and six true/false
#: columns took half a CPU second on 10M events, more than most window
#: functions.
START, DUP, RUN_START, RUN_END, BACK = 1, 2, 4, 8, 16


def flag(bit: int) -> str:
    """Whether an event of `jf_events` has `bit` of its flags."""
    return f"(flags & {bit}) <> 0"


def events(plan: Plan, personas: list[str] | None, files: int = 2) -> str:
    """`jf_events`: the mapped events in each customer's order, in one
    window pass (one sort: what costs most): persona, position, the next
    event, and the `flags` (visit starts, runs at loop steps, time going
    backwards). Not whether an event is censored: `censored` reads that
    from its time afterwards, against the log's end, which this pass need
    not know (so it runs beside SUMMARY).
    Only the columns the counts read are kept, few and narrow (writing the
    table is a good part of the pass): the customer's first event is the
    one with `i = 1`, not a column of its own.

    The persona key `pk` is a number (`persona_key` names it): the
    position of the customer's persona among the journey's, UNKNOWN_CODE
    for a value the journey does not declare, NO_PERSONA_CODE for none.

    A visit's next visit is the next event, except for a visit of several
    events at a step that does not loop (DUP): its next is the event after
    its last one, which `FIX` finds for those visits alone. A run of
    consecutive visits at a loop step is known by its edges, which SPELLS
    pairs: its first event (RUN_START), its last uncensored one (found by
    SPELLS) and its last (RUN_END), with each event's position `i` in the
    customer's order. (Numbering the runs instead takes a running sum, a
    window function that cost as much as the rest of the pass, and
    grouping every event by its run.) `personas`: the journey's, None when the log
    has no persona column; `files`: how many files the log has (with one,
    every event is in the previous one's file)."""
    # Without a persona column (personas None) no window works it out.
    persona = (f"COALESCE(FIRST_VALUE(pc) IGNORE NULLS OVER ({ORDER} ROWS BETWEEN UNBOUNDED "
               f"PRECEDING AND UNBOUNDED FOLLOWING), {NO_PERSONA_CODE})") \
        if personas is not None else str(NO_PERSONA_CODE)
    code = persona_code(personas) if personas is not None else "CAST(NULL AS INT)"
    loops = [s.number for s in plan.steps if s.loop]
    loop = f"no IN ({', '.join(str(n) for n in loops)})" if loops else "FALSE"
    prev_file = "" if files == 1 else f", LAG(f) OVER ({ORDER}) AS prev_f"
    file = "" if files == 1 else "f, "  # carried through the ordering only when needed
    # The bits as nested CASEs, each condition tested once (a loop step's
    # bits and the others' are exclusive): a sum of five CASEs, each with
    # its own ORs and COALESCEs, cost a quarter of a CPU second more on
    # 10M events (3.8 against 3.55 for the pass). A NULL condition (no
    # previous or next event) takes the ELSE branch, as FALSE would.
    bits = f"""
        CASE WHEN {loop}
             THEN {START} + CASE WHEN first OR prev_no <> no THEN {RUN_START} ELSE 0 END
                  + CASE WHEN next_no IS NULL OR next_no <> no THEN {RUN_END} ELSE 0 END
             ELSE CASE WHEN first OR prev_no <> no THEN {START} ELSE 0 END
                  + CASE WHEN prev_no = no OR next_no = no THEN {DUP} ELSE 0 END END
        + CASE WHEN {'' if files == 1 else 'prev_f = f AND '}prev_pos > pos THEN {BACK} ELSE 0 END"""
    return f"""
        SELECT u, t, a, no, pk, next_no, next_t, i, {bits} AS flags
        FROM (SELECT *, (prev_no IS NULL) AS first
              FROM (SELECT u, t, pos, {file}a, no, {persona} AS pk,
                           LAG(no) OVER ({ORDER}) AS prev_no,
                           LEAD(no) OVER ({ORDER}) AS next_no,
                           LEAD(t) OVER ({ORDER}) AS next_t,
                           LAG(pos) OVER ({ORDER}) AS prev_pos{prev_file},
                           ROW_NUMBER() OVER ({ORDER}) AS i
                    FROM (SELECT u, t, pos, {file}a, no, {code} AS pc FROM jf_mapped) AS m
                    ) AS x) AS y"""


def censored(plan: Plan, end: int, time: str = "t") -> str:
    """Whether an event at step `no` and `time` is censored: less than its
    step's window before the log's `end`.

    The steps are grouped by their window, the window most steps share
    in the ELSE (every `no` is a step's; one window for all: no CASE): a
    CASE tests its branches one after another on every visit, and a
    branch per step took 0.79 CPU seconds against 0.70 for the steps and
    moves' query on 10.2M events (six steps, three windows)."""
    steps: dict[int, list[int]] = {}
    for s in plan.steps:
        steps.setdefault(round(s.window_days * _DAY_US), []).append(s.number)
    *others, (common, _) = sorted(steps.items(), key=lambda item: (len(item[1]), item[0]))
    others.reverse()  # the windows of the most steps first: tested first
    window = ("CASE " + " ".join(f"WHEN no IN ({', '.join(str(n) for n in numbers)}) THEN {w}"
                                 for w, numbers in others) + f" ELSE {common} END"
              if others else str(common))
    return f"({int(end)} - {time} < {window})"


#: Each customer's events in order, as `jf_events` numbers them.
IN_ORDER = "PARTITION BY u ORDER BY i"

#: `jf_fix`: the visits of several events at a step that does not loop,
#: with their next visit: the next of their last event. Only those
#: visits' first and last events are ordered again (few in most logs).
FIX = f"""
    SELECT u, no, t, pk, i, nn AS next_no, nt AS next_t
    FROM (SELECT u, no, t, pk, i, flags,
                 LEAD(next_no) OVER ({IN_ORDER}) AS nn,
                 LEAD(next_t) OVER ({IN_ORDER}) AS nt
          FROM jf_events
          WHERE {flag(DUP)} AND ({flag(START)} OR next_no IS NULL OR next_no <> no)) AS x
    WHERE {flag(START)}"""


def visits_view(plan: Plan, end: int) -> str:
    """`jf_visits`: every visit with its next (the move and its time),
    whether it is the customer's first and whether it is censored."""
    return f"""
        SELECT u, no, t, pk, {censored(plan, end)} AS cens, i = 1 AS first, next_no, next_t
        FROM (SELECT u, no, t, pk, i, next_no, next_t FROM jf_events
              WHERE {flag(START)} AND NOT {flag(DUP)}
              UNION ALL
              SELECT u, no, t, pk, i, next_no, next_t FROM jf_fix) AS v"""


def visits() -> str:
    """Per persona key, step and next step (NULL: none), over the visits:
    how many, how many censored, entries, censored last visits (customers
    who may still move), and the moves out of uncensored visits with the
    median time they took (µs); and (the grouping set with `pk` NULL,
    flagged `every`) the moves and median over every customer: the delay
    written is every customer's (a move has one `after`, whatever the
    persona). One pass for the steps' counts and the moves'. (The medians
    take the moves alone by FILTER, a little cheaper than a CASE giving
    the other visits NULL.)

    A visit is censored when it is less than its step's window before the
    log's end: what came of it is not known yet (a move may still come),
    so it counts neither as an end nor as a visit that could move, and a
    move out of it is left out too (counting the moves seen that soon but
    not the ends would bias every rate up)."""
    return """
        SELECT pk, no, next_no, GROUPING(pk) AS every, COUNT(*) AS visits,
               SUM(CASE WHEN cens THEN 1 ELSE 0 END) AS censored,
               SUM(CASE WHEN first THEN 1 ELSE 0 END) AS entries,
               SUM(CASE WHEN next_no IS NULL AND cens THEN 1 ELSE 0 END) AS still,
               SUM(CASE WHEN next_no IS NOT NULL AND NOT cens THEN 1 ELSE 0 END) AS moves,
               MEDIAN(next_t - t) FILTER (WHERE next_no IS NOT NULL AND NOT cens) AS median_us
        FROM jf_visits GROUP BY GROUPING SETS ((pk, no, next_no), (no, next_no))"""


#: Per persona key and step: the sum and number of the events' amounts.
AMOUNTS = """
    SELECT pk, no, SUM(a) AS total, COUNT(a) AS n
    FROM jf_events WHERE a IS NOT NULL GROUP BY pk, no"""


def spells(plan: Plan, end: int) -> str:
    """Per persona key and loop step: how many runs of consecutive visits at
    the step had each length, and whether the run was censored (the
    renewals of each customer, for the sBG fit). A run is seen up to its
    first censored visit, which is its last as far as the fit knows (a
    run's censored visits are its last: its times only grow).

    Read from the runs' edges alone, in the customer's order: a run's
    first event, its last uncensored one (if any) and its last, so between
    a run's first and last edge there is at most its last uncensored one.
    Its length as seen is the uncensored visits (from its first event to
    its last uncensored one) and one more when its last is censored."""
    numbers = ", ".join(str(s.number) for s in plan.steps if s.loop)
    # Only a run's edges are read, so the events in the middle of a run
    # are dropped before an edge is worked out (the edge's CASEs over
    # every loop event were a good part of this query). A middle event is
    # an edge only when it is its run's last uncensored one: it is not
    # censored and the next is, so its time is at most the log's end less
    # the narrowest loop window and the next's later than the end less the
    # widest. Two plain comparisons keep every edge (with one loop step,
    # no other event).
    windows = [round(s.window_days * _DAY_US) for s in plan.steps if s.loop]
    near_edge = (f"(flags & {RUN_START | RUN_END}) <> 0 OR "
                 f"(next_t > {int(end) - max(windows)} AND t <= {int(end) - min(windows)})")
    # The run's last uncensored event: the next is not in the run, or censored.
    # (Within a run the next event is at the same step: the same window.)
    kept = f"(NOT {censored(plan, end)} AND ({flag(RUN_END)} OR {censored(plan, end, 'next_t')}))"
    # An edge's position and what it is, as one number (i * 16, plus 8 for
    # a run's first event, 4 for its last uncensored one, 2 for its last,
    # 1 when censored), so two LAGs read the two edges before it (five, one
    # per column and offset, took a tenth more), and the window carries
    # five columns, not nine (a tenth less again).
    edge = (f"CAST(i AS BIGINT) * 16 + CASE WHEN {flag(RUN_START)} THEN 8 ELSE 0 END "
            f"+ CASE WHEN {kept} THEN 4 ELSE 0 END + CASE WHEN {flag(RUN_END)} THEN 2 ELSE 0 END "
            f"+ CASE WHEN {censored(plan, end)} THEN 1 ELSE 0 END")
    return f"""
        SELECT pk, no, n, censored, COUNT(*) AS runs FROM (
            SELECT pk, no, (edge & 1) <> 0 AS censored,
                   COALESCE(kept - first_i + 1, 0) + (edge & 1) AS n
            FROM (SELECT pk, no, edge,
                         CASE WHEN (edge & 8) <> 0 THEN edge >> 4
                              WHEN (e1 & 8) <> 0 THEN e1 >> 4 ELSE e2 >> 4 END AS first_i,
                         CASE WHEN (edge & 4) <> 0 THEN edge >> 4
                              WHEN (edge & 8) = 0 AND (e1 & 4) <> 0 THEN e1 >> 4 END AS kept
                  FROM (SELECT pk, no, edge, LAG(edge) OVER ({IN_ORDER}) AS e1,
                               LAG(edge, 2) OVER ({IN_ORDER}) AS e2
                        FROM (SELECT u, i, pk, no, {edge} AS edge
                              FROM jf_events WHERE no IN ({numbers}) AND ({near_edge})) AS l
                        WHERE (edge & 14) <> 0) AS e) AS s
            WHERE (edge & 2) <> 0) AS z
        GROUP BY pk, no, n, censored"""


#: No rows (for a count the journey does not need, such as SPELLS without loops).
NOTHING = "SELECT 1 AS x WHERE FALSE"

#: Events a file lists after a later event of the same customer.
BACKWARDS = f"""
    SELECT COUNT(*) AS n, MIN(u) AS example FROM jf_events WHERE {flag(BACK)}"""

"""The aggregation, written once: SQL text in Spark's dialect, transpiled by
sqlglot to the engine's (DuckDB by default, Spark as it is).

The engine provides one relation, `jf_log`: the log's rows with the user's
columns as they are, plus `jf_file` (the number of the file a row came
from) and `jf_row` (the row's position as read, increasing within a file).
Everything after that is here:

1. `jf_ev`: the five columns normalized (user and event as text, time as
   microseconds since 1970 UTC, amount as a number, persona as text), the
   raw time and amount kept to show a row that cannot be read.
2. `SUMMARY`: per event name, rows and the values that cannot be read, the
   first and last time (one pass; the log's end is its last time).
3. `jf_events`: the mapped events in each customer's time order (ties in
   file order), with the customer's persona (their first non-empty
   value), whether the event starts a visit (a new step, or any event at a
   step that loops on itself) and whether the file had it before an
   earlier event of the same customer (time going backwards).
4. `jf_visits`: the visits, each with the next one (the move and its time)
   and its number in the walk (1 = the entry).
5. The aggregates that come back to Python: STEPS, MOVES, AMOUNTS,
   SPELLS, UNKNOWN_PERSONAS, BACKWARDS.

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


def normalized(names: dict[str, str]) -> str:
    """`jf_ev`: the log's columns by role (user, event, time, amount?,
    persona?) as the aggregation reads them."""
    user, event, time = column(names["user"]), column(names["event"]), column(names["time"])
    amount = column(names["amount"]) if "amount" in names else None
    persona = column(names["persona"]) if "persona" in names else None
    return f"""
        SELECT CAST({user} AS STRING) AS u,
               CAST({event} AS STRING) AS e,
               UNIX_MICROS(TRY_CAST({time} AS TIMESTAMP)) AS t,
               CAST({time} AS STRING) AS traw,
               {f"TRY_CAST({amount} AS DOUBLE)" if amount else "CAST(NULL AS DOUBLE)"} AS a,
               {f"CAST({amount} AS STRING)" if amount else "CAST(NULL AS STRING)"} AS araw,
               {f"CAST({persona} AS STRING)" if persona else "CAST(NULL AS STRING)"} AS p,
               jf_file AS f, jf_row AS r
        FROM jf_log"""


#: Per event name (NULL: rows without one): rows, values that cannot be
#: read, first and last time.
SUMMARY = """
    SELECT e, COUNT(*) AS n,
           SUM(CASE WHEN u IS NULL THEN 1 ELSE 0 END) AS no_user,
           SUM(CASE WHEN traw IS NULL THEN 1 ELSE 0 END) AS no_time,
           SUM(CASE WHEN traw IS NOT NULL AND t IS NULL THEN 1 ELSE 0 END) AS bad_time,
           SUM(CASE WHEN araw IS NOT NULL AND a IS NULL THEN 1 ELSE 0 END) AS bad_amount,
           MIN(t) AS first_t, MAX(t) AS last_t
    FROM jf_ev GROUP BY e"""


def example(condition: str) -> str:
    """The first row (in file order) where a SUMMARY count is not zero."""
    return f"""
        SELECT f, r, u, e, traw, araw FROM jf_ev WHERE {condition}
        ORDER BY f, r LIMIT 1"""


#: The conditions behind SUMMARY's counts, for `example`.
CONDITIONS = {
    "no_user": "u IS NULL",
    "no_time": "traw IS NULL",
    "bad_time": "traw IS NOT NULL AND t IS NULL",
    "bad_amount": "araw IS NOT NULL AND a IS NULL",
}


def _values(rows: Iterable[tuple[object, ...]], names: str) -> str:
    items = ", ".join("(" + ", ".join(string(v) if isinstance(v, str) else
                                      ("TRUE" if v is True else "FALSE" if v is False
                                       else repr(v)) for v in row) + ")" for row in rows)
    return f"(VALUES {items}) AS {names}"


def events(plan: Plan, personas: list[str]) -> str:
    """`jf_events`: mapped events in each customer's order, with persona,
    visit starts and time going backwards."""
    mapping = _values(sorted(plan.events.items()), "jf_map(event, no)")
    steps = _values([(s.number, s.loop, int(round(s.window_days * _DAY_US)))
                     for s in plan.steps], "jf_steps(no, loop, wnd)")
    known = ", ".join(string(p) for p in personas)
    persona_key = (f"CASE WHEN p IS NULL THEN {string(NO_PERSONA)} "
                   + (f"WHEN p IN ({known}) THEN p " if personas else "")
                   + f"ELSE {string(UNKNOWN_PERSONA)} END")
    order = "PARTITION BY ev.u ORDER BY ev.t, ev.r"
    return f"""
        SELECT u, t, r, f, a, no, wnd, {persona_key} AS pk,
               CASE WHEN {persona_key} = {string(UNKNOWN_PERSONA)} THEN p END AS p,
               (prev_no IS NULL OR prev_no <> no OR loop) AS start,
               (prev_no IS NULL OR prev_no <> no) AS run_start,
               COALESCE(prev_f = f AND prev_r > r, FALSE) AS back
        FROM (SELECT ev.u, ev.t, ev.r, ev.f, ev.a, jf_map.no, jf_steps.loop, jf_steps.wnd,
                     FIRST_VALUE(ev.p) IGNORE NULLS OVER ({order}
                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS p,
                     LAG(jf_map.no) OVER ({order}) AS prev_no,
                     LAG(ev.r) OVER ({order}) AS prev_r,
                     LAG(ev.f) OVER ({order}) AS prev_f
              FROM jf_ev AS ev
              JOIN {mapping} ON ev.e = jf_map.event
              JOIN {steps} ON jf_map.no = jf_steps.no) AS x"""


#: The visits, each with the next (the move and its time), its number in
#: the walk and its run (consecutive visits at one step: the renewals, for
#: the sBG fit), all in one pass ordered like the events.
VISITS = """
    SELECT u, no, t, r, wnd, p, pk,
           LEAD(no) OVER (PARTITION BY u ORDER BY t, r) AS next_no,
           LEAD(t) OVER (PARTITION BY u ORDER BY t, r) AS next_t,
           ROW_NUMBER() OVER (PARTITION BY u ORDER BY t, r) AS k,
           SUM(CASE WHEN run_start THEN 1 ELSE 0 END) OVER (PARTITION BY u ORDER BY t, r
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
    FROM jf_events WHERE start"""


def _censored(end: int) -> str:
    """A visit less than its step's window before the log's end: what came
    of it is not known yet (a move may still come), so it counts neither as
    an end nor as a visit that could move, and a move out of it is left out
    too (counting the moves seen that soon but not the ends would bias
    every rate up)."""
    return f"({int(end)} - t < wnd)"


def steps(end: int) -> str:
    """Per persona key and step: visits, censored visits, entries, and
    customers whose last visit is censored."""
    censored = _censored(end)
    return f"""
        SELECT pk, no, COUNT(*) AS visits,
               SUM(CASE WHEN {censored} THEN 1 ELSE 0 END) AS censored,
               SUM(CASE WHEN k = 1 THEN 1 ELSE 0 END) AS entries,
               SUM(CASE WHEN next_no IS NULL AND {censored} THEN 1 ELSE 0 END) AS still
        FROM jf_visits GROUP BY pk, no"""


def moves(end: int) -> str:
    """Per move out of an uncensored visit, per persona key and (the grouping
    set with `pk` NULL, flagged `every`) over every customer: how many, and
    the median time it took (µs). The delay written is every customer's
    (a move has one `after`, whatever the persona)."""
    return f"""
        SELECT pk, no, next_no, GROUPING(pk) AS every, COUNT(*) AS n,
               MEDIAN(next_t - t) AS median_us
        FROM jf_visits WHERE next_no IS NOT NULL AND NOT {_censored(end)}
        GROUP BY GROUPING SETS ((pk, no, next_no), (no, next_no))"""


#: Per persona key and step: the sum and number of the events' amounts.
AMOUNTS = """
    SELECT pk, no, SUM(a) AS total, COUNT(a) AS n
    FROM jf_events WHERE a IS NOT NULL GROUP BY pk, no"""


def spells(end: int, loops: list[int]) -> str:
    """Per persona key and loop step: how many runs of consecutive visits at
    the step had each length, and whether the run was censored (the
    renewals of each customer, for the sBG fit). A run is seen up to its
    first censored visit, which is its last as far as the fit knows."""
    numbers = ", ".join(str(int(n)) for n in loops)
    censored = _censored(end)
    return f"""
        SELECT pk, no, n, censored, COUNT(*) AS runs FROM (
            SELECT u, pk, no, run,
                   SUM(CASE WHEN {censored} THEN 0 ELSE 1 END)
                       + MAX(CASE WHEN {censored} THEN 1 ELSE 0 END) AS n,
                   MAX(CASE WHEN {censored} THEN 1 ELSE 0 END) AS censored
            FROM jf_visits WHERE no IN ({numbers})
            GROUP BY u, pk, no, run) AS s
        GROUP BY pk, no, n, censored"""


#: The persona values the journey does not declare, most customers first.
UNKNOWN_PERSONAS = f"""
    SELECT p, COUNT(*) AS n, MIN(u) AS example FROM jf_visits
    WHERE k = 1 AND pk = '{UNKNOWN_PERSONA}'
    GROUP BY p ORDER BY n DESC, p LIMIT 10"""

#: Events a file lists after a later event of the same customer.
BACKWARDS = """
    SELECT COUNT(*) AS n, MIN(u) AS example FROM jf_events WHERE back"""


def backwards_example(user: str) -> str:
    return f"""
        SELECT f, r, t FROM jf_events WHERE back AND u = {string(user)}
        ORDER BY f, r LIMIT 1"""

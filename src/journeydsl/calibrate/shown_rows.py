"""The queries that find what a diagnostic of `journey fit` shows: the first
row with a value that cannot be read, the rows of a customer whose time
goes backwards, the persona values the journey does not declare. Run only
when there is something to show, over the relations of `sql.py`, in its
dialect.
"""

from __future__ import annotations

from .sql import ORDER, UNKNOWN_CODE, string


def example(condition: str) -> str:
    """The first row (in file order) where a SUMMARY count is not zero."""
    return f"""
        SELECT f, r, u, e, traw, araw FROM jf_ev WHERE {condition}
        ORDER BY f, r LIMIT 1"""


#: The conditions behind SUMMARY's counts, for `example`.
CONDITIONS = {
    "no_user": "u IS NULL",
    "no_time": "tnone",
    "bad_time": "NOT tnone AND t IS NULL",
    "bad_amount": "NOT anone AND a IS NULL",
}


#: The persona values the journey does not declare, most customers first:
#: each such customer's first value (in their order), found again among
#: their events alone (the ordering pass carries numbers, not the values).
UNKNOWN_PERSONAS = f"""
    SELECT p, COUNT(*) AS n, MIN(u) AS example FROM (
        SELECT u, FIRST_VALUE(p) IGNORE NULLS OVER ({ORDER} ROWS BETWEEN UNBOUNDED PRECEDING
                                                     AND UNBOUNDED FOLLOWING) AS p,
               ROW_NUMBER() OVER ({ORDER}) AS i
        FROM jf_mapped
        WHERE u IN (SELECT u FROM jf_events WHERE i = 1 AND pk = {UNKNOWN_CODE})) AS x
    WHERE i = 1
    GROUP BY p ORDER BY n DESC, p LIMIT 10"""


def backwards_example(user: str) -> str:
    """The first event (in file order) of `user` that their file lists after
    a later one: found again among that customer's events alone."""
    return f"""
        SELECT f, r, t FROM (
            SELECT f, r, t, pos, LAG(pos) OVER ({ORDER}) AS prev_pos,
                   LAG(f) OVER ({ORDER}) AS prev_f
            FROM jf_mapped WHERE u = {string(user)}) AS x
        WHERE prev_f = f AND prev_pos > pos
        ORDER BY f, r LIMIT 1"""


def earlier_later(user: str, row: int, time: int) -> str:
    """The first row after `row` of `user` with a time before `time`."""
    return f"""
        SELECT r, t FROM jf_mapped WHERE u = {string(user)} AND r > {int(row)} AND t < {int(time)}
        ORDER BY r LIMIT 1"""

"""DuckDB, embedded: the default engine. It reads the files directly (out of
core, on every core); only the aggregates of `sql.py` come back.

The engine's own part is small: how to read each format as `jf_log` (with
the file number and row position the aggregation orders ties by), what
column types it can take, and turning DuckDB's errors into diagnostics.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from . import sql
from .logs import LogFiles, LogProblem, fail

#: Column types per role that the log may have (DuckDB's type names, the
#: start of them): anything else is JD603.
_TEXT = ("VARCHAR",)
_NUMBER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
ACCEPTED: dict[str, tuple[str, ...]] = {
    "user": _TEXT + _NUMBER + ("UUID",),
    "event": _TEXT + _NUMBER,
    "time": _TEXT + ("TIMESTAMP", "DATE"),
    "amount": _TEXT + _NUMBER,
    "persona": _TEXT + _NUMBER,
}
#: Rows a Parquet file may have, at most, for `jf_pos` (a file's number
#: times this plus the row's position): 2^40, a trillion.
_FILE_ROWS = 1 << 40
#: DuckDB's memory budget for one fit.
MEMORY_LIMIT = "1500MB"

T = TypeVar("T")

WANTED = {"user": "text or an integer id", "event": "text",
          "time": "a timestamp (or text in ISO 8601, such as 2024-03-01T09:30:00Z)",
          "amount": "a number", "persona": "text"}


class DuckEngine:
    """One connection for one fit. `run` and `fetch` take SQL in Spark's
    dialect (the aggregation's) and transpile it."""

    dialect = "duckdb"

    def __init__(self, threads: int | None = None) -> None:
        import duckdb

        self._duckdb = duckdb
        self._tmp = tempfile.TemporaryDirectory(prefix="journey-fit-")
        # A fixed memory budget: past it DuckDB spills to the temporary
        # folder, so the peak stays flat (about 1.5 GB with Python's part)
        # however long the log. 10M events of 1M customers fit in it; at
        # 800MB they spilled and took twice as long.
        config: dict[str, Any] = {"temp_directory": self._tmp.name,
                                  "preserve_insertion_order": True,
                                  "memory_limit": MEMORY_LIMIT}
        if threads:
            config["threads"] = threads
        self.con = duckdb.connect(":memory:", config=config)
        _session(self.con)
        self.files: LogFiles | None = None
        self._active: Any = self.con  # the connection running the longest query

    def cursor(self) -> Any:
        """Another connection to the fit's database, to run a query beside
        another, with the same session settings (a cursor starts with the
        machine's time zone, not UTC)."""
        return _session(self.con.cursor())

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    # ------------------------------------------------------------ the log
    def _reader(self, files: LogFiles, varchar: dict[str, str] | None = None) -> str:
        paths = "[" + ", ".join(sql.string(p) for p in files.paths) + "]"
        if files.format == "csv":
            # No sniffing: the header row read here, every column text, the
            # delimiter by the file name, and a row with more or fewer fields
            # than the header is an error (a sniffer guesses another header).
            header = self._csv_header(files)
            columns = "{" + ", ".join(f"{sql.string(c)}: 'VARCHAR'" for c in header) + "}"
            delim = "\\t" if files.paths[0].lower().removesuffix(".gz").endswith(".tsv") else ","
            return (f"read_csv({paths}, header = true, auto_detect = false, "
                    f"columns = {columns}, delim = '{delim}', quote = '\"', escape = '\"', "
                    "strict_mode = true, filename = 'jf_path')")
        if files.format == "parquet":
            return f"read_parquet({paths}, union_by_name = true, filename = 'jf_path')"
        columns = ""
        if varchar:  # JSON: read the columns used as text (types vary between rows)
            columns = ", columns = {" + ", ".join(
                f"{sql.string(c)}: 'VARCHAR'" for c in varchar.values()) + "}"
        return (f"read_json({paths}, format = 'newline_delimited', union_by_name = true, "
                f"filename = 'jf_path'{columns})")

    def _csv_header(self, files: LogFiles) -> list[str]:
        """The columns of the CSV files' header row, the same in every file."""
        import csv
        import gzip

        headers: dict[str, list[str]] = {}
        for path in files.paths:
            opener = gzip.open if path.lower().endswith(".gz") else open
            delim = "\t" if path.lower().removesuffix(".gz").endswith(".tsv") else ","
            try:
                with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
                    headers[path] = next(csv.reader(handle, delimiter=delim), [])
            except (OSError, UnicodeDecodeError, csv.Error, EOFError) as err:
                raise fail("JD602", f"the event log cannot be read: {err}", path,
                           "CSV files are UTF-8 text with a header row") from None
            if not headers[path] or not any(c.strip() for c in headers[path]):
                raise fail("JD602", "the CSV file has no header row", path,
                           "the first line names the columns: user,event,time,...")
        first, *others = files.paths
        for path in others:
            if headers[path] != headers[first]:
                raise fail("JD602", f"the CSV files have different columns: `{first}` has "
                           f"{', '.join(headers[first])}; `{path}` has {', '.join(headers[path])}",
                           path, "give every file of the log the same header row")
        return headers[first]

    def columns(self, files: LogFiles) -> dict[str, str]:
        """The log's columns and their types."""
        rows = self._guard(lambda: self.con.execute(
            f"DESCRIBE SELECT * FROM {self._reader(files)}").fetchall(), files)
        return {str(name): str(kind) for name, kind, *_ in rows if name != "jf_path"}

    def open(self, files: LogFiles, names: dict[str, str], time_type: str = "VARCHAR") -> None:
        """Register `jf_log` over the files and `jf_ev` over it. `jf_pos`
        orders rows as the files list them, as one BIGINT (the file's number
        times 2^40 plus the row's position in it, for Parquet)."""
        self.files = files
        if files.format == "parquet":
            # Parquet gives each row's position in its file and the file's
            # number in the list: read in parallel, no numbering pass.
            paths = "[" + ", ".join(sql.string(p) for p in files.paths) + "]"
            # Nothing here depends on the order rows come out in (they carry
            # their positions): DuckDB need not keep it, which saves memory.
            self.con.execute("SET preserve_insertion_order = false")
            self.con.execute(f"""
                CREATE VIEW jf_log AS
                SELECT * EXCLUDE (file_row_number),
                       file_index AS jf_file, file_row_number AS jf_row,
                       CAST(file_index AS BIGINT) * {_FILE_ROWS} + file_row_number AS jf_pos
                FROM read_parquet({paths}, union_by_name = true, file_row_number = true)""")
        else:
            reader = self._reader(files, names if files.format == "json" else None)
            # Row positions are taken in the reader's output order, which
            # is the files' (preserve_insertion_order): one number over
            # every file, increasing in file order.
            self.con.execute(f"""
                CREATE VIEW jf_log AS
                SELECT *, jf_row AS jf_pos FROM (
                    SELECT *, file_index AS jf_file, ROW_NUMBER() OVER () AS jf_row
                    FROM {reader}) AS x""")
        # JSON's columns are read as text here, whatever `columns` found.
        self.run("CREATE VIEW jf_ev AS " + sql.normalized(
            names, "VARCHAR" if files.format == "json" else time_type))

    # ------------------------------------------------------------ queries
    def run(self, text: str) -> None:
        statement = sql.transpile(text, self.dialect)
        self._guard(lambda: self.con.execute(statement), self.files)

    def materialize(self, name: str, text: str) -> None:
        self.run(f"CREATE TABLE {name} AS {text}")

    def view(self, name: str, text: str) -> None:
        # A view of the database, not of this connection alone (TEMPORARY):
        # `fetch_all`'s cursors read it too.
        self.run(f"CREATE OR REPLACE VIEW {name} AS {text}")

    def fetch(self, text: str) -> list[tuple[Any, ...]]:
        statement = sql.transpile(text, self.dialect)
        rows: list[tuple[Any, ...]] = self._guard(
            lambda: self.con.execute(statement).fetchall(), self.files)
        return rows

    def fetch_beside(self, text: str, then: Callable[[list[tuple[Any, ...]]], T], name: str,
                     table: str) -> T:
        """`then` of the rows of `text`, while the table `name` is made of
        `table` beside it (a cursor of its own). When `then` raises (the
        log cannot be fitted), making the table is stopped."""
        from concurrent.futures import ThreadPoolExecutor

        statement = sql.transpile(f"CREATE TABLE {name} AS {table}", self.dialect)
        cursor = self.cursor()
        self._active = cursor  # the longer of the two: the progress shown
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                making = pool.submit(
                    lambda: self._guard(lambda: cursor.execute(statement), self.files))
                try:
                    result = then(self.fetch(text))
                except BaseException:
                    cursor.interrupt()
                    try:
                        making.result()
                    except BaseException:  # stopped, or failed on the same log: the first error
                        pass
                    raise
                making.result()
                return result
        finally:
            self._active = self.con
            cursor.close()

    def fetch_all(self, texts: list[str]) -> list[list[tuple[Any, ...]]]:
        """The rows of each query, the queries run side by side (a cursor
        each): the counts read the ordered events once they are written,
        and most of them spend their time in one thread (a median's values
        sorted, a few groups), so two at once use both cores."""
        from concurrent.futures import ThreadPoolExecutor

        statements = [sql.transpile(text, self.dialect) for text in texts]
        cursors = [self.cursor() for _ in statements]

        def one(i: int) -> list[tuple[Any, ...]]:
            rows: list[tuple[Any, ...]] = self._guard(
                lambda: cursors[i].execute(statements[i]).fetchall(), self.files)
            return rows

        try:
            with ThreadPoolExecutor(max_workers=max(1, len(statements))) as pool:
                futures = [pool.submit(one, i) for i in range(len(statements))]
                try:
                    return [future.result() for future in futures]
                except BaseException:  # Ctrl-C or an error: stop the others
                    for cursor in cursors:
                        cursor.interrupt()
                    raise
        finally:
            for cursor in cursors:
                cursor.close()

    def progress(self) -> float:
        """The running query's progress in percent (-1: none)."""
        return float(self._active.query_progress())

    def _guard(self, action: Callable[[], Any], files: LogFiles | None) -> Any:
        """DuckDB's errors about the files as JD602 (never a traceback)."""
        try:
            return action()
        except self._duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except (self._duckdb.IOException, self._duckdb.InvalidInputException,
                self._duckdb.ConversionException) as err:
            where = files.paths[0] if files and len(files.paths) == 1 else \
                (os.path.commonpath(files.paths) if files else "<log>")
            raise _read_error(str(err), where) from None


def _session(con: Any) -> Any:
    """`con` with the fit's session settings: times in UTC (text times
    without an offset are read as UTC), progress polled by query_progress()
    (a bar on stderr), never printed by DuckDB."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def _read_error(message: str, where: str) -> LogProblem:
    """DuckDB's message as a JD602: its first line, and for a CSV row the
    row itself and what was wrong with it (`file = ...` names the file
    when several were read)."""
    lines = [line.strip() for line in message.strip().splitlines()]
    first = lines[0] if lines else "unknown error"
    for prefix in ("IO Error: ", "Invalid Input Error: ", "Conversion Error: "):
        first = first.removeprefix(prefix)
    first = first.replace("CSV Error on Line: ", "line ")
    detail = {k: v for k, _, v in (line.partition(": ") for line in lines[1:]) if v}
    named = [line.removeprefix("file = ") for line in lines if line.startswith("file = ")]
    if named:
        where = named[0]
    if "Expected Number of Columns" in detail:  # "3 Found: 4" (DuckDB stops counting at 4)
        expected = detail["Expected Number of Columns"].partition(" ")[0]
        first += f" does not have the header's {expected} fields"
    if "Original Line" in detail:
        first += f": `{detail['Original Line'][:80]}`"
    if len(first) > 200:
        first = first[:197] + "..."
    return fail("JD602", f"the event log cannot be read: {first}", where,
                "journey fit reads CSV (with a header row), Parquet and JSON-lines files")

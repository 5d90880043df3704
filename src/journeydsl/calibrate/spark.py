"""Apache Spark (`--engine spark`): the same aggregation as DuckDB's
(`sql.py`, transpiled by sqlglot to Spark's dialect), run by PySpark in
local mode (`local[*]`) or on a cluster (`--spark-master URL`, or Spark
Connect with `sc://host`).

The engine's own part mirrors `duck.py`: reading each format as `jf_log`
(the file's number and a row position increasing within each file, which
ties in time are ordered by), the column types as the checks name them,
and Spark's errors as diagnostics. PySpark is an optional extra
(`pip install 'journeydsl[spark]'`) and needs a Java runtime; without
either, `SparkUnavailable` says what to install.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from . import sql
from .logs import LogFiles, LogProblem, fail

T = TypeVar("T")
DEFAULT_MASTER = "local[*]"
#: Spark's own log: errors only (its warnings are not the user's business).
_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")

#: Spark's type names (`DataType.typeName()`) as DuckDB names them, so one
#: set of accepted types (duck.ACCEPTED) checks both engines' columns.
_TYPES = {"string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR",
          "byte": "TINYINT", "short": "SMALLINT", "integer": "INTEGER", "long": "BIGINT",
          "float": "FLOAT", "double": "DOUBLE", "decimal": "DECIMAL",
          "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP", "date": "DATE",
          "boolean": "BOOLEAN", "binary": "BLOB"}


class SparkUnavailable(Exception):
    """PySpark or Java is missing, or Spark did not start: the message says
    what to do (the CLI prints it and exits 2)."""


_SESSIONS: dict[str, Any] = {}


def session(master: str | None = None) -> Any:
    """The SparkSession for `master` (one per process: starting a JVM takes
    seconds, so tests and repeated fits share it)."""
    master = master or DEFAULT_MASTER
    if master in _SESSIONS:
        return _SESSIONS[master]
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs PySpark: pip install 'journeydsl[spark]' "
            "(and a Java runtime, 17 or newer)") from None
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
            raise SparkUnavailable(
                "--engine spark needs a Java runtime (17 or newer) and none was found: "
                "install one (Debian: apt-get install default-jre-headless) or set JAVA_HOME")
        builder = (SparkSession.builder.master(master).appName("journey fit")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", str(max(4, 2 * (os.cpu_count() or 2))))
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}"))
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # the JVM did not start, or the cluster is not there
        first = (str(err).strip().splitlines() or ["unknown error"])[0]
        raise SparkUnavailable(f"Spark did not start ({master}): {first}") from None
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    _SESSIONS[master] = spark
    return spark


class SparkEngine:
    """One fit on a Spark session. `run` and `fetch` take the aggregation's
    SQL (Spark's dialect, parsed and written again by sqlglot like every
    engine's)."""

    dialect = "spark"

    def __init__(self, master: str | None = None) -> None:
        self.spark = session(master)
        self.files: LogFiles | None = None
        self._views: list[str] = []
        self._cached: list[Any] = []

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in self._views + ["jf_ev", "jf_mapped", "jf_visits"]:  # made by SQL
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()

    # ------------------------------------------------------------ the log
    def _read(self, files: LogFiles, names: dict[str, str] | None = None) -> Any:
        reader = self.spark.read
        paths = list(files.paths)
        try:
            if files.format == "csv":
                delim = "\t" if paths[0].lower().removesuffix(".gz").endswith(".tsv") else ","
                # Every column text, as DuckDB reads it; a row with more or
                # fewer fields than the header is an error.
                return reader.csv(paths, header=True, inferSchema=False, sep=delim, quote='"',
                                  escape='"', mode="FAILFAST", encoding="UTF-8",
                                  enforceSchema=False)
            if files.format == "parquet":
                return reader.option("mergeSchema", "true").parquet(*paths)
            if names:  # JSON: the columns used read as text (types vary between rows)
                from pyspark.sql.types import StringType, StructField, StructType

                schema = StructType([StructField(c, StringType()) for c in
                                     dict.fromkeys(names.values())])
                return reader.schema(schema).json(paths)
            return reader.json(paths)
        except Exception as err:
            raise self._error(err, files) from None

    def columns(self, files: LogFiles) -> dict[str, str]:
        """The log's columns and their types (DuckDB's names for them)."""
        frame = self._read(files)
        return {f.name: _TYPES.get(f.dataType.typeName(), f.dataType.simpleString().upper())
                for f in frame.schema.fields}

    def open(self, files: LogFiles, names: dict[str, str], time_type: str = "VARCHAR") -> None:
        """Register `jf_log` over the files and `jf_ev` over it. `jf_pos`
        orders rows as the files list them: (file, row) as a struct (a row
        position here is not small enough to pack with the file's number)."""
        from pyspark.sql import functions as F

        self.files = files
        frame = self._read(files, names if files.format == "json" else None)
        # The row position is taken as read (increasing within each split of
        # a file, splits in file order); the file's number by its path.
        # Spark names files by URI (`file:/a%20b.csv`): decoded to the path.
        path = F.url_decode(F.regexp_replace(F.col("_metadata.file_path"), "^file:/+", "/"))
        frame = frame.select("*", F.monotonically_increasing_id().alias("jf_row"),
                             path.alias("jf_path"))
        # A VALUES table (made in the JVM: no Python worker reads it).
        numbers = self.spark.sql("SELECT * FROM " + sql._values(
            [(os.path.abspath(p), i) for i, p in enumerate(files.paths)],
            "jf_files(jf_path, jf_file)"))
        frame = frame.join(F.broadcast(numbers), "jf_path").drop("jf_path")
        frame = frame.withColumn("jf_pos", F.struct("jf_file", "jf_row"))
        self._view("jf_log", frame)
        # JSON's columns are read as text here, whatever `columns` found.
        self.run("CREATE OR REPLACE TEMPORARY VIEW jf_ev AS " + sql.normalized(
            names, "VARCHAR" if files.format == "json" else time_type))

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    # ------------------------------------------------------------ queries
    def run(self, text: str) -> None:
        self._guard(lambda: self.spark.sql(sql.transpile(text, self.dialect)))

    def materialize(self, name: str, text: str) -> None:
        from pyspark import StorageLevel

        def build() -> Any:
            frame = self.spark.sql(sql.transpile(text, self.dialect))
            frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
            frame.count()  # computed once, here
            return frame

        frame = self._guard(build)
        self._cached.append(frame)
        self._view(name, frame)

    def view(self, name: str, text: str) -> None:
        self.run(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {text}")

    def fetch_beside(self, text: str, then: Callable[[list[tuple[Any, ...]]], T], name: str,
                     table: str) -> T:
        result = then(self.fetch(text))  # one after the other: Spark runs each on every core
        self.materialize(name, table)
        return result

    def fetch_all(self, texts: list[str]) -> list[list[tuple[Any, ...]]]:
        return [self.fetch(text) for text in texts]

    def fetch(self, text: str) -> list[tuple[Any, ...]]:
        statement = sql.transpile(text, self.dialect)
        rows = self._guard(lambda: self.spark.sql(statement).collect())
        return [tuple(row) for row in rows]

    def progress(self) -> float:
        return -1.0

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except KeyboardInterrupt:
            raise
        except Exception as err:
            if type(err).__name__ in ("AnalysisException", "ParseException"):
                raise  # the aggregation's own mistake: a bug, not the log's
            raise self._error(err, self.files) from None

    def _error(self, err: Exception, files: LogFiles | None) -> LogProblem:
        """Spark's error about the files as a JD602 (never a traceback)."""
        where = files.paths[0] if files and len(files.paths) == 1 else \
            (os.path.commonpath(files.paths) if files else "<log>")
        lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
        first = next((line for line in lines if not line.startswith(("JVM stacktrace", "at "))),
                     "unknown error")
        if len(first) > 200:
            first = first[:197] + "..."
        return fail("JD602", f"the event log cannot be read (Spark): {first}", where,
                    "journey fit reads CSV (with a header row), Parquet and JSON-lines files")


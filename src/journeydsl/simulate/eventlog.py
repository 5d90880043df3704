"""The Monte Carlo walks written as an event log (`journey simulate
--events-out LOG.parquet`), in the format `journey fit` reads by default.

Columns: `user` (the prospect's number, an integer: entering prospects
1..N, referred ones after them), `event` (the step's first `event` name,
or its id), `time` (a timestamp, UTC: `start`, plus the prospect's
arrival when arrivals are spread, plus the visit's time in the walk),
`amount` (the step's value for the persona: what the visit earns,
undiscounted; empty where the step has no value) and `persona`. Costs are
not in the log: they are what the business spends, not what a customer
does, and `journey fit` reads none.

The walks (montecarlo/events.py) come in batches of about a million
events; DuckDB writes each as a Parquet part in a temporary folder beside
LOG, then copies the parts, in order, into one file (Parquet, or CSV) and
that file is renamed over LOG: memory follows a batch, never the log, and
LOG is the whole log or nothing (a failure or Ctrl-C leaves no file
behind). Seeded: the same arguments give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..language.compiled import CompiledJourney

#: The formats LOG may have, by its suffix.
FORMATS = {".parquet": "parquet", ".csv": "csv"}
#: The default start of the log: a fixed date, so that a log is the same every day.
START = dt.datetime(2024, 1, 1)
_DAY_US = 86_400_000_000


@dataclass
class Written:
    """What was written: rows (events), prospects (entering and referred),
    referred prospects, whether a referral cascade reached its cap."""

    path: Path
    rows: int
    prospects: int
    referred: int
    capped: bool


def log_format(out: Path) -> str | None:
    """`parquet` or `csv` by OUT's suffix; None for any other."""
    return FORMATS.get(out.suffix.lower())


def _event_names(journey: CompiledJourney, steps: list[str]) -> list[str]:
    from ..calibrate.plan import first_event

    return [first_event(journey, s) for s in steps]


def write_event_log(journey: CompiledJourney, out: Path, prospects: int, *,
                    seed: int = 20261123, start: dt.datetime = START,
                    persona: str | None = None, arrivals: float | None = None,
                    progress: Callable[[int], None] | None = None) -> Written:
    """Walk `prospects` entering prospects (and their referral cascade) and
    write their visits to `out` (`.parquet` or `.csv`), atomically.
    Entering prospects arrive evenly over `arrivals` days from `start` (0:
    all at `start`; None: a year, or half the horizon if shorter); the
    horizon, if any, ends the log `horizon` days after `start`. `progress(k)`: k more entering prospects walked."""
    import duckdb

    from .montecarlo.events import EventWalk

    fmt = log_format(out)
    if fmt is None:
        raise ValueError(f"an event log is .parquet or .csv, not `{out.name}`")
    walk = EventWalk(journey, prospects, seed, persona, arrivals)
    names = _event_names(journey, walk.steps)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp",
                                   dir=out.parent if str(out.parent) else "."))
    try:
        # One thread: the copy streams row group by row group (with more,
        # each thread buffers row groups to keep their order: 6x the memory,
        # and no faster on two cores); the bytes do not depend on the machine.
        con = duckdb.connect(config={"preserve_insertion_order": True, "threads": 1,
                                     "temp_directory": str(folder / "spill")})
        con.execute("SET TimeZone = 'UTC'")
        rows, parts = 0, list[Path]()
        origin = np.datetime64(start.replace(tzinfo=None), "us")
        select = ("SELECT b.user, (?::VARCHAR[])[b.step + 1] AS event, b.time, b.amount, "
                  "(?::VARCHAR[])[b.persona + 1] AS persona FROM b")
        for batch in walk.batches(progress):
            micros = np.rint(batch.time * _DAY_US).astype(np.int64)
            b = {"user": batch.user, "step": batch.step.astype(np.int32),  # noqa: F841 (read by DuckDB)
                 "time": origin + micros.astype("timedelta64[us]"),
                 "amount": batch.amount, "persona": batch.persona.astype(np.int32)}
            part = folder / f"part-{len(parts):06d}.parquet"
            # DuckDB reads the dict `b` of numpy arrays in place (nan amounts as NULL)
            con.execute(f"COPY ({select}) TO {_path(part)} (FORMAT parquet)",
                        [names, walk.personas])
            parts.append(part)
            rows += len(batch)
        whole = folder / f"log.{fmt}"
        _combine(con, parts, whole, fmt, walk.steps)
        con.close()
        os.replace(whole, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Written(out, rows, prospects + walk.referred, walk.referred, walk.capped)


def _path(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _combine(con, parts: list[Path], whole: Path, fmt: str, steps: list[str]) -> None:
    """The parts, in order, as one file."""
    if not parts:  # (a walk always visits its entry, so there is a part)
        raise ValueError("no events")
    listed = "[" + ", ".join(_path(p) for p in parts) + "]"
    if fmt == "parquet":
        con.execute(f"COPY (SELECT * FROM read_parquet({listed})) TO {_path(whole)} "
                    "(FORMAT parquet)")
    else:
        con.execute(f"COPY (SELECT user, event, strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ') AS time, "
                    f"amount, persona FROM read_parquet({listed})) TO {_path(whole)} "
                    "(FORMAT csv, HEADER)")

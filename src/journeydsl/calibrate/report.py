"""`journey fit` output: the tables per persona as text, or the same as JSON.

Rates print with one decimal in % (two below 1%), delays in the largest
unit that keeps them within 5% (`durations.py`), times of the log in UTC.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..diagnostics import to_dict
from .durations import duration_text
from .estimate import Fit, GroupFit, MoveFit
from .proposal import percent_text
from .sbg import beta_text


def percent(value: float | None) -> str:
    """A rate as the tables show it.

    >>> percent(0.25), percent(0.0042), percent(None)
    ('25.0%', '0.42%', '—')
    """
    if value is None:
        return "—"
    digits = 2 if 0 < value < 0.01 else 1
    return f"{value * 100:.{digits}f}%"


def _when(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _days(days: float | None) -> str:
    return "—" if days is None else duration_text(days) or "0"


def headline(fit: Fit, title: str) -> str:
    counts = fit.counts
    files = counts.files.paths
    where = files[0] if len(files) == 1 else f"{len(files)} files"
    return (f"{title}: fitted to {where} ({counts.rows:,} events, "
            f"{counts.customers():,} customers, {_when(counts.start_us)} to "
            f"{_when(counts.end_us)} UTC)")


def render_text(fit: Fit, title: str) -> str:
    """The tables as plain text: one row per line whatever the terminal's
    width (a narrow terminal wraps lines, never cells)."""
    out = StringIO()
    console = Console(file=out, width=1000, no_color=True, highlight=False, emoji=False)
    console.print(headline(fit, title))
    for group in fit.groups:
        console.print()
        _group(console, group)
    counts = fit.counts
    console.print()
    if counts.unmapped:
        shown = ", ".join(f"{e or '(empty)'} {n:,}" for e, n in counts.unmapped[:10])
        more = f" and {len(counts.unmapped) - 10} more" if len(counts.unmapped) > 10 else ""
        console.print(f"Unmapped events (no step names them; ignored): {shown}{more}")
    else:
        console.print("Unmapped events: none (every event marks a step)")
    console.print(f"Censored customers: {counts.censored():,} of {counts.customers():,} (their "
                  "last visit is within the window before the log's end: they may still move)")
    if counts.by_persona and (fit.without_persona or fit.unknown_persona):
        console.print(f"Customers left out of the persona tables: {fit.without_persona:,} "
                      f"without a persona, {fit.unknown_persona:,} with one the journey does not "
                      "declare")
    drifts = sum(len(g.drifts) for g in fit.groups)
    console.print(f"Drift: {drifts} declared rate{'s' * (drifts != 1)} outside the observed "
                  "95% interval")
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
    for number, name in enumerate(columns):
        table.add_column(name, justify="left" if number == 0 or name == "" else "right",
                         no_wrap=True)
    return table


def _group(console: Console, group: GroupFit) -> None:
    who = group.persona if group.persona is not None else "All customers"
    console.print(f"{who}: {group.customers:,} customers, {group.censored:,} censored")
    table = _table("Move", "Declared", "Observed", "95% interval", "Visits",
                   "Delay: declared → median", "")
    for move in group.moves:
        table.add_row(f"{move.source} -> {move.target}", _declared(move.declared),
                      percent(move.observed), _interval(move), f"{move.visits:,}",
                      _delays(move), _flag(move))
    console.print(table)
    if group.entries:
        entries = _table("Entry", "Declared", "Observed", "Customers")
        for entry in group.entries:
            entries.add_row(entry.step, _declared(entry.declared), percent(entry.share),
                            f"{entry.entries:,}")
        console.print(entries)
    if group.values:
        values = _table("Value", "Declared", "Observed mean", "Events")
        for value in group.values:
            values.add_row(value.step, "—" if value.declared is None else f"{value.declared:,.2f}",
                           f"{value.mean:,.2f}", f"{value.events:,}")
        console.print(values)
    for renewal in group.renewals:
        fit = renewal.fit
        test = f"likelihood ratio {fit.statistic:.1f}"
        if fit.per_customer:
            verdict = (f"customers differ: {beta_text(fit)} (mean "
                       f"{percent(fit.mean)}) fits better than one rate ({test} > 3.84)")
        else:
            verdict = (f"one rate for every customer ({percent(fit.constant)}) is enough "
                       f"({test} <= 3.84 for a per-customer beta)")
        console.print(f"Renewals at {renewal.step}: {verdict}; {fit.renewals:,} renewals, "
                      f"{fit.ends:,} ends, {fit.censored:,} censored runs")


def _declared(value: float | None) -> str:
    return "—" if value is None else percent_text(value, 2)


def _interval(move: MoveFit) -> str:
    if not move.visits:
        return "no visits"
    return f"{percent(move.low)}–{percent(move.high)}"


def _delays(move: MoveFit) -> str:
    if not move.median_days and not move.declared_days:
        return ""
    return f"{_days(move.declared_days)} → {_days(move.median_days)}"


def _flag(move: MoveFit) -> str:
    if move.declared is None:
        return "undeclared"
    return "drift" if move.drift else ""


# ------------------------------------------------------------------ JSON

def to_json(fit: Fit, journey_path: str) -> dict[str, Any]:
    counts = fit.counts
    return {
        "journey": journey_path,
        "log": {
            "files": list(counts.files.paths),
            "format": counts.files.format,
            "columns": counts.columns,
            "rows": counts.rows,
            "start": _iso(counts.start_us),
            "end": _iso(counts.end_us),
        },
        "customers": counts.customers(),
        "censored_customers": counts.censored(),
        "without_persona": fit.without_persona,
        "unknown_persona": fit.unknown_persona,
        "groups": [_group_json(g) for g in fit.groups],
        "unmapped_events": [{"event": e, "rows": n} for e, n in counts.unmapped],
        "diagnostics": [to_dict(d) for d in counts.warnings],
    }


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.timezone.utc).isoformat().replace(
        "+00:00", "Z")


def _group_json(group: GroupFit) -> dict[str, Any]:
    return {
        "persona": group.persona,
        "customers": group.customers,
        "censored": group.censored,
        "moves": [{
            "source": m.source, "target": m.target, "declared_move": m.declared is not None,
            "declared": m.declared, "observed": m.observed, "moves": m.moves,
            "visits": m.visits, "interval": [m.low, m.high] if m.visits else None,
            "drift": m.drift, "declared_delay_days": m.declared_days,
            "median_delay_days": m.median_days,
        } for m in group.moves],
        "entries": [{"step": e.step, "declared": e.declared, "observed": e.share,
                     "customers": e.entries} for e in group.entries],
        "values": [{"step": v.step, "declared": v.declared, "observed": v.mean,
                    "events": v.events} for v in group.values],
        "renewals": [{
            "step": r.step, "declared": r.declared, "a": r.fit.a, "b": r.fit.b,
            "mean": r.fit.mean, "constant": r.fit.constant,
            "likelihood_ratio": r.fit.statistic, "per_customer": r.fit.per_customer,
            "fitted": beta_text(r.fit) if r.fit.per_customer else None,
            "renewals": r.fit.renewals, "ends": r.fit.ends, "censored": r.fit.censored,
        } for r in group.renewals],
    }

"""A diff as text (terminal), markdown (a pull-request comment) or JSON.

The markdown starts with `MARKER`, an HTML comment the GitHub Action looks
for to update its one comment on a pull request instead of adding another.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..diagnostics import render_text, to_dict
from ..display import json_shown, lines_shown
from . import Diff
from .kpis import Delta, Flip
from .sides import Side
from .structure import Change

if TYPE_CHECKING:
    from ..simulate.expectations import Outcome

#: The first line of every markdown diff: finds the comment to update.
MARKER = "<!-- journeydsl-diff -->"
_SIGN = {"added": "+", "removed": "-", "renamed": "~", "changed": "~"}


# ---------------------------------------------------------------- numbers

def number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{value * 100:.3g}%"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "days":
        return f"{value:,.1f} d" if abs(value) >= 10 else f"{value:.3g} d"
    return f"{value:,.3g}"


def change(delta: Delta) -> str:
    """`+0.14 pp (+6.3%)`, `n/a` when a side is undefined, `=` when equal."""
    moved = delta.change
    if moved is None:
        return "n/a" if delta.old != delta.new else "="
    if moved == 0:
        return "="
    unit = delta.metric.unit
    text = (f"{moved * 100:+.3g} pp" if unit == "rate" else f"{moved:+,.2f}" if unit == "money"
            else f"{moved:+.3g} d" if unit == "days" else f"{moved:+,.3g}")
    if delta.relative is not None:
        text += f" ({delta.relative * 100:+.1f}%)"
    return text


def describe(c: Change, markdown: bool = False) -> str:
    """One change as a line: `~ transition `a -> b` rate: 25% → 32% (smb 25% → 32%)`;
    in markdown the sign is a word and values are code."""
    def v(value: object) -> str:
        return f"`{value}`" if markdown and value is not None else str(value)

    where = f"[scenario `{c.scenario}`] " if c.scenario else ""
    what = f"{c.kind} {c.subject}" + (f" {c.field}" if c.field else "")
    if c.op == "renamed":
        text = f"{c.kind} {c.subject} → `{c.new}`" if markdown \
            else f"{c.kind} {c.subject} renamed to `{c.new}`"
    elif c.op == "added":
        text = what + (f": {v(c.new)}" if c.new else "")
    elif c.op == "removed":
        text = what + (f" (was {v(c.old)})" if c.old else "")
    else:
        text = f"{what}: {v(c.old)} → {v(c.new)}"
    if c.personas:
        text += " (" + ", ".join(f"{p} {v(a)} → {v(b)}" for p, a, b in c.personas) + ")"
    sign = f"*{c.op}*" if markdown else _SIGN[c.op]
    return f"{sign} {where}{text}"


def _headline(diff: Diff, count: int = 3) -> str:
    moved = [d for d in diff.blended if d.change]
    return " · ".join(f"**{d.metric.label}** {number(d.old, d.metric.unit)} → "
                      f"{number(d.new, d.metric.unit)}" for d in moved[:count])


def _why_no_kpis(diff: Diff) -> str:
    for side, name in ((diff.old, "old"), (diff.new, "new")):
        if not side.exists:
            return f"no KPI deltas: the file does not exist on the {name} side ({side.label})"
        if not side.compiles:
            return f"no KPI deltas: the {name} side ({side.label}) has errors"
        if side.report is None:
            return f"no KPI deltas: the {name} side is a library (no `entry`), nothing to simulate"
    return ""


# ---------------------------------------------------------------- text

def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def _kpi_rows(found: list[Delta]) -> list[list[str]]:
    return [["metric", "old", "new", "change"]] + [
        [d.metric.label, number(d.old, d.metric.unit), number(d.new, d.metric.unit), change(d)]
        for d in found]


def text(diff: Diff) -> str:
    """One file's diff as text (user text shown safe: `display.lines_shown`)."""
    out = [f"journey diff  {diff.old.label} → {diff.new.label}", ""]
    for side, name in ((diff.old, "old"), (diff.new, "new")):
        if side.errors:
            out.append(f"The {name} side has {len(side.errors)} error(s):")
            out += [render_text(d) + "\n" for d in side.errors]
    out.append(f"Structure: {len(diff.changes)} change(s)" if diff.changes
               else "Structure: no change")
    out += ["  " + describe(c) for c in diff.changes]
    out.append("")
    currency = _currency(diff)
    if diff.blended:
        out.append("KPIs, blended (biggest movers first" + (f"; money in {currency}" if currency
                                                            else "") + ")")
        out += _table(_kpi_rows(diff.blended), {1, 2, 3})
        for persona, found in diff.personas.items():
            if len(diff.personas) > 1:
                out += ["", f"KPIs, persona `{persona}`"]
                out += _table(_kpi_rows(found), {1, 2, 3})
    else:
        out.append(_why_no_kpis(diff))
    out.append("")
    flips = diff.flips
    out.append(f"Expectations that flip: {len(flips)}" if flips else "Expectations that flip: none")
    out += ["  " + _flip(f) for f in flips]
    return lines_shown("\n".join(out).rstrip() + "\n")


def _flip(f: Flip) -> str:
    """A flipped line: both sides have it."""
    assert f.old is not None and f.new is not None

    def state(outcome: Outcome) -> str:
        return "passes" if outcome.passed else "fails"

    unit = f.new.expect
    from ..simulate.expectations import show

    def actual(outcome: Outcome) -> str:
        if outcome.actual is None:
            return "undefined"
        return show(outcome.actual, unit, outcome.currency)

    where = f" (scenario `{f.scenario}`)" if f.scenario else ""
    return (f"{'✗' if not f.new.passed else '✓'} `{f.text}`{where}: {state(f.old)} → "
            f"{state(f.new)} ({actual(f.old)} → {actual(f.new)})")


def _currency(diff: Diff) -> str | None:
    for side in (diff.new, diff.old):
        if side.report is not None and side.report.currency:
            return side.report.currency
    return None


# ---------------------------------------------------------------- markdown

def _md_table(found: list[Delta]) -> list[str]:
    rows = ["| metric | old | new | change |", "|:--|--:|--:|--:|"]
    rows += [f"| {d.metric.label} | {number(d.old, d.metric.unit)} | "
             f"{number(d.new, d.metric.unit)} | {change(d)} |" for d in found]
    return rows


def markdown_section(diff: Diff) -> str:
    """One file's part of a pull-request comment."""
    title = diff.new.label if diff.new.exists else diff.old.label
    out = [f"### `{title}`", ""]
    summary = [f"{len(diff.changes)} structural change(s)"]
    if diff.flips:
        summary.append(f"**{len(diff.flips)} expectation(s) flip**")
    if diff.blended:
        headline = _headline(diff)
        summary.insert(0, headline or "no KPI moved")
    else:
        summary.insert(0, _why_no_kpis(diff))
    out += [" · ".join(summary), ""]
    for side, name in ((diff.old, "old"), (diff.new, "new")):
        if side.errors:
            errors = side.errors
            out += [f"<details><summary>⚠️ the {name} side has {len(errors)} error(s)</summary>",
                    "", "```text", *[render_text(d) + "\n" for d in errors], "```", "",
                    "</details>", ""]
    for f in diff.flips:
        out.append(f"- {_flip(f)}")
    if diff.flips:
        out.append("")
    if diff.blended:
        currency = _currency(diff)
        money = f"; money in {currency}" if currency else ""
        out += [f"**KPIs, blended** (biggest movers first{money})", "",
                *_md_table(diff.blended), ""]
        if len(diff.personas) > 1:
            out += ["<details><summary>KPIs per persona</summary>", ""]
            for persona, found in diff.personas.items():
                out += [f"**{persona}**", "", *_md_table(found), ""]
            out += ["</details>", ""]
    if diff.changes:
        out += [f"<details><summary>Structural changes ({len(diff.changes)})</summary>", ""]
        out += [f"- {describe(c, markdown=True)}" for c in diff.changes]
        out += ["", "</details>", ""]
    if diff.lines:
        out += ["<details><summary>Changed lines</summary>", ""]
        for _, lines in diff.lines:
            out += ["```diff", lines.rstrip("\n"), "```", ""]
        out += ["</details>", ""]
    return "\n".join(out)


def markdown(diffs: list[Diff]) -> str:
    """The pull-request comment: the marker, a heading, one section per
    file that changed (a line for the others)."""
    shown = [d for d in diffs if d.changed]
    out = [MARKER, "## journey diff", "", *(markdown_section(d) for d in shown)]
    if not shown:
        out.append(f"No change to the journeys ({len(diffs)} file(s) compared).")
    elif len(shown) < len(diffs):
        out.append(f"_{len(diffs) - len(shown)} other journey file(s) compared: no change._")
    # labels and changed lines shown safe: a bidi override or an escape
    # sequence in a pull request must not reorder or hide the comment's text
    return lines_shown("\n".join(out).rstrip("\n") + "\n")


def text_all(diffs: list[Diff]) -> str:
    """Every file's text diff; one line for a file without changes."""
    if len(diffs) == 1:
        return text(diffs[0])
    return lines_shown("".join(text(d) + "\n" if d.changed else f"journey diff  {d.old.label} → "
                               f"{d.new.label}: no change\n" for d in diffs))


# ---------------------------------------------------------------- JSON

def as_dict(diff: Diff) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        return {"label": s.label, "exists": s.exists, "ok": s.ok, "compiles": s.compiles,
                "diagnostics": [to_dict(d) for d in s.diagnostics]}

    return {
        "old": side(diff.old),
        "new": side(diff.new),
        "structure": [c.as_dict() for c in diff.changes],
        "renames": {"steps": diff.renames.steps, "personas": diff.renames.personas,
                    "scenarios": diff.renames.scenarios},
        "kpis": {"blended": [d.as_dict() for d in diff.blended],
                 "personas": {p: [d.as_dict() for d in found]
                              for p, found in diff.personas.items()},
                 "why_none": _why_no_kpis(diff) or None},
        "expectations": [f.as_dict() for f in diff.expectations],
        "lines": [{"file": name or ".", "diff": lines} for name, lines in diff.lines],
    }


def as_json(diffs: list[Diff]) -> str:
    payload = as_dict(diffs[0]) if len(diffs) == 1 else [as_dict(d) for d in diffs]
    # the same data, with what would act on a terminal as JSON escapes
    return json_shown(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))

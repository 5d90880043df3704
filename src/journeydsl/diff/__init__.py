"""`journey diff`: what a change to a journey does, in journey terms.

    old side, new side (sides.py: a file, or a file at a git revision)
      -> structural changes (snapshot.py, structure.py)
      -> KPI deltas per persona and blended, `expect` lines that flip (kpis.py)
      -> text, markdown (a pull-request comment) or JSON (render.py)

Either side may fail to compile: its diagnostics are shown, and the
structural diff is computed from what parses of it; the KPIs need both
sides free of errors.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .kpis import Delta, Flip, deltas, expectations, values
from .sides import DiffError, Side, load_git_side, load_side
from .snapshot import snapshot
from .structure import Change, Differ, Renames


@dataclass
class Diff:
    old: Side
    new: Side
    changes: list[Change]
    renames: Renames
    blended: list[Delta]  # empty unless both sides simulate
    personas: dict[str, list[Delta]]
    expectations: list[Flip]
    lines: list[tuple[str, str]]  # (file, unified diff of its lines); file "": the one compared

    @property
    def flips(self) -> list[Flip]:
        return [f for f in self.expectations if f.flipped]

    @property
    def changed(self) -> bool:
        """Whether there is anything to show: a change, a flip, a side with errors."""
        return bool(self.changes or self.lines or self.flips or self.old.errors
                    or self.new.errors or not self.old.exists or not self.new.exists)


def compare(old: Side, new: Side) -> Diff:
    differ = Differ(snapshot(old.model, old.source), snapshot(new.model, new.source))
    changes = differ.run()
    names = differ.names
    blended: list[Delta] = []
    personas: dict[str, list[Delta]] = {}
    if old.report is not None and new.report is not None:
        blended = deltas(values(old.report), values(new.report))
        back = {b: a for a, b in names.personas.items()}
        for persona in dict.fromkeys([*(names.personas.get(p, p) for p in old.report.personas),
                                      *new.report.personas]):
            personas[persona] = deltas(values(old.report, back.get(persona, persona)),
                                       values(new.report, persona))
    flips = expectations(old.compiled.expectations if old.compiled else [],
                         new.compiled.expectations if new.compiled else [],
                         differ.renamed_metric)
    return Diff(old, new, changes, names, blended, personas, flips, _line_diffs(old, new))


def _line_diffs(old: Side, new: Side) -> list[tuple[str, str]]:
    out = []
    for name in dict.fromkeys([*new.files, *old.files]):
        a, b = old.files.get(name, ""), new.files.get(name, "")
        if a == b:
            continue
        text = "".join(difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True),
            fromfile=_shown(old, name), tofile=_shown(new, name), n=2))
        out.append((name, text if text.endswith("\n") else text + "\n"))
    return out


def _shown(side: Side, name: str) -> str:
    if not side.exists:
        return "/dev/null"
    if not name:  # the file compared itself
        return side.label
    cut = max(side.label.rfind("/"), side.label.rfind(":"))
    return side.label[:cut + 1] + name


__all__ = ["Change", "Delta", "Diff", "DiffError", "Flip", "Side", "compare", "load_git_side",
           "load_side"]

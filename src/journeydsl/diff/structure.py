"""Structural changes between two snapshots, in journey terms.

Added, removed and renamed personas, stages, steps and scenarios; changed
labels, stages, channels, owners, emotions, values, costs, shares, rates,
delays, entry splits, goals, settings and `expect` lines, in the baseline
and in each scenario. A changed number lists the personas whose value
differs. A rename is a step (persona, stage, scenario) that went away and
one that came with the same label, or the same place in the journey (the
same stage and most of the same neighbours): edges then compare through
it, so renaming `pricing` to `plans` is one change, not twenty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .snapshot import STEP_FIELDS, Block, Edge, Record, Snapshot, Value, days_text

Op = Literal["added", "removed", "renamed", "changed"]
Show = Callable[[float], str]  # a number as a change shows it


@dataclass(frozen=True)
class Change:
    op: Op
    kind: str  # persona, stage, step, transition, referral, entry, goal, expect, setting, scenario
    subject: str  # what changed, as a reviewer names it: `pricing`, `pricing -> trial`
    old: str | None = None
    new: str | None = None
    field: str | None = None  # which attribute of a step or persona, if one
    personas: tuple[tuple[str, str, str], ...] = ()  # (persona, old, new) where they differ
    scenario: str | None = None
    line: int | None = None  # on the new side (the old side's for a removal)

    def as_dict(self) -> dict:
        return {"op": self.op, "kind": self.kind, "subject": self.subject, "field": self.field,
                "old": self.old, "new": self.new, "scenario": self.scenario, "line": self.line,
                "personas": [{"persona": p, "old": o, "new": n} for p, o, n in self.personas]}


@dataclass
class Renames:
    steps: dict[str, str]  # old id -> new id (stages with touchpoints included)
    personas: dict[str, str]
    scenarios: dict[str, str]

    def step(self, name: str) -> str:
        return self.steps.get(name, name)


Score = Callable[[str, str], float]


def _pair(gone: list[str], came: list[str], score: Score) -> dict[str, str]:
    """Greedy best pairs of a removed and an added name (score > 0)."""
    scored = sorted(((score(a, b), i, j) for i, a in enumerate(gone) for j, b in enumerate(came)),
                    key=lambda t: (-t[0], t[1], t[2]))
    out: dict[str, str] = {}
    used: set[str] = set()
    for value, i, j in scored:
        if value > 0 and gone[i] not in out and came[j] not in used:
            out[gone[i]] = came[j]
            used.add(came[j])
    return out


def _neighbours(block: Block, name: str) -> set[tuple[str, str]]:
    return {("out", v) for (u, v, _) in block.edges if u == name} | \
        {("in", u) for (u, v, _) in block.edges if v == name}


def renames(old: Snapshot, new: Snapshot) -> Renames:
    def labelled(table_old: dict[str, Record], table_new: dict[str, Record]) -> Score:
        def score(a: str, b: str) -> float:
            la, lb = table_old[a].get("label"), table_new[b].get("label")
            return 2.0 if la and la == lb and la not in (a, b) else 0.0
        return score

    def stage_names(s: Snapshot) -> set[str]:
        return set(s.stages) | {k for k, v in s.steps.items() if v["kind"] == "stage"}

    gone = [s for s in stage_names(old) if s not in stage_names(new)]
    came = [s for s in stage_names(new) if s not in stage_names(old)]
    old_stages = {**old.stages, **{k: old.steps[k] for k in old.steps if k in gone}}
    new_stages = {**new.stages, **{k: new.steps[k] for k in new.steps if k in came}}

    def stage_score(a: str, b: str) -> float:
        same = labelled(old_stages, new_stages)(a, b)
        mine = set(old_stages[a].get("touchpoints", ()))
        theirs = set(new_stages[b].get("touchpoints", ()))
        if mine and len(mine & theirs) * 2 >= len(mine | theirs):
            same += 1.5
        return same

    mapping = _pair(sorted(gone, key=str), sorted(came, key=str), stage_score)
    gone = [s for s in old.steps if s not in new.steps and s not in mapping
            and old.steps[s]["kind"] == "touchpoint"]
    came = [s for s in new.steps if s not in old.steps and s not in mapping.values()
            and new.steps[s]["kind"] == "touchpoint"]

    def step_score(a: str, b: str) -> float:
        same = labelled(old.steps, new.steps)(a, b)
        if mapping.get(old.steps[a]["stage"], old.steps[a]["stage"]) == new.steps[b]["stage"]:
            mine = {(d, mapping.get(n, n)) for d, n in _neighbours(old.baseline, a)}
            theirs = _neighbours(new.baseline, b)
            if mine and len(mine & theirs) * 2 >= len(mine | theirs):
                same += 1.5
        return same

    mapping.update(_pair(gone, came, step_score))
    personas = _pair([p for p in old.personas if p not in new.personas],
                     [p for p in new.personas if p not in old.personas],
                     labelled(old.personas, new.personas))
    scenario_labels = ({k: {"label": v[0]} for k, v in old.scenarios.items()},
                       {k: {"label": v[0]} for k, v in new.scenarios.items()})
    scenarios = _pair([s for s in old.scenarios if s not in new.scenarios],
                      [s for s in new.scenarios if s not in old.scenarios],
                      labelled(*scenario_labels))
    return Renames(mapping, personas, scenarios)


# ---------------------------------------------------------------- changes

class Differ:
    """The changes from one snapshot to another, and the renames found."""

    def __init__(self, old: Snapshot, new: Snapshot) -> None:
        self.old, self.new = old, new
        self.names = renames(old, new)
        self.changes: list[Change] = []
        self.personas = list(dict.fromkeys(
            [self.names.personas.get(p, p) for p in old.persona_ids] + new.persona_ids))

    def add(self, op: Op, kind: str, subject: str, old: str | None = None,
            new: str | None = None, **kw: Any) -> None:
        self.changes.append(Change(op, kind, subject, old, new, **kw))

    def per_persona(self, old: Value | None, new: Value | None,
                    show: Show) -> tuple[tuple[str, str, str], ...]:
        """(persona, old, new) for the personas whose value changed, when
        overrides make personas differ (without any, the value itself says
        it all: one line per persona would repeat it)."""
        if old is None or new is None or len(self.personas) < 2:
            return ()
        if not old.overrides and not new.overrides:
            return ()
        back = {v: k for k, v in self.names.personas.items()}
        out = []
        for persona in self.personas:
            a, b = old.of(back.get(persona, persona)), new.of(persona)
            if abs(a - b) > 1e-12:
                out.append((persona, show(a), show(b)))
        return tuple(out)

    def value(self, kind: str, subject: str, old: Value | None, new: Value | None, show: Show,
              per_persona: bool = True, **kw: Any) -> None:
        if old is None and new is None:
            return
        if old is not None and new is not None and self._mapped(old.text) == new.text:
            return
        op: Op = "added" if old is None else "removed" if new is None else "changed"
        self.add(op, kind, subject, old.text if old else None, new.text if new else None,
                 personas=self.per_persona(old, new, show) if per_persona else (), **kw)

    def _mapped(self, text: str) -> str:
        """A value's text with renamed personas written as now."""
        for a, b in self.names.personas.items():
            text = re.sub(rf"(?<![\w]){re.escape(a)}(?=\s*:)", b, text)
        return text

    def run(self) -> list[Change]:
        self.settings()
        self.declarations("persona", self.old.personas, self.new.personas, self.names.personas)
        stage_map = {a: b for a, b in self.names.steps.items() if a in self.old.stages}
        self.declarations("stage", self.old.stages, self.new.stages, stage_map)
        self.steps()
        self.block(self.old.baseline, self.new.baseline, None)
        gone = [g for g in self.old.goals if self.names.step(g) not in self.new.goals]
        came = [g for g in self.new.goals if g not in map(self.names.step, self.old.goals)]
        for goal in gone:
            self.add("removed", "goal", f"`{goal}`")
        for goal in came:
            self.add("added", "goal", f"`{goal}`")
        self.scenarios()
        return self.changes

    def settings(self) -> None:
        for key in dict.fromkeys([*self.old.settings, *self.new.settings]):
            a, b = self.old.settings.get(key), self.new.settings.get(key)
            if a != b:
                op: Op = "added" if a is None else "removed" if b is None else "changed"
                self.add(op, "setting", f"`{key}`", a, b)

    def declarations(self, kind: str, old: dict, new: dict, mapping: dict[str, str]) -> None:
        for name in old:
            if name in mapping:
                self.add("renamed", kind, f"`{name}`", name, mapping[name],
                         line=self.new.lines.get((kind, mapping[name])))
            elif name not in new:
                self.add("removed", kind, f"`{name}`", f'"{old[name].get("label")}"',
                         line=self.old.lines.get((kind, name)))
        for name in new:
            if name not in old and name not in mapping.values():
                self.add("added", kind, f"`{name}`", None, f'"{new[name].get("label")}"',
                         line=self.new.lines.get((kind, name)))
        back = {b: a for a, b in mapping.items()}
        for name, now in new.items():
            before = old.get(back.get(name, name))
            if before is None:
                continue
            if before.get("label") != now.get("label"):
                self.add("changed", kind, f"`{name}`", before.get("label"), now.get("label"),
                         field="label", line=self.new.lines.get((kind, name)))
            if kind == "persona":
                self.value("persona", f"`{name}`", before.get("share"), now.get("share"),
                           _pct, per_persona=False, field="share",
                           line=self.new.lines.get((kind, name)))

    def steps(self) -> None:
        old, new, names = self.old.steps, self.new.steps, self.names
        back = {b: a for a, b in names.steps.items()}
        for name, before in old.items():
            if name in names.steps:
                self.add("renamed", "step", f"`{name}`", name, names.steps[name],
                         line=self.new.lines.get(("step", names.steps[name])))
            elif name not in new:
                self.add("removed", "step", f"`{name}`", f'"{before["label"]}"',
                         line=self.old.lines.get(("step", name)))
        for name, now in new.items():
            was = old.get(back.get(name, name))
            line = self.new.lines.get(("step", name))
            if was is None:
                self.add("added", "step", f"`{name}`", None,
                         f'"{now["label"]}" in stage {now["stage"]}', line=line)
                continue
            for key in STEP_FIELDS:
                a, b = was[key], now[key]
                if key == "stage":
                    a = names.step(a)
                if isinstance(a, Value) or isinstance(b, Value):
                    self.value("step", f"`{name}`", a, b, _number, field=key, line=line)
                elif a != b:
                    self.add("changed", "step", f"`{name}`", a, b, field=key, line=line)

    def block(self, old: Block, new: Block, scenario: str | None) -> None:
        step = self.names.step
        edges = {(step(u), step(v), arrow): e for (u, v, arrow), e in old.edges.items()}
        for key, before in edges.items():
            if key not in new.edges:
                self.add("removed", _edge_kind(key), _edge(key), _edge_text(before),
                         scenario=scenario)
        for key, now in new.edges.items():
            was = edges.get(key)
            if was is None:
                self.add("added", _edge_kind(key), _edge(key), None, _edge_text(now),
                         scenario=scenario, line=now.line)
                continue
            show = _pct if key[2] == "->" else _number
            self.value(_edge_kind(key), _edge(key), was.value, now.value, show,
                       field="rate" if key[2] == "->" else "prospects", scenario=scenario,
                       line=now.line)
            if abs(was.delay_days - now.delay_days) > 1e-12:
                self.add("changed", _edge_kind(key), _edge(key), _after(was.delay_days),
                         _after(now.delay_days), field="delay", scenario=scenario, line=now.line)
        entries = {step(k): v for k, v in old.entries.items()}
        for target in dict.fromkeys([*entries, *new.entries]):
            self.value("entry", f"`{target}`", entries.get(target), new.entries.get(target),
                       _pct, scenario=scenario)
        expects = {(self.renamed_metric(m), op): v for (m, op), v in old.expects.items()}
        for metric_op in dict.fromkeys([*expects, *new.expects]):
            line_a, line_b = expects.get(metric_op), new.expects.get(metric_op)
            if line_a is None or line_b is None or self.renamed_metric(line_a[0]) != line_b[0]:
                op: Op = "added" if line_a is None else "removed" if line_b is None else "changed"
                self.add(op, "expect", f"`{metric_op[0]}`", line_a[0] if line_a else None,
                         line_b[0] if line_b else None, scenario=scenario,
                         line=line_b[1] if line_b else None)
        for target in dict.fromkeys([*map(step, old.overrides), *new.overrides]):
            back = {step(k): k for k in old.overrides}
            a = old.overrides.get(back.get(target, target), {})
            b = new.overrides.get(target, {})
            for field in dict.fromkeys([*a, *b]):
                if isinstance(a.get(field), Value) or isinstance(b.get(field), Value):
                    self.value("step", f"`{target}`", a.get(field), b.get(field), _number,
                               field=field, scenario=scenario)
                elif a.get(field) != b.get(field):
                    op = "added" if field not in a else "removed" if field not in b else "changed"
                    self.add(op, "step", f"`{target}`", a.get(field), b.get(field), field=field,
                             scenario=scenario)

    def renamed_metric(self, text: str) -> str:
        """An old `metric(arg)` written with the new names."""
        found = re.fullmatch(r"(\w+)\s*\(\s*([\w.]+)\s*\)(.*)", text, re.S)
        if not found:
            return text
        arg = found.group(2)
        arg = ".".join(self.names.step(p) for p in arg.split("."))
        arg = self.names.personas.get(arg, arg)
        return f"{found.group(1)}({arg}){found.group(3)}"

    def scenarios(self) -> None:
        mapping = self.names.scenarios
        old = {k: {"label": v[0]} for k, v in self.old.scenarios.items()}
        new = {k: {"label": v[0]} for k, v in self.new.scenarios.items()}
        self.declarations("scenario", old, new, mapping)
        back = {b: a for a, b in mapping.items()}
        for name, (_, block) in self.new.scenarios.items():
            before = self.old.scenarios.get(back.get(name, name))
            self.block(before[1] if before else Block(), block, name)
        # a scenario removed whole is one change (`declarations` says it), not
        # one per line it had


def _edge(key: tuple[str, str, str]) -> str:
    return f"`{key[0]} {key[2]} {key[1]}`"


def _edge_kind(key: tuple[str, str, str]) -> str:
    return "transition" if key[2] == "->" else "referral"


def _edge_text(edge: Edge) -> str:
    return edge.value.text + (f" {_after(edge.delay_days)}" if edge.delay_days else "")


def _after(days: float) -> str:
    return f"after {days_text(days)}" if days else "no delay"


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _number(x: float) -> str:
    return f"{x:,.6g}"


def structural_changes(old: Snapshot, new: Snapshot) -> list[Change]:
    """Every change from `old` to `new`, in the order a reviewer reads a
    journey: settings, personas, stages, steps, flows, goals, scenarios."""
    return Differ(old, new).run()

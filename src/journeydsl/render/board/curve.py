"""The emotion lane: one line per persona along its most likely path.

Every step on some shown persona's path gets a slot in its stage's column
(in path order); each persona's line joins its points in its own path
order, is drawn in its own colour and offset a little from the others, so
identical lines stay visible side by side. A step on the path without an
emotion for that persona breaks the line and shows `n/a`: no value is
invented, no gap bridged (the `n/a` is in the persona's colour when it is
the only one without). A jump, a move back to an earlier column (a
friend's recommendation drawn in the advocacy stage, say) or forward over
a stage that has points of its own, is a dashed hop over the curve with an
arrowhead on its target, never a straight line through other points.
Alternative entries are not joined: only the entry on the most likely path
is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..measure import fit_lines
from ..view import colour
from .content import Context, Curve
from .svg import LINE, MUTED, Svg, n

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


@dataclass(frozen=True)
class Geometry:
    """The lane's vertical layout: `top` is level 5 below the lane's top,
    `step` the distance between levels, `labels` the lines of a slot's
    step label. The compact one is for pages that must fit (16:9, A4)."""

    top: float
    step: float
    labels: int

    @property
    def height(self) -> float:
        return self.top + 4.5 * self.step + 20.5 + 17 * self.labels

    def level_y(self, y: float, emotion: float) -> float:
        return y + self.top + (5.0 - min(max(emotion, 1.0), 5.0)) * self.step


FULL = Geometry(46.0, 23.0, 2)
COMPACT = Geometry(40.0, 16.0, 1)
CURVE_HEIGHT = FULL.height


def draw_curve(svg: Svg, ctx: Context, curve: Curve, left: float, y: float,
               column: float, height: float, geometry: Geometry = FULL) -> None:
    g = geometry
    lane_top = y
    y += (height - g.height) / 2  # centred in a lane given spare height
    right = left + column * len(curve.slots)
    for level in range(1, 6):
        ly = g.level_y(y, level)
        svg.rect(left + 1, ly - g.step / 2, right - left - 2, g.step, fill=colour(level),
                 extra=' fill-opacity="0.22"')
        svg.line(left, ly, right, ly, stroke=LINE, width=1.0 if level == 3 else 0.6,
                 dash=None if level == 3 else "4 4")
    for level, key in ((5, "emotion_5"), (3, "emotion_3"), (1, "emotion_1")):
        svg.text(left - 10, g.level_y(y, level) + 5, f"{ctx.w(key)} {level}", 14, fill=MUTED,
                 anchor="end")
    where: dict[str, float] = {}
    for i, slots in enumerate(curve.slots):
        room = column / max(len(slots), 1)
        for j, (step, label) in enumerate(slots):
            x = left + i * column + (j + 0.5) * room
            where[step] = x
            lines = fit_lines(label, 14, room - 8, g.labels)
            for k, line in enumerate(lines):
                svg.text(x, g.level_y(y, 1) + g.step / 2 + 18 + 17 * k, line, 14, fill=MUTED,
                         anchor="middle")
    count = len(curve.lines)
    columns = curve.columns()
    hop_top = min(lane_top + 8, g.level_y(y, 5) - g.step / 2 - 4 * count)
    for k, (_, _, points) in enumerate(curve.lines):
        tint = PALETTE[k % len(PALETTE)]
        dy = (k - (count - 1) / 2) * 5.0
        pieces = [(solid, [(x, g.level_y(y, e) + dy) for x, e in run])
                  for solid, run in Curve.segments(points, where, columns)]
        jumps = 0
        for solid, run in pieces:
            if solid and len(run) > 1:
                svg.polyline(run, tint, 3.0)
            elif not solid:  # one height per jump, so two jumps stay apart
                peak = min(hop_top + 4 * (k + count * jumps), g.level_y(y, 5) - g.step / 2)
                _hop(svg, run[0], run[1], peak, tint)
                jumps += 1
        for solid, run in pieces:
            if solid:
                for px, py in run:
                    svg.circle(px, py, 6.0, tint)
    _missing(svg, ctx, curve, where, g.level_y(y, 3) + 5)


def _hop(svg: Svg, start: tuple[float, float], end: tuple[float, float], peak: float,
         tint: str) -> None:
    """A jump (back to an earlier stage, or over a stage with points of
    its own) as a dashed arc over the curve, not a line through its
    points, with a small arrowhead down onto its target."""
    (x1, y1), (x2, y2) = start, end
    # a cubic with both handles at height h peaks at (y1 + y2) / 8 + 3h / 4
    h = (peak - (y1 + y2) / 8) / 0.75
    svg.path(f"M{n(x1)} {n(y1)}C{n(x1)} {n(h)} {n(x2)} {n(h)} {n(x2)} {n(y2 - 9)}",
             tint, 2.0, dash="7 5")
    svg.polygon([(x2 - 5, y2 - 15), (x2 + 5, y2 - 15), (x2, y2 - 7)], tint)


def _missing(svg: Svg, ctx: Context, curve: Curve, where: dict[str, float],
             baseline: float) -> None:
    """`n/a` under a path step without an emotion, in the persona's colour
    when only one persona lacks it there (grey when several do), with a
    white halo so no line crosses the word."""
    who: dict[str, list[int]] = {}
    for k, (_, _, points) in enumerate(curve.lines):
        for step, emotion in points:
            if emotion is None and k not in who.setdefault(step, []):
                who[step].append(k)
    for step in sorted(who, key=lambda s: where[s]):
        if not who[step]:
            continue
        tint = PALETTE[who[step][0] % len(PALETTE)] if len(who[step]) == 1 else MUTED
        svg.text(where[step], baseline, ctx.w("na"), 14, fill=tint, italic=True,
                 anchor="middle", halo=True)

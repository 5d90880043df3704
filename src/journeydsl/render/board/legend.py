"""The board's legend: one horizontal strip under the grid, its entries
flowing onto a second line only when the board is narrow. It shows only
what the board has: the emotion scale, each persona's line colour, goal
steps, `expect` pass/fail, the reach bars, the money colours."""

from __future__ import annotations

from typing import Callable

from ..measure import width
from ..view import colour
from .content import Context, LaneData
from .curve import PALETTE
from .pieces import BARS, GOAL, MONEY, TONES
from .svg import INK, MUTED, Svg

SIZE = 14
LEAD = 26


def legend(ctx: Context, lanes: list[LaneData], room: float
           ) -> tuple[float, Callable[[Svg, float, float], None]]:
    """(height, draw(svg, x, y)) of the strip."""
    w = ctx.w
    kinds = {lane.key for lane in lanes}
    entries: list[tuple[float, Callable[[Svg, float, float], None]]] = []

    def label(text: str, lead: float, draw_mark: Callable[[Svg, float, float], None]) -> None:
        def draw(svg: Svg, x: float, y: float) -> None:
            draw_mark(svg, x, y)
            svg.text(x + lead, y + 15, text, SIZE, fill=INK)

        entries.append((lead + width(text, SIZE) + 22, draw))

    if "touchpoints" in kinds or "emotion" in kinds:
        def scale(svg: Svg, x: float, y: float) -> None:
            svg.text(x, y + 15, w("legend_emotion"), SIZE, fill=INK, bold=True)
            x0 = x + width(w("legend_emotion"), SIZE, True) + 8
            for level in range(1, 6):
                svg.rect(x0 + (level - 1) * 30, y + 2, 28, 18, fill=colour(level), rx=3)
                svg.text(x0 + (level - 1) * 30 + 14, y + 16, str(level), 13, fill=INK,
                         anchor="middle")
            svg.text(x0 + 156, y + 15, f"{w('emotion_1')} → {w('emotion_5')}", SIZE,
                     fill=MUTED)
            x1 = x0 + 156 + width(f"{w('emotion_1')} → {w('emotion_5')}", SIZE) + 14
            svg.rect(x1, y + 2, 28, 18, fill=colour(None), rx=3)
            svg.text(x1 + 34, y + 15, w("legend_no_emotion"), SIZE, fill=MUTED)

        span = (width(w("legend_emotion"), SIZE, True) + 8 + 156
                + width(f"{w('emotion_1')} → {w('emotion_5')}", SIZE) + 14 + 34
                + width(w("legend_no_emotion"), SIZE) + 24)
        entries.append((span, scale))
    if "emotion" in kinds:
        for k, p in enumerate(ctx.personas):
            tint = PALETTE[k % len(PALETTE)]
            def persona_mark(svg: Svg, x: float, y: float, t: str = tint) -> None:
                svg.line(x, y + 11, x + 30, y + 11, t, 3.0)
                svg.circle(x + 15, y + 11, 5.0, t)

            label(ctx.persona_label(p), 40, persona_mark)
        label(w("legend_path"), 0, lambda svg, x, y: None)
    if "touchpoints" in kinds:
        label(w("legend_goal"), 36, lambda svg, x, y: svg.rect(
            x, y + 2, 28, 18, fill="#ffffff", stroke=GOAL, rx=4, stroke_width=2.5))
    if "kpis" in kinds:
        def kpi_mark(svg: Svg, x: float, y: float) -> None:
            svg.circle(x + 6, y + 11, 5.5, TONES["pass"], stroke=TONES["pass"])
            svg.circle(x + 22, y + 11, 5.5, TONES["fail"], stroke=TONES["fail"])

        label(w("legend_kpi"), 34, kpi_mark)
    if "reach" in kinds:
        label(w("legend_reach"), 36, lambda svg, x, y: svg.rect(
            x, y + 7, 28, 9, fill=BARS["reach"], rx=4))
    if "money" in kinds:
        def money_mark(svg: Svg, x: float, y: float) -> None:
            for k, tone in enumerate(("revenue", "cost", "profit", "loss")):
                svg.rect(x + 8 * k, y + 4, 6, 14, fill=MONEY[tone], rx=2)

        label(w("legend_money"), 40, money_mark)
    rows: list[list[tuple[float, Callable]]] = [[]]
    used = 0.0
    for span, draw in entries:
        if rows[-1] and used + span > room:
            rows.append([])
            used = 0.0
        rows[-1].append((span, draw))
        used += span

    def draw_all(svg: Svg, x: float, y: float) -> None:
        for r, row in enumerate(rows):
            xx = x
            for span, draw in row:
                draw(svg, xx, y + r * LEAD)
                xx += span

    return LEAD * len(rows), draw_all


__all__ = ["MUTED", "legend"]

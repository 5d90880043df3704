"""The board's grid: our own deterministic layout, no Graphviz.

Columns are the stages, of equal width, under a header row (stage label
and objective); rows are the lanes, a title cell on the left. Every text
is wrapped by measured widths (`measure.py`); a cell shows what fits and
`+ N more` for the rest (the money and reach lanes are never cut: on a
tight page money shows each stage's profit alone, without bars or totals).
Sizes: `16:9`, `A4` and `A3` fix the aspect (first the emotion curve gets
flatter, with one line of step labels, then the cards smaller: `TIGHTER`;
then the lanes share the height; a lane taller than its share is cut;
`auto` keeps everything and grows), `width` the width in px (1920 by
default; text is at least 14 px at that width). With many stages the board grows wider than
asked (each stage keeps at least `MIN_COLUMN` px) and says so in `notes`.
"""

from __future__ import annotations

import math

from .content import Amount, Bar, Context, LaneData
from .curve import COMPACT, FULL, Geometry, draw_curve
from .legend import legend
from .pieces import GAP, Piece, amount, bar, card, chips, fit, item, stack_height, TONES
from .svg import INK, LINE, MUTED, Svg
from ..measure import ellipsis, fit_lines
from ..measure import width as text_width

SIZES = {"16:9": 16 / 9, "A4": math.sqrt(2), "A3": math.sqrt(2), "auto": None}
PHYSICAL = {"A4": ("297mm", "210mm"), "A3": ("420mm", "297mm")}
WIDTH = 1920
PAD = 28
HEAD = 188  # the lane titles' column
MIN_COLUMN = 160
CELL = 10  # padding inside a cell
LEGEND_GAP = 14  # between the grid and the legend
STAGE_FILL = "#243b53"
ROWS = ("#ffffff", "#f7f9fb")
#: A page too small for everything takes these steps in turn, before any
#: cell is cut: (card detail, flatter emotion curve). A flatter curve keeps
#: every point, so it comes before the cards lose their cost and channel.
TIGHTER = ((2, True), (1, True), (0, True))


class Layout:
    def __init__(self, ctx: Context, lanes: list[LaneData], size: str = "auto",
                 width: int | None = None, subtitle: str = "") -> None:
        self.ctx, self.lanes, self.size = ctx, lanes, size
        self.notes: list[str] = []
        count = max(len(ctx.stages), 1)
        self.width = float(width or WIDTH)
        needed = 2 * PAD + HEAD + count * MIN_COLUMN
        if self.width < needed:
            self.notes.append(ctx.w("wide_note", stages=count, width=f"{needed:,}"))
            self.width = float(needed)
        self.column = (self.width - 2 * PAD - HEAD) / count
        self.subtitle = subtitle
        self.detail = 2
        self.compact = False  # the emotion lane's geometry (flatter on a tight page)
        self.header_size = 19  # the stage labels' font size (smaller on narrow columns)
        self.cells = self._cells()

    # ------------------------------------------------------------ measuring
    def _cells(self) -> list[list[list[Piece]]]:
        return [[self._pieces(lane, cell) for cell in lane.cells] for lane in self.lanes]

    def _pieces(self, lane: LaneData, cell: list) -> list[Piece]:
        room = self.column - 2 * CELL
        if lane.kind == "cards":
            return [card(x, room, self.detail) for x in cell]
        if lane.kind == "items":
            return [item(x, room, self.detail) for x in cell]
        if lane.kind == "money":  # on a tight page only the profit, without bars
            shown = cell[-1:] if self.detail == 0 and isinstance(cell[-1], Amount) else cell
            return [amount(x, room, bars=self.detail == 2) if isinstance(x, Amount)
                    else item(x, room, self.detail) for x in shown]
        if lane.kind == "bars":
            return [bar(x, room) if isinstance(x, Bar) else item(x, room, self.detail)
                    for x in cell]
        return []

    def _natural(self, k: int) -> float:
        lane = self.lanes[k]
        if lane.kind == "curve":
            return self.geometry.height
        span = chips(self._span(lane), self.width - 2 * PAD - HEAD - 2 * CELL)[0]
        body = max((stack_height(p) for p in self.cells[k]), default=0.0)
        title = len(self._title_lines(lane)) * 22
        return 2 * CELL + max(body + (span + GAP if span else 0), title)

    def _span(self, lane: LaneData) -> list:
        """The lane's whole-journey row (money totals are left out on a tight page)."""
        return [] if lane.kind == "money" and self.detail == 0 else lane.span

    def _minimum(self, k: int) -> float:
        lane = self.lanes[k]
        if lane.kind == "curve":
            return self.geometry.height
        if lane.kind in ("money", "bars"):
            return self._natural(k)  # never `+ N more` in place of an amount or a share
        first = max((p[0].height for p in self.cells[k] if p), default=0.0)
        span = chips(self._span(lane), self.width - 2 * PAD - HEAD - 2 * CELL)[0]
        return min(self._natural(k), 2 * CELL + first + GAP + 18 + (span + GAP if span else 0))

    @property
    def geometry(self) -> Geometry:
        """The emotion lane's: compact on a page that cannot hold everything."""
        return COMPACT if self.compact else FULL

    def _title_lines(self, lane: LaneData) -> list[str]:
        return fit_lines(lane.title, 17, HEAD - 28, 3, bold=True)

    def _header(self) -> tuple[float, list[tuple[list[str], list[str]]]]:
        texts = []
        names = [_plain(stage.label) or stage.id for stage in self.ctx.stages]
        size = self.header_size = next(  # the largest size at which no word is cut
            (size for size in (19, 17, 15) if all(
                text_width(word, size, bold=True) <= self.column - 60
                for name in names for word in name.split())), 15)
        for stage in self.ctx.stages:
            label = fit_lines(_plain(stage.label) or stage.id, size, self.column - 60, 2,
                              bold=True)
            objective = stage.attributes.objective
            obj = (fit_lines(_plain(objective), 15, self.column - 24, 3 if self.detail else 2)
                   if objective else [])
            texts.append((label, obj))
        height = max((16 + 24 * len(a) + (6 + 20 * len(b) if b else 0) + 12
                      for a, b in texts), default=60)
        return height, texts

    # ------------------------------------------------------------ fitting
    def heights(self, available: float | None) -> tuple[list[float], list[float | None]]:
        """Each lane's height and the cap of its cells' content (None: all)."""
        natural = [self._natural(k) for k in range(len(self.lanes))]
        if available is None:
            return natural, [None] * len(natural)
        if sum(natural) <= available:
            spare = (available - sum(natural)) / max(len(natural), 1)
            return [h + spare for h in natural], [None] * len(natural)
        minimum = [self._minimum(k) for k in range(len(self.lanes))]
        low, high = 0.0, max(natural)
        for _ in range(40):  # the largest cap that fits the height
            cap = (low + high) / 2
            if sum(min(h, max(cap, m)) for h, m in zip(natural, minimum)) <= available:
                low = cap
            else:
                high = cap
        heights = [min(h, max(low, m)) for h, m in zip(natural, minimum)]
        spare = available - sum(heights)
        if spare > 0:
            heights = [h + spare / len(heights) for h in heights]
        caps = [None if h >= n else h - 2 * CELL for h, n in zip(heights, natural)]
        return heights, caps

    # ------------------------------------------------------------ drawing
    def svg(self, title: str) -> str:
        ctx = self.ctx
        top = PAD + 34 + (26 if self.subtitle else 0) + 16
        header_h, header = self._header()
        grid_top = top + header_h
        legend_h, draw_legend = legend(ctx, self.lanes, self.width - 2 * PAD)
        fixed = grid_top + LEGEND_GAP + legend_h + PAD
        aspect = SIZES[self.size]
        available = None
        if aspect is not None:
            target = self.width / aspect
            for detail, compact in TIGHTER:  # before cutting anything
                if sum(self._natural(k) for k in range(len(self.lanes))) <= target - fixed:
                    break
                self.detail, self.compact = detail, compact
                self.cells = self._cells()
                header_h, header = self._header()  # objectives get shorter too
                grid_top = top + header_h
                fixed = grid_top + LEGEND_GAP + legend_h + PAD
            available = max(target - fixed, sum(self._minimum(k)
                                                 for k in range(len(self.lanes))))
        heights, caps = self.heights(available)
        height = fixed + sum(heights)
        if aspect is not None and height > self.width / aspect + 0.5:
            self.notes.append(ctx.w("tall_note", height=f"{math.ceil(height):,}",
                                    size=self.size))
        size = None
        if self.size in PHYSICAL and aspect is not None and math.isclose(
                height, self.width / aspect, rel_tol=1e-6):
            size = PHYSICAL[self.size]
        svg = Svg(self.width, height, size)
        svg.rect(0, 0, self.width, height, fill="#ffffff")
        svg.add('<g class="title">')
        svg.text(PAD, PAD + 28, ellipsis(title, 30, self.width - 2 * PAD, bold=True), 30,
                 bold=True)
        if self.subtitle:
            svg.text(PAD, PAD + 58, ellipsis(self.subtitle, 17, self.width - 2 * PAD), 17,
                     fill=MUTED)
        svg.add("</g>")
        self._draw_header(svg, top, header_h, header)
        y = grid_top
        for k, lane in enumerate(self.lanes):
            self._draw_lane(svg, k, lane, y, heights[k], caps[k])
            y += heights[k]
        svg.line(PAD, y, self.width - PAD, y, stroke=LINE)
        svg.add('<g class="legend">')
        draw_legend(svg, PAD, y + LEGEND_GAP)
        svg.add("</g>")
        return svg.finish(title)

    def _draw_header(self, svg: Svg, top: float, h: float,
                     header: list[tuple[list[str], list[str]]]) -> None:
        left = PAD + HEAD
        svg.text(PAD + 4, top + 30, self.ctx.w("stage"), 17, fill=MUTED, bold=True)
        for i, (label, objective) in enumerate(header):
            x = left + i * self.column
            svg.rect(x + 3, top + 2, self.column - 6, h - 6, fill=STAGE_FILL, rx=8)
            svg.circle(x + 26, top + 31, 14, "#ffffff", stroke="#ffffff", width=0)
            svg.text(x + 26, top + 37, str(i + 1), 16, fill=STAGE_FILL, bold=True,
                     anchor="middle")
            yy = svg.lines(x + 48, top + 16, label, self.header_size, 24, fill="#ffffff",
                           bold=True)
            svg.lines(x + 14, yy + 6, objective, 15, 20, fill="#d9e2ec", italic=True)

    def _draw_lane(self, svg: Svg, k: int, lane: LaneData, y: float, h: float,
                   cap: float | None) -> None:
        svg.rect(PAD, y, self.width - 2 * PAD, h, fill=ROWS[k % 2])
        svg.line(PAD, y, self.width - PAD, y, stroke=LINE)
        svg.lines(PAD + 12, y + CELL + 2, self._title_lines(lane), 17, 22, fill=INK, bold=True)
        left = PAD + HEAD
        span_h, placed = chips(self._span(lane), self.width - 2 * PAD - HEAD - 2 * CELL)
        below = y + (CELL + span_h + GAP / 2 if placed else 0)
        edges = (0, len(self.ctx.stages))  # they go through the whole-journey row
        for i in range(len(self.ctx.stages) + 1):
            svg.line(left + i * self.column, y if i in edges else below,
                     left + i * self.column, y + h, stroke=LINE)
        if lane.kind == "curve" and lane.curve is not None:
            draw_curve(svg, self.ctx, lane.curve, left, y, self.column, h, self.geometry)
            return
        body_top = y + CELL
        if placed:
            for dx, dy, it, text in placed:
                tone = TONES.get(it.tone, MUTED)
                svg.circle(left + CELL + dx + 7, body_top + dy + 11, 5.5, tone, stroke=tone)
                svg.text(left + CELL + dx + 18, body_top + dy + 15, text, 15, fill=INK)
            body_top += span_h + GAP
            if cap is not None:
                cap -= span_h + GAP
        for i, pieces in enumerate(self.cells[k]):
            x = left + i * self.column + CELL
            yy = body_top
            for piece in fit(pieces, cap, self.ctx.w):
                piece.draw(svg, x, yy, self.column - 2 * CELL)
                yy += piece.height + GAP


def _plain(text: str | None) -> str:
    from .content import plain

    return plain(text)

"""A tiny SVG writer: presentation attributes only (no CSS, no ids, no
links, no scripts), every piece of text escaped, numbers printed with a
fixed precision so the same board gives the same bytes.

>>> s = Svg(100, 50)
>>> s.text(10, 20, '<script>"x"</script>', 14)
>>> '&lt;script&gt;&quot;x&quot;&lt;/script&gt;' in s.finish("t")
True
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from ...display import lines_shown
from ..text import isolates

FONT = "'DejaVu Sans', Verdana, 'Liberation Sans', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
LINE = "#cbd2d9"


def esc(text: str) -> str:
    """Text for XML: control, bidi and invisible characters shown as their
    escapes (`journeydsl.display`; XML 1.0 cannot hold most controls), then
    `& < > " '` escaped."""
    return isolates(escape(lines_shown(text), {'"': "&quot;", "'": "&#39;"}))


def n(x: float) -> str:
    """A coordinate: one decimal, no trailing `.0`."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


class Svg:
    def __init__(self, width: float, height: float, size: tuple[str, str] | None = None) -> None:
        self.width, self.height = width, height
        self.size = size  # the width and height attributes (default: px)
        self.parts: list[str] = []

    def add(self, raw: str) -> None:
        self.parts.append(raw)

    def rect(self, x: float, y: float, w: float, h: float, fill: str = "none",
             stroke: str | None = None, rx: float = 0, stroke_width: float = 1.0,
             extra: str = "") -> None:
        attrs = f'x="{n(x)}" y="{n(y)}" width="{n(max(w, 0))}" height="{n(max(h, 0))}"'
        if rx:
            attrs += f' rx="{n(rx)}"'
        attrs += f' fill="{fill}"'
        if stroke:
            attrs += f' stroke="{stroke}" stroke-width="{n(stroke_width)}"'
        self.parts.append(f"<rect {attrs}{extra}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = LINE,
             width: float = 1.0, dash: str | None = None) -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" '
                          f'stroke="{stroke}" stroke-width="{n(width)}"{d}/>')

    def polyline(self, points: list[tuple[float, float]], stroke: str, width: float) -> None:
        pts = " ".join(f"{n(x)},{n(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{stroke}" '
                          f'stroke-width="{n(width)}" stroke-linejoin="round" '
                          f'stroke-linecap="round"/>')

    def path(self, d: str, stroke: str, width: float, dash: str | None = None) -> None:
        """A stroked path; `d` is made of our own numbers (never user text)."""
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{stroke}" '
                          f'stroke-width="{n(width)}"{extra}/>')

    def polygon(self, points: list[tuple[float, float]], fill: str) -> None:
        pts = " ".join(f"{n(x)},{n(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{pts}" fill="{fill}"/>')

    def circle(self, x: float, y: float, r: float, fill: str, stroke: str = "#ffffff",
               width: float = 1.5) -> None:
        self.parts.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="{n(width)}"/>')

    def text(self, x: float, y: float, text: str, size: float, fill: str = INK, bold: bool = False,
             italic: bool = False, anchor: str = "start", halo: bool = False) -> None:
        """One line of text with its baseline at y (`halo`: a white outline
        under the letters, so a line behind them does not cross them)."""
        attrs = f'x="{n(x)}" y="{n(y)}" font-size="{n(size)}" fill="{fill}"'
        if bold:
            attrs += ' font-weight="bold"'
        if italic:
            attrs += ' font-style="italic"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if halo:
            attrs += ' stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
        self.parts.append(f"<text {attrs}>{esc(text)}</text>")

    def lines(self, x: float, y: float, lines: list[str], size: float, leading: float,
              **style: Any) -> float:
        """Lines from the top edge y; returns the y below them."""
        for i, line in enumerate(lines):
            self.text(x, y + size + i * leading - (leading - size) / 2 + 1, line, size,
                      **style)
        return y + leading * len(lines)

    def finish(self, title: str) -> str:
        w, h = self.size or (n(self.width), n(self.height))
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                f'viewBox="0 0 {n(self.width)} {n(self.height)}" role="img" '
                f'font-family="{FONT}">')
        body = "\n".join(self.parts)
        return f"{head}\n<title>{esc(title)}</title>\n{body}\n</svg>\n"

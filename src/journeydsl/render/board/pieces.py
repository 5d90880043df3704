"""The pieces a board cell is made of: each knows its height for a given
width (text wrapped by measured widths) and draws itself at a place. A cell
shows the pieces that fit its height and a `+ N more` line for the rest, so
no text ever leaves its cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..measure import ellipsis, fit_lines, width
from ..view import colour
from .content import Amount, Bar, Card, Item
from .svg import INK, LINE, MUTED, Svg
from ..i18n import Words

GOAL = "#1b7837"
EXIT = "#b42318"
#: Money: revenue blue, cost amber, profit green, a loss red (as `fail`).
MONEY = {"revenue": "#3b6fb6", "cost": "#b7791f", "profit": "#1b7837", "loss": "#b42318"}
TONES = {"pain": "#c2410c", "opportunity": "#1b7837", "note": "#52606d",
         "pass": "#1b7837", "fail": "#b42318", "plain": "#52606d", "muted": "#9aa5b1",
         **MONEY}
BARS = {"reach": "#3b6fb6", "dropoff": "#d9480f", "churn": "#b7791f"}
GAP = 8  # between pieces


@dataclass
class Piece:
    height: float
    draw: Callable[[Svg, float, float, float], None]  # (svg, x, y, width)


# --------------------------------------------------------------- cards
TITLE, TITLE_LEAD = 16, 20
META, META_LEAD = 14, 18


def card(c: Card, room: float, detail: int = 2) -> Piece:
    """A touchpoint card; `detail` 2 shows everything, 1 its channel and
    owner only, 0 its title and exits (for boards that must fit a page)."""
    inner = room - 26
    title = fit_lines(c.title, TITLE, inner, 3 if detail else 2, bold=True)
    shown = c.lines if detail == 2 else c.lines[:1] if detail == 1 else []
    meta = [line for text in shown for line in fit_lines(text, META, inner, 2 if detail else 1)]
    badge = width(c.badge, 12, bold=True) + 12 if c.badge else 0.0
    flags = fit_lines("  ·  ".join(c.flags), META, inner - badge - 6, 2) if c.flags else []
    if c.badge and not flags:
        flags = [""]
    height = 10 + len(title) * TITLE_LEAD + len(meta) * META_LEAD + len(flags) * META_LEAD + 8

    def draw(svg: Svg, x: float, y: float, w: float) -> None:
        border = GOAL if c.goal else LINE
        svg.rect(x, y, w, height, fill="#ffffff", stroke=border, rx=6,
                 stroke_width=2.5 if c.goal else 1.0)
        svg.rect(x + 1.5, y + 1.5, 7, height - 3, fill=colour(c.emotion), rx=3)
        tx = x + 16
        yy = svg.lines(tx, y + 8, title, TITLE, TITLE_LEAD, bold=True)
        yy = svg.lines(tx, yy, meta, META, META_LEAD, fill=MUTED)
        if flags:
            fx = tx
            if c.badge:
                svg.rect(tx, yy + 1, badge, META_LEAD - 2, fill=GOAL, rx=3)
                svg.text(tx + badge / 2, yy + META, c.badge, 12, fill="#ffffff",
                         bold=True, anchor="middle")
                fx += badge + 6
            tone = EXIT if c.exits else MUTED
            svg.lines(fx, yy, flags[:1], META, META_LEAD, fill=tone)
            svg.lines(tx, yy + META_LEAD, flags[1:], META, META_LEAD, fill=tone)

    return Piece(height, draw)


# --------------------------------------------------------------- items
ITEM, ITEM_LEAD = 15, 20


def item(i: Item, room: float, detail: int = 2) -> Piece:
    """A text entry; below detail 2 its step goes on its last line."""
    inner = room - 20
    if detail < 2 and i.source:
        lines = fit_lines(f"{i.text} ({i.source})", ITEM, inner, 3)
        source = []
    else:
        lines = fit_lines(i.text, ITEM, inner, 5 if detail == 2 else 3)
        source = [ellipsis(i.source, META, inner)] if i.source else []
    height = len(lines) * ITEM_LEAD + len(source) * META_LEAD

    def draw(svg: Svg, x: float, y: float, w: float) -> None:
        tone = TONES.get(i.tone, MUTED)
        if i.tone in ("pass", "fail"):
            svg.circle(x + 7, y + ITEM_LEAD / 2 + 1, 5.5, tone, stroke=tone, width=1)
        else:
            svg.rect(x + 3, y + 5, 4, ITEM_LEAD - 8, fill=tone, rx=2)
        yy = svg.lines(x + 18, y, lines, ITEM, ITEM_LEAD, fill=INK)
        svg.lines(x + 18, yy, source, META, META_LEAD, fill=MUTED, italic=True)

    return Piece(height, draw)


# ---------------------------------------------------------------- bars
def bar(b: Bar, room: float) -> Piece:
    text = ellipsis(b.text, ITEM, room - 4)
    height = ITEM_LEAD + 12

    def draw(svg: Svg, x: float, y: float, w: float) -> None:
        svg.text(x + 2, y + ITEM, text, ITEM, fill=INK)
        track = w - 4
        svg.rect(x + 2, y + ITEM_LEAD + 1, track, 9, fill="#eef1f5", rx=4)
        if b.fraction > 0:  # (a share of 0 has no bar, not a dot)
            svg.rect(x + 2, y + ITEM_LEAD + 1, max(3.0, track * min(1.0, b.fraction)), 9,
                     fill=BARS[b.tone], rx=4)

    return Piece(height, draw)


def amount(a: Amount, room: float, bars: bool = True) -> Piece:
    """`profit  −$7.35` over a bar as long as the amount is against the
    board's largest (`bars`); a loss in bold red. The amount goes under its
    label when both do not fit one line."""
    value = ellipsis(a.text, ITEM, room - 4, bold=True)
    label = ellipsis(a.label, ITEM, room - 4)
    stacked = width(label, ITEM) + 10 + width(value, ITEM, bold=True) > room - 4
    height = ITEM_LEAD * (2 if stacked else 1) + (12 if bars else 0)
    tone = MONEY[a.tone]

    def draw(svg: Svg, x: float, y: float, w: float) -> None:
        svg.text(x + 2, y + ITEM, label, ITEM, fill=MUTED)
        vy = y + ITEM + (ITEM_LEAD if stacked else 0)
        svg.text(x + w - 2, vy, value, ITEM, fill=MONEY["loss"] if a.tone == "loss" else INK,
                 bold=True, anchor="end")
        if not bars:
            return
        track, top = w - 4, y + height - 11
        svg.rect(x + 2, top, track, 7, fill="#eef1f5", rx=3)
        if a.fraction > 0:
            svg.rect(x + 2, top, max(3.0, track * min(1.0, a.fraction)), 7, fill=tone, rx=3)

    return Piece(height, draw)


def more(count: int, word: Words) -> Piece:
    def draw(svg: Svg, x: float, y: float, w: float) -> None:
        svg.text(x + 18, y + META + 1, word("more", n=count), META, fill=MUTED, italic=True)

    return Piece(META_LEAD, draw)


def fit(pieces: list[Piece], cap: float | None, word: Words) -> list[Piece]:
    """The pieces that fit `cap` (None: all), with `+ N more` for the rest."""
    if cap is None or stack_height(pieces) <= cap:
        return pieces
    shown: list[Piece] = []
    for k, piece in enumerate(pieces):
        tail = more(len(pieces) - k, word)
        if stack_height(shown + [piece]) + GAP + tail.height > cap:
            return shown + [more(len(pieces) - k, word)]
        shown.append(piece)
    return shown


def stack_height(pieces: list[Piece]) -> float:
    if not pieces:
        return 0.0
    return sum(p.height for p in pieces) + GAP * (len(pieces) - 1)


def chips(items: list[Item], room: float) -> tuple[float, list[tuple[float, float, Item, str]]]:
    """Whole-journey items flowed left to right: (height, [(dx, dy, item, text)])."""
    placed = []
    x = y = 0.0
    for i in items:
        text = ellipsis(i.text, ITEM, room - 40)
        w = width(text, ITEM) + 40
        if x > 0 and x + w > room:
            x, y = 0.0, y + ITEM_LEAD + 6
        placed.append((x, y, i, text))
        x += w
    return (y + ITEM_LEAD if placed else 0.0), placed

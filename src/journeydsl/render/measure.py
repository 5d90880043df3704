"""Text widths and wrapping for pictures we lay out ourselves (the board).

Widths come from the advance widths of DejaVu Sans (the font the board asks
for first), so the layout is the same on every machine and needs no font
library. Letters with diacritics
(Vietnamese `ệ`, `ở`) measure as their base letter; other characters as a
wide letter, CJK as a full em. A 2% margin covers rounding.

>>> round(width("Awareness", 16))
89
>>> fit_lines("Plans are hard to compare across three tiers", 14, 120)
['Plans are hard', 'to compare', 'across three', 'tiers']
>>> fit_lines("x" * 40, 14, 60, max_lines=2)
['xxxxxxx', 'xxxxx…']
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# DejaVu Sans advance widths (1/1000 em) for ASCII 32..126: the board asks
# for DejaVu Sans first (it has every Vietnamese letter, and Verdana, next
# in the list, has about the same widths); Arial or Helvetica, if a viewer
# falls back to them, are narrower, so measured text always fits.
_ASCII = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,  # ' '../
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,  # 0..?
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,  # @..O
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,  # P.._
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,  # `..o
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,  # p..~
)
_ASCII_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
    1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850,
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)
_OTHER = {"·": 318, "…": 1000, "–": 500, "—": 1000, "•": 590, "’": 318, "“": 518, "”": 518,
          "₫": 636, "€": 636, "£": 636, "¥": 636, "₹": 636, "≥": 838, "≤": 838, "×": 838,
          "↩": 838, "→": 838, "✓": 838, "✗": 838, "đ": 635, "Đ": 775, "ơ": 612, "ư": 634,
          "Ơ": 913, "Ư": 858}
MARGIN = 1.02


@lru_cache(maxsize=8192)
def _char(ch: str, bold: bool = False) -> int:
    table = _ASCII_BOLD if bold else _ASCII
    code = ord(" " if ch == "\u00a0" else ch)  # a no-break space is as wide as a space
    if 32 <= code <= 126:
        return table[code - 32]
    if ch in _OTHER:
        return round(_OTHER[ch] * (1.1 if bold else 1.0))
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):
        return 0  # combining marks and invisible format characters
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    base = unicodedata.normalize("NFD", ch)[0]
    if base != ch and (32 <= ord(base) <= 126 or base in _OTHER):
        return _char(base, bold)
    return 700 if bold else 640


def width(text: str, size: float, bold: bool = False) -> float:
    """The width of one line of text at font size `size` (same unit)."""
    total = sum(_char(ch, bold) for ch in text)
    return total * size / 1000 * MARGIN


def _cut(word: str, size: float, room: float, bold: bool) -> tuple[str, str]:
    """The longest head of `word` that fits `room` (at least one character)."""
    used = 0.0
    scale = size / 1000 * MARGIN
    for i, ch in enumerate(word):
        used += _char(ch, bold) * scale
        if used > room and i > 0:
            return word[:i], word[i:]
    return word, ""


def fit_lines(text: str, size: float, room: float, max_lines: int | None = None,
              bold: bool = False) -> list[str]:
    """Greedy wrap of `text` into lines at most `room` wide; words longer
    than a line are cut. With `max_lines`, the last kept line ends with `…`
    when text was left out. Only plain spaces break a line: a no-break
    space (U+00A0) keeps its words together."""
    lines: list[str] = []
    line = ""
    for word in (w for w in text.split(" ") if w):
        while width(word, size, bold) > room:
            if line:
                lines.append(line)
                line = ""
            head, word = _cut(word, size, room, bold)
            lines.append(head)
        candidate = f"{line} {word}" if line else word
        if line and width(candidate, size, bold) > room:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    lines = lines or [""]
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        while last and width(last + "…", size, bold) > room:
            last = last[:-1].rstrip()
        kept[-1] = last + "…"
        return kept
    return lines


def ellipsis(text: str, size: float, room: float, bold: bool = False) -> str:
    """One line: `text`, cut with `…` to fit `room`."""
    return fit_lines(text, size, room, 1, bold)[0]

"""Formatting numbers and escaping user text for each target format.

Every user string goes through `clean` first (one line; control, bidi and
invisible characters shown escaped as `\\u{1b}`, see `journeydsl.display`,
so nothing can break a line, an XML document or the order of the text
around it), then through the escaper of its target: `dot_string` (a
double-quoted DOT string, also safe for Graphviz's entity handling) or
`mermaid_text` (Mermaid's `#code;` entities for everything its lexers
treat specially).

>>> dot_string('say "hi" \\\\ <b>')
'"say \\\\"hi\\\\" \\\\\\\\ &lt;b&gt;"'
>>> mermaid_text("a: b; c#1, d")
'a#58; b#59; c#35;1#44; d'
>>> pct(0.25), pct(0.087), pct(0.0005), money(1_250_000, "VND"), money(0.05, "USD")
('25%', '8.7%', '0.05%', '1.25M ₫', '$0.05')
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import lru_cache

from ..display import one_line


def clean(text: str | None) -> str:
    """User text on one line, safe to show: line breaks and tabs become
    spaces, control, bidi and invisible characters their escapes.

    >>> clean(" a\\nb\\x1b[2J \\u202eevil ")
    'a b\\\\u{1b}[2J \\\\u{202e}evil'
    """
    return one_line(text)


#: Marks around user text that holds right-to-left letters, inside a line of
#: our own words: each writer turns a pair into FSI ... PDI (U+2068, U+2069,
#: written as character references in SVG and HTML), so the user text is
#: laid out on its own and cannot reorder the words and numbers around it
#: (`↩ to <Hebrew label> · 30%` showed the 30% before the label). Private
#: use characters survive `display.shown`, which escapes bidi controls;
#: only a balanced pair becomes an isolate, whoever typed it (an isolate
#: cannot reorder anything outside itself).
OPEN, CLOSE = "\uf8f0", "\uf8f1"
_PAIR = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff"
                  "\U0001e800-\U0001efff]")


def isolate(text: str) -> str:
    """User text (already `clean`) marked to be isolated where it holds a
    right-to-left letter; other text as it is (left-to-right user text
    cannot reorder left-to-right words, so nothing changes for it).

    >>> isolate("Pricing"), isolate("\u05e9\u05dc\u05d5\u05dd") == OPEN + "\u05e9\u05dc\u05d5\u05dd" + CLOSE
    ('Pricing', True)
    """
    return f"{OPEN}{text}{CLOSE}" if _RTL.search(text) else text


def isolates(text: str, open_: str = "&#x2068;", close: str = "&#x2069;") -> str:
    """Escaped text with each marked pair as FSI ... PDI (`open_`, `close`:
    character references for XML and HTML), a stray mark left out."""
    if OPEN not in text and CLOSE not in text:
        return text
    text = _PAIR.sub(lambda m: f"{open_}{m.group(1)}{close}", text)
    return text.replace(OPEN, "").replace(CLOSE, "")


def unmarked(text: str) -> str:
    """Text without the isolation marks (for outputs without isolates)."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def wrap(text: str, width: int = 24) -> list[str]:
    """Greedy word wrap (long words are kept whole up to 2 * width, then cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > 2 * width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[: 2 * width])
            word = word[2 * width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


# ------------------------------------------------------------------ DOT
_DOT_SPECIAL = re.compile(r'[\\"&<>]')
_DOT_ESCAPES = {"\\": "\\\\", '"': '\\"', "&": "&amp;", "<": "&lt;", ">": "&gt;"}


def dot_escape(text: str) -> str:
    """Text for inside a DOT double-quoted string (no quotes added).

    Backslashes are doubled (so `\\N`, `\\l` stay literal text), quotes
    escaped, and `& < >` written as XML entities: Graphviz decodes entities
    in every label, so a literal `&lt;` typed by a user stays literal."""
    text = clean(text)
    if _DOT_SPECIAL.search(text):
        text = "".join(_DOT_ESCAPES.get(ch, ch) for ch in text)
    return isolates(text)  # (Graphviz decodes the references too)


def dot_string(text: str) -> str:
    return f'"{dot_escape(text)}"'


def dot_lines(lines: list[str]) -> str:
    """Several lines of user text as one centred DOT label (quoted)."""
    return '"' + "\\n".join(dot_escape(line) for line in lines) + '"'


# The `graphviz` package quotes attribute values itself (`graphviz.quoting.quote`:
# quotes added, unescaped `"` escaped, backslashes kept so that `\n` and `\l`
# work) but passes a value that looks like `<...>` through as an HTML-like
# label. So user text is escaped here for everything else: backslashes
# doubled, `& < >` as entities (no value can then start with `<`), and the
# result marked `nohtml` as well.
_VALUE_SPECIAL = re.compile(r"[\\&<>]")
_RECORD_SPECIAL = re.compile(r"[{}|]")


@lru_cache(maxsize=1)
def _nohtml() -> Callable[[str], str]:
    """`graphviz.nohtml`, imported on first use (a map calls it per label)."""
    from graphviz import nohtml

    marked: Callable[[str], str] = nohtml
    return marked


def dot_value(text: str) -> str:
    """User text for a `graphviz` attribute value: one line, no quotes added."""
    text = clean(text)
    if _VALUE_SPECIAL.search(text):
        text = "".join(_DOT_ESCAPES.get(ch, ch) if ch != '"' else ch for ch in text)
    return isolates(text)


def dot_label(lines: list[str], end: str = "\\n",
              value: Callable[[str], str] | None = None) -> str:
    """Lines of user text as one `graphviz` label value (centred; `end="\\l"`
    for left-justified lines). `value`: `dot_value`, or a memo of it."""
    nohtml = _nohtml()  # a str the `graphviz` package never reads as an HTML-like label
    value = value or dot_value
    if end == "\\n":
        text: str = nohtml(end.join(map(value, lines)))
    else:
        text = nohtml("".join(value(line) + end for line in lines))
    return text


def dot_record(fields: list[list[str]], value: Callable[[str], str] | None = None) -> str:
    """A record label: fields (each a list of lines) separated by `|`, the
    record's own characters `{ } |` escaped in user text (`<` `>` are
    entities already). `value`: `dot_value`, or a memo of it."""
    nohtml = _nohtml()
    value = value or dot_value

    def field(lines: list[str]) -> str:
        text = "\\n".join(map(value, lines))  # `\n` holds none of `{ } |`
        return _RECORD_SPECIAL.sub(r"\\\g<0>", text) if _RECORD_SPECIAL.search(text) else text

    text: str = nohtml("|".join(field(lines) for lines in fields))
    return text


class LabelMemo:
    """The labels of one map, made once per distinct text: a step's lines
    (`channel · owner`, an emotion, a cost) and an edge's whole label (a
    rate, a delay) repeat across hundreds of steps and edges. Also the
    map's `words` (one lookup, not one per edge)."""

    def __init__(self, lang: str = "en") -> None:
        from .i18n import words

        self.words = words(lang)
        self._values: dict[str, str] = {}
        self._labels: dict[tuple[str, ...], str] = {}
        self._record_lines: dict[str, str] = {}

    def value(self, line: str) -> str:
        """`dot_value(line)`."""
        made = self._values.get(line)
        if made is None:
            made = self._values[line] = dot_value(line)
        return made

    def record(self, fields: list[list[str]]) -> str:
        """`dot_record(fields)`: the record's characters escaped line by line
        (the same text: escaping touches one character at a time, and the
        `\\n` between lines holds none of them), each distinct line once."""
        line = self._record_line
        text: str = _nohtml()("|".join("\\n".join(map(line, lines)) for lines in fields))
        return text

    def _record_line(self, line: str) -> str:
        made = self._record_lines.get(line)
        if made is None:
            text = self.value(line)
            if _RECORD_SPECIAL.search(text):
                text = _RECORD_SPECIAL.sub(r"\\\g<0>", text)
            made = self._record_lines[line] = text
        return made

    def label(self, lines: list[str]) -> str:
        """`dot_label(lines)`."""
        key = tuple(lines)
        made = self._labels.get(key)
        if made is None:
            made = self._labels[key] = dot_label(lines, value=self.value)
        return made


# -------------------------------------------------------------- Mermaid
# Mermaid lexes before it decodes `#code;` entities: `;` ends a statement,
# `#` and `%%` start comments, `:` splits journey tasks, `,` actors, quotes
# and brackets end flowchart labels, `<>&` reach HTML labels.
_MERMAID = {ch: f"#{ord(ch)};" for ch in ';:#,"%<>&`\u2060'}
# Mermaid turns `\n` in a node label into a line break, even when the
# backslash is written as its entity (#92;): a word joiner (U+2060, no width;
# written #8288;) between them keeps a typed `\n` as text. Other backslashes
# are plain text to Mermaid.
_TYPED_NEWLINE = re.compile(r"\\(?=n)")
_KEYWORDS = ("title", "section", "journey", "acctitle", "accdescr", "subgraph", "end",
             "classdef", "class", "style", "click", "flowchart", "graph", "direction")


def mermaid_text(text: str) -> str:
    """User text escaped with Mermaid's entity codes (`#59;` for `;` ...)."""
    out = "".join(_MERMAID.get(ch, ch)
                  for ch in _TYPED_NEWLINE.sub("\\\\\u2060", clean(text)))
    out = isolates(out, "#8296;", "#8297;")  # FSI ... PDI as Mermaid's entity codes
    lowered = out.lower()
    if any(lowered.startswith(k) for k in _KEYWORDS):
        # A task or actor that starts like a keyword would be lexed as one.
        out = f"#{ord(out[0])};" + out[1:]
    return out or "#160;"


def mermaid_title(text: str) -> str:
    """A front-matter `title:` value: a JSON string (valid YAML). Mermaid shows
    it as plain text (entity codes stay literal) but first runs it through
    an HTML sanitizer, which drops `</svg>`, fails on `<script>` and turns
    a lone `<` into a literal `&lt;`: angle brackets become ‹ ›."""
    # FSI ... PDI (`clean` escaped any the user typed), then written as
    # YAML's escapes: no raw bidi character in the file
    text = isolates(clean(text), "\u2068", "\u2069").replace("<", "\u2039").replace(">", "\u203a")
    return json.dumps(text, ensure_ascii=False).replace("\u2068", "\\u2068").replace(
        "\u2069", "\\u2069")


# --------------------------------------------------------------- numbers
@lru_cache(maxsize=4096)  # a map writes the same few rates thousands of times
def pct(x: float) -> str:
    """A probability as a short percentage."""
    v = x * 100
    if v != 0 and abs(v) < 0.01:
        return f"{v:.1g}%"
    if abs(v) < 10:
        text = f"{v:.2f}"
    else:
        text = f"{v:.1f}"
    return text.rstrip("0").rstrip(".") + "%"


def number(x: float) -> str:
    """A plain amount, short: 3, 0.05, 1.5k, 13.2k, 1.25M (3 significant
    digits with k, M or B from 1,000 up).

    >>> number(999.4), number(1500), number(999_999), number(0.05)
    ('999', '1.5k', '1M', '0.05')
    """
    a = abs(x)
    if a < 1000:
        if a >= 100 or x == int(x):
            return f"{x:,.0f}"
        return f"{x:.2f}"
    for size, unit in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
        text = f"{a / size:.3g}"
        if float(text) < 1000 or unit == "B":  # (999,999 is 1M, not 1e+03k)
            return ("-" if x < 0 else "") + (text if "e" not in text else f"{a / size:,.0f}") + unit
    raise AssertionError("unreachable")


def quantity(x: float) -> str:
    """A number for people, never in exponent form: 3 significant digits,
    thousands grouped at and above 1,000.

    >>> quantity(1100.0), quantity(32.14), quantity(0.0155), quantity(8.04e-05), quantity(0)
    ('1,100', '32.1', '0.0155', '0.0000804', '0')
    """
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1e-3:
        return f"{x:.3g}"
    decimals = 2 - math.floor(math.log10(abs(x)))
    return f"{x:.{decimals}f}"


#: Currencies whose amounts are written without decimals.
_WHOLE = ("VND", "JPY")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "VND": "₫", "INR": "₹"}


def money(x: float, currency: str | None) -> str:
    """An amount with its currency, short, for a picture's tight labels
    (the board, the map, a chart's values): `number` (1,000 and up as 1.5k,
    13.2k, 1.25M: one rule whatever the size, never 6,730 beside 10.9k); a
    loss starts with a minus sign (U+2212) before the symbol, and an amount
    that rounds to zero has no sign. Tables use `money_exact`.

    Currencies without a minor unit in use (VND, JPY) get no decimals.

    >>> money(-7.35, "USD"), money(-2476.5, "VND"), money(-0.001, "USD"), money(62.3, "VND")
    ('−$7.35', '−2.48k ₫', '$0.00', '62 ₫')
    >>> money(6730, "VND"), money(10_923, "VND"), money(104, "USD")
    ('6.73k ₫', '10.9k ₫', '$104')
    """
    amount = number(abs(x))
    if currency in _WHOLE and abs(x) < 1000:
        amount = f"{abs(x):,.0f}"
    return _signed(x, amount, currency)


def money_exact(x: float, currency: str | None) -> str:
    """An amount with its currency, whole: grouped thousands and the
    currency's decimals (2; none for VND and JPY), for tables and headline
    cards, where a figure is read, not glanced at.

    >>> money_exact(20_412.333, "USD"), money_exact(104, "USD"), money_exact(-6730.4, "VND")
    ('$20,412.33', '$104.00', '−6,730 ₫')
    >>> money_exact(1_250_000, None), money_exact(-0.001, "EUR")
    ('1,250,000.00', '0.00 €')
    """
    decimals = 0 if currency in _WHOLE else 2
    return _signed(x, f"{abs(x):,.{decimals}f}", currency)


def _signed(x: float, amount: str, currency: str | None) -> str:
    """`amount` (of |x|) with the currency's symbol or code, and a minus
    sign before it all for a loss that does not round to zero."""
    sign = "\u2212" if x < 0 and amount.strip("0.,") != "" else ""
    if currency in ("USD", "GBP"):
        return sign + _SYMBOLS[currency] + amount
    if currency in _SYMBOLS:
        return f"{sign}{amount} {_SYMBOLS[currency]}"
    return f"{sign}{amount} {clean(currency)}" if currency else sign + amount



def per_thousand(x: float) -> str:
    """Prospects per 1,000 entrants: 3 significant digits, no exponent."""
    v = x * 1000
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 0.01:
        return f"{v:.2f}"
    return "<0.01" if v > 0 else "0"


def days(d: float) -> str:
    """A delay: 2h, 1d, 2w, 1mo, 1y (the largest unit that divides evenly)."""
    if d <= 0:
        return ""
    for unit, size in (("y", 365.0), ("mo", 30.0), ("w", 7.0), ("d", 1.0)):
        if d >= size and abs(d / size - round(d / size)) < 1e-9:
            return f"{round(d / size)}{unit}"
    if d < 1:
        hours = d * 24
        return f"{hours:.3g}h"
    return f"{d:.3g}d"

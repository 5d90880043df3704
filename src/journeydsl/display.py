"""User text made safe to show: one helper for every output.

A label, a title, a file name or a line of a journey file can hold
characters that change how the text *around* them is shown: terminal
escape sequences (ESC, BEL, backspace, carriage return and the other
control characters), bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069, and the marks U+200E, U+200F, U+061C) that reorder the rest
of a line ("Trojan Source"), and invisible characters (zero-width space,
word joiner, BOM, tag characters) that hide text. Everything we print or
draw (terminal tables, diagnostics and their source excerpts, DOT, SVG,
Mermaid, HTML) shows such a character as its escape, the way rustc shows
it: `\\u{1b}`, `\\u{202e}`, lowercase hexadecimal in braces. Escapes are
plain ASCII, so escaping twice changes nothing.

Kept as they are: tabs (callers lay them out), natural right-to-left text
(Hebrew, Arabic), combining marks, variation selectors, and the joiners
U+200C/U+200D between two visible non-ASCII characters (emoji sequences
such as 👩‍💻, and scripts that need them); between ASCII letters or next to
a space they are escaped, as they would only hide a difference.

>>> shown("red \\x1b[31m!")
'red \\\\u{1b}[31m!'
>>> shown("abc\\u202edef") == "abc\\\\u{202e}def", shown("\\u05e9\\u05dc\\u05d5\\u05dd")
(True, 'שלום')
>>> one_line("  two\\nlines\\t")
'two lines'
>>> shown("Pri\\u200ccing"), shown("\\U0001F469\\u200d\\U0001F4BB")
('Pri\\\\u{200c}cing', '👩\\u200d💻')
"""

from __future__ import annotations

import re
import unicodedata

#: Categories shown escaped: controls, format characters (bidi, zero-width,
#: tags ...), surrogates, line and paragraph separators.
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Letters that render as nothing (Hangul fillers), escaped too.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0")
_JOINERS = frozenset("\u200c\u200d")
#: What `one_line` turns into a space: tabs and every kind of line break.
_BREAKS = dict.fromkeys(map(ord, "\t\n\r\x0b\x0c\x85\u2028\u2029"), " ")
_ASCII_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def escape(char: str) -> str:
    """One character as shown escaped: `\\u{1b}`."""
    return f"\\u{{{ord(char):x}}}"


def _hidden(char: str) -> bool:
    """Whether a character is shown escaped (joiners aside: see `shown`)."""
    if char == "\t":
        return False
    code = ord(char)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:  # noncharacters (not XML)
        return True
    return char in _INVISIBLE or unicodedata.category(char) in _ESCAPED


def shown(text: str | None) -> str:
    """`text` with every control, bidi and invisible character escaped (see
    the module's doc), line breaks included; tabs are kept."""
    if not text:
        return ""
    if text.isascii():
        if not _ASCII_CONTROL.search(text):
            return text
    elif text.isprintable() and _INVISIBLE.isdisjoint(text):
        return text
    out = []
    last = len(text) - 1
    for i, char in enumerate(text):
        if char in _JOINERS and 0 < i < last and _joins(text[i - 1], text[i + 1]):
            out.append(char)
        elif _hidden(char):
            out.append(escape(char))
        else:
            out.append(char)
    return "".join(out)


def _joins(before: str, after: str) -> bool:
    """A joiner between these two is kept: both visible and not ASCII."""
    return (not before.isascii() and not after.isascii()
            and not _hidden(before) and not _hidden(after)
            and not before.isspace() and not after.isspace())


def one_line(text: str | None) -> str:
    """User text on one line (a label, a title): tabs and line breaks become
    spaces, the rest as `shown`, outer spaces stripped."""
    if not text:
        return ""
    if text.isprintable() and (text.isascii() or _INVISIBLE.isdisjoint(text)):
        return text.strip()  # no break to replace, nothing to escape: the common case
    return shown(text.translate(_BREAKS)).strip()


def lines_shown(text: str, breaks: str = "\n") -> str:
    """Several lines (a message): each line `shown`, the line breaks (the
    characters of `breaks`) kept."""
    if len(breaks) == 1:
        return breaks.join(shown(line) for line in text.split(breaks))
    parts = re.split(f"([{re.escape(breaks)}])", text)
    return "".join(part if i % 2 else shown(part) for i, part in enumerate(parts))


def json_shown(document: str) -> str:
    """A JSON document (`json.dumps(..., ensure_ascii=False)`) with every
    character `shown` escapes written as a JSON escape (`\\u202e`): the
    same data to any parser, and nothing that acts on a terminal when the
    document is printed (`json.dumps` already escapes C0 controls, but not
    DEL, C1 controls, bidi or invisible characters). Other non-ASCII text
    stays readable.

    >>> json_shown('{"a": "x\u202ey\x7f", "b": "\u00e9t\u00e9"}')
    '{"a": "x\\\\u202ey\\\\u007f", "b": "été"}'
    """
    if document.isascii() and "\x7f" not in document:
        return document
    return _NOT_PRINTABLE_ASCII.sub(_json_escape, document)


_NOT_PRINTABLE_ASCII = re.compile("[^\x00-\x7e]")


def _json_escape(found: re.Match[str]) -> str:
    char, at, text = found.group(), found.start(), found.string
    if char in _JOINERS and 0 < at < len(text) - 1 and _joins(text[at - 1], text[at + 1]):
        return char
    if not _hidden(char):
        return char
    code = ord(char)
    if code > 0xFFFF:  # JSON escapes name UTF-16 units: a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def width(text: str, tab: int = 4) -> int:
    """Columns a terminal uses for `text` as shown (escapes included):
    combining marks take none, wide characters two, a tab `tab`."""
    if text.isascii():
        return sum(tab if c == "\t" else 1 for c in text)
    columns = 0
    for char in text:
        if char == "\t":
            columns += tab
        elif unicodedata.combining(char) or char in _JOINERS:
            continue
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            columns += 2
        else:
            columns += 1
    return columns

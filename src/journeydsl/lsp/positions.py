"""Offsets <-> LSP positions, and file paths <-> URIs.

Spans are character offsets into a `SourceFile`'s normalized text (no BOM,
LF line ends); LSP positions are (0-based line, UTF-16 code units into the
line; UTF-8 or UTF-32 when the client asks for them). Normalizing CRLF
keeps lines and the columns inside them, so the editor's own text (CRLF or
not) maps line by line.

>>> from journeydsl.language.source import SourceFile
>>> src = SourceFile("x", "ab\\n😀cd\\n")
>>> where = position(src, 4)  # after the emoji: two UTF-16 units
>>> where.line, where.character
(1, 2)
>>> offset(src, where), offset(src, Position(9, 0))
(4, 7)
"""

from __future__ import annotations

import os

from lsprotocol.types import Location, Position, Range
from pygls import uris

from ..language.source import SourceFile, Span

#: The unit of an LSP position's `character`, as agreed with the client at
#: `initialize` (`use_encoding`): "utf-16" (the protocol's default),
#: "utf-8" or "utf-32". One client per server process.
ENCODING = "utf-16"


def use_encoding(encoding: str | None) -> None:
    global ENCODING
    ENCODING = encoding if encoding in ("utf-8", "utf-16", "utf-32") else "utf-16"


def units(text: str) -> int:
    """The length of `text` in position units."""
    if text.isascii() or ENCODING == "utf-32":
        return len(text)
    if ENCODING == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _width(char: str) -> int:
    if ENCODING == "utf-32":
        return 1
    if ENCODING == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


def position(source: SourceFile, at: int) -> Position:
    line, column = source.line_col(at)
    return Position(line - 1, units(source.line_text(line)[:column - 1]))


def offset(source: SourceFile, where: Position) -> int:
    """The offset of an LSP position (clamped to the text)."""
    starts = source.line_starts
    if where.line >= len(starts):
        return len(source.text)
    line = source.line_text(where.line + 1)
    if line.isascii():
        column = min(where.character, len(line))
    else:
        column, count = 0, 0
        for char in line:
            if count >= where.character:
                break
            count += _width(char)
            column += 1
    return starts[where.line] + column


def span_range(source: SourceFile, span: Span | None) -> Range:
    if span is None:
        return Range(Position(0, 0), Position(0, 0))
    return Range(position(source, span.start), position(source, span.end))


def uri_of(path: str) -> str:
    """The URI of a file path (an untitled document's "path" is its URI)."""
    if ":" in path and not os.path.isabs(path) and not path[1:3] == ":\\":
        return path  # already a URI (untitled:..., or a scheme we do not read)
    return uris.from_fs_path(os.path.abspath(path)) or path


def path_of(uri: str) -> str:
    """The file path of a URI; the URI itself when it is not a file."""
    return (uris.to_fs_path(uri) or uri) if uri.startswith("file:") else uri


def location(source: SourceFile, span: Span) -> Location:
    return Location(uri_of(source.path), span_range(source, span))

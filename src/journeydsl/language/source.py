"""Source text, spans and offset -> line:col mapping.

Spans are 0-based character offsets into the *normalized* text: a UTF-8 BOM
is dropped and CRLF / lone CR become LF, so offsets, lines and columns agree
with what an editor shows. Lines and columns are 1-based only when printed.
"""

from __future__ import annotations

import errno
import os
import stat
from bisect import bisect_right
from typing import NamedTuple

#: Files above this size get a diagnostic (JD004) instead of a parse, unless
#: the caller raises the limit (`journey check --max-size`, `load(path,
#: max_bytes=...)`). Compiling is linear in the size, at 0.3-0.5 MB/s for the
#: densest files (one short statement after another; most of it is lark's
#: lexer), so a file at the limit still gets its diagnostics within 10 s
#: (benchmarks/bench_check.py measures it). A 10,000-step generated journey
#: with 4 transitions a step is 1.9 MB.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


def too_large(size: int, limit: int, what: str = "file") -> tuple[str, str]:
    """The JD004 message and help for `size` bytes over `limit`."""
    return (f"{what} is too large ({_mib(size)}; the limit is {_mib(limit)})",
            "split the journey into smaller files, or raise the limit with `--max-size` "
            f"(for example `--max-size {max(2 * limit, size) // 1_000_000 + 1}MB`)")


class NotRegularFile(OSError):
    """A path that is not a regular file (a FIFO, device, socket or folder)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"cannot read `{path}`: not a regular file")
        self.strerror = "not a regular file"


def read_regular(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES
                 ) -> tuple[bytes, os.stat_result]:
    """At most `max_bytes + 1` bytes of a regular file, and its stat.

    Never blocks: the file is opened non-blocking and checked on the open
    descriptor, so a FIFO, a device, a socket or a folder (even one swapped
    in after a check by name) raises NotRegularFile instead of waiting for a
    writer; other failures raise their OSError.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ENXIO:  # a socket
            raise NotRegularFile(os.fspath(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(os.fspath(path))
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(max_bytes + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def _mib(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB".replace(".0 ", " ")
    return f"{size / 1_048_576:.1f} MiB".replace(".0 ", " ")


def parse_size(text: str) -> int | None:
    """A size as a user writes it (`20MB`, `512KiB`, `1.5GB`, `100000`), in
    bytes; None when it is not one.

    >>> parse_size("20MB"), parse_size("512 KiB"), parse_size("3"), parse_size("big")
    (20000000, 524288, 3, None)
    """
    import re

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*", text, re.IGNORECASE)
    if not found:
        return None
    number, unit = float(found[1]), (found[2] or "b").lower().rstrip("b")
    scale = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3,
             "ki": 1024, "mi": 1024**2, "gi": 1024**3}[unit]
    size = int(number * scale)
    return size if size > 0 else None


class Span(NamedTuple):
    """Half-open range ``[start, end)`` of character offsets."""

    start: int
    end: int

    def __or__(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


class SourceFile:
    """A file's normalized text and its line table.

    >>> src = SourceFile("a.journey", "journey \\"x\\" {\\r\\n}\\r\\n")
    >>> src.text
    'journey "x" {\\n}\\n'
    >>> src.line_col(14)
    (2, 1)
    """

    __slots__ = ("path", "text", "_line_starts", "imported")

    def __init__(self, path: str, text: str) -> None:
        if text.startswith("\ufeff"):
            text = text[1:]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.path = path
        self.text = text
        self._line_starts: list[int] | None = None
        # Declarations brought in by `use` keep their spans in one offset
        # space with this file (as rustc's SourceMap does): the files it
        # imports, directly or not, sit past its end, each at a base offset.
        self.imported: tuple[tuple[int, SourceFile], ...] = ()

    @property
    def extent(self) -> int:
        """Where the next file may start in this file's offset space."""
        ends = [base + len(src.text) for base, src in self.imported]
        return max([len(self.text), *ends]) + 1

    def locate(self, span: Span) -> tuple[SourceFile, Span]:
        """The file a span of this offset space is in, and the span within it.

        >>> main, lib = SourceFile("a.journey", "abc"), SourceFile("b.journey", "xyz")
        >>> main.imported = ((4, lib),)
        >>> main.locate(Span(5, 6))
        (SourceFile('b.journey', 3 chars), Span(start=1, end=2))
        """
        if span.start <= len(self.text) or not self.imported:
            return self, span
        for base, src in reversed(self.imported):
            if span.start >= base:
                return src, Span(span.start - base, span.end - base)
        return self, span

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count characters."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end]

    @property
    def end_span(self) -> Span:
        """An empty span at the end of the text (where `$END` is reported)."""
        end = len(self.text.rstrip())
        return Span(end, end)

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r}, {len(self.text)} chars)"


class DecodeProblem(NamedTuple):
    """Why bytes could not become a SourceFile, and where (1-based)."""

    code: str
    message: str
    line: int
    column: int
    help: str | None


def decode(path: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES
           ) -> SourceFile | DecodeProblem:
    """Turn raw bytes into a SourceFile, or say precisely why not.

    >>> decode("x.journey", b"ab\\xffc").message
    'file is not valid UTF-8: byte 0xff at line 1, column 3'
    """
    if len(data) > max_bytes:
        message, hint = too_large(len(data), max_bytes)
        return DecodeProblem("JD004", message, 1, 1, hint)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return DecodeProblem("JD002", "file is UTF-16, not UTF-8", 1, 1,
                             "save the file as UTF-8 (most editors: Save with Encoding)")
    nul = data.find(b"\x00")
    if nul != -1:
        line, col = _line_col_of_byte(data, nul)
        return DecodeProblem(
            "JD003",
            f"file looks binary: NUL byte at line {line}, column {col}",
            line,
            col,
            "journey files are UTF-8 text",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _line_col_of_byte(data, err.start)
        return DecodeProblem(
            "JD002",
            f"file is not valid UTF-8: byte 0x{data[err.start]:02x} at line {line}, column {col}",
            line,
            col,
            "save the file as UTF-8",
        )
    return SourceFile(path, text)


def _line_col_of_byte(data: bytes, index: int) -> tuple[int, int]:
    # Count lines as SourceFile does: CRLF, lone CR and LF each end a line.
    head = data[:index].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    line = head.count(b"\n") + 1
    line_start = head.rfind(b"\n") + 1
    column = len(head[line_start:].decode("utf-8", errors="replace")) + 1
    return line, column

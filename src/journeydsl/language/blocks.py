"""The `{ ... }` blocks of a text as its indentation shows them (for JD104).

When a `}` is missing, the parser pairs every later `}` with the wrong
block and only notices much later, if at all. Like rustc, we read the
braces a second time, on the error path only, and trust the indentation:
a `}` that starts a line less indented than the line of the `{` it closes
most likely belongs to an outer block, so the block it closes is the one
whose own `}` is missing.

>>> text = 'journey "x" {\\n  stage a {\\n    touchpoint t\\n}\\n'
>>> blocks = Blocks(text)
>>> blocks.unclosed, blocks.head(text.index("{", 14))
(1, (16, 'stage a'))
>>> blocks.misaligned(0, len(text))
(24, 43, 12)
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label
from .grammar import block_keywords, first_keywords, terminals
from .source import SourceFile, Span


@lru_cache(maxsize=1)
def _braces() -> re.Pattern:
    """A `{`, a `}`, or a label or comment to skip (a `{` inside is no brace);
    labels as the grammar's STRING terminal reads them."""
    return re.compile(rf"{_terminal('STRING')}|#[^\n]*|[{{}}]")


@lru_cache(maxsize=1)
def _head() -> re.Pattern:
    """What stands before a `{`: `stage booking "Booking"`, `touchpoint t`,
    `persona smb`, `scenario s "..."` (the grammar's keywords that open a
    named block), a scenario's `pricing` or `stage.step`, `journey "Title"`."""
    name, string = _terminal("NAME"), _terminal("STRING")
    opens = "|".join(sorted(block_keywords()))
    journey = "|".join(sorted(first_keywords("journey")))
    return re.compile(
        rf"(?:^|(?<=[;{{}}\n]))[ \t\f]*(?P<head>(?:{opens})[ \t\f]+{name}"
        rf"|{journey}|{name}(?:\.{name})?)(?:[ \t\f]+{string})?[ \t\f]*$")


def _terminal(name: str) -> str:
    return terminals()[name].pattern.to_regexp()


_LINE = re.compile(r"\n([ \t\f]*)(?=[^\s#])")  # a line with something on it, and its indent
_NOTHING_AFTER = re.compile(r"[ \t\f]*(?:#[^\n]*)?(?:\n|$)")
_HEAD_REACH = 400  # how far before a `{` its head is looked for
_WORD = re.compile(r'[^\s;{}"#]+|\S')  # the word a caret goes under


class Blocks:
    """Every `{` paired with its `}` as the parser would pair them, the
    number never closed, and the pairs whose indentation disagrees."""

    def __init__(self, text: str) -> None:
        self.text = text
        stack: list[int] = []
        #: (the `{`, the `}` that closes it while less indented, the `{`
        #: of the enclosing block or -1), in the order of the `}`.
        self._misaligned: list[tuple[int, int, int]] = []
        for match in _braces().finditer(text):
            char = match.group()
            if char == "{":
                stack.append(match.start())
            elif char == "}" and stack:
                opener = stack.pop()
                close = match.start()
                if self._less_indented(close, opener):
                    self._misaligned.append((opener, close, stack[-1] if stack else -1))
        self.unclosed = len(stack)
        self._closes = [close for _, close, _ in self._misaligned]

    def indent(self, pos: int) -> int:
        """Columns of blank before the first thing on the line of `pos`."""
        start = self.text.rfind("\n", 0, pos) + 1
        line = self.text[start:pos + 1]
        return len(line) - len(line.lstrip(" \t\f"))

    def starts_line(self, pos: int) -> bool:
        start = self.text.rfind("\n", 0, pos) + 1
        return not self.text[start:pos].strip(" \t\f")

    def _less_indented(self, close: int, opener: int) -> bool:
        """The `}` at `close` starts a line less indented than the line of
        its `{`, and the next line is not indented deeper than the `}`
        (else the `}` is only sloppily placed: what follows it shows that
        it ends the block it closes)."""
        if not (self.starts_line(close) and "\n" in self.text[opener:close]):
            return False
        indent = self.indent(close)
        after = _LINE.search(self.text, close)
        return indent < self.indent(opener) and (after is None or len(after.group(1)) <= indent)

    def misaligned(self, after: int, before: int) -> tuple[int, int, int] | None:
        """The first `{` after offset `after` closed, before offset `before`,
        by a `}` less indented than its own line, with that `}` and the
        `{` of the block around them (-1 for none)."""
        for index in range(bisect_left(self._closes, after), len(self._closes)):
            opener, close, outer = self._misaligned[index]
            if close >= before:
                return None
            if opener > after:
                return opener, close, outer
        return None

    def head(self, brace: int) -> tuple[int, str]:
        """Where the statement that opens the `{` at `brace` starts, and how
        it is named in a message (`stage booking`, `pricing`); the `{` itself
        when the words before it are not a block's head."""
        start = max(0, brace - _HEAD_REACH)
        found = _head().search(self.text, start, brace)
        if found is None:
            return brace, "{"
        return found.start("head"), found.group("head")

    def outdented_line(self, brace: int, limit: int) -> int:
        """The first thing on the first line after the `{` at `brace`,
        up to offset `limit`, that is no more indented than the line of the
        `{`: where the block visibly ends. `limit` if there is none, or if
        the block's lines are not indented at all (then indentation says
        nothing about where it ends).

        >>> Blocks("stage a {\\n  x 1\\ny 2\\nz 3\\n").outdented_line(8, 20)
        16
        >>> Blocks("stage a {\\nx 1\\ny 2\\nz 3\\n").outdented_line(8, 18)
        18
        >>> Blocks("stage a { x 1\\ny 2\\nz 3\\n").outdented_line(8, 18)
        14
        """
        indent = self.indent(brace)
        body_on_brace_line = _NOTHING_AFTER.match(self.text, brace + 1) is None
        for line in _LINE.finditer(self.text, brace, limit):
            if len(line.group(1)) <= indent:
                return line.end() if body_on_brace_line else limit
            body_on_brace_line = True  # the body is indented: its end shows
        return limit


# ----------------------------------------------------------------- JD104

class _Unclosed(NamedTuple):
    """A block whose `}` is missing, as JD104 tells it."""

    name: str  # `stage booking`, the block of `pricing`
    opened: str  # line:column of its first word
    head: Span  # from its first word to its `{`
    end: Span  # the first word where it should have ended
    help: str


def unclosed_blocks(source: SourceFile, blocks: Blocks,
                    closing: list[tuple[int, int]]) -> list[Diagnostic]:
    """JD104 for blocks still open where they should have ended: each `{`
    (innermost first) with that offset. Blocks that should have ended at
    the same place are named in one diagnostic.

    >>> text = 'journey "x" {\\n  stage a {\\n    touchpoint t\\n  goal t\\n'
    >>> [d.message for d in unclosed_blocks(SourceFile("x", text), Blocks(text), [(24, 47)])]
    ['`stage a` opened at 2:3 is not closed']
    """
    found: dict[Span, list[_Unclosed]] = {}
    for brace, limit in closing:
        block = _unclosed(source, blocks, brace, limit)
        found.setdefault(block.end, []).append(block)
    return [_diagnostic(source, same) for same in found.values()]


def _diagnostic(source: SourceFile, found: list[_Unclosed]) -> Diagnostic:
    help = found[0].help
    if len(found) > 1:
        help = (f"add `}}` {len(found)} times before this line to close "
                + ", then ".join(block.name for block in found))
    verb = "is" if len(found) == 1 else "are"
    return diag.make(
        "JD104", " and ".join(f"{block.name} opened at {block.opened}" for block in found)
        + f" {verb} not closed", source, found[0].end, help=help,
        labels=[Label(block.head, "this block is never closed") for block in found])


def _unclosed(source: SourceFile, blocks: Blocks, brace: int, limit: int) -> _Unclosed:
    """The block opened by the `{` at `brace` and still open at offset
    `limit`, or a block inside it whose `}` the indentation shows missing
    (the next `}` closed it instead)."""
    inner = blocks.misaligned(brace, limit)
    outer = -1
    if inner is not None:
        brace, limit, outer = inner
    start, head = blocks.head(brace)
    name = f"`{head}`" if " " in head or head == "{" else f"the block of `{head}`"
    where = blocks.outdented_line(brace, limit)
    word = _WORD.match(source.text, where)
    help = f"add `}}` before this line to close {name}"
    if inner is not None and where == limit and outer >= 0:
        ends = blocks.head(outer)[1]
        help += "; this `}` ends " + ("the journey" if ends == "journey" else f"`{ends}`")
    line, column = source.line_col(start)
    return _Unclosed(name, f"{line}:{column}", Span(start, brace + 1),
                     Span(where, word.end() if word else where + 1), help)

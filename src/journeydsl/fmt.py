"""`journey fmt`: the canonical layout of a .journey file (see docs/fmt.md).

The text is parsed by a second parser built from the language's grammar
with `keep_all_tokens`, so that the tree holds every token, punctuation and
the `_SEP` separators (which carry the comments and blank lines) included.
When that parse fails, `syntax.parse` reports the syntax errors (and the
file is not touched). A printer walks the tree and writes lines; a last
pass aligns columns. The command that rewrites files is `cli/fmt.py`.

>>> print(format_text('journey "x" {\\n  entry a\\n  a->b 30%[ent:10%]  after 2d # go\\n'
...                   '  ccc => a 0.1\\n}'), end="")
journey "x" {
  entry a
  a   -> b 30% [ent: 10%] after 2d  # go
  ccc => a 0.1
}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from .language.source import SourceFile
from .language.grammar import grammar_text
from .language.syntax import parse

INDENT = "  "
#: Continuation lines of a list broken after a comma: two more levels.
CONTINUATION = 2
#: Spaces between the code and a trailing comment (at least).
COMMENT_GAP = 2

_NO_SPACE_AFTER = frozenset({"(", "[", ".", ".."})
_NO_SPACE_BEFORE = frozenset({")", "]", ",", ":", ".", "..", "(", ";"})
#: Declarations whose one-line runs align like a table (docs/fmt.md): the
#: people and the steps, `KEYWORD NAME "label"? { ... }?`. Deliberately not
#: every rule of that shape: a `scenario` is a block of changes, not a row.
#: tests/test_grammar.py checks they are rules named after their keyword.
_DECLARATIONS = frozenset({"persona", "stage", "touchpoint"})
_SEP_PARTS = re.compile(r"#[^\n]*|\n")


@lru_cache(maxsize=1)
def _full_parser() -> Lark:
    """The language's grammar, keeping every token (punctuation and `_SEP`)."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual",
                maybe_placeholders=False, keep_all_tokens=True, cache=True)


def format_source(source: SourceFile) -> tuple[str | None, list]:
    """The formatted text, or None and the syntax diagnostics."""
    try:
        full = _full_parser().parse(source.text)
    except (UnexpectedInput, RecursionError):
        full = None
    if full is None:  # the language's parser locates every syntax error
        return None, parse(source)[1]
    return _Printer(source.text).run(full), []


def format_text(text: str, path: str = "<string>") -> str | None:
    """Canonical text of a journey, or None when it has syntax errors.

    >>> format_text('journey "x" { stage a {} ; entry a;goal a }')
    'journey "x" { stage a {}; entry a; goal a }\\n'
    >>> format_text('journey "x" {') is None
    True
    """
    return format_source(SourceFile(path, text))[0]


# ------------------------------------------------------------------ printer

@dataclass
class _Line:
    indent: int
    cells: list[str] = field(default_factory=lambda: [""])
    group: str | None = None  # lines of one run of a group get their cells aligned
    comment: str | None = None
    kind: str = "code"  # code | comment | blank

    @property
    def has_code(self) -> bool:
        return self.kind == "code"


class _Printer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[_Line] = []
        self.cur: _Line | None = None  # the last line, while it can take a trailing comment
        self.prev: str | None = None  # last token on the current line
        self.pending = 0  # newlines seen since the last thing written
        self.at_block_start = True  # blank lines here are dropped
        self.stmt_indent = 0
        self.aligned: Tree | None = None  # the statement whose parts are alignment cells

    # -------------------------------------------------------- line primitives
    def _new_line(self, indent: int, group: str | None = None) -> _Line:
        self.cur = line = _Line(indent, group=group)
        self.lines.append(line)
        self.prev = None
        return line

    def _token(self, text: str) -> None:
        assert self.cur is not None
        if self.prev is not None and self.prev not in _NO_SPACE_AFTER \
                and text not in _NO_SPACE_BEFORE:
            self.cur.cells[-1] += " "
        self.cur.cells[-1] += text
        self.prev = text

    def _cell(self, skip: int = 0) -> None:
        """Start a new alignment column (after `skip` empty ones)."""
        if self.cur is not None and self.cur.group is not None:
            self.cur.cells.extend([""] * (skip + 1))
            self.prev = None

    def _blank_if_pending(self) -> None:
        if self.pending >= 2 and not self.at_block_start and self.lines \
                and self.lines[-1].kind != "blank":
            self.lines.append(_Line(0, cells=[], kind="blank"))
        self.pending = 0
        self.at_block_start = False

    def _own_comment(self, indent: int, comment: str) -> None:
        self._blank_if_pending()
        self.lines.append(_Line(indent, cells=[], comment=comment, kind="comment"))
        self.cur = None

    # -------------------------------------------------------- separators
    def _block_sep(self, text: str, indent: int) -> None:
        """A separator between the statements of a block (or around the journey)."""
        for part in _SEP_PARTS.findall(text):
            if part == "\n":
                self.pending += 1
                continue
            comment = _clean_comment(part)
            if self.pending == 0 and self.cur is not None and self.cur.comment is None:
                self.cur.comment = comment
            else:
                self._own_comment(indent, comment)

    def _list_sep(self, text: str) -> None:
        """A separator after a list's comma: keep a line break the author made."""
        if "\n" not in text:
            return
        indent = self.stmt_indent + CONTINUATION
        seen_newline = False
        for part in _SEP_PARTS.findall(text):
            if part == "\n":
                seen_newline = True
                continue
            comment = _clean_comment(part)
            if not seen_newline and self.cur is not None and self.cur.comment is None:
                self.cur.comment = comment
            else:
                self.lines.append(_Line(indent, cells=[], comment=comment, kind="comment"))
                self.cur = None
        self._new_line(indent)
        self.pending = 0

    # -------------------------------------------------------- statements
    def run(self, tree: Tree) -> str:
        for child in tree.children:  # start: _SEP? journey _SEP?
            if isinstance(child, Token):
                self._block_sep(str(child), 0)
            else:
                self._statement(child, 0)
        return _render(self.lines)

    def _statement(self, node: Tree, indent: int) -> None:
        """A statement that starts its own line."""
        self._blank_if_pending()
        group = node.data if node.data == "flow" or node.data in _DECLARATIONS else None
        first = self._new_line(indent, group)
        saved = self.stmt_indent, self.aligned
        self.stmt_indent, self.aligned = indent, (node if group else None)
        self._emit(node)
        self.stmt_indent, self.aligned = saved
        if node.data in _DECLARATIONS and first is not self.lines[-1]:
            first.group = None  # a declaration aligns with others only on one line

    def _emit(self, node: Tree) -> None:
        children = node.children
        for i, child in enumerate(children):
            if isinstance(child, Tree):
                if node is self.aligned and child.data == "leg" and i == 1:
                    self._cell()  # the arrows of a run of transitions line up
                self._emit(child)
            elif child.type == "_SEP":
                self._list_sep(str(child))
            elif str(child) == "{":
                self._block(children[i:], node)
                return
            else:
                if node is self.aligned and child.type == "STRING":
                    self._cell()
                self._token(str(child))

    def _block(self, parts: list, owner: Tree) -> None:
        """`{ ... }`: the rest of a statement's children, from `{` to `}`."""
        opening, closing = parts[0], parts[-1]
        inside = parts[1:-1]
        items = [p for p in inside if isinstance(p, Tree)]
        if owner is self.aligned:
            labelled = any(isinstance(p, Token) and p.type == "STRING" for p in owner.children)
            self._cell(skip=0 if labelled else 1)  # no label: the label column stays empty
        source = self.text[opening.start_pos:closing.end_pos]
        if not items and "#" not in source:
            self._token("{}")
            return
        if "\n" not in source:  # written on one line: stays on one line
            self._token("{")
            for k, item in enumerate(items):
                if k:
                    self._token(";")
                self._emit(item)
            self._token("}")
            return
        indent = self.stmt_indent
        self._token("{")
        self.pending = 0
        self.at_block_start = True
        for part in inside:
            if isinstance(part, Token):
                self._block_sep(str(part), indent + 1)
            else:
                self._statement(part, indent + 1)
        self.pending = 0
        self.at_block_start = False
        self._new_line(indent)
        self._token("}")


def _clean_comment(comment: str) -> str:
    return comment.rstrip(" \t\f\v")


# ------------------------------------------------------------------ layout

def _width(text: str) -> int:
    """Columns a terminal uses: combining marks take none, wide characters two."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _render(lines: list[_Line]) -> str:
    codes = _align_cells(lines)
    _align_comments(lines, codes)
    out = []
    for line, code in zip(lines, codes):
        if line.kind == "blank":
            out.append("")
        elif line.kind == "comment":
            assert line.comment is not None  # a comment line is made with its comment
            out.append(INDENT * line.indent + line.comment)
        else:
            out.append(code if line.comment is None else code + line.comment)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _align_cells(lines: list[_Line]) -> list[str]:
    """Each code line's text (indent included); runs of a group share columns."""
    codes = [""] * len(lines)
    i = 0
    while i < len(lines):
        j = i + 1
        key = (lines[i].group, lines[i].indent)
        if lines[i].group is not None:
            while j < len(lines) and (lines[j].group, lines[j].indent) == key:
                j += 1
        run = lines[i:j]
        columns = max(len(line.cells) for line in run)
        widths = [max((_width(line.cells[c]) for line in run if c < len(line.cells) - 1),
                      default=0) for c in range(columns)]
        for k, line in enumerate(run, start=i):
            if line.kind != "code":
                continue
            parts = []
            for c, cell in enumerate(line.cells[:-1]):
                if widths[c]:
                    parts.append(cell + " " * (widths[c] - _width(cell)))
            parts.append(line.cells[-1])
            codes[k] = INDENT * line.indent + " ".join(parts)
        i = j
    return codes


def _align_comments(lines: list[_Line], codes: list[str]) -> None:
    """Trailing comments of consecutive lines (same indent) start in one column."""
    i = 0
    while i < len(lines):
        if not (lines[i].has_code and lines[i].comment is not None):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].has_code and lines[j].comment is not None \
                and lines[j].indent == lines[i].indent:
            j += 1
        column = max(_width(codes[k]) for k in range(i, j)) + COMMENT_GAP
        for k in range(i, j):
            codes[k] += " " * (column - _width(codes[k]))
        i = j

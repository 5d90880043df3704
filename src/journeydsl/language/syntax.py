"""Text -> lark Tree, or located syntax diagnostics (JD1xx).

The parser is LALR with lark's contextual lexer. On a syntax error we report
it, drop the rest of the broken statement (panic mode: pop the parser stack
back to the start of the enclosing statement) and go on, so one run reports
every broken statement of a file, not only the first. A statement that
cannot be inside the block it is in (`stage b` inside `stage a`), at the
indentation of the block's own first line, means that block's `}` is
missing: we report that once (JD104), close the block and parse the
statement where it belongs, instead of flagging every later line.
`syntax_errors` words each error; `blocks` reads the braces by indentation.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from lark import Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from .grammar import (
    SyntaxNode,
    first_keywords,
    grammar_text,
    item_rules,
    parser,
    terminals,
    token_span,
)
from .source import SourceFile, Span

__all__ = ["SyntaxNode", "grammar_text", "parse", "parser"]  # the first two: from grammar.py

if TYPE_CHECKING:
    from .blocks import Blocks

_MAX_ERRORS = 50
_NOTHING = re.compile(r"(?:\s|#[^\n]*)*")  # blank lines and comments only


@lru_cache(maxsize=1)
def _statement_start_states() -> frozenset[int]:
    """Parser states that can go to the item of a `{ ... }` block (the
    grammar's item rules): those at the start of a statement."""
    table = parser().parser.parser.parser.parse_table
    items = item_rules()
    return frozenset(s for s, acts in table.states.items() if items & acts.keys())


@lru_cache(maxsize=1)
def _block_breakers() -> frozenset[str]:
    """Keywords that start an item of some block (`stage`, `goal`,
    `touchpoint`, `currency`, ...): read as a plain name inside a block
    (an attribute named `goal`), they mean that block's `}` is missing."""
    return first_keywords(*item_rules())


def parse(source: SourceFile) -> tuple[SyntaxNode | None, list[Diagnostic]]:
    """Parse a file; the tree is None only when nothing could be recovered.

    >>> tree, problems = parse(SourceFile("x.journey", 'journey "x" { entry a }'))
    >>> tree.data, problems
    ('start', [])
    """
    if _NOTHING.fullmatch(source.text):
        return None, [diag.make("JD005", "file has no journey", source, Span(0, 0),
                                help='start with `journey "Title" { ... }`')]
    recovery = _Recovery(source)
    tree: SyntaxNode | None
    try:
        # lark types parse() as returning a Tree; with the _Build transformer
        # it returns what that made of the `start` rule, a SyntaxNode.
        tree = cast(SyntaxNode, parser().parse(source.text, on_error=recovery.on_error))
    except UnexpectedInput as err:
        if not recovery.stopped:
            recovery.report(err)
        tree = None
    except RecursionError:  # pragma: no cover - the LALR loop is iterative
        recovery.problems.append(diag.make("JD101", "input is nested too deeply", source,
                                           Span(0, 0)))
        tree = None
    return tree, recovery.problems


class _Recovery:
    """Collects syntax diagnostics and resynchronizes the parser after each.

    Panic mode: pop the parser stack back to the start of the enclosing
    statement, then move the lexer past the rest of the broken statement
    (keeping `{ }` balanced, so a broken `stage x {` line drops its whole
    block instead of stealing the closing brace of the journey). All of
    this runs only on errors: a file without any costs nothing more than
    lark's parse.
    """

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.calls = 0
        self.stopped = False  # on_error gave up; the error is already reported
        self.lost_journey = False  # recovery dropped the journey statement itself
        self._block_reading: Blocks | None = None  # the braces by indentation, on demand

    def on_error(self, err: UnexpectedInput) -> bool:
        self.calls += 1
        if self.calls > 4 * _MAX_ERRORS or err.interactive_parser is None:
            self.stopped = True
            return False
        state = err.interactive_parser.parser_state
        at_statement_start = state.state_stack[-1] in _statement_start_states()
        if isinstance(err, UnexpectedToken):
            token = err.token
            if token.type == "$END":
                if not self.lost_journey:  # else the real error is reported already
                    self.report(err)
                self.stopped = True
                return False
            if token.type == "_SEP" and at_statement_start:
                return True  # a separator left over by an earlier recovery
            at = token_span(token).start
            problem = self._describe(err, at)
            broken = self._pop_to_statement_start(err)
            if self._close_unclosed_blocks(err, broken):
                return len(self.problems) < _MAX_ERRORS or self._stop()
            self.problems.append(problem)
            if token.type in ("_SEP", "RBRACE"):
                if token.type in _actions(state.state_stack[-1]):
                    self._move_lexer(err, at)  # let it end the block/statement
                return True
            self._move_lexer(err, _statement_end(self.source.text, at))
        else:
            self.report(err)
            self._pop_to_statement_start(err)
            self._move_lexer(err, _statement_end(self.source.text, self._position(err)))
        return len(self.problems) < _MAX_ERRORS or self._stop()

    def _stop(self) -> bool:
        self.stopped = True
        return False

    def report(self, err: UnexpectedInput) -> None:
        self.problems.append(self._describe(err, self._position(err)))

    def _describe(self, err: UnexpectedInput, pos: int) -> Diagnostic:
        from .syntax_errors import describe  # the error path's modules load on demand

        previous = _previous_token(err) if isinstance(err, UnexpectedToken) else None
        return describe(err, pos, self.source, previous=previous, blocks=self._blocks,
                        terminals=terminals())

    def _position(self, err: UnexpectedInput) -> int:
        if isinstance(err, UnexpectedToken) and err.token.type == "$END":
            return len(self.source.text)
        if isinstance(err, UnexpectedToken):
            return token_span(err.token).start
        return getattr(err, "pos_in_stream", 0) or 0

    # ------------------------------------------------------------ recovery
    def _pop_to_statement_start(self, err: UnexpectedInput) -> list:
        """Drop the broken statement's part on the parser stack; its tokens
        and nodes (in text order), then the token the parser choked on."""
        state = err.interactive_parser.parser_state
        starts = _statement_start_states()
        popped = []
        while len(state.state_stack) > 1 and state.state_stack[-1] not in starts:
            state.state_stack.pop()
            popped.append(state.value_stack.pop())
        if len(state.state_stack) == 1:
            self.lost_journey = True
        popped.reverse()
        if isinstance(err, UnexpectedToken):
            popped.append(err.token)
        return popped

    def _close_unclosed_blocks(self, err: UnexpectedToken, broken: list) -> bool:
        """A missing `}`: the broken statement cannot be in the block the
        parser is in (`stage`, `goal`, a flow inside a stage), it is no more
        indented than the block's first line, and some `{` of the file is
        never closed. Report the block (JD104), close it, and each enclosing
        one the statement cannot be in either, then parse the statement
        again where it belongs. False, and nothing done, otherwise."""
        first, second = (_tokens(broken) + [None, None])[:2]
        if first is None or first.type != "NAME":
            return False
        word = str(first)
        flow = second is not None and second.type in ("ARROW", "DOT")
        breakers = _block_breakers()
        if word not in breakers and not flow:
            return False
        blocks = self._blocks()
        at = token_span(first).start
        if not blocks.unclosed or not blocks.starts_line(at):
            return False
        from .blocks import unclosed_blocks
        from .syntax_errors import open_braces

        ip = err.interactive_parser
        closing: list[tuple[int, int]] = []  # (its `{`, where it should have ended)
        while True:
            stack = ip.parser_state.value_stack
            braces = open_braces(stack)
            if len(braces) < 2:  # the journey's own block: nothing to close
                break
            brace = token_span(braces[-1]).start
            if blocks.indent(at) > blocks.indent(brace):
                break  # indented as a part of the block: misplaced, not unclosed
            if flow and word not in breakers and \
                    blocks.head(brace)[1].startswith("scenario "):
                break  # a scenario holds flows
            if "RBRACE" not in _actions(ip.parser_state.state_stack[-1]):
                break  # pragma: no cover - a block's items can always end
            closing.append((brace, self._first_misplaced(stack, braces[-1], at)))
            try:
                ip.feed_token(Token.new_borrow_pos("RBRACE", "}", first))
                ip.feed_token(Token.new_borrow_pos("_SEP", "\n", first))
            except UnexpectedInput:  # pragma: no cover - every block ends an item
                self.stopped = True
                return False
        if not closing:
            return False
        for problem in unclosed_blocks(self.source, blocks, closing):
            if problem not in self.problems:
                self.problems.append(problem)
        self._move_lexer(err, at)
        return True

    def _first_misplaced(self, stack: list, brace: Token, limit: int) -> int:
        """Where the first item of the block opened by `brace` that starts
        like a statement of the journey (`goal x`, read as an attribute named
        `goal`) and is not indented into the block is, or `limit`."""
        blocks = self._blocks()
        indent = blocks.indent(token_span(brace).start)
        # By identity: a token is a str, equal to every other `{`.
        at = next(i for i in range(len(stack) - 1, -1, -1) if stack[i] is brace)
        pending = list(reversed(stack[at + 1:]))
        while pending:
            value = pending.pop()
            if type(value) is not SyntaxNode:
                continue
            if value.data.startswith("_"):  # lark's helper for a list of items
                pending.extend(reversed(value.children))
            elif value.data == "attribute" and str(value.children[0]) in _block_breakers() \
                    and blocks.starts_line(value.start) and blocks.indent(value.start) <= indent:
                return min(value.start, limit)
        return limit

    def _blocks(self) -> Blocks:
        if self._block_reading is None:
            from .blocks import Blocks

            self._block_reading = Blocks(self.source.text)
        return self._block_reading

    def _move_lexer(self, err: UnexpectedInput, pos: int) -> None:
        lexer = err.interactive_parser.lexer_thread.state
        assert lexer is not None  # set while the parser runs, and we are inside it
        counter = lexer.line_ctr
        line, column = self.source.line_col(pos)
        counter.char_pos, counter.line, counter.column = pos, line, column
        counter.line_start_pos = pos - column + 1


def _actions(state: int) -> dict[str, Any]:
    """The LALR actions of a parser state, by terminal or rule name."""
    actions: dict[str, Any] = parser().parser.parser.parser.parse_table.states[state]
    return actions


def _statement_end(text: str, pos: int) -> int:
    """Where the statement containing `pos` ends: after its newline or `;`,
    or before the `}` that closes the enclosing block. Braces opened inside
    the statement are skipped with their contents."""
    depth, n = 0, len(text)
    while pos < n:
        char = text[pos]
        if char == '"':
            close = text.find('"', pos + 1)
            newline = text.find("\n", pos + 1)
            if close != -1 and (newline == -1 or close < newline):
                pos = close + 1
                continue
        elif char == "#":
            newline = text.find("\n", pos)
            pos = n if newline == -1 else newline
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        elif char in "\n;" and depth == 0:
            return pos + 1
        pos += 1
    return n


def _previous_token(err: UnexpectedToken) -> Token | None:
    stack = err.interactive_parser.parser_state.value_stack if err.interactive_parser else []
    for value in reversed(stack):
        if isinstance(value, Token):
            return value
        while isinstance(value, SyntaxNode):
            value = value.children[-1]
        if isinstance(value, Token):
            return value
    return None


def _tokens(values: list, limit: int = 2) -> list[Token]:
    """The first `limit` tokens of parser values (tokens and nodes)."""
    out: list[Token] = []
    pending = list(reversed(values))
    while pending and len(out) < limit:
        value = pending.pop()
        if isinstance(value, Token):
            out.append(value)
        elif isinstance(value, SyntaxNode):
            pending.extend(reversed(value.children))
    return out

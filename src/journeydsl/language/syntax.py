"""Text -> lark Tree, or located syntax diagnostics (JD1xx).

The parser is LALR with lark's contextual lexer. On a syntax error we report
it, drop the rest of the broken statement (panic mode: pop the parser stack
back to the start of the enclosing statement) and go on, so one run reports
every broken statement of a file, not only the first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from typing import NamedTuple

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label, close_matches
from .source import SourceFile, Span

#: Nonterminals that make up the items of a `{ ... }` block: a parser state
#: that can go to one of them is at the start of a statement.
_ITEM_RULES = frozenset({"journey_item", "stage_item", "attribute", "scenario_item"})

#: Words for terminals in "expected ..." messages (literal keywords are shown
#: as themselves).
_WORDS = {
    "NAME": "a name",
    "STRING": "a quoted label",
    "PERCENT": "a rate such as `30%`",
    "NUMBER": "a number",
    "DURATION": "a duration such as `14d`",
    "_SEP": "end of line",
    "ARROW": "`->` or `=>`",
    "COMPARE": "a comparison (`>=`, `>`, `<=`, `<`, `==`)",
    "SETTING_KEY": "`currency`, `discount` or `horizon`",
    "PER": "`per`",
    "$END": "end of file",
}
_KEYWORDS = ("journey", "use", "persona", "stage", "touchpoint", "entry", "goal", "expect",
             "scenario", "currency", "discount", "horizon")
_MAX_ERRORS = 50
_NOTHING = re.compile(r"(?:\s|#[^\n]*)*")  # blank lines and comments only


def grammar_text() -> str:
    """The grammar shipped in the wheel, or the repo's copy in a source tree."""
    here = Path(__file__).resolve().parent
    packaged = here.parent / "grammars" / "journey.lark"  # inside an installed wheel
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (here.parents[2] / "grammars" / "journey.lark").read_text(encoding="utf-8")


class SyntaxNode(NamedTuple):
    """One rule of the parse: lark's Tree, but built as the parser reduces.

    `start`/`end` are the offsets of its first and last tokens. Building these
    tuples inline is as fast as a bare lark parse, where lark Trees with
    propagated positions cost 70% more on large files.
    """

    data: str
    children: list
    start: int
    end: int


class _Build(Transformer):
    def __default__(self, data, children, meta):
        if not children:  # an inlined helper rule such as `_list_comma`
            return SyntaxNode(str(data), children, -1, -1)
        first, last = children[0], children[-1]
        return SyntaxNode(
            str(data), children,
            first.start_pos if type(first) is Token else first.start,
            last.end_pos if type(last) is Token else last.end,
        )


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once per process (lark caches its tables on disk)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=False,
        transformer=_Build(),
        cache=True,
    )


@lru_cache(maxsize=1)
def _statement_start_states() -> frozenset[int]:
    table = parser().parser.parser.parser.parse_table
    return frozenset(s for s, acts in table.states.items() if _ITEM_RULES & acts.keys())


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
    try:
        tree = parser().parse(source.text, on_error=recovery.on_error)
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
    block instead of stealing the closing brace of the journey).
    """

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.calls = 0
        self.stopped = False  # on_error gave up; the error is already reported
        self.lost_journey = False  # recovery dropped the journey statement itself

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
            self.report(err)
            self._pop_to_statement_start(err)
            if token.type in ("_SEP", "RBRACE"):
                if token.type in _actions(state.state_stack[-1]):
                    self._move_lexer(err, token.start_pos)  # let it end the block/statement
                return True
            self._move_lexer(err, _statement_end(self.source.text, token.start_pos))
        else:
            self.report(err)
            self._pop_to_statement_start(err)
            self._move_lexer(err, _statement_end(self.source.text, self._position(err)))
        if len(self.problems) >= _MAX_ERRORS:
            self.stopped = True
            return False
        return True

    def report(self, err: UnexpectedInput) -> None:
        self.problems.append(self._describe(err, self._position(err)))

    def _position(self, err: UnexpectedInput) -> int:
        if isinstance(err, UnexpectedToken) and err.token.type == "$END":
            return len(self.source.text)
        if isinstance(err, UnexpectedToken):
            return err.token.start_pos
        return getattr(err, "pos_in_stream", 0) or 0

    def _describe(self, err: UnexpectedInput, pos: int) -> Diagnostic:
        src = self.source
        if isinstance(err, UnexpectedCharacters):
            char = src.text[pos] if pos < len(src.text) else ""
            if char == '"':
                end = src.text.find("\n", pos)
                end = len(src.text) if end == -1 else end
                return diag.make("JD103", "unterminated string", src, Span(pos, end),
                                 help='close the label with `"` on the same line')
            return diag.make("JD102", f"unexpected character `{char}`", src, Span(pos, pos + 1),
                             help=_expected_help(err))
        if isinstance(err, (UnexpectedEOF,)) or err.token.type == "$END":
            opener = _unclosed_brace(err)
            end = src.end_span
            if opener is not None:
                return diag.make(
                    "JD104", "unclosed `{`: the file ends before its `}`", src, end,
                    help="add the missing `}`",
                    labels=[Label(Span(opener.start_pos, opener.end_pos), "this `{` is never closed")],
                )
            return diag.make("JD101", "unexpected end of file", src, end, help=_expected_help(err))
        token: Token = err.token
        span = Span(token.start_pos, max(token.end_pos, token.start_pos + 1))
        previous = _previous_token(err)
        if token.type == "JOURNEY":
            return diag.make("JD106", "only one `journey` per file", src, span,
                             help="put each journey in its own file")
        if (token.type == "NAME" and previous is not None and previous.type == "NUMBER"
                and previous.end_pos == token.start_pos):
            return diag.make("JD307", f"unknown time unit `{token}`", src,
                             Span(previous.start_pos, token.end_pos),
                             help="durations use h, d, w, mo (30 days) or y (365 days), "
                                  f"e.g. `{previous}d`")
        if previous is not None and previous.type == "NAME" and "ARROW" in err.expected and \
                self._starts_statement(previous):
            word = str(previous)
            prev_span = Span(previous.start_pos, previous.end_pos)
            if word == "touchpoint":
                return diag.make("JD107", "a touchpoint must be inside a stage", src, prev_span,
                                 help="write it in a stage block: "
                                      "`stage s \"Stage\" { touchpoint x \"Label\" }`")
            if word in _KEYWORDS:
                return diag.make("JD107", f"`{word}` is not allowed here", src, prev_span,
                                 help="a scenario holds transitions, referrals, `entry`, `expect` "
                                      "and `step { ... }` blocks; settings, stages, personas "
                                      "and goals belong to the journey itself")
            guess = close_matches(word, _KEYWORDS, n=1, cutoff=0.75)
            if guess:
                return diag.make("JD107", f"unknown statement `{previous}`", src, prev_span,
                                 help=f"did you mean `{guess[0]}`?")
            if token.type != "NAME":
                return diag.make(
                    "JD107", f"unknown statement `{previous}`", src, prev_span,
                    help="a statement starts with a keyword (`use`, `stage`, `persona`, `entry`, "
                         "`goal`, `expect`, `scenario`, `currency`, `discount`, `horizon`) "
                         "or with a step followed by `->` or `=>`")
            if token.type == "NAME":
                return diag.make(
                    "JD105", f"missing arrow between `{previous}` and `{token}`", src,
                    Span(previous.end_pos, token.start_pos) if token.start_pos > previous.end_pos
                    else span,
                    help=f"write `{previous} -> {token} ...` (or `=>` for a referral)",
                )
        if re.search(r"(?:^|[\s;{])use[ \t]*$", src.text[:token.start_pos]):
            return diag.make("JD101", f"unexpected {_describe_token(token)}", src, span,
                             help='write the path in quotes: `use "personas.journey"`')
        return diag.make("JD101", f"unexpected {_describe_token(token)}", src, span,
                         help=_expected_help(err))

    def _starts_statement(self, token: Token) -> bool:
        before = self.source.text[: token.start_pos].rstrip(" \t\f")
        return not before or before[-1] in "\n;{"

    # ------------------------------------------------------------ recovery
    def _pop_to_statement_start(self, err: UnexpectedInput) -> None:
        state = err.interactive_parser.parser_state
        starts = _statement_start_states()
        while len(state.state_stack) > 1 and state.state_stack[-1] not in starts:
            state.state_stack.pop()
            state.value_stack.pop()
        if len(state.state_stack) == 1:
            self.lost_journey = True

    def _move_lexer(self, err: UnexpectedInput, pos: int) -> None:
        counter = err.interactive_parser.lexer_thread.state.line_ctr
        line, column = self.source.line_col(pos)
        counter.char_pos, counter.line, counter.column = pos, line, column
        counter.line_start_pos = pos - column + 1


def _actions(state: int) -> dict:
    return parser().parser.parser.parser.parse_table.states[state]


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


def _unclosed_brace(err: UnexpectedInput) -> Token | None:
    ip = getattr(err, "interactive_parser", None)
    if ip is None:
        return None
    opened = [v for v in ip.parser_state.value_stack if isinstance(v, Token) and v.type == "LBRACE"]
    return opened[-1] if opened else None


def _describe_token(token: Token) -> str:
    if token.type == "_SEP":
        return "end of line" if "\n" in token or "#" in token else "`;`"
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type in ("NUMBER", "PERCENT", "DURATION"):
        return f"number `{token}`"
    if token.type == "STRING":
        return f"label {token}"
    return f"`{token}`"


def _expected_help(err: UnexpectedInput) -> str | None:
    expected = getattr(err, "expected", None) or getattr(err, "allowed", None)
    if not expected:
        return None
    terminals = {t.name: t for t in parser().terminals}
    words = []
    for name in expected:
        if name in _WORDS:
            words.append(_WORDS[name])
        elif name in terminals and terminals[name].pattern.type == "str":
            words.append(f"`{terminals[name].pattern.value}`")
        elif name.startswith("__ANON") and name in terminals:
            words.append(f"`{terminals[name].pattern.value}`")
    words = sorted(set(words))
    if not words or len(words) > 6:  # a long list helps nobody
        return None
    if len(words) == 1:
        return f"expected {words[0]}"
    return "expected " + ", ".join(words[:-1]) + f" or {words[-1]}"

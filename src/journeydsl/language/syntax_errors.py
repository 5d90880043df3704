"""What one syntax error says: its JD1xx message, span and help.

`syntax.parse` recovers from each error; this module only words it, from
lark's error, the token before it and the text around it. Most helps name
the exact text to write: `2 weeks` -> `2w`, `12 %` -> `12%`, `entri` ->
`entry`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, Label, close_matches
from .blocks import Blocks, unclosed_blocks
from .grammar import first_keywords, item_rules, keyword_terminals, token_span
from .source import SourceFile, Span

if TYPE_CHECKING:
    from lark.lexer import TerminalDef

#: Words for terminals in "expected ..." messages. Keywords are shown as
#: themselves (`SETTING_KEY`: "`currency`, `discount`, `horizon` or `margin`"), read
#: from the grammar; tests/test_grammar.py checks that every other terminal
#: has its words here.
_WORDS = {
    "NAME": "a name",
    "STRING": "a quoted label",
    "PERCENT": "a rate such as `30%`",
    "NUMBER": "a number",
    "DURATION": "a duration such as `14d`",
    "_SEP": "end of line",
    "ARROW": "`->` or `=>`",
    "COMPARE": "a comparison (`>=`, `>`, `<=`, `<`, `==`)",
    "$END": "end of file",
}
#: Time words -> the duration unit they mean (`2 weeks` is written `2w`).
_UNITS = {word: unit for unit, words in {
    "h": "h hr hrs hour hours", "d": "d day days", "w": "w wk wks week weeks",
    "mo": "mo mos mon mth mths month months", "y": "y yr yrs year years",
}.items() for word in words.split()}
#: Time words with no unit of their own (minutes, seconds, quarters).
_OTHER_TIME_WORDS = frozenset({"m", "min", "mins", "minute", "minutes", "s", "sec", "secs",
                               "second", "seconds", "q", "quarter", "quarters"})
_UNIT_LIST = "durations use h, d, w, mo (30 days) or y (365 days)"
_SPACED_PERCENT = re.compile(r"(?<![\w.])(\d(?:_?\d)*(?:\.\d+)?)[ \t\f]+\Z")


def describe(err: UnexpectedInput, pos: int, source: SourceFile, *, previous: Token | None,
             blocks: Callable[[], Blocks], terminals: dict[str, TerminalDef]) -> Diagnostic:
    """The diagnostic for lark's `err` at offset `pos`: `previous` is the
    last token the parser took, `blocks` reads the file's braces (only
    asked for at the end of the file), `terminals` are the grammar's."""
    src = source
    if isinstance(err, UnexpectedCharacters):
        char = src.text[pos] if pos < len(src.text) else ""
        if char == '"':
            end = src.text.find("\n", pos)
            end = len(src.text) if end == -1 else end
            return diag.make("JD103", "unterminated string", src, Span(pos, end),
                             help='close the label with `"` on the same line')
        spaced = _SPACED_PERCENT.search(src.text, max(0, pos - 40), pos) if char == "%" else None
        return diag.make("JD102", f"unexpected character `{char}`", src, Span(pos, pos + 1),
                         help=f"write `{spaced.group(1)}%`: no space before `%`" if spaced
                         else expected_help(err, terminals))
    # lark raises three kinds of UnexpectedInput: characters (above), end of
    # file and token.
    assert isinstance(err, (UnexpectedEOF, UnexpectedToken))
    if isinstance(err, UnexpectedEOF) or err.token.type == "$END":
        opener = unclosed_brace(err)
        eof = src.end_span
        if opener is not None:
            brace = token_span(opener)
            if blocks().misaligned(brace.start, eof.start):
                # The indentation shows which block's `}` the last `}` took.
                return unclosed_blocks(src, blocks(), [(brace.start, eof.start)])[0]
            return diag.make(
                "JD104", "unclosed `{`: the file ends before its `}`", src, eof,
                help="add the missing `}`",
                labels=[Label(brace, "this `{` is never closed")],
            )
        return diag.make("JD101", "unexpected end of file", src, eof,
                         help=expected_help(err, terminals))
    token: Token = err.token
    at = token_span(token)
    span = Span(at.start, max(at.end, at.start + 1))
    if token.type == "JOURNEY":
        return diag.make("JD106", "only one `journey` per file", src, span,
                         help="put each journey in its own file")
    if token.type == "NAME" and previous is not None and previous.type == "NUMBER":
        unit = _UNITS.get(token.lower())
        before = token_span(previous)
        if before.end == at.start:
            return diag.make("JD307", f"unknown time unit `{token}`", src,
                             Span(before.start, at.end),
                             help=f"{_UNIT_LIST}, e.g. `{previous}{unit or 'd'}`")
        if not src.text[before.end:at.start].strip(" \t\f") and (
                unit is not None or token.lower() in _OTHER_TIME_WORDS):
            return diag.make("JD101", f"unexpected {describe_token(token)}", src, span,
                             help=f"write `{previous}{unit}`: no space between a number and "
                                  "its unit" if unit else _UNIT_LIST)
    if previous is not None and previous.type == "NAME" and "ARROW" in err.expected and \
            _starts_statement(src.text, previous):
        return _unknown_statement(src, previous, token, span)
    if re.search(r"(?:^|[\s;{])use[ \t]*$", src.text[:at.start]):
        return diag.make("JD101", f"unexpected {describe_token(token)}", src, span,
                         help='write the path in quotes: `use "personas.journey"`')
    return diag.make("JD101", f"unexpected {describe_token(token)}", src, span,
                     help=expected_help(err, terminals))


def statement_keywords() -> frozenset[str]:
    """The keywords that start a statement: `journey`, and those that start
    an item of some block (`persona`, `touchpoint`, `currency`, ...)."""
    return first_keywords("start", *item_rules())


def _unknown_statement(src: SourceFile, previous: Token, token: Token,
                       span: Span) -> Diagnostic:
    """A statement that starts with the name `previous`, then `token`
    where an arrow should be: a misplaced or misspelt keyword, or two steps
    without the arrow between them."""
    word = str(previous)
    keywords = statement_keywords()
    prev_span = token_span(previous)
    if word == "touchpoint":
        return diag.make("JD107", "a touchpoint must be inside a stage", src, prev_span,
                         help="write it in a stage block: "
                              "`stage s \"Stage\" { touchpoint x \"Label\" }`")
    if word in keywords:
        return diag.make("JD107", f"`{word}` is not allowed here", src, prev_span,
                         help="a scenario holds transitions, referrals, `entry`, `expect` "
                              "and `step { ... }` blocks; settings, stages, personas "
                              "and goals belong to the journey itself")
    guess = close_matches(word, sorted(keywords), n=1, cutoff=0.75)
    if guess:
        return diag.make("JD107", f"unknown statement `{previous}`", src, prev_span,
                         help=f"did you mean `{guess[0]}`?")
    if token.type != "NAME":
        # The journey's statement keywords, in the order they are taught;
        # tests/test_grammar.py checks them against the grammar's.
        return diag.make(
            "JD107", f"unknown statement `{previous}`", src, prev_span,
            help="a statement starts with a keyword (`use`, `stage`, `persona`, `entry`, "
                 "`goal`, `expect`, `scenario`, `currency`, `discount`, `horizon`, `margin`) "
                 "or with a step followed by `->` or `=>`")
    return diag.make(
        "JD105", f"missing arrow between `{previous}` and `{token}`", src,
        Span(prev_span.end, span.start) if span.start > prev_span.end else span,
        help=f"write `{previous} -> {token} ...` (or `=>` for a referral)",
    )


def _starts_statement(text: str, token: Token) -> bool:
    before = text[: token_span(token).start].rstrip(" \t\f")
    return not before or before[-1] in "\n;{"


def unclosed_brace(err: UnexpectedInput) -> Token | None:
    """The `{` of the innermost block still open when lark stopped."""
    ip = getattr(err, "interactive_parser", None)
    if ip is None:
        return None
    opened = open_braces(ip.parser_state.value_stack)
    return opened[-1] if opened else None


def open_braces(value_stack: list) -> list[Token]:
    """The `{` of each block open on a parser stack, outermost first."""
    return [v for v in value_stack if type(v) is Token and v.type == "LBRACE"]


def one_of(words: tuple[str, ...]) -> str:
    """"`a`, `b` or `c`".

    >>> one_of(("currency", "discount", "horizon"))
    '`currency`, `discount` or `horizon`'
    """
    quoted = [f"`{w}`" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def describe_token(token: Token) -> str:
    if token.type == "_SEP":
        return "end of line" if "\n" in token or "#" in token else "`;`"
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type in ("NUMBER", "PERCENT", "DURATION"):
        return f"number `{token}`"
    if token.type == "STRING":
        return f"label {token}"
    return f"`{token}`"


def expected_help(err: UnexpectedInput, terminals: dict[str, TerminalDef]) -> str | None:
    """"expected a name or `}`": what could come instead, if that is short."""
    expected = getattr(err, "expected", None) or getattr(err, "allowed", None)
    if not expected:
        return None
    words = []
    keywords = keyword_terminals()
    for name in expected:
        if name in _WORDS:
            words.append(_WORDS[name])
        elif name in keywords:
            words.append(one_of(keywords[name]))
        elif name in terminals and (terminals[name].pattern.type == "str"
                                    or name.startswith("__ANON")):
            words.append(f"`{terminals[name].pattern.value}`")
    words = sorted(set(words))
    if not words or len(words) > 6:  # a long list helps nobody
        return None
    if len(words) == 1:
        return f"expected {words[0]}"
    return "expected " + ", ".join(words[:-1]) + f" or {words[-1]}"

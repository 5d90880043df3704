"""The grammar, its parser, and what the rest of the code reads from it.

grammars/journey.lark is the one definition of the language. lark compiles
it once per process into the LALR parser used by `syntax.parse`; the
keyword lists that recovery, error messages, the brace reader and the
builder need are read here from that same compiled grammar (its terminals,
its rules and lark's FIRST sets), not copied by hand, so a keyword added to
the grammar reaches all of them. tests/test_grammar.py ties every list the
code still spells out to the grammar.

>>> sorted(first_keywords("journey_item"))[:4]
['currency', 'discount', 'entry', 'expect']
>>> keyword_terminals()["SETTING_KEY"]
('currency', 'discount', 'horizon', 'margin')
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lark import Lark, Token, Transformer

from .source import Span

if TYPE_CHECKING:
    from lark.lexer import TerminalDef


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
    def __default__(self, data: str, children: list[Any], meta: Any) -> SyntaxNode:
        if not children:  # an inlined helper rule such as `_list_comma`
            return SyntaxNode(str(data), children, -1, -1)
        first, last = children[0], children[-1]
        # lark types a Token's positions Optional (a Token can be made
        # without them); every token its lexer makes has them. An ignore
        # rather than an assert or cast: this runs once per reduction.
        return SyntaxNode(
            str(data), children,
            first.start_pos if type(first) is Token else first.start,  # type: ignore[arg-type]
            last.end_pos if type(last) is Token else last.end,  # type: ignore[arg-type]
        )


def token_span(token: Token) -> Span:
    """The span of a token lark's lexer made.

    lark types a Token's positions Optional, since a Token can be built
    without them; the lexer always sets them.
    """
    assert token.start_pos is not None and token.end_pos is not None
    return Span(token.start_pos, token.end_pos)


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


# ------------------------------------------------------------ read from the grammar

#: A terminal that is a set of words, written as a regex so that it can take
#: a priority and a look-ahead: `(currency|discount|horizon)(?!\w)`, `per(?!\w)`.
_WORDS_REGEX = re.compile(r"\(?(\w+(?:\|\w+)*)\)?\(\?![^()]*\)")


@lru_cache(maxsize=1)
def terminals() -> dict[str, TerminalDef]:
    """The grammar's terminals (lark `TerminalDef`s) by name."""
    return {t.name: t for t in parser().terminals}


@lru_cache(maxsize=1)
def keyword_terminals() -> dict[str, tuple[str, ...]]:
    """Each terminal that matches keywords, with its words in grammar order.

    A literal such as `"persona"` or `"after"` (lark names it `PERSONA`,
    `AFTER`), or a regex that is only a choice of words and a look-ahead
    (`SETTING_KEY`, `PER`). With the contextual lexer these are keywords
    only where the parser can take them, and names elsewhere.
    """
    out: dict[str, tuple[str, ...]] = {}
    for name, terminal in terminals().items():
        pattern = terminal.pattern
        if pattern.type == "str" and pattern.value.isidentifier():
            out[name] = (pattern.value,)
        elif pattern.type == "re" and (words := _WORDS_REGEX.fullmatch(pattern.value)):
            out[name] = tuple(words.group(1).split("|"))
    return out


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every word the grammar gives a meaning of its own."""
    return frozenset(w for words in keyword_terminals().values() for w in words)


@lru_cache(maxsize=1)
def _first_sets() -> dict[str, frozenset[str]]:
    """Rule name -> names of the terminals that can start it (lark's FIRST sets)."""
    from lark.parsers.grammar_analysis import calculate_sets

    first = calculate_sets(parser().rules)[0]
    return {symbol.name: frozenset(t.name for t in terms)
            for symbol, terms in first.items() if not symbol.is_term}


@lru_cache(maxsize=None)
def first_keywords(*rules: str) -> frozenset[str]:
    """The keywords that can start any of `rules`."""
    firsts, words = _first_sets(), keyword_terminals()
    return frozenset(w for rule in rules for t in firsts[rule] for w in words.get(t, ()))


def _brace() -> str:
    return next(name for name, t in terminals().items() if t.pattern.value == "{")


@lru_cache(maxsize=1)
def _blocks() -> dict[str, str]:
    """Each rule that is a `{ ... }` block (an instance of the `_block{item}`
    template) -> the rule of its items: the first rule after its `{`."""
    brace, out = _brace(), {}
    for rule in parser().rules:
        names = rule.expansion
        if names and names[0].name == brace and any(not s.is_term for s in names[1:]):
            out[rule.origin.name] = next(s.name for s in names[1:] if not s.is_term)
    return out


def item_rules() -> frozenset[str]:
    """The rules of the items inside blocks: `journey_item`, `stage_item`,
    `attribute`, `scenario_item`."""
    return frozenset(_blocks().values())


@lru_cache(maxsize=1)
def statement_rules() -> frozenset[str]:
    """The rules a block item can be: each item rule, with an inlined choice
    (`?journey_item: use | setting | ...`) replaced by its alternatives."""
    out: set[str] = set()
    for item in item_rules():
        alternatives = [r for r in parser().rules if r.origin.name == item]
        if all(r.options.expand1 and len(r.expansion) == 1 and not r.expansion[0].is_term
               for r in alternatives):
            out.update(r.expansion[0].name for r in alternatives)
        else:
            out.add(item)
    return frozenset(out)


@lru_cache(maxsize=1)
def rule_names() -> frozenset[str]:
    return frozenset(r.origin.name for r in parser().rules)


@lru_cache(maxsize=1)
def block_keywords() -> frozenset[str]:
    """Keywords that open a named block: `stage NAME "label"? { ... }`,
    `persona`, `touchpoint`, `scenario`."""
    words, blocks = keyword_terminals(), _blocks()
    out: set[str] = set()
    for rule in parser().rules:
        names = [s.name for s in rule.expansion]
        if len(names) > 2 and names[0] in words and names[1] == "NAME" \
                and any(n in blocks for n in names[2:]):
            out.update(words[names[0]])
    return frozenset(out)

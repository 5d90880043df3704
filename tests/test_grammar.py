"""Every keyword list the code uses agrees with grammars/journey.lark.

The lists are read from the compiled grammar (language/grammar.py). These
tests check that reading against the grammar's text and against what the
parser really accepts, and check the few lists still written by hand (each
a deliberate subset, or a message), so that a keyword added to the grammar
without the code knowing, or to the code without the grammar, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import journeydsl
from journeydsl import fmt
from journeydsl.language import syntax, syntax_errors, transform
from journeydsl.language.blocks import Blocks
from journeydsl.language.grammar import (
    block_keywords,
    first_keywords,
    grammar_text,
    item_rules,
    keyword_terminals,
    keywords,
    parser,
    rule_names,
    statement_rules,
    terminals,
)
from journeydsl.language.source import SourceFile
from journeydsl.language.syntax import parse
from journeydsl.language.transform import to_journey

SRC = Path(journeydsl.__file__).parent

#: A block of each kind, opened: where the items of that block start.
BLOCK_STARTS = {
    "journey": 'journey "x" {\n',
    "stage": 'journey "x" {\n  stage s {\n',
    "touchpoint": 'journey "x" {\n  stage s {\n    touchpoint t {\n',
    "persona": 'journey "x" {\n  persona p {\n',
    "scenario": 'journey "x" {\n  scenario s {\n',
    "override": 'journey "x" {\n  scenario s {\n    a {\n',
}


def accepted_keywords(text: str) -> set[str]:
    """The keywords the parser takes next after `text`."""
    interactive = parser().parse_interactive(text)
    interactive.exhaust_lexer()
    words = keyword_terminals()
    return {w for t in interactive.accepts() for w in words.get(t, ())}


# ------------------------------------------------------------ the grammar's keywords

def test_keywords_are_the_words_of_the_grammar_text() -> None:
    """Read without lark: every quoted word, and every terminal written as a
    regex of words with a look-ahead (`SETTING_KEY`, `PER`)."""
    text = "\n".join(line for line in grammar_text().splitlines()
                     if not line.lstrip().startswith("//"))
    quoted = set(re.findall(r'"([A-Za-z_]\w*)"', text))
    regexes = re.findall(r"^\w+(?:\.\d+)?:\s*/\(?(\w+(?:\|\w+)*)\)?\(\?!", text, re.M)
    assert keywords() == quoted | {w for r in regexes for w in r.split("|")}
    assert {"journey", "currency", "per", "after", "beta"} <= keywords()


def test_every_terminal_is_a_keyword_punctuation_or_described() -> None:
    """A new terminal is either read as keywords, or is punctuation shown as
    itself, or has words in syntax_errors._WORDS for "expected ..." helps."""
    unknown = [name for name, t in terminals().items()
               if name not in keyword_terminals()
               and not (t.pattern.type == "str" and not t.pattern.value.isidentifier())
               and name not in syntax_errors._WORDS
               and not name.startswith("__IGNORE")]
    assert unknown == []
    assert set(syntax_errors._WORDS) - {"$END"} <= set(terminals())


@pytest.mark.parametrize("terminal", ["ARROW", "COMPARE"])
def test_operator_words_are_the_grammars(terminal: str) -> None:
    pattern = terminals()[terminal].pattern.value  # `(?:\->|=>)`
    written = {alt.replace("\\", "") for alt in pattern[3:-1].split("|")}
    assert set(re.findall(r"`([^`]+)`", syntax_errors._WORDS[terminal])) == written


def test_setting_keys_read_in_messages() -> None:
    assert syntax_errors.one_of(keyword_terminals()["SETTING_KEY"]) == \
        "`currency`, `discount`, `horizon` or `margin`"


# ------------------------------------------------------------ statement keywords

def test_block_items_start_with_the_keywords_the_parser_takes_there() -> None:
    """Recovery's block breakers (syntax.py): exactly the keywords that start
    an item of some block, as the parser itself accepts them."""
    accepted = set().union(*(accepted_keywords(t) for t in BLOCK_STARTS.values()))
    assert syntax._block_breakers() == accepted
    assert item_rules() == {"journey_item", "stage_item", "scenario_item", "attribute"}


def test_statement_keywords_are_journey_and_the_block_breakers() -> None:
    assert accepted_keywords("") == {"journey"}
    assert syntax_errors.statement_keywords() == syntax._block_breakers() | {"journey"}
    assert block_keywords() <= syntax._block_breakers() < syntax_errors.statement_keywords() \
        < keywords()


def test_unknown_statement_help_lists_the_journeys_statement_keywords() -> None:
    """The JD107 help is written out in teaching order: its keywords must be
    those that start a statement of the journey."""
    text = 'journey "x" {\n  fooo 1\n}\n'
    problems = parse(SourceFile("x.journey", text))[1]
    (problem,) = [p for p in problems if p.code == "JD107"]
    listed = set(re.findall(r"`([^`]+)`", problem.help)) - {"->", "=>"}
    assert listed == set(first_keywords("journey_item")) == accepted_keywords(BLOCK_STARTS["journey"])


def test_block_heads_are_read_for_every_block_keyword() -> None:
    """blocks.py names a block by its head (`stage booking`) for JD104."""
    assert block_keywords() == {"stage", "touchpoint", "persona", "scenario"}
    for word in block_keywords():
        text = f'journey "x" {{\n  {word} b "B" {{\n'
        assert Blocks(text).head(text.rindex("{")) == (text.index(word), f"{word} b")


def test_fmt_declarations_are_rules_named_after_their_keyword() -> None:
    """fmt aligns one-line declarations (a deliberate subset: no scenario)."""
    for rule in fmt._DECLARATIONS:
        assert rule in statement_rules() and first_keywords(rule) == {rule}
    assert fmt._DECLARATIONS < block_keywords()


# ------------------------------------------------------------ the builder's tables

def test_builder_has_one_method_per_statement_rule() -> None:
    assert set(transform._RULES) == statement_rules()
    assert set(transform._RULES) <= rule_names()
    assert set(transform._SETTINGS) == set(keyword_terminals()["SETTING_KEY"])


def test_a_rule_without_its_method_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(transform._RULES, "goal")
    transform._check_tables.cache_clear()
    tree = parse(SourceFile("x.journey", 'journey "x" { entry a; goal a }'))[0]
    try:
        with pytest.raises(RuntimeError, match=r"rules without a method \['goal'\]"):
            to_journey(tree, SourceFile("x.journey", ""))
    finally:
        monkeypatch.undo()
        transform._check_tables.cache_clear()


# ------------------------------------------------------------ no copies by hand

#: Hand-written collections of keywords, each tied to the grammar by a test above.
ALLOWED = {
    ("fmt.py", "_DECLARATIONS"),  # a deliberate subset
    ("language/transform.py", "_SETTINGS"),  # checked by transform._check_tables
    ("lsp/textmate.py", "_DECLARED"),  # theme scopes, tied to block_keywords by test_editor.py
}


def _keyword_collections(tree: ast.AST):
    """(assigned name, line) of each literal collection of 3+ keywords."""
    words = keywords()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        name = target.id if isinstance(target, ast.Name) else ast.unparse(target)
        for inner in ast.walk(node.value):
            items = inner.keys if isinstance(inner, ast.Dict) else \
                inner.elts if isinstance(inner, (ast.Tuple, ast.List, ast.Set)) else []
            strings = [i.value for i in items if isinstance(i, ast.Constant)
                       and isinstance(i.value, str)]
            if len(strings) >= 3 and len(strings) == len(items) and set(strings) <= words:
                yield name, inner.lineno


def test_no_keyword_list_is_copied_by_hand() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for name, line in _keyword_collections(ast.parse(path.read_text("utf-8"))):
            if (relative, name) not in ALLOWED:
                found.append(f"{relative}:{line} {name}")
    assert found == [], "derive these from language/grammar.py"

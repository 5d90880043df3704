"""The TextMate grammar of the VS Code extension, made from the language.

editors/vscode/syntaxes/journey.tmLanguage.json is written by this module
(`python -m journeydsl.lsp.textmate > editors/vscode/syntaxes/journey.tmLanguage.json`)
and tests/test_editor.py holds the committed file equal to its output, so
the highlighting knows exactly the grammar's keywords (`language.grammar`),
the attributes the builder reads (`language.values`), the metric table's
`expect` names (`metrics`) and the duration units (`language.model.DAYS`).
The extension's own test (editors/vscode/test/grammar.test.js, run by
pytest) tokenizes every example with vscode-textmate: every token gets a
scope.

>>> rules = grammar()["repository"]
>>> "|persona|" in rules["keywords"]["match"], "|ltv_cac|" in rules["expect"]["match"]
(True, True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..language.grammar import block_keywords, keywords
from ..language.model import DAYS
from ..language.values import PERSONA_ATTRIBUTES, STEP_ATTRIBUTES
from ..metrics import EXPECTABLE

#: A name as the grammar's NAME terminal has it, in Oniguruma's syntax.
NAME = r"[\p{L}_][\p{L}\p{N}\p{M}_]*"
_BEFORE = r"(?<![\p{L}\p{N}_])"  # not inside a longer name
_AFTER = r"(?![\p{L}\p{N}\p{M}_])"
NUMBER = r"\d(?:_?\d)*(?:\.\d(?:_?\d)*)?"
#: What a declaration keyword's name is, for themes.
_DECLARED = {"persona": "entity.name.type.persona",
             "stage": "entity.name.namespace.stage",
             "touchpoint": "entity.name.function.touchpoint",
             "scenario": "entity.name.class.scenario"}


def _words(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=lambda w: (-len(w), w)))


def grammar() -> dict:
    units = _words(DAYS)
    declared = sorted(block_keywords())
    attributes = sorted(set(STEP_ATTRIBUTES) | set(PERSONA_ATTRIBUTES))
    rules = {
        "comment": {"name": "comment.line.number-sign.journey", "match": "#.*$"},
        "string": {
            "name": "string.quoted.double.journey", "begin": '"', "end": '"|$',
            "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.journey"}},
            "endCaptures": {"0": {"name": "punctuation.definition.string.end.journey"}},
            "patterns": [{"name": "constant.character.escape.journey", "match": r'\\["\\]'}]},
        "declaration": {"patterns": [
            {"match": f"{_BEFORE}({re.escape(word)})\\s+({NAME})",
             "captures": {"1": {"name": "keyword.declaration.journey"},
                          "2": {"name": f"{_DECLARED.get(word, 'entity.name')}.journey"}}}
            for word in declared]},
        "expect": {
            "match": f"{_BEFORE}(expect)\\s+({_words(EXPECTABLE)}){_AFTER}",
            "captures": {"1": {"name": "keyword.control.expect.journey"},
                         "2": {"name": "support.function.metric.journey"}}},
        "attribute": {
            "match": f"(?:^|(?<=[{{;]))\\s*({_words(attributes)}){_AFTER}",
            "captures": {"1": {"name": "variable.other.property.attribute.journey"}}},
        "keywords": {"name": "keyword.control.journey",
                     "match": f"{_BEFORE}({_words(keywords())}){_AFTER}"},
        "override": {
            "begin": r"\[", "end": r"\]",
            "beginCaptures": {"0": {"name": "punctuation.section.brackets.begin.journey"}},
            "endCaptures": {"0": {"name": "punctuation.section.brackets.end.journey"}},
            "patterns": [
                {"match": f"({NAME})\\s*(:)",
                 "captures": {"1": {"name": "variable.parameter.persona.journey"},
                              "2": {"name": "punctuation.separator.key-value.journey"}}},
                # an override's value is any rate: `beta(17, 3) per customer`, `80%..95%`
                {"include": "#keywords"}, {"include": "#numbers"}, {"include": "#operators"},
                {"include": "#punctuation"}, {"include": "#comment"}]},
        "numbers": {"patterns": [
            {"name": "constant.numeric.duration.journey", "match": f"{NUMBER}(?:{units}){_AFTER}"},
            {"name": "constant.numeric.percentage.journey", "match": f"{NUMBER}%"},
            {"name": "constant.numeric.journey", "match": NUMBER}]},
        "operators": {"patterns": [
            {"name": "keyword.operator.arrow.transition.journey", "match": "->"},
            {"name": "keyword.operator.arrow.referral.journey", "match": "=>"},
            {"name": "keyword.operator.comparison.journey", "match": ">=|<=|==|>|<"},
            {"name": "keyword.operator.range.journey", "match": r"\.\."}]},
        "punctuation": {"patterns": [
            {"name": "punctuation.section.block.begin.journey", "match": r"\{"},
            {"name": "punctuation.section.block.end.journey", "match": r"\}"},
            {"name": "punctuation.section.parens.journey", "match": r"[()]"},
            {"name": "punctuation.section.brackets.journey", "match": r"[\[\]]"},
            {"name": "punctuation.separator.comma.journey", "match": ","},
            {"name": "punctuation.terminator.statement.journey", "match": ";"},
            {"name": "punctuation.accessor.journey", "match": r"\."},
            {"name": "punctuation.separator.key-value.journey", "match": ":"}]},
        "name": {"name": "variable.other.step.journey", "match": NAME},
        "invalid": {"name": "invalid.illegal.journey", "match": r"\S"},
    }
    order = ["comment", "string", "declaration", "expect", "attribute", "keywords", "override",
             "numbers", "operators", "punctuation", "name", "invalid"]
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "Journey",
        "scopeName": "source.journey",
        "fileTypes": ["journey"],
        "comment": "Generated by `python -m journeydsl.lsp.textmate` from the language's "
                   "grammar: do not edit by hand.",
        "patterns": [{"include": f"#{rule}"} for rule in order],
        "repository": rules,
    }


def text() -> str:
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(text(), end="")

"""The editor's incremental compile gives exactly what a whole compile gives
(language/incremental.py): the same model, names, compiled variants and
diagnostics, over every example and sequences of random edits."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from journeydsl.diagnostics import render_text
from journeydsl.language.compiler import compile_text
from journeydsl.language.grammar import keyword_terminals
from journeydsl.language.incremental import Incremental, chunks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").rglob("*.journey"))


def _same(incremental: Incremental, text: str, path: str) -> None:
    got = incremental.compile(text, path)
    want = compile_text(text, path)
    assert [render_text(d) for d in got.diagnostics] == [render_text(d) for d in want.diagnostics]
    assert (got.model is None) == (want.model is None)
    if want.model is not None:
        assert got.model.model_dump() == want.model.model_dump()
    assert (got.names is None) == (want.names is None)
    if want.names is not None:
        assert got.names.meaning == want.names.meaning
        assert got.names.goal_steps == want.names.goal_steps
    assert got.journey == want.journey
    assert got.variants == want.variants
    assert got.imports == want.imports


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_compile_the_same(path):
    text = path.read_text(encoding="utf-8")
    incremental = Incremental()
    _same(incremental, text, str(path))
    assert not incremental.full
    _same(incremental, text, str(path))  # everything reused
    assert incremental.reused == len(chunks(text).statements) - _settings(text)


def _settings(text: str) -> int:
    found = chunks(text)
    settings = keyword_terminals()["SETTING_KEY"]  # currency, discount, horizon, margin
    return sum(text[s:e].split()[0] in settings for s, e in found.statements)


def _edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    kind = rng.randrange(7)
    at = rng.randrange(len(text) + 1)
    if kind == 0 and text:  # delete a character
        return text[:at] + text[at + 1:]
    if kind == 1:  # type a character
        return text[:at] + rng.choice('abc1%5 "{}[],;#\n.:-> ') + text[at:]
    if kind == 2:  # delete a line
        del lines[rng.randrange(len(lines))]
    elif kind == 3:  # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif kind == 4:  # change a number
        import re

        numbers = list(re.finditer(r"\d+", text))
        if numbers:
            m = rng.choice(numbers)
            return text[:m.start()] + str(rng.randrange(120)) + text[m.end():]
    elif kind == 5:  # move a line
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines.insert(j, lines.pop(i))
    else:  # undo-like: a whitespace change
        return text[:at] + " " + text[at:]
    return "\n".join(lines)


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "lib" not in p.parts],
                         ids=lambda p: p.name)
def test_random_edits_compile_the_same(path):
    rng = random.Random(path.name)
    original = path.read_text(encoding="utf-8")
    incremental = Incremental()
    text = original
    quick = 0
    for step in range(60):
        text = _edit(rng, text) if step % 15 else original  # back to a clean file now and then
        _same(incremental, text, str(path))
        quick += not incremental.full
    assert quick >= 8  # the incremental path itself was tested, not only the fallback


def test_reuses_statements_after_a_small_edit():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_check import generate

    text = generate(stages=5, per_stage=10)
    incremental = Incremental()
    incremental.compile(text, "big.journey")
    edited = text.replace("t3 -> t4 ", "t3 -> t4 1", 1)
    assert edited != text
    _same(incremental, edited, "big.journey")
    total = len(chunks(edited).statements)
    assert incremental.reused >= total - 4


def test_chunks_cut_statements():
    text = ('journey "x" { # c\n  stage s {\n    touchpoint a\n  }\n'
            '  entry a 50%,\n    b 50%  # two lines\n  a -> b 5% [p: 1%,\n q: 2%]; goal b }')
    found = chunks(text)
    assert [text[s:e] for s, e in found.statements] == [
        "stage s {\n    touchpoint a\n  }", "entry a 50%,\n    b 50%  # two lines",
        "a -> b 5% [p: 1%,\n q: 2%]", "goal b "]
    assert chunks('journey "x" { entry a } journey "y" {}') is None
    assert chunks('journey "x" { entry a') is None
    assert chunks('stage "x" {}') is None


def test_syntax_errors_fall_back_to_a_whole_compile():
    incremental = Incremental()
    text = 'journey "x" {\n  stage s { touchpoint a }\n  entry a\n  goal a\n}\n'
    _same(incremental, text, "x.journey")
    broken = text.replace("goal a", "goal -> a")
    _same(incremental, broken, "x.journey")
    assert incremental.full
    _same(incremental, text, "x.journey")
    assert not incremental.full

"""The VS Code extension (editors/vscode): its TextMate grammar is the one
generated from the language (journeydsl.lsp.textmate), tokenizes every
example with VS Code's own tokenizer (a node test, run here), and its
manifest, language configuration and snippets hold together."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from journeydsl.language.compiler import compile_text
from journeydsl.lsp import textmate

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "editors" / "vscode"


def test_textmate_grammar_is_generated_from_the_language():
    committed = (EXTENSION / "syntaxes" / "journey.tmLanguage.json").read_text(encoding="utf-8")
    assert committed == textmate.text(), (
        "regenerate: python -m journeydsl.lsp.textmate > "
        "editors/vscode/syntaxes/journey.tmLanguage.json")


def test_every_block_keyword_names_its_declaration_for_themes():
    from journeydsl.language.grammar import block_keywords

    assert set(textmate._DECLARED) == set(block_keywords())


def test_grammar_gives_every_token_of_every_example_a_scope():
    node = shutil.which("node")
    if node is None:
        # as the browser test: CI (CI=true, which .ci/run sets) must have node
        if os.environ.get("CI"):
            pytest.fail("CI must install Node.js and npm (.ci/run)")
        pytest.skip("node is not installed (apt-get install nodejs npm; .ci/run does)")
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir():
        # the README's test command on a machine with Node.js: fetch the
        # extension's locked packages as .ci/run does (npm ci), once
        npm = shutil.which("npm")
        done = (subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION,
                               capture_output=True, text=True, timeout=600)
                if npm else None)
        if done is None or done.returncode != 0:
            pytest.fail("the extension's npm packages are missing and `npm ci` in "
                        f"editors/vscode failed: {done.stderr[-500:] if done else 'no npm'}")
    done = subprocess.run([node, "test/grammar.test.js"], cwd=EXTENSION, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.match(r"ok: \d+ tokens in \d+ files, each with a scope; \d+ spot checks",
                    done.stdout), done.stdout
    files = sorted(str(p) for p in (ROOT / "tests" / "golden" / "diff" / "new").rglob("*.journey"))
    done = subprocess.run([node, "test/grammar.test.js", *files], cwd=EXTENSION,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_points_at_files_that_exist():
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    (language,) = contributes["languages"]
    assert language["id"] == "journey" and language["extensions"] == [".journey"]
    for path in [language["configuration"], *(g["path"] for g in contributes["grammars"]),
                 *(s["path"] for s in contributes["snippets"]), manifest["main"]]:
        assert (EXTENSION / path).is_file(), path
    assert contributes["grammars"][0]["scopeName"] == "source.journey"
    assert contributes["configuration"]["properties"]["journey.server.command"]["default"] == [
        "journey", "lsp"]
    assert (EXTENSION / "package-lock.json").is_file()  # `npm ci` in .ci/run
    config = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"]


def _expand(body: list[str]) -> str:
    """A snippet with every placeholder at its default (choices: the first)."""
    text = "\n".join(body)
    text = re.sub(r"\$\{\d+\|([^,|}]*)[^}]*\}", r"\1", text)
    for _ in range(3):
        text = re.sub(r"\$\{\d+:([^{}]*)\}", r"\1", text)
    return re.sub(r"\$\d+", "", text)


def test_snippets_expand_to_journeys_that_compile():
    snippets = json.loads((EXTENSION / "snippets" / "journey.code-snippets")
                          .read_text(encoding="utf-8"))
    assert {"journey", "persona", "stage", "touchpoint", "scenario"} <= set(snippets)
    whole = _expand(snippets["journey"]["body"])
    assert compile_text(whole).diagnostics == []
    inside = {
        "persona": 'journey "x" {{ {0}\n stage s {{ touchpoint a }}\n entry a\n goal a }}',
        "stage": 'journey "x" {{ {0}\n entry touchpoint_id\n goal touchpoint_id }}',
        "touchpoint": 'journey "x" {{ stage s {{ {0} }}\n entry id\n goal id }}',
        "scenario": 'journey "x" {{ stage s {{ touchpoint from; touchpoint to }}\n entry from\n'
                    ' from -> to 10%\n goal to\n {0} }}',
        "transition": 'journey "x" {{ stage s {{ touchpoint from; touchpoint to }}\n entry from\n'
                      ' {0}\n goal to }}',
        "expect": 'journey "x" {{ stage s {{ touchpoint a }}\n entry a\n goal a\n {0} }}',
    }
    for name, frame in inside.items():
        text = frame.format(_expand(snippets[name]["body"]))
        found = [d for d in compile_text(text).diagnostics if d.severity.value == "error"
                 and d.code not in ("JD305",)]
        assert found == [], (name, text, found)

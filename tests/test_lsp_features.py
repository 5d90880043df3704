"""The language server's features as functions of an analysis (in process,
no client): quick fixes, used files, rename, completion, signatures,
semantic tokens, outline, hover on broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from journeydsl.language.compiler import compile_text
from journeydsl.language.incremental import Incremental
from journeydsl.lsp import actions, complete, hover, navigate
from journeydsl.lsp.analysis import analyze, evaluate
from journeydsl.lsp.convert import by_file
from journeydsl.lsp.positions import uri_of

ROOT = Path(__file__).resolve().parents[1]
BASE = ('journey "x" {\n  persona smb { share 70% }\n  persona ent { share 30% }\n'
        '  stage s "S" {\n    touchpoint a "A" { channel web }\n'
        '    touchpoint b "B" { channel email }\n'
        '  }\n  stage t "T" {}\n  entry a\n  a -> b 30% [ent: 20%]\n  b -> s.a 5%, t 10%\n'
        '  goal t\n  expect conversion >= 1%\n  scenario big "Big" { a -> b 40% }\n}\n')


def _analysis(text: str, path: str = "x.journey", evaluated: bool = False):
    analysis = analyze(Incremental(), path, text)
    if evaluated:
        analysis.evaluation = evaluate(analysis)
    return analysis


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    from journeydsl.language.source import SourceFile
    from journeydsl.lsp.positions import offset

    source = SourceFile("x", text)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start, end = offset(source, edit.range.start), offset(source, edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
        source = SourceFile("x", text)
    return text


def _fixes(text: str) -> list[types.CodeAction]:
    analysis = _analysis(text)
    return actions.code_actions(analysis, 0, len(text), "file:///x.journey")


def test_base_is_clean():
    assert compile_text(BASE).diagnostics == []


@pytest.mark.parametrize("broken, fixed, title", [
    (BASE.replace("a -> b 30%", "a -> b 30"), BASE, "Replace `30` with `30%`"),
    (BASE.replace("b -> s.a", "b -> s.aa"), BASE, "Replace `s.aa` with `s.a`"),
    (BASE.replace("[ent: 20%]", "[entt: 20%]"), BASE, "Replace `entt` with `ent`"),
    (BASE.replace("expect conversion", "expect conversoin"), BASE,
     "Replace `conversoin` with `conversion`"),
    (BASE.replace("  entry a", "  entri a"), BASE, "Replace `entri` with `entry`"),
    (BASE.replace("[ent: 20%]", "[ent: 20%] after 2 weeks"),
     BASE.replace("[ent: 20%]", "[ent: 20%] after 2w"), "Write `2w`"),
    (BASE.replace("a -> b 30%", "a -> b 30 %"), BASE, "Write `30%`"),
    (BASE[:-2], BASE, "Add the missing `}`"),
    (BASE.replace('  stage t "T" {}', '  stage t "T" {}').replace(
        '    touchpoint b "B" { channel email }\n  }\n',
        '    touchpoint b "B" { channel email }\n'),
     BASE, "Add the missing `}`"),
])
def test_quick_fixes_follow_the_hints(broken, fixed, title):
    found = _fixes(broken)
    assert [a.title for a in found][:1] == [title]
    repaired = _apply(broken, found[0].edit.changes["file:///x.journey"])
    assert repaired.rstrip() == fixed.rstrip()
    assert compile_text(repaired).diagnostics == []


def test_a_use_path_fix_keeps_its_quotes(tmp_path):
    (tmp_path / "people.journey").write_text('journey "p" { persona p { share 100% } }\n')
    text = 'journey "x" { use "peple.journey"; stage s { touchpoint a }; entry a; goal a }\n'
    analysis = _analysis(text, str(tmp_path / "main.journey"))
    (fix,) = actions.code_actions(analysis, 0, len(text), "file:///main.journey")
    assert fix.edit.changes["file:///main.journey"][0].new_text == '"people.journey"'


def test_problems_in_used_files_are_shown_there_and_on_the_use_line(tmp_path):
    lib = tmp_path / "lib.journey"
    lib.write_text('journey "lib" {\n  persona p { share 100% }\n'
                   '  stage s { touchpoint a { emotion 9 } }\n}\n')
    main = tmp_path / "main.journey"
    text = 'journey "x" {\n  use "lib.journey"\n  entry a\n  goal a\n}\n'
    found = by_file(_analysis(text, str(main)))
    (there,) = found[uri_of(str(lib))]
    assert there.code == "JD306" and there.range.start.line == 2
    (here,) = found[uri_of(str(main))]
    assert here.code == "JD306" and here.message.startswith("in `lib.journey`: emotion `9`")
    assert here.range.start.line == 1
    assert here.related_information[0].location.uri == uri_of(str(lib))


def _offset(text: str, needle: str, shift: int = 0) -> int:
    return text.index(needle) + shift


def test_rename_a_touchpoint_named_qualified_and_not():
    analysis = _analysis(BASE)
    edit = navigate.rename(analysis, _offset(BASE, "a -> b"), "ad")
    renamed = _apply(BASE, edit.changes[uri_of("x.journey")])
    assert "touchpoint ad" in renamed and "entry ad" in renamed and "b -> s.ad" in renamed
    assert compile_text(renamed).diagnostics == []
    stage = navigate.rename(analysis, _offset(BASE, "s.a", 0), "sales")
    assert "b -> sales.a" in _apply(BASE, stage.changes[uri_of("x.journey")])


@pytest.mark.parametrize("name, why", [
    ("b", "a step or stage `b` already exists"),
    ("t", "a step or stage `t` already exists"),
    ("2a", "is not a name"),
    ("a b", "is not a name"),
    ("entry", "is a keyword"),
    ("a", "already called"),
])
def test_rename_refuses(name, why):
    analysis = _analysis(BASE)
    with pytest.raises(navigate.RenameRefused, match=why):
        navigate.rename(analysis, _offset(BASE, "a -> b"), name)


def test_rename_a_persona_declared_in_a_used_file(tmp_path):
    lib = tmp_path / "people.journey"
    lib.write_text('journey "p" {\n  persona smb { share 60% }\n  persona ent { share 40% }\n}\n')
    text = ('journey "x" {\n  use "people.journey"\n  stage s { touchpoint a; touchpoint b }\n'
            '  entry a\n  a -> b 5% [ent: 9%]\n  goal b\n}\n')
    analysis = _analysis(text, str(tmp_path / "main.journey"))
    where = _offset(text, "[ent", 1)
    found = navigate.definition(analysis, where)
    assert found.uri == uri_of(str(lib)) and found.range.start.line == 2
    edit = navigate.rename(analysis, where, "enterprise")
    assert _apply(text, edit.changes[uri_of(str(tmp_path / "main.journey"))]).count(
        "[enterprise: 9%]") == 1
    assert "persona enterprise" in _apply(lib.read_text(), edit.changes[uri_of(str(lib))])
    with pytest.raises(navigate.RenameRefused, match="persona `smb` already exists"):
        navigate.rename(analysis, where, "smb")


def _labels(text: str, needle: str, shift: int = 0) -> list[str]:
    analysis = _analysis(text)
    return [i.label for i in complete.completion(analysis, _offset(text, needle, shift))]


@pytest.mark.parametrize("line, want", [
    ("  a -> b 30% [", {"smb", "ent"}),
    ("  a -> b 30% after 14", {"14d", "14w", "14mo", "14y"}),
    ("  a -> b 3", {"3%"}),
    ("  expect time_to_convert <= 30", {"30d"}),
    ("  expect reach(", {"a", "b", "t", "s"}),
    ("  expect clv(", {"smb", "ent"}),
    ("  b -> s.", {"a", "b"}),
    ("  goal ", {"a", "t"}),
    ("  entry a 50%, ", {"b"}),
])
def test_completion_in_context(line, want):
    text = BASE.replace("  goal t\n", f"  goal t\n{line}\n")
    assert want <= set(_labels(text, line, len(line)))


@pytest.mark.parametrize("line, want", [
    ("  a -> ", {"a", "b", "s", "lib_step", "lib_stage"}),
    ("  a -> b 30% [", {"smb", "ent"}),
    ("  expect clv(", {"smb", "ent"}),
])
def test_completion_on_a_line_being_typed_names_what_used_files_declare(tmp_path, line, want):
    """The line being typed does not parse, so names come from what parses
    of the file; the personas and steps of the files it uses are among them."""
    (tmp_path / "lib.journey").write_text(
        'journey "lib" {\n  persona smb { share 60% }\n  persona ent { share 40% }\n'
        '  stage lib_stage { touchpoint lib_step }\n}\n')
    text = ('journey "x" {\n  use "lib.journey"\n  stage s { touchpoint a; touchpoint b }\n'
            f'  entry a\n  a -> b 30%\n  goal b\n{line}\n}}\n')
    analysis = _analysis(text, str(tmp_path / "main.journey"))
    assert not analysis.compilation.ok  # the line being typed
    labels = {i.label for i in complete.completion(analysis, _offset(text, line, len(line)))}
    assert want <= labels


def test_completion_of_channels_periods_blocks_and_comments():
    text = BASE.replace('{ channel web }', '{ channel  }').replace(
        "  goal t\n", "  goal t\n  # b -> \n")
    assert "email" in _labels(text, "channel  ", 8)
    assert _labels(text, "# b -> ", 7) == []
    periods = BASE.replace("  entry a\n", "  discount 5% per \n  entry a\n")
    assert set(_labels(periods, "per ", 4)) == {"year", "month", "week", "day"}
    stage = BASE.replace('    touchpoint a "A"', '    \n    touchpoint a "A"')
    assert {"touchpoint", "channel", "owner", "cost"} <= set(_labels(stage, "    \n", 4))
    persona = BASE.replace("{ share 70% }", "{ share 70%;  }")
    assert {"share", "note"} <= set(_labels(persona, "70%;  ", 5))


def test_signature_help_follows_the_expect_line():
    def active(line):
        text = BASE.replace("  goal t\n", f"  goal t\n{line}\n")
        return complete.signature_help(_analysis(text), _offset(text, line, len(line)))

    assert active("  expect ").active_parameter == 0
    found = active("  expect reach(")
    assert found.active_parameter == 1
    assert found.signatures[0].label == "expect reach(step or stage) OP RATE (1.5%)"
    assert active("  expect clv ").active_parameter == 2
    assert active("  expect clv >= ").active_parameter == 3
    assert active("  a -> ") is None


def test_semantic_tokens_and_outline():
    analysis = _analysis(BASE)
    data = actions.semantic_tokens(analysis).data
    tokens, line, col = [], 0, 0
    for i in range(0, len(data), 5):
        line += data[i]
        col = data[i + 1] if data[i] else col + data[i + 1]
        tokens.append((line, col, data[i + 2], actions.TOKEN_TYPES[data[i + 3]], data[i + 4]))
    lines = BASE.split("\n")
    words = {(lines[ln][c:c + n], kind, mods) for ln, c, n, kind, mods in tokens}
    assert ("a", "function", 1) in words and ("a", "function", 0) in words
    assert ("s", "namespace", 0) in words and ("ent", "parameter", 0) in words
    assert ("conversion", "property", 2) in words and ("big", "class", 1) in words
    (journey,) = navigate.document_symbols(analysis)
    assert journey.name == "x"
    assert [(c.name, c.kind) for c in journey.children] == [
        ("smb", types.SymbolKind.Interface), ("ent", types.SymbolKind.Interface),
        ("s", types.SymbolKind.Namespace), ("t", types.SymbolKind.Namespace),
        ("big", types.SymbolKind.Class)]


def test_outline_leaves_out_used_declarations():
    path = ROOT / "examples" / "b2b_webinar.journey"
    analysis = _analysis(path.read_text(encoding="utf-8"), str(path))
    names = [c.name for c in navigate.document_symbols(analysis)[0].children]
    assert "awareness" not in names and names  # the stage comes from lib/b2b_awareness


def test_hover_on_a_broken_file_still_names_things():
    text = BASE.replace("  goal t\n", "  goal t\n  a -> \n")
    analysis = _analysis(text)
    assert not analysis.compilation.ok and analysis.compilation.model is None
    shown = hover.hover(analysis, _offset(text, "touchpoint a", 11)).contents.value
    assert 'touchpoint `a`** "A"' in shown and "no errors" in shown


def test_hover_on_stage_persona_scenario_and_metric():
    analysis = _analysis(BASE, evaluated=True)
    stage = hover.hover(analysis, _offset(BASE, "s.a")).contents.value
    assert "stage `s`" in stage and "`a`, `b`" in stage and "| reach |" in stage
    persona = hover.hover(analysis, _offset(BASE, "persona ent", 9)).contents.value
    assert "share of new prospects: 30%" in persona and "conversion" in persona
    scenario = hover.hover(analysis, _offset(BASE, "big")).contents.value
    assert 'scenario `big`** "Big"' in scenario and "1 change(s)" in scenario
    metric = hover.hover(analysis, _offset(BASE, "conversion >=")).contents.value
    assert "P(the walk reaches any goal step)" in metric and "holds ✓" in metric


def test_hovers_shown_in_docs_editor_are_current():
    import re
    import textwrap

    path = ROOT / "examples" / "saas_trial.journey"
    text = path.read_text(encoding="utf-8")
    analysis = _analysis(text, str(path), evaluated=True)
    page = (ROOT / "docs" / "editor.md").read_text(encoding="utf-8")
    blocks = [textwrap.dedent(b) for b in re.findall(r"^  ```text\n(.*?)^  ```$", page,
                                                       re.M | re.S)]
    step = hover.hover(analysis, _offset(text, "pricing     -> trial", 2)).contents.value
    metric = hover.hover(analysis, _offset(text, "expect ltv_cac >= 3", 8)).contents.value
    assert blocks[:2] == [step + "\n", metric + "\n"]


@pytest.mark.parametrize("encoding, column", [("utf-16", 18), ("utf-8", 22), ("utf-32", 18)])
def test_positions_in_the_units_the_client_chose(encoding, column):
    from journeydsl.language.source import SourceFile
    from journeydsl.lsp import positions

    source = SourceFile("x", 'journey "x" {\n  stage nhận_thức { touchpoint đơn }\n}\n')
    at = source.text.index("{ touchpoint")
    try:
        positions.use_encoding(encoding)
        found = positions.position(source, at)
        assert (found.line, found.character) == (1, column)  # ậ and ứ: 3 bytes in UTF-8
        assert positions.offset(source, found) == at
    finally:
        positions.use_encoding("utf-16")


def test_labels_are_shown_safe_in_hover_outline_and_completion():
    """Control, bidi and invisible characters of a label reach the editor
    escaped (`display`), as `journey check` shows them."""
    nasty = "A \x1b[31m\u202eevil\u200b"
    text = BASE.replace('touchpoint a "A"', f'touchpoint a "{nasty}"')
    analysis = _analysis(text, evaluated=True)
    found = hover.hover(analysis, _offset(text, "a -> b", 0))
    symbols = navigate.document_symbols(analysis)
    details = [c.detail for s in symbols for c in s.children or []
               for c in [c, *(c.children or [])]]
    items = complete.completion(analysis, _offset(BASE, "  goal t") + len("  goal "))
    for shown_text in [found.contents.value, *details, *(i.detail or "" for i in items)]:
        assert not any(ch in shown_text for ch in "\x1b\u202e\u200b"), shown_text
    assert "A \\u{1b}[31m\\u{202e}evil\\u{200b}" in found.contents.value
    assert any("\\u{202e}" in (d or "") for d in details)

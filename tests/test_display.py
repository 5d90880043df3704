"""User text shown safe (`journeydsl.display`) in every output: hostile
labels (terminal escapes, bidi overrides, zero-width characters) in DOT,
Mermaid, the SVG map, the board, the HTML report, the `simulate` tables,
`check` excerpts (carets under the escapes), concise and GitHub output, and
the command's own messages."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.diagnostics import render_concise, render_text
from journeydsl.display import escape, json_shown, lines_shown, one_line, shown, width

#: Characters that must never reach an output raw.
NASTY = ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\x0b", "\x0c", "\x85", "\u202a", "\u202b",
         "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
         "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff", "\u2028", "\u2029", "\U000e0041",
         "\ufffe", "\u3164", "\ud800"]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def raw_nasty(text: str) -> list[str]:
    """The nasty characters found raw in `text`: controls (but the newlines
    and tabs of the layout), format characters (but joiners, kept between
    two visible non-ASCII characters: see test_shown_is_safe_and_idempotent),
    separators, surrogates, noncharacters, invisible letters."""
    return sorted({c for c in text if c in NASTY or c not in "\n\t\u200c\u200d" and (
        unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        or 0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE)})


# ------------------------------------------------------------------ the helper

def test_every_nasty_character_is_escaped_rustc_style():
    for char in NASTY:
        assert shown(f"a{char}b") == f"a\\u{{{ord(char):x}}}b", repr(char)
    assert escape("\x1b") == "\\u{1b}" and escape("\u202e") == "\\u{202e}"


def test_plain_text_is_kept_as_it_is():
    for text in ("Pricing page", "Trang giá: 5%", "שלום עולם", "مرحبا", "日本語のラベル",
                 "e\u0301", "tab\there", "👩\u200d💻 dev", "\u2764\ufe0f", "a\u00a0b",
                 "می\u200cخواهم"):  # ZWNJ inside Persian is kept
        assert shown(text) == text, repr(text)


def test_joiners_next_to_ascii_or_space_are_escaped():
    assert shown("Pri\u200dcing") == "Pri\\u{200d}cing"
    assert shown("\u200d👩") == "\\u{200d}👩" and shown("👩 \u200c x") == "👩 \\u{200c} x"


def test_one_line_and_lines_shown():
    assert one_line(" a\nb\r\nc\u2028d\te ") == "a b  c d e"
    assert one_line(None) == "" and shown(None) == ""
    assert lines_shown("one \x1b\ntwo") == "one \\u{1b}\ntwo"


def test_width_counts_columns_as_shown():
    assert width(shown("a\x1bb")) == 8
    assert width("日本") == 4 and width("e\u0301") == 1 and width("\t", 4) == 4


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_shown_is_safe_and_idempotent(text):
    out = shown(text)
    assert shown(out) == out
    for i, char in enumerate(out):
        if char in "\u200c\u200d":
            continue  # kept only between two visible non-ASCII characters
        category = unicodedata.category(char)
        assert char == "\t" or category not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(out)
    out.encode("utf-8")  # surrogates are escaped: always encodable
    assert "\n" not in one_line(text) and "\r" not in one_line(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(" a\t\n\x85\u2028\u3164\u200d\u202e\u00a0é") | st.characters()))
def test_one_line_fast_path_is_the_slow_path(text):
    """`one_line` returns printable text stripped without the slow path:
    the same result as breaks replaced, then `shown`, then stripped."""
    from journeydsl.display import _BREAKS

    assert one_line(text) == shown(text.translate(_BREAKS)).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_json_shown_is_the_same_data_and_inert(text):
    document = json.dumps({"label": text, "list": [text, 1]}, ensure_ascii=False)
    out = json_shown(document)
    assert json.loads(out) == {"label": text, "list": [text, 1]}
    assert raw_nasty(out) == []
    assert json_shown(out) == out


# ------------------------------------------------------------------ a hostile journey

def _label(tag: str) -> str:
    return (f"{tag} \x1b[31mred\x1b[0m \x1b]0;title\x07 [red]m[/red] :warning: "
            f"\u202eevil\u202c \u2066iso\u2069 zw\u200bsp \x08\x7f\x9b2J \ufeff end")


HOSTILE = f'''journey "{_label("Title")}" {{
  currency USD
  persona p "{_label("Persona")}" {{ share 60% }}
  persona q "Other" {{ share 40% }}
  stage s1 "{_label("Stage")}" {{
    touchpoint a "{_label("Ad")}" {{ channel web; cost 1; emotion 3; pain "{_label("Pain")}" }}
    touchpoint b "{_label("Buy")}" {{ emotion 4; value 10 }}
  }}
  stage s2 "שלום RTL" {{ touchpoint c "👩\u200d💻 Dev" {{ emotion 5 }} }}
  entry a
  a -> b 50%
  b -> c 40%
  goal c
  scenario better "{_label("Scenario")}" {{ a -> b 60% }}
}}
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.journey"
    path.write_text(HOSTILE, encoding="utf-8")
    compiled = journeydsl.load(path)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    return path, compiled


def _assert_shown(text: str, kept=("\\u{1b}", "\\u{202e}", "👩\u200d💻", "שלום")):
    assert raw_nasty(text) == [], raw_nasty(text)
    for piece in kept:
        assert piece in text, piece


def test_dot_and_emotion_dot(hostile):
    from journeydsl.render import emotion_dot, to_dot

    _, compiled = hostile
    for text in (to_dot(compiled.journey), to_dot(compiled.journey, flows=True),
                 emotion_dot(compiled.journey)):
        _assert_shown(text.replace("\\\\u{", "\\u{"), kept=("\\u{1b}", "\\u{202e}"))
        assert "\\\\u{1b}" in text  # a DOT string doubles the backslash


def test_mermaid(hostile):
    from test_render_mermaid_checker import parse_flowchart, parse_journey

    from journeydsl.render.mermaid import to_mermaid_flowchart, to_mermaid_journey

    _, compiled = hostile
    journey = to_mermaid_journey(compiled.journey)
    flowchart = to_mermaid_flowchart(compiled.journey, flows=True)
    for text in (journey, flowchart):
        _assert_shown(text, kept=("\\u{1b}", "\\u{202e}"))
    parsed = parse_journey(journey)
    assert parsed["title"].startswith("Title \\u{1b}[31mred")
    assert any("\\u{202e}evil\\u{202c}" in title for _, title, _ in
               parse_flowchart(flowchart)["subgraphs"])


def test_svg_map(hostile):
    from journeydsl.render import backends, produce

    if not (backends.has_dot() or backends.has_wasm()):
        pytest.skip("no Graphviz")
    _, compiled = hostile
    svg = produce(compiled.journey, "svg").decode("utf-8")
    _assert_shown(svg)


def test_board_svg(hostile):
    from journeydsl.render.board import board_svg

    _, compiled = hostile
    svg = board_svg(compiled.journey)
    _assert_shown(svg)
    assert "[red]m[/red]" in svg and ":warning:" in svg


def test_html_report(hostile):
    from journeydsl.render.report import report_html

    _, compiled = hostile
    scenarios = [compiled.variant(s) for s in compiled.scenarios]
    html = report_html(compiled.journey, scenarios, "en", "a\x1bname\u202e.journey",
                       compiled.expectations)
    _assert_shown(html)
    assert "a\\u{1b}name\\u{202e}.journey" in html


@pytest.mark.parametrize("args", [[], ["--levers", "--attribution"], ["--compare"],
                                  ["--persona", "p"]])
def test_simulate_tables(hostile, args):
    path, _ = hostile
    done = CliRunner().invoke(app, ["simulate", str(path), *args], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output
    _assert_shown(done.stdout, kept=("\\u{1b}",))
    if not args or args[0] == "--persona":
        assert "[red]m[/red]" in done.stdout and ":warning:" in done.stdout  # not markup
        assert "\\u{202e}evil\\u{202c}" in done.stdout


def test_simulate_json_keeps_the_text_exactly(hostile):
    path, _ = hostile
    done = CliRunner().invoke(app, ["simulate", str(path), "-f", "json"])
    assert done.exit_code == 0
    assert json.loads(done.stdout)["journey"] == _label("Title")  # data, not display
    assert raw_nasty(done.stdout) == []  # as JSON escapes (\u202e): inert on a terminal


def test_export_keeps_the_text_exactly_as_json_escapes(hostile):
    path, _ = hostile
    done = CliRunner().invoke(app, ["export", str(path)])
    assert done.exit_code == 0
    assert raw_nasty(done.stdout) == [], raw_nasty(done.stdout)
    assert "\\u202eevil\\u202c" in done.stdout and "\\u001b[31m" in done.stdout
    assert "👩\u200d💻 Dev" in done.stdout and "שלום RTL" in done.stdout  # readable, kept
    model = json.loads(done.stdout)["journey"]
    assert model["title"] == _label("Title")
    assert {s["label"] for s in model["stages"]} == {_label("Stage"), "שלום RTL"}


def test_check_excerpt_escapes_and_carets_line_up(tmp_path):
    text = HOSTILE.replace("a -> b 50%", 'a -> b 50%\n  b -> "\x1b[2J\u202eX" 5%')
    path = tmp_path / "bad.journey"
    path.write_text(text, encoding="utf-8")
    diagnostics = journeydsl.load(path).diagnostics
    assert diagnostics
    for d in diagnostics:
        out = render_text(d)
        _assert_shown(out, kept=())
        _assert_shown(render_concise(d), kept=())
    out = render_text(diagnostics[0])
    lines = out.split("\n")
    source = next(i for i, line in enumerate(lines) if line.startswith("12 |"))
    code, carets = lines[source], lines[source + 1]
    start = carets.index("^")
    assert code[start:].startswith('"\\u{1b}[2J\\u{202e}X"')
    assert carets.count("^") == len('"\\u{1b}[2J\\u{202e}X"')


def test_unexpected_character_is_named_by_its_escape(tmp_path):
    path = tmp_path / "esc.journey"
    path.write_text('journey "x" {\n  stage a {}\n  entry a\x1b[2J\n}\n', encoding="utf-8")
    out = render_text(journeydsl.load(path).diagnostics[0])
    assert "unexpected character `\\u{1b}`" in out and "entry a\\u{1b}[2J" in out
    _assert_shown(out, kept=())


def test_check_outputs_through_the_command(hostile, tmp_path):
    bad = tmp_path / "bad\x1b[2J.journey"
    bad.write_text('journey "x" {\n  stage a "\x1b]0;t\x07" {}\n  entry a\n  a -> b\u202e 5%\n}\n',
                   encoding="utf-8")
    runner = CliRunner()
    for fmt in ("text", "concise", "github"):
        done = runner.invoke(app, ["check", "-f", fmt, "--color", "never", str(bad)])
        assert done.exit_code == 1
        _assert_shown(done.stdout + done.stderr, kept=("bad\\u{1b}[2J.journey",))
    found = runner.invoke(app, ["check", "-f", "json", str(bad)])
    assert json.loads(found.stdout)[0]["path"] == str(bad)  # machine output: exact
    sarif = runner.invoke(app, ["check", "-f", "sarif", str(bad)])
    uri = json.loads(sarif.stdout)["runs"][0]["results"][0]["locations"][0]
    assert "%1B" in uri["physicalLocation"]["artifactLocation"]["uri"]
    for out in (found.stdout, sarif.stdout):
        assert raw_nasty(out) == [], raw_nasty(out)  # as JSON escapes


def test_command_messages_escape_user_text(tmp_path):
    done = CliRunner().invoke(app, ["simulate", str(tmp_path / "no\x1b[2Jsuch\u202e.journey")])
    assert done.exit_code == 2
    assert "no\\u{1b}[2Jsuch\\u{202e}.journey" in done.stderr
    assert raw_nasty(done.stderr) == []


def test_fmt_diff_shows_escapes_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    from journeydsl.cli.fmt import fmt_command

    path = tmp_path / "esc.journey"
    path.write_text('journey "x\x1b[2J" {\nstage a {}\n entry a\n}\n', encoding="utf-8")
    assert fmt_command([path], diff=True) == 0
    piped = capsys.readouterr().out
    assert '"x\x1b[2J"' in piped  # a patch keeps the bytes
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert fmt_command([path], diff=True) == 0
    shown_diff = capsys.readouterr().out
    assert '"x\\u{1b}[2J"' in shown_diff and raw_nasty(shown_diff) == []


_LABEL = st.text(st.characters(blacklist_characters='"\\\n\r\x00', blacklist_categories=("Cs",)),
                 min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(title=_LABEL, stage=_LABEL, step=_LABEL)
def test_any_label_is_inert_in_every_drawn_output(title, stage, step):
    import xml.etree.ElementTree as ET

    from journeydsl.render import to_dot
    from journeydsl.render.board import board_svg
    from journeydsl.render.mermaid import to_mermaid_flowchart, to_mermaid_journey

    text = (f'journey "{title}" {{\n  stage s "{stage}" {{ touchpoint a "{step}" {{ emotion 2 }}'
            f' }}\n  stage t {{}}\n  entry a\n  a -> t 40%\n  goal t\n}}\n')
    compiled = journeydsl.loads(text)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    journey = compiled.journey
    for out in (to_dot(journey), to_mermaid_journey(journey), to_mermaid_flowchart(journey)):
        assert raw_nasty(out) == []
    svg = board_svg(journey)
    assert raw_nasty(svg) == []
    ET.fromstring(svg)  # well-formed XML whatever the labels hold


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_journey_diff(hostile, tmp_path, fmt):
    """`journey diff` (a pull-request comment in markdown): labels, the
    changed lines and file names shown escaped; JSON keeps the exact text."""
    path, _ = hostile
    new = tmp_path / "new\u202e.journey"
    new.write_text(HOSTILE.replace("a -> b 50%", "a -> b 55%")
                   .replace(_label("Buy"), _label("Buy now")), encoding="utf-8")
    done = CliRunner().invoke(app, ["diff", str(path), str(new), "--format", fmt])
    assert done.exit_code == 0, done.output
    assert raw_nasty(done.stdout) == [], raw_nasty(done.stdout)
    if fmt == "json":
        (label,) = [c["new"] for c in json.loads(done.stdout)["structure"]
                    if c["field"] == "label"]
        assert label == _label("Buy now")  # data, not display
    else:
        assert "\\u{1b}" in done.stdout and "new\\u{202e}.journey" in done.stdout

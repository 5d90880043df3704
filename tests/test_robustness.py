"""Bad input never gives a traceback: always a located diagnostic or a clean result.

Every case runs under a 30 s bound. That is a safety bound against hangs and
blow-ups (quadratic passes, runaway recursion, unbounded error lists), not a
benchmark: the biggest cases take 2-3 s on a quiet machine and up to 10 s on
a loaded CI runner; benchmarks/bench_check.py measures speed.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

import journeydsl
from journeydsl.diagnostics import REGISTRY, Severity, render_concise, render_json, render_text
from journeydsl.language.source import DEFAULT_MAX_BYTES as MAX_FILE_BYTES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SAAS = EXAMPLES / "saas_trial.journey"
BOUND_S = 30.0
WHOLE_FILE_CODES = {"JD001", "JD004"}  # cannot read / too large: no line to point at


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"took {elapsed:.2f} s (safety bound {BOUND_S} s)"
    return result


def _compile_bytes(tmp_path: Path, data: bytes, name: str = "input.journey"):
    path = tmp_path / name
    path.write_bytes(data)
    return _timed(journeydsl.load, path)


def _compile_text(text: str):
    return _timed(journeydsl.loads, text)


def _assert_well_formed(result) -> None:
    """Either clean, or every diagnostic is registered, located and renderable."""
    assert isinstance(result.diagnostics, list)
    for d in result.diagnostics:
        assert d.code in REGISTRY, d.code
        assert isinstance(d.severity, Severity)
        assert d.message and not d.message.endswith(".")
        assert d.source is not None, f"{d.code} has no source"
        if d.span is None:
            # Only problems with the file as a whole point at the path alone.
            assert d.code in WHOLE_FILE_CODES, f"{d.code} has no location"
            assert f"--> {d.path}" in render_text(d)
        else:
            assert 0 <= d.span.start <= d.span.end <= len(d.source.text)
        line, col = d.location
        assert line >= 1 and col >= 1
        assert line <= len(d.source.line_starts)
    # Only render a bounded number: rendering must not blow up either.
    shown = result.diagnostics[:200]
    for d in shown:
        assert render_text(d)
        assert render_concise(d)
    assert render_json(shown)
    if not result.ok:
        assert result.errors
    else:
        assert result.journey is not None


def _codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# ---------------------------------------------------------------- empty-ish files

def test_empty_file(tmp_path):
    result = _compile_bytes(tmp_path, b"")
    _assert_well_formed(result)
    assert _codes(result) == ["JD005"]
    assert result.diagnostics[0].location == (1, 1)
    assert result.journey is None


def test_empty_string():
    result = _compile_text("")
    _assert_well_formed(result)
    assert _codes(result) == ["JD005"]


@pytest.mark.parametrize("text", [" ", "\n", "\n\n\n", " \t \n\t\n  \f ", "\r\n\r\n", "\r\r"])
def test_whitespace_only(tmp_path, text):
    for result in (_compile_text(text), _compile_bytes(tmp_path, text.encode())):
        _assert_well_formed(result)
        assert _codes(result) == ["JD005"]


def test_comment_only_file_gets_a_located_error(tmp_path):
    result = _compile_bytes(tmp_path, b"# only a comment\n")
    _assert_well_formed(result)
    assert not result.ok
    assert result.journey is None


def test_comment_only_file_is_reported_as_no_journey(tmp_path):
    """A file of comments has no journey, just like an empty file (JD005)."""
    for data in (b"# only a comment\n", b"# only a comment", b"\n# a\n  # b\n\n"):
        result = _compile_bytes(tmp_path, data)
        _assert_well_formed(result)
        assert _codes(result) == ["JD005"], data


# ---------------------------------------------------------------- encodings and bytes

def test_nul_byte_is_binary_with_line_and_column(tmp_path):
    result = _compile_bytes(tmp_path, b'journey "x" {\n  ab\x00cd\n}\n')
    _assert_well_formed(result)
    assert _codes(result) == ["JD003"]
    d = result.diagnostics[0]
    assert d.location == (2, 5)
    assert "line 2" in d.message and "column 5" in d.message
    assert " --> " in render_text(d) and ":2:5" in render_text(d)


def test_binary_junk(tmp_path):
    junk = bytes(range(256)) * 40
    result = _compile_bytes(tmp_path, junk)
    _assert_well_formed(result)
    assert _codes(result) == ["JD003"]
    assert result.diagnostics[0].location == (1, 1)
    assert "line 1" in result.diagnostics[0].message
    assert "column 1" in result.diagnostics[0].message


def test_random_binary_junk_with_late_nul(tmp_path):
    rng = random.Random(1234)
    junk = bytes(rng.randrange(1, 256) for _ in range(50_000)) + b"\x00" + b"tail"
    result = _compile_bytes(tmp_path, junk)
    _assert_well_formed(result)
    # Invalid UTF-8 comes first in the file, but a NUL anywhere means binary.
    assert _codes(result) == ["JD003"]
    d = result.diagnostics[0]
    # the message and the ` --> ` location name the same place
    line, col = d.location
    assert f"line {line}, column {col}" in d.message, (d.location, d.message)
    assert d.source.text[d.span.start] == "\ufffd"  # the NUL, shown as a replacement


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bad, code", [(b"\x00", "JD003"), (b"\xff", "JD002")],
                         ids=["nul", "invalid-utf8"])
def test_undecodable_byte_location_with_any_line_ending(tmp_path, newline, bad, code):
    lines = ['journey "x" {', "  stage a", "  @@", "}", ""]
    data = newline.join(lines).encode().replace(b"@@", bad)
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert _codes(result) == [code]
    d = result.diagnostics[0]
    assert d.location == (3, 3)
    assert "line 3, column 3" in d.message, d.message


def test_random_binary_junk_without_nul(tmp_path):
    rng = random.Random(99)
    junk = bytes(rng.randrange(1, 256) for _ in range(50_000))
    result = _compile_bytes(tmp_path, junk)
    _assert_well_formed(result)
    assert _codes(result) == ["JD002"]


def test_invalid_utf8_says_where(tmp_path):
    data = 'journey "x" {\n  stage a "caf\u00e9 \xff" {}\n}\n'.encode("utf-8")
    data = data.replace("\u00ff".encode(), b"\xff")  # a lone 0xff byte
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert _codes(result) == ["JD002"]
    d = result.diagnostics[0]
    # columns count characters: `  stage a "café ` is 16 characters
    assert d.location == (2, 17)
    assert "0xff" in d.message
    assert "line 2" in d.message and "column 17" in d.message


def test_truncated_utf8_sequence_at_eof(tmp_path):
    data = 'journey "nhận" {\n}\n'.encode("utf-8") + "ậ".encode("utf-8")[:2]
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert _codes(result) == ["JD002"]
    assert result.diagnostics[0].location == (3, 1)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_other_unicode_encodings_are_rejected_with_a_location(tmp_path, encoding):
    data = SAAS.read_text("utf-8").encode(encoding)
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert len(result.diagnostics) == 1
    assert _codes(result)[0] in ("JD002", "JD003")


def _without_path(result) -> dict:
    return result.model.model_dump(exclude={"path"})


def _graph_data(result) -> tuple:
    graph = result.graph()
    return (list(graph.nodes(data=True)), sorted(graph.edges(data=True)), dict(graph.graph))


@pytest.fixture(scope="module")
def saas_original():
    result = journeydsl.load(SAAS)
    assert result.diagnostics == []
    return result


def _assert_same_as_original(result, original) -> None:
    _assert_well_formed(result)
    assert result.diagnostics == []
    # Spans are offsets into the normalized text, so they agree as well.
    assert _without_path(result) == _without_path(original)
    assert _graph_data(result) == _graph_data(original)


def test_utf8_bom_is_accepted(tmp_path, saas_original):
    data = b"\xef\xbb\xbf" + SAAS.read_bytes()
    _assert_same_as_original(_compile_bytes(tmp_path, data), saas_original)
    _assert_same_as_original(_compile_text("\ufeff" + SAAS.read_text("utf-8")), saas_original)


def test_crlf_line_endings_are_accepted(tmp_path, saas_original):
    text = SAAS.read_text("utf-8")
    assert "\r" not in text
    data = text.replace("\n", "\r\n").encode("utf-8")
    _assert_same_as_original(_compile_bytes(tmp_path, data), saas_original)


def test_bom_and_crlf_together(tmp_path, saas_original):
    data = b"\xef\xbb\xbf" + SAAS.read_text("utf-8").replace("\n", "\r\n").encode("utf-8")
    _assert_same_as_original(_compile_bytes(tmp_path, data), saas_original)


def test_lone_cr_line_endings(tmp_path, saas_original):
    data = SAAS.read_text("utf-8").replace("\n", "\r").encode("utf-8")
    _assert_same_as_original(_compile_bytes(tmp_path, data), saas_original)


def test_crlf_error_locations_match_lf(tmp_path):
    lf = 'journey "x" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n'
    by_lf = _compile_bytes(tmp_path, lf.encode(), "lf.journey")
    by_crlf = _compile_bytes(tmp_path, lf.replace("\n", "\r\n").encode(), "crlf.journey")
    by_cr = _compile_bytes(tmp_path, lf.replace("\n", "\r").encode(), "cr.journey")
    assert "JD201" in _codes(by_lf)
    for other in (by_crlf, by_cr):
        _assert_well_formed(other)
        assert [(d.code, d.location, d.message) for d in other.diagnostics] == \
            [(d.code, d.location, d.message) for d in by_lf.diagnostics]
    assert [d.location for d in by_lf.diagnostics if d.code == "JD201"] == [(4, 8)]


def test_tabs_for_indentation(tmp_path):
    text = ('journey "tabs" {\n\tstage a "A" {\n\t\ttouchpoint x "X" {\n\t\t\tchannel web\n\t\t}\n'
            '\t}\n\tstage b {}\n\tentry x\n\tx -> b\t40%\n\tgoal b\n}\n')
    result = _compile_bytes(tmp_path, text.encode())
    _assert_well_formed(result)
    assert result.diagnostics == []
    assert [s.id for s in result.journey.steps] == ["x", "b"]
    # and a located error inside tab-indented text still renders
    broken = _compile_text(text.replace("x -> b", "x -> bb"))
    _assert_well_formed(broken)
    assert [(d.code, d.location) for d in broken.diagnostics] == [("JD201", (9, 7))]


# ---------------------------------------------------------------- sizes

def test_ten_megabyte_file_is_too_large(tmp_path):
    line = b'  stage s "a stage of a very large journey file" {}\n'
    data = b'journey "big" {\n' + line * (10 * 1024 * 1024 // len(line)) + b"}\n"
    assert len(data) > 10_000_000
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert _codes(result) == ["JD004"]
    assert result.diagnostics[0].location == (1, 1)
    assert "too large" in result.diagnostics[0].message


def test_just_over_the_size_limit_is_too_large(tmp_path):
    data = b"#" * (MAX_FILE_BYTES + 1)
    result = _compile_bytes(tmp_path, data)
    _assert_well_formed(result)
    assert _codes(result) == ["JD004"]


def test_very_long_single_line_of_junk():
    text = 'journey "x" { stage ' + "a" * 1_500_000 + " b c d }"
    result = _compile_text(text)
    _assert_well_formed(result)
    assert not result.ok
    # the caret line is cut to a window, not 1.5 million characters wide
    assert max(len(line) for d in result.diagnostics for line in render_text(d).splitlines()) < 400


def test_very_long_single_line_label():
    text = 'journey "' + "x" * 400_000 + '" { stage a {}; entry a; goal a }'
    result = _compile_text(text)
    _assert_well_formed(result)
    assert result.diagnostics == []


def test_very_long_single_line_of_statements():
    """A journey of 512 KiB written on one line (tens of thousands of steps)."""
    parts, size, i = [], 0, 0
    while size < 512 * 1024 - 200:
        part = f"stage s{i} {{}}; "
        parts.append(part)
        size += len(part)
        i += 1
    parts[-1] = parts[-1].rstrip("; ")
    text = 'journey "one line" { ' + "".join(parts) + "; entry s0; goal s0 }"
    assert "\n" not in text and len(text.encode()) <= 512 * 1024
    result = _compile_text(text)
    _assert_well_formed(result)
    assert result.ok
    assert len(result.journey.stages) == i


def test_many_repeated_mistakes_stay_bounded():
    """30,000 copies of a broken line (90,000 problems): the output stays bounded."""
    text = 'journey "x" { ' + "a->b;" * 30_000 + "}"
    result = _compile_text(text)
    _assert_well_formed(result)
    assert not result.ok


# ---------------------------------------------------------------- nesting

DEPTH = 50_000


@pytest.mark.parametrize("text", [
    'journey "x" {' + "{" * DEPTH,
    'journey "x" {\n  stage a ' + "{" * DEPTH,
    'journey "x" {\n  stage a ' + "{" * DEPTH + "}" * DEPTH + "\n}",
    "{" * DEPTH,
    "{" * DEPTH + "}" * DEPTH,
    'journey "x" {' + "(" * DEPTH,
    'journey "x" {\n  expect conversion ' + "(" * DEPTH,
    "(" * DEPTH,
    "(" * DEPTH + ")" * DEPTH,
    'journey "x" {' + "[" * DEPTH,
    ("{(" * DEPTH),
], ids=["braces-in-journey", "braces-in-stage", "balanced-in-stage", "braces-top",
        "balanced-top", "parens-in-journey", "parens-in-expect", "parens-top",
        "balanced-parens-top", "brackets", "mixed"])
def test_deep_nesting(tmp_path, text):
    for result in (_compile_text(text), _compile_bytes(tmp_path, text.encode())):
        _assert_well_formed(result)
        assert not result.ok
        assert len(result.diagnostics) <= 60


# ---------------------------------------------------------------- unterminated things

def test_unterminated_string_at_eof(tmp_path):
    for text in ('journey "x" {\n  stage a "abc', 'journey "x', '"', 'journey "x" {\n  "'):
        result = _compile_bytes(tmp_path, text.encode())
        _assert_well_formed(result)
        assert "JD103" in _codes(result), text
        d = next(d for d in result.diagnostics if d.code == "JD103")
        assert d.source.text[d.span.start] == '"'


def test_unterminated_block_at_eof():
    result = _compile_text('journey "x" {\n  stage a {\n    touchpoint b\n')
    _assert_well_formed(result)
    assert "JD104" in _codes(result)


@pytest.mark.parametrize("text", [
    "journey", 'journey "x"', 'journey "x" {', "}", "}}}}", ";;;;", "->", "=>", "%", "..",
    'journey "x" {}\njourney "y" {}', 'journey "x" { a -> }', 'journey "x" { entry }',
    'journey "x" { a -> b 5%..', 'journey "x" { expect }', "\x7f\x01\x02", "\u200b",
    "\ufeff", "\ufeff\ufeff", 'journey "x" { stage \u0301 }', "\ud7ff", "💥" * 1000,
    'journey "x" { stage a [ }', 'journey "x" { a -> b beta(1, }',
])
def test_odd_fragments(text):
    result = _compile_text(text)
    _assert_well_formed(result)
    assert not result.ok

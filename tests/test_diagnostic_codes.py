"""One small test per diagnostic code: the code, its severity and its span.

Every test compiles a minimal source and finds the diagnostic by its code,
then checks where it points: `d.span` (0-based offsets into the text) and
`d.location` (1-based line and column, as printed). Spans are computed from
the source with `span_of(text, "needle")`, so the tests read like the input.

The meta-tests at the end keep the registry, the tests, the documentation
(docs/diagnostics.md) and the golden fixtures (tests/golden/invalid/) in step:
every code in `REGISTRY` has a `test_JDxxx_*` here, a `## JDxxx: title`
section in the docs whose examples are real, and a golden fixture whose
expected output contains `[JDxxx]`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import journeydsl
from journeydsl.diagnostics import REGISTRY, Diagnostic, Severity, render_text
from journeydsl.language.source import Span

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "diagnostics.md"
GOLDEN = REPO / "tests" / "golden" / "invalid"

SIGNUP = '''journey "Newsletter sign-up" {
  stage visit "Visit" { touchpoint landing "Landing page" }
  stage signup "Sign-up" {}
  entry landing
  landing -> signup 12%
  goal signup
}
'''

SUBSCRIPTION = '''journey "Subscription" {
  stage visit "Visit" { touchpoint landing "Landing page" }
  stage paying "Paying customer" { value 49 }
  entry landing
  landing -> paying 12%
  paying -> paying 95% after 1mo
  goal paying
}
'''

PERSONAS = '''journey "Newsletter sign-up" {
  persona smb "Small business" { share 70% }
  persona ent "Enterprise" { share 30% }
  stage visit "Visit" { touchpoint landing "Landing page" }
  stage signup "Sign-up" {}
  entry landing
  landing -> signup 12% [ent: 5%]
  goal signup
}
'''


# ---------------------------------------------------------------- helpers

def edit(text: str, *changes: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced once; old must be there."""
    for old, new in changes:
        assert old in text, f"{old!r} is not in the source"
        text = text.replace(old, new, 1)
    return text


def span_of(text: str, needle: str, nth: int = 1, after: str = "") -> Span:
    """The span of the nth occurrence of `needle` in `text` (after `after`)."""
    start = text.index(after) + len(after) - 1 if after else -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Span(start, start + len(needle))


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def find(result, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    codes = [d.code for d in result.diagnostics]
    assert found, f"expected {code}, got {codes}:\n" + "\n\n".join(
        render_text(d) for d in result.diagnostics)
    return found[0]


def check(text: str, code: str, needle: str | None, nth: int = 1, after: str = "",
          severity: Severity | None = None) -> Diagnostic:
    """Compile `text`, find `code`, and assert it points exactly at `needle`
    (its nth occurrence after the text `after`)."""
    d = find(journeydsl.loads(text, "t.journey"), code)
    assert d.severity is (severity or REGISTRY[code][0])
    assert d.message and not d.message[0].isupper() and not d.message.endswith(".")
    if needle is not None:
        expected = span_of(text, needle, nth, after)
        assert d.span == expected, (
            f"{code} points at {text[d.span.start:d.span.end]!r}, expected {needle!r}")
        assert d.location == line_col(text, expected.start)
    return d


# ---------------------------------------------------------------- JD00x: files

def test_JD001_file_cannot_be_read(tmp_path: Path) -> None:
    d = find(journeydsl.load(tmp_path / "missing.journey"), "JD001")
    assert d.severity is Severity.ERROR
    assert d.span is None and d.location == (1, 1)
    assert "missing.journey" in d.message and d.message.startswith("cannot read")


def test_JD002_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.journey"
    path.write_bytes('journey "x" {\n  stage a "café" {}\n}\n'.encode("latin-1"))
    d = find(journeydsl.load(path), "JD002")
    assert d.location == (2, 15)
    assert d.span == Span(d.span.start, d.span.start + 1)
    assert d.message == "file is not valid UTF-8: byte 0xe9 at line 2, column 15"


def test_JD003_binary(tmp_path: Path) -> None:
    path = tmp_path / "nul.journey"
    path.write_bytes(b'journey "x" {\n  entry\x00a\n}\n')
    d = find(journeydsl.load(path), "JD003")
    assert d.location == (2, 8)
    assert d.message == "file looks binary: NUL byte at line 2, column 8"


def test_JD004_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.journey"
    path.write_bytes(b'journey "x" {\n' + b"# filler\n" * 300_000 + b"}\n")
    d = find(journeydsl.load(path), "JD004")
    assert d.location == (1, 1)
    assert d.message.startswith("file is too large (2.6 MiB; the limit is 2 MiB)")
    assert "--max-size" in d.help


def test_JD005_no_journey() -> None:
    for text in ("", "\n  \n\t\n"):
        d = check(text, "JD005", None)
        assert d.span == Span(0, 0) and d.location == (1, 1)


def test_JD005_only_comments() -> None:
    # Reported bug: today this is JD101 "unexpected end of file" at the end of the comment.
    d = check("# to do\n", "JD005", None)
    assert d.location == (1, 1)


# ---------------------------------------------------------------- JD007/JD008: imports

LIBRARY = '''journey "Persona library" {
  persona smb "Small business" { share 70% }
  persona ent "Enterprise" { share 30% }
}
'''


def load_in(folder: Path, name: str, text: str, **files: str):
    """Write `text` as folder/name (and each other file), then load it."""
    for other, body in files.items():
        (folder / other).write_text(body, encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return journeydsl.load(folder / name)


def test_JD007_missing_import(tmp_path: Path) -> None:
    text = edit(PERSONAS, ('  persona smb "Small business" { share 70% }\n'
                           '  persona ent "Enterprise" { share 30% }\n',
                           '  use "persona.journey"\n'))
    result = load_in(tmp_path, "t.journey", text, **{"personas.journey": LIBRARY})
    d = find(result, "JD007")
    assert [x.code for x in result.diagnostics] == ["JD007"]  # no fallout from missing names
    assert d.span == span_of(text, '"persona.journey"')
    assert d.source.path == str(tmp_path / "t.journey")
    assert d.message == f"cannot find `persona.journey` (no file `{tmp_path / 'persona.journey'}`)"
    assert d.help == "did you mean `personas.journey`?"


def test_JD007_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "lib.journey").mkdir()
    text = edit(SIGNUP, ("{\n", '{\n  use "lib.journey"\n'))
    d = find(load_in(tmp_path, "t.journey", text), "JD007")
    assert d.span == span_of(text, '"lib.journey"')
    assert d.message == f"`{tmp_path / 'lib.journey'}` is not a file"


def test_JD007_only_journey_files(tmp_path: Path) -> None:
    """A mistyped path must not print another file's lines into a CI log."""
    (tmp_path / "secret.txt").write_text("password = hunter2\n", encoding="utf-8")
    text = edit(SIGNUP, ("{\n", '{\n  use "secret.txt"\n'))
    result = load_in(tmp_path, "t.journey", text)
    assert [(d.code, d.message, d.span) for d in result.diagnostics] == [
        ("JD007", "`secret.txt` is not a .journey file", span_of(text, '"secret.txt"'))]
    assert "hunter2" not in render_text(result.diagnostics[0])
    text = edit(SIGNUP, ("{\n", '{\n  use "a\x00b.journey"\n'))  # only from Python: a
    d = check(text, "JD007", '"a\x00b.journey"')                    # file with NUL is JD003
    assert d.message == "this is not a usable file path"


def test_JD008_import_cycle(tmp_path: Path) -> None:
    other = 'journey "Shared" {\n  use "t.journey"\n  persona smb { share 100% }\n}\n'
    text = edit(SIGNUP, ("{\n", '{\n  use "shared.journey"\n'))
    d = find(load_in(tmp_path, "t.journey", text, **{"shared.journey": other}), "JD008")
    assert d.source.path == str(tmp_path / "shared.journey")  # where the cycle closes
    assert d.span == span_of(other, '"t.journey"')
    assert d.message == "import cycle: `t.journey` -> `shared.journey` -> `t.journey`"


def test_JD008_a_file_that_uses_itself(tmp_path: Path) -> None:
    text = edit(SIGNUP, ("{\n", '{\n  use "./t.journey"\n'))
    d = find(load_in(tmp_path, "t.journey", text), "JD008")
    assert d.source.path == str(tmp_path / "t.journey")
    assert d.span == span_of(text, '"./t.journey"')


# ---------------------------------------------------------------- JD1xx: syntax

def test_JD101_syntax_error() -> None:
    text = edit(SIGNUP, ("landing -> signup 12%", "landing -> 12%"))
    d = check(text, "JD101", "12%")
    assert d.help == "expected a name"


def test_JD101_unexpected_end_of_file() -> None:
    text = 'journey "x"'
    d = check(text, "JD101", None)
    assert d.message == "unexpected end of file"
    assert d.span == Span(len(text), len(text)) and d.location == (1, 12)


def test_JD101_duration_with_a_space() -> None:
    text = edit(SIGNUP, ("landing -> signup 12%", "landing -> signup 12% after 2 weeks"))
    d = check(text, "JD101", "weeks")
    assert d.help == "write `2w`: no space between a number and its unit"


def test_JD102_space_before_percent() -> None:
    text = edit(SIGNUP, ("landing -> signup 12%", "landing -> signup 12 %"))
    d = check(text, "JD102", "%")
    assert d.help == "write `12%`: no space before `%`"


def test_JD102_unexpected_character() -> None:
    text = edit(SIGNUP, ("landing -> signup", "landing \u2192 signup"))
    d = check(text, "JD102", "\u2192")
    assert d.message == "unexpected character `\u2192`"


def test_JD103_unterminated_string() -> None:
    text = edit(SIGNUP, ('"Landing page"', '"Landing page'))
    check(text, "JD103", '"Landing page }')  # to the end of the line


def test_JD104_unclosed_brace() -> None:
    text = SIGNUP.rstrip()[:-1]  # drop the journey's closing `}`
    d = check(text, "JD104", None)
    end = len(text.rstrip())
    assert d.span == Span(end, end)
    assert [label.span for label in d.labels] == [span_of(text, "{")]


def test_JD104_block_not_closed_before_the_next_statement() -> None:
    # Reported: a stage missing its `}` gave 16 errors, one per later line,
    # and the last one blamed the journey's own `{`.
    text = edit(SIGNUP, ('stage visit "Visit" { touchpoint landing "Landing page" }',
                         'stage visit "Visit" {\n    touchpoint landing "Landing page"\n'))
    d = check(text, "JD104", "stage", nth=2)  # the `stage` of `stage signup`
    assert d.message == "`stage visit` opened at 2:3 is not closed"
    assert [label.span for label in d.labels] == [span_of(text, 'stage visit "Visit" {')]
    assert d.help == "add `}` before this line to close `stage visit`"
    assert [p.code for p in journeydsl.loads(text).diagnostics] == ["JD104"]


def test_JD105_missing_arrow() -> None:
    text = edit(SIGNUP, ("landing -> signup", "landing signup"))
    d = check(text, "JD105", " ", after="  landing")  # the gap between the two names
    assert d.message == "missing arrow between `landing` and `signup`"


def test_JD106_two_journeys() -> None:
    text = SIGNUP + 'journey "Upgrade" {\n  stage paid {}\n  entry paid\n}\n'
    check(text, "JD106", "journey", nth=2)


def test_JD107_unknown_statement() -> None:
    text = edit(SIGNUP, ("entry landing", "entri landing"))
    d = check(text, "JD107", "entri")
    assert d.help == "did you mean `entry`?"


def test_JD107_keyword_not_allowed_in_scenario() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  scenario s {\n    goal landing\n  }\n"))
    d = check(text, "JD107", "goal", after="scenario s")
    assert d.message == "`goal` is not allowed here"


def test_JD107_touchpoint_outside_a_stage() -> None:
    # Reported bug: the help explains what a *scenario* holds, though there is none here.
    text = edit(SIGNUP, ("goal signup\n", 'goal signup\n  touchpoint extra "Extra"\n'))
    d = check(text, "JD107", "touchpoint", after="goal signup")
    assert "scenario" not in (d.help or ""), d.help


# ---------------------------------------------------------------- JD2xx: names

def test_JD201_unknown_step() -> None:
    text = edit(SIGNUP, ("landing -> signup", "landing -> sigup"))
    d = check(text, "JD201", "sigup")
    assert d.help == "did you mean `signup`?"


def test_JD201_unknown_goal() -> None:
    text = edit(SIGNUP, ("goal signup", "goal checkout"))
    check(text, "JD201", "checkout")


def test_JD202_duplicate_id() -> None:
    text = edit(SIGNUP, ('"Sign-up" {}', '"Sign-up" { touchpoint landing "Form" }'))
    d = check(text, "JD202", "landing", nth=2)
    assert [(label.span, label.message) for label in d.labels] == [
        (span_of(text, "landing"), "first defined here")]


def test_JD202_setting_twice() -> None:
    text = edit(SIGNUP, ("{\n", "{\n  currency USD\n  currency EUR\n"))
    d = check(text, "JD202", "currency", nth=2)
    assert d.labels[0].span == span_of(text, "currency")


def test_JD203_unknown_persona() -> None:
    text = edit(PERSONAS, ("[ent: 5%]", "[entr: 5%]"))
    d = check(text, "JD203", "entr", after="[")
    assert d.help == "did you mean `ent`?"


def test_JD203_unknown_persona_in_expect() -> None:
    # Reported bug: today the span is the whole `conversion(smbb)`.
    text = edit(PERSONAS, ("goal signup\n", "goal signup\n  expect conversion(smbb) >= 5%\n"))
    check(text, "JD203", "smbb")


def test_JD204_stage_as_source() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint blog "Blog" }'),
                ("landing -> signup", "visit -> signup"))
    d = check(text, "JD204", "visit", nth=2)
    assert d.help == "name one of its touchpoints: `visit.landing`, `visit.blog`"


def test_JD205_qualified_name() -> None:
    text = edit(SIGNUP, ("landing -> signup", "visit.lading -> signup"))
    d = check(text, "JD205", "visit.lading")
    assert d.help == "did you mean `visit.landing`?"


def test_JD206_unknown_attribute() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page" { chanel web } }'))
    d = check(text, "JD206", "chanel")
    assert d.help == "did you mean `channel`?"


def test_JD207_unknown_metric() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect convertion >= 5%\n"))
    d = check(text, "JD207", "convertion")
    assert d.help == "did you mean `conversion`?"


def test_JD208_invalid_setting_value() -> None:
    text = edit(SIGNUP, ("{\n", "{\n  discount 10% per yr\n"))
    d = check(text, "JD208", "yr")
    assert d.help == "did you mean `year`?"


def test_JD208_whole_setting() -> None:
    text = edit(SIGNUP, ("{\n", "{\n  discount 10%\n"))
    check(text, "JD208", "discount 10%")


def test_JD209_imported_persona_clashes_with_a_local_one(tmp_path: Path) -> None:
    text = edit(PERSONAS, ('  persona ent "Enterprise" { share 30% }\n',
                           '  use "lib.journey"\n'))
    result = load_in(tmp_path, "t.journey", text, **{"lib.journey": LIBRARY})
    d = find(result, "JD209")
    assert d.source.path == str(tmp_path / "t.journey")
    assert d.span == span_of(text, '"lib.journey"')
    assert d.message == "`lib.journey` brings persona `smb`, which this file declares too"
    here, there = d.labels
    assert (here.source, here.span) == (None, span_of(text, "smb"))
    assert there.source.path == str(tmp_path / "lib.journey")
    assert there.span == span_of(LIBRARY, "smb")


def test_JD209_two_imports_bring_the_same_step(tmp_path: Path) -> None:
    stages = 'journey "Stages" {\n  stage visit "Visit" { touchpoint landing }\n}\n'
    text = edit(SIGNUP, ('  stage visit "Visit" { touchpoint landing "Landing page" }\n',
                         '  use "a.journey"\n  use "b.journey"\n'))
    result = load_in(tmp_path, "t.journey", text, **{"a.journey": stages, "b.journey": stages})
    clashes = [d for d in result.diagnostics if d.code == "JD209"]
    assert sorted(d.message for d in clashes) == [  # each clashing name once
        f"`b.journey` brings step or stage `{name}`, which `a.journey` brings too"
        for name in ("landing", "visit")]
    d = find(result, "JD209")
    assert d.span == span_of(text, '"b.journey"')
    assert [label.source.path for label in d.labels] == [
        str(tmp_path / "a.journey"), str(tmp_path / "b.journey")]


def test_JD209_not_for_one_file_reached_twice(tmp_path: Path) -> None:
    """A diamond (t uses a and b, both use the library) is no clash."""
    middle = 'journey "M" {\n  use "lib.journey"\n}\n'
    text = edit(PERSONAS, ('  persona smb "Small business" { share 70% }\n'
                           '  persona ent "Enterprise" { share 30% }\n',
                           '  use "a.journey"\n  use "b.journey"\n  use "lib.journey"\n'))
    result = load_in(tmp_path, "t.journey", text, **{"lib.journey": LIBRARY, "a.journey": middle,
                                                      "b.journey": middle})
    assert result.diagnostics == []
    assert [p.id for p in result.journey.personas] == ["smb", "ent"]


def test_JD210_event_marks_two_steps() -> None:
    text = edit(SIGNUP, ('touchpoint landing "Landing page" }',
                         'touchpoint landing "Landing page" { event "page_view", "signup" } }'),
                ('stage signup "Sign-up" {}', 'stage signup "Sign-up" { event "signup" }'))
    d = check(text, "JD210", '"signup"', nth=2)
    assert d.message == "event `signup` marks two steps: `landing` and `signup`"
    assert [(label.span, label.message) for label in d.labels] == [
        (span_of(text, '"signup"'), "first mapped to `landing` here")]


def test_JD210_event_named_twice_on_one_step() -> None:
    text = edit(SIGNUP, ('stage signup "Sign-up" {}',
                         'stage signup "Sign-up" { event "signup", "signup" }'))
    d = check(text, "JD210", '"signup"', nth=2)
    assert d.message == "event `signup` is named twice on `signup`"


def test_JD210_event_takes_the_id_of_a_step_without_events() -> None:
    """`landing` names no events, so the log's `landing` event marks it."""
    text = edit(SIGNUP, ('stage signup "Sign-up" {}', 'stage signup "Sign-up" { event "landing" }'))
    d = check(text, "JD210", '"landing"')
    assert d.message == "event `landing` also marks step `landing`"
    assert d.labels[0].span == span_of(text, "landing", after="touchpoint ")
    assert "give `landing` its own `event` names" in d.help


def test_event_attribute_reads_names_with_spans() -> None:
    text = edit(SIGNUP, ('stage signup "Sign-up" {}',
                         'stage signup "Sign-up" { event "signup_done",\n    "signup_ok" }'))
    result = journeydsl.loads(text, "t.journey")
    assert result.diagnostics == []
    events = result.journey.step("signup").attributes.events
    assert [(e.name, e.span) for e in events] == [
        ("signup_done", span_of(text, '"signup_done"')), ("signup_ok", span_of(text, '"signup_ok"'))]


@pytest.mark.parametrize("change, needle, message", [
    ('{ event "" }', '""', "an event name cannot be empty"),
    ("{ event signup }", "signup", "`event` takes quoted event names"),
    ('{ pain "a", "b" }', '"b"', "`pain` takes one value"),
    ('{ value "a", "b" }', '"b"', "`value` takes one value"),
])
def test_event_values_of_the_wrong_kind(change: str, needle: str, message: str) -> None:
    text = edit(SIGNUP, ('stage signup "Sign-up" {}', f'stage signup "Sign-up" {change}'))
    d = check(text, "JD307", needle, after="signup")
    assert d.message == message


def test_event_on_a_stage_with_touchpoints_or_in_a_scenario() -> None:
    text = edit(SIGNUP, ('stage visit "Visit" {', 'stage visit "Visit" { event "v";'))
    d = check(text, "JD307", 'event "v"')
    assert d.message == "`event` on a stage with touchpoints applies to no step"
    text = edit(SIGNUP, ("  goal signup\n", '  goal signup\n  scenario s { signup { event "x" } }\n'))
    d = check(text, "JD307", 'event "x"')
    assert d.message == "a scenario cannot change which events mark a step"


# ---------------------------------------------------------------- JD3xx: values

def test_JD301_rate_outside_range() -> None:
    text = edit(SUBSCRIPTION, ("95% after", "120% after"))
    d = check(text, "JD301", "120%")
    assert d.message == "rate `120%` is outside [0, 100%]"


def test_JD302_bare_number() -> None:
    text = edit(SUBSCRIPTION, ("95% after", "95 after"))
    d = check(text, "JD302", "95")
    assert d.help == "did you mean `95%`?"


def test_JD302_bare_number_in_expect() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect conversion >= 5\n"))
    d = check(text, "JD302", "5", after="conversion >= ")
    assert d.help == "did you mean `5%`?"


def test_JD303_outgoing_rates_exceed_100() -> None:
    text = edit(SIGNUP, ('"Sign-up" {}', '"Sign-up" {}\n  stage support "Support" {}'),
                ("landing -> signup 12%", "landing -> signup 70%, support 40%"))
    d = check(text, "JD303", "support 40%")
    assert d.message == "rates out of `landing` sum to 110%, more than 100%"
    assert [label.span for label in d.labels] == [span_of(text, "signup 70%")]


def test_JD304_entry_rates() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint blog "Blog" }'),
                ("entry landing", "entry landing 60%, blog 30%"),
                ("goal signup", "blog -> signup 5%\n  goal signup"))
    d = check(text, "JD304", "landing 60%, blog 30%")
    assert d.message == "entry rates sum to 90%, not 100%"


def test_JD305_persona_shares() -> None:
    text = edit(PERSONAS, ("share 30%", "share 20%"))
    d = check(text, "JD305", "70%")
    assert d.message == "persona shares sum to 90%, not 100%"
    assert [label.span for label in d.labels] == [span_of(text, "20%")]


def test_JD305_missing_share() -> None:
    text = edit(PERSONAS, ('"Enterprise" { share 30% }', '"Enterprise"'))
    d = check(text, "JD305", "ent", after="  persona ")
    assert d.message == "persona `ent` has no share"


def test_JD305_single_persona_share() -> None:
    text = edit(PERSONAS, ('  persona ent "Enterprise" { share 30% }\n', ""), (" [ent: 5%]", ""))
    d = check(text, "JD305", "70%")
    assert d.message == "the only persona has a share of 70%, not 100%"


def test_JD306_emotion_range() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page" { emotion 7 } }'))
    check(text, "JD306", "7")


def test_JD307_wrong_kind_of_value() -> None:
    text = edit(SIGNUP, ("signup 12%", "signup 12% after 14"))
    d = check(text, "JD307", "14")
    assert d.message == "`14` needs a time unit"


def test_JD307_attribute_value() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page" { cost cheap } }'))
    check(text, "JD307", "cheap")


def test_JD307_unknown_time_unit() -> None:
    text = edit(SIGNUP, ("signup 12%", "signup 12% after 14days"))
    d = check(text, "JD307", "14days")
    assert d.message == "unknown time unit `days`"


def test_JD308_missing_rate() -> None:
    text = edit(SUBSCRIPTION, ("paying 95% after 1mo", "paying after 1mo"))
    d = check(text, "JD308", "paying after 1mo")
    assert d.message == "`paying -> paying` has no rate"


def test_JD309_unit_mismatch() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect time_to_convert <= 30\n"))
    d = check(text, "JD309", "30", after="time_to_convert <= ")
    assert d.help == "for example `<= 30d`"


def test_JD310_invalid_uncertain_rate() -> None:
    text = edit(SUBSCRIPTION, ("95% after", "98%..90% after"))
    check(text, "JD310", "98%..90%")


def test_JD310_beta_span() -> None:
    # Reported bug: today the span is `0, 10`, without `beta(` and `)`.
    text = edit(SUBSCRIPTION, ("95% after", "beta(0, 10) after"))
    check(text, "JD310", "beta(0, 10)")


def test_JD311_duplicate_transition() -> None:
    text = edit(SIGNUP, ("landing -> signup 12%", "landing -> signup 12%\n  landing -> signup 15%"))
    d = check(text, "JD311", "signup 15%")
    assert d.labels[0].span == span_of(text, "signup 12%")


def test_JD312_chain_from_several_targets() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint faq "FAQ" }'),
                ("landing -> signup 12%", "landing -> faq 20%, signup 10% -> signup 5%"))
    check(text, "JD312", "-> faq 20%, signup 10%")


def test_JD313_sub_second_delay() -> None:
    text = edit(SUBSCRIPTION, ("paying 12%", "paying 12% after 0.0001h"))
    d = check(text, "JD313", "0.0001h")
    assert d.message == "duration `0.0001h` is shorter than one second"


@pytest.mark.parametrize("old, new, needle", [
    ("value 49", "value 1_000_000_000_000_001", "1_000_000_000_000_001"),
    ("after 1mo", "after 1001y", "1001y"),
    ("after 1mo", "after " + "9" * 400 + "y", "9" * 400 + "y"),
    ("paying 12%", "paying beta(2_000_000_000, 5)", "2_000_000_000"),
])
def test_JD313_too_large(old, new, needle) -> None:
    d = check(edit(SUBSCRIPTION, (old, new)), "JD313", needle)
    assert d.message.endswith("is too large") and len(d.message) < 80


def test_JD313_referral_count_and_expect_threshold() -> None:
    text = edit(SUBSCRIPTION, ("  goal paying", "  paying => landing 2000000\n  goal paying\n"
                               "  expect cac <= 10000000000000000"))
    assert {d.code for d in journeydsl.loads(text).diagnostics} == {"JD313"}
    assert len([d for d in journeydsl.loads(text).diagnostics if d.code == "JD313"]) == 2


def test_JD314_second_per_customer_rate() -> None:
    text = edit(SUBSCRIPTION, ('{ value 49 }', '{ value 49 }\n  stage addon "Add-on" { value 9 }'),
                ("paying 95% after 1mo", "paying beta(19, 1) per customer after 1mo, addon 2%\n"
                 "  addon -> addon 80%..95% per customer after 1mo"))
    d = check(text, "JD314", "80%..95% per customer")
    assert d.labels[0].span == span_of(text, "beta(19, 1) per customer")
    assert "limit of 1 per journey" in d.message


def test_JD314_counts_a_move_once_with_its_overrides() -> None:
    text = edit(SUBSCRIPTION, ("paying 95% after 1mo",
                               "paying beta(19, 1) per customer [x: 90%..99% per customer] after 1mo"),
                ("{\n", '{\n  persona x { share 50% }\n  persona y { share 50% }\n'))
    assert [d.code for d in journeydsl.loads(text).diagnostics] == []


def test_JD314_in_a_scenario() -> None:
    text = edit(SUBSCRIPTION, ("paying 95% after 1mo", "paying beta(19, 1) per customer after 1mo"),
                ("  goal paying\n", "  goal paying\n  scenario s {\n"
                 "    landing -> paying 10%..14% per customer\n  }\n"))
    d = check(text, "JD314", "10%..14% per customer")
    assert "scenario `s`" in d.message


@pytest.mark.parametrize("old, new, needle, message", [
    ("paying 95% after", "paying 95% per customer after", "95% per customer",
     "`per customer` needs a rate that differs between customers"),
    ("entry landing", "entry landing 100% per customer", "100% per customer",
     "an entry rate cannot be `per customer`"),
    ("  goal paying", "  paying => landing 0.1..0.2 per customer\n  goal paying",
     "0.1..0.2 per customer", "a referral count cannot be `per customer`"),
])
def test_JD307_per_customer_where_it_means_nothing(old, new, needle, message) -> None:
    d = check(edit(SUBSCRIPTION, (old, new)), "JD307", needle)
    assert d.message == message


def test_JD407_per_customer_row() -> None:
    # The other moves share what the customer's rate leaves: 3% of the 5%
    # the mean leaves is never over 100%, 4%..6% can be (6% / 5% = 120%).
    good = edit(SUBSCRIPTION, ("paying 95% after 1mo",
                               "paying beta(19, 1) per customer after 1mo, landing 3%"))
    assert [d.code for d in journeydsl.loads(good).diagnostics] == []
    bad = edit(SUBSCRIPTION, ("paying 95% after 1mo",
                              "paying beta(19, 1) per customer after 1mo, landing 4%..6%"))
    d = check(bad, "JD407", "landing 4%..6%", severity=Severity.WARNING)
    assert d.message == "uncertain rates out of `paying` can sum to 120%"


def test_limits_are_inclusive() -> None:
    text = edit(SUBSCRIPTION, ("value 49", "value 1_000_000_000_000_000"),
                ("after 1mo", "after 1000y"), ("paying 12%", "paying 12% after 0.0003h"))
    assert not journeydsl.loads(text).errors


FINE_LOOP = '''journey "Daily reminders" {
  horizon 3y
  stage habit "Habit" {
    touchpoint remind "Reminder" { channel email }
    touchpoint snooze "Snoozed"  { channel app }
    touchpoint done   "Done"     { channel app; value 1 }
  }
  entry remind
  goal done
  remind -> remind 49.95% after 1d
  remind -> snooze 49.95% after 1.00001d
  snooze -> remind 99.9% after 1.00002d
  remind -> done 0.05%
}
'''


def test_JD408_loop_too_fine(monkeypatch) -> None:
    # the budget scaled down with the horizon (3y here, 60y in the golden) to keep the test fast
    monkeypatch.setattr("journeydsl.simulate.series.EVENT_BUDGET", 100_000)
    d = check(FINE_LOOP, "JD408", "remind 49.95% after 1d")
    assert "`remind`, `snooze`" in d.message and "86,401 s" in d.message
    assert [FINE_LOOP[label.span.start:label.span.end] for label in d.labels] == [
        "snooze 49.95% after 1.00001d", "remind 99.9% after 1.00002d"]


def _two_ways_back(steps: int, horizon: str, expects: int) -> str:
    """A loop with returns to s0 (first half) and to the middle step (second
    half): no step on every cycle (no hub, first_visits.py)."""
    half = steps // 2
    lines = [f'journey "Two ways back" {{\n  horizon {horizon}\n  stage s {{']
    lines += [f"    touchpoint s{i}" for i in range(steps)]
    lines += ["  }", "  entry s0", f"  goal s{steps - 1}"]
    lines += [f"  s{i} -> s{i + 1} 90% after 1d, s{0 if i < half else half} 5% after 1d"
              for i in range(steps - 1)]
    lines += [f"  s{steps - 1} -> s0 50% after 1d"]
    lines += [f"  expect reach(s{i}) >= 0%" for i in range(1, expects + 1)]
    return "\n".join(lines) + "\n}\n"


def test_JD410_loop_too_large_for_reach(monkeypatch) -> None:
    # the budget scaled down (1y and 64 steps here, 100y and 100 steps in the golden)
    budget = "journeydsl.simulate.first_visits.TABOO_EVENTS"
    monkeypatch.setattr(budget, 1_000)
    text = _two_ways_back(64, "1y", 4)
    d = check(text, "JD410", "s1 90% after 1d")
    assert d.message.startswith("the reach of 4 steps of the loop through `s0`, `s1`")
    found = re.search(r"up to ([\d,]+) arrival times to follow, more than the budget of 1,000$",
                      d.message)
    assert found is not None, d.message
    events = int(found.group(1).replace(",", ""))
    # 4 passes, each bounded by the loop's arrival times in the first pass:
    # at most 64 steps x 365 daily instants
    assert events % 4 == 0 and 1_000 < events <= 4 * 64 * 365
    # refused up front: within the budget the same file is checked and simulated
    monkeypatch.setattr(budget, events)
    assert journeydsl.loads(text).diagnostics == []
    # and a loop through one hub is never refused: every step's reach at once
    monkeypatch.setattr(budget, 0)
    one_hub = text.replace("s32 5% after 1d", "s0 5% after 1d")
    assert journeydsl.loads(one_hub).diagnostics == []


def test_JD410_help_of_a_loop_with_a_hub_past_the_hub_budget(monkeypatch) -> None:
    # every return passes s0 (a hub), but its lattice is past the hub method's
    # budget: the help must say so, not that the loop has no hub
    monkeypatch.setattr("journeydsl.simulate.first_visits.TABOO_EVENTS", 1_000)
    text = _two_ways_back(64, "1y", 4).replace("s32 5% after 1d", "s0 5% after 1d")
    assert journeydsl.loads(text).diagnostics == []  # solved through the hub
    monkeypatch.setattr("journeydsl.simulate.first_visits.HUB_CELLS", 10)
    d = check(text, "JD410", "s1 90% after 1d")
    assert (d.help or "").startswith("every return of this loop passes one step"), d.help
    no_hub = check(_two_ways_back(64, "1y", 4), "JD410", "s1 90% after 1d")
    assert (no_hub.help or "").startswith("no step of this loop is on all of its cycles")


# ---------------------------------------------------------------- JD4xx: the graph

def test_JD401_no_entry() -> None:
    text = edit(SIGNUP, ("  entry landing\n", ""))
    check(text, "JD401", "journey")


def test_JD402_no_goal() -> None:
    text = edit(SIGNUP, ("  goal signup\n", ""))
    check(text, "JD402", "journey")


def test_JD403_unreachable_step() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint webinar "Webinar" }'))
    check(text, "JD403", "webinar")


def test_JD404_step_never_reaches_goal() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint faq "FAQ" }'),
                ("signup 12%", "signup 12%, faq 20%"))
    check(text, "JD404", "faq")


def test_JD405_closed_loop() -> None:
    text = edit(SUBSCRIPTION, ("95% after", "100% after"))
    d = check(text, "JD405", "paying 100% after 1mo")
    assert d.message == "closed loop `paying -> paying`: a walk that enters it never ends"


def test_JD405_not_with_horizon() -> None:
    text = edit(SUBSCRIPTION, ("95% after", "100% after"), ("{\n", "{\n  horizon 3y\n"))
    assert [d.code for d in journeydsl.loads(text).diagnostics] == []


def test_JD406_referral_cascade() -> None:
    text = edit(SUBSCRIPTION, ("  paying -> paying 95% after 1mo\n", "  paying => landing 3\n"),
                ("paying 12%", "paying 50%"))
    d = check(text, "JD406", "landing 3")
    assert "1.5x" in d.message


def test_JD406_is_a_warning_with_a_horizon() -> None:
    text = edit(SUBSCRIPTION, ("  paying -> paying 95% after 1mo\n", "  paying => landing 3\n"),
                ("paying 12%", "paying 50%"), ("{\n", "{\n  horizon 1y\n"))
    check(text, "JD406", "landing 3", severity=Severity.WARNING)


def test_JD407_uncertain_rates() -> None:
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint faq "FAQ" }'),
                ("landing -> signup 12%", "landing -> faq 40%, signup 40%..70%\n  faq -> signup 10%"))
    d = check(text, "JD407", "signup 40%..70%")
    assert d.message == "uncertain rates out of `landing` can sum to 110%"


def test_JD407_points_at_the_uncertain_rate() -> None:
    # Reported bug: today JD407 points at `faq 40%`, the last edge out of `landing`.
    text = edit(SIGNUP, ('"Landing page" }', '"Landing page"; touchpoint faq "FAQ" }'),
                ("landing -> signup 12%", "landing -> signup 40%..70%, faq 40%\n  faq -> signup 10%"))
    check(text, "JD407", "signup 40%..70%")


# ---------------------------------------------------------------- JD5xx: expectations

def test_JD501_expectation_failed() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect conversion >= 15%\n"))
    d = check(text, "JD501", "conversion >= 15%")
    assert d.message == "expectation failed: `conversion` is 12%, expected >= 15%"


def test_JD501_payback_that_never_comes() -> None:
    text = edit(SUBSCRIPTION, ("value 49 }", "value 49; cost 60 }"),
                ("goal paying\n", "goal paying\n  expect payback <= 18mo\n"))
    d = check(text, "JD501", "payback <= 18mo")
    assert d.message == ("expectation failed: `payback` is never (never: the cumulative profit "
                         "ends below zero in the long run), expected <= 18mo")


def test_JD502_expectation_holds() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect conversion >= 10%\n"))
    result = journeydsl.loads(text, "t.journey")
    assert result.diagnostics == []
    (note,) = result.notes()
    assert note.code == "JD502" and note.severity is Severity.INFO
    assert note.message == "expectation holds: `conversion` is 12%, expected >= 10%"
    assert note.span == span_of(text, "conversion >= 10%")


def test_JD409_margin_on_a_step_without_value() -> None:
    text = edit(SIGNUP, ('touchpoint landing "Landing page"',
                         'touchpoint landing "Landing page" { margin 60% }'))
    d = check(text, "JD409", "margin 60%")
    assert d.message == "`margin` on `landing`, a step without `value`"


def test_JD409_stage_margin_reaching_no_value() -> None:
    text = edit(SIGNUP, ('stage visit "Visit" {', 'stage visit "Visit" { margin 30%;'))
    d = check(text, "JD409", "margin 30%")
    assert d.message == ("`margin` on stage `visit` applies to no value: its touchpoints have "
                         "no `value`")


def test_JD409_not_for_a_stage_margin_its_touchpoints_use() -> None:
    text = edit(SUBSCRIPTION, ('stage paying "Paying customer" { value 49 }',
                               'stage paying "Paying customer" { value 49; margin 80% }'))
    assert [d.code for d in journeydsl.loads(text).diagnostics] == []


def test_JD501_not_after_other_errors() -> None:
    text = edit(SIGNUP, ("goal signup\n", "goal signup\n  expect conversion >= 15%\n"),
                ("entry landing", "entry landing 50%"))
    assert [d.code for d in journeydsl.loads(text).diagnostics] == ["JD304"]


# ---------------------------------------------------------------- JD6xx: event logs

LOGGED = edit(PERSONAS, ('touchpoint landing "Landing page" }',
                         'touchpoint landing "Landing page" { event "page_view" } }'),
              ('stage signup "Sign-up" {}', 'stage signup "Sign-up" { event "signup_done" }'))


def against_log(tmp_path: Path, log: str, name: str = "log.csv", **columns: str):
    """The journey LOGGED checked against the log text `log`."""
    from journeydsl.calibrate import LogSpec, check_against_log

    (tmp_path / name).write_text(log, encoding="utf-8")
    result = journeydsl.loads(LOGGED, "t.journey")
    assert result.diagnostics == []
    return check_against_log(result.journey, result.source,
                             LogSpec.of([str(tmp_path / name)], **columns))


def one(found: list[Diagnostic], code: str) -> Diagnostic:
    hits = [d for d in found if d.code == code]
    assert hits, f"expected {code}, got {[d.code for d in found]}"
    assert hits[0].severity is REGISTRY[code][0]
    assert hits[0].message and not hits[0].message[0].isupper()
    return hits[0]


def _signups(smb: int, of_smb: int, ent: int, of_ent: int) -> str:
    rows = ["user,event,time,persona"]
    for persona, n, signed in (("smb", of_smb, smb), ("ent", of_ent, ent)):
        for i in range(n):
            rows.append(f"{persona}{i},page_view,2024-03-01T09:00:00Z,{persona}")
            if i < signed:
                rows.append(f"{persona}{i},signup_done,2024-03-01T09:10:00Z,{persona}")
    rows.append("late,page_view,2024-12-31T00:00:00Z,")
    return "\n".join(rows) + "\n"


def test_JD601_declared_rate_outside_the_interval(tmp_path: Path) -> None:
    found = against_log(tmp_path, _signups(smb=30, of_smb=100, ent=5, of_ent=100))
    smb = [d for d in found if d.code == "JD601" and "`smb`" in d.message]
    ent = [d for d in found if d.code == "JD601" and "`ent`" in d.message]
    assert not ent  # 5 of 100 with 5% declared: inside the interval
    d = one(smb, "JD601")
    assert d.span == span_of(LOGGED, "12%") and d.source.path == "t.journey"
    from scipy.stats import beta

    low, high = beta.ppf([0.025, 0.975], 1 + 30, 1 + 70)  # the posterior of 30 in 100
    assert d.message == ("`landing -> signup` declares 12% for `smb`, outside what the log shows: "
                         f"30.0% (30 of 100 visits; 95% interval {low:.1%}–{high:.1%})")


def test_JD601_points_at_the_persona_override(tmp_path: Path) -> None:
    found = against_log(tmp_path, _signups(smb=12, of_smb=100, ent=40, of_ent=100))
    d = one(found, "JD601")
    assert d.span == span_of(LOGGED, "5%", after="[ent: ")
    assert [x.code for x in found] == ["JD601"]


def test_JD601_not_within_the_interval(tmp_path: Path) -> None:
    assert against_log(tmp_path, _signups(smb=12, of_smb=100, ent=5, of_ent=100)) == []


def test_JD602_no_file_matches(tmp_path: Path) -> None:
    from journeydsl.calibrate import LogSpec, check_against_log

    result = journeydsl.loads(LOGGED, "t.journey")
    found = check_against_log(result.journey, result.source,
                              LogSpec.of([str(tmp_path / "events-*.parquet")]))
    d = one(found, "JD602")
    assert d.message == f"no file matches `{tmp_path / 'events-*.parquet'}`"
    assert d.path == str(tmp_path / "events-*.parquet") and d.span is None


def test_JD602_empty_log(tmp_path: Path) -> None:
    d = one(against_log(tmp_path, "user,event,time\n"), "JD602")
    assert d.message == "the event log has no rows"


def test_JD602_no_event_marks_a_step(tmp_path: Path) -> None:
    d = one(against_log(tmp_path, "user,event,time\nu1,view,2024-03-01T09:00:00Z\n"), "JD602")
    assert d.message == "no event of the log marks a step of the journey"
    assert "`view`" in d.help


def test_JD603_missing_column(tmp_path: Path) -> None:
    d = one(against_log(tmp_path, "user,event,ts\nu1,page_view,2024-03-01T09:00:00Z\n"),
            "JD603")
    assert d.message == "the log has no column `time` (the time column)"
    assert d.path == str(tmp_path / "log.csv")
    assert d.help == "name the time column with `--time COLUMN`; the log's columns: `user`, " \
        "`event`, `ts`"


def test_JD603_named_optional_column_is_required(tmp_path: Path) -> None:
    found = against_log(tmp_path, "user,event,time\nu1,page_view,2024-03-01T09:00:00Z\n",
                        persona="segment")
    assert one(found, "JD603").message == "the log has no column `segment` (the persona column)"


def test_JD604_unparsable_time(tmp_path: Path) -> None:
    log = ("user,event,time\nu1,page_view,2024-03-01T09:00:00Z\nu2,page_view,soon\n"
           "u3,page_view,\n")
    found = against_log(tmp_path, log)
    messages = sorted(d.message for d in found)
    assert [d.code for d in found] == ["JD604", "JD604"]
    assert messages == ["line 3 has a time that cannot be read (column `time`): `soon`",
                        "line 4 has no time (column `time`)"]


def test_JD604_amount_not_a_number(tmp_path: Path) -> None:
    log = "user,event,time,amount\nu1,page_view,2024-03-01T09:00:00Z,$49\n"
    d = one(against_log(tmp_path, log), "JD604")
    assert d.message == "line 2 has an amount that is not a number (column `amount`): `$49`"


def test_JD605_time_goes_backwards(tmp_path: Path) -> None:
    log = ("user,event,time\nu1,signup_done,2024-03-02T10:00:00Z\n"
           "u1,page_view,2024-03-02T09:00:00Z\n")
    d = one(against_log(tmp_path, log), "JD605")
    assert d.message == ("time goes backwards for 1 event (column `time`): user `u1` has an "
                         "event on line 3 that is earlier than the one on line 2")


def test_JD606_unknown_persona(tmp_path: Path) -> None:
    log = ("user,event,time,persona\nu1,page_view,2024-03-01T09:00:00Z,Enterprise\n"
           "u2,page_view,2024-03-01T09:00:00Z,smb\n")
    d = one(against_log(tmp_path, log), "JD606")
    assert d.message == ("1 customer with a persona the journey does not declare in column "
                         "`persona`: `Enterprise` (1, such as user `u1`)")


# ---------------------------------------------------------------- meta-tests

CODES = sorted(REGISTRY)


def _doc_sections() -> dict[str, tuple[str, str]]:
    """code -> (title, body) of each `## JDxxx: title` section of the docs."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## (JD\d{3}): (.*)$", text, flags=re.M)
    return {parts[i]: (parts[i + 1].strip(), parts[i + 2]) for i in range(1, len(parts), 3)}


def _golden_codes() -> set[str]:
    found: set[str] = set()
    for path in GOLDEN.glob("*.txt"):
        found |= set(re.findall(r"\[(JD\d{3})\]", path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("code", CODES)
def test_code_has_a_test_here(code: str) -> None:
    module = sys.modules[__name__]
    assert any(name.startswith(f"test_{code}_") for name in dir(module)), \
        f"no test_{code}_... in {Path(__file__).name}"


@pytest.mark.parametrize("code", CODES)
def test_code_is_documented(code: str) -> None:
    sections = _doc_sections()
    assert code in sections, f"docs/diagnostics.md has no `## {code}: ...` heading"
    title, body = sections[code]
    assert title == REGISTRY[code][1], "the heading title must be the registry's title"
    assert f"**Severity:** {REGISTRY[code][0].value}" in body


def test_docs_have_no_unregistered_codes() -> None:
    assert set(_doc_sections()) <= set(REGISTRY)


@pytest.mark.parametrize("code", CODES)
def test_code_has_a_golden_fixture(code: str) -> None:
    assert code in _golden_codes(), \
        f"no tests/golden/invalid/*.txt contains [{code}]"


def _fences(body: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```$", body, flags=re.M | re.S)


#: Codes whose bad input is bytes or the file system (JD007, JD008, JD209:
#: several files), not journey text, or
#: (JD006, JD410: a loop of 64 steps) hundreds of lines: their sections show a
#: console session instead.
_RAW_INPUT = {"JD001", "JD002", "JD003", "JD004", "JD006", "JD007", "JD008", "JD209", "JD410",
              "JD601", "JD602", "JD603", "JD604", "JD605", "JD606"}  # JD6xx: an event log
#: Notes (`journey check -v`) rather than problems: not in `diagnostics`.
_NOTES = {"JD502"}


@pytest.mark.parametrize("code", CODES)
def test_documented_examples_are_real(code: str) -> None:
    """The first ```journey block of a section produces the ```text shown
    (its diagnostics with that code, as `example.journey`); the last
    ```journey block, the fixed example, compiles without any diagnostic."""
    sections = _doc_sections()
    if code not in sections:
        pytest.skip("not documented (test_code_is_documented fails)")
    fences = _fences(sections[code][1])
    journeys = [body for lang, body in fences if lang == "journey"]
    texts = [body for lang, body in fences if lang == "text"]
    if journeys:
        fixed = _example(journeys[-1])
        assert fixed.diagnostics == [], "the fixed example has diagnostics:\n" + "\n\n".join(
            render_text(d) for d in fixed.diagnostics)
    if code in _RAW_INPUT:
        return
    assert len(journeys) >= 2 and texts, "a bad ```journey, its ```text and a fixed ```journey"
    example = _example(journeys[0])
    found = example.diagnostics + (example.notes() if code in _NOTES else [])
    shown = "\n\n".join(render_text(d) for d in found if d.code == code)
    assert shown == texts[0].rstrip("\n")


def _example(text: str):
    return journeydsl.loads(text, "example.journey")


def test_JD006_too_many_problems_are_summarized() -> None:
    text = 'journey "x" {\n  stage s { touchpoint a }\n  entry a\n  goal a\n' + "".join(
        f"  a -> missing_{i} 1%\n" for i in range(205)) + "}\n"
    result = journeydsl.loads(text)
    assert len(result.diagnostics) == 201
    last = result.diagnostics[-1]
    assert last.code == "JD006" and last.severity.value == "info"
    assert last.message == "5 more problems not shown"
    assert last.span == result.diagnostics[-2].span

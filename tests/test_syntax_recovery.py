"""Syntax-error recovery: a missing `}` is one error that names its block,
and the helps for `2 weeks` and `12 %` say what to write.

Each case checks the code, where it points, the message, the help and how
many errors the file gets. The last tests delete each `}` of each example,
one at a time: one error, naming the block whose `}` is gone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import journeydsl
from journeydsl.diagnostics import Severity, render_text
from journeydsl.language.source import Span

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").rglob("*.journey"))

# A clinic's booking journey; `stage booking` (16:3) lost its `}`.
BOOKING = '''# A clinic's online booking journey.
journey "Clinic booking" {
  currency EUR

  persona new "New patient" { share 60% }
  persona back "Returning patient" { share 40% }

  stage discover "Discover" {
    touchpoint search "Search result" { channel seo; emotion 3 }
    touchpoint maps "Maps listing" { channel maps }
  }

  stage compare "Compare" {
    touchpoint reviews "Reviews page" { channel web; emotion 4 }
  }
  stage booking "Booking" {
    touchpoint form "Booking form" { channel web; cost 0.50 }
    touchpoint call "Phone call" { channel phone; cost 3 }

  stage visit "Visit" {
    touchpoint checkin "Check-in" { channel desk }
    touchpoint followup "Follow-up email" { channel email; cost 0.05 }
  }

  entry search 70%, maps 30%
  search -> reviews 20%, form 10%
  maps -> call 15%, reviews 10%
  reviews -> form 30%, call 10%
  form -> checkin 80% after 3d
  call -> checkin 90% after 2d
  checkin -> followup 95% after 1d
  followup -> form 20% after 6mo

  goal checkin
  expect conversion >= 10%
}
'''


def errors(text: str) -> list:
    result = journeydsl.loads(text, "t.journey")
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def at(text: str, needle: str, nth: int = 1) -> Span:
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Span(start, start + len(needle))


def only_error(text: str, code: str) -> object:
    found = errors(text)
    assert [d.code for d in found] == [code], "\n\n".join(render_text(d) for d in found)
    return found[0]


# ------------------------------------------------------------ missing `}`

def test_stage_missing_its_brace_is_one_error_naming_it() -> None:
    d = only_error(BOOKING, "JD104")
    assert d.message == "`stage booking` opened at 16:3 is not closed"
    assert d.span == at(BOOKING, "stage", 4) and d.location == (20, 3)  # `stage visit`
    assert [(label.span, label.message) for label in d.labels] == [
        (at(BOOKING, 'stage booking "Booking" {'), "this block is never closed")]
    assert d.help == "add `}` before this line to close `stage booking`"


def test_the_file_still_parses_after_the_missing_brace() -> None:
    """Recovery closes the stage and reads the rest as written: fixing the
    brace is the only change needed, and a second mistake is still found."""
    text = BOOKING.replace("search -> reviews 20%", "search reviews 20%")
    assert [d.code for d in errors(text)] == ["JD104", "JD105"]
    fixed = BOOKING.replace('cost 3 }\n\n  stage visit', 'cost 3 }\n  }\n\n  stage visit')
    assert errors(fixed) == []


def test_statements_read_as_attributes_are_where_the_block_ends() -> None:
    """`goal b` inside an unclosed stage is an attribute to the parser; the
    error comes later, but the caret goes to the `goal` line."""
    text = 'journey "x" {\n  stage s {\n    touchpoint a\n\n  goal a\n  entry a 5%\n}\n'
    d = only_error(text, "JD104")
    assert d.span == at(text, "goal") and d.location == (5, 3)
    assert d.message == "`stage s` opened at 2:3 is not closed"


@pytest.mark.parametrize("text, name, where", [
    # a one-line persona, then the next persona
    (('journey "x" {\n  persona a "A" { share 60%\n  persona b "B" { share 40% }\n'
      '  stage s { touchpoint t }\n  entry t\n}\n'), "`persona a` opened at 2:3", "persona b"),
    # a touchpoint's block, then the next touchpoint
    (('journey "x" {\n  stage s {\n    touchpoint t { channel web\n    touchpoint u\n  }\n'
      '  entry t\n}\n'), "`touchpoint t` opened at 3:5", "touchpoint u"),
    # a transition inside a stage
    (('journey "x" {\n  stage s {\n    touchpoint t\n    touchpoint u\n  entry t\n'
      '  t -> u 5%\n  goal u\n}\n'), "`stage s` opened at 2:3", "entry t\n  t"),
    # a scenario's step block, then a transition of the scenario
    (('journey "x" {\n  stage s { touchpoint t; touchpoint u }\n  entry t\n  t -> u 5%\n'
      '  scenario faster {\n    t { cost 3\n    t -> u 9%\n  }\n}\n'),
     "the block of `t` opened at 6:5", "t -> u 9%"),
    # no indentation at all
    ('journey "x" {\nstage s {\ntouchpoint t\ntouchpoint u\nentry t\nt -> u 5%\n}\n',
     "`stage s` opened at 2:1", "entry t"),
    # tabs
    ('journey "x" {\n\tstage s {\n\t\ttouchpoint t\n\tentry t\n}\n', "`stage s` opened at 2:2",
     "entry t"),
], ids=["persona", "touchpoint", "flow-in-stage", "scenario-step", "unindented", "tabs"])
def test_each_kind_of_block(text: str, name: str, where: str) -> None:
    d = only_error(text, "JD104")
    assert d.message == f"{name} is not closed"
    assert d.span.start == text.index(where)


def test_the_brace_taken_by_an_inner_block_is_shown() -> None:
    """The stage's `}` closes the touchpoint that lost its own: the
    indentation says so, and the caret goes to that `}`."""
    text = ('journey "x" {\n  stage s {\n    touchpoint t {\n      channel web\n\n  }\n'
            '  stage v { touchpoint u }\n  entry t\n}\n')
    d = only_error(text, "JD104")
    assert d.message == "`touchpoint t` opened at 3:5 is not closed"
    assert d.span == at(text, "}", 1) and d.location == (6, 3)
    assert d.help == "add `}` before this line to close `touchpoint t`; this `}` ends `stage s`"


def test_a_block_at_the_end_of_the_journey() -> None:
    """Nothing after the scenario can tell it is unclosed: the journey's `}`
    closes it and the file ends. The indentation names the scenario."""
    text = ('journey "x" {\n  stage s { touchpoint t; touchpoint u }\n  entry t\n  t -> u 5%\n'
            '  goal u\n  scenario faster {\n    t -> u 9%\n}\n')
    d = only_error(text, "JD104")
    assert d.message == "`scenario faster` opened at 6:3 is not closed"
    assert d.location == (8, 1)
    assert d.help == ("add `}` before this line to close `scenario faster`; "
                      "this `}` ends the journey")


def test_the_journeys_own_brace_missing_at_the_end() -> None:
    text = 'journey "x" {\n  stage s { touchpoint t; touchpoint u }\n  entry t\n  goal u\n'
    d = only_error(text, "JD104")
    assert d.message == "unclosed `{`: the file ends before its `}`"
    assert d.span == Span(len(text.rstrip()), len(text.rstrip()))
    assert [label.span for label in d.labels] == [at(text, "{")]


def test_a_badly_indented_brace_is_not_taken_for_a_stolen_one() -> None:
    """The stage's `}` sits at column 1, but `entry t` after it is indented
    as a statement of the journey: that `}` does end the stage, and the
    journey's own `}` is the one missing."""
    text = 'journey "x" {\n  stage s {\n    touchpoint t\n}\n  entry t\n  goal t\n'
    d = only_error(text, "JD104")
    assert d.message == "unclosed `{`: the file ends before its `}`"
    assert errors(text + "}\n") == []


def test_two_blocks_left_open_at_one_place_are_one_error() -> None:
    text = ('journey "x" {\n  stage s {\n    touchpoint t {\n      channel web\n\n'
            '  stage v { touchpoint u }\n  entry t\n  t -> u 5%\n  goal u\n}\n')
    d = only_error(text, "JD104")
    assert d.message == ("`touchpoint t` opened at 3:5 and `stage s` opened at 2:3 "
                         "are not closed")
    assert d.span == at(text, "stage", 2)
    assert len(d.labels) == 2
    assert d.help == "add `}` 2 times before this line to close `touchpoint t`, then `stage s`"


def test_a_misplaced_statement_in_a_closed_block_is_not_an_unclosed_block() -> None:
    """`goal a` indented inside a stage that has its `}`: the parser reads an
    attribute, and the checks say it is not one (the behaviour before)."""
    text = ('journey "x" {\n  stage s {\n    touchpoint a\n    goal a\n  }\n  entry a\n}\n')
    assert [d.code for d in errors(text)] == ["JD206"]
    # The same with the journey's `}` missing: that is the unclosed block.
    d = only_error(text.rstrip()[:-1], "JD104")
    assert d.message == "unclosed `{`: the file ends before its `}`"


def test_a_misplaced_keyword_in_a_scenario_stays_JD107() -> None:
    text = ('journey "x" {\n  stage s { touchpoint a }\n  entry a\n  goal a\n'
            '  scenario s2 {\n    goal a\n  }\n}\n')
    d = only_error(text, "JD107")
    assert d.message == "`goal` is not allowed here"


# ------------------------------------------------------------ one `}` deleted from each example

def _closing_braces(text: str) -> list[tuple[int, int]]:
    """(its `{`, the `}`) of every block, by the braces outside labels and comments."""
    pairs, stack = [], []
    for match in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]', text):
        if match.group() == "{":
            stack.append(match.start())
        elif match.group() == "}":
            pairs.append((stack.pop(), match.start()))
    assert not stack
    return pairs


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_deleting_any_one_brace_names_its_block(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    pairs = _closing_braces(text)
    assert pairs
    for opener, close in pairs:
        broken = text[:close] + text[close + 1:]
        found = errors(broken)
        where = f"{path.name} without the `}}` at {broken.count(chr(10), 0, close) + 1}"
        assert 1 <= len(found) <= 2, where + "\n\n" + "\n\n".join(render_text(d) for d in found)
        first = found[0]
        assert first.code == "JD104", where + "\n" + render_text(first)
        # Its first label is on the `{` (the journey's) or on the head that
        # ends with it (any other block): the block whose `}` was deleted.
        assert first.labels[0].span.end == opener + 1, where + "\n" + render_text(first)
        assert len(found) == 1, where  # today: never a follow-on error


# ------------------------------------------------------------ durations and rates

@pytest.mark.parametrize("written, word, fix", [
    ("2 weeks", "weeks", "2w"), ("6 months", "months", "6mo"), ("2 w", "w", "2w"),
    ("3 days", "days", "3d"), ("1 year", "year", "1y"), ("12 hours", "hours", "12h"),
    ("2.5 Weeks", "Weeks", "2.5w"), ("1 mo", "mo", "1mo"),
])
def test_duration_with_a_space(written: str, word: str, fix: str) -> None:
    text = ('journey "x" {\n  stage s { touchpoint a; touchpoint b }\n  entry a\n'
            f"  a -> b 10% after {written}\n  goal b\n}}\n")
    d = only_error(text, "JD101")
    assert d.message == f"unexpected name `{word}`"
    start = text.index(written) + written.index(word)
    assert d.span == Span(start, start + len(word))
    assert d.help == f"write `{fix}`: no space between a number and its unit"


def test_duration_with_a_space_in_expect() -> None:
    text = ('journey "x" {\n  stage s { touchpoint a; touchpoint b }\n  entry a\n'
            "  a -> b 10%\n  goal b\n  expect time_to_convert <= 60 days\n}\n")
    d = only_error(text, "JD101")
    assert d.span == at(text, "days")
    assert d.help == "write `60d`: no space between a number and its unit"


def test_time_word_without_a_unit_lists_the_units() -> None:
    text = 'journey "x" {\n  stage s { touchpoint a; touchpoint b }\n  a -> b 1% after 30 min\n}\n'
    d = only_error(text, "JD101")
    assert d.help == "durations use h, d, w, mo (30 days) or y (365 days)"


def test_unknown_unit_written_together_suggests_its_unit() -> None:
    text = 'journey "x" {\n  stage s { touchpoint a; touchpoint b }\n  a -> b 1% after 2weeks\n}\n'
    d = only_error(text, "JD307")
    assert d.span == at(text, "2weeks")
    assert d.help == "durations use h, d, w, mo (30 days) or y (365 days), e.g. `2w`"


@pytest.mark.parametrize("line, number", [
    ("  a -> b 12 %", "12"), ("  a -> b 2.5\t%", "2.5"), ("  expect conversion >= 5 %", "5"),
])
def test_space_before_percent(line: str, number: str) -> None:
    text = f'journey "x" {{\n  stage s {{ touchpoint a; touchpoint b }}\n{line}\n}}\n'
    d = only_error(text, "JD102")
    assert d.message == "unexpected character `%`"
    assert d.span == at(text, "%")
    assert d.help == f"write `{number}%`: no space before `%`"


def test_space_before_percent_in_a_persona() -> None:
    text = 'journey "x" {\n  persona p "P" { share 70 % }\n}\n'
    d = only_error(text, "JD102")
    assert d.help == "write `70%`: no space before `%`"


# ------------------------------------------------------------ the happy path

def test_a_clean_file_never_loads_the_error_path() -> None:
    """Recovery and its wording are imported only when a file has a syntax
    error: checking a clean file costs what it did before."""
    code = ("import sys, journeydsl\n"
            f"assert journeydsl.load({str(EXAMPLES[0])!r}).ok\n"
            "print(sorted(m for m in sys.modules if m in "
            "('journeydsl.language.blocks', 'journeydsl.language.syntax_errors')))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "[]"

"""`journey fmt`: canonical layout, idempotent and meaning-preserving.

Properties, on every example and on generated journeys (hypothesis):
- formatting never fails on text without syntax errors;
- idempotent: fmt(fmt(x)) == fmt(x);
- meaning-preserving: the model of fmt(x) equals the model of x, spans aside;
- comments survive: the same comments, same text, same order.
Plus the command itself (`fmt_command`: write, --check, --diff, syntax
errors, usage errors) and two golden files in tests/golden/fmt/:
`saas_trial.journey` (examples/saas_trial.journey formatted) and
`messy.formatted.journey` (messy.journey formatted), compared with
tests/goldens.py (`check_golden`). Rewrite them on purpose with
`JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_fmt.py` (only the exact
value `1` rewrites).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import lark
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

import journeydsl
from journeydsl.cli.fmt import fmt_command
from journeydsl.fmt import _full_parser, format_text
from journeydsl.language.source import SourceFile
from journeydsl.language.syntax import grammar_text

from goldens import check_golden

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
GOLDEN = REPO / "tests" / "golden" / "fmt"


# ---------------------------------------------------------------- helpers

def _strip_spans(value):
    if isinstance(value, dict):
        return {k: _strip_spans(v) for k, v in value.items()
                if k not in ("span", "path") and not k.endswith("_span")}
    if isinstance(value, list):
        return [_strip_spans(v) for v in value]
    return value


def _model(text: str):
    result = journeydsl.loads(text)
    assert result.model is not None
    return _strip_spans(result.model.model_dump())


def _comments(text: str) -> list[str]:
    """Every comment of a parseable text, in order, from the separator tokens."""
    tree = _full_parser().parse(SourceFile("x", text).text)
    found = []
    for token in tree.scan_values(lambda t: isinstance(t, lark.Token) and t.type == "_SEP"):
        found.extend(c.rstrip(" \t\f\v") for c in re.findall(r"#[^\n]*", str(token)))
    return found


def _assert_formats_well(text: str) -> str:
    formatted = format_text(text)
    assert formatted is not None
    assert format_text(formatted) == formatted, "not idempotent"
    assert _model(formatted) == _model(text), "meaning changed"
    assert _comments(formatted) == _comments(text), "comments changed"
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    assert not any(line != line.rstrip(" \t") for line in formatted.split("\n")), "trailing spaces"
    assert "\n\n\n" not in formatted
    return formatted


# ---------------------------------------------------------------- examples

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_formats_idempotently_and_keeps_its_meaning(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = _assert_formats_well(text)
    assert journeydsl.loads(formatted).diagnostics == [] or \
        [d.code for d in journeydsl.loads(formatted).diagnostics] == \
        [d.code for d in journeydsl.loads(text).diagnostics]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_in_canonical_layout(path: Path) -> None:
    """The shipped examples are what `journey fmt` writes: a user who runs
    `journey fmt --check` on a copy of them sees no change."""
    text = path.read_text(encoding="utf-8")
    assert format_text(text) == text, f"run `journey fmt {path.relative_to(REPO)}`"


def test_golden_saas_trial() -> None:
    text = (REPO / "examples" / "saas_trial.journey").read_text(encoding="utf-8")
    check_golden(GOLDEN / "saas_trial.journey", format_text(text))


def test_golden_messy_layout() -> None:
    text = (GOLDEN / "messy.journey").read_text(encoding="utf-8")
    formatted = _assert_formats_well(text)
    check_golden(GOLDEN / "messy.formatted.journey", formatted)


# ---------------------------------------------------------------- layout rules

def test_spacing_is_normalized() -> None:
    text = 'journey "x"{\n  a->b 30%[ent:10%]after 2d,c beta( 1 ,2 )\n  expect reach( a . b )>=1%\n}\n'
    assert format_text(text) == (
        'journey "x" {\n'
        '  a -> b 30% [ent: 10%] after 2d, c beta(1, 2)\n'
        '  expect reach(a.b) >= 1%\n'
        '}\n')


def test_per_customer_rates_are_spaced_like_a_rate() -> None:
    text = ('journey "x" {\n  a->b beta( 6,2 )per   customer[ent:80%..90%  per customer]'
            'after 1mo\n}\n')
    assert format_text(text) == (
        'journey "x" {\n'
        '  a -> b beta(6, 2) per customer [ent: 80%..90% per customer] after 1mo\n'
        '}\n')
    assert format_text(format_text(text)) == format_text(text)


def test_arrows_align_within_a_run_only() -> None:
    text = ('journey "x" {\n  a -> b 1%\n  long_name => c 0.1\n\n  d -> e 1%\n'
            '  # comment\n  ff -> g 1%\n  hhh -> i 1%\n}\n')
    assert format_text(text) == (
        'journey "x" {\n'
        '  a         -> b 1%\n'
        '  long_name => c 0.1\n'
        '\n'
        '  d -> e 1%\n'
        '  # comment\n'
        '  ff  -> g 1%\n'
        '  hhh -> i 1%\n'
        '}\n')


def test_one_statement_per_line_but_inline_blocks_stay_inline() -> None:
    text = ('journey "x" {\n  entry a; goal a\n  stage s { touchpoint a "A" { channel web;cost 2 } }\n'
            '  stage t {\n    channel web; cost 2 }\n}\n')
    assert format_text(text) == (
        'journey "x" {\n'
        '  entry a\n'
        '  goal a\n'
        '  stage s { touchpoint a "A" { channel web; cost 2 } }\n'
        '  stage t {\n'
        '    channel web\n'
        '    cost 2\n'
        '  }\n'
        '}\n')


def test_blank_lines_collapse_and_comments_stay_put() -> None:
    text = ('# head\n\n\njourney "x" {  # title\n\n\n  entry a   # where\n\n\n\n'
            '  # own line\n  goal a\n\n}\n\n\n# tail\n\n')
    assert format_text(text) == (
        '# head\n\njourney "x" {  # title\n  entry a  # where\n\n'
        '  # own line\n  goal a\n}\n\n# tail\n')


def test_trailing_comments_of_consecutive_lines_align() -> None:
    text = 'journey "x" {\n  entry a # one\n  goal abc # two\n  expect clv > 1\n}\n'
    assert format_text(text) == (
        'journey "x" {\n  entry a   # one\n  goal abc  # two\n  expect clv > 1\n}\n')


def test_list_continuation_keeps_its_line_break_and_comment() -> None:
    text = 'journey "x" {\n  entry a 50%,   # first\n   # between\n b 50%\n}\n'
    assert format_text(text) == (
        'journey "x" {\n  entry a 50%,  # first\n      # between\n      b 50%\n}\n')


def test_event_lists_are_spaced_and_keep_their_line_breaks() -> None:
    text = ('journey "x" {\n  stage a {\n    touchpoint ads { channel web;event "c" ,"v" }\n'
            '    touchpoint blog {\n      event "b1",\n  "b2"   # second\n    }\n  }\n}\n')
    formatted = format_text(text)
    assert formatted == (
        'journey "x" {\n  stage a {\n    touchpoint ads { channel web; event "c", "v" }\n'
        '    touchpoint blog {\n      event "b1",\n          "b2"  # second\n    }\n  }\n}\n')
    assert format_text(formatted) == formatted


def test_strings_and_numbers_are_kept_as_written() -> None:
    text = 'journey "a \\"q\\" \\\\ b" { stage s "é\\n" { cost 1_000.50 }; a -> b 0.5..0.7 }'
    formatted = format_text(text)
    assert '"a \\"q\\" \\\\ b"' in formatted and '"é\\n"' in formatted
    assert "1_000.50" in formatted and "0.5..0.7" in formatted


def test_crlf_and_bom_are_normalized() -> None:
    text = '\ufeffjourney "x" {\r\n  entry a\r\n}\r\n'
    assert format_text(text) == 'journey "x" {\n  entry a\n}\n'


def test_wide_and_combining_characters_align_by_columns() -> None:
    decomposed = "nha\u0323\u0302n"  # 4 columns, 6 code points
    text = f'journey "x" {{\n  {decomposed} -> b 1%\n  abcdef -> b 1%\n}}\n'
    lines = format_text(text).split("\n")
    assert lines[1] == f"  {decomposed}   -> b 1%"
    assert lines[2] == "  abcdef -> b 1%"


# ---------------------------------------------------------------- syntax errors

@pytest.mark.parametrize("text", ['journey "x" {', 'journey "x" { a -> }', "", "# only\n",
                                  'journey "x" { entry a }\njourney "y" {}'])
def test_text_with_syntax_errors_is_not_formatted(text: str) -> None:
    assert format_text(text) is None


# ---------------------------------------------------------------- command

UGLY = 'journey "x" {\n  stage a{}\n  entry a\n  goal a\n}\n'
PRETTY = format_text(UGLY)
BROKEN = 'journey "x" {\n  stage a {\n'


def _files(tmp_path: Path) -> dict[str, Path]:
    files = {"ugly": tmp_path / "ugly.journey", "pretty": tmp_path / "sub" / "pretty.journey"}
    files["pretty"].parent.mkdir()
    files["ugly"].write_text(UGLY, encoding="utf-8")
    files["pretty"].write_text(PRETTY, encoding="utf-8")
    return files


def test_fmt_rewrites_files_in_place(tmp_path, capsys) -> None:
    files = _files(tmp_path)
    assert fmt_command([tmp_path], check=False, diff=False) == 0
    assert files["ugly"].read_text(encoding="utf-8") == PRETTY
    assert files["pretty"].read_text(encoding="utf-8") == PRETTY
    assert "ugly.journey" in capsys.readouterr().err
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert fmt_command([tmp_path], check=True, diff=False) == 0


def test_fmt_check_lists_files_and_writes_nothing(tmp_path, capsys) -> None:
    files = _files(tmp_path)
    assert fmt_command([files["ugly"], files["pretty"]], check=True, diff=False) == 1
    out = capsys.readouterr().out
    assert out.strip().split("\n") == [str(files["ugly"])]
    assert files["ugly"].read_text(encoding="utf-8") == UGLY
    assert fmt_command([files["pretty"]], check=True, diff=False) == 0


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, capsys) -> None:
    files = _files(tmp_path)
    assert fmt_command([tmp_path], check=False, diff=True) == 0
    out = capsys.readouterr().out
    assert f"--- {files['ugly']}" in out and f"+++ {files['ugly']}" in out
    assert "-  stage a{}" in out and "+  stage a {}" in out
    assert "pretty.journey" not in out
    assert files["ugly"].read_text(encoding="utf-8") == UGLY
    assert fmt_command([tmp_path], check=True, diff=True) == 1


def test_fmt_leaves_files_with_syntax_errors_untouched(tmp_path, capsys) -> None:
    files = _files(tmp_path)
    broken = tmp_path / "broken.journey"
    broken.write_bytes(BROKEN.encode())
    assert fmt_command([tmp_path], check=False, diff=False) == 1
    assert broken.read_bytes() == BROKEN.encode()
    err = capsys.readouterr().err
    assert "error[JD104]" in err and "broken.journey" in err
    assert files["ugly"].read_text(encoding="utf-8") == PRETTY  # the others are formatted


def test_fmt_reports_undecodable_files(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.journey"
    bad.write_bytes(b'journey "\xff" {}\n')
    assert fmt_command([bad], check=False, diff=False) == 1
    assert bad.read_bytes() == b'journey "\xff" {}\n'
    assert "JD002" in capsys.readouterr().err


def test_fmt_usage_errors(tmp_path, capsys) -> None:
    assert fmt_command([tmp_path / "missing.journey"], check=False, diff=False) == 2
    other = tmp_path / "notes.txt"
    other.write_text(UGLY, encoding="utf-8")
    assert fmt_command([other], check=False, diff=False) == 2
    assert other.read_text(encoding="utf-8") == UGLY
    assert fmt_command([tmp_path], check=False, diff=False) == 2  # no .journey files
    err = capsys.readouterr().err
    assert "no such file" in err and "not a .journey file" in err


@pytest.mark.skipif(os.name != "posix", reason="permission bits")
def test_fmt_keeps_the_file_mode(tmp_path) -> None:
    files = _files(tmp_path)
    files["ugly"].chmod(0o640)
    assert fmt_command([files["ugly"]], check=False, diff=False) == 0
    assert files["ugly"].stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- generated journeys

_GRAMMAR = lark.Lark(grammar_text(), parser="lalr", start="start")
_COMMENT_TEXT = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)),
                        max_size=8)
_SEP = st.one_of(
    st.sampled_from(["\n", ";", "\n\n", "\n\n\n", "; ", "\n  ", " ;\n"]),
    _COMMENT_TEXT.map(lambda c: f"  #{c}\n"),
    _COMMENT_TEXT.map(lambda c: f"\n# {c}\n\n"),
)
_NAMES = st.sampled_from(["a", "b", "c", "pricing", "trial", "value", "cost", "channel",
                          "share", "smb", "ent", "nhận_thức", "nha\u0323\u0302n", "Ωmega", "_x1"])


def _grammar_strategy():
    terminals, _, _ = _GRAMMAR.grammar.compile(["start"], ())
    explicit = {t.name: st.just(t.pattern.value + " ") for t in terminals
                if t.pattern.type == "str"}
    explicit.update({
        "NAME": _NAMES.map(lambda s: s + " "),
        "STRING": st.text(st.characters(blacklist_characters='"\\\n\r',
                                        blacklist_categories=("Cs",)), max_size=6)
        .map(lambda s: f'"{s}" '),
        "SETTING_KEY": st.sampled_from(["currency ", "discount ", "horizon "]),
        "PER": st.just("per "),
        "ARROW": st.sampled_from(["->", "=> "]),
        "COMPARE": st.sampled_from([">=", "<= ", "==", "> ", "<"]),
        "DURATION": st.sampled_from(["1d ", "14d ", "1mo ", "0.5d ", "1_000d "]),
        "PERCENT": st.sampled_from(["0% ", "30%", "99.5% ", "1_000% "]),
        "NUMBER": st.sampled_from(["0 ", "1 ", "0.02 ", "1_000 ", "7"]),
        "_SEP": _SEP,
    })
    return from_lark(_GRAMMAR, start="start", explicit=explicit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_grammar_strategy())
def test_fmt_properties_on_grammar_generated_text(text: str) -> None:
    formatted = format_text(text)
    event("formatted" if formatted is not None else "syntax error")
    assume(formatted is not None)
    _assert_formats_well(text)


@st.composite
def _journeys(draw) -> str:
    """Mostly-valid journeys with random layout: spaces, `;`, blank lines,
    inline or multi-line blocks, list continuations and comments anywhere."""
    counter = iter(range(10_000))

    def sep() -> str:
        kind = draw(st.sampled_from(["nl", "nl", "semi", "blank", "trail", "own"]))
        return {"nl": "\n", "semi": draw(st.sampled_from([";", " ; "])), "blank": "\n\n\n",
                "trail": f"   # t{next(counter)}\n", "own": f"\n  # o{next(counter)}\n"}[kind]

    def sp() -> str:
        return draw(st.sampled_from([" ", "  ", "\t", " "]))

    def comma() -> str:
        return draw(st.sampled_from([",", ", ", " ,  ", f",  # c{next(counter)}\n      ", ",\n"]))

    def block(items: list[str]) -> str:
        if draw(st.booleans()) and not any("#" in i or "\n" in i for i in items):
            return "{" + sp() + (";" + sp()).join(items) + sp() + "}"
        body = "".join(sep() + i for i in items)
        return "{" + body + sep() + "}"

    steps = ["a", "b", "c", "d"]
    rate = st.sampled_from(["10%", "5%", "0.2", "1%..3%", "beta(2, 8)", "20%",
                            "beta(2, 8) per customer", "1%..3% per customer"])
    stmts = [f"currency{sp()}USD", f"discount 10%{sp()}per year", f"horizon{sp()}3y",
             f'persona p "P"{sp()}' + block([f"share{sp()}60%"]),
             "persona q " + block(["share 40%"])]
    for i, step in enumerate(steps):
        cost = draw(st.sampled_from(["1", "2.50", "1_000"]))
        overrides = draw(st.sampled_from(["", " [q: 3]", "[p:1,q :2]"]))
        attrs = [f"channel{sp()}web", f"cost {cost}{overrides}"]
        label = draw(st.sampled_from(["", f' "Step {i}"', ' "a \\"quoted\\" label"']))
        stmts.append(f"stage s{i}{label} " + block(
            [f"touchpoint {step}{label} " + block(draw(st.permutations(attrs)))]))
    stmts.append("entry a 60%" + comma() + "b 40%")
    for src, dst in [("a", "b"), ("b", "c"), ("c", "d"), ("a", "c")]:
        arrow = draw(st.sampled_from(["->", " -> ", "=>"]))
        extra = draw(st.sampled_from(["", " [q: 5%]", f"{sp()}after{sp()}2d",
                                      " [p: 1%, q: 2%] after 1mo"]))
        stmts.append(f"{src}{arrow}{dst} {draw(rate)}{extra}")
    stmts.append(f"goal d{comma()}s2.c")
    stmts.append(f"expect conversion{sp()}>={sp()}1%")
    stmts.append(f"expect reach( a ){sp()}<{sp()}100%")
    stmts.append('scenario x "X" ' + block(["a -> b 50%", "expect clv > 0"]))
    order = draw(st.permutations(stmts))
    head = draw(st.sampled_from(["", "# header\n", "\n\n# header\n\n"]))
    tail = draw(st.sampled_from(["\n", "", "  # end\n", "\n\n# tail\n\n\n"]))
    return head + 'journey "Generated"' + sp() + block(list(order)) + tail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_journeys())
def test_fmt_properties_on_generated_journeys(text: str) -> None:
    formatted = format_text(text)
    assert formatted is not None, text
    _assert_formats_well(text)
    assert len(_comments(formatted)) == text.count("#")

"""`text.LabelMemo` (a map's labels, each distinct text made once) gives
the bytes of `dot_value`, `dot_record` and `dot_label`, whatever the text."""

from __future__ import annotations

from graphviz import nohtml
from hypothesis import given, settings
from hypothesis import strategies as st

from journeydsl.render.text import LabelMemo, dot_label, dot_record, dot_value

HARD = ["", "a", "{a|b}", "x}", "|", "\\", "back\\\\slash", 'say "hi"', "<b>", "& co",
        "é ⊣ · ↩", "\u05e9\u05dc\u05d5\u05dd", "tab\there", "line\nbreak", "\u202eevil",
        "  spaced  ", "\\n", "\\l"]

lines_of = st.lists(st.one_of(st.sampled_from(HARD), st.text(max_size=12)), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(lines_of, min_size=1, max_size=3), lines_of)
def test_the_memo_writes_what_the_functions_write(fields, lines):
    memo = LabelMemo()
    for _ in range(2):  # made, then from the memo
        record, label = memo.record(fields), memo.label(lines)
        assert record == dot_record(fields) and type(record) is type(nohtml(""))
        assert label == dot_label(lines) and type(label) is type(nohtml(""))
        assert [memo.value(x) for x in lines] == [dot_value(x) for x in lines]

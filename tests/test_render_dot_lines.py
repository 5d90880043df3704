"""`render.dot_lines.Lines` writes the bytes the `graphviz` package writes.

The map's DOT text is built with `Lines` (the package's own quoting, memoised,
without its per-call wrappers); every statement it writes must be what
`graphviz.Digraph.node` / `edge` / `attr` / `subgraph` would have written for
the same arguments: checked on hand-picked hard cases (quotes, backslashes,
`<...>` as plain text and as `nohtml`, keywords, numbers, ports) and on random
programs of statements (hypothesis), each run on both and compared.
"""

from __future__ import annotations

import graphviz
import pytest
from graphviz import nohtml
from hypothesis import given, settings
from hypothesis import strategies as st

from journeydsl.render.dot_lines import Lines

#: A value ending in an odd backslash gets the package's DotSyntaxWarning, on
#: both sides alike.
pytestmark = pytest.mark.filterwarnings("ignore::graphviz.exceptions.DotSyntaxWarning")

HARD = ["", "a", "a b", "node", "Graph", "-4.2", ".5", "4.", "#c1", "t_0", 'say "hi"',
        'a \\"b\\"', "back\\\\slash", "<b>bold</b>", "<>", "x:y", "x:y:sw", "é ⊣ · ↩",
        "two\\nlines\\l", "{a|b}", "<a>\n", "ends\\", "EDGE", "-.5x", "1.2.3", " <b>"]


def run_both(program: list[tuple]) -> tuple[str, str]:
    """(the package's source, ours) after the same statements."""
    g = graphviz.Digraph("journey")
    lines = Lines()
    stack = [g]
    for op, *args in program:
        top = stack[-1]
        if op == "node":
            name, label, attrs = args
            top.node(name, label, **attrs)
            lines.node(name, label, **attrs)
        elif op == "edge":
            tail, head, label, attrs = args
            top.edge(tail, head, label, **attrs)
            lines.edge(tail, head, label, **attrs)
        elif op == "edge_shared":
            tail, head, attrs = args
            top.edge(tail, head, **attrs)
            lines.edge_shared(tail, head, attrs)
        elif op == "attr":
            kw, attrs = args
            top.attr(kw, **attrs)
            lines.attr(kw, **attrs)
        elif op == "same_rank":
            (names,) = args
            with top.subgraph() as s:
                s.attr(rank="same")
                for name in names:
                    s.node(name)
            lines.same_rank(names)
        elif op == "nodes":
            names, label, attrs = args
            for name in names:
                top.node(name, label, **attrs)
            lines.nodes(names, label, **attrs)
        elif op == "edges":
            pairs, label, attrs = args
            for tail, head in pairs:
                top.edge(tail, head, label, **attrs)
            lines.edges(pairs, label, **attrs)
    return g.source, graphviz.Digraph("journey", body=lines.body).source


def test_hard_names_labels_and_values_quote_as_the_package_does():
    program: list[tuple] = []
    for text in HARD:
        program.append(("node", text, text, {"tooltip": text, "xlabel": nohtml(text)}))
        program.append(("node", text, nohtml(text), {}))
        program.append(("edge", text, "b", text, {"color": text, "skip": None}))
        for _ in range(2):  # written, then from the shared lists
            program.append(("edge_shared", "b", text, {"xlabel": nohtml(text), "color": text}))
            program.append(("edge_shared", text, "c", {"weight": "2", "label": nohtml(text),
                                                       "constraint": "false"}))
        program.append(("attr", "graph", {"label": text, "fontname": "Helvetica"}))
        program.append(("attr", None, {"rank": text}))
    program.append(("same_rank", HARD))
    theirs, ours = run_both(program)
    assert ours == theirs


def test_a_plain_and_a_nohtml_label_of_the_same_text_stay_apart():
    """The memo must not hand the HTML-like reading of `<b>` to its nohtml twin."""
    lines = Lines()
    assert lines.quote("<b>") == "<b>" and lines.quote(nohtml("<b>")) == '"<b>"'
    assert lines.quote(nohtml("<i>")) == '"<i>"' and lines.quote("<i>") == "<i>"


def test_subgraphs_nest_their_lines_as_the_package_does():
    g = graphviz.Digraph("journey")
    with g.subgraph(name="cluster_0") as c:
        c.attr("graph", label="Stage 0", style="filled,rounded")
        c.node("t0", "T 0", fillcolor="#fff")
        with c.subgraph() as inner:
            inner.attr(rank="same")
            inner.node("t0")
    lines = Lines()
    with lines.subgraph("cluster_0") as c2:
        c2.attr("graph", label="Stage 0", style="filled,rounded")
        c2.node("t0", "T 0", fillcolor="#fff")
        c2.same_rank(["t0"])
    assert graphviz.Digraph("journey", body=lines.body).source == g.source


TEXT = st.one_of(st.sampled_from(HARD), st.text(max_size=12))
VALUE = st.one_of(TEXT, TEXT.map(nohtml))
ATTRS = st.dictionaries(st.sampled_from(["color", "label", "xlabel", "style", "weight", "a b"]),
                        st.one_of(st.none(), VALUE), max_size=4)
LABEL = st.one_of(st.none(), VALUE)
STATEMENT = st.one_of(
    st.tuples(st.just("node"), TEXT, LABEL, ATTRS.map(lambda a: {k: v for k, v in a.items()
                                                                  if k != "label"})),
    st.tuples(st.just("edge"), TEXT, TEXT, LABEL,
              ATTRS.map(lambda a: {k: v for k, v in a.items() if k != "label"})),
    st.tuples(st.just("attr"), st.sampled_from(["graph", "node", "edge", None]), ATTRS),
    st.tuples(st.just("same_rank"), st.lists(TEXT, max_size=4)),
    st.tuples(st.just("nodes"), st.lists(TEXT, max_size=4), LABEL,
              ATTRS.map(lambda a: {k: v for k, v in a.items() if k != "label"})),
    st.tuples(st.just("edges"), st.lists(st.tuples(TEXT, TEXT), max_size=4), LABEL,
              ATTRS.map(lambda a: {k: v for k, v in a.items() if k != "label"})),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(STATEMENT, max_size=12))
def test_any_program_of_statements_gives_the_packages_bytes(program):
    theirs, ours = run_both(program)
    assert ours == theirs

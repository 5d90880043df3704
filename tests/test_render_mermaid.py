"""Mermaid output of every example, parsed back with the grammar checker."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_mermaid_checker import parse_flowchart, parse_journey

import journeydsl
from journeydsl.render.mermaid import score, to_mermaid_flowchart, to_mermaid_journey
from journeydsl.render.text import clean, mermaid_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_journey_diagram_round_trips(example):
    c = journeydsl.load(example).raise_for_errors()
    parsed = parse_journey(to_mermaid_journey(c.journey))
    journey = c.journey
    assert parsed["title"] == clean(journey.title)
    stages = [s for s in journey.stages if s.steps]
    assert [name for name, _ in parsed["sections"]] == [clean(s.label) for s in stages]
    graph = c.graph()
    actors = ({p.id: clean(p.label) for p in journey.personas if p.span is not None}
              or {"default": "Customer"})
    for (name, tasks), stage in zip(parsed["sections"], stages):
        for step in map(journey.step, stage.steps):
            mine = [t for t in tasks if t[0] == clean(step.label)]
            emotions = graph.nodes[step.id]["emotion"] or {}
            # one task per distinct score, every persona once
            assert sorted(a for t in mine for a in t[2]) == sorted(actors.values())
            for task, value, who in mine:
                for persona, label in actors.items():
                    if label in who:
                        assert value == score(emotions.get(persona))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_flowchart_round_trips(example):
    c = journeydsl.load(example).raise_for_errors()
    parsed = parse_flowchart(to_mermaid_flowchart(c.journey, flows=True))
    assert parsed["title"] == clean(c.journey.title)
    graph = c.graph()
    assert [title for _, title, _ in parsed["subgraphs"]] == [
        clean(s.label) for s in c.journey.stages]
    labels = {text.split("<br/>")[0] for text in parsed["nodes"].values()}
    assert {clean(d["label"]) for _, d in graph.nodes(data=True)} <= labels
    transitions = sum(d["rate"] is not None for _, _, d in graph.edges(data=True))
    referrals = sum(d["referral"] is not None for _, _, d in graph.edges(data=True))
    arrows = [e[1] for e in parsed["edges"] if e[0] != "entry"]
    assert arrows.count("-->") == transitions and arrows.count("-.->") == referrals


def test_scores_round_and_clamp():
    assert [score(x) for x in (None, 0.2, 1.49, 2.5, 4.6, 9)] == [3, 1, 1, 3, 5, 5]


@pytest.mark.parametrize("text", ["title x", "Section y", "journey z", "end", "TITLE"])
def test_leading_keywords_are_escaped(text):
    assert not mermaid_text(text).lower().startswith(text.lower()[:3])
    parsed = parse_journey(f"journey\n  section s\n    {mermaid_text(text)}: 3: P\n")
    assert parsed["sections"][0][1][0][0] == text


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_referral_and_exit_links_look_different(example):
    c = journeydsl.load(example).raise_for_errors()
    parsed = parse_flowchart(to_mermaid_flowchart(c.journey))
    styles = parsed["link_styles"]
    referrals = [n for n, (_, arrow, _) in enumerate(parsed["links"]) if arrow == "-.->"]
    exits = [n for n, (_, arrow, _) in enumerate(parsed["links"]) if arrow == "---"]
    moves = [n for n, (_, arrow, _) in enumerate(parsed["links"]) if arrow == "-->"]
    assert exits and all(parsed["links"][n][2].endswith("x") for n in exits)
    assert {styles[n] for n in exits} == {"stroke:#b42318,color:#b42318"}
    assert {styles[n] for n in referrals} <= {"stroke:#6a51a3,color:#6a51a3"}
    assert not any(n in styles for n in moves)  # the default look
    assert set(styles) == set(referrals) | set(exits)


def test_title_carries_scenario_and_persona():
    c = journeydsl.load(REPO / "examples" / "saas_trial.journey").raise_for_errors()
    parsed = parse_flowchart(to_mermaid_flowchart(c.journey, persona="ent"))
    assert parsed["title"] == f"{clean(c.journey.title)} · persona: Enterprise (200+ seats)"


def test_typed_backslash_n_stays_text():
    c = journeydsl.loads('journey "T \\\\n" { stage s "S \\\\n" { touchpoint x "a\\\\nb \\\\\\\\n" } ; '
                         'entry x ; goal x }').raise_for_errors()
    label = c.journey.step("x").label
    assert label == "a\\nb \\\\n"  # as typed: backslash, n
    parsed = parse_flowchart(to_mermaid_flowchart(c.journey))
    assert parsed["nodes"]["n0"].split("<br/>")[0].replace("\u2060", "") == label
    assert parsed["title"] == "T \\n"
    journey = parse_journey(to_mermaid_journey(c.journey))
    assert journey["sections"][0][1][0][0].replace("\u2060", "") == label

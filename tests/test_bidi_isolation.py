"""Right-to-left user text inside a line of our own words is isolated
(FSI ... PDI, U+2068/U+2069), so it cannot reorder the words and numbers
around it: `↩ to <Hebrew> · 10%` kept its 10% after the label, `Personas:
<Hebrew> 60%` its 60%. Written as character references in SVG and HTML
(no raw bidi character in a file); left-to-right text is never wrapped,
so every other output stays byte-identical (the goldens)."""

from __future__ import annotations

from pathlib import Path

import journeydsl
from journeydsl.render import produce
from journeydsl.render.board import board_svg
from journeydsl.render.dot import to_dot
from journeydsl.render.report import report_html
from journeydsl.render.text import CLOSE, OPEN, isolate, isolates

from invariants import assert_clean_picture

REPO = Path(__file__).resolve().parent.parent
RTL = REPO / "tests" / "corpus" / "rtl_labels_mixed_lines.journey"
FSI, PDI = "&#x2068;", "&#x2069;"
PERSONA, OWNER, PAGE, RENEW = "לקוח קטן", "שיווק", "דף מחיר", "חידוש"


def _iso(text: str) -> str:
    return f"{FSI}{text}{PDI}"


def test_only_right_to_left_text_is_marked_and_pairs_become_isolates():
    assert isolate("Pricing page") == "Pricing page" and isolate("Trang giá") == "Trang giá"
    assert isolate(PAGE) == f"{OPEN}{PAGE}{CLOSE}" and isolate("مرحبا x") != "مرحبا x"
    assert isolates(f"to {OPEN}{PAGE}{CLOSE} · 10%") == f"to {_iso(PAGE)} · 10%"
    # a stray mark (a line wrapped inside the label, or one typed by a user)
    # is left out, never an unbalanced isolate
    assert isolates(f"to {OPEN}{PAGE}") == f"to {PAGE}" and isolates(f"a{CLOSE}b") == "ab"


def test_board_isolates_labels_in_mixed_lines():
    journey = journeydsl.load(RTL).journey
    svg = board_svg(journey)
    assert_clean_picture(svg, "board")
    assert f"Personas: {_iso(PERSONA)} 60%, Other 40%" in svg
    assert f"Conversion ({_iso(PERSONA)}) ≥ 5%: " in svg
    assert f"Reach ({_iso(PAGE)}) ≥ 10%: " in svg
    assert f"web · {_iso(OWNER)}" in svg
    assert OPEN not in svg and CLOSE not in svg


def test_map_isolates_stubs_title_and_meta():
    journey = journeydsl.load(RTL).journey
    dot = to_dot(journey)
    assert f"↩ to {_iso(PAGE)} · 10%" in dot and f"↩ from {_iso(RENEW)} · 10%" in dot
    assert f"heb = {_iso(PERSONA)} (60%)" in dot and f"web · {_iso(OWNER)}" in dot
    svg = produce(journey, "svg").decode("utf-8")  # Graphviz decodes them: written back
    assert_clean_picture(svg, "map")
    assert svg.count(FSI) == svg.count(PDI) >= 4
    for fmt in ("mermaid-flowchart", "mermaid-journey"):
        text = produce(journey, fmt).decode("utf-8")
        assert OPEN not in text and CLOSE not in text and PAGE in text


def test_mermaid_isolates_as_entity_codes_and_the_title_as_characters():
    # Mermaid decodes `#8296;` (FSI) and `#8297;` (PDI) in labels; its front
    # matter title is plain text, so there they are the characters themselves.
    journey = journeydsl.load(RTL).journey
    flow = produce(journey, "mermaid-flowchart", persona="heb").decode("utf-8")
    assert f"web · #8296;{OWNER}#8297;<br/>" in flow
    # YAML's escapes: Mermaid's front matter reads them as FSI ... PDI
    assert flow.splitlines()[1] == f'title: "RTL labels · persona: \\u2068{PERSONA}\\u2069"'
    assert "\u2068" not in flow and "\u2069" not in flow
    assert flow.count("#8296;") == flow.count("#8297;") == 1
    # a task that is only user text has nothing around it to reorder: no isolate
    assert "#8296;" not in produce(journey, "mermaid-journey").decode("utf-8")


def test_report_isolates_labels_in_mixed_lines():
    c = journeydsl.load(RTL)
    html = report_html(c.journey, [], "en", RTL.name, c.expectations)
    assert_clean_picture(html, "report")
    assert f"Personas: {_iso(PERSONA)} 60%, Other 40%" in html
    assert f"Conversion ({_iso(PERSONA)}) ≥ 5%" in html  # the scorecard
    assert f"{_iso(RENEW)} → {_iso(PAGE)}" in html  # the levers table
    assert OPEN not in html and CLOSE not in html


def test_left_to_right_journeys_have_no_isolates():
    journey = journeydsl.load(REPO / "examples" / "saas_trial.journey").journey
    assert FSI not in board_svg(journey) and FSI not in to_dot(journey)
    assert "#8296;" not in produce(journey, "mermaid-flowchart").decode("utf-8")

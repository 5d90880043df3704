"""`journey render --lang vi`: the flow map's own words (legend, exits,
entries, delays, flows, the title's key, back-edge stubs) in Vietnamese;
user text untouched, English unchanged (the map goldens)."""

from __future__ import annotations

import re
from pathlib import Path

import journeydsl
from journeydsl.render.dot import legend_items, to_dot
from journeydsl.render.i18n import _WORDS
from journeydsl.render.view import map_view

REPO = Path(__file__).resolve().parents[1]
VN = REPO / "examples" / "vn_label_printer.journey"

# English words of the map, each as the English map writes it
ENGLISH = ("exits ", "churn ", "entry ", "emotion ", "after ", "visits per 1,000", "Legend",
           "persona:", "personas, shown blended", "refers ", "flows: expected", "goal step",
           "value ", "cost ", "↩ to ", "↩ from ")


def _dot(path: Path, lang: str, flows: bool = True, persona: str | None = None) -> str:
    return to_dot(journeydsl.load(path).journey, persona, flows, lang)


def test_vietnamese_map_has_no_english_words():
    text = _dot(VN, "vi")
    for word in ("rời đi ", "rời bỏ ", "điểm vào ", "cảm xúc ", "sau 5d", "lượt ghé / 1,000",
                 "Chú giải", "chân dung, gộp theo tỉ trọng:", "doanh thu ", "chi phí ",
                 "luồng: số khách tiềm năng", "bước mục tiêu", "cảm xúc 1 rất tiêu cực"):
        assert word in text, word
    # labels only: the DOT's own keywords and user ids stay
    labels = " ".join(re.findall(r'label="((?:[^"\\]|\\.)*)"', text))
    for word in ENGLISH:
        assert word not in labels, word
    # the same file in English says them all
    raw = _dot(VN, "en")
    english = " ".join(re.findall(r'label="((?:[^"\\]|\\.)*)"', raw))
    for word in ("exits ", "churn ", "entry ", "emotion ", "after ", "visits per 1,000",
                 "goal step"):
        assert word in english, word
    assert "label=Legend" in raw and 'label="Chú giải"' in text


def test_back_edge_stubs_and_persona_title_in_vietnamese():
    # saas_trial has a long move back (a stub) and a referral; one persona shown
    saas = REPO / "examples" / "saas_trial.journey"
    journey = journeydsl.load(saas).journey
    text = to_dot(journey, journey.persona_ids[0], False, "vi")
    assert "chân dung: " in text
    en = to_dot(journey, journey.persona_ids[0], False, "en")
    assert ("↩ to " in en) == ("↩ về " in text) and ("↩ from " in en) == ("↩ từ " in text)
    assert ("refers " in en) == ("giới thiệu " in text)


def test_legend_strip_in_both_languages():
    journey = journeydsl.load(VN).journey
    vi = [t for t, _ in legend_items(map_view(journey, None, True, "vi"))]
    en = [t for t, _ in legend_items(map_view(journey, None, True))]
    assert len(vi) == len(en) and vi[0] == "cảm xúc 1 rất tiêu cực"
    assert en[0] == "emotion 1 very negative" and en[-1] == "edge width: prospects per 1,000"
    assert all(set(_WORDS["vi"][k]) != set(_WORDS["en"][k]) for k in _WORDS["en"]
               if k.startswith("map_") and k not in ("map_after",))  # every one translated


def test_cli_map_lang(tmp_path):
    from typer.testing import CliRunner

    from journeydsl.cli import app

    out = tmp_path / "m.dot"
    done = CliRunner().invoke(app, ["render", str(VN), "--lang", "vi", "-o", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert "Chú giải" in text and "rời đi" in text


def test_mermaid_in_vietnamese(tmp_path):
    from typer.testing import CliRunner

    from journeydsl.cli import app

    for fmt, words in (("mermaid-flowchart", ("điểm vào", "rời đi", "sau 5d", "chân dung: ")),
                       ("mermaid-journey", ("(kịch bản#58; ",))):
        out = tmp_path / f"m.{fmt}"
        args = ["render", str(VN), "--lang", "vi", "-f", fmt, "-o", str(out)]
        if fmt == "mermaid-flowchart":
            args += ["--persona", journeydsl.load(VN).journey.persona_ids[0]]
        else:
            args += ["--scenario", "ưu_đãi_zalo"]
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
        text = out.read_text(encoding="utf-8")
        for word in words:
            assert word in text, word
        for word in ("[\"entry\"]", "exits ", "after ", "persona:", "scenario#58;"):
            assert word not in text, word
    # a journey without personas: the journey diagram's one actor
    bare = journeydsl.loads('journey "j" { stage a { touchpoint x } ; entry x ; goal x }')
    from journeydsl.render.mermaid import to_mermaid_journey
    assert ": Khách hàng" in to_mermaid_journey(bare.journey, lang="vi")
    assert ": Customer" in to_mermaid_journey(bare.journey)

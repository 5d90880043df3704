"""SVG -> PNG / PDF with vl-convert (`vl-convert-python`, a pip wheel that
bundles resvg): no system package, no browser. Text uses the machine's
fonts: DejaVu Sans (Debian's fonts-dejavu-core; it has every Vietnamese
letter), else Verdana, Liberation Sans or Arial."""

from __future__ import annotations

from ..backends import RenderFailed as RasterFailed


def rasterize(svg: str, fmt: str, scale: float = 1.0) -> bytes:
    try:
        import vl_convert
    except ImportError:  # pragma: no cover - a declared dependency
        raise RasterFailed("PNG and PDF boards need the Python package vl-convert-python: "
                           "`pip install vl-convert-python`") from None
    if fmt == "png":
        data = vl_convert.svg_to_png(svg, scale=scale)
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise RasterFailed("the rasterizer returned no PNG image")
        return data
    if fmt == "pdf":
        data = vl_convert.svg_to_pdf(svg)
        if not data.startswith(b"%PDF"):
            raise RasterFailed("the rasterizer returned no PDF document")
        return data
    raise ValueError(f"the board renders svg, png or pdf, not {fmt}")

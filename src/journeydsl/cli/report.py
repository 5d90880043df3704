"""`journey report`: the stakeholder report, one self-contained HTML file.

Exit codes: 0 written, 1 the journey has errors (or is a library) or a part
of the report failed, 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..render.formats import LANGS
from .common import (
    Choice,
    UsageError,
    choices,
    compile_or_exit,
    error,
    failed_note,
    require_input,
)
from .outputs import check_output, failed_output, write_output
from .root import app

if TYPE_CHECKING:
    Lang = Choice
else:
    Lang = choices("Lang", LANGS)


@app.command()
def report(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The HTML file to write (atomically).", show_default=False,
        metavar="OUT")],
    lang: Annotated[Lang, typer.Option(
        help="Language of the report's own words.")] = Lang("en"),
) -> None:
    """Write a self-contained HTML report: headline numbers, KPI scorecard, board, flow
    map, funnel, scenarios, levers and attribution. Works offline; fetches nothing."""
    raise typer.Exit(report_command(path, output, lang.value))


def report_command(path: Path, out: Path, lang: str = "en") -> int:
    from ..render.backends import RenderFailed
    from ..render.report import report_html

    try:
        # a file is named .html; a device, FIFO or /dev/stdout takes it as it is
        if check_output(out).kind == "file" and out.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"the report is HTML: use `-o {out.with_suffix('.html')}`")
        require_input(path)
        try:
            compiled = compile_or_exit(path, simulable=True, kpis=True)
        except typer.Exit as done:
            return int(done.exit_code or 1)
        for outcome in compiled.expectations:  # the report's scorecard shows them
            if not outcome.passed:
                error(failed_note(outcome))
        check_output(out, path)
        scenarios = [compiled.variant(s) for s in compiled.scenarios]
        text = report_html(compiled.variant(None), scenarios, lang, path.name,
                           compiled.expectations)
        write_output(out, text.encode("utf-8"), path)
    except (UsageError, RenderFailed, OSError) as err:
        return failed_output(err, out)
    return 0

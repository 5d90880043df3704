"""`journey explain | export | schema | new`: the authoring tools (`fmt` is fmt.py).

Each command's body is a plain function that prints and returns the exit
code (0 ok, 1 errors in the input, 2 usage error), so tests call it
directly; the typer commands wrap them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .._gc import paused_gc
from .common import UsageError, compile_or_exit, error
from .root import app


class ExportFormat(str, Enum):
    json = "json"


@app.command()
def explain(
    code: Annotated[str, typer.Argument(
        help="A diagnostic code, such as JD201.", show_default=False, metavar="CODE")],
) -> None:
    """Print the long explanation of a diagnostic code, with an example and the fix."""
    raise typer.Exit(explain_command(code))


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="The .journey file.", show_default=False,
                                         metavar="FILE")],
    output_format: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="json: the compiled model, every reference resolved.")
    ] = ExportFormat.json,
) -> None:
    """Print the compiled model of a journey file (exit 1 if it has errors)."""
    with paused_gc():
        code = export_command(path, output_format.value)
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the compiled model (the "journey" part of `journey export`)."""
    raise typer.Exit(schema_command())


@app.command()
def new(
    name: Annotated[str, typer.Argument(
        help="Name of the new file; .journey is added.", show_default=False, metavar="NAME")],
    template: Annotated[str, typer.Option(
        "--template", "-t",
        help="Starter journey: saas, lifecycle, value-ladder, ecommerce (or marketplace), "
             "registrar or activities.")] = "saas",
    directory: Annotated[Path, typer.Option(
        "--dir", "-d", help="Folder to write the file in.", file_okay=False)] = Path("."),
) -> None:
    """Write a starter journey from one of the examples (never overwrites a file)."""
    raise typer.Exit(new_command(name, template, directory))


def _usage(message: str) -> int:
    error(message)
    return 2


def explain_command(code: str) -> int:
    """Print the long explanation of a diagnostic code."""
    from ..diagnostics import REGISTRY, close_matches
    from .explain import explain_text

    text = explain_text(code)
    if text is not None:
        typer.echo(text, nl=False)
        return 0
    wanted = code.strip().upper()
    if wanted in REGISTRY:  # a registered code whose documentation is not installed
        severity, title = REGISTRY[wanted]
        typer.echo(f"{wanted}: {title}\n\n**Severity:** {severity.value}\n")
        return 0
    hint = close_matches(wanted, REGISTRY, n=3)
    message = f"unknown diagnostic code `{code}`"
    if hint:
        message += " (did you mean " + ", ".join(f"`{h}`" for h in hint) + "?)"
    return _usage(message + "; codes look like JD201, see docs/diagnostics.md")


def export_command(path: Path, fmt: str = "json") -> int:
    """Print the compiled model of one file as JSON."""
    from ..language.export import FORMATS, export_json

    if fmt not in FORMATS:
        return _usage(f"unknown export format `{fmt}` (formats: {', '.join(FORMATS)})")
    try:
        result = compile_or_exit(Path(path))
    except UsageError as err:
        return _usage(str(err))
    except typer.Exit as done:
        return done.exit_code
    typer.echo(export_json(result.compilation))
    return 0


def schema_command() -> int:
    """Print the JSON Schema of the compiled model."""
    from ..language.export import schema_json

    typer.echo(schema_json())
    return 0


def new_command(name: str, template: str = "saas", directory: Path = Path(".")) -> int:
    """Write NAME.journey in DIRECTORY from a template; never overwrite a file."""
    from .templates import TEMPLATES, starter_text, target_path, title_from_name

    if template not in TEMPLATES:
        return _usage(f"unknown template `{template}` (templates: {', '.join(TEMPLATES)})")
    if not name.strip() or Path(name).name in ("", ".", "..") or "\x00" in name:
        return _usage(f"not a usable file name: `{name}`")
    directory = Path(directory)
    if not directory.is_dir():
        return _usage(f"no such directory: {directory}")
    target = target_path(name, directory)
    if target.exists() or target.is_symlink():
        return _usage(f"{target} already exists; not overwriting it")
    if not target.parent.is_dir():
        return _usage(f"no such directory: {target.parent}")
    text = starter_text(template, title_from_name(name))
    try:
        with open(target, "x", encoding="utf-8", newline="\n") as out:  # "x": never overwrite
            out.write(text)
    except FileExistsError:
        return _usage(f"{target} already exists; not overwriting it")
    except OSError as err:
        return _usage(f"cannot write {target}: {(err.strerror or str(err)).lower()}")
    typer.echo(f"wrote {target} from the `{template}` template; check it with "
               f"`journey check {target}`", err=True)
    return 0

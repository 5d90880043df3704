"""Bodies of the `journey explain | export | schema | new` commands and of
`journey check --format sarif|github`.

Plain functions that print and return the exit code (0 ok, 1 errors in the
input, 2 usage error); cli.py wraps them in typer commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from ..diagnostics import Diagnostic


def _usage(message: str) -> int:
    typer.echo(f"journey: {message}", err=True)
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


def _compile_reporting(path: Path):
    """Compile one file; print its diagnostics to stderr; None when it has errors."""
    from ..language.compiler import compile_path
    from ..diagnostics import Severity, render_text

    result = compile_path(path)
    shown = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    for d in shown:
        typer.echo(render_text(d) + "\n", err=True)
    return result if result.ok and result.journey is not None else None


def export_command(path: Path, fmt: str = "json") -> int:
    """Print the compiled model of one file as JSON."""
    from ..language.export import FORMATS, export_json

    if fmt not in FORMATS:
        return _usage(f"unknown export format `{fmt}` (formats: {', '.join(FORMATS)})")
    if not Path(path).is_file():
        return _usage(f"no such file: {path}")
    result = _compile_reporting(Path(path))
    if result is None:
        return 1
    typer.echo(export_json(result))
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


def render_check(diagnostics: Iterable[Diagnostic], fmt: str) -> str:
    """`journey check --format sarif|github` output (for stdout); paths in both
    are relative to the repository root (`ci_formats.repository_root`)."""
    from ..ci.formats import render_github, render_sarif, repository_root

    if fmt == "sarif":
        return render_sarif(diagnostics, repository_root())
    if fmt == "github":
        return render_github(diagnostics, repository_root())
    raise ValueError(f"unknown format {fmt!r}")

"""`journey lsp`: the language server for editors (see docs/editor.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from .root import app


@app.command()
def lsp(
    stdio: Annotated[bool, typer.Option(
        "--stdio", help="Talk LSP over stdin/stdout (the default and only transport; "
        "accepted because editors' clients pass it).")] = True,
) -> None:
    """Run the language server (LSP over stdio): diagnostics as you type, hover,
    definitions, rename, completion, quick fixes, formatting."""
    from ..lsp.server import run

    run()

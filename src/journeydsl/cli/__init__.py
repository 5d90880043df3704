"""The `journey` command (typer): thin commands that parse arguments, call
the library and print.

`root.py` holds the typer app and the console entry point; `common.py` the
plumbing every command shares (compiling and reporting, usage errors, the
output formats); one module per group of commands.
"""

from .root import app, main

__all__ = ["app", "main"]

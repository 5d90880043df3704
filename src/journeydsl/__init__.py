"""journeydsl: customer journeys as code.

>>> import journeydsl
>>> result = journeydsl.loads('''
... journey "Newsletter" {
...   stage visit "Visit" { touchpoint landing "Landing page" { channel web } }
...   stage signup "Sign-up" {}
...   entry landing
...   landing -> signup 12%
...   goal signup
... }''')
>>> result.ok, [s.id for s in result.journey.steps]
(True, ['landing', 'signup'])
>>> result.graph().edges["landing", "signup"]["rate"]
{'default': 0.12}

`result.journey` is the compiled journey (a `CompiledJourney`: steps,
moves, personas, every value as written) that the simulators and renderers
read; `result.model` the journey as written (a pydantic `Journey`).

Problems never raise: they come back as `result.diagnostics` (each with a
code, severity, message and location); `result.raise_for_errors()` turns
errors into a `JourneyError` for scripts that prefer exceptions. What needs
a whole journey (`result.journey` is None then), `result.graph()` and the
simulation, raises `JourneyError` when there are errors.

`dir(journeydsl)` lists the public API, `__all__`.
"""

# No `from __future__ import annotations` and no other module-level imports:
# each would be one more name in the module (annotations below are strings).
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Compiled", "CompiledJourney", "Diagnostic", "Journey", "JourneyError", "Severity",
           "load", "loads", "__version__"]

if TYPE_CHECKING:
    from os import PathLike

    from .api import Compiled
    from .diagnostics import Diagnostic, JourneyError, Severity
    from .language.compiled import CompiledJourney
    from .language.model import Journey
del TYPE_CHECKING

# The public names are imported on first use, so that `journey --version` or
# `journey check --help` do not pay for pydantic and networkx.
_LAZY = {"Compiled": "api", "JourneyError": "diagnostics", "Diagnostic": "diagnostics",
         "Severity": "diagnostics", "Journey": "language.model",
         "CompiledJourney": "language.compiled"}


def __getattr__(name: str) -> object:  # every name it serves is typed above
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'journeydsl' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API and the module's dunders (not the submodules that
    importing the API brought in as attributes)."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__") and n.endswith("__"))})


def load(path: "str | PathLike[str]", max_bytes: int | None = None) -> "Compiled":
    """Compile a `.journey` file and evaluate its `expect` lines. Never raises
    for problems in the file.

    `max_bytes`: files larger than this (2 MiB by default) get a JD004
    diagnostic instead of a parse."""
    from .api import load as load_path

    return load_path(path, max_bytes)


def loads(text: str, path: str = "<string>", max_bytes: int | None = None) -> "Compiled":
    """Compile journey source text. Never raises for problems in the text.

    `path` names the text in diagnostics; `use "..."` lines are resolved
    from its folder (from the working directory for the default)."""
    from .api import loads as load_text

    return load_text(text, path, max_bytes)

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
>>> result.ok, [s.id for s in result.journey.steps()]
(True, ['landing', 'signup'])
>>> result.graph().edges["landing", "signup"]["rate"]
{'default': 0.12}

Problems never raise: they come back as `result.diagnostics` (each with a
code, severity, message and location); `result.raise_for_errors()` turns
errors into a `JourneyError` for scripts that prefer exceptions.
"""

from __future__ import annotations

from pathlib import Path

from .compiler import Compiled, JourneyError, compile_path, compile_text
from .diagnostics import Diagnostic, Severity
from .model import Journey

__version__ = "0.1.0"
__all__ = ["Compiled", "Diagnostic", "Journey", "JourneyError", "Severity", "load", "loads",
           "__version__"]


def load(path: str | Path) -> Compiled:
    """Compile a `.journey` file. Never raises for problems in the file."""
    return compile_path(path)


def loads(text: str, path: str = "<string>") -> Compiled:
    """Compile journey source text. Never raises for problems in the text."""
    return compile_text(text, path)

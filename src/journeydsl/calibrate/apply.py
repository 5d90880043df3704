"""Writing a fit into a journey file, all or nothing: the new text is built
in memory, must compile without errors, and replaces the file atomically
(its mode kept; CRLF line ends and a BOM kept as the file had them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from .estimate import Fit
from .logs import LogSpec
from .proposal import propose
from .rewrite import as_scenario, in_place

if TYPE_CHECKING:
    from ..api import Compiled
    from ..atomic import Snapshot


class WriteRefused(Exception):
    """The fitted file would not compile (or could not be read back): nothing
    was written; `diagnostics` says why."""

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(message)


def fitted_text(path: Path, result: Compiled, fitted: Fit, spec: LogSpec,
                scenario: str | None, add_moves: bool) -> tuple[str, dict[str, Any]]:
    """The file's new text and what was written (changes, skipped)."""
    from ..fmt import format_text
    from ..language.compiler import compile_text

    compilation = result.compilation
    source, model, names = compilation.source, compilation.model, compilation.names
    journey = result.simulable()
    assert source is not None and model is not None and names is not None  # compiled clean
    text = source.text
    proposal = propose(journey, fitted, text, add_moves)
    skipped = list(proposal.skipped)
    if scenario is not None:
        label = f"Observed in {spec.label}".replace("\\", "/").replace('"', "'")
        new = as_scenario(text, model, scenario, label, journey, proposal)
    else:
        new, more = in_place(text, model, names, journey, proposal)
        skipped += more
    if format_text(text, str(path)) == text:  # a canonical file stays canonical
        new = format_text(new, str(path)) or new
    check = compile_text(new, str(path))
    if not check.ok:
        raise WriteRefused(f"the fitted {path} would not compile, so it was not written",
                           check.errors)
    old_lines, new_lines = text.splitlines(), new.splitlines()
    changed = [line for line in new_lines if line not in set(old_lines)]
    return new, {"path": str(path), "scenario": scenario, "changed_lines": changed,
                 "skipped": skipped}


def write_fit(snapshot: Snapshot, result: Compiled, fitted: Fit, spec: LogSpec,
              scenario: str | None, add_moves: bool) -> dict[str, Any]:
    """Write the fit into the file read as `snapshot` (when the journey was
    compiled): atomically, its mode and owner kept, and only if the file
    has not changed since (atomic.rewrite); WriteRefused when it cannot."""
    from ..atomic import Refused, rewrite

    path = Path(snapshot.name)
    new, written = fitted_text(path, result, fitted, spec, scenario, add_moves)
    raw = snapshot.data
    data = new.replace("\n", "\r\n") if b"\r\n" in raw else new
    encoded = (("\ufeff" if raw.startswith(b"\xef\xbb\xbf") else "") + data).encode("utf-8")
    if encoded != raw:
        try:
            rewrite(snapshot, encoded, command="fit")
        except Refused as refused:
            raise WriteRefused(str(refused), []) from None
        except OSError as err:
            raise WriteRefused(f"cannot write `{path}`: {err.strerror or err}", []) from None
    return written

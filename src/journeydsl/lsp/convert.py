"""journeydsl diagnostics as LSP diagnostics, per file.

Each diagnostic keeps its code, span, message and help (as the last line
of the message, `help: ...`, as `journey check` prints it); its code links
to its explanation (`journey explain CODE`: docs/diagnostics.md), its
labels become related locations. A problem inside a file the document
uses is published on that file, and shown once more on the `use` line
that brings it, so it is seen where one is typing.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from lsprotocol import types

from ..diagnostics import REGISTRY, Diagnostic, Severity
from ..display import lines_shown
from ..language.source import SourceFile, Span
from .analysis import Analysis
from .positions import location, span_range, uri_of

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@lru_cache(maxsize=1)
def _docs_uri() -> str | None:
    from ..cli.explain import docs_path

    path = docs_path()
    return uri_of(str(path)) if path.is_file() else None


def explanation_uri(code: str) -> str | None:
    """Where a code is explained: its section of docs/diagnostics.md.

    >>> explanation_uri("JD201").endswith("diagnostics.md#jd201-unknown-step-or-stage")
    True
    """
    base = _docs_uri()
    if base is None or code not in REGISTRY:
        return None
    heading = f"{code} {REGISTRY[code][1]}".lower()
    slug = re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")
    return f"{base}#{slug}"


def to_lsp(d: Diagnostic, source: SourceFile, prefix: str = "",
           where: types.Range | None = None) -> types.Diagnostic:
    """One diagnostic, located in `source` (at `where` when given)."""
    # user text (labels, paths) with control, bidi and invisible characters
    # escaped, as `journey check` shows it (`display`)
    message = lines_shown(prefix + d.message + (f"\nhelp: {d.help}" if d.help else ""))
    href = explanation_uri(d.code)
    related = [types.DiagnosticRelatedInformation(
        location(label.source or source, label.span), lines_shown(label.message or "see here"))
        for label in d.labels]
    if where is not None:  # shown at the `use` line: point at where it really is
        related.insert(0, types.DiagnosticRelatedInformation(
            location(source, d.span) if d.span else types.Location(
                uri_of(source.path), span_range(source, None)), "the problem is here"))
    return types.Diagnostic(
        range=where or span_range(source, d.span),
        message=message,
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=href) if href else None,
        source="journey",
        related_information=related or None,
    )


def by_file(analysis: Analysis,
            own_uri: str | None = None) -> dict[str, list[types.Diagnostic]]:
    """The document's diagnostics, by the URI of the file each one is in
    (the document's own URI, as the client wrote it, always present)."""
    own = analysis.source
    own_uri = own_uri or uri_of(analysis.path)
    out: dict[str, list[types.Diagnostic]] = {own_uri: []}
    for d in analysis.diagnostics:
        source = d.source
        if source is None or source is own or source.path == own.path:
            out[own_uri].append(to_lsp(d, own))
            continue
        out.setdefault(uri_of(source.path), []).append(to_lsp(d, source))
        use_span = _use_line(analysis, source.path)
        if use_span is not None:
            shown = os.path.relpath(source.path, os.path.dirname(own.path) or ".")
            out[own_uri].append(to_lsp(d, source, f"in `{shown}`: ", span_range(own, use_span)))
    return out


def _use_line(analysis: Analysis, path: str) -> Span | None:
    """The span of the `use` line that brings the file `path` (directly, or
    the first `use` when it comes through another used file)."""
    model = analysis.compilation.model
    if model is None or not model.uses:
        return None
    folder = os.path.dirname(analysis.path)
    real = os.path.realpath(path)
    for use in model.uses:
        if os.path.realpath(os.path.join(folder, use.path)) == real:
            return use.path_span
    return model.uses[0].path_span

"""Quick fixes from the diagnostics' hints, formatting, semantic tokens.

A hint that names the fix becomes an edit: "did you mean `pricing`?"
replaces the name (or the keyword, the persona, the metric, the path);
"did you mean `30%`?" turns a bare number into a rate; "write `2w`" joins
`2 weeks`; a missing `}` (JD104) is added where the hint says. Formatting
is `journey fmt`'s printer; semantic tokens tell stages, touchpoints,
personas, scenarios and metrics apart, declarations marked.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from lsprotocol import types

from ..diagnostics import Diagnostic
from ..language.source import SourceFile, Span
from .analysis import Analysis
from .convert import to_lsp
from .positions import position, span_range, units

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_WRITE = re.compile(r"^write `([^`]+)`")


def code_actions(analysis: Analysis, start: int, end: int, uri: str) -> list[types.CodeAction]:
    source = analysis.source
    out = []
    for d in analysis.diagnostics:
        if d.span is None or not d.help or (d.source is not None and d.source is not source):
            continue
        if d.span.end < start or d.span.start > end:
            continue
        fix = _fix(d, source)
        if fix is None:
            continue
        title, span, new_text = fix
        out.append(types.CodeAction(
            title=title, kind=types.CodeActionKind.QuickFix,
            diagnostics=[to_lsp(d, source)], is_preferred=True,
            edit=types.WorkspaceEdit(changes={uri: [
                types.TextEdit(span_range(source, span), new_text)]})))
    return out


def _fix(d: Diagnostic, source: SourceFile) -> tuple[str, Span, str] | None:
    """(title, span to replace, new text) for a diagnostic whose hint names
    the fix; None when it does not."""
    text, span, hint = source.text, d.span, d.help or ""
    if span is None:
        return None
    old = text[span.start:span.end]
    if d.code == "JD104":
        return _close_block(d, span, source)
    found = _DID_YOU_MEAN.search(hint)
    if found is not None:
        new = found.group(1)
        if old.startswith('"') and old.endswith('"') and not new.startswith('"'):
            new = f'"{new}"'  # a `use` path keeps its quotes
        if new == old or "\n" in old:
            return None
        return f"Replace `{old}` with `{new}`", span, new
    found = _WRITE.search(hint)
    if found is not None:
        # `2 weeks` -> `2w`, `12 %` -> `12%`: the hint's number, written
        # before the flagged word, starts what it replaces
        new = found.group(1)
        line_start = text.rfind("\n", 0, span.start) + 1
        before = re.search(r"(\d[\d_]*(?:\.\d+)?)[ \t]*\Z", text[line_start:span.start])
        lead = re.match(r"\d[\d_]*(?:\.\d+)?", new)
        if before and lead and before.group(1) == lead.group():
            return f"Write `{new}`", Span(line_start + before.start(1), span.end), new
    return None


def _close_block(d: Diagnostic, span: Span, source: SourceFile) -> tuple[str, Span, str] | None:
    """JD104: the `}` where the hint says: before the line that shows the
    block ended, or at the end of the file; indented as the block's head."""
    text, hint = source.text, d.help or ""
    opening = next((label.span for label in d.labels if label.source is None), None)
    indent = ""
    if opening is not None:
        head = text[text.rfind("\n", 0, opening.start) + 1:]
        indent = head[:len(head) - len(head.lstrip(" \t"))]
    if "before this line" in hint:
        at = text.rfind("\n", 0, span.start) + 1
        return "Add the missing `}`", Span(at, at), f"{indent}}}\n"
    end = len(text.rstrip())
    return "Add the missing `}`", Span(end, end), f"\n{indent}}}"


def formatting(analysis: Analysis) -> list[types.TextEdit]:
    """The whole document in `journey fmt`'s layout; no edit when it has
    syntax errors (fmt leaves such a file alone) or is formatted already."""
    from ..fmt import format_text

    source = analysis.source
    formatted = format_text(source.text, analysis.path)
    if formatted is None or formatted == source.text:
        return []
    return [types.TextEdit(span_range(source, Span(0, len(source.text))), formatted)]


# ---------------------------------------------------------------- semantic tokens

TOKEN_TYPES = ["namespace", "function", "parameter", "class", "property"]
TOKEN_MODIFIERS = ["declaration", "defaultLibrary"]
LEGEND = types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)
_TYPE = {"stage": 0, "touchpoint": 1, "persona": 2, "scenario": 3, "metric": 4}


def semantic_tokens(analysis: Analysis) -> types.SemanticTokens:
    index = analysis.index
    if index is None:
        return types.SemanticTokens(data=[])
    source = analysis.source
    text = source.text
    starts = source.line_starts
    data: list[int] = []
    last_line = last_col = 0
    covered = 0
    for occurrence in index.occurrences:
        span = occurrence.span
        if span.start > len(text) or span.end > len(text) or span.start < covered:
            continue  # in a used file, or the same name seen twice
        covered = span.end
        line = bisect_right(starts, span.start) - 1
        if "\n" in text[span.start:span.end]:
            continue
        col = position(source, span.start).character if not text.isascii() \
            else span.start - starts[line]
        length = units(text[span.start:span.end])
        modifiers = (1 if occurrence.definition else 0) | (2 if occurrence.kind == "metric" else 0)
        delta_line = line - last_line
        data += [delta_line, col - last_col if delta_line == 0 else col, length,
                 _TYPE[occurrence.kind], modifiers]
        last_line, last_col = line, col
    return types.SemanticTokens(data=data)


__all__ = ["LEGEND", "code_actions", "formatting", "semantic_tokens"]

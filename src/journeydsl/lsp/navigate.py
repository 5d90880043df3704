"""Go to definition, find references, rename and the document outline.

Steps, stages, personas and scenarios are found across the files a journey
uses (their declarations come with their spans, `symbols.Index.locate`
says which file) and across the other open documents that name the same
declaration (a persona library open beside the journeys that use it).
Rename refuses a name that is not an identifier, a keyword, or one that is
already taken.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

from lsprotocol import types

from ..display import one_line
from ..language.grammar import keywords
from ..language.source import SourceFile, Span
from .analysis import Analysis
from .positions import location, span_range, uri_of
from .symbols import _NAME, Occurrence

_NOUN = {"step": "step or stage", "persona": "persona", "scenario": "scenario"}


class RenameRefused(Exception):
    """Why a rename cannot be done (shown to the user)."""


def definition(analysis: Analysis, offset: int) -> types.Location | None:
    index = analysis.index
    found = index.at(offset) if index else None
    if index is None or found is None or found.group == "metric":
        return None
    declared = index.definition(found.group, found.name)
    if declared is None:
        return None
    return location(*index.locate(declared.span))


def _declaration_key(analysis: Analysis, occurrence: Occurrence) -> tuple | None:
    """Where a name is declared, as (file path, span there): the same
    declaration seen from different documents."""
    index = analysis.index
    declared = index.definition(occurrence.group, occurrence.name) if index else None
    if index is None or declared is None:
        return None
    source, span = index.locate(declared.span)
    return (source.path, span, occurrence.group)


def occurrences(analysis: Analysis, offset: int, others: Iterable[Analysis] = ()
                ) -> tuple[Occurrence, list[tuple[SourceFile, Span, bool]]] | None:
    """The name at the offset and every place it is written, in this file,
    the files it uses and the other documents: (file, span, is declaration)."""
    index = analysis.index
    found = index.at(offset) if index else None
    if index is None or found is None or found.group == "metric":
        return None
    key = _declaration_key(analysis, found)
    places: dict[tuple[str, Span], tuple[SourceFile, Span, bool]] = {}
    for doc in (analysis, *others):
        doc_index = doc.index
        if doc_index is None:
            continue
        for occurrence in doc_index.named(found.group, found.name):
            if doc is not analysis and (key is None or _declaration_key(doc, occurrence) != key):
                continue
            source, span = doc_index.locate(occurrence.span)
            places.setdefault((source.path, span), (source, span, occurrence.definition))
    return found, sorted(places.values(), key=lambda p: (p[0].path != analysis.path,
                                                          p[0].path, p[1].start))


def references(analysis: Analysis, offset: int, include_declaration: bool,
               others: Iterable[Analysis] = ()) -> list[types.Location]:
    found = occurrences(analysis, offset, others)
    if found is None:
        return []
    return [location(source, span) for source, span, declared in found[1]
            if include_declaration or not declared]


def prepare_rename(analysis: Analysis, offset: int) -> types.Range | None:
    index = analysis.index
    found = index.at(offset) if index else None
    if index is None or found is None or found.group == "metric":
        return None
    return span_range(analysis.source, found.span)


def rename(analysis: Analysis, offset: int, new_name: str,
           others: Iterable[Analysis] = ()) -> types.WorkspaceEdit:
    """The edits renaming the name at the offset; RenameRefused says why not."""
    others = list(others)
    found = occurrences(analysis, offset, others)
    if found is None:
        raise RenameRefused("only steps, stages, personas and scenarios can be renamed here")
    occurrence, places = found
    new_name = unicodedata.normalize("NFC", new_name.strip())
    refuse_name(analysis, occurrence, new_name, others)
    changes: dict[str, list[types.TextEdit]] = {}
    for source, span, _ in places:
        changes.setdefault(uri_of(source.path), []).append(
            types.TextEdit(span_range(source, span), new_name))
    return types.WorkspaceEdit(changes=changes)


def refuse_name(analysis: Analysis, occurrence: Occurrence, new_name: str,
                others: Iterable[Analysis] = ()) -> None:
    noun = _NOUN[occurrence.group]
    if new_name == occurrence.name:
        raise RenameRefused(f"the {noun} is already called `{new_name}`")
    if not _NAME.fullmatch(new_name):
        raise RenameRefused(f"`{new_name}` is not a name: use letters, digits and `_`, "
                            "not starting with a digit")
    if new_name in keywords():
        raise RenameRefused(f"`{new_name}` is a keyword of the language: choose another name")
    key = _declaration_key(analysis, occurrence)
    for doc in (analysis, *others):
        index = doc.index
        if index is None:
            continue
        taken = index.definition(occurrence.group, new_name)
        # another document matters when it names the declaration renamed
        if taken is not None and (doc is analysis or _declaration_key(doc, occurrence) == key):
            source, span = index.locate(taken.span)
            line = source.line_col(span.start)[0]
            raise RenameRefused(f"a {noun} `{new_name}` already exists "
                                f"({source.path}:{line}): names must stay unique")


# ---------------------------------------------------------------- outline

def document_symbols(analysis: Analysis) -> list[types.DocumentSymbol]:
    """The outline: the journey, its personas, stages (with their
    touchpoints) and scenarios, as declared in this file."""
    model = analysis.model
    source = analysis.compilation.source
    if model is None or source is None:
        return []
    own = len(source.text)

    def symbol(name: str, detail: str, kind: types.SymbolKind, span: Span, id_span: Span,
               children: list | None = None) -> types.DocumentSymbol:
        return types.DocumentSymbol(name=name, detail=one_line(detail), kind=kind,
                                    range=span_range(source, span | id_span),
                                    selection_range=span_range(source, id_span),
                                    children=children or None)

    children = [symbol(p.id, p.label, types.SymbolKind.Interface, p.span, p.id_span)
                for p in model.personas if p.span.start <= own]
    for stage in model.stages:
        if stage.span.start > own:
            continue
        touchpoints = [symbol(t.id, t.label, types.SymbolKind.Event, t.span, t.id_span)
                       for t in stage.touchpoints]
        children.append(symbol(stage.id, stage.label, types.SymbolKind.Namespace, stage.span,
                               stage.id_span, touchpoints))
    children += [symbol(s.id, s.label, types.SymbolKind.Class, s.span, s.id_span)
                 for s in model.scenarios]
    title_span = Span(model.span.start, model.span.start + len("journey"))
    return [symbol(model.title, "journey", types.SymbolKind.Module,
                   Span(model.span.start, max(model.span.end, title_span.end)), title_span,
                   children)]

"""`journey lsp`: the language server (pygls), over stdio: the handler of
each request and notification (the documents and their analyses are
`documents.JourneyServer`'s).

Nothing a user sends can stop the server: every handler catches what it
does not expect, logs one line to the client and answers as if there were
nothing to say; no Python traceback reaches the editor.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ..language.incremental import Incremental
from . import actions, complete, hover, navigate
from .analysis import Analysis
from .documents import REQUEST_FAILED, Document, JourneyServer
from .positions import offset, use_encoding

server = JourneyServer()


_Handler = TypeVar("_Handler", bound=Callable[[JourneyServer, Any], Any])


def _safe(default: Callable[[], object] = lambda: None) -> Callable[[_Handler], _Handler]:
    """A handler that never fails: an unexpected error is logged in one
    line and the client gets `default()`; a refusal meant for the user
    (`JsonRpcException`) goes through."""

    def wrap(handler: _Handler) -> _Handler:
        @functools.wraps(handler)
        def run(ls: JourneyServer, params: object) -> object:
            try:
                return handler(ls, params)
            except JsonRpcException:
                raise
            except Exception as err:
                ls.log(f"internal error in {handler.__name__}: {type(err).__name__}: {err}")
                return default()

        return cast(_Handler, run)

    return wrap


class _AtPosition(Protocol):
    """What every request about one place in a document has (lsprotocol's
    parameter classes repeat these fields rather than share a base)."""

    @property
    def text_document(self) -> types.TextDocumentIdentifier: ...
    @property
    def position(self) -> types.Position: ...


def _at(ls: JourneyServer, params: _AtPosition) -> tuple[Analysis, int] | None:
    analysis = ls.analysis(params.text_document.uri)
    if analysis is None or analysis.compilation.source is None:
        return None
    return analysis, offset(analysis.source, params.position)


# ---------------------------------------------------------------- documents

@server.feature(types.INITIALIZED)
@_safe()
def initialized(ls: JourneyServer, params: types.InitializedParams) -> None:
    use_encoding(ls.workspace.position_encoding)  # what pygls agreed with the client


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@_safe()
def did_open(ls: JourneyServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.setdefault(uri, Document())
    ls.refresh(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@_safe()
def did_change(ls: JourneyServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@_safe()
def did_save(ls: JourneyServer, params: types.DidSaveTextDocumentParams) -> None:
    for uri in ls.dependents(params.text_document.uri):  # they read the saved file
        ls.documents[uri].incremental = Incremental()
        ls.documents[uri].analysis = None
        ls.refresh(uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@_safe()
def did_change_files(ls: JourneyServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A used file changed on disk (saved elsewhere, a `git checkout`)."""
    for uri in dict.fromkeys(u for change in params.changes for u in ls.dependents(change.uri)):
        ls.documents[uri].incremental = Incremental()
        ls.documents[uri].analysis = None
        ls.refresh(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@_safe()
def did_close(ls: JourneyServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.pop(uri, None)
    if document is not None:
        if document.timer is not None:
            document.timer.cancel()
        if document.pending is not None:
            document.pending.cancel()
    ls.publish(uri, None)


@server.feature(types.SHUTDOWN)
@_safe()
def shutdown(ls: JourneyServer, params: None) -> None:
    ls.evaluator.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- features

@server.feature(types.TEXT_DOCUMENT_HOVER)
@_safe()
def on_hover(ls: JourneyServer, params: types.HoverParams) -> types.Hover | None:
    found = _at(ls, params)
    return hover.hover(*found) if found else None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@_safe()
def on_definition(ls: JourneyServer, params: types.DefinitionParams) -> types.Location | None:
    found = _at(ls, params)
    return navigate.definition(*found) if found else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@_safe(list)
def on_references(ls: JourneyServer, params: types.ReferenceParams) -> list[types.Location]:
    found = _at(ls, params)
    if not found:
        return []
    return navigate.references(*found, params.context.include_declaration,
                               ls.others(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
@_safe()
def on_prepare_rename(ls: JourneyServer, params: types.PrepareRenameParams
                      ) -> types.Range | None:
    found = _at(ls, params)
    return navigate.prepare_rename(*found) if found else None


@server.feature(types.TEXT_DOCUMENT_RENAME)
@_safe()
def on_rename(ls: JourneyServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    found = _at(ls, params)
    if not found:
        return None
    try:
        return navigate.rename(*found, params.new_name, ls.others(params.text_document.uri))
    except navigate.RenameRefused as refused:
        raise JsonRpcException(str(refused), code=REQUEST_FAILED) from None


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_safe(list)
def on_document_symbol(ls: JourneyServer, params: types.DocumentSymbolParams
                       ) -> list[types.DocumentSymbol]:
    analysis = ls.analysis(params.text_document.uri)
    return navigate.document_symbols(analysis) if analysis else []


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=[">", "(", "[", ".", ","]))
@_safe(list)
def on_completion(ls: JourneyServer, params: types.CompletionParams) -> types.CompletionList:
    found = _at(ls, params)
    return types.CompletionList(is_incomplete=False,
                                items=complete.completion(*found) if found else [])


@server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP,
                types.SignatureHelpOptions(trigger_characters=[" ", "("],
                                           retrigger_characters=[" ", ")", "="]))
@_safe()
def on_signature_help(ls: JourneyServer, params: types.SignatureHelpParams
                      ) -> types.SignatureHelp | None:
    found = _at(ls, params)
    return complete.signature_help(*found) if found else None


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@_safe(list)
def on_code_action(ls: JourneyServer, params: types.CodeActionParams
                   ) -> list[types.CodeAction]:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    if analysis is None or analysis.compilation.source is None:
        return []
    source = analysis.source
    return actions.code_actions(analysis, offset(source, params.range.start),
                                offset(source, params.range.end), uri)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@_safe(list)
def on_formatting(ls: JourneyServer, params: types.DocumentFormattingParams
                  ) -> list[types.TextEdit]:
    analysis = ls.analysis(params.text_document.uri)
    return actions.formatting(analysis) if analysis else []


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, actions.LEGEND)
@_safe(lambda: types.SemanticTokens(data=[]))
def on_semantic_tokens(ls: JourneyServer, params: types.SemanticTokensParams
                       ) -> types.SemanticTokens:
    analysis = ls.analysis(params.text_document.uri)
    return actions.semantic_tokens(analysis) if analysis else types.SemanticTokens(data=[])


def run() -> None:
    """Serve one client over stdin/stdout until it exits."""
    # pygls and asyncio log tracebacks; the client gets one line from us instead
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.CRITICAL + 1)
    logging.lastResort = None
    threading.excepthook = lambda hook: server.log(
        f"internal error in a thread: {hook.exc_type.__name__}: {hook.exc_value}")
    gc.freeze()  # what start-up imported stays: never scanned again
    gc.disable()  # collected when typing pauses (`collect_later`)
    server.start_io()

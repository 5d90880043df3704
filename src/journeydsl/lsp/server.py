"""`journey lsp`: the language server (pygls), over stdio.

Each open document keeps an incremental compiler (`language.incremental`)
and its latest `Analysis`. A change is compiled at once, or, in a burst of
typing, after a short pause (`DEBOUNCE`), and its diagnostics are published
straight away; the `expect` lines and the numbers hover shows are computed
once typing pauses (`EVALUATE_DELAY`), in a worker thread, and published
when they are still current, so typing never waits for the simulator. A
request (hover, definition, ...) on a document whose analysis is behind its
text compiles it first.

Nothing a user sends can stop the server: every handler catches what it
does not expect, logs one line to the client and answers as if there were
nothing to say; no Python traceback reaches the editor.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..language.incremental import Incremental
from . import actions, complete, hover, navigate
from .analysis import Analysis, Evaluation, analyze, evaluate
from .convert import by_file
from .positions import offset, path_of, use_encoding

#: Seconds without a change before a document is compiled again.
DEBOUNCE = 0.03
#: Seconds after a compile before its `expect` lines and numbers are
#: computed (in a worker thread), unless the document changes again.
EVALUATE_DELAY = 0.3
#: Seconds after the last compile before the cyclic garbage collector runs.
IDLE_COLLECT = 2.0
_REQUEST_FAILED = -32803  # LSP's RequestFailed: the client shows the message


@dataclass
class _Document:
    incremental: Incremental = field(default_factory=Incremental)
    analysis: Analysis | None = None
    timer: asyncio.TimerHandle | None = None
    pending: Future[Evaluation] | None = None  # the evaluation of `analysis`
    compiled_at: float = float("-inf")  # the event loop's time at the end of the last compile


class JourneyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("journey", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents: dict[str, _Document] = {}
        #: target URI -> owner URI -> diagnostics the owner's analysis puts there
        self.contributions: dict[str, dict[str, list[types.Diagnostic]]] = {}
        self.evaluator = ThreadPoolExecutor(1, thread_name_prefix="journey-evaluate")
        self.debounce = DEBOUNCE
        self.evaluate_delay = EVALUATE_DELAY
        self.collector: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ analyses
    def analysis(self, uri: str) -> Analysis | None:
        """The document's analysis, compiled now if its text changed since."""
        document = self.documents.get(uri)
        if document is None:
            return None
        text = self.workspace.get_text_document(uri).source
        if document.analysis is None or document.analysis.text != text:
            self.refresh(uri)
        return document.analysis

    def others(self, uri: str) -> list[Analysis]:
        return [d.analysis for u, d in self.documents.items() if u != uri and d.analysis]

    def schedule(self, uri: str) -> None:
        """Compile after a change: at once when the document was quiet (a
        single edit waits for nothing), else once the burst of typing pauses
        for `debounce` seconds (changes that came in while it compiled)."""
        document = self.documents.get(uri)
        if document is None:
            return
        loop = asyncio.get_running_loop()
        quiet = document.timer is None and loop.time() - document.compiled_at > self.debounce
        if document.timer is not None:
            document.timer.cancel()
        document.timer = loop.call_later(0 if quiet else self.debounce, self.refresh, uri)

    def refresh(self, uri: str) -> None:
        """Compile the document's current text and publish its diagnostics."""
        document = self.documents.get(uri)
        if document is None:
            return
        if document.timer is not None:
            document.timer.cancel()
            document.timer = None
        text_document = self.workspace.get_text_document(uri)
        text = text_document.source
        try:
            analysis = analyze(document.incremental, path_of(uri), text, text_document.version)
        except Exception as err:  # a bug in the compiler: say so, keep the server up
            self.log(f"cannot compile {uri}: {type(err).__name__}: {err}")
            document.incremental = Incremental()
            return
        document.analysis = analysis
        self.publish(uri, analysis)
        self.collect_later()
        document.compiled_at = asyncio.get_running_loop().time()
        if document.pending is not None:
            document.pending.cancel()
            document.pending = None
        loop = asyncio.get_running_loop()
        loop.call_later(self.debounce, self.warm, uri, analysis)
        if analysis.compilation.ok:
            # Once typing pauses: the simulator must not slow the next compile.
            loop.call_later(self.evaluate_delay, self.start_evaluation, uri, analysis)
        else:  # a file with errors gets no numbers: nothing more to compute
            analysis.evaluation = Evaluation(analysis.diagnostics)

    def warm(self, uri: str, analysis: Analysis) -> None:
        """Index the names before the first hover asks, if typing has paused."""
        document = self.documents.get(uri)
        if document is not None and document.analysis is analysis and document.timer is None:
            try:
                analysis.index  # noqa: B018  (a cached property)
            except Exception as err:  # pragma: no cover - a bug: the hover will say
                self.log(f"cannot index {uri}: {type(err).__name__}: {err}")

    def collect_later(self) -> None:
        """The cyclic GC runs when typing pauses (`run` turns its automatic
        runs off): a run scans every live object, tens of milliseconds with
        a large journey's model, which would land in the middle of a compile."""
        if self.collector is not None:
            self.collector.cancel()
        self.collector = asyncio.get_running_loop().call_later(IDLE_COLLECT, gc.collect)

    def start_evaluation(self, uri: str, analysis: Analysis) -> None:
        document = self.documents.get(uri)
        if document is None or document.analysis is not analysis:
            return  # changed since: its own evaluation is scheduled
        loop = asyncio.get_running_loop()

        def back(done: Future[Evaluation]) -> None:  # in the worker thread
            try:
                loop.call_soon_threadsafe(self.evaluated, uri, analysis, done)
            except RuntimeError:  # the server stopped meanwhile
                pass

        document.pending = self.evaluator.submit(evaluate, analysis)
        document.pending.add_done_callback(back)

    def evaluated(self, uri: str, analysis: Analysis, done: Future[Evaluation]) -> None:
        document = self.documents.get(uri)
        if done.cancelled() or document is None or document.analysis is not analysis:
            return  # the document changed since: its new analysis is on its way
        analysis.evaluation = done.result()  # evaluate() never raises
        if analysis.evaluation.failed:
            self.log(f"cannot evaluate {uri}: {analysis.evaluation.failed}")
        self.publish(uri, analysis)

    def dependents(self, uri: str) -> list[str]:
        """Open documents that use the file at `uri`."""
        real = os.path.realpath(path_of(uri))
        return [u for u, d in self.documents.items()
                if u != uri and d.analysis and real in d.analysis.compilation.imports]

    # ------------------------------------------------------------ diagnostics
    def publish(self, owner: str, analysis: Analysis | None) -> None:
        found = by_file(analysis, owner) if analysis is not None else {}
        targets = set(found) | {t for t, owners in self.contributions.items() if owner in owners}
        for target in sorted(targets):
            owners = self.contributions.setdefault(target, {})
            if target in found:
                owners[owner] = found[target]
            else:
                owners.pop(owner, None)
            merged: list[types.Diagnostic] = []
            seen: set[tuple[int, int, object, str]] = set()
            for diagnostics in owners.values():
                for d in diagnostics:
                    key = (d.range.start.line, d.range.start.character, d.code, d.message)
                    if key not in seen:
                        seen.add(key)
                        merged.append(d)
            version = analysis.version if analysis is not None and target == owner else None
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=merged, version=version))
            if not owners:
                del self.contributions[target]

    def log(self, message: str) -> None:
        try:
            self.window_log_message(types.LogMessageParams(types.MessageType.Error,
                                                           f"journey lsp: {message}"))
        except Exception:  # pragma: no cover - the client is gone
            pass

    def report_server_error(self, error: Exception, source: object) -> None:
        """pygls' own errors (a malformed message, say): one line, no traceback."""
        self.log(f"{type(error).__name__}: {error}")


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
    ls.documents.setdefault(uri, _Document())
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
        raise JsonRpcException(str(refused), code=_REQUEST_FAILED) from None


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

"""The documents the language server holds (`JourneyServer`): each open
document keeps an incremental compiler (`language.incremental`) and its
latest `Analysis`. A change is compiled at once, or, in a burst of typing,
after a short pause (`DEBOUNCE`), and its diagnostics are published
straight away; the `expect` lines and the numbers hover shows are computed
once typing pauses (`EVALUATE_DELAY`), in a worker thread, and published
when they are still current, so typing never waits for the simulator. A
request (hover, definition, ...) on a document whose analysis is behind its
text compiles it first. Problems found in a used file are published under
that file's URI too, merged over the documents that use it.
"""

from __future__ import annotations

import asyncio
import gc
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from .. import __version__
from ..language.incremental import Incremental
from .analysis import Analysis, Evaluation, analyze, evaluate
from .convert import by_file
from .positions import path_of

#: Seconds without a change before a document is compiled again.
DEBOUNCE = 0.03
#: Seconds after a compile before its `expect` lines and numbers are
#: computed (in a worker thread), unless the document changes again.
EVALUATE_DELAY = 0.3
#: Seconds after the last compile before the cyclic garbage collector runs.
IDLE_COLLECT = 2.0
REQUEST_FAILED = -32803  # LSP's RequestFailed: the client shows the message


@dataclass
class Document:
    incremental: Incremental = field(default_factory=Incremental)
    analysis: Analysis | None = None
    timer: asyncio.TimerHandle | None = None
    pending: Future[Evaluation] | None = None  # the evaluation of `analysis`
    compiled_at: float = float("-inf")  # the event loop's time at the end of the last compile


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, answering a request whose parameters it cannot read
    (pygls drops such a message, and the client would wait forever)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
            raise  # pygls then reports it: one line to the client (report_server_error)


class JourneyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("journey", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        self.documents: dict[str, Document] = {}
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
        """pygls' own errors (a malformed message, say): one line, no traceback.
        A refusal meant for the user (a rename to a taken name) is no error."""
        if isinstance(error, JsonRpcException) and error.code == REQUEST_FAILED:
            return
        self.log(f"{type(error).__name__}: {error}")

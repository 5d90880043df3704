"""Benchmark for `journey lsp` (issue 15: editor support).

Run:  python benchmarks/bench_lsp.py [--edits N] [--hovers N] [--lines N]

Drives the real server (`python -m journeydsl.cli lsp`, a subprocess over
stdio) with a real LSP client (pygls) on a generated 2,000-line journey
(about 400 touchpoints and 1,600 transitions) and prints, measured in the
same run:

  1. diagnostics after a change: the time from sending `didChange` (one
     character typed, at places spread over the file, 0.25 s apart as in
     typing) to receiving `publishDiagnostics` for that version, the
     server's debounce included (target <= 150 ms, median and worst);
     against the baseline, a whole compile of the same text in this process
     (what a server without the incremental compile would spend);
  2. hover on steps spread over the file (target <= 20 ms, median and
     worst), against the round trip of a request that does no work (a
     hover on a blank line);
  3. the CPU time of the server's work per change, measured in this
     process (the incremental compile and the diagnostics converted)
     against a whole compile: what the wall times above come to on an idle
     machine, less the debounce (30 ms) and the pipe. The load average is
     printed first: on a machine shared with other work, wall times stretch
     and CPU times do not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_check import generate  # noqa: E402


def _position(text: str, at: int):
    from lsprotocol import types

    line = text.count("\n", 0, at)
    return types.Position(line, at - (text.rfind("\n", 0, at) + 1))


async def measure(text: str, path: Path, edits: int, hovers: int) -> dict[str, list[float]]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("bench", "0")
    published: dict[int | None, float] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.setdefault(params.version, time.perf_counter())
        arrived.set()

    async def wait_for(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 30)
        return published[version]

    await client.start_io(sys.executable, "-m", "journeydsl.cli", "lsp")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=path.parent.as_uri()))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="journey", version=1, text=text)))
    await wait_for(1)
    out: dict[str, list[float]] = {"change": [], "hover": [], "noop": []}
    version = 1
    for k in range(edits):
        # type one character at a place spread over the file (a rate's digit)
        at = text.index("% ", int(len(text) * (k + 0.5) / edits) % (len(text) - 200))
        change = types.TextDocumentContentChangePartial(
            range=types.Range(_position(text, at), _position(text, at)), text="0")
        text = text[:at] + "0" + text[at:]
        version += 1
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        out["change"].append(await wait_for(version) - sent)
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.5)  # let the numbers (reach, drop-off) arrive
    ident = types.TextDocumentIdentifier(uri)
    blank = types.Position(text.count("\n", 0, text.index("\n\n")) + 1, 0)
    for k in range(hovers):
        at = text.index("\n  t", int(len(text) * (k + 0.5) / hovers) % (len(text) - 200)) + 3
        started = time.perf_counter()
        shown = await client.text_document_hover_async(types.HoverParams(ident,
                                                                          _position(text, at)))
        out["hover"].append(time.perf_counter() - started)
        assert shown is not None and "touchpoint" in shown.contents.value
        started = time.perf_counter()
        await client.text_document_hover_async(types.HoverParams(ident, blank))
        out["noop"].append(time.perf_counter() - started)
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--hovers", type=int, default=40)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()

    import gc
    import os

    from journeydsl.language.compiler import compile_text
    from journeydsl.language.incremental import Incremental
    from journeydsl.lsp.analysis import analyze
    from journeydsl.lsp.convert import by_file

    print("load average %.2f %.2f %.2f on %d CPUs" % (*os.getloadavg(), os.cpu_count() or 1))
    text = generate(stages=max(1, args.lines // 100), per_stage=20)
    lines = text.count("\n")
    whole = []
    for _ in range(5):
        started = time.perf_counter()
        compilation = compile_text(text, "big.journey")
        whole.append(time.perf_counter() - started)
    print(f"generated journey: {lines} lines, {len(compilation.journey.steps)} steps, "
          f"{len(compilation.journey.moves)} transitions")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.journey"
        path.write_text(text, encoding="utf-8")
        found = asyncio.run(measure(text, path, args.edits, args.hovers))

    def ms(values: list[float]) -> str:
        median, worst = statistics.median(values) * 1000, max(values) * 1000
        return f"median {median:6.1f} ms  worst {worst:6.1f} ms"

    change, hover = found["change"], found["hover"]
    print(f"baseline: whole compile in process  {ms(whole)}")
    print(f"diagnostics after a change          {ms(change)}  "
          f"(target <= 150 ms) {'ok' if statistics.median(change) <= 0.150 else 'MISSED'}"
          f"  ({statistics.median(change) / statistics.median(whole):.2f}x the whole compile)")
    print(f"baseline: hover round trip, no work {ms(found['noop'])}")
    print(f"hover on a step                     {ms(hover)}  "
          f"(target <= 20 ms) {'ok' if statistics.median(hover) <= 0.020 else 'MISSED'}")

    # 3. CPU time of the same work in process (the server runs with the GC
    # paused between idle collections, as here)
    incremental, edited = Incremental(), text
    analyze(incremental, "big.journey", edited)
    cpu_change, cpu_whole = [], []
    gc.disable()
    try:
        for k in range(args.edits):
            at = edited.index("% ", int(len(edited) * (k + 0.5) / args.edits))
            edited = edited[:at] + "0" + edited[at:]
            started = time.process_time()
            by_file(analyze(incremental, "big.journey", edited))
            cpu_change.append(time.process_time() - started)
            started = time.process_time()
            compile_text(edited, "big.journey")
            cpu_whole.append(time.process_time() - started)
    finally:
        gc.enable()
    print(f"baseline: whole compile, CPU time   {ms(cpu_whole)}")
    print(f"server work per change, CPU time    {ms(cpu_change)}  "
          f"({statistics.median(cpu_change) / statistics.median(cpu_whole):.2f}x the whole "
          f"compile)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

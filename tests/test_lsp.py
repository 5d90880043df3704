"""`journey lsp` end to end, with a real LSP client (pytest-lsp) talking to
the server as a subprocess over stdio: initialize, open, change, hover,
definition, references, rename, completion, code actions, formatting,
semantic tokens, shutdown; and bad input never kills the server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "journeydsl.cli", "lsp", "--stdio"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                rename=types.RenameClientCapabilities(prepare_support=True),
                hover=types.HoverClientCapabilities(
                    content_format=[types.MarkupKind.Markdown]),
                completion=types.CompletionClientCapabilities(
                    completion_item=types.ClientCompletionItemOptions(
                        documentation_format=[types.MarkupKind.Markdown]))),
            general=types.GeneralClientCapabilities(
                position_encodings=[types.PositionEncodingKind.Utf16])),
        root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


async def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = _uri(path)
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="journey", version=1,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


async def _diagnostics(client: LanguageClient, uri: str, until=lambda ds: True,
                       timeout: float = 20.0) -> list[types.Diagnostic]:
    """The document's diagnostics once `until` holds for them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and until(found):
            return list(found)
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"no such diagnostics for {uri}: {found}")
        try:
            await asyncio.wait_for(client.wait_for_notification(
                types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        except asyncio.TimeoutError:
            pass


def _position(text: str, needle: str, occurrence: int = 0, shift: int = 0) -> types.Position:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    at += shift
    line = text.count("\n", 0, at)
    return types.Position(line, at - (text.rfind("\n", 0, at) + 1))


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _hover(client: LanguageClient, uri: str, where: types.Position) -> str:
    found = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), where))
    assert found is not None
    return found.contents.value


SAAS = EXAMPLES / "saas_trial.journey"


async def test_open_a_clean_example_then_hover_a_step(client: LanguageClient):
    uri = await _open(client, SAAS)
    assert await _diagnostics(client, uri) == []
    text = SAAS.read_text(encoding="utf-8")
    where = _position(text, "pricing     -> trial", shift=2)
    deadline = asyncio.get_running_loop().time() + 20
    while True:  # reach appears once the exact engine ran, off the typing path
        shown = await _hover(client, uri, where)
        if "| reach |" in shown or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert '"Pricing page"' in shown and "stage `consideration`" in shown
    assert "→ `trial`" in shown and "| 25% | 10% |" in shown
    assert "| reach |" in shown and "| drop-off |" in shown and "blended" in shown
    persona = await _hover(client, uri, _position(text, "[ent: 10%]", shift=2))
    assert "persona `ent`" in persona and "share of new prospects: 30%" in persona
    metric = await _hover(client, uri, _position(text, "expect ltv_cac >= 3", shift=8))
    assert "metric `ltv_cac`" in metric and "current value" in metric and "holds ✓" in metric


async def test_typing_a_typo_gives_the_checks_diagnostic_and_a_quick_fix(client):
    uri = await _open(client, SAAS)
    await _diagnostics(client, uri)
    text = SAAS.read_text(encoding="utf-8").replace("comparison -> pricing 35%",
                                                    "comparison -> pricng 35%")
    _change(client, uri, 2, text)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "JD201" for d in ds))
    typo = next(d for d in found if d.code == "JD201")
    assert typo.message == "unknown step `pricng`\nhelp: did you mean `pricing`?"
    assert typo.range.start == _position(text, "pricng")
    assert typo.code_description.href.endswith("#jd201-unknown-step-or-stage")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), typo.range, types.CodeActionContext([typo])))
    assert [a.title for a in actions] == ["Replace `pricng` with `pricing`"]
    (edit,) = actions[0].edit.changes[uri]
    assert edit.new_text == "pricing" and edit.range == typo.range
    explained = await _hover(client, uri, typo.range.start)
    assert "JD201: unknown step or stage" in explained and "journey explain JD201" in explained
    _change(client, uri, 3, SAAS.read_text(encoding="utf-8"))
    assert await _diagnostics(client, uri, lambda ds: not ds) == []


async def test_failed_expect_lines_arrive_after_the_compile(client):
    text = SAAS.read_text(encoding="utf-8").replace("expect conversion >= 1%",
                                                    "expect conversion >= 50%")
    uri = await _open(client, SAAS, text)
    found = await _diagnostics(client, uri, lambda ds: any(d.code == "JD501" for d in ds))
    (failed,) = [d for d in found if d.code == "JD501"]
    assert failed.message.startswith("expectation failed: `conversion` is ")
    assert failed.range.start == _position(text, "conversion >= 50%")


async def test_definition_references_and_rename(client):
    uri = await _open(client, SAAS)
    await _diagnostics(client, uri)
    text = SAAS.read_text(encoding="utf-8")
    ident = types.TextDocumentIdentifier(uri)
    use = _position(text, "seo_blog   -> pricing", shift=15)
    found = await client.text_document_definition_async(types.DefinitionParams(ident, use))
    assert found.uri == uri and found.range.start == _position(text, "pricing \"Pricing page\"")
    refs = await client.text_document_references_async(types.ReferenceParams(
        context=types.ReferenceContext(include_declaration=True), text_document=ident,
        position=use))
    assert len(refs) == text.count("-> pricing") + text.count("pricing ") - 1 or len(refs) >= 6
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(ident, use))
    assert prepared is not None
    edit = await client.text_document_rename_async(types.RenameParams(ident, use, "plans"))
    edits = edit.changes[uri]
    assert len(edits) == len(refs) and {e.new_text for e in edits} == {"plans"}
    with pytest.raises(Exception, match="a step or stage `trial` already exists"):
        await client.text_document_rename_async(types.RenameParams(ident, use, "trial"))
    with pytest.raises(Exception, match="is a keyword"):
        await client.text_document_rename_async(types.RenameParams(ident, use, "goal"))


async def test_definition_across_used_files(client):
    path = EXAMPLES / "b2b_webinar.journey"
    uri = await _open(client, path)
    assert await _diagnostics(client, uri) == []
    text = path.read_text(encoding="utf-8")
    persona = text.index("[", text.index("entry")) + 1
    where = _position(text, text[persona:persona + 3], shift=0)
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(uri), where))
    assert found.uri == _uri(EXAMPLES / "lib" / "b2b_personas.journey")


async def test_completion_signature_symbols_and_tokens(client):
    text = ('journey "x" {\n  persona a { share 60% }\n  persona b { share 40% }\n'
            '  stage s { touchpoint one "One"; touchpoint two }\n  entry one\n'
            '  one -> \n  expect \n  goal two\n}\n')
    path = ROOT / "tests" / "scratch_completion.journey"
    uri = await _open(client, path, text)
    await _diagnostics(client, uri)
    ident = types.TextDocumentIdentifier(uri)

    async def labels(position):
        found = await client.text_document_completion_async(
            types.CompletionParams(ident, position))
        return [item.label for item in found.items]

    assert {"one", "two", "s"} <= set(await labels(_position(text, "one -> ", shift=7)))
    assert {"conversion", "clv", "reach"} <= set(await labels(_position(text, "expect ",
                                                                        shift=7)))
    keywords = await labels(_position(text, "  goal", shift=2))
    assert {"stage", "persona", "expect", "scenario"} <= set(keywords)
    signature = await client.text_document_signature_help_async(types.SignatureHelpParams(
        ident, _position(text, "expect ", shift=7)))
    assert signature.signatures[0].label.startswith("expect METRIC")
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(ident))
    (journey,) = symbols
    assert [c.name for c in journey.children] == ["a", "b", "s"]
    assert [c.name for c in journey.children[2].children] == ["one", "two"]
    tokens = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(ident))
    assert len(tokens.data) % 5 == 0 and len(tokens.data) >= 5 * 6


async def test_formatting_uses_fmt(client):
    messy = 'journey "x" {\n stage s {touchpoint a;touchpoint b}\nentry a\n  a->b 30%\ngoal b }\n'
    uri = await _open(client, ROOT / "tests" / "scratch_format.journey", messy)
    await _diagnostics(client, uri)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=2,
                                                                   insert_spaces=True)))
    from journeydsl.fmt import format_text

    assert len(edits) == 1 and edits[0].new_text == format_text(messy)


BAD_INPUTS = [
    "",
    "\x00\x01\x02 binary",
    "journey",
    'journey "x" {' * 3000,
    "[" * 5000 + "]" * 5000,
    'journey "x" { stage s { touchpoint a } ; entry a ; a -> a 100% ; goal a }',
    'journey "x" { use "/etc/passwd" ; use "../../../../nothing.journey" }',
    'journey "😀" { stage 😀 { touchpoint 日本 } ; entry 日本 ; goal 日本 }',
    'journey "x" {\r\n  stage s { touchpoint a }\r\n  entry a\r\n  goal a\r\n}',
    "journey \"x\" { expect conversion(a.b.c) >= 1% }",
]


async def test_bad_input_never_kills_the_server(client):
    path = ROOT / "tests" / "scratch_bad.journey"
    uri = await _open(client, path, "")
    ident = types.TextDocumentIdentifier(uri)
    for version, text in enumerate(BAD_INPUTS, start=2):
        _change(client, uri, version, text)
        await _diagnostics(client, uri)
        for line in range(3):
            where = types.Position(line, 5)
            await client.text_document_hover_async(types.HoverParams(ident, where))
            await client.text_document_completion_async(types.CompletionParams(ident, where))
            await client.text_document_definition_async(types.DefinitionParams(ident, where))
            await client.text_document_code_action_async(types.CodeActionParams(
                ident, types.Range(where, where), types.CodeActionContext([])))
        await client.text_document_formatting_async(types.DocumentFormattingParams(
            ident, types.FormattingOptions(tab_size=2, insert_spaces=True)))
        await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(ident))
        await client.text_document_document_symbol_async(types.DocumentSymbolParams(ident))
    # a position past the end, a document never opened: answered, not fatal
    await client.text_document_hover_async(types.HoverParams(ident, types.Position(999, 999)))
    other = types.TextDocumentIdentifier(_uri(ROOT / "tests" / "never_opened.journey"))
    assert await client.text_document_hover_async(
        types.HoverParams(other, types.Position(0, 0))) is None
    # still alive and right
    _change(client, uri, 99, SAAS.read_text(encoding="utf-8"))
    assert await _diagnostics(client, uri, lambda ds: not ds) == []


def _framed(*messages: dict | bytes) -> bytes:
    out = b""
    for message in messages:
        body = message if isinstance(message, bytes) else json.dumps(message).encode("utf-8")
        out += b"Content-Length: %d\r\n\r\n" % len(body) + body
    return out


def _read_framed(data: bytes) -> list[dict]:
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


async def test_malformed_messages_are_answered_over_raw_stdio():
    """What a client library never sends, written as bytes: a request whose
    parameters are not the method's gets an error answer (pygls alone would
    drop it, leaving the client waiting), a body that is not JSON gets one
    log line; the server goes on and exits cleanly."""
    rpc = {"jsonrpc": "2.0"}
    sent = _framed(
        {**rpc, "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {**rpc, "method": "initialized", "params": {}},
        {**rpc, "id": 2, "method": "textDocument/hover", "params": {"bogus": 1}},
        b"{not json",
        {**rpc, "id": 3, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": "file:///never/opened.journey"},
            "position": {"line": 0, "character": 0}}},
        {**rpc, "id": 4, "method": "shutdown"},
        {**rpc, "method": "exit"})
    done = subprocess.run([sys.executable, "-m", "journeydsl.cli", "lsp"], input=sent,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    answers = {m["id"]: m for m in _read_framed(done.stdout) if "id" in m}
    assert answers[2]["error"]["code"] == -32602  # InvalidParams
    assert answers[3]["result"] is None and answers[4]["result"] is None
    logs = [m["params"]["message"] for m in _read_framed(done.stdout)
            if m.get("method") == "window/logMessage"]
    assert any("JSONDecodeError" in line for line in logs), logs

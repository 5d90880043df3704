"""Where a command writes its file (`render -o`, `report -o`, `render
--watch`, and any later option that names an output): what is at OUT
decides how, and nothing but a regular file is ever replaced.

- nothing yet, or a regular file (through a symlink: the file it points
  to): written atomically, a temporary file beside it renamed over it; an
  existing file keeps its permission bits (and, for root, its owner);
- a character device or a FIFO (`/dev/null`, `/dev/tty`, a named pipe):
  a plain stream write: opened for writing, never created, truncated,
  renamed or replaced (a FIFO waits for its reader, as a shell's `>` does);
- `/dev/stdout`, `/dev/stderr`, `/dev/stdin`, `/dev/fd/N`, `/proc/self/fd/N`:
  written to that descriptor as it is, after what the command already
  printed (so `-o /dev/stdout > map.svg` appends, as the shell meant);
- a socket, a block device or a folder; a `.journey` file; the input file
  itself: refused (UsageError, exit 2).

PNG and PDF are never written to a terminal, wherever it is reached from.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import NamedTuple

from .common import UsageError, error

_FD_ALIAS = re.compile(r"/dev/(?:fd/(?P<fd>\d+)|(?P<std>stdin|stdout|stderr))"
                       r"|/proc/(?:self|(?P<pid>\d+))/fd/(?P<pfd>\d+)")
_STD = {"stdin": 0, "stdout": 1, "stderr": 2}


class Target(NamedTuple):
    kind: str  # "file" (replaced atomically), "stream" (device or FIFO), "fd"
    fd: int | None = None


def failed_output(err: Exception, out: Path | None) -> int:
    """Say why a command that writes OUT stopped; its exit code.

    For the errors every writing command catches alike: a usage error (2),
    a failed drawing or report part (1, the message as raised), a write
    that the system refused (1, naming OUT)."""
    if isinstance(err, UsageError):
        error(str(err))
        return 2
    if isinstance(err, OSError):
        error(f"cannot write `{out}`: {(err.strerror or str(err)).lower()}")
        return 1
    error(str(err))
    return 1


def refuse_journey(out: Path) -> None:
    """UsageError when OUT is a `.journey` file: checked before anything
    else, the output format included."""
    if out.suffix.lower() == ".journey":
        raise UsageError(f"refusing to write over `{out}`: .journey inputs are never "
                         "overwritten (name OUT after what it holds: map.svg, map.dot ...)")


def check_output(out: Path, source: Path | None = None) -> Target:
    """What OUT is and how it will be written (see the module); UsageError
    when it must not be written."""
    refuse_journey(out)
    fd = fd_alias(out)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise UsageError(f"cannot write to `{out}`: descriptor {fd} is not open") from None
        return Target("fd", fd)
    try:
        info = os.stat(out)
    except OSError:  # nothing there (or unreachable: the write will say why)
        return Target("file")
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise UsageError(f"`{out}` is a directory")
    if stat.S_ISREG(mode):
        if source is not None and _same(out, source):
            raise UsageError(f"refusing to write over the input file `{out}`")
        return Target("file")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Target("stream")
    what = "a socket" if stat.S_ISSOCK(mode) else "a block device" if stat.S_ISBLK(mode) \
        else "not a regular file"
    raise UsageError(f"refusing to write to `{out}`: it is {what} (OUT can be a file, a "
                     "character device such as /dev/null, or a FIFO)")


def fd_alias(out: Path) -> int | None:
    """The descriptor a path such as `/dev/stdout` or `/dev/fd/3` names.

    >>> fd_alias(Path("/dev/stdout")), fd_alias(Path("/dev/fd/63")), fd_alias(Path("map.svg"))
    (1, 63, None)
    """
    found = _FD_ALIAS.fullmatch(os.path.normpath(os.path.abspath(out)))
    if found is None or (found["pid"] and int(found["pid"]) != os.getpid()):
        return None
    if found["std"]:
        return _STD[found["std"]]
    return int(found["fd"] or found["pfd"])


def write_output(out: Path, data: bytes, source: Path | None = None,
                 binary: str = "") -> None:
    """Write `data` to OUT as `check_output` says (checked again now);
    `binary`: the format's name when it is not text (png, pdf), refused on
    a terminal. Raises UsageError, OSError."""
    target = check_output(out, source)
    if target.fd is not None:  # kind "fd"
        write_fd(target.fd, data, binary)
    elif target.kind == "stream":
        _write_stream(out, data, binary)
    else:
        _write_file(out, data)


def write_fd(fd: int, data: bytes, binary: str = "") -> None:
    """Write to an open descriptor; stdout and stderr through `sys`'s
    streams, after what they hold (their failures: see streams.py)."""
    stream = {1: sys.stdout, 2: sys.stderr}.get(fd)
    tty = stream.isatty() if stream is not None else os.isatty(fd)
    if binary and tty:
        _no_terminal(binary)
    if stream is None:
        _write_all(fd, data)
        return
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:  # a text stream (e.g. a test runner's capture)
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()


def _no_terminal(binary: str) -> None:
    raise UsageError(f"refusing to write {binary.upper()} to a terminal: use -o FILE")


def _write_stream(out: Path, data: bytes, binary: str) -> None:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(out, flags)  # no O_CREAT, no O_TRUNC: never makes or empties a file
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):  # a file took the device's place since the check
            os.close(fd)
            fd = -1
            _write_file(out, data)
            return
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise UsageError(f"refusing to write to `{out}`: not a file, device or FIFO")
        if binary and os.isatty(fd):
            _no_terminal(binary)
        _write_all(fd, data)
    finally:
        if fd >= 0:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_file(out: Path, data: bytes) -> None:
    """Atomically, through a symlink to an existing file, keeping its mode
    (and, as root, its owner); never replacing anything but a regular file."""
    from ..atomic import write_atomic

    real = Path(os.path.realpath(out)) if out.is_symlink() and out.exists() else out
    mode = owner = None
    try:
        info = os.stat(real)
    except OSError:
        info = None
    if info is not None and stat.S_ISREG(info.st_mode):
        mode = info.st_mode & 0o7777
        owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None

    def still_a_file() -> None:
        try:
            now = os.lstat(real)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(now.st_mode):
            raise UsageError(f"refusing to replace `{out}`: it is no longer a regular file")

    write_atomic(real, data, mode, owner, still_a_file)


def _same(out: Path, source: Path) -> bool:
    try:
        return out.samefile(source)
    except OSError:
        return False

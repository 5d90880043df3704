"""Writing files so that a reader (or a crash) never sees half of one, and
rewriting a file (`journey fmt`) without losing an edit made meanwhile, its
mode or its owner.

`write_atomic` writes a temporary file in the target's folder and renames
it over the target. `rewrite` replaces a file read earlier (`Snapshot`):
the new file gets the old one's permission bits and owner, and just before
the rename the file is read again; if anything changed (its identity:
device, inode, size, modification and change times, mode, owner; or its
bytes), nothing is replaced and `Refused` says so. What is left is the
instant between that last look and the rename, which no program can close
without a lock the editor would have to take too.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Errors creating the temporary file that mean "this folder is not writable".
_FOLDER_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS)


class FolderNotWritable(OSError):
    """The temporary file could not be created in the target's folder."""


class OwnerNotKept(PermissionError):
    """The new file could not be given the old one's owner (only root may)."""


class Refused(Exception):
    """A rewrite that was not done, and why (the message is for the user)."""


def write_atomic(out: Path, data: bytes, mode: int | None = None,
                 owner: tuple[int, int] | None = None,
                 check: Callable[[], None] | None = None) -> None:
    """Write through a temporary file in the same directory, then rename:
    readers see the old file or the new one, never a partial one, and a
    failure leaves no temporary file behind. `mode`: the permission bits of
    the new file (default: what a new file gets under the umask); `owner`:
    its (uid, gid) when not the process's; `check`: called just before the
    rename, raises to stop it."""
    directory = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        if err.errno in _FOLDER_ERRORS:
            raise FolderNotWritable(err.errno, err.strerror, str(directory)) from None
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            made = os.fstat(fd)
            if owner is not None and owner != (made.st_uid, made.st_gid):
                try:
                    os.fchown(fd, *owner)  # before fchmod: chown clears set-id bits
                except PermissionError as err:
                    raise OwnerNotKept(err.errno, err.strerror, str(out)) from None
            os.fchmod(fd, mode)
            os.fsync(fd)
        if check is not None:
            check()
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass(frozen=True)
class Snapshot:
    """A file as it was read: where it really is (symlinks followed), its
    identity and its bytes."""

    name: str  # as the user named it, for messages
    path: Path
    identity: tuple[int, ...]
    mode: int
    owner: tuple[int, int]
    data: bytes

    @classmethod
    def read(cls, path: Path, max_bytes: int) -> Snapshot:
        """Read a regular file (at most `max_bytes + 1` bytes; raises
        NotRegularFile for a FIFO or device, without blocking, or OSError)."""
        from .language.source import read_regular

        data, info = read_regular(path, max_bytes)
        return cls(str(path), Path(os.path.realpath(path)), _identity(info), info.st_mode & 0o7777,
                   (info.st_uid, info.st_gid), data)

    def read_only(self) -> bool:
        """No one may write it by its mode (for root, who may write anything),
        or this process may not (for anyone else)."""
        if os.geteuid() == 0:
            return not self.mode & 0o222
        return not os.access(self.path, os.W_OK)

    def unchanged(self) -> bool:
        """The file at `path` is still this one: same identity, same bytes."""
        from .language.source import read_regular

        try:
            data, info = read_regular(self.path, len(self.data))
        except OSError:
            return False
        return _identity(info) == self.identity and data == self.data


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns,
            info.st_mode, info.st_uid, info.st_gid)


def rewrite(snapshot: Snapshot, data: bytes, force: bool = False,
            command: str = "fmt") -> None:
    """Replace the file read as `snapshot` with `data`, atomically, keeping
    its mode and owner; raises Refused (nothing written) when the file is
    read-only (unless `force`), changed since it was read, its folder is not
    writable, or its owner cannot be kept. `command` names what rewrites it
    in the messages (`fmt`, `fit`)."""
    shown = snapshot.name
    doing = {"fmt": "formatted", "fit": "fitted"}.get(command, "rewritten")
    verb = "format" if command == "fmt" else "write"
    if snapshot.read_only() and not force:
        raise Refused(f"`{shown}` is read-only (mode {snapshot.mode:04o}): left as it is"
                      + (" (--force formats it, keeping its mode)" if command == "fmt" else ""))

    def check() -> None:
        if not snapshot.unchanged():
            raise Refused(f"`{shown}` changed while it was being {doing}: left as it is "
                          f"(run {command} again)")

    check()  # a first look, before writing anything
    try:
        write_atomic(snapshot.path, data, snapshot.mode, snapshot.owner, check)
    except FolderNotWritable as err:
        raise Refused(f"cannot {verb} `{shown}` safely: its folder is not writable "
                      f"({(err.strerror or '').lower()}), and {command} writes a new file beside "
                      "it and renames it over the old one, so that no failure can leave half a "
                      "file: left as it is") from None
    except OwnerNotKept:
        raise Refused(f"cannot {verb} `{shown}` keeping its owner (uid {snapshot.owner[0]}, "
                      f"gid {snapshot.owner[1]}): left as it is") from None

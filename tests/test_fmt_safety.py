"""`journey fmt` never loses anything (atomic.py, cli/fmt.py): an edit made
while it runs (compared by identity and bytes just before the rename; 50
injected races, 0 lost edits), a read-only file (unless --force), the
file's mode and owner, a file in a folder it cannot write (a clean message,
exit 1), and a FIFO named *.journey (refused at once, never read)."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import journeydsl
import journeydsl.fmt as fmt_module
from journeydsl import atomic
from journeydsl.cli.fmt import fmt_command

UGLY = 'journey "x" {\nstage a{}\n   entry a\n}\n'
PRETTY = fmt_module.format_text(UGLY)
ROOT = os.geteuid() == 0
SRC = Path(journeydsl.__file__).resolve().parents[1]


@pytest.fixture
def ugly(tmp_path) -> Path:
    path = tmp_path / "ugly.journey"
    path.write_text(UGLY, encoding="utf-8")
    return path


# ------------------------------------------------------------------ read-only, mode, owner

def test_read_only_file_is_left_alone_unless_forced(ugly, capsys):
    ugly.chmod(0o444)
    assert fmt_command([ugly]) == 1
    err = capsys.readouterr().err
    assert "is read-only (mode 0444)" in err and "--force" in err
    assert ugly.read_text() == UGLY and stat.S_IMODE(ugly.stat().st_mode) == 0o444
    assert fmt_command([ugly], check=True) == 1 and fmt_command([ugly], diff=True) == 0
    assert fmt_command([ugly], force=True) == 0
    assert ugly.read_text() == PRETTY and stat.S_IMODE(ugly.stat().st_mode) == 0o444


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o755])
def test_mode_is_kept(ugly, mode):
    ugly.chmod(mode)
    assert fmt_command([ugly]) == 0
    assert stat.S_IMODE(ugly.stat().st_mode) == mode and ugly.read_text() == PRETTY


@pytest.mark.skipif(not ROOT, reason="giving a file away needs root")
def test_owner_is_kept(ugly):
    os.chown(ugly, 4242, 4343)
    ugly.chmod(0o640)
    assert fmt_command([ugly]) == 0
    info = ugly.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4242, 4343, 0o640)
    assert ugly.read_text() == PRETTY


def test_owner_that_cannot_be_kept_is_refused(ugly, monkeypatch, capsys):
    def fchown(fd, uid, gid):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", fchown)
    monkeypatch.setattr(atomic.Snapshot, "read_only", lambda self: False)
    real_read = atomic.Snapshot.read.__func__

    def read(cls, path, max_bytes):
        snap = real_read(cls, path, max_bytes)
        return atomic.Snapshot(snap.name, snap.path, snap.identity, snap.mode,
                               (snap.owner[0] + 1, snap.owner[1]), snap.data)

    monkeypatch.setattr(atomic.Snapshot, "read", classmethod(read))
    assert fmt_command([ugly]) == 1
    assert "keeping its owner" in capsys.readouterr().err and ugly.read_text() == UGLY
    assert [p.name for p in ugly.parent.iterdir()] == ["ugly.journey"]


def test_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.journey"
    real.write_text(UGLY)
    link = tmp_path / "link.journey"
    link.symlink_to(real)
    assert fmt_command([link]) == 0
    assert link.is_symlink() and real.read_text() == PRETTY


# ------------------------------------------------------------------ folders it cannot write

@pytest.mark.parametrize("code", [13, 30])  # EACCES, EROFS
def test_folder_not_writable_is_a_clean_refusal(ugly, monkeypatch, capsys, code):
    def mkstemp(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    assert fmt_command([ugly]) == 1
    err = capsys.readouterr().err
    assert f"cannot format `{ugly}` safely: its folder is not writable" in err
    assert "left as it is" in err and ugly.read_text() == UGLY


def test_writable_file_in_a_read_only_folder_for_real():
    """As a user without root's bypass: a child process that drops to
    `nobody` (as root), or the current user with the folder at 0555."""
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="journey-ro-"))  # pytest's own folders are 0700
    try:
        folder = top / "ro"
        folder.mkdir()
        path = folder / "ugly.journey"
        path.write_text(UGLY)
        fmt_module.format_text(UGLY)  # parser built before dropping privileges
        top.chmod(0o755)
        if ROOT:
            os.chown(path, 65534, 65534)
        folder.chmod(0o555)
        code, err = _in_child(path)
        folder.chmod(0o755)
        assert code == 1, err
        assert "its folder is not writable (permission denied)" in err and "Traceback" not in err
        assert path.read_text() == UGLY
    finally:
        shutil.rmtree(top)


def _in_child(path: Path) -> tuple[int, str]:
    """fmt_command([path]) in a forked child (as `nobody` when root): its
    exit code and what it wrote to stderr."""
    import traceback

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(read_end)
            sys.stderr = os.fdopen(write_end, "w")
            if ROOT:
                os.setgid(65534)
                os.setuid(65534)
            code = fmt_command([path])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        err = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


# ------------------------------------------------------------------ FIFOs

def test_fifo_named_journey_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.journey"
    os.mkfifo(fifo)
    (tmp_path / "ugly.journey").write_text(UGLY)
    env = dict(os.environ, PYTHONPATH=str(SRC))
    done = subprocess.run([sys.executable, "-m", "journeydsl.cli", "fmt", str(fifo)], check=False,
                          capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1
    assert "cannot read" in done.stderr and "not a regular file" in done.stderr
    folder = subprocess.run([sys.executable, "-m", "journeydsl.cli", "fmt", "--no-ignore",
                             str(tmp_path)], check=False, capture_output=True, text=True,
                            env=env, timeout=30)
    assert folder.returncode == 0, folder.stderr  # searching a folder skips the FIFO
    assert (tmp_path / "ugly.journey").read_text() == PRETTY
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# ------------------------------------------------------------------ edits while fmt runs

def _edit(path: Path, kind: str, n: int) -> bytes:
    """Change the file as an editor or a tool would; returns its new bytes."""
    old = path.read_bytes()
    if kind == "in-place, same size, same mtime":
        info = os.stat(path)
        new = old.replace(b'"x"', f'"{n % 10}"'.encode(), 1)
        with open(path, "r+b") as handle:
            handle.write(new)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    elif kind == "append":
        new = old + f"# edit {n}\n".encode()
        with open(path, "ab") as handle:
            handle.write(new[len(old):])
    elif kind == "editor save (rename)":
        new = old.replace(b"stage a", f"stage a{n}".encode(), 1).replace(
            b"entry a", f"entry a{n}".encode(), 1)
        temp = path.with_name(f".{path.name}.swp")
        temp.write_bytes(new)
        os.replace(temp, path)
    elif kind == "truncate and rewrite":
        new = f'journey "edited {n}" {{\n}}\n'.encode()
        path.write_bytes(new)
    else:  # "emptied"
        new = b""
        path.write_bytes(new)
    return new


KINDS = ["in-place, same size, same mtime", "append", "editor save (rename)",
         "truncate and rewrite", "emptied"]
STAGES = ["after reading", "while formatting", "while writing the new file",
          "just before the last look"]


def _race(tmp_path: Path, monkeypatch, stage: str, kind: str, n: int):
    path = tmp_path / f"race{n}.journey"
    path.write_text(UGLY)
    edited: list[bytes] = []

    def edit_once() -> None:
        if not edited:
            edited.append(_edit(path, kind, n))

    real_format, real_fsync = fmt_module.format_source, os.fsync
    real_unchanged = atomic.Snapshot.unchanged
    looks = []
    if stage == "after reading":
        monkeypatch.setattr(atomic.Snapshot, "read", _after(atomic.Snapshot.read, edit_once))
    elif stage == "while formatting":
        monkeypatch.setattr(fmt_module, "format_source",
                            lambda source: (edit_once(), real_format(source))[1])
    elif stage == "while writing the new file":
        monkeypatch.setattr(os, "fsync", lambda fd: (edit_once(), real_fsync(fd))[1])
    else:
        def unchanged(self):
            looks.append(1)
            if len(looks) == 2:  # the last look, the rename right after it
                edit_once()
            return real_unchanged(self)

        monkeypatch.setattr(atomic.Snapshot, "unchanged", unchanged)
    code = fmt_command([path])
    monkeypatch.undo()
    return path, code, edited[0]


def _after(method, hook):
    function = method.__func__

    def wrapped(cls, *args, **kwargs):
        result = function(cls, *args, **kwargs)
        hook()
        return result

    return classmethod(wrapped)


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_an_edit_made_while_fmt_runs_is_kept(tmp_path, monkeypatch, capsys, stage, kind):
    path, code, edited = _race(tmp_path, monkeypatch, stage, kind, 1)
    assert code == 1
    assert "changed while it was being formatted" in capsys.readouterr().err
    assert path.read_bytes() == edited
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_fifty_races_lose_no_edit(tmp_path, monkeypatch, capsys):
    rng = random.Random(20261206)
    lost = refused = 0
    for n in range(50):
        stage, kind = rng.choice(STAGES), rng.choice(KINDS)
        path, code, edited = _race(tmp_path, monkeypatch, stage, kind, n)
        lost += path.read_bytes() != edited
        refused += code == 1
    assert (lost, refused) == (0, 50)
    assert capsys.readouterr().err.count("changed while it was being formatted") == 50


def test_same_identity_different_bytes_is_a_change(ugly, monkeypatch):
    monkeypatch.setattr(atomic, "_identity", lambda info: (0,))  # coarse timestamps
    snapshot = atomic.Snapshot.read(ugly, 1 << 20)
    assert snapshot.unchanged()
    ugly.write_text(UGLY.replace("x", "y"))
    assert not snapshot.unchanged()

"""Where `-o OUT` writes (cli/outputs.py): nothing but a regular file is ever
replaced. Devices and FIFOs get a plain stream write, `/dev/stdout` and
`/dev/fd/N` their descriptor, sockets and block devices are refused, and a
`.journey` OUT is refused before anything else. Real subprocesses for the
cases a root CI container cares about (`-o /dev/null`)."""

from __future__ import annotations

import os
import pty
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.cli.common import UsageError
from journeydsl.cli.outputs import check_output, fd_alias, write_output

REPO = Path(__file__).resolve().parents[1]
SAAS = REPO / "examples" / "saas_trial.journey"
SRC = Path(journeydsl.__file__).resolve().parents[1]
ROOT = os.geteuid() == 0


def journey(*args: str, **kw) -> subprocess.CompletedProcess:
    """The real command, from this source tree."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("NO_COLOR", None)
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("timeout", 120)
    return subprocess.run([sys.executable, "-m", "journeydsl.cli", *args], check=False, env=env,
                          **kw)


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


# ------------------------------------------------------------------ what OUT is

def test_kinds_of_output(tmp_path):
    assert check_output(tmp_path / "new.svg").kind == "file"
    (tmp_path / "old.svg").write_text("x")
    assert check_output(tmp_path / "old.svg").kind == "file"
    assert check_output(Path("/dev/null")).kind == "stream"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert check_output(fifo).kind == "stream"
    assert check_output(Path("/dev/stdout")) == ("fd", 1)
    with pytest.raises(UsageError, match="is a directory"):
        check_output(tmp_path)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.svg"))
        with pytest.raises(UsageError, match="it is a socket"):
            check_output(tmp_path / "sock.svg")
    with pytest.raises(UsageError, match=r"\.journey inputs are never overwritten"):
        check_output(tmp_path / "x.journey")
    with pytest.raises(UsageError, match="descriptor 97 is not open"):
        check_output(Path("/dev/fd/97"))


def test_fd_aliases():
    assert fd_alias(Path("/dev/stdout")) == 1 and fd_alias(Path("/dev/stderr")) == 2
    assert fd_alias(Path("/dev/./fd/../fd/5")) == 5
    assert fd_alias(Path(f"/proc/{os.getpid()}/fd/4")) == 4
    assert fd_alias(Path("/proc/self/fd/9")) == 9
    assert fd_alias(Path("/proc/1/fd/9")) is None or os.getpid() == 1
    assert fd_alias(Path("/dev/null")) is None and fd_alias(Path("stdout")) is None


@pytest.mark.skipif(not ROOT, reason="making device nodes needs root")
def test_block_device_is_refused(tmp_path):
    node = tmp_path / "disk"
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    with pytest.raises(UsageError, match="block device"):
        write_output(node, b"data")
    assert stat.S_ISBLK(os.lstat(node).st_mode)


# ------------------------------------------------------------------ devices

def _assert_null_device(path: Path, before: os.stat_result) -> None:
    after = os.lstat(path)
    assert stat.S_ISCHR(after.st_mode), "the device node was replaced"
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_render_and_report_to_dev_null_keep_the_device():
    before = os.lstat("/dev/null")
    for args in (["render", str(SAAS), "-f", "dot", "-o", "/dev/null"],
                 ["render", str(SAAS), "-f", "mermaid-journey", "-o", "/dev/null"],
                 ["render", str(SAAS), "--view", "board", "-o", "/dev/null"],
                 ["report", str(SAAS), "-o", "/dev/null"]):
        done = journey(*args)
        assert done.returncode == 0, done.stderr
        _assert_null_device(Path("/dev/null"), before)
    assert not list(Path("/dev").glob(".null.*.tmp"))


@pytest.mark.skipif(not ROOT, reason="making device nodes needs root")
def test_a_character_device_node_is_written_not_replaced(tmp_path):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # another /dev/null
    before = os.lstat(node)
    done = journey("render", str(SAAS), "-o", str(node))  # no extension: SVG, as stdout
    assert done.returncode == 0, done.stderr
    _assert_null_device(node, before)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_dev_full_says_so():
    done = journey("render", str(SAAS), "-f", "dot", "-o", "/dev/full")
    assert done.returncode == 1
    assert done.stderr.decode() == "journey: cannot write `/dev/full`: no space left on device\n"
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_png_is_never_written_to_a_terminal(tmp_path):
    main, secondary = pty.openpty()
    try:
        done = _invoke("render", str(SAAS), "-f", "png", "-o", os.ttyname(secondary))
    finally:
        os.close(main)
        os.close(secondary)
    if done.exit_code == 1:
        pytest.skip("no PNG backend")
    assert done.exit_code == 2 and "refusing to write PNG to a terminal" in done.stderr


def test_fifo_gets_a_stream_write(tmp_path):
    fifo = tmp_path / "map.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = _invoke("render", str(SAAS), "-f", "dot", "-o", str(fifo))
    reader.join(30)
    assert done.exit_code == 0, done.stderr
    assert got and got[0].startswith(b"digraph journey {")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_socket_is_refused(tmp_path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "map.svg"))
        done = _invoke("render", str(SAAS), "-f", "svg", "-o", str(tmp_path / "map.svg"))
        assert done.exit_code == 2 and "it is a socket" in done.stderr
        assert stat.S_ISSOCK(os.lstat(tmp_path / "map.svg").st_mode)


# ------------------------------------------------------------------ descriptors

def test_dev_stdout_appends_to_what_the_shell_opened(tmp_path):
    out = tmp_path / "both.txt"
    with open(out, "wb") as handle:
        handle.write(b"before\n")
        handle.flush()
        done = journey("render", str(SAAS), "-f", "dot", "-o", "/dev/stdout", stdout=handle,
                       stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    text = out.read_bytes()
    assert text.startswith(b"before\ndigraph journey {") and text.endswith(b"}\n")
    assert stat.S_ISREG(os.lstat(out).st_mode)


def test_dev_fd_n_writes_that_descriptor(tmp_path):
    read_end, write_end = os.pipe()
    done = journey("render", str(SAAS), "-f", "dot", "-o", f"/dev/fd/{write_end}",
                   pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    assert done.returncode == 0, done.stderr
    assert data.startswith(b"digraph journey {")
    missing = journey("render", str(SAAS), "-f", "dot", "-o", "/dev/fd/77")
    assert missing.returncode == 2 and b"descriptor 77 is not open" in missing.stderr


def test_stdout_alias_in_the_test_runner():
    done = _invoke("render", str(SAAS), "-f", "dot", "-o", "/dev/stdout")
    assert done.exit_code == 0 and done.stdout.startswith("digraph journey {")


# ------------------------------------------------------------------ regular files

def test_journey_out_is_refused_before_the_format(tmp_path):
    source = tmp_path / "in.journey"
    source.write_bytes(SAAS.read_bytes())
    for extra in ([], ["-f", "dot"], ["--watch"]):
        done = _invoke("render", str(source), "-o", str(source), *extra)
        assert done.exit_code == 2, extra
        assert ".journey inputs are never overwritten" in done.stderr, extra
    done = _invoke("report", str(source), "-o", str(source))
    assert done.exit_code == 2 and ".journey inputs are never overwritten" in done.stderr
    assert source.read_bytes() == SAAS.read_bytes()


def test_existing_file_keeps_its_mode_and_owner(tmp_path):
    out = tmp_path / "map.dot"
    out.write_text("old")
    os.chmod(out, 0o640)
    if ROOT:
        os.chown(out, 4242, 4343)
    assert _invoke("render", str(SAAS), "-o", str(out)).exit_code == 0
    info = os.stat(out)
    assert stat.S_IMODE(info.st_mode) == 0o640
    if ROOT:
        assert (info.st_uid, info.st_gid) == (4242, 4343)
    assert out.read_text().startswith("digraph journey {")


def test_symlink_to_a_file_writes_the_file(tmp_path):
    target = tmp_path / "real.dot"
    target.write_text("old")
    link = tmp_path / "map.dot"
    link.symlink_to(target)
    assert _invoke("render", str(SAAS), "-o", str(link)).exit_code == 0
    assert link.is_symlink() and target.read_text().startswith("digraph journey {")


def test_input_through_a_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "f.journey"
    os.mkfifo(fifo)
    for args in (["simulate", str(fifo)], ["export", str(fifo)],
                 ["render", str(fifo), "-f", "dot"], ["report", str(fifo), "-o",
                                                      str(tmp_path / "r.html")],
                 ["render", str(fifo), "-o", str(tmp_path / "m.dot"), "--watch"],
                 ["check", str(fifo)], ["fmt", str(fifo)], ["simulate", str(tmp_path)]):
        done = journey(*args, timeout=20)  # would block forever on open()
        assert done.returncode == 1, args
        assert b"not a regular file" in done.stderr, args
    assert _invoke("simulate", str(tmp_path / "missing.journey")).exit_code == 2


def test_new_never_replaces_a_device_or_fifo(tmp_path):
    fifo = tmp_path / "start.journey"
    os.mkfifo(fifo)
    done = _invoke("new", "start", "--dir", str(tmp_path))
    assert done.exit_code == 2 and "already exists" in done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)

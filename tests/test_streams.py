"""A stdout or stderr that cannot be written (cli/streams.py): `> /dev/full`
ends every printing command with one line on stderr and exit 1 (never an
internal error, exit 3); a closed pipe (`| head -c 10`) ends it quietly,
exit 1. Real subprocesses of the command from this source tree."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import journeydsl
from journeydsl.cli.streams import OutputError, _Guarded, output_failed

REPO = Path(__file__).resolve().parents[1]
SAAS = str(REPO / "examples" / "saas_trial.journey")
SRC = Path(journeydsl.__file__).resolve().parents[1]
FULL = "journey: cannot write to stdout: no space left on device\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streams")
    bad = folder / "bad.journey"
    bad.write_text('journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n}\n')
    ugly = folder / "ugly.journey"
    ugly.write_text('journey "u" {\nstage a {}\n   entry a\n}\n')
    return {"bad": str(bad), "ugly": str(ugly)}


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]))


def _run(args: list[str], stdout, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "journeydsl.cli", *args], check=False, stdout=stdout,
                          stderr=stderr, env=_env(), timeout=120)


COMMANDS = [
    ["simulate", SAAS, "-f", "json"],
    ["simulate", SAAS],
    ["simulate", SAAS, "--levers", "--attribution"],
    ["simulate", SAAS, "--compare", "-f", "json"],
    ["export", SAAS],
    ["schema"],
    ["check", "{bad}", "-f", "json"],
    ["check", "{bad}", "-f", "sarif"],
    ["check", "{bad}", "-f", "github"],
    ["render", SAAS, "-f", "dot"],
    ["render", SAAS, "-f", "mermaid-flowchart"],
    ["render", SAAS, "-f", "dot", "-o", "/dev/stdout"],
    ["render", SAAS, "--view", "board", "-f", "svg"],
    ["explain", "JD201"],
    ["fmt", "--diff", "{ugly}"],
    ["fmt", "--check", "{ugly}"],
    ["--version"],
    ["--help"],
    ["simulate", "--help"],
]


def _args(command: list[str], files: dict) -> list[str]:
    return [a.format(**files) for a in command]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c).replace(SAAS, "J"))
def test_full_stdout_is_one_line_and_exit_1(command, files):
    with open("/dev/full", "wb") as full:
        done = _run(_args(command, files), stdout=full)
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert stderr.endswith(FULL), stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert "None" not in stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c).replace(SAAS, "J"))
def test_closed_pipe_ends_quietly(command, files):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = _run(_args(command, files), stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 1, done.stderr
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert "Broken pipe" not in stderr and "broken pipe" not in stderr


def test_head_closes_the_pipe_early(files):
    script = (f"{sys.executable} -m journeydsl.cli simulate {SAAS} --compare --levers "
              f"--attribution -f json | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}")
    for _ in range(3):
        done = subprocess.run(["bash", "-c", script], check=False, capture_output=True, text=True,
                              env=_env(), timeout=120)
        assert done.stdout.strip() in ("0", "1") and done.stderr == "", done.stderr


@pytest.mark.parametrize("unbuffered", [True, False], ids=["PYTHONUNBUFFERED", "buffered"])
def test_reader_gone_midway_is_exit_1(unbuffered):
    """The reader takes one byte, after the command began writing, and goes:
    the rest (the report is ~190 KB, a pipe holds 64 KB) cannot be written.
    Under PYTHONUNBUFFERED, stdout's raw file takes part of a write and the
    text layer drops the rest: this was exit 0 with the output cut short."""
    env = _env()
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    child = subprocess.Popen([sys.executable, "-m", "journeydsl.cli", "report", SAAS, "-o",
                              "/dev/stdout"], stdout=write_end, stderr=subprocess.PIPE, env=env)
    os.close(write_end)
    assert os.read(read_end, 1) == b"<"  # blocks until the first write
    os.close(read_end)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1, stderr
    assert b"Traceback" not in stderr and b"internal error" not in stderr


def test_full_stderr_exits_1_without_a_traceback(files):
    with open("/dev/full", "wb") as full:
        done = _run(["check", files["bad"]], stdout=subprocess.PIPE, stderr=full)
    assert done.returncode == 1 and b"Traceback" not in done.stdout


def test_a_command_that_prints_nothing_is_not_affected(files, tmp_path):
    with open("/dev/full", "wb") as full:
        done = _run(["render", SAAS, "-f", "dot", "-o", str(tmp_path / "m.dot")], stdout=full)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.dot").read_text().startswith("digraph")


# ------------------------------------------------------------------ the guard itself

class _Failing(io.RawIOBase):
    def __init__(self, code: int) -> None:
        self.code = code

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(self.code, os.strerror(self.code))


def test_guard_turns_a_failed_write_into_output_error(capsys):
    guarded = _Guarded(_Failing(errno.ENOSPC), "stdout")
    with pytest.raises(OutputError) as caught:
        guarded.write(b"x")
    assert not isinstance(caught.value, OSError)  # no `except OSError` takes it for a file
    assert str(caught.value) == "cannot write to stdout: no space left on device"
    assert output_failed(caught.value) == 1
    assert capsys.readouterr().err == FULL
    with pytest.raises(OutputError) as pipe:
        _Guarded(_Failing(errno.EPIPE), "stdout").write(b"x")
    assert output_failed(pipe.value) == 1
    assert capsys.readouterr().err == ""  # a closed pipe: nothing to say


class _Partial(io.RawIOBase):
    """A raw file that takes at most `chunk` bytes a call (as a pipe or a
    filling disk can), and fails with ENOSPC once it holds `room` bytes."""

    def __init__(self, chunk: int, room: int) -> None:
        self.chunk, self.room, self.got = chunk, room, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(self.got) >= self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        taken = bytes(data[:min(self.chunk, self.room - len(self.got))])
        self.got += taken
        return len(taken)


def test_guard_writes_everything_a_raw_file_takes_in_parts():
    raw = _Partial(chunk=7, room=10_000)
    data = bytes(range(256)) * 10
    assert _Guarded(raw, "stdout").write(data) == len(data)
    assert bytes(raw.got) == data


def test_guard_reports_a_disk_that_fills_midway():
    raw = _Partial(chunk=4096, room=5000)
    with pytest.raises(OutputError) as caught:
        _Guarded(raw, "stdout").write(b"x" * 9000)
    assert str(caught.value) == "cannot write to stdout: no space left on device"
    assert len(raw.got) == 5000

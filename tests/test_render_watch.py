"""`journey render --watch`: the loop driven by scripted change batches, the
real watchfiles source, and one end-to-end run of the installed command.

The loop (`watch_command(..., changes=...)`, `Watch.run`) takes any iterable
of batches shaped like watchfiles' (sets of `(Change, path)`); the tests pass
generators that save the journey file (as an editor does: a new file renamed
over the old one) before each yield, and look at the output in between.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from watchfiles import Change

import journeydsl.language.compiler
from journeydsl.cli import app
from journeydsl.cli import watch
from journeydsl.render import backends
from journeydsl.cli.render import render_command
from journeydsl.cli.watch import Watch, watch_command, watched_paths

GOOD = 'journey "good" {\n  stage a {}\n  stage b {}\n  entry a\n  a -> b 30%\n  goal b\n}\n'
EDITED = GOOD.replace("30%", "40%")
BROKEN = GOOD.replace("a -> b", "a -> bee")


def save(path: Path, text: str) -> None:
    """Save like an editor: write a new file beside PATH, rename it over PATH."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def changed(path: Path) -> set:
    return {(Change.modified, os.path.realpath(path))}


@pytest.fixture
def journey(tmp_path) -> Path:
    path = tmp_path / "j.journey"
    path.write_text(GOOD, encoding="utf-8")
    return path


def run_watch(path: Path, out: Path | None, changes, fmt=None, **options) -> int:
    return watch_command(path, out, fmt, options.get("persona"), options.get("scenario"),
                         options.get("flows", False), options.get("view", "map"),
                         options.get("renderer", "auto"), changes=changes)


def test_renders_first_then_again_after_an_edit(journey, capsys):
    out = journey.with_name("map.dot")
    seen = []

    def changes():
        seen.append(out.read_text())  # the first render happened before any change
        save(journey, EDITED)
        yield changed(journey)
        seen.append(out.read_text())

    assert run_watch(journey, out, changes()) == 0
    assert 'a -> b [label="30%"' in seen[0]
    assert 'a -> b [label="40%"' in seen[1]
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if " wrote " in line]
    assert len(lines) == 2, err
    assert all(line.endswith(" ms)") and f"wrote {out} (" in line for line in lines)
    assert "watching" in err and err.rstrip().endswith("stopped watching")


def test_broken_edit_keeps_the_last_good_output(journey, capsys):
    out = journey.with_name("map.dot")

    def changes():
        good = out.read_bytes()
        save(journey, BROKEN)
        yield changed(journey)
        assert out.read_bytes() == good  # not overwritten, not removed
        err = capsys.readouterr().err
        assert "error[JD201]: unknown step `bee`" in err and "^^^" in err
        assert f"j.journey has 1 error: kept the last {out}" in err
        save(journey, EDITED)  # fixed: renders again
        yield changed(journey)
        assert "40%" in out.read_text()

    assert run_watch(journey, out, changes()) == 0


def test_errors_at_start_are_reported_and_watching_goes_on(journey, capsys):
    out = journey.with_name("map.dot")
    save(journey, BROKEN)

    def changes():
        assert not out.exists()
        assert f"{out} not written" in capsys.readouterr().err
        save(journey, GOOD)
        yield changed(journey)

    assert run_watch(journey, out, changes()) == 0
    assert "30%" in out.read_text()


def test_output_never_appears_partial(journey, monkeypatch):
    out = journey.with_name("map.dot")
    snapshots = []
    real_fsync = os.fsync

    def fsync(fd):  # the new bytes are in the temporary file, not yet renamed
        real_fsync(fd)
        snapshots.append(out.read_text() if out.exists() else None)

    monkeypatch.setattr(os, "fsync", fsync)

    def complete(text):
        return text.startswith("digraph journey {") and text.endswith("}\n")

    def changes():
        for text in (EDITED, BROKEN, GOOD, EDITED):
            save(journey, text)
            yield changed(journey)
            assert complete(out.read_text())
            assert sorted(p.name for p in journey.parent.iterdir()) == ["j.journey", "map.dot"]

    assert run_watch(journey, out, changes()) == 0
    assert snapshots[0] is None and len(snapshots) == 4  # the broken edit wrote nothing
    assert all(complete(s) for s in snapshots[1:])


def test_failed_render_keeps_the_output_and_goes_on(journey, monkeypatch, capsys):
    out = journey.with_name("map.svg")

    def broken(*args, **kwargs):
        raise backends.RenderFailed("Graphviz `dot` failed: boom")

    def changes():
        assert out.read_bytes() == b"<svg>good</svg>"
        monkeypatch.setattr(backends, "render", broken)
        save(journey, EDITED)
        yield changed(journey)
        assert out.read_bytes() == b"<svg>good</svg>"
        assert [p.name for p in journey.parent.iterdir() if p.name.startswith(".")] == []

    monkeypatch.setattr(backends, "render", lambda *args, **kwargs: b"<svg>good</svg>")
    assert run_watch(journey, out, changes()) == 0
    err = capsys.readouterr().err
    assert "journey: Graphviz `dot` failed: boom" in err
    assert f"not rendered: kept the last {out}" in err


def test_failed_first_render_exits_1(journey, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise backends.RenderFailed("PNG needs Graphviz")

    monkeypatch.setattr(backends, "render", broken)
    assert run_watch(journey, journey.with_name("map.png"), []) == 1
    assert "PNG needs Graphviz" in capsys.readouterr().err
    assert sorted(p.name for p in journey.parent.iterdir()) == ["j.journey"]


def test_unrelated_changes_do_not_render(journey, capsys):
    out = journey.with_name("map.dot")

    def changes():
        yield {(Change.modified, os.path.realpath(out))}
        yield {(Change.added, os.path.realpath(journey.with_name("other.journey")))}

    assert run_watch(journey, out, changes()) == 0
    assert capsys.readouterr().err.count(" wrote ") == 1


def test_imported_files_are_watched(journey, monkeypatch, capsys):
    other = journey.with_name("other.journey")
    other.write_text("// imported\n")
    real = journeydsl.api.load

    def with_imports(path, max_bytes=None):  # as if the journey had a `use "..."` line
        compiled = real(path, max_bytes)
        compiled.imports = ["other.journey"]
        return compiled

    monkeypatch.setattr(journeydsl.api, "load", with_imports)
    out = journey.with_name("map.dot")
    assert run_watch(journey, out, [changed(other)]) == 0
    err = capsys.readouterr().err
    assert "watching" in err and "and 1 imported file" in err
    assert err.count(" wrote ") == 2


def test_watched_paths_hook(tmp_path):
    path = tmp_path / "main.journey"

    class Before:  # a compiled result from before imports existed
        pass

    class After:
        imports = ("lib/a.journey", tmp_path / "b.journey")

    assert watched_paths(Before(), path) == {path}
    assert watched_paths(After(), path) == {path, tmp_path / "lib" / "a.journey",
                                            tmp_path / "b.journey"}
    assert Watch(path, tmp_path / "m.dot", "dot").keys() == {os.path.realpath(path)}


def test_keyboard_interrupt_exits_0(journey, capsys):
    def changes():
        save(journey, EDITED)
        yield changed(journey)
        raise KeyboardInterrupt

    assert run_watch(journey, journey.with_name("map.dot"), changes()) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.rstrip().endswith("stopped watching")


def test_missing_file_is_jd001_exit_1(tmp_path, capsys):
    assert run_watch(tmp_path / "nope.journey", tmp_path / "map.dot", []) == 1
    assert "error[JD001]: cannot read" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out, fmt, message", [
    (None, None, "--watch needs -o/--output"),
    ("j.journey", "dot", "refusing to write over"),
    ("map.txt", None, "cannot tell the format"),
])
def test_usage_errors_exit_2(journey, capsys, out, fmt, message):
    target = journey.with_name(out) if out else None
    code = render_command(journey, target, fmt, None, None, False, "map", "auto", watch=True)
    assert code == 2
    assert message in capsys.readouterr().err
    assert journey.read_text() == GOOD


def test_unknown_persona_at_start_exits_2(journey, capsys):
    assert run_watch(journey, journey.with_name("m.dot"), [], persona="nobody") == 2
    assert "no persona `nobody`" in capsys.readouterr().err


# ---------------------------------------------------------------- through the CLI

def test_cli_watch_without_output_exits_2(journey):
    result = CliRunner().invoke(app, ["render", str(journey), "--watch"])
    assert result.exit_code == 2
    assert "--watch needs -o/--output" in result.stderr


def test_cli_watch_with_options_and_ctrl_c(journey, monkeypatch):
    out = journey.with_name("flow.mmd")
    texts = []

    def fake_file_changes(keys):
        assert keys() == {os.path.realpath(journey)}
        texts.append(out.read_text())
        save(journey, EDITED)
        yield changed(journey)
        texts.append(out.read_text())
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "file_changes", fake_file_changes)
    result = CliRunner().invoke(app, ["render", str(journey), "-o", str(out), "--watch",
                                      "--flows", "--persona", "default"])
    assert result.exit_code == 0, result.stderr
    assert "\nflowchart LR\n" in texts[0] and '|"30#37;"|' in texts[0]  # Mermaid's %
    assert '|"40#37;"|' in texts[1] and "400 visits per 1#44;000" in texts[1]
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- real watchfiles

def test_file_changes_sees_a_rename_save_and_nothing_else(journey):
    keys = watch.path_keys({journey})
    source = watch.file_changes(lambda: keys)
    got: list = []
    done = threading.Event()

    def wait():
        got.append(next(source))
        done.set()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    deadline = time.monotonic() + 20
    while not done.is_set() and time.monotonic() < deadline:
        time.sleep(0.5)  # again and again: the watch may not have started yet
        journey.with_name("unrelated.txt").write_text(str(time.monotonic()))
        save(journey, EDITED)
    assert done.wait(1), "no change seen in 20 s"
    source.close()
    assert got[0] and {name for _, name in got[0]} <= keys


def _journey_command() -> list[str]:
    exe = shutil.which("journey")
    return [exe] if exe else [sys.executable, "-m", "journeydsl.cli"]


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_end_to_end_watch_subprocess(journey):
    out = journey.with_name("map.dot")
    log = journey.with_name("stderr.txt")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    with log.open("w", encoding="utf-8") as stderr:
        # SIGINT back to its default first: a shell's background job ignores it
        proc = subprocess.Popen(
            [*_journey_command(), "render", str(journey), "-o", str(out), "--watch"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
        try:
            assert _wait_for(lambda: "30%" in _text(out), 60), _text(log)
            edited = False
            deadline = time.monotonic() + 20
            while not edited and time.monotonic() < deadline:
                save(journey, EDITED)  # again until seen: the watch may start late
                edited = _wait_for(lambda: "40%" in _text(out), 2)
            assert edited, _text(log)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = _text(log)
    assert code == 0, err
    assert "Traceback" not in err and "stopped watching" in err
    assert err.count(f"wrote {out}") >= 2
    assert sorted(p.name for p in journey.parent.iterdir()) == ["j.journey", "map.dot",
                                                               "stderr.txt"]

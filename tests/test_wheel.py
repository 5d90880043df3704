"""The built wheel works on its own: grammar inside, `journey check` runs
from a fresh virtual environment, far from the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
_GRAMMAR_AT_BUILD: dict[str, str] = {}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout)


def _site_dirs() -> list[str]:
    """The site-packages of the interpreter running the tests (a venv's own).
    A plain path line in a .pth file adds the folder without running the
    .pth files inside it, so this environment's editable journeydsl stays out."""
    import site
    import sysconfig

    dirs = [*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    return list(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt"
                                                                       else ""))


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A working directory that is certainly not inside the repository."""
    path = tmp_path_factory.mktemp("outside")
    assert REPO not in path.resolve().parents
    return path


def _shipped_grammar(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("journeydsl/grammars/journey.lark").decode("utf-8")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    # Other work may edit the grammar while this runs: keep what was built.
    _GRAMMAR_AT_BUILD["text"] = (REPO / "grammars" / "journey.lark").read_text(encoding="utf-8")
    # no build isolation: hatchling comes from the test extra, not a download
    done = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist,
                 REPO], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = list(dist.glob("journeydsl-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory, outside) -> Path:
    # lark, pydantic, numpy ... come from the environment running the tests
    # instead of a download, through a .pth file that appends its site-packages
    # (not --system-site-packages, which in a virtual environment shows only
    # the base interpreter's); journeydsl itself must come from the wheel.
    path = tmp_path_factory.mktemp("venv") / "env"
    done = _run([sys.executable, "-m", "venv", path], cwd=outside)
    assert done.returncode == 0, done.stderr
    python = _bin(path, "python")
    inner = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                 cwd=outside).stdout.strip()
    (Path(inner) / "_test_environment.pth").write_text("\n".join(_site_dirs()) + "\n",
                                                        encoding="utf-8")
    done = _run([python, "-m", "pip", "install", "--force-reinstall", "--no-deps", wheel],
                cwd=outside)
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def test_wheel_contains_the_grammar(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "journeydsl/grammars/journey.lark" in names
    # the repository's grammar as it was when the wheel was built
    assert _shipped_grammar(wheel) == _GRAMMAR_AT_BUILD["text"]
    assert "journeydsl/__init__.py" in names
    assert "journeydsl/cli/__init__.py" in names and "journeydsl/language/syntax.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    assert not any(n.startswith(("tests/", "examples/", "src/")) for n in names), names


def test_installed_package_comes_from_the_wheel(wheel, venv, outside):
    code = ("import journeydsl, journeydsl.language.syntax as s, pathlib; "
            "print(pathlib.Path(journeydsl.__file__).resolve()); "
            "print(len(s.grammar_text()))")
    done = _run([_bin(venv, "python"), "-c", code], cwd=outside)
    assert done.returncode == 0, done.stderr
    module_file, grammar_size = done.stdout.split()
    assert Path(module_file).is_relative_to(venv.resolve()), module_file
    assert REPO not in Path(module_file).parents
    assert int(grammar_size) == len(_shipped_grammar(wheel))


def test_installed_dependencies_are_consistent(venv, outside):
    done = _run([_bin(venv, "python"), "-m", "pip", "check"], cwd=outside)
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_journey_checks_every_example(venv, outside):
    journey = _bin(venv, "journey")
    assert journey.exists()
    copies = outside / "examples"
    shutil.rmtree(copies, ignore_errors=True)
    shutil.copytree(EXAMPLES, copies)  # examples/lib/ too: the files examples `use`
    examples = sorted(EXAMPLES.glob("*.journey"))
    assert examples
    for path in examples:
        done = _run([journey, "check", Path("examples") / path.name], cwd=outside)
        assert done.returncode == 0, (path.name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert "checked 1 file: 0 errors" in done.stderr
    done = _run([journey, "check", "--strict", "examples"], cwd=outside)
    assert done.returncode == 0, done.stderr
    checked = len(list(EXAMPLES.rglob("*.journey")))
    assert f"checked {checked} files: 0 errors, 0 warnings" in done.stderr


def test_installed_journey_reports_errors(venv, outside):
    bad = outside / "bad.journey"
    bad.write_text('journey "bad" {\n  stage a {}\n  entry a\n  a -> pricng 5%\n  goal a\n}\n',
                   encoding="utf-8")
    broken = outside / "broken.journey"
    broken.write_text('journey "broken" {\n  stage a {\n', encoding="utf-8")
    done = _run([_bin(venv, "journey"), "check", "bad.journey", "broken.journey"], cwd=outside)
    assert done.returncode == 1
    assert "error[JD201]" in done.stderr and " --> bad.journey:4:8" in done.stderr
    assert "error[JD104]" in done.stderr
    assert "Traceback" not in done.stderr
    version = _run([_bin(venv, "journey"), "--version"], cwd=outside)
    assert version.returncode == 0
    assert version.stdout.startswith("journey ")

"""Which `.journey` files `journey check DIR` and `journey fmt DIR` work on.

Files named on the command line are always taken. Directories are searched
for `*.journey` files, skipping, as ruff and ripgrep do:

- hidden folders (names starting with `.`: `.venv`, `.git`, `.tox` ...)
  below the directory named;
- inside a git work tree, what git ignores (`.gitignore`, `.git/info/exclude`,
  the global excludes file). One `git ls-files` per directory named lists
  the tracked files and the untracked ones not ignored; git itself does not
  descend into ignored folders such as `node_modules/`, so this stays fast.

Without git, or outside a work tree, only the hidden-folder rule applies.
A directory named on the command line is searched even when it is hidden
or ignored itself (then only the hidden-folder rule applies below it).
`ignore=False` (`--no-ignore`) takes every `*.journey` file below.
"""

from __future__ import annotations

import os
from pathlib import Path

SUFFIX = ".journey"
GIT_TIMEOUT = 60



def find_journey_files(paths: list[Path], ignore: bool = True,
                       journey_only: bool = False) -> tuple[list[Path], list[str]]:
    """The files to work on, and problems with the paths named (for the user).

    Files named are taken as they are (`journey_only`: only `.journey` files,
    others are a problem); directories are searched (see the module's doc).
    Order: as named, each directory's files sorted; no file twice.
    """
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(journey_files_in(path, ignore))
        elif not path.exists():
            problems.append(f"no such file or directory: {path}")
        elif journey_only and path.suffix != SUFFIX:
            problems.append(f"not a .journey file: {path}")
        else:
            files.append(path)
    return list(dict.fromkeys(files)), problems


def no_files_message(paths: list[Path], ignore: bool = True) -> str:
    """The problem to report when the paths named hold no `.journey` file.

    >>> no_files_message([Path("a"), Path("b")], ignore=False)
    'no .journey files found in a, b'
    """
    message = "no .journey files found in " + ", ".join(map(str, paths))
    if ignore:
        message += (" (hidden folders and files git ignores are skipped; "
                    "--no-ignore includes them)")
    return message


def journey_files_in(folder: Path, ignore: bool = True) -> list[Path]:
    """The `*.journey` files below `folder`, sorted (see the module's doc)."""
    if ignore:
        listed = _git_listed(folder)
        if listed is not None:
            found = [folder / name for name in listed
                     if name.endswith(SUFFIX) and not _in_hidden_folder(name)]
            found = [path for path in found if path.is_file()]
            if found or not _git_ignores(folder):
                return sorted(set(found))
    return sorted(_walk(folder, skip_hidden=ignore))


def _in_hidden_folder(relative: str) -> bool:
    """Whether a path relative to the folder searched (`/`-separated, as git
    prints it) lies inside a hidden folder.

    >>> _in_hidden_folder(".venv/lib/a.journey"), _in_hidden_folder("a/.b/c.journey")
    (True, True)
    >>> _in_hidden_folder(".a.journey"), _in_hidden_folder("docs/a.journey")
    (False, False)
    """
    return any(part.startswith(".") for part in relative.split("/")[:-1])


def _walk(folder: Path, skip_hidden: bool) -> list[Path]:
    found: list[Path] = []
    for here, dirs, names in os.walk(folder):
        if skip_hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(here) / name for name in names if name.endswith(SUFFIX))
    return [path for path in found if path.is_file()]


def _git(folder: Path, *args: str) -> tuple[int, bytes] | None:
    """Run git in `folder`: (exit code, stdout), or None without a usable git."""
    import subprocess

    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode, done.stdout


def _git_listed(folder: Path) -> list[str] | None:
    """The `*.journey` files below `folder` that git tracks or would not ignore
    (paths relative to `folder`), or None when `folder` is not in a git work tree."""
    done = _git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                "--", "*" + SUFFIX)
    if done is None or done[0] != 0:
        return None
    text = os.fsdecode(done[1])
    return list(dict.fromkeys(name for name in text.split("\0") if name))


def _git_ignores(folder: Path) -> bool:
    """Whether git ignores `folder` itself (asked only when nothing was listed in it)."""
    done = _git(folder, "check-ignore", "-q", ".")
    return done is not None and done[0] == 0

"""The one golden-file helper: compare text with an expected file, or
rewrite the file on purpose.

    JOURNEY_UPDATE_GOLDEN=1 python -m pytest tests/...

rewrites every expected file the selected tests compare against (only the
exact value `1` does; any other value, `0` included, compares). Then read
`git diff tests/golden` line by line before committing: the expected files
are the review of what users and API callers get.
"""

from __future__ import annotations

import os
from pathlib import Path

UPDATE_VARIABLE = "JOURNEY_UPDATE_GOLDEN"


def updating() -> bool:
    """Whether this run rewrites goldens instead of comparing."""
    return os.environ.get(UPDATE_VARIABLE) == "1"


def check_golden(path: Path, actual: str | bytes) -> None:
    """Assert `actual` equals the golden file at `path` (byte for byte), or
    write it there when updating."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        return
    assert path.exists(), f"missing golden {path}; run with {UPDATE_VARIABLE}=1 to write it"
    expected = path.read_bytes()
    if expected != data:
        # A readable failure: the first differing line, not two megabyte blobs.
        old, new = expected.decode("utf-8", "replace"), data.decode("utf-8", "replace")
        for number, (a, b) in enumerate(zip(old.splitlines(), new.splitlines()), 1):
            if a != b:
                raise AssertionError(f"{path} differs at line {number}:\n"
                                     f"  expected: {a[:300]}\n  actual:   {b[:300]}\n"
                                     f"(rewrite on purpose with {UPDATE_VARIABLE}=1)")
        raise AssertionError(f"{path} differs in length ({len(expected)} vs {len(data)} "
                             f"bytes); rewrite on purpose with {UPDATE_VARIABLE}=1")

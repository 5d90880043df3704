"""Pausing Python's cyclic garbage collector around allocation bursts."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    """Importing pydantic/networkx and compiling a journey allocate many
    long-lived objects and free almost none; the GC would scan them again
    and again (50 ms of `journey check`'s start-up, 3x the compile time of a
    10,000-line file). Nested use is fine: only the outermost re-enables."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

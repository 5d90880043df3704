"""A duration as the language writes it, in the largest unit that keeps it
within 5%: `13d`, not `312h`; `2w` for 14.4 days, `1mo` for 31 days.

>>> [duration_text(d) for d in (13.0, 14.4, 31.0, 365.0, 400.0, 0.5, 2.5, 0.01, 1e-6, 0.0)]
['13d', '2w', '1mo', '1y', '13mo', '12h', '60h', '0.24h', '', '']
"""

from __future__ import annotations

from ..language.model import DAYS

#: Units from the largest, with their length in days.
UNITS = sorted(DAYS.items(), key=lambda unit: -unit[1])
TOLERANCE = 0.05
_SECOND = 1 / 86_400


def duration_text(days: float) -> str:
    """The duration in the largest unit within 5%; "" below one second (no
    delay: the language's delays are 0 or at least one second)."""
    if days < _SECOND:
        return ""
    for unit, length in UNITS:
        whole = round(days / length)
        if whole >= 1 and abs(whole * length - days) <= TOLERANCE * days:
            return f"{whole}{unit}"
    hours = days * 24  # under half an hour: hours with two significant digits
    text = f"{hours:.2g}"
    if "e" in text:
        text = f"{hours:.6f}".rstrip("0")
    return f"{text}h"

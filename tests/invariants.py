"""What every output of every command must satisfy, whatever the journey
(shared by test_corpus.py and test_properties_engines.py).

- JSON carries no Infinity, NaN or number too large for a double;
- every walk ends at a step (drop-off or churn) or is still going at the
  horizon: drop-off + churn + active at horizon = 1, for steps and stages;
- rates lie in [0, 1]; levers never promise more than is left (conversion +
  gain <= 100%, never negative); removal effects lie in [0, 1];
- no raw terminal escape, control, bidi or invisible character reaches an
  output (labels are shown escaped), and no picture has a NaN coordinate.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata

EPS = 1e-9
#: Python's traceback header: never shown to a user.
TRACEBACK = "Traceback (most recent call last)"
#: Unicode categories no output may carry raw: controls (Cc, but tab, newline
#: and carriage return), formats (Cf: bidi overrides and isolates, zero-width
#: characters), line and paragraph separators.
_HOSTILE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
_ALLOWED = {"\t", "\n", "\r"}
#: A number printed as inf or nan in a table.
INF_NAN_WORD = re.compile(r"(?i)(?<![\w])[-+\u2212]?(inf|infinity|nan)(?![\w])")
#: An attribute of a picture whose number is inf or nan.
INF_NAN_ATTRIBUTE = re.compile(r'(?i)="[-+\d.,\s]*(inf|nan)')


def strict_json(text: str):
    """Parse JSON, refusing Infinity and NaN (and 1e400, which parses to inf)."""
    def refuse(constant: str):
        raise AssertionError(f"JSON carries {constant}")
    data = json.loads(text, parse_constant=refuse)
    for where, number in numbers(data):
        assert math.isfinite(number), f"{where} = {number}"
    return data


def numbers(value, where: str = "$"):
    """(path, number) for every number in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numbers(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from numbers(item, f"{where}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield where, value


def assert_outcomes_sum_to_one(metrics: dict, where: str, tolerance: float) -> None:
    """Every walk ends at a step (drop-off or churn) or is still going at the horizon."""
    active = metrics["active_at_horizon"]
    for key in ("steps", "stages"):
        parts = metrics[key].values()
        total = sum(p["dropoff"] + p["churn"] for p in parts) + active
        assert abs(total - 1.0) <= tolerance, \
            f"{where} {key}: drop-off + churn + active = {total!r}"
        for name, p in metrics[key].items():
            for field in ("reach", "dropoff", "churn"):
                if p.get(field) is not None:
                    assert -EPS <= p[field] <= 1 + EPS, f"{where} {key}.{name}.{field} = {p[field]}"
    for field in ("conversion", "active_at_horizon"):
        assert -EPS <= metrics[field] <= 1 + EPS, f"{where} {field} = {metrics[field]}"


def assert_report(report: dict) -> None:
    """A `simulate --format json` report (exact or Monte Carlo, with levers
    or attribution when asked): outcomes sum to one, levers and removal
    effects within what is possible."""
    monte_carlo = report["method"] == "monte_carlo"
    tolerance = 1e-6 if monte_carlo else 1e-7
    for persona, entry in report["personas"].items():
        assert_outcomes_sum_to_one(entry["metrics"], f"persona {persona}", tolerance)
    assert_outcomes_sum_to_one(report["blended"]["metrics"], "blended", tolerance)
    conversion = report["blended"]["metrics"]["conversion"]
    for lever in report.get("levers", []):
        base = conversion if lever["persona"] is None \
            else report["personas"][lever["persona"]]["metrics"]["conversion"]
        assert_lever(lever, base)
    if "attribution" in report:
        for kind in ("steps", "channels"):
            for name, effect in report["attribution"].get(kind, {}).items():
                assert_removal(effect["removal_effect"], (kind, name, effect))


def assert_lever(lever: dict, conversion: float) -> None:
    """A lever (as_dict) takes at most 1 pp, only from what is left, and
    gains no more conversion than is left to gain."""
    if lever["step"] is None:  # a step already at 100%: nothing to raise
        assert not lever["movable"] and lever["d_conversion"] is None, lever
        return
    assert 0 <= lever["step"] <= 0.01 + 1e-12, lever
    assert lever["rate"] + lever["step"] <= 1 + 1e-9, lever
    gain = lever["d_conversion"]
    if gain is None:  # undefined, with its reason
        return
    assert gain >= -1e-12, lever
    assert conversion + gain <= 1 + 1e-9, f"lever promises conversion {conversion + gain}: {lever}"


def assert_removal(removal: float | None, what) -> None:
    if removal is not None:
        assert -1e-9 <= removal <= 1 + 1e-9, what


def hostile(text: str) -> tuple[int, str] | None:
    """The first character no output may show raw (offset, character): the
    joiners U+200C/U+200D count as text between two visible non-ASCII
    characters (emoji sequences), as display.shown keeps them."""
    for i, ch in enumerate(text):
        if ch in _ALLOWED or unicodedata.category(ch) not in _HOSTILE_CATEGORIES:
            continue
        if ch in "\u200c\u200d" and 0 < i < len(text) - 1 and all(
                not c.isascii() and not c.isspace() for c in (text[i - 1], text[i + 1])):
            continue
        return i, ch
    return None


def assert_clean_text(text: str, what: str) -> None:
    """No traceback and no raw control, bidi or invisible character."""
    assert TRACEBACK not in text, what
    found = hostile(text)
    assert found is None, (f"{what}: raw {found[1]!r} at {found[0]}: "
                           f"{text[max(0, found[0] - 60):found[0] + 20]!r}")


def assert_clean_picture(text: str, what: str) -> None:
    """SVG, HTML or DOT: clean text, and no coordinate or size that is NaN or inf."""
    assert_clean_text(text, what)
    bad = INF_NAN_ATTRIBUTE.search(text)
    assert bad is None, f"{what}: {text[max(0, bad.start() - 100):bad.end() + 40]}"

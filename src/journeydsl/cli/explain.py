"""`journey explain CODE`: the long explanation of a diagnostic code.

The explanations are the `## JDxxx: title` sections of docs/diagnostics.md.
A wheel ships a copy at `journeydsl/docs/diagnostics.md`; in a source tree
the repository's docs/ folder is read (as `syntax.grammar_text` does).

>>> text = explain_text("jd201")
>>> text.splitlines()[0]
'JD201: unknown step or stage'
>>> explain_text("JD999") is None
True
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_SECTION = re.compile(r"^## (JD\d{3}): ", re.MULTILINE)
_NEXT_HEADING = re.compile(r"^#{1,2} ", re.MULTILINE)
_TRAILING_COMMENTS = re.compile(r"(?:\s*<!--.*?-->)+\s*\Z", re.DOTALL)
#: a comment on a line of its own, such as `<!-- not-checked: ... -->` before
#: a bad example (for tests/test_docs_examples.py): not for the terminal
_COMMENT_LINE = re.compile(r"^<!--[^\n]*-->\n", re.MULTILINE)
_FENCE = re.compile(r"^```")


def docs_path() -> Path:
    """Where docs/diagnostics.md is: inside the installed package, or in the repo."""
    here = Path(__file__).resolve().parent
    packaged = here.parent / "docs" / "diagnostics.md"  # inside an installed wheel
    if packaged.is_file():
        return packaged
    return here.parents[2] / "docs" / "diagnostics.md"


@lru_cache(maxsize=1)
def explanations() -> dict[str, str]:
    """code -> its section of docs/diagnostics.md, heading `JDxxx: title` first.

    Raises OSError when no copy of the document can be found.
    """
    text = docs_path().read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in _SECTION.finditer(text):
        start = match.start() + len("## ")
        end = _section_end(text, match.end())
        body = _TRAILING_COMMENTS.sub("", _COMMENT_LINE.sub("", text[start:end])).rstrip()
        found[match.group(1)] = body + "\n"
    return found


def _section_end(text: str, start: int) -> int:
    """Offset of the next level-1/2 heading after `start` outside code fences."""
    fenced = False
    offset = start
    for line in text[start:].splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _NEXT_HEADING.match(line):
            return offset
        offset += len(line)
    return len(text)


def explain_text(code: str) -> str | None:
    """The long explanation of `code` (any case), or None for an unknown code."""
    try:
        return explanations().get(code.strip().upper())
    except OSError:
        return None


def summary(explanation: str) -> str:
    """The first paragraph of prose after the heading and the severity line."""
    for paragraph in re.split(r"\n\s*\n", explanation)[1:]:
        paragraph = paragraph.strip()
        if not paragraph or paragraph.startswith(("**Severity:**", "```", "|", "<!--")):
            continue
        return " ".join(paragraph.split())
    return ""

"""Every journey shown in README.md and docs/*.md is real: it compiles
without errors (warnings allowed) and is already in `journey fmt`'s layout.

A code block is a journey when it is ```journey (or ``` with no language)
and contains `journey "`. It is checked unless the line right before it is
`<!-- not-checked: reason -->`: a fragment (`...`), the unformatted input of
the example in docs/fmt.md, or a bad example in docs/diagnostics.md (those
are compared with the output shown after them by
tests/test_diagnostic_codes.py; here we check that the marks there sit on
exactly those bad examples, so no good block hides behind one).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import journeydsl
from journeydsl.diagnostics import render_text
from journeydsl.fmt import format_text

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
MARK = re.compile(r"^<!-- not-checked: (\S.*?) -->$", re.M)
JOURNEY = re.compile(r'\bjourney\s+"')


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str
    start: int  # offset of the opening fence in the page
    reason: str | None  # the not-checked mark's reason

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(text):
        before = text[:fence.start()].splitlines()
        mark = MARK.fullmatch(before[-1]) if before else None
        found.append(Block(page, len(before) + 1, fence.group(1), fence.group(2), fence.start(),
                           mark.group(1) if mark else None))
    return found


def _is_journey(block: Block) -> bool:
    return block.lang in ("", "journey") and bool(JOURNEY.search(block.text))


ALL = [block for page in PAGES for block in _blocks(page)]
CHECKED = [block for block in ALL if _is_journey(block) and block.reason is None]


@pytest.mark.parametrize("block", CHECKED, ids=str)
def test_journey_block_compiles_and_is_formatted(block: Block) -> None:
    # named after its page, so that a `use` line would resolve from the page's folder
    result = journeydsl.loads(block.text, str(block.page))
    assert result.errors == [], f"{block}:\n" + "\n\n".join(map(render_text, result.errors))
    formatted = format_text(block.text)
    assert formatted == block.text, f"{block} is not in the canonical layout " \
        "(`journey fmt` would change it):\n" + "".join(difflib.unified_diff(
            block.text.splitlines(True), formatted.splitlines(True), "as shown", "formatted"))


def test_the_pages_have_journeys_to_check() -> None:
    """Guard against the test passing vacuously (a changed fence or mark syntax)."""
    per_page = {page.name: sum(block.page == page for block in CHECKED) for page in PAGES}
    assert per_page["README.md"] >= 1
    assert per_page["language.md"] >= 7
    assert per_page["diagnostics.md"] >= 40
    assert per_page["fmt.md"] >= 1


def test_every_mark_stands_right_before_a_journey_block() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        marked = {block.start for block in _blocks(page) if block.reason is not None}
        for mark in MARK.finditer(text):
            after = mark.end() + 1
            assert after in marked, f"{page.name}: a not-checked mark not followed by a block"
        for block in _blocks(page):
            if block.reason is not None:
                assert _is_journey(block), f"{block}: a mark on a block that is not a journey"
    assert "<!-- not-checked" not in "".join(
        page.read_text(encoding="utf-8") for page in PAGES).replace("<!-- not-checked: ", "")


def test_marked_blocks_in_diagnostics_md_are_exactly_its_bad_examples() -> None:
    """The first ```journey of a `## JDxxx` section with a fix after it is the
    bad example (as tests/test_diagnostic_codes.py reads the page)."""
    page = ROOT / "docs" / "diagnostics.md"
    text = page.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^## JD\d{3}: ", text, flags=re.M)] + [len(text)]
    blocks = _blocks(page)
    bad = set()
    for start, end in zip(starts, starts[1:]):
        journeys = [b for b in blocks if start < b.start < end and b.lang == "journey"]
        if len(journeys) >= 2 and _is_journey(journeys[0]):
            bad.add(journeys[0])
    marked = {block for block in blocks if block.reason is not None}
    assert len(bad) >= 35
    assert marked == bad, sorted(map(str, marked ^ bad))
    assert all("bad example" in block.reason for block in marked)


def test_fmt_md_example_is_the_formatter_output() -> None:
    blocks = [b for b in _blocks(ROOT / "docs" / "fmt.md") if _is_journey(b)]
    before, after = blocks[0], blocks[1]
    assert before.reason is not None and after.reason is None
    assert format_text(before.text) == after.text

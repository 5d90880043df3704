"""`journey simulate` text output at 80, 100 and 200 columns (rich follows COLUMNS).

On every example (and a journey with five scenarios for --compare): no line
is wider than the terminal, no table row wraps (a wrapped row leaves empty
cells on its continuation lines), no number is cut with "…", a transition
of --levers stays on one line, and every number is signed the same way:
U+2212 for negatives, never an ASCII hyphen-minus.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import journeydsl
from journeydsl.cli import app
from journeydsl.cli import tables

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.journey"))
SAAS = ROOT / "examples" / "saas_trial.journey"
WIDTHS = (80, 100, 200)
MODES = {
    "levers": ("--levers", "--attribution"),  # with the report, funnel and metrics
    "compare": ("--compare",),
    "monte-carlo": ("--method", "monte-carlo", "--prospects", "4000", "--draws", "4"),
}
EXTRA_SCENARIOS = """
  scenario cheaper_ads "Cheaper ads" {
    paid_ad -> pricing 10%
  }
  scenario worse_trial "A trial that converts less" {
    trial -> welcome 20%
  }
  scenario longer_onboarding_with_a_call "Onboarding call" {
    welcome -> first_project 70%
  }
  scenario no_demo "No demo" {
    pricing -> demo 0%
  }
}
"""
# a number as the tables print it, with any sign
NUMBER = re.compile(r"[−+-]?\d[\d,]*(\.\d+)?(%| pp| d| [A-Z]{3})?")


@pytest.fixture(scope="module")
def many_scenarios(tmp_path_factory) -> Path:
    """saas_trial with four more scenarios (five in all), one with a long name."""
    text = SAAS.read_text(encoding="utf-8").rstrip()
    path = tmp_path_factory.mktemp("many") / "many_scenarios.journey"
    path.write_text(text[:text.rfind("}")] + EXTRA_SCENARIOS.lstrip("\n"), encoding="utf-8")
    result = journeydsl.load(path)
    assert result.ok and len(result.scenarios) == 5, result.diagnostics
    return path


def _memo(fn):
    """The compiled files and the engines' results do not depend on the
    width: compute each once."""
    cache: dict = {}

    @functools.wraps(fn)
    def wrapper(result, *args, **kwargs):
        path = result.source.path if hasattr(result, "source") else str(result)
        key = (path, args, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = fn(result, *args, **kwargs)
        return cache[key]

    return wrapper


@pytest.fixture(scope="module")
def outputs(many_scenarios) -> dict[tuple[str, str, int], str]:
    """stdout of `journey simulate` for every (file, mode, width)."""
    import journeydsl.language.compiler as compiler
    import journeydsl.simulate as simulate
    import journeydsl.simulate.attribution as attribution
    import journeydsl.simulate.levers as levers
    import journeydsl.simulate.montecarlo as montecarlo

    runner = CliRunner()
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiler, "compile_path", _memo(compiler.compile_path))
        patch.setattr(simulate, "simulate", _memo(simulate.simulate))
        patch.setattr(levers, "levers", _memo(levers.levers))
        patch.setattr(attribution, "attribution", _memo(attribution.attribution))
        patch.setattr(montecarlo, "monte_carlo", _memo(montecarlo.monte_carlo))
        for path in [*EXAMPLES, many_scenarios]:
            for mode, args in MODES.items():
                for width in WIDTHS:
                    done = runner.invoke(app, ["simulate", str(path), *args],
                                         env={"COLUMNS": str(width)})
                    assert done.exit_code == 0, done.output
                    out[path.stem, mode, width] = done.stdout
    return out


def _rows(text: str) -> list[list[str]]:
    """The cells of every table body line."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]


def _numbers(cells: list[str]) -> list[str]:
    """The number cells of a row: after its rank (levers) and its name."""
    return cells[2:] if cells[0].isdigit() else cells[1:]


def _levers_rows(text: str) -> list[list[str]]:
    block = text[text.index("Levers:"):text.index("Attribution by touchpoint")]
    if "Best lever per stage" in block:  # (the table that follows it)
        block = block[:block.index("Best lever per stage")]
    return _rows(block)


def test_every_example_is_covered(outputs):
    assert len(EXAMPLES) >= 7
    assert len(outputs) == (len(EXAMPLES) + 1) * len(MODES) * len(WIDTHS)


def test_no_line_is_wider_than_the_terminal(outputs):
    for (name, mode, width), text in outputs.items():
        for line in text.splitlines():
            assert cell_len(line) <= width, (name, mode, width, line)


def test_no_table_row_wraps(outputs):
    for (name, mode, width), text in outputs.items():
        for cells in _rows(text):
            assert all(cells), (name, mode, width, cells)


def test_no_number_is_cut(outputs):
    for (name, mode, width), text in outputs.items():
        for cells in _rows(text):
            for cell in _numbers(cells):
                # (words: a payback that never comes, the scorecard's results)
                assert NUMBER.fullmatch(cell) or cell in ("—", "never", "pass", "FAIL"), (
                    name, mode, width, cells)
            for cell in cells:
                if "…" in cell:  # only a step id may be cut, in a transition
                    assert "→" in cell and cell in cells[:2], (name, mode, width, cells)


def test_a_transition_stays_on_one_line_at_80_columns(outputs):
    for (name, mode, width), text in outputs.items():
        if mode != "levers" or width != 80:
            continue
        rows = _levers_rows(text)
        assert 1 <= len(rows) <= 15, name
        for cells in rows:
            transition = next(c for c in cells if "→" in c)
            assert transition.count("→") == 1 and all(c for c in cells), (name, cells)


def test_a_wider_terminal_gets_labels_and_one_table(outputs):
    wide = outputs["saas_trial", "levers", 200]
    assert "Paying customer (monthly) → Paying customer (monthly)" in wide
    narrow = outputs["saas_trial", "levers", 80]
    assert "paying → paying" in narrow and "Paying customer (monthly) →" not in narrow
    compared = outputs["saas_trial", "compare", 200]
    assert "(1/" not in compared and compared.count("baseline") == 2  # the heading and a column
    parts = [len(re.findall(r"^Metrics \(\d/", outputs["many_scenarios", "compare", width],
                            flags=re.M)) for width in WIDTHS]
    assert parts == sorted(parts, reverse=True) and parts[-1] < parts[0]


def test_compare_with_five_scenarios_is_split_at_80_columns(outputs, many_scenarios):
    text = outputs["many_scenarios", "compare", 80]
    scenarios = [s.id for s in journeydsl.load(many_scenarios).model.scenarios]
    parts = re.findall(r"^Metrics \((\d)/(\d)\)", text, flags=re.M)
    assert len(parts) >= 3 and {total for _, total in parts} == {str(len(parts))}
    headers = "".join(line for line in text.splitlines() if line.startswith("┃"))
    for scenario in scenarios:  # every name whole, if over several header lines
        assert all(piece in headers for piece in scenario.split("_")), scenario
    assert text.count("┃ Metric") == len(parts)
    # each part repeats the baseline: its conversion is in every part
    baseline = _rows(text)[0][1]
    assert sum(cells[1] == baseline for cells in _rows(text) if cells[0] == "Conversion") \
        == len(parts)


# ------------------------------------------------------------------ minus signs

ASCII_MINUS = re.compile(r"(?<![\w-])-\d|\de[-+]\d")


def test_no_ascii_minus_before_a_number(outputs):
    """In number cells and in the text lines (cohort, CLV, concentration)."""
    for (name, mode, width), text in outputs.items():
        for cells in _rows(text):
            for cell in _numbers(cells):
                assert not ASCII_MINUS.search(cell), (name, mode, width, cell)
        for line in text.splitlines():
            if not line.startswith(("│", "┃", "┏", "┡", "└")):
                assert not ASCII_MINUS.search(line), (name, mode, width, line)


def test_negative_numbers_use_the_minus_sign_and_changes_a_plus(outputs):
    levers = outputs["saas_trial", "levers", 80]
    assert "−" in levers and "+" in levers
    compared = outputs["many_scenarios", "compare", 80]
    assert re.search(r"−\d[\d,.]* pp", compared) and re.search(r"\+\d[\d,.]* USD", compared)


@pytest.mark.parametrize(("got", "want"), [
    (tables.fmt(-0.5, "rate", None), "−50.00%"),
    (tables.fmt(-1234.5, "money", "USD"), "−1,234.50 USD"),
    (tables.fmt(-1234.5, "money", "VND"), "−1,234 VND"),
    (tables.fmt(1234.5, "money", "USD", plus=True, unit=False), "+1,234.50"),
    (tables.fmt(-3.25, "days", None), "−3.2 d"),
    (tables.fmt(-0.0004, "ratio", None), "0.000"),  # rounds to zero: no sign
    (tables.fmt(1e-7, "rate", None), "0.000010%"),  # no exponent (its "-")
    (tables.fmt(-1e-7, "rate", None), "−0.000010%"),
    (tables.delta(0.20, 0.25, "rate", None), "−5.00 pp"),
    (tables.delta(0.25, 0.25, "rate", None), "0.00 pp"),
    (tables.delta(2.0, 3.5, "ratio", None), "−1.500"),
    (tables.delta(None, 3.5, "ratio", None), "—"),
    (tables.points(-0.00034, 3, unit=False), "−0.034"),
])
def test_number_formats(got, want):
    assert got == want


def test_long_step_ids_are_cut_in_the_transition_only():
    """Ids that do not fit even alone are cut with "…", never the numbers."""
    from io import StringIO

    from rich.console import Console

    from journeydsl.simulate.levers import levers

    a, b = "a_touchpoint_with_a_very_long_identifier", "another_touchpoint_with_a_long_id"
    # more prospects through b: more customers, of lower value (a negative Δ CLV)
    result = journeydsl.loads(
        f'journey "long" {{ stage s {{ touchpoint {a} ; touchpoint {b} }}\n'
        f' stage g {{ touchpoint big {{ value 100000 }} ; touchpoint small {{ value 1 }} }}\n'
        f' entry {a} ; {a} -> big 10%, {b} 30% ; {b} -> small 50% ; goal big, small }}')
    assert result.ok, result.diagnostics
    console = Console(width=80, file=StringIO())
    console.print(tables.levers_table(levers(result.journey), "USD", {}, width=80))
    text = console.file.getvalue()
    rows = _rows(text)
    assert any("…" in cells[0] for cells in rows), text
    for cells in rows:
        assert cells[0].count("→") == 1
        assert all(NUMBER.fullmatch(cell) for cell in cells[1:]), text
    assert "−" in text and max(map(cell_len, text.splitlines())) <= 80

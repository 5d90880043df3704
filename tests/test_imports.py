"""`use "path.journey"`: what a used file brings, and where problems are shown.

The codes themselves (JD007, JD008, JD209) have their span tests in
test_diagnostic_codes.py; this file checks the behaviour around them: a
journey split into files means exactly what the same journey written in
one file means, problems are located in the file they are in, and a
library passes `journey check` on its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeydsl
from journeydsl.ci.formats import render_sarif
from journeydsl.cli import app
from journeydsl.diagnostics import render_json, render_text
from journeydsl.fmt import format_text
from journeydsl.simulate import simulate

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "b2b_webinar.journey"
LIB = REPO / "examples" / "lib"

PERSONAS = '''journey "Personas" {
  persona smb "Small business" { share 70% }
  persona ent "Enterprise" { share 30% }
}
'''

STAGES = '''journey "Stages" {
  use "personas.journey"
  stage visit "Visit" {
    touchpoint landing "Landing page" { cost 1.5 [ent: 4]; emotion 3 }
  }
}
'''

JOURNEY = '''journey "Trial" {
  use "lib/personas.journey"
  use "lib/stages.journey"
  stage paying "Paying" { value 49 [ent: 490] }
  entry landing
  landing -> paying 12% [ent: 5%]
  paying -> paying 90% after 1mo
  goal paying
}
'''


def write(folder: Path, **files: str) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, **{"lib/personas.journey": PERSONAS, "lib/stages.journey": STAGES,
                       "trial.journey": JOURNEY})
    return tmp_path


def _inlined(path: Path) -> str:
    """The journey with each `use` line replaced by the body of the library
    it names (recursively, each library once): the one-file journey that a
    split journey must mean. (Only for files whose used files are libraries.)"""
    seen: set[Path] = set()
    use = re.compile(r'\s*use "(.*)"')

    def body(file: Path, top: bool) -> list[str]:
        lines = file.read_text(encoding="utf-8").splitlines()
        head = next(i for i, line in enumerate(lines) if line.startswith("journey"))
        out = lines[:head + 1] if top else []
        for line in lines[head + 1:] if top else lines[head + 1:-1]:
            found = use.match(line)
            if not found:
                out.append(line)
                continue
            used = (file.parent / found.group(1)).resolve()
            if used not in seen:
                seen.add(used)
                out += body(used, False)
        return out

    return "\n".join(body(path, True)) + "\n"


def _graph(compiled) -> tuple[list, list]:
    """Nodes and edges with their data, spans aside (offsets differ, of course)."""
    graph = compiled.graph()
    nodes = [(n, {k: v for k, v in d.items() if k != "span"}) for n, d in graph.nodes(data=True)]
    edges = [(u, v, {k: x for k, x in d.items() if "span" not in k})
             for u, v, d in graph.edges(data=True)]
    return nodes, edges


# ------------------------------------------------------------ what a file brings

def test_split_journey_means_the_same_as_one_file(project: Path) -> None:
    split = journeydsl.load(project / "trial.journey")
    one = journeydsl.loads(_inlined(project / "trial.journey"), "one.journey")
    assert split.diagnostics == [] and one.diagnostics == [], render_text(
        (split.diagnostics or one.diagnostics)[0])
    assert _graph(split) == _graph(one)
    assert simulate(split.journey).as_dict() == simulate(one.journey).as_dict()


def test_the_example_means_the_same_as_its_inlined_text() -> None:
    split = journeydsl.load(EXAMPLE)
    one = journeydsl.loads(_inlined(EXAMPLE), "one.journey")
    assert split.diagnostics == [] and one.diagnostics == []
    assert [p.id for p in split.journey.personas] == ["founder", "midmarket", "enterprise"]
    assert [s.id for s in split.journey.stages][:2] == ["awareness", "consideration"]
    for scenario in (None, "security_pack"):
        assert simulate(split.variant(scenario)).as_dict() == \
            simulate(one.variant(scenario)).as_dict()


def test_imports_lists_every_file_used_once(project: Path) -> None:
    """trial uses personas and stages; stages uses personas again (a diamond)."""
    result = journeydsl.load(project / "trial.journey")
    assert result.imports == [str((project / "lib" / name).resolve())
                              for name in ("personas.journey", "stages.journey")]
    assert [p.id for p in result.journey.personas] == ["smb", "ent"]


def test_export_names_the_files_spans_point_into(project: Path) -> None:
    from journeydsl.language.export import export_data

    result = journeydsl.load(project / "trial.journey")
    data = export_data(result.compilation)
    sources = data["sources"]
    assert [s["path"] for s in sources] == [
        str(project / name) for name in ("trial.journey", "lib/personas.journey",
                                         "lib/stages.journey")]
    landing = data["journey"]["stages"][0]["touchpoints"][0]
    where = max((s for s in sources if s["offset"] <= landing["id_span"][0]),
                key=lambda s: s["offset"])
    text = Path(where["path"]).read_text(encoding="utf-8")
    start, end = (x - where["offset"] for x in landing["id_span"])
    assert (where["path"], text[start:end]) == (str(project / "lib/stages.journey"), "landing")


def test_scenarios_and_expectations_reach_used_steps(project: Path) -> None:
    text = JOURNEY.replace("  goal paying\n", '''  goal paying
  expect reach(landing) == 100%
  expect conversion(ent) == 5%
  scenario better "Better landing" {
    landing -> paying 20%
    landing { cost 1 }
    expect conversion(smb) == 20%
  }
''')
    write(project, **{"trial.journey": text})
    assert journeydsl.load(project / "trial.journey").diagnostics == []


def test_loads_resolves_paths_from_the_working_directory(project: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    assert journeydsl.loads(JOURNEY).diagnostics == []


def test_only_personas_and_stages_are_brought(tmp_path: Path) -> None:
    full = '''journey "Full" {
  currency EUR
  persona smb { share 100% }
  stage s { touchpoint a }
  entry a
  goal a
  expect conversion >= 0%
  scenario x { a -> a 10% }
}
'''
    write(tmp_path, **{"full.journey": full, "t.journey": 'journey "T" {\n  use "full.journey"\n'
                       '  stage b { touchpoint b1 }\n  entry b1\n  goal b1\n}\n'})
    assert journeydsl.load(tmp_path / "full.journey").diagnostics == []
    result = journeydsl.load(tmp_path / "t.journey")
    assert result.diagnostics == [], [render_text(d) for d in result.diagnostics][:1]
    journey = result.journey
    assert [p.id for p in journey.personas] == ["smb"]
    assert [s.id for s in journey.stages] == ["s", "b"]
    assert [e.step for e in journey.entries] == ["b1"]
    assert journey.currency is None and result.scenarios == [] and journey.expects == ()


# ------------------------------------------------------------ where problems are shown

def test_error_in_a_used_file_is_shown_in_that_file(project: Path) -> None:
    write(project, **{"lib/stages.journey": STAGES.replace("emotion 3", "emotion 7")})
    result = journeydsl.load(project / "trial.journey")
    assert [d.code for d in result.diagnostics] == ["JD306"]  # no fallout in trial.journey
    d = result.diagnostics[0]
    assert d.path == str(project / "lib" / "stages.journey")
    column = STAGES.splitlines()[3].index("emotion 3") + len("emotion ") + 1
    assert d.location == (4, column)
    assert f"--> {project / 'lib' / 'stages.journey'}:4:{column}" in render_text(d)


def test_warnings_of_a_used_file_stay_with_that_file(tmp_path: Path) -> None:
    lib = 'journey "L" {\n  stage s { touchpoint a; touchpoint b }\n  entry a\n  goal a\n}\n'
    write(tmp_path, **{"lib.journey": lib, "t.journey": 'journey "T" {\n  use "lib.journey"\n'
                       '  stage c { touchpoint c1 }\n  entry a\n  a -> c1 10%\n  goal c1\n}\n'})
    assert [d.code for d in journeydsl.load(tmp_path / "lib.journey").diagnostics] == ["JD403"]
    # In t.journey, `b` is simply not used: no JD403 there either.
    assert journeydsl.load(tmp_path / "t.journey").diagnostics == []


def test_a_used_step_that_the_journey_links_is_checked(tmp_path: Path) -> None:
    lib = 'journey "L" {\n  stage s { touchpoint a; touchpoint b }\n}\n'
    write(tmp_path, **{"lib.journey": lib, "t.journey": 'journey "T" {\n  use "lib.journey"\n'
                       '  entry a\n  a -> a 10%\n  b -> a 10%\n  goal a\n}\n'})
    d = journeydsl.load(tmp_path / "t.journey").diagnostics
    assert [(x.code, x.path, x.location) for x in d] == [
        ("JD403", str(tmp_path / "lib.journey"), (2, lib.splitlines()[1].index("b }") + 1))]


def test_a_problem_of_the_journey_shows_used_declarations_in_their_file(project: Path) -> None:
    text = JOURNEY.replace("  stage paying", '  persona vip "VIP" { share 10% }\n  stage paying')
    text = text.replace("[ent: 490]", "[ent: 490, vip: 900]")
    write(project, **{"trial.journey": text})
    d = journeydsl.load(project / "trial.journey").diagnostics[0]
    assert d.code == "JD305" and d.path == str(project / "trial.journey")
    assert d.location == (4, 29)  # the journey's own persona, not the library's
    assert [(label.source.path, label.message) for label in d.labels] == [
        (str(project / "lib" / "personas.journey"), "`smb`"),
        (str(project / "lib" / "personas.journey"), "`ent`")]
    shown = render_text(d)
    assert shown.count(":::") == 1  # one snippet per other file
    assert f" ::: {project / 'lib' / 'personas.journey'}:2:40" in shown
    assert "  |                                        ^^^ `smb`" in shown


def test_labels_in_other_files_in_json_and_sarif(project: Path) -> None:
    write(project, **{"trial.journey": JOURNEY.replace(
        "  stage paying", '  persona smb "Mine" { share 70% }\n  stage paying')})
    diagnostics = journeydsl.load(project / "trial.journey").diagnostics
    assert [d.code for d in diagnostics] == ["JD209"]
    labels = json.loads(render_json(diagnostics))[0]["labels"]
    assert labels == [
        {"message": "declared here", "line": 4, "column": 11},
        {"message": "and imported from here", "line": 2, "column": 11,
         "path": str(project / "lib" / "personas.journey")}]
    log = json.loads(render_sarif(diagnostics, project))
    related = log["runs"][0]["results"][0]["relatedLocations"]
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == [
        "trial.journey", "lib/personas.journey"]
    assert related[1]["physicalLocation"]["region"]["startLine"] == 2


def test_deeply_nested_imports_end_in_a_diagnostic(tmp_path: Path) -> None:
    for i in range(40):
        write(tmp_path, **{f"f{i}.journey": f'journey "F{i}" {{\n  use "f{i + 1}.journey"\n}}\n'})
    write(tmp_path, **{"f40.journey": PERSONAS})
    result = journeydsl.load(tmp_path / "f0.journey")
    assert [d.code for d in result.diagnostics] == ["JD007"]
    assert result.diagnostics[0].message == "imports are nested more than 32 files deep"


def test_check_reports_a_shared_mistake_once(project: Path) -> None:
    write(project, **{"lib/stages.journey": STAGES.replace("emotion 3", "emotion 7")})
    result = CliRunner().invoke(app, ["check", str(project)])
    assert result.exit_code == 1
    assert result.stderr.count("error[JD306]") == 1
    assert "checked 3 files: 1 error, 0 warnings" in result.stderr


# ------------------------------------------------------------ libraries

def test_a_library_passes_check_on_its_own(tmp_path: Path) -> None:
    partial = 'journey "Some personas" {\n  persona smb { share 70% }\n}\n'
    write(tmp_path, **{"p.journey": partial, "s.journey": STAGES, "personas.journey": PERSONAS})
    for name in ("p.journey", "s.journey", "personas.journey"):
        assert journeydsl.load(tmp_path / name).diagnostics == []
    for path in sorted(LIB.glob("*.journey")):
        assert journeydsl.load(path).diagnostics == []


def test_a_journey_without_flows_but_with_expect_is_no_library() -> None:
    codes = [d.code for d in journeydsl.loads(
        'journey "x" {\n  stage s\n  expect conversion >= 1%\n}\n').diagnostics]
    assert "JD401" in codes


def test_fmt_keeps_use_lines() -> None:
    text = 'journey "x" {\n  use   "lib/personas.journey"  # the team\'s personas\n  stage s\n}\n'
    formatted = format_text(text)
    assert formatted == ('journey "x" {\n  use "lib/personas.journey"  # the team\'s personas\n'
                         '  stage s\n}\n')
    assert format_text(formatted) == formatted


def test_misplaced_or_unquoted_use_gets_a_hint() -> None:
    unquoted = journeydsl.loads('journey "x" {\n  use lib.journey\n}\n').diagnostics
    assert [(d.code, d.help) for d in unquoted] == [
        ("JD101", 'write the path in quotes: `use "personas.journey"`')]
    nested = journeydsl.loads('journey "x" {\n  stage s {\n    use "p.journey"\n  }\n}\n')
    assert [(d.code, d.help) for d in nested.diagnostics] == [
        ("JD206", "`use` is a statement of the journey: move it out of this block")]


def test_a_library_has_nothing_to_simulate(tmp_path: Path) -> None:
    from journeydsl.diagnostics import JourneyError

    write(tmp_path, **{"personas.journey": PERSONAS})
    library = journeydsl.load(tmp_path / "personas.journey")
    for run in (library.simulate, library.monte_carlo, library.levers, library.attribution):
        with pytest.raises(JourneyError, match="nothing to simulate"):
            run()
    result = CliRunner().invoke(app, ["simulate", str(tmp_path / "personas.journey")])
    assert result.exit_code == 1
    assert "error[JD401]" in result.stderr and "library" in result.stderr


def test_a_library_is_drawn_without_entry_or_exits() -> None:
    from journeydsl.render.dot import to_dot

    dot = to_dot(journeydsl.load(LIB / "b2b_awareness.journey").journey)
    assert '"#entry"' not in dot and "exits" not in dot.replace("exits / churn", "")
    assert "LinkedIn ad" in dot


@pytest.mark.parametrize("suffix", ["", ".journey"])
def test_any_use_path_ends_in_diagnostics_not_exceptions(suffix: str) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None)
    @given(st.text(st.characters(blacklist_characters='"\\\n\r'), max_size=300))
    def compiles(path: str) -> None:
        text = f'journey "x" {{\n  use "{path}{suffix}"\n  stage s\n  entry s\n  goal s\n}}\n'
        result = journeydsl.loads(text, "/nonexistent-folder/t.journey")
        assert all(d.code in {"JD007", "JD008", "JD101", "JD102", "JD103"}
                   for d in result.diagnostics), [d.message for d in result.diagnostics]

    compiles()

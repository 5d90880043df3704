"""The public API's edges: `Compiled.graph()` on a file with errors, and
what `dir(journeydsl)` shows."""

from __future__ import annotations

import pytest

import journeydsl
from journeydsl import JourneyError

# an unknown step (JD201) and rates over 100% (JD303, found on the graph),
# in the baseline and in a scenario
BROKEN = '''journey "Broken" {
  stage s { touchpoint a ; touchpoint b ; touchpoint c }
  entry a
  a -> b 70%, c 40%
  b -> missing 10%
  goal c
  scenario more { b -> c 60%, a 50% }
}
'''
WARNINGS_ONLY = '''journey "Warnings" {
  stage s { touchpoint a ; touchpoint b ; touchpoint lonely }
  entry a
  a -> b 30%
  goal b
}
'''


def test_graph_raises_journey_error_with_the_errors():
    result = journeydsl.loads(BROKEN)
    assert not result.ok
    for scenario in (None, "more"):
        with pytest.raises(JourneyError) as raised:
            result.graph(scenario)
        assert raised.value.diagnostics == result.errors
        assert "error[JD201]: unknown step `missing`" in str(raised.value)


def test_the_checks_that_need_the_graph_still_run_on_a_file_with_errors():
    """The compiler builds the graphs for its own checks while it collects
    the diagnostics: rates over 100% are found next to the unknown name."""
    result = journeydsl.loads(BROKEN)
    messages = [(d.code, d.message) for d in result.errors]
    assert [code for code, _ in messages].count("JD303") == 2, messages
    assert any(code == "JD303" and "(in scenario `more`)" in message
               for code, message in messages)
    assert any(code == "JD201" for code, _ in messages)


def test_graph_of_a_file_that_does_not_parse_raises_journey_error():
    result = journeydsl.loads('journey "x" { stage s { touchpoint a }\n a -> }')
    assert result.journey is None
    with pytest.raises(JourneyError) as raised:
        result.graph()
    assert raised.value.diagnostics == result.errors != []


def test_warnings_do_not_stop_the_graph():
    result = journeydsl.loads(WARNINGS_ONLY)
    assert result.ok and [d.code for d in result.warnings] == ["JD403"]
    assert list(result.graph().nodes) == ["a", "b", "lonely"]


def test_simulating_a_file_with_errors_raises_journey_error():
    from journeydsl.simulate import simulate

    with pytest.raises(JourneyError):
        journeydsl.loads(BROKEN).simulate()


def test_dir_shows_the_public_api_only():
    # the lazy names, once used, bring their submodules in as attributes
    assert journeydsl.Compiled and journeydsl.Severity
    public = [name for name in dir(journeydsl) if not name.startswith("__")]
    assert public == sorted(set(journeydsl.__all__) - {"__version__"})
    assert "__version__" in dir(journeydsl) and "__all__" in dir(journeydsl)
    for stray in ("Path", "TYPE_CHECKING", "annotations", "compiler", "diagnostics"):
        assert stray not in dir(journeydsl)
    for stray in ("Path", "TYPE_CHECKING", "annotations"):
        assert not hasattr(journeydsl, stray)
    for name in journeydsl.__all__:
        assert getattr(journeydsl, name) is not None


@pytest.mark.parametrize("how", ["load", "loads"])
def test_the_checks_after_compiling_run_with_the_collector_paused(how, monkeypatch, tmp_path):
    # `finish` (the expect lines, the JD408/JD410 screens) allocates on top of
    # a freshly compiled journey: with the collector on, a full collection
    # scanned it all again (a tenth of a 10,000-line file's `load`).
    import gc

    from journeydsl import api

    seen = []
    real = api.finish
    monkeypatch.setattr(api, "finish", lambda c: (seen.append(gc.isenabled()), real(c))[1])
    text = 'journey "j" { stage a { touchpoint x } ; entry x ; goal x }'
    path = tmp_path / "j.journey"
    path.write_text(text, encoding="utf-8")
    compiled = journeydsl.load(path) if how == "load" else journeydsl.loads(text)
    assert compiled.ok and seen == [False] and gc.isenabled()

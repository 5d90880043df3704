"""Property tests: the compiler never raises, and clean journeys have sound graphs.

(a) `loads` never raises on any text;
(b) nor on text generated from the grammar itself (hypothesis' `from_lark`);
(c) every journey that compiles without errors has, in its baseline graph
    and in every scenario's graph, outgoing rates summing to <= 100% at each
    step and entry rates summing to 100%, for every persona.
"""

from __future__ import annotations

import lark
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

import journeydsl
from journeydsl.diagnostics import REGISTRY, render_concise, render_text
from journeydsl.language.syntax import grammar_text

EPS = 1e-9


def _assert_located(result) -> None:
    assert isinstance(result.diagnostics, list)
    for d in result.diagnostics:
        assert d.code in REGISTRY
        assert d.source is not None and d.span is not None
        assert 0 <= d.span.start <= d.span.end <= len(d.source.text)
        render_concise(d)
    for d in result.diagnostics[:5]:
        render_text(d)
    if result.ok:
        assert result.journey is not None


# ---------------------------------------------------------------- (a) any text

@settings(max_examples=400, deadline=None)
@given(st.text())
def test_loads_never_raises_on_any_text(text):
    _assert_located(journeydsl.loads(text))


_JOURNEYISH = st.sampled_from([
    "journey", '"', "{", "}", "(", ")", "[", "]", "->", "=>", "%", "..", ",", ";", ":", ".",
    "\n", "\r\n", "\r", "\t", " ", "#", "stage", "touchpoint", "persona", "entry", "goal",
    "expect", "scenario", "after", "beta", "currency", "discount", "horizon", "per", "a", "b",
    "nhận", "nha\u0323\u0302n", "\u0301", "30%", "1..2", "14d", "1mo", "0.5", "\ufeff", "\x00",
    "\u2028", "\x85", "\\", "é", "_", "1_000", ">=", "==", "<",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_JOURNEYISH | st.text(max_size=3), max_size=60).map("".join))
def test_loads_never_raises_on_journeyish_soup(text):
    _assert_located(journeydsl.loads(text))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_loads_never_raises_with_text_spliced_into_a_journey(before, after):
    text = f'journey "x" {{\n  stage a {{}}\n  {before}\n  entry a\n  {after}\n  goal a\n}}\n'
    _assert_located(journeydsl.loads(text))


# ---------------------------------------------------------------- (b) grammar-generated text

_GRAMMAR = lark.Lark(grammar_text(), parser="lalr", start="start")

_NAMES = st.sampled_from([
    "a", "b", "c", "awareness", "pricing", "trial", "paying", "value", "cost", "channel",
    "emotion", "owner", "share", "pain", "note", "conversion", "reach", "entry", "smb", "ent",
    "nhận_thức", "nha\u0323\u0302n_thu\u031bc", "Ωmega", "_x1",
]) | st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,6}", fullmatch=True)


def _spaced(strategy):
    # Tokens drawn side by side would run together ("stage" "a" -> "stagea");
    # a trailing space keeps them apart as the lexer would see them in real files.
    return strategy.map(lambda s: s + " ")


def _explicit() -> dict:
    terminals, _, _ = _GRAMMAR.grammar.compile(["start"], ())
    explicit = {}
    for t in terminals:
        if t.pattern.type == "str":
            explicit[t.name] = st.just(t.pattern.value + " ")
    explicit.update({
        "NAME": _spaced(_NAMES),
        "STRING": _spaced(st.text(st.characters(blacklist_characters='"\\\n\r',
                                                blacklist_categories=("Cs",)), max_size=8)
                          .map(lambda s: f'"{s}"')),
        "SETTING_KEY": _spaced(st.sampled_from(["currency", "discount", "horizon"])),
        "PER": st.just("per "),
        "ARROW": _spaced(st.sampled_from(["->", "=>"])),
        "COMPARE": _spaced(st.sampled_from([">=", "<=", "==", ">", "<"])),
        "DURATION": _spaced(st.sampled_from(["1d", "14d", "2w", "1mo", "3y", "12h", "0.5d",
                                             "1_000d"])),
        "PERCENT": _spaced(st.sampled_from(["0%", "5%", "30%", "60%", "99.5%", "100%", "150%",
                                            "1_000%"])),
        "NUMBER": _spaced(st.sampled_from(["0", "1", "2", "0.02", "3.5", "49", "1_000", "7"])),
        "_SEP": st.sampled_from(["\n", ";", "\n\n", "  # a comment\n", "\r\n", "; ", "\n  "]),
    })
    return explicit


_GENERATED = from_lark(_GRAMMAR, start="start", explicit=_explicit())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_GENERATED)
def test_loads_never_raises_on_grammar_generated_text(text):
    result = journeydsl.loads(text)
    _assert_located(result)
    event("parsed" if result.journey is not None else "syntax error")
    event("clean" if result.ok else "errors")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_GENERATED, st.data())
def test_loads_never_raises_on_mutated_grammar_text(text, data):
    """Grammar text with one cut, duplication or deletion: near-miss input."""
    if not text:
        return
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    how = data.draw(st.sampled_from(["cut", "delete", "duplicate", "insert"]))
    if how == "cut":
        text = text[:i]
    elif how == "delete":
        text = text[:i] + text[j:]
    elif how == "duplicate":
        text = text[:j] + text[i:j] + text[j:]
    else:
        text = text[:i] + data.draw(_JOURNEYISH) + text[i:]
    _assert_located(journeydsl.loads(text))


# ---------------------------------------------------------------- (c) graph invariants

def _percent(draw, low=0, high=100) -> str:
    value = draw(st.integers(low * 10, high * 10)) / 10
    return f"{value:g}%"


@st.composite
def journey_texts(draw) -> str:
    """Journeys that are mostly well-formed, with rates that sometimes overflow."""
    lines: list[str] = []
    n_personas = draw(st.integers(0, 3))
    personas = [f"p{i}" for i in range(n_personas)]
    if draw(st.booleans()):
        lines.append(f"horizon {draw(st.sampled_from(['30d', '1y', '3y']))}")
    if n_personas >= 2:
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n_personas - 1,
                                    max_size=n_personas - 1)))
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
        if draw(st.integers(0, 9)) == 0:
            shares[0] += 5  # sometimes wrong on purpose
        lines += [f"persona {p} {{ share {s}% }}" for p, s in zip(personas, shares)]
    else:
        lines += [f"persona {p}" for p in personas]

    steps: list[str] = []
    stage_refs: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        n_tp = draw(st.integers(0, 3))
        touchpoints = [f"t{i}_{j}" for j in range(n_tp)]
        body = "; ".join(f"touchpoint {t}" for t in touchpoints)
        lines.append(f"stage s{i} {{ {body} }}" if body else f"stage s{i}")
        steps.extend(touchpoints or [f"s{i}"])
        if touchpoints:
            stage_refs += [f"s{i}", f"s{i}.{touchpoints[-1]}"]

    def overrides(pick_rate) -> str:
        chosen = draw(st.lists(st.sampled_from(personas), unique=True, max_size=len(personas))) \
            if personas else []
        return f" [{', '.join(f'{p}: {pick_rate()}' for p in chosen)}]" if chosen else ""

    # entry: integer percents that sum to 100 (sometimes not), per persona too
    entry_steps = draw(st.lists(st.sampled_from(steps), min_size=1, max_size=3, unique=True))

    def entry_rates() -> list[int]:
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(entry_steps) - 1,
                                    max_size=len(entry_steps) - 1)))
        rates = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
        if draw(st.integers(0, 9)) == 0:
            rates[-1] = max(0, rates[-1] + draw(st.sampled_from([-10, 10])))
        return rates

    base = entry_rates()
    per = {p: entry_rates() for p in personas if draw(st.booleans())}
    parts = []
    for k, step in enumerate(entry_steps):
        over = ", ".join(f"{p}: {rates[k]}%" for p, rates in per.items())
        parts.append(f"{step} {base[k]}%" + (f" [{over}]" if over else ""))
    if len(entry_steps) == 1 and not per and draw(st.booleans()):
        parts = [entry_steps[0]]  # a lone entry needs no rate
    lines.append("entry " + ", ".join(parts))

    # transitions: a budget per source so most journeys stay under 100%
    targets = steps + stage_refs
    for source in draw(st.lists(st.sampled_from(steps), unique=True, max_size=len(steps))):
        outs = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
        budget = draw(st.sampled_from([60, 100, 130]))
        share = budget // len(outs)
        legs = []
        for target in outs:
            kind = draw(st.integers(0, 5))
            if kind == 0:
                low = draw(st.integers(0, share))
                rate = f"{low}%..{draw(st.integers(low, max(low, share + 5)))}%"
            else:
                rate = _percent(draw, 0, share)
            leg = f"{target} {rate}" + overrides(lambda: _percent(draw, 0, share))
            if draw(st.booleans()):
                leg += f" after {draw(st.sampled_from(['1d', '2w', '1mo', '12h']))}"
            legs.append(leg)
        lines.append(f"{source} -> " + ", ".join(legs))
    for _ in range(draw(st.integers(0, 2))):
        a, b = draw(st.sampled_from(steps)), draw(st.sampled_from(steps))
        lines.append(f"{a} => {b} {draw(st.sampled_from(['0.01', '0.02', '0.1']))}")
    if draw(st.integers(0, 5)):
        goals = draw(st.lists(st.sampled_from(steps), min_size=1, max_size=2, unique=True))
        lines.append("goal " + ", ".join(goals))
    if draw(st.booleans()):
        body = []
        for source in draw(st.lists(st.sampled_from(steps), unique=True, max_size=2)):
            target = draw(st.sampled_from(steps))
            body.append(f"{source} -> {target} {_percent(draw, 0, 100)}"
                        + overrides(lambda: _percent(draw, 0, 100)))
        if draw(st.booleans()):
            step = draw(st.sampled_from(steps))
            body.append(f"entry {step} 100%")
        lines.append("scenario what_if {\n    " + "\n    ".join(body) + "\n  }")
    return 'journey "generated" {\n  ' + "\n  ".join(lines) + "\n}\n"


def _assert_rows_sum_to_at_most_one(graph) -> None:
    personas = graph.graph["personas"]
    assert personas
    for node in graph.nodes:
        for persona in personas:
            rates = [d["rate"][persona] for _, _, d in graph.out_edges(node, data=True)
                     if d["rate"] is not None]
            assert all(0.0 <= r <= 1.0 + EPS for r in rates), (node, persona, rates)
            assert sum(rates) <= 1.0 + EPS, (node, persona, rates)


def _assert_entry_sums_to_one(graph) -> None:
    for persona in graph.graph["personas"]:
        entries = [graph.nodes[n]["entry"][persona] for n in graph.nodes]
        assert all(e >= 0.0 for e in entries)
        assert abs(sum(entries) - 1.0) <= EPS, (persona, entries)


def _assert_shares_sum_to_one(graph) -> None:
    shares = graph.graph["shares"]
    assert set(shares) == set(graph.graph["personas"])
    assert abs(sum(shares.values()) - 1.0) <= EPS, shares


@settings(max_examples=300, deadline=None)
@given(journey_texts())
def test_clean_journeys_have_sound_graphs(text):
    result = journeydsl.loads(text)
    _assert_located(result)
    if not result.ok:
        event("rejected: " + ",".join(sorted({d.code for d in result.errors})))
        return
    event("clean")
    variants = [None] + result.scenarios
    for scenario in variants:
        graph = result.graph(scenario)
        assert list(graph.nodes) == [s.id for s in result.journey.steps]
        _assert_rows_sum_to_at_most_one(graph)
        _assert_entry_sums_to_one(graph)
        _assert_shares_sum_to_one(graph)


def test_generator_yields_clean_journeys():
    """Guard against (c) passing vacuously: enough generated journeys compile clean."""
    clean = 0

    @settings(max_examples=100, deadline=None, database=None)
    @given(journey_texts())
    def count(text):
        nonlocal clean
        clean += journeydsl.loads(text).ok

    count()
    assert clean >= 20, clean

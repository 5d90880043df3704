"""Completion and signature help, from the text before the cursor.

What fits where: step and stage names after an arrow, in `entry` and
`goal`; personas inside `[...]` overrides and `metric(`; metric names
after `expect` (from the metric table, with their help); channels after
`channel`; duration units after a number where a time goes (`after 14`,
`horizon 3`); `%` after a number where a rate goes; the periods after
`per`; and at the start of a statement the keywords the grammar accepts
in that block (`language.grammar.first_keywords`) with the attribute
names. `expect` lines get a signature: `expect METRIC(ARG) OP VALUE`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import get_args

from lsprotocol import types

from ..display import one_line
from ..language.grammar import first_keywords
from ..language.model import DAYS, PERIOD_DAYS, Expect
from ..language.values import PERSONA_ATTRIBUTES, STEP_ATTRIBUTES
from ..metrics import EXPECTABLE, METRIC
from .analysis import Analysis

Kind = types.CompletionItemKind
_WORD = re.compile(r"[\w\u0300-\u036f]*\Z")
_BRACES = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[{}]')
_ARGUMENT = {"persona": "(persona?)", "place": "(step or stage)", "step": "(step)"}
_VALUE = {"rate": "RATE (1.5%)", "money": "MONEY (1_500)", "number": "NUMBER (3)",
          "days": "DURATION (30d)"}


def _block(text: str, offset: int) -> str:
    """The block the offset is in: journey, stage, touchpoint, persona,
    scenario, or `override` (a step's attributes inside a scenario)."""
    stack: list[str] = []
    for mark in _BRACES.finditer(text, 0, offset):
        char = mark.group()[0]
        if char == "{":
            line = text[text.rfind("\n", 0, mark.start()) + 1:mark.start()]
            head = line.replace(";", "\n").split("\n")[-1].split()
            stack.append(head[0] if head else "")
        elif char == "}" and stack:
            stack.pop()
    if not stack:
        return "none"
    word = stack[-1]
    if word in ("journey", "stage", "touchpoint", "persona", "scenario"):
        return word
    return "override" if "scenario" in stack else "journey"


def _items(names: Iterable[str], kind: Kind, detail: dict[str, str] | None = None,
           docs: dict[str, str] | None = None,
           sort: str = "1") -> list[types.CompletionItem]:
    out = []
    for name in names:
        doc = (docs or {}).get(name)
        out.append(types.CompletionItem(
            label=name, kind=kind, detail=one_line((detail or {}).get(name)) or None,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, doc) if doc else None,
            sort_text=f"{sort}{name}"))
    return out


def _steps(analysis: Analysis) -> list[types.CompletionItem]:
    model = analysis.model
    if model is None:
        return []
    out, labels = [], {}
    for stage in model.stages:
        labels[stage.id] = stage.label
        for touchpoint in stage.touchpoints:
            labels[touchpoint.id] = f"{touchpoint.label} ({stage.id})"
    for stage in model.stages:
        out += _items([t.id for t in stage.touchpoints], Kind.Function, labels)
        out += _items([stage.id], Kind.Module, labels, sort="2")
    return out


def _personas(analysis: Analysis) -> list[types.CompletionItem]:
    model = analysis.model
    personas = model.personas if model else []
    return _items([p.id for p in personas], Kind.Interface, {p.id: p.label for p in personas})


def _metrics() -> list[types.CompletionItem]:
    return _items(list(EXPECTABLE), Kind.Property,
                  {m.name: m.label for m in EXPECTABLE.values()},
                  {m.name: f"{m.help}\n\nunit: {m.unit}" for m in EXPECTABLE.values()})


def _keywords(block: str, analysis: Analysis) -> list[types.CompletionItem]:
    if block == "journey":
        return _items(sorted(first_keywords("journey_item")), Kind.Keyword) + _steps(analysis)
    if block == "scenario":
        return _items(sorted(first_keywords("scenario_item")), Kind.Keyword) + _steps(analysis)
    if block == "stage":
        return (_items(sorted(first_keywords("stage_item")), Kind.Keyword)
                + _items(STEP_ATTRIBUTES, Kind.Field))
    if block in ("touchpoint", "override"):
        return _items(STEP_ATTRIBUTES, Kind.Field)
    if block == "persona":
        return _items(PERSONA_ATTRIBUTES, Kind.Field)
    return _items(sorted(first_keywords("start")), Kind.Keyword)


def _units(number: str) -> list[types.CompletionItem]:
    return [types.CompletionItem(label=number + unit, kind=Kind.Unit,
                                 detail=f"{days:g} day{'s' if days != 1 else ''}" if days >= 1
                                 else "1 hour", sort_text=f"{i}")
            for i, (unit, days) in enumerate(DAYS.items())]


def completion(analysis: Analysis, offset: int) -> list[types.CompletionItem]:
    text = analysis.source.text
    offset = min(offset, len(text))
    line = text[text.rfind("\n", 0, offset) + 1:offset]
    if _in_comment_or_string(line):
        return []
    found_word = _WORD.search(line)
    word = found_word.group() if found_word else ""  # `[...]*\Z` always matches
    head = line[:len(line) - len(word)]
    statement = re.split(r"[;{]", head)[-1]
    expect = re.match(r"\s*expect\s+(\w+)?\s*(\()?", statement + word)
    if word[:1].isdigit():
        return _number(word, statement, expect)
    if re.fullmatch(r"\s*expect\s+", statement):
        return _metrics()
    if (found := re.fullmatch(r"\s*expect\s+(\w+)\s*\(\s*", statement)) is not None:
        metric = METRIC.get(found.group(1))
        if metric is None or metric.argument == "persona":
            return _personas(analysis)
        return _steps(analysis)
    if re.search(r"\[[^\]]*$", statement) and re.search(r"[\[,]\s*$", statement):
        return _personas(analysis)
    if (found := re.search(r"(\w+)\.$", statement)) is not None:
        model = analysis.model
        stage = model.stage(found.group(1)) if model else None
        return _items([t.id for t in stage.touchpoints], Kind.Function) if stage else []
    if re.search(r"(->|=>)\s*$", statement) or re.match(r"\s*(entry|goal)\s", statement) \
            and re.search(r"(entry|goal|,)\s*$", statement) \
            or re.search(r"(->|=>)[^#]*,\s*$", statement):
        return _steps(analysis)
    if re.search(r"\bchannel\s+$", statement):
        model = analysis.model
        stages = model.stages if model else []
        attributes = [s.attributes for s in stages] + \
            [t.attributes for s in stages for t in s.touchpoints]
        channels = sorted({a.channel for a in attributes if a.channel})
        return _items(channels, Kind.EnumMember)
    if re.search(r"\bper\s+$", statement):
        return _items(PERIOD_DAYS, Kind.EnumMember)
    if statement.strip() == "":
        return _keywords(_block(text, offset - len(word)), analysis)
    return []


def _number(word: str, statement: str, expect: re.Match[str] | None
            ) -> list[types.CompletionItem]:
    lead = re.match(r"\d[\d_]*(?:\.\d+)?", word)
    if lead is None:
        return []
    number = lead.group()
    if re.search(r"\b(after|horizon)\s+$", statement):
        return _units(number)
    if expect is not None and expect.group(1) in METRIC:
        unit = METRIC[expect.group(1)].unit
        if unit == "days":
            return _units(number)
        if unit != "rate":
            return []
    if re.search(r"(->|=>|entry|\[|,|:|>=|<=|==|>|<|share|discount|margin)\s*\S*\s*$",
                 statement + " "):
        return [types.CompletionItem(label=number + "%", kind=Kind.Unit,
                                     detail=f"a rate: {number}% = {_fraction(number)}")]
    return []


def _fraction(number: str) -> str:
    try:
        return f"{float(number.replace('_', '')) / 100:g}"
    except ValueError:
        return "?"


def _in_comment_or_string(line: str) -> bool:
    inside = False
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and inside:
            i += 2
            continue
        if char == '"':
            inside = not inside
        elif char == "#" and not inside:
            return True
        i += 1
    return inside


# ---------------------------------------------------------------- signatures

#: `expect`'s comparisons, as the model types them
_OPERATORS = "` `".join(get_args(Expect.model_fields["op"].annotation))


def signature_help(analysis: Analysis, offset: int) -> types.SignatureHelp | None:
    """`expect METRIC(ARG) OP VALUE`, with the metric's argument and unit."""
    text = analysis.source.text
    line = text[text.rfind("\n", 0, offset) + 1:offset]
    statement = re.split(r"[;{]", line)[-1]
    found = re.match(r"\s*expect\b(.*)\Z", statement)
    if found is None:
        return None
    rest = found.group(1)
    name = re.match(r"\s*(\w+)", rest)
    metric = METRIC.get(name.group(1)) if name else None
    argument = _ARGUMENT[metric.argument] if metric else "(argument?)"
    value = _VALUE[metric.unit] if metric else "VALUE"
    shown = metric.name if metric else "METRIC"
    parts = [shown, argument, "OP", value]
    label = f"expect {shown}{argument} OP {value}"
    spans, at = [], len("expect ")
    for part in parts:
        start = label.index(part, at)
        spans.append(types.ParameterInformation(label=(start, start + len(part))))
        at = start + len(part)
    if name is None or (name.end() == len(rest) and "(" not in rest):
        active = 0
    elif "(" in rest and ")" not in rest:
        active = 1
    elif re.search(r"(>=|<=|==|>|<)\s*\S*\Z", rest):
        active = 3
    else:
        active = 2
    doc = (f"**{metric.label}**: {metric.help}" if metric
           else "metrics: " + ", ".join(f"`{m}`" for m in EXPECTABLE))
    doc += f"\n\nOP: one of `{_OPERATORS}`"
    return types.SignatureHelp(
        signatures=[types.SignatureInformation(
            label=label, documentation=types.MarkupContent(types.MarkupKind.Markdown, doc),
            parameters=spans)],
        active_signature=0, active_parameter=active)

"""Every name in a journey: where steps, stages, personas and scenarios are
declared and where they are named, for hover, definition, references,
rename and semantic tokens.

Built from the parsed model (which holds the declarations of the files the
journey uses, their spans in the compile's one offset space), so it exists
whenever the file parses, even with unknown names.

>>> from journeydsl.language.compiler import compile_text
>>> c = compile_text('journey "x" { persona p { share 100% }; stage s { touchpoint a; '
...                  'touchpoint b }; entry s.a; a -> b 5% [p: 6%]; goal b }')
>>> index = Index(c.model, c.source)
>>> [(o.kind, o.name, o.definition) for o in index.named("step", "a")]
[('touchpoint', 'a', True), ('touchpoint', 'a', False), ('touchpoint', 'a', False)]
>>> index.at(c.source.text.index("[p") + 1).name
'p'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Literal

from ..language.model import (
    Attributes,
    Journey,
    PerPersona,
    Referral,
    Scenario,
    StepRef,
    Transition,
)
from ..language.source import SourceFile, Span

Kind = Literal["stage", "touchpoint", "persona", "scenario", "metric"]
#: Names that share one namespace: stages and touchpoints ("steps").
Group = Literal["step", "persona", "scenario", "metric"]
_NAME = re.compile(r"[^\W\d][\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*")


@dataclass(frozen=True)
class Occurrence:
    span: Span  # in the compile's offset space (past the text: a used file)
    kind: Kind
    name: str
    definition: bool = False

    @property
    def group(self) -> Group:
        return "step" if self.kind in ("stage", "touchpoint") else self.kind  # type: ignore


class Index:
    def __init__(self, model: Journey, source: SourceFile) -> None:
        self.source = source
        self.model = model
        self.definitions: dict[tuple[str, str], Occurrence] = {}
        found: list[Occurrence] = []
        for persona in model.personas:
            found.append(self._define(persona.id_span, "persona", persona.id))
        for stage in model.stages:
            found.append(self._define(stage.id_span, "stage", stage.id))
            for touchpoint in stage.touchpoints:
                found.append(self._define(touchpoint.id_span, "touchpoint", touchpoint.id))
        for scenario in model.scenarios:
            found.append(self._define(scenario.id_span, "scenario", scenario.id))
        for ref in _step_refs(model):
            found.extend(self._ref(ref))
        for span, named in _persona_refs(model):
            found.append(Occurrence(span, "persona", named))
        for expect in (*model.expects, *(e for s in model.scenarios for e in s.expects)):
            start = expect.metric_span.start
            found.append(Occurrence(Span(start, start + len(expect.metric)), "metric",
                                    expect.metric))
        found = list(dict.fromkeys(found))  # a chain's middle step is a target and a source
        found.sort(key=lambda o: (o.span.start, not o.definition))
        self.occurrences = found
        self._starts = [o.span.start for o in found]

    def _define(self, span: Span, kind: Kind, name: str) -> Occurrence:
        occurrence = Occurrence(span, kind, name, True)
        self.definitions.setdefault((occurrence.group, name), occurrence)
        return occurrence

    def _ref(self, ref: StepRef) -> list[Occurrence]:
        """The names a step reference writes: `step`, or `stage.touchpoint`."""
        if ref.qualifier is None:
            kind = self._kind(ref.name)
            return [Occurrence(ref.span, kind, ref.name)] if kind else []
        text = self.source.text[ref.span.start:ref.span.end]
        words = list(_NAME.finditer(text))
        if len(words) != 2:
            return []
        out = []
        for word, name in zip(words, (ref.qualifier, ref.name)):
            kind = self._kind(name)
            if kind:
                out.append(Occurrence(Span(ref.span.start + word.start(),
                                           ref.span.start + word.end()), kind, name))
        return out

    def _kind(self, name: str) -> Kind | None:
        found = self.definitions.get(("step", name))
        return found.kind if found else None

    # ------------------------------------------------------------ lookups
    def at(self, offset: int) -> Occurrence | None:
        """The name at (or just after) an offset of the file's own text."""
        if offset > len(self.source.text):
            return None
        i = bisect_right(self._starts, offset) - 1
        for occurrence in self.occurrences[max(0, i - 2):i + 1][::-1]:
            if occurrence.span.start <= offset <= occurrence.span.end:
                return occurrence
        return None

    def definition(self, group: str, name: str) -> Occurrence | None:
        return self.definitions.get((group, name))

    def named(self, group: str, name: str) -> list[Occurrence]:
        """Every occurrence of one name, its declaration included, in offset order."""
        return [o for o in self.occurrences if o.group == group and o.name == name]

    def names(self, group: str) -> list[str]:
        return [name for (g, name) in self.definitions if g == group]

    def locate(self, span: Span) -> tuple[SourceFile, Span]:
        """The file a span is in (this one, or a used file) and its span there."""
        return self.source.locate(span)

    def is_own(self, span: Span) -> bool:
        return span.start <= len(self.source.text)


def _step_refs(model: Journey) -> Iterable[StepRef]:
    blocks: list[Journey | Scenario] = [model, *model.scenarios]
    for block in blocks:
        edges: list[Transition | Referral] = [*block.transitions, *block.referrals]
        for edge in edges:
            yield edge.source
            yield edge.target
        for entry in block.entries:
            yield entry.target
        for expect in block.expects:
            if expect.argument is not None:
                yield expect.argument
    yield from model.goals
    for scenario in model.scenarios:
        for override in scenario.attribute_overrides:
            yield override.target


def _persona_refs(model: Journey) -> Iterable[tuple[Span, str]]:
    values: list[PerPersona] = []
    attributes: list[Attributes] = []
    for stage in model.stages:
        attributes.append(stage.attributes)
        attributes.extend(t.attributes for t in stage.touchpoints)
    blocks: list[Journey | Scenario] = [model, *model.scenarios]
    for block in blocks:
        values.extend(t.rate for t in block.transitions)
        values.extend(r.amount for r in block.referrals)
        values.extend(e.rate for e in block.entries)
        for expect in block.expects:
            if expect.persona is not None and expect.persona_span is not None:
                yield expect.persona_span, expect.persona
    for scenario in model.scenarios:
        attributes.extend(o.attributes for o in scenario.attribute_overrides)
    for attrs in attributes:
        values.extend(v for v in (attrs.emotion, attrs.value, attrs.cost) if v is not None)
    for value in values:
        for override in value.overrides:
            yield override.persona_span, override.persona

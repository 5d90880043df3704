"""Mermaid text: the `journey` diagram and a `flowchart` of the map.

`mermaid-journey`: stages are sections, touchpoints tasks, the emotion the
score (rounded, clamped to 1..5; 3 when none is given) and personas the
actors; where personas feel differently, one task per distinct score.
`mermaid-flowchart`: stages as subgraphs left to right, rates on the
edges, referrals dotted, emotion as the fill colour.

All user text goes through `text.mermaid_text` (entity codes for `;` `:`
`#` `,` and friends, and for a leading keyword); node ids are generated
(`n0`, `n1` ...), never taken from the user.

>>> import journeydsl
>>> c = journeydsl.loads('journey "j" { stage a "A: first" { touchpoint x "X; one" { emotion 4 } }'
...                      ' ; stage b { touchpoint y } ; entry x ; x -> y 30% ; goal y }')
>>> print(to_mermaid_journey(c.journey))
journey
  title j
  section A#58; first
    X#59; one: 4: Customer
  section b
    y: 3: Customer
<BLANKLINE>
"""

from __future__ import annotations

from ..language.compiled import CompiledJourney

from .text import clean, mermaid_text
from .view import MapView, colour, map_view

IMPLICIT_ACTOR = "Customer"


def to_mermaid_journey(journey: CompiledJourney, persona: str | None = None) -> str:
    graph = journey.graph()
    personas = [persona] if persona else journey.persona_ids
    names = {p.id: clean(p.label) or p.id for p in journey.personas if p.span is not None}
    actors = {p: mermaid_text(names.get(p, IMPLICIT_ACTOR)) for p in personas}
    title = clean(journey.title)
    if journey.scenario:
        title += f" (scenario: {clean(journey.scenario_label or journey.scenario)})"
    out = ["journey", f"  title {mermaid_text(title)}"]
    stage_labels = {s.id: clean(s.label) or s.id for s in journey.stages}
    current = None
    for node, d in graph.nodes(data=True):
        if d["stage"] != current:
            current = d["stage"]
            out.append(f"  section {mermaid_text(stage_labels.get(current, current))}")
        task = mermaid_text(clean(d["label"]) or node)
        by_score: dict[int, list[str]] = {}
        for p in personas:
            by_score.setdefault(score((d["emotion"] or {}).get(p)), []).append(actors[p])
        for value, who in by_score.items():
            out.append(f"    {task}: {value}: {', '.join(who)}")
    return "\n".join(out) + "\n"


def score(emotion: float | None) -> int:
    """Mermaid's score: the emotion rounded half up and clamped to 1..5 (3 if none)."""
    if emotion is None:
        return 3
    return min(5, max(1, int(emotion + 0.5)))


def to_mermaid_flowchart(journey: CompiledJourney, persona: str | None = None,
                         flows: bool = False) -> str:
    return flowchart(map_view(journey, persona, flows))


def flowchart(view: MapView) -> str:
    ids = {s.id: f"n{i}" for i, s in enumerate(view.steps)}
    out = ["flowchart LR"]
    title = view.title + (f" · scenario: {view.scenario_label or view.scenario}"
                          if view.scenario else "")
    title += f" · persona: {view.persona_label or view.persona}" if view.persona else ""
    out.append(f'  %% {mermaid_text(title)}')
    out.append('  entry(["entry"])')
    classes: dict[str, list[str]] = {}
    for k, stage in enumerate(view.stages):
        out.append(f'  subgraph s{k}["{mermaid_text(stage.label)}"]')
        out.append("    direction TB")
        for step in stage.steps:
            lines = [mermaid_text(step.label)] + [mermaid_text(x) for x in step.lines]
            shape = ('[["', '"]]') if step.goal else ('["', '"]')
            out.append(f"    {ids[step.id]}{shape[0]}{'<br/>'.join(lines)}{shape[1]}")
            name = "e" + colour(step.emotion).lstrip("#")
            classes.setdefault(name, []).append(ids[step.id])
            if step.goal:
                classes.setdefault("goal", []).append(ids[step.id])
        out.append("  end")
    for step in view.steps:
        if step.entry is not None:
            out.append(f'  entry -->|"{mermaid_text(step.entry)}"| {ids[step.id]}')
    for edge in view.edges:
        text = edge.text + (f" after {edge.delay}" if edge.delay else "")
        arrow = "-.->" if edge.kind == "referral" else "-->"
        out.append(f'  {ids[edge.source]} {arrow}|"{mermaid_text(text)}"| {ids[edge.target]}')
    for step in view.steps:
        if step.exit_text:
            out.append(f'  {ids[step.id]}x(["{mermaid_text(step.exit_text)}"])')
            out.append(f"  {ids[step.id]} -.- {ids[step.id]}x")
            classes.setdefault("exit", []).append(ids[step.id] + "x")
    for name in sorted(classes):
        if name == "goal":
            style = "stroke:#1b7837,stroke-width:3px"
        elif name == "exit":
            style = "fill:#ffffff,stroke:#b42318,color:#b42318"
        else:
            style = f"fill:#{name[1:]},stroke:#4a5568,color:#000000"
        out.append(f"  classDef {name} {style}")
        out.append(f"  class {','.join(classes[name])} {name}")
    return "\n".join(out) + "\n"

"""Mermaid text: the `journey` diagram and a `flowchart` of the map.

`mermaid-journey`: stages are sections, touchpoints tasks, the emotion the
score (rounded, clamped to 1..5; 3 when none is given) and personas the
actors; where personas feel differently, one task per distinct score.
`mermaid-flowchart`: the title as front matter, stages as subgraphs left
to right, rates on the edges, referrals as dotted purple arrows, exits as
plain red lines to a red end marker, emotion as the fill colour.

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

from .i18n import words
from .text import clean, isolate, mermaid_text, mermaid_title
from .view import EDGE, EXIT, GOAL, REFERRAL, MapView, colour, map_view


def to_mermaid_journey(journey: CompiledJourney, persona: str | None = None,
                       lang: str = "en") -> str:
    """The `journey` diagram, its own words (the implicit actor, the
    scenario) in `lang`."""
    w = words(lang)
    graph = journey.graph()
    personas = [persona] if persona else journey.persona_ids
    names = {p.id: clean(p.label) or p.id for p in journey.personas if p.span is not None}
    actors = {p: mermaid_text(names.get(p, w("mermaid_customer"))) for p in personas}
    title = clean(journey.title)
    if journey.scenario:
        scenario = isolate(clean(journey.scenario_label or journey.scenario))
        title += f" ({w('map_scenario', name=scenario)})"
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
                         flows: bool = False, lang: str = "en") -> str:
    """The map as a `flowchart`, its own words in `lang`."""
    return flowchart(map_view(journey, persona, flows, lang))


def flowchart(view: MapView) -> str:
    w = words(view.lang)
    ids = {s.id: f"n{i}" for i, s in enumerate(view.steps)}
    title = view.title
    if view.scenario:
        title += " · " + w("map_scenario", name=isolate(view.scenario_label or view.scenario))
    if view.persona:
        title += " · " + w("map_persona", name=isolate(view.persona_label or view.persona))
    # The title as YAML front matter: Mermaid draws it above the chart.
    out = ["---", f"title: {mermaid_title(title)}", "---", "flowchart LR"]
    out.append(f'  entry(["{mermaid_text(w("mermaid_entry"))}"])')
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
    links: dict[str, list[int]] = {}  # link style -> the links' numbers, in order
    count = 0
    for step in view.steps:
        if step.entry is not None:
            out.append(f'  entry -->|"{mermaid_text(step.entry)}"| {ids[step.id]}')
            count += 1
    for edge in view.edges:
        text = edge.text + (" " + w("map_after", delay=edge.delay) if edge.delay else "")
        arrow = "-.->" if edge.kind == "referral" else "-->"
        out.append(f'  {ids[edge.source]} {arrow}|"{mermaid_text(text)}"| {ids[edge.target]}')
        if edge.kind == "referral":
            links.setdefault("referral", []).append(count)
        count += 1
    for step in view.steps:
        if step.exit_text:
            # A walk that ends: a plain red line (no arrow) to a red end
            # marker, unlike a referral's dotted purple arrow.
            out.append(f'  {ids[step.id]}x(["{mermaid_text(step.exit_text)}"])')
            out.append(f"  {ids[step.id]} --- {ids[step.id]}x")
            classes.setdefault("exit", []).append(ids[step.id] + "x")
            links.setdefault("exit", []).append(count)
            count += 1
    for name in sorted(classes):
        if name == "goal":
            style = f"stroke:{GOAL},stroke-width:3px"
        elif name == "exit":
            style = f"fill:#ffffff,stroke:{EXIT},color:{EXIT}"
        else:
            style = f"fill:#{name[1:]},stroke:{EDGE},color:#000000"
        out.append(f"  classDef {name} {style}")
        out.append(f"  class {','.join(classes[name])} {name}")
    for name in sorted(links):
        colour_ = REFERRAL if name == "referral" else EXIT
        out.append(f"  linkStyle {','.join(map(str, links[name]))} "
                   f"stroke:{colour_},color:{colour_}")
    return "\n".join(out) + "\n"

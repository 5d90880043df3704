"""`journey fit --write`: the proposal put into the file's own text, at the
spans the model keeps (rates, delays, the entry split, values), so comments
and layout stay; or, with `--scenario NAME`, as a scenario block (created,
or replacing the one of that name). A file already in the canonical layout
is formatted again (the new numbers may change a column's width). The new
text must compile without errors, or nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..language.compiled import CompiledJourney
from ..language.model import Journey
from ..language.resolve import Names
from .proposal import Proposal


@dataclass
class Edit:
    start: int
    end: int
    text: str


def apply(text: str, edits: list[Edit]) -> str:
    out, last = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < last:
            raise ValueError("overlapping edits")  # a bug: each span is edited once
        out += [text[last:edit.start], edit.text]
        last = edit.end
    return "".join(out) + text[last:]


def in_place(text: str, model: Journey, names: Names, journey: CompiledJourney,
             proposal: Proposal) -> tuple[str, list[str]]:
    """The file's text with the proposal written where each value is;
    and what could not be written there (a value in a used file, a comment
    inside a rate)."""
    edits: list[Edit] = []
    skipped: list[str] = []
    own_end = len(text)
    for transition in model.transitions:
        pair = (names.of(transition.source), names.of(transition.target))
        if pair not in proposal.rates:
            continue
        start = transition.rate.base.span.start
        end = _through_bracket(text, transition.span.end)
        if "#" in text[start:end]:
            skipped.append(f"{pair[0]} -> {pair[1]}: a comment inside its rate")
            continue
        kept = text[start:end]  # the delay as written, when the log has no move to time
        kept = kept[kept.find("after"):] if "after" in kept else ""
        edits.append(Edit(start, end, _target_tail(proposal, pair, kept)))
    if proposal.added:
        anchor = _line_end(text, _last_flow_end(model, text))
        indent = _indent_of(text, anchor)
        lines = "".join(f"\n{indent}{s} -> {t} {_target_tail(proposal, (s, t))}"
                        for s, t in proposal.added)
        edits.append(Edit(anchor, anchor, lines))
    entry_steps = [names.of(e.target) for e in model.entries]
    for entry in model.entries:
        step = names.of(entry.target)
        if step not in proposal.entries:
            continue
        end = _through_bracket(text, entry.span.end)
        if entry.rate.base.span == entry.span:  # `entry a` alone: 100%, no rate written
            edits.append(Edit(entry.target.span.end, end, " " + proposal.entries[step]))
        else:
            edits.append(Edit(entry.rate.base.span.start, end, proposal.entries[step]))
    new_entries = [s for s in proposal.entries if s not in entry_steps]
    if new_entries and model.entries:
        last = _through_bracket(text, model.entries[-1].span.end)
        edits.append(Edit(last, last, "".join(
            f", {s} {proposal.entries[s]}" for s in new_entries)))
    for step_id in proposal.values:
        node = names.steps[step_id]
        if node.span.start >= own_end:
            skipped.append(f"value of {step_id}: declared in a used file")
            continue
        value = node.attributes.value
        written = f"value {proposal.values[step_id]}"
        if value is not None:
            edits.append(Edit(value.span.start, _through_bracket(text, value.span.end), written))
        else:
            edits.append(_add_attribute(text, node.span.start, node.span.end, written))
    return apply(text, edits), skipped


def _through_bracket(text: str, end: int) -> int:
    """A span's end past the `]` of its persona overrides (the tree keeps
    no punctuation, so a span with overrides ends before it)."""
    i = end
    while i < len(text) and text[i] in " \t":
        i += 1
    return i + 1 if i < len(text) and text[i] == "]" else end


def _target_tail(proposal: Proposal, pair: tuple[str, str], kept: str = "") -> str:
    """`RATE [overrides] [after DELAY]`: the observed delay, else `kept`
    (the delay as written)."""
    if pair not in proposal.delays:
        return proposal.rates[pair] + (f" {kept}" if kept else "")
    delay = proposal.delays[pair]
    return proposal.rates[pair] + (f" after {delay}" if delay else "")


def _last_flow_end(model: Journey, text: str) -> int:
    ends = [t.span.end for t in model.transitions] + [r.span.end for r in model.referrals]
    return max(ends) if ends else (model.entries[-1].span.end if model.entries else 0)


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _indent_of(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip())] or "  "


def _add_attribute(text: str, start: int, end: int, attribute: str) -> Edit:
    """`attribute` added to a declaration: inside its `{ }`, or in a new block."""
    if text[end - 1] == "}":
        inner = text[text.find("{", start) + 1:end - 1]
        if "\n" in inner:
            close = text.rfind("\n", 0, end - 1)
            indent = _indent_of(text, _line_end(text, text.find("{", start) + 1) + 1)
            return Edit(close, close, f"\n{indent}{attribute}")
        if inner.strip():
            return Edit(end - 1, end - 1, f"; {attribute} ")
        return Edit(end - 1, end - 1, f" {attribute} ")
    return Edit(end, end, f" {{ {attribute} }}")


def _block_end(text: str, start: int) -> int:
    """The offset just past the `}` that closes the first `{` at or after
    `start`, skipping strings and comments."""
    depth, i = 0, text.index("{", start)
    while i < len(text):
        char = text[i]
        if char == '"':
            i += 1
            while i < len(text) and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
        elif char == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def scenario_block(name: str, label: str, journey: CompiledJourney, proposal: Proposal,
                   indent: str) -> str:
    """The proposal as `scenario NAME "label" { ... }`: a transition line per
    source, the entry split, and a `step { value ... }` block per value."""
    inner = indent * 2
    lines = [f'{indent}scenario {name} "{label}" {{']
    pairs = [p for p in journey.edges if p in proposal.rates] + proposal.added
    for source in dict.fromkeys(p[0] for p in pairs):
        targets = [f"{t} {_target_tail(proposal, (s, t), _declared_delay(journey, (s, t)))}"
                   for s, t in pairs if s == source]
        lines.append(f"{inner}{source} -> " + ", ".join(targets))
    if proposal.entries:
        lines.append(f"{inner}entry " + ", ".join(f"{s} {r}" for s, r in proposal.entries.items()))
    for step, value in proposal.values.items():
        lines.append(f"{inner}{step} {{ value {value} }}")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def _declared_delay(journey: CompiledJourney, pair: tuple[str, str]) -> str:
    from .durations import duration_text

    move = journey.edges.get(pair)
    text = duration_text(move.delay_days) if move is not None else ""
    return f"after {text}" if text else ""


def as_scenario(text: str, model: Journey, name: str, label: str, journey: CompiledJourney,
                proposal: Proposal) -> str:
    """The file's text with the scenario `name` added at the end of the
    journey, or put in place of the one of that name."""
    existing = model.scenario(name)
    if existing is not None:
        start = text.rfind("\n", 0, existing.span.start) + 1
        indent = text[start:existing.span.start]
        indent = indent if not indent.strip() else "  "
        block = scenario_block(name, label, journey, proposal, indent or "  ")
        return apply(text, [Edit(start, _block_end(text, existing.id_span.end), block)])
    close = _block_end(text, model.span.start) - 1
    before = text[:close].rstrip()
    block = scenario_block(name, label, journey, proposal, "  ")
    return apply(text, [Edit(len(before), close, "\n\n" + block + "\n")])

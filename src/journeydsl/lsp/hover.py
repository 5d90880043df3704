"""Hover: what a name means, with its numbers.

A step shows its label, stage, channel, owner, the rates in and out of it
per persona, and (once the exact engine has run, off the typing path) its
reach and drop-off; a stage its steps; a persona its share and
conversion; a metric in an `expect` line its definition (from the metric
table) and its current value; a diagnostic its code's explanation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..display import lines_shown
from ..language.compiled import CompiledJourney
from ..language.model import PerPersona, Stage
from ..language.source import Span
from ..metrics import METRIC
from .analysis import Analysis
from .convert import explanation_uri
from .positions import span_range
from .symbols import Occurrence

if TYPE_CHECKING:
    from ..simulate.expectations import Outcome


def hover(analysis: Analysis, offset: int) -> types.Hover | None:
    index = analysis.index
    occurrence = index.at(offset) if index is not None else None
    parts: list[str] = []
    if occurrence is not None:
        text = _describe(analysis, occurrence)
        if text:
            parts.append(text)
    parts += _explanations(analysis, offset)
    if not parts:
        return None
    where = span_range(analysis.source, occurrence.span) if occurrence else None
    text = lines_shown("\n\n---\n\n".join(parts))  # labels shown safe (`display`)
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text),
                       where)


def _describe(analysis: Analysis, occurrence: Occurrence) -> str | None:
    if occurrence.group == "step":
        return _step(analysis, occurrence.name)
    if occurrence.kind == "persona":
        return _persona(analysis, occurrence.name)
    if occurrence.kind == "scenario":
        return _scenario(analysis, occurrence.name)
    if occurrence.kind == "metric":
        return _metric(analysis, occurrence)
    return None


# ---------------------------------------------------------------- numbers

def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.3g}%"


def _rate(value: PerPersona, persona: str) -> str:
    """A move's rate for a persona; `≈` marks the mean of an uncertain one."""
    amount = value.for_persona(persona)
    return ("≈" if amount.kind != "fixed" else "") + _pct(amount.mean)


def _pending(analysis: Analysis) -> str | None:
    """Why there are no computed numbers yet, or None when there are."""
    evaluation = analysis.evaluation
    if evaluation is not None and evaluation.report is not None:
        return None
    if not analysis.compilation.ok:
        return "_reach and drop-off appear when the file has no errors_"
    journey = analysis.compilation.journey
    if journey is not None and journey.library:
        return "_a library (no `entry`): nothing to simulate_"
    if evaluation is not None and evaluation.failed:
        return f"_numbers not computed: {evaluation.failed}_"
    return "_computing reach and drop-off…_"


def _columns(journey: CompiledJourney) -> list[str]:
    return journey.persona_ids


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|:--" + "|--:" * (len(header) - 1) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- kinds

def _step(analysis: Analysis, name: str) -> str:
    journey = analysis.compilation.journey
    model = analysis.model
    stage_model = model.stage(name) if model else None
    if stage_model is not None and stage_model.touchpoints:
        return _stage(analysis, stage_model)
    if journey is None or name not in journey.step_number:
        return _declared(analysis, name)
    step = journey.step(name)
    stage = next((s for s in journey.stages if s.id == step.stage), None)
    head = f"**{step.kind} `{step.id}`** \"{step.label}\""
    if step.kind == "touchpoint" and stage is not None:
        head += f" — stage `{stage.id}` \"{stage.label}\""
    facts = []
    attrs = step.attributes
    if attrs.channel:
        facts.append(f"channel `{attrs.channel}`")
    if attrs.owner:
        facts.append(f"owner \"{attrs.owner}\"")
    if step.id in journey.goal_set:
        facts.append("**goal**")
    personas = _columns(journey)
    rows: list[list[str]] = []
    for key, label in (("value", "value"), ("cost", "cost")):
        amount = getattr(attrs, key)
        if amount is not None:
            rows.append([label] + [f"{amount.mean_for(p):,.4g}" for p in personas])
    for move in journey.moves:
        if move.source == step.id:
            delay = f" after {move.delay_days:g}d" if move.delay_days else ""
            rows.append([f"→ `{move.target}`{delay}"] + [_rate(move.rate, p) for p in personas])
    for move in journey.moves:
        if move.target == step.id and move.source != step.id:
            rows.append([f"← `{move.source}`"] + [_rate(move.rate, p) for p in personas])
    for referral in journey.referrals:
        if referral.source == step.id:
            rows.append([f"⇒ `{referral.target}` (prospects)"]
                        + [f"{referral.amount.mean_for(p):.3g}" for p in personas])
    entry = [journey.entry_rates(p).get(step.id) for p in personas]
    if any(entry):
        rows.insert(0, ["entry"] + [_pct(r) if r else "" for r in entry])
    report = analysis.evaluation.report if analysis.evaluation else None
    if report is not None:
        for key, label in (("reach", "reach"), ("dropoff", "drop-off")):
            rows.append([label] + [_pct(report.personas[p].steps[step.id][key])
                                   for p in personas])
    parts = [head]
    if facts:
        parts.append(" · ".join(facts))
    if rows:
        header = [""] + (personas if len(personas) > 1 else ["all"])
        if report is not None and len(personas) > 1:
            header.append("blended")
            for row in rows:
                column = {"reach": "reach", "drop-off": "dropoff"}.get(row[0])
                row.append(_pct(report.blended.steps[step.id][column]) if column else "")
        parts.append(_table(header, rows))
    pending = _pending(analysis)
    if pending:
        parts.append(pending)
    return "\n\n".join(parts)


def _stage(analysis: Analysis, stage: Stage) -> str:
    name = stage.id
    head = f"**stage `{stage.id}`** \"{stage.label}\""
    parts = [head]
    if stage.attributes.objective:
        parts.append(f"objective: {stage.attributes.objective}")
    parts.append("touchpoints: " + ", ".join(f"`{t.id}`" for t in stage.touchpoints)
                 + f" (as a target, `{stage.id}` means `{stage.touchpoints[0].id}`)")
    report = analysis.evaluation.report if analysis.evaluation else None
    journey = analysis.compilation.journey
    if report is not None and journey is not None and name in report.blended.stages:
        personas = _columns(journey)
        rows = [[label] + [_pct(report.personas[p].stages[name][key]) for p in personas]
                + ([_pct(report.blended.stages[name][key])] if len(personas) > 1 else [])
                for key, label in (("reach", "reach"), ("dropoff", "drop-off"))]
        parts.append(_table([""] + (personas + ["blended"] if len(personas) > 1 else ["all"]),
                            rows))
    elif (pending := _pending(analysis)) is not None:
        parts.append(pending)
    return "\n\n".join(parts)


def _declared(analysis: Analysis, name: str) -> str:
    """A step known only from the text (the file has errors)."""
    model = analysis.model
    for stage in model.stages if model else []:
        if stage.id == name:
            return f"**stage `{name}`** \"{stage.label}\""
        for touchpoint in stage.touchpoints:
            if touchpoint.id == name:
                return (f"**touchpoint `{name}`** \"{touchpoint.label}\" — stage `{stage.id}`"
                        f"\n\n{_pending(analysis) or ''}")
    return f"`{name}`"


def _persona(analysis: Analysis, name: str) -> str:
    journey = analysis.compilation.journey
    model = analysis.model
    declared = next((p for p in model.personas if p.id == name), None) if model else None
    label = declared.label if declared else name
    parts = [f"**persona `{name}`** \"{label}\""]
    persona = journey.persona(name) if journey is not None else None
    if persona is not None:
        parts.append(f"share of new prospects: {_pct(persona.share)}")
    report = analysis.evaluation.report if analysis.evaluation else None
    if report is not None and name in report.personas:
        metrics = report.personas[name]
        parts.append(f"conversion {_pct(metrics.conversion)} · CLV {_money(metrics.clv, journey)}"
                     f" · CAC {_money(metrics.cac, journey)}")
    return "\n\n".join(parts)


def _money(value: float | None, journey: CompiledJourney | None) -> str:
    if value is None:
        return "n/a"
    currency = f" {journey.currency}" if journey is not None and journey.currency else ""
    return f"{value:,.2f}{currency}"


def _scenario(analysis: Analysis, name: str) -> str:
    model = analysis.model
    scenario = model.scenario(name) if model else None
    if scenario is None:
        return f"**scenario `{name}`**"
    changes = (len(scenario.transitions) + len(scenario.referrals) + len(scenario.entries)
               + len(scenario.attribute_overrides))
    return (f"**scenario `{name}`** \"{scenario.label}\"\n\n{changes} change(s), "
            f"{len(scenario.expects)} `expect` line(s); `journey simulate --scenario {name}`")


def _metric(analysis: Analysis, occurrence: Occurrence) -> str:
    metric = METRIC[occurrence.name]
    argument = {"persona": "optional `(persona)`", "place": "`(step or stage)`",
                "step": "`(step)`"}[metric.argument]
    parts = [f"**metric `{metric.name}`** — {metric.label}", metric.help,
             f"unit: {metric.unit}; argument: {argument}"]
    outcome = _outcome(analysis, occurrence.span)
    if outcome is not None:
        from ..simulate.expectations import show

        expect = outcome.expect
        where = f" (scenario `{outcome.scenario}`)" if outcome.scenario else ""
        if outcome.actual is None:
            value = f"undefined ({outcome.why_undefined})"
        else:
            value = show(outcome.actual, expect, outcome.currency)
        verdict = "holds ✓" if outcome.passed else "fails ✗"
        parts.append(f"current value{where}: **{value}** — `{expect.op} "
                     f"{show(expect.value, expect, outcome.currency)}` {verdict}")
    elif not analysis.compilation.ok:
        parts.append("_the value appears when the file has no errors_")
    elif analysis.evaluation is None:
        parts.append("_computing the value…_")
    return "\n\n".join(parts)


def _outcome(analysis: Analysis, metric_span: Span) -> Outcome | None:
    evaluation = analysis.evaluation
    model = analysis.model
    if evaluation is None or model is None:
        return None
    for expect in (*model.expects, *(e for s in model.scenarios for e in s.expects)):
        if expect.metric_span.start == metric_span.start:
            return evaluation.outcomes.get(expect.span)
    return None


def _explanations(analysis: Analysis, offset: int) -> list[str]:
    """The explanation of each diagnostic at the offset (as `journey explain`)."""
    from ..cli.explain import explain_text, summary

    out = []
    seen = set()
    for d in analysis.diagnostics:
        if d.span is None or d.source is not analysis.source or d.code in seen:
            continue
        if d.span.start <= offset <= max(d.span.end, d.span.start + 1):
            seen.add(d.code)
            text = explain_text(d.code)
            first = summary(text) if text else ""
            title = text.splitlines()[0] if text else d.code
            link = explanation_uri(d.code)
            more = f" — [explanation]({link})" if link else ""
            out.append(f"**{title}**{more}\n\n{first}\n\n`journey explain {d.code}`")
    return out

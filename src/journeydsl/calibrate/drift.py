"""Drift: a warning (JD601) for each declared rate outside the 95% interval
of what the log shows, located on the rate as written (the persona's
override when it has one), with the observed value in the message."""

from __future__ import annotations

from .. import diagnostics as diag
from ..diagnostics import Diagnostic
from ..language.compiled import CompiledJourney
from ..language.source import SourceFile
from .estimate import Fit
from .proposal import percent_text
from .report import percent


def drift_warnings(journey: CompiledJourney, fit: Fit, source: SourceFile | None,
                   log: str) -> list[Diagnostic]:
    out = []
    for group in fit.groups:
        for move in group.drifts:
            declared = journey.edges[(move.source, move.target)].rate
            amount = declared.base if group.persona is None else \
                declared.for_persona(group.persona)
            who = f" for `{group.persona}`" if group.persona is not None and \
                len(journey.personas) > 1 else ""
            if group.persona is None and declared.overrides and len(journey.personas) > 1:
                who = " over all customers (each persona's rate weighted by its visits)"
            assert move.declared is not None  # a drift is on a declared move
            text = percent_text(move.declared, 2)
            if amount.per_customer:
                text = f"a rate per customer with mean {text}"
            seen = (f"rejected by the log, {move.test}" if move.test else
                    f"outside what the log shows: {percent(move.observed)} ({move.moves:,} of "
                    f"{move.visits:,} visits; 95% interval "
                    f"{percent(move.low)}–{percent(move.high)})")
            out.append(diag.make(
                "JD601", f"`{move.source} -> {move.target}` declares {text}{who}, {seen}",
                source, amount.span,
                help=f"update the rate from the log with `journey fit {journey.path} --events "
                     f"{log} --write`, or find out what changed"))
    return out

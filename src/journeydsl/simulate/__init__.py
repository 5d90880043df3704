"""Simulation: exact Markov analytics and Monte Carlo on a compiled journey.

Every engine takes one `CompiledJourney` (the baseline or a scenario's
variant; `Compiled.variant(scenario)` gives it) and never the compile
result; the API's `Compiled.simulate()` and friends refuse files with
errors and libraries before calling them.

>>> import journeydsl
>>> from journeydsl.simulate import simulate
>>> result = journeydsl.loads('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y }'
...                           ' ; entry x ; x -> y 40% after 2d ; goal y }')
>>> report = simulate(result.journey)
>>> round(report.blended.conversion, 6), report.blended.time_to_convert
(0.4, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._gc import paused_gc
from ..language.compiled import CompiledJourney

if TYPE_CHECKING:
    from .results import Metrics


def __getattr__(name: str) -> Any:
    # `Metrics` loads results.py (and numpy) when first asked for: `journey
    # check` reaches this package for its limits and must start without numpy
    if name == "Metrics":
        from .results import Metrics

        return Metrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Report:
    journey: str
    scenario: str | None
    method: str
    currency: str | None
    shares: dict[str, float]
    personas: dict[str, Metrics]
    blended: Metrics

    @property
    def cohort(self) -> dict[str, float]:
        return self.blended.cohort

    def as_dict(self) -> dict:
        """The `journey simulate --format json` shape (keys may be added, never renamed)."""
        return {
            "journey": self.journey,
            "scenario": self.scenario,
            "method": self.method,
            "currency": self.currency,
            "personas": {p: {"share": self.shares[p], "metrics": m.as_dict(),
                             "by_entry": {e: x.as_dict() for e, x in m.by_entry.items()}}
                         for p, m in self.personas.items()},
            "blended": {"metrics": self.blended.as_dict(),
                        "by_entry": {e: x.as_dict() for e, x in self.blended.by_entry.items()}},
            **_cohort_json({**self.cohort, "referred_visits": dict(self.blended.referred_visits)},
                         self.blended.unknown),
        }


#: Why a cohort total is null in JSON: a referral cascade that never dies
#: out (JD406, a warning under a horizon) can outgrow double precision
#: before the horizon cuts it (two referrals a visit, one a second).
COHORT_NOT_FINITE = "the referral cascade grows past any number before the horizon"


def _cohort_json(cohort: dict, explained: Mapping[str, str]) -> dict:
    """`cohort` (totals, and a table of visits by step) with numbers that
    are not finite as null, and `undefined` saying why (JSON has no infinity)
    unless the blend's `undefined` already does (`explained`: a `per
    customer` rate's infinite expectation)."""
    import math

    why: dict[str, str] = {}

    def finite(value, key: str):
        if isinstance(value, dict):
            return {k: finite(v, f"{key}.{k}") for k, v in value.items()}
        if math.isfinite(value):
            return value
        if key not in explained:
            why[key] = COHORT_NOT_FINITE
        return None

    out: dict = {"cohort": finite(cohort, "cohort")}
    if why:
        out["undefined"] = why
    return out


def check_persona(journey: CompiledJourney, persona: str | None) -> None:
    """KeyError for a persona the journey does not have."""
    if persona is not None and persona not in journey.persona_ids:
        raise KeyError(f"no persona `{persona}` (personas: {', '.join(journey.persona_ids)})")


def simulate(journey: CompiledJourney, places: frozenset[str] | None = None,
             cohort: bool = True, by_entry: bool = True) -> Report:
    """Exact metrics for every persona and the blend.

    `places`: compute the reach of steps in cycles (and of stages that cycles
    cross) only for these ids; None computes all. `cohort=False` leaves out
    the referral cascade's totals, `by_entry=False` the metrics of each
    entry step's prospects. Payback is computed when first read."""
    from .chain import build_chain
    from .exact import solve
    from .limits import located
    from .results import blend

    shares = dict(journey.shares)
    # paused gc: thousands of small dicts (the step tables), none of them garbage
    with paused_gc(), located(journey):
        personas = {p: solve(build_chain(journey, p), places, cohort, by_entry)
                    for p in journey.persona_ids}
        blended = blend(personas, shares)
    return Report(
        journey=journey.title,
        scenario=journey.scenario,
        method="exact",
        currency=journey.currency,
        shares=shares,
        personas=personas,
        blended=blended,
    )


__all__ = ["Metrics", "Report", "check_persona", "simulate"]

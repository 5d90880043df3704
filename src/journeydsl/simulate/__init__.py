"""Simulation: exact Markov analytics (and, next, Monte Carlo) on a journey.

>>> import journeydsl
>>> from journeydsl.simulate import simulate
>>> result = journeydsl.loads('journey "f" { stage a { touchpoint x } ; stage b { touchpoint y }'
...                           ' ; entry x ; x -> y 40% after 2d ; goal y }')
>>> report = simulate(result)
>>> round(report.blended.conversion, 6), report.blended.time_to_convert_days
(0.4, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from .._gc import paused_gc
from ..language.compiler import Compiled
from .results import Metrics, blend


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
            "personas": {p: {"share": self.shares[p], "metrics": m.as_dict()}
                         for p, m in self.personas.items()},
            "blended": {"metrics": self.blended.as_dict()},
            "cohort": dict(self.cohort),
        }


def checked_graph(compiled: Compiled, scenario: str | None = None,
                  persona: str | None = None):
    """The graph to simulate, and its personas; JourneyError when the file
    has errors or is a library, KeyError for an unknown scenario or persona."""
    compiled.raise_unless_simulable()
    graph = compiled.graph(scenario)
    personas = list(graph.graph["personas"])
    if persona is not None and persona not in personas:
        raise KeyError(f"no persona `{persona}` (personas: {', '.join(personas)})")
    return graph, personas


def simulate(compiled: Compiled, scenario: str | None = None,
             places: frozenset[str] | None = None, cohort: bool = True) -> Report:
    """Exact metrics for every persona and the blend (raises JourneyError on errors).

    `places`: compute the reach of steps in cycles (and of stages that cycles
    cross) only for these ids; None computes all."""
    from .chain import build_chain
    from .exact import solve

    compiled.raise_unless_simulable()
    graph = compiled.graph(scenario)
    shares = dict(graph.graph["shares"])
    with paused_gc():  # thousands of small dicts (the step tables), none of them garbage
        personas = {p: solve(build_chain(graph, p), places, cohort)
                    for p in graph.graph["personas"]}
        blended = blend(personas, shares)
    return Report(
        journey=compiled.journey.title,
        scenario=scenario,
        method="exact",
        currency=compiled.journey.currency,
        shares=shares,
        personas=personas,
        blended=blended,
    )


__all__ = ["Metrics", "Report", "simulate"]

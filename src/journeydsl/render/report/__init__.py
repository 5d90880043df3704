"""`journey report`: one self-contained HTML file for people who don't use a
terminal. Headline numbers, the KPI scorecard, the board, the flow map, the
funnel, money by stage, the payback curve, scenarios, levers (a tornado
chart) and attribution, each chart with its data table.

The page has no script and fetches nothing: charts are static SVG from
Vega-Lite (vl-convert), the board is our own SVG, the map Graphviz's SVG,
styles are inline, and a Content-Security-Policy of `default-src 'none'`
says so to the browser. Every user string is escaped for HTML (the SVGs
escape their own text).
"""

from __future__ import annotations

from ...language.compiled import CompiledJourney

__all__ = ["report_html"]


def report_html(baseline: CompiledJourney, scenarios: list[CompiledJourney] | None = None,
                lang: str = "en", source: str = "", outcomes: list | None = None) -> str:
    """The report of a journey (the baseline and its scenarios) as HTML text.
    `outcomes`: the evaluated `expect` lines of every variant
    (`Compiled.expectations`), if the caller has them."""
    from .sections import Report

    return Report(baseline, scenarios or [], lang, source, outcomes).html()

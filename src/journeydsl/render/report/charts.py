"""The report's charts: Vega-Lite specifications rendered to static SVG by
vl-convert (the Vega project's converter, a pip wheel with Vega and
Vega-Lite inside: no JavaScript reaches the page, nothing is fetched).

Each function takes plain rows (label, number ...) and returns SVG text
ready to inline: Vega's SVG renderer escapes every text it draws, and the
ids it makes (clip paths, gradients) get a per-chart prefix so several
charts can share one page.
"""

from __future__ import annotations

import json
import re

FONT = "DejaVu Sans, Verdana, Liberation Sans, Arial, sans-serif"
BLUE, ORANGE, GREEN, RED, GREY = "#3b6fb6", "#d9480f", "#1b7837", "#b42318", "#9aa5b1"
WIDTH = 640

_CONFIG = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 13, "titleFontSize": 13, "labelColor": "#1f2933",
             "titleColor": "#52606d", "gridColor": "#e4e7eb", "domainColor": "#9aa5b1",
             "labelLimit": 420},  # long move and scenario names stay whole
    "legend": {"labelFontSize": 13, "titleFontSize": 13, "orient": "top"},
    "text": {"fontSize": 12},
    "background": "#ffffff",
}


def to_svg(spec: dict, prefix: str) -> str:
    """One Vega-Lite spec as inline SVG (ids prefixed with `prefix`)."""
    import vl_convert

    full = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": _CONFIG,
            **spec}
    svg = vl_convert.vegalite_to_svg(json.loads(json.dumps(full)))
    return _prefix_ids(svg, prefix)


_ID = re.compile(r'(\bid="|url\(#|href="#)([^"\)]+)')


def _prefix_ids(svg: str, prefix: str) -> str:
    return _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


def _height(rows: int) -> int:
    return max(60, 26 * rows)


def bars(rows: list[dict], x: str, y: str, title: str, fmt: str = ".1%",
         colour: str = BLUE, prefix: str = "c", text: str | None = None) -> str:
    """Horizontal bars in the rows' order, the value printed at each bar's end
    (formatted by `fmt`, or the rows' own `text` field: money in the
    journey's currency)."""
    return to_svg(bars_spec(rows, x, y, title, fmt, colour, text), prefix)


def stacked(specs: list[dict], prefix: str) -> str:
    """Several charts one above the other, drawn in one call (each call
    costs vl-convert a few tenths of a second)."""
    return to_svg({"vconcat": specs, "spacing": 24}, prefix)


def bars_spec(rows: list[dict], x: str, y: str, title: str, fmt: str = ".1%",
              colour: str = BLUE, text: str | None = None) -> dict:
    """The Vega-Lite specification of `bars`."""
    order = [r[y] for r in rows]
    base = {"data": {"values": rows}, "width": WIDTH, "height": _height(len(rows))}
    encoding = {"y": {"field": y, "type": "nominal", "sort": order, "title": None},
                "x": {"field": x, "type": "quantitative", "title": title,
                      "axis": {"format": fmt}}}
    spec = {**base, "encoding": encoding, "layer": [
        {"mark": {"type": "bar", "color": colour, "cornerRadiusEnd": 3}},
        {"mark": {"type": "text", "align": "left", "dx": 4, "color": "#1f2933"},
         "encoding": {"text": {"field": text, "type": "nominal"} if text else
                      {"field": x, "type": "quantitative", "format": fmt}}},
    ]}
    return spec


def grouped(rows: list[dict], x: str, y: str, group: str, title: str, fmt: str = ".2%",
            prefix: str = "g") -> str:
    """Horizontal bars per category, one per group (scenario vs baseline)."""
    order = list(dict.fromkeys(r[y] for r in rows))
    groups = list(dict.fromkeys(r[group] for r in rows))
    spec = {"data": {"values": rows}, "width": WIDTH,
            "height": max(60, 22 * len(rows)),
            "encoding": {
                "y": {"field": y, "type": "nominal", "sort": order, "title": None},
                "yOffset": {"field": group, "sort": groups},
                "x": {"field": x, "type": "quantitative", "title": title,
                      "axis": {"format": fmt}},
                "color": {"field": group, "type": "nominal", "sort": groups, "title": None,
                          "scale": {"range": [GREY, BLUE, ORANGE, GREEN, "#6a51a3"]}}},
            "layer": [{"mark": {"type": "bar", "cornerRadiusEnd": 3}},
                      {"mark": {"type": "text", "align": "left", "dx": 4, "color": "#1f2933"},
                       "encoding": {"text": {"field": x, "type": "quantitative",
                                             "format": fmt}}}]}
    return to_svg(spec, prefix)


def tornado(rows: list[dict], label: str, low: str, high: str, title: str,
            low_name: str, high_name: str, prefix: str = "t") -> str:
    """A tornado chart: per row a bar from `low` to 0 and from 0 to `high`,
    the largest on top (rows already sorted)."""
    order = [r[label] for r in rows]
    values = []
    for r in rows:
        values.append({label: r[label], "side": low_name, "from": 0.0, "to": r[low]})
        values.append({label: r[label], "side": high_name, "from": 0.0, "to": r[high]})
    spec = {"data": {"values": values}, "width": WIDTH, "height": _height(len(rows)),
            "encoding": {"y": {"field": label, "type": "nominal", "sort": order, "title": None}},
            "layer": [
                {"mark": {"type": "bar", "cornerRadius": 2},
                 "encoding": {"x": {"field": "from", "type": "quantitative", "title": title,
                                    "axis": {"format": "+.3~f"}},
                              "x2": {"field": "to"},
                              "color": {"field": "side", "type": "nominal", "title": None,
                                        "sort": [low_name, high_name],
                                        "scale": {"range": [ORANGE, BLUE]}}}},
                {"mark": {"type": "rule", "color": "#52606d"},
                 "encoding": {"x": {"datum": 0}}},
            ]}
    return to_svg(spec, prefix)


def money(rows: list[dict], title: str, tones: dict[str, str], prefix: str = "m") -> str:
    """Revenue, cost and profit per stage: horizontal bars grouped by stage
    (rows: stage, kind, tone, value, text), coloured by `tone` (the
    translated names of revenue, cost, profit and loss, in that order; a
    loss's amount in red), a negative amount left of zero, each bar's amount (`text`, already formatted
    in the journey's currency) at its end."""
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    names = list(tones)
    loss = names[-1]
    label = {"field": "text", "type": "nominal"}
    largest = max((abs(r["value"]) for r in rows), default=0.0)
    # plain numbers on the axis (16,000; 0.4), never SI prefixes (400m for 0.4)
    axis = ",.0f" if largest >= 20 else ",.2~f"
    spec = {"data": {"values": rows}, "width": WIDTH, "height": max(60, 18 * len(rows)),
            "encoding": {
                "y": {"field": "stage", "type": "nominal", "sort": stages, "title": None},
                "yOffset": {"field": "kind", "sort": kinds},
                "x": {"field": "value", "type": "quantitative", "title": title,
                      "axis": {"format": axis}}},
            "layer": [
                {"mark": {"type": "bar", "cornerRadiusEnd": 2},
                 "encoding": {"color": {"field": "tone", "type": "nominal", "title": None,
                                        "scale": {"domain": names,
                                                  "range": [tones[n] for n in names]}}}},
                {"transform": [{"filter": {"not": {"field": "tone", "equal": loss}}}],
                 "mark": {"type": "text", "align": "left", "dx": 4, "color": "#1f2933",
                          "fontSize": 11}, "encoding": {"text": label}},
                {"transform": [{"filter": {"field": "tone", "equal": loss}}],
                 "mark": {"type": "text", "align": "right", "dx": -4, "color": RED,
                          "fontSize": 11, "fontWeight": "bold"}, "encoding": {"text": label}},
                {"mark": {"type": "rule", "color": "#52606d"},
                 "encoding": {"x": {"datum": 0}}},
            ]}
    return to_svg(spec, prefix)


def curve(rows: list[dict], x_title: str, y_title: str, tones: dict[str, str],
          payback: float | None, payback_text: str, prefix: str = "p") -> str:
    """Cumulative money by month (rows: month, kind, value; `tones` maps
    each kind's translated name to its colour, the last drawn thicker), a
    rule at zero and, if the cohort pays back, a dashed rule at that month
    labelled `payback_text`."""
    names = list(tones)
    largest = max((abs(r["value"]) for r in rows), default=0.0)
    axis = ",.0f" if largest >= 20 else ",.2~f"
    layers: list[dict] = [
        {"mark": {"type": "line"},
         "encoding": {
             "x": {"field": "month", "type": "quantitative", "title": x_title,
                   "scale": {"nice": False}},
             "y": {"field": "value", "type": "quantitative", "title": y_title,
                   "axis": {"format": axis}},
             "color": {"field": "kind", "type": "nominal", "title": None,
                       "scale": {"domain": names, "range": [tones[n] for n in names]}},
             "strokeWidth": {"condition": {"test": f"datum.kind === {json.dumps(names[-1])}",
                                           "value": 3}, "value": 1.5}}},
        {"mark": {"type": "rule", "color": "#52606d"}, "encoding": {"y": {"datum": 0}}},
    ]
    if payback is not None:
        layers.append({"data": {"values": [{"month": payback, "text": payback_text}]},
                       "layer": [
                           {"mark": {"type": "rule", "color": GREEN, "strokeDash": [6, 4]},
                            "encoding": {"x": {"field": "month", "type": "quantitative"}}},
                           {"mark": {"type": "text", "align": "left", "dx": 6, "dy": -6,
                                     "color": GREEN, "fontWeight": "bold", "fontSize": 12},
                            "encoding": {"x": {"field": "month", "type": "quantitative"},
                                         "y": {"value": 0},
                                         "text": {"field": "text", "type": "nominal"}}}]})
    spec = {"data": {"values": rows}, "width": WIDTH, "height": 260, "layer": layers}
    return to_svg(spec, prefix)


def intervals(panels: list[dict], kinds: tuple[str, str], prefix: str = "mc") -> str:
    """Interval plots one above the other, one panel per metric (its own
    axis: metrics have different units). Each panel: `title`, `fmt` (its
    axis format) and `rows` (label, estimate, low, high, exact, text), drawn
    per row as a bar from `low` to `high` with the estimate as a dot (the
    first of `kinds`) and the exact value as a diamond (the second); a row
    without low/high is a dot alone, `text` printed right of the row."""
    estimate, exact = kinds
    colour = {"field": "kind", "type": "nominal", "title": None, "legend": {"labelLimit": 400},
              "scale": {"domain": [estimate, exact], "range": [BLUE, ORANGE]}}
    shape = {"field": "kind", "type": "nominal", "title": None, "legend": {"labelLimit": 400},
             "scale": {"domain": [estimate, exact], "range": ["circle", "diamond"]}}
    specs = []
    for panel in panels:
        rows = panel["rows"]
        order = list(dict.fromkeys(r["label"] for r in rows))
        points = [{"label": r["label"], "kind": estimate, "x": r["estimate"]} for r in rows
                  if r["estimate"] is not None]
        points += [{"label": r["label"], "kind": exact, "x": r["exact"]} for r in rows
                   if r["exact"] is not None]
        bands = [r for r in rows if r["low"] is not None and r["high"] is not None]
        # (the domain named: the text column and a panel with a row
        # lacking values keep every row, in the same places)
        y = {"field": "label", "type": "nominal", "sort": order, "title": None,
             "scale": {"domain": order}}
        x = {"field": "x", "type": "quantitative", "title": panel["title"],
             "scale": {"zero": False, "padding": 12}, "axis": {"format": panel["fmt"],
                                                               "tickCount": 5}}
        layers: list[dict] = []
        if bands:
            layers.append({"data": {"values": bands}, "mark": {
                "type": "rule", "color": BLUE, "strokeWidth": 3, "opacity": 0.55},
                "encoding": {"y": y, "x": {**x, "field": "low"}, "x2": {"field": "high"}}})
            for end in ("low", "high"):
                layers.append({"data": {"values": bands}, "mark": {
                    "type": "tick", "color": BLUE, "thickness": 2, "size": 14},
                    "encoding": {"y": y, "x": {**x, "field": end}}})
        layers.append({"data": {"values": points}, "mark": {
            "type": "point", "filled": True, "size": 90, "opacity": 1},
            "encoding": {"y": y, "x": x, "color": colour, "shape": shape}})
        specs.append({"width": WIDTH, "height": max(40, 30 * len(order)), "layer": layers,
                      "title": {"text": panel["title"], "anchor": "start", "fontSize": 14},
                      "resolve": {"scale": {"x": "shared"}}})
        texts = [{"label": r["label"], "text": r["text"]} for r in rows]
        specs.append({"width": 10, "height": max(40, 30 * len(order)),
                      "data": {"values": texts}, "mark": {
                          "type": "text", "align": "left", "color": "#1f2933"},
                      "encoding": {"y": {**y, "axis": None}, "text": {"field": "text"}}})
    rows = [{"hconcat": specs[i:i + 2], "spacing": 8} for i in range(0, len(specs), 2)]
    return to_svg({"vconcat": rows, "spacing": 22}, prefix)

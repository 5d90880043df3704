"""The map's second pass: Graphviz lays the map out (`dot -Tdot`, positions
written into the DOT), this module squares it up, and Graphviz draws it
without moving anything (`neato -n2`, the `nop2` engine).

`finish(laid_out, legend)`:
- every stage box (`cluster_<n>`) gets the same top and bottom, so the
  stages read as columns of one table (dot sizes each cluster to its own
  steps, a staircase), and its label moves up with its top, above every
  line and edge label that crosses the box (dot routes some moves over a
  short stage, right where its label goes);
- the legend becomes one compact strip under the title (two rows when the
  map is narrow), pinned by us: the title moves up to make room.

The laid-out text is read with a small tokenizer for the DOT Graphviz
writes (quoted strings with backslash escapes and line continuations,
bare ids, punctuation); only attribute values are replaced, by their spans,
so everything else is passed through byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .measure import width as text_width

#: The legend: (text, node attributes) per item, in reading order.
LegendItems = list[tuple[str, dict[str, str]]]
#: Laid-out DOT text -> the DOT text to draw.
Finish = Callable[[str], str]
Token = tuple[str, int, int]

_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|->|--|[{}\[\];,=]|[^\s{}\[\];,="]+', re.DOTALL)
_CLUSTER = re.compile(r'"?cluster_\d+"?$')
GAP = 10.0  # points between legend items, and around the strip
LEGEND_FONT = 9
EDGE_LINE = 9 * 1.2  # the height of a line of an edge label (points)
LABEL_GAP = 6.0  # between a stage label and the highest line under it


@dataclass
class Attr:
    value: str  # unquoted
    start: int  # span of the value token in the text
    end: int


def _tokens(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        if not m.group(0).isspace():
            out.append((m.group(0), m.start(), m.end()))
    return out


def _unquote(token: str) -> str:
    if token.startswith('"'):
        return token[1:-1].replace("\\\n", "").replace('\\"', '"')
    return token


def _attr_list(tokens: list[Token], i: int) -> tuple[dict[str, Attr], int]:
    """Attributes from `[` at tokens[i]; returns them and the index after `]`."""
    attrs: dict[str, Attr] = {}
    i += 1
    while i < len(tokens) and tokens[i][0] != "]":
        if i + 2 < len(tokens) and tokens[i + 1][0] == "=":
            key = _unquote(tokens[i][0])
            value, start, end = tokens[i + 2]
            attrs[key] = Attr(_unquote(value), start, end)
            i += 3
        else:
            i += 1
    return attrs, i + 1


Read = tuple[dict[str, Attr], dict[str, dict[str, Attr]], list[dict[str, Attr]]]


def _read(text: str) -> Read:
    """(root graph attributes, {cluster name: its graph attributes}, the
    attributes of every edge)."""
    tokens = _tokens(text)
    stack: list[str | None] = []
    root: dict[str, Attr] = {}
    clusters: dict[str, dict[str, Attr]] = {}
    edges: list[dict[str, Attr]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i][0]
        if tok == "{":
            name = None
            if i >= 2 and tokens[i - 2][0] == "subgraph":
                name = _unquote(tokens[i - 1][0])
            stack.append(name)
            i += 1
        elif tok == "}":
            if stack:
                stack.pop()
            i += 1
        elif tok == "[":  # a node, edge or default statement's attributes
            attrs, end = _attr_list(tokens, i)
            if i >= 2 and tokens[i - 2][0] == "->":
                edges.append(attrs)
            i = end
        elif tok == "graph" and i + 1 < len(tokens) and tokens[i + 1][0] == "[":
            attrs, i = _attr_list(tokens, i + 1)
            where = stack[-1] if stack else None
            if len(stack) == 1:
                root.update(attrs)
            elif where is not None and _CLUSTER.match(where):
                clusters.setdefault(where, {}).update(attrs)
        else:
            i += 1
    return root, clusters, edges


def _numbers(value: str) -> list[float]:
    return [float(x) for x in value.split(",")]


def _fmt(values: Iterable[float]) -> str:
    return ",".join(f"{v:.6g}" for v in values)


def finish(laid_out: str, legend: LegendItems | None = None) -> str:
    """The laid-out map with stage columns squared up and the legend strip
    added (`legend`: (text, node attributes) per item, in order)."""
    root, clusters, edges = _read(laid_out)
    edits: list[tuple[int, int, str]] = []
    boxes = {name: _numbers(attrs["bb"].value) for name, attrs in clusters.items()
             if "bb" in attrs}
    rise = 0.0  # how far the title must move up to make room
    if boxes:
        top = max(b[3] for b in boxes.values())
        bottom = min(b[1] for b in boxes.values())
        # A stage's label sits above every line and edge label that crosses
        # its box (dot routes some over a short stage, where the label goes).
        band = max((_label_band(attrs, boxes[name]) for name, attrs in clusters.items()
                    if name in boxes), default=0.0)
        top = max(top, _highest_edge(edges, list(boxes.values())) + band + LABEL_GAP)
        rise = max(0.0, top + GAP - _content_top(root))
        for name, (x1, y1, x2, y2) in boxes.items():
            attrs = clusters[name]
            edits.append((attrs["bb"].start, attrs["bb"].end, f'"{_fmt((x1, bottom, x2, top))}"'))
            if "lp" in attrs:
                lx, ly = _numbers(attrs["lp"].value)
                edits.append((attrs["lp"].start, attrs["lp"].end,
                              f'"{_fmt((lx, ly + top - y2))}"'))
    extra = ""
    if legend and "bb" in root:
        extra, edits_root = _legend(root, legend, rise)
        edits += edits_root
    elif rise and "bb" in root:
        edits += _raise_title(root, rise)
    out = laid_out
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    if extra:
        cut = out.rstrip().rfind("}")
        out = out[:cut] + extra + out[cut:]
    return out


def _label_band(attrs: dict[str, Attr], box: list[float]) -> float:
    """How far a cluster's label reaches down from its box's top (points)."""
    if "lp" not in attrs or "lheight" not in attrs:
        return 24.0
    label_bottom = _numbers(attrs["lp"].value)[1] - float(attrs["lheight"].value) * 72 / 2
    return box[3] - label_bottom


def _highest_edge(edges: list[dict[str, Attr]], boxes: list[list[float]]) -> float:
    """The highest point of any edge's line or label inside a box's width
    (-inf when none)."""
    highest = float("-inf")

    def inside(x: float) -> bool:
        return any(b[0] <= x <= b[2] for b in boxes)

    for attrs in edges:
        if "pos" in attrs:
            for point in attrs["pos"].value.split():
                x, y = _numbers(point.split(",", 1)[1] if point[:2] in ("e,", "s,")
                                else point)[:2]
                if inside(x):
                    highest = max(highest, y)
        for key in ("lp", "xlp"):
            if key in attrs:
                x, y = _numbers(attrs[key].value)
                lines = attrs.get("label" if key == "lp" else "xlabel")
                count = lines.value.count("\\n") + 1 if lines else 1
                if inside(x):
                    highest = max(highest, y + count * EDGE_LINE / 2)
    return highest


def _content_top(root: dict[str, Attr]) -> float:
    """The bottom of the title: where the map's content may reach up to."""
    if "lp" in root and "lheight" in root:
        return _numbers(root["lp"].value)[1] - float(root["lheight"].value) * 72 / 2
    return _numbers(root["bb"].value)[3]


def _raise_title(root: dict[str, Attr], rise: float) -> list[tuple[int, int, str]]:
    x1, y1, x2, y2 = _numbers(root["bb"].value)
    edits = [(root["bb"].start, root["bb"].end, f'"{_fmt((x1, y1, x2, y2 + rise))}"')]
    if "lp" in root:
        lx, ly = _numbers(root["lp"].value)
        edits.append((root["lp"].start, root["lp"].end, f'"{_fmt((lx, ly + rise))}"'))
    return edits


def _legend(root: dict[str, Attr], legend: LegendItems,
            rise: float = 0.0) -> tuple[str, list[tuple[int, int, str]]]:
    """The legend strip's DOT (nodes with pinned positions) and the edits that
    make room for it under the title (and `rise` more for the stages)."""
    x1, y1, x2, y2 = _numbers(root["bb"].value)
    sizes = []
    for text, attrs in legend:
        w = text_width(text, LEGEND_FONT) + (12 if attrs.get("shape") != "plaintext" else 4)
        sizes.append((w, 18.0))
    left = x1 + 14
    if "lp" in root and "lwidth" in root:
        left = _numbers(root["lp"].value)[0] - float(root["lwidth"].value) * 72 / 2
    room = max(x2 - left - 14, 200.0)
    rows: list[list[int]] = [[]]
    used = 0.0
    for k, (w, _) in enumerate(sizes):
        if rows[-1] and used + w > room:
            rows.append([])
            used = 0.0
        rows[-1].append(k)
        used += w + GAP
    row_h = 18.0 + 6
    strip = row_h * len(rows) + GAP + rise
    edits = [(root["bb"].start, root["bb"].end, f'"{_fmt((x1, y1, x2, y2 + strip))}"')]
    base = y2  # the strip's top edge; the title moves up by `strip`
    if "lp" in root:
        lx, ly = _numbers(root["lp"].value)
        edits.append((root["lp"].start, root["lp"].end, f'"{_fmt((lx, ly + strip))}"'))
        if "lheight" in root:
            base = ly - float(root["lheight"].value) * 72 / 2 + strip
    lines = ["\t// legend strip, pinned under the title by journeydsl"]
    for r, row in enumerate(rows):
        x = left
        y = base - GAP / 2 - row_h * r - row_h / 2
        for k in row:
            text, attrs = legend[k]
            w, h = sizes[k]
            pairs = {"label": text, "pos": f"{x + w / 2:.2f},{y:.2f}", "width": f"{w / 72:.3f}",
                     "height": f"{h / 72:.3f}", "fixedsize": "true", "fontsize": str(LEGEND_FONT),
                     **attrs}
            body = ", ".join(f'{key}="{_escape(value)}"' for key, value in pairs.items())
            lines.append(f'\t"#legend{k}" [{body}];')
            x += w + GAP
    return "\n".join(lines) + "\n", edits


def _escape(value: str) -> str:
    # Legend texts are ours (no user text); quotes and backslashes all the same.
    return value.replace("\\", "\\\\").replace('"', '\\"')

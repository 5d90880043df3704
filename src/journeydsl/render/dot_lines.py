"""DOT statements in the `graphviz` package's own format, written fast.

`graphviz.Digraph.node()`, `edge()` and `with subgraph()` cost about 10 µs a
statement: every call, and every `quoting.quote` inside it, goes through a
deprecation wrapper, and each `with subgraph()` builds a new graph object
from a copy of the whole parent graph. On a 500-step map that was most of
the time spent building its DOT text (benchmarks/bench_render.py).

`Lines` writes the same bytes for the lines of a `Digraph.body`: each name
and attribute quoted by the package's `quoting.quote` / `quote_edge`, once
per distinct plain string (memoised per map: attribute names, colours and
step ids repeat thousands of times), a `label` first and the other
attributes in sorted order, as `quoting.attr_list` writes a dict, and a
subgraph's lines one tab further in, as `Digraph.subgraph` nests them.
tests/test_render_dot_lines.py holds it to the package's own methods.

>>> lines = Lines()
>>> lines.node("a b", label="x", color="#fff", style=None)
>>> with lines.subgraph("cluster_0"):
...     lines.edge("a b", "c", weight="2")
>>> print("".join(lines.body).expandtabs(2), end="")  # (tabs: doctest expands its own)
  "a b" [label=x color="#fff"]
  subgraph cluster_0 {
    "a b" -> c [weight=2]
  }
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from graphviz import quoting


def _quote(value: str) -> str:
    """`quoting.quote(value)`, the package's own steps without its
    deprecation wrapper and without the regular expressions that can only
    match a value that starts with `<` (an HTML-like label, unless marked
    `nohtml`), holds `"` or ends in a backslash: those go through the
    package itself. (A map quotes a thousand distinct labels and ids.)"""
    if '"' in value or value.endswith("\\") or value.startswith("<"):
        quoted: str = quoting.quote(value)
        return quoted
    if quoting.ID.match(value) and value.lower() not in quoting.KEYWORDS:
        return str(value)
    return f'"{value}"'


class Lines:
    """The body lines of one graph, as `graphviz.Digraph` methods write them."""

    def __init__(self) -> None:
        self.body: list[str] = []
        self._indent = "\t"
        self._quoted: dict[str, str] = {}
        # `nohtml` values apart: one equals the plain str of the same text,
        # which `quote` may pass through as an HTML-like label
        self._quoted_nohtml: dict[str, str] = {}
        self._edge_ends: dict[str, str] = {}
        self._pairs: dict[tuple[str, str], str] = {}
        self._shared: dict[tuple, str] = {}

    def quote(self, value: str) -> str:
        """`quoting.quote(value)`."""
        known = self._quoted if type(value) is str else self._quoted_nohtml
        quoted = known.get(value)
        if quoted is None:
            quoted = known[value] = _quote(value)
        return quoted

    def _end(self, name: str) -> str:
        """`quoting.quote_edge(name)`: an edge's end (`node[:port[:compass]]`),
        which is `quote(name)` for a name without a port."""
        if ":" not in name:
            return self.quote(name)
        quoted = self._edge_ends.get(name)
        if quoted is None:
            quoted = self._edge_ends[name] = quoting.quote_edge(name)
        return quoted

    def _pair(self, key: str, value: str) -> str:
        """`key=value`, both quoted."""
        if type(value) is not str:
            return f"{self.quote(key)}={self.quote(value)}"
        pair = self._pairs.get((key, value))
        if pair is None:
            pair = self._pairs[key, value] = f"{self.quote(key)}={self.quote(value)}"
        return pair

    def attr_list(self, label: str | None, attrs: dict[str, str | None]) -> str:
        """`quoting.attr_list(label, kwargs=attrs)`: ` [label=... a=1 b=2]`."""
        pair = self._pair
        parts = [f"label={self.quote(label)}"] if label is not None else []
        parts += [pair(k, v) for k, v in sorted(attrs.items()) if v is not None]
        return f" [{' '.join(parts)}]" if parts else ""

    def node(self, name: str, label: str | None = None, **attrs: str | None) -> None:
        """`Digraph.node(name, label, **attrs)`."""
        self.body.append(f"{self._indent}{self.quote(name)}{self.attr_list(label, attrs)}\n")

    def nodes(self, names: list[str], label: str | None = None, **attrs: str | None) -> None:
        """`Digraph.node(name, label, **attrs)` for each name."""
        same = self.attr_list(label, attrs)
        self.body += [f"{self._indent}{self.quote(name)}{same}\n" for name in names]

    def edge(self, tail: str, head: str, label: str | None = None, **attrs: str | None) -> None:
        """`Digraph.edge(tail, head, label, **attrs)`."""
        self.body.append(f"{self._indent}{self._end(tail)} -> {self._end(head)}"
                         f"{self.attr_list(label, attrs)}\n")

    def edge_shared(self, tail: str, head: str, attrs: Mapping[str, str | None]) -> None:
        """`edge(tail, head, **attrs)`, for attributes that many edges share
        (a map's rates and delays): each distinct attribute list written
        once. Its key is the items, so a name's value must not be a plain
        str at one call and the `nohtml` of the same text at another."""
        key = tuple(attrs.items())
        listed = self._shared.get(key)
        if listed is None:
            rest = dict(attrs)
            label = rest.pop("label", None)  # as `edge(**attrs)` binds it: written first
            listed = self._shared[key] = self.attr_list(label, rest)
        self.body.append(f"{self._indent}{self._end(tail)} -> {self._end(head)}{listed}\n")

    def edges(self, pairs: list[tuple[str, str]], label: str | None = None,
              **attrs: str | None) -> None:
        """`Digraph.edge(tail, head, label, **attrs)` for each (tail, head)."""
        same = self.attr_list(label, attrs)
        end = self._end
        self.body += [f"{self._indent}{end(tail)} -> {end(head)}{same}\n" for tail, head in pairs]

    def attr(self, kw: str | None = None, **attrs: str | None) -> None:
        """`Digraph.attr(kw, **attrs)`: `graph [...]`, or `a=b` without `kw`."""
        if not attrs:
            return
        if kw is None:
            self.body.append(f"{self._indent}{self.attr_list(None, attrs)[2:-1]}\n")
        else:
            self.body.append(f"{self._indent}{kw}{self.attr_list(None, attrs)}\n")

    def same_rank(self, names: list[str]) -> None:
        """`with Digraph.subgraph() as s: s.attr(rank="same")` and a
        `s.node(name)` per name, in one go (a map has one per column)."""
        inner = self._indent + "\t"
        self.body.append(f"{self._indent}{{\n{inner}rank=same\n"
                         + "".join(f"{inner}{self.quote(name)}\n" for name in names)
                         + f"{self._indent}}}\n")

    def comment(self, text: str) -> None:
        self.body.append(f"{self._indent}// {text}\n")

    @contextmanager
    def subgraph(self, name: str | None = None) -> Iterator[Lines]:
        """`with Digraph.subgraph(name=name)`: the statements written inside
        the block go into the subgraph."""
        outer = self._indent
        head = f"subgraph {self.quote(name)} " if name else ""
        self.body.append(f"{outer}{head}{{\n")
        self._indent = outer + "\t"
        try:
            yield self
        finally:
            self._indent = outer
            self.body.append(f"{outer}}}\n")

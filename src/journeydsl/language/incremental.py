"""Compiling a file again after an edit, reusing the statements that did not
change (the editor's front end: `journey lsp` compiles on every pause in
typing, and a 2,000-line file must get its diagnostics within 150 ms).

Lexing, parsing and building the model of an unchanged statement is most of
a compile (lark's lexer above all). So the journey's body is cut into its
top-level statements (`Chunks`: one per `stage` block, transition line,
`entry`, ...) by a cheap scan of the text, and an `Incremental` keeps the
model nodes and shape diagnostics built for each statement's text. After an
edit only the statements whose text is new are parsed (with the language's
parser: each run of new statements is parsed padded to its place in the
file, so every offset is already the file's) and built; the others are
reused, their spans moved by how far the statement moved. The stages after
the transformer (used files, names, the compiled variants, the checks) run
as in any compile (`compiler.compile_model`).

Whenever the cheap reading is unsure (a syntax error anywhere, text after
the journey, an odd header) it compiles the whole file the ordinary way
(`compiler.compile_text`): the result is always what `journey check` computes.
tests/test_incremental.py holds it to that over every example and random
edits.

>>> inc = Incremental()
>>> first = inc.compile('journey "x" {\\n  stage s { touchpoint a; touchpoint b }\\n'
...                     '  entry a\\n  a -> b 30%\\n  goal b\\n}\\n', "x.journey")
>>> again = inc.compile('journey "x" {\\n  stage s { touchpoint a; touchpoint b }\\n'
...                     '  entry a\\n  a -> b 35%\\n  goal b\\n}\\n', "x.journey")
>>> inc.reused, again.model.transitions[0].rate.base.mean
(3, 0.35)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, cast, get_args, get_origin

from lark.exceptions import UnexpectedInput
from pydantic import BaseModel

from .._gc import paused_gc
from ..diagnostics import Diagnostic, Label
from .compiler import Compilation, compile_model, compile_text
from .grammar import SyntaxNode, parser
from .model import Journey, build
from .source import DEFAULT_MAX_BYTES, SourceFile, Span
from .transform import JOURNEY_FIELDS, Builder, check_tables, sort_nodes
from .values import label

#: What the scan stops at: strings, comments, separators and brackets.
_MARK = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[\n;,{}\[\]()]')
_NONBLANK = re.compile(r"[^ \t\f]")
#: Before the body: separators, then `journey "Title" {`.
_HEADER = re.compile(r'(?:[ \t\f\n;]|#[^\n]*)*(journey)[ \t\f]*("(?:[^"\\\n]|\\.)*")[ \t\f]*\{')
_TAIL = re.compile(r"(?:[ \t\f\n;]|#[^\n]*)*")
#: A statement parsed alone is put back at its offset behind this head.
_PAD_HEAD = 'journey "" {'


class Chunks(NamedTuple):
    """The journey of a file cut into its top-level statements."""

    keyword: int  # offset of the `journey` keyword
    title: str  # the title's token, quotes and escapes included
    title_span: Span
    statements: list[tuple[int, int]]  # (start, end) of each, in text order
    body_end: int  # offset of the journey's closing `}`


def chunks(text: str) -> Chunks | None:
    """The statements of the journey's body; None when the text is not
    plainly one journey (the ordinary parse then says what is wrong).

    >>> found = chunks('journey "x" {\\n  entry a, # first\\n    b\\n  a -> b 5%; goal b\\n}\\n')
    >>> [found.statements and 'journey "x" {\\n  entry a, # first\\n    b\\n  a -> b 5%; goal b'
    ...  [s:e] for s, e in found.statements]
    ['entry a, # first\\n    b', 'a -> b 5%', 'goal b']
    """
    head = _HEADER.match(text)
    if head is None:
        return None
    depth, nest = 1, 0
    start: int | None = None
    comma = False  # the statement so far ends with a comma: the next line goes on
    pos = head.end()
    out: list[tuple[int, int]] = []
    nonblank = _NONBLANK.search
    for mark in _MARK.finditer(text, pos):
        at = mark.start()
        if at > pos and (start is None or comma) and (gap := nonblank(text, pos, at)):
            if start is None:
                start = gap.start()
            comma = False
        char = text[at]
        pos = mark.end()
        if char == "#":
            continue
        if char == "\n" or char == ";":
            if start is not None and depth == 1 and nest == 0 and not (comma and char == "\n"):
                out.append((start, at))
                start, comma = None, False
            continue
        if start is None:
            start = at
        comma = char == ","
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                if start != at:
                    out.append((start, at))
                if not _TAIL.fullmatch(text, pos):
                    return None
                return Chunks(head.start(1), head.group(2), Span(head.start(2), head.end(2)),
                              out, at)
        elif char in "[(":
            nest += 1
        elif char in "])":
            nest -= 1
            if nest < 0:
                return None
    return None  # the journey's `}` is missing


@dataclass
class _Built:
    """What one statement's text built, at `base` (its offset then)."""

    base: int
    nodes: list
    problems: list[Diagnostic]
    end: int  # end of its syntax node


class Incremental:
    """Compiles successive versions of one file, reusing unchanged statements.

    Not thread-safe: one per document, used from one thread at a time."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._cache: dict[str, list[_Built]] = {}
        self.reused = 0  # statements reused by the last compile (for tests and benchmarks)
        self.full = False  # whether the last compile was an ordinary, whole-file one

    def compile(self, text: str, path: str) -> Compilation:
        """What `compile_text(text, path)` gives, sooner after a small edit."""
        with paused_gc():
            result = self._incremental(text, path)
        self.full = result is None
        if result is None:
            self._cache = {}
            self.reused = 0
            return compile_text(text, path, self.max_bytes)
        return result

    def _incremental(self, text: str, path: str) -> Compilation | None:
        if len(text) > self.max_bytes or len(text.encode("utf-8", "surrogatepass")) > \
                self.max_bytes:
            return None
        source = SourceFile(path, text)
        text = source.text  # normalized: no BOM, no CR
        found = chunks(text)
        if found is None:
            return None
        check_tables()
        old = self._cache
        fresh: dict[str, list[_Built]] = {}
        plan: list[tuple[int, int, _Built | None]] = []
        for start, end in found.statements:
            entries = old.get(text[start:end])
            plan.append((start, end, entries.pop(0) if entries else None))
        trees = _parse_new(text, plan)
        if trees is None:
            return None
        builder = Builder(source)
        nodes: list = []
        problems: list[Diagnostic] = []
        journey_end = found.title_span.end
        reused = 0
        for (start, end, built), items in zip(plan, trees):
            if built is not None:
                reused += 1
                built = _moved(built, start - built.base, source)
            else:
                before = len(builder.problems)
                made = builder.items(items)
                built = _Built(start, made, builder.problems[before:], items[-1].end)
                if any(item.data == "setting" for item in items):
                    # settings depend on each other (`currency` set twice): never reused
                    nodes += made
                    problems += built.problems
                    journey_end = built.end
                    continue
            fresh.setdefault(text[start:end], []).append(built)
            nodes += built.nodes
            problems += built.problems
            journey_end = built.end
        self._cache, self.reused = fresh, reused
        fields = sort_nodes(nodes, JOURNEY_FIELDS)
        for setting in fields.pop("settings"):
            fields[setting.field] = setting.value
        model = build(Journey, title=label(found.title), path=source.path,
                      span=Span(found.keyword, journey_end), **fields)
        return compile_model(source, model, problems, self.max_bytes)


def _parse_new(text: str, plan: list[tuple[int, int, _Built | None]]
               ) -> list[list[SyntaxNode]] | None:
    """The syntax nodes of each statement: parsed for the new ones (each run
    of them in one parse), [] for the reused; None on a syntax error."""
    out: list[list[SyntaxNode]] = [[] for _ in plan]
    run: list[int] = []
    for index in range(len(plan) + 1):  # one past the end closes the last run
        if index < len(plan) and plan[index][2] is None:
            run.append(index)
            continue
        if run:
            first, last = plan[run[0]][0], plan[run[-1]][1]
            items = _parse_padded(text, first, last)
            if items is None:
                return None
            starts = [plan[i][0] for i in run]
            for item in items:
                out[run[bisect_right(starts, item.start) - 1]].append(item)
            if any(not out[i] for i in run):
                return None
            run = []
    return out


def _parse_padded(text: str, start: int, end: int) -> list[SyntaxNode] | None:
    """The items of text[start:end] parsed in a journey's body at their
    place: the head of a journey, spaces up to `start`, the statements."""
    if start < len(_PAD_HEAD):
        return None
    padded = _PAD_HEAD + " " * (start - len(_PAD_HEAD)) + text[start:end] + "\n}"
    try:
        tree = parser().parse(padded)
    except (UnexpectedInput, RecursionError):
        return None
    # the parser's transformer builds SyntaxNodes where lark's types say Tree
    journey = cast(SyntaxNode, tree.children[0])
    return [item for item in journey.children[1:] if type(item) is SyntaxNode]


def _moved(built: _Built, by: int, source: SourceFile) -> _Built:
    """A statement's nodes and problems moved `by` characters (in `source`)."""
    problems = [_moved_problem(d, by, source) for d in built.problems]
    if by == 0:
        return _Built(built.base, built.nodes, problems, built.end)
    return _Built(built.base + by, [_shift(node, by) for node in built.nodes], problems,
                  built.end + by)


def _moved_problem(d: Diagnostic, by: int, source: SourceFile) -> Diagnostic:
    return replace(d, source=source, span=_shift(d.span, by) if d.span else None,
                   labels=tuple(Label(_shift(lab.span, by), lab.message, lab.source)
                                for lab in d.labels))


_set = object.__setattr__
#: Per model class: its fields that hold a span, a node, a list of nodes.
_PLANS: dict[type[BaseModel], tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _plan(kind: type[BaseModel]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    plan = _PLANS.get(kind)
    if plan is None:
        spans, nodes, lists = [], [], []
        for name, info in kind.model_fields.items():
            found = _kinds(info.annotation)
            if Span in found:
                spans.append(name)
            elif "node" in found:
                nodes.append(name)
            elif "nodes" in found:
                lists.append(name)
        plan = _PLANS[kind] = (tuple(spans), tuple(nodes), tuple(lists))
    return plan


def _kinds(annotation: object) -> set[object]:
    """What a field's type can hold: Span, "node" (a model), "nodes" (a list of models)."""
    if annotation is Span:
        return {Span}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"node"}
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list:
        return {"nodes"} if any(_kinds(a) for a in args) else set()
    return set[object]().union(*(_kinds(a) for a in args)) if args else set()


def _shift(value: Any, by: int) -> Any:
    """A copy of a model node (or span, or list of them) with every span
    moved; built as `model.build` does, without validation."""
    kind = type(value)
    if kind is Span:
        return Span(value[0] + by, value[1] + by)
    if kind is list:
        return [_shift(item, by) for item in value]
    spans, nodes, lists = _plan(kind)
    fields = value.__dict__.copy()
    for name in spans:
        span = fields[name]
        if span is not None:
            fields[name] = Span(span[0] + by, span[1] + by)
    for name in nodes:
        node = fields[name]
        if node is not None:
            fields[name] = _shift(node, by)
    for name in lists:
        items = fields[name]
        fields[name] = [_shift(item, by) for item in items] if items else []
    copy = object.__new__(kind)  # BaseModel's own __new__, without validation
    _set(copy, "__dict__", fields)
    _set(copy, "__pydantic_fields_set__", value.__pydantic_fields_set__)
    _set(copy, "__pydantic_extra__", None)
    _set(copy, "__pydantic_private__", None)
    return copy


__all__ = ["Chunks", "Incremental", "chunks"]

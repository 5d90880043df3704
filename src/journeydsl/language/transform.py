"""lark Tree -> Journey (pydantic).

Builds only: it turns each statement into model objects and reports values
of the wrong shape (a bare `30` where a rate goes, an unknown attribute, a
duration without a unit) as diagnostics. It never raises for user mistakes
and never looks across statements: names, sums and the graph are checked in
resolve.py and checks.py. The value shapes themselves are read in values.py,
shared by every statement kind.

As python-hcl2 does, each grammar rule a block item can be has one method
named after it (`@_rule`), which builds that statement's typed node. A
block looks each item's method up by rule name in one dict and sorts the
nodes it gets into its fields by their type; settings and attributes are
dispatched on their key the same way, from tables (values.py reads the
values). The rule and setting tables are checked against the grammar once
per process (`_check_tables`): a statement the grammar accepts can never
be dropped for want of a method.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from lark import Token

from ..diagnostics import Diagnostic, Label, close_matches
from .grammar import SyntaxNode as Tree
from .grammar import keyword_terminals, rule_names, statement_rules
from .model import (
    METRICS,
    Amount,
    AttributeOverride,
    EntryPoint,
    Expect,
    Journey,
    PerPersona,
    Persona,
    Referral,
    Scenario,
    Stage,
    StepRef,
    Touchpoint,
    Transition,
    Use,
    build,
)
from .source import SourceFile, Span
from .values import PER_STEP, Item, ValueReader, label, name, span_of


def to_journey(tree: Tree, source: SourceFile) -> tuple[Journey, list[Diagnostic]]:
    """Build the Journey of a parsed file, with the shape problems found."""
    _check_tables()
    builder = _Builder(source)
    return builder.journey(tree.children[0]), builder.problems


#: The builder method of each grammar rule a block item can be, by rule name.
_RULES: dict[str, Callable] = {}


def _rule(method: Callable) -> Callable:
    """Register `method` as the builder of the grammar rule it is named after."""
    _RULES[method.__name__] = method
    return method


class _Setting(NamedTuple):
    """What a setting statement sets: a field of the Journey, and its value."""

    field: str
    value: object


class _Builder(ValueReader):
    """One method per grammar rule, each building its statement's typed
    node(s) (a list for statements that make several: an `entry` with two
    targets, a chain of transitions), or None for a statement reported as
    wrong. A block builds its items through `_RULES` and sorts the nodes
    into its fields by type."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        self._settings: dict[str, Span] = {}  # where each setting was first set

    def _items(self, children: list) -> list:
        """The nodes built from a block's items, in text order."""
        out: list = []
        rules = _RULES
        for item in children:
            if type(item) is Tree:
                made = rules[item.data](self, item)
                if type(made) is list:
                    out.extend(made)
                elif made is not None:
                    out.append(made)
        return out

    def items(self, trees: list[Tree]) -> list:
        """The nodes built from some statements of a journey's body (the
        editor's incremental front end builds only the changed ones)."""
        return self._items(trees)

    # ------------------------------------------------------------ the file
    def journey(self, tree: Tree) -> Journey:
        title = label(tree.children[0])
        fields = _sort(self._items(tree.children[1:]), _JOURNEY_FIELDS)
        for setting in fields.pop("settings"):
            fields[setting.field] = setting.value
        # The `journey` keyword is not kept in the tree: find it before the title.
        keyword = self.source.text.rfind("journey", 0, tree.children[0].start_pos)
        span = Span(keyword if keyword >= 0 else tree.start, tree.end)
        return build(Journey, title=title, path=self.source.path, span=span, **fields)

    @_rule
    def use(self, tree: Tree) -> Use:
        path = tree.children[0]
        return build(Use, path=label(path), path_span=span_of(path), span=span_of(tree))

    @_rule
    def setting(self, tree: Tree) -> _Setting | None:
        key, *values = tree.children
        key_span = span_of(key)
        if str(key) in self._settings:
            self.error("JD202", f"`{key}` is set twice", key_span,
                       labels=[Label(self._settings[str(key)], "first set here")],
                       help="keep one of them")
            return None
        self._settings[str(key)] = key_span
        read, field = _SETTINGS[str(key)]
        value = read(self, values, span_of(tree))
        return None if value is None else _Setting(field, value)

    # ------------------------------------------------------------ declarations
    @_rule
    def persona(self, tree: Tree) -> Persona:
        ident, text, attrs = self._declaration(tree)
        persona = build(Persona, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                        share=None, notes=[], span=span_of(tree))
        self.persona_attributes(attrs, persona)
        return persona

    @_rule
    def stage(self, tree: Tree) -> Stage:
        ident, text, items = self._declaration(tree)
        attributes = [i for i in items if type(i) is Tree]  # `attribute` builds to itself
        touchpoints = [i for i in items if type(i) is Touchpoint]
        stage_id = name(ident)
        stage_attrs = self.attributes(attributes)
        for touchpoint in touchpoints:
            touchpoint.stage = stage_id
            # A touchpoint without its own channel or owner takes its stage's.
            own = touchpoint.attributes
            if own.channel is None:
                own.channel = stage_attrs.channel
            if own.owner is None:
                own.owner = stage_attrs.owner
        if touchpoints:
            for attr in attributes:
                key = str(attr.children[0])
                if key in PER_STEP:
                    self.error("JD307", f"`{key}` on a stage with touchpoints applies to no step",
                               span_of(attr), help="put it on the touchpoint it belongs to")
        return build(Stage, id=stage_id, id_span=span_of(ident), label=text or stage_id,
                     attributes=stage_attrs, touchpoints=touchpoints, span=span_of(tree))

    @_rule
    def touchpoint(self, tree: Tree) -> Touchpoint:
        """A touchpoint on its own: the `stage` that holds it sets its stage."""
        ident, text, attrs = self._declaration(tree)
        return build(Touchpoint, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                     stage="", attributes=self.attributes(attrs), span=span_of(tree))

    @_rule
    def attribute(self, tree: Tree) -> Tree:
        """An attribute means what the block that holds it says: read there."""
        return tree

    def _declaration(self, tree: Tree) -> tuple[Token, str | None, list]:
        """`KEYWORD NAME "label"? { items }?`: the name, the label and the
        nodes built from the items."""
        children = tree.children
        ident = children[0]
        text = None
        rest = children[1:]
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            text = label(rest[0])
            rest = rest[1:]
        return ident, text, self._items(rest)

    # ------------------------------------------------------------ flows
    def ref(self, tree: Tree) -> StepRef:
        parts = tree.children
        if len(parts) == 2:
            return build(StepRef, name=name(parts[1]), qualifier=name(parts[0]), span=span_of(tree))
        return build(StepRef, name=name(parts[0]), span=span_of(tree))

    def _target_parts(self, tree: Tree) -> tuple[StepRef, Item | None, Tree | None, Tree | None]:
        """A flow target's step, and its quantity, overrides and delay if written."""
        ref = self.ref(tree.children[0])
        quantity: Item | None = None
        overrides: Tree | None = None
        delay: Tree | None = None
        for part in tree.children[1:]:
            if isinstance(part, Tree) and part.data == "overrides":
                overrides = part
            elif isinstance(part, Tree) and part.data == "delay":
                delay = part
            else:
                quantity = part
        return ref, quantity, overrides, delay

    @_rule
    def entry(self, tree: Tree) -> list[EntryPoint]:
        targets = [t for t in tree.children if isinstance(t, Tree)]
        out = []
        for target in targets:
            ref, quantity, overrides, delay = self._target_parts(target)
            if delay is not None:
                self.error("JD307", "an entry has no delay", span_of(delay),
                           help="prospects arrive at the entry step at time 0")
            rate: PerPersona | None
            if quantity is None:
                if len(targets) > 1 or overrides is not None:
                    self.error("JD308", f"entry `{ref.text}` has no rate", span_of(target),
                               help=f"write `{ref.text} 50%`; the entry rates sum to 100%")
                    continue
                rate = build(PerPersona, base=build(Amount, mean=1.0, span=span_of(target)),
                                  span=span_of(target))
            else:
                rate = self._per_persona(target, quantity, overrides, self.entry_rate)
                if rate is None:
                    continue
            out.append(build(EntryPoint, target=ref, rate=rate, span=span_of(target)))
        return out

    @_rule
    def flow(self, tree: Tree) -> list[Transition | Referral]:
        """`a -> b 30%, c 5% -> d 20%`: its transitions and referrals, in order."""
        edges: list[Transition | Referral] = []
        source = self.ref(tree.children[0])
        for leg in tree.children[1:]:
            arrow, *targets = leg.children
            targets = [t for t in targets if isinstance(t, Tree)]
            last = None
            for target in targets:
                ref, quantity, overrides, delay = self._target_parts(target)
                last = ref
                days = 0.0
                if delay is not None:
                    days = self.duration(delay.children[0]) or 0.0
                referral = arrow == "=>"
                convert = self.count if referral else self.move_rate
                amount = None
                if quantity is None:
                    what = "number of prospects referred" if referral else "rate"
                    example = f"{source.text} => {ref.text} 0.05" if referral \
                        else f"{source.text} -> {ref.text} 30%"
                    self.error("JD308", f"`{source.text} {arrow} {ref.text}` has no {what}",
                               span_of(target), help=f"for example `{example}`")
                else:
                    amount = self._per_persona(target, quantity, overrides, convert)
                if amount is None:
                    # Keep the edge (at 0, the file has an error anyway) so that
                    # its step names are still checked.
                    amount = build(PerPersona, base=build(Amount, mean=0.0, span=span_of(target)),
                                        span=span_of(target))
                if referral:
                    edges.append(build(Referral, source=source, target=ref, amount=amount,
                                       delay_days=days, span=span_of(target)))
                else:
                    edges.append(build(Transition, source=source, target=ref, rate=amount,
                                       delay_days=days, span=span_of(target)))
            if len(targets) > 1 and leg is not tree.children[-1]:
                self.error("JD312", "a chain can only go on from a single target",
                           span_of(leg), help="split the line: one statement per source step")
                return edges
            if last is not None:
                source = last
        return edges

    @_rule
    def goal(self, tree: Tree) -> list[StepRef]:
        return [self.ref(r) for r in tree.children if isinstance(r, Tree)]

    # ------------------------------------------------------------ expect
    @_rule
    def expect(self, tree: Tree) -> Expect | None:
        metric_tree, op, quantity = tree.children
        metric_token = metric_tree.children[0]
        metric = str(metric_token)
        if metric not in METRICS:
            guess = close_matches(metric, METRICS, n=1)
            self.error("JD207", f"unknown metric `{metric}`", span_of(metric_token),
                       help=f"did you mean `{guess[0]}`?" if guess
                       else "metrics: " + ", ".join(METRICS))
            return None
        unit, argument_kind = METRICS[metric]
        argument = self.ref(metric_tree.children[1]) if len(metric_tree.children) > 1 else None
        persona = persona_span = None
        if argument_kind == "persona" and argument is not None:
            if argument.qualifier is not None:
                self.error("JD307", f"`{metric}(...)` takes a persona", argument.span)
                return None
            persona, persona_span, argument = argument.name, argument.span, None
        elif argument_kind != "persona" and argument is None:
            self.error("JD307", f"`{metric}` needs a step", span_of(metric_tree),
                       help=f"for example `expect {metric}(checkout) >= 10%`")
            return None
        value = self.expect_value(quantity, unit, metric)
        if value is None:
            return None
        return build(Expect, metric=metric, metric_span=span_of(metric_tree), argument=argument,
                      persona=persona, persona_span=persona_span, op=str(op), value=value,
                      unit=unit, written=str(quantity), span=span_of(tree))

    # ------------------------------------------------------------ scenarios
    @_rule
    def scenario(self, tree: Tree) -> Scenario:
        ident, text, items = self._declaration(tree)
        return build(Scenario, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                     span=span_of(tree), **_sort(items, _SCENARIO_FIELDS))

    @_rule
    def override_block(self, tree: Tree) -> AttributeOverride:
        """`step { attributes }` in a scenario: the attributes it changes."""
        target, *rest = tree.children
        attrs = self._items(rest)
        for attr in attrs:
            if str(attr.children[0]) == "event":
                self.error("JD307", "a scenario cannot change which events mark a step",
                           span_of(attr), help="the events of a step are the same in every "
                           "scenario: write `event` in the step's declaration")
        attrs = [a for a in attrs if str(a.children[0]) != "event"]
        return build(AttributeOverride, target=self.ref(target), attributes=self.attributes(attrs),
                     given=[str(a.children[0]) for a in attrs], span=span_of(tree))


# ---------------------------------------------------------------- tables

#: Each setting by its keyword (the grammar's SETTING_KEY words, `_check_tables`):
#: its value reader (values.py) and the field of the Journey it sets.
_SETTINGS = {
    "currency": (ValueReader.currency_code, "currency"),
    "discount": (ValueReader.discount, "discount"),
    "horizon": (ValueReader.horizon, "horizon_days"),
    "margin": (ValueReader.margin, "margin"),
}

#: Where each kind of node built from a block's items goes.
_SCENARIO_FIELDS: dict[type, str] = {
    Transition: "transitions", Referral: "referrals", EntryPoint: "entries",
    AttributeOverride: "attribute_overrides", Expect: "expects",
}
_JOURNEY_FIELDS: dict[type, str] = {
    **_SCENARIO_FIELDS, Use: "uses", Persona: "personas", Stage: "stages", StepRef: "goals",
    Scenario: "scenarios", _Setting: "settings",
}


def _sort(nodes: list, fields: dict[type, str]) -> dict[str, list]:
    """The nodes of a block by field, each field in text order."""
    out: dict[str, list] = {field: [] for field in fields.values()}
    into = {kind: out[field] for kind, field in fields.items()}
    for node in nodes:
        into[type(node)].append(node)
    return out


@lru_cache(maxsize=1)
def _check_tables() -> None:
    """The builder knows exactly the grammar's statements and settings: a
    rule added to the grammar without its method here would otherwise fail
    on the first file that uses it (checked once per process)."""
    missing = statement_rules() - _RULES.keys()
    unknown = _RULES.keys() - rule_names()
    settings = set(_SETTINGS) ^ set(keyword_terminals()["SETTING_KEY"])
    if missing or unknown or settings:
        raise RuntimeError(f"transform.py is out of step with the grammar: rules without a "
                           f"method {sorted(missing)}, methods of no rule {sorted(unknown)}, "
                           f"settings {sorted(settings)}")


# The pieces `journey()` is made of, for the editor's incremental front end
# (incremental.py), which builds a journey's statements one at a time.
Builder = _Builder
JOURNEY_FIELDS = _JOURNEY_FIELDS
sort_nodes = _sort
check_tables = _check_tables

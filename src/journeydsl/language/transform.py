"""lark Tree -> Journey (pydantic).

Builds only: it turns each statement into model objects and reports values
of the wrong shape (a bare `30` where a rate goes, an unknown attribute, a
duration without a unit) as diagnostics. It never raises for user mistakes
and never looks across statements: names, sums and the graph are checked in
resolve.py and checks.py. The value shapes themselves are read in values.py,
shared by every statement kind.
"""

from __future__ import annotations

from lark import Token

from ..diagnostics import Diagnostic, Label, close_matches
from .model import (
    METRICS,
    PERIOD_DAYS,
    Amount,
    AttributeOverride,
    Attributes,
    Discount,
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
from .syntax import SyntaxNode as Tree

# name, span_of and label live in values.py; they stay importable from here too.
from .values import ValueReader, label, name, span_of

_STEP_ATTRIBUTES = ("channel", "owner", "emotion", "value", "cost", "pain", "opportunity",
                    "objective", "note")
_PERSONA_ATTRIBUTES = ("share", "note")


def to_journey(tree: Tree, source: SourceFile) -> tuple[Journey, list[Diagnostic]]:
    """Build the Journey of a parsed file, with the shape problems found."""
    builder = _Builder(source)
    return builder.journey(tree.children[0]), builder.problems


class _Builder(ValueReader):
    # ------------------------------------------------------------ the file
    def journey(self, tree: Tree) -> Journey:
        title = label(tree.children[0])
        fields: dict = {"uses": [], "personas": [], "stages": [], "entries": [], "transitions": [],
                        "referrals": [], "goals": [], "expects": [], "scenarios": []}
        seen_settings: dict[str, Span] = {}
        for item in tree.children[1:]:
            if not isinstance(item, Tree):
                continue
            kind = item.data
            if kind == "use":
                path = item.children[0]
                fields["uses"].append(build(Use, path=label(path), path_span=span_of(path),
                                            span=span_of(item)))
            elif kind == "setting":
                self.setting(item, fields, seen_settings)
            elif kind == "persona":
                fields["personas"].append(self.persona(item))
            elif kind == "stage":
                fields["stages"].append(self.stage(item))
            elif kind == "entry":
                fields["entries"].extend(self.entry(item))
            elif kind == "flow":
                self.flow(item, fields["transitions"], fields["referrals"])
            elif kind == "goal":
                fields["goals"].extend(self.ref(r) for r in item.children if isinstance(r, Tree))
            elif kind == "expect":
                expect = self.expect(item)
                if expect is not None:
                    fields["expects"].append(expect)
            elif kind == "scenario":
                fields["scenarios"].append(self.scenario(item))
        # The `journey` keyword is not kept in the tree: find it before the title.
        keyword = self.source.text.rfind("journey", 0, tree.children[0].start_pos)
        span = Span(keyword if keyword >= 0 else tree.start, tree.end)
        return build(Journey, title=title, path=self.source.path, span=span, **fields)

    def setting(self, tree: Tree, fields: dict, seen: dict[str, Span]) -> None:
        key, *values = tree.children
        key_span = span_of(key)
        if str(key) in seen:
            self.error("JD202", f"`{key}` is set twice", key_span,
                       labels=[Label(seen[str(key)], "first set here")],
                       help="keep one of them")
            return
        seen[str(key)] = key_span
        whole = span_of(tree)
        if key == "currency":
            if len(values) == 1 and isinstance(values[0], Token) and values[0].type == "NAME":
                fields["currency"] = str(values[0])
            else:
                self.error("JD208", "`currency` takes a currency code", whole,
                           help="for example `currency USD` or `currency VND`")
        elif key == "horizon":
            days = self.duration(values[0]) if len(values) == 1 else None
            if len(values) != 1:
                self.error("JD208", "`horizon` takes one duration", whole,
                           help="for example `horizon 3y`")
            if days is not None:
                if days <= 0:
                    self.error("JD208", "`horizon` must be longer than zero", span_of(values[0]))
                else:
                    fields["horizon_days"] = days
        else:  # discount RATE per PERIOD
            if (len(values) != 3 or not isinstance(values[1], Token) or values[1].type != "PER"
                    or not isinstance(values[2], Token)):
                self.error("JD208", "`discount` takes a rate and a period", whole,
                           help="for example `discount 10% per year`")
                return
            rate = self.rate(values[0])
            period = str(values[2])
            if period not in PERIOD_DAYS:
                guess = close_matches(period, PERIOD_DAYS, n=1)
                self.error("JD208", f"unknown discount period `{period}`", span_of(values[2]),
                           help=f"did you mean `{guess[0]}`?" if guess
                           else "use year, month, week or day")
                return
            if rate is not None:
                if rate.kind != "fixed":
                    self.error("JD307", "the discount rate must be a single number",
                               span_of(values[0]))
                    return
                fields["discount"] = build(Discount, rate=rate.mean, period=period, span=whole)

    # ------------------------------------------------------------ declarations
    def persona(self, tree: Tree) -> Persona:
        ident, text, attrs = self._declaration(tree)
        share, notes = None, []
        for attr in attrs:
            key = str(attr.children[0])
            value = attr.children[1] if len(attr.children) > 1 else None
            if key == "share":
                if self._no_overrides(attr) and self._has_value(attr, value):
                    share = self.rate(value)
            elif key == "note":
                note = self.text(attr, value)
                if note is not None:
                    notes.append(note)
            else:
                self._unknown_attribute(attr, _PERSONA_ATTRIBUTES, "persona")
        return build(Persona, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                       share=share, notes=notes, span=span_of(tree))

    def stage(self, tree: Tree) -> Stage:
        ident, text, items = self._declaration(tree)
        attributes, touchpoints = [], []
        for item in items:
            (touchpoints if item.data == "touchpoint" else attributes).append(item)
        stage_id = name(ident)
        stage_attrs = self.attributes(attributes)
        built = [self.touchpoint(t, stage_id, stage_attrs) for t in touchpoints]
        if built:
            for attr in attributes:
                key = str(attr.children[0])
                if key in ("emotion", "value", "cost"):
                    self.error("JD307", f"`{key}` on a stage with touchpoints applies to no step",
                               span_of(attr), help="put it on the touchpoint it belongs to")
        return build(Stage, id=stage_id, id_span=span_of(ident), label=text or stage_id,
                     attributes=stage_attrs, touchpoints=built, span=span_of(tree))

    def touchpoint(self, tree: Tree, stage_id: str, stage_attrs: Attributes) -> Touchpoint:
        ident, text, attrs = self._declaration(tree)
        attributes = self.attributes(attrs)
        # A touchpoint without its own channel or owner takes its stage's.
        if attributes.channel is None:
            attributes.channel = stage_attrs.channel
        if attributes.owner is None:
            attributes.owner = stage_attrs.owner
        return build(Touchpoint, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                          stage=stage_id, attributes=attributes, span=span_of(tree))

    def _declaration(self, tree: Tree) -> tuple[Token, str | None, list[Tree]]:
        children = tree.children
        ident = children[0]
        text = None
        rest = children[1:]
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            text = label(rest[0])
            rest = rest[1:]
        return ident, text, [c for c in rest if isinstance(c, Tree)]

    def attributes(self, attrs: list[Tree]) -> Attributes:
        out = build(Attributes)
        for attr in attrs:
            key = str(attr.children[0])
            value = attr.children[1] if len(attr.children) > 1 else None
            if key not in _STEP_ATTRIBUTES:
                self._unknown_attribute(attr, _STEP_ATTRIBUTES, "step")
            elif not self._has_value(attr, value):
                continue
            elif key in ("channel",):
                if isinstance(value, Token) and value.type in ("NAME", "STRING"):
                    out.channel = name(value) if value.type == "NAME" else label(value)
                else:
                    self.error("JD307", "`channel` takes a name", span_of(value),
                               help="for example `channel email`")
            elif key in ("emotion", "value", "cost"):
                setattr(out, key, self.per_persona_number(attr, key))
            else:
                text = self.text(attr, value)
                if text is None:
                    continue
                if key == "owner":
                    out.owner = text
                elif key == "objective":
                    out.objective = text
                else:
                    {"pain": out.pains, "opportunity": out.opportunities,
                     "note": out.notes}[key].append(text)
        return out

    def _unknown_attribute(self, attr: Tree, known: tuple[str, ...], where: str) -> None:
        key = str(attr.children[0])
        guess = close_matches(key, known, n=1)
        if key == "use":
            hint = "`use` is a statement of the journey: move it out of this block"
        elif guess:
            hint = f"did you mean `{guess[0]}`?"
        else:
            hint = "known attributes: " + ", ".join(f"`{k}`" for k in known)
        self.error("JD206", f"unknown {where} attribute `{key}`", span_of(attr.children[0]),
                   help=hint)

    # ------------------------------------------------------------ flows
    def ref(self, tree: Tree) -> StepRef:
        parts = tree.children
        if len(parts) == 2:
            return build(StepRef, name=name(parts[1]), qualifier=name(parts[0]), span=span_of(tree))
        return build(StepRef, name=name(parts[0]), span=span_of(tree))

    def _target_parts(self, tree: Tree):
        ref = self.ref(tree.children[0])
        quantity = overrides = delay = None
        for part in tree.children[1:]:
            if isinstance(part, Tree) and part.data == "overrides":
                overrides = part
            elif isinstance(part, Tree) and part.data == "delay":
                delay = part
            else:
                quantity = part
        return ref, quantity, overrides, delay

    def entry(self, tree: Tree) -> list[EntryPoint]:
        targets = [t for t in tree.children if isinstance(t, Tree)]
        out = []
        for target in targets:
            ref, quantity, overrides, delay = self._target_parts(target)
            if delay is not None:
                self.error("JD307", "an entry has no delay", span_of(delay),
                           help="prospects arrive at the entry step at time 0")
            if quantity is None:
                if len(targets) > 1 or overrides is not None:
                    self.error("JD308", f"entry `{ref.text}` has no rate", span_of(target),
                               help=f"write `{ref.text} 50%`; the entry rates sum to 100%")
                    continue
                rate = build(PerPersona, base=build(Amount, mean=1.0, span=span_of(target)),
                                  span=span_of(target))
            else:
                rate = self._per_persona(target, quantity, overrides, self.rate)
                if rate is None:
                    continue
            out.append(build(EntryPoint, target=ref, rate=rate, span=span_of(target)))
        return out

    def flow(self, tree: Tree, transitions: list, referrals: list) -> None:
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
                convert = self.count if referral else self.rate
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
                    referrals.append(build(Referral, source=source, target=ref, amount=amount,
                                              delay_days=days, span=span_of(target)))
                else:
                    transitions.append(build(Transition, source=source, target=ref, rate=amount,
                                                  delay_days=days, span=span_of(target)))
            if len(targets) > 1 and leg is not tree.children[-1]:
                self.error("JD312", "a chain can only go on from a single target",
                           span_of(leg), help="split the line: one statement per source step")
                return
            if last is not None:
                source = last

    # ------------------------------------------------------------ expect
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
                      unit=unit, span=span_of(tree))

    # ------------------------------------------------------------ scenarios
    def scenario(self, tree: Tree) -> Scenario:
        ident, text, items = self._declaration(tree)
        transitions: list = []
        referrals: list = []
        entries, overrides, expects = [], [], []
        for item in items:
            if item.data == "flow":
                self.flow(item, transitions, referrals)
            elif item.data == "entry":
                entries.extend(self.entry(item))
            elif item.data == "expect":
                expect = self.expect(item)
                if expect is not None:
                    expects.append(expect)
            elif item.data == "override_block":
                target, *attrs = item.children
                attrs = [a for a in attrs if isinstance(a, Tree)]
                overrides.append(build(AttributeOverride, 
                    target=self.ref(target), attributes=self.attributes(attrs),
                    given=[str(a.children[0]) for a in attrs], span=span_of(item)))
        return build(Scenario, id=name(ident), id_span=span_of(ident), label=text or name(ident),
                        transitions=transitions, referrals=referrals, entries=entries,
                        attribute_overrides=overrides, expects=expects, span=span_of(tree))

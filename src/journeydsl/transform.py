"""lark Tree -> Journey (pydantic).

Builds only: it turns each statement into model objects and reports values
of the wrong shape (a bare `30` where a rate goes, an unknown attribute, a
duration without a unit) as diagnostics. It never raises for user mistakes
and never looks across statements: names, sums and the graph are checked in
resolve.py and checks.py.
"""

from __future__ import annotations

import re
import unicodedata

from lark import Token

from . import diagnostics as diag
from .diagnostics import Diagnostic, Label, close_matches
from .model import (
    build,
    DAYS,
    METRICS,
    PERIOD_DAYS,
    Amount,
    AttributeOverride,
    Attributes,
    Discount,
    EntryPoint,
    Expect,
    Journey,
    Override,
    PerPersona,
    Persona,
    Referral,
    Scenario,
    Stage,
    StepRef,
    Touchpoint,
    Transition,
    Use,
)
from .source import SourceFile, Span
from .syntax import SyntaxNode as Tree

_ESCAPE = re.compile(r'\\(["\\])')
_STEP_ATTRIBUTES = ("channel", "owner", "emotion", "value", "cost", "pain", "opportunity",
                    "objective", "note")
_PERSONA_ATTRIBUTES = ("share", "note")


def to_journey(tree: Tree, source: SourceFile) -> tuple[Journey, list[Diagnostic]]:
    """Build the Journey of a parsed file, with the shape problems found."""
    builder = _Builder(source)
    return builder.journey(tree.children[0]), builder.problems


def name(token: Token) -> str:
    """Identifiers compare after NFC normalization (composed Vietnamese)."""
    text = str(token)
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def span_of(item: Token | Tree) -> Span:
    if isinstance(item, Token):
        return Span(item.start_pos, item.end_pos)
    return Span(item.start, item.end)


def label(token: Token) -> str:
    return _ESCAPE.sub(r"\1", token[1:-1])


def _number(token: Token) -> float:
    return float(token.replace("_", "").rstrip("%"))


class _Builder:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, **kw) -> None:
        self.problems.append(diag.make(code, message, self.source, span, **kw))

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

    def _has_value(self, attr: Tree, value) -> bool:
        if value is None:
            self.error("JD307", f"`{attr.children[0]}` needs a value", span_of(attr))
            return False
        return True

    def _no_overrides(self, attr: Tree) -> bool:
        if len(attr.children) > 2:
            self.error("JD307", f"`{attr.children[0]}` takes no persona overrides",
                       span_of(attr.children[2]))
            return False
        return True

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

    def text(self, attr: Tree, value) -> str | None:
        if isinstance(value, Token) and value.type == "STRING" and len(attr.children) == 2:
            return label(value)
        if isinstance(value, Token) and value.type == "NAME" and len(attr.children) == 2:
            return name(value)
        self.error("JD307", f"`{attr.children[0]}` takes a quoted text",
                   span_of(attr) if value is None else span_of(value),
                   help=f'for example `{attr.children[0]} "..."`')
        return None

    def per_persona_number(self, attr: Tree, key: str) -> PerPersona | None:
        value = attr.children[1]
        base = self.plain_number(value, key)
        overrides = self.overrides(attr.children[2], lambda q: self.plain_number(q, key)) \
            if len(attr.children) > 2 else []
        if base is None:
            return None
        return build(PerPersona, base=base, overrides=overrides, span=span_of(attr))

    def plain_number(self, value, key: str) -> Amount | None:
        if isinstance(value, Token) and value.type == "NUMBER":
            number = _number(value)
            if key == "emotion" and not 1 <= number <= 5:
                self.error("JD306", f"emotion `{value}` is outside 1..5", span_of(value),
                           help="1 is very unhappy, 3 neutral, 5 delighted")
                return None
            return build(Amount, mean=number, span=span_of(value))
        hint = ("1 is very unhappy, 3 neutral, 5 delighted" if key == "emotion"
                else "money is a plain number in the journey's currency, e.g. `49` or `1_250_000`")
        self.error("JD307", f"`{key}` takes a plain number", span_of(value), help=hint)
        return None

    # ------------------------------------------------------------ numbers
    def rate(self, value) -> Amount | None:
        """A probability: `30%`, `0.3`, `20%..30%` or `beta(a, b)`."""
        if isinstance(value, Tree) and value.data == "uniform":
            return self.uniform(value, self.rate, "rate")
        if isinstance(value, Tree) and value.data == "beta":
            a, b = (_number(v) for v in value.children)
            # `beta` and the parentheses are not kept in the tree: widen the span to them
            text = self.source.text
            start = text.rfind("beta", 0, value.start)
            end = text.find(")", value.end)
            span = Span(start if start >= 0 else value.start, end + 1 if end >= 0 else value.end)
            if a <= 0 or b <= 0:
                self.error("JD310", "beta(a, b) needs a > 0 and b > 0", span,
                           help="beta(25, 75) means about 25 successes in 100 tries")
                return None
            return build(Amount, kind="beta", mean=a / (a + b), alpha=a, beta=b, span=span)
        if not isinstance(value, Token):
            return None
        if value.type == "PERCENT":
            rate = _number(value) / 100
        elif value.type == "NUMBER":
            rate = _number(value)
            if rate > 1:
                self.error("JD302", f"`{value}` is not a rate", span_of(value),
                           help=f"did you mean `{value}%`?")
                return None
        elif value.type == "DURATION":
            self.error("JD307", f"expected a rate, found the duration `{value}`", span_of(value),
                       help=f"a delay is written after the rate: `30% after {value}`")
            return None
        else:
            self.error("JD307", f"expected a rate, found `{value}`", span_of(value),
                       help="write a rate such as `30%` or `0.3`")
            return None
        if not 0 <= rate <= 1:
            self.error("JD301", f"rate `{value}` is outside [0, 100%]", span_of(value))
            return None
        return build(Amount, mean=rate, span=span_of(value))

    def uniform(self, value: Tree, convert, what: str) -> Amount | None:
        """`low..high`, each end converted like a plain value."""
        ends = [convert(v) for v in value.children]
        if None in ends:
            return None
        low, high = ends
        if low.mean > high.mean:
            self.error("JD310", "the range is reversed: its low end is above its high end",
                       span_of(value), help=f"write the lower {what} first")
            return None
        return build(Amount, kind="uniform", mean=(low.mean + high.mean) / 2, low=low.mean,
                     high=high.mean, span=span_of(value))

    def count(self, value) -> Amount | None:
        """A referral count: a non-negative number, a range or beta."""
        if isinstance(value, Tree) and value.data == "uniform":
            return self.uniform(value, self.count, "number")
        if isinstance(value, Tree) and value.data == "beta":
            return self.rate(value)
        if isinstance(value, Token) and value.type in ("NUMBER", "PERCENT"):
            number = _number(value) / (100 if value.type == "PERCENT" else 1)
            return build(Amount, mean=number, span=span_of(value))
        self.error("JD307", f"expected the number of prospects referred, found `{value}`",
                   span_of(value), help="for example `paying => invite 0.05`")
        return None

    def duration(self, value) -> float | None:
        if isinstance(value, Token) and value.type == "DURATION":
            text = value.replace("_", "")
            unit = "mo" if text.endswith("mo") else text[-1]
            return float(text[: -len(unit)]) * DAYS[unit]
        if isinstance(value, Token) and value.type == "NUMBER":
            self.error("JD307", f"`{value}` needs a time unit", span_of(value),
                       help=f"did you mean `{value}d`? Units: h, d, w, mo (30 days), y (365 days)")
            return None
        self.error("JD307", "expected a duration such as `14d`", span_of(value))
        return None

    def overrides(self, tree: Tree, convert) -> list[Override]:
        out = []
        for item in tree.children:
            persona, value = item.children
            amount = convert(value)
            if amount is not None:
                out.append(build(Override, persona=name(persona), persona_span=span_of(persona),
                                    amount=amount, span=span_of(item)))
        return out

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

    def _per_persona(self, tree: Tree, quantity, overrides, convert) -> PerPersona | None:
        base = convert(quantity)
        extra = self.overrides(overrides, convert) if overrides is not None else []
        if base is None:
            return None
        return build(PerPersona, base=base, overrides=extra, span=span_of(tree))

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

    def expect_value(self, quantity, unit: str, metric: str) -> float | None:
        kind = quantity.type if isinstance(quantity, Token) else quantity.data
        if unit == "days":
            if kind == "DURATION":
                return self.duration(quantity)
            self.error("JD309", f"`{metric}` is a time and compares with a duration",
                       span_of(quantity), help=f"for example `<= {quantity}d`"
                       if kind == "NUMBER" else "for example `<= 30d`")
            return None
        if unit == "rate":
            if kind in ("PERCENT", "NUMBER"):
                amount = self.rate(quantity)
                return None if amount is None else amount.mean
            self.error("JD309", f"`{metric}` is a rate and compares with a rate",
                       span_of(quantity), help="for example `>= 2.5%`")
            return None
        if kind == "NUMBER":
            return _number(quantity)
        self.error("JD309", f"`{metric}` compares with a plain number", span_of(quantity),
                   help=f"write the number without a unit, e.g. `{metric} >= 3`" if kind ==
                   "PERCENT" else None)
        return None

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

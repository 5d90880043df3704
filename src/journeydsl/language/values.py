"""Values inside a statement: rates, money, durations, ranges, overrides.

Every statement kind (settings, attributes, flows, entries, expects,
scenarios) reads the same handful of value shapes, and the JD3xx checks on
them (a bare `30` where a rate goes, a duration without a unit, a reversed
range) must read the same wherever the value is written. Keeping them here
lets transform.py stay a walk over the statements. The attributes a step or
a persona takes are here too: a table from each key to the reader of its
value, since the key says nothing but how to read the value and where it
goes. Like the builder, nothing here raises for user mistakes: a bad value
is reported and read as None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from lark import Token

from .. import diagnostics as diag
from ..diagnostics import Diagnostic, close_matches
from .grammar import SyntaxNode as Tree
from .grammar import token_span
from .model import (
    DAYS,
    PERIOD_DAYS,
    Amount,
    Attributes,
    Discount,
    EventName,
    Override,
    PerPersona,
    Persona,
    build,
)
from .source import SourceFile, Span

_ESCAPE = re.compile(r'\\(["\\])')

#: A child of a syntax node: a token, or the node of a rule.
Item = Token | Tree
#: Reads one kind of value (a rate, a count) from the tree, or reports it: None.
Convert = Callable[[Item], "Amount | None"]

# Limits on magnitudes (JD313). Beyond them a number means nothing in a
# customer journey and only breaks the arithmetic (a 400-digit value is
# infinity in floating point; a sub-second delay is below the engine's clock).
#: Money per visit (value, cost), in the journey's currency: 10^15.
MAX_MONEY = 1e15
#: Prospects one visit refers.
MAX_REFERRALS = 1e6
#: beta(a, b) parameters (a + b is the number of observations behind a rate).
MAX_BETA = 1e9
#: Durations (delays, the horizon, expected times): 1,000 years of 365 days.
MAX_DAYS = 365_000.0
#: The engine counts time in whole seconds: a delay is 0 or at least 1 s.
SECOND_DAYS = 1 / 86_400


def name(token: Token) -> str:
    """Identifiers compare after NFC normalization (composed Vietnamese)."""
    text = str(token)
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def span_of(item: Token | Tree) -> Span:
    if isinstance(item, Token):
        return token_span(item)
    return Span(item.start, item.end)


def label(token: str) -> str:  # a STRING token, or its text
    return _ESCAPE.sub(r"\1", token[1:-1])


def _short(token: Item) -> str:
    """A token as a message quotes it: a 400-digit number shortened."""
    text = str(token)
    return text if len(text) <= 24 else f"{text[:10]}…{text[-6:]}"


def _number(token: Token) -> float:
    return float(token.replace("_", "").rstrip("%"))


def _range_example(mean: float) -> str:
    """A range around a rate, for a help text: `85%..95%` around 90%."""
    low, high = max(0.0, mean - 0.05), min(1.0, mean + 0.05)
    return f"{low * 100:.4g}%..{high * 100:.4g}%"


class ValueReader:
    """A base class rather than functions: every conversion reports into the
    problems of the one file being built, which `transform._Builder` owns."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, **kw: Any) -> None:
        self.problems.append(diag.make(code, message, self.source, span, **kw))

    # ------------------------------------------------------------ attribute values
    def _too_large(self, token: Item, what: str, limit: str) -> None:
        self.error("JD313", f"{what} is too large", span_of(token),
                   help=f"the limit is {limit}; beyond it a number means nothing in a journey")

    def _has_value(self, attr: Tree, value: Item | None) -> bool:
        if value is None:
            self.error("JD307", f"`{attr.children[0]}` needs a value", span_of(attr))
            return False
        return True

    def _no_overrides(self, attr: Tree) -> bool:
        if not self._one_value(attr):
            return False
        if len(attr.children) > 2:
            self.error("JD307", f"`{attr.children[0]}` takes no persona overrides",
                       span_of(attr.children[2]))
            return False
        return True

    def _one_value(self, attr: Tree) -> bool:
        """Only `event` takes a list of texts: `pain "a", "b"` is reported
        at its second text."""
        if len(attr.children) > 2 and isinstance(attr.children[2], Token):
            key = attr.children[0]
            self.error("JD307", f"`{key}` takes one value", span_of(attr.children[2]),
                       help=f"write one `{key}` per line" if key in _LIST_KEYS
                       else None)
            return False
        return True

    def text(self, attr: Tree, value: Item | None) -> str | None:
        if not self._one_value(attr):
            return None
        if isinstance(value, Token) and value.type == "STRING" and len(attr.children) == 2:
            return label(value)
        if isinstance(value, Token) and value.type == "NAME" and len(attr.children) == 2:
            return name(value)
        self.error("JD307", f"`{attr.children[0]}` takes a quoted text",
                   span_of(attr) if value is None else span_of(value),
                   help=f'for example `{attr.children[0]} "..."`')
        return None

    def per_persona_number(self, attr: Tree, key: str) -> PerPersona | None:
        if not self._one_value(attr):
            return None
        value = attr.children[1]
        base = self.plain_number(value, key)
        overrides = self.overrides(attr.children[2], lambda q: self.plain_number(q, key)) \
            if len(attr.children) > 2 else []
        if base is None:
            return None
        return build(PerPersona, base=base, overrides=overrides, span=span_of(attr))

    def plain_number(self, value: Item, key: str) -> Amount | None:
        if not self._not_per_customer(value, f"`{key}`"):
            return None
        if isinstance(value, Token) and value.type == "NUMBER":
            number = _number(value)
            if key == "emotion" and not 1 <= number <= 5:
                self.error("JD306", f"emotion `{value}` is outside 1..5", span_of(value),
                           help="1 is very unhappy, 3 neutral, 5 delighted")
                return None
            if number > MAX_MONEY:
                self._too_large(value, f"{key} `{_short(value)}`", "10^15 (1_000_000_000_000_000) in "
                                "the journey's currency")
                return None
            return build(Amount, mean=number, span=span_of(value))
        hint = ("1 is very unhappy, 3 neutral, 5 delighted" if key == "emotion"
                else "money is a plain number in the journey's currency, e.g. `49` or `1_250_000`")
        self.error("JD307", f"`{key}` takes a plain number", span_of(value), help=hint)
        return None

    # ------------------------------------------------------------ attributes
    def attributes(self, attrs: list[Tree]) -> Attributes:
        """The attributes of a step (a stage, a touchpoint, a scenario's override)."""
        out = build(Attributes)
        self._read_attributes(attrs, STEP_ATTRIBUTES, out, "step", need_value=True)
        return out

    def persona_attributes(self, attrs: list[Tree], persona: Persona) -> None:
        """A persona's `share` and notes, into the Persona. (Its `note`
        without a value reads as "takes a quoted text", not "needs a value".)"""
        self._read_attributes(attrs, _PERSONA_ATTRIBUTES, persona, "persona", need_value=False)

    def _read_attributes(self, attrs: list[Tree], known: dict[str, tuple[_Read, str]],
                         out: Attributes | Persona, where: str, need_value: bool) -> None:
        """Each attribute, by the reader `known` has for its key, into `out`."""
        for attr in attrs:
            key = str(attr.children[0])
            value = attr.children[1] if len(attr.children) > 1 else None
            reader = known.get(key)
            if reader is None:
                self._unknown_attribute(attr, tuple(known), where)
            elif not need_value or self._has_value(attr, value):
                read, field = reader
                read(self, attr, value, out, field)

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

    # One reader per kind of attribute value: it reports a bad value or puts
    # the value in `field` of `out`.
    def channel(self, attr: Tree, value: Item, out: Attributes, field: str) -> None:
        if not self._one_value(attr):
            return
        if isinstance(value, Token) and value.type in ("NAME", "STRING"):
            setattr(out, field, name(value) if value.type == "NAME" else label(value))
        else:
            self.error("JD307", "`channel` takes a name", span_of(value),
                       help="for example `channel email`")

    def set_number(self, attr: Tree, value: Item, out: Attributes, field: str) -> None:
        setattr(out, field, self.per_persona_number(attr, field))

    def set_margin(self, attr: Tree, value: Item, out: Attributes, field: str) -> None:
        """`margin 60% [persona: 40%]`: a rate per persona."""
        base = self.margin_rate(value)
        overrides = self.overrides(attr.children[2], self.margin_rate) \
            if len(attr.children) > 2 else []
        if base is not None:
            setattr(out, field, build(PerPersona, base=base, overrides=overrides,
                                      span=span_of(attr)))

    def margin_rate(self, value: Item) -> Amount | None:
        """A gross margin: one rate in [0, 100%] (no range, no beta: the
        margin is a fact of the price list, not a guess about customers)."""
        if isinstance(value, Token) and value.type == "DURATION":
            self.error("JD307", f"a margin is a rate, not the duration `{value}`",
                       span_of(value), help="for example `margin 60%`")
            return None
        if isinstance(value, Tree) and value.data in ("uniform", "beta"):
            self.error("JD307", "a margin is one rate, not a range or a distribution",
                       span_of(value), help="write the gross margin you expect, e.g. `margin 60%`")
            return None
        return self.rate(value)

    def set_text(self, attr: Tree, value: Item | None, out: Attributes, field: str) -> None:
        text = self.text(attr, value)
        if text is not None:
            setattr(out, field, text)

    def add_text(self, attr: Tree, value: Item | None, out: Attributes | Persona,
                 field: str) -> None:
        text = self.text(attr, value)
        if text is not None:
            getattr(out, field).append(text)

    def events(self, attr: Tree, value: Item | None, out: Attributes, field: str) -> None:
        """`event "NAME", "NAME" ...`: quoted names, none empty (which step an
        event means across the journey is checked in resolve.py: JD210)."""
        names = attr.children[1:]
        if not all(isinstance(n, Token) and n.type == "STRING" for n in names):
            wrong = next(n for n in names if not (isinstance(n, Token) and n.type == "STRING"))
            self.error("JD307", "`event` takes quoted event names", span_of(wrong),
                       help='for example `event "pricing_view", "pricing_calc_used"`')
            return
        for token in names:
            text = label(token)
            if not text.strip():
                self.error("JD307", "an event name cannot be empty", span_of(token),
                           help="write the event's name as the log has it")
                continue
            getattr(out, field).append(build(EventName, name=text, span=span_of(token)))

    def share(self, attr: Tree, value: Item | None, out: Persona, field: str) -> None:
        if self._no_overrides(attr) and self._has_value(attr, value):
            assert value is not None  # _has_value said so
            setattr(out, field, self.rate(value))

    # ------------------------------------------------------------ settings
    # `currency USD`, `horizon 3y`, `discount 10% per year`: the values after
    # the keyword (`whole` is the statement), read as the setting's value or None.
    def currency_code(self, values: list, whole: Span) -> str | None:
        if len(values) == 1 and isinstance(values[0], Token) and values[0].type == "NAME":
            return str(values[0])
        self.error("JD208", "`currency` takes a currency code", whole,
                   help="for example `currency USD` or `currency VND`")
        return None

    def horizon(self, values: list, whole: Span) -> float | None:
        days = self.duration(values[0]) if len(values) == 1 else None
        if len(values) != 1:
            self.error("JD208", "`horizon` takes one duration", whole,
                       help="for example `horizon 3y`")
        if days is None:
            return None
        if days <= 0:
            self.error("JD208", "`horizon` must be longer than zero", span_of(values[0]))
            return None
        return days

    def margin(self, values: list, whole: Span) -> float | None:
        if len(values) != 1:
            self.error("JD208", "`margin` takes one rate", whole,
                       help="for example `margin 60%`: the gross margin on every `value`")
            return None
        rate = self.margin_rate(values[0])
        return None if rate is None else rate.mean

    def discount(self, values: list, whole: Span) -> Discount | None:
        if (len(values) != 3 or not isinstance(values[1], Token) or values[1].type != "PER"
                or not isinstance(values[2], Token)):
            self.error("JD208", "`discount` takes a rate and a period", whole,
                       help="for example `discount 10% per year`")
            return None
        rate = self.rate(values[0])
        period = str(values[2])
        if period not in PERIOD_DAYS:
            guess = close_matches(period, PERIOD_DAYS, n=1)
            self.error("JD208", f"unknown discount period `{period}`", span_of(values[2]),
                       help=f"did you mean `{guess[0]}`?" if guess
                       else "use year, month, week or day")
            return None
        if rate is None:
            return None
        if rate.kind != "fixed":
            self.error("JD307", "the discount rate must be a single number", span_of(values[0]))
            return None
        return build(Discount, rate=rate.mean, period=period, span=whole)

    # ------------------------------------------------------------ numbers
    def move_rate(self, value: Item) -> Amount | None:
        """A transition's rate: a rate, or `beta(a, b) per customer` /
        `LO..HI per customer` (each prospect draws its own rate once)."""
        if not (isinstance(value, Tree) and value.data == "per_customer"):
            return self.rate(value)
        amount = self.rate(value.children[0])
        if amount is None:
            return None
        span = Span(amount.span.start, self._per_customer_span(value).end)
        if amount.kind == "fixed":
            self.error("JD307", "`per customer` needs a rate that differs between customers",
                       span, help=f"for example `beta(9, 1) per customer` (mean 90%) or "
                       f"`{_range_example(amount.mean)} per customer`")
            return None
        return build(Amount, kind=amount.kind, mean=amount.mean, low=amount.low,
                     high=amount.high, alpha=amount.alpha, beta=amount.beta,
                     per_customer=True, span=span)

    def _per_customer_span(self, value: Tree) -> Span:
        """`... per customer` whole: the `customer` keyword is not kept in the tree."""
        end = self.source.text.find("customer", value.end)
        return Span(value.start, end + len("customer") if end >= 0 else value.end)

    def entry_rate(self, value: Item) -> Amount | None:
        """An entry's rate: a rate, never `per customer`."""
        return self.rate(value) if self._not_per_customer(value, "an entry rate") else None

    def _not_per_customer(self, value: Item, what: str) -> bool:
        """Report `per customer` where it means nothing (an entry, a share, a
        referral count): True when the value is not one."""
        if isinstance(value, Tree) and value.data == "per_customer":
            self.error("JD307", f"{what} cannot be `per customer`",
                       self._per_customer_span(value),
                       help="only a transition's rate can differ between customers, e.g. "
                            "`paying -> paying beta(9, 1) per customer after 1mo`")
            return False
        return True

    def rate(self, value: Item) -> Amount | None:
        """A probability: `30%`, `0.3`, `20%..30%` or `beta(a, b)`."""
        if not self._not_per_customer(value, "this rate"):
            return None
        if isinstance(value, Tree) and value.data == "uniform":
            return self.uniform(value, self.rate, "rate")
        if isinstance(value, Tree) and value.data == "beta":
            a, b = (_number(v) for v in value.children)
            for v, x in zip(value.children, (a, b)):
                if x > MAX_BETA:
                    self._too_large(v, f"beta parameter `{_short(v)}`", "10^9 observations")
                    return None
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

    def uniform(self, value: Tree, convert: Convert, what: str) -> Amount | None:
        """`low..high`, each end converted like a plain value."""
        low, high = [convert(v) for v in value.children]  # both ends report their problems
        if low is None or high is None:
            return None
        if low.mean > high.mean:
            self.error("JD310", "the range is reversed: its low end is above its high end",
                       span_of(value), help=f"write the lower {what} first")
            return None
        return build(Amount, kind="uniform", mean=(low.mean + high.mean) / 2, low=low.mean,
                     high=high.mean, span=span_of(value))

    def count(self, value: Item) -> Amount | None:
        """A referral count: a non-negative number, a range or beta."""
        if not self._not_per_customer(value, "a referral count"):
            return None
        if isinstance(value, Tree) and value.data == "uniform":
            return self.uniform(value, self.count, "number")
        if isinstance(value, Tree) and value.data == "beta":
            return self.rate(value)
        if isinstance(value, Token) and value.type in ("NUMBER", "PERCENT"):
            number = _number(value) / (100 if value.type == "PERCENT" else 1)
            if number > MAX_REFERRALS:
                self._too_large(value, f"referral count `{_short(value)}`",
                                "1_000_000 prospects per visit")
                return None
            return build(Amount, mean=number, span=span_of(value))
        self.error("JD307", f"expected the number of prospects referred, found `{value}`",
                   span_of(value), help="for example `paying => invite 0.05`")
        return None

    def duration(self, value: Item) -> float | None:
        if isinstance(value, Token) and value.type == "DURATION":
            text = value.replace("_", "")
            unit = "mo" if text.endswith("mo") else text[-1]
            days = float(text[: -len(unit)]) * DAYS[unit]
            if days > MAX_DAYS:
                self._too_large(value, f"duration `{_short(value)}`", "1,000 years (`1000y`)")
                return None
            if 0 < days < SECOND_DAYS * (1 - 1e-9):
                self.error("JD313", f"duration `{value}` is shorter than one second",
                           span_of(value), help="time is counted in whole seconds: write `0h` "
                           "for no delay, or at least one second (`0.0003h`)")
                return None
            return days
        if isinstance(value, Token) and value.type == "NUMBER":
            self.error("JD307", f"`{value}` needs a time unit", span_of(value),
                       help=f"did you mean `{value}d`? Units: h, d, w, mo (30 days), y (365 days)")
            return None
        self.error("JD307", "expected a duration such as `14d`", span_of(value))
        return None

    def overrides(self, tree: Tree, convert: Convert) -> list[Override]:
        out = []
        for item in tree.children:
            persona, value = item.children
            amount = convert(value)
            if amount is not None:
                out.append(build(Override, persona=name(persona), persona_span=span_of(persona),
                                    amount=amount, span=span_of(item)))
        return out

    # ------------------------------------------------------------ flow targets, expect
    def _per_persona(self, tree: Tree, quantity: Item, overrides: Tree | None,
                     convert: Convert) -> PerPersona | None:
        base = convert(quantity)
        extra = self.overrides(overrides, convert) if overrides is not None else []
        if base is None:
            return None
        return build(PerPersona, base=base, overrides=extra, span=span_of(tree))

    def expect_value(self, quantity: Item, unit: str, metric: str) -> float | None:
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
        if kind == "NUMBER" and isinstance(quantity, Token):
            number = _number(quantity)
            if number > MAX_MONEY:
                self._too_large(quantity, f"`{_short(quantity)}`", "10^15")
                return None
            return number
        self.error("JD309", f"`{metric}` compares with a plain number", span_of(quantity),
                   help=f"write the number without a unit, e.g. `{metric} >= 3`" if kind ==
                   "PERCENT" else None)
        return None


# ---------------------------------------------------------------- attribute tables
# Attributes are dispatched on their key: its reader, and the field it fills.

#: A reader of an attribute's value: (reader, attribute, value, into, field).
_Read = Callable[[ValueReader, Tree, Any, Any, str], None]

#: The attributes of a step, in the order the "known attributes" help lists them.
STEP_ATTRIBUTES: dict[str, tuple[_Read, str]] = {
    "channel": (ValueReader.channel, "channel"),
    "owner": (ValueReader.set_text, "owner"),
    "emotion": (ValueReader.set_number, "emotion"),
    "value": (ValueReader.set_number, "value"),
    "cost": (ValueReader.set_number, "cost"),
    "margin": (ValueReader.set_margin, "margin"),
    "pain": (ValueReader.add_text, "pains"),
    "opportunity": (ValueReader.add_text, "opportunities"),
    "objective": (ValueReader.set_text, "objective"),
    "note": (ValueReader.add_text, "notes"),
    "event": (ValueReader.events, "events"),
}
#: The attributes about one step, which a stage with touchpoints is not.
PER_STEP = frozenset(k for k, (read, _) in STEP_ATTRIBUTES.items()
                     if read in (ValueReader.set_number, ValueReader.events))
#: Attributes a step may have several of, one per line.
_LIST_KEYS = frozenset(k for k, (read, _) in STEP_ATTRIBUTES.items()
                       if read is ValueReader.add_text)
_PERSONA_ATTRIBUTES: dict[str, tuple[_Read, str]] = {
    "share": (ValueReader.share, "share"),
    "note": (ValueReader.add_text, "notes"),
}
#: The attributes a persona takes (for editors' completion).
PERSONA_ATTRIBUTES = tuple(_PERSONA_ATTRIBUTES)

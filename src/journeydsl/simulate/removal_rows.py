"""The rows of an attribution: `Removal` (one step or channel taken out),
their removal effects and shares, and their order.

Without a horizon a row's money fields (revenue and profit) are made when
one of them is first read, for every row of its table at once (one
batched solve): most readers want conversion alone (the report's channel
chart), and the money of a large journey's channels costs as much as
their conversion. The order of the rows is by conversion effect, then
revenue effect, then profit effect: rows whose conversion effects tie have
their money effects made here, for the order (the same numbers as the
whole table's).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

#: The money metrics, in the order of the solvers' columns.
MONEY = ("revenue", "profit")

#: Removal's money fields: made when one of a row's is first read (`_MoneyRows`).
_MONEY_FIELDS = ("revenue_without", "revenue_effect", "revenue_share",
                 "profit_without", "profit_effect", "profit_share")


@dataclass(frozen=True)
class Removal:
    """One step or channel taken out of the journey.

    The conversion fields keep their version 1 names (`removal_effect`,
    `share`); revenue and profit have theirs prefixed. An effect is None
    when its metric is 0 (nothing to lose), a share when no removal lowers
    its metric. Without a horizon the money fields of `attribution`'s rows
    are solved when one of them is first read (the same numbers)."""

    # The money fields' defaults are factories so that the class has no
    # attribute of their name: a row whose money is not solved yet lacks
    # them, and reading one goes to __getattr__.
    name: str | None  # step id, or channel id (None: steps without a channel)
    conversion_without: float
    removal_effect: float | None  # (conversion - conversion_without) / conversion
    share: float | None  # removal_effect / sum of removal effects in its group
    steps: tuple[str, ...]  # the steps removed
    revenue_without: float = field(default_factory=float)
    # (revenue - revenue_without) / revenue
    revenue_effect: float | None = field(default_factory=lambda: None)
    revenue_share: float | None = field(default_factory=lambda: None)
    profit_without: float = field(default_factory=float)
    # (profit - profit_without) / |profit|; may be < 0
    profit_effect: float | None = field(default_factory=lambda: None)
    # profit_effect / sum of the positive ones
    profit_share: float | None = field(default_factory=lambda: None)

    if not TYPE_CHECKING:  # (mypy would take any attribute name for a field)
        def __getattr__(self, name: str) -> Any:
            """A money field not made yet: its table's made now, every row's."""
            later = self.__dict__.get("_later")
            if later is None or name not in _MONEY_FIELDS:
                raise AttributeError(name)
            later.fill()
            return self.__dict__[name]

    def __getstate__(self) -> dict:
        """Pickled and copied with its money, not the table waiting to make
        it (whose fill would not reach a copy)."""
        self.revenue_without  # noqa: B018 (made now)
        return {k: v for k, v in self.__dict__.items() if k != "_later"}

    def as_dict(self) -> dict:
        return {"conversion_without": self.conversion_without,
                "removal_effect": self.removal_effect, "share": self.share,
                "revenue_without": self.revenue_without,
                "revenue_removal_effect": self.revenue_effect,
                "revenue_share": self.revenue_share,
                "profit_without": self.profit_without,
                "profit_removal_effect": self.profit_effect,
                "profit_share": self.profit_share,
                "steps": list(self.steps)}


#: A removal effect within this of 0 is 0 (the rounding of a difference of
#: two near-equal totals, e.g. a step that earns nothing and costs nothing).
_NOISE = 1e-12


#: What `_removal` sets: Removal's fields but the money ones, then the table
#: that makes those (`_MoneyRows`).
_ROW_KEYS = (*(f.name for f in fields(Removal) if f.name not in _MONEY_FIELDS), "_later")


def _removal(values: tuple) -> Removal:
    """A Removal whose money fields are made when first read, its other
    fields set at once: a frozen dataclass's __init__ sets each field
    through object.__setattr__, which for a journey's thousand steps costs
    more than computing their effects."""
    removal = object.__new__(Removal)
    removal.__dict__.update(zip(_ROW_KEYS, values))
    return removal


def _effects(base: float, without: np.ndarray, signed: bool):
    """Removal effects (X - X without) / |X| and their shares (by the sum of
    the positive effects), as lists; None where undefined. `signed` False:
    the effect cannot be negative, and a negative one is rounding. (Numpy
    does each step's float arithmetic as Python would: the same numbers,
    without a Python loop over the steps.)"""
    if base == 0 or not math.isfinite(base):
        return [None] * len(without), [None] * len(without)
    effects = (base - np.asarray(without, float)) / abs(base)
    effects[(np.abs(effects) < _NOISE) | ((effects < 0) & (not signed))] = 0.0
    total = math.fsum(effects[effects > 0].tolist())
    shares = (effects / total).tolist() if total > 0 else [None] * len(effects)
    return effects.tolist(), shares


class _MoneyRows:
    """The money fields of one table of removals (the steps, or the
    channels), made for all its rows at once when first asked for."""

    def __init__(self, solve: Callable[[], tuple[np.ndarray, np.ndarray]],
                 solve_at: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
                 ) -> None:
        self.solve: Callable[[], tuple[np.ndarray, np.ndarray]] | None = solve
        self.solve_at = solve_at  # (base, without) of some rows, if they can be had alone
        self.rows: list[Removal] = []
        self.effects: tuple[list, list] = ([], [])  # revenue and profit effects

    def fill(self) -> None:
        """Make the money fields and set them on every row (a row then
        reads them as its other fields)."""
        if self.solve is None:
            return
        base, without = self.solve()
        (rev, rev_share), (prof, prof_share) = (
            _effects(float(base[j]), without[:, j], signed=metric == "profit")
            for j, metric in enumerate(MONEY))
        for row, (r_without, p_without), r, r_share, p, p_share in zip(
                self.rows, np.asarray(without, float).tolist(), rev, rev_share, prof, prof_share):
            row.__dict__.update(zip(_MONEY_FIELDS, (r_without, r, r_share, p_without, p, p_share)))
        self.effects = (rev, prof)
        # Made (only now: a fill that raised is tried again): the solvers'
        # factors and chains are not needed any more, nor the rows, whose
        # `_later` points back here (a cycle that would keep them alive).
        self.solve = self.solve_at = None
        self.rows = []

    def effects_at(self, at: list[int]) -> tuple[list, list]:
        """The revenue and profit effects of the rows `at` (an effect is
        elementwise: the same numbers as in the whole table)."""
        if self.solve is not None and self.solve_at is not None:
            base, without = self.solve_at(np.asarray(at, np.int64))
            rev, prof = (_effects(float(base[j]), without[:, j], signed=metric == "profit")[0]
                         for j, metric in enumerate(MONEY))
            return rev, prof
        self.fill()
        return [self.effects[0][i] for i in at], [self.effects[1][i] for i in at]


def rows(named, base: float, without: np.ndarray,
         money: Callable[[], tuple[np.ndarray, np.ndarray]],
         money_at: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None) -> dict:
    """Removals keyed by name: by conversion effect, largest first, then by
    revenue effect, then by profit effect (post-conversion steps carry no
    conversion but money). The money fields are made when first read; the
    money effects of rows whose conversion effects tie are made here, for
    their order (`money_at`: theirs alone, else the whole table's)."""
    conv, conv_share = _effects(base, without, signed=False)
    later = _MoneyRows(money, money_at)
    made = later.rows = [_removal((name, w, conv[i], conv_share[i], members, later))
                         for i, ((name, members), w) in enumerate(zip(named, without.tolist()))]
    keys: list = [-(c or 0.0) for c in conv]
    if len(set(keys)) < len(keys):  # a tie: broken by the money effects
        counts = Counter(keys)
        tied = [i for i, key in enumerate(keys) if counts[key] > 1]
        rev, prof = later.effects_at(tied)
        # a row that ties with none is ordered by its conversion effect alone
        keys = [(key, 0.0, 0.0) for key in keys]
        for i, r, p in zip(tied, rev, prof):
            keys[i] = (keys[i][0], -(r or 0.0), -(p or 0.0))
    order = sorted(range(len(made)), key=keys.__getitem__)
    return {made[i].name: made[i] for i in order}


__all__ = ["Removal", "rows"]

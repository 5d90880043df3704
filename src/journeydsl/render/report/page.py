"""The report's HTML: the page skeleton and its print-friendly CSS, tables
and figures. Every user string passes `esc` (HTML-escaped, quotes
included); SVG comes from our own writers or vl-convert, which escape their
own text."""

from __future__ import annotations

import html

from ...display import lines_shown
from ..text import isolates

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--navy:#243b53;--pass:#1b7837;--fail:#b42318}
*{box-sizing:border-box}
body{margin:0;font-family:'DejaVu Sans',Verdana,'Liberation Sans',Arial,sans-serif;
  color:var(--ink);background:#f5f7fa;line-height:1.45;font-size:15px}
header{background:var(--navy);color:#fff;padding:28px 40px 24px}
header h1{margin:0 0 6px;font-size:28px}
header p{margin:2px 0;color:#d9e2ec}
main{max-width:1280px;margin:0 auto;padding:24px 32px 48px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;margin:0 0 24px;
  padding:20px 24px;break-inside:avoid-page}
section.wide{max-width:none}
h2{margin:0 0 4px;font-size:21px}
p.note{margin:0 0 14px;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fbfcfd}
.card .label{color:var(--muted);font-size:13px}
.card .value{font-size:24px;font-weight:bold;margin-top:4px}
figure{margin:0}
figure svg{max-width:100%;height:auto;display:block}
.scroll{overflow-x:auto}
.board svg{width:100%;height:auto;display:block}
.map svg{height:auto;display:block}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:bold;background:#f8fafc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:13px;
  font-weight:bold}
.pass{background:var(--pass)}.fail{background:var(--fail)}
details{margin-top:10px}
summary{cursor:pointer;color:var(--muted)}
footer{color:var(--muted);font-size:13px;text-align:center;padding:0 0 32px}
@media print{
  body{background:#fff;font-size:11pt}
  header{background:#fff;color:var(--ink);border-bottom:2px solid var(--navy);padding:0 0 8px}
  header p{color:var(--muted)}
  main{max-width:none;padding:0}
  section{border:none;padding:8px 0;margin:0 0 12px;page-break-inside:avoid}
  section.board,section.map{page-break-before:always}
  details{display:none}
  .scroll{overflow:visible}
  .map svg{width:100% !important;max-width:100% !important}
  .board svg{width:auto;height:auto;max-width:100%;max-height:170mm;margin:0 auto}
}
@page{size:A4 landscape;margin:12mm}
"""


def esc(text: object) -> str:
    """Text for HTML: control, bidi and invisible characters shown as their
    escapes (`journeydsl.display`), then HTML-escaped, quotes included."""
    return isolates(html.escape(lines_shown(str(text)), quote=True))


def page(title: str, subtitle: list[str], body: list[str], footer: str, lang: str) -> str:
    lines = "".join(f"<p>{esc(s)}</p>" for s in subtitle)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{esc(title)}</h1>{lines}</header>\n<main>\n"
            + "\n".join(body)
            + f"\n</main>\n<footer>{esc(footer)}</footer>\n</body>\n</html>\n")


def section(key: str, title: str, note: str, content: str) -> str:
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    heading = f"<h2>{esc(title)}</h2>" if title else ""
    return (f'<section class="{key}" id="{key}">{heading}{note_html}\n'
            f"{content}\n</section>")


def table(headers: list[str], rows: list[list], numeric: set[int] | None = None) -> str:
    """A table; cells are escaped unless given as `Raw`."""
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell.html if isinstance(cell, Raw) else esc(cell)
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw:
    """HTML we made ourselves (a badge), not user text."""

    def __init__(self, html_text: str) -> None:
        self.html = html_text


def figure(svg: str, caption: str, data_table: str, data_word: str) -> str:
    """A chart with its data as a table underneath (folded; printed charts
    carry their values as labels)."""
    return (f'<figure class="chart" aria-label="{esc(caption)}"><div class="scroll">{svg}</div>'
            f"<details><summary>{esc(data_word)}</summary>{data_table}</details></figure>")


def badge(passed: bool, word: str) -> Raw:
    return Raw(f'<span class="badge {"pass" if passed else "fail"}">{esc(word)}</span>')

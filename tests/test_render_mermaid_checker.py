"""A small checker for the Mermaid we write, following Mermaid's own grammar.

Journey: the lexer rules of mermaid's `journey.jison` (case-insensitive,
first rule wins), applied after Mermaid's `encodeEntities` preprocessing
(`#\\w+;` becomes a placeholder, so escaped characters never reach the
lexer), then the grammar `statement: title | section | taskName taskData`
and `journeyDb.addTask` (score before the second `:`, actors split at `,`).
Flowchart: the subset we emit (YAML front matter with a JSON-quoted
`title:`, `flowchart LR`, `%%` comments, subgraphs with quoted titles,
`direction`, quoted node shapes, `-->|"t"|`, `-.->|"t"|`, `---`, `classDef`,
`class`, `linkStyle`), each quoted string free of `"`. Like Mermaid, a node
label's `\\n` (after entities are decoded) is a line break.

Both return what Mermaid would see with the entities decoded, so tests can
compare names with the journey's labels.
"""

from __future__ import annotations

import html
import json
import re


class MermaidError(ValueError):
    pass


_ENTITY = re.compile(r"#(\w+);")


def encode_entities(text: str) -> str:
    """Mermaid's preprocessing: `#59;` -> placeholder (no `#`, `;` left)."""
    def repl(m: re.Match) -> str:
        inner = m.group(1)
        return ("\ufb02\u00b0\u00b0" if re.fullmatch(r"\+?\d+", inner) else "\ufb02\u00b0") \
            + inner + "\u00b6\u00df"
    return _ENTITY.sub(repl, text)


def decode(text: str) -> str:
    """Placeholders back to characters (as Mermaid's decodeEntities + the browser)."""
    text = text.replace("\ufb02\u00b0\u00b0", "&#").replace("\ufb02\u00b0", "&")
    return html.unescape(text.replace("\u00b6\u00df", ";"))


# journey.jison lexer rules (in order; the first match wins, like jison's default)
_JOURNEY_RULES = [
    ("COMMENT", re.compile(r"%%(?!\{)[^\n]*")),
    ("COMMENT", re.compile(r"[^}]%%[^\n]*")),
    ("NEWLINE", re.compile(r"\n+")),
    ("SKIP", re.compile(r"\s+")),
    ("COMMENT", re.compile(r"#[^\n]*")),
    ("journey", re.compile(r"journey", re.IGNORECASE)),
    ("title", re.compile(r"title\s[^#\n;]+", re.IGNORECASE)),
    ("acc", re.compile(r"accTitle\s*:\s*|accDescr\s*[:{]\s*", re.IGNORECASE)),
    ("section", re.compile(r"section\s[^#:\n;]+", re.IGNORECASE)),
    ("taskName", re.compile(r"[^#:\n;]+")),
    ("taskData", re.compile(r":[^#\n;]+")),
    (":", re.compile(r":")),
    ("INVALID", re.compile(r".")),
]


def lex_journey(text: str) -> list[tuple[str, str]]:
    text = encode_entities(text)
    tokens, pos = [], 0
    while pos < len(text):
        for kind, rule in _JOURNEY_RULES:
            m = rule.match(text, pos)
            if m and m.end() > pos:
                if kind not in ("SKIP", "COMMENT"):
                    tokens.append((kind, m.group(0)))
                pos = m.end()
                break
    return tokens


def parse_journey(text: str) -> dict:
    """{"title", "sections": [(name, [(task, score, [actors])])]} or MermaidError."""
    tokens = lex_journey(text)
    if not tokens or tokens[0][0] != "journey":
        raise MermaidError("does not start with `journey`")
    result = {"title": None, "sections": []}
    i = 1
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "NEWLINE":
            i += 1
        elif kind == "title":
            if result["title"] is not None or result["sections"]:
                raise MermaidError(f"a second title (a task lexed as one?): {value!r}")
            result["title"] = decode(value[6:]).strip()
            i += 1
        elif kind == "section":
            result["sections"].append((decode(value[8:]).strip(), []))
            i += 1
        elif kind == "taskName":
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "taskData":
                raise MermaidError(f"task without data: {value!r}")
            if not result["sections"]:
                raise MermaidError("task before any section")
            pieces = tokens[i + 1][1][1:].split(":")
            if len(pieces) > 2:
                raise MermaidError(f"too many `:` in {tokens[i + 1][1]!r}")
            try:
                score = int(pieces[0].strip())
            except ValueError:
                raise MermaidError(f"score is not a number: {pieces[0]!r}") from None
            if not 1 <= score <= 5:
                raise MermaidError(f"score outside 1..5: {score}")
            actors = [decode(a).strip() for a in pieces[1].split(",")] if len(pieces) > 1 else []
            result["sections"][-1][1].append((decode(value).strip(), score, actors))
            i += 2
        else:
            raise MermaidError(f"unexpected {kind} {value!r}")
    return result


_ID = r"[A-Za-z][A-Za-z0-9_]*"
_Q = r'"([^"]*)"'
_FLOW_LINES = [
    ("node", re.compile(rf"^({_ID})(?:\[{_Q}\]|\[\[{_Q}\]\]|\(\[{_Q}\]\))$")),
    ("edge", re.compile(rf"^({_ID}) (-->|-\.->)\|{_Q}\| ({_ID})$")),
    ("link", re.compile(rf"^({_ID}) --- ({_ID})$")),
    ("subgraph", re.compile(rf"^subgraph ({_ID})\[{_Q}\]$")),
    ("end", re.compile(r"^end$")),
    ("direction", re.compile(r"^direction (TB|LR)$")),
    ("classDef", re.compile(rf"^classDef ({_ID}) ([a-z-]+:[#0-9a-z]+(?:,[a-z-]+:[#0-9a-z]+)*)$")),
    ("class", re.compile(rf"^class ({_ID}(?:,{_ID})*) ({_ID})$")),
    ("linkStyle", re.compile(r"^linkStyle (\d+(?:,\d+)*) "
                             r"([a-z-]+:[#0-9a-z]+(?:,[a-z-]+:[#0-9a-z]+)*)$")),
]
_RESERVED = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click",
             "direction", "linkStyle"}


def _front_matter(lines: list[str]) -> tuple[str | None, list[str]]:
    """(the title of a leading `---` block, the lines after it)."""
    if not lines or lines[0] != "---":
        return None, lines
    try:
        end = lines.index("---", 1)
    except ValueError:
        raise MermaidError("unclosed front matter") from None
    title = None
    for line in lines[1:end]:
        key, _, value = line.partition(": ")
        if key != "title" or not value.startswith('"'):
            raise MermaidError(f"front matter line we do not write: {line!r}")
        title = json.loads(value)
        if "<" in title:  # Mermaid's sanitizer drops or mangles it
            raise MermaidError(f"`<` in the title: {title!r}")
    return title, lines[end + 1:]


def parse_flowchart(text: str) -> dict:
    """{"title", "subgraphs": [(id, title, [node ids])], "nodes": {id: text},
    "edges": [(a, arrow, text, b)], "links": [(a, arrow, b)] in Mermaid's
    numbering, "link_styles": {number: style}}."""
    title, lines = _front_matter(text.split("\n"))
    if not lines or lines[0] != "flowchart LR":
        raise MermaidError("does not start with `flowchart LR`")
    result: dict = {"title": title, "subgraphs": [], "nodes": {}, "edges": [], "links": [],
                    "link_styles": {}}
    open_graph = None
    for raw in lines[1:]:
        line = raw.strip()
        if not line or line.startswith("%%"):
            if line.startswith("%%{"):
                raise MermaidError("a directive, not a comment")
            continue
        bare = encode_entities(line)
        if not line.startswith(("classDef", "linkStyle")) and (";" in bare or "#" in bare):
            raise MermaidError(f"raw `;` or `#` in {line!r}")
        for kind, rule in _FLOW_LINES:
            m = rule.match(line)
            if m:
                break
        else:
            raise MermaidError(f"not flowchart syntax: {line!r}")
        groups = [g for g in m.groups() if g is not None]
        for g in groups:
            if re.fullmatch(_ID, g) and g in _RESERVED:
                raise MermaidError(f"reserved word as id: {g}")
        if kind == "node":
            label = decode(encode_entities(groups[1])).replace("\\n", "<br/>")
            result["nodes"][groups[0]] = label
            if open_graph is not None:
                open_graph[2].append(groups[0])
        elif kind == "edge":
            result["edges"].append((groups[0], groups[1], decode(encode_entities(groups[2])),
                                    groups[3]))
            result["links"].append((groups[0], groups[1], groups[3]))
        elif kind == "link":
            result["links"].append((groups[0], "---", groups[1]))
        elif kind == "linkStyle":
            for number in groups[0].split(","):
                if int(number) in result["link_styles"]:
                    raise MermaidError(f"link {number} styled twice")
                result["link_styles"][int(number)] = groups[1]
        elif kind == "subgraph":
            if open_graph is not None:
                raise MermaidError("nested subgraph")
            open_graph = (groups[0], decode(encode_entities(groups[1])), [])
        elif kind == "end":
            if open_graph is None:
                raise MermaidError("`end` without subgraph")
            result["subgraphs"].append(open_graph)
            open_graph = None
    if open_graph is not None:
        raise MermaidError("unclosed subgraph")
    if any(n >= len(result["links"]) for n in result["link_styles"]):
        raise MermaidError("linkStyle of a link that does not exist")
    return result


# ------------------------------------------------------- the checker's own tests
import pytest


def test_checker_reads_mermaid_docs_example():
    parsed = parse_journey("journey\n  title My working day\n  section Go to work\n"
                           "    Make tea: 5: Me\n    Do work: 1: Me, Cat\n")
    assert parsed["title"] == "My working day"
    assert parsed["sections"] == [("Go to work", [("Make tea", 5, ["Me"]),
                                                  ("Do work", 1, ["Me", "Cat"])])]


@pytest.mark.parametrize("bad", [
    "journey\n  section A\n    a; b: 3: Me\n",  # `;` ends the statement
    "journey\n  section A\n    a: b: 3: Me\n",  # `:` inside the name
    "journey\n  section A\n    Title of it: 3: Me\n",  # a keyword starts the task
    "journey\n  section A\n    C# book: 3: Me\n",  # `#` cuts the line
    "journey\n  section A\n    t: 9: Me\n",
])
def test_checker_rejects_what_mermaid_rejects(bad):
    with pytest.raises(MermaidError):
        parse_journey(bad)


def test_checker_decodes_entities():
    parsed = parse_journey("journey\n  section A#58; b\n    x#59; y#35;1#44; z: 3: P#44;Q\n")
    assert parsed["sections"] == [("A: b", [("x; y#1, z", 3, ["P,Q"])])]


@pytest.mark.parametrize("bad", [
    'flowchart LR\n  n0["a"b"]\n',
    'flowchart LR\n  subgraph s0["x"]\n',
    'flowchart LR\n  end["x"]\n',
    'flowchart LR\n  n0 -->|"a;b"| n1\n',
    '---\ntitle: "x"\nflowchart LR\n',  # unclosed front matter
    '---\ntitle: "a <b> c"\n---\nflowchart LR\n',  # a tag in the title
    'flowchart LR\n  n0 --- n1\n  linkStyle 1 stroke:#000000\n',  # no link 1
])
def test_flowchart_checker_rejects(bad):
    with pytest.raises(MermaidError):
        parse_flowchart(bad)


def test_flowchart_checker_reads_front_matter_and_line_breaks():
    parsed = parse_flowchart('---\ntitle: "A \\"b\\" #59;"\n---\nflowchart LR\n'
                             '  n0["x#92;ny"]\n  n1["x#92;#8288;ny"]\n  n0 --- n1\n'
                             '  linkStyle 0 stroke:#b42318\n')
    assert parsed["title"] == 'A "b" #59;'  # YAML: no entities in the title
    assert parsed["nodes"] == {"n0": "x<br/>y", "n1": "x\\\u2060ny"}
    assert parsed["links"] == [("n0", "---", "n1")]
    assert parsed["link_styles"] == {0: "stroke:#b42318"}

"""`--view emotion`: the board's emotion curve as a Graphviz picture. Points
follow each persona's most likely path (alternative entries never joined),
a step without an emotion is `n/a` and breaks the line, equal lines are
offset, and the legend names each persona by its label."""

from __future__ import annotations

import re

import journeydsl
from journeydsl.render.emotion import OFFSET, emotion_dot

TWO_ENTRIES = '''journey "j" {
  persona a "Alpha" { share 50% }
  persona b "Beta" { share 50% }
  stage s1 "One" { touchpoint x "Ex" { emotion 2 } ; touchpoint y "Why" { emotion 4 } }
  stage s2 "Two" { touchpoint m "Em" ; touchpoint n "En" { emotion 1 } }
  stage s3 "Three" { touchpoint g "Gee" { emotion 5 } }
  stage s4 "Four" { touchpoint z "Zed" { emotion 3 } }
  entry x 70%, y 30%
  x -> m 50%, n 10%
  y -> n 50%
  m -> g 50%
  n -> g 50%
  goal g
}'''


def _points(dot: str, k: int) -> dict[str, tuple[float, float]]:
    return {name: (float(x), float(y)) for name, x, y in re.findall(
        rf'"(#e{k}_\d+)" \[[^\]]*pos="([\d.]+),([\d.]+)!"', dot)}


def _edges(dot: str, k: int) -> list[tuple[str, str, str]]:
    return re.findall(rf'"(#e{k}_\d+)" -> "(#e{k}_\d+)" \[([^\]]*)\]', dot)


def test_points_follow_the_most_likely_path():
    dot = emotion_dot(journeydsl.loads(TWO_ENTRIES).journey)
    # the path is x -> m -> g; y and n are on no path: no slot, no point
    labels = re.findall(r'"#s\d+" \[label="([^"]+)"', dot)
    assert labels == ["Ex", "Em", "Gee"]
    for k in (0, 1):
        points = _points(dot, k)
        assert len(points) == 2  # x and g; m has no emotion
        # m (n/a) breaks the line: x and g are not joined, nothing bridges the gap
        assert _edges(dot, k) == []
    assert dot.count('label="n/a"') == 1
    assert "Four" in dot  # a stage on no path keeps its band


def test_alternative_entries_are_never_joined():
    # two entries in one stage, both with emotions: only the path's is drawn
    c = journeydsl.loads('''journey "j" {
      stage a { touchpoint e1 "First" { emotion 1 } ; touchpoint e2 "Second" { emotion 5 } }
      stage b { touchpoint g "Goal" { emotion 3 } }
      entry e1 60%, e2 40%
      e1 -> g 50%
      e2 -> g 50%
      goal g
    }''')
    dot = emotion_dot(c.journey)
    points = _points(dot, 0)
    assert sorted(y for _, y in points.values()) == [62.0, 186.0]  # emotion 1 and 3
    assert "Second" not in dot
    assert len(_edges(dot, 0)) == 1


def test_equal_lines_offset_and_persona_labels():
    c = journeydsl.loads(TWO_ENTRIES.replace("x -> m 50%", "x -> m 50%").replace(
        'touchpoint m "Em"', 'touchpoint m "Em" { emotion 3 }'))
    dot = emotion_dot(c.journey)
    a, b = _points(dot, 0), _points(dot, 1)
    assert len(a) == len(b) == 3
    assert [y for _, y in a.values()] == [y - OFFSET for _, y in b.values()]
    assert all("style" not in attrs for *_, attrs in _edges(dot, 0))  # solid: a path forward
    assert "━━ Alpha" in dot and "━━ Beta" in dot


def test_a_move_back_is_dashed():
    # after the goal the path goes on to a later step only; a step in an
    # earlier stage reached first (a referral drawn in advocacy) goes back
    c = journeydsl.loads('''journey "j" {
      stage a { touchpoint need "Need" { emotion 2 } }
      stage b { touchpoint buy "Buy" { emotion 4 } }
      stage c { touchpoint friend "Friend" { emotion 5 } }
      entry need
      need -> friend 80%
      friend -> buy 50%
      goal buy
    }''')
    dot = emotion_dot(c.journey)
    edges = _edges(dot, 0)
    assert len(edges) == 2 and "dashed" in edges[1][2] and "dashed" not in edges[0][2]


def test_same_curve_as_the_board():
    from journeydsl.render.board import board_svg

    j = journeydsl.loads(TWO_ENTRIES).journey
    svg = board_svg(j)
    assert svg.count(">n/a<") == emotion_dot(j).count('label="n/a"') == 1

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


JUMPS = '''journey "j" {
  stage a { touchpoint need "Need" { emotion 2 } }
  stage b { touchpoint buy "Buy" { emotion 4 } }
  stage c { touchpoint friend "Friend" { emotion 5 } }
  entry need
  need -> friend 80%
  friend -> buy 50%
  goal buy
}'''


def _hops(dot: str, k: int) -> list[list[str]]:
    """Each jump of persona k as its chain: source point, two corners, target."""
    edges = re.findall(rf'"(#[eh]{k}_[\w]+)" -> "(#[eh]{k}_[\w]+)" \[([^\]]*)\]', dot)
    chains, chain = [], []
    for a, b, attrs in edges:
        if "dashed" not in attrs:
            continue
        chain = chain + [a] if chain else [a]
        if b.startswith("#e"):
            chains.append(chain + [b])
            chain = []
            assert "arrowhead=normal" in attrs  # the arrowhead lands on the target
    return chains


def test_jumps_hop_over_the_curve():
    # Need (stage a) -> Friend (stage c) -> Buy (stage b): the move to the
    # friend passes over stage b, which has a point of its own (Buy), and
    # the move to Buy goes back: both are dashed hops above level 5, never
    # a straight line through other points (lifecycle_activities drew one
    # from Need recognition across the whole curve to Advocacy)
    from journeydsl.render.emotion import DY

    dot = emotion_dot(journeydsl.loads(JUMPS).journey)
    assert _edges(dot, 0) == []  # no straight line between two points
    hops = _hops(dot, 0)
    assert len(hops) == 2 and all(len(chain) == 4 for chain in hops)
    corners = {name: float(y) for name, y in re.findall(
        r'"(#h0_\w+)" \[[^\]]*pos="[\d.]+,([\d.]+)!"', dot)}
    assert len(corners) == 4 and all(y > DY * 5 for y in corners.values())
    assert len(set(corners.values())) == 2  # the two jumps at two heights


def test_a_forward_move_over_an_empty_stage_is_solid():
    c = journeydsl.loads('''journey "j" {
      stage a { touchpoint need "Need" { emotion 2 } }
      stage b { touchpoint other "Other" { emotion 1 } }
      stage c { touchpoint buy "Buy" { emotion 4 } }
      entry need
      need -> buy 80%, other 1%
      goal buy
    }''')
    dot = emotion_dot(c.journey)
    edges = _edges(dot, 0)
    assert len(edges) == 1 and "dashed" not in edges[0][2] and _hops(dot, 0) == []


def test_board_draws_jumps_as_hops():
    from journeydsl.render.board import board_svg

    svg = board_svg(journeydsl.loads(JUMPS).journey, lanes=("emotion",))
    assert svg.count('stroke-dasharray="7 5"') == 2 and svg.count("<polygon") == 2
    assert "<polyline" not in svg  # no solid piece: every move is a jump


def test_na_in_the_colour_of_the_only_persona_without_an_emotion():
    from journeydsl.render.board import board_svg
    from journeydsl.render.board.curve import PALETTE

    # both personas pass m, which has no emotion: one grey n/a
    grey = board_svg(journeydsl.loads(TWO_ENTRIES).journey, lanes=("emotion",))
    assert re.findall(r'fill="([^"]+)" font-style="italic"[^>]*>n/a<', grey) == ["#52606d"]
    # only Alpha passes m (Beta goes through n): the n/a is Alpha's, in its colour
    # and with a white halo, so Beta's line cannot cross the word
    j = journeydsl.loads('''journey "j" {
      persona a "Alpha" { share 50% }
      persona b "Beta" { share 50% }
      stage s1 { touchpoint x "Ex" { emotion 2 } }
      stage s2 { touchpoint m "Em" ; touchpoint n "En" { emotion 1 } }
      stage s3 { touchpoint g "Gee" { emotion 5 } }
      entry x
      x -> m 50% [b: 10%], n 10% [b: 50%]
      m -> g 50%
      n -> g 50%
      goal g
    }''').journey
    svg = board_svg(j, lanes=("emotion",))
    found = re.findall(r'fill="([^"]+)" font-style="italic"([^>]*)>n/a<', svg)
    assert [f for f, _ in found] == [PALETTE[0]] and 'paint-order="stroke"' in found[0][1]
    assert f'label="n/a", fontcolor="{PALETTE[0]}"' in emotion_dot(j)


def test_same_curve_as_the_board():
    from journeydsl.render.board import board_svg

    j = journeydsl.loads(TWO_ENTRIES).journey
    svg = board_svg(j)
    assert svg.count(">n/a<") == emotion_dot(j).count('label="n/a"') == 1

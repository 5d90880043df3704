"""An independent, plain-Python reading of an event log by the design's
rules (docs/calibration.md), to check the SQL aggregation against: one
customer at a time, in time order (ties in file order), consecutive events
at one step one visit unless the step loops, censored last visits."""

from __future__ import annotations

import statistics
from collections import defaultdict

from journeydsl.calibrate.plan import Plan

DAY_US = 86_400_000_000


def reference_counts(plan: Plan, rows: list[tuple], personas: list[str] | None) -> dict:
    """rows: (user, event, time_us, amount, persona) in file order; personas:
    the journey's (None: the log has no persona column)."""
    end = max(r[2] for r in rows)
    by_user: dict[str, list[tuple]] = defaultdict(list)
    for position, (user, event, t, amount, persona) in enumerate(rows):
        if event in plan.events:
            by_user[user].append((t, position, plan.events[event], amount, persona))
    steps: dict = defaultdict(lambda: [0, 0, 0, 0])  # visits, censored, entries, still
    moves: dict = defaultdict(list)
    delays: dict = defaultdict(list)
    amounts: dict = defaultdict(lambda: [0.0, 0])
    spells: dict = defaultdict(int)
    loops = {s.number for s in plan.steps if s.loop}
    window = {s.number: round(s.window_days * DAY_US) for s in plan.steps}
    for user, events in by_user.items():
        events.sort(key=lambda e: (e[0], e[1]))
        raw = next((e[4] for e in events if e[4] is not None), None)
        key = ("" if raw is None else raw if raw in personas else "?") if personas is not None \
            else ""
        visits = []
        for k, (t, _, step, amount, _) in enumerate(events):
            if amount is not None:
                amounts[(key, step)][0] += amount
                amounts[(key, step)][1] += 1
            if k == 0 or events[k - 1][2] != step or step in loops:
                visits.append((t, step))
        run: list[bool] = []  # the current run's visits: censored or not
        for k, (t, step) in enumerate(visits):
            cell = steps[(key, step)]
            cell[0] += 1
            cell[2] += k == 0
            last = k == len(visits) - 1
            # censored: too close to the log's end to know what came of the visit
            censored = end - t < window[step]
            cell[1] += censored
            cell[3] += last and censored
            if not last and not censored:
                nt, nstep = visits[k + 1]
                moves[(key, step, nstep)].append(nt - t)
                delays[(step, nstep)].append(nt - t)
            run.append(censored)
            if last or visits[k + 1][1] != step:
                if step in loops:  # seen up to its first censored visit
                    seen = run.index(True) + 1 if True in run else len(run)
                    spells[(key, step, seen, True in run)] += 1
                run = []
    return {
        "steps": {k: tuple(v) for k, v in steps.items()},
        "moves": {k: (len(v), statistics.median(v) / DAY_US) for k, v in moves.items()},
        "delays": {k: (len(v), statistics.median(v) / DAY_US) for k, v in delays.items()},
        "amounts": {k: (v[0], v[1]) for k, v in amounts.items()},
        "spells": dict(spells),
    }

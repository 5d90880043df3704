"""Self-loop stays unrolled in time for the profit curve (ledger.py).

A stay (loops.py) is many visits in one draw: the j-th at start + j x
delay, its discounted profit a x q^j. The curve wants them at their
times, but not walker by walker: the stays of one entry, loop and start
time are one group, and its j-th visit happens for every stay of the
group at least j long, one event per group and visit.
"""

from __future__ import annotations

import numpy as np

STAY_EVENTS = 1 << 14  # visits of one self-loop stay unrolled in time, at most
STAY_BUDGET = 1 << 22  # visits unrolled in time per pass, at most (then fewer per stay)


def unroll(stays: tuple, codes: int, whole: bool) -> list[tuple] | None:
    """The profit events (key, time, amount) of stays (entry key, code,
    start, delay, visits, a, log q; `codes`: how many codes there are).
    Stays at one time (delay 0) are left to the caller.

    Past STAY_EVENTS visits (fewer when a pass's stays would unroll more
    than STAY_BUDGET), a stay's remaining profit is booked at its last
    visit: the curve is exact but within such long stays (the docs say so).

    `whole`: the stays of every pass since the ledger last summed, grouped
    together (the same events, fewer of them). If those would need fewer
    than STAY_EVENTS a stay, None: the caller goes pass by pass (each
    pass's groups are among the whole's, so within the budget together
    they are within it pass by pass too: the same rule as pass by pass)."""
    ekey, code, t0, d, v, a, log_q = stays
    out: list[tuple] = []
    timed = (d != 0).nonzero()[0]
    if not len(timed):
        return out
    # (entry key, code) as one number: lexsort((g_t, g_code, g_key))'s order
    g_both = ekey.take(timed) * codes + code.take(timed)
    g_t = t0.take(timed)
    order = np.lexsort((g_t, g_both))
    g_both, g_t = g_both.take(order), g_t.take(order)
    at = timed.take(order)
    a, log_q, v, dd = a.take(at), log_q.take(at), v.take(at), d.take(at)
    new = np.ones(len(order), bool)
    new[1:] = (g_both[1:] != g_both[:-1]) | (g_t[1:] != g_t[:-1])
    first = new.nonzero()[0]
    cap = STAY_EVENTS
    while True:  # visits unrolled per group: STAY_BUDGET in all at most
        capped = np.minimum(v, cap)
        length = np.maximum.reduceat(capped, first)
        if cap == 1 or int(length.sum()) <= STAY_BUDGET:
            break
        if whole:
            return None
        cap //= 2
    g_key = g_both // codes
    group = np.cumsum(new) - 1
    offset = np.concatenate([[0], np.cumsum(length)])
    ending = np.bincount(offset[group] + capped - 1, minlength=int(offset[-1]))
    # stays of each group at least j long: suffix sums within the group
    suffix = np.cumsum(ending[::-1])[::-1]
    after = np.append(suffix, 0.0)[np.repeat(offset[1:], length)]
    count = suffix - after
    g = np.repeat(np.arange(len(first)), length)
    j = np.arange(len(g)) - offset[g] + 1
    lead = first.take(g)  # a stay of the group: its start, delay and amounts
    out.append((g_key.take(lead), g_t.take(lead) + j * dd.take(lead),
                count * a.take(lead) * np.exp(log_q.take(lead) * j)))
    long = (v > cap).nonzero()[0]
    if len(long):  # the rest of a very long stay, at its last visit
        vl, ql, J = v.take(long).astype(float), log_q.take(long), float(cap)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            rest = np.where(ql == 0.0, vl - J, np.exp(ql * (J + 1.0))
                            * np.expm1((vl - J) * ql) / np.expm1(ql))
        out.append((g_key.take(long), g_t.take(long) + vl * dd.take(long), a.take(long) * rest))
    return out


def unrolled(stays: tuple, sizes: list[int], codes: int) -> list[tuple]:
    """The profit events of stays (`unroll`, `codes` edge codes): all
    together, or when they would unroll past the budget so, pass by pass
    (`sizes`: the stays of each pass, STAY_BUDGET each). A function, not a
    method of the ledger: it keeps it for later without a cycle through itself."""
    events = unroll(stays, codes, True)
    if events is not None:
        return events
    ends = np.cumsum(sizes)
    out: list[tuple] = []
    for lo, hi in zip(np.concatenate([[0], ends[:-1]]), ends):
        part = unroll(tuple(x[lo:hi] for x in stays), codes, False)
        assert part is not None  # (never None pass by pass)
        out += part
    return out

"""Make examples/events/saas_trial.csv, the event log of docs/calibration.md.

The customers walk the `simpler_pricing` scenario of saas_trial.journey
(the new pricing page: pricing -> trial 32% [ent: 14%] instead of 25%
[ent: 10%]), so fitting the baseline to the log shows that drift. Seeded:
running this again gives the same bytes (tests/test_fit_example.py checks).

    python examples/events/make_saas_trial.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import journeydsl
from journeydsl.calibrate.synthetic import event_rows, write_csv

HERE = Path(__file__).resolve().parent
PROSPECTS = 8_000
SEED = 2024


def rows() -> list:
    journey = journeydsl.load(HERE.parent / "saas_trial.journey").variant("simpler_pricing")
    return event_rows(journey, PROSPECTS, seed=SEED, start=dt.datetime(2024, 1, 1),
                      arrivals_days=240, end_days=365, jitter=0.25)


if __name__ == "__main__":
    write_csv(rows(), str(HERE / "saas_trial.csv"))

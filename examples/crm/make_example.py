"""Regenerate the shipped synthetic CRM export (``opportunities.csv``, ``reps.csv``).

Three years of a three-territory team (2022-01..2024-12) drawn from known parameters
with ``salessim.crm.synthetic_export``, written the way a Salesforce report export looks
(``$12,000.00`` amounts, ``3/15/2024`` dates, Won/Closed flags, a report footer), with a
handful of the messy rows real exports carry, so that ``salessim calibrate`` has
something to report:

    .venv/bin/python examples/crm/make_example.py
    salessim calibrate examples/crm/opportunities.csv --reps examples/crm/reps.csv \\
        --as-of 2024-12-31 -o calibrated.yaml --report fit.html

The true parameters are printed (and are in ``TRUTH`` below), so the calibration can be
compared with what generated the data.
"""

from pathlib import Path

import pandas as pd

from salessim.crm import TerritoryTruth, Truth, synthetic_export, write_export

HERE = Path(__file__).resolve().parent
TRUTH = Truth(
    territories={"East": TerritoryTruth(55.0, 0.30, 8, 18_000.0, 0.6),
                 "West": TerritoryTruth(40.0, 0.24, 7, 26_000.0, 0.7),
                 "Central": TerritoryTruth(25.0, 0.27, 5, 15_000.0, 0.5)},
    seasonality=(0.8, 0.9, 1.3, 0.85, 0.9, 1.3, 0.75, 0.8, 1.3, 0.9, 1.0, 1.5),
    annual_growth=0.12, sales_cycle_months=(0.05, 0.25, 0.3, 0.2, 0.12, 0.08), never_close=0.15,
    skill_sigma=0.25, attrition_bands=((12, 0.40), (None, 0.22)), ramp=(0.15, 0.4, 0.7, 0.9),
    quarter_end_pull=0.3)


def main() -> None:
    opps, reps = synthetic_export(TRUTH, start="2022-01", months=36, seed=2025)
    write_export(opps, reps, HERE)
    path = HERE / "opportunities.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[10, "Amount"] = ""                        # a won deal with no amount (if row 10 is won)
    frame.loc[20, "Amount"] = "-" + frame.loc[20, "Amount"]
    frame.loc[30, "Close Date"] = "13/31/2024"           # a date nobody can read
    frame.loc[40, "Opportunity Owner"] = "Former Contractor"
    frame.loc[50, "Created Date"] = ""
    frame = pd.concat([frame, frame.iloc[[60, 61]]], ignore_index=True)  # two duplicated ids
    frame.to_csv(path, index=False)
    with open(path, "a") as fh:
        fh.write(f'\n"Grand Totals ({len(frame)} records)"\n\n'
                 '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
                 '"Confidential Information - Do Not Distribute"\n')
    print(f"wrote {path} ({len(frame):,} rows) and {HERE / 'reps.csv'} ({len(reps)} reps)")
    print("truth:", TRUTH)


if __name__ == "__main__":
    main()

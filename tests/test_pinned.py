"""Plain scenarios give exactly the pinned bits of the current random-stream layout.

``tests/data/pinned/`` holds the three shipped scenarios as they were at release 0.1.0
(integer reps, no open pipeline, no actuals, no uncertainty) and a variant that starts in
April (a partly covered first fiscal year without actuals, an unlimited capacity, a fixed
deal size), with the SHA-256 of every variable of a 300-trial run of each
(``main_hashes.json``, written by ``make_hashes.py`` at the commit it records). Every change
to the engine must leave these runs unchanged unless it changes the stream layout on
purpose, and says so in CHANGELOG.md: new features (named rosters, open pipelines,
actuals, uncertain parameters) change nothing for a scenario that does not use them. The
bits were those of 0.1.0 (commit 53186dd) until issue 12 redrew the funnel (one coin per
worked lead) in commit 73fadc8.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import salessim

PINNED = Path(__file__).resolve().parent / "data" / "pinned"
REFERENCE = json.loads((PINNED / "main_hashes.json").read_text())


def _digest(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(REFERENCE["runs"]))
def test_plain_scenarios_reproduce_the_pinned_release_bits(name):
    reference = REFERENCE["runs"][name]
    sc = salessim.load_scenario(PINNED / name)
    ds = salessim.simulate(sc, trials=REFERENCE["trials"], seed=REFERENCE["seed"])
    assert float(ds["bookings"].isel(trial=0).sum()) == reference["_bookings_trial0"]
    changed = [var for var in reference if not var.startswith("_") and _digest(ds[var].values) != reference[var]]
    assert not changed, f"{name}: these variables changed against commit {REFERENCE['commit'][:7]}: {changed}"
    missing = [var for var in reference if not var.startswith("_") and var not in ds]
    assert not missing, f"{name}: variables pinned but no longer written: {missing}"

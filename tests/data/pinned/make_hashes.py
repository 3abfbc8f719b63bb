"""Recompute ``main_hashes.json``: the SHA-256 of every variable of a 300-trial run (seed 11)
of each scenario in this folder, at the current commit.

    .venv/bin/python tests/data/pinned/make_hashes.py

Run it only when the random-stream layout changes on purpose (say so in CHANGELOG.md);
``tests/test_pinned.py`` then pins the new bits. The JSON records the commit it was made at.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np

import salessim

HERE = Path(__file__).resolve().parent
SEED, TRIALS = 11, 300


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
    runs = {}
    for path in sorted(HERE.glob("*.yaml")):
        ds = salessim.simulate(salessim.load_scenario(path), trials=TRIALS, seed=SEED)
        entry = {"_bookings_trial0": float(ds["bookings"].isel(trial=0).sum())}
        for name in sorted(ds.data_vars):
            entry[name] = hashlib.sha256(np.ascontiguousarray(ds[name].values).tobytes()).hexdigest()
        runs[path.name] = entry
    (HERE / "main_hashes.json").write_text(json.dumps({"commit": commit, "seed": SEED, "trials": TRIALS, "runs": runs},
                                                      indent=1) + "\n")


if __name__ == "__main__":
    main()

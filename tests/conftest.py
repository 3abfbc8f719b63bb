"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

import salessim

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="session")
def baseline_results(tmp_path_factory) -> Path:
    """A small results file of the baseline (4 trials, seed 0); copy it before changing it."""
    path = tmp_path_factory.mktemp("baseline_results") / "baseline.h5"
    salessim.save_results(salessim.simulate(salessim.load_scenario(BASELINE), 4, 0), path)
    return path

"""``salessim.sweep`` / ``salessim sweep``: a grid of overrides on common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.whatif import WhatIfError, per_trial, sweep
from whatif_helpers import TRIALS, stochastic

SEED = 5
VARY = {"territories.East.reps": [2, 3, 4], "territories.West.win_rate": [0.3, 0.4]}


@pytest.fixture(scope="module")
def grid():
    return sweep(stochastic(), VARY, TRIALS, SEED)


def test_one_dimension_per_path_with_the_values(grid):
    assert grid["value"].dims == ("territories.East.reps", "territories.West.win_rate", "metric", "trial", "fiscal_year")
    assert list(grid["territories.East.reps"].values) == [2, 3, 4]
    assert grid["territories.East.reps"].dtype == np.int64
    assert list(grid["territories.West.win_rate"].values) == [0.3, 0.4]
    assert grid["mean"].dims == ("territories.East.reps", "territories.West.win_rate", "metric", "fiscal_year")


@pytest.mark.parametrize("reps, win_rate", [(2, 0.3), (4, 0.4), (3, 0.3)])
def test_a_point_equals_a_plain_run_bit_for_bit(grid, reps, win_rate):
    sc = stochastic().with_overrides({"territories.East.reps": reps, "territories.West.win_rate": win_rate})
    plain = per_trial(salessim.simulate(sc, TRIALS, SEED))
    point = grid["value"].sel({"territories.East.reps": reps, "territories.West.win_rate": win_rate})
    assert np.array_equal(point.values, plain.values, equal_nan=True)
    table = salessim.summarize(salessim.simulate(sc, TRIALS, SEED))
    row = table[(table.metric == "bookings") & (table.period == "FY2027") & (table.territory == "all")].iloc[0]
    at = {"territories.East.reps": reps, "territories.West.win_rate": win_rate, "metric": "bookings", "fiscal_year": 2027}
    assert float(grid["mean"].sel(at)) == pytest.approx(row["mean"], rel=1e-13)  # summation order only


def test_common_random_numbers_make_the_win_rate_effect_monotone(grid):
    low = grid["value"].sel({"territories.West.win_rate": 0.3, "metric": "bookings"})
    high = grid["value"].sel({"territories.West.win_rate": 0.4, "metric": "bookings"})
    assert np.all(high.mean("trial") > low.mean("trial"))


@pytest.mark.parametrize("vary, message", [
    ({"territories.East.nope": [1, 2]}, "unknown key 'nope'"),
    ({"territories.East.reps": ["a", "b"]}, "expected a number"),
    ({"territories.East.reps": [2, 2]}, "must not repeat"),
    ({"territories.East.reps": []}, "at least one value"),
    ({"territories.East.win_rate": [0.5, 1.5]}, "must be between 0 and 1"),
    ({}, "at least one path"),
])
def test_bad_grids_fail_before_running(vary, message):
    with pytest.raises(WhatIfError, match=message):
        sweep(stochastic(), vary, TRIALS, SEED)


def test_cli_sweep(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "grid.h5"
    res = CliRunner().invoke(main, ["sweep", str(path), "--vary", "territories.East.reps=2,3",
                                    "--vary", "market.annual_growth=0,0.2", "-n", "100", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "East.reps" in res.output and "annual_growth" in res.output and "P(goal)" in res.output
    ds = salessim.open_results(out)
    assert ds["mean"].sizes["territories.East.reps"] == 2 and ds.attrs["varied"] == "territories.East.reps, market.annual_growth"


@pytest.mark.parametrize("vary, message", [
    ("territories.East.reps", "expects PATH=V1,V2"),
    ("territories.East.reps=1,,2", "empty value"),
    ("territories.East.reps=a,b", "expected a number, got 'a'"),
    ("territories.Nowhere.reps=1,2", "no entry named 'Nowhere'"),
])
def test_cli_sweep_user_errors(tmp_path, vary, message):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "never.h5"
    res = CliRunner().invoke(main, ["sweep", str(path), "--vary", vary, "-n", "50", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()

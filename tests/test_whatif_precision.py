"""``salessim.whatif.simulate_to_precision`` / ``salessim run --precision``."""

from __future__ import annotations

import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
from helpers_model import strip_attrs
from salessim.cli import main
from salessim.whatif import WhatIfError, per_trial, simulate_to_precision
from salessim.whatif.precision import precision_errors
from whatif_helpers import stochastic

SEED = 9
STEP = 100


def _met(metrics, target) -> bool:
    se_p, rel_b = precision_errors(metrics)
    return all(v <= target for v in se_p.values()) and all(v <= target for v in rel_b.values())


def test_stops_at_the_first_chunk_meeting_the_target_and_equals_a_plain_run():
    sc = stochastic()
    target = 0.03
    ds, report = simulate_to_precision(sc, target, seed=SEED, max_trials=5_000, step=STEP)
    n = report.trials
    assert report.met and n % STEP == 0 and ds.sizes["trial"] == n == int(ds.attrs["trials"])
    plain = salessim.simulate(sc, n, SEED)
    xr.testing.assert_identical(strip_attrs(ds), strip_attrs(plain))
    # met at n, not at any earlier chunk boundary
    metrics = per_trial(plain)
    assert _met(metrics, target)
    for k in range(STEP, n, STEP):
        assert not _met(metrics.isel(trial=slice(0, k)), target), k
    assert max(report.se_p_goal.values()) <= target and max(report.rel_se_bookings.values()) <= target
    assert n > STEP  # the test means something: more than one chunk was needed


def test_never_exceeds_max_trials():
    sc = stochastic()
    ds, report = simulate_to_precision(sc, 0.001, seed=SEED, max_trials=250, step=STEP)
    assert not report.met and report.trials == 250 == ds.sizes["trial"]
    assert "NOT reached" in report.message
    xr.testing.assert_identical(strip_attrs(ds), strip_attrs(salessim.simulate(sc, 250, SEED)))


@pytest.mark.parametrize("kwargs, message", [
    ({"precision": 0}, "between 0 and 1"),
    ({"precision": "x"}, "expected a number"),
    ({"precision": 0.01, "max_trials": 1}, "whole number >= 2"),
])
def test_bad_inputs(kwargs, message):
    with pytest.raises(WhatIfError, match=message):
        simulate_to_precision(stochastic(), **kwargs)


def test_cli_run_precision(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "p.h5"
    res = CliRunner().invoke(main, ["run", str(path), "--precision", "0.03", "--max-trials", "3000",
                                    "--chunk-trials", str(STEP), "--seed", str(SEED), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "precision 0.03 reached with" in res.output and "± se" in res.output
    ds = salessim.open_results(out)
    n = int(ds.attrs["trials"])
    assert ds.sizes["trial"] == n <= 3000 and n % STEP == 0 and int(ds.attrs["precision_met"]) == 1


@pytest.mark.parametrize("args, message", [
    (["--precision", "0.01", "-n", "100"], "give --max-trials instead"),
    (["--max-trials", "100"], "only works with --precision"),
    (["--precision", "1.5"], "between 0 and 1"),
    (["--precision", "abc"], "is not a valid float"),
])
def test_cli_run_precision_user_errors(tmp_path, args, message):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "never.h5"
    res = CliRunner().invoke(main, ["run", str(path), *args, "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()

"""``salessim.compare`` / ``salessim compare``: plans side by side on common random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.whatif import WhatIfError, compare, per_trial
from whatif_helpers import TRIALS, stochastic, with_extra_hires

SEED = 11
BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def plans():
    a = stochastic()
    return a, with_extra_hires(a, 2)


@pytest.fixture(scope="module")
def result(plans) -> xr.Dataset:
    return compare(list(plans), TRIALS, SEED)


def test_compare_with_itself_gives_exact_zeros():
    sc = stochastic()
    ds = compare([sc, sc], TRIALS, SEED)
    assert list(ds["scenario"].values) == ["small#1", "small#2"]
    for var in ("diff", "diff_se", "p_better"):
        assert np.all(ds[var].sel(scenario="small#2").values == 0.0), var
    xr.testing.assert_equal(ds["value"].isel(scenario=0, drop=True), ds["value"].isel(scenario=1, drop=True))


def test_layout_and_agreement_with_summarize(result, plans):
    assert result["value"].dims == ("scenario", "metric", "trial", "fiscal_year")
    assert list(result["scenario"].values) == ["small", "more"]
    assert {"bookings", "p_goal", "reps_at_quota"} <= set(result["metric"].values)
    assert list(result["fiscal_year"].values) == [2027, 2028]
    table = salessim.summarize(salessim.simulate(plans[1], TRIALS, SEED))
    for metric in ("bookings", "p_goal", "reps_at_quota"):
        for fy in (2027, 2028):
            row = table[(table.metric == metric) & (table.period == f"FY{fy}") & (table.territory == "all")].iloc[0]
            got = result.sel(scenario="more", metric=metric, fiscal_year=fy)
            assert float(got["mean"]) == pytest.approx(row["mean"], rel=1e-12, abs=1e-12)
            assert float(got["se"]) == pytest.approx(row["se"], rel=1e-9)
            assert float(got["p90"]) == pytest.approx(row["p90"], rel=1e-12)


def test_paired_difference_is_the_mean_of_trial_differences(result):
    v = result["value"].sel(metric="bookings")
    d = (v.sel(scenario="more") - v.sel(scenario="small")).values
    assert np.allclose(result["diff"].sel(scenario="more", metric="bookings").values, d.mean(axis=0))
    assert np.allclose(result["diff_se"].sel(scenario="more", metric="bookings").values,
                       d.std(axis=0, ddof=1) / np.sqrt(d.shape[0]))
    assert np.allclose(result["p_better"].sel(scenario="more", metric="bookings").values, (d > 0).mean(axis=0))
    # more hires: more bookings, by several standard errors
    diff = result["diff"].sel(scenario="more", metric="bookings").values
    se = result["diff_se"].sel(scenario="more", metric="bookings").values
    assert np.all(diff > 4 * se)


def test_paired_standard_error_at_least_three_times_smaller_than_independent():
    """Plan A: the baseline; plan B: two more West hires. Same seed versus independent seeds."""
    a = salessim.load_scenario(BASELINE)
    b = with_extra_hires(a, 2, "West")
    paired_se = compare([a, b], TRIALS, SEED)["diff_se"].sel(scenario="more", metric="bookings").values
    base = per_trial(salessim.simulate(a, TRIALS, SEED)).sel(metric="bookings").values
    other = per_trial(salessim.simulate(b, TRIALS, SEED + 1)).sel(metric="bookings").values  # independent seed
    independent_se = np.sqrt(base.var(axis=0, ddof=1) / TRIALS + other.var(axis=0, ddof=1) / TRIALS)
    ratio = independent_se / paired_se
    print("\nSE(independent) / SE(paired) per fiscal year:", np.round(ratio, 1))
    assert np.all(ratio >= 3.0), ratio


def test_needs_two_scenarios_with_the_same_years():
    sc = stochastic()
    with pytest.raises(WhatIfError, match="at least two"):
        compare([sc], TRIALS, SEED)
    d = dict(sc.data, horizon_months=12, goal={"annual": [1e6]})
    with pytest.raises(WhatIfError, match="same fiscal years"):
        compare([sc, salessim.Scenario.from_dict(d)], TRIALS, SEED)


def _write(path, sc):
    path.write_text(sc.to_yaml())
    return str(path)


def test_cli_compare_prints_and_saves(tmp_path, plans):
    a = _write(tmp_path / "a.yaml", plans[0])
    b = _write(tmp_path / "b.yaml", plans[1])
    out = tmp_path / "ab.h5"
    res = CliRunner().invoke(main, ["compare", a, b, "-n", "200", "--seed", "3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "against small" in res.output and "Δ bookings" in res.output and "P(goal)" in res.output
    ds = salessim.open_results(out)
    assert ds.sizes["scenario"] == 2 and int(ds.attrs["seed"]) == 3 and int(ds.attrs["trials"]) == 200
    assert yaml.safe_load(str(ds["scenario_yaml"].values[1]))["name"] == "more"


@pytest.mark.parametrize("args, message", [
    (["compare", "{a}"], "at least two"),
    (["compare", "{a}", "missing.yaml"], "no such file"),
    (["compare", "{a}", "{a}", "--set", "territories.East.nope=1"], "unknown key 'nope'"),
])
def test_cli_compare_user_errors(tmp_path, plans, args, message):
    a = _write(tmp_path / "a.yaml", plans[0])
    out = tmp_path / "never.h5"
    res = CliRunner().invoke(main, [x.format(a=a) for x in args] + ["-n", "50", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()

"""Derived money variables: not stored in results files, computed on open, the same bits."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from salessim.derived import DERIVED, DERIVED_FROM, derived_values
from salessim.stream import summarize_file
from salessim.variables import VARIABLES

ROOT = Path(__file__).resolve().parents[1]
OLD = ROOT / "tests" / "data" / "results" / "v0.1.0-baseline.h5"


@pytest.fixture(scope="module")
def scenario():
    return salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture(scope="module")
def ds(scenario):
    return salessim.simulate(scenario, trials=300, seed=5)


@pytest.fixture(scope="module")
def saved(ds, tmp_path_factory):
    return salessim.save_results(ds, tmp_path_factory.mktemp("derived") / "r.h5")


def test_the_registry_and_the_formulas_name_the_same_variables():
    assert tuple(v.name for v in VARIABLES if v.source == "derived") == DERIVED
    stored = {v.name for v in VARIABLES if v.source != "derived"}
    assert set(DERIVED_FROM) <= stored


def test_simulate_has_them_and_the_file_does_not(ds, saved):
    assert all(name in ds for name in DERIVED)
    with h5py.File(saved, "r") as f:
        assert not set(DERIVED) & set(f)
        assert set(DERIVED_FROM) <= set(f)
    plain = xr.open_dataset(saved, engine="h5netcdf")
    try:
        assert not set(DERIVED) & set(plain.data_vars)
    finally:
        plain.close()


def test_a_file_opens_as_the_dataset_simulate_gave(ds, saved):
    back = salessim.open_results(saved)
    xr.testing.assert_identical(back, ds)
    assert list(back.data_vars) == list(ds.data_vars)  # registry order


def test_a_lazy_read_computes_them_lazily_with_the_same_bits(ds, saved):
    lazy = salessim.open_results(saved, chunks=64)
    try:
        for name in DERIVED:
            assert hasattr(lazy[name].data, "dask"), name  # nothing read yet
            np.testing.assert_array_equal(lazy[name].values, ds[name].values)
            assert lazy[name].attrs == ds[name].attrs
    finally:
        lazy.close()


def test_a_plain_read_recomputes_them_with_the_documented_formulas(ds, saved, scenario):
    with xr.open_dataset(saved, engine="h5netcdf") as plain:
        values = derived_values({name: plain[name].values for name in DERIVED_FROM}, scenario)
    for name in DERIVED:
        np.testing.assert_array_equal(values[name], ds[name].values, err_msg=name)
    # the formulas, as the README states them
    prices = np.array([t.base_salary_annual / 12.0 for t in scenario.territories])
    np.testing.assert_array_equal(values["base_pay"], ds["headcount"].values * prices)
    parts = ds["base_pay"] + ds["commission"] + ds["hiring_cost"] + ds["overhead"] + ds["cost_of_sale"]
    np.testing.assert_array_equal(values["sales_cost"], parts.values)


def test_an_edited_derived_variable_is_stored_and_wins_on_open(ds, tmp_path):
    edited = ds.copy()
    edited["overhead"] = ds["overhead"] * 2.0
    path = salessim.save_results(edited, tmp_path / "edited.h5")
    with h5py.File(path, "r") as f:
        assert "overhead" in f and "sales_cost" not in f
    back = salessim.open_results(path)
    np.testing.assert_array_equal(back["overhead"].values, 2.0 * ds["overhead"].values)
    np.testing.assert_array_equal(back["sales_cost"].values, ds["sales_cost"].values)  # recomputed, as saved


def test_a_file_of_0_1_0_keeps_its_own():
    with h5py.File(OLD, "r") as f:
        stored = {name: f[name][()] for name in DERIVED}
    ds = salessim.open_results(OLD)
    for name in DERIVED:
        np.testing.assert_array_equal(ds[name].values, stored[name], err_msg=name)


def test_the_summary_totals_equal_the_totals_of_the_derived_arrays(ds, saved):
    """The summary's economics come from fiscal-year totals of what the derived variables are
    computed from (no (trial, month, territory) array of them); the figures are the totals
    of the arrays up to float rounding, and the same whichever way the results are read."""
    table = salessim.summarize(ds)
    masks = {fy: (ds["fiscal_year_of_month"] == fy).values for fy in ds["fiscal_year"].values}
    for name in ("sales_cost", "base_pay", "hiring_cost", "overhead", "cost_of_sale", "revenue"):
        for fy, mask in masks.items():
            row = table[(table.section == "economics") & (table.metric == name) & (table.period == f"FY{fy}")]
            want = ds[name].isel(month=np.nonzero(mask)[0]).sum(("month", "territory")).values.mean()
            assert float(row["mean"].iloc[0]) == pytest.approx(want, rel=1e-12), (name, fy)
    assert salessim.summarize(salessim.open_results(saved)).equals(table)
    assert summarize_file(saved)[0].equals(table)


@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 299), length=st.integers(1, 300))
def test_any_slice_of_trials_gives_the_same_bits(ds, scenario, start, length):
    """Element by element: a chunk of trials (a stream, a lazy read) gets the whole run's values."""
    part = ds.isel(trial=slice(start, start + length))
    values = derived_values({name: part[name].values for name in DERIVED_FROM}, scenario)
    for name in DERIVED:
        np.testing.assert_array_equal(values[name], part[name].values, err_msg=name)

"""Results files: round trip, metadata, HDF5 layout, atomic writes, rerun from a file."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
import yaml

import salessim
from salessim import ResultsError, Scenario
from salessim.derived import DERIVED

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
OLD = b"an earlier results file that must survive\n"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return salessim.load_scenario(BASELINE)


@pytest.fixture(scope="module")
def ds(scenario) -> xr.Dataset:
    return salessim.simulate(scenario, trials=40, seed=11)


@pytest.fixture(scope="module")
def saved(ds, tmp_path_factory) -> Path:
    return salessim.save_results(ds, tmp_path_factory.mktemp("saved") / "baseline.h5")


def _h5_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------- round trip and metadata


def test_round_trip_is_identical(ds, saved):
    back = salessim.open_results(saved)
    xr.testing.assert_identical(ds, back)
    for name in ds.variables:
        if ds[name].dtype.kind not in "OUS":  # text may come back as str or object
            assert back[name].dtype == ds[name].dtype, name


def test_save_returns_the_path_and_creates_folders(ds, tmp_path):
    target = tmp_path / "a" / "b" / "run.h5"
    assert salessim.save_results(ds, target) == target
    assert target.is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.h5"]


def test_every_variable_has_units_and_long_name(saved):
    back = salessim.open_results(saved)
    expected = {"headcount", "ramped_fte", "hires", "departures", "open_reqs", "leads", "leads_unworked",
                "opportunities", "wins", "bookings", "quota", "pipeline_end", "goal", "attainment", "tenure"}
    assert expected <= set(back.data_vars)
    for name, var in back.data_vars.items():
        assert isinstance(var.attrs.get("units"), str) and var.attrs["units"], name
        assert isinstance(var.attrs.get("long_name"), str) and var.attrs["long_name"], name
    assert back["bookings"].attrs["units"] == "USD"
    assert back["headcount"].attrs["units"] == "reps"


def test_dimensions_follow_the_spec(saved, scenario):
    back = salessim.open_results(saved)
    for name in ("headcount", "ramped_fte", "hires", "departures", "open_reqs", "leads", "leads_unworked",
                 "opportunities", "wins", "bookings", "quota"):
        assert back[name].dims == ("trial", "month", "territory"), name
    assert back["pipeline_end"].dims == ("trial", "territory")
    assert back["goal"].dims == ("fiscal_year",)
    assert back["attainment"].dims == back["tenure"].dims == ("trial", "fiscal_year", "seat")
    assert list(back["territory"].values) == ["East", "West", "Central"]
    assert list(back["fiscal_year"].values) == [2027, 2028, 2029]
    assert back["month"].dtype.kind == "M"
    assert str(back["month"].values[0])[:10] == "2027-01-01"
    assert back.sizes["seat"] == len(scenario.seat_territories())


def test_dataset_attributes(saved, scenario):
    back = salessim.open_results(saved)
    attrs = back.attrs
    assert attrs["salessim_version"] == salessim.__version__
    assert int(attrs["seed"]) == 11
    assert int(attrs["trials"]) == 40 == back.sizes["trial"]
    assert Scenario.from_yaml(attrs["scenario"]) == scenario
    assert yaml.safe_load(attrs["scenario"])["name"] == "baseline"
    created = datetime.fromisoformat(attrs["created"])
    assert created.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - created) < timedelta(hours=1)
    for key, value in attrs.items():  # HDF5 attributes hold strings and numbers, not dicts
        assert isinstance(value, (str, int, float, np.integer, np.floating)), key


# --------------------------------------------------------------------------- HDF5 layout


def test_readable_with_plain_h5py(ds, saved):
    with h5py.File(saved, "r") as f:
        for key in ("salessim_version", "scenario", "seed", "trials", "created"):
            assert key in f.attrs
        assert _h5_text(f.attrs["salessim_version"]) == salessim.__version__
        assert np.asarray(f.attrs["trials"]).item() == 40  # h5netcdf stores numbers as 1-element arrays
        assert not set(DERIVED) & set(f)  # recomputed on open, not stored
        for name, var in ds.data_vars.items():
            if name in DERIVED:
                continue
            dset = f[name]
            assert dset.shape == var.shape, name
            np.testing.assert_array_equal(dset[()], var.values)
            assert _h5_text(dset.attrs["units"]) == var.attrs["units"]
            assert _h5_text(dset.attrs["long_name"]) == var.attrs["long_name"]


def test_chunked_along_trial_and_compressed(scenario, tmp_path):
    trials = 6000  # enough that a (trial, month, territory) float64 variable spans several chunks
    big = salessim.simulate(scenario, trials=trials, seed=2)
    path = salessim.save_results(big, tmp_path / "big.h5")
    split = []
    with h5py.File(path, "r") as f:
        for name, var in big.data_vars.items():
            if name in DERIVED:
                continue
            dset = f[name]
            assert dset.compression == "gzip", name
            if "trial" not in var.dims:
                continue
            assert dset.chunks is not None, f"{name} is not chunked"
            axis = var.dims.index("trial")
            for d, (size, chunk) in enumerate(zip(dset.shape, dset.chunks)):
                if d != axis:
                    assert chunk == size, f"{name} is chunked along {var.dims[d]}"
            assert 1 <= dset.chunks[axis] <= trials
            if dset.chunks[axis] < trials:
                split.append(name)
    assert {"bookings", "quota", "ramped_fte", "attainment", "tenure"} <= set(split)
    assert os.path.getsize(path) < sum(v.nbytes for v in big.data_vars.values())  # compression pays


# --------------------------------------------------------------------------- atomic writes


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


class _Boom(Exception):
    pass


def _failing_to_netcdf(exc: BaseException, calls: list):
    def fake(self, path=None, *args, **kwargs):
        calls.append(Path(path))
        with open(path, "wb") as fh:
            fh.write(b"\x89HDF\r\n\x1a\n half a file")
        raise exc
    return fake


def _failing_create(exc: BaseException, calls: list):
    """The results writer (``results._create``) writes half a file, then fails."""
    fake = _failing_to_netcdf(exc, calls)
    return lambda path: fake(None, path)


def _fail_writers(monkeypatch, exc: BaseException, calls: list) -> None:
    """Both file writers fail: results' own (a simulation's results) and xarray's (any other Dataset)."""
    from salessim import results

    monkeypatch.setattr(results, "_create", _failing_create(exc, calls))
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _failing_to_netcdf(exc, calls))


@pytest.mark.parametrize(
    "exc",
    [OSError(28, "No space left on device"), _Boom("writer crashed"), KeyboardInterrupt()],
    ids=["oserror", "exception", "keyboard-interrupt"],
)
def test_failed_write_leaves_existing_file_untouched(ds, tmp_path, monkeypatch, exc):
    target = tmp_path / "baseline.h5"
    target.write_bytes(OLD)
    (tmp_path / "neighbour.txt").write_text("unrelated")
    before = _listing(tmp_path)
    calls: list[Path] = []
    _fail_writers(monkeypatch, exc, calls)
    with pytest.raises(type(exc)):
        salessim.save_results(ds, target)
    assert calls, "the writer was not called"
    assert calls[0].parent == tmp_path  # the temporary file sits next to the target
    assert calls[0] != target  # and is not the target itself
    assert _listing(tmp_path) == before  # target byte-identical, no temp file left


@pytest.mark.parametrize("exc", [OSError(5, "I/O error"), KeyboardInterrupt()], ids=["oserror", "keyboard-interrupt"])
def test_failed_write_without_earlier_file_leaves_nothing(ds, tmp_path, monkeypatch, exc):
    _fail_writers(monkeypatch, exc, [])
    with pytest.raises(type(exc)):
        salessim.save_results(ds, tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_after_a_complete_temp_file_still_leaves_target_alone(ds, tmp_path, monkeypatch):
    """The data is fully written but the flush is interrupted: the rename must not happen."""
    target = tmp_path / "baseline.h5"
    target.write_bytes(OLD)

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        salessim.save_results(ds, target)
    assert _listing(tmp_path) == {"baseline.h5": OLD}


def test_successful_write_replaces_the_file_and_leaves_no_temp(ds, tmp_path):
    target = tmp_path / "baseline.h5"
    target.write_bytes(OLD)
    salessim.save_results(ds, target)
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.h5"]
    xr.testing.assert_identical(salessim.open_results(target), ds)


def test_written_file_honours_the_umask(ds, tmp_path):
    old = os.umask(0o022)
    try:
        path = salessim.save_results(ds, tmp_path / "perm.h5")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- reading


def test_open_results_closes_the_file(saved, tmp_path):
    copy = tmp_path / "copy.h5"
    copy.write_bytes(saved.read_bytes())
    back = salessim.open_results(copy)
    with h5py.File(copy, "r+"):  # HDF5 refuses this while another handle has the file open
        pass
    assert float(back["bookings"].sum()) > 0


def test_open_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="no such results file") as info:
        salessim.open_results(tmp_path / "nope.h5")
    assert "nope.h5" in str(info.value)


def test_open_directory(tmp_path):
    with pytest.raises(ResultsError, match="directory"):
        salessim.open_results(tmp_path)


@pytest.mark.parametrize("content", [b"", b"name: baseline\n", b"\x89HDF\r\n\x1a\n truncated"], ids=["empty", "yaml", "truncated-hdf5"])
def test_open_non_hdf5(tmp_path, content):
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match="cannot read") as info:
        salessim.open_results(path)
    assert str(path) in str(info.value)


def test_open_hdf5_that_is_not_salessim(tmp_path):
    path = tmp_path / "other.h5"
    xr.Dataset({"a": ("x", np.arange(3.0))}, attrs={"title": "something else"}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(ResultsError, match="not salessim results") as info:
        salessim.open_results(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------- rerun from the file


def test_rerunning_the_stored_scenario_reproduces_the_data(saved):
    back = salessim.open_results(saved)
    sc = salessim.scenario_of(back)
    again = salessim.simulate(sc, trials=int(back.attrs["trials"]), seed=int(back.attrs["seed"]))
    assert set(again.data_vars) == set(back.data_vars)
    for name in back.data_vars:
        xr.testing.assert_identical(again[name], back[name])


def test_rerun_of_an_overridden_scenario_uses_the_overrides(scenario, tmp_path):
    changed = scenario.with_overrides({"territories.East.win_rate": 0.2, "hiring_plan.0.hires": 4})
    path = salessim.save_results(salessim.simulate(changed, trials=12, seed=5), tmp_path / "changed.h5")
    back = salessim.open_results(path)
    sc = salessim.scenario_of(back)
    assert sc == changed and sc != scenario
    again = salessim.simulate(sc, trials=int(back.attrs["trials"]), seed=int(back.attrs["seed"]))
    for name in back.data_vars:
        xr.testing.assert_identical(again[name], back[name])


def test_rerun_of_a_file_that_starts_at_a_later_trial(scenario, tmp_path):
    part = salessim.simulate(scenario, trials=6, seed=9, first_trial=20)
    path = salessim.save_results(part, tmp_path / "part.h5")
    back = salessim.open_results(path)
    assert list(back["trial"].values) == list(range(20, 26))
    again = salessim.simulate(salessim.scenario_of(back), trials=int(back.attrs["trials"]),
                              seed=int(back.attrs["seed"]), first_trial=int(back.attrs["first_trial"]))
    for name in back.data_vars:
        xr.testing.assert_identical(again[name], back[name])


def test_file_trial_chunk_reads_only_tables_along_trial(tmp_path):
    """A scenario with actuals writes actual_bookings (fiscal_year, territory): its tiny chunk
    must not set the step of chunked readers (summary of a midyear file read 2 trials at a time)."""
    from salessim.results import file_trial_chunk

    sc = salessim.load_scenario("scenarios/midyear.yaml")
    path = salessim.save_results(salessim.simulate(sc, trials=60, seed=0), tmp_path / "m.h5")
    with h5py.File(path, "r") as f:
        assert f["actual_bookings"].chunks is not None and f["actual_bookings"].chunks[0] < 60
        trial_chunks = {f[name].chunks[0] for name in ("bookings", "attainment", "pipeline_end")}
    assert file_trial_chunk(path) == min(trial_chunks) == 60

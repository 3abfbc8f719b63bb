"""Streamed runs (simulate_to_file, salessim run --stream): same data, bounded memory, atomic."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import salessim
from salessim.stream import simulate_to_file, summarize_file
from salessim.summary import SummaryAccumulator

from helpers_model import strip_attrs


@pytest.fixture(scope="module")
def baseline():
    return salessim.load_scenario("scenarios/baseline.yaml")


def test_streamed_file_equals_a_saved_in_memory_run(baseline, tmp_path):
    table = simulate_to_file(baseline, tmp_path / "s.h5", trials=700, seed=9, chunk_trials=250)
    streamed = salessim.open_results(tmp_path / "s.h5")
    salessim.save_results(salessim.simulate(baseline, 700, 9), tmp_path / "m.h5")
    in_memory = salessim.open_results(tmp_path / "m.h5")
    xr.testing.assert_identical(strip_attrs(streamed), strip_attrs(in_memory))
    for key in ("seed", "trials", "scenario", "first_trial", "salessim_version"):
        assert streamed.attrs[key] == in_memory.attrs[key], key
    pd.testing.assert_frame_equal(table, salessim.summarize(in_memory))


def test_summarize_file_reads_in_chunks_and_matches(baseline, tmp_path):
    salessim.save_results(salessim.simulate(baseline, 300, 2), tmp_path / "r.h5")
    table, attrs = summarize_file(tmp_path / "r.h5", chunk_trials=70)
    pd.testing.assert_frame_equal(table, salessim.summarize(salessim.open_results(tmp_path / "r.h5")))
    assert attrs["trials"] == 300


def test_float32_accumulator_for_large_runs_rounds_only_at_float32_precision(baseline, monkeypatch):
    ds = salessim.simulate(baseline, 400, 4)
    monkeypatch.setattr(SummaryAccumulator, "FLOAT64_BUDGET", 0)
    acc = SummaryAccumulator(400)
    for start in range(0, 400, 150):
        acc.add(ds.isel(trial=slice(start, start + 150)))
    assert acc.values.dtype == np.float32
    got, want = acc.frame(), salessim.summarize(ds)
    cols = ["mean", "p10", "p50", "p90"]
    np.testing.assert_allclose(got[cols].to_numpy(float), want[cols].to_numpy(float), rtol=2e-7, atol=1e-9)


def test_accumulator_beyond_its_ram_budget_spills_to_a_temporary_file(baseline, monkeypatch):
    ds = salessim.simulate(baseline, 300, 4)
    monkeypatch.setattr(SummaryAccumulator, "RAM_BUDGET", 0)
    acc = SummaryAccumulator(300)
    for start in range(0, 300, 120):
        acc.add(ds.isel(trial=slice(start, start + 120)))
    assert isinstance(acc.values, np.memmap)
    pd.testing.assert_frame_equal(acc.frame(), salessim.summarize(ds))


def test_interrupted_stream_keeps_the_target_and_an_honest_resumable_partial(baseline, tmp_path):
    target = tmp_path / "keep.h5"
    target.write_bytes(b"an earlier good file")

    def interrupt(done, total):
        if done >= 400:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_to_file(baseline, target, trials=1000, seed=1, chunk_trials=200, progress=interrupt)
    assert target.read_bytes() == b"an earlier good file"
    (partial,) = [p for p in tmp_path.iterdir() if p.name.endswith(".partial.h5")]
    with h5py.File(partial) as f:  # says how many trials it holds, and holds exactly those
        assert f.attrs["trials"] == 400 and f.attrs["trials_planned"] == 1000
        assert f["trial"].shape == (400,) and list(f["trial"][:]) == list(range(400))
    with xr.open_dataset(partial, engine="h5netcdf") as held:
        want = salessim.simulate(baseline, 1000, 1)
        np.testing.assert_array_equal(held["bookings"].values, want["bookings"].values[:400])

    table = simulate_to_file(baseline, target, trials=1000, seed=1, chunk_trials=200, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.h5"]
    xr.testing.assert_identical(strip_attrs(salessim.open_results(target)), strip_attrs(want))
    pd.testing.assert_frame_equal(table, salessim.summarize(want))


def test_resume_refuses_a_partial_stream_of_another_run(baseline, tmp_path):
    from salessim.stream import StreamError

    target = tmp_path / "r.h5"
    with pytest.raises(KeyboardInterrupt):
        simulate_to_file(baseline, target, trials=600, seed=1, chunk_trials=200,
                         progress=lambda done, total: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(StreamError, match="differs in seed"):
        simulate_to_file(baseline, target, trials=600, seed=2, chunk_trials=200, resume=True)
    with pytest.raises(StreamError, match="differs in trials_planned"):
        simulate_to_file(baseline, target, trials=800, seed=1, chunk_trials=200, resume=True)
    # a fresh (non-resumed) run to the same target completes and removes the superseded partial
    simulate_to_file(baseline, target, trials=200, seed=5, chunk_trials=200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]


def test_failed_stream_removes_its_partial(baseline, tmp_path, monkeypatch):
    import errno

    from salessim import stream

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, f"no space left on {tmp_path}")

    target = tmp_path / "f.h5"
    target.write_bytes(b"good")
    monkeypatch.setattr(stream, "ensure_space", full)
    with pytest.raises(OSError, match="no space left"):
        simulate_to_file(baseline, target, trials=400, seed=1, chunk_trials=200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"] and target.read_bytes() == b"good"


def test_cli_run_stream_writes_the_same_file_and_summary(tmp_path):
    from click.testing import CliRunner

    from salessim.cli import main

    runner = CliRunner()
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    r1 = runner.invoke(main, ["run", "scenarios/baseline.yaml", "-n", "120", "--seed", "4", "-o", str(a),
                              "--stream", "--chunk-trials", "50", "--format", "csv"])
    r2 = runner.invoke(main, ["run", "scenarios/baseline.yaml", "-n", "120", "--seed", "4", "-o", str(b), "--format", "csv"])
    assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)
    assert r1.output == r2.output
    xr.testing.assert_identical(strip_attrs(salessim.open_results(a)), strip_attrs(salessim.open_results(b)))
    r3 = runner.invoke(main, ["summary", str(a), "--format", "csv"])
    assert r3.output == r1.output


def test_cli_stream_with_precision_is_a_user_error(tmp_path):
    from click.testing import CliRunner

    from salessim.cli import main

    out = tmp_path / "x.h5"
    r = CliRunner().invoke(main, ["run", "scenarios/baseline.yaml", "--stream", "--precision", "0.01", "-o", str(out)])
    assert r.exit_code == 2 and "--stream and --precision" in r.output and "Traceback" not in r.output
    assert not out.exists()

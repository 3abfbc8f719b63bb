"""Run a scenario chunk by chunk straight into a results file, in bounded memory.

:func:`simulate_to_file` is :func:`salessim.simulate` followed by
:func:`salessim.save_results` and :func:`salessim.summarize`, without ever holding the
whole run: each chunk of trials is simulated, labelled, appended to the HDF5 file (its
``trial`` dimension is unlimited) and reduced to per-trial summary values, then dropped.
The file holds the same data as a saved in-memory run of the same seed and trials; the
write is atomic like :func:`salessim.save_results`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import h5netcdf
import numpy as np
import pandas as pd

from .engine import Progress, _buffers, _check_args, _run_into, default_chunk_trials, to_dataset
from .inputs import build_inputs
from .results import _encoding, _umask
from .scenario import Scenario
from .summary import SummaryAccumulator

__all__ = ["simulate_to_file", "summarize_file", "STREAM_CHUNK_TRIALS"]

STREAM_CHUNK_TRIALS = 10_000  # default trials per chunk when streaming (~0.2 GB of buffers for the baseline)


def simulate_to_file(
    scenario: Scenario,
    path: str | os.PathLike,
    trials: int = 10_000,
    seed: int = 0,
    *,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Simulate ``trials`` futures into the results file ``path``; return the summary table.

    Peak memory is about one chunk of results plus the per-trial summary values
    (float32), so a million trials of the baseline fit in well under 1.5 GB.
    """
    _check_args(trials, seed, 0, chunk_trials)
    inputs = build_inputs(scenario)
    chunk = chunk_trials or min(STREAM_CHUNK_TRIALS, max(default_chunk_trials(inputs, trials), 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    summary = SummaryAccumulator(trials)
    try:
        done = 0
        handle = None
        while done < trials:
            n = min(chunk, trials - done)
            buffers = _buffers(n, inputs)
            _run_into(inputs, seed, done, buffers)
            ds = to_dataset(scenario, buffers, seed=seed, first_trial=done)
            del buffers
            ds.attrs["trials"] = int(trials)
            if handle is None:
                ds.to_netcdf(tmp, engine="h5netcdf", encoding=_encoding(ds), unlimited_dims=["trial"])
                handle = h5netcdf.File(tmp, "a")
            else:
                _append(handle, ds, done)
            summary.add(ds)
            done += n
            if progress is not None:
                progress(done, trials)
        handle.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            if handle is not None:
                handle.close()
        finally:
            Path(tmp).unlink(missing_ok=True)
        raise
    return summary.frame()


def _append(handle: h5netcdf.File, ds, start: int) -> None:
    """Write chunk ``ds`` (trials start .. start + n - 1) after the trials already in the file."""
    stop = start + ds.sizes["trial"]
    handle.resize_dimension("trial", stop)
    handle.variables["trial"][start:stop] = ds["trial"].values
    for name, var in ds.data_vars.items():
        if "trial" in var.dims:
            assert var.dims[0] == "trial"
            handle.variables[name][start:stop] = np.asarray(var.values)


def summarize_file(path: str | os.PathLike, chunk_trials: int = STREAM_CHUNK_TRIALS) -> tuple[pd.DataFrame, dict]:
    """Summary table and attributes of a results file, read ``chunk_trials`` trials at a time.

    Equal to ``summarize(open_results(path))`` (to float32 rounding for very large runs),
    in memory bounded by the chunk: for files too large to load whole.
    """
    import warnings

    import xarray as xr

    from .results import ResultsError, check_results, open_results

    path = Path(path)
    open_results_check = path.exists() and path.is_file()
    if not open_results_check:
        open_results(path)  # raises the right ResultsError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lazy = xr.open_dataset(path, engine="h5netcdf", phony_dims="access")
    except Exception as exc:
        raise ResultsError(f"cannot read {path} as a salessim results file (HDF5): {exc}") from None
    with lazy:
        check_results(lazy, path, what_if_ok=False)
        n = lazy.sizes["trial"]
        summary = SummaryAccumulator(n)
        for start in range(0, n, chunk_trials):
            try:
                part = lazy.isel(trial=slice(start, min(n, start + chunk_trials))).load()
            except Exception as exc:  # a damaged chunk: h5py raises OSError, numcodecs others
                raise ResultsError(f"cannot read trials {start:,}.. of {path}: {exc}") from None
            summary.add(part)
        return summary.frame(), dict(lazy.attrs)

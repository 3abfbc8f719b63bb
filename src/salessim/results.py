"""Results files: xarray Datasets as netCDF4-flavoured HDF5 (h5netcdf engine).

Writes are atomic: the Dataset goes to a temporary file in the target's folder, is
flushed to disk, and only then renamed over the target. A failure or an interrupt
leaves any earlier file at the target untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from .scenario import Scenario

__all__ = ["ResultsError", "save_results", "open_results", "scenario_of"]

_TRIAL_CHUNK_BYTES = 4 * 2**20  # aim for HDF5 chunks of about 4 MiB


class ResultsError(ValueError):
    """A results file is missing, unreadable or not a salessim results file."""


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    enc = {}
    for name, var in ds.data_vars.items():
        e: dict = {"zlib": True, "complevel": 1, "shuffle": True}  # level 1: ~3% larger, much faster
        if var.ndim and var.size:
            if "trial" in var.dims:
                row = max(1, var.dtype.itemsize * var.size // max(ds.sizes["trial"], 1))
                n = int(np.clip(_TRIAL_CHUNK_BYTES // row, 1, ds.sizes["trial"]))
                e["chunksizes"] = tuple(n if d == "trial" else ds.sizes[d] for d in var.dims)
        else:
            e = {}
        enc[name] = e
    return enc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_results(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` atomically (chunked along ``trial``, gzip-compressed).

    Creates the parent folder if needed. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; results follow the umask
    try:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=_encoding(ds))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_results(path: str | os.PathLike) -> xr.Dataset:
    """Read a results file fully into memory (the file is closed on return)."""
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no such results file: {path}")
    if path.is_dir():
        raise ResultsError(f"is a directory, not a results file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # h5netcdf warns about foreign files before we reject them
            ds = xr.load_dataset(path, engine="h5netcdf", phony_dims="access")
    except Exception as exc:  # h5py/h5netcdf raise many kinds for a non-HDF5 file
        raise ResultsError(f"cannot read {path} as a salessim results file (HDF5): {exc}") from None
    if "salessim_version" not in ds.attrs or "scenario" not in ds.attrs:
        raise ResultsError(f"{path} is an HDF5 file but not salessim results (no salessim_version/scenario attributes)")
    return ds


def scenario_of(ds: xr.Dataset) -> Scenario:
    """The scenario a results Dataset was simulated from (from its ``scenario`` attribute)."""
    return Scenario.from_yaml(ds.attrs["scenario"], source="results file")

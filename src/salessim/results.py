"""Results files: xarray Datasets as netCDF4-flavoured HDF5 (h5netcdf engine).

Writes are atomic (:mod:`salessim._files`): the Dataset goes to a temporary file in the
target's folder, is flushed to disk, and only then renamed over the target. A failure, an
interrupt or a full disk leaves any earlier file at the target untouched and no temporary
file behind; free space is checked before each large write, so HDF5 never meets a full
disk mid-write. ``open_results(path, chunks=...)`` reads lazily (dask) for files larger
than memory.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5netcdf
import numpy as np

try:  # ISA-L's deflate writes standard zlib streams several times faster than zlib itself
    from isal.isal_zlib import compress as _deflate
    from isal.isal_zlib import decompress as _inflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    from zlib import compress as _deflate
    from zlib import decompress as _inflate
import xarray as xr

from ._files import commit, ensure_space, new_temp, remove_partials
from .scenario import Scenario

__all__ = ["ResultsError", "save_results", "open_results", "scenario_of", "file_trial_chunk"]

_TRIAL_CHUNK_BYTES = 4 * 2**20  # aim for HDF5 chunks of about 4 MiB
_COMPLEVEL = 1  # gzip level 1: files ~3% larger than level 4, written much faster
_PARALLEL_MIN_BYTES = 8 * 2**20  # variables at least this large are compressed in parallel


class ResultsError(ValueError):
    """A results file is missing, unreadable or not a salessim results file."""


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    enc = {}
    for name, var in ds.data_vars.items():
        e: dict = {"zlib": True, "complevel": _COMPLEVEL, "shuffle": True}
        if var.ndim and var.size:
            if "trial" in var.dims:
                row = max(1, var.dtype.itemsize * var.size // max(ds.sizes["trial"], 1))
                n = int(np.clip(_TRIAL_CHUNK_BYTES // row, 1, ds.sizes["trial"]))
                e["chunksizes"] = tuple(n if d == "trial" else ds.sizes[d] for d in var.dims)
        else:
            e = {}
        enc[name] = e
    if "trial" in ds.coords and ds.sizes["trial"]:  # the trial index compresses to almost nothing
        enc["trial"] = {"zlib": True, "complevel": _COMPLEVEL, "shuffle": True,
                        "chunksizes": (int(min(ds.sizes["trial"], _TRIAL_CHUNK_BYTES // 8)),)}
    return enc


def _write(ds: xr.Dataset, tmp: str) -> None:
    """xarray writes the structure and the small variables; the large per-trial variables
    are compressed chunk by chunk on all cores and written as raw HDF5 chunks.

    The chunks are gzip with the shuffle filter, exactly what HDF5 itself would write for
    the same filters, so any HDF5 reader (xarray, h5py, netCDF4) reads them as usual; only
    the compression, which dominates the time of a save, runs in parallel. Free space is
    checked before each write (the small variables at their uncompressed size, each large
    variable at its compressed size), so a full disk is an ``OSError(ENOSPC)`` raised by us
    before HDF5 runs out of room.
    """
    encoding = _encoding(ds)
    folder = Path(tmp).parent
    large = [name for name, var in ds.data_vars.items()
             if var.ndim and var.dims[0] == "trial" and var.nbytes >= _PARALLEL_MIN_BYTES]
    small = ds.drop_vars(large)
    ensure_space(folder, small.nbytes, "the results file")
    small.to_netcdf(tmp, engine="h5netcdf", encoding={k: v for k, v in encoding.items() if k not in large})
    if not large:
        return
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        with h5netcdf.File(tmp, "a") as f:
            for name in large:
                var = ds[name]
                chunks = encoding[name]["chunksizes"]
                data = np.ascontiguousarray(var.values)
                starts = range(0, data.shape[0], chunks[0])
                blocks = list(pool.map(lambda start: _shuffled_deflate(data[start : start + chunks[0]], chunks), starts))
                ensure_space(folder, sum(len(b) for b in blocks), "the results file")
                fill = {"fillvalue": np.nan} if var.dtype.kind == "f" else {}  # as xarray writes floats
                out = f.create_variable(name, var.dims, var.dtype, chunks=chunks, compression="gzip",
                                        compression_opts=_COMPLEVEL, shuffle=True, **fill)
                for key, value in var.attrs.items():
                    out.attrs[key] = value
                for start, block in zip(starts, blocks):
                    out._h5ds.id.write_direct_chunk((start,) + (0,) * (var.ndim - 1), block)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an interrupt stops the queued compressions


def _shuffled_deflate(block: np.ndarray, chunks: tuple[int, ...]) -> bytes:
    """One HDF5 chunk through the shuffle and deflate filters (padded to the full chunk)."""
    if block.shape[0] < chunks[0]:
        full = np.zeros(chunks, dtype=block.dtype)
        full[: block.shape[0]] = block
        block = full
    size = block.dtype.itemsize
    shuffled = np.ascontiguousarray(block.reshape(-1).view(np.uint8).reshape(-1, size).T)
    return _deflate(shuffled, _COMPLEVEL)


def save_results(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` atomically (chunked along ``trial``, gzip-compressed).

    Creates the parent folder if needed. Returns the path written. A full disk raises
    ``OSError(ENOSPC)`` ("no space left on <folder>") with ``path`` as it was.
    """
    path = Path(path)
    tmp = new_temp(path)
    try:
        _write(ds, str(tmp))
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    remove_partials(path)  # a finished write supersedes any interrupted stream to this target
    return path


def open_results(path: str | os.PathLike, chunks: dict | str | int | None = None) -> xr.Dataset:
    """Read a results file.

    Parameters
    ----------
    path : path
        A file written by :func:`save_results` or ``salessim run``.
    chunks : dict, int, "auto" or None
        None (default): load the file fully into memory and close it. Otherwise a lazy,
        dask-backed Dataset chunked along ``trial`` (``{"trial": 10_000}``, an int for the
        trial chunk, or ``"auto"``): nothing is read until computed, so files larger than
        memory can be reduced chunk by chunk (``summarize`` does). Needs dask
        (``pip install salessim[cluster]``); the file stays open until ``ds.close()``.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no such results file: {path}")
    if path.is_dir():
        raise ResultsError(f"is a directory, not a results file: {path}")
    if chunks is not None:
        try:
            import dask.array  # noqa: F401
        except ImportError:
            raise ResultsError("reading lazily (chunks=...) needs dask: pip install 'salessim[cluster]'") from None
        if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
            chunks = {"trial": int(chunks)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # h5netcdf warns about foreign files before we reject them
            if chunks is None:
                ds = xr.load_dataset(path, engine="h5netcdf", phony_dims="access")
            else:
                ds = xr.open_dataset(path, engine="h5netcdf", phony_dims="access", chunks=chunks)
    except Exception as exc:  # h5py/h5netcdf raise many kinds for a non-HDF5 file
        raise ResultsError(f"cannot read {path} as a salessim results file (HDF5): {exc}") from None
    if "salessim_version" not in ds.attrs or "scenario" not in ds.attrs:
        ds.close()
        raise ResultsError(f"{path} is an HDF5 file but not salessim results (no salessim_version/scenario attributes)")
    return ds


def file_trial_chunk(path: str | os.PathLike, default: int = 10_000) -> int:
    """Trials per HDF5 chunk of a results file (the smallest among its per-trial tables):
    reading in steps of this many trials decompresses every chunk once."""
    import h5py

    sizes = []
    try:
        with h5py.File(path, "r") as f:
            for var in f.values():
                if isinstance(var, h5py.Dataset) and var.ndim >= 2 and var.chunks and var.shape[0] > 0:
                    sizes.append(var.chunks[0])
    except OSError:
        return default
    return int(min(sizes)) if sizes else default


def scenario_of(ds: xr.Dataset) -> Scenario:
    """The scenario a results Dataset was simulated from (from its ``scenario`` attribute)."""
    return Scenario.from_yaml(ds.attrs["scenario"], source="results file")

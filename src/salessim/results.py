"""Results files: xarray Datasets as netCDF4-flavoured HDF5 (h5netcdf engine).

Writes are atomic (:mod:`salessim._files`): the Dataset goes to a temporary file in the
target's folder, is flushed to disk, and only then renamed over the target. A failure, an
interrupt or a full disk leaves any earlier file at the target untouched and no temporary
file behind; free space is checked before each large write, so HDF5 never meets a full
disk mid-write. ``open_results(path, chunks=...)`` reads lazily (dask) for files larger
than memory.

A simulation's results (numbers, string and datetime coordinates) are written by
:func:`_write_parts` with h5netcdf alone, from the plain arrays of
:class:`~salessim.engine.ResultParts`: ``salessim run`` writes its file that way without
importing xarray. It lays the file out as xarray's own h5netcdf writer does (dimension
scales, ``coordinates`` attributes, CF-encoded months, NaN fill values), so every reader
sees the same Dataset (a test checks it against ``Dataset.to_netcdf``). Anything else (the
what-if outputs) goes through xarray.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import zlib

try:  # ISA-L's deflate writes standard zlib streams several times faster than zlib itself
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    _isal = zlib
_adler32 = _isal.adler32
_inflate = _isal.decompress  # stream.py reads chunks back with it

from ._files import commit, ensure_space, new_temp, refuse_special, remove_partials
from .derived import DERIVED, add_derived, computable
from .scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["ResultsError", "save_results", "write_parts", "open_results", "scenario_of", "check_results",
           "REQUIRED_VARIABLES", "file_trial_chunk"]

_TRIAL_CHUNK_BYTES = 4 * 2**20  # aim for HDF5 chunks of about 4 MiB
_COMPLEVEL = 1  # gzip level 1: files ~3% larger than level 4, written much faster
_PARALLEL_MIN_BYTES = 8 * 2**20  # variables at least this large are compressed in parallel


class ResultsError(ValueError):
    """A results file is missing, unreadable or not a salessim results file."""


def _trial_chunks(dims: tuple[str, ...], shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """HDF5 chunk shape of a per-trial variable: whole rows of about ``_TRIAL_CHUNK_BYTES``."""
    trials = shape[dims.index("trial")]
    row = max(1, itemsize * int(np.prod(shape)) // max(trials, 1))
    n = int(np.clip(_TRIAL_CHUNK_BYTES // row, 1, trials))
    return tuple(n if d == "trial" else size for d, size in zip(dims, shape))


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    enc = {}
    for name, var in ds.data_vars.items():
        e: dict = {"zlib": True, "complevel": _COMPLEVEL, "shuffle": True}
        if var.ndim and var.size:
            if "trial" in var.dims:
                e["chunksizes"] = _trial_chunks(var.dims, var.shape, var.dtype.itemsize)
        else:
            e = {}
        enc[name] = e
    if "trial" in ds.coords and ds.sizes["trial"]:  # the trial index compresses to almost nothing
        enc["trial"] = {"zlib": True, "complevel": _COMPLEVEL, "shuffle": True,
                        "chunksizes": (int(min(ds.sizes["trial"], _TRIAL_CHUNK_BYTES // 8)),)}
    return enc


def _write(ds: xr.Dataset, tmp: str, pool: ThreadPoolExecutor) -> None:
    """Any Dataset (the what-if outputs): xarray writes the structure and the small variables;
    the large per-trial variables are compressed chunk by chunk on all cores (``pool``) and
    written as raw HDF5 chunks.

    The chunks are gzip with the shuffle filter, exactly what HDF5 itself would write for
    the same filters, so any HDF5 reader (xarray, h5py, netCDF4) reads them as usual; only
    the compression, which dominates the time of a save, runs in parallel. Free space is
    checked before each write (the small variables at their uncompressed size, each large
    variable at its compressed size), so a full disk is an ``OSError(ENOSPC)`` raised by us
    before HDF5 runs out of room.
    """
    import h5netcdf

    encoding = _encoding(ds)
    folder = Path(tmp).parent
    large = [name for name, var in ds.data_vars.items()
             if var.ndim and var.dims[0] == "trial" and var.nbytes >= _PARALLEL_MIN_BYTES]
    small = ds.drop_vars(large)
    ensure_space(folder, small.nbytes, "the results file")
    small.to_netcdf(tmp, engine="h5netcdf", encoding={k: v for k, v in encoding.items() if k not in large})
    if not large:
        return
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


def _shuffled_deflate(block: np.ndarray, chunks: tuple[int, ...]) -> bytes:
    """One HDF5 chunk through the shuffle and deflate filters (padded with zeros to the full chunk).

    The result is one zlib stream (RFC 1950) of the shuffled chunk, byte plane after byte
    plane, exactly what HDF5's shuffle + deflate filters decode. Each plane is its own run
    of deflate blocks: ISA-L level 1 where a sample of it compresses by at least
    ``1 - _STORE_RATIO``, else stored as it is (zlib level 0). Most byte planes of money
    (float64) are noise that deflate cannot shrink; storing them instead of searching them
    for matches halves the cost of compressing a float chunk and leaves the file the same size.
    """
    size = block.dtype.itemsize
    rows = np.ascontiguousarray(block).reshape(-1).view(np.uint8).reshape(-1, size)
    pad = int(np.prod(chunks)) - rows.shape[0]
    zeros = np.zeros(pad, dtype=np.uint8) if pad > 0 else None
    pieces = [_ZLIB_HEADER]
    check = 1
    for k in range(size):
        plane = np.ascontiguousarray(rows[:, k])  # the shuffle: byte k of every value
        check = _adler32(plane, check)
        pieces.append(_deflate_blocks(plane))
        if zeros is not None:  # the padding of a partial chunk: deflate's best case
            check = _adler32(zeros, check)
            pieces.append(_deflate_blocks(zeros, sample=False))
    pieces.append(_ZLIB_END + check.to_bytes(4, "big"))
    return b"".join(pieces)


_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, fastest (RFC 1950)
_ZLIB_END = b"\x01\x00\x00\xff\xff"  # an empty final stored block (RFC 1951), then the Adler-32 of the data
_SAMPLE_BYTES = 8192  # what a byte plane's compressibility is judged on
_STORE_RATIO = 0.9  # a plane whose sample deflates to more than this fraction is stored


def _deflate_blocks(data: np.ndarray, sample: bool = True) -> bytes:
    """Raw deflate blocks of ``data`` ending on a byte boundary, not final (a sync flush),
    so that runs of blocks concatenate into one stream. A fresh compressor for each run:
    no back-reference reaches into the runs before it."""
    head = data[:_SAMPLE_BYTES]
    if not sample or len(_isal.compress(head, _COMPLEVEL)) <= _STORE_RATIO * head.size:
        packer = _isal.compressobj(_COMPLEVEL, _isal.DEFLATED, -15)
    else:
        packer = zlib.compressobj(0, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)


_PLAIN_KINDS = "iuf"  # data variables the parts writer stores as they are (ints, unsigned, floats)


def _plain_parts(ds: xr.Dataset):
    """``ds`` as :class:`~salessim.engine.ResultParts` when :func:`_write_parts` can write it
    exactly as xarray would (numeric data, 1-D coordinates of numbers, strings or whole days), else None."""
    from .engine import ResultParts

    if not ds.sizes or min(ds.sizes.values()) == 0:
        return None
    for name, var in ds.data_vars.items():
        if var.dtype.kind not in _PLAIN_KINDS or not var.dims or var.encoding.get("dtype", var.dtype) != var.dtype:
            return None
    coords = {}
    for name, var in ds.coords.items():
        if var.ndim != 1:
            return None
        kind = var.dtype.kind
        if kind == "O" and not all(isinstance(v, str) for v in var.values):
            return None
        if kind == "M" and (var.dtype != np.dtype("datetime64[ns]") or _days(var.values) is None):
            return None
        if kind not in _PLAIN_KINDS + "OM":
            return None
        coords[name] = (var.dims, var.values, dict(var.attrs))
    if not all(isinstance(v, (str, int, float, np.integer, np.floating)) for v in ds.attrs.values()):
        return None
    data_vars = {name: (var.dims, var.values, dict(var.attrs)) for name, var in ds.data_vars.items()}
    return ResultParts(data_vars, coords, dict(ds.attrs))


_DAY_NS = 86_400 * 10**9


def _days(values: np.ndarray) -> np.ndarray | None:
    """datetime64[ns] values as whole days since the first (CF ``days since``), or None if not whole days."""
    ns = values.astype(np.int64)
    offsets = ns - ns[0]
    if np.any(offsets % _DAY_NS):
        return None
    return offsets // _DAY_NS


def _cf_time(values: np.ndarray) -> tuple[np.ndarray, dict]:
    """Encode datetime64[ns] whole days as xarray does: int64 days since the first, with units and calendar."""
    first = np.datetime_as_string(values[0], unit="D")
    return _days(values), {"units": f"days since {first} 00:00:00", "calendar": "proleptic_gregorian"}


def _create(tmp: str):
    """A new netCDF4 file for :func:`_write_parts` (an h5py ``File`` open for writing, as a context manager)."""
    from . import _netcdf

    return _netcdf.create(tmp)


def _write_parts(parts, tmp: str, pool: ThreadPoolExecutor) -> None:
    """Write :class:`~salessim.engine.ResultParts` as netCDF4-style HDF5 with h5py (no xarray, no h5netcdf).

    The file is the one ``xarray.Dataset(*parts).to_netcdf(engine="h5netcdf")`` with
    :func:`_encoding` would give (:mod:`salessim._netcdf` lays it out object for object as
    h5netcdf does): one dimension scale per dimension, coordinates listed in each
    variable's ``coordinates`` attribute, months as ``days since`` the first, NaN as the
    fill value of floats, per-trial variables in chunks of :func:`_trial_chunks` (their
    gzip + shuffle chunks compressed on all cores while the structure is written, then
    written raw), everything else gzip-compressed by HDF5.
    """
    from ._netcdf import Variable, write

    folder = Path(tmp).parent
    other_coords = [name for name, (dims, _, _) in parts.coords.items() if tuple(dims) != (name,)]
    per_trial = [name for name, (dims, _, _) in parts.data_vars.items() if dims[0] == "trial"]
    small_bytes = sum(np.asarray(data).nbytes for name, (_, data, _) in parts.data_vars.items() if name not in per_trial)
    ensure_space(folder, small_bytes + sum(np.asarray(d).nbytes for _, d, _ in parts.coords.values()), "the results file")

    # the big tables are compressed in the pool while the file's structure is written
    blocks = {}
    for name in per_trial:
        dims, data, _ = parts.data_vars[name]
        data = np.ascontiguousarray(data)
        chunks = _trial_chunks(tuple(dims), data.shape, data.dtype.itemsize)
        blocks[name] = (chunks, [pool.submit(_shuffled_deflate, data[start : start + chunks[0]], chunks)
                                 for start in range(0, data.shape[0], chunks[0])])

    gzip = {"compression": "gzip", "compression_opts": _COMPLEVEL, "shuffle": True}
    coords = {}
    for name, (dims, data, attrs) in parts.coords.items():
        data = np.asarray(data)
        attrs = dict(attrs)
        if data.dtype.kind == "M":
            data, cf = _cf_time(data)
            attrs |= cf
        storage = {"chunks": (int(min(data.shape[0], _TRIAL_CHUNK_BYTES // 8)),)} | gzip if name == "trial" else {}
        coords[name] = Variable(tuple(dims), data, attrs, storage)
    data_vars = {}
    for name, (dims, data, attrs) in parts.data_vars.items():
        data = np.asarray(data)
        attrs = dict(attrs)
        listed = sorted(c for c in other_coords if set(parts.coords[c][0]) <= set(dims))  # as xarray lists them
        if listed:
            attrs["coordinates"] = " ".join(listed)
        storage = dict(gzip)
        if data.dtype.kind == "f":
            storage["fillvalue"] = np.nan  # as xarray writes floats
        if name in blocks:
            storage["chunks"] = blocks[name][0]
        data_vars[name] = Variable(tuple(dims), data, attrs, storage, raw=name in blocks)

    with _create(tmp) as f:
        written = write(f, data_vars, coords, parts.attrs)
        for name, (chunks, pending) in blocks.items():
            done = [future.result() for future in pending]
            ensure_space(folder, sum(len(b) for b in done), "the results file")
            dset = written[name].id
            for i, block in enumerate(done):
                dset.write_direct_chunk((i * chunks[0],) + (0,) * (len(chunks) - 1), block)


def save_results(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` atomically (chunked along ``trial``, gzip-compressed).

    Creates the parent folder if needed. Returns the path written. A full disk raises
    ``OSError(ENOSPC)`` ("no space left on <folder>") with ``path`` as it was.
    """
    ds = _without_derived(ds)
    parts = _plain_parts(ds)
    if parts is None:
        return _save(path, lambda tmp, pool: _write(ds, tmp, pool))
    return write_parts(parts, path)


def _without_derived(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without the derived variables that :func:`open_results` computes again exactly
    (:data:`salessim.derived.DERIVED`): a file stores only what it cannot
    recompute. One that differs from its recomputation (edited by hand) is kept, and wins on open."""
    from .summary import scenario_of

    present = [name for name in DERIVED if name in ds.data_vars]
    if not present or not computable(ds):
        return ds
    try:
        scenario = scenario_of(ds)
    except Exception:  # no readable scenario: nothing to recompute them from
        return ds
    fresh = add_derived(ds.drop_vars(present), scenario)
    same = [name for name in present if name in fresh.data_vars and fresh[name].dims == ds[name].dims
            and np.array_equal(fresh[name].values, ds[name].values, equal_nan=True)]
    return ds.drop_vars(same)


def write_parts(parts, path: str | os.PathLike) -> Path:
    """Write a run's :class:`~salessim.engine.ResultParts` to ``path`` atomically, as
    :func:`save_results` writes the Dataset they make (without importing xarray)."""
    return _save(path, lambda tmp, pool: _write_parts(parts, tmp, pool))


def _save(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    refuse_special(path)
    tmp = new_temp(path)
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        write(str(tmp), pool)
        commit(tmp, path)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # an interrupt stops the queued compressions
        tmp.unlink(missing_ok=True)
        raise
    pool.shutdown(wait=True)
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

    Raises
    ------
    ResultsError
        The file is missing, not a regular file, not salessim results, or fails
        :func:`check_results` (edited, incomplete or inconsistent).
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no such results file: {path}")
    if path.is_dir():
        raise ResultsError(f"is a directory, not a results file: {path}")
    if not path.is_file():  # a pipe would block the reader, a device never ends
        raise ResultsError(f"{path} is not a regular file (a device, pipe or socket), so not a results file")
    if chunks is not None:
        try:
            import dask.array  # noqa: F401
        except ImportError:
            raise ResultsError("reading lazily (chunks=...) needs dask: pip install 'salessim[cluster]'") from None
        if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
            chunks = {"trial": int(chunks)}
    import xarray as xr

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # h5netcdf warns about foreign files before we reject them
            if chunks is None:
                ds = xr.load_dataset(path, engine="h5netcdf", phony_dims="access")
            else:
                ds = xr.open_dataset(path, engine="h5netcdf", phony_dims="access", chunks=chunks)
    except Exception as exc:  # h5py/h5netcdf raise many kinds for a non-HDF5 file
        raise ResultsError(f"cannot read {path} as a salessim results file (HDF5): {exc}") from None
    try:
        check_results(ds, path)
    except ResultsError:
        ds.close()
        raise
    return _with_derived(ds)


def _with_derived(ds: xr.Dataset) -> xr.Dataset:
    """A file's Dataset with the derived variables it does not store (lazy ones for a lazy
    Dataset), computed as :func:`~salessim.simulate` computes them: the same bits."""
    if all(name in ds.variables for name in DERIVED) or not computable(ds):
        return ds  # what-if outputs and --keep yearly files have none to add
    from .summary import scenario_of

    out = add_derived(ds, scenario_of(ds))
    if out is not ds:
        out.set_close(ds.close)  # closing the result closes the file of a lazy read
    return out


def file_trial_chunk(path: str | os.PathLike, default: int = 10_000) -> int:
    """Trials per HDF5 chunk of a results file (the smallest among its per-trial tables):
    reading in steps of this many trials decompresses every chunk once."""
    import h5py

    sizes = []
    try:
        with h5py.File(path, "r") as f:
            for var in f.values():
                if not (isinstance(var, h5py.Dataset) and var.ndim >= 2 and var.chunks and var.shape[0] > 0):
                    continue
                try:  # only tables along trial: a (fiscal_year, territory) table's chunk says nothing about trials
                    first = [scale.name for scale in var.dims[0].values()]
                except Exception:
                    continue
                if "/trial" in first:
                    sizes.append(var.chunks[0])
    except OSError:
        return default
    return int(min(sizes)) if sizes else default


# What every reader of a simulation's results (summary, report, export, plot) relies on.
REQUIRED_VARIABLES = ("headcount", "ramped_fte", "hires", "departures", "leads", "leads_unworked", "opportunities",
                      "wins", "bookings", "quota", "pipeline_end", "goal", "attainment", "tenure")
_REQUIRED_COORDS = ("trial", "month", "territory", "fiscal_year", "seat", "fiscal_year_of_month")
# ... and what a --keep yearly file keeps of them (salessim.yearly)
YEARLY_REQUIRED_VARIABLES = ("headcount", "hires", "departures", "leads", "wins", "bookings", "pipeline_end", "goal",
                             "attainment", "reps_at_quota", "rep_attainment")
_YEARLY_REQUIRED_COORDS = ("trial", "territory", "fiscal_year", "seat")


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_results(ds: xr.Dataset, path: str | os.PathLike, *, what_if_ok: bool = True) -> None:
    """Raise :class:`ResultsError` unless ``ds`` is results that salessim's readers can use.

    The one check behind :func:`open_results` and the chunked reader of
    :func:`salessim.stream.summarize_file`. It reads only attributes, dimensions and
    coordinates (a lazily opened file stays unread): the provenance attributes
    (``salessim_version``, ``scenario``, ``seed``, ``trials``), then, for a simulation's
    results, the variables every reader needs with the dimensions of the registry, and the
    stored scenario, which must be valid and match the file's months, territories, fiscal
    years, seats and trial count. A file whose ``scenario`` was edited, or that lost a
    variable or an attribute, gets one message naming what is wrong. A what-if output
    (compare, sweep, solve, sensitivity) passes only with ``what_if_ok``: pictures read
    those, the summary does not.
    """
    from .variables import VARIABLES

    attrs = ds.attrs
    if "salessim_version" not in attrs or "scenario" not in attrs:
        raise ResultsError(f"{path} is an HDF5 file but not salessim results (no salessim_version/scenario attributes)")
    for key in ("seed", "trials"):
        if key not in attrs:
            raise ResultsError(f"{path} lacks the {key!r} attribute of salessim results (was the file edited?)")
        if not _whole(attrs[key]) or attrs[key] < (1 if key == "trials" else 0):
            raise ResultsError(f"{path}: the {key!r} attribute must be a whole number, got {str(attrs[key])[:80]!r}")
    # a simulation with uncertain parameters has a parameter dimension too (parameter_value)
    if "what_if" in attrs or "scenario" in ds.dims or ("parameter" in ds.dims and "parameter_value" not in ds.variables):
        if what_if_ok:
            return  # what-if output or stacked plans: the picture drawn from it checks its variables
        kind = attrs.get("what_if", "what-if")
        raise ResultsError(f"{path} is a {kind} output, not the results of one simulation (salessim run); "
                           "plot it with salessim plot --kind compare or tornado")
    yearly = attrs.get("keep") == "yearly"  # --keep yearly: fiscal-year figures, no months
    required = YEARLY_REQUIRED_VARIABLES + _YEARLY_REQUIRED_COORDS if yearly else REQUIRED_VARIABLES + _REQUIRED_COORDS
    lacking = [name for name in required if name not in ds.variables]
    if lacking:
        raise ResultsError(f"{path} lacks {', '.join(lacking)}: not complete salessim results (was the file edited?)")
    for var in VARIABLES:
        if var.name in ds.data_vars and ds[var.name].dims != var.dims and not (yearly and "month" in var.dims):
            raise ResultsError(f"{path}: {var.name} has dimensions {ds[var.name].dims}, salessim results have {var.dims}")
    if ds.sizes["trial"] != int(attrs["trials"]):
        raise ResultsError(f"{path}: the 'trials' attribute says {int(attrs['trials']):,} but the file holds "
                           f"{ds.sizes['trial']:,} trials")
    sc = _stored_scenario(attrs["scenario"], path)
    territories = [str(t) for t in ds["territory"].values]
    expected = {
        "months": (ds.sizes["month"] if "month" in ds.sizes else sc.horizon_months, sc.horizon_months),
        "territories": (territories, [t.name for t in sc.territories]),
        "fiscal years": ([int(y) for y in ds["fiscal_year"].values], [y for y, _ in sc.fiscal_years()]),
        "seats": (ds.sizes["seat"], len(sc.seat_territories())),
    }
    for what, (found, wanted) in expected.items():
        if found != wanted:
            raise ResultsError(f"{path}: the file's {what} ({str(found)[:80]}) do not match its scenario attribute "
                               f"({str(wanted)[:80]}); was the file edited?")


def _stored_scenario(text: object, source: str | os.PathLike) -> Scenario:
    if not isinstance(text, str):
        raise ResultsError(f"{source}: the 'scenario' attribute is not text, so the scenario cannot be read")
    try:
        return Scenario.from_yaml(text, source="results file")
    except ScenarioError as exc:
        shown = "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in exc.problems[:3])
        more = f" (and {len(exc.problems) - 3} more)" if len(exc.problems) > 3 else ""
        raise ResultsError(f"{source}: the scenario stored in the file is not valid (was it edited?): {shown}{more}") from None


def scenario_of(ds: xr.Dataset) -> Scenario:
    """The scenario a results Dataset was simulated from (from its ``scenario`` attribute).

    Raises
    ------
    ResultsError
        The attribute is missing, not text, or not a valid scenario.
    """
    if "scenario" not in ds.attrs:
        raise ResultsError("the results have no 'scenario' attribute, so their scenario is unknown")
    return _stored_scenario(ds.attrs["scenario"], "results")

"""The results writer (salessim._netcdf through results.write_parts) against xarray + h5netcdf.

``write_parts`` writes HDF5 with h5py directly; the file must be the one
``Dataset.to_netcdf(engine="h5netcdf")`` writes, object for object: every reader (h5py,
h5netcdf, xarray, netCDF4-python) sees the same thing. The raw chunks must decode, through
HDF5's own shuffle and deflate filters, to exactly the values.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import h5netcdf
import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from salessim import results

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module", params=["baseline", "midyear"])  # midyear: uncertain parameters, actuals
def files(request, tmp_path_factory):
    """The same 30-trial run written both ways, with small chunks: several per variable, the last one partial."""
    ds = salessim.simulate(salessim.load_scenario(SCENARIOS / f"{request.param}.yaml"), trials=30, seed=3)
    folder = tmp_path_factory.mktemp(request.param)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(results, "_TRIAL_CHUNK_BYTES", 4000)
        parts = results._plain_parts(ds)
        assert parts is not None
        ours = results.write_parts(parts, folder / "parts.h5")
        theirs = folder / "xarray.h5"
        ds.to_netcdf(theirs, engine="h5netcdf", encoding=results._encoding(ds))
    return ds, ours, theirs


# --------------------------------------------------------------------------- HDF5 level


def _plain(f: h5py.File, value):
    """An attribute value with object references replaced by the names they point to (comparable)."""
    if isinstance(value, h5py.Reference):
        return f[value].name
    if isinstance(value, np.void):
        return tuple(_plain(f, v) for v in value.tolist())
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O" or value.dtype.names:
            return [_plain(f, v) for v in value.tolist()]
        return (str(value.dtype), value.shape, repr(value.tolist()))  # repr: NaN equals NaN
    if isinstance(value, (list, tuple)):
        return [_plain(f, v) for v in value]
    return (type(value).__name__, repr(value))


def _type(dtype: np.dtype):
    text = h5py.check_string_dtype(dtype)
    return ("text", text.encoding, text.length) if text else str(dtype)


def _attrs(f: h5py.File, obj) -> list:
    """Every attribute in creation order: name, HDF5 type, shape and value."""
    return [(k, _type(obj.attrs.get_id(k).dtype), obj.attrs.get_id(k).shape, _plain(f, obj.attrs[k])) for k in obj.attrs]


def _hdf5(path: Path) -> dict:
    """Everything HDF5 stores about the file's objects except where their bytes lie."""
    out = {}
    with h5py.File(path, "r") as f:
        plist = f.id.get_create_plist()
        out["/"] = (list(f), plist.get_link_creation_order(), plist.get_attr_creation_order(),
                    [a for a in _attrs(f, f) if a[0] != "_NCProperties"])
        for name, dset in f.items():
            dcpl = dset.id.get_create_plist()
            fill = None
            if dset.dtype.kind != "O":
                fill = np.zeros((), dset.dtype)
                dcpl.get_fill_value(fill)
                fill = fill.tobytes()
            out[name] = {
                "shape": dset.shape, "maxshape": dset.maxshape, "type": _type(dset.dtype), "chunks": dset.chunks,
                "filters": [dcpl.get_filter(i)[:3] for i in range(dcpl.get_nfilters())], "fill": fill,
                "fill_time": dcpl.get_fill_time(), "alloc_time": dcpl.get_alloc_time(), "layout": dcpl.get_layout(),
                "attr_order": dcpl.get_attr_creation_order(), "attrs": _attrs(f, dset),
            }
    return out


def test_every_hdf5_object_and_attribute_is_what_h5netcdf_writes(files):
    _, ours, theirs = files
    mine, reference = _hdf5(ours), _hdf5(theirs)
    assert list(mine) == list(reference)  # the same datasets, linked in the same order
    for name in reference:
        assert mine[name] == reference[name], name


def test_the_provenance_attribute_names_the_writer(files):
    _, ours, theirs = files
    with h5py.File(ours, "r") as f, h5py.File(theirs, "r") as g:
        mine, reference = f.attrs.get_id("_NCProperties"), g.attrs.get_id("_NCProperties")
        assert _type(mine.dtype) == ("text", "ascii", len(f.attrs["_NCProperties"]))  # fixed-length ASCII, as h5netcdf
        assert mine.shape == reference.shape == ()
        text = f.attrs["_NCProperties"].decode()
        assert text.startswith("version=2,salessim=" + salessim.__version__ + ",hdf5=")
        assert list(f.attrs)[-1] == "_NCProperties"


def test_values_are_bit_identical(files):
    ds, ours, theirs = files
    with h5py.File(ours, "r") as f, h5py.File(theirs, "r") as g:
        for name in g:
            mine, reference = f[name][()], g[name][()]
            assert mine.dtype == reference.dtype, name
            if mine.dtype.kind == "O":
                assert list(mine) == list(reference), name
            else:
                assert mine.tobytes() == reference.tobytes(), name
        assert f["bookings"].chunks[0] < ds.sizes["trial"]  # the raw-chunk path was taken, with a partial last chunk
        assert ds.sizes["trial"] % f["bookings"].chunks[0]


# --------------------------------------------------------------------------- netCDF level


def _netcdf_view(path: Path) -> dict:
    """What h5netcdf shows: dimensions, variables (in order) with dims, dtype, chunking, filters and attributes."""
    with h5netcdf.File(path, "r") as f:
        return {
            "dimensions": [(name, dim.size, dim.isunlimited()) for name, dim in f.dimensions.items()],
            "attrs": [(k, repr(v)) for k, v in f.attrs.items()],
            "variables": [(name, v.dimensions, str(v.dtype), v.chunks, v.filters(), repr(list(v.attrs.items())))
                          for name, v in f.variables.items()],
        }


def test_h5netcdf_reads_what_it_would_have_written(files):
    _, ours, theirs = files
    assert _netcdf_view(ours) == _netcdf_view(theirs)


def test_xarray_reads_the_dataset_back(files):
    ds, ours, theirs = files
    xr.testing.assert_identical(xr.load_dataset(ours, engine="h5netcdf"), xr.load_dataset(theirs, engine="h5netcdf"))
    xr.testing.assert_identical(salessim.open_results(ours), ds)


def test_netcdf4_python_reads_it(files):
    netCDF4 = pytest.importorskip("netCDF4")
    ds, ours, _ = files
    with netCDF4.Dataset(ours) as nc:
        assert nc.data_model == "NETCDF4"
        assert {k: len(d) for k, d in nc.dimensions.items()} == dict(ds.sizes)
        assert set(nc.variables) == set(ds.variables)
        bookings = nc["bookings"]
        assert bookings.dimensions == ds["bookings"].dims
        assert bookings.filters()["zlib"] and bookings.filters()["shuffle"] and bookings.filters()["complevel"] == 1
        np.testing.assert_array_equal(bookings[:].filled(np.nan), ds["bookings"].values)
        assert list(nc["territory"][:]) == list(ds["territory"].values)
        assert nc["month"].units.startswith("days since ")
        assert nc.getncattr("seed") == int(ds.attrs["seed"])


# --------------------------------------------------------------------------- the chunk encoder


def _shuffled_reference(block: np.ndarray, chunks: tuple[int, ...]) -> bytes:
    """HDF5's shuffle filter applied to the zero-padded chunk."""
    full = np.zeros(chunks, dtype=block.dtype)
    full[: block.shape[0]] = block
    return full.reshape(-1).view(np.uint8).reshape(-1, block.dtype.itemsize).T.tobytes()


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(["f8", "f4", "i4", "i8", "i1", "u2"]), rows=st.integers(0, 300), pad=st.integers(0, 50),
       width=st.integers(1, 40), noise=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_a_chunk_decodes_to_its_shuffled_padded_bytes(dtype, rows, pad, width, noise, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        block = (rng.standard_normal((rows, width)) * (1e9 if noise else 1)).round(0 if not noise else 6).astype(dtype)
    else:
        info = np.iinfo(dtype)
        block = (rng.integers(info.min, info.max, (rows, width), endpoint=True, dtype=dtype) if noise
                 else rng.poisson(2, (rows, width)).astype(dtype))
    chunks = (rows + pad, width)
    encoded = results._shuffled_deflate(block, chunks)
    assert zlib.decompress(encoded) == _shuffled_reference(block, chunks)
    assert encoded[:2] == b"\x78\x01"  # a zlib stream, as HDF5's deflate filter expects


def test_noise_is_stored_and_structure_is_compressed():
    rng = np.random.default_rng(7)
    noise = rng.standard_normal((4000, 30)) * 1e6  # money-like: six of eight byte planes are noise
    encoded = results._shuffled_deflate(noise, noise.shape)
    assert zlib.decompress(encoded) == _shuffled_reference(noise, noise.shape)
    assert len(encoded) <= len(zlib.compress(_shuffled_reference(noise, noise.shape), 1)) * 1.01
    counts = rng.poisson(3, (4000, 30)).astype(np.int32)  # small counts: the high bytes are all zero
    packed = results._shuffled_deflate(counts, counts.shape)
    assert len(packed) < counts.nbytes / 3
    partial = results._shuffled_deflate(noise[:10], noise.shape)  # a short last chunk: the padding costs nothing
    assert len(partial) < noise[:10].nbytes + 4096

"""netCDF4 files written with h5py directly, object for object as h5netcdf writes them.

h5netcdf (and so xarray's ``engine="h5netcdf"``) keeps its netCDF bookkeeping in Python:
every variable looks its dimensions up through h5py objects, and each coordinate
variable is made by deleting the dimension's placeholder dataset, creating it again and
re-attaching every variable that uses it. That costs several milliseconds a variable,
about 0.25 s for the ~40 variables of a simulation's results. This module writes the same
HDF5 objects with h5py's dimension-scale API (``h5py.h5ds``), once each:

* one dimension scale per dimension, numbered in order of first use (``_Netcdf4Dimid``);
  a dimension with a coordinate variable of the same name is that variable, any other is
  the ``>f4`` placeholder netCDF-C calls "a netCDF dimension but not a netCDF variable";
* on every variable: its scales attached (``DIMENSION_LIST``; the scales'
  ``REFERENCE_LIST``), ``_Netcdf4Coordinates`` (the dimension ids) and ``_Netcdf4Dimid``;
* attributes typed as h5netcdf types them: text as variable-length UTF-8, numbers as
  1-element arrays; ``_FillValue`` where a fill value is given;
* ``_NCProperties`` on the root group, the provenance netCDF-C and h5netcdf write;
* attribute and link creation order tracked (h5netcdf's ``track_order``), and everything
  created in h5netcdf's order: data variables, then coordinates (a coordinate's dataset
  exists from the start, anonymous, so that variables can attach to it, and is linked in
  its turn), with h5netcdf's two side effects of re-creating a coordinate reproduced (a
  zero ``_Netcdf4Dimid`` written again after ``_Netcdf4Coordinates``; a one-dimensional
  variable's ``DIMENSION_LIST`` moved after its other attributes).

So h5netcdf, xarray, netCDF4-python and plain h5py read the file exactly as one written
by h5netcdf (a test compares every object, attribute, dtype, chunk shape and filter with
``Dataset.to_netcdf``'s file).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import h5py
import numpy as np

NOT_A_VARIABLE = b"This is a netCDF dimension but not a netCDF variable."


class Variable(NamedTuple):
    """One netCDF variable as stored.

    ``data`` holds the values as stored (already CF-encoded; text as an object array of
    str). ``storage`` holds ``h5py.Group.create_dataset`` keywords (``chunks``,
    ``compression``, ``compression_opts``, ``shuffle``, ``fillvalue``). With ``raw`` the
    data is not written: the caller writes the chunks itself (``write_direct_chunk``) and
    ``data`` gives only the shape and dtype.
    """

    dims: tuple[str, ...]
    data: np.ndarray
    attrs: dict
    storage: dict
    raw: bool = False


@contextmanager
def create(path: str) -> Iterator[h5py.File]:
    """A new netCDF4 file at ``path``, open for :func:`write`; ``_NCProperties`` is stamped
    when the block ends without error, and the file is closed either way."""
    f = h5py.File(path, "w", track_order=True)
    try:
        yield f
        text = (f"version=2,salessim={_version()},hdf5={h5py.version.hdf5_version},"
                f"h5py={h5py.__version__}")
        f.attrs["_NCProperties"] = np.array(text, dtype=h5py.string_dtype("ascii", len(text)))
    finally:
        f.close()


def _version() -> str:
    from . import __version__

    return __version__


def write(f: h5py.File, data_vars: dict[str, Variable], coords: dict[str, Variable],
          attrs: dict) -> dict[str, h5py.Dataset]:
    """Write the variables and attributes of a Dataset into the new file ``f``.

    Returns the HDF5 dataset of every variable, by name (the ``raw`` ones to be filled by
    the caller).
    """
    sizes: dict[str, int] = {}
    for var in (*data_vars.values(), *coords.values()):  # h5netcdf numbers dimensions in this order
        for dim, n in zip(var.dims, var.data.shape):
            sizes.setdefault(dim, int(n))
    dimids = {dim: np.int32(i) for i, dim in enumerate(sizes)}
    for key, value in attrs.items():
        _set_attr(f, key, value)

    scales: dict[str, h5py.Dataset] = {}
    for dim, n in sizes.items():
        coord = coords.get(dim)
        if coord is not None and tuple(coord.dims) == (dim,):
            scale = _dataset(f, None, coord)  # linked after the data variables, as h5netcdf re-creates it
            if dimids[dim]:  # h5netcdf writes a zero id again later (see below)
                scale.attrs["_Netcdf4Dimid"] = dimids[dim]
            h5py.h5ds.set_scale(scale.id, dim.encode())
        else:
            scale = f.create_dataset(dim, (n,), dtype=">f4", track_order=True)
            scale.attrs["_Netcdf4Dimid"] = dimids[dim]
            h5py.h5ds.set_scale(scale.id, NOT_A_VARIABLE + f"{n:10}".encode())
        scales[dim] = scale

    out: dict[str, h5py.Dataset] = {}
    one_dim: dict[str, list[h5py.Dataset]] = {dim: [] for dim in sizes}  # attached before the coordinate exists
    linked: set[str] = set()

    def variable(name: str, var: Variable) -> None:
        dset = _dataset(f, name, var)
        for axis, dim in enumerate(var.dims):
            h5py.h5ds.attach_scale(dset.id, scales[dim].id, axis)
        if len(var.dims) == 1 and var.dims[0] in coords and var.dims[0] not in linked:
            one_dim[var.dims[0]].append(dset)
        _finish(dset, var, dimids)
        out[name] = dset

    for name, var in data_vars.items():
        variable(name, var)
    for name, var in coords.items():
        if scales.get(name) is None or tuple(var.dims) != (name,):
            variable(name, var)
            continue
        scale = scales[name]
        f[name] = scale  # h5netcdf deletes the placeholder and creates the coordinate here
        linked.add(name)
        for dset in one_dim[name]:  # ... detaching every variable (a 1-D one loses its DIMENSION_LIST) and re-attaching it
            _move_last(dset, "DIMENSION_LIST")
        _finish(scale, var, dimids, dimid_again=dimids[name] == 0)
        out[name] = scale
    return out


def _dataset(f: h5py.File, name: str | None, var: Variable) -> h5py.Dataset:
    dtype = h5py.string_dtype() if var.data.dtype.kind == "O" else var.data.dtype  # variable-length UTF-8
    return f.create_dataset(name, var.data.shape, dtype=dtype, track_order=True, **var.storage)


def _finish(dset: h5py.Dataset, var: Variable, dimids: dict, dimid_again: bool = False) -> None:
    """The netCDF attributes, the variable's own attributes and its data, in h5netcdf's order."""
    if var.dims:
        dset.attrs["_Netcdf4Coordinates"] = np.array([dimids[d] for d in var.dims], dtype=np.int32)
        if dimid_again or "_Netcdf4Dimid" not in dset.attrs:  # h5netcdf: the id of the first dimension
            dset.attrs["_Netcdf4Dimid"] = dimids[var.dims[0]]
    if var.storage.get("fillvalue") is not None:
        _set_attr(dset, "_FillValue", var.data.dtype.type(var.storage["fillvalue"]))
    for key, value in var.attrs.items():
        _set_attr(dset, key, value)
    if not var.raw and var.data.size:
        dset[...] = var.data


def _set_attr(obj: h5py.HLObject, key: str, value: object) -> None:
    """An attribute as h5netcdf stores it: numbers (not text) as 1-element arrays."""
    if np.isscalar(value) and np.asarray(value).dtype.kind not in "SU":
        value = np.atleast_1d(value)
    obj.attrs[key] = value


def _move_last(dset: h5py.Dataset, key: str) -> None:
    """Re-create the attribute ``key`` so that it comes last in creation order."""
    attr = dset.attrs.get_id(key)
    value = np.empty(attr.shape, dtype=attr.dtype)
    attr.read(value)
    tid, space = attr.get_type(), attr.get_space()
    del attr
    h5py.h5a.delete(dset.id, key.encode())
    h5py.h5a.create(dset.id, key.encode(), tid, space).write(value)

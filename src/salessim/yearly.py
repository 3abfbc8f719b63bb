"""``--keep yearly``: keep only what the summary needs, per trial and fiscal year, plus
per-seat attainment.

A full results file stores every month (about 7.1 KB per trial for the baseline); at
10^8 trials that is 0.7 TB. :func:`to_yearly` reduces a results Dataset to

- every per-month variable the summary reads (all but :data:`NOT_SUMMARISED`: quota,
  open reqs, churn counts, downturn flags) as one value per (trial, fiscal_year[, territory]): the total
  over the fiscal year's months for flows (bookings, leads, costs, ...), the value in the
  fiscal year's last month for stocks (:data:`YEAR_END`: headcount, ramped FTE, open reqs,
  ARR). Months outside the full fiscal years are dropped, as the summary ignores them.
- the derived money variables (``sales_cost`` and its parts, ``revenue``) as fiscal-year
  totals, computed from the totals of what they are computed from, as the summary does
  (:func:`salessim.derived.year_totals`; a full file does not store them);
- ``reps_at_quota`` and ``rep_attainment`` (trial, fiscal_year): the summary's per-trial
  figures, computed from the full-precision attainment;
- ``attainment`` (trial, fiscal_year, seat) as float32 (7 significant digits), for
  pictures and per-rep analysis;
- every variable without a month or seat dimension (``pipeline_end``, ``goal``, ...) as is.

The sums are computed exactly as :func:`salessim.summary.trial_values` computes them from
the months, so ``summarize(to_yearly(ds))`` equals ``summarize(ds)``, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .derived import DERIVED, DERIVED_FROM, year_totals
from .summary import fiscal_year_masks, seat_stats

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["KEEP", "YEAR_END", "to_yearly", "is_yearly"]

KEEP = ("full", "yearly")
YEAR_END = frozenset({"headcount", "ramped_fte", "open_reqs", "arr"})  # stocks: read at the year's end
# per-month variables the summary never reads; every other one (new ones included) is kept
NOT_SUMMARISED = frozenset({"quota", "open_reqs", "churned_customers", "churned_arr", "downturn"})


def _derived_totals(ds: xr.Dataset, masks: dict) -> dict[str, tuple]:
    """The derived money variables (trial, fiscal_year, territory), from the fiscal-year
    totals of what they are computed from, as the summary computes them (:func:`salessim.derived.year_totals`)."""
    from .summary import scenario_of
    from .variables import by_name

    def total(name):
        values = ds[name].values
        layers = [values[:, idx].sum(axis=1) for idx in masks.values()]
        return np.stack(layers, axis=1) if layers else np.zeros((values.shape[0], 0) + values.shape[2:])

    scenario = scenario_of(ds)
    how = "total over the fiscal year's months"
    out = {}
    for name, data in year_totals(total, scenario).items():
        attrs = by_name(name).attrs(scenario.spec.currency)
        attrs |= {"long_name": f"{attrs['long_name']} ({how})", "description": f"{attrs['description']} Kept per fiscal year: {how}."}
        out[name] = (("trial", "fiscal_year", "territory"), data, attrs)
    return out


def is_yearly(ds: xr.Dataset) -> bool:
    return ds.attrs.get("keep") == "yearly"


def to_yearly(ds: xr.Dataset) -> xr.Dataset:
    """The ``--keep yearly`` reduction of a full results Dataset (see the module docstring)."""
    import xarray as xr

    if is_yearly(ds):
        return ds
    masks = fiscal_year_masks(ds)
    years = list(masks)
    out: dict[str, tuple] = {}
    derived = all(name in ds.data_vars and "month" in ds[name].dims for name in DERIVED_FROM)
    for name, var in ds.data_vars.items():
        if name in NOT_SUMMARISED or (derived and name in DERIVED):  # the derived ones: below, from totals
            continue
        if "month" in var.dims:
            assert var.dims[:2] == ("trial", "month"), name
            values = var.values
            if name in YEAR_END:
                layers = [values[:, idx[-1]] for idx in masks.values()]
                how = "in the fiscal year's last month"
            else:
                layers = [values[:, idx].sum(axis=1) for idx in masks.values()]  # as trial_values sums them
                how = "total over the fiscal year's months"
            data = np.stack(layers, axis=1) if layers else np.zeros((values.shape[0], 0) + values.shape[2:], values.dtype)
            dims = ("trial", "fiscal_year") + var.dims[2:]
            attrs = dict(var.attrs, long_name=f"{var.attrs.get('long_name', name)} ({how})",
                         description=f"{var.attrs.get('description', '')} Kept per fiscal year: {how}.".strip())
            out[name] = (dims, data, attrs)
        elif "seat" in var.dims:
            if name == "attainment":
                att = var.values
                share = np.stack([seat_stats(att[:, j])[0] for j in range(len(years))], axis=1) if years else att[:, :, 0]
                mean = np.stack([seat_stats(att[:, j])[1] for j in range(len(years))], axis=1) if years else att[:, :, 0]
                out["reps_at_quota"] = (("trial", "fiscal_year"), share,
                                        {"units": "1", "long_name": "share of filled seats at or above quota",
                                         "description": "Per trial: filled seats whose rep attained >= 100% over filled seats."})
                out["rep_attainment"] = (("trial", "fiscal_year"), mean,
                                         {"units": "1", "long_name": "mean rep attainment",
                                          "description": "Per trial: mean attainment over filled seats."})
                out[name] = (var.dims, att.astype(np.float32), dict(var.attrs, long_name=f"{var.attrs['long_name']} (float32)"))
            # tenure and commission_earned per seat are left out: the summary does not use them
        else:
            out[name] = (var.dims, var.values, dict(var.attrs))
    if derived:
        out |= _derived_totals(ds, masks)
    coords = {k: v for k, v in ds.coords.items() if "month" not in v.dims}
    result = xr.Dataset({k: xr.Variable(*v) for k, v in out.items()}, coords=coords, attrs=dict(ds.attrs))
    result.attrs["keep"] = "yearly"
    return result

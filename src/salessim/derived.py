"""The derived variables: money computed from the stored variables and the scenario's prices.

``base_pay``, ``hiring_cost``, ``overhead``, ``cost_of_sale``, ``revenue`` and
``sales_cost`` (the registry's variables with source ``"derived"``) are counts and money of
the kernel times per-territory prices, and sums of those. Results files do not store them:
every Dataset salessim gives (``simulate``, ``open_results``, eager or lazy) computes them
here, element by element, so they are the same bits however the Dataset was made. Files
of 0.1.0, which store them, keep their own.

The summary and ``--keep yearly`` need only their fiscal-year totals, which are the same
formulas applied to the totals of what they are computed from (:func:`year_totals`): no
(trial, month, territory) array of them is made for a run's summary or file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["DERIVED", "DERIVED_FROM", "derived_values", "computable", "add_derived", "year_totals"]

# in the registry's order (salessim.variables.VARIABLES; a test checks the two agree)
DERIVED: tuple[str, ...] = ("base_pay", "hiring_cost", "overhead", "cost_of_sale", "sales_cost", "revenue")
_TMK = ("trial", "month", "territory")
# the stored variables they are computed from
DERIVED_FROM: tuple[str, ...] = ("headcount", "hires", "bookings", "commission", "revenue_new", "revenue_existing")


def derived_values(values: dict, scenario) -> dict:
    """The derived variables from the stored ones (``values``: :data:`DERIVED_FROM` by name,
    arrays whose last axis is the territory), same shape.

    Element by element, so any slice of trials gives the same bits as the whole, and for
    NumPy and Dask arrays alike (a lazily opened file gets lazy derived variables).
    """
    terrs = scenario.territories

    def per_territory(prices):
        return np.array(prices, dtype=np.float64)

    headcount = values["headcount"]
    out = {
        "base_pay": headcount * per_territory([t.base_salary_annual / 12.0 for t in terrs]),
        "hiring_cost": values["hires"] * per_territory([t.hiring_cost for t in terrs]),
        "overhead": headcount * per_territory([t.overhead_per_rep_month for t in terrs]),
        "cost_of_sale": values["bookings"] * per_territory([t.cost_of_sale_rate for t in terrs]),
        "revenue": values["revenue_new"] + values["revenue_existing"],
    }
    out["sales_cost"] = out["base_pay"] + values["commission"] + out["hiring_cost"] + out["overhead"] + out["cost_of_sale"]
    return out


def year_totals(total: Callable[[str], np.ndarray], scenario) -> dict[str, np.ndarray]:
    """Fiscal-year totals (trial, territory) of the derived variables, from ``total(name)``, the
    year's totals of each of :data:`DERIVED_FROM` (the same formulas: they are linear)."""
    return derived_values({name: total(name) for name in DERIVED_FROM}, scenario)


def computable(ds: xr.Dataset) -> bool:
    """True when ``ds`` is a simulation's (trial, month, territory) results with the scenario
    and the variables the derived ones are computed from."""
    return "scenario" in ds.attrs and all(name in ds.variables and ds[name].dims == _TMK for name in DERIVED_FROM)


def add_derived(ds: xr.Dataset, scenario) -> xr.Dataset:
    """``ds`` with the derived variables it lacks (:func:`derived_values`, with the registry's
    attributes), in the registry's order; ``ds`` itself if it has them all or lacks what
    they are computed from (a ``--keep yearly`` Dataset has its own fiscal-year totals).
    Lazy (Dask) variables give lazy derived ones."""
    from .variables import VARIABLES, by_name

    missing = [name for name in DERIVED if name not in ds.variables]
    if not missing or not computable(ds):
        return ds
    values = derived_values({name: ds[name].data for name in DERIVED_FROM}, scenario)
    out = ds.copy()
    for name in missing:
        var = by_name(name)
        out[name] = (var.dims, values[name].astype(var.dtype, copy=False), var.attrs(scenario.spec.currency))
    order = [v.name for v in VARIABLES if v.name in out.data_vars]
    return out[order + [name for name in out.data_vars if name not in order]]

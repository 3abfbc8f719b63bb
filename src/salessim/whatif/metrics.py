"""Per-trial headline metrics and the statistics the what-if tools report on them.

:func:`salessim.summarize` gives means and percentiles across trials; comparisons on
common random numbers also need the per-trial values, to pair trial k of plan A with
trial k of plan B. :func:`per_trial` returns them for the headline metrics, defined as
in ``summarize`` (a test keeps the two in step):

- ``bookings``: company bookings in the fiscal year (currency)
- ``p_goal``: 1 if those bookings are >= the goal, else 0 (its mean is P(goal))
- ``reps_at_quota``: share of filled seats whose rep attained >= 100% of quota
- ``sales_cost`` (or the first of :data:`COST_VARIABLES` present): total cost of sales in
  the fiscal year, only when the results carry such a variable with any cost in it
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..summary import fiscal_year_masks

__all__ = ["HEADLINE", "COST_VARIABLES", "cost_variable", "per_trial", "describe", "paired", "unit_of"]

HEADLINE = ("bookings", "p_goal", "reps_at_quota")
# results variables that hold a cost, in order of preference (the economics work adds them)
COST_VARIABLES = ("sales_cost", "cost_of_sales", "total_cost", "commission")
STATS = ("mean", "se", "p10", "p50", "p90")


def cost_variable(ds: xr.Dataset) -> str | None:
    """Name of the results variable reported as the cost metric, or None when the results
    carry none (older files, or a scenario without compensation: all zeros)."""
    for name in COST_VARIABLES:
        var = ds.data_vars.get(name)
        if var is None or "trial" not in var.dims or not np.issubdtype(var.dtype, np.number):
            continue
        if ("month" in var.dims or "fiscal_year" in var.dims) and bool(np.any(var.values != 0)):
            return name
    return None


def _yearly_cost(var: xr.DataArray, ds: xr.Dataset) -> np.ndarray:
    """(trial, fiscal_year) sum of a cost variable over everything but trial and year."""
    if "month" in var.dims:
        other = [d for d in var.dims if d not in ("trial", "month")]
        monthly = var.sum(other).transpose("trial", "month").values if other else var.transpose("trial", "month").values
        return np.stack([monthly[:, idx].sum(axis=1) for idx in fiscal_year_masks(ds).values()], axis=1)
    other = [d for d in var.dims if d not in ("trial", "fiscal_year")]
    return (var.sum(other) if other else var).transpose("trial", "fiscal_year").values.astype(np.float64)


def per_trial(ds: xr.Dataset) -> xr.DataArray:
    """Headline metrics of every trial: DataArray (metric, trial, fiscal_year), float64.

    NaN where a metric has no value in a trial (``reps_at_quota`` with every seat empty).
    """
    masks = fiscal_year_masks(ds)
    years = list(masks)
    n = ds.sizes["trial"]
    bookings = ds["bookings"].values  # (trial, month, territory)
    total = np.stack([bookings[:, idx, :].sum(axis=(1, 2)) for idx in masks.values()], axis=1) if years else np.zeros((n, 0))
    goal = ds["goal"].sel(fiscal_year=years).values if years else np.zeros(0)
    met = (total >= goal[None, :]).astype(np.float64)
    att = ds["attainment"].transpose("trial", "fiscal_year", "seat").values  # (trial, year, seat)
    filled = np.isfinite(att)
    n_filled = filled.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_filled > 0, ((att >= 1.0) & filled).sum(axis=2) / np.maximum(n_filled, 1), np.nan)
    layers = [total, met, share]
    names = list(HEADLINE)
    cost = cost_variable(ds)
    if cost is not None:
        layers.append(_yearly_cost(ds[cost], ds))
        names.append(cost)
    out = xr.DataArray(np.stack(layers).astype(np.float64), dims=("metric", "trial", "fiscal_year"),
                       coords={"metric": names, "trial": ds["trial"].values, "fiscal_year": np.asarray(years, dtype=np.int64)})
    return out


def unit_of(metric: str, currency: str) -> str:
    return {"p_goal": "probability", "reps_at_quota": "fraction"}.get(metric, currency)


def describe(values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, its standard error and P10/P50/P90 along the trial axis (axis -2 of (..., trial, year)).

    NaNs are left out, trial by trial, as ``summarize`` does.
    """
    v = np.moveaxis(np.asarray(values, dtype=np.float64), -2, -1)  # (..., year, trial)
    n = np.isfinite(v).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as wanted
        mean = np.nanmean(v, axis=-1)
        sd = np.nanstd(v, axis=-1, ddof=1)
        p10, p50, p90 = np.nanpercentile(v, [10, 50, 90], axis=-1)
    se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return {"mean": mean, "se": se, "p10": p10, "p50": p50, "p90": p90}


def paired(b: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray]:
    """Paired difference b - a on the same trials: mean, its standard error, P(b > a).

    Arrays are (..., trial, year); trials where either side is NaN are left out.
    """
    b = np.moveaxis(np.asarray(b, dtype=np.float64), -2, -1)
    a = np.moveaxis(np.asarray(a, dtype=np.float64), -2, -1)
    ok = np.isfinite(a) & np.isfinite(b)
    d = np.where(ok, b - a, np.nan)
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as wanted
        diff = np.nanmean(d, axis=-1)
        sd = np.nanstd(d, axis=-1, ddof=1)
        better = np.where(n > 0, (ok & (b > a)).sum(axis=-1) / np.maximum(n, 1), np.nan)
    se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return {"diff": diff, "diff_se": se, "p_better": better}


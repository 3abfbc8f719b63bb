"""Per-trial headline metrics and the statistics the what-if tools report on them.

:func:`salessim.summarize` gives means and percentiles across trials; comparisons on
common random numbers also need the per-trial values, to pair trial k of plan A with
trial k of plan B. :func:`per_trial` returns them for the headline metrics, defined as
in ``summarize`` (a test keeps the two in step):

- ``bookings``: company bookings in the fiscal year (currency)
- ``p_goal``: 1 if those bookings are >= the goal, else 0 (its mean is P(goal))
- ``reps_at_quota``: share of filled seats whose rep attained >= 100% of quota
- ``sales_cost``: total cost of sales in the fiscal year, when the scenario has economics
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..summary import ALL, trial_values

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["HEADLINE", "per_trial", "per_trial_of_items", "headline_values", "describe", "paired", "unit_of"]

HEADLINE = ("bookings", "p_goal", "reps_at_quota")
STATS = ("mean", "se", "p10", "p50", "p90")


def per_trial(ds: xr.Dataset) -> xr.DataArray:
    """Headline metrics of every trial: DataArray (metric, trial, fiscal_year), float64.

    The company-wide values of :func:`salessim.summary.trial_values` (the numbers behind
    ``summarize``), so the two agree by construction. NaN where a metric has no value in a
    trial (``reps_at_quota`` with every seat empty).
    """
    return per_trial_of_items(trial_values(ds), ds["trial"].values)


def per_trial_of_items(items: list[dict], trial_index: np.ndarray) -> xr.DataArray:
    """:func:`per_trial` from :func:`~salessim.summary.trial_values` items (e.g. gathered from workers)."""
    import xarray as xr

    names, years, values = headline_values(items, len(trial_index))
    return xr.DataArray(values, dims=("metric", "trial", "fiscal_year"),
                        coords={"metric": names, "trial": np.asarray(trial_index), "fiscal_year": years})


def headline_values(items: list[dict], n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The headline metrics of :func:`~salessim.summary.trial_values` items as plain arrays:
    (metric names, fiscal years, values (metric, trial, fiscal_year) float64) for ``n`` trials."""
    years = [int(i["period"][2:]) for i in items
             if i["metric"] == "bookings" and i["territory"] == ALL and i["period"].startswith("FY")]
    values = {(i["metric"], i["period"]): i["values"] for i in items if i["territory"] == ALL}
    names = [m for m in (*HEADLINE, "sales_cost") if all((m, f"FY{y}") in values for y in years)]
    if not years:
        names = list(HEADLINE)
    layers = [np.stack([values[(m, f"FY{y}")] for y in years], axis=1) if years else np.zeros((n, 0)) for m in names]
    return names, np.asarray(years, dtype=np.int64), np.stack(layers).astype(np.float64)


def unit_of(metric: str, currency: str) -> str:
    return {"p_goal": "probability", "reps_at_quota": "fraction"}.get(metric, currency)


def clustered_se(v: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cluster-robust SE of the mean along the last axis of ``v`` (NaNs left out); ``groups`` labels
    the last axis in contiguous runs (the parameter draw of each trial)."""
    ok = np.isfinite(v)
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        resid = np.where(ok, v - np.nanmean(v, axis=-1, keepdims=True), 0.0)
    starts = np.concatenate(([0], np.nonzero(np.diff(groups))[0] + 1))
    sums = np.add.reduceat(resid, starts, axis=-1)
    clusters = (np.add.reduceat(ok, starts, axis=-1) > 0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(clusters / (clusters - 1) * np.sum(sums**2, axis=-1)) / n
    return np.where(clusters > 1, se, np.nan)


def describe(values: np.ndarray, groups: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Mean, its standard error and P10/P50/P90 along the trial axis (axis -2 of (..., trial, year)).

    NaNs are left out, trial by trial, as ``summarize`` does. ``groups`` (the parameter draw
    of each trial, when several trials share one) makes the standard error cluster-robust.
    """
    v = np.moveaxis(np.asarray(values, dtype=np.float64), -2, -1)  # (..., year, trial)
    n = np.isfinite(v).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as wanted
        mean = np.nanmean(v, axis=-1)
        sd = np.nanstd(v, axis=-1, ddof=1)
        p10, p50, p90 = np.nanpercentile(v, [10, 50, 90], axis=-1)
    se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.nan)
    if groups is not None:
        se = clustered_se(v, groups)
    return {"mean": mean, "se": se, "p10": p10, "p50": p50, "p90": p90}


def paired(b: np.ndarray, a: np.ndarray, groups: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Paired difference b - a on the same trials: mean, its standard error, P(b > a).

    Arrays are (..., trial, year); trials where either side is NaN are left out. ``groups``
    as in :func:`describe`.
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
    if groups is not None:
        se = clustered_se(d, groups)
    return {"diff": diff, "diff_se": se, "p_better": better}


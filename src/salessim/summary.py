"""Summary statistics of a results Dataset: one row per metric, period and territory.

Every row gives the Monte Carlo mean, its standard error (sd / sqrt(trials with a
value)) and the 10th, 50th and 90th percentiles across trials.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["summarize", "COLUMNS", "fiscal_year_masks"]

COLUMNS = ["metric", "period", "territory", "unit", "mean", "se", "p10", "p50", "p90", "trials"]
ALL = "all"


def fiscal_year_masks(ds: xr.Dataset) -> dict[int, np.ndarray]:
    """Month positions of each full fiscal year, from the ``fiscal_year_of_month`` coordinate."""
    of_month = ds["fiscal_year_of_month"].values
    return {int(fy): np.nonzero(of_month == fy)[0] for fy in ds["fiscal_year"].values}


def _row(metric: str, period: str, territory: str, unit: str, values: np.ndarray) -> dict:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        mean = se = p10 = p50 = p90 = np.nan
    else:
        mean = float(v.mean())
        se = float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        p10, p50, p90 = (float(x) for x in np.percentile(v, [10, 50, 90]))
    return {"metric": metric, "period": period, "territory": territory, "unit": unit,
            "mean": mean, "se": se, "p10": p10, "p50": p50, "p90": p90, "trials": n}


def summarize(ds: xr.Dataset) -> pd.DataFrame:
    """Headline metrics per fiscal year (and per territory), across trials.

    Metrics (``period`` is ``FY<year>``, or ``horizon`` for whole-run figures):

    - ``bookings``: bookings in the fiscal year (company and per territory)
    - ``goal``: the goal (constant); ``goal_attainment``: bookings / goal
    - ``p_goal``: probability that bookings >= goal (mean of the 0/1 indicator)
    - ``reps_at_quota``: share of filled seats whose rep attained >= 100% of quota
    - ``rep_attainment``: mean attainment of the reps in filled seats
    - ``headcount_end``, ``ramped_fte_end``: in the fiscal year's last month
    - ``hires``, ``departures``, ``leads``, ``leads_unworked``, ``opportunities``, ``wins``: totals
    - ``pipeline_end``: value of wins booking after the horizon (period ``horizon``)
    """
    currency = ds.attrs.get("currency", ds["bookings"].attrs.get("units", ""))
    rows: list[dict] = []
    terr = [str(t) for t in ds["territory"].values]
    bookings = ds["bookings"].values  # (n, H, K)
    for fy, idx in fiscal_year_masks(ds).items():
        period = f"FY{fy}"
        by_terr = bookings[:, idx, :].sum(axis=1)
        total = by_terr.sum(axis=1)
        goal = float(ds["goal"].sel(fiscal_year=fy))
        rows.append(_row("bookings", period, ALL, currency, total))
        rows.append(_row("goal", period, ALL, currency, np.full(1, goal)))
        if goal > 0:
            rows.append(_row("goal_attainment", period, ALL, "fraction", total / goal))
        rows.append(_row("p_goal", period, ALL, "probability", (total >= goal).astype(np.float64)))
        att = ds["attainment"].sel(fiscal_year=fy).values  # (n, S)
        filled = np.isfinite(att)
        n_filled = filled.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n_filled > 0, ((att >= 1.0) & filled).sum(axis=1) / np.maximum(n_filled, 1), np.nan)
            mean_att = np.where(n_filled > 0, np.nansum(att, axis=1) / np.maximum(n_filled, 1), np.nan)
        rows.append(_row("reps_at_quota", period, ALL, "fraction", share))
        rows.append(_row("rep_attainment", period, ALL, "fraction", mean_att))
        last = idx[-1]
        rows.append(_row("headcount_end", period, ALL, "reps", ds["headcount"].values[:, last, :].sum(axis=1)))
        rows.append(_row("ramped_fte_end", period, ALL, "FTE", ds["ramped_fte"].values[:, last, :].sum(axis=1)))
        for name, unit in [("hires", "reps"), ("departures", "reps"), ("leads", "leads"),
                           ("leads_unworked", "leads"), ("opportunities", "opportunities"), ("wins", "deals")]:
            rows.append(_row(name, period, ALL, unit, ds[name].values[:, idx, :].sum(axis=(1, 2))))
        for k, name in enumerate(terr):
            rows.append(_row("bookings", period, name, currency, by_terr[:, k]))
    rows.append(_row("pipeline_end", "horizon", ALL, currency, ds["pipeline_end"].values.sum(axis=1)))
    return pd.DataFrame(rows, columns=COLUMNS)

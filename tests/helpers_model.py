"""Shared helpers for the statistical and invariant tests: small scenarios built as plain
dicts, and Monte Carlo checks whose tolerance is derived from the standard error.

Every statistical assertion here is ``|estimate - truth| <= 4 SE`` with the SE estimated
from the same sample; nothing is a hand-tuned tolerance.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import xarray as xr

from salessim import Scenario

Z = 4.0  # tolerance in Monte Carlo standard errors


def monthly_hazard(annual: float) -> float:
    """SPEC 3.9: h = 1 - (1 - annual)^(1/12)."""
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


def full_fiscal_years(start: str, horizon: int, fy_start: int = 1) -> int:
    """Number of fiscal years lying fully inside the horizon."""
    m0 = int(start[5:7])
    offset = (fy_start - m0) % 12
    return max(0, (horizon - offset) // 12)


def month_label(start: str, t: int) -> str:
    """``YYYY-MM`` of month index ``t`` after ``start``."""
    y0, m0 = int(start[:4]), int(start[5:7])
    z = y0 * 12 + (m0 - 1) + t
    return f"{z // 12:04d}-{z % 12 + 1:02d}"


def territory(name: str = "T", **kw: Any) -> dict[str, Any]:
    """A territory mapping with quiet defaults (no attrition, no ramp, unlimited capacity)."""
    t: dict[str, Any] = {
        "name": name,
        "reps": 1,
        "initial_tenure_months": 24,
        "leads_per_month": 10.0,
        "lead_to_opportunity": 0.5,
        "win_rate": 0.5,
        "deal_size": {"mean": 1000.0, "cv": 0.0},
        "quota_annual": 120_000.0,
        "ramp": [],
        "capacity_leads_per_month": None,
        "attrition_annual": 0.0,
        "skill_sigma": 0.0,
        "sales_cycle_months": [1.0],
        "backfill": False,
    }
    if "attrition_by_tenure" in kw:
        del t["attrition_annual"]  # the two attrition keys are exclusive
    t.update(kw)
    return t


def scenario_dict(territories: list[dict[str, Any]], *, horizon: int = 12, start: str = "2027-01",
                  fy_start: int = 1, market: dict[str, Any] | None = None,
                  hiring_plan: list[dict[str, Any]] | None = None, name: str = "test") -> dict[str, Any]:
    """A complete scenario dict; the goal gets one value per full fiscal year."""
    n_fy = full_fiscal_years(start, horizon, fy_start)
    return {
        "name": name,
        "start": start,
        "horizon_months": horizon,
        "fiscal_year_start_month": fy_start,
        "currency": "USD",
        "goal": {"annual": [1_000_000.0] * n_fy},
        "market": copy.deepcopy(market) if market is not None else {},
        "territories": copy.deepcopy(territories),
        "hiring_plan": copy.deepcopy(hiring_plan) if hiring_plan is not None else [],
    }


def make(territories: list[dict[str, Any]], **kw: Any) -> Scenario:
    """Validated scenario from :func:`scenario_dict`'s arguments."""
    return Scenario.from_dict(scenario_dict(territories, **kw))


def seasonality_factors(seasonality: list[float], start: str, horizon: int, growth: float = 0.0) -> np.ndarray:
    """SPEC 3.3 without downturns: seasonality (rescaled to mean 1) x (1 + growth)^(t/12), per month."""
    s = np.asarray(seasonality, dtype=float)
    s = s / s.mean()
    m0 = int(start[5:7]) - 1
    t = np.arange(horizon)
    return s[(m0 + t) % 12] * (1.0 + growth) ** (t / 12.0)


def yearly(ds: xr.Dataset, var: str) -> xr.DataArray:
    """Sum of a (trial, month, ...) variable over each fiscal year fully inside the horizon."""
    out = ds[var].groupby("fiscal_year_of_month").sum("month")
    out = out.rename(fiscal_year_of_month="fiscal_year")
    return out.sel(fiscal_year=ds["fiscal_year"].values)


def strip_attrs(ds: xr.Dataset) -> xr.Dataset:
    """Data variables and coordinates only (drop run attributes such as ``created``)."""
    out = ds.copy()
    out.attrs = {}
    return out


# ------------------------------------------------------------------ Monte Carlo checks


def mean_se(x: Any) -> tuple[float, float, int]:
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)), n


def var_se(x: Any) -> tuple[float, float, int]:
    """Sample variance and its SE from the fourth central moment: sqrt((m4 - s^4) / n)."""
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    d = x - x.mean()
    s2 = float(d @ d / (n - 1))
    m4 = float(np.mean(d**4))
    return s2, math.sqrt(max(m4 - s2 * s2, 0.0) / n), n


def _assert_close(est: float, se: float, truth: float, what: str, n: int) -> None:
    if se == 0.0:
        # a degenerate sample: only floating-point rounding separates it from the truth
        assert math.isclose(est, truth, rel_tol=1e-12, abs_tol=1e-12), f"{what}: {est!r} != {truth!r} (zero-variance sample, n={n})"
        return
    z = (est - truth) / se
    assert abs(z) <= Z, f"{what}: estimate {est:.6g} vs truth {truth:.6g}, SE {se:.3g} (n={n}): {z:+.2f} SE"


def assert_mean(x: Any, truth: float, what: str = "mean") -> float:
    """Assert the sample mean of ``x`` is within 4 SE of ``truth``; return the z-score."""
    m, se, n = mean_se(x)
    _assert_close(m, se, truth, what, n)
    return (m - truth) / se if se else 0.0


def assert_variance(x: Any, truth: float, what: str = "variance") -> float:
    """Assert the sample variance of ``x`` is within 4 SE (fourth-moment SE) of ``truth``."""
    s2, se, n = var_se(x)
    _assert_close(s2, se, truth, what, n)
    return (s2 - truth) / se if se else 0.0

"""Long convergence checks (``pytest -m slow``; out of the default run).

The same analytic truths as the fast suite, at a precision the fast suite cannot afford.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import salessim

from helpers_model import assert_mean, assert_variance, make, monthly_hazard, territory, yearly

pytestmark = pytest.mark.slow


def test_headcount_is_binomial_at_high_precision():
    n0, annual = 40, 0.35
    sc = make([territory(reps=n0, attrition_annual=annual, backfill=False)], horizon=24)
    ds = salessim.simulate(sc, trials=200_000, seed=99)
    h = monthly_hazard(annual)
    for t in (0, 6, 12, 23):
        p = (1 - h) ** t
        x = ds["headcount"].isel(month=t, territory=0).values
        assert_mean(x, n0 * p, f"headcount month {t}")
        assert_variance(x, n0 * p * (1 - p), f"headcount variance month {t}")


def test_compound_poisson_bookings_at_high_precision():
    t = territory(leads_per_month=50.0, lead_to_opportunity=0.4, win_rate=0.3, deal_size={"mean": 5000.0, "cv": 0.8})
    ds = salessim.simulate(make([t], horizon=12), trials=200_000, seed=7)
    lam = 12 * 50.0 * 0.4 * 0.3
    bookings = yearly(ds, "bookings").isel(territory=0, fiscal_year=0).values
    assert_mean(bookings, lam * 5000.0, "yearly bookings")
    assert_variance(bookings, lam * 5000.0**2 * (1 + 0.8**2), "yearly bookings variance")
    wins = yearly(ds, "wins").isel(territory=0, fiscal_year=0).values
    assert_variance(wins, lam, "yearly wins variance")
    assert math.isfinite(float(np.mean(bookings)))

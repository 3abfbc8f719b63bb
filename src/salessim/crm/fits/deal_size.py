"""Deal size: a lognormal with a goodness-of-fit check, else the empirical distribution.

The model draws a won deal's value from a lognormal given by its mean and coefficient of
variation. The fit uses the amounts of deals won by the as-of date: the log amounts'
mean and variance give ``mean = exp(mu + s^2 / 2)`` and ``cv = sqrt(exp(s^2) - 1)``.

The check is Anderson-Darling for normality of the log amounts with estimated
parameters (``scipy.stats.anderson``, p-value interpolated from Stephens' tables, which
span 0.01 to 0.15): at p = 0.01 (the statistic at or beyond the 1% critical value) the
lognormal is rejected and the scenario gets ``deal_size: {empirical: [...]}``
instead, as it will on a multi-product mix. With many deals the test rejects even small
departures, which is the right call: the empirical distribution is then accurate. The
empirical list holds every amount up to 1,000 deals, else 1,000 equally spaced quantiles.

Uncertainty: the exact posterior of a normal sample's mean and variance under the
reference prior (``s^2 ~ (n - 1) S^2 / chi2(n - 1)``, ``mu ~ Normal(m, s^2 / n)``), mapped to
mean and cv; for the empirical fallback, a bootstrap of the mean (reported, not sampled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .common import FitError, stream

__all__ = ["DealSizeFit", "fit_deal_size", "pvalue_text", "MIN_AMOUNTS", "GOF_LEVEL", "EMPIRICAL_POINTS"]

MIN_AMOUNTS = 10
GOF_LEVEL = 0.01
EMPIRICAL_POINTS = 1000


def pvalue_text(p: float) -> str:
    """The check's p-value as text; Stephens' tables only say "at most 0.01" or "at least 0.15" outside them."""
    return "p <= 0.01" if p <= GOF_LEVEL else "p >= 0.15" if p >= 0.15 else f"p = {p:.3f}"


@dataclass
class DealSizeFit:
    """One territory's deal size.

    Attributes
    ----------
    mean, cv : lognormal parameters (the fitted ones even when the check fails)
    mean_draws, cv_draws : (N,) posterior draws of the lognormal's mean and cv
    gof_pvalue : Anderson-Darling p-value of the log amounts; lognormal : passed the check
    empirical : amounts for ``{empirical: ...}`` (None when the lognormal passes)
    sample_mean : mean of the amounts; sample_mean_draws : (N,) bootstrap means
    amounts : sorted amounts used (for the QQ figure)
    """

    territory: str
    mean: float
    cv: float
    mean_draws: np.ndarray
    cv_draws: np.ndarray
    gof_pvalue: float
    lognormal: bool
    empirical: np.ndarray | None
    sample_mean: float
    sample_mean_draws: np.ndarray
    amounts: np.ndarray


def fit_deal_size(view: pd.DataFrame, territories: list[str], *, draws: int = 200, seed: int = 0,
                  force: str | None = None, first_month: int | None = None) -> dict[str, DealSizeFit]:
    """Fit each territory's deal size from its won deals' amounts.

    ``force``: ``'lognormal'`` or ``'empirical'`` skips the check's decision;
    ``first_month``: only deals won from this month number on (``--since``).
    Raises :class:`FitError` below 10 amounts in a territory.
    """
    won = (view["state"] == "won").to_numpy() & np.isfinite(view["amount"].to_numpy())
    if first_month is not None:
        won &= view["closed_m"].to_numpy() >= first_month
    out = {}
    for name in territories:
        x = np.sort(view["amount"].to_numpy()[won & (view["territory"] == name).to_numpy()])
        x = x[x > 0]
        n = len(x)
        if n < MIN_AMOUNTS:
            raise FitError(f"territory {name}: {n} won deals with an amount by the as-of date; the deal-size fit "
                           f"needs at least {MIN_AMOUNTS}")
        logs = np.log(x)
        m, s2 = logs.mean(), logs.var(ddof=1)
        pvalue = float(stats.anderson(logs, "norm", method="interpolate").pvalue) if s2 > 0 else 1.0
        rng = stream(seed, "deal_size", name)
        var_d = (n - 1) * s2 / rng.chisquare(n - 1, size=draws) if s2 > 0 else np.zeros(draws)
        mu_d = rng.normal(m, np.sqrt(var_d / n))
        lognormal = (pvalue > GOF_LEVEL) if force is None else (force == "lognormal")
        empirical = None
        if not lognormal:
            empirical = x if n <= EMPIRICAL_POINTS else np.quantile(x, (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS)
        # the bootstrap of a mean; with thousands of amounts the normal limit is as good and cheaper
        boot = x[rng.integers(0, n, size=(draws, n))].mean(axis=1) if n <= 5000 else \
            rng.normal(x.mean(), x.std(ddof=1) / np.sqrt(n), size=draws)
        out[name] = DealSizeFit(
            territory=name, mean=float(np.exp(m + s2 / 2)), cv=float(np.sqrt(np.expm1(s2))),
            mean_draws=np.exp(mu_d + var_d / 2), cv_draws=np.sqrt(np.expm1(var_d)), gof_pvalue=pvalue,
            lognormal=bool(lognormal), empirical=empirical, sample_mean=float(x.mean()), sample_mean_draws=boot,
            amounts=x)
    return out

"""New opportunities per month per territory, with growth and seasonality.

Model (the scenario's demand, SPEC section 3 item 3, with leads = opportunities):
``n[k, t] ~ Poisson(leads_k x s[month(t)] x (1 + g)^((t - start) / 12))``, a log-linear
Poisson regression with one intercept per territory, one growth slope shared by the
company (the scenario has one ``market.annual_growth``) and, with at least two years of
history, month-of-year effects (``market.seasonality``, rescaled to mean 1 as the
scenario does). ``leads_k`` is the rate at the scenario's first month, so the intercept
is extrapolated along the growth from the history to the start.

The fit is maximum likelihood by iteratively reweighted least squares. Real counts vary
more than Poisson (campaigns, lumpy partners): the covariance is scaled by the Pearson
dispersion when it exceeds 1 (quasi-Poisson), and draws of the coefficients from the
resulting normal approximation give the ``samples`` of leads, growth and seasonality,
jointly (leads at the start and growth are strongly correlated when extrapolated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..asof import AsOf, month_label
from .common import FitError, stream

__all__ = ["ArrivalsFit", "fit_arrivals", "poisson_glm", "MIN_MONTHS_SEASONALITY", "MIN_MONTHS_GROWTH"]

MIN_MONTHS_SEASONALITY = 24
MIN_MONTHS_GROWTH = 12


@dataclass
class ArrivalsFit:
    """Fitted arrivals.

    Attributes
    ----------
    territories : names, length K
    leads : (K,) expected new opportunities per month at the scenario's start, before seasonality
    growth : annual growth of the rate (fraction/year); 0 when not fitted
    seasonality : (12,) Jan..Dec multipliers with mean 1 (all 1 when not fitted)
    leads_draws, growth_draws, seasonality_draws : (N, K), (N,), (N, 12)
    counts : DataFrame, index history months (``YYYY-MM``), columns territories: observed counts
    expected : same shape: fitted expected counts
    growth_fitted, seasonality_fitted : whether the history was long enough for them
    dispersion : Pearson chi-square / degrees of freedom (1 for Poisson counts)
    rows : opportunities counted
    """

    territories: list[str]
    leads: np.ndarray
    growth: float
    seasonality: np.ndarray
    leads_draws: np.ndarray
    growth_draws: np.ndarray
    seasonality_draws: np.ndarray
    counts: pd.DataFrame
    expected: pd.DataFrame
    growth_fitted: bool
    seasonality_fitted: bool
    dispersion: float
    rows: int


def poisson_glm(X: np.ndarray, y: np.ndarray, iterations: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson regression with log link by IRLS.

    Parameters
    ----------
    X : (n, p) design matrix; y : (n,) counts

    Returns
    -------
    beta : (p,) coefficients; information : (p, p) Fisher information X' W X; mu : (n,) fitted means
    """
    # start from least squares on log counts, then Newton steps, halved while they lower the likelihood
    beta = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]

    def loglik(b):
        eta = X @ b
        return float(np.sum(y * eta - np.exp(eta)))

    current = loglik(beta)
    for _ in range(iterations):
        mu = np.exp(X @ beta)
        information = X.T @ (X * mu[:, None])
        step = np.linalg.solve(information, X.T @ (y - mu))
        for _ in range(30):
            trial = loglik(beta + step)
            if trial >= current - 1e-12:
                break
            step = step / 2
        beta, current = beta + step, trial
        if np.max(np.abs(step)) < 1e-10:
            break
    eta = X @ beta
    mu = np.exp(eta)
    return beta, X.T @ (X * mu[:, None]), mu


def fit_arrivals(view: pd.DataFrame, asof: AsOf, territories: list[str], *, draws: int = 200, seed: int = 0,
                 seasonality: bool | None = None, growth: bool | None = None) -> ArrivalsFit:
    """Fit new opportunities per month from the created dates of ``view`` (see the module docstring).

    ``seasonality`` / ``growth``: force them on or off; by default they are fitted when the
    history has at least 24 / 12 whole months.
    """
    months = np.arange(asof.first, asof.last_full + 1)
    T, K = len(months), len(territories)
    created = view["created_m"].to_numpy()
    use = np.isfinite(created) & (created >= asof.first) & (created <= asof.last_full)
    k_index = pd.Categorical(view["territory"], categories=territories).codes
    use &= k_index >= 0
    counts = np.zeros((K, T))
    np.add.at(counts, (k_index[use], (created[use] - asof.first).astype(int)), 1)
    for k, name in enumerate(territories):
        if counts[k].sum() < 1:
            raise FitError(f"territory {name}: no opportunity was created in the whole months "
                           f"{month_label(asof.first)}..{month_label(asof.last_full)}")
    fit_growth = (T >= MIN_MONTHS_GROWTH) if growth is None else growth
    fit_season = (T >= MIN_MONTHS_SEASONALITY) if seasonality is None else seasonality

    # design: territory intercepts, growth slope in years from the scenario start, 11 month effects
    kk, tt = np.meshgrid(np.arange(K), np.arange(T), indexing="ij")
    kk, tt = kk.ravel(), tt.ravel()
    cols = [(kk == k).astype(float) for k in range(K)]
    if fit_growth:
        cols.append((months[tt] - asof.start) / 12.0)
    calendar = (months[tt] % 12).astype(int)
    if fit_season:
        cols.extend((calendar == m).astype(float) for m in range(1, 12))
    X = np.column_stack(cols)
    y = counts.ravel()
    beta, information, mu = poisson_glm(X, y)
    dof = max(len(y) - X.shape[1], 1)
    dispersion = float(np.sum((y - mu) ** 2 / mu) / dof)
    cov = np.linalg.inv(information) * max(dispersion, 1.0)
    rng = stream(seed, "arrivals")
    sample = rng.multivariate_normal(beta, cov, size=draws, method="cholesky")

    def unpack(b: np.ndarray):
        b = np.atleast_2d(b)
        a = b[:, :K]
        slope = b[:, K] if fit_growth else np.zeros(len(b))
        gamma = np.zeros((len(b), 12))
        if fit_season:
            gamma[:, 1:] = b[:, K + int(fit_growth):]
        level = np.exp(gamma).mean(axis=1, keepdims=True)
        # the scenario rescales seasonality to mean 1: the scale moves into the intercepts
        return np.exp(a) * level, np.expm1(slope), np.exp(gamma) / level

    leads, g, season = unpack(beta)
    leads_d, g_d, season_d = unpack(sample)
    labels = [month_label(m) for m in months]
    return ArrivalsFit(
        territories=list(territories), leads=leads[0], growth=float(g[0]), seasonality=season[0],
        leads_draws=leads_d, growth_draws=g_d, seasonality_draws=season_d,
        counts=pd.DataFrame(counts.T, index=labels, columns=territories),
        expected=pd.DataFrame(mu.reshape(K, T).T, index=labels, columns=territories),
        growth_fitted=bool(fit_growth), seasonality_fitted=bool(fit_season), dispersion=dispersion,
        rows=int(use.sum()))

"""Rep-to-rep skill spread (``skill_sigma``) after removing binomial noise.

Two reps with 20 deals each will show different win rates even when they are equally
good; the spread of raw win rates overstates the spread of skill. The model (SPEC
section 3) multiplies the territory win rate by each rep's persistent skill
``s ~ LogNormal(-sigma^2/2, sigma)``. We fit exactly that as a random-effects model:

    wins_i ~ Binomial(n_i, min(1, w_k x s_i)),   log s_i ~ Normal(-sigma^2 / 2, sigma^2)

with the skill integrated out by Gauss-Hermite quadrature (the marginal likelihood of a
rep's record). Only **mature** deals count: those created long enough before the as-of
date that their outcome is known (at least the longest cycle), so censoring does not
mix with skill. ``w_k`` are nuisance parameters per territory.

Uncertainty: the profile likelihood of sigma on a grid (``w_k`` maximised at each point),
used as a posterior under a flat prior on sigma >= 0; this is honest at the boundary
sigma = 0, where a normal approximation is not. Each rep's skill estimate is the
posterior mean of ``s_i`` given their record: raw rates shrunk towards the territory's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from ..asof import AsOf
from .common import stream

__all__ = ["SkillFit", "fit_skill", "rep_records", "MIN_REPS", "SIGMA_GRID"]

MIN_REPS = 5
SIGMA_GRID = np.linspace(0.0, 1.5, 76)
_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(24)
_LOG_W = np.log(_WEIGHTS) - 0.5 * np.log(np.pi)


@dataclass
class SkillFit:
    """Fitted skill spread.

    Attributes
    ----------
    sigma : maximum-likelihood skill_sigma; sigma_draws : (N,) posterior draws
    reps : DataFrame per rep: ``territory``, ``rep``, ``deals``, ``won``, ``raw`` (won / deals),
        ``skill`` (posterior mean multiplier), ``shrunk`` (territory rate x skill)
    territory_rate : {territory: w_k at the estimate}
    profile : DataFrame ``sigma``, ``loglik``, ``posterior`` (grid)
    mature_before : month label: deals created before it count
    """

    sigma: float
    sigma_draws: np.ndarray
    reps: pd.DataFrame
    territory_rate: dict[str, float]
    profile: pd.DataFrame
    mature_before: str


def _marginal(w: float, sigma: float, won: np.ndarray, deals: np.ndarray) -> np.ndarray:
    """log P(won_i | deals_i) for each rep (binomial coefficient omitted), shape (R, J) before summing."""
    log_s = -0.5 * sigma * sigma + np.sqrt(2.0) * sigma * _NODES
    p = np.clip(w * np.exp(log_s), 1e-12, 1 - 1e-12)
    return won[:, None] * np.log(p)[None, :] + (deals - won)[:, None] * np.log1p(-p)[None, :] + _LOG_W[None, :]


def _loglik_grid(w: np.ndarray, sigma: np.ndarray, won: np.ndarray, deals: np.ndarray) -> np.ndarray:
    """Marginal log-likelihood of a territory's reps at each (w, sigma) pair: arrays (G,) -> (G,)."""
    log_s = -0.5 * sigma[:, None] ** 2 + np.sqrt(2.0) * sigma[:, None] * _NODES[None, :]       # (G, J)
    p = np.clip(w[:, None] * np.exp(log_s), 1e-12, 1 - 1e-12)
    terms = won[None, :, None] * np.log(p)[:, None, :] + (deals - won)[None, :, None] * np.log1p(-p)[:, None, :]
    return logsumexp(terms + _LOG_W[None, None, :], axis=2).sum(axis=1)


def _profile_grid(sigma: np.ndarray, won: np.ndarray, deals: np.ndarray,
                  iterations: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The best w and the log-likelihood there, at each sigma: golden-section search, all grid points at once."""
    ratio = (np.sqrt(5.0) - 1) / 2
    lo, hi = np.full(len(sigma), 1e-6), np.full(len(sigma), 1 - 1e-6)
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _loglik_grid(a, sigma, won, deals), _loglik_grid(b, sigma, won, deals)
    for _ in range(iterations):
        left = fa > fb  # the maximum lies in [lo, b]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        a_new = np.where(left, hi - ratio * (hi - lo), b)
        b_new = np.where(left, a, lo + ratio * (hi - lo))
        fa_new = np.where(left, np.nan, fb)
        fb_new = np.where(left, fa, np.nan)
        a, b = a_new, b_new
        need_a, need_b = np.isnan(fa_new), np.isnan(fb_new)
        fa_new[need_a] = _loglik_grid(a[need_a], sigma[need_a], won, deals)
        fb_new[need_b] = _loglik_grid(b[need_b], sigma[need_b], won, deals)
        fa, fb = fa_new, fb_new
    return np.where(fa > fb, a, b), np.maximum(fa, fb)


def _best_w(sigma: float, won: np.ndarray, deals: np.ndarray) -> tuple[float, float]:
    w, ll = _profile_grid(np.array([sigma]), won, deals)
    return float(w[0]), float(ll[0])


def rep_records(view: pd.DataFrame, asof: AsOf, max_cycle: dict[str, int]) -> pd.DataFrame:
    """Per rep: mature deals and wins (``territory``, ``rep``, ``deals``, ``won``)."""
    created = view["created_m"].to_numpy()
    cutoff = view["territory"].map(max_cycle).to_numpy(dtype=float)
    mature = np.isfinite(created) & (created >= asof.first) & (created <= asof.last_full - cutoff) \
        & view["rep"].notna().to_numpy()
    won = (view["state"] == "won").to_numpy() & (view["closed_m"].to_numpy() <= asof.last_full)
    frame = pd.DataFrame({"territory": view["territory"][mature], "rep": view["rep"][mature], "won": won[mature]})
    records = frame.groupby(["territory", "rep"], sort=False)["won"].agg(deals="size", won="sum").reset_index()
    return records.astype({"deals": int, "won": int})


def fit_skill(records: pd.DataFrame, *, draws: int = 200, seed: int = 0, mature_before: str = "") -> SkillFit | None:
    """Fit skill_sigma from per-rep records (:func:`rep_records`); None with fewer than 5 reps."""
    records = records[records["deals"] > 0].reset_index(drop=True)
    if len(records) < MIN_REPS:
        return None
    groups = {k: (g["won"].to_numpy(float), g["deals"].to_numpy(float)) for k, g in records.groupby("territory", sort=False)}

    def profile(sigma: float) -> tuple[float, dict[str, float]]:
        rates, total = {}, 0.0
        for k, (won, deals) in groups.items():
            rates[k], ll = _best_w(sigma, won, deals)
            total += ll
        return total, rates

    ll = sum(_profile_grid(SIGMA_GRID, won, deals)[1] for won, deals in groups.values())
    top = int(np.argmax(ll))
    sigma = float(SIGMA_GRID[top])
    if 0 < top < len(SIGMA_GRID) - 1:  # the vertex of the parabola through the top three grid points
        y0, y1, y2 = ll[top - 1: top + 2]
        curve = y0 - 2 * y1 + y2
        if curve < 0:
            step = SIGMA_GRID[1] - SIGMA_GRID[0]
            sigma += float(np.clip(0.5 * (y0 - y2) / curve, -0.5, 0.5) * step)
    post = np.exp(ll - ll.max())
    post /= post.sum()
    rng = stream(seed, "skill")
    step = SIGMA_GRID[1] - SIGMA_GRID[0]
    cells = rng.choice(len(SIGMA_GRID), size=draws, p=post)
    sigma_draws = np.clip(SIGMA_GRID[cells] + (rng.random(draws) - 0.5) * step, 0.0, None)

    _, rates = profile(sigma)
    out = records.copy()
    skill = np.empty(len(out))
    for k, idx in out.groupby("territory", sort=False).groups.items():
        won, deals = out.loc[idx, "won"].to_numpy(float), out.loc[idx, "deals"].to_numpy(float)
        terms = _marginal(rates[k], sigma, won, deals)
        s = np.exp(-0.5 * sigma * sigma + np.sqrt(2.0) * sigma * _NODES)
        weight = np.exp(terms - terms.max(axis=1, keepdims=True))
        skill[np.asarray(out.index.get_indexer(idx))] = (weight * s).sum(axis=1) / weight.sum(axis=1)
    out["raw"] = out["won"] / out["deals"]
    out["skill"] = skill
    out["shrunk"] = out["territory"].map(rates).to_numpy() * skill
    return SkillFit(sigma=sigma, sigma_draws=sigma_draws, reps=out, territory_rate=rates,
                    profile=pd.DataFrame({"sigma": SIGMA_GRID, "loglik": ll, "posterior": post}),
                    mature_before=mature_before)

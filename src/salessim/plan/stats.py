"""Monte Carlo errors of the planning tools, with trials clustered by what they share.

The reps of one future share its market, and with ``uncertainty.trials_per_draw`` > 1 the
futures of one parameter draw share their parameters, so neither rep-years nor trials are
independent observations. Every standard error here treats a *cluster* as the unit: the
trial by default, or the parameter draw (:func:`clusters`). With one trial per cluster the
formulas reduce to the usual ones.
"""

from __future__ import annotations

import math

import numpy as np

from ..mcstats import grouped_se
from ..scenario import Scenario
from ..whatif.common import draw_clusters

__all__ = ["clusters", "mean_se", "pooled_mean_se", "share_se", "sum_of_means_se"]


def clusters(scenario: Scenario, n: int) -> np.ndarray | None:
    """Cluster label of trials 0..n-1 of ``scenario``: its parameter draw when draws are shared
    by several trials (``uncertainty.trials_per_draw`` > 1), else None (every trial its own)."""
    return draw_clusters([scenario], n)


def mean_se(x: np.ndarray, groups: np.ndarray | None = None) -> tuple[float, float]:
    """Mean of the finite values of ``x`` (n,) and its standard error (cluster-robust with ``groups``)."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    if not ok.any():
        return math.nan, math.nan
    mean = float(x[ok].mean())
    if groups is not None:
        return mean, grouped_se(x, groups)
    if ok.sum() == 1:
        return mean, math.nan
    return mean, float(x[ok].std(ddof=1) / math.sqrt(ok.sum()))


def _cluster_sums(per_trial: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Sums of per-trial values (n, ...) within each cluster: (G, ...)."""
    if groups is None:
        return per_trial
    _, label = np.unique(groups, return_inverse=True)
    out = np.zeros((int(label.max()) + 1,) + per_trial.shape[1:])
    np.add.at(out, label, per_trial)
    return out


def pooled_mean_se(values: np.ndarray, mask: np.ndarray, groups: np.ndarray | None = None) -> tuple[float, float]:
    """Mean of ``values`` over the ``mask`` entries of (trial, seat) arrays, and its standard error.

    The mean pools every masked entry (a ratio of sums: entries over trials); its error
    treats each cluster of trials as one observation (delta method):
    SE^2 = G / (G - 1) x sum_g (sum of (v - mean) over g's entries)^2 / (entries)^2.
    """
    m = np.asarray(mask, dtype=bool)
    total = int(m.sum())
    if total == 0:
        return math.nan, math.nan
    v = np.where(m, values, 0.0).astype(np.float64)
    mean = float(v.sum() / total)
    resid = _cluster_sums((v - mean * m).reshape(m.shape[0], -1).sum(axis=1), groups)
    g = resid.size
    se = math.sqrt(g / (g - 1) * float((resid**2).sum())) / total if g > 1 else math.nan
    return mean, se


def share_se(hit: np.ndarray, mask: np.ndarray, groups: np.ndarray | None = None) -> tuple[float, float]:
    """Share of ``mask`` entries that ``hit``, over (trial, seat) arrays: :func:`pooled_mean_se` of the hits."""
    return pooled_mean_se(np.asarray(hit, dtype=np.float64), mask, groups)


def sum_of_means_se(values: np.ndarray, mask: np.ndarray, groups: np.ndarray | None = None) -> tuple[float, float]:
    """Sum over seats of each seat's mean over its masked trials, and its standard error.

    ``values`` and ``mask`` are (trial, seat); seat s contributes E_s = mean of its values
    where masked (a conditional mean, e.g. a rep's bookings in the futures where they stay).
    The error linearises each E_s (z_t = sum_s (v_ts - E_s) m_ts / M_s) and clusters trials.
    NaN when a seat has no masked trial.
    """
    m = np.asarray(mask, dtype=bool)
    count = m.sum(axis=0).astype(np.float64)
    if m.shape[1] == 0:
        return 0.0, 0.0
    if (count == 0).any():
        return math.nan, math.nan
    v = np.where(m, values, 0.0).astype(np.float64)
    means = v.sum(axis=0) / count
    z = _cluster_sums(((v - means) * m / count).sum(axis=1), groups)
    g = z.size
    se = math.sqrt(g / (g - 1) * float((z**2).sum())) if g > 1 else math.nan
    return float(means.sum()), se

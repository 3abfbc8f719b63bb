"""Monte Carlo statistics for grouped trials (two-level Monte Carlo).

With ``trials_per_draw`` > 1 the trials of one parameter draw share their parameters, so
they are not independent: the standard error of a mean must treat each draw's trials as
one cluster (:func:`grouped_se`), and the variance across trials splits into the part
that comes from the parameters and the part that comes from the future
(:func:`variance_split`). Groups are labelled by the draw index of each trial.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grouped_se", "variance_split", "VarianceSplit", "draw_groups"]


def draw_groups(n_trials: int, first_trial: int, trials_per_draw: int) -> np.ndarray | None:
    """The draw of each trial ``first_trial .. first_trial + n - 1``, or None when every trial is its own draw."""
    if trials_per_draw <= 1:
        return None
    return (np.arange(first_trial, first_trial + n_trials) // trials_per_draw).astype(np.int64)


def grouped_se(values: np.ndarray, groups: np.ndarray) -> float:
    """Cluster-robust standard error of the mean of ``values`` (NaNs left out), clusters ``groups``.

    SE^2 = G / (G - 1) x sum_g (sum_{i in g} (v_i - mean))^2 / n^2, for n values in G clusters:
    with one value per cluster it is the usual s^2 / n. NaN with fewer than two clusters.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    v, g = v[ok], np.asarray(groups)[ok]
    n = v.size
    if n == 0:
        return float("nan")
    _, label = np.unique(g, return_inverse=True)
    clusters = int(label.max()) + 1
    if clusters < 2:
        return float("nan")
    resid = np.bincount(label, weights=v - v.mean(), minlength=clusters)
    return float(np.sqrt(clusters / (clusters - 1) * np.sum(resid**2)) / n)


class VarianceSplit(dict):
    """``total``, ``parameter``, ``future`` (variances), ``share`` (parameter / total), each with a
    jackknife standard error under the key ``<name>_se``; ``groups`` and ``trials`` used."""


def _split(total_n, sum_n_sq, ssb, ssw, groups):
    """(total, parameter, future, share) of a one-way ANOVA: N trials in G groups with sum of
    squared group sizes, between- and within-group sums of squares (arrays broadcast, for the jackknife)."""
    msw = ssw / (total_n - groups)
    msb = ssb / (groups - 1)
    n0 = (total_n - sum_n_sq / total_n) / (groups - 1)
    between = (msb - msw) / n0
    positive = np.maximum(between, 0.0)
    total = positive + msw
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, positive / total, np.nan)
    return total, between, msw, share


def variance_split(values: np.ndarray, groups: np.ndarray) -> VarianceSplit | None:
    """Law of total variance: Var(Y) = Var(E[Y | theta]) + E[Var(Y | theta)], estimated from
    groups of trials sharing a parameter draw theta (one-way random-effects ANOVA).

    The within-draw mean square is unbiased for E[Var(Y | theta)] (``future``); the between-draw
    mean square overstates Var(E[Y | theta]) by E[Var(Y | theta)] / n0 (n0 the effective group
    size), which is subtracted (``parameter``, bias-corrected; it can come out slightly below 0
    when the parameters matter little, and is reported as estimated). ``share`` =
    max(parameter, 0) / (max(parameter, 0) + future). Standard errors are delete-one-draw
    jackknife. None when there are fewer than three draws or no draw has two trials.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    v, g = v[ok], np.asarray(groups)[ok]
    if v.size == 0:
        return None
    _, label = np.unique(g, return_inverse=True)
    G = int(label.max()) + 1
    n = np.bincount(label, minlength=G).astype(np.float64)
    if G < 3 or v.size - G < 1:
        return None
    s1 = np.bincount(label, weights=v - v.mean(), minlength=G)  # centred: sums of squares stay precise
    s2 = np.bincount(label, weights=(v - v.mean()) ** 2, minlength=G)
    within = s2 - s1**2 / n  # each draw's sum of squares about its own mean
    big_n, between_sum, n_sq = n.sum(), np.sum(s1**2 / n), np.sum(n**2)

    def ssb(total_n, total_s1, sum_sq_over_n):
        return sum_sq_over_n - total_s1**2 / total_n

    full = _split(big_n, n_sq, ssb(big_n, s1.sum(), between_sum), within.sum(), G)
    # delete-one-draw jackknife: every statistic again without draw i's trials (closed form)
    loo_n = big_n - n
    loo = _split(loo_n, n_sq - n**2, ssb(loo_n, s1.sum() - s1, between_sum - s1**2 / n), within.sum() - within, G - 1)
    usable = loo_n - (G - 1) >= 1
    se = []
    for stat in loo:
        x = stat[usable & np.isfinite(stat)]
        se.append(float(np.sqrt((x.size - 1) / x.size * np.sum((x - x.mean()) ** 2))) if x.size > 1 else float("nan"))
    full = [float(x) for x in full]
    return VarianceSplit(total=full[0], parameter=full[1], future=full[2], share=full[3],
                         total_se=se[0], parameter_se=se[1], future_se=se[2], share_se=se[3],
                         groups=G, trials=int(v.size))

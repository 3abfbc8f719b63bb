"""The workforce: attrition by tenure band and ramp by tenure month, from the roster.

Attrition
    Each rep is observed from the later of their hire date and the start of the history
    window (**delayed entry**: a rep hired years before the window only tells us about
    the tenures they lived through inside it, and reps who left before it are not in the
    data at all) until they left (an event) or the as-of date (**censored**). With the
    tenure-band hazard constant within a band, the maximum-likelihood monthly hazard of
    band b is ``events_b / exposure_b`` (rep-months lived in the band), and the scenario's
    ``annual`` rate is ``1 - exp(-12 x hazard)``. Draws come from the Gamma posterior
    ``Gamma(events + 1/2, exposure)`` (Jeffreys prior for a Poisson rate). The fit report
    draws lifelines' Nelson-Aalen cumulative hazard (with the same entry times) against it.
Ramp
    The model routes a territory's leads to its reps in proportion to their ramp
    productivity ``f`` (SPEC section 3). So given a territory-month's opportunities, each
    rep's share is ``f(tenure_i) / sum_j f(tenure_j)``: a multinomial whose maximum
    likelihood ``f`` by tenure month (relative to reps past the ramp, ``f = 1``) is found
    by the minorise-maximise iteration used for Bradley-Terry models. Only territory-months
    with two or more reps inform it; the month a rep leaves is left out (a partial month).
    Uncertainty: a bootstrap over reps (Poisson weights), since reps differ in more than
    their tenure. The ramp written to the scenario is the isotonic (non-decreasing) fit of
    these estimates, weighted by their precision, up to the first tenure month whose 90%
    interval (the same fit on every bootstrap draw) reaches 1, i.e. the first month the data
    cannot tell from a ramped rep (values clipped to [0, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..asof import AsOf, month_number
from scipy.optimize import isotonic_regression

from .common import interval, stream

__all__ = ["AttritionFit", "RampFit", "fit_attrition", "fit_ramp", "tenure_months", "DAYS_PER_MONTH", "RAMP_MONTHS"]

DAYS_PER_MONTH = 365.25 / 12
RAMP_MONTHS = 12


def tenure_months(start, end) -> np.ndarray:
    """Months (fractional, 30.44-day months) from ``start`` to ``end``."""
    days = (np.asarray(end, "datetime64[ns]") - np.asarray(start, "datetime64[ns]")).astype("timedelta64[D]").astype(float)
    return days / DAYS_PER_MONTH


@dataclass
class AttritionFit:
    """Attrition by tenure band.

    Attributes
    ----------
    bands : list of (from_month, until_month or None)
    annual : (B,) annual attrition per band; annual_draws : (N, B)
    events, exposure : (B,) leavers and rep-months per band
    reps : reps used; left_before_window : reps excluded because they left before the window
    entry, exit, event : per-rep arrays for the Nelson-Aalen figure (tenure months)
    """

    bands: list[tuple[int, int | None]]
    annual: np.ndarray
    annual_draws: np.ndarray
    events: np.ndarray
    exposure: np.ndarray
    reps: int
    left_before_window: int
    entry: np.ndarray
    exit: np.ndarray
    event: np.ndarray


def fit_attrition(reps: pd.DataFrame, asof: AsOf, *, breaks: tuple[int, ...] = (12, 24), draws: int = 200,
                  seed: int = 0) -> AttritionFit | None:
    """Fit attrition by tenure band from hire and leave dates (None without usable reps)."""
    window = pd.Timestamp(f"{asof.label(asof.first)}-01")
    hired = reps["hired"].to_numpy("datetime64[ns]")
    left = reps["left"].to_numpy("datetime64[ns]")
    usable = ~np.isnat(hired) & (hired <= np.datetime64(asof.date))
    gone_by = ~np.isnat(left) & (left <= np.datetime64(asof.date))
    end = np.where(gone_by, left, np.datetime64(asof.date))
    entry = np.maximum(tenure_months(hired, np.datetime64(window)), 0.0)
    exit_ = tenure_months(hired, end)
    before = usable & gone_by & (left < np.datetime64(window))  # not in the window at all
    use = usable & ~before
    if not use.any():
        return None
    entry, exit_, event = entry[use], exit_[use], gone_by[use]
    edges = [0, *breaks, np.inf]
    bands = [(int(edges[b]), None if not np.isfinite(edges[b + 1]) else int(edges[b + 1])) for b in range(len(edges) - 1)]
    exposure = np.array([np.clip(np.minimum(exit_, hi) - np.maximum(entry, lo), 0, None).sum()
                         for lo, hi in zip(edges[:-1], edges[1:])])
    which = np.searchsorted(np.asarray(edges[1:-1], float), exit_, side="right")
    events = np.bincount(which[event], minlength=len(bands)).astype(float)
    if exposure.sum() < 12:
        return None
    # a band nobody lived through takes the pooled rate
    pooled = (events.sum(), exposure.sum())
    ev = np.where(exposure > 0, events, pooled[0])
    ex = np.where(exposure > 0, exposure, pooled[1])
    hazard = ev / ex
    rng = stream(seed, "attrition")
    hazard_d = rng.gamma(ev + 0.5, 1.0 / ex, size=(draws, len(bands)))
    return AttritionFit(bands=bands, annual=-np.expm1(-12 * hazard), annual_draws=-np.expm1(-12 * hazard_d),
                        events=events, exposure=exposure, reps=int(use.sum()), left_before_window=int(before.sum()),
                        entry=entry, exit=exit_, event=event)


@dataclass
class RampFit:
    """Ramp productivity by tenure month.

    Attributes
    ----------
    productivity : (M,) relative lead share by tenure month 0..M-1 (1 = a ramped rep)
    productivity_draws : (N, M)
    ramp : the list written to the scenario (monotone fit, cut where it cannot be told from 1)
    hires : reps hired inside the history whose first months are observed
    rep_months : rep-months used
    """

    productivity: np.ndarray
    productivity_draws: np.ndarray
    ramp: list[float]
    hires: int
    rep_months: int


def _mm(counts: np.ndarray, tenure: np.ndarray, group: np.ndarray, weight: np.ndarray, months: int,
        iterations: int = 500) -> np.ndarray:
    """Minorise-maximise for f by tenure (f = 1 from ``months`` on), for B weightings at once.

    counts, tenure, group : (R,) rep-month opportunities, capped tenure, territory-month id
    weight : (B, R) bootstrap weights per rep-month
    """
    B = weight.shape[0]
    n_groups = int(group.max()) + 1
    f = np.ones((B, months + 1))
    wn = weight * counts[None, :]
    num = np.zeros((B, months + 1))
    for b in range(B):
        num[b] = np.bincount(tenure, weights=wn[b], minlength=months + 1)
    total = np.stack([np.bincount(group, weights=wn[b], minlength=n_groups) for b in range(B)])
    for _ in range(iterations):
        share = np.take_along_axis(f, np.broadcast_to(tenure, (B, len(tenure))), axis=1)
        F = np.stack([np.bincount(group, weights=weight[b] * share[b], minlength=n_groups) for b in range(B)])
        with np.errstate(invalid="ignore", divide="ignore"):
            per = np.where(F > 0, total / F, 0.0)
        den = np.stack([np.bincount(tenure, weights=weight[b] * per[b, group], minlength=months + 1) for b in range(B)])
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(den > 0, num / den, 1.0)
        new = new / new[:, -1:]  # ramped reps are the reference
        change = np.max(np.abs(new - f))
        f = new
        if change < 1e-9:
            break
    return f[:, :months]


def fit_ramp(view: pd.DataFrame, reps: pd.DataFrame, asof: AsOf, *, months: int = RAMP_MONTHS, draws: int = 200,
             seed: int = 0) -> RampFit | None:
    """Fit ramp productivity by tenure month (None with fewer than 3 hires inside the history)."""
    reps = reps.dropna(subset=["hired"])
    hire_m = month_number(reps["hired"]).astype(int)
    leave_m = month_number(reps["left"])
    rows = []
    for i, (name, terr, h, lv) in enumerate(zip(reps["name"], reps["territory"], hire_m, leave_m)):
        last = asof.last_full if not np.isfinite(lv) else min(asof.last_full, int(lv) - 1)
        for t in range(max(h, asof.first), last + 1):
            rows.append((i, name, terr, t, t - h))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["rep_index", "rep", "territory", "month", "tenure"])
    hires = frame.loc[frame["tenure"] < months, "rep_index"].nunique()
    if hires < 3:
        return None
    created = view["created_m"].to_numpy()
    sel = view["rep"].notna().to_numpy() & np.isfinite(created)
    opp = pd.DataFrame({"rep": view["rep"][sel], "month": created[sel].astype(int)}).value_counts().rename("n")
    frame = frame.join(opp, on=["rep", "month"]).fillna({"n": 0})
    size = frame.groupby(["territory", "month"])["rep"].transform("size")
    frame = frame[size >= 2].reset_index(drop=True)
    if frame.empty or (frame["tenure"] >= months).sum() == 0:
        return None
    group = frame.groupby(["territory", "month"]).ngroup().to_numpy()
    tenure = np.minimum(frame["tenure"].to_numpy(), months)
    counts = frame["n"].to_numpy(float)
    point = _mm(counts, tenure, group, np.ones((1, len(frame))), months)[0]
    rng = stream(seed, "ramp")
    rep_weight = rng.poisson(1.0, size=(draws, frame["rep_index"].max() + 1)).astype(float)
    boot = _mm(counts, tenure, group, rep_weight[:, frame["rep_index"].to_numpy()], months)
    # ramps only go up: a monotone (isotonic) fit, weighted by precision, irons out the noise of
    # single months; the ramp ends at the first month the data cannot tell from a ramped rep
    weight = 1.0 / np.maximum(boot.var(axis=0), 1e-6)
    smooth = isotonic_regression(point, weights=weight, increasing=True).x
    smooth_draws = np.array([isotonic_regression(b, weights=weight, increasing=True).x for b in boot])
    _, upper = interval(smooth_draws)
    reached = np.nonzero(upper >= 1.0)[0]
    length = int(reached[0]) if len(reached) else months
    return RampFit(productivity=point, productivity_draws=boot,
                   ramp=[float(v) for v in np.clip(smooth[:length], 0.0, 1.0)], hires=int(hires),
                   rep_months=len(frame))

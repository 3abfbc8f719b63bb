"""Pictures a reviewer checks a calibration by, drawn from its fits (matplotlib ``Figure``, no pyplot).

Each function takes a :class:`~salessim.crm.calibrate.Calibration` and returns a Figure:

- :func:`arrivals`: new opportunities per month, observed against fitted, per territory
- :func:`cycle`: lifelines' Kaplan-Meier curve of deals still open by age (with its 95%
  band), the empirical cumulative incidence of wins and losses, and the fitted model
  (win rate x cumulative cycle pmf)
- :func:`deal_size`: QQ plot of log amounts against the fitted lognormal
- :func:`win_rates`: each rep's raw win rate on mature deals and its shrunk estimate
- :func:`attrition`: lifelines' Nelson-Aalen cumulative hazard (with delayed entry) against
  the fitted tenure bands
- :func:`ramp`: fitted productivity by tenure month with its 90% band, and the quarter-end pull
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ..plot import BLUE, GREEN, GREY, ORANGE, RED, SERIES
from .fits.common import interval
from .fits.deal_size import pvalue_text

__all__ = ["FIGURES", "arrivals", "cycle", "deal_size", "win_rates", "attrition", "ramp"]


def _grid(n: int, width: float = 10.0, height: float = 3.2) -> tuple[Figure, list]:
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(width, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def arrivals(cal) -> Figure:
    a = cal.fits.arrivals
    fig, axes = _grid(len(a.territories))
    x = np.arange(len(a.counts))
    ticks = x[:: max(1, len(x) // 6)]
    for ax, k in zip(axes, a.territories):
        ax.plot(x, a.counts[k].to_numpy(), "o", ms=3, color=BLUE, label="observed")
        ax.plot(x, a.expected[k].to_numpy(), "-", color=ORANGE, label="fitted")
        ax.set_title(f"{k}: new opportunities per month", fontsize=10)
        ax.set_xticks(ticks, [a.counts.index[i] for i in ticks], rotation=45, fontsize=8)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Arrivals: growth {a.growth:+.1%} a year"
                 + (", seasonality fitted" if a.seasonality_fitted else ", no seasonality (under 24 months)")
                 + f"; dispersion {a.dispersion:.2f}", fontsize=11)
    return fig


def cycle(cal) -> Figure:
    from lifelines import KaplanMeierFitter

    fits = cal.fits.outcomes
    fig, axes = _grid(len(fits))
    for ax, (k, o) in zip(axes, fits.items()):
        t = o.table
        ages = t.index.to_numpy()
        # lifelines on the same (age, closed?) observations, expanded from the event table
        durations = np.repeat(np.concatenate([ages, ages]), np.concatenate([t["won"] + t["lost"], t["censored"]]).astype(int))
        events = np.repeat([1, 0], [int((t["won"] + t["lost"]).sum()), int(t["censored"].sum())])
        kmf = KaplanMeierFitter().fit(durations, event_observed=events)
        surv = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_
        ax.step(surv.index, 1 - surv.to_numpy(), where="post", color=GREY, label="closed by age (1 - Kaplan-Meier)")
        ax.fill_between(band.index, 1 - band.iloc[:, 0], 1 - band.iloc[:, 1], step="post", color=GREY, alpha=0.2)
        ax.step(ages, t["cif_won"], where="post", color=GREEN, label="won by age (Aalen-Johansen)")
        ax.step(ages, t["cif_lost"], where="post", color=RED, label="lost by age")
        fitted = o.win_rate * np.cumsum(o.cycle)
        ax.plot(np.arange(len(fitted)), fitted, "o--", ms=3, color=ORANGE, label="fit: win rate x cycle")
        ax.axvline(o.max_cycle, color=GREY, ls=":", lw=1)
        ax.set_xlim(0, max(o.max_cycle * 2, 6))
        ax.set_ylim(0, 1)
        ax.set_title(f"{k}: win rate {o.win_rate:.1%} (won/closed {o.naive_win_rate:.1%})", fontsize=10)
        ax.set_xlabel("months since created", fontsize=9)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Sales cycle: open deals censored; dotted line = longest cycle (older open deals are stale)",
                 fontsize=11)
    return fig


def deal_size(cal) -> Figure:
    fits = cal.fits.deal_size
    fig, axes = _grid(len(fits))
    for ax, (k, d) in zip(axes, fits.items()):
        logs = np.log(d.amounts)
        n = len(logs)
        theory = stats.norm.ppf((np.arange(n) + 0.5) / n)
        mu, sd = logs.mean(), logs.std(ddof=1)
        ax.plot(theory, logs, ".", ms=3, color=BLUE)
        ax.plot(theory, mu + sd * theory, "-", color=ORANGE, label="fitted lognormal")
        verdict = "lognormal" if d.lognormal else "empirical (lognormal rejected)"
        ax.set_title(f"{k}: {verdict}, Anderson-Darling {pvalue_text(d.gof_pvalue)}", fontsize=10)
        ax.set_xlabel("normal quantile", fontsize=9)
        ax.set_ylabel("log amount", fontsize=9)
    axes[0].legend(fontsize=8)
    fig.suptitle("Deal size: QQ plot of log amounts of won deals", fontsize=11)
    return fig


def win_rates(cal) -> Figure | None:
    sk = cal.fits.skill
    if sk is None:
        return None
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.subplots()
    reps = sk.reps.sort_values(["territory", "raw"]).reset_index(drop=True)
    x = np.arange(len(reps))
    for j, (k, g) in enumerate(reps.groupby("territory", sort=False)):
        idx = g.index.to_numpy()
        color = SERIES[j % len(SERIES)]
        ax.scatter(x[idx], g["raw"], s=8 + 40 * g["deals"] / reps["deals"].max(), color=color, alpha=0.5,
                   label=f"{k}: raw (size = deals)")
        ax.plot(x[idx], g["shrunk"], "_", ms=12, mew=2, color=color, label=f"{k}: shrunk")
        for i in idx:
            ax.plot([x[i], x[i]], [reps["raw"][i], reps["shrunk"][i]], color=color, lw=0.6, alpha=0.6)
        ax.axhline(sk.territory_rate[k], color=color, ls=":", lw=1)
    ax.set_xticks([])
    ax.set_xlabel("reps, sorted by raw win rate within territory", fontsize=9)
    ax.set_ylabel("win rate on mature deals", fontsize=9)
    ax.set_title(f"Win rate per rep and shrinkage: skill_sigma {sk.sigma:.2f} "
                 f"(90% [{interval(sk.sigma_draws)[0]:.2f}, {interval(sk.sigma_draws)[1]:.2f}])", fontsize=11)
    ax.legend(fontsize=7, ncol=2)
    return fig


def attrition(cal) -> Figure | None:
    at = cal.fits.attrition
    if at is None:
        return None
    from lifelines import NelsonAalenFitter

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.subplots()
    naf = NelsonAalenFitter().fit(at.exit, event_observed=at.event, entry=at.entry)
    ch = naf.cumulative_hazard_.iloc[:, 0]
    ax.step(ch.index, ch.to_numpy(), where="post", color=BLUE, label="Nelson-Aalen (lifelines, delayed entry)")
    band = naf.confidence_interval_
    ax.fill_between(band.index, band.iloc[:, 0], band.iloc[:, 1], step="post", color=BLUE, alpha=0.15)
    top = max(float(ch.index.max()), 1.0)
    grid = np.linspace(0, top, 200)
    hazard = -np.log1p(-np.asarray(at.annual)) / 12
    edges = [lo for lo, _ in at.bands] + [np.inf]
    cum = np.zeros_like(grid)
    for b in range(len(at.bands)):
        cum += hazard[b] * np.clip(np.minimum(grid, edges[b + 1]) - edges[b], 0, None)
    ax.plot(grid, cum, color=ORANGE, label="fitted bands")
    for lo, _ in at.bands[1:]:
        ax.axvline(lo, color=GREY, ls=":", lw=1)
    ax.set_xlabel("tenure (months)", fontsize=9)
    ax.set_ylabel("cumulative hazard", fontsize=9)
    ax.set_title("Attrition: " + ", ".join(f"{lo}-{hi} months {a:.0%}/yr" if hi else f"{lo}+ months {a:.0%}/yr"
                                            for (lo, hi), a in zip(at.bands, at.annual)), fontsize=11)
    ax.legend(fontsize=8)
    return fig


def ramp(cal) -> Figure | None:
    r, q = cal.fits.ramp, cal.fits.quarter
    if r is None and not q:
        return None
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    if r is not None:
        months = np.arange(len(r.productivity))
        lo, hi = interval(r.productivity_draws)
        left.fill_between(months, lo, hi, color=BLUE, alpha=0.2, label="90% band")
        left.plot(months, r.productivity, "o-", color=BLUE, ms=3, label="fitted")
        left.axhline(1.0, color=GREY, ls=":")
        left.set_xlabel("tenure month", fontsize=9)
        left.set_title(f"Ramp: opportunity share of new hires vs ramped reps ({r.hires} hires)", fontsize=10)
        left.legend(fontsize=8)
    else:
        left.set_visible(False)
    if q:
        names = list(q)
        vals = [q[k].pull for k in names]
        errs = np.array([[q[k].pull - interval(q[k].pull_draws)[0], interval(q[k].pull_draws)[1] - q[k].pull]
                         for k in names]).T
        right.bar(names, vals, yerr=errs, color=ORANGE, capsize=4)
        right.set_ylim(0, 1)
        right.set_title("Quarter-end pull (90% interval)", fontsize=10)
    else:
        right.set_visible(False)
    return fig


FIGURES = (
    ("arrivals", arrivals, "New opportunities per month per territory: observed counts (dots) against the fitted "
                           "Poisson rate with growth and seasonality (line)."),
    ("cycle", cycle, "Sales cycle as competing risks. Grey: share of deals closed by each age (1 - Kaplan-Meier "
                     "from lifelines, 95% band); green/red: cumulative incidence of wins/losses; orange: the fitted "
                     "model (win rate x cumulative cycle pmf). The two should agree up to the dotted longest cycle."),
    ("deal_size", deal_size, "Deal size QQ plot: log amounts of won deals against normal quantiles. Points on the "
                             "line: lognormal; bends or steps (a product mix): the empirical distribution is used."),
    ("win_rates", win_rates, "Win rate per rep on mature deals: raw rates (dots, sized by deals) and the "
                             "random-effects estimates (bars) they shrink to; dotted: territory rate."),
    ("attrition", attrition, "Attrition hazard: lifelines' Nelson-Aalen cumulative hazard by tenure (with delayed "
                             "entry) against the fitted piecewise-constant bands."),
    ("ramp", ramp, "Ramp productivity by tenure month (90% bootstrap band) and the quarter-end pull per territory."),
)
"""The fit report's figures: (name, function, caption); a function returns None when its fit is absent."""

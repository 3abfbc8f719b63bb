"""Ground truth for the CRM tests: a scenario the model is true for, its simulated
histories (``salessim.crm.history``), and each calibrated number next to its true value.

The truth is a scenario with every fitted feature switched on (growth, seasonality,
skill spread, attrition by tenure band with backfills, ramp, quarter-end pull, a
lognormal deal size) and none the export cannot show (no capacity cap, every lead an
opportunity, no downturn). A history is one trial of it, exported at the end of its
horizon; calibrating on it gives a 90% interval for every fitted number.

The estimand of a territory's ``win_rate`` is the win probability of the opportunities
that history had, ``mean(min(1, win_rate x skill of the owner))``: with a handful of reps
the territory's rate is set by the skills it happened to draw, and that is what a fit on
its deals can know (the population rate is recovered only as reps grow in number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

import salessim
from salessim.crm import calibrate, read_export, write_export
from salessim.crm.fits.common import interval
from salessim.crm.history import history_of_trace
from salessim.engine import trace_trial

HISTORY_MONTHS = 36
AS_OF = "2024-12-31"  # the end of the 36 months of history from 2022-01
LEVEL = 0.9

CYCLE = [0.1, 0.3, 0.3, 0.2, 0.1]
RAMP = [0.2, 0.5, 0.8]
BANDS = [{"until_month": 12, "annual": 0.35}, {"until_month": 24, "annual": 0.25}, {"annual": 0.2}]
SEASONALITY = [0.8, 0.9, 1.2, 0.9, 1.0, 1.2, 0.8, 0.9, 1.2, 1.0, 1.0, 1.1]
TERRITORIES = {"East": dict(reps=10, initial_tenure_months=24, leads_per_month=80.0, win_rate=0.3,
                            deal_size={"mean": 20_000.0, "cv": 0.6}),
               "West": dict(reps=8, initial_tenure_months=18, leads_per_month=60.0, win_rate=0.25,
                            deal_size={"mean": 30_000.0, "cv": 0.7})}
GROWTH, SIGMA, PULL = 0.1, 0.25, 0.3


def truth_scenario(months: int = HISTORY_MONTHS) -> salessim.Scenario:
    return salessim.Scenario.from_dict({
        "name": "truth", "start": "2022-01", "horizon_months": months,
        "goal": {"annual": [1e6] * (months // 12)},
        "market": {"seasonality": SEASONALITY, "annual_growth": GROWTH},
        "defaults": {"ramp": RAMP, "capacity_leads_per_month": None, "lead_to_opportunity": 1.0,
                     "attrition_by_tenure": BANDS, "skill_sigma": SIGMA, "quota_annual": 600_000, "backfill": True,
                     "time_to_fill_months": [0.0, 0.5, 0.5], "quarter_end_pull": PULL,
                     # an export cannot tell a deal lost with its departed owner from any other loss: every
                     # won deal books here, so a territory's win rate is what its deals show
                     "orphaned_deal_close_rate": 1.0,
                     "sales_cycle_months": CYCLE},
        "territories": [{"name": k, **v} for k, v in TERRITORIES.items()],
    })


@dataclass
class History:
    trace: object
    opportunities: pd.DataFrame
    reps: pd.DataFrame


def simulated_history(seed: int, months: int = HISTORY_MONTHS, trial: int = 0) -> History:
    tr = trace_trial(truth_scenario(months), seed, trial)
    opps, reps = history_of_trace(tr)
    return History(tr, opps, reps)


def realised_win_rates(trace, as_of_month: int = HISTORY_MONTHS) -> dict[str, float]:
    """Per territory: mean over opportunities created before ``as_of_month`` of the owner's win probability."""
    sc = trace.scenario
    occ = trace.occupants
    skill = {(int(s), int(o)): float(v) for s, o, v in zip(occ["seat"], occ["occupant"], occ["skill"])}
    rm = trace.rep_months[trace.rep_months["month"] < as_of_month]
    out = {}
    for k, t in enumerate(sc.territories):
        mine = rm[rm["territory"] == k]
        p = np.array([min(1.0, t.win_rate * skill[(int(s), int(o))]) for s, o in zip(mine["seat"], mine["occupant"])])
        out[t.name] = float((p * mine["opportunities"]).sum() / mine["opportunities"].sum())
    return out


def recovery(seed: int, tmp_path, draws: int = 200) -> pd.DataFrame:
    """One history through the CSV files and ``calibrate``: every fitted number against its truth.

    Returns a DataFrame ``parameter``, ``group``, ``truth``, ``estimate``, ``lo``, ``hi``,
    ``covered`` (truth inside the fit's stated 90% interval).
    """
    h = simulated_history(seed)
    paths = write_export(h.opportunities, h.reps, tmp_path / f"history-{seed}")
    cal = calibrate(*paths, as_of=AS_OF, draws=draws, seed=seed)
    f = cal.fits
    rows = []

    def add(name, group, truth, estimate, draws_):
        lo, hi = interval(draws_, LEVEL)
        rows.append((name, group, float(truth), float(estimate), float(lo), float(hi), bool(lo <= truth <= hi)))

    years = HISTORY_MONTHS / 12  # from the first history month to the scenario's start
    add("annual_growth", "growth", GROWTH, f.arrivals.growth, f.arrivals.growth_draws)
    season = np.asarray(SEASONALITY) / np.mean(SEASONALITY)
    for m in range(12):
        add(f"seasonality.{m + 1}", "seasonality", season[m], f.arrivals.seasonality[m], f.arrivals.seasonality_draws[:, m])
    add("skill_sigma", "skill_sigma", SIGMA, f.skill.sigma, f.skill.sigma_draws)
    for b, band in enumerate(BANDS):
        add(f"attrition.{b}", "attrition", band["annual"], f.attrition.annual[b], f.attrition.annual_draws[:, b])
    for t in range(len(f.ramp.ramp)):
        add(f"ramp.{t}", "ramp" if t < len(RAMP) else "ramp_beyond", RAMP[t] if t < len(RAMP) else 1.0,
            f.ramp.productivity[t],
            f.ramp.productivity_draws[:, t])
    wins = realised_win_rates(h.trace)
    for i, (k, terr) in enumerate(TERRITORIES.items()):
        add(f"{k}.leads_per_month", "leads", terr["leads_per_month"] * (1 + GROWTH) ** years, f.arrivals.leads[i],
            f.arrivals.leads_draws[:, i])
        add(f"{k}.win_rate", "win_rate", wins[k], f.outcomes[k].win_rate, f.outcomes[k].win_rate_draws)
        q = f.quarter[k]
        add(f"{k}.quarter_end_pull", "quarter_end_pull", PULL, q.pull, q.pull_draws)
        for lag, p in enumerate(CYCLE):
            add(f"{k}.sales_cycle_months.{lag}", "cycle", p, q.natural_cycle[lag], q.natural_cycle_draws[:, lag])
        ds = f.deal_size[k]
        add(f"{k}.deal_size.mean", "deal_size", terr["deal_size"]["mean"], ds.mean, ds.mean_draws)
        add(f"{k}.deal_size.cv", "deal_size", terr["deal_size"]["cv"], ds.cv, ds.cv_draws)
    return pd.DataFrame(rows, columns=["parameter", "group", "truth", "estimate", "lo", "hi", "covered"])


def binomial_tails(x: int, n: int, p: float) -> tuple[float, float]:
    """P(X <= x) and P(X >= x) for X ~ Binomial(n, p): how surprising a count of x covered is."""
    return float(stats.binom.cdf(x, n, p)), float(stats.binom.sf(x - 1, n, p))


def read_back(h: History, tmp_path, name: str):
    """The history written with the Salesforce preset's columns and read back by the importer."""
    paths = write_export(h.opportunities, h.reps, tmp_path / name)
    return read_export(*paths), paths

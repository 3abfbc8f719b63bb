"""Territory balance of a results Dataset: is each territory staffed for its demand?

Per territory, in one fiscal year:

- leads per ramped rep: the year's leads over its ramped rep-months (``ramped_fte``
  summed over months), so a month with two half-ramped reps counts one ramped rep;
- the share of leads unworked (beyond the reps' capacity, or with no rep to take them);
- expected attainment (mean over filled seats at the year's end) and P(attain), the share
  of those reps at or above quota (standard error clustered by future);
- a flag: **understaffed** when at least :data:`UNDERSTAFFED_UNWORKED` of the leads go
  unworked, **overstaffed** when a ramped rep gets fewer leads than
  :data:`OVERSTAFFED_LOAD` of what one can work (``capacity_leads_per_month``): reps short
  of demand. With unlimited capacity no territory is overstaffed by this rule.

Where it is cheap (the scenario is small enough for a few hundred thousand
rep-months of simulation), :func:`balance` also runs one step of the optimizer: one more
hire at the start of the horizon in each territory, judged on the year's bookings on
common random numbers, and names the territory that gains most.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..results import scenario_of
from .errors import PlanError
from .evaluate import Evaluator, PlanLayout
from .objective import parse_objective
from ..summary import trial_groups
from .optimize import Precision, _Search, _through, whole_draws
from .slots import parse_slots
from .stats import share_se

__all__ = ["balance", "Balance", "TerritoryBalance", "NextHire", "UNDERSTAFFED_UNWORKED", "OVERSTAFFED_LOAD"]

UNDERSTAFFED_UNWORKED = 0.10
OVERSTAFFED_LOAD = 0.75
SUGGEST_WORK_LIMIT = 5e7  # seat-months x trials x candidates above which no suggestion is computed


@dataclass
class TerritoryBalance:
    territory: str
    leads_per_ramped_rep: float  # per month
    capacity: float | None  # leads a ramped rep can work per month (None: unlimited)
    unworked_share: float
    attainment: float  # mean attainment of filled seats
    p_attain: float
    p_attain_se: float
    flag: str  # "understaffed", "overstaffed" or ""
    reason: str


@dataclass
class NextHire:
    territory: str
    month: str
    objective: str
    gain: float
    se: float
    trials: int
    gains: dict[str, float]  # every territory's estimated gain (on the first round's trials)


@dataclass
class Balance:
    fiscal_year: int
    currency: str
    territories: list[TerritoryBalance]
    next_hire: NextHire | None
    note: str  # why there is no suggestion, or ""


def _flag(unworked: float, load: float, capacity: float | None) -> tuple[str, str]:
    if unworked >= UNDERSTAFFED_UNWORKED:
        return "understaffed", f"{unworked:.0%} of leads unworked"
    if capacity is not None and load < OVERSTAFFED_LOAD * capacity:
        return "overstaffed", f"a ramped rep gets {load:.0f} leads a month against a capacity of {capacity:g}"
    return "", ""


def balance(ds: xr.Dataset, fiscal_year: int | None = None, *, suggest: bool = True, trials: int = 1_000,
            seed: int | None = None) -> Balance | None:
    """The balance of every territory in ``fiscal_year`` (default: the first full one).

    Returns None when the results have no full fiscal year. ``suggest`` runs the
    optimizer's next-hire step (``trials`` at most per candidate, the results' seed unless
    ``seed`` is given) where that is cheap.
    """
    years = [int(y) for y in ds["fiscal_year"].values]
    if not years:
        return None
    fy = years[0] if fiscal_year is None else int(fiscal_year)
    months = np.nonzero(ds["fiscal_year_of_month"].values == fy)[0]
    sc = scenario_of(ds)
    names = [str(t) for t in ds["territory"].values]
    att = ds["attainment"].sel(fiscal_year=fy).values
    seat_terr = np.asarray(ds["seat_territory"].values).astype(str)
    filled = np.isfinite(att)
    groups = trial_groups(ds)  # the futures of one parameter draw share it: one cluster

    def total(name):  # (K,); reduced by xarray, so a lazily opened file is summed chunk by chunk
        return ds[name].isel(month=months).sum(("trial", "month")).values.astype(np.float64)

    leads, unworked, fte = total("leads"), total("leads_unworked"), total("ramped_fte")
    rows = []
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for k, name in enumerate(names):
            t = sc.territories[k]
            cols = seat_terr == name
            a, m = att[:, cols], filled[:, cols]
            load = float(leads[k] / fte[k]) if fte[k] > 0 else math.inf
            share = float(unworked[k] / leads[k]) if leads[k] > 0 else 0.0
            capacity = t.capacity_leads_per_month
            p, p_se = share_se(a >= 1.0, m, groups)
            flag, reason = _flag(share, load, capacity)
            rows.append(TerritoryBalance(name, load, capacity, share, float(np.nanmean(a[m])) if m.any() else math.nan,
                                         p, p_se, flag, reason))
    hire, note = None, ""
    if suggest:
        hire, note = _next_hire(sc, fy, trials, int(ds.attrs.get("seed", 0)) if seed is None else seed)
    return Balance(fy, sc.spec.currency, rows, hire, note)


def _next_hire(sc, fy: int, trials: int, seed: int) -> tuple[NextHire | None, str]:
    objective = parse_objective(f"bookings[{fy}]").check(sc, seed)
    through = _through(sc, objective)
    work = len(sc.seat_territories()) * (through + 1) * trials * (len(sc.territories) + 1)
    if work > SUGGEST_WORK_LIMIT:
        return None, "not computed here (a large scenario): run salessim optimize"
    slots = parse_slots(sc, f"*:{sc.spec.start}")
    layout = PlanLayout(sc, slots, through=through)
    try:
        precision, _ = whole_draws(Precision(min_trials=min(250, trials), max_trials=trials), sc)
    except PlanError as exc:
        return None, f"not computed here ({exc})"
    search = _Search(Evaluator(layout, objective, seed), np.ones(len(slots)), 1, None, precision, None)
    plan, _ = search.greedy(layout.zeros())
    if not search.steps:
        return None, f"no extra hire at {sc.spec.start} raises FY{fy} bookings"
    step = search.steps[0]
    first = search.p.min_trials  # every candidate ran at least these trials
    base = search.ev.values(layout.zeros(), first)
    gains = {slot.territory: float(np.nanmean(search.ev.values(_one(len(slots), s), first) - base))
             for s, slot in enumerate(slots)}
    return NextHire(step.added.territory, step.added.month, str(objective), step.gain, step.se, step.trials, gains), ""


def _one(m: int, s: int) -> tuple[int, ...]:
    return tuple(1 if j == s else 0 for j in range(m))

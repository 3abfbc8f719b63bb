"""Quotas from the goal: allocate goal x over-assignment to territories and named reps.

The goal of one fiscal year, times an over-assignment factor, is split into full-year
quotas (``quota_annual``) of **quota holders** (:mod:`.holders`): each territory (its
anonymous reps, hires, backfills and ramping reps) and each full-tenure named rep of a
roster. The sum that must match it is the **planned quota**: every seat's quota for the
year as the plan has it, each planned rep assumed to stay, ramping reps carrying their
ramped share, plus for the fiscal year in progress at ``start`` what the named reps
already carried (``ytd_quota``). So ``sum_h F_h + Q_h U_h = goal x over_assign`` (F: quota
carried before ``start``, U: planned units). Attrition and vacancies lower the quota
actually carried; that expected figure is reported beside it.

Rules for ``Q_h``:

- ``flat``: one number for every holder (today's single ``quota_annual``).
- ``capacity``: every holder's planned quota ``F_h + Q_h U_h`` in proportion to its
  planned reps' expected bookings in the year (each rep's, in the futures where they stay
  the year).
- ``equal-chance``: every full-tenure rep has the same probability p of reaching quota.
  Bookings do not depend on quotas, so each holder's simulated **reach** (the largest
  full-year quota a rep-year makes, :meth:`.holders.RepYears.reach`) at today's quotas
  gives its chance at any quota: ``Q_h = quantile_h(1 - p)``, with p solving
  ``sum_h F_h + quantile_h(1 - p) U_h = goal x over_assign``. A named rep with a high
  known skill, a strong open pipeline or a good year so far gets a higher quota. Ramping
  reps keep their ramped share of their territory's quota; their chance is shown per rep
  but not equalised.

Figures for the proposed and today's quotas come from one run: per territory, P(attain)
of its full-tenure reps at their quotas, their P10-P90 attainment and the share of reps
at quota (every filled seat); per planned rep, in the futures where they still hold the
seat at the year's end, P(attain) and P10-P90. Standard errors cluster the reps of one
future (and the futures of one parameter draw) together.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import brentq

from ..engine import MAX_SEED, SimulationError, simulate
from ..scenario import Scenario, ScenarioError
from .errors import PlanError
from .evaluate import truncated
from .holders import Holder, RepYears, YearSeats, planned_units, quota_holders, stand_ins, year_seats
from .stats import share_se, sum_of_means_se

__all__ = ["quotas", "QuotaResult", "TerritoryQuota", "SeatQuota", "Holder", "RULES", "planned_units",
           "quota_holders", "allocate", "share_se"]

RULES = ("equal-chance", "capacity", "flat")


@dataclass
class TerritoryQuota:
    """One territory: its quota (anonymous reps, hires, backfills, ramping reps) and the figures of all its reps."""

    territory: str
    seats: int  # planned seats carrying quota in the year
    full_seats: int  # of which the planned rep is fully ramped in every simulated month
    named_quotas: int  # of which a named rep carries a quota of their own (proposed)
    units: float  # planned quota units (full-year quotas) in the year's simulated months
    fixed: float  # quota carried before start in the year (ytd_quota)
    current: float  # today's territory quota_annual
    proposed: float
    current_total: float  # planned quota of the territory's seats in the year, today
    proposed_total: float
    expected_bookings: float  # the planned reps' expected bookings in the year (each in the futures where they stay)
    expected_bookings_se: float
    rep_years: int  # simulated full-tenure rep-years behind the P(attain) figures
    p_attain_current: float  # full-tenure reps at their quotas
    p_attain_current_se: float
    p_attain: float
    p_attain_se: float
    attainment_current: tuple[float, float, float]  # P10, P50, P90 of full-tenure reps
    attainment: tuple[float, float, float]
    at_quota_current: float  # share of reps (every filled seat) at quota
    at_quota_current_se: float
    at_quota: float
    at_quota_se: float
    carried_current: float  # expected quota carried in the simulated months (attrition and vacancies included)
    carried: float


@dataclass
class SeatQuota:
    """One planned rep: figures in the futures where that rep still holds the seat at the year's end."""

    seat: int
    territory: str
    name: str  # the seat's name
    planned: str  # who the plan puts in the seat (name, tenure)
    key: str  # the scenario key of the rep's quota (their own, or the territory's)
    equalised: bool  # a full-tenure rep (the equal-chance rule gives them the common chance)
    units: float  # planned quota share of a full-year quota in the year's simulated months
    fixed: float  # quota carried before start in the year (ytd_quota)
    current: float  # today's full-year quota (quota_annual)
    proposed: float
    current_year: float  # the year's planned quota: fixed + quota x units
    proposed_year: float
    stays: float  # share of futures in which the planned rep still holds the seat at the year's end
    expected_bookings: float  # in those futures
    expected_bookings_se: float
    p_attain_current: float
    p_attain_current_se: float
    p_attain: float
    p_attain_se: float
    attainment_current: tuple[float, float]  # P10, P90
    attainment: tuple[float, float]


@dataclass
class QuotaResult:
    """Proposed quotas with the figures that judge them, and the same for today's quotas."""

    scenario: Scenario  # the input with the proposed quotas in place
    rule: str
    fiscal_year: int
    months: int  # simulated months of the year (fewer than 12 for the year in progress)
    goal: float
    over_assign: float
    target: float  # goal x over_assign
    territories: list[TerritoryQuota]
    seats: list[SeatQuota]
    changes: dict[str, int]  # scenario path -> proposed quota
    p_equal: float  # the common P(attain) of full-tenure reps (equal-chance), else NaN
    trials: int
    seed: int
    currency: str
    notes: list[str] = field(default_factory=list)

    @property
    def planned_total(self) -> float:
        return float(sum(t.proposed_total for t in self.territories))

    @property
    def planned_total_current(self) -> float:
        return float(sum(t.current_total for t in self.territories))

    @property
    def fixed(self) -> float:
        """Quota the named reps carried before ``start`` in the year (part of both totals)."""
        return float(sum(t.fixed for t in self.territories))

    def to_dict(self) -> dict:
        from .optimize import _clean

        return _clean({
            "scenario": self.scenario.name, "rule": self.rule, "fiscal_year": self.fiscal_year, "months": self.months,
            "goal": self.goal, "over_assign": self.over_assign, "target": self.target,
            "planned_total": self.planned_total, "planned_total_current": self.planned_total_current,
            "fixed": self.fixed, "p_equal": self.p_equal,
            "quotas": {t.territory: t.proposed for t in self.territories},
            "rep_quotas": {s.name: s.proposed for s in self.seats if ".reps." in s.key},
            "changes": self.changes,
            "territories": [asdict(t) for t in self.territories], "seats": [asdict(s) for s in self.seats],
            "trials": self.trials, "seed": self.seed, "currency": self.currency, "notes": self.notes,
        })


def _no_evidence(rule: str, h: Holder, fy: int) -> str:
    if h.named:
        return (f"--rule {rule}: {h.name} never holds their seat at the end of FY{fy} in the simulated futures, "
                "so there is no distribution of their bookings; run more trials (-n) or use --rule flat")
    return (f"--rule {rule}: {h.name} has no full-tenure rep-years in FY{fy} (every rep there is ramping or the "
            "seats are empty), so there is no distribution to equalise; use --rule capacity")


def allocate(rule: str, holders: list[Holder], samples: list[np.ndarray], target: float, expected: list[float],
             fiscal_year: int = 0) -> tuple[list[float], float]:
    """Full-year quota of each holder under ``rule``, and the common P(attain) (equal-chance; else NaN).

    Parameters
    ----------
    holders : list of Holder
        Active holders (``units`` > 0) share the target; an inactive one (a territory whose
        seats all carry named reps' quotas) gets the rule's number for its backfills when
        its sample allows, else NaN (left as it is).
    samples : list of 1-D arrays
        Per holder: the simulated reach of its rep-years, in currency (the largest
        full-year quota each makes).
    target : float
        goal x over-assignment: ``sum(fixed + quota x units)`` is made equal to it.
    expected : list of float
        Per holder: its planned reps' expected bookings in the year (the capacity rule's weights).

    Returns
    -------
    (quotas, p) : list of float, float
    """
    units = np.array([h.units for h in holders])
    active = units > 0
    if not active.any():
        raise PlanError("no planned seat carries quota in the year, so there is nothing to allocate")
    fixed = float(sum(h.fixed for h in holders))
    free = target - fixed
    if not free > 0:
        raise PlanError(f"--over-assign: goal x over-assignment = {target:,.0f} is not above the quota the reps "
                        f"already carried before start in the year ({fixed:,.0f}), so nothing is left to allocate")
    quotas = np.full(len(holders), np.nan)
    if rule == "flat":
        quotas[:] = free / units[active].sum()
        return list(quotas), math.nan
    if rule == "capacity":
        weight = np.array(expected, dtype=np.float64)
        for i in np.nonzero(active & ~np.isfinite(weight))[0]:
            raise PlanError(_no_evidence(rule, holders[i], fiscal_year))
        if not weight[active].sum() > 0:
            raise PlanError("--rule capacity: the reps are expected to book nothing in the year")
        per = target / weight[active].sum()  # planned quota per unit of expected bookings
        for i, h in enumerate(holders):
            if h.active:
                quotas[i] = (per * weight[i] - h.fixed) / h.units
                if not quotas[i] > 0:
                    raise PlanError(f"--rule capacity: {h.name}'s share of goal x over-assignment, "
                                    f"{per * weight[i]:,.0f}, is not above the quota carried before start "
                                    f"({h.fixed:,.0f})")
            elif samples[i].size:
                quotas[i] = per * float(samples[i].mean())
        return list(quotas), math.nan
    if rule != "equal-chance":
        raise PlanError(f"--rule must be one of {', '.join(RULES)}, got {rule!r}")
    for h, x in zip(holders, samples):
        if h.active and x.size == 0:
            raise PlanError(_no_evidence(rule, h, fiscal_year))
    idx = np.nonzero(active)[0]

    def planned(p: float) -> float:
        return float(sum(np.quantile(samples[i], 1.0 - p) * units[i] for i in idx))

    lo, hi = planned(1.0), planned(0.0)
    slack = 1e-9 * max(abs(hi), abs(target))  # sums in another order differ in the last bits
    if not lo - slack <= free <= hi + slack:
        side = (f"more than {hi + fixed:,.0f}, the sum with every quota at its rep's best simulated year"
                if free > hi else f"less than {lo + fixed:,.0f}, the sum with every quota at its rep's worst simulated year")
        raise PlanError(f"--over-assign: goal x over-assignment = {target:,.0f} cannot give every full-tenure rep the "
                        f"same chance: it is {side}")
    if free <= lo:
        p = 1.0
    elif free >= hi:
        p = 0.0
    else:
        p = brentq(lambda q: planned(q) - free, 0.0, 1.0, xtol=1e-12)
    for i, (h, x) in enumerate(zip(holders, samples)):
        if x.size:
            quotas[i] = float(np.quantile(x, 1.0 - p))
        if h.active and not quotas[i] > 0:
            raise PlanError(f"--rule equal-chance: {h.name}'s quota for a {p:.0%} chance would be "
                            f"{quotas[i]:,.0f}: the quota carried before start already exceeds what they are "
                            "likely to book; use --rule capacity or flat")
    return list(quotas), float(p)


def _check(scenario: Scenario, rule: str, over_assign, fiscal_year, trials, seed) -> tuple[int, float]:
    if rule not in RULES:
        raise PlanError(f"--rule must be one of {', '.join(RULES)}, got {rule!r}")
    if isinstance(over_assign, bool) or not isinstance(over_assign, (int, float)) or not math.isfinite(over_assign) \
            or not 0 < over_assign <= 5:
        raise PlanError(f"--over-assign must be a factor above 0 and at most 5 (1.1 = quotas sum to 110% of the goal), "
                        f"got {over_assign!r}")
    years = [y for y, _ in scenario.fiscal_years()]
    if not years:
        raise PlanError(f"{scenario.name}: no fiscal year lies fully inside the horizon, so there is no goal to allocate")
    fy = years[0] if fiscal_year is None else fiscal_year
    if fy not in years:
        raise PlanError(f"--fiscal-year {fy}: not a full fiscal year of {scenario.name} (have {', '.join(map(str, years))})")
    goal = float(scenario.spec.goal.annual[years.index(fy)])
    if not goal > 0:
        raise PlanError(f"--fiscal-year {fy}: the goal of FY{fy} is 0, so there is nothing to allocate")
    whole = isinstance(trials, (int, np.integer)) and not isinstance(trials, bool)
    if not whole or trials < 20:
        raise PlanError(f"--trials must be a whole number >= 20, got {trials!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise PlanError(f"--seed must be a whole number between 0 and {MAX_SEED}, got {seed!r}")
    return fy, goal


def _pct(a: np.ndarray, mask: np.ndarray, qs=(10, 50, 90)) -> tuple[float, ...]:
    v = a[mask]
    return tuple(float(z) for z in np.percentile(v, qs)) if v.size else (math.nan,) * len(qs)


def _planned_label(year: YearSeats, s: int) -> str:
    """The seat's name (a named rep's, ``East#3``, ``hire:2027-06:West#1``) with the tenure it starts with."""
    if year.is_hire[s]:
        return year.names[s]
    return f"{year.names[s]}, tenure {int(year.tenure0[s])}"


class _Figures:
    """P(attain), attainment and reps at quota of one run, at today's and at the proposed quotas."""

    def __init__(self, ry: RepYears, first_quota: np.ndarray, territory_quota: np.ndarray):
        y = ry.year
        self.ry = ry
        self.now = ry.attainment
        self.new = ry.rescaled(first_quota, territory_quota)
        # today's figures exist where the rep holding the seat has a quota today
        self.valid = np.where(ry.occupant == 0, y.has_quota[None, :], y.territory_has_quota[y.terr][None, :])

    def p(self, mask: np.ndarray, proposed: bool) -> tuple[float, float]:
        if proposed:
            return share_se(self.new >= 1.0, mask, self.ry.groups)
        if not (self.valid | ~mask).all():
            return math.nan, math.nan
        return share_se(self.now >= 1.0, mask, self.ry.groups)

    def pct(self, mask: np.ndarray, proposed: bool, qs=(10, 50, 90)) -> tuple[float, ...]:
        if not proposed and not (self.valid | ~mask).all():
            return (math.nan,) * len(qs)
        return _pct(self.new if proposed else self.now, mask, qs)


def quotas(scenario: Scenario, rule: str = "equal-chance", over_assign: float = 1.1, fiscal_year: int | None = None,
           *, trials: int = 4_000, seed: int = 0) -> QuotaResult:
    """Allocate FY goal x ``over_assign`` to territory and named-rep quotas under ``rule``.

    Parameters
    ----------
    scenario : Scenario
    rule : {"equal-chance", "capacity", "flat"}
    over_assign : float
        Planned quota over the goal (1.1: quotas sum to 110% of the goal).
    fiscal_year : int, optional
        A fiscal year of the scenario with a goal (default the first; the year in progress
        at ``start`` counts, with the quota carried before ``start`` fixed).
    trials, seed : int
        The simulation the figures (and the equal-chance and capacity rules) rest on.

    Returns
    -------
    QuotaResult
        ``changes`` maps scenario keys (``territories.<k>.quota_annual``,
        ``territories.<k>.reps.<i>.quota_annual``) to the proposed quotas, rounded to whole
        currency units; ``scenario`` has them in place.
    """
    fy, goal = _check(scenario, rule, over_assign, fiscal_year, trials, seed)
    target = goal * float(over_assign)
    terrs = scenario.territories
    last = {label: end for label, _, end in scenario.fiscal_year_spans()}[fy]
    try:
        # the months after the year do not change it; seats of hires starting later drop out (they carry no quota in it)
        cut = truncated(scenario, last)
        year = year_seats(cut, fy)
        extra = stand_ins(cut)
        analysed = cut.with_overrides(extra) if extra else cut
        ds = simulate(analysed, trials, seed)
    except (ScenarioError, SimulationError) as exc:
        raise PlanError(str(exc)) from None
    ry = RepYears.from_dataset(ds, analysed, year)
    holders = quota_holders(cut, year)
    seat_number = {name: i for i, name in enumerate(scenario.seat_names())}  # the seat in a run of the whole scenario
    notes = []
    samples = [ry.reach(h) for h in holders]
    for i, h in enumerate(holders):
        if rule == "equal-chance" and not h.named and samples[i].size == 0:
            pooled = ry.simulated_reach(holders, h.territory)
            if pooled.size:
                samples[i] = pooled
                notes.append(f"{h.name}: no full-tenure rep-year carries the territory's quota in FY{fy}, so its "
                             "quota_annual (for hires, backfills and ramping reps) gives its named full-tenure reps' "
                             "simulated months (year to date left out) the common chance")
    planned_seats = [[s for s in h.seats if year.units[s] > 0] for h in holders]
    expected = [sum_of_means_se(ry.bookings[:, cols], ry.planned[:, cols], ry.groups) for cols in planned_seats]
    raw, p_equal = allocate(rule, holders, samples, target, [e for e, _ in expected], fy)

    proposed = []  # whole currency units; NaN: left as it is
    for h, q in zip(holders, raw):
        proposed.append(float(round(q)) if math.isfinite(q) else math.nan)
    first_quota = year.quota.copy()
    territory_quota = year.territory_quota.copy()
    changes: dict[str, int] = {}
    for h, q in zip(holders, proposed):
        if not math.isfinite(q):
            continue
        first_quota[list(h.seats)] = q
        if not h.named:
            territory_quota[h.territory] = q
        for path in (h.path, *h.also):
            changes[path] = int(q)
    if any(not math.isfinite(q) for q in proposed):
        names = ", ".join(h.name for h, q in zip(holders, proposed) if not math.isfinite(q))
        notes.append(f"{names}: no rep-year in the run carries the territory's quota, so it is left as it is "
                     "(it only applies to backfills)")
    if not all(h.has_quota for h in holders):
        notes.append("reps without a quota today have no current figures")

    fig = _Figures(ry, first_quota, territory_quota)
    now_quota = year.quota * year.has_quota
    now_terr = year.territory_quota * year.territory_has_quota
    months = np.nonzero(ds["fiscal_year_of_month"].values == fy)[0]
    carried = ds["quota"].values[:, months, :].sum(axis=1).mean(axis=0)  # (K,) at today's (or stand-in) quotas
    filled, full = ry.filled, ry.full
    rows, seat_rows = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k, t in enumerate(terrs):
            cols = np.nonzero((year.terr == k) & (year.units > 0))[0]
            in_k = np.zeros(year.terr.size, dtype=bool)
            in_k[year.terr == k] = True
            f_mask, any_mask = full & in_k[None, :], filled & in_k[None, :]
            sim_now = float((year.quota * year.units)[cols].sum())
            sim_new = float((first_quota * year.units)[cols].sum())
            eb = [e for h, e in zip(holders, expected) if h.territory == k and h.active]
            eb_total = float(sum(e for e, _ in eb))
            eb_se = math.sqrt(sum(s**2 for _, s in eb))  # holders' seats are distinct; their errors nearly independent
            named = sum(1 for h in holders if h.territory == k and h.named and h.active)
            rows.append(TerritoryQuota(
                t.name, int(cols.size), int(year.full[cols].sum()), named, float(year.units[cols].sum()),
                float(year.fixed[cols].sum()), float(now_terr[k]), float(territory_quota[k]),
                float((year.fixed + now_quota * year.units)[cols].sum()),
                float((year.fixed + first_quota * year.units)[cols].sum()), eb_total, eb_se, int(f_mask.sum()),
                *fig.p(f_mask, False), *fig.p(f_mask, True), fig.pct(f_mask, False), fig.pct(f_mask, True),
                *fig.p(any_mask, False), *fig.p(any_mask, True),
                float(carried[k]) if (fig.valid | ~any_mask).all() else math.nan,
                float(carried[k] * sim_new / sim_now) if sim_now > 0 else math.nan))
        holder_of = {s: h for h in holders for s in h.seats}
        for k in range(len(terrs)):
            for s in np.nonzero((year.terr == k) & (year.units > 0))[0]:
                s = int(s)
                h = holder_of[s]
                own = h.named or year.path(s) in h.also
                mask = np.zeros_like(filled)
                mask[:, s] = ry.planned[:, s]
                e = sum_of_means_se(ry.bookings[:, [s]], ry.planned[:, [s]], ry.groups)
                seat_rows.append(SeatQuota(
                    seat_number[year.names[s]], terrs[k].name, year.names[s], _planned_label(year, s), year.path(s) if own else h.path,
                    h.named, float(year.units[s]), float(year.fixed[s]), float(now_quota[s]), float(first_quota[s]),
                    float(year.fixed[s] + now_quota[s] * year.units[s]),
                    float(year.fixed[s] + first_quota[s] * year.units[s]), float(ry.planned[:, s].mean()), *e,
                    *fig.p(mask, False), *fig.p(mask, True), fig.pct(mask, False, (10, 90)),
                    fig.pct(mask, True, (10, 90))))
    if any(h.named for h in holders):
        notes.append("the proposed quota carried is today's, scaled per territory by its planned quota's change "
                     "(exact where its reps share one quota)")
    if scenario.horizon_months > 12 and len(scenario.fiscal_years()) > 1:
        notes.append(f"quota_annual has one value for every year: the FY{fy} quotas apply to the whole horizon")
    try:
        result_sc = scenario.with_overrides(changes)
    except ScenarioError as exc:
        raise PlanError(str(exc)) from None
    return QuotaResult(result_sc, rule, fy, year.months, goal, float(over_assign), target, rows, seat_rows, changes,
                       p_equal, int(trials), int(seed), scenario.spec.currency, notes)

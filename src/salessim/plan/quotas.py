"""Quotas from the goal: allocate goal x over-assignment to territories and their reps.

The goal of one fiscal year, times an over-assignment factor, is split into the annual
quota of a fully ramped rep in each territory (``quota_annual``). The sum that must match
it is the **planned quota**: every seat's quota for the year as the plan has it, each rep
assumed to stay (the starting reps with their tenure, the planned hires from their start
month), with ramping reps carrying their ramped share (``quota_ramped``: the ramp
productivity of each month, 1 once ramped; a rep in seat for part of the year carries
those months only). So ``sum_k Q_k x U_k = goal x over_assign``, where ``U_k`` is the
number of full-year, fully ramped quota units territory k's seats carry. Attrition and
vacancies lower the quota actually carried; that expected figure is reported beside it.

Rules for ``Q_k``:

- ``flat``: one number for every territory (today's single ``quota_annual``).
- ``capacity``: territory totals ``Q_k U_k`` in proportion to the territory's expected
  bookings in the year.
- ``equal-chance``: every full-tenure rep (fully ramped through the whole year) has the
  same probability of reaching quota in every territory. A rep's bookings do not depend
  on their quota, so the simulated attainment ``a`` of full-tenure rep-years at the
  current quota ``Q0`` gives the attainment at any quota ``Q`` as ``a Q0 / Q``; the common
  probability ``p`` solves ``sum_k Q0_k x quantile_k(1 - p) x U_k = goal x over_assign``
  and ``Q_k = Q0_k x quantile_k(1 - p)``. Ramping reps keep their ramped share of the new
  quota; their chance is shown per seat but not equalised.

Figures are computed for the proposed and the current quotas on one run: P(attain) of
full-tenure reps (its standard error clusters the reps of one future together), their
P10-P90 attainment, and the share of reps at quota (every filled seat).

The allocation works on *quota holders*: today one per territory, whose full-tenure seats
pool their rep-years. A named roster (per-rep quotas) makes each named rep a holder of
its own, with its seat's rep-years as its sample; see :class:`Holder`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import brentq

from ..engine import MAX_SEED, SimulationError, simulate
from ..inputs import build_inputs
from ..scenario import Scenario, ScenarioError
from .errors import PlanError
from .evaluate import truncated

__all__ = ["quotas", "QuotaResult", "TerritoryQuota", "SeatQuota", "Holder", "RULES", "planned_units",
           "territory_holders", "allocate", "share_se"]

RULES = ("equal-chance", "capacity", "flat")


@dataclass(frozen=True)
class Holder:
    """Who carries one quota number, and the evidence about their bookings.

    ``path`` is the scenario key the quota is written to. ``seats`` are the seats whose
    full-tenure rep-years form the sample. ``units`` is the planned quota the holder's
    seats carry in the year, in full-year quotas.
    """

    name: str
    territory: int
    path: str
    seats: tuple[int, ...]
    units: float
    current: float  # current full-year quota (a stand-in of 1 when the scenario has none)
    has_quota: bool  # False when the scenario's quota is 0 (its current figures are then undefined)


@dataclass
class TerritoryQuota:
    territory: str
    seats: int  # planned seats carrying quota in the year
    full_seats: int  # of which fully ramped for the whole year
    units: float  # planned quota units (full-year quotas)
    current: float
    proposed: float
    current_total: float
    proposed_total: float
    expected_bookings: float
    expected_bookings_se: float
    rep_years: int  # simulated full-tenure rep-years behind the P(attain) figures
    p_attain_current: float
    p_attain_current_se: float
    p_attain: float
    p_attain_se: float
    attainment_current: tuple[float, float, float]  # P10, P50, P90 of full-tenure reps
    attainment: tuple[float, float, float]
    at_quota_current: float  # share of reps (every filled seat) at quota
    at_quota_current_se: float
    at_quota: float
    at_quota_se: float
    carried_current: float  # expected quota carried in the year (attrition and vacancies included)
    carried: float


@dataclass
class SeatQuota:
    """One planned rep: figures in the futures where that rep is still in the seat at the year's end."""

    seat: int
    territory: str
    planned: str  # who the plan puts in the seat
    units: float  # planned quota share of a full-year quota
    current: float
    proposed: float
    stays: float  # share of futures in which the planned rep is still in seat at the year's end
    p_attain_current: float
    p_attain: float
    attainment_current: tuple[float, float]  # P10, P90
    attainment: tuple[float, float]


@dataclass
class QuotaResult:
    """Proposed quotas with the figures that judge them, and the same for the current quotas."""

    scenario: Scenario  # the input with the proposed quotas in place
    rule: str
    fiscal_year: int
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

    def to_dict(self) -> dict:
        from .optimize import _clean

        return _clean({
            "scenario": self.scenario.name, "rule": self.rule, "fiscal_year": self.fiscal_year, "goal": self.goal,
            "over_assign": self.over_assign, "target": self.target, "planned_total": self.planned_total,
            "planned_total_current": self.planned_total_current, "p_equal": self.p_equal,
            "quotas": {t.territory: t.proposed for t in self.territories}, "changes": self.changes,
            "territories": [asdict(t) for t in self.territories], "seats": [asdict(s) for s in self.seats],
            "trials": self.trials, "seed": self.seed, "currency": self.currency, "notes": self.notes,
        })


def planned_units(scenario: Scenario, fiscal_year: int) -> np.ndarray:
    """Each seat's planned quota in ``fiscal_year`` as a share of a full-year quota: (S,) float64.

    The seat's first occupant (a starting rep or a planned hire) is assumed to stay; each
    month in seat adds 1/12 times the ramp productivity of that month's tenure when the
    territory's quota is ramped (else 1/12).
    """
    inp = build_inputs(scenario)
    seats, rules = inp.seats, inp.rules
    first = dict(scenario.fiscal_years())[fiscal_year]
    out = np.zeros(seats.terr.shape[0])
    for s, k in enumerate(seats.terr):
        for t in range(first, first + 12):
            if t < seats.start[s]:
                continue
            tenure = seats.tenure0[s] + t - seats.start[s]
            f = rules.ramp[k, tenure] if tenure < rules.ramp_len[k] else 1.0
            out[s] += (f if rules.quota_ramped[k] else 1.0) / 12.0
    return out


def territory_holders(scenario: Scenario, units: np.ndarray, seat_terr: np.ndarray) -> list[Holder]:
    """One quota holder per territory: its seats pool their rep-years and share ``quota_annual``.

    With a named roster (per-rep ``quota_annual`` under ``territories[].reps``), each named
    rep becomes a holder of its own: ``seats`` its one seat, ``path``
    ``territories.<k>.reps.<i>.quota_annual``, ``units`` that seat's planned units; the
    rules and the figures then work per rep unchanged.
    """
    out = []
    for k, t in enumerate(scenario.territories):
        seats = tuple(int(s) for s in np.nonzero(seat_terr == k)[0])
        current = t.quota_annual if t.quota_annual > 0 else 1.0
        out.append(Holder(t.name, k, f"territories.{k}.quota_annual", seats, float(units[list(seats)].sum()),
                          float(current), t.quota_annual > 0))
    return out


def share_se(hit: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Share of ``mask`` entries that ``hit``, over (trial, seat) arrays, with a standard
    error that treats each trial (one future, whose reps share its market) as one cluster."""
    a = (hit & mask).sum(axis=1).astype(np.float64)
    m = mask.sum(axis=1).astype(np.float64)
    total = m.sum()
    if total == 0:
        return math.nan, math.nan
    p = a.sum() / total
    n = a.size
    se = math.sqrt(n / (n - 1) * float(((a - p * m) ** 2).sum())) / total if n > 1 else math.nan
    return float(p), se


def allocate(rule: str, holders: list[Holder], samples: list[np.ndarray], target: float,
             expected: list[float]) -> tuple[list[float], float]:
    """Full-year quota of each holder under ``rule``, and the common P(attain) (equal-chance; else NaN).

    Parameters
    ----------
    holders : list of Holder
    samples : list of 1-D arrays
        Per holder: simulated attainment of its full-tenure rep-years at its current quota.
    target : float
        goal x over-assignment: ``sum(quota x units)`` is made equal to it.
    expected : list of float
        Per holder: expected bookings in the year (the capacity rule's weights).
    """
    units = np.array([h.units for h in holders])
    active = units > 0
    if not active.any():
        raise PlanError("no planned seat carries quota in the year, so there is nothing to allocate")
    quotas = np.array([h.current for h in holders], dtype=np.float64)
    if rule == "flat":
        quotas[active] = target / units[active].sum()
        return list(quotas), math.nan
    if rule == "capacity":
        weight = np.array(expected, dtype=np.float64)
        if not weight[active].sum() > 0:
            raise PlanError("--rule capacity: the territories are expected to book nothing in the year")
        totals = target * weight / weight[active].sum()
        quotas[active] = totals[active] / units[active]
        return list(quotas), math.nan
    if rule != "equal-chance":
        raise PlanError(f"--rule must be one of {', '.join(RULES)}, got {rule!r}")
    for h, x in zip(holders, samples):
        if h.units > 0 and x.size == 0:
            raise PlanError(f"--rule equal-chance: {h.name} has no full-tenure rep-years in the simulated year "
                            "(every rep there is ramping or the seats are empty), so there is no distribution to "
                            "equalise; use --rule capacity")
    idx = np.nonzero(active)[0]

    def planned(p: float) -> float:
        return float(sum(holders[i].current * np.quantile(samples[i], 1.0 - p) * units[i] for i in idx))

    lo, hi = planned(1.0), planned(0.0)
    if not lo <= target <= hi:
        side = (f"more than {hi:,.0f}, the sum with every quota at its rep's best simulated year"
                if target > hi else f"less than {lo:,.0f}, the sum with every quota at its rep's worst simulated year")
        raise PlanError(f"--over-assign: goal x over-assignment = {target:,.0f} cannot give every full-tenure rep the "
                        f"same chance: it is {side}")
    p = brentq(lambda q: planned(q) - target, 0.0, 1.0, xtol=1e-12) if lo < hi else 0.5
    for i in idx:
        quotas[i] = holders[i].current * float(np.quantile(samples[i], 1.0 - p))
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


def _planned_label(seats, names: list[str], seat: int) -> str:
    """The seat's name (a named rep's, ``East#3``, ``hire:2027-06:West#1``) with what it holds."""
    if seats.is_hire[seat]:
        return names[seat]
    return f"{names[seat]}, tenure {int(seats.tenure0[seat])}"


def quotas(scenario: Scenario, rule: str = "equal-chance", over_assign: float = 1.1, fiscal_year: int | None = None,
           *, trials: int = 4_000, seed: int = 0) -> QuotaResult:
    """Allocate FY goal x ``over_assign`` to the territories' quotas under ``rule``.

    Parameters
    ----------
    scenario : Scenario
    rule : {"equal-chance", "capacity", "flat"}
    over_assign : float
        Planned quota over the goal (1.1: quotas sum to 110% of the goal).
    fiscal_year : int, optional
        A full fiscal year of the scenario (default the first); its goal is allocated.
    trials, seed : int
        The simulation the figures (and the equal-chance and capacity rules) rest on.

    Returns
    -------
    QuotaResult
        ``changes`` maps scenario keys (``territories.<k>.quota_annual``) to the proposed
        quotas, rounded to whole currency units; ``scenario`` has them in place.
    """
    fy, goal = _check(scenario, rule, over_assign, fiscal_year, trials, seed)
    target = goal * float(over_assign)
    terrs = scenario.territories
    first = dict(scenario.fiscal_years())[fy]
    # bookings do not depend on quotas: a stand-in of 1 gives the attainment where there is none
    stand_in = {f"territories.{k}.quota_annual": 1.0 for k, t in enumerate(terrs) if not t.quota_annual > 0}
    try:
        analysed = truncated(scenario.with_overrides(stand_in) if stand_in else scenario, first + 11)
        ds = simulate(analysed, trials, seed)
    except (ScenarioError, SimulationError) as exc:
        raise PlanError(str(exc)) from None
    y = [int(v) for v in ds["fiscal_year"].values].index(fy)
    att = ds["attainment"].values[:, y, :]  # (n, S) at the current quota
    tenure = ds["tenure"].values[:, y, :]
    seats = build_inputs(analysed).seats
    seat_terr = np.array(seats.terr)
    ramp_len = np.array([len(t.ramp) for t in terrs])
    filled = np.isfinite(att)
    full = filled & (tenure >= 12 + ramp_len[seat_terr][None, :])
    units = planned_units(scenario, fy)
    # the planned rep's tenure at the year's end if they stay (a backfill always has less)
    planned_tenure = np.where(seats.start <= first + 11, seats.tenure0 + first + 12 - seats.start, -1)
    months = np.nonzero(ds["fiscal_year_of_month"].values == fy)[0]
    bookings = ds["bookings"].values[:, months, :].sum(axis=1)  # (n, K)
    carried = ds["quota"].values[:, months, :].sum(axis=1).mean(axis=0)  # (K,) at the current (or stand-in) quota

    holders = territory_holders(scenario, units, seat_terr)
    samples = [att[:, list(h.seats)][full[:, list(h.seats)]] for h in holders]
    expected = [float(bookings[:, h.territory].mean()) for h in holders]
    proposed, p_equal = allocate(rule, holders, samples, target, expected)
    proposed = [float(round(q)) if h.units > 0 else h.current for q, h in zip(proposed, holders)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows, seat_rows = [], []
        for h, x, q in zip(holders, samples, proposed):
            k = h.territory
            cols = list(h.seats)
            a_now = att[:, cols]
            a_new = a_now * (h.current / q) if q > 0 else np.full_like(a_now, np.nan)
            f_mask, any_mask = full[:, cols], filled[:, cols]
            now = h.has_quota

            def pct(a, mask, qs=(10, 50, 90)):
                v = a[mask]
                return tuple(float(z) for z in np.percentile(v, qs)) if v.size else (math.nan,) * len(qs)

            p_now = share_se(a_now >= 1.0, f_mask) if now else (math.nan, math.nan)
            p_new = share_se(a_new >= 1.0, f_mask)
            r_now = share_se(a_now >= 1.0, any_mask) if now else (math.nan, math.nan)
            r_new = share_se(a_new >= 1.0, any_mask)
            eb = bookings[:, k]
            rows.append(TerritoryQuota(
                terrs[k].name, int((units[cols] > 0).sum()), int(np.isclose(units[cols], 1.0).sum()), h.units,
                terrs[k].quota_annual, q, terrs[k].quota_annual * h.units, q * h.units, float(eb.mean()),
                float(eb.std(ddof=1) / math.sqrt(eb.size)), int(f_mask.sum()), *p_now, *p_new,
                pct(a_now, f_mask) if now else (math.nan,) * 3, pct(a_new, f_mask), *r_now, *r_new,
                float(carried[k]) if now else 0.0, float(carried[k] * q / h.current)))
            for j, s in enumerate(cols):
                mask = tenure[:, s : s + 1] == planned_tenure[s]  # the planned rep, not a backfill
                seat_rows.append(SeatQuota(
                    s, terrs[k].name, _planned_label(seats, analysed.seat_names(), s), float(units[s]), float(terrs[k].quota_annual * units[s]),
                    float(q * units[s]), float(mask.mean()),
                    share_se(a_now[:, j : j + 1] >= 1.0, mask)[0] if now else math.nan,
                    share_se(a_new[:, j : j + 1] >= 1.0, mask)[0],
                    pct(a_now[:, j : j + 1], mask, (10, 90)) if now else (math.nan, math.nan),
                    pct(a_new[:, j : j + 1], mask, (10, 90))))
    changes = {h.path: int(q) for h, q in zip(holders, proposed) if h.units > 0}
    notes = []
    if any(not h.has_quota for h in holders):
        notes.append("territories without a quota today have no current figures")
    if scenario.horizon_months > 12 and len(scenario.fiscal_years()) > 1:
        notes.append(f"quota_annual has one value for every year: the FY{fy} quotas apply to the whole horizon")
    try:
        result_sc = scenario.with_overrides(changes)
    except ScenarioError as exc:
        raise PlanError(str(exc)) from None
    return QuotaResult(result_sc, rule, fy, goal, float(over_assign), target, rows, seat_rows, changes, p_equal,
                       int(trials), int(seed), scenario.spec.currency, notes)

"""Who carries which quota in a fiscal year, and what one simulation says about their bookings.

The quota tools (:mod:`.quotas`) allocate numbers to **quota holders**. A holder is one
scenario key (``path``) and the seats whose planned rep carries it:

- a **named rep** of a roster who is fully ramped in every simulated month of the year
  carries a quota of their own, ``territories.<k>.reps.<i>.quota_annual``, on their one
  seat. Their evidence is their own rep-years: the futures in which they still hold the
  seat at the year's end (``occupant`` 0), their known skill, their open deals and their
  year-to-date figures included.
- the **territory** (``territories.<k>.quota_annual``) carries everyone else: anonymous
  starting reps, planned hires, every backfill, and named reps who ramp during the year
  (they keep the ramped share of the territory's quota, so their own key, if they have
  one, is set to the territory's number: ``also``). Its evidence is the full-tenure
  rep-years that carry the territory's quota (anonymous seats, hires' seats, backfills).

The kernel's inputs fix each seat's first occupant: their quota (``seats.quota_month0``,
a named rep's own or NaN for the territory's), and for the fiscal year in progress at
``start`` their year-to-date bookings and quota (``ytd_bookings``, ``ytd_quota``). A rep's
bookings do not depend on their quota, so one run at today's quotas gives the attainment
at any quotas. For the planned rep of seat s (occupant 0 at the year's end, in seat from
the start of the year's simulated months), with F_s the quota already carried before
``start`` and u_s the planned units (below), the year's quota at a full-year quota Q is
``F_s + Q u_s`` and the bookings are ``B = a (F_s + Q0 u_s)`` at today's attainment a and
quota Q0. The rep makes quota exactly when ``Q <= (B - F_s) / u_s``: this **reach** is the
currency figure every rule works on. Any other occupant (a backfill) carries the
territory's quota from their own start, with no year-to-date figures, so their
attainment scales as ``Q0 / Q``.

**Planned units** u_s: the seat's quota in the year's simulated months as a share of a
full-year quota, the planned rep assumed to stay: each month in seat adds 1/12 times the
ramp productivity of that month's tenure (with ``quota_ramped``; else 1/12). A rep is
**full-tenure** in the year when ramped in every simulated month of it (tenure at the
year's end at least its simulated months plus the ramp's length): for a full fiscal year,
fully ramped all year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xarray as xr

from ..inputs import build_inputs
from ..scenario import Scenario
from .stats import clusters

__all__ = ["YearSeats", "Holder", "RepYears", "year_seats", "planned_units", "quota_holders", "stand_ins"]


@dataclass(frozen=True)
class YearSeats:
    """Every seat's planned quota in one fiscal year: arrays of shape (S,) unless noted."""

    fiscal_year: int
    first: int  # first simulated month index of the year
    last: int  # last simulated month index of the year
    terr: np.ndarray  # int: territory of the seat
    names: list[str]  # the seat's name (a named rep's, East#3, hire:2027-06:West#1)
    tenure0: np.ndarray  # int: tenure of the planned rep when they start
    is_hire: np.ndarray  # bool: the planned rep is a planned hire
    roster_index: np.ndarray  # int: the planned rep's index in the territory's roster, -1 if not named
    own_quota: np.ndarray  # bool: the planned rep has a quota_annual of their own
    units: np.ndarray  # planned units in the year's simulated months (full-year quotas)
    fixed: np.ndarray  # quota carried before start in the year (ytd_quota; 0 outside the year in progress)
    ytd_bookings: np.ndarray  # bookings before start in the year (0 outside the year in progress)
    quota: np.ndarray  # today's full-year quota of the planned rep (1 where it is 0: a stand-in)
    has_quota: np.ndarray  # bool: today's quota of the planned rep is above 0
    full: np.ndarray  # bool: the planned rep is ramped in every simulated month of the year
    territory_quota: np.ndarray  # (K,) today's territory quota_annual (1 where it is 0)
    territory_has_quota: np.ndarray  # (K,) bool
    ramp_len: np.ndarray  # (K,) int

    @property
    def months(self) -> int:
        """Simulated months of the year (12, or fewer for the year in progress at ``start``)."""
        return self.last - self.first + 1

    def path(self, s: int) -> str:
        """The scenario key of seat s's planned rep's own quota."""
        return f"territories.{int(self.terr[s])}.reps.{int(self.roster_index[s])}.quota_annual"


def _span(scenario: Scenario, fiscal_year: int) -> tuple[int, int]:
    spans = {label: (first, last) for label, first, last in scenario.fiscal_year_spans()}
    return spans[fiscal_year]


def planned_units(scenario: Scenario, fiscal_year: int) -> np.ndarray:
    """Each seat's planned quota in the simulated months of ``fiscal_year``, in full-year quotas: (S,).

    The seat's first occupant (a starting rep or a planned hire) is assumed to stay; each
    month in seat adds 1/12 times the ramp productivity of that month's tenure when the
    territory's quota is ramped (else 1/12).
    """
    inp = build_inputs(scenario)
    seats, rules = inp.seats, inp.rules
    first, last = _span(scenario, fiscal_year)
    out = np.zeros(seats.terr.shape[0])
    for s, k in enumerate(seats.terr):
        for t in range(max(first, int(seats.start[s])), last + 1):
            tenure = seats.tenure0[s] + t - seats.start[s]
            f = rules.ramp[k, tenure] if tenure < rules.ramp_len[k] else 1.0
            out[s] += (f if rules.quota_ramped[k] else 1.0) / 12.0
    return out


def year_seats(scenario: Scenario, fiscal_year: int) -> YearSeats:
    """The planned quota of every seat of ``scenario`` in ``fiscal_year`` (a year of :meth:`Scenario.fiscal_years`)."""
    seats = build_inputs(scenario).seats
    first, last = _span(scenario, fiscal_year)
    terrs = scenario.territories
    terr = np.asarray(seats.terr, dtype=np.int64)
    ramp_len = np.array([len(t.ramp) for t in terrs], dtype=np.int64)
    roster_index = np.full(terr.size, -1, dtype=np.int64)
    s = 0
    for t in terrs:
        for i in range(t.reps):
            if t.roster is not None:
                roster_index[s] = i
            s += 1
    month0 = np.asarray(seats.quota_month0, dtype=np.float64)
    own = np.isfinite(month0)
    t_quota = np.array([t.quota_annual for t in terrs], dtype=np.float64)
    quota = np.where(own, month0 * 12.0, t_quota[terr])
    in_progress = scenario.fiscal_year_in_progress() == fiscal_year
    start = np.asarray(seats.start, dtype=np.int64)
    tenure0 = np.asarray(seats.tenure0, dtype=np.int64)
    return YearSeats(
        fiscal_year=fiscal_year, first=first, last=last, terr=terr, names=scenario.seat_names(), tenure0=tenure0,
        is_hire=np.asarray(seats.is_hire, dtype=bool), roster_index=roster_index, own_quota=own,
        units=planned_units(scenario, fiscal_year),
        fixed=np.asarray(seats.ytd_quota, dtype=np.float64) * in_progress,
        ytd_bookings=np.asarray(seats.ytd_bookings, dtype=np.float64) * in_progress,
        quota=np.where(quota > 0, quota, 1.0), has_quota=quota > 0,
        # ramped from the year's first simulated month: the planned rep's tenure then is at least the ramp's length
        full=(start <= first) & (tenure0 + first - start >= ramp_len[terr]),
        territory_quota=np.where(t_quota > 0, t_quota, 1.0), territory_has_quota=t_quota > 0, ramp_len=ramp_len)


def stand_ins(scenario: Scenario) -> dict[str, float]:
    """Overrides that give every quota of 0 a stand-in of 1 (bookings do not depend on quotas,
    so the attainment at a stand-in quota gives the bookings where there is no quota)."""
    out = {}
    for k, t in enumerate(scenario.territories):
        if not t.quota_annual > 0:
            out[f"territories.{k}.quota_annual"] = 1.0
        for i, rep in enumerate(t.roster or ()):
            if rep.quota_annual is not None and not rep.quota_annual > 0:
                out[f"territories.{k}.reps.{i}.quota_annual"] = 1.0
    return out


@dataclass(frozen=True)
class Holder:
    """One quota number: the scenario key it is written to and the seats whose planned rep carries it.

    ``units`` and ``fixed`` sum those seats' planned units and quota carried before
    ``start``: the holder's planned quota for the year is ``fixed + quota x units``.
    """

    name: str  # the territory's or the named rep's
    territory: int
    path: str
    seats: tuple[int, ...]
    units: float
    fixed: float
    current: float  # today's full-year quota (1 where there is none: a stand-in)
    has_quota: bool  # False where today's quota is 0 (today's figures are then undefined)
    named: bool  # a named rep's own quota (else the territory's)
    also: tuple[str, ...] = ()  # keys set to the same number: ramping named reps' own quotas

    @property
    def active(self) -> bool:
        """The holder's seats carry quota in the year (it takes part in the sum)."""
        return self.units > 0


def quota_holders(scenario: Scenario, year: YearSeats) -> list[Holder]:
    """Per territory: the territory's holder, then one holder per full-tenure named rep."""
    out = []
    for k, t in enumerate(scenario.territories):
        seats = np.nonzero(year.terr == k)[0]
        named = [int(s) for s in seats if year.roster_index[s] >= 0 and year.full[s]]
        pooled = [int(s) for s in seats if int(s) not in named]
        also = tuple(year.path(s) for s in pooled if year.roster_index[s] >= 0 and year.own_quota[s])
        out.append(Holder(t.name, k, f"territories.{k}.quota_annual", tuple(pooled), float(year.units[pooled].sum()),
                          float(year.fixed[pooled].sum()), float(year.territory_quota[k]),
                          bool(year.territory_has_quota[k]), False, also))
        for s in named:
            out.append(Holder(year.names[s], k, year.path(s), (s,), float(year.units[s]),
                              float(year.fixed[s]), float(year.quota[s]), bool(year.has_quota[s]), True))
    return out


@dataclass(frozen=True)
class RepYears:
    """One fiscal year of a simulation at today's quotas: (trial, seat) arrays.

    ``attainment`` of the rep holding the seat at the year's end (NaN: empty), which
    ``occupant`` that is (0: the planned rep) and their ``tenure``; ``groups`` clusters the
    trials for standard errors (:func:`~.stats.clusters`).
    """

    year: YearSeats
    attainment: np.ndarray
    occupant: np.ndarray
    tenure: np.ndarray
    groups: np.ndarray | None

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, scenario: Scenario, year: YearSeats) -> "RepYears":
        y = [int(v) for v in ds["fiscal_year"].values].index(year.fiscal_year)
        return cls(year, ds["attainment"].values[:, y, :], ds["occupant"].values[:, y, :],
                   ds["tenure"].values[:, y, :], clusters(scenario, ds.sizes["trial"]))

    @property
    def filled(self) -> np.ndarray:
        return np.isfinite(self.attainment)

    @property
    def planned(self) -> np.ndarray:
        """The planned rep holds the seat at the year's end (so they held it all year)."""
        return (self.occupant == 0) & self.filled

    @property
    def full(self) -> np.ndarray:
        """Full-tenure rep-years: ramped in every simulated month of the year."""
        need = self.year.months + self.year.ramp_len[self.year.terr]
        return self.filled & (self.tenure >= need[None, :])

    @cached_property
    def bookings(self) -> np.ndarray:
        """The planned rep's bookings in the year (year to date included), NaN where another rep holds the seat."""
        y = self.year
        return np.where(self.planned, self.attainment * (y.fixed + y.quota * y.units)[None, :], np.nan)

    def reach(self, holder: Holder) -> np.ndarray:
        """The holder's evidence: per rep-year, the largest full-year quota it makes (currency), 1-D.

        A named rep: their rep-years, ``(B - F) / u``. The territory: its full-tenure
        rep-years that carry the territory's quota (every occupant but a named planned
        rep), ``attainment x quota``.
        """
        y = self.year
        if holder.named:
            s = holder.seats[0]
            keep = self.planned[:, s]
            return (self.bookings[keep, s] - y.fixed[s]) / y.units[s]
        cols = y.terr == holder.territory
        mask = self.full & cols[None, :] & ~((y.roster_index >= 0)[None, :] & (self.occupant == 0))
        return self.attainment[mask] * y.territory_quota[holder.territory]

    def simulated_reach(self, holders: list[Holder], territory: int) -> np.ndarray:
        """Reach of the territory's named full-tenure reps on the simulated months alone
        (``(B - ytd bookings) / u``: a stand-in for a rep with no year to date), pooled."""
        y = self.year
        parts = []
        for h in holders:
            if h.named and h.territory == territory:
                s = h.seats[0]
                keep = self.planned[:, s]
                parts.append((self.bookings[keep, s] - y.ytd_bookings[s]) / y.units[s])
        return np.concatenate(parts) if parts else np.zeros(0)

    def rescaled(self, first_quota: np.ndarray, territory_quota: np.ndarray) -> np.ndarray:
        """Attainment (trial, seat) at other full-year quotas: ``first_quota`` (S,) for the planned
        reps, ``territory_quota`` (K,) for every other occupant (backfills)."""
        y = self.year
        with np.errstate(divide="ignore", invalid="ignore"):
            planned = self.attainment * ((y.fixed + y.quota * y.units) / (y.fixed + first_quota * y.units))[None, :]
            other = self.attainment * (y.territory_quota / territory_quota)[y.terr][None, :]
        return np.where(self.occupant == 0, planned, other)


"""Small scenarios for the planning tests (optimizer, quotas, balance), built as dicts."""

from __future__ import annotations

import salessim
from helpers_model import scenario_dict, territory

FUNNEL = {"lead_to_opportunity": 0.5, "win_rate": 0.3, "deal_size": {"mean": 10_000.0, "cv": 0.5},
          "capacity_leads_per_month": 20.0, "skill_sigma": 0.2, "quota_annual": 300_000.0}


def busy_idle_dict() -> dict:
    """Busy: 2 reps for 200 leads a month with a capacity of 20 each (160 leads unworked);
    Idle: 6 reps for 30 leads (5 a rep, far below capacity). A Busy hire works 20 more leads
    a month, about 30,000 of bookings; an Idle hire only splits the same leads."""
    busy = territory("Busy", reps=2, leads_per_month=200.0, **FUNNEL)
    idle = territory("Idle", reps=6, leads_per_month=30.0, **FUNNEL)
    d = scenario_dict([busy, idle], horizon=24, name="busyidle")
    d["goal"] = {"annual": [1_300_000.0, 1_500_000.0]}
    return d


def busy_idle() -> salessim.Scenario:
    return salessim.Scenario.from_dict(busy_idle_dict())


def twins(cheap_hiring_cost: float = 0.0, dear_hiring_cost: float = 60_000.0) -> salessim.Scenario:
    """Two identical understaffed territories that differ only in what a hire costs."""
    pay = {"base_salary_annual": 60_000.0}
    cheap = territory("Cheap", reps=2, leads_per_month=200.0, hiring_cost=cheap_hiring_cost, **pay, **FUNNEL)
    dear = territory("Dear", reps=2, leads_per_month=200.0, hiring_cost=dear_hiring_cost, **pay, **FUNNEL)
    d = scenario_dict([cheap, dear], horizon=24, name="twins")
    d["goal"] = {"annual": [1_500_000.0, 1_800_000.0]}
    return salessim.Scenario.from_dict(d)


def uneven_dict() -> dict:
    """Two territories of very different demand and one flat quota: High's reps make it far
    more often than Low's. Unlimited capacity, so demand (not capacity) sets the gap."""
    common = {"lead_to_opportunity": 0.5, "win_rate": 0.3, "deal_size": {"mean": 10_000.0, "cv": 0.6},
              "skill_sigma": 0.25, "quota_annual": 250_000.0, "attrition_annual": 0.15, "backfill": True,
              "time_to_fill_months": [0.5, 0.5], "ramp": [0.3, 0.6], "sales_cycle_months": [0.4, 0.6]}
    high = territory("High", reps=4, leads_per_month=64.0, **common)
    low = territory("Low", reps=4, leads_per_month=28.0, **common)
    d = scenario_dict([high, low], horizon=12, name="uneven",
                      hiring_plan=[{"month": "2027-05", "territory": "Low", "hires": 1}])
    d["goal"] = {"annual": [1_900_000.0]}
    return d


def uneven() -> salessim.Scenario:
    return salessim.Scenario.from_dict(uneven_dict())


_COMMON = {"lead_to_opportunity": 0.5, "win_rate": 0.3, "deal_size": {"mean": 10_000.0, "cv": 0.6},
           "skill_sigma": 0.25, "quota_annual": 250_000.0, "attrition_annual": 0.15, "backfill": True,
           "time_to_fill_months": [0.5, 0.5], "ramp": [0.3, 0.6], "sales_cycle_months": [0.4, 0.6]}


def roster_dict() -> dict:
    """``uneven``'s two territories with named rosters: reps of known skill on both sides
    (High: Star 1.4, Steady 0.9 with a quota of their own; Low: Ace 1.2, Slow 0.8), reps whose
    skill is drawn, a ramping new rep with a quota of their own (Newbie), and a Low hire."""
    high = territory("High", leads_per_month=64.0, **_COMMON, reps=[
        {"name": "Star", "tenure_months": 30, "skill": 1.4},
        {"name": "Steady", "tenure_months": 24, "skill": 0.9, "quota_annual": 260_000.0},
        {"name": "Hana", "tenure_months": 20},
        {"name": "Newbie", "tenure_months": 0, "quota_annual": 100_000.0}])
    low = territory("Low", leads_per_month=28.0, **_COMMON, reps=[
        {"name": "Ace", "tenure_months": 40, "skill": 1.2},
        {"name": "Slow", "tenure_months": 18, "skill": 0.8},
        {"name": "Lior", "tenure_months": 12}])
    for t in (high, low):
        t.pop("initial_tenure_months")
    d = scenario_dict([high, low], horizon=12, name="roster",
                      hiring_plan=[{"month": "2027-05", "territory": "Low", "hires": 1}])
    d["goal"] = {"annual": [1_700_000.0]}
    return d


def roster() -> salessim.Scenario:
    return salessim.Scenario.from_dict(roster_dict())


def in_progress_dict() -> dict:
    """``roster`` re-forecast from April: FY2027 is in progress, with each named rep's
    January-March bookings and quota, and a hire planned for after the year."""
    d = roster_dict()
    d.update(name="april", start="2027-04", horizon_months=9)
    d["actuals"] = {"bookings": {"High": 180_000.0, "Low": 95_000.0}}
    ytd = {"Star": (95_000.0, 62_500.0), "Steady": (48_000.0, 65_000.0), "Hana": (60_000.0, 62_500.0),
           "Newbie": (0.0, 0.0), "Ace": (52_000.0, 62_500.0), "Slow": (30_000.0, 62_500.0), "Lior": (41_000.0, 62_500.0)}
    for t in d["territories"]:
        for rep in t["reps"]:
            rep["ytd_bookings"], rep["ytd_quota"] = ytd[rep["name"]]
            rep["tenure_months"] += 3
    d["hiring_plan"] = [{"month": "2027-06", "territory": "Low", "hires": 1}]
    return d


def in_progress() -> salessim.Scenario:
    return salessim.Scenario.from_dict(in_progress_dict())

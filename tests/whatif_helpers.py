"""Small scenarios for the what-if tests (built as dicts, so they run in milliseconds)."""

from __future__ import annotations

import copy

import salessim
from helpers_model import scenario_dict, territory

TRIALS = 400


def stochastic_dict(**overrides) -> dict:
    """Two territories with noise everywhere that matters: Poisson leads, binomial funnel,
    skill, deal sizes, attrition with backfill; 24 months, two fiscal years."""
    east = territory("East", reps=3, leads_per_month=90.0, lead_to_opportunity=0.5, win_rate=0.4,
                     deal_size={"mean": 5_000.0, "cv": 0.5}, capacity_leads_per_month=15.0, skill_sigma=0.2,
                     attrition_annual=0.2, backfill=True, time_to_fill_months=[0.5, 0.5], quota_annual=240_000.0,
                     sales_cycle_months=[0.5, 0.5], ramp=[0.3, 0.6])
    west = territory("West", reps=2, leads_per_month=30.0, lead_to_opportunity=0.5, win_rate=0.35,
                     deal_size={"mean": 6_000.0, "cv": 0.6}, capacity_leads_per_month=15.0, skill_sigma=0.2,
                     quota_annual=240_000.0)
    d = scenario_dict([east, west], horizon=24, name="small",
                      hiring_plan=[{"month": "2027-03", "territory": "East", "hires": 1}])
    d["goal"] = {"annual": [900_000.0, 1_000_000.0]}  # near the mean: P(goal) is neither 0 nor 1
    d.update(overrides)
    return d


def stochastic() -> salessim.Scenario:
    return salessim.Scenario.from_dict(stochastic_dict())


def with_extra_hires(sc: salessim.Scenario, hires: int, territory_name: str = "East", name: str = "more") -> salessim.Scenario:
    """Plan B: extra hires appended to the plan (so the other seats keep their streams)."""
    d = copy.deepcopy(sc.data)
    d["name"] = name
    d["hiring_plan"] = list(d["hiring_plan"]) + [{"month": "2027-02", "territory": territory_name, "hires": hires}]
    return salessim.Scenario.from_dict(d)


def deterministic(hires: int = 0) -> salessim.Scenario:
    """Zero variance: demand far above capacity, every lead converts and wins, fixed deal size.

    One rep works 10 leads a month for 10 x 1,000 = 10,000 a month: the starting rep books
    120,000 in FY2027 and each hire starting in April (month 3) books 90,000, so bookings
    are 120,000 + 90,000 x hires and the goal of 1,000,000 needs exactly 10 hires.
    """
    t = territory("T", leads_per_month=1e6, lead_to_opportunity=1.0, win_rate=1.0, capacity_leads_per_month=10.0)
    d = scenario_dict([t], hiring_plan=[{"month": "2027-04", "territory": "T", "hires": hires}], name="exact")
    return salessim.Scenario.from_dict(d)

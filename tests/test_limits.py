"""Valid but broken (issue 14, item 4): whatever ``validate`` accepts, ``run`` runs.

Every scenario that 0.1.0 accepted and then crashed or hung on is either refused with a
located message naming the bound and its reason, or runs correctly at the bound (counts
exact, amounts finite, statistics within 4 standard errors of their analytic values).
The bounds live in :mod:`salessim.limits` and ``docs/limits.md`` is generated from it.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import salessim
from salessim import Scenario, ScenarioError, limits as L
from salessim.inputs import build_inputs, monthly_hazard, seat_stream_key

ROOT = Path(__file__).resolve().parents[1]
from conftest import self_contained_text  # noqa: E402

BASE = yaml.safe_load(self_contained_text(ROOT / "scenarios" / "baseline.yaml"))
del BASE["pipeline_file"]  # the bounds tests reshape territories; the open deals would name missing ones


@pytest.fixture
def base() -> dict:
    return copy.deepcopy(BASE)


def refused(data: dict, location: str, *fragments: str) -> str:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    found = [msg for loc, msg in info.value.problems if loc == location]
    assert found, info.value.problems
    for fragment in fragments:
        assert fragment in found[0], found[0]
    return found[0]


def one_territory(base: dict, horizon: int = 12, **keys) -> dict:
    """The baseline cut to its first territory, no hiring, ``horizon`` months from January."""
    base["territories"] = [dict(base["territories"][0], **keys)]
    base["hiring_plan"] = []
    base["horizon_months"] = horizon
    base["goal"]["annual"] = [1e6] * (horizon // 12)
    return base


# --------------------------------------------------------------------------- the cases

@pytest.mark.parametrize("reps", [99999999999999999999, 4294967296, L.MAX_REPS_PER_TERRITORY + 1])
def test_huge_rep_counts_are_refused_with_the_bound(base, reps):
    # 0.1.0: OverflowError (10**20), MemoryError (2**32), ValueError in run (65,537)
    base["territories"][0]["reps"] = reps
    refused(base, "territories[0].reps", "at most 65,536", "random-stream address")


def test_reps_at_the_bound_run(base):
    data = one_territory(base, reps=L.MAX_REPS_PER_TERRITORY, initial_tenure_months=24)
    ds = salessim.simulate(Scenario.from_dict(data), trials=1, seed=0)
    assert int(ds.headcount.isel(month=0).sum()) == L.MAX_REPS_PER_TERRITORY
    assert ds.sizes["seat"] == L.MAX_REPS_PER_TERRITORY


def test_hiring_plan_entries_are_bounded(base):
    entry = {"month": "2027-03", "territory": "East", "hires": 1}
    base["hiring_plan"] = [entry] * 3000  # 0.1.0: ValueError "seat address out of range" in run
    refused(base, "hiring_plan", "at most 2,048 entries", "got 3,000")


def test_hiring_plan_at_the_bound_runs(base):
    base["hiring_plan"] = [{"month": "2027-03", "territory": "East", "hires": 1}] * L.MAX_HIRING_PLAN_ENTRIES
    ds = salessim.simulate(Scenario.from_dict(base), trials=2, seed=0)
    assert int(ds.hires.sel(territory="East").isel(month=2).min()) >= L.MAX_HIRING_PLAN_ENTRIES


def test_hires_of_one_entry_are_bounded(base):
    base["hiring_plan"][0]["hires"] = L.MAX_HIRES_PER_ENTRY + 1
    refused(base, "hiring_plan[0].hires", "at most 65,536")


def test_the_bounds_are_the_stream_address_fields():
    seat_stream_key(1, L.MAX_HIRING_PLAN_ENTRIES - 1, L.MAX_HIRES_PER_ENTRY - 1)
    seat_stream_key(0, L.MAX_TERRITORIES - 1, L.MAX_REPS_PER_TERRITORY - 1)
    with pytest.raises(ValueError):
        seat_stream_key(1, L.MAX_HIRING_PLAN_ENTRIES, 0)
    with pytest.raises(ValueError):
        seat_stream_key(0, 0, L.MAX_REPS_PER_TERRITORY)


def test_deal_size_cv_is_bounded(base):
    base["territories"][0]["deal_size"]["cv"] = 1e300  # 0.1.0: OverflowError in run
    refused(base, "territories[0].deal_size.cv", "at most 100", "got 1e+300")


def test_deal_size_cv_at_the_bound_runs_with_finite_amounts(base):
    data = one_territory(base, horizon=24, capacity_leads_per_month=None, deal_size={"mean": 9000, "cv": L.MAX_DEAL_CV})
    data["defaults"].pop("capacity_leads_per_month")
    ds = salessim.simulate(Scenario.from_dict(data), trials=400, seed=1)
    assert np.isfinite(ds.bookings.values).all() and np.isfinite(ds.pipeline_end.values).all()


@pytest.mark.parametrize("leads", [1e9, 1e10])
def test_leads_beyond_int32_or_a_trial_are_refused(base, leads):
    # 0.1.0: 1e9 with no capacity hung for minutes; 1e10 wrote -2,072,905,407 leads with exit 0
    base["defaults"]["capacity_leads_per_month"] = None
    base["territories"][0]["leads_per_month"] = leads
    refused(base, "territories[0].leads_per_month", "more than the limit of 1,000,000 per territory-month", "int32")


def test_leads_at_the_bound_are_counted_exactly(base):
    """A territory-month near a million leads: counts stay positive and sum to the Poisson mean (4 SE)."""
    data = one_territory(base, capacity_leads_per_month=None)
    data["defaults"].pop("capacity_leads_per_month")
    data["market"].pop("downturn")
    season = np.asarray(data["market"]["seasonality"]) / np.mean(data["market"]["seasonality"])
    growth = 1.1 ** (np.arange(12) / 12)
    leads = 0.999 * L.MAX_LEADS_PER_TERRITORY_MONTH / float((season * growth).max())
    data["territories"][0]["leads_per_month"] = leads
    sc = Scenario.from_dict(data)
    expected = float(build_inputs(sc).market.lead_mean[0].sum())  # row 0: the scenario as written
    ds = salessim.simulate(sc, trials=1, seed=2)
    total = int(ds.leads.values.astype(np.int64).sum())
    assert ds.leads.values.min() > 0
    assert abs(total - expected) <= 4 * math.sqrt(expected)


def test_leads_over_a_whole_trial_are_bounded(base):
    base["horizon_months"] = 600
    base["goal"]["annual"] = [1e6] * 50
    base["market"]["annual_growth"] = 0.0
    for t in base["territories"]:
        t["leads_per_month"] = 900_000
    refused(base, "territories", "per trial", f"{L.MAX_LEADS_PER_TRIAL:.0e}")


def test_existing_customers_are_bounded(base):
    base["territories"][0]["existing_customers"] = 2**62  # 0.1.0: hung in the churn draw
    refused(base, "territories[0].existing_customers", "at most 1,000,000,000")


def test_derived_existing_customers_are_bounded(base):
    base["territories"][0]["deal_size"]["mean"] = 1e-6  # existing_arr / mean = 3e12 customers
    refused(base, "territories[0].existing_customers", "not set, so existing_arr / deal_size.mean", "set existing_customers")


def test_a_billion_customers_churn_at_the_right_rate(base):
    data = one_territory(base, existing_customers=L.MAX_CUSTOMERS, churn_annual=0.12)
    ds = salessim.simulate(Scenario.from_dict(data), trials=3, seed=0)
    lost = ds.churned_customers.isel(month=0, territory=0).values.astype(np.float64)
    h = monthly_hazard(0.12)
    mean, sd = L.MAX_CUSTOMERS * h, math.sqrt(L.MAX_CUSTOMERS * h * (1 - h))
    assert np.all(np.abs(lost - mean) <= 4 * sd)


def test_growth_compounded_over_the_horizon_is_bounded(base):
    base["horizon_months"] = 600  # 0.1.0: growth 1e6 over 600 months overflowed the lead means
    base["goal"]["annual"] = [1e6] * 50
    base["market"]["annual_growth"] = 1e6
    refused(base, "market.annual_growth", "more than the limit of 1e+06", "10^300")


def test_expansion_compounded_over_the_horizon_is_bounded(base):
    base["territories"][0]["expansion_annual"] = 100.0
    refused(base, "territories[0].expansion_annual", "multiplies ARR by")


@pytest.mark.parametrize("path, value, location, fragment", [
    (("start",), "9999-01", "start", "from 1900-01 to 2200-12"),
    (("territories", 0, "initial_tenure_months"), 2**63, "territories[0].initial_tenure_months", "at most 1,200"),
    (("territories", 1, "initial_tenure_months"), [36] * 11 + [10**30], "territories[1].initial_tenure_months[11]", "at most 1,200"),
    (("territories", 2, "attrition_by_tenure", 0, "until_month"), 2**63, "territories[2].attrition_by_tenure[0].until_month", "at most 1,800"),
    (("market", "downturn", "duration_months"), 2**63, "market.downturn.duration_months", "at most 600"),
    (("market", "downturn", "lead_multiplier"), 1e300, "market.downturn.lead_multiplier", "at most 1e+06"),
    (("territories", 0, "deal_size", "mean"), 1e308, "territories[0].deal_size.mean", "at most 1e+15"),
    (("territories", 0, "leads_per_month"), 10**400, "territories[0].leads_per_month", "whole number of about 401 digits"),
    (("defaults", "quota_annual"), 1e16, "defaults.quota_annual", "at most 1e+15"),
    (("defaults", "quota_annual"), 1e-300, "defaults.quota_annual", "at least 1"),
    (("defaults", "skill_sigma"), 1e300, "defaults.skill_sigma", "at most 5"),
    (("defaults", "commission", "cap"), 1e300, "defaults.commission.cap", "at most 1e+06"),
    (("goal", "annual"), [1e16, 1, 1], "goal.annual", "entry 0 must be at most 1e+15"),
    (("defaults", "ramp"), [0.5] * 61, "defaults.ramp", "at most 60 entries"),
    (("defaults", "sales_cycle_months"), [1 / 601] * 601, "defaults.sales_cycle_months", "at most 600 entries"),
    (("defaults", "attrition_annual"), None, None, None),  # null: not set, see below
])
def test_numbers_that_0_1_0_could_not_run_are_refused(base, path, value, location, fragment):
    node = base
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    if location is None:
        Scenario.from_dict(base)
        return
    refused(base, location, fragment)


def test_territory_and_seat_months_are_bounded(base):
    base["territories"] = [dict(base["territories"][0], name=f"T{i}", reps=1) for i in range(200)]
    base["hiring_plan"] = []
    base["horizon_months"] = 300
    base["goal"]["annual"] = [1e6] * 25
    refused(base, "territories", "60,000 territory-months", f"{L.MAX_TERRITORY_MONTHS:,}")
    base["territories"] = [dict(BASE["territories"][0], reps=10_000)]
    refused(base, "territories", "3,000,000 seat-months", f"{L.MAX_SEAT_MONTHS:,}")


def test_lists_are_refused_before_their_entries_are_checked(base):
    base["territories"] = [{"name": f"T{i}", "win_rate": "x"} for i in range(L.MAX_TERRITORIES + 1)]
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(base)
    assert ("territories", "must list at most 1,000 entries (per-territory tables must fit in memory), got 1,001") in info.value.problems
    assert not any("win_rate" in loc for loc, _ in info.value.problems)


@pytest.mark.parametrize("name, fragment", [
    ("x" * 101, "at most 100 characters"),
    ("East\x1b[31m", "U+001B"),
    ("East\nCoast", "U+000A"),
    ("\u202eEast", "U+202E"),
])
def test_names_are_one_line_of_visible_text(base, name, fragment):
    base["territories"][0]["name"] = name
    base["hiring_plan"] = [e for e in base["hiring_plan"] if e["territory"] != "East"]
    refused(base, "territories[0].name", fragment)


def test_scenario_name_cannot_hide_a_newline(base):
    base["name"] = "baseline\n"  # the old pattern's $ matched before a final newline
    refused(base, "name", "U+000A")


def test_null_means_not_set(base):
    """0.1.0 validated ``churn_annual: null`` in defaults, then crashed in run with a TypeError."""
    with_null = copy.deepcopy(base)
    with_null["defaults"]["churn_annual"] = None
    with_null["territories"][0]["attrition_annual"] = None
    without = copy.deepcopy(base)
    without["defaults"].pop("churn_annual")
    a, b = Scenario.from_dict(with_null), Scenario.from_dict(without)
    assert a.territories[0].churn_annual == 0.0 and a.territories[0].attrition_bands == ((None, 0.30),)
    assert salessim.simulate(a, 3, 0).bookings.equals(salessim.simulate(b, 3, 0).bookings)
    base["territories"][0]["win_rate"] = None
    refused(base, "territories[0].win_rate", "required")


def test_every_shipped_scenario_is_inside_the_limits():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        salessim.load_scenario(path)


def test_docs_limits_lists_every_limit():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    block = text.split("<!-- limits:start -->\n", 1)[1].split("<!-- limits:end -->", 1)[0]
    assert block == L.limits_table(), "docs/limits.md is stale: paste salessim.limits.limits_table() between the markers"
    assert "docs/limits.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_trial_counts_are_bounded_and_memory_errors_are_one_message(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import salessim.cli.run as run_module
    from salessim.cli import main

    path = str(ROOT / "scenarios" / "baseline.yaml")
    result = CliRunner().invoke(main, ["run", path, "-n", str(10**20)])
    assert result.exit_code == 2 and f"{L.MAX_TRIALS}" in result.output.replace(",", "")

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(run_module, "run_buffers", exhausted)  # what a plain run calls to simulate
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", path, "-n", "5", "-o", "unused.h5"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "not enough memory" in result.output and "--stream" in result.output
    assert not list(tmp_path.iterdir())

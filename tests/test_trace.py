"""``engine.trace_trial``: deal-level records of one trial that add up to the trial's results.

The trace is the same trial as in any ``simulate`` run (every variable equal), and its
records are complete: deals booked per month and territory are the bookings and new
customers, rep-months give the opportunities and wins, occupants give the headcount and
the hires.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import salessim
from helpers_model import scenario_dict, territory
from salessim import Scenario
from salessim.engine import OUTCOMES, trace_trial

ROOT = Path(__file__).resolve().parents[1]


def churny() -> Scenario:
    """Attrition, backfills with a lag, orphaned deals, a ramp, capacity and the quarter-end pull."""
    terr = territory("T", reps=4, leads_per_month=60.0, sales_cycle_months=[0.2, 0.3, 0.3, 0.2], attrition_annual=0.6,
                     backfill=True, time_to_fill_months=[0.0, 0.5, 0.5], orphaned_deal_close_rate=0.5, ramp=[0.0, 0.5],
                     capacity_leads_per_month=12.0, quarter_end_pull=0.35, skill_sigma=0.3)
    other = territory("U", reps=2, leads_per_month=15.0, deal_size={"mean": 5000.0, "cv": 0.7})
    return Scenario.from_dict(scenario_dict([terr, other], horizon=24, hiring_plan=[{"month": "2027-04", "territory": "U", "hires": 2}]))


CASES = {"baseline": lambda: salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml"),
         "midyear": lambda: salessim.load_scenario(ROOT / "scenarios" / "midyear.yaml"),
         "churny": churny}


@pytest.fixture(scope="module", params=sorted(CASES))
def traced(request):
    sc = CASES[request.param]()
    batch = salessim.simulate(sc, 6, seed=13)
    return sc, batch, trace_trial(sc, 13, 4)


def test_the_trace_is_the_trial_of_any_run(traced):
    _, batch, tr = traced
    for name in batch.data_vars:
        mine = batch[name].isel(trial=[4]) if "trial" in batch[name].dims else batch[name]
        np.testing.assert_array_equal(mine.values, tr.dataset[name].values, err_msg=name)


def test_deals_add_up_to_bookings_and_new_customers(traced):
    sc, _, tr = traced
    h, k = sc.horizon_months, len(sc.territories)
    d = tr.deals
    booked = (d["outcome"] <= 1) & (d["due"] < h)
    value = np.zeros((h, k))
    count = np.zeros((h, k), dtype=np.int64)
    np.add.at(value, (d["due"][booked], d["territory"][booked]), d["value"][booked])
    np.add.at(count, (d["due"][booked], d["territory"][booked]), 1)
    np.testing.assert_allclose(value, tr.dataset["bookings"].values[0], rtol=1e-12, atol=1e-6)
    np.testing.assert_array_equal(count, tr.dataset["new_customers"].values[0])
    later = d["outcome"] == OUTCOMES.index("after_horizon")
    assert np.all(d["due"][later] >= h) and np.all(d["due"][~later] < h)
    end = np.bincount(d["territory"][later], weights=d["value"][later], minlength=k)
    np.testing.assert_allclose(end, tr.dataset["pipeline_end"].values[0], rtol=1e-12, atol=1e-6)
    from_pipe = d["pipeline"] >= 0
    pipe_value = np.zeros((h, k))
    np.add.at(pipe_value, (d["due"][booked & from_pipe], d["territory"][booked & from_pipe]), d["value"][booked & from_pipe])
    np.testing.assert_allclose(pipe_value, tr.dataset["bookings_from_pipeline"].values[0], rtol=1e-12, atol=1e-6)


def test_rep_months_give_the_funnel_and_new_wins_are_deals(traced):
    sc, _, tr = traced
    h, k = sc.horizon_months, len(sc.territories)
    r = tr.rep_months
    for name in ("opportunities", "wins"):
        total = np.zeros((h, k), dtype=np.int64)
        np.add.at(total, (r["month"], r["territory"]), r[name])
        np.testing.assert_array_equal(total, tr.dataset[name].values[0], err_msg=name)
    beyond_capacity = np.zeros((h, k), dtype=np.int64)
    np.add.at(beyond_capacity, (r["month"], r["territory"]), r["leads"] - r["worked"])
    assert np.all(beyond_capacity <= tr.dataset["leads_unworked"].values[0])
    new = tr.deals[tr.deals["pipeline"] < 0]
    won = np.zeros((h, k), dtype=np.int64)
    np.add.at(won, (new["created"], new["territory"]), 1)
    np.testing.assert_array_equal(won, tr.dataset["wins"].values[0])


def test_occupants_give_headcount_and_hires(traced):
    sc, _, tr = traced
    h, k = sc.horizon_months, len(sc.territories)
    o = tr.occupants
    headcount = np.zeros((h, k), dtype=np.int64)
    hires = np.zeros((h, k), dtype=np.int64)
    seat_is_hire = np.zeros(len(sc.seat_territories()), dtype=bool)
    seat_is_hire[sum(t.reps for t in sc.territories):] = True
    for row in o:
        last = h - 1 if row["last"] < 0 else row["last"]
        headcount[row["start"] : last + 1, row["territory"]] += 1
        if row["occupant"] > 0 or seat_is_hire[row["seat"]]:
            hires[row["start"], row["territory"]] += 1
    np.testing.assert_array_equal(headcount, tr.dataset["headcount"].values[0])
    np.testing.assert_array_equal(hires, tr.dataset["hires"].values[0])
    departures = np.zeros((h, k), dtype=np.int64)
    gone = o["last"] >= 0
    np.add.at(departures, (o["last"][gone], o["territory"][gone]), 1)
    np.testing.assert_array_equal(departures, tr.dataset["departures"].values[0])


def test_a_deal_books_to_its_owner_only_while_they_are_in_seat():
    sc = churny()
    tr = trace_trial(sc, 3, 1)
    seats = {(int(r["seat"]), int(r["occupant"])): r for r in tr.occupants}
    h = sc.horizon_months
    for d in tr.deals[tr.deals["outcome"] == 0]:
        occ = seats[(int(d["seat"]), int(d["occupant"]))]
        last = h - 1 if occ["last"] < 0 else occ["last"]
        assert occ["start"] <= d["created"] <= d["due"] <= last
    orphaned = tr.deals[(tr.deals["outcome"] == 1) | (tr.deals["outcome"] == 2)]
    assert len(orphaned) > 0
    for d in orphaned:
        assert seats[(int(d["seat"]), int(d["occupant"]))]["last"] < d["due"]


def test_bad_arguments():
    sc = churny()
    with pytest.raises(salessim.SimulationError, match="seed"):
        trace_trial(sc, -1, 0)
    with pytest.raises(salessim.SimulationError, match="trial must be a whole number >= 0, got -3"):
        trace_trial(sc, 0, -3)

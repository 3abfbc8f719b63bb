"""Open deals at the start (SPEC section 9): analytics at 4 SE, exact rules, files, CRN.

The scenarios here have no leads (``leads_per_month: 0``), so every booking comes from the
starting pipeline and the pipeline's law can be checked on its own.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import salessim
from helpers_model import assert_mean, make, scenario_dict, territory
from salessim import Scenario

ROOT = Path(__file__).resolve().parents[1]
CYCLE = [0.1, 0.2, 0.3, 0.25, 0.15]  # months 0..4
TRIALS = 20_000


def quiet(**kw):
    """One territory, three anonymous reps who never leave, no leads: only open deals book."""
    return territory("T", reps=3, leads_per_month=0.0, sales_cycle_months=CYCLE, win_rate=0.4,
                     deal_size={"mean": 1000.0, "cv": 0.5}, **kw)


def run(deals, trials=TRIALS, seed=3, horizon=12, **terr):
    data = scenario_dict([quiet(**terr)], horizon=horizon) | {"pipeline": deals}
    sc = Scenario.from_dict(data)
    return sc, salessim.simulate(sc, trials=trials, seed=seed)


def from_pipeline(ds):
    return ds["bookings_from_pipeline"].sum(["month", "territory"]).values


def test_expected_bookings_are_the_sum_of_win_probability_times_expected_amount():
    deals = [
        {"id": "a", "territory": "T", "owner": "T#1", "age_months": 0, "amount": 5000.0, "win_probability": 0.7},
        {"id": "b", "territory": "T", "owner": "T#2", "age_months": 2, "amount": 12000.0},  # the territory's 0.4
        {"id": "c", "territory": "T", "age_months": 1, "win_probability": 0.25},  # amount drawn: mean 1000
        {"id": "d", "territory": "T", "owner": "T#3", "age_months": 4},
    ]
    _, ds = run(deals)
    truth = 0.7 * 5000 + 0.4 * 12000 + 0.25 * 1000 + 0.4 * 1000
    assert_mean(from_pipeline(ds), truth, "E[bookings from the pipeline]")
    # open deals are bookings, not leads, opportunities or wins
    np.testing.assert_allclose(ds["bookings"].values, ds["bookings_from_pipeline"].values, rtol=1e-12)  # summed in another order
    for name in ("leads", "opportunities", "wins"):
        assert int(ds[name].sum()) == 0, name
    # each booked deal is a new customer
    assert_mean(ds["new_customers"].sum(["month", "territory"]).values, 0.7 + 0.4 + 0.25 + 0.4, "deals booked")


@pytest.mark.parametrize("age", [0, 1, 2, 3])
def test_booking_month_follows_the_conditional_cycle_pmf(age):
    _, ds = run([{"id": "x", "territory": "T", "owner": "T#1", "age_months": age, "amount": 1.0, "win_probability": 1.0}])
    month = ds["bookings_from_pipeline"].sum("territory").values.argmax(axis=1)
    assert np.all(ds["bookings_from_pipeline"].sum(["month", "territory"]).values == 1.0)  # won and booked once
    tail = sum(CYCLE[age:])
    for m in range(len(CYCLE) - age):
        p = CYCLE[age + m] / tail
        assert_mean(month == m, p, f"P(books in month {m} | age {age})")
    assert np.all(month <= len(CYCLE) - 1 - age)


@pytest.mark.parametrize("age", [5, 9, 40])
def test_a_deal_older_than_the_longest_cycle_books_in_month_zero(age):
    _, ds = run([{"id": "old", "territory": "T", "owner": "T#1", "age_months": age, "amount": 700.0,
                  "win_probability": 1.0}], trials=200)
    assert np.all(ds["bookings_from_pipeline"].values[:, 0, 0] == 700.0)
    assert float(ds["bookings_from_pipeline"].values[:, 1:].sum()) == 0.0


def test_trailing_zeros_of_the_cycle_pmf_do_not_count_as_longer_cycles():
    sc = Scenario.from_dict(scenario_dict([territory("T", reps=1, leads_per_month=0.0, sales_cycle_months=[0.5, 0.5, 0.0])])
                            | {"pipeline": [{"id": "z", "territory": "T", "age_months": 2, "amount": 1.0,
                                             "win_probability": 1.0}]})
    ds = salessim.simulate(sc, 100, 0)
    assert np.all(ds["bookings_from_pipeline"].values[:, 0, 0] == 1.0)


def test_orphan_rule_for_an_owner_who_leaves():
    # attrition 1: each rep leaves at the end of month 0; no backfill. A won deal due in month 0
    # books to its owner; one due later is orphaned and books to the territory with p = 0.3.
    deal = {"id": "o", "territory": "T", "owner": "T#1", "age_months": 0, "amount": 100.0, "win_probability": 1.0}
    _, ds = run([deal], attrition_annual=1.0, orphaned_deal_close_rate=0.3)
    booked = from_pipeline(ds)
    assert_mean(booked / 100.0, CYCLE[0] + (1 - CYCLE[0]) * 0.3, "P(open deal books | owner leaves after month 0)")
    assert_mean(ds["bookings_from_pipeline"].values[:, 0, 0] / 100.0, CYCLE[0], "P(books to the owner in month 0)")
    assert set(np.unique(booked)) <= {0.0, 100.0}
    # the seat is empty at the year's end (no backfill): no attainment figure
    assert np.all(np.isnan(ds["attainment"].isel(fiscal_year=0).values[:, 0]))


def test_deals_without_an_owner_credit_no_rep_and_books_with_certainty_when_won():
    quota_rep = {"id": "q", "territory": "T", "owner": "T#1", "age_months": 9, "amount": 3000.0, "win_probability": 1.0}
    unowned = {"id": "u", "territory": "T", "age_months": 9, "amount": 5000.0, "win_probability": 1.0}
    stranger = {"id": "s", "territory": "T", "owner": "Somebody Else", "age_months": 9, "amount": 7000.0,
                "win_probability": 1.0}
    sc, ds = run([quota_rep, unowned, stranger], trials=50, quota_annual=120_000.0)
    assert np.all(from_pipeline(ds) == 15_000.0)
    att = ds["attainment"].isel(fiscal_year=0).values  # quota 10,000 a month, 12 months
    np.testing.assert_array_equal(att[:, 0], 3000.0 / 120_000.0)
    np.testing.assert_array_equal(att[:, 1:], 0.0)
    assert [msg for loc, msg in sc.warnings if loc == "pipeline[2].owner"]


def test_won_deals_due_after_the_horizon_go_to_pipeline_end():
    deal = {"id": "late", "territory": "T", "owner": "T#1", "age_months": 0, "amount": 10.0, "win_probability": 1.0}
    _, ds = run([deal], horizon=2)  # due months 2, 3, 4 fall after a 2-month horizon
    end = ds["pipeline_end"].values[:, 0]
    assert_mean(end / 10.0, sum(CYCLE[2:]), "P(due after the horizon)")
    assert np.all((end + from_pipeline(ds)) == 10.0)


def test_each_deal_draws_from_its_own_stream_keyed_by_its_id():
    deals = [{"id": f"d{i}", "territory": "T", "owner": f"T#{1 + i % 3}", "age_months": i % 4} for i in range(12)]
    sc_a, a = run(deals, trials=300)
    _, b = run(list(reversed(deals)) + [{"id": "new", "territory": "T", "age_months": 1}], trials=300)
    # reordering the deals and adding one leaves every deal's draws alone: bookings differ only by the new deal
    _, only_new = run([{"id": "new", "territory": "T", "age_months": 1}], trials=300)
    np.testing.assert_allclose(from_pipeline(b), from_pipeline(a) + from_pipeline(only_new), rtol=0, atol=1e-6)
    # a deal renamed draws differently
    _, c = run([dict(d, id=d["id"] + "x") for d in deals], trials=300)
    assert not np.array_equal(from_pipeline(a), from_pipeline(c))


def test_pipeline_file_is_read_beside_the_scenario_and_inlined(tmp_path):
    data = scenario_dict([quiet()]) | {"pipeline_file": "deals.csv"}
    (tmp_path / "deals.csv").write_text("id,territory,owner,age_months,amount,win_probability\n"
                                        "A-1,T,T#1,2,4000,0.5\n\nA-2,T,,1,,\n", encoding="utf-8")
    import yaml

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    sc = salessim.load_scenario(tmp_path / "s.yaml")
    assert [d.id for d in sc.spec.pipeline] == ["A-1", "A-2"]
    assert sc.spec.pipeline[1].owner is None and sc.spec.pipeline[1].amount is None
    assert "pipeline_file" not in sc.data and sc.data["pipeline_csv"].startswith("id,territory")
    ds = salessim.simulate(sc, 50, 1)
    (tmp_path / "deals.csv").unlink()  # the results alone rerun the run
    again = salessim.simulate(salessim.scenario_of(ds), 50, 1)
    np.testing.assert_array_equal(ds["bookings"].values, again["bookings"].values)
    assert "pipeline_csv: |" in sc.to_yaml()


def test_steady_state_pipeline_matches_its_expected_counts_and_is_reproducible():
    from salessim.pipeline import expected_open_deals, steady_pipeline

    sc = salessim.load_scenario(ROOT / "scenarios" / "enterprise.yaml")
    cells = expected_open_deals(sc)
    # hand check of one cell: DACH's first rep (60 months, ramped), age 1
    t = sc.territories[0]
    month = (sc.start[1] - 1 - 1) % 12
    lam = t.leads_per_month * sc.spec.market.seasonality[month] * (1 + sc.spec.market.annual_growth) ** (-1 / 12)
    ramp = [r for r in t.ramp]
    f = np.array([1.0 if n - 1 >= len(ramp) else ramp[n - 1] for n in t.initial_tenure_months])
    from scipy import stats

    worked = stats.poisson.sf(np.arange(math.floor(t.capacity_leads_per_month)), lam * f[0] / f.sum()).sum()
    still_open = 1 - t.sales_cycle_months[0]
    cell = next(c for c in cells if c["territory"] == 0 and c["rep"] == "DACH#1" and c["age_months"] == 1)
    assert cell["mean"] == pytest.approx(t.lead_to_opportunity * worked * still_open, rel=1e-12)
    a, b = steady_pipeline(sc, seed=5), steady_pipeline(sc, seed=5)
    assert a == b and a != steady_pipeline(sc, seed=6)
    total = sum(c["mean"] for c in cells)
    assert abs(len(a) - total) <= 4 * math.sqrt(total)  # a Poisson count with that mean
    assert {d["owner"] for d in a} <= {f"{t.name}#{i + 1}" for t in sc.territories for i in range(t.reps)}


def test_steady_state_pipeline_continues_the_funnel_s_bookings():
    """Expected bookings from the steady pipeline in month m = what the funnel's past wins deliver then."""
    from salessim.pipeline import steady_pipeline
    from salessim.scenario_files import pipeline_csv_text

    base = make([territory("T", reps=4, leads_per_month=40.0, lead_to_opportunity=0.5, win_rate=0.4,
                           sales_cycle_months=CYCLE, capacity_leads_per_month=None)], horizon=12)
    deals = steady_pipeline(base, seed=0)
    sc = base.with_overrides({"pipeline_csv": pipeline_csv_text(deals)})
    ds = salessim.simulate(sc, 4000, 0)
    # the funnel books, in month 0, opps x win x (p1 + p2 + p3 + p4) x E[amount] from deals won
    # before the start; the pipeline's deals of age a (a Poisson count with mean opps x P(L >= a))
    # each book then with probability win x p_a / P(L >= a)
    opps = 40.0 * 0.5
    tails = {a: sum(CYCLE[a:]) for a in range(1, 5)}
    want = opps * 0.4 * 1000.0 * sum(CYCLE[1:])
    sd = math.sqrt(sum(opps * tails[a] * (0.4 * 1000.0 * CYCLE[a] / tails[a]) ** 2 for a in tails))
    expected_given = sum(d["amount"] * 0.4 * CYCLE[d["age_months"]] / tails[d["age_months"]] for d in deals)
    assert abs(expected_given - want) <= 4 * sd, (expected_given, want, sd)
    n_expected = opps * sum(tails.values())
    assert abs(len(deals) - n_expected) <= 4 * math.sqrt(n_expected)
    # and the simulation books, given these deals, what they promise
    assert_mean(ds["bookings_from_pipeline"].values[:, 0, 0], expected_given, "month-0 bookings from the pipeline")


def test_an_override_replaces_the_pipeline_whatever_form_the_scenario_gave_it():
    sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")  # pipeline_file, stored as pipeline_csv
    one = sc.with_overrides({"pipeline": [{"id": "x", "territory": "East", "age_months": 1}]})
    assert [d.id for d in one.spec.pipeline] == ["x"] and "pipeline_csv" not in one.data
    # a file named by an override is read beside the scenario, like one the scenario names
    again = one.with_overrides({"pipeline_file": "baseline_pipeline.csv"})
    assert again.spec.pipeline == sc.spec.pipeline
    assert sc.with_overrides({"pipeline_csv": None}).spec.pipeline is None


def test_empirical_deal_sizes_resample_the_values_with_equal_weight():
    values = [1000.0, 5000.0, 20000.0]
    t = territory("T", reps=2, leads_per_month=30.0, deal_size={"empirical": values}, sales_cycle_months=[1.0])
    sc = Scenario.from_dict(scenario_dict([t], horizon=6) | {
        "pipeline": [{"id": f"e{i}", "territory": "T", "age_months": 0, "win_probability": 1.0} for i in range(5)]})
    ds = salessim.simulate(sc, 2000, 8)
    # open deals without an amount draw from the same values: every deal books one of them
    open_month0 = ds["bookings_from_pipeline"].values[:, 0, 0]
    assert_mean(open_month0 / 5, np.mean(values), "mean value of an open deal without an amount")
    booked = ds["bookings"].values[:, :, 0]
    deals = ds["new_customers"].values[:, :, 0]
    one = booked[deals == 1]  # months with exactly one deal: its value
    assert set(np.unique(one)) == set(values)
    for v in values:
        assert_mean(one == v, 1 / 3, f"P(deal value = {v:g})")

"""Year to date and named rosters (SPEC section 9): exact on zero-variance scenarios.

A scenario with no leads, a cycle of 0 months and open deals that are certain (win
probability 1, fixed amounts) books exactly its pipeline in month 0, so every figure of the
fiscal year in progress can be checked to the last bit: (actuals + simulated) / goal.
"""

from __future__ import annotations

import numpy as np
import pytest

import salessim
from helpers_model import scenario_dict, territory
from salessim import Scenario

START = "2027-04"  # the fiscal year (January) is in progress: Jan-Mar are actuals


def named(name: str, reps: list[dict], **kw) -> dict:
    """A territory of the quiet test kind with a roster (which gives the tenures)."""
    t = territory(name, reps=reps, **kw)
    del t["initial_tenure_months"]
    return t


def certain_scenario(**extra) -> Scenario:
    terr = named("T", reps=[{"name": "Ana", "tenure_months": 30, "ytd_bookings": 25_000.0, "ytd_quota": 30_000.0},
                                {"name": "Bo", "tenure_months": 2}],
                     leads_per_month=0.0, sales_cycle_months=[1.0], quota_annual=120_000.0, ramp=[0.5, 0.5, 0.5, 1.0])
    data = scenario_dict([terr], horizon=21, start=START)  # Apr 2027 .. Dec 2028
    data["goal"] = {"annual": [400_000.0, 1_000_000.0]}  # FY2027 (in progress) and FY2028
    data["actuals"] = {"bookings": {"T": 90_000.0}}
    data["pipeline"] = [
        {"id": "1", "territory": "T", "owner": "Ana", "age_months": 0, "amount": 40_000.0, "win_probability": 1.0},
        {"id": "2", "territory": "T", "owner": "Bo", "age_months": 3, "amount": 15_000.0, "win_probability": 1.0},
        {"id": "3", "territory": "T", "age_months": 1, "amount": 5_000.0, "win_probability": 1.0},
    ]
    data.update(extra)
    return Scenario.from_dict(data)


def test_fiscal_year_in_progress_gets_figures_from_actuals_plus_simulated_months():
    sc = certain_scenario()
    assert sc.fiscal_year_spans() == [(2027, 0, 8), (2028, 9, 20)]
    ds = salessim.simulate(sc, trials=5, seed=1)
    assert list(ds["fiscal_year"].values) == [2027, 2028]
    assert list(ds["fiscal_year_months"].values) == [9, 12]
    assert list(ds["fiscal_year_of_month"].values[:10]) == [2027] * 9 + [2028]
    np.testing.assert_array_equal(ds["actual_bookings"].values, [[90_000.0], [0.0]])
    table = salessim.summarize(ds)
    row = lambda m, p="FY2027": table[(table.metric == m) & (table.period == p) & (table.territory == "all")].iloc[0]  # noqa: E731
    booked = 90_000.0 + 40_000.0 + 15_000.0 + 5_000.0
    assert row("bookings")["mean"] == booked and row("bookings")["p10"] == booked
    assert row("bookings_actual")["mean"] == 90_000.0
    assert row("bookings_from_pipeline")["mean"] == 60_000.0
    assert row("bookings_from_new")["mean"] == 0.0
    assert row("goal_attainment")["mean"] == booked / 400_000.0  # exactly (actuals + simulated) / goal
    assert row("p_goal")["mean"] == 0.0
    assert row("goal_attainment", "FY2028")["mean"] == 0.0


def test_named_reps_attainment_adds_their_year_to_date_figures_exactly():
    sc = certain_scenario()
    ds = salessim.simulate(sc, trials=3, seed=2)
    att = ds["attainment"].sel(fiscal_year=2027).values
    # Ana: fully ramped, 9 simulated months of 10,000 quota; Bo: tenure 2 at start, ramp 0.5 for
    # tenure months 2 (Apr) then 1.0: quota 5,000 + 8 x 10,000
    ana = (25_000.0 + 40_000.0) / (30_000.0 + 9 * 10_000.0)
    bo = 15_000.0 / (5_000.0 + 8 * 10_000.0)
    np.testing.assert_array_equal(att[:, 0], ana)
    np.testing.assert_array_equal(att[:, 1], bo)
    # the deal without an owner credits nobody; the seats carry the reps' names
    assert list(ds["seat_name"].values) == ["Ana", "Bo"]
    assert ds["attainment"].set_xindex("seat_name").sel(seat_name="Ana", fiscal_year=2027).values[0] == ana


def test_plots_report_and_exports_start_the_year_in_progress_at_its_actuals(tmp_path):
    from salessim.export import tables
    from salessim.plot import bookings as bookings_picture
    from salessim.report import render_report

    ds = salessim.simulate(certain_scenario(), trials=4, seed=0)
    monthly = tables(ds)["monthly"]
    fytd = monthly[(monthly.metric == "bookings_fytd") & (monthly.statistic == "mean")]
    assert fytd[fytd.month == "2027-04"].value.iloc[0] == 90_000.0 + 60_000.0
    assert fytd[fytd.month == "2028-01"].value.iloc[0] == 0.0
    ax = bookings_picture(ds)
    assert "FY2027 0%" in ax.get_title(loc="left")
    median = max(line.get_ydata()[0] for line in ax.get_lines() if line.get_label() == "median")
    assert median == 150_000.0
    html = render_report(ds)
    assert "Open pipeline at start" in html  # the deals summarised per territory, not listed


def test_per_rep_quota_overrides_the_territory_s_and_the_backfill_gets_the_territory_s():
    terr = named("T", reps=[{"name": "Senior", "tenure_months": 40, "quota_annual": 240_000.0}, {"name": "Mid", "tenure_months": 40}],
                     leads_per_month=0.0, quota_annual=120_000.0, attrition_annual=1.0, backfill=True,
                     time_to_fill_months=[1.0])
    sc = Scenario.from_dict(scenario_dict([terr], horizon=3))
    ds = salessim.simulate(sc, trials=2, seed=0)
    # month 0: both reps in seat (20,000 + 10,000); they leave at its end; backfills start in
    # month 1 at tenure 0 (no ramp): 10,000 each
    np.testing.assert_array_equal(ds["quota"].values[0, :, 0], [30_000.0, 20_000.0, 20_000.0])


def test_given_skill_overrides_the_draw_and_keeps_the_seat_s_other_draws():
    anonymous = territory("T", reps=2, initial_tenure_months=[30, 4], skill_sigma=0.5, attrition_annual=0.4,
                          backfill=True, time_to_fill_months=[0.2, 0.8], leads_per_month=40.0)
    named = dict(anonymous, reps=[{"name": "A", "tenure_months": 30, "skill": 1.7}, {"name": "B", "tenure_months": 4}])
    del named["initial_tenure_months"]
    a = salessim.simulate(Scenario.from_dict(scenario_dict([anonymous], horizon=24)), 300, 9)
    b = salessim.simulate(Scenario.from_dict(scenario_dict([named], horizon=24)), 300, 9)
    # departures, backfills and tenure come from the same occupant streams: identical
    for var in ("headcount", "departures", "hires", "open_reqs"):
        np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)
    np.testing.assert_array_equal(a["tenure"].values, b["tenure"].values)
    # a skill of 1.7 lifts the first rep's wins (same leads, same uniforms, higher win probability)
    assert b["wins"].sum() > a["wins"].sum()
    assert list(b["seat_name"].values) == ["A", "B"] and list(a["seat_name"].values) == ["T#1", "T#2"]


def test_occupant_tells_whose_attainment_a_seat_reports():
    terr = named("T", reps=[{"name": "Ana", "tenure_months": 30}], attrition_annual=0.5, backfill=True,
                     time_to_fill_months=[1.0])
    ds = salessim.simulate(Scenario.from_dict(scenario_dict([terr], horizon=24)), 400, 4)
    occ = ds["occupant"].values[:, :, 0]
    tenure = ds["tenure"].values[:, :, 0]
    # the first occupant at the end of year y has tenure 30 + 12 (y + 1); a backfill less
    first = occ == 0
    np.testing.assert_array_equal(tenure[first[:, 0], 0], 42.0)
    assert np.all(tenure[occ[:, 1] > 0, 1] <= 24) and (occ > 0).any() and first.any()
    assert np.all(np.isnan(ds["attainment"].values[:, :, 0][occ == -1]))
    # Ana's own FY2028 attainment distribution, by name
    ana = ds["attainment"].set_xindex("seat_name").sel(seat_name="Ana", fiscal_year=2028).where(
        ds["occupant"].set_xindex("seat_name").sel(seat_name="Ana", fiscal_year=2028) == 0)
    assert 0 < int(np.isfinite(ana.values).sum()) < 400


def test_hire_seats_are_named_from_the_plan():
    data = scenario_dict([territory("East", reps=2), territory("West", reps=1)], horizon=24,
                         hiring_plan=[{"month": "2027-06", "territory": "West", "hires": 2},
                                      {"month": "2027-06", "territory": "West", "hires": 1},
                                      {"month": "2028-01", "territory": "East", "hires": 1}])
    sc = Scenario.from_dict(data)
    assert sc.seat_names() == ["East#1", "East#2", "West#1", "hire:2027-06:West#1", "hire:2027-06:West#2",
                               "hire:2027-06:West#3", "hire:2028-01:East#1"]


def test_integer_reps_keep_giving_the_same_bits_as_an_equivalent_roster_without_skills():
    plain = territory("T", reps=3, initial_tenure_months=[5, 12, 40], skill_sigma=0.3, leads_per_month=30.0,
                      attrition_annual=0.25, backfill=True)
    roster = dict(plain, reps=[{"name": n, "tenure_months": m} for n, m in (("a", 5), ("b", 12), ("c", 40))])
    del roster["initial_tenure_months"]
    a = salessim.simulate(Scenario.from_dict(scenario_dict([plain], horizon=24)), 200, 1)
    b = salessim.simulate(Scenario.from_dict(scenario_dict([roster], horizon=24)), 200, 1)
    for var in a.data_vars:
        np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)


@pytest.mark.parametrize("start, horizon, years", [("2027-01", 12, [2027]), ("2027-04", 8, []), ("2027-04", 9, [2027])])
def test_goal_counts_the_year_in_progress_only_with_actuals_and_when_it_ends_inside(start, horizon, years):
    data = scenario_dict([territory("T")], horizon=horizon, start=start)
    data["goal"] = {"annual": [1.0] * len(years)}
    if start != "2027-01":
        data["actuals"] = {"bookings": {"T": 0.0}}
        if not years:
            with pytest.raises(salessim.ScenarioError, match="beyond the horizon"):
                Scenario.from_dict(data)
            return
    assert [y for y, _ in Scenario.from_dict(data).fiscal_years()] == years

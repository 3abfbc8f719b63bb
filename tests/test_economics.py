"""Economics (issue 3): commission plans, costs, recurring revenue and the planning KPIs.

Zero-variance scenarios give exact hand-computed payouts; random ones are checked against
closed forms within 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import norm

import salessim
from salessim import ScenarioError
from salessim.cli import main
from salessim.kernels.month import commission_payout
from salessim.summary import summarize

from helpers_model import assert_mean, make, scenario_dict, territory, yearly

PLAN = {"decelerator": {"below": 0.5, "multiplier": 0.5},
        "accelerators": [{"above": 1.0, "multiplier": 1.5}, {"above": 1.5, "multiplier": 2.0}]}


def one_rep(deal_mean=15_000.0, cv=0.0, quota=100_000.0, commission=None, **kw):
    """One rep who books exactly one deal every month: capacity 1, every lead converts, books at once."""
    settings = dict(leads_per_month=60.0, capacity_leads_per_month=1, lead_to_opportunity=1.0, win_rate=1.0,
                    deal_size={"mean": deal_mean, "cv": cv}, quota_annual=quota, variable_annual=10_000.0,
                    commission=commission or {})
    return territory(**(settings | kw))


def tiered(att, quota_p, rate, cap=None):
    """Hand computation of the plan PLAN: marginal rates by attainment band."""
    bands = [(0.0, 0.5, 0.5), (0.5, 1.0, 1.0), (1.0, 1.5, 1.5), (1.5, math.inf, 2.0)]
    pay = sum(m * max(0.0, min(att, hi) - lo) for lo, hi, m in bands) * quota_p * rate
    return pay if cap is None else min(pay, cap * rate * quota_p)


# ----------------------------------------------------------------- exact payouts


@pytest.mark.parametrize("period,months", [("month", 1), ("quarter", 3), ("year", 12)])
@pytest.mark.parametrize("cap", [None, 2.0])
def test_zero_variance_commission_equals_hand_computation(period, months, cap):
    # 18,000 a month against 10,000 of monthly quota: attainment 1.8 in every period
    deal, quota = 18_000.0, 120_000.0
    plan = {"period": period, **PLAN} | ({"cap": cap} if cap else {})
    sc = make([one_rep(deal, quota=quota, commission=plan)], horizon=24)
    ds = salessim.simulate(sc, trials=3, seed=1)
    rate = 10_000.0 / quota
    expected = tiered(1.8, quota / 12 * months, rate, cap)
    paid = ds["commission"].isel(trial=0, territory=0).values
    period_ends = [m for m in range(24) if (m % months) == months - 1]
    np.testing.assert_allclose(paid[period_ends], expected, rtol=1e-9)
    others = np.setdiff1d(np.arange(24), period_ends)
    assert np.all(paid[others] == 0.0)
    # the seat's yearly commission is the sum of what was paid in the year
    np.testing.assert_allclose(ds["commission_earned"].isel(trial=0, seat=0).values, expected * 12 / months, rtol=1e-9)
    # bookings are exact too: the zero-variance premise holds
    np.testing.assert_allclose(ds["bookings"].isel(trial=0, territory=0).values, deal, rtol=1e-12)


def test_hand_computed_tiers_match_commission_payout():
    # row 1 of two territories' tier tables (row 0 is another plan, which must not be read)
    lo = np.array([[0.0, 0.2, 0.4, 0.6], [0.0, 0.5, 1.0, 1.5]])
    mult = np.array([[9.0, 9.0, 9.0, 9.0], [0.5, 1.0, 1.5, 2.0]])
    for att in [0.0, 0.3, 0.5, 0.9, 1.0, 1.2, 1.5, 2.4]:
        assert commission_payout(att * 1000.0, 1000.0, 0.1, lo, mult, 1, 4, math.inf) == pytest.approx(tiered(att, 1000.0, 0.1))
        assert commission_payout(att * 1000.0, 1000.0, 0.1, lo, mult, 1, 4, 1.2) == pytest.approx(tiered(att, 1000.0, 0.1, 1.2))
    # no quota: every booking earns the top tier's rate
    assert commission_payout(500.0, 0.0, 0.1, lo, mult, 1, 4, math.inf) == pytest.approx(0.1 * 2.0 * 500.0)


def test_ramping_rep_is_paid_on_ramped_quota():
    # a new hire at ramp 0.5 for their first month: quota 5,000 that month, 10,000 after
    plan = {"period": "month", **PLAN}
    t = one_rep(8_000.0, quota=120_000.0, commission=plan, reps=0, ramp=[0.5], capacity_leads_per_month=2)
    sc = make([t], horizon=12, hiring_plan=[{"month": "2027-01", "territory": "T", "hires": 1}])
    ds = salessim.simulate(sc, trials=1, seed=0)
    paid = ds["commission"].isel(trial=0, territory=0).values
    rate = 10_000.0 / 120_000.0
    assert paid[0] == pytest.approx(tiered(8_000.0 / 5_000.0, 5_000.0, rate))  # floor(2 x 0.5) = 1 deal
    assert paid[1] == pytest.approx(tiered(16_000.0 / 10_000.0, 10_000.0, rate))  # 2 deals


# ---------------------------------------------------------- random attainment


def _call(mean, sigma, strike):
    """E[(D - K)^+] for lognormal D with the given mean and log-sd."""
    if strike <= 0:
        return mean - strike
    d1 = (math.log(mean / strike) + sigma**2 / 2) / sigma
    return mean * norm.cdf(d1) - strike * norm.cdf(d1 - sigma)


def test_expected_commission_matches_lognormal_closed_form_and_exceeds_jensen_bound():
    deal, cv, quota = 10_000.0, 0.5, 120_000.0
    sc = make([one_rep(deal, cv=cv, quota=quota, commission={"period": "month", **PLAN})], horizon=12)
    ds = salessim.simulate(sc, trials=4000, seed=11)
    paid = ds["commission"].isel(territory=0).values.ravel()  # one lognormal deal per month
    sigma = math.sqrt(math.log1p(cv**2))
    q, rate = quota / 12, 10_000.0 / quota
    # marginal tiers: sum over bands of m_i (E[(D - lo_i q)^+] - E[(D - hi_i q)^+])
    bands = [(0.0, 0.5, 0.5), (0.5, 1.0, 1.0), (1.0, 1.5, 1.5), (1.5, math.inf, 2.0)]
    truth = rate * sum(m * (_call(deal, sigma, lo * q) - (_call(deal, sigma, hi * q) if hi < math.inf else 0.0))
                       for lo, hi, m in bands)
    assert_mean(paid, truth, "mean monthly commission, lognormal attainment")
    at_mean = tiered(deal / q, q, rate)
    se = paid.std(ddof=1) / math.sqrt(paid.size)
    assert paid.mean() - at_mean > 4 * se, "accelerators make expected pay exceed pay at mean attainment"


# --------------------------------------------------------------- recurring revenue


@pytest.mark.parametrize("churn", [0.1, 0.3])
def test_arr_without_new_bookings_decays_geometrically(churn):
    t = territory(reps=0, revenue_model="recurring", existing_arr=2_000_000.0, existing_customers=400,
                  churn_annual=churn)
    sc = make([t], horizon=36)
    ds = salessim.simulate(sc, trials=2000, seed=3)
    arr = ds["arr"].isel(territory=0).values
    for years in (1, 2, 3):
        assert_mean(arr[:, 12 * years - 1], 2_000_000.0 * (1 - churn) ** years, f"ARR after {years} years")
    assert np.all(ds["bookings"].values == 0)
    np.testing.assert_allclose(ds["revenue"].values, ds["arr"].values / 12)


def test_expansion_grows_retained_arr():
    t = territory(reps=0, revenue_model="recurring", existing_arr=1_000_000.0, expansion_annual=0.2)
    ds = salessim.simulate(make([t], horizon=24), trials=2, seed=0)
    np.testing.assert_allclose(ds["arr"].isel(trial=0, territory=0).values[[11, 23]], [1.2e6, 1.44e6], rtol=1e-12)


def test_new_bookings_become_arr_and_revenue_from_new_customers():
    t = one_rep(12_000.0, revenue_model="recurring", existing_arr=600_000.0, existing_customers=50)
    ds = salessim.simulate(make([t], horizon=12), trials=2, seed=0)
    arr = ds["arr"].isel(trial=0, territory=0).values
    np.testing.assert_allclose(arr, 600_000.0 + 12_000.0 * np.arange(1, 13), rtol=1e-12)
    np.testing.assert_allclose(ds["revenue_new"].isel(trial=0, territory=0).values, 12_000.0 * np.arange(1, 13) / 12)
    np.testing.assert_allclose(ds["revenue_existing"].isel(trial=0, territory=0).values, 50_000.0)
    assert int(ds["new_customers"].isel(trial=0).sum()) == 12


# ----------------------------------------------------------------- money adds up


@pytest.fixture(scope="module")
def baseline():
    sc = salessim.load_scenario("scenarios/baseline.yaml")
    ds = salessim.simulate(sc, trials=300, seed=5)
    return ds, summarize(ds)


def test_costs_add_up_per_trial_and_match_the_summary(baseline):
    ds, table = baseline
    parts = ["base_pay", "commission", "hiring_cost", "overhead", "cost_of_sale"]
    np.testing.assert_allclose(ds["sales_cost"].values, sum(ds[p].values for p in parts), rtol=1e-12)
    np.testing.assert_allclose(ds["revenue"].values, ds["revenue_new"].values + ds["revenue_existing"].values, rtol=1e-12)
    for name in parts + ["sales_cost", "revenue", "revenue_new", "revenue_existing"]:
        per_trial = yearly(ds, name).sum("territory")  # (trial, fiscal_year)
        for fy in ds["fiscal_year"].values:
            row = table[(table.metric == name) & (table.period == f"FY{fy}") & (table.territory == "all")]
            assert len(row) == 1, name
            assert float(row["mean"].iloc[0]) == pytest.approx(float(per_trial.sel(fiscal_year=fy).mean()), rel=1e-12)
    # commission paid per month adds up to commission earned per seat in each fiscal year
    np.testing.assert_allclose(yearly(ds, "commission").sum("territory").values,
                               ds["commission_earned"].sum("seat").values, rtol=1e-12)
    # derived costs are the registry's products
    terr = salessim.scenario_of(ds).territories
    np.testing.assert_allclose(ds["hiring_cost"].values, ds["hires"].values * np.array([t.hiring_cost for t in terr]))
    np.testing.assert_allclose(ds["overhead"].values, ds["headcount"].values * np.array([t.overhead_per_rep_month for t in terr]))


def test_kpis_are_consistent(baseline):
    ds, table = baseline
    get = lambda m, fy: table[(table.metric == m) & (table.period == f"FY{fy}") & (table.territory == "all")]["mean"].iloc[0]
    fy = int(ds["fiscal_year"].values[0])
    bookings = yearly(ds, "bookings").sum("territory").sel(fiscal_year=fy).values
    cost = yearly(ds, "sales_cost").sum("territory").sel(fiscal_year=fy).values
    customers = yearly(ds, "new_customers").sum("territory").sel(fiscal_year=fy).values
    assert get("cost_share", fy) == pytest.approx(np.mean(cost / bookings))
    assert get("cac", fy) == pytest.approx(np.mean(cost / customers))
    assert get("net_contribution", fy) == pytest.approx(get("revenue", fy) - get("sales_cost", fy))
    assert get("ltv_cac", fy) > 0
    for metric in ["leads", "opportunities", "new_customers", "conversion", "bookings", "net_contribution"]:
        rows = table[(table.section == "territory") & (table.metric == metric) & (table.period == f"FY{fy}")]
        assert list(rows.territory) == list(ds.territory.values), metric
        assert np.all(rows.p10 <= rows.p50) and np.all(rows.p50 <= rows.p90)


def test_summary_cli_shows_cost_and_return_and_json_has_every_metric(tmp_path, baseline):
    ds, table = baseline
    path = tmp_path / "b.h5"
    salessim.save_results(ds, path)
    out = CliRunner().invoke(main, ["summary", str(path)])
    assert out.exit_code == 0 and "Cost and return" in out.output and "ltv_cac" in out.output
    data = json.loads(CliRunner().invoke(main, ["summary", str(path), "--format", "json"]).output)
    metrics = {row["metric"] for row in data["rows"]}
    for name in ["sales_cost", "base_pay", "commission", "hiring_cost", "overhead", "cost_of_sale", "cost_share",
                 "revenue", "revenue_new", "revenue_existing", "net_contribution", "cac", "ltv", "ltv_cac",
                 "arr_end", "arr_growth", "bookings_growth", "new_customers", "conversion"]:
        assert name in metrics, name


def test_no_economics_section_without_costs():
    ds = salessim.simulate(make([territory()], horizon=12), trials=20, seed=0)
    table = summarize(ds)
    assert "economics" not in set(table.section)


# ------------------------------------------------------------------- validation


def _problems(**defaults):
    d = scenario_dict([territory()], horizon=12)
    d["defaults"] = defaults
    with pytest.raises(ScenarioError) as info:
        salessim.Scenario.from_dict(d)
    return dict(info.value.problems)


@pytest.mark.parametrize("defaults,loc,fragments", [
    ({"commission": {"period": "weekly"}}, "defaults.commission.period", ["one of", "'weekly'"]),
    ({"commission": {"accelerators": [{"above": 1.5, "multiplier": 2}, {"above": 1.0, "multiplier": 1.5}]}},
     "defaults.commission.accelerators", ["increase", "1"]),
    ({"commission": {"decelerator": {"below": 1.2, "multiplier": 0.5}, "accelerators": [{"above": 1.0, "multiplier": 1.5}]}},
     "defaults.commission", ["decelerator.below", "1.2"]),
    ({"commission": {"cap": -1}}, "defaults.commission.cap", [">= 0", "-1"]),
    ({"commission": {"accelerators": [{"above": 1.0, "multiplier": -2}]}}, "defaults.commission.accelerators[0].multiplier", [">= 0", "-2"]),
    ({"commission": {"bonus": 1}}, "defaults.commission.bonus", ["unknown key"]),
    ({"base_salary_annual": -5}, "defaults.base_salary_annual", [">= 0", "-5"]),
    ({"hiring_cost": "lots"}, "defaults.hiring_cost", ["number", "'lots'"]),
    ({"cost_of_sale_rate": 1.5}, "defaults.cost_of_sale_rate", ["between 0 and 1", "1.5"]),
    ({"churn_annual": 2}, "defaults.churn_annual", ["between 0 and 1", "2"]),
    ({"gross_margin": -0.1}, "defaults.gross_margin", ["between 0 and 1", "-0.1"]),
    ({"revenue_model": "subscription"}, "defaults.revenue_model", ["one of", "'subscription'"]),
    ({"existing_customers": -3}, "defaults.existing_customers", ["non-negative", "-3"]),
])
def test_economics_validation_names_key_and_value(defaults, loc, fragments):
    problems = _problems(**defaults)
    assert loc in problems, problems
    for f in fragments:
        assert f in problems[loc], (f, problems[loc])


def test_existing_arr_needs_customers():
    problems = _problems(existing_arr=1000.0, existing_customers=0)
    assert "territories[0].existing_customers" in problems
    assert "existing_arr 1000" in problems["territories[0].existing_customers"]

"""The optimizer (salessim.plan.optimize): slots, objectives, costs, the exact evaluation of
plans on common random numbers, and the search itself on scenarios with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from helpers_model import make, territory
from plan_helpers import busy_idle, twins
from salessim.plan import PlanError, optimize, parse_objective, parse_slots
from salessim.plan.costs import hire_cost
from salessim.plan.evaluate import Evaluator, PlanLayout
from salessim.plan.optimize import Precision, _Search, even_spread
from salessim.summary import trial_values

FAST = {"trials": 400, "min_trials": 100}


@pytest.fixture(scope="module")
def baseline():
    from pathlib import Path

    return salessim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml")


# --------------------------------------------------------------------------- slots


def test_slots_read_months_quarters_and_every_territory(baseline):
    months = parse_slots(baseline, "East,West:2027-01..2027-03")
    assert [(s.territory, s.month) for s in months] == [("East", "2027-01"), ("West", "2027-01"), ("East", "2027-02"),
                                                        ("West", "2027-02"), ("East", "2027-03"), ("West", "2027-03")]
    quarters = parse_slots(baseline, "*:2027Q1..2027Q4")
    assert len(quarters) == 12 and sorted({s.month for s in quarters}) == ["2027-01", "2027-04", "2027-07", "2027-10"]
    both = parse_slots(baseline, ["East:2027-02", "East:2027-02", "Central:2027Q2"])
    assert [s.label for s in both] == ["East 2027-02", "Central 2027-04"]  # distinct, in time order


def test_fiscal_quarters_follow_the_fiscal_year_start():
    sc = make([territory("T")], horizon=24, fy_start=4)
    assert [s.month for s in parse_slots(sc, "T:2027Q1..2027Q2")] == ["2027-04", "2027-07"]


@pytest.mark.parametrize("spec, message", [
    ("East", "write TERRITORIES:WINDOW"),
    ("Eest:2027-01", "no territory named 'Eest' (have East, West, Central)"),
    ("East:2031-01", "2031-01 is outside the horizon 2027-01..2029-12"),
    ("East:2027-05..2027-02", "the window ends before it starts"),
    ("East:2027-01..2027Q3", "both ends of a window must be months, or both quarters"),
    ("East:2027-13", "is not a month (MM must be 01..12)"),
    ("East:next-year", "cannot read 'next-year' as a month (YYYY-MM) or a fiscal quarter (YYYYQn)"),
    ("East:2027-01..2027-02..2027-03", "the window must be one month or quarter, or FIRST..LAST"),
])
def test_bad_slots_name_the_option_value_and_rule(baseline, spec, message):
    with pytest.raises(PlanError, match="--slots") as exc:
        parse_slots(baseline, spec)
    assert message in str(exc.value)


# --------------------------------------------------------------------------- objectives


def test_objective_terms_signs_weights_and_territories():
    obj = parse_objective("bookings[2028] - sales_cost[FY2028] + 0.5*bookings[2029, East]")
    assert [(t.coef, t.metric, t.year, t.territory) for t in obj.terms] == [
        (1.0, "bookings", 2028, "all"), (-1.0, "sales_cost", 2028, "all"), (0.5, "bookings", 2029, "East")]
    assert str(obj) == "bookings[2028] - sales_cost[2028] + 0.5*bookings[2029,East]"
    assert obj.years == [2028, 2029]
    items = [{"metric": "bookings", "period": "FY2028", "territory": "all", "values": np.array([10.0, 20.0])},
             {"metric": "sales_cost", "period": "FY2028", "territory": "all", "values": np.array([1.0, 2.0])},
             {"metric": "bookings", "period": "FY2029", "territory": "East", "values": np.array([4.0, 8.0])}]
    assert obj.values(items).tolist() == [11.0, 22.0]


@pytest.mark.parametrize("text, message", [
    ("", "--objective: give a summary metric"),
    ("bookings[2028] sales_cost[2028]", "cannot read 'sales_cost[2028]' (at character 16)"),
    ("bookings[2028] - ", "cannot read '-'"),
    ("__import__('os')", "cannot read"),
    ("bookings[next]", "the year must be a fiscal-year label such as 2027, got 'next'"),
])
def test_unreadable_objectives_are_refused_with_the_place(text, message):
    with pytest.raises(PlanError) as exc:
        parse_objective(text)
    assert message in str(exc.value)


@pytest.mark.parametrize("text, message", [
    ("bookngs[2028]", "unknown metric 'bookngs'; summary metrics are"),
    ("p_goal[2031]", "no fiscal year 2031 in baseline (full fiscal years: 2027, 2028, 2029)"),
    ("bookings[2028,North]", "bookings has no figure for territory 'North' (have Central, East, West, all)"),
    ("p_goal[2028] + bookings[2028]", "the terms have different units (p_goal (probability), bookings (USD))"),
])
def test_objectives_are_checked_against_the_scenario(baseline, text, message):
    with pytest.raises(PlanError) as exc:
        parse_objective(text).check(baseline)
    assert f"--objective {text!r}" in str(exc.value) and message in str(exc.value)


def test_a_weight_makes_terms_of_different_units_one_score(baseline):
    assert parse_objective("1e6*p_goal[2028] + bookings[2028]").check(baseline).unit == "score"


# --------------------------------------------------------------------------- costs


def test_hire_cost_is_the_on_target_cost_until_the_window_ends():
    t = territory("T", hiring_cost=10_000.0, base_salary_annual=60_000.0, overhead_per_rep_month=1_000.0,
                  variable_annual=12_000.0, quota_annual=120_000.0, ramp=[0.5, 0.75])
    sc = make([t], horizon=24)
    slot = parse_slots(sc, "T:2027-10")[0]
    # Oct 2027 .. Dec 2028 = 15 months: base 5,000 + overhead 1,000 a month; variable 10% of
    # the monthly quota 10,000 times the ramped share (0.5, 0.75, then 1 for 13 months)
    expected = 10_000 + 15 * 6_000 + 0.1 * 10_000 * (0.5 + 0.75 + 13)
    assert hire_cost(sc, slot, 23) == pytest.approx(expected, rel=1e-12)
    assert hire_cost(sc, slot, 11) == pytest.approx(10_000 + 3 * 6_000 + 1_000 * (0.5 + 0.75 + 1), rel=1e-12)


def test_even_spread_deals_hires_in_time_order_over_every_territory(baseline):
    slots = parse_slots(baseline, "*:2027Q1..2027Q4")
    counts = even_spread(slots, 10)
    assert sum(counts) == 10 and counts == (1,) * 10 + (0, 0)
    assert even_spread(slots, 13) == (2,) + (1,) * 11


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 12), st.integers(0, 40))
def test_even_spread_is_even(n_slots, hires):
    sc = make([territory("A"), territory("B"), territory("C")], horizon=12)
    slots = parse_slots(sc, "*:2027-01..2027-04")[:n_slots]
    counts = even_spread(slots, hires)
    assert sum(counts) == hires and max(counts) - min(counts) <= 1
    assert list(counts) == sorted(counts, reverse=True)  # earlier slots first


_TERMS = st.tuples(st.sampled_from(["+", "-"]), st.sampled_from(["", "2*", "0.5*", "1e-6*"]),
                   st.sampled_from(["bookings", "p_goal", "sales_cost"]), st.integers(2027, 2029),
                   st.sampled_from(["", ",East", ", West"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(_TERMS, min_size=1, max_size=4))
def test_objectives_read_back_from_their_own_text(terms):
    text = " ".join(f"{sign} {w}{m}[{y}{t}]" for sign, w, m, y, t in terms)
    obj = parse_objective(text)
    assert len(obj.terms) == len(terms)
    assert parse_objective(str(obj)).terms == obj.terms
    for term, (sign, w, *_rest) in zip(obj.terms, terms):
        assert (term.coef < 0) == (sign == "-") and term.weighted == bool(w)


# --------------------------------------------------------------------------- evaluation


def test_batched_truncated_evaluation_equals_a_plain_run_of_each_plan(baseline):
    """The search cuts the horizon after the objective's year and labels many plans in one
    Dataset: the objective of every trial must equal a plain 36-month run of that plan."""
    slots = parse_slots(baseline, "East,Central:2027Q1..2027Q2")
    obj = parse_objective("p_goal[2028] + 1e-7*bookings[2028,East] - 1e-7*sales_cost[2028]").check(baseline)
    layout = PlanLayout(baseline, slots, through=23)
    ev = Evaluator(layout, obj, seed=5)
    plans = [(0, 0, 0, 0), (2, 0, 0, 1), (0, 1, 3, 0)]
    ev.ensure(plans, 40)
    ev.ensure(plans[1:], 70)  # extended in a second chunk
    for plan in plans:
        data = dict(baseline.data, hiring_plan=list(baseline.data["hiring_plan"]) + layout.entries(plan))
        direct = obj.values(trial_values(salessim.simulate(salessim.Scenario.from_dict(data), 70, 5)))
        np.testing.assert_array_equal(ev.values(plan, 70), direct)


# --------------------------------------------------------------------------- the search


@pytest.fixture(scope="module")
def busy_result():
    return optimize(busy_idle(), 3, "Busy,Idle:2027-01..2027-06", "bookings[2028]", seed=1, **FAST)


def test_every_hire_goes_where_leads_go_unworked(busy_result):
    r = busy_result
    assert sum(r.counts) == 3
    assert all(e["territory"] == "Busy" for e in r.added)
    assert [s.added.territory for s in r.steps] == ["Busy"] * len(r.steps)
    # an idle territory's hire only splits the same leads; a busy one works 20 more a month
    assert all(s.gain > 2 * s.se for s in r.steps)
    assert r.stop_reason == "budget spent"


def test_the_comparison_shows_the_plan_against_the_scenario_plan_and_an_even_spread(busy_result):
    own, even, best = busy_result.plans
    assert (own.name, even.name, best.name) == ("scenario plan", "even spread", "optimized")
    assert own.added_hires == 0 and even.added_hires == best.added_hires == 3
    assert {e["territory"] for e in even.hiring_plan} == {"Busy", "Idle"}
    assert math.isnan(best.diff)  # the optimized plan against itself
    assert own.diff > 2 * own.diff_se and even.diff > 2 * even.diff_se  # paired gains over both
    assert best.hiring_plan == busy_result.hiring_plan
    assert busy_result.scenario.spec.hiring_plan[-1].territory == "Busy"


def test_the_optimized_row_is_what_a_plain_run_of_the_chosen_plan_gives(busy_result):
    best = busy_result.plans[-1]
    table = salessim.summarize(salessim.simulate(busy_result.scenario, busy_result.trials, busy_result.seed))
    row = table[(table.metric == "bookings") & (table.period == "FY2028") & (table.territory == "all")].iloc[0]
    assert best.bookings[1] == row["mean"] and best.bookings_se[1] == row["se"]
    assert best.objective == row["mean"]


def test_the_search_is_deterministic_for_a_seed(busy_result):
    again = optimize(busy_idle(), 3, "Busy,Idle:2027-01..2027-06", "bookings[2028]", seed=1, **FAST)
    assert again.counts == busy_result.counts
    assert [(s.action, s.gain, s.se, s.trials) for s in again.steps] == \
           [(s.action, s.gain, s.se, s.trials) for s in busy_result.steps]
    assert again.to_dict()["plans"] == busy_result.to_dict()["plans"]


def test_with_a_cost_budget_the_cheaper_territory_wins_when_gains_are_equal():
    sc = twins()
    r = optimize(sc, None, "*:2027-01", "bookings[2028]", budget_cost=400_000, seed=2, **FAST)
    # a hire costs 24 x 5,000 = 120,000 in Cheap and 180,000 in Dear: three Cheap hires fit
    assert r.slot_costs == (120_000.0, 180_000.0)
    assert r.added == [{"month": "2027-01", "territory": "Cheap", "hires": 3}]
    assert r.stop_reason == "budget spent"
    # the gains themselves are equal: the same territory, the same demand
    mirrored = optimize(twins(cheap_hiring_cost=60_000.0, dear_hiring_cost=0.0), None, "*:2027-01", "bookings[2028]",
                        budget_cost=400_000, seed=2, **FAST)
    assert mirrored.added == [{"month": "2027-01", "territory": "Dear", "hires": 3}]


def test_no_hire_is_added_when_none_improves_the_objective():
    r = optimize(twins(), 2, "*:2027-01", "-sales_cost[2028]", seed=0, **FAST)  # every hire only costs
    assert r.counts == (0, 0) and r.steps == [] and r.stop_reason == "no further hire improves the objective"
    assert [p.added_hires for p in r.plans] == [0, 0, 0]


def test_local_moves_take_hires_from_a_bad_plan_to_where_they_pay():
    """The local pass on its own: started from two hires in Idle, it moves them to Busy,
    each move by more than 2 paired standard errors, and stops when no move helps."""
    sc = busy_idle()
    slots = parse_slots(sc, "Busy,Idle:2027-01")
    obj = parse_objective("bookings[2028]").check(sc)
    layout = PlanLayout(sc, slots, through=23)
    search = _Search(Evaluator(layout, obj, seed=4), np.ones(2), 2, None, Precision(100, 400), None)
    search.scale = 300_000.0  # about one Busy hire's gain in FY2028 (sets the resolution)
    plan = search.local((0, 2))
    assert plan == (2, 0)
    assert [s.action for s in search.steps] == ["move Idle 2027-01 -> Busy 2027-01"] * 2
    assert all(s.phase == "move" and s.gain > 2 * s.se for s in search.steps)


@pytest.mark.parametrize("kwargs, message", [
    ({"hires": None}, "give a budget: --hires N"),
    ({"hires": 0}, "--hires must be a whole number >= 1, got 0"),
    ({"budget_cost": -5.0}, "--budget-cost must be a finite amount > 0 in USD, got -5.0"),
    ({"budget_cost": 1e5}, "prices a hire at 0"),
    ({"trials": 10}, "--trials (the most trials a comparison may use) must be a whole number >= 20, got 10"),
    ({"min_trials": 900}, "--min-trials must be a whole number between 20 and --trials (400), got 900"),
    ({"tolerance": 1.5}, "--tolerance must be a fraction between 0 and 1"),
    ({"cost_window": "quarter"}, "--cost-window must be one of objective, horizon, got 'quarter'"),
    ({"slots": "Busy:2028-06"}, "--slots: Busy 2028-06 starts after FY2027, the objective's last fiscal year, ends"),
])
def test_bad_optimizer_input_names_option_value_and_rule(kwargs, message):
    args = {"hires": 2, "slots": "Busy,Idle:2027-01", "objective": "bookings[2027]", **FAST}
    args.update(kwargs)
    with pytest.raises(PlanError) as exc:
        optimize(busy_idle(), args.pop("hires"), args.pop("slots"), args.pop("objective"), **args)
    assert message in str(exc.value)


def test_a_cost_budget_below_the_cheapest_hire_is_refused():
    with pytest.raises(PlanError, match=r"--budget-cost 50,000: the cheapest slot, Cheap 2027-01, costs 120,000"):
        optimize(twins(), None, "*:2027-01", "bookings[2028]", budget_cost=50_000, **FAST)


def test_a_cost_budget_alone_needs_every_hire_to_cost_something():
    from helpers_model import scenario_dict

    from plan_helpers import FUNNEL

    paid = territory("Paid", reps=1, leads_per_month=100.0, hiring_cost=10_000.0, **FUNNEL)
    free = territory("Free", reps=1, leads_per_month=100.0, **FUNNEL)
    sc = salessim.Scenario.from_dict(scenario_dict([paid, free], horizon=12))
    with pytest.raises(PlanError, match="a hire in Free 2027-01 costs nothing .* give --hires too"):
        optimize(sc, None, "*:2027-01", "bookings[2027]", budget_cost=50_000, **FAST)
    r = optimize(sc, 2, "*:2027-01", "bookings[2027]", budget_cost=50_000, **FAST)
    assert sum(r.counts) == 2

"""Quota allocation (salessim.plan.quotas): planned quota units, the three rules, and the
claims the issue makes about them, checked against independent simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from helpers_model import Z, make, territory
from plan_helpers import uneven
from salessim.plan import PlanError, quotas
from salessim.plan.quotas import Holder, allocate, planned_units, share_se

TRIALS = 1_500


@pytest.fixture(scope="module")
def sc():
    return uneven()


@pytest.fixture(scope="module")
def equal(sc):
    return quotas(sc, "equal-chance", 1.1, trials=TRIALS, seed=3)


def _full_tenure_p(scenario, seed, trials=TRIALS):
    """P(attain) of full-tenure reps per territory in an independent run, with clustered SEs."""
    ds = salessim.simulate(scenario, trials, seed)
    att = ds["attainment"].values[:, 0, :]
    ten = ds["tenure"].values[:, 0, :]
    terr = np.asarray(ds["seat_territory"].values).astype(str)
    out = {}
    for k, t in enumerate(scenario.territories):
        cols = terr == t.name
        full = np.isfinite(att[:, cols]) & (ten[:, cols] >= 12 + len(t.ramp))
        out[t.name] = share_se(att[:, cols] >= 1.0, full)
    return out


def test_planned_units_count_ramped_and_part_year_quota():
    t = territory("T", reps=2, initial_tenure_months=[0, 24], ramp=[0.25, 0.5, 0.75])
    sc = make([t], horizon=12, hiring_plan=[{"month": "2027-10", "territory": "T", "hires": 1}])
    units = planned_units(sc, 2027)
    # a new starter ramps through January to March; the hire carries Oct..Dec at its ramp
    np.testing.assert_allclose(units, [(0.25 + 0.5 + 0.75 + 9) / 12, 1.0, (0.25 + 0.5 + 0.75) / 12], rtol=1e-12)
    flat = make([dict(t, quota_ramped=False)], horizon=12, hiring_plan=[{"month": "2027-10", "territory": "T", "hires": 1}])
    np.testing.assert_allclose(planned_units(flat, 2027), [1.0, 1.0, 3 / 12], rtol=1e-12)


@pytest.mark.parametrize("rule", ["equal-chance", "capacity", "flat"])
def test_quotas_sum_to_goal_times_over_assignment(sc, rule):
    r = quotas(sc, rule, 1.25, trials=600, seed=1)
    units = planned_units(sc, 2027)
    terr = np.array(sc.seat_territories())
    total = sum(r.changes[f"territories.{k}.quota_annual"] * units[terr == k].sum() for k in range(2))
    # quotas are whole currency units: each rounds by at most 0.5 per planned quota unit
    assert abs(total - 1.25 * 1_900_000) <= 0.5 * units.sum()
    assert r.planned_total == pytest.approx(total, rel=1e-12)
    if rule == "flat":
        assert len(set(r.changes.values())) == 1


def test_flat_quotas_leave_the_low_demand_territory_behind(sc):
    """Without allocation the two territories' reps have very different chances (the
    unfairness the equal-chance rule removes)."""
    p = _full_tenure_p(sc, seed=11)
    (ph, sh), (pl, sl) = p["High"], p["Low"]
    assert ph - pl > Z * math.hypot(sh, sl)


def test_equal_chance_equalises_p_attain_within_two_se(sc, equal):
    """In the allocation run itself, and in an independent run of the written scenario."""
    high, low = equal.territories
    assert abs(high.p_attain - low.p_attain) <= 2 * math.hypot(high.p_attain_se, low.p_attain_se)
    assert high.proposed > low.proposed
    p = _full_tenure_p(equal.scenario, seed=12)
    (ph, sh), (pl, sl) = p["High"], p["Low"]
    assert abs(ph - pl) <= 2 * math.hypot(sh, sl), (p, equal.p_equal)
    assert abs(ph - equal.p_equal) <= Z * sh and abs(pl - equal.p_equal) <= Z * sl


def test_capacity_allocation_is_proportional_to_expected_bookings(sc):
    r = quotas(sc, "capacity", 1.1, trials=TRIALS, seed=4)
    ds = salessim.simulate(sc, TRIALS, 21)  # independent estimate of expected bookings
    b = ds["bookings"].values.sum(axis=1)  # (trials, K)
    total = b.sum(axis=1)
    shares = [t.proposed_total / r.planned_total for t in r.territories]
    for k in range(2):
        # the share of the mean is a ratio of means: its SE by the delta method
        ratio = b[:, k].mean() / total.mean()
        resid = b[:, k] - ratio * total
        se_ratio = resid.std(ddof=1) / math.sqrt(len(total)) / total.mean()
        se_alloc = r.territories[k].expected_bookings_se / sum(t.expected_bookings for t in r.territories)
        assert abs(shares[k] - ratio) <= Z * math.hypot(se_ratio, se_alloc)


def test_rescaled_attainment_is_what_a_run_with_the_new_quotas_gives(sc, equal):
    """Bookings do not depend on quotas, so attainment at the proposed quota is the current
    attainment times current / proposed quota: checked against a rerun with the same seed."""
    before = salessim.simulate(sc, 200, 3)["attainment"].values
    after = salessim.simulate(equal.scenario, 200, 3)["attainment"].values
    scale = np.array([250_000.0 / equal.territories[k].proposed for k in sc.seat_territories()])
    np.testing.assert_allclose(after, before * scale[None, None, :], rtol=1e-12, equal_nan=True)


def test_ramping_reps_carry_their_ramped_share_of_the_new_quota(equal):
    hire = [s for s in equal.seats if s.planned.startswith("hire")][0]
    low = equal.territories[1]
    assert hire.territory == "Low" and hire.proposed == pytest.approx(low.proposed * hire.units, rel=1e-12)
    assert hire.units < 1.0


def test_figures_for_the_current_quotas_come_alongside(equal):
    high, low = equal.territories
    assert high.current == low.current == 250_000.0
    assert high.p_attain_current > high.p_attain and low.p_attain_current < low.p_attain
    assert high.at_quota_current >= 0 and 0 <= high.attainment[0] < high.attainment[1] < high.attainment[2]
    assert len(equal.seats) == 9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(5, 60), min_size=1, max_size=4), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_allocation_invariants(sizes, level, seed):
    """On any samples: every rule's quotas sum to the target; equal-chance quotas leave the
    same share of each holder's sample at or above quota (up to one sample of ties)."""
    rng = np.random.default_rng(seed)
    samples = [rng.lognormal(0.0, 0.4, n) * rng.uniform(0.5, 2.0) for n in sizes]
    holders = [Holder(f"h{i}", i, f"territories.{i}.quota_annual", (i,), float(rng.uniform(0.5, 3.0)), 100.0, True)
               for i in range(len(sizes))]
    lo, hi = (sum(h.current * float(f(x)) * h.units for h, x in zip(holders, samples)) for f in (np.min, np.max))
    target = lo + level * (hi - lo)  # the range equal chances can reach
    expected = [float(x.mean()) for x in samples]
    for rule in ("equal-chance", "capacity", "flat"):
        q, p = allocate(rule, holders, samples, target, expected)
        assert sum(qi * h.units for qi, h in zip(q, holders)) == pytest.approx(target, rel=1e-9)
        assert all(qi > 0 for qi in q)
        if rule == "equal-chance":
            for qi, h, x in zip(q, holders, samples):
                hit = np.mean(x * h.current / qi >= 1.0 - 1e-12)
                assert abs(hit - p) <= 1.0 / x.size + 1e-9


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "fair"}, "--rule must be one of equal-chance, capacity, flat, got 'fair'"),
    ({"over_assign": 0.0}, "--over-assign must be a factor above 0 and at most 5"),
    ({"over_assign": float("nan")}, "--over-assign must be a factor above 0 and at most 5"),
    ({"fiscal_year": 2030}, "--fiscal-year 2030: not a full fiscal year of uneven (have 2027)"),
    ({"trials": 5}, "--trials must be a whole number >= 20, got 5"),
    ({"over_assign": 4.9}, "cannot give every full-tenure rep the same chance"),
])
def test_bad_quota_input_names_option_value_and_rule(sc, kwargs, message):
    args = {"rule": "equal-chance", "over_assign": 1.1, "fiscal_year": None, "trials": 100, **kwargs}
    with pytest.raises(PlanError) as exc:
        quotas(sc, args.pop("rule"), args.pop("over_assign"), args.pop("fiscal_year"), **args)
    assert message in str(exc.value)


def test_equal_chance_needs_full_tenure_reps():
    t = territory("New", reps=3, initial_tenure_months=0, ramp=[0.2] * 13)
    with pytest.raises(PlanError, match="New has no full-tenure rep-years .* use --rule capacity"):
        quotas(make([t], horizon=12), "equal-chance", trials=50)
    assert quotas(make([t], horizon=12), "capacity", trials=50).planned_total == pytest.approx(1.1e6, abs=2)


def test_a_zero_goal_has_nothing_to_allocate():
    d = make([territory("T")], horizon=12).data
    d["goal"] = {"annual": [0.0]}
    with pytest.raises(PlanError, match="the goal of FY2027 is 0"):
        quotas(salessim.Scenario.from_dict(d), "flat", trials=50)

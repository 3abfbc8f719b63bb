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
from salessim.plan.holders import RepYears, year_seats
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


def expected_shares(scenario, ds, groups: dict[str, list[int]]) -> dict[str, tuple[float, float]]:
    """Each group of seats' share of the planned reps' expected bookings in FY2027, with its SE.

    A seat's expected bookings are its planned rep's, in the futures where they hold the seat
    at the year's end (occupant 0), B = attainment x the year's quota; the share of a group
    is a ratio of sums of such conditional means: its SE by the delta method, per trial.
    """
    year = year_seats(scenario, 2027)
    ry = RepYears.from_dataset(ds, scenario, year)
    seats = np.nonzero(year.units > 0)[0]
    b, m = ry.bookings[:, seats], ry.planned[:, seats]
    count = m.sum(axis=0)
    means = np.where(m, b, 0.0).sum(axis=0) / count
    psi = np.where(m, b - means, 0.0) / count * m.shape[0]  # influence of each trial on each seat's mean
    total, psi_total = means.sum(), psi.sum(axis=1)
    out = {}
    for name, members in groups.items():
        cols = [list(seats).index(s) for s in members]
        share = means[cols].sum() / total
        z = (psi[:, cols].sum(axis=1) - share * psi_total) / total
        out[name] = (float(share), float(z.std(ddof=1) / math.sqrt(z.size)))
    return out


def test_capacity_allocation_is_proportional_to_expected_bookings(sc):
    """Each territory's planned quota share is its reps' share of expected bookings: the
    allocation's own estimator on its run, exactly, and an independent run within MC error."""
    r = quotas(sc, "capacity", 1.1, trials=TRIALS, seed=4)
    terr = np.array(sc.seat_territories())
    groups = {t.name: list(np.nonzero(terr == k)[0]) for k, t in enumerate(sc.territories)}
    own = expected_shares(sc, salessim.simulate(sc, TRIALS, 4), groups)
    other = expected_shares(sc, salessim.simulate(sc, TRIALS, 21), groups)
    units = planned_units(sc, 2027)
    for k, t in enumerate(r.territories):
        share = t.proposed_total / r.target
        # quotas are whole currency units: each rounds by at most 0.5 per planned quota unit
        assert share == pytest.approx(own[t.territory][0], abs=0.5 * units.sum() / r.target)
        assert abs(share - other[t.territory][0]) <= Z * math.hypot(own[t.territory][1], other[t.territory][1])


def test_rescaled_attainment_is_what_a_run_with_the_new_quotas_gives(sc, equal):
    """Bookings do not depend on quotas, so attainment at the proposed quota is the current
    attainment times current / proposed quota: checked against a rerun with the same seed."""
    before = salessim.simulate(sc, 200, 3)["attainment"].values
    after = salessim.simulate(equal.scenario, 200, 3)["attainment"].values
    scale = np.array([250_000.0 / equal.territories[k].proposed for k in sc.seat_territories()])
    assert not np.allclose(scale, 1.0)
    np.testing.assert_allclose(after, before * scale[None, None, :], rtol=1e-12, equal_nan=True)


def test_ramping_reps_carry_their_ramped_share_of_the_new_quota(equal):
    hire = [s for s in equal.seats if s.planned.startswith("hire")][0]
    low = equal.territories[1]
    assert hire.territory == "Low" and hire.proposed == low.proposed and hire.key == "territories.1.quota_annual"
    assert hire.proposed_year == pytest.approx(low.proposed * hire.units, rel=1e-12)
    assert 0 < hire.units < 1.0 and not hire.equalised


def test_figures_for_the_current_quotas_come_alongside(equal):
    high, low = equal.territories
    assert high.current == low.current == 250_000.0
    assert high.p_attain_current > high.p_attain and low.p_attain_current < low.p_attain
    assert high.at_quota_current >= 0 and 0 <= high.attainment[0] < high.attainment[1] < high.attainment[2]
    assert len(equal.seats) == 9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(5, 60), min_size=1, max_size=4), st.floats(0.0, 1.0), st.booleans(), st.integers(0, 2**31))
def test_allocation_invariants(sizes, level, with_fixed, seed):
    """On any samples: every rule's planned quotas (fixed + quota x units) sum to the target;
    equal-chance quotas leave the same share of each holder's reach at or above quota (up to
    one sample of ties); capacity makes each holder's planned quota proportional to its weight."""
    rng = np.random.default_rng(seed)
    samples = [rng.lognormal(12.0, 0.4, n) * rng.uniform(0.5, 2.0) for n in sizes]
    holders = [Holder(f"h{i}", i, f"territories.{i}.quota_annual", (i,), float(rng.uniform(0.5, 3.0)),
                      float(rng.uniform(0.0, 0.2) * samples[i].min()) if with_fixed else 0.0, 100.0, True, i > 0)
               for i in range(len(sizes))]
    fixed = sum(h.fixed for h in holders)
    lo, hi = (fixed + sum(float(f(x)) * h.units for h, x in zip(holders, samples)) for f in (np.min, np.max))
    target = lo + level * (hi - lo)  # the range equal chances can reach
    weights = [float(x.mean()) * (h.units + 0.5) for h, x in zip(holders, samples)]
    for rule in ("equal-chance", "capacity", "flat"):
        if rule == "capacity" and any(target * w / sum(weights) <= h.fixed for w, h in zip(weights, holders)):
            with pytest.raises(PlanError, match="is not above the quota carried before start"):
                allocate(rule, holders, samples, target, weights)
            continue
        q, p = allocate(rule, holders, samples, target, weights)
        assert sum(h.fixed + qi * h.units for qi, h in zip(q, holders)) == pytest.approx(target, rel=1e-9)
        if rule == "equal-chance":
            for qi, x in zip(q, samples):
                hit = np.mean(x >= qi * (1 - 1e-12))
                assert abs(hit - p) <= 1.0 / x.size + 1e-9
        if rule == "capacity":
            planned = [h.fixed + qi * h.units for qi, h in zip(q, holders)]
            np.testing.assert_allclose(np.array(planned) / target, np.array(weights) / sum(weights), rtol=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "fair"}, "--rule must be one of equal-chance, capacity, flat, got 'fair'"),
    ({"over_assign": 0.0}, "--over-assign must be a factor above 0 and at most 5"),
    ({"over_assign": float("nan")}, "--over-assign must be a factor above 0 and at most 5"),
    ({"fiscal_year": 2030}, "--fiscal-year 2030: not a full fiscal year of uneven (have 2027)"),
    ({"trials": 5}, "--trials must be a whole number >= 20, got 5"),
    ({"over_assign": 4.9}, "cannot give every full-tenure rep the same chance"),
    ({"over_assign": 0.01}, "cannot give every full-tenure rep the same chance: it is less than"),
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

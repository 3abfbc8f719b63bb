"""The quarter-end pull (``quarter_end_pull``): a deal due in a fiscal quarter's first or
second month books in its last month with probability q.

Analytics at 4 SE on scenarios whose deals are due evenly across a quarter's months, plus
the exact rules: no pull changes nothing, the pull only moves booking months (the same
wins on the same random numbers), open deals are pulled too, fiscal quarters follow the
fiscal year, and bad values get a located message.
"""

from __future__ import annotations

import numpy as np
import pytest

import salessim
from helpers_model import Z, scenario_dict, territory
from salessim import Scenario, ScenarioError

TRIALS = 4_000


def steady(q: float | None, fy_start: int = 1, **kw) -> Scenario:
    """Five reps who never leave, deals due 0, 1 or 2 months after the win with equal chance."""
    extra = {} if q is None else {"quarter_end_pull": q}
    terr = territory("T", reps=5, leads_per_month=40.0, sales_cycle_months=[1 / 3, 1 / 3, 1 / 3], **extra, **kw)
    return Scenario.from_dict(scenario_dict([terr], horizon=24, fy_start=fy_start))


@pytest.mark.parametrize("q", [0.0, 0.3, 0.75])
def test_the_quarters_last_month_holds_one_plus_two_q_thirds(q):
    ds = salessim.simulate(steady(q), TRIALS, seed=11)
    deals = ds["new_customers"].sum("territory").values  # (trials, 24)
    # months 3..23: whole quarters in which every month's due deals are in steady state
    # (cycles are at most 2 months, so deals due from month 2 on come from every lag)
    window = deals[:, 3:24]
    last = window[:, 2::3].sum(axis=1).astype(float)  # Mar-like months: 5, 8, ... (index 2 of each quarter)
    total = window.sum(axis=1).astype(float)
    share = last.sum() / total.sum()
    z = last - share * total  # linearised ratio estimator
    se = z.std(ddof=1) / np.sqrt(TRIALS) / total.mean()
    truth = (1 + 2 * q) / 3
    assert abs(share - truth) <= Z * se, (share, truth, se)


def test_fiscal_quarters_follow_the_fiscal_year_start():
    # fiscal years from February: quarters Feb-Apr, May-Jul, ...: Apr, Jul, Oct, Jan are their last months
    ds = salessim.simulate(steady(1.0, fy_start=2), 500, seed=2)
    deals = ds["new_customers"].sum("territory").values
    months = (ds["month"].values.astype("datetime64[M]").astype(int) % 12) + 1
    booked_months = set(months[np.nonzero(deals[:, 2:].sum(axis=0))[0] + 2].tolist())
    assert booked_months <= {1, 4, 7, 10}, booked_months  # with q = 1 every deal books at a quarter's end


def test_the_pull_moves_booking_months_only():
    plain = salessim.simulate(steady(None), 300, seed=5)
    none = salessim.simulate(steady(0.0), 300, seed=5)
    pulled = salessim.simulate(steady(0.6), 300, seed=5)
    for name in plain.data_vars:  # a pull of 0 is the scenario without the key, bit for bit
        np.testing.assert_array_equal(plain[name].values, none[name].values, err_msg=name)
    for name in ("leads", "opportunities", "wins", "headcount"):  # common random numbers: the same deals
        np.testing.assert_array_equal(plain[name].values, pulled[name].values, err_msg=name)
    # the horizon ends at a quarter's end, so no deal is pulled beyond it: every deal still books
    np.testing.assert_array_equal(plain["new_customers"].sum("month").values, pulled["new_customers"].sum("month").values)
    np.testing.assert_allclose(plain["bookings"].sum("month").values, pulled["bookings"].sum("month").values, rtol=1e-12)
    assert not np.array_equal(plain["bookings"].values, pulled["bookings"].values)


def test_open_deals_are_pulled_too():
    quiet = territory("T", reps=1, leads_per_month=0.0, sales_cycle_months=[1.0], quarter_end_pull=0.4)
    data = scenario_dict([quiet], horizon=12) | {"pipeline": [{"id": "x", "territory": "T", "owner": "T#1",
                                                               "age_months": 0, "amount": 1.0, "win_probability": 1.0}]}
    ds = salessim.simulate(Scenario.from_dict(data), TRIALS, seed=9)
    booked = ds["bookings_from_pipeline"].sum("territory").values  # due in January (month 0) or pulled to March
    assert set(np.nonzero(booked.sum(axis=0))[0].tolist()) <= {0, 2}
    moved = booked[:, 2]
    se = np.sqrt(0.4 * 0.6 / TRIALS)
    assert abs(moved.mean() - 0.4) <= Z * se


def test_a_pull_beyond_the_horizon_goes_to_pipeline_end():
    # the horizon ends in the quarter's second month: deals due in its first two months pulled past the end
    terr = territory("T", reps=2, leads_per_month=20.0, sales_cycle_months=[1.0], quarter_end_pull=1.0)
    ds = salessim.simulate(Scenario.from_dict(scenario_dict([terr], horizon=14)), 200, seed=1)
    assert float(ds["bookings"].isel(month=[12, 13]).sum()) == 0.0  # January and February of year 2: all pulled
    assert float(ds["pipeline_end"].sum()) > 0.0


def test_bad_pull_values_name_the_key():
    for value, rule in ((1.5, "must be between 0 and 1, got 1.5"), (-0.1, "must be between 0 and 1, got -0.1")):
        with pytest.raises(ScenarioError) as info:
            steady(value)
        assert ("territories[0].quarter_end_pull", rule) in info.value.problems


def test_the_pull_may_be_uncertain():
    data = scenario_dict([territory("T", reps=2, quarter_end_pull=0.3)], horizon=12)
    data["uncertainty"] = {"parameters": {"territories.T.quarter_end_pull": {"beta": [30, 70]}}}
    ds = salessim.simulate(Scenario.from_dict(data), 200, seed=4)
    drawn = ds["parameter_value"].sel(parameter="territories.T.quarter_end_pull").values
    assert drawn.std() > 0 and 0 < drawn.min() and drawn.max() < 1

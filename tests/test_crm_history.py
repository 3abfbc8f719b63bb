"""``salessim.crm.history``: a simulated trial as a CRM export, and what calibration and the
backtest do where the model is true.

- The export holds what the trial did: won amounts by close month are the trial's
  bookings, opportunities by created month its opportunities, the roster its occupants.
- Parameter recovery: each fitted number's stated 90% interval holds the truth in about
  90% of histories (ramp entries the fit keeps past the true ramp are reported as
  ``ramp_beyond`` and not checked: see the report in the test output). The count of histories covered is Binomial(S, 0.9) when the intervals
  are right; a parameter fails when its count is in either 0.1% tail (slow suite, 50
  histories, every parameter; the default run pools the parameters of 4 histories).
- Backtest where the model is true: the share of actuals inside the P10-P90 band is 80%
  within its error (cluster-robust over histories, 4 SE; slow suite, 40 histories).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salessim
from crm_truth import (AS_OF, HISTORY_MONTHS, binomial_tails, read_back, recovery, simulated_history,
                       truth_scenario)
from salessim.crm import calibrate, history
from salessim.crm.history import export_date, history_of_trace
from salessim.engine import trace_trial

ALPHA = 0.001


@pytest.fixture(scope="module")
def one():
    return simulated_history(seed=3)


def test_the_export_holds_what_the_trial_did(one):
    tr, opps, reps = one.trace, one.opportunities, one.reps
    ds = tr.dataset.isel(trial=0)
    months = pd.DatetimeIndex(ds["month"].values).strftime("%Y-%m")
    won = opps[opps["won"]]
    booked = won.groupby([won["closed"].dt.strftime("%Y-%m"), "territory"])["amount"].sum().unstack(fill_value=0.0)
    expected = ds["bookings"].to_pandas()
    expected.index = months
    # amounts are written to the cent: at most half a cent off per deal
    count = won.groupby([won["closed"].dt.strftime("%Y-%m"), "territory"]).size().unstack(fill_value=0)
    diff = (booked.reindex(index=months, columns=expected.columns, fill_value=0.0) - expected).abs()
    assert (diff <= 0.005 * count.reindex(index=months, columns=expected.columns, fill_value=0) + 1e-6).all().all()
    created = opps.groupby([opps["created"].dt.strftime("%Y-%m"), "territory"]).size().unstack(fill_value=0)
    opportunities = ds["opportunities"].to_pandas()
    opportunities.index = months
    pd.testing.assert_frame_equal(created.reindex(index=months, columns=opportunities.columns, fill_value=0),
                                  opportunities.astype(created.dtypes.iloc[0]), check_names=False)
    assert int(ds["wins"].sum()) == len(tr.deals)  # every win is a row (won, or open when due after the horizon)
    assert len(opps) == int(ds["opportunities"].sum()) and opps["id"].is_unique
    assert (opps["closed"] >= opps["created"]).all()
    end = export_date(tr.scenario)
    assert (opps.loc[opps["is_closed"], "closed"] <= end).all() and (opps.loc[~opps["is_closed"], "closed"] > end).all()
    assert set(opps["stage"][opps["is_closed"]]) == {"Closed Won", "Closed Lost"}
    # the roster: one row per occupant; in seat at a month end exactly the headcount that stays
    assert len(reps) == len(tr.occupants) and reps["name"].is_unique
    for t, month_end in ((0, "2022-01-31"), (20, "2023-09-30"), (35, "2024-12-31")):
        d = pd.Timestamp(month_end)
        in_seat = reps[(reps["hired"] <= d) & (reps["left"].isna() | (reps["left"] > d))]
        stays = ds["headcount"].isel(month=t) - ds["departures"].isel(month=t)
        assert in_seat.groupby("territory").size().reindex(ds["territory"].values).tolist() == stays.values.tolist()


def test_history_of_a_results_dataset_is_its_trial(one, tmp_path):
    sc = truth_scenario()
    ds = salessim.simulate(sc, 5, seed=3)
    opps, reps = history(ds, 0)
    pd.testing.assert_frame_equal(opps, one.opportunities)
    pd.testing.assert_frame_equal(reps, one.reps)
    other, _ = history(ds, 4)
    assert not other["amount"].equals(opps["amount"])
    with pytest.raises(ValueError, match=r"trial 9 is not in the results \(trials 0..4\)"):
        history(ds, 9)


def test_calibrate_reads_the_history_back(one, tmp_path):
    data, paths = read_back(one, tmp_path, "export")
    assert data.problems.empty, data.problem_summary()
    assert len(data.opportunities) == len(one.opportunities) and len(data.reps) == len(one.reps)
    cal = calibrate(*paths, as_of=AS_OF, draws=20)
    sc = salessim.Scenario.from_dict(cal.scenario)
    names = {r.name for t in sc.territories for r in t.roster}
    in_seat = one.reps[one.reps["left"].isna()]
    assert names == set(in_seat["name"])


def test_open_deals_of_the_start_are_in_the_history():
    data = truth_scenario(12).data | {"pipeline": [
        {"id": f"P{i}", "territory": "East", "owner": "East#1" if i % 2 else None, "age_months": i % 4,
         "amount": 1000.0 + i, "win_probability": 0.5} for i in range(40)]}
    tr = trace_trial(salessim.Scenario.from_dict(data), 5, 0)
    opps, _ = history_of_trace(tr)
    start = opps[opps["amount"].isin([1000.0 + i for i in range(40)])]  # created age_months before start
    assert len(start) == 40 and sorted(start["amount"]) == [1000.0 + i for i in range(40)]
    won_ids = {data["pipeline"][i]["id"] for i in tr.deals["pipeline"][tr.deals["pipeline"] >= 0]}
    assert 5 < len(won_ids) < 35
    by_amount = start.set_index("amount")
    for i, deal in enumerate(data["pipeline"]):
        row = by_amount.loc[deal["amount"]]
        age = (2022 * 12) - (row["created"].year * 12 + row["created"].month - 1)
        assert age == deal["age_months"]
        assert row["owner"] == ("East rep 1" if deal["owner"] else None)
    booked = start[start["won"]]
    assert booked["amount"].sum() == pytest.approx(float(tr.dataset["bookings_from_pipeline"].sum()), abs=0.01 * 40)


# --------------------------------------------------------------------------- recovery

def _check_recovery(frame: pd.DataFrame, per_parameter: bool) -> None:
    if per_parameter:
        for name, covered in frame.groupby("parameter")["covered"]:
            low, high = binomial_tails(int(covered.sum()), len(covered), 0.9)
            assert low >= ALPHA and high >= ALPHA, (name, int(covered.sum()), len(covered))
    x, n = int(frame["covered"].sum()), len(frame)
    low, high = binomial_tails(x, n, 0.9)
    assert low >= ALPHA and high >= ALPHA, (x, n, frame.groupby("group")["covered"].mean().to_dict())


def test_parameters_recovered_inside_their_intervals(tmp_path):
    """Four histories, every fitted number pooled: the count covered is Binomial(n, 0.9)."""
    frame = pd.concat([recovery(seed, tmp_path, draws=200) for seed in (0, 1, 2, 3)])
    assert set(frame["group"]) >= {"growth", "seasonality", "skill_sigma", "attrition", "ramp", "leads", "win_rate",
                                   "quarter_end_pull", "cycle", "deal_size"}
    _check_recovery(frame[frame["group"] != "ramp_beyond"], per_parameter=False)


@pytest.mark.slow
def test_parameters_recovered_in_about_90_percent_of_50_histories(tmp_path):
    frame = pd.concat([recovery(seed, tmp_path, draws=200).assign(seed=seed) for seed in range(50)])
    print(frame.groupby("group")["covered"].agg(["mean", "size"]))
    _check_recovery(frame[frame["group"] != "ramp_beyond"], per_parameter=True)


# --------------------------------------------------------------------------- backtest where the model is true

def _model_true_backtest(seed: int, tmp_path, trials: int = 1000):
    h = simulated_history(seed, months=HISTORY_MONTHS + 6)
    data, _ = read_back(h, tmp_path, f"bt-{seed}")
    bt = salessim.backtest(None, as_of=AS_OF, months=6, trials=trials, draws=200, seed=seed, data=data)
    rows = bt.windows[0].rows
    # the actuals are the trial's bookings after the as-of date
    sim = h.trace.dataset["bookings"].isel(trial=0, month=slice(HISTORY_MONTHS, HISTORY_MONTHS + 6)).values
    terr = rows[rows["territory"] != "all"]
    np.testing.assert_allclose(terr["actual"].to_numpy(), sim.T.ravel(), atol=0.005 * 200)
    return terr


def _coverage(frames: list[pd.DataFrame]) -> tuple[float, float, float]:
    inside = [((f["actual"] >= f["p10"]) & (f["actual"] <= f["p90"])).to_numpy() for f in frames]
    per = np.array([x.mean() for x in inside])
    pooled = float(np.concatenate(inside).mean())
    n = sum(len(x) for x in inside)
    cluster_se = float(per.std(ddof=1) / np.sqrt(len(per))) if len(per) > 1 else np.nan
    return pooled, float(np.sqrt(0.8 * 0.2 / n)), cluster_se


def test_backtest_where_the_model_is_true(tmp_path):
    frames = [_model_true_backtest(seed, tmp_path, trials=600) for seed in (0, 1, 2)]
    inside = sum(int(((f["actual"] >= f["p10"]) & (f["actual"] <= f["p90"])).sum()) for f in frames)
    n = sum(len(f) for f in frames)
    low, high = binomial_tails(inside, n, 0.8)
    assert low >= ALPHA and high >= ALPHA, (inside, n)


@pytest.mark.slow
def test_backtest_coverage_is_80_percent_where_the_model_is_true(tmp_path):
    frames = [_model_true_backtest(seed, tmp_path) for seed in range(40)]
    pooled, binomial_se, cluster_se = _coverage(frames)
    print(f"80% interval coverage {pooled:.3f} over {sum(len(f) for f in frames)} territory-months of 40 histories; "
          f"binomial SE {binomial_se:.3f}, cluster-robust SE {cluster_se:.3f}")
    assert abs(pooled - 0.8) <= 4 * max(cluster_se, binomial_se)

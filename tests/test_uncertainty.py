"""Uncertain parameters, two-level Monte Carlo (SPEC section 9).

Analytic checks at 4 SE (law of total variance on a beta win rate, dirichlet means, the
variance split), determinism (threads, chunks, trial counts), common random numbers
between plans sharing the block, and degenerate distributions reproducing plain runs bit
for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import salessim
from helpers_model import assert_mean, assert_variance, scenario_dict, strip_attrs, territory
from salessim import Scenario, ScenarioError
from salessim.mcstats import grouped_se

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def with_block(data: dict, parameters: dict, trials_per_draw: int = 1) -> Scenario:
    return Scenario.from_dict(data | {"uncertainty": {"trials_per_draw": trials_per_draw, "parameters": parameters}})


def counting_scenario(horizon: int = 12) -> dict:
    """Wins are Binomial(12 x 10, win_rate) given the win rate: one rep whose capacity always
    binds (10 worked leads a month, every one an opportunity), no skill, no downturn, no attrition."""
    t = territory("T", reps=1, leads_per_month=1e6, lead_to_opportunity=1.0, capacity_leads_per_month=10.0,
                  win_rate=0.5)
    return scenario_dict([t], horizon=horizon)


def test_law_of_total_variance_on_a_beta_win_rate():
    a, b = 30.0, 20.0
    sc = with_block(counting_scenario(), {"territories.T.win_rate": {"beta": [a, b]}})
    ds = salessim.simulate(sc, trials=6000, seed=11)
    wins = ds["wins"].sum(["month", "territory"]).values
    assert np.all(ds["opportunities"].sum(["month", "territory"]).values == 120)  # no other randomness
    n, mean = 120, a / (a + b)
    var_p = a * b / ((a + b) ** 2 * (a + b + 1))
    assert_mean(wins, n * mean, "E[wins]")
    assert_variance(wins, n * mean * (1 - mean) + n * (n - 1) * var_p, "Var(wins) = n p(1-p) + n(n-1) Var(p)")
    # the stored draws are the beta's
    p = ds["parameter_value"].sel(parameter="territories.T.win_rate").values
    assert_mean(p, mean, "E[drawn win rate]")
    assert_variance(p, var_p, "Var(drawn win rate)")
    # and they are the values the trials ran with: wins - 120 p has mean 0
    assert_mean(wins - n * p, 0.0, "E[wins - 120 p | p]")


def test_variance_split_recovers_parameter_and_future_variance():
    a, b = 30.0, 20.0
    sc = with_block(counting_scenario(), {"territories.T.win_rate": {"beta": [a, b]}}, trials_per_draw=20)
    ds = salessim.simulate(sc, trials=8000, seed=5)
    from salessim.mcstats import variance_split

    wins = ds["wins"].sum(["month", "territory"]).values
    split = variance_split(wins, ds["parameter_draw"].values)
    n, mean = 120, a / (a + b)
    var_p = a * b / ((a + b) ** 2 * (a + b + 1))
    between, within = n * n * var_p, n * (mean * (1 - mean) - var_p)  # Var(E[W|p]), E[Var(W|p)]
    for name, truth in (("parameter", between), ("future", within)):
        z = (split[name] - truth) / split[f"{name}_se"]
        assert abs(z) <= 4, (name, split[name], truth, split[f"{name}_se"])
    assert split["groups"] == 400 and split["trials"] == 8000


def test_summary_splits_the_variance_and_uses_grouped_standard_errors():
    sc = salessim.load_scenario(ROOT / "scenarios" / "midyear.yaml")
    ds = salessim.simulate(sc, trials=400, seed=1)
    table = salessim.summarize(ds)
    unc = table[table.section == "uncertainty"]
    assert {f"{m}_{s}" for m in ("bookings", "p_goal") for s in ("sd_total", "sd_parameter", "sd_future",
                                                                 "parameter_share")} == set(unc.metric)
    row = table[(table.metric == "bookings") & (table.period == "FY2027") & (table.territory == "all")].iloc[0]
    totals = ds["bookings"].sel(month=ds["fiscal_year_of_month"] == 2027).sum(["month", "territory"]).values
    totals = totals + float(ds["actual_bookings"].sel(fiscal_year=2027).sum())
    assert row["se"] == pytest.approx(grouped_se(totals, ds["parameter_draw"].values), rel=1e-12)
    assert row["se"] > totals.std(ddof=1) / np.sqrt(totals.size)  # 20 trials per draw: clustered, wider
    share = unc[(unc.metric == "bookings_parameter_share") & (unc.period == "FY2027")].iloc[0]
    assert 0 < share["mean"] < 1 and share["se"] > 0
    params = table[table.section == "parameters"]
    assert "territories.East.win_rate" in set(params.metric)


def test_dirichlet_draws_have_the_dirichlet_means():
    alpha = [2.0, 6.0, 8.0, 3.0, 1.0]
    t = territory("T", sales_cycle_months=[0.2] * 5)
    sc = with_block(scenario_dict([t]), {"territories.T.sales_cycle_months": {"dirichlet": alpha}})
    ds = salessim.simulate(sc, trials=4000, seed=2)
    draws = ds["parameter_value"].values
    assert list(ds["parameter"].values) == [f"territories.T.sales_cycle_months.{i}" for i in range(5)]
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    total = sum(alpha)
    for i, a in enumerate(alpha):
        mean = a / total
        assert_mean(draws[:, i], mean, f"E[p_{i}]")
        assert_variance(draws[:, i], mean * (1 - mean) / (total + 1), f"Var(p_{i})")


@pytest.mark.parametrize("dist, lo, hi, mean", [
    ({"normal": {"mean": 0.3, "sd": 0.1}, "min": 0.25, "max": 0.5}, 0.25, 0.5, None),
    ({"lognormal": {"mean": 0.3, "cv": 0.4}, "max": 0.35}, 0.0, 0.35, None),
    ({"gamma": {"mean": 0.3, "sd": 0.05}, "min": 0.28, "max": 1.0}, 0.28, 1.0, None),
    ({"beta": [3, 7], "max": 0.4}, 0.0, 0.4, None),
    ({"uniform": [0.1, 0.4]}, 0.1, 0.4, 0.25),
    ({"triangular": [0.1, 0.2, 0.6]}, 0.1, 0.6, 0.3),
])
def test_every_family_draws_inside_its_bounds(dist, lo, hi, mean):
    sc = with_block(scenario_dict([territory("T")]), {"territories.T.win_rate": dist})
    p = salessim.simulate(sc, trials=3000, seed=4)["parameter_value"].values[:, 0]
    assert p.min() >= lo and p.max() <= hi and np.unique(p).size > 2900
    if mean is not None:
        assert_mean(p, mean, "E[drawn value]")


def test_truncated_normal_matches_scipy():
    from scipy import stats

    sc = with_block(scenario_dict([territory("T")], market={"annual_growth": 0.0}),
                    {"market.annual_growth": {"normal": {"mean": 0.1, "sd": 0.05}, "min": 0.12, "max": 0.3}})
    g = salessim.simulate(sc, trials=4000, seed=8)["parameter_value"].values[:, 0]
    law = stats.truncnorm((0.12 - 0.1) / 0.05, (0.3 - 0.1) / 0.05, loc=0.1, scale=0.05)
    assert_mean(g, law.mean(), "E[truncated normal]")
    assert_variance(g, law.var(), "Var(truncated normal)")


def test_samples_are_indexed_jointly_and_stored():
    t = territory("T")
    sc = with_block(scenario_dict([t]), {
        "territories.T.win_rate": {"samples": [0.1, 0.2, 0.3, 0.4]},
        "territories.T.lead_to_opportunity": {"samples": [0.5, 0.6, 0.7, 0.8]},
        "territories.T.sales_cycle_months": {"samples": [[1.0], [0.5, 0.5], [0.0, 1.0], [0.25, 0.75]]},
    })
    ds = salessim.simulate(sc, trials=500, seed=3)
    v = ds["parameter_value"].to_pandas()
    j = ds["parameter_sample"].values
    np.testing.assert_allclose(v["territories.T.win_rate"], np.array([0.1, 0.2, 0.3, 0.4])[j])
    np.testing.assert_allclose(v["territories.T.lead_to_opportunity"], np.array([0.5, 0.6, 0.7, 0.8])[j])
    # a pmf sample shorter than the longest is padded with zeros (one month more, probability 0)
    np.testing.assert_allclose(v["territories.T.sales_cycle_months.1"], np.array([0.0, 0.5, 1.0, 0.75])[j])
    for k in range(4):
        assert_mean(j == k, 0.25, f"P(j = {k})")


def test_defaults_paths_set_inheriting_territories_and_territory_paths_win():
    data = scenario_dict([territory("A"), territory("B"), territory("C", attrition_annual=0.1)])
    for t in data["territories"]:
        if t["name"] != "C":
            del t["attrition_annual"]
    data["defaults"] = {"attrition_annual": 0.2}
    sc = with_block(data, {"defaults.attrition_annual": {"uniform": [0.3, 0.5]},
                           "territories.B.attrition_annual": {"uniform": [0.9, 0.95]}})
    from salessim.inputs import build_inputs

    inputs = build_inputs(sc)
    chunk = inputs.uncertainty.chunk(inputs, 0, 0, 50)
    from salessim.inputs import monthly_hazard  # noqa: F401  (the hazards below come from these rates)

    annual = inputs.uncertainty.apply(inputs.raw, inputs.uncertainty.draws(0, 0, 50)[0]).band_annual[:, :, 0]
    assert np.all((annual[:, 0] >= 0.3) & (annual[:, 0] <= 0.5))  # A inherits the defaults draw
    assert np.all(annual[:, 1] >= 0.9)  # B's own path wins
    assert np.all(annual[:, 2] == 0.1)  # C sets its own attrition
    assert chunk.territories.band_hazard.shape[0] == 50


def _run_in_subprocess(path: Path, trials: int, seed: int, out: Path, threads: int) -> xr.Dataset:
    code = textwrap.dedent("""
        import sys, numba, salessim
        assert numba.get_num_threads() == int(sys.argv[5])
        ds = salessim.simulate(salessim.load_scenario(sys.argv[1]), trials=int(sys.argv[2]), seed=int(sys.argv[3]))
        salessim.save_results(ds, sys.argv[4])
    """)
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(trials), str(seed), str(out), str(threads)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return salessim.open_results(out)


def test_uncertain_runs_are_identical_across_threads_chunks_and_trial_counts(tmp_path):
    midyear = ROOT / "scenarios" / "midyear.yaml"
    one = _run_in_subprocess(midyear, 120, 7, tmp_path / "t1.h5", 1)
    two = _run_in_subprocess(midyear, 120, 7, tmp_path / "t2.h5", 2)
    xr.testing.assert_identical(strip_attrs(one), strip_attrs(two))
    sc = salessim.load_scenario(midyear)
    chunked = [salessim.simulate(sc, 120, 7, chunk_trials=c) for c in (1, 13, 47)]
    for ds in chunked:
        xr.testing.assert_identical(strip_attrs(ds), strip_attrs(chunked[0]))
    xr.testing.assert_identical(strip_attrs(chunked[0]), strip_attrs(salessim.open_results(tmp_path / "t1.h5")))
    longer = salessim.simulate(sc, 300, 7)
    xr.testing.assert_identical(strip_attrs(longer.isel(trial=slice(0, 120))), strip_attrs(chunked[0]))
    alone = salessim.simulate(sc, 1, 7, first_trial=57)  # trial 57 (draw 2, trials_per_draw 20) alone
    xr.testing.assert_identical(strip_attrs(alone.isel(trial=0)), strip_attrs(longer.isel(trial=57)))


def test_two_plans_sharing_the_block_share_their_draws_common_random_numbers():
    from helpers_model import yearly

    sc = salessim.load_scenario(ROOT / "scenarios" / "midyear.yaml").with_overrides({"uncertainty.trials_per_draw": 1})
    more = sc.with_overrides({"hiring_plan": sc.data["hiring_plan"] + [{"month": "2027-04", "territory": "East", "hires": 2}]})
    total = lambda ds: yearly(ds, "bookings").sum("territory").values  # noqa: E731
    a, b = salessim.simulate(sc, 1000, 3), salessim.simulate(more, 1000, 3)
    np.testing.assert_array_equal(a["parameter_value"].values, b["parameter_value"].values)
    paired = total(b) - total(a)
    independent = total(salessim.simulate(more, 1000, 4)) - total(a)
    ratio = independent.var(axis=0, ddof=1) / paired.var(axis=0, ddof=1)
    assert np.all(ratio >= 4.0), ratio


POINT_MASSES = [
    ("territories.East.win_rate", {"normal": {"mean": 0.44, "sd": 0.0}}),
    ("territories.West.leads_per_month", {"gamma": {"mean": 256, "sd": 0}}),
    ("territories.Central.deal_size.mean", {"lognormal": {"mean": 10_000, "cv": 0.0}}),
    ("defaults.attrition_annual", {"uniform": [0.3, 0.3]}),
    ("territories.Central.attrition_by_tenure.1.annual", {"triangular": [0.25, 0.25, 0.25]}),
    ("territories.East.capacity_leads_per_month", {"samples": [20]}),
    ("territories.West.lead_to_opportunity", {"samples": [0.5625]}),
    ("market.annual_growth", {"normal": {"mean": 0.1, "cv": 0.0}}),
    ("market.downturn.duration_months", {"samples": [6]}),
    ("defaults.sales_cycle_months", {"samples": [[0.1, 0.3, 0.3, 0.2, 0.1]]}),
    ("defaults.time_to_fill_months", {"samples": [[0.0, 0.3, 0.5, 0.2]]}),
    ("defaults.churn_annual", {"uniform": [0.12, 0.12]}),
    ("defaults.expansion_annual", {"gamma": {"mean": 0.05, "cv": 0}}),
    ("defaults.skill_sigma", {"samples": [0.25]}),
]


def test_degenerate_distributions_reproduce_the_plain_run_bit_for_bit():
    plain_sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    plain = salessim.simulate(plain_sc, 150, 21)
    sc = plain_sc.with_overrides({"uncertainty": {"trials_per_draw": 3, "parameters": dict(POINT_MASSES)}})
    ds = salessim.simulate(sc, 150, 21)
    for var in plain.data_vars:
        np.testing.assert_array_equal(ds[var].values, plain[var].values, err_msg=var)
    assert set(ds.data_vars) - set(plain.data_vars) == {"parameter_value", "parameter_draw", "parameter_sample"}


def test_a_point_mass_elsewhere_equals_the_plain_run_with_that_value():
    # existing_customers is counted from the scenario's deal_size.mean, not from its draws: fix it
    base = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(
        {"territories.Central.existing_customers": 200})
    moved = base.with_overrides({"territories.Central.deal_size": {"mean": 12_345.0, "cv": 0.7},
                                 "market.annual_growth": 0.07, "territories.West.win_rate": 0.3})
    sc = base.with_overrides({"uncertainty": {"parameters": {
        "territories.Central.deal_size.mean": {"samples": [12_345.0]},
        "market.annual_growth": {"uniform": [0.07, 0.07]},
        "territories.West.win_rate": {"normal": {"mean": 0.3, "sd": 0}},
    }}})
    a, b = salessim.simulate(moved, 100, 5), salessim.simulate(sc, 100, 5)
    for var in a.data_vars:
        np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)


def test_every_supported_key_can_be_uncertain():
    from starting_state import EVERY_KEY

    sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    run = sc.with_overrides({"uncertainty": {"trials_per_draw": 2, "parameters": EVERY_KEY}})
    ds = salessim.simulate(run, 40, 0)
    assert ds.sizes["parameter"] == len(EVERY_KEY) + 3 * (5 + 4 - 2)  # pmfs flattened: 5 + 4 entries for 2 paths
    assert np.all(np.isfinite(ds["parameter_value"].values))
    assert np.isfinite(ds["bookings"].values).all()
    durations = ds["parameter_value"].sel(parameter="market.downturn.duration_months").values
    assert set(np.unique(durations)) <= {4.0, 6.0, 8.0}


def test_unsupported_and_seat_changing_paths_are_refused_with_the_supported_list():
    sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    for path, fragment in (("territories.East.quota_annual", "supported paths: market.annual_growth"),
                           ("territories.East.reps", "changes the seats"),
                           ("goal.annual", "supported paths")):
        with pytest.raises(ScenarioError, match=fragment):
            sc.with_overrides({"uncertainty": {"parameters": {path: {"uniform": [1, 2]}}}})

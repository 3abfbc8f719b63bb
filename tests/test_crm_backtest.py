"""``salessim backtest`` and ``salessim.backtest``: scores, actuals, baselines, JSON, CLI, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from salessim.cli import main
from salessim.crm import TerritoryTruth, Truth, read_export, synthetic_export, write_export
from salessim.crm.backtest import ROW_COLUMNS, score

TRUTH = Truth(territories={"East": TerritoryTruth(70.0, 0.3, 9, 20_000.0, 0.6),
                           "West": TerritoryTruth(45.0, 0.22, 7, 35_000.0, 0.7)},
              annual_growth=0.1, never_close=0.1, skill_sigma=0.1)
AS_OF = ["2024-03-31", "2024-06-30"]
MONTHS = 6
TRIALS, DRAWS = 400, 40


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    opps, reps = synthetic_export(TRUTH, start="2022-01", months=36, seed=8)
    opps.loc[opps.index[opps["won"]][-3:], "amount"] = np.nan  # won deals without an amount, late in the export
    paths = write_export(opps, reps, folder)
    return opps, reps, paths


@pytest.fixture(scope="module")
def data(export):
    return read_export(*export[2])


@pytest.fixture(scope="module")
def bt(data):
    return salessim.backtest(None, as_of=AS_OF, months=MONTHS, trials=TRIALS, draws=DRAWS, seed=2, data=data)


# --------------------------------------------------------------------------- scores

def test_crps_is_the_energy_form_and_pit_the_mid_pit():
    rng = np.random.default_rng(0)
    ens = np.round(rng.lognormal(10, 0.5, (5, 301)), -3)  # rounded: ties with the actual happen
    actual = np.array([ens[0, 3], 0.0, 2e4, 5e4, 1e9])
    got = score(ens, actual)
    for i in range(len(actual)):
        x = ens[i]
        energy = np.abs(x - actual[i]).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
        assert got["crps"][i] == pytest.approx(energy, rel=1e-12)
        assert got["pit"][i] == (x < actual[i]).mean() + 0.5 * (x == actual[i]).mean()
        np.testing.assert_allclose([got[k][i] for k in ("p10", "p50", "p90")], np.quantile(x, [0.1, 0.5, 0.9]))
    assert got["pit"][1] == 0.0 and got["pit"][4] == 1.0


@settings(max_examples=40, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_crps_of_a_point_forecast_is_its_absolute_error(point, actual):
    got = score(np.full((1, 7), point), np.array([actual]))
    assert got["crps"][0] == pytest.approx(abs(point - actual), abs=1e-6)


def test_crps_of_a_normal_ensemble_matches_the_closed_form():
    """CRPS(N(0, 1), y) = y (2 Phi(y) - 1) + 2 phi(y) - 1/sqrt(pi); a 20,000-member ensemble is within 4 SE."""
    from scipy import stats

    rng = np.random.default_rng(1)
    y = np.array([-1.0, 0.0, 0.5, 2.0])
    ens = rng.standard_normal((len(y), 20_000))
    exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
    got = score(ens, y)["crps"]
    # the ensemble CRPS is a U-statistic-like mean of |X - y| - |X - X'|/2; its SE is below sd(|X - y|)/sqrt(m)
    se = np.abs(ens - y[:, None]).std(axis=1) / np.sqrt(ens.shape[1])
    assert np.all(np.abs(got - exact) <= 4 * se + 1 / (2 * ens.shape[1]))


# --------------------------------------------------------------------------- the backtest

def test_rows_and_actuals(bt, export):
    opps = export[0]
    assert [f"{w.as_of:%Y-%m-%d}" for w in bt.windows] == AS_OF
    won = opps[opps["won"] & opps["amount"].notna()]
    for w in bt.windows:
        rows = w.rows
        assert list(rows.columns) == ROW_COLUMNS
        start = w.as_of + pd.offsets.MonthBegin(1)
        months = [f"{m:%Y-%m}" for m in pd.date_range(start, periods=MONTHS, freq="MS")]
        assert list(rows["territory"].unique()) == ["East", "West", "all"]
        for k in ("East", "West"):
            mine = rows[rows["territory"] == k]
            assert list(mine["month"]) == months
            by_month = won[won["territory"] == k].groupby(won["closed"].dt.strftime("%Y-%m"))["amount"].sum()
            np.testing.assert_allclose(mine["actual"], by_month.reindex(months, fill_value=0.0), rtol=1e-12)
        company = rows[rows["territory"] == "all"].set_index("month")
        terr = rows[rows["territory"] != "all"].groupby("month")[["actual", "mean", "run_rate",
                                                                   "weighted_pipeline"]].sum()
        np.testing.assert_allclose(company.loc[months, ["actual", "mean", "run_rate", "weighted_pipeline"]],
                                   terr.loc[months], rtol=1e-9)
        q = rows[["p10", "p25", "p50", "p75", "p90"]].to_numpy()
        assert (np.diff(q, axis=1) >= 0).all() and rows["pit"].between(0, 1).all() and (rows["crps"] >= 0).all()
        assert w.metrics["total"]["actual"] == pytest.approx(company["actual"].sum())
    assert any("have no amount: left out of the actuals" in n for n in bt.windows[1].notes)


def test_metrics_are_the_shares_and_means_of_the_rows(bt):
    for w in bt.windows:
        terr = w.rows[w.rows["territory"] != "all"]
        m = w.metrics
        inside80 = (terr["actual"] >= terr["p10"]) & (terr["actual"] <= terr["p90"])
        inside50 = (terr["actual"] >= terr["p25"]) & (terr["actual"] <= terr["p75"])
        assert m["coverage_80"] == inside80.mean() and m["coverage_50"] == inside50.mean()
        assert m["mean_crps"] == pytest.approx(terr["crps"].mean())
        for name in ("run_rate", "weighted_pipeline"):
            assert m["baselines"][name]["mae"] == pytest.approx((terr[name] - terr["actual"]).abs().mean())
        assert m["company"]["rows"] == MONTHS and m["rows"] == 2 * MONTHS
    pooled = pd.concat([w.rows for w in bt.windows])
    terr = pooled[pooled["territory"] != "all"]
    assert bt.metrics["coverage_80"] == ((terr["actual"] >= terr["p10"]) & (terr["actual"] <= terr["p90"])).mean()
    assert bt.metrics["windows"] == 2
    assert bt.metrics["totals_inside_80"] == sum(w.metrics["total"]["inside_80"] for w in bt.windows)


def test_baselines_by_hand(bt, export):
    """Run-rate: the last 3 whole months' mean bookings; weighted pipeline: open amount x won/(won+lost),
    spread over the next 3 months, then the run-rate."""
    opps = export[0]
    w = bt.windows[1]
    as_of = w.as_of
    east = opps[opps["territory"] == "East"]
    won = east[east["won"] & (east["closed"] <= as_of)]
    assert as_of == pd.Timestamp("2024-06-30")
    recent = won[won["closed"] >= "2024-04-01"]
    run_rate = recent["amount"].sum() / 3
    closed = east[east["is_closed"] & (east["closed"] <= as_of)]
    win_rate = closed["won"].mean()
    open_then = east[(east["created"] <= as_of) & ~(east["is_closed"] & (east["closed"] <= as_of))]
    pipe = open_then["amount"].sum() * win_rate / 3
    rows = w.rows[w.rows["territory"] == "East"]
    np.testing.assert_allclose(rows["run_rate"], run_rate, rtol=1e-9)
    np.testing.assert_allclose(rows["weighted_pipeline"], [pipe] * 3 + [run_rate] * 3, rtol=1e-9)


def test_json_shape_and_same_seed_same_bits(bt, data):
    doc = json.loads(bt.to_json())
    assert set(doc) == {"windows", "overall", "settings"}
    w0 = doc["windows"][0]
    assert w0["as_of"] == "2024-03-31" and set(w0) >= {"as_of", "rows", "metrics"}
    assert set(w0["rows"][0]) == set(ROW_COLUMNS) and w0["rows"][0]["territory"] == "East"
    m = w0["metrics"]
    for key in ("coverage_50", "coverage_80", "mean_crps"):
        assert isinstance(m[key], float)
    assert isinstance(m["baselines"]["run_rate"]["mae"], float)
    assert isinstance(m["baselines"]["weighted_pipeline"]["mae"], float)
    assert set(m["total"]) == {"actual", "mean", "p10", "p50", "p90", "pit", "inside_80"}
    again = salessim.backtest(None, as_of=AS_OF[1], months=MONTHS, trials=TRIALS, draws=DRAWS, seed=2, data=data)
    assert again.windows[0].to_dict() == bt.windows[1].to_dict()  # a window does not depend on the others
    sc = salessim.Scenario.from_dict(yaml.safe_load(again.windows[0].scenario))  # the window's scenario reruns
    assert sc.spec.horizon_months == MONTHS and sc.spec.start == "2024-07"


def test_fan_chart(bt, tmp_path):
    path = bt.plot(tmp_path / "fan.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from salessim.crm.fan import fan_chart

    fig = fan_chart(bt)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["East", "West", "company"]


# --------------------------------------------------------------------------- CLI

def test_cli_backtest_table_json_and_plot(export, tmp_path):
    opps, reps = export[2]
    args = ["backtest", str(opps), "--reps", str(reps), "--as-of", "2024-06-30", "--months", "3", "-n", "200",
            "--draws", "20"]
    result = CliRunner().invoke(main, [*args, "--plot", str(tmp_path / "fan.svg")])
    assert result.exit_code == 0, result.output
    for words in ("as of 2024-06-30: the next 3 months", "in 80%", "run-rate", "pipeline", "inside P10-P90",
                  "wrote "):
        assert words in result.output, words
    assert (tmp_path / "fan.svg").read_text().lstrip().startswith("<?xml")
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [w["as_of"] for w in doc["windows"]] == ["2024-06-30"] and len(doc["windows"][0]["rows"]) == 3 * 3


def test_cli_help_has_examples():
    result = CliRunner().invoke(main, ["backtest", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--as-of 2024-03-31 --as-of 2024-06-30 --months 6" in result.output
    for option in ("--reps", "--preset", "--map", "--months", "--base", "--since", "--trials", "--draws", "--seed",
                   "--date-format", "--format", "--plot", "--cluster"):
        assert option in result.output


@pytest.mark.parametrize("extra, message", [
    (["--as-of", "2024-09-30", "--months", "6"],
     "--as-of 2024-09-30 with --months 6 runs to 2025-03, but {opps} ends in 2024-12"),
    (["--as-of", "2024-06-30,2024-06", "--months", "3"], "--as-of 2024-06 is given twice"),
    (["--as-of", "2024-06-30,", "--months", "3"], "--as-of: empty date"),
    (["--as-of", "midsummer", "--months", "3"], "--as-of 'midsummer' is not a date"),
    (["--as-of", "2022-02-28", "--months", "3"], "--as-of 2022-02-28: territory West: 7 won deals with an amount"),
    (["--as-of", "2024-06-30", "--months", "0"], "Invalid value for '--months'"),
    (["--as-of", "2024-06-30", "--months", "3", "--plot", "fan.gif"], "--plot fan.gif: end the name with .png or .svg"),
    (["--as-of", "2024-06-30", "--months", "3", "--preset", "hubspot"], "no column for opportunities.id"),
])
def test_cli_errors_exit_2_and_write_nothing(export, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    opps, reps = export[2]
    result = CliRunner().invoke(main, ["backtest", str(opps), "--reps", str(reps), "-n", "50", "--draws", "5",
                                       "--plot", "fan.png", *extra])
    assert result.exit_code == 2, result.output
    assert message.format(opps=opps) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "fan.png").exists() and not (tmp_path / "fan.gif").exists()


@pytest.mark.parametrize("kw, message", [
    (dict(months=0), "--months must be at least 1, got 0"),
    (dict(trials=1), "trials must be at least 2, got 1"),
    (dict(as_of=[]), "give at least one --as-of date"),
    (dict(since="2024-06"), "--as-of 2024-03-31: the history from 2024-06 to the as-of date 2024-03-31 holds no whole month"),
])
def test_api_errors_name_the_setting(data, kw, message):
    args = dict(as_of=AS_OF[:1], months=3, trials=50, draws=5, data=data) | kw
    with pytest.raises(salessim.CrmError) as info:
        salessim.backtest(None, **args)
    assert message in str(info.value)

"""Every tool works on a scenario with a named roster, an open pipeline, actuals and
uncertain parameters: ``scenarios/midyear.yaml``, with small trial counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
import salessim.plot
from helpers_model import strip_attrs
from salessim.cli import main

ROOT = Path(__file__).resolve().parents[1]
MIDYEAR = ROOT / "scenarios" / "midyear.yaml"


@pytest.fixture(scope="module")
def sc() -> salessim.Scenario:
    return salessim.load_scenario(MIDYEAR)


@pytest.fixture(scope="module")
def ds(sc) -> xr.Dataset:
    return salessim.simulate(sc, trials=80, seed=3)


def test_midyear_holds_every_part_of_the_starting_state(sc, ds):
    assert sc.fiscal_year_in_progress() == 2027 and len(sc.spec.pipeline) > 100
    assert all(t.roster is not None for t in sc.territories)
    assert ds["seat_name"].values[0] == "Ana Ruiz" and ds.sizes["parameter"] > 9
    assert float(ds["bookings_from_pipeline"].sum()) > 0
    assert list(ds["fiscal_year_months"].values) == [10, 12]
    assert sc.warnings == []


def test_results_round_trip_and_rerun_from_the_file_alone(ds, tmp_path):
    path = salessim.save_results(ds, tmp_path / "m.h5")
    back = salessim.open_results(path)
    xr.testing.assert_identical(strip_attrs(back), strip_attrs(ds))
    again = salessim.simulate(salessim.scenario_of(back), int(back.attrs["trials"]), int(back.attrs["seed"]))
    xr.testing.assert_identical(strip_attrs(again), strip_attrs(ds))


def test_stream_writes_the_same_file_and_summary(sc, ds, tmp_path):
    from salessim.stream import simulate_to_file, summarize_file

    table = simulate_to_file(sc, tmp_path / "s.h5", trials=80, seed=3, chunk_trials=30)
    xr.testing.assert_identical(strip_attrs(salessim.open_results(tmp_path / "s.h5")), strip_attrs(ds))
    plain = salessim.summarize(ds)
    np.testing.assert_allclose(table["mean"].to_numpy(), plain["mean"].to_numpy(), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(table["se"].to_numpy(), plain["se"].to_numpy(), rtol=1e-6, equal_nan=True)
    assert list(table.metric) == list(plain.metric) and "uncertainty" in set(table.section)
    again, _ = summarize_file(tmp_path / "s.h5", chunk_trials=25)
    np.testing.assert_allclose(again["mean"].to_numpy(), plain["mean"].to_numpy(), rtol=1e-6, equal_nan=True)


def test_plots_report_and_exports(ds, tmp_path):
    for kind in ("bookings", "attainment", "headcount", "funnel", "territories"):
        salessim.plot.save(ds, kind, tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 1000
    from salessim.export import export
    from salessim.report import write_report

    write_report(ds, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Open pipeline at start" in html and "Ana Ruiz" in html
    export(ds, tmp_path / "m.xlsx", "xlsx")
    export(ds, tmp_path / "csv", "csv")
    assert (tmp_path / "csv" / "summary.csv").read_text().count("bookings_from_pipeline") >= 2


def test_compare_sweep_and_solve(sc):
    b = sc.with_overrides({"hiring_plan": sc.data["hiring_plan"] + [{"month": "2027-04", "territory": "West", "hires": 2}]})
    ab = salessim.compare([sc, b], trials=60, seed=1, labels=["plan", "more"])
    diff = ab["diff"].sel(scenario="more", metric="bookings").values
    assert np.all(np.isfinite(diff)) and np.all(ab["diff_se"].sel(scenario="more", metric="bookings").values > 0)
    grid = salessim.sweep(sc, {"territories.West.leads_per_month": [230, 280]}, trials=40, seed=1)
    assert grid["mean"].sel(metric="bookings", fiscal_year=2028).values[1] > grid["mean"].sel(
        metric="bookings", fiscal_year=2028).values[0]
    res = salessim.solve(sc, "hiring_plan.1.hires", 0, 6, "bookings[2028] >= 9.5e6", trials=40, seed=1)
    assert res.points.shape[0] >= 2


def test_sensitivity_fixes_uncertain_keys_at_their_p10_and_p90(sc):
    tornado = salessim.sensitivity(sc, 0.1, trials=40, seed=2,
                                   parameters=["territories.East.win_rate", "market.annual_growth",
                                               "territories.West.lead_to_opportunity"])
    notes = dict(zip(tornado["parameter"].values, tornado["note"].values))
    assert "P10 / P90" in notes["territories.East.win_rate"] and "P10 / P90" in notes["market.annual_growth"]
    row = tornado.sel(parameter="territories.East.win_rate")
    assert float(row["low_value"]) < float(row["base_value"]) < float(row["high_value"])
    assert float(row["effect_high"].sel(metric="bookings", fiscal_year=2027)) > 0
    _, skipped = salessim.whatif.assumptions(sc, 0.1)
    assert any("roster" in s for s in skipped) and any("uncertain pmf" in s for s in skipped)


def test_precision_stops_on_grouped_standard_errors(sc):
    ds, report = salessim.simulate_to_precision(sc, 0.2, max_trials=120, step=40)
    assert report.trials <= 120 and ds.sizes["trial"] == report.trials


def test_cli_run_summary_and_pipeline_steady(tmp_path, monkeypatch):
    for name in ("midyear.yaml", "midyear_pipeline.csv"):
        shutil.copy(ROOT / "scenarios" / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["run", "midyear.yaml", "-n", "100", "-o", "m.h5"])  # 5 parameter draws
    assert result.exit_code == 0, result.output
    assert "bookings_from_pipeline" in result.output and "bookings_parameter_share" in result.output
    result = runner.invoke(main, ["summary", "m.h5", "--format", "csv"])
    assert result.exit_code == 0 and "bookings_actual,FY2027" in result.output
    result = runner.invoke(main, ["pipeline", "steady", "midyear.yaml", "-o", "steady.csv", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "open deals to steady.csv" in result.output and "already has" in result.output
    first = (tmp_path / "steady.csv").read_text()
    assert first.startswith("id,territory,owner,age_months,amount,win_probability\nEast-00001,East,Ana Ruiz,")
    runner.invoke(main, ["pipeline", "steady", "midyear.yaml", "-o", "again.csv", "--seed", "4"])
    assert (tmp_path / "again.csv").read_text() == first
    result = runner.invoke(main, ["pipeline", "steady", "midyear.yaml"])
    assert result.exit_code == 2 and "Missing option" in result.output
    result = runner.invoke(main, ["pipeline", "steady", "nowhere.yaml", "-o", "x.csv"])
    assert result.exit_code == 2 and "no such file" in result.output and not (tmp_path / "x.csv").exists()

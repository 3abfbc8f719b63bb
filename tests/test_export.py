"""Exports for finance: tidy tables, read back from CSV, xlsx and Parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.export import MONTHLY_COLUMNS, STATISTICS, ExportError, export, monthly_table, tables

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return salessim.simulate(salessim.load_scenario(BASELINE), trials=200, seed=1)


@pytest.fixture(scope="module")
def results_file(ds, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "baseline.h5"
    salessim.save_results(ds, path)
    return path


@pytest.fixture(scope="module")
def monthly(ds) -> pd.DataFrame:
    return monthly_table(ds)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _value(frame: pd.DataFrame, **where) -> float:
    rows = frame
    for key, value in where.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, where
    return float(rows["value"].iloc[0])


# --------------------------------------------------------------------------- tables


def test_monthly_table_is_tidy_and_complete(ds, monthly):
    assert list(monthly.columns) == MONTHLY_COLUMNS
    per_month = [n for n, v in ds.data_vars.items() if v.dims == ("trial", "month", "territory")]
    assert set(per_month) <= set(monthly["metric"])
    assert {"bookings_fytd", "downturn"} <= set(monthly["metric"])
    h, k = ds.sizes["month"], ds.sizes["territory"]
    bookings = monthly[monthly["metric"] == "bookings"]
    assert len(bookings) == h * (k + 1) * len(STATISTICS)
    assert set(bookings["territory"]) == {*map(str, ds["territory"].values), "all"}
    assert list(bookings["statistic"].iloc[:6]) == list(STATISTICS)
    assert not monthly.duplicated(["metric", "month", "territory", "statistic"]).any()
    assert set(monthly[monthly["metric"] == "bookings"]["unit"]) == {"USD"}


def test_monthly_values_match_the_dataset(ds, monthly):
    east = ds["bookings"].sel(territory="East").values[:, 0]
    assert _value(monthly, metric="bookings", month="2027-01", territory="East", statistic="mean") == pytest.approx(east.mean())
    total = ds["headcount"].sum("territory").values[:, 5]
    assert _value(monthly, metric="headcount", month="2027-06", territory="all", statistic="p25") == pytest.approx(
        np.percentile(total, 25))


def test_fiscal_year_to_date_bookings_end_at_the_summary_figures(ds, monthly):
    summary = salessim.summarize(ds)
    for fy in ds["fiscal_year"].values:
        last = pd.to_datetime(ds["month"].values[ds["fiscal_year_of_month"].values == fy][-1]).strftime("%Y-%m")
        row = summary[(summary.metric == "bookings") & (summary.period == f"FY{fy}") & (summary.territory == "all")]
        for stat in ("mean", "p10", "p50", "p90"):
            got = _value(monthly, metric="bookings_fytd", month=last, territory="all", statistic=stat)
            assert got == pytest.approx(float(row[stat].iloc[0]))


def test_tables_and_provenance(ds):
    t = tables(ds)
    assert list(t) == ["summary", "monthly", "about"]
    pd.testing.assert_frame_equal(t["summary"], salessim.summarize(ds))
    about = dict(zip(t["about"]["field"], t["about"]["value"]))
    assert about["scenario"] == "baseline" and about["seed"] == "1" and about["trials"] == "200"


def test_export_refuses_what_is_not_one_simulation(ds, tmp_path):
    stacked = xr.concat([ds[["bookings", "goal"]]] * 2, dim=pd.Index(["a", "b"], name="scenario"))
    with pytest.raises(ExportError, match="one simulation"):
        export(stacked, tmp_path / "x.xlsx", "xlsx")
    with pytest.raises(ExportError, match="unknown export format"):
        export(ds, tmp_path / "x.json", "json")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- files


def test_cli_export_xlsx_one_sheet_per_table(ds, results_file, tmp_path):
    out = tmp_path / "finance" / "baseline.xlsx"
    result = invoke("export", results_file, "--format", "xlsx", "-o", out)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["summary", "monthly", "about"]
    rows = list(book["summary"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:10] == ["metric", "period", "territory", "unit", "mean", "se", "p10", "p50", "p90", "trials"]
    row = next(r for r in rows[1:] if r[0] == "bookings" and r[1] == "FY2027" and r[2] == "all")
    expected = salessim.summarize(ds)
    want = expected[(expected.metric == "bookings") & (expected.period == "FY2027") & (expected.territory == "all")]
    assert row[header.index("p50")] == pytest.approx(float(want["p50"].iloc[0]))
    monthly = list(book["monthly"].iter_rows(values_only=True))
    assert list(monthly[0]) == MONTHLY_COLUMNS and len(monthly) == 1 + len(monthly_table(ds))
    assert next(r for r in monthly if r[0] == "bookings")[1:5] == ("2027-01", 2027, "East", "mean")
    goal = next(r for r in rows[1:] if r[0] == "goal" and r[1] == "FY2027")
    assert row[header.index("se")] is not None and goal[header.index("se")] is None  # the goal has no SE: empty
    assert sorted(p.name for p in out.parent.iterdir()) == ["baseline.xlsx"]  # no temporary file left


def test_cli_export_csv_folder(ds, results_file, tmp_path):
    out = tmp_path / "tables"
    result = invoke("export", results_file, "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["about.csv", "monthly.csv", "summary.csv"]
    back = pd.read_csv(out / "monthly.csv", dtype={"month": str})
    pd.testing.assert_frame_equal(back, monthly_table(ds), check_dtype=False)
    summary = pd.read_csv(out / "summary.csv")
    assert summary["mean"].to_numpy() == pytest.approx(salessim.summarize(ds)["mean"].to_numpy(), nan_ok=True)


def test_cli_export_parquet_folder(ds, results_file, tmp_path):
    out = tmp_path / "pq"
    result = invoke("export", results_file, "--format", "parquet", "-o", out)
    assert result.exit_code == 0, result.output
    back = pd.read_parquet(out / "monthly.parquet")
    expected = monthly_table(ds)
    assert list(back.columns) == MONTHLY_COLUMNS and len(back) == len(expected)
    assert back["value"].to_numpy() == pytest.approx(expected["value"].to_numpy(), nan_ok=True)
    assert back["fiscal_year"].dtype == np.int64
    summary = pd.read_parquet(out / "summary.parquet")
    assert list(summary["metric"]) == list(salessim.summarize(ds)["metric"])


def test_cli_export_default_outputs(results_file, tmp_path):
    import shutil

    copy = tmp_path / "plan.h5"
    shutil.copy(results_file, copy)
    assert invoke("export", copy).exit_code == 0
    assert (tmp_path / "plan.xlsx").is_file()
    assert invoke("export", copy, "--format", "csv").exit_code == 0
    assert (tmp_path / "plan-csv" / "monthly.csv").is_file()


@pytest.mark.parametrize("args, message", [
    (["--format", "json"], "not an export format"),
    (["--format", "xlsx", "-o", "out.csv"], "ending in .xlsx"),
])
def test_cli_export_user_errors(results_file, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = invoke("export", results_file, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_export_bad_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "missing.h5")
    assert result.exit_code == 2 and "no such results file" in result.output
    Path("file").write_text("x")
    result = invoke("export", "missing.h5", "--format", "csv", "-o", "file")
    assert result.exit_code == 2 and "is a file" in result.output

"""Tidy tables of a results Dataset for spreadsheets: CSV, Excel (xlsx) and Parquet.

Three tables, each long ("tidy": one row per observation, one column per field):

- ``summary``: :func:`salessim.summarize` (metric, period, territory, unit, mean, se,
  p10, p50, p90, trials);
- ``monthly``: for every per-month variable, per month and territory (and ``all`` for
  the company total), the mean and the 10th, 25th, 50th, 75th and 90th percentiles
  across trials, one row per statistic: columns metric, month (``YYYY-MM``),
  fiscal_year, territory, statistic, value, unit. ``bookings_fytd`` is cumulative
  bookings from the start of the fiscal year (what the fan chart shows; for a year in
  progress at the start it begins at that year's actuals);
- ``about``: provenance (scenario, description, version, seed, trials, created, currency).

    import salessim
    from salessim.export import tables, export
    t = tables(salessim.open_results("results/baseline.h5"))     # dict of DataFrames
    export(ds, "baseline.xlsx", "xlsx")                          # one sheet per table

``csv`` and ``parquet`` write a folder with one file per table (``summary.csv``,
``monthly.csv``, ``about.csv``); ``xlsx`` writes one workbook with one sheet per table.
Each file is written atomically, and a folder's tables are written all or none: they are
built in a temporary folder beside the target and moved into place only when all are
written (a full disk leaves the target as it was).

Spreadsheets evaluate text that looks like a formula, and names and descriptions are
user text, so the csv and xlsx exports neutralise formula injection as the OWASP
CSV-injection guidance says (:mod:`salessim.textsafe`): in csv, a text cell starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``; in xlsx such a cell
is written as a text cell (with Excel's quote prefix), never as a formula, and keeps its
exact text. Numbers are numbers in both. Parquet is read by programs, not spreadsheets,
and keeps every text exactly.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ._files import write_atomic, write_folder_atomic
from .summary import actual_bookings, summarize
from .textsafe import is_formula_like, printable, spreadsheet_text

__all__ = ["FORMATS", "TABLES", "STATISTICS", "MONTHLY_COLUMNS", "ExportError", "tables", "monthly_table", "export",
           "spreadsheet_safe"]

FORMATS = ("csv", "xlsx", "parquet")
TABLES = ("summary", "monthly", "about")  # the tables of every export, in order
STATISTICS = ("mean", "p10", "p25", "p50", "p75", "p90")
MONTHLY_COLUMNS = ["metric", "month", "fiscal_year", "territory", "statistic", "value", "unit"]
ALL = "all"
_NOT_ADDITIVE = {"1", "fraction", "probability", "ratio", "months"}


class ExportError(ValueError):
    """The export cannot be written as asked (bad format or target)."""


def _stats(values: np.ndarray) -> np.ndarray:
    """(trial, ...) -> (statistic, ...) in the order of ``STATISTICS``, ignoring NaN."""
    v = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as they should
        mean = np.nanmean(v, axis=0)
        pct = np.nanpercentile(v, [10, 25, 50, 75, 90], axis=0)
    return np.concatenate([mean[None], pct], axis=0)


def _unit(ds: xr.Dataset, name: str) -> str:
    return str(ds[name].attrs.get("units", ""))


def monthly_table(ds: xr.Dataset) -> pd.DataFrame:
    """Per-month percentile table (tidy): see the module docstring for its columns.

    Every variable with dims ``(trial, month, territory)`` is included, per territory and
    summed over territories as ``all`` (except ratios, which do not add up); variables
    with dims ``(trial, month)`` (such as ``downturn``) appear as ``all`` only.
    """
    months = pd.to_datetime(ds["month"].values).strftime("%Y-%m").to_numpy()
    of_month = (ds["fiscal_year_of_month"].values if "fiscal_year_of_month" in ds.coords
                else pd.to_datetime(ds["month"].values).year.values)
    terr = [str(t) for t in ds["territory"].values] if "territory" in ds.coords else []
    frames: list[pd.DataFrame] = []

    def add(metric: str, unit: str, stats: np.ndarray, territories: list[str]) -> None:
        # stats: (statistic, month, territory)
        s, h, k = stats.shape
        frames.append(pd.DataFrame({
            "metric": metric,
            "month": np.tile(np.repeat(months, k), s),
            "fiscal_year": np.tile(np.repeat(of_month, k), s).astype(np.int64),
            "territory": np.tile(np.asarray(territories, dtype=object), s * h),
            "statistic": np.repeat(np.asarray(STATISTICS, dtype=object), h * k),
            "value": stats.reshape(-1),
            "unit": unit,
        }))

    names = [n for n, v in ds.data_vars.items() if v.dims in (("trial", "month", "territory"), ("trial", "month"))]
    # one fiscal year of months at a time: a lazily opened file larger than memory is read
    # in slabs of trials x 12 months (percentiles need every trial of a month at once)
    slabs = [(fy, np.nonzero(of_month == fy)[0]) for fy in np.unique(of_month)]
    before = actual_bookings(ds) if "fiscal_year" in ds.coords else {}  # a year in progress: its actuals
    for name in names:
        var = ds[name]
        unit = _unit(ds, name)
        if var.dims == ("trial", "month", "territory"):
            parts: dict[str, list[np.ndarray]] = {"terr": [], "all": [], "fytd": []}
            for fy, idx in slabs:
                values = var.isel(month=idx).values
                parts["terr"].append(_stats(values))
                total = values.sum(axis=2)
                if unit not in _NOT_ADDITIVE:
                    parts["all"].append(_stats(total)[:, :, None])
                if name == "bookings":  # fiscal year to date, from the actuals of a year in progress
                    parts["fytd"].append(_stats(np.cumsum(total, axis=1) + before.get(int(fy), 0.0))[:, :, None])
            add(name, unit, np.concatenate(parts["terr"], axis=1), terr)
            if parts["all"]:
                add(name, unit, np.concatenate(parts["all"], axis=1), [ALL])
            if parts["fytd"]:
                add("bookings_fytd", unit, np.concatenate(parts["fytd"], axis=1), [ALL])
        else:
            add(name, unit, np.concatenate([_stats(var.isel(month=idx).values) for _, idx in slabs], axis=1)[:, :, None], [ALL])
    if not frames:
        return pd.DataFrame(columns=MONTHLY_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    order = {"statistic": {s: i for i, s in enumerate(STATISTICS)},
             "territory": {t: i for i, t in enumerate(terr + [ALL])}}
    out = out.sort_values(["metric", "month", "territory", "statistic"],
                          key=lambda c: c.map(order[c.name]) if c.name in order else c, kind="stable")
    return out[MONTHLY_COLUMNS].reset_index(drop=True)


def about_table(ds: xr.Dataset) -> pd.DataFrame:
    """Provenance as a two-column table (field, value)."""
    fields = [("scenario", ds.attrs.get("scenario_name", "")), ("description", ds.attrs.get("description", "")),
              ("salessim_version", ds.attrs.get("salessim_version", "")), ("seed", ds.attrs.get("seed", "")),
              ("trials", ds.attrs.get("trials", "")), ("first_trial", ds.attrs.get("first_trial", "")),
              ("created", ds.attrs.get("created", "")), ("currency", ds.attrs.get("currency", "")),
              ("library_versions", ds.attrs.get("library_versions", ""))]
    return pd.DataFrame({"field": [f for f, _ in fields], "value": [str(v) for _, v in fields]})


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The exported tables by name: ``summary``, ``monthly`` and ``about``."""
    missing = [n for n in ("bookings", "goal", "attainment", "fiscal_year_of_month") if n not in ds.variables]
    if missing or "month" not in ds["bookings"].dims or "scenario" in ds.dims:
        raise ExportError("an export needs the results of one simulation (salessim run); this file lacks "
                          + (", ".join(missing) if missing else "monthly bookings of a single scenario"))
    return dict(zip(TABLES, (summarize(ds), monthly_table(ds), about_table(ds))))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every formula-like text cell prefixed by ``'`` (OWASP), for csv; numbers untouched."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(spreadsheet_text)
    return out


def _cells(frame: pd.DataFrame):
    """Rows of plain Python values; NaN becomes an empty cell (Excel has no NaN)."""
    columns = []
    for col in frame.columns:
        values = frame[col].to_numpy(dtype=object)
        columns.append([None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v)
                        for v in values])
    return zip(*columns)


def _write_xlsx(frames: dict[str, pd.DataFrame], tmp: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)  # streams rows: several times faster than cell by cell
    for name, frame in frames.items():
        sheet = book.create_sheet(title=name)
        sheet.freeze_panes = "A2"
        for j, col in enumerate(frame.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
            sheet.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
        def text_cell(value: str) -> WriteOnlyCell:
            # openpyxl writes text starting with "=" as a formula; this stays text, and the
            # quote prefix keeps Excel from evaluating it even after the cell is edited
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell

        def cell(value):
            if not isinstance(value, str):
                return value
            value = printable(value, lines=True)  # worksheets cannot hold control characters
            return text_cell(value) if is_formula_like(value) else value

        sheet.append([cell(c) for c in map(str, frame.columns)])
        for row in _cells(frame):
            sheet.append([cell(v) for v in row])
    book.save(tmp)


def export(ds: xr.Dataset, out: str | os.PathLike, fmt: str) -> list[Path]:
    """Write the tables of ``ds`` to ``out`` in format ``fmt`` (csv, xlsx or parquet).

    ``csv``/``parquet``: ``out`` is a folder (created if needed) receiving one file per
    table; other files in it are left alone. ``xlsx``: ``out`` is the workbook file.
    Returns the paths written.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    frames = tables(ds)
    if fmt == "xlsx":
        if out.is_dir():
            raise ExportError(f"{out} is a folder; give the workbook a file name such as {out / 'results.xlsx'}")
        if out.suffix.lower() != ".xlsx":
            raise ExportError(f"an xlsx export needs a file name ending in .xlsx, got {out.name!r}")
        return [write_atomic(out, lambda tmp: _write_xlsx(frames, tmp))]
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; a {fmt} export writes a folder with one file per table")
    def write_tables(folder: Path) -> list[Path]:  # into a temporary folder: all tables or none
        written = []
        for name, frame in frames.items():
            target = folder / f"{name}.{fmt}"
            if fmt == "csv":
                spreadsheet_safe(frame).to_csv(target, index=False)
            else:
                frame.to_parquet(target, engine="pyarrow", index=False)
            written.append(target)
        return written

    return write_folder_atomic(out, write_tables)

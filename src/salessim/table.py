"""Render the summary table for a terminal with rich."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from rich.console import Console
from rich.table import Table

_PERCENT_UNITS = {"fraction", "probability"}


def format_value(value: float, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    if unit in _PERCENT_UNITS:
        return f"{100 * value:.1f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"


def render_summary(ds: xr.Dataset, table: pd.DataFrame, saved_to: Path | None = None, console: Console | None = None) -> None:
    console = console or Console(width=120)
    attrs = ds.attrs
    title = f"{attrs.get('scenario_name', '')}: {int(attrs['trials']):,} trials, seed {attrs['seed']}"
    out = Table(title=title, caption=attrs.get("description") or None, show_lines=False)
    for col, justify in [("metric", "left"), ("period", "left"), ("territory", "left"), ("mean", "right"),
                         ("± se", "right"), ("P10", "right"), ("P50", "right"), ("P90", "right")]:
        out.add_column(col, justify=justify)
    previous_period = None
    for row in table.itertuples(index=False):
        if previous_period is not None and row.period != previous_period:
            out.add_section()
        previous_period = row.period
        unit = row.unit
        out.add_row(row.metric, row.period, row.territory, format_value(row.mean, unit), format_value(row.se, unit),
                    format_value(row.p10, unit), format_value(row.p50, unit), format_value(row.p90, unit))
    console.print(out)
    if saved_to is not None:
        console.print(f"results saved to {saved_to}")

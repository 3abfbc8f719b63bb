"""Render the summary table for a terminal with rich: one table per section.

Every name, description, unit and path is user text: it reaches rich as a ``Text``
(:func:`salessim.textsafe.terminal`), never as markup, so ``[/]`` or an ANSI escape in a
territory name prints as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .textsafe import terminal

if TYPE_CHECKING:
    import pandas as pd

_PERCENT_UNITS = {"fraction", "probability"}
SECTION_TITLES = {
    "goal": "Bookings and goal",
    "team": "Team and quota",
    "funnel": "Funnel",
    "economics": "Cost and return",
    "territory": "Territories",
    "uncertainty": "Parameter uncertainty: variance split by the law of total variance (parameters vs the future)",
    "parameters": "Uncertain parameters: the values the trials drew",
}


def format_value(value: float, unit: str) -> str:
    """A figure as a planner reads it: percentages for shares, thousands separators for money."""
    if value is None or not np.isfinite(value):
        return "-"
    if unit in _PERCENT_UNITS:
        return f"{100 * value:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"


def _natural_widths(headers: list[str], rows: list[list[Text]], width: int) -> list[int] | None:
    """Each column's width (the widest of its header and cells) when the table at those
    widths fits in ``width`` terminal cells, else None.

    rich gives a table that fits exactly these widths and wraps nothing; passing them (with
    ``no_wrap``) saves it measuring and wrapping every cell (a third of the render time) and
    prints the same characters. A table that does not fit, or a cell with a line break or a
    tab, is left to rich's own layout (columns shrunk, cells wrapped).
    """
    widths = [cell_len(h) for h in headers]
    for cells in rows:
        for k, cell in enumerate(cells):
            if "\n" in cell.plain or "\t" in cell.plain:
                return None
            widths[k] = max(widths[k], cell.cell_len)
    padding, borders = 2 * len(widths), len(widths) + 1  # one space either side of a cell; the vertical rules
    return widths if sum(widths) + padding + borders <= width else None


def render_summary(ds_or_attrs, table: pd.DataFrame | list[dict], saved_to: Path | None = None,
                   console: Console | None = None) -> None:
    """Print ``table`` (from :func:`~salessim.summary.summarize`, or its rows as dicts from
    :func:`~salessim.summary.summary_rows`) under a heading from a Dataset's (or a mapping's) attributes."""
    console = console or Console(width=120)
    attrs = getattr(ds_or_attrs, "attrs", ds_or_attrs)
    records = table.to_dict(orient="records") if hasattr(table, "to_dict") else list(table)
    heading = Text.assemble(terminal(attrs.get("scenario_name", ""), style="bold"),
                            f": {int(attrs['trials']):,} trials, seed {int(attrs['seed'])}")
    if attrs.get("description"):
        heading.append_text(Text(" - ").append_text(terminal(attrs["description"])))
    console.print(heading)
    sections = list(dict.fromkeys(r.get("section") for r in records))
    for section in sections:
        rows = [r for r in records if r.get("section") == section]
        per_territory = section == "territory"
        title = SECTION_TITLES.get(section, section)
        out = Table(title=None if title is None else terminal(title), title_justify="left", show_lines=False)
        columns = [("metric", "left"), ("period", "left")] + ([("territory", "left")] if per_territory else [])
        columns += [("mean", "right"), ("± se", "right"), ("P10", "right"), ("P50", "right"), ("P90", "right"), ("unit", "left")]
        lines = []
        for row in rows:
            unit = row["unit"]
            cells = [row["metric"], row["period"]] + ([row["territory"]] if per_territory else [])
            cells += [format_value(row[c], unit) for c in ("mean", "se", "p10", "p50", "p90")]
            cells.append("" if unit in _PERCENT_UNITS else unit)
            lines.append((row["period"], [terminal(c) for c in cells]))
        widths = _natural_widths([col for col, _ in columns], [cells for _, cells in lines], console.width)
        for k, (col, justify) in enumerate(columns):
            out.add_column(col, justify=justify, width=widths and widths[k], no_wrap=widths is not None)
        previous_period = None
        for period, cells in lines:
            if previous_period is not None and period != previous_period:
                out.add_section()
            previous_period = period
            out.add_row(*cells)
        console.print(out)
    if saved_to is not None:
        console.print(Text("results saved to ").append_text(terminal(saved_to)))

"""The backtest's fan chart: one panel per territory and one for the company.

Each panel draws the monthly bookings the export records (the actuals, a line over the
whole export with the scored months as dots) and, for every backtest window, the
forecast made on its as-of date: the P10-P90 and P25-P75 bands and the median, starting
the month after the as-of date (a dashed vertical line). An actual outside a window's
P10-P90 band is drawn as a red dot. Built on ``matplotlib.figure.Figure`` (no pyplot),
as every salessim picture is.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..plot import BLUE, GREY, RED, money_formatter, save_figure
from ..textsafe import plot_text

__all__ = ["fan_chart", "save_fan_chart"]


def _month_x(labels) -> np.ndarray:
    """Month labels ``YYYY-MM`` as month numbers (the x axis)."""
    return np.array([int(s[:4]) * 12 + int(s[5:7]) - 1 for s in labels])


def fan_chart(bt) -> Figure:
    """Draw the fan chart of a :class:`~salessim.crm.backtest.Backtest` and return the Figure."""
    territories = [*bt.history.columns, "all"]
    scored = {k for w in bt.windows for k in w.rows["territory"]}
    territories = [k for k in territories if k in scored]
    cols = min(len(territories), 2)
    n_rows = -(-len(territories) // cols)
    fig = Figure(figsize=(6.2 * cols, 3.4 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[len(territories):]:
        ax.set_visible(False)
    history = bt.history.copy()
    history["all"] = history[[k for k in history.columns if k in scored]].sum(axis=1)
    first = min(w.as_of for w in bt.windows)
    # show a year of history before the first window, and everything after it
    x_hist = _month_x(history.index)
    keep = x_hist >= (first.year * 12 + first.month - 1) - 12
    for ax, k in zip(axes, territories):
        ax.plot(x_hist[keep], history[k].to_numpy()[keep], "-", color=GREY, lw=1.0, zorder=3)
        for w in bt.windows:
            r = w.rows[w.rows["territory"] == k]
            x = _month_x(r["month"])
            ax.fill_between(x, r["p10"], r["p90"], color=BLUE, alpha=0.18, lw=0, step=None)
            ax.fill_between(x, r["p25"], r["p75"], color=BLUE, alpha=0.30, lw=0)
            ax.plot(x, r["p50"], "-", color=BLUE, lw=1.2)
            outside = (r["actual"] < r["p10"]) | (r["actual"] > r["p90"])
            ax.plot(x[~outside.to_numpy()], r["actual"][~outside], "o", color="black", ms=3.5, zorder=4)
            ax.plot(x[outside.to_numpy()], r["actual"][outside], "o", color=RED, ms=4.5, zorder=5)
            ax.axvline(x[0] - 0.5, color=GREY, ls="--", lw=0.8)
        ax.set_title("company" if k == "all" else plot_text(k), fontsize=10)
        ax.yaxis.set_major_formatter(money_formatter(bt.currency))
        ax.set_ylim(bottom=0)
        ticks = np.unique(np.concatenate([x_hist[keep][:: max(1, keep.sum() // 6)]]))
        ax.set_xticks(ticks, [f"{t // 12}-{t % 12 + 1:02d}" for t in ticks], rotation=45, fontsize=8)
    handles = [Line2D([], [], color=GREY, lw=1.0, label="booked (export)"),
               Line2D([], [], color=BLUE, lw=1.2, label="forecast median"),
               Patch(color=BLUE, alpha=0.45, label="P25-P75"), Patch(color=BLUE, alpha=0.18, label="P10-P90"),
               Line2D([], [], marker="o", ls="", color="black", ms=3.5, label="actual inside P10-P90"),
               Line2D([], [], marker="o", ls="", color=RED, ms=4.5, label="actual outside")]
    axes[0].legend(handles=handles, fontsize=7, loc="upper left")
    m = bt.metrics
    fig.suptitle(f"Backtest: {len(bt.windows)} window{'s' if len(bt.windows) != 1 else ''} of {bt.months} months; "
                 f"80% coverage {m['coverage_80']:.0%}, 50% coverage {m['coverage_50']:.0%} "
                 f"({m['rows']} territory-months)", fontsize=11)
    return fig


def save_fan_chart(bt, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Draw :func:`fan_chart` and write it atomically to ``path`` (PNG or SVG, from the extension)."""
    return save_figure(lambda: fan_chart(bt), path, dpi)

"""Pictures of a results Dataset, drawn with matplotlib.

Every function takes a Dataset (the one ``simulate`` / ``open_results`` give, or the
what-if outputs described in :func:`compare` and :func:`tornado`) and returns what it
drew on: the ``Axes`` for one-panel kinds, the ``Figure`` for multi-panel kinds.

    import salessim, salessim.plot
    ds = salessim.open_results("results/baseline.h5")
    ax = salessim.plot.bookings(ds)
    ax.figure.savefig("bookings.png")
    salessim.plot.save(ds, "attainment", "attainment.svg", by_tenure=True)

Figures are built on ``matplotlib.figure.Figure`` directly, never through ``pyplot``: no
display and no global figure registry are touched (rendering goes through the Agg
canvas), so the module is safe in servers, tests and notebooks alike.

Names, currencies and parameter paths are user text: they pass through
:func:`salessim.textsafe.plot_text` (``$`` escaped, control characters shown), so a
territory called ``$\frac$`` is drawn as written instead of failing as mathtext, and
:func:`save` renders with ``text.usetex`` off, so no text ever reaches LaTeX.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ._files import write_atomic
from .summary import actual_bookings
from .textsafe import plot_text

__all__ = [
    "KINDS",
    "PlotError",
    "bookings",
    "attainment",
    "headcount",
    "funnel",
    "territories",
    "compare",
    "tornado",
    "stack_scenarios",
    "money_formatter",
    "format_money",
    "FORMATS",
    "draw",
    "save",
    "save_figure",
    "text_settings",
]

TENURE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0, 6, "< 6 months"),
    (6, 12, "6-12 months"),
    (12, 24, "12-24 months"),
    (24, np.inf, "24+ months"),
)

# A calm palette that survives greyscale printing and the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, RED, GREY, PURPLE = "#1f5fa8", "#e07b00", "#2a9d5c", "#c0392b", "#6b6b6b", "#7b4fa0"
SERIES = (BLUE, ORANGE, GREEN, PURPLE, RED, "#17becf", "#8c564b", "#bcbd22")

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "AUD": "A$", "CAD": "C$"}


class PlotError(ValueError):
    """The Dataset does not hold what the requested picture needs."""


# ----------------------------------------------------------------------------- helpers

def _currency(ds: xr.Dataset | None) -> str:
    if ds is None:
        return ""
    cur = ds.attrs.get("currency")
    if not cur and "bookings" in ds:
        cur = ds["bookings"].attrs.get("units", "")
    return plot_text(cur or "")


def format_money(value: float, currency: str = "", decimals: int | None = None) -> str:
    """``8_250_000, "USD"`` -> ``"$8.25M"``; codes without a symbol are prefixed (``"CHF 8.25M"``)."""
    if value is None or not np.isfinite(value):
        return "-"
    symbol = _SYMBOLS.get(currency, f"{currency} " if currency else "")
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= scale * 0.9995:  # 999,999 reads $1M, not $1000k
            d = decimals if decimals is not None else (2 if v / scale < 10 else 1 if v / scale < 100 else 0)
            text = f"{v / scale:.{d}f}"
            if decimals is None and "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{sign}{symbol}{text}{suffix}"
    return f"{sign}{symbol}{v:,.0f}"


def money_formatter(currency: str) -> FuncFormatter:
    """A tick formatter writing amounts as ``$8.5M`` / ``$850k`` in ``currency``."""
    return FuncFormatter(lambda x, _pos: format_money(x, currency))


def _new_axes(ax: Axes | None, size: tuple[float, float] = (10, 5.5)) -> Axes:
    if ax is not None:
        return ax
    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def _new_axes_pair(ax: Sequence[Axes] | None, size: tuple[float, float], **grid) -> tuple[Axes, Axes]:
    if ax is not None:
        axes = list(ax)
        if len(axes) != 2:
            raise PlotError(f"this picture draws two panels: pass two Axes, got {len(axes)}")
        return axes[0], axes[1]
    fig = Figure(figsize=size, layout="constrained")
    a, b = fig.subplots(**grid)
    return a, b


def _need(ds: xr.Dataset, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise PlotError(f"the {what} picture needs the variable(s) {', '.join(missing)}, which this Dataset lacks")


def _title_name(ds: xr.Dataset) -> str:
    name = ds.attrs.get("scenario_name") or ""
    return f"{plot_text(name)}: " if name else ""


def _fiscal_year(ds: xr.Dataset, fiscal_year: int | None) -> int:
    years = [int(y) for y in ds["fiscal_year"].values] if "fiscal_year" in ds.coords else []
    if not years:
        raise PlotError("the results hold no full fiscal year (the horizon is shorter than one)")
    if fiscal_year is None:
        return years[0]
    if int(fiscal_year) not in years:
        raise PlotError(f"fiscal year {fiscal_year} is not in the results; they hold {', '.join(map(str, years))}")
    return int(fiscal_year)


def _fy_months(ds: xr.Dataset, fy: int) -> np.ndarray:
    return np.nonzero(ds["fiscal_year_of_month"].values == fy)[0]


def _months(ds: xr.Dataset) -> np.ndarray:
    return pd.to_datetime(ds["month"].values).to_pydatetime()


def _date_axis(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _fy_sum(var: xr.DataArray, idx: np.ndarray) -> np.ndarray:
    """(trial, territory) totals over the months ``idx``, reduced before loading, so a lazily
    opened file larger than memory never loads the whole (trial, month, territory) array."""
    if var.chunks is not None:
        return var.isel(month=idx).sum("month").values
    return var.values[:, idx, :].sum(axis=1)


def _pct(values: np.ndarray, q: Sequence[float], axis: int = 0) -> np.ndarray:
    return np.percentile(np.asarray(values, dtype=np.float64), q, axis=axis)


def _style(ax: Axes) -> None:
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# ----------------------------------------------------------------------------- kinds

def bookings(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Fan chart of cumulative company bookings within each fiscal year.

    Bookings are summed over territories and accumulated from each fiscal year's first
    month; the bands are the P10-P90 and P25-P75 ranges across trials, the line the
    median, the dashed line the year's goal. The title gives P(bookings >= goal) per
    full fiscal year. Months of partly covered fiscal years are drawn without a goal.

    Returns the Axes.
    """
    _need(ds, ["bookings", "goal", "fiscal_year_of_month"], "bookings")
    ax = _new_axes(ax)
    currency = _currency(ds)
    total = ds["bookings"].sum("territory").values if "territory" in ds["bookings"].dims else ds["bookings"].values
    months = _months(ds)
    of_month = ds["fiscal_year_of_month"].values
    goals = {int(fy): float(g) for fy, g in zip(ds["fiscal_year"].values, ds["goal"].values)}
    actuals = actual_bookings(ds)  # a year in progress at the start begins at what it booked before
    p_goal: dict[int, float] = {}
    for i, fy in enumerate(dict.fromkeys(int(y) for y in of_month)):
        idx = np.nonzero(of_month == fy)[0]
        cum = np.cumsum(total[:, idx], axis=1) + actuals.get(fy, 0.0)
        p10, p25, p50, p75, p90 = _pct(cum, [10, 25, 50, 75, 90])
        x = months[idx]
        first = i == 0
        ax.fill_between(x, p10, p90, color=BLUE, alpha=0.18, linewidth=0, label="P10-P90" if first else None)
        ax.fill_between(x, p25, p75, color=BLUE, alpha=0.35, linewidth=0, label="P25-P75" if first else None)
        ax.plot(x, p50, color=BLUE, linewidth=2, label="median" if first else None)
        if fy in goals:
            goal = goals[fy]
            p_goal[fy] = float(np.mean(cum[:, -1] >= goal))
            ax.plot([x[0], x[-1]], [goal, goal], color=RED, linestyle="--", linewidth=1.5,
                    label="goal" if not any(h.get_label() == "goal" for h in ax.get_lines()) else None)
            ax.annotate(f"FY{fy} goal {format_money(goal, currency)}\nP(goal) {p_goal[fy]:.0%}",
                        xy=(x[0], goal), xytext=(4, 6), textcoords="offset points",
                        fontsize=8.5, color=RED, va="bottom", ha="left")
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.18 * max(goals.values(), default=0)))
    _date_axis(ax)
    ax.set_xlabel("month")
    ax.set_ylabel(f"cumulative bookings in the fiscal year ({currency})" if currency else "cumulative bookings")
    odds = " · ".join(f"FY{fy} {p:.0%}" for fy, p in p_goal.items()) or "no full fiscal year"
    ax.set_title(f"{_title_name(ds)}cumulative bookings per fiscal year\nP(goal): {odds}", loc="left")
    ax.legend(loc="upper left", frameon=False, ncols=4, fontsize=9, bbox_to_anchor=(0, 1.0))
    _style(ax)
    return ax


def attainment(ds: xr.Dataset, ax: Axes | None = None, fiscal_year: int | None = None,
               by_tenure: bool = False, max_attainment: float = 3.0) -> Axes:
    """Histogram of rep quota attainment in one fiscal year, pooled over trials.

    Every filled seat of every trial is one rep-year; the y axis is the share of those.
    Attainment above ``max_attainment`` (default 300%) is counted in the last bin. The
    line marks 100%; the title gives the share of reps at or above quota. With
    ``by_tenure=True`` the bars are stacked by tenure at year end (< 6, 6-12, 12-24,
    24+ months) and the legend gives each band's share at quota.
    ``fiscal_year`` defaults to the first full fiscal year.

    Returns the Axes.
    """
    _need(ds, ["attainment"] + (["tenure"] if by_tenure else []), "attainment")
    fy = _fiscal_year(ds, fiscal_year)
    ax = _new_axes(ax)
    att = ds["attainment"].sel(fiscal_year=fy).values.ravel()
    filled = np.isfinite(att)
    values = att[filled]
    del att
    if values.size == 0:
        raise PlotError(f"no rep has an attainment figure in FY{fy} (no filled seat with quota)")
    bins = np.linspace(0, max_attainment, int(round(max_attainment / 0.05)) + 1)
    share = float(np.mean(values >= 1.0))
    median = float(np.median(values))

    def counts(v: np.ndarray) -> np.ndarray:
        # binned here and drawn as bars of these heights: the same picture as ax.hist on the
        # values, without its copies of every rep-year (a run of 10^6 trials has 10^7 of them)
        return np.histogram(np.minimum(v, max_attainment), bins=bins)[0] / values.size

    if by_tenure:
        tenure = ds["tenure"].sel(fiscal_year=fy).values.ravel()[filled]
        heights, labels, colors = [], [], []
        for (lo, hi, label), color in zip(TENURE_BANDS, SERIES):
            band = (tenure >= lo) & (tenure < hi)
            if not band.any():
                continue
            heights.append(counts(values[band]))
            labels.append(f"{label}: {np.mean(values[band] >= 1.0):.0%} at quota ({band.mean():.0%} of reps)")
            colors.append(color)
        ax.hist([bins[:-1]] * len(heights), bins=bins, weights=heights,
                histtype="barstacked", color=colors, label=labels, edgecolor="white", linewidth=0.3)
    else:
        ax.hist(bins[:-1], bins=bins, weights=counts(values), color=BLUE, edgecolor="white", linewidth=0.3,
                label=f"rep-years ({values.size:,})")
    ax.axvline(1.0, color=RED, linestyle="--", linewidth=1.5, label=f"quota (100%): {share:.0%} at or above")
    ax.axvline(median, color=GREY, linestyle=":", linewidth=1.5, label=f"median {median:.0%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlim(0, max_attainment)
    ax.set_xlabel(f"quota attainment in FY{fy} (bookings / quota; last bin: {max_attainment:.0%} or more)")
    ax.set_ylabel("share of rep-years")
    split = ", by tenure at year end" if by_tenure else ""
    ax.set_title(f"{_title_name(ds)}rep attainment FY{fy}{split}\n{share:.0%} of reps at or above quota", loc="left")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    _style(ax)
    return ax


def headcount(ds: xr.Dataset, ax: Sequence[Axes] | None = None) -> Figure:
    """Company headcount and ramped FTE over time (top), hires and departures (bottom).

    Top: median line with the P10-P90 band across trials for reps in seat and for ramped
    FTE (the sum of the reps' ramp productivity). Bottom: mean hires (up) and mean
    departures (down) per month. ``ax`` may be two Axes to draw on (top, bottom).

    Returns the Figure.
    """
    _need(ds, ["headcount", "ramped_fte", "hires", "departures"], "headcount")
    top, bottom = _new_axes_pair(ax, (10, 6.5), nrows=2, sharex=True, height_ratios=[2.2, 1])
    months = _months(ds)
    for name, color, label in (("headcount", BLUE, "reps in seat"), ("ramped_fte", ORANGE, "ramped FTE")):
        v = ds[name].sum("territory").values
        p10, p50, p90 = _pct(v, [10, 50, 90])
        top.fill_between(months, p10, p90, color=color, alpha=0.22, linewidth=0, step="mid",
                         label=f"{label} P10-P90")
        top.plot(months, p50, color=color, linewidth=2, drawstyle="steps-mid", label=f"{label} median")
    top.set_ylabel("reps / FTE")
    top.set_title(f"{_title_name(ds)}headcount and ramped capacity over time", loc="left")
    top.legend(loc="lower right", frameon=False, ncols=2, fontsize=9)
    hires = ds["hires"].sum("territory").mean("trial").values
    departures = ds["departures"].sum("territory").mean("trial").values
    width = 20  # days
    bottom.bar(months, hires, width=width, color=GREEN, label="hires")
    bottom.bar(months, -departures, width=width, color=RED, label="departures")
    bottom.set_title(f"mean hires (green, up) and departures (red, down) per month; "
                     f"{hires.sum():.1f} hires and {departures.sum():.1f} departures over the horizon",
                     loc="left", fontsize=10)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{abs(y):g}"))
    bottom.set_ylabel("reps per month")
    bottom.set_xlabel("month")
    _date_axis(bottom)
    for a in (top, bottom):
        _style(a)
    return top.figure


def funnel(ds: xr.Dataset, ax: Axes | None = None, fiscal_year: int | None = None) -> Axes:
    """The funnel per territory in one fiscal year: leads, unworked leads, opportunities, wins.

    Bars are means across trials of the year's totals; whiskers span P10-P90. Above each
    territory: its conversion (wins / leads) and the share of leads left unworked.
    ``fiscal_year`` defaults to the first full fiscal year.

    Returns the Axes.
    """
    stages = [("leads", BLUE, "leads"), ("leads_unworked", GREY, "unworked leads"),
              ("opportunities", ORANGE, "opportunities"), ("wins", GREEN, "wins")]
    _need(ds, [s for s, _, _ in stages], "funnel")
    fy = _fiscal_year(ds, fiscal_year)
    ax = _new_axes(ax)
    idx = _fy_months(ds, fy)
    terr = [str(t) for t in ds["territory"].values]
    x = np.arange(len(terr))
    width = 0.8 / len(stages)
    totals = {}
    for j, (name, color, label) in enumerate(stages):
        v = _fy_sum(ds[name], idx).astype(np.float64)  # (trial, territory)
        totals[name] = v
        mean = v.mean(axis=0)
        p10, p90 = _pct(v, [10, 90])
        ax.bar(x + (j - (len(stages) - 1) / 2) * width, mean, width=width * 0.95, color=color, label=label,
               yerr=np.vstack([mean - p10, p90 - mean]), error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "#333333"})
    top = np.percentile(totals["leads"], 90, axis=0)
    for k in range(len(terr)):
        leads = totals["leads"][:, k].mean()
        conv = totals["wins"][:, k].mean() / leads if leads else np.nan
        unworked = totals["leads_unworked"][:, k].mean() / leads if leads else np.nan
        ax.annotate(f"win/lead {conv:.1%}\nunworked {unworked:.0%}", xy=(x[k], top[k]), xytext=(0, 6),
                    textcoords="offset points", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [plot_text(t) for t in terr])
    ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{y:,.0f}"))
    ax.set_xlabel("territory")
    ax.set_ylabel(f"count in FY{fy} (mean; whiskers P10-P90)")
    ax.set_title(f"{_title_name(ds)}funnel per territory, FY{fy}", loc="left")
    ax.legend(loc="upper left", frameon=False, ncols=4, fontsize=9)
    _style(ax)
    return ax


def territories(ds: xr.Dataset, ax: Sequence[Axes] | None = None, fiscal_year: int | None = None) -> Figure:
    """Territory balance in one fiscal year: bookings against quota, and rep attainment.

    Left: each territory's bookings (box P25-P75, whiskers P10-P90, line median) with the
    mean quota its reps carried (diamond); the tick label gives the mean reps in seat and
    leads per rep per month, the usual balance indicators. Right: rep attainment per
    territory (same box convention), the 100% line, and the share of its reps at quota.
    ``fiscal_year`` defaults to the first full fiscal year; ``ax`` may be two Axes.

    Returns the Figure.
    """
    _need(ds, ["bookings", "quota", "headcount", "leads", "attainment", "seat_territory"], "territories")
    fy = _fiscal_year(ds, fiscal_year)
    left, right = _new_axes_pair(ax, (11, 5.5), ncols=2, width_ratios=[1, 1])
    currency = _currency(ds)
    idx = _fy_months(ds, fy)
    terr = [str(t) for t in ds["territory"].values]
    booked = _fy_sum(ds["bookings"], idx)
    quota = _fy_sum(ds["quota"], idx).mean(axis=0)
    reps = _fy_sum(ds["headcount"], idx).mean(axis=0) / len(idx)
    leads = _fy_sum(ds["leads"], idx).mean(axis=0) / len(idx)
    labels = [f"{plot_text(t)}\n{r:.1f} reps\n{(l / r if r else np.nan):.0f} leads/rep/mo" for t, r, l in zip(terr, reps, leads)]
    box = {"whis": (10, 90), "showfliers": False, "patch_artist": True, "widths": 0.55,
           "medianprops": {"color": "black", "linewidth": 1.5}}
    parts = left.boxplot([booked[:, k] for k in range(len(terr))], tick_labels=labels, **box)
    for patch, color in zip(parts["boxes"], SERIES):
        patch.set_facecolor(color)
        patch.set_alpha(0.75)
    left.scatter(np.arange(1, len(terr) + 1), quota, marker="D", color=RED, zorder=3, label="quota carried (mean)")
    left.yaxis.set_major_formatter(money_formatter(currency))
    left.set_ylim(0, left.get_ylim()[1] * 1.12)
    left.set_ylabel(f"bookings in FY{fy} ({currency})" if currency else f"bookings in FY{fy}")
    left.set_title(f"bookings against quota, FY{fy}", loc="left")
    left.legend(loc="upper right", frameon=False, fontsize=9)

    att = ds["attainment"].sel(fiscal_year=fy)
    seat_terr = np.asarray([str(t) for t in ds["seat_territory"].values])
    groups, rlabels = [], []
    for t in terr:
        v = att.values[:, seat_terr == t].ravel()
        v = v[np.isfinite(v)]
        groups.append(v if v.size else np.array([np.nan]))
        rlabels.append(f"{plot_text(t)}\n{np.mean(v >= 1.0):.0%} at quota" if v.size else f"{plot_text(t)}\nno reps")
    parts = right.boxplot(groups, tick_labels=rlabels, **box)
    for patch, color in zip(parts["boxes"], SERIES):
        patch.set_facecolor(color)
        patch.set_alpha(0.75)
    right.axhline(1.0, color=RED, linestyle="--", linewidth=1.5, label="quota (100%)")
    right.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    right.set_ylim(0, right.get_ylim()[1] * 1.15)
    right.set_ylabel(f"rep attainment in FY{fy}")
    right.set_title(f"rep attainment per territory, FY{fy}", loc="left")
    right.legend(loc="upper right", frameon=False, fontsize=9)
    for a in (left, right):
        _style(a)
    fig = left.figure
    fig.suptitle(f"{_title_name(ds)}territory balance (boxes P25-P75, whiskers P10-P90)", x=0.01, ha="left")
    return fig


# ----------------------------------------------------------------------------- what-if kinds

def stack_scenarios(datasets: dict[str, xr.Dataset] | Sequence[xr.Dataset]) -> xr.Dataset:
    """Stack results of several scenarios along a new leading ``scenario`` dimension.

    ``datasets`` maps scenario names to results Datasets (a sequence uses each
    Dataset's ``scenario_name`` attribute). They must share months and territories;
    simulate them with the same seed so they share their random futures. The result
    satisfies the :func:`compare` contract.
    """
    if not isinstance(datasets, dict):
        datasets = {str(d.attrs.get("scenario_name", f"scenario {i}")): d for i, d in enumerate(datasets)}
    if not datasets:
        raise PlotError("stack_scenarios needs at least one Dataset")
    names = list(datasets)
    keep = [n for n in ("bookings", "goal", "actual_bookings") if all(n in d for d in datasets.values())]
    parts = [d[keep] for d in datasets.values()]
    out = xr.concat(parts, dim=pd.Index(names, name="scenario"), data_vars="all", coords="minimal",
                    compat="override", join="exact")
    first = next(iter(datasets.values()))
    out.attrs = {k: first.attrs[k] for k in ("currency", "seed", "trials", "salessim_version") if k in first.attrs}
    return out


def _annual_by_scenario(ds: xr.Dataset) -> tuple[list[str], list[int], np.ndarray, np.ndarray]:
    """Scenario names, fiscal years, bookings (scenario, fy, trial), goals (scenario, fy)."""
    if "goal" not in ds:
        raise PlotError("the compare picture needs the `goal` variable (by fiscal_year, optionally by scenario)")
    if "scenario" not in ds.dims:
        raise PlotError("the compare picture needs a Dataset with a `scenario` dimension (a compare or sweep "
                        "result, or runs stacked with salessim.plot.stack_scenarios)")
    years = [int(y) for y in ds["fiscal_year"].values]
    if "bookings" in ds and "month" in ds["bookings"].dims:
        b = ds["bookings"]
        b = b.sum("territory") if "territory" in b.dims else b
        b = b.transpose("scenario", "trial", "month").values
        if "fiscal_year_of_month" in ds.variables:
            of_month = ds["fiscal_year_of_month"].values
        else:
            of_month = pd.to_datetime(ds["month"].values).year.values
        annual = np.stack([b[:, :, of_month == fy].sum(axis=2) for fy in years], axis=1)
        if "actual_bookings" in ds:  # bookings before the start of a year in progress (actuals)
            before = ds["actual_bookings"].sum("territory")
            before = before.transpose("scenario", "fiscal_year").values if "scenario" in before.dims else \
                np.broadcast_to(before.values, (annual.shape[0], len(years)))
            annual = annual + before[:, :, None]
    elif "value" in ds and "metric" in ds["value"].dims and "bookings" in ds["metric"].values:
        # the what-if tools' statistics Dataset: value (scenario, metric, trial, fiscal_year)
        annual = ds["value"].sel(metric="bookings").transpose("scenario", "fiscal_year", "trial").values
    else:
        raise PlotError("the compare picture needs `bookings` with dims (scenario, trial, month[, territory]) or "
                        "`value` with dims (scenario, metric, trial, fiscal_year) and a `bookings` metric")
    goal = ds["goal"]
    goals = (goal.transpose("scenario", "fiscal_year").values if "scenario" in goal.dims
             else np.broadcast_to(goal.values, (annual.shape[0], len(years))))
    names = [str(s) for s in ds["scenario"].values]
    return names, years, np.asarray(annual, dtype=np.float64), np.asarray(goals, dtype=np.float64)


def compare(ds: xr.Dataset, ax: Axes | None = None) -> Axes:
    """Distributions of annual bookings of several scenarios side by side, per fiscal year.

    Dataset contract: a ``scenario`` dimension whose coordinate holds the scenario
    names, a ``fiscal_year`` coordinate (full fiscal years), ``goal`` with dims
    ``(fiscal_year,)`` or ``(scenario, fiscal_year)``, an optional ``currency``
    attribute, and the bookings in one of two forms:

    - ``bookings`` with dims ``(scenario, trial, month[, territory])``, money per month,
      plus the ``fiscal_year_of_month`` coordinate on ``month`` (without it, calendar
      years are used): runs stacked with :func:`stack_scenarios`;
    - ``value`` with dims ``(scenario, metric, trial, fiscal_year)`` and ``"bookings"``
      among the ``metric`` labels: what ``salessim.whatif.compare`` returns.

    Per fiscal year one box per scenario (box P25-P75, whiskers P10-P90, line median),
    the goal as a dashed line over the group and P(goal) above each box.

    Returns the Axes.
    """
    names, years, annual, goals = _annual_by_scenario(ds)
    ax = _new_axes(ax, (max(8.0, 2.2 + 0.9 * len(names) * len(years)), 5.5))
    currency = _currency(ds)
    n = len(names)
    group = n + 1
    for s, name in enumerate(names):
        pos = [y * group + s + 1 for y in range(len(years))]
        parts = ax.boxplot([annual[s, y] for y in range(len(years))], positions=pos, widths=0.7, whis=(10, 90),
                           showfliers=False, patch_artist=True, medianprops={"color": "black", "linewidth": 1.5})
        color = SERIES[s % len(SERIES)]
        for patch in parts["boxes"]:
            patch.set_facecolor(color)
            patch.set_alpha(0.8)
        for y in range(len(years)):
            p = float(np.mean(annual[s, y] >= goals[s, y]))
            ax.annotate(f"{p:.0%}", xy=(pos[y], np.percentile(annual[s, y], 90)), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=8.5)
    for y in range(len(years)):
        lo, hi = y * group + 0.5, y * group + n + 0.5
        for s in range(n):
            if s == 0 or goals[s, y] != goals[s - 1, y]:
                ax.plot([lo, hi], [goals[s, y], goals[s, y]], color=RED, linestyle="--", linewidth=1.4)
    ax.set_xticks([y * group + (n + 1) / 2 for y in range(len(years))], [f"FY{fy}" for fy in years])
    ax.set_xlim(0, len(years) * group)
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_ylabel(f"bookings in the fiscal year ({currency})" if currency else "bookings in the fiscal year")
    ax.set_xlabel("fiscal year (number above a box: P(goal))")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.06)
    handles = [Patch(facecolor=SERIES[s % len(SERIES)], alpha=0.8, label=plot_text(name)) for s, name in enumerate(names)]
    handles.append(Line2D([], [], color=RED, linestyle="--", label="goal"))
    ax.legend(handles=handles, loc="upper left", frameon=False, fontsize=9, ncols=min(n + 1, 5))
    ax.set_title(f"bookings by scenario ({annual.shape[2]:,} trials each; boxes P25-P75, whiskers P10-P90)",
                 loc="left")
    _style(ax)
    return ax


def _tornado_frame(data: xr.Dataset | pd.DataFrame, fiscal_year: int | None,
                   metric: str) -> tuple[pd.DataFrame, str, str, int | None]:
    fy = None
    if isinstance(data, xr.Dataset):
        missing = [n for n in ("low", "high") if n not in data]
        if missing or "parameter" not in data.dims:
            raise PlotError("the tornado picture needs a Dataset with a `parameter` dimension and the variables "
                            "`low`, `high` and `base` (mean bookings at each setting)")
        sel = data
        if "metric" in data.dims:
            labels = [str(m) for m in data["metric"].values]
            if metric not in labels:
                raise PlotError(f"metric {metric!r} is not in the sensitivity results; they hold {', '.join(labels)}")
            sel = sel.sel(metric=metric)
        if "fiscal_year" in data.dims:
            years = [int(y) for y in data["fiscal_year"].values]
            default = int(data.attrs.get("rank_year", years[0]))
            fy = default if fiscal_year is None else int(fiscal_year)
            if fy not in years:
                raise PlotError(f"fiscal year {fy} is not in the sensitivity results; they hold {years}")
            sel = sel.sel(fiscal_year=fy)
        extra = [d for d in sel["low"].dims if d != "parameter"]
        if extra:
            raise PlotError(f"tornado: `low`/`high` must depend on `parameter` only, got extra dims {extra}")
        frame = pd.DataFrame({"parameter": [str(p) for p in sel["parameter"].values],
                              "low": sel["low"].values, "high": sel["high"].values})
        if "base" in sel:
            frame["base"] = np.broadcast_to(sel["base"].values, len(frame))
        elif "base" in data.attrs:
            frame["base"] = float(data.attrs["base"])
        for col in ("low_value", "high_value"):
            if col in sel:
                frame[col] = sel[col].values
        currency = plot_text(data.attrs.get("currency", data["low"].attrs.get("units", "")))
    else:
        frame = data.copy()
        if "metric" in frame:
            frame = frame[frame["metric"] == metric]
        if "fiscal_year" in frame:
            years = sorted(int(y) for y in frame["fiscal_year"].unique())
            fy = years[0] if fiscal_year is None or not years else int(fiscal_year)
            frame = frame[frame["fiscal_year"] == fy]
        currency = plot_text(frame.attrs.get("currency", data.attrs.get("currency", "")))
    missing = [c for c in ("parameter", "low", "high", "base") if c not in frame]
    if missing:
        raise PlotError(f"the tornado picture needs the column(s)/variable(s) {', '.join(missing)}")
    if frame.empty:
        raise PlotError("the tornado picture got no parameters")
    return frame.reset_index(drop=True), currency, metric, fy


def tornado(data: xr.Dataset | pd.DataFrame, ax: Axes | None = None, fiscal_year: int | None = None,
            currency: str | None = None, metric: str = "bookings") -> Axes:
    """Tornado chart: how far each assumption moves mean bookings, largest swing on top.

    Contract (what a sensitivity analysis produces), as a Dataset or a DataFrame:

    - one entry per assumption along a ``parameter`` dimension (Dataset) or in a
      ``parameter`` column (DataFrame), e.g. ``territories.East.win_rate``;
    - ``low`` and ``high``: mean bookings (money) with the assumption at its low and
      at its high setting; ``base``: mean bookings at the base setting (a scalar, or the
      same value repeated per parameter; a Dataset may carry it as attribute ``base``);
    - optional ``low_value`` / ``high_value``: the settings tried, shown in the labels;
    - optional ``fiscal_year`` dimension/column: pick one with ``fiscal_year=`` (default
      the Dataset's ``rank_year`` attribute, else the first); optional ``metric``
      dimension/column: pick one with ``metric=`` (default ``"bookings"``); optional
      attribute ``currency``. ``salessim.whatif.sensitivity`` returns this shape.

    Bars run from the base to the low (orange) and high (blue) results; each bar end is
    labelled with the change against the base.

    Returns the Axes.
    """
    frame, cur, metric, fy = _tornado_frame(data, fiscal_year, metric)
    currency = currency if currency is not None else cur
    fraction = metric in ("p_goal", "reps_at_quota") or metric.startswith("p_")
    if fraction:
        fmt = lambda v: f"{v:.1%}"  # noqa: E731
        dfmt = lambda d: f"{100 * d:+.1f} pp"  # noqa: E731
        axis_label = f"mean {plot_text(metric)}"
    else:
        fmt = lambda v: format_money(v, currency)  # noqa: E731
        dfmt = lambda d: _delta(d, currency)  # noqa: E731
        axis_label = f"mean {plot_text(metric)} ({currency})" if currency else f"mean {plot_text(metric)}"
    if fy is not None:
        axis_label += f", FY{fy}"
    base = float(frame["base"].iloc[0])
    frame = frame.assign(swing=(frame["high"] - frame["low"]).abs()).sort_values("swing", ascending=True)
    ax = _new_axes(ax, (10, max(3.5, 1.6 + 0.6 * len(frame))))
    y = np.arange(len(frame))
    labels = []
    for row in frame.itertuples(index=False):
        setting = ""
        if "low_value" in frame and "high_value" in frame:
            setting = f"\n({_short(row.low_value)} / {_short(row.high_value)})"
        labels.append(f"{plot_text(row.parameter)}{plot_text(setting)}")
    low = frame["low"].to_numpy(dtype=float) - base
    high = frame["high"].to_numpy(dtype=float) - base
    ax.barh(y, low, left=base, height=0.6, color=ORANGE, label="low setting")
    ax.barh(y, high, left=base, height=0.6, color=BLUE, label="high setting")
    ax.axvline(base, color="black", linewidth=1)
    for values in (low, high):
        for yi, d in zip(y, values):
            if not np.isfinite(d):
                continue
            ax.annotate(dfmt(d), xy=(base + d, yi), xytext=(-4 if d < 0 else 4, 0), textcoords="offset points",
                        ha="right" if d < 0 else "left", va="center", fontsize=8.5)
    finite = np.abs(np.concatenate([low, high]))
    finite = finite[np.isfinite(finite)]
    reach = (float(finite.max()) if finite.size else 0.0) or abs(base) * 0.05 or 1.0
    ax.set_xlim(base - 1.35 * reach, base + 1.35 * reach)
    ax.set_ylim(-1.3, len(frame) - 0.5)  # an empty row at the bottom keeps the legend off the bars
    ax.set_yticks(y, labels)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
    ax.set_xlabel(axis_label)
    ax.set_title(f"sensitivity of mean {plot_text(metric)}" + (f" in FY{fy}" if fy is not None else "")
                 + f": base {fmt(base)}; largest swing on top", loc="left")
    ax.legend(loc="lower right", frameon=False, fontsize=9, ncols=2)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _short(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:g}"
    return str(v)


def _delta(d: float, currency: str) -> str:
    return ("+" if d >= 0 else "") + format_money(d, currency)


# ----------------------------------------------------------------------------- dispatch

KINDS = {
    "bookings": bookings,
    "attainment": attainment,
    "headcount": headcount,
    "funnel": funnel,
    "territories": territories,
    "compare": compare,
    "tornado": tornado,
}
"""Every picture kind, by name (the CLI's ``--kind``)."""

FORMATS = {".png": "png", ".svg": "svg"}


def text_settings():
    """A context in which to draw and save pictures of user text: mathtext parsing on (the
    escapes of :func:`~salessim.textsafe.plot_text` rely on it) and LaTeX off, whatever the
    user's matplotlibrc says."""
    return rc_context({"text.usetex": False, "text.parse_math": True})


def draw(data: xr.Dataset | pd.DataFrame, kind: str, **options) -> Figure:
    """Draw picture ``kind`` on a new Figure and return the Figure."""
    if kind not in KINDS:
        raise PlotError(f"unknown picture kind {kind!r}; choose one of {', '.join(KINDS)}")
    out = KINDS[kind](data, **options)
    return out if isinstance(out, Figure) else out.figure


def save(data: xr.Dataset | pd.DataFrame, kind: str, path: str | os.PathLike, dpi: int = 110, **options) -> Path:
    """Draw ``kind`` and write it atomically to ``path`` (PNG or SVG, from the extension)."""
    return save_figure(lambda: draw(data, kind, **options), path, dpi)


def save_figure(make: Callable[[], Figure], path: str | os.PathLike, dpi: int = 110) -> Path:
    """Draw the Figure ``make()`` returns under :func:`text_settings` and write it atomically
    to ``path`` (PNG or SVG, from the extension; no timestamp or software metadata)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise PlotError(f"cannot tell the image format from {path.name!r}: end the name with .png or .svg")
    with text_settings():
        fig = make()
        metadata = {"Software": None} if fmt == "png" else {"Date": None}
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata))

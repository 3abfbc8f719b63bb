"""Terminal tables of the what-if results (rich), in the summary table's number formats.

Titles, captions, headers and cells hold user text (scenario names, paths, notes), so
every one reaches rich as a ``Text`` (:func:`salessim.textsafe.terminal`), never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from ..table import format_value
from ..textsafe import terminal

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["render_compare", "render_sweep", "render_solve", "render_sensitivity"]

_WIDTH = 160
_PCT = {"probability", "fraction"}


def _table(title: str, columns: list[str], left: tuple[str, ...] = (), caption: str | None = None) -> Table:
    """A table whose ``left`` columns are left-aligned and the rest (numbers) right-aligned."""
    out = Table(title=terminal(title), caption=None if caption is None else terminal(caption))
    for c in columns:
        out.add_column(terminal(c), justify="left" if c in left else "right", no_wrap=True)
    return out


def _add_row(table: Table, cells: list[str]) -> None:
    table.add_row(*map(terminal, cells))


def _say(console: Console, text: str) -> None:
    console.print(terminal(text, lines=True))


def _console(console: Console | None) -> Console:
    return console or Console(width=_WIDTH)


def _pp(se: float) -> str:
    """A standard error in percentage points, with a second decimal when it is tiny."""
    return f"{100 * se:.2f}" if 100 * se < 0.1 else f"{100 * se:.1f}"


def _pm(mean: float, se: float, unit: str) -> str:
    """``mean ± se`` in the unit's format (percentages for probabilities and shares)."""
    if not np.isfinite(mean):
        return "-"
    if unit in _PCT:
        return f"{100 * mean:.1f}% ± {_pp(se)}" if np.isfinite(se) else f"{100 * mean:.1f}%"
    return f"{format_value(mean, unit)} ± {format_value(se, unit)}" if np.isfinite(se) else format_value(mean, unit)


def _signed(diff: float, se: float, unit: str) -> str:
    """A difference with its sign: ``+169,713 ± 3,173`` or ``+5.2 pp ± 0.6`` for probabilities."""
    if not np.isfinite(diff):
        return "-"
    if unit in _PCT:
        return f"{100 * diff:+.1f} pp ± {_pp(se)}" if np.isfinite(se) else f"{100 * diff:+.1f} pp"
    sign = "+" if diff >= 0 else "-"
    text = sign + format_value(abs(diff), unit)
    return f"{text} ± {format_value(se, unit)}" if np.isfinite(se) else text


def _num(v: float) -> str:
    """An assumption's value: thousands separated, else four significant digits."""
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _cost_metric(ds: xr.Dataset) -> str | None:
    extra = [str(m) for m in ds["metric"].values if str(m) not in ("bookings", "p_goal", "reps_at_quota")]
    return extra[0] if extra else None


def _unit(ds: xr.Dataset, metric: str) -> str:
    return str(ds["unit"].sel(metric=metric).item())


def _title(ds: xr.Dataset, what: str) -> str:
    return f"{what}: {int(ds.attrs['trials']):,} trials per run, seed {ds.attrs['seed']} (common random numbers)"


def render_compare(ds: xr.Dataset, console: Console | None = None) -> None:
    """Two tables: the plans side by side per fiscal year, then each against the first (paired)."""
    console = _console(console)
    cost = _cost_metric(ds)
    first = str(ds["scenario"].values[0])
    b_unit = _unit(ds, "bookings")
    years = list(ds["fiscal_year"].values)

    cols = ["year", "scenario", "mean bookings", "± se", "P10", "P50", "P90", "P(goal)", "reps at quota"]
    side = _table(_title(ds, "compare"), cols + ([f"mean {cost}"] if cost else []), left=("year", "scenario"))
    for j, fy in enumerate(years):
        if j:
            side.add_section()
        for i, name in enumerate(ds["scenario"].values):
            s = ds.isel(scenario=i, fiscal_year=j)
            b = s.sel(metric="bookings")
            row = [f"FY{fy}", str(name), format_value(float(b["mean"]), b_unit), format_value(float(b["se"]), b_unit),
                   format_value(float(b["p10"]), b_unit), format_value(float(b["p50"]), b_unit),
                   format_value(float(b["p90"]), b_unit),
                   _pm(float(s["mean"].sel(metric="p_goal")), float(s["se"].sel(metric="p_goal")), "probability"),
                   _pm(float(s["mean"].sel(metric="reps_at_quota")), float(s["se"].sel(metric="reps_at_quota")), "fraction")]
            if cost:
                row.append(_pm(float(s["mean"].sel(metric=cost)), float(s["se"].sel(metric=cost)), _unit(ds, cost)))
            _add_row(side, row)
    console.print(side)

    cols = ["year", "scenario", "Δ bookings", "P(more bookings)", "Δ P(goal)", "Δ reps at quota"]
    vs = _table(f"against {first}: paired differences on the same trials ± standard error",
                cols + ([f"Δ {cost}"] if cost else []), left=("year", "scenario"),
                caption=f"P(more bookings): share of trials (futures) in which the scenario books more than {first}")
    for j, fy in enumerate(years):
        if j:
            vs.add_section()
        for i, name in enumerate(ds["scenario"].values[1:], start=1):
            s = ds.isel(scenario=i, fiscal_year=j)

            def diff(metric, unit):
                return _signed(float(s["diff"].sel(metric=metric)), float(s["diff_se"].sel(metric=metric)), unit)

            row = [f"FY{fy}", str(name), diff("bookings", b_unit),
                   format_value(float(s["p_better"].sel(metric="bookings")), "probability"),
                   diff("p_goal", "probability"), diff("reps_at_quota", "fraction")]
            if cost:
                row.append(diff(cost, _unit(ds, cost)))
            _add_row(vs, row)
    console.print(vs)


def render_sweep(ds: xr.Dataset, console: Console | None = None) -> None:
    """One row per grid point and fiscal year: the headline metrics with their standard errors."""
    console = _console(console)
    paths = [p.strip() for p in ds.attrs["varied"].split(",")]
    cost = _cost_metric(ds)
    cols = ["year", "mean bookings", "± se", "P10", "P90", "P(goal)", "reps at quota"] + ([f"mean {cost}"] if cost else [])
    out = _table(_title(ds, f"sweep of {ds.attrs.get('scenario_name', '')}"), [_short_path(p) for p in paths] + cols,
                 left=("year",), caption="varied: " + ", ".join(paths) + ("; cost: mean over trials" if cost else ""))
    b_unit = _unit(ds, "bookings")
    stacked = ds.stack(point=paths)
    for k in range(stacked.sizes["point"]):
        point = stacked.isel(point=k)
        if k:
            out.add_section()
        labels = [_num(float(point[p])) for p in paths]
        for j, fy in enumerate(ds["fiscal_year"].values):
            s = point.isel(fiscal_year=j)

            def get(var, metric):
                return float(s[var].sel(metric=metric))

            row = (labels if j == 0 else [""] * len(paths)) + [
                f"FY{fy}", format_value(get("mean", "bookings"), b_unit), format_value(get("se", "bookings"), b_unit),
                format_value(get("p10", "bookings"), b_unit), format_value(get("p90", "bookings"), b_unit),
                _pm(get("mean", "p_goal"), get("se", "p_goal"), "probability"),
                _pm(get("mean", "reps_at_quota"), get("se", "reps_at_quota"), "fraction")]
            if cost:
                row.append(format_value(get("mean", cost), _unit(ds, cost)))
            _add_row(out, row)
    console.print(out)


def _short_path(path: str) -> str:
    """Column header for a varied path: its last two parts (``East.reps``, ``annual_growth``)."""
    parts = path.split(".")
    keep = 3 if len(parts) >= 3 and parts[-2].isdigit() else 2  # hiring_plan.1.hires, East.reps
    return ".".join(parts[-keep:])


def _lever_text(v: float, integer: bool) -> str:
    return f"{int(v):,}" if integer else f"{float(v):,.6g}"


def render_solve(result, console: Console | None = None) -> None:
    """The points the search explored, in lever order, and the answer."""
    console = _console(console)
    unit = result.unit
    direction = "largest" if result.largest else "smallest"
    out = _table(f"solve: {direction} {result.lever} with {result.target}",
                 [result.lever, f"{result.target.metric} ± se", "meets target", "step"],
                 caption=f"{int(result.path.trials):,} trials per point, seed {result.path.seed} (common random numbers); "
                         "step: order in which the search ran the point")
    for value, mean, se, meets, step in result.rows():
        mark = "yes" if meets else "no"
        if result.met and value == result.value:
            mark = "yes  <- answer"
        _add_row(out, [_lever_text(value, result.integer), _pm(mean, se, unit), mark, str(step)])
    console.print(out)
    if result.met:  # otherwise the caller reports the message as an error
        _say(console, result.message)


def render_sensitivity(ds: xr.Dataset, console: Console | None = None, top: int | None = None) -> None:
    """The tornado table: assumptions ranked by the size of their effect."""
    console = _console(console)
    year = int(ds.attrs["rank_year"])
    delta = float(ds.attrs["delta"])
    b_unit = _unit(ds, "bookings")
    base = ds.sel(fiscal_year=year)
    title = (f"sensitivity of {ds.attrs.get('scenario_name', '')}: each assumption moved down and up by {delta:.0%}; "
             f"effects in FY{year}, ranked by {ds.attrs['rank_by']}; {int(ds.attrs['trials']):,} trials per run, "
             f"seed {ds.attrs['seed']}")
    caption = (f"base FY{year}: bookings {_pm(float(base['base'].sel(metric='bookings')), float(base['base_se'].sel(metric='bookings')), b_unit)}, "
               f"P(goal) {_pm(float(base['base'].sel(metric='p_goal')), float(base['base_se'].sel(metric='p_goal')), 'probability')}; "
               "effects are paired differences from the base run ± their standard errors")
    out = _table(title, ["#", "parameter", "low", "base", "high", "Δ bookings low", "Δ bookings high",
                         "Δ P(goal) low", "Δ P(goal) high"], left=("parameter",), caption=caption)
    notes = []
    n = ds.sizes["parameter"] if top is None else min(top, ds.sizes["parameter"])
    for k in range(n):
        s = base.isel(parameter=k)

        def eff(side, metric):
            return float(s[f"effect_{side}"].sel(metric=metric)), float(s[f"effect_{side}_se"].sel(metric=metric))

        note = str(s["note"].item())
        if note:
            notes.append(f"  {k + 1}. {s['parameter'].item()}: {note}")
        _add_row(out, [str(k + 1), str(s["parameter"].item()) + (" *" if note else ""), _num(float(s["low_value"])),
                       _num(float(s["base_value"])), _num(float(s["high_value"])),
                       _signed(*eff("low", "bookings"), b_unit), _signed(*eff("high", "bookings"), b_unit),
                       _signed(*eff("low", "p_goal"), "probability"), _signed(*eff("high", "p_goal"), "probability")])
    console.print(out)
    if notes:
        _say(console, "* values adjusted:\n" + "\n".join(notes))
    if n < ds.sizes["parameter"]:
        _say(console, f"({ds.sizes['parameter'] - n} smaller effects not shown; all are in the saved Dataset)")
    if ds.attrs.get("skipped", "none") != "none":
        _say(console, f"not moved: {ds.attrs['skipped']}")

"""One self-contained HTML report of a results Dataset.

Key numbers first (P(goal), median bookings against the goal, reps at quota, cost of
sales when the results carry it), then the figures, the summary tables, the assumptions
(the scenario as tables) and the provenance. Figures are embedded as base64 PNGs and the
CSS is inline: the file opens anywhere, offline, and can be mailed as it is.

    import salessim
    from salessim.report import write_report
    write_report(salessim.open_results("results/baseline.h5"), "baseline.html")

The page is rendered with Jinja2 (autoescaping on: scenario names and descriptions are
user text and must not become markup).
"""

from __future__ import annotations

import base64
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import xarray as xr
import yaml

from . import plot
from ._files import write_atomic
from ._report_template import TEMPLATE
from .summary import actual_bookings, summarize
from .table import format_value

__all__ = ["FIGURES", "COST_VARIABLES", "ReportError", "render_report", "write_report", "embed_figure"]

FIGURES: tuple[tuple[str, dict, str], ...] = (
    ("bookings", {}, "Cumulative company bookings within each fiscal year: median line, P25-P75 and P10-P90 "
                     "bands across the simulated futures, the goal dashed. The title gives P(goal) per year."),
    ("attainment", {"by_tenure": True}, "Quota attainment of every rep-year in the first full fiscal year, stacked "
                                        "by tenure at year end; the dashed line is 100% of quota."),
    ("headcount", {}, "Reps in seat and ramped FTE over time (median and P10-P90), with mean hires and "
                      "departures per month."),
    ("funnel", {}, "Leads, unworked leads, opportunities and wins per territory in the first full fiscal year "
                   "(mean, whiskers P10-P90)."),
    ("territories", {}, "Territory balance: bookings against the quota carried, and rep attainment per territory."),
)
"""The figures of the report: (plot kind, options, caption)."""

# Cost variables written by the economics work: any of them that a results file holds
# (with trial and month or fiscal-year dims, and not all zero) gets lines in the key numbers.
COST_VARIABLES = ("sales_cost", "cost_of_sales", "total_cost", "commission")

_FIG_DPI = 96


class ReportError(ValueError):
    """The Dataset is not a simulation's results (a report needs monthly bookings, goal, attainment)."""


def _money(value: float, currency: str) -> str:
    return plot.format_money(value, currency)


def _fy_totals(ds: xr.Dataset, name: str, fy: int) -> np.ndarray | None:
    """Per-trial total of variable ``name`` over fiscal year ``fy`` (None if not possible)."""
    var = ds[name]
    if "trial" not in var.dims:
        return None
    if "fiscal_year" in var.dims:
        if fy not in var["fiscal_year"].values:
            return None
        var = var.sel(fiscal_year=fy)
    elif "month" in var.dims:
        var = var.isel(month=np.nonzero(ds["fiscal_year_of_month"].values == fy)[0])
    else:
        return None
    other = [d for d in var.dims if d != "trial"]
    return var.sum(other).values.astype(np.float64) if other else var.values.astype(np.float64)


def _cost_lines(ds: xr.Dataset, fy: int, bookings: np.ndarray, currency: str) -> list[tuple[str, str]]:
    lines = []
    for name in COST_VARIABLES:
        if name not in ds.data_vars:
            continue
        total = _fy_totals(ds, name, fy)
        if total is None or not np.any(total != 0):
            continue  # absent, or a scenario without compensation
        label = str(ds[name].attrs.get("long_name", name.replace("_", " ")))
        lines.append((f"{label} (median)", _money(float(np.median(total)), currency)))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(bookings > 0, total / bookings, np.nan)
        if np.isfinite(share).any():
            lines.append((f"{label} / bookings", f"{np.nanmedian(share):.1%}"))
    return lines


def _cards(ds: xr.Dataset, currency: str) -> list[dict[str, Any]]:
    cards = []
    total = ds["bookings"].sum("territory") if "territory" in ds["bookings"].dims else ds["bookings"]
    actuals = actual_bookings(ds)  # booked before the start in a year in progress
    for fy, goal in zip(ds["fiscal_year"].values, ds["goal"].values):
        fy, goal = int(fy), float(goal)
        idx = np.nonzero(ds["fiscal_year_of_month"].values == fy)[0]
        booked = total.values[:, idx].sum(axis=1) + actuals[fy]
        p = float(np.mean(booked >= goal))
        att = ds["attainment"].sel(fiscal_year=fy).values if "attainment" in ds else np.empty((0, 0))
        filled = np.isfinite(att)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = ((att >= 1.0) & filled).sum(axis=1) / filled.sum(axis=1)
        median = float(np.median(booked))
        p10, p90 = np.percentile(booked, [10, 90])
        cards.append({
            "fy": fy,
            "p_goal": f"{p:.0%}",
            "tone": "good" if p >= 0.8 else "bad" if p < 0.5 else "",
            "median": _money(median, currency),
            "goal": _money(goal, currency),
            "ratio": f"{median / goal:.0%}" if goal > 0 else "-",
            "range": f"{_money(p10, currency)} - {_money(p90, currency)}",
            "reps_at_quota": f"{np.nanmean(share):.0%}" if np.isfinite(share).any() else "-",
            "costs": _cost_lines(ds, fy, booked, currency),
        })
    return cards


def embed_figure(fig, kind: str, caption: str) -> dict[str, Any]:
    """A figure as the template's entry: base64 PNG, caption, alt text and size in pixels."""
    buf = io.BytesIO()
    with plot.text_settings():  # user text in the figure is text, whatever the user's matplotlibrc says
        fig.savefig(buf, format="png", dpi=_FIG_DPI, metadata={"Software": None})
    width, height = (int(round(v * _FIG_DPI)) for v in fig.get_size_inches())
    return {"kind": kind, "data": base64.b64encode(buf.getvalue()).decode("ascii"),
            "caption": caption, "alt": f"{kind} figure", "width": width, "height": height}


def _figures(ds: xr.Dataset) -> list[dict[str, Any]]:
    out = []
    for kind, options, caption in FIGURES:
        with plot.text_settings():
            try:
                fig = plot.draw(ds, kind, **options)
            except plot.PlotError:
                continue  # the results lack what this picture needs; the report goes on without it
            out.append(embed_figure(fig, kind, caption))
    return out


def _summary_blocks(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows per period, with a group heading wherever the summary's ``section`` changes."""
    blocks = []
    for period, rows in table.groupby("period", sort=False):
        out, section = [], None
        for r in rows.itertuples(index=False):
            current = getattr(r, "section", None)
            out.append({"group": current if current != section else None,
                        "metric": r.metric, "territory": r.territory, "unit": r.unit,
                        "mean": format_value(r.mean, r.unit), "se": format_value(r.se, r.unit),
                        "p10": format_value(r.p10, r.unit), "p50": format_value(r.p50, r.unit),
                        "p90": format_value(r.p90, r.unit)})
            section = current
        blocks.append({"period": period, "rows": out})
    return blocks


def _cell(value: Any) -> str:
    """A scenario value as readable text: lists joined, mappings as ``key: value``."""
    if isinstance(value, bool) or value is None:
        return "null" if value is None else str(value).lower()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return f"{value:g}"
        return f"{int(value):,}" if abs(value) >= 10_000 else f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        sep = "; " if any(isinstance(v, (dict, list)) for v in value) else ", "
        return sep.join(_cell(v) for v in value)
    return str(value)


def _territory_cell(key: str, value: Any) -> str:
    """Long lists (a roster, historical deal sizes) in a territory's column, shortened."""
    if key == "deal_size" and isinstance(value, dict) and isinstance(value.get("empirical"), list):
        values = [v for v in value["empirical"] if isinstance(v, (int, float))]
        mean = sum(values) / len(values) if values else float("nan")
        return f"empirical: {len(values):,} values, mean {_cell(float(mean))}"
    if key == "reps" and isinstance(value, list):
        return f"{len(value)} named: " + ", ".join(str(r.get("name", "?")) for r in value if isinstance(r, dict))
    return _cell(value)


def _flatten(data: dict, prefix: str = "") -> list[list[str]]:
    rows = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not all(isinstance(v, (int, float)) for v in value.values()):
            rows.extend(_flatten(value, f"{path}."))
        else:
            rows.append([path, _cell(value)])
    return rows


def _assumptions(text: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return [{"title": "Scenario (YAML)", "columns": ["text"], "rows": [[text]]}]
    sections = []
    if isinstance(data.get("pipeline_csv"), str):  # a stored pipeline file: its deals, summarised below
        from .scenario_files import parse_pipeline_csv

        data = dict(data, pipeline=parse_pipeline_csv(data.pop("pipeline_csv"), "pipeline_csv")[0])
    general = {k: v for k, v in data.items() if not isinstance(v, (dict, list)) and k not in ("name", "description")}
    nested = {k: v for k, v in data.items() if isinstance(v, dict)}
    if general:
        sections.append({"title": "Plan", "columns": ["key", "value"], "rows": _flatten(general)})
    for key, value in nested.items():
        sections.append({"title": key.replace("_", " ").capitalize(), "columns": ["key", "value"],
                         "rows": _flatten(value, f"{key}.")})
    terr = data.get("territories")
    if isinstance(terr, list) and terr and all(isinstance(t, dict) for t in terr):
        names = [str(t.get("name", i)) for i, t in enumerate(terr)]
        keys = list(dict.fromkeys(k for t in terr for k in t if k != "name"))
        rows = [[k] + [_territory_cell(k, t[k]) if k in t else "(default)" for t in terr] for k in keys]
        sections.append({"title": "Territories", "columns": ["key"] + names, "rows": rows})
    plan = data.get("hiring_plan")
    if isinstance(plan, list) and plan and all(isinstance(p, dict) for p in plan):
        cols = list(dict.fromkeys(k for p in plan for k in p))
        sections.append({"title": "Hiring plan", "columns": cols,
                         "rows": [[_cell(p.get(c, "")) for c in cols] for p in plan]})
    deals = data.get("pipeline")
    if isinstance(deals, list) and deals and all(isinstance(d, dict) for d in deals):
        sections.append({"title": "Open pipeline at start", "columns": ["territory", "deals", "with owner",
                                                                         "amount given", "mean age (months)"],
                         "rows": _pipeline_rows(deals)})
    for key, value in data.items():  # any other list-valued section added by later issues
        if isinstance(value, list) and key not in ("territories", "hiring_plan", "pipeline"):
            sections.append({"title": key.replace("_", " ").capitalize(), "columns": ["value"],
                             "rows": [[_cell(v)] for v in value]})
    return sections


def _balance(ds: xr.Dataset) -> dict[str, Any] | None:
    """The territory-balance section (:mod:`salessim.plan.balance`); None when the results cannot give it."""
    from .plan.balance import OVERSTAFFED_LOAD, UNDERSTAFFED_UNWORKED, balance

    needed = ("leads", "leads_unworked", "ramped_fte", "attainment", "seat_territory")
    if any(n not in ds.variables for n in needed) or not ds.sizes.get("fiscal_year"):
        return None
    b = balance(ds)
    currency = b.currency
    rows = [{"territory": t.territory, "load": f"{t.leads_per_ramped_rep:.1f}" if np.isfinite(t.leads_per_ramped_rep) else "-",
             "capacity": "unlimited" if t.capacity is None else f"{t.capacity:g}",
             "unworked": f"{t.unworked_share:.1%}", "attainment": f"{t.attainment:.0%}" if np.isfinite(t.attainment) else "-",
             "p_attain": f"{t.p_attain:.0%} ± {100 * t.p_attain_se:.1f} pp" if np.isfinite(t.p_attain) else "-",
             "flag": t.flag, "reason": t.reason} for t in b.territories]
    hire = None
    if b.next_hire is not None:
        h = b.next_hire
        others = ", ".join(f"{name} {_money(g, currency)}" for name, g in h.gains.items() if name != h.territory)
        hire = {"territory": h.territory, "month": h.month, "objective": h.objective,
                "gain": f"{_money(h.gain, currency)} ± {_money(h.se, currency)}", "trials": f"{h.trials:,}",
                "others": others}
    return {"fy": b.fiscal_year, "rows": rows, "hire": hire, "note": b.note,
            "unworked_limit": f"{UNDERSTAFFED_UNWORKED:.0%}", "load_limit": f"{OVERSTAFFED_LOAD:.0%}"}


def _pipeline_rows(deals: list[dict]) -> list[list[str]]:
    """One row per territory of the open deals (a pipeline can hold thousands of deals)."""
    rows = []
    for terr in dict.fromkeys(str(d.get("territory", "")) for d in deals):
        mine = [d for d in deals if str(d.get("territory", "")) == terr]
        amounts = [d["amount"] for d in mine if isinstance(d.get("amount"), (int, float))]
        ages = [d["age_months"] for d in mine if isinstance(d.get("age_months"), (int, float))]
        rows.append([terr, f"{len(mine):,}", f"{sum(1 for d in mine if d.get('owner')):,}",
                     f"{len(amounts):,} ({_cell(float(sum(amounts)))} in total)",
                     f"{sum(ages) / len(ages):.1f}" if ages else "-"])
    return rows


def _horizon(ds: xr.Dataset) -> str:
    months = pd.to_datetime(ds["month"].values)
    return f"{len(months)} months from {months[0]:%Y-%m} to {months[-1]:%Y-%m}"


def render_report(ds: xr.Dataset, source: str | os.PathLike | None = None) -> str:
    """The report of ``ds`` as one HTML string (``source``: the results file, for the provenance)."""
    needed = ("bookings", "goal", "attainment", "fiscal_year_of_month")
    missing = [n for n in needed if n not in ds.variables]
    if missing or "month" not in ds["bookings"].dims or "scenario" in ds.dims:
        raise ReportError("a report needs the results of one simulation (salessim run); this file lacks "
                          + (", ".join(missing) if missing else "monthly bookings of a single scenario"))
    attrs = ds.attrs
    currency = str(attrs.get("currency", ""))
    name = str(attrs.get("scenario_name") or "salessim results")
    trials = int(attrs.get("trials", ds.sizes.get("trial", 0)))
    cards = _cards(ds, currency)
    provenance = [
        ("scenario", name),
        ("results file", str(source) if source else "(in memory)"),
        ("salessim version", str(attrs.get("salessim_version", ""))),
        ("seed", str(attrs.get("seed", ""))),
        ("trials", f"{trials:,}"),
        ("first trial", str(attrs.get("first_trial", 0))),
        ("results created", str(attrs.get("created", ""))),
        ("report created", datetime.now(timezone.utc).replace(microsecond=0).isoformat()),
        ("currency", currency),
        ("libraries", str(attrs.get("library_versions", ""))),
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    has_costs = any(c["costs"] for c in cards)
    return env.from_string(TEMPLATE).render(
        title=f"salessim report: {name}",
        name=name,
        description=str(attrs.get("description", "")),
        version=str(attrs.get("salessim_version", "")),
        seed=str(attrs.get("seed", "")),
        trials=trials,
        created=str(attrs.get("created", "")),
        horizon=_horizon(ds),
        currency=currency,
        cards=cards,
        has_costs=has_costs,
        p_goal_se=f"{0.5 / np.sqrt(max(trials, 1)):.1%}",
        figures=_figures(ds),
        balance=_balance(ds),
        summary=_summary_blocks(summarize(ds)),
        assumptions=_assumptions(str(attrs.get("scenario", ""))),
        provenance=provenance,
    )


def write_report(ds: xr.Dataset, path: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """Render the report of ``ds`` and write it atomically to ``path`` (UTF-8 HTML)."""
    html = render_report(ds, source=source)
    return write_atomic(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))

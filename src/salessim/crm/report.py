"""The fit report: one self-contained HTML page a reviewer checks a calibration with.

Fitted numbers with their intervals, the figures of :mod:`salessim.crm.figures` (embedded
PNGs), where each number of the scenario came from, and the import's problems with the
rule applied to each. Rendered with Jinja2 (autoescaped: file names and stage values are
user text) in the look of the results report; written atomically.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import jinja2
import numpy as np

from .. import __version__
from .._files import write_atomic
from ..report import embed_figure
from ._report_template import TEMPLATE
from .asof import month_label
from .figures import FIGURES
from .fits.common import interval

__all__ = ["render_fit_report", "write_fit_report", "territory_table"]


def _iv(draws, fmt="{:.3f}") -> str:
    lo, hi = interval(draws)
    return f"[{fmt.format(lo)}, {fmt.format(hi)}]"


def territory_table(cal) -> tuple[list[str], list[list[str]]]:
    """Per-territory fitted numbers as (column names, rows of text): the report's and the CLI's table."""
    f = cal.fits
    cols = ["territory", "leads / month", "win rate (90%)", "won / closed", "cycle median / max",
            "deal size", "reps", "open deals", "pipeline value x p", "quarter-end pull"]
    rows = []
    for i, k in enumerate(f.arrivals.territories):
        o, d = f.outcomes[k], f.deal_size[k]
        median = int(np.searchsorted(np.cumsum(o.cycle), 0.5))
        size = (f"lognormal mean {d.mean:,.0f}, cv {d.cv:.2f}" if d.lognormal
                else f"empirical, mean {d.sample_mean:,.0f}")
        pipe = f.state.pipeline[f.state.pipeline["territory"] == k]
        q = f.quarter.get(k)
        rows.append([k, f"{f.arrivals.leads[i]:.1f} {_iv(f.arrivals.leads_draws[:, i], '{:.1f}')}",
                     f"{o.win_rate:.3f} {_iv(o.win_rate_draws)}", f"{o.naive_win_rate:.3f}",
                     f"{median} / {o.max_cycle} months", size,
                     str(int((f.state.roster["territory"] == k).sum())), f"{len(pipe):,}",
                     f"{float(np.nansum(pipe['amount'] * pipe['win_probability'])):,.0f}",
                     f"{q.pull:.2f} {_iv(q.pull_draws, '{:.2f}')}" if q else "-"])
    return cols, rows


def _company_rows(cal) -> list[list[str]]:
    f = cal.fits
    a = f.arrivals
    rows = [["annual growth", f"{a.growth:+.1%}" if a.growth_fitted else "-",
             f"90% {_iv(a.growth_draws, '{:+.1%}')}" if a.growth_fitted else "history under 12 months"]]
    if f.skill is not None:
        rows.append(["skill_sigma", f"{f.skill.sigma:.3f}", f"90% {_iv(f.skill.sigma_draws)}; {len(f.skill.reps)} reps"])
    if f.attrition is not None:
        for b, ((lo, hi), rate) in enumerate(zip(f.attrition.bands, f.attrition.annual)):
            rows.append([f"attrition, tenure {lo}-{hi} months" if hi else f"attrition, tenure {lo}+ months", f"{rate:.1%}",
                         f"90% {_iv(f.attrition.annual_draws[:, b], '{:.1%}')}; {int(f.attrition.events[b])} leavers "
                         f"in {f.attrition.exposure[b]:,.0f} rep-months"])
    if f.ramp is not None:
        rows.append(["ramp", ", ".join(f"{v:.2f}" for v in f.ramp.ramp) or "none", f"{f.ramp.hires} hires"])
    st = f.state
    rows.append(["open pipeline", f"{len(st.pipeline):,} deals", f"{st.stale_deals:,} stale (older than the longest cycle)"])
    if st.actuals is not None:
        rows.append(["year-to-date bookings", f"{sum(st.actuals.values()):,.0f}",
                     f"{st.actuals_window[0]:%Y-%m-%d}..{st.actuals_window[1]:%Y-%m-%d}"])
    return rows


def render_fit_report(cal) -> str:
    """The fit report of a :class:`~salessim.crm.calibrate.Calibration` as one HTML string."""
    figures = []
    for kind, draw, caption in FIGURES:
        fig = draw(cal)
        if fig is not None:
            figures.append(embed_figure(fig, kind, caption))
    cols, rows = territory_table(cal)
    d = cal.data
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(
        title="salessim calibration: fit report",
        version=__version__,
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        as_of=f"{cal.asof.date:%Y-%m-%d}",
        history=f"{month_label(cal.asof.first)}..{month_label(cal.asof.last_full)} ({cal.asof.months} whole months)",
        start=month_label(cal.asof.start),
        files=[{"role": role, "path": path, "rows": d.rows_read[path]} for role, path in d.files.items()],
        notes=cal.notes,
        territory_columns=cols, territory_rows=rows, company_rows=_company_rows(cal),
        figures=figures,
        sources=cal.sources.to_dict("records"),
        used=len(d.opportunities),
        date_formats=", ".join(f"{Path(p).name}: {fmt}" for p, fmt in d.date_formats.items()),
        reading_notes="; ".join(d.notes),
        problems=d.problem_summary().to_dict("records"),
        stages=d.stages.to_dict("records"),
    )


def write_fit_report(cal, path: str | Path) -> Path:
    """Render the fit report and write it atomically to ``path`` (UTF-8 HTML)."""
    html = render_fit_report(cal)
    return write_atomic(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))

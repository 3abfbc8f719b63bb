"""``salessim calibrate``: from a CRM export to a scenario a person can read, diff and edit.

The flow (STYLE.md): export -> validated table (:func:`~salessim.crm.importer.read_export`)
-> as-of view (:mod:`~salessim.crm.asof`) -> fits (:mod:`~salessim.crm.fits`, pure
functions) -> scenario document (:mod:`~salessim.crm.writer`) -> YAML file. Calibration never
reaches into the engine; the scenario it writes is the engine's only input.

What comes from where:

- **data**: leads (new opportunities) per month per territory, growth and (with two years
  of history) seasonality; win rate, sales-cycle pmf and deal size per territory;
  ``skill_sigma``; attrition by tenure band and ramp (with a roster carrying hire dates);
  the roster, open pipeline and year-to-date actuals at the as-of date. Every one of these
  gets ``samples`` in the ``uncertainty:`` block where the engine can vary it.
- **base** (``--base SCENARIO.yaml``): everything the export cannot know, taken from an
  existing plan: goal, quotas, pay and costs, hiring plan (entries inside the new horizon),
  backfill rules, downturn, fiscal calendar, currency.
- **default** when there is no base: the scenario schema's defaults, except two keys a
  scenario needs and the schema cannot default: ``quota_annual`` = 12 x the fitted mean
  monthly bookings of a fully ramped rep (quota at today's productivity), and
  ``goal.annual`` = the last 12 whole months' bookings grown at the fitted growth to each
  fiscal year (a goal of "trend"). The output marks both as defaults to replace.

``lead_to_opportunity`` is 1 and ``capacity_leads_per_month`` null: an export holds
opportunities, which are leads that reps already worked, so no capacity limit applies to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._files import write_atomic
from ..scenario import Scenario, ScenarioError, load_scenario
from .asof import AsOf, known_at, month_label, resolve_as_of
from .fits.arrivals import ArrivalsFit, fit_arrivals
from .fits.common import interval
from .fits.deal_size import DealSizeFit, fit_deal_size, pvalue_text
from .fits.outcomes import OutcomeFit, fit_outcomes
from .fits.quarter import MIN_WINS as QUARTER_MIN_WINS, QuarterFit, fit_quarter_end_pull
from .fits.skill import SkillFit, fit_skill, rep_records
from .fits.workforce import AttritionFit, RampFit, fit_attrition, fit_ramp
from .importer import CrmData, read_export
from .mapping import CrmError, Mapping
from .state import StartingState, fiscal_year_start, starting_state
from .writer import Section, render, round_pmf, significant

__all__ = ["Calibration", "Fits", "calibrate", "UNCERTAIN_PATHS", "DEFAULT_ATTRITION_BREAKS"]

DEFAULT_ATTRITION_BREAKS = (12, 24)
UNCERTAIN_PATHS = ("leads_per_month", "win_rate", "sales_cycle_months", "deal_size.mean", "deal_size.cv",
                   "annual_growth", "skill_sigma", "attrition_by_tenure", "quarter_end_pull")
"""Keys the engine's ``uncertainty:`` block varies (issue 9's list) that calibration fills.
Seasonality, ramp, empirical deal sizes and per-rep skill are not among
them: their intervals are written as comments instead."""

# keys calibration always sets itself, wherever a base scenario had them
_REPLACED = {"reps", "initial_tenure_months", "leads_per_month", "lead_to_opportunity", "win_rate",
             "sales_cycle_months", "deal_size", "capacity_leads_per_month", "quarter_end_pull"}
_PLAN_DEFAULTS = {  # schema defaults of the planning keys the export cannot inform, written out
    "quota_ramped": (True, "new hires' quota follows the ramp"),
    "backfill": (True, "reps who leave are replaced"),
    "time_to_fill_months": ([1.0], "replacements start the month after a departure"),
}


@dataclass
class Fits:
    """Every fit of one calibration (see :mod:`salessim.crm.fits`)."""

    arrivals: ArrivalsFit
    outcomes: dict[str, OutcomeFit]
    deal_size: dict[str, DealSizeFit]
    skill: SkillFit | None
    quarter: dict[str, QuarterFit]
    attrition: AttritionFit | None
    ramp: RampFit | None
    state: StartingState


@dataclass
class Calibration:
    """A calibrated scenario and everything behind it.

    Attributes
    ----------
    data : the validated export (problems, stages, columns)
    asof : the month grid of the as-of date
    fits : every fit with its draws
    pipeline : the open deals at the as-of date (SPEC section 9 columns)
    sources : DataFrame ``key``, ``source`` (data / base / default), ``detail``
    notes : warnings worth reading (mid-month as-of, currency mismatch, ...)
    """

    data: CrmData
    asof: AsOf
    fits: Fits
    pipeline: pd.DataFrame
    sources: pd.DataFrame
    notes: list[str]
    draws: int
    _build: Any = field(repr=False, default=None)

    def document(self, pipeline_file: str | None = None) -> Section:
        """The scenario as a commented :class:`~salessim.crm.writer.Section` tree."""
        return self._build(pipeline_file)

    def to_yaml(self, pipeline_file: str | None = None) -> str:
        """The scenario YAML; the pipeline inline unless ``pipeline_file`` names its CSV."""
        return render(self.document(pipeline_file))

    @property
    def scenario(self) -> dict[str, Any]:
        """The scenario as plain data (pipeline inline), as the YAML parses back."""
        return self.document(None).data()

    def write(self, path: str | Path, *, inline_pipeline: bool = False) -> list[Path]:
        """Write the scenario YAML (and its pipeline CSV beside it, ``<stem>-pipeline.csv``) atomically."""
        path = Path(path)
        written = []
        pipeline_file = None
        if not inline_pipeline and len(self.pipeline):
            csv_path = path.with_name(f"{path.stem}-pipeline.csv")
            write_atomic(csv_path, lambda tmp: _pipeline_frame(self.pipeline).to_csv(tmp, index=False))
            written.append(csv_path)
            pipeline_file = csv_path.name
        text = self.to_yaml(pipeline_file)
        written.insert(0, write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8")))
        return written

    def write_report(self, path: str | Path) -> Path:
        """Write the fit report (HTML with embedded figures) atomically."""
        from .report import write_fit_report

        return write_fit_report(self, path)


def _pipeline_frame(pipeline: pd.DataFrame) -> pd.DataFrame:
    frame = pipeline.copy()
    frame["amount"] = frame["amount"].round(2)
    frame["win_probability"] = frame["win_probability"].round(4)
    return frame


def _pct(x: float) -> str:
    return f"{x:.1%}" if abs(x) < 0.1 else f"{x:.0%}" if abs(x) >= 0.995 else f"{x:.1%}"


def _num(x: float) -> str:
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def _iv(draws, fmt=_num) -> str:
    lo, hi = interval(draws)
    return f"90% [{fmt(lo)}, {fmt(hi)}]"


def _samples(draws) -> dict[str, list]:
    return {"samples": [significant(v) for v in np.asarray(draws, float)]}


def _load_base(base) -> Scenario | None:
    if base is None or isinstance(base, Scenario):
        return base
    try:
        return load_scenario(base)
    except ScenarioError as exc:
        raise CrmError(f"--base: {exc}") from None


def calibrate(opportunities: str | Path, reps: str | Path | None = None, *, as_of, preset: str | None = None,
              mapping: Mapping | str | Path | None = None, base: Scenario | str | Path | None = None,
              since=None, horizon: int | None = None, draws: int = 200, seed: int = 0,
              date_format: str | None = None, name: str = "calibrated", data: CrmData | None = None) -> Calibration:
    """Fit a scenario from a CRM export (SPEC section 10).

    Parameters
    ----------
    opportunities, reps : export files (CSV or xlsx); the roster is optional
    as_of : only rows dated on or before it inform the fits (a date, or ``YYYY-MM`` for that month's end)
    preset, mapping, date_format : how to read the export (see :func:`~salessim.crm.importer.read_export`)
    base : a scenario (file) supplying what the data cannot: goal, quotas, pay, hiring plan...
    since : first month of history to use (default: all of it)
    horizon : months to simulate (default: to the end of the fiscal year after the one in progress)
    draws : posterior / bootstrap draws per fitted number (the ``samples`` length)
    seed : seed of those draws (every fit has its own addressed stream)
    name : the scenario's ``name``
    data : an already imported export (skips reading the files)

    Raises
    ------
    CrmError
        Unreadable files, too little usable data, or too few deals for a fit.
    """
    if draws < 2:
        raise CrmError(f"draws must be at least 2, got {draws}")
    base_sc = _load_base(base)
    data = data if data is not None else read_export(opportunities, reps, preset=preset, mapping=mapping,
                                                     date_format=date_format)
    asof = resolve_as_of(as_of, data, since)
    fy_month = base_sc.spec.fiscal_year_start_month if base_sc else 1
    view = known_at(data, asof)
    territories = [t for t in data.territories if (view["territory"] == t).any()]
    if not territories:
        raise CrmError(f"no opportunity in {data.files['opportunities']} is dated on or before {asof.date:%Y-%m-%d}")

    arrivals = fit_arrivals(view, asof, territories, draws=draws, seed=seed)
    outcomes = fit_outcomes(view, asof, territories, draws=draws, seed=seed)
    sizes = fit_deal_size(view, territories, draws=draws, seed=seed, first_month=asof.first)
    skill = fit_skill(rep_records(view, asof, {k: f.max_cycle for k, f in outcomes.items()}), draws=draws, seed=seed,
                      mature_before=month_label(asof.last_full + 1))
    quarter = fit_quarter_end_pull(view, asof, territories, fiscal_year_start_month=fy_month, draws=draws, seed=seed)
    roster = data.reps
    breaks = DEFAULT_ATTRITION_BREAKS
    if base_sc is not None:
        bands = base_sc.data.get("defaults", {}).get("attrition_by_tenure")
        if isinstance(bands, list) and len(bands) > 1:
            breaks = tuple(int(b["until_month"]) for b in bands[:-1])
    attrition = fit_attrition(roster, asof, breaks=breaks, draws=draws, seed=seed) if roster is not None else None
    ramp = fit_ramp(view, roster, asof, draws=draws, seed=seed) if roster is not None else None
    state = starting_state(view, roster, asof, outcomes, fy_month)
    base_reps = {t.get("name"): t.get("reps", base_sc.data.get("defaults", {}).get("reps"))
                 for t in base_sc.data.get("territories", [])} if base_sc is not None else {}
    unstaffed = [k for k in territories if not (state.roster["territory"] == k).any() and base_reps.get(k) is None]
    if unstaffed:
        why = ("the roster has nobody in seat there on the as-of date" if roster is not None else
               "no --reps roster was given and no opportunity of the last 3 months names an owner there")
        raise CrmError(f"cannot tell how many reps {', '.join(unstaffed)} "
                       f"{'has' if len(unstaffed) == 1 else 'have'}: {why}; give a --reps roster or a --base "
                       f"scenario with territories[].reps")
    fits = Fits(arrivals, outcomes, sizes, skill, quarter, attrition, ramp, state)
    builder = _Builder(data, asof, view, fits, base_sc, horizon, name, draws, territories, fy_month)
    builder(None)  # build once now, so that sources and notes are known (and errors raised) here
    return Calibration(data=data, asof=asof, fits=fits, pipeline=state.pipeline, sources=builder.sources_frame(),
                       notes=builder.notes, draws=draws, _build=builder)


class _Builder:
    """Builds the scenario document from the fits; records where every value came from."""

    def __init__(self, data, asof, view, fits, base, horizon, name, draws, territories, fy_month):
        self.data, self.asof, self.view, self.fits, self.base = data, asof, view, fits, base
        self.horizon, self.name, self.draws, self.territories, self.fy_month = horizon, name, draws, territories, fy_month
        self.sources: list[tuple[str, str, str]] = []
        self.notes: list[str] = []

    def sources_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.sources, columns=["key", "source", "detail"]).drop_duplicates("key", keep="last")

    def _src(self, key: str, source: str, detail: str) -> str:
        self.sources.append((key, source, detail))
        return f"{source}: {detail}" if detail else source

    # ----------------------------------------------------------------- pieces
    def _calendar(self):
        asof, fy = self.asof, self.fy_month
        start = asof.start
        fy_first = fiscal_year_start(start, fy)
        to_year_end = fy_first + 12 - start
        horizon = self.horizon if self.horizon is not None else to_year_end + 12
        if horizon < 1:
            raise CrmError(f"horizon must be at least 1 month, got {horizon}")
        covered = []  # first month numbers of the fiscal years the goal covers
        if fy_first < start and to_year_end <= horizon:
            covered.append(fy_first)
        m = fy_first + 12 if fy_first < start else fy_first
        while m + 12 <= start + horizon:
            covered.append(m)
            m += 12
        return horizon, covered

    def _fy_label(self, first_month: int) -> int:
        return first_month // 12

    def _base_goal(self) -> dict[int, float]:
        if self.base is None:
            return {}
        labels = [label for label, _ in self.base.fiscal_years()]
        return dict(zip(labels, self.base.spec.goal.annual))

    def _trailing_bookings(self) -> tuple[float, int]:
        v, asof = self.view, self.asof
        first = max(asof.first, asof.last_full - 11)
        won = (v["state"] == "won").to_numpy() & (v["closed_m"].to_numpy() >= first) & (v["closed_m"].to_numpy() <= asof.last_full)
        months = asof.last_full - first + 1
        return float(v["amount"].to_numpy()[won & np.isfinite(v["amount"].to_numpy())].sum()) * 12 / months, months

    def _mean_size(self, k: str) -> float:
        s = self.fits.deal_size[k]
        return s.mean if s.lognormal else float(np.mean(s.empirical))

    # ----------------------------------------------------------------- document
    def __call__(self, pipeline_file: str | None) -> Section:
        self.sources, self.notes = [], []
        asof, base = self.asof, self.base
        base_data = base.data if base is not None else {}
        uncertain: dict[str, Any] = {}
        horizon, covered = self._calendar()
        # year-to-date figures only when the horizon covers the rest of the fiscal year in progress
        self.ytd = self.fits.state.actuals is not None and fiscal_year_start(asof.start, self.fy_month) in covered
        doc = Section(note=self._header())
        doc.add("name", self.name)
        doc.add("description", f"Calibrated from {Path(self.data.files['opportunities']).name} as of "
                               f"{asof.date:%Y-%m-%d}")
        doc.add("start", month_label(asof.start), self._src("start", "data", "the month after the as-of date"))
        doc.add("horizon_months", horizon,
                self._src("horizon_months", "default" if self.horizon is None else "option",
                          "to the end of the fiscal year after the one in progress" if self.horizon is None else "--horizon"))
        doc.add("fiscal_year_start_month", self.fy_month,
                self._src("fiscal_year_start_month", "base" if base else "default", "" if base else "calendar years"))
        doc.add("currency", *self._currency())
        doc.add("goal", self._goal(covered))
        doc.add("market", self._market(base_data, uncertain))
        doc.add("defaults", self._defaults(base_data, uncertain))
        doc.add("territories", [self._territory(k, base_data, uncertain) for k in self.territories])
        self._pipeline(doc, pipeline_file)
        self._actuals(doc)
        doc.add("hiring_plan", self._hiring(base_data, horizon))
        doc.add("uncertainty", self._uncertainty(uncertain))
        self._not_yet_keys(doc)
        return doc

    def _header(self) -> list[str]:
        d, asof = self.data, self.asof
        problems = d.problems
        lines = [f"Calibrated by salessim {__version__} (salessim calibrate): the SPEC section 9 scenario format."]
        for role, path in d.files.items():
            mine = problems[problems["file"] == path]
            dropped = int(mine["action"].str.startswith("dropped").sum())
            lines.append(f"{role}: {path} ({d.rows_read[path]:,} rows read; {dropped:,} dropped, "
                         f"{len(mine) - dropped:,} other problems kept or repaired; the fit report lists them)")
        lines.append(f"As of {asof.date:%Y-%m-%d}: history {month_label(asof.first)}..{month_label(asof.last_full)} "
                     f"({asof.months} whole months); the simulation starts {month_label(asof.start)}.")
        lines.append('Every number says where it comes from: "data" (fitted from the export, with the rows used and a')
        lines.append('90% interval), "base" (from --base), or "default" (the export cannot inform it: set it yourself).')
        lines.append("Posterior or bootstrap draws of the fitted numbers are in the uncertainty block at the end.")
        if asof.mid_month:
            note = (f"the as-of date {asof.date:%Y-%m-%d} is mid-month: deals created or booked after it in "
                    f"{month_label(asof.start - 1)} are in neither the actuals nor the simulation; use a month end")
            self.notes.append(note)
            lines.append("Note: " + note + ".")
        return lines

    def _currency(self):
        detected = self.data.currency
        if self.base is not None:
            cur = self.base.spec.currency
            if detected and detected != cur:
                self.notes.append(f"the amounts are in {detected} but --base uses {cur}; the scenario keeps {cur}")
            return cur, self._src("currency", "base", "")
        if detected:
            return detected, self._src("currency", "data", "from the currency marks of the amounts")
        return "USD", self._src("currency", "default", "the amounts carry no currency mark")

    def _goal(self, covered: list[int]) -> Section:
        base_goal = self._base_goal()
        yearly, months = self._trailing_bookings()
        g = self.fits.arrivals.growth
        window_mid = self.asof.last_full - (months - 1) / 2
        values, parts = [], []
        for first in covered:
            label = self._fy_label(first)
            if label in base_goal:
                values.append(base_goal[label])
                parts.append(f"FY{label} base")
            else:
                years = (first + 5.5 - window_mid) / 12
                values.append(round(yearly * (1 + g) ** years, -3))
                parts.append(f"FY{label} default")
        sources = {p.split()[1] for p in parts}
        source = sources.pop() if len(sources) == 1 else "base+default"
        detail = ", ".join(parts)
        if "default" in detail:
            detail += (f" (default: the last {months} months' bookings, {yearly:,.0f} a year, grown at "
                       f"{g:+.1%} a year: a goal of trend)")
        s = Section()
        s.add("annual", [significant(v, 6) for v in values], self._src("goal.annual", source, detail))
        return s

    def _market(self, base_data, uncertain) -> Section:
        a = self.fits.arrivals
        s = Section()
        span = f"{a.counts.index[0]}..{a.counts.index[-1]}"
        if a.seasonality_fitted:
            lo, hi = interval(a.seasonality_draws)
            s.add("seasonality", [significant(v, 3) for v in a.seasonality],
                  self._src("market.seasonality", "data", f"month-of-year effects of {a.rows:,} opportunities {span}; "
                            "90% intervals: " + ", ".join(f"[{significant(x, 2)}, {significant(y, 2)}]"
                                                          for x, y in zip(lo, hi))))
        elif base_data.get("market", {}).get("seasonality") is not None:
            s.add("seasonality", base_data["market"]["seasonality"],
                  self._src("market.seasonality", "base", f"only {len(a.counts)} whole months of history; "
                            "seasonality needs 24"))
        else:
            s.add("seasonality", [1.0] * 12, self._src("market.seasonality", "default",
                                                       f"only {len(a.counts)} whole months of history; seasonality needs 24"))
        if a.growth_fitted:
            s.add("annual_growth", significant(a.growth, 3),
                  self._src("market.annual_growth", "data", f"log-linear trend of opportunities {span}; "
                            f"{_iv(a.growth_draws, _pct)}"))
            uncertain["market.annual_growth"] = a.growth_draws
        else:
            value = base_data.get("market", {}).get("annual_growth", 0.0)
            s.add("annual_growth", value, self._src("market.annual_growth", "base" if "annual_growth" in
                                                    base_data.get("market", {}) else "default",
                                                    f"only {len(a.counts)} whole months; growth needs 12"))
        if base_data.get("market", {}).get("downturn") is not None:
            s.add("downturn", base_data["market"]["downturn"], self._src("market.downturn", "base", ""))
        return s

    def _defaults(self, base_data, uncertain):
        f = self.fits
        s = Section()
        base_def = dict(base_data.get("defaults", {}))
        s.add("lead_to_opportunity", 1.0, self._src("defaults.lead_to_opportunity", "data",
                                                    "the export holds opportunities: leads here are opportunities"))
        s.add("capacity_leads_per_month", None, self._src("defaults.capacity_leads_per_month", "data",
                                                          "opportunities are leads reps already worked: no cap"))
        if f.skill is not None:
            sk = f.skill
            s.add("skill_sigma", significant(sk.sigma, 3), self._src(
                "defaults.skill_sigma", "data", f"random-effects fit of {len(sk.reps)} reps' win records on "
                f"{int(sk.reps['deals'].sum()):,} mature deals (created before {sk.mature_before} less the cycle); "
                f"{_iv(sk.sigma_draws)}"))
            uncertain["defaults.skill_sigma"] = sk.sigma_draws
        else:
            self._carry(s, base_def, "skill_sigma", 0.0, "fewer than 5 reps with mature deals")
        if f.attrition is not None:
            at = f.attrition
            bands = []
            for b, ((lo, hi), rate) in enumerate(zip(at.bands, at.annual)):
                entry = Section()
                if hi is not None:
                    entry.add("until_month", hi)
                entry.add("annual", significant(rate, 3),
                          f"{int(at.events[b])} leavers in {at.exposure[b]:,.0f} rep-months at tenure {lo}"
                          f"{'-' + str(hi) if hi else '+'}; {_iv(at.annual_draws[:, b], _pct)}")
                bands.append(entry)
                uncertain[f"defaults.attrition_by_tenure.{b}.annual"] = at.annual_draws[:, b]
            s.add("attrition_by_tenure", bands, self._src(
                "defaults.attrition_by_tenure", "data", f"{at.reps} reps, hire and leave dates, entering the "
                f"history at {month_label(self.asof.first)} (delayed entry), censored at the as-of date"))
        else:
            reason = "no roster" if self.data.reps is None else "the roster has no usable hire dates"
            if "attrition_by_tenure" in base_def:
                s.add("attrition_by_tenure", base_def["attrition_by_tenure"],
                      self._src("defaults.attrition_by_tenure", "base", reason))
            else:
                self._carry(s, base_def, "attrition_annual", 0.0, reason)
        if f.ramp is not None and f.ramp.ramp:
            r = f.ramp
            lo, hi = interval(r.productivity_draws[:, : len(r.ramp)])
            s.add("ramp", [significant(v, 3) for v in r.ramp], self._src(
                "defaults.ramp", "data", f"opportunity share by tenure month of {r.hires} hires ({r.rep_months:,} "
                "rep-months); 90% intervals " + ", ".join(f"[{significant(x, 2)}, {significant(y, 2)}]"
                                                         for x, y in zip(lo, hi))))
        elif f.ramp is not None:
            s.add("ramp", [], self._src("defaults.ramp", "data", f"{f.ramp.hires} hires reach full productivity "
                                                                 "in their first month"))
        else:
            self._carry(s, base_def, "ramp", [], "no roster with hire dates of reps hired inside the history")
        self.quota = self._quota(s, base_def)
        for key, (value, why) in _PLAN_DEFAULTS.items():
            self._carry(s, base_def, key, value, why)
        s.add("orphaned_deal_close_rate", 1.0, self._src(
            "defaults.orphaned_deal_close_rate", "data", "the fitted win rate already counts the deals lost when "
            "their owner left (the export shows them as lost): the simulation does not lose them a second time"))
        skip = _REPLACED | {"skill_sigma", "attrition_annual", "attrition_by_tenure", "ramp", "quota_annual",
                            "orphaned_deal_close_rate", *_PLAN_DEFAULTS}
        for key, value in base_def.items():
            if key not in skip:
                s.add(key, value, self._src(f"defaults.{key}", "base", ""))
        return s

    def _carry(self, s: Section, base_def: dict, key: str, default, why: str) -> None:
        if key in base_def:
            s.add(key, base_def[key], self._src(f"defaults.{key}", "base", why))
        else:
            s.add(key, default, self._src(f"defaults.{key}", "default", why))

    def _quota(self, s: Section, base_def: dict) -> float:
        """Write ``quota_annual`` (base, else the documented default) and return it."""
        f = self.fits
        if "quota_annual" in base_def:
            s.add("quota_annual", base_def["quota_annual"], self._src("defaults.quota_annual", "base", ""))
            return float(base_def["quota_annual"])
        roster = f.state.roster
        ramp = f.ramp.ramp if f.ramp is not None and f.ramp.ramp else []
        fte = sum(ramp[t] if t < len(ramp) else 1.0 for t in roster["tenure_months"])
        monthly = sum(f.arrivals.leads[i] * f.outcomes[k].win_rate * self._mean_size(k)
                      for i, k in enumerate(self.territories))
        quota = round(12 * monthly / max(fte, 1.0), -3)
        s.add("quota_annual", quota, self._src(
            "defaults.quota_annual", "default", f"12 x fitted bookings per ramped rep ({monthly:,.0f} a month over "
            f"{fte:.1f} ramped reps): quota at today's productivity; set your plan's quota"))
        return float(quota)

    def _territory(self, k: str, base_data, uncertain) -> Section:
        f = self.fits
        i = self.territories.index(k)
        base_t = next((t for t in base_data.get("territories", []) if t.get("name") == k), {})
        a, o, ds = f.arrivals, f.outcomes[k], f.deal_size[k]
        s = Section()
        s.add("name", k)
        n_opps = int(a.counts[k].sum())
        s.add("leads_per_month", significant(a.leads[i], 4), self._src(
            f"territories.{k}.leads_per_month", "data", f"{n_opps:,} opportunities created "
            f"{a.counts.index[0]}..{a.counts.index[-1]}, rate at {month_label(self.asof.start)} before seasonality; "
            f"{_iv(a.leads_draws[:, i])}"))
        uncertain[f"territories.{k}.leads_per_month"] = a.leads_draws[:, i]
        s.add("win_rate", significant(o.win_rate, 4), self._src(
            f"territories.{k}.win_rate", "data", f"P(eventually won), Aalen-Johansen on {o.deals:,} deals "
            f"({o.closed:,} closed, {o.open:,} open and censored); won/(won+lost) would say "
            f"{o.naive_win_rate:.3f}; {_iv(o.win_rate_draws)}"))
        uncertain[f"territories.{k}.win_rate"] = o.win_rate_draws
        q = f.quarter.get(k)
        if q is not None:
            # the kernel applies the pull to the cycle's booking month: the key is the cycle before it
            s.add("sales_cycle_months", round_pmf(q.natural_cycle), self._src(
                f"territories.{k}.sales_cycle_months", "data", f"months from creation to booking of won deals "
                f"before the quarter-end pull (fitted jointly with it by EM on {q.wins:,} wins created {q.cohorts}, "
                f"whose bookings are all observed); median {int(np.searchsorted(np.cumsum(q.natural_cycle), 0.5))} "
                f"months; with the pull, the observed cycle (open deals censored) has median "
                f"{int(np.searchsorted(np.cumsum(o.cycle), 0.5))}"))
            uncertain[f"territories.{k}.sales_cycle_months"] = q.natural_cycle_draws
            s.add("quarter_end_pull", significant(q.pull, 3), self._src(
                f"territories.{k}.quarter_end_pull", "data", f"wins due in a fiscal quarter's first two months that "
                f"book in its last month (EM on the same wins; {q.last_month_share:.0%} of them booked in a "
                f"quarter's last month, 33% without a pull); {_iv(q.pull_draws)}"))
            uncertain[f"territories.{k}.quarter_end_pull"] = q.pull_draws
        else:
            s.add("sales_cycle_months", round_pmf(o.cycle), self._src(
                f"territories.{k}.sales_cycle_months", "data", f"months from creation to booking of won deals, open "
                f"deals censored; cut at {o.max_cycle} months (99.5% of wins); median "
                f"{int(np.searchsorted(np.cumsum(o.cycle), 0.5))} months"))
            uncertain[f"territories.{k}.sales_cycle_months"] = o.cycle_draws
            value = base_t.get("quarter_end_pull", base_data.get("defaults", {}).get("quarter_end_pull"))
            why = f"fewer than {QUARTER_MIN_WINS} wins in cohorts whose bookings are all observed"
            s.add("quarter_end_pull", 0.0 if value is None else value, self._src(
                f"territories.{k}.quarter_end_pull", "default" if value is None else "base", why))
        n_amounts = len(ds.amounts)
        if ds.lognormal:
            s.add("deal_size", {"mean": significant(ds.mean, 4), "cv": significant(ds.cv, 3)}, self._src(
                f"territories.{k}.deal_size", "data", f"lognormal from {n_amounts:,} won amounts (Anderson-Darling "
                f"{pvalue_text(ds.gof_pvalue)}); mean {_iv(ds.mean_draws)}, cv {_iv(ds.cv_draws)}"))
            uncertain[f"territories.{k}.deal_size.mean"] = ds.mean_draws
            uncertain[f"territories.{k}.deal_size.cv"] = ds.cv_draws
        else:
            kind = "all" if len(ds.empirical) == n_amounts else f"{len(ds.empirical):,} quantiles of the"
            s.add("deal_size", {"empirical": [significant(v, 5) for v in ds.empirical]}, self._src(
                f"territories.{k}.deal_size", "data", f"empirical: {kind} {n_amounts:,} won amounts; the lognormal "
                f"(mean {ds.mean:,.0f}, cv {ds.cv:.2f}) fails its check (Anderson-Darling "
                f"{pvalue_text(ds.gof_pvalue)}); mean {ds.sample_mean:,.0f}, {_iv(ds.sample_mean_draws)}"))
        reps = self._reps(k)
        if reps:
            s.add("reps", reps, self._reps_source(k, len(reps)))
        else:  # nobody known in seat: the base's reps (calibrate() refuses when there is none)
            value = base_t.get("reps", base_data.get("defaults", {}).get("reps"))
            s.add("reps", value, self._src(f"territories.{k}.reps", "base", "the export names nobody in seat here"))
            if "initial_tenure_months" in base_t:
                s.add("initial_tenure_months", base_t["initial_tenure_months"],
                      self._src(f"territories.{k}.initial_tenure_months", "base", ""))
        for key, value in base_t.items():
            if key not in _REPLACED | {"name", "skill_sigma", "attrition_annual", "attrition_by_tenure"} \
                    and not (key == "ramp" and f.ramp is not None):
                s.add(key, value, self._src(f"territories.{k}.{key}", "base", ""))
        return s

    def _reps(self, k: str) -> list[dict]:
        f = self.fits
        roster = f.state.roster
        skill = {}
        if f.skill is not None:
            sk = f.skill.reps
            skill = dict(zip(sk.loc[sk["territory"] == k, "rep"], sk.loc[sk["territory"] == k, "skill"]))
        ramp = f.ramp.ramp if f.ramp is not None and f.ramp.ramp else []
        quota = self.quota
        quota_ramped = True
        if self.base is not None:
            quota_ramped = bool(self.base.data.get("defaults", {}).get("quota_ramped", True))
        out = []
        for r in roster[roster["territory"] == k].itertuples(index=False):
            entry = {"name": str(r.name), "tenure_months": int(r.tenure_months)}
            if r.name in skill:
                entry["skill"] = significant(skill[r.name], 3)
            if self.ytd:
                entry["ytd_bookings"] = round(float(r.ytd_bookings), 2)
                months = [int(r.tenure_months) - j for j in range(1, int(r.ytd_months) + 1)]
                share = sum((ramp[t] if 0 <= t < len(ramp) else 1.0) if quota_ramped else 1.0 for t in months)
                entry["ytd_quota"] = round(quota / 12 * share, 2)
            out.append(entry)
        return out

    def _reps_source(self, k: str, count: int) -> str:
        f = self.fits
        detail = (f"{count} reps in seat on {self.asof.date:%Y-%m-%d}"
                  + ("" if f.state.roster_source == "roster" else
                     " (no roster: owners of opportunities in the last 3 months; tenure counts from their first "
                     "opportunity, a lower bound)"))
        if f.skill is not None:
            detail += "; skill: posterior mean of each rep's multiplier (shrunk to 1 with few deals)"
        if self.ytd:
            detail += "; ytd_quota from quota_annual and the ramp"
        return self._src(f"territories.{k}.reps", "data", detail)

    def _pipeline(self, doc: Section, pipeline_file: str | None) -> None:
        st = self.fits.state
        p = st.pipeline
        if not len(p):
            return
        detail = (f"{len(p):,} deals open on {self.asof.date:%Y-%m-%d}, expected value "
                  f"{float(np.nansum(p['win_probability'] * p['amount'])):,.0f} (where amounts are known); "
                  f"win probability given age from the competing-risks fit; {st.stale_deals:,} stale deals "
                  f"(older than the longest cycle) keep a probability near 0")
        if pipeline_file is not None:
            doc.add("pipeline_file", pipeline_file, self._src("pipeline_file", "data", detail))
            return
        rows = []
        for r in _pipeline_frame(p).itertuples(index=False):
            entry = {"id": str(r.id), "territory": str(r.territory)}
            if r.owner is not None:
                entry["owner"] = str(r.owner)
            entry["age_months"] = int(r.age_months)
            if np.isfinite(r.amount):
                entry["amount"] = float(r.amount)
            entry["win_probability"] = float(r.win_probability)
            rows.append(entry)
        doc.add("pipeline", rows, self._src("pipeline", "data", detail))

    def _actuals(self, doc: Section) -> None:
        st = self.fits.state
        if st.actuals is None:
            return
        if not self.ytd:
            fy_first = fiscal_year_start(self.asof.start, self.fy_month)
            self._src("actuals.bookings", "data", f"not written: the horizon ends before FY"
                      f"{self._fy_label(fy_first)} does, so the year gets no figures")
            return
        first, last = st.actuals_window
        s = Section()
        s.add("bookings", {k: round(v, 2) for k, v in st.actuals.items()}, self._src(
            "actuals.bookings", "data", f"won amounts closed {first:%Y-%m-%d}..{last:%Y-%m-%d}"
            + (f"; {st.actuals_missing_amounts} won deals without an amount not counted"
               if st.actuals_missing_amounts else "")))
        doc.add("actuals", s)

    def _hiring(self, base_data, horizon: int) -> list:
        plan = base_data.get("hiring_plan", [])
        if not plan:
            self._src("hiring_plan", "default", "no planned hires")
            return []
        keep, dropped = [], 0
        for entry in plan:
            y, m = (int(x) for x in str(entry["month"]).split("-"))
            idx = y * 12 + m - 1 - self.asof.start
            if 0 <= idx < horizon and entry["territory"] in self.territories:
                keep.append(dict(entry))
            else:
                dropped += 1
        if dropped:
            self.notes.append(f"{dropped} hiring-plan entries of --base fall outside the new horizon or name a "
                              "territory the export does not have; they were left out")
        self._src("hiring_plan", "base", f"{len(keep)} entries inside the horizon")
        return keep

    def _uncertainty(self, uncertain: dict[str, Any]) -> Section:
        s = Section(note=[])
        s.add("trials_per_draw", 1, "trial k uses draw k: every trial sees a different plausible parameter set")
        params = Section()
        for path, draws in uncertain.items():
            draws = np.asarray(draws, float)
            if draws.ndim == 2:  # pmf samples
                value = {"samples": [round_pmf(d) for d in draws]}
                comment = f"{len(draws)} bootstrap draws of the pmf"
            else:
                value = _samples(draws)
                comment = f"{len(draws)} draws; mean {_num(draws.mean())}, {_iv(draws)}"
            params.add(path, value, comment)
        s.add("parameters", params, f"{self.draws} joint draws per parameter (SPEC section 9 samples)")
        return s

    def _not_yet_keys(self, doc: Section) -> None:
        """Fitted numbers the uncertainty block cannot vary: their intervals, as comments."""
        f = self.fits
        lines = ["Fitted, but not keys the uncertainty block can vary; their 90% intervals:"]
        if f.arrivals.seasonality_fitted:
            lines.append("  market.seasonality: intervals beside the key above (not varied by the uncertainty block)")
        if f.ramp is not None and f.ramp.ramp:
            lines.append("  defaults.ramp: intervals beside the key above (not varied by the uncertainty block)")
        for k, ds in f.deal_size.items():
            if not ds.lognormal:
                lines.append(f"  territories.{k}.deal_size (empirical): mean {ds.sample_mean:,.0f}, "
                             f"{_iv(ds.sample_mean_draws)}")
        if len(lines) > 1:
            doc.trailer = lines

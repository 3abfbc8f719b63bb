"""Terminal tables of the planning tools (rich), in the number formats of the summary."""

from __future__ import annotations

import math

from rich.console import Console

from ..table import format_value
from ..whatif.render import _pm, _signed, _table

__all__ = ["render_optimize", "render_quotas", "WIDTH"]

WIDTH = 160


def _money(v: float, currency: str) -> str:
    return format_value(v, currency) if math.isfinite(v) and v != 0 else ("0" if v == 0 else "-")


def render_optimize(result, console: Console | None = None) -> None:
    """The steps, the plans compared and the hiring_plan block of an :class:`~.optimize.OptimizeResult`."""
    console = console or Console(width=WIDTH)
    sc = result.scenario
    currency = sc.spec.currency
    unit = result.objective.unit
    budget = []
    if result.hires_budget is not None:
        budget.append(f"{result.hires_budget} hires")
    if result.cost_budget is not None:
        budget.append(f"planned cost {format_value(result.cost_budget, currency)} {currency}")
    p = result.precision
    console.print(f"[bold]optimize {sc.name}[/bold]: {' and '.join(budget)} over {len(result.slots)} slots, "
                  f"objective {result.objective} (maximised)")
    console.print(f"precision: {p.min_trials:,} to {p.max_trials:,} trials per comparison, tolerance {p.tolerance:g}, "
                  f"seed {result.seed} (common random numbers); hires priced on target until the end of the "
                  f"{result.cost_window} window")

    per_cost = result.cost_budget is not None
    cols = ["step", "phase", "change", "gain ± se (paired)", "planned cost"] + (["gain per 100k"] if per_cost else [])
    steps = _table("steps", cols + ["trials", "candidates"], left=("phase", "change"))
    for s in result.steps:
        row = [str(s.number), s.phase, s.action, _signed(s.gain, s.se, unit), _signed(s.cost, math.nan, currency)]
        if per_cost:
            row.append(_signed(1e5 * s.gain / s.cost, math.nan, unit) if s.cost else "-")
        steps.add_row(*row, f"{s.trials:,}", str(s.candidates))
    console.print(steps)
    console.print(f"stopped: {result.stop_reason} ({sum(result.counts)} hires added, planned cost "
                  f"{_money(float(sum(c * h for c, h in zip(result.slot_costs, result.counts))), currency)})")
    for note in result.notes:
        console.print(f"note: {note}")

    plans = _table(f"plans on the same {result.trials:,} futures", ["plan", "added hires", "planned cost",
                   f"{result.objective} ± se", "optimized - plan (paired)"], left=("plan",))
    for fig in result.plans:
        plans.add_row(fig.name, str(fig.added_hires), _money(fig.planned_cost, currency),
                      _pm(fig.objective, fig.objective_se, unit),
                      _signed(fig.diff, fig.diff_se, unit) if math.isfinite(fig.diff) else "")
    console.print(plans)

    has_cost = result.plans[0].sales_cost is not None
    cols = ["year", "plan", "P(goal)", "mean bookings", "± se"] + (["mean sales_cost"] if has_cost else [])
    years = _table("per fiscal year", cols, left=("year", "plan"))
    for j, fy in enumerate(result.plans[0].years):
        if j:
            years.add_section()
        for fig in result.plans:
            row = [f"FY{fy}", fig.name, _pm(fig.p_goal[j], fig.p_goal_se[j], "probability"),
                   _money(fig.bookings[j], currency), _money(fig.bookings_se[j], currency)]
            if has_cost:
                row.append(_money(fig.sales_cost[j], currency))
            years.add_row(*row)
    console.print(years)
    console.print("chosen plan (the scenario's own entries, then the new ones):")
    console.print(result.plan_yaml().rstrip(), markup=False, highlight=False)


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%" if math.isfinite(v) else "-"


def _range(lo: float, hi: float) -> str:
    return f"{100 * lo:.0f}%-{100 * hi:.0f}%" if math.isfinite(lo) and math.isfinite(hi) else "-"


def render_quotas(result, console: Console | None = None, by_rep: bool = True) -> None:
    """Territory and rep tables of a :class:`~.quotas.QuotaResult`: proposed quotas against today's."""
    console = console or Console(width=WIDTH)
    cur = result.currency
    goal = result.goal
    console.print(f"[bold]quotas {result.scenario.name} FY{result.fiscal_year}[/bold], rule {result.rule}: goal "
                  f"{format_value(goal, cur)} x over-assign {result.over_assign:g} = {format_value(result.target, cur)} "
                  f"{cur} of planned quota ({result.trials:,} trials, seed {result.seed})")
    if result.months < 12:
        console.print(f"FY{result.fiscal_year} is in progress: {result.months} months are simulated, and the "
                      f"{format_value(result.fixed, cur)} of quota the reps carried before the start stays as it is")
    carried_now = sum(t.carried_current for t in result.territories)
    carried = sum(t.carried for t in result.territories)
    console.print(f"planned quota: now {format_value(result.planned_total_current, cur)} "
                  f"({result.planned_total_current / goal:.2f} x goal), proposed {format_value(result.planned_total, cur)} "
                  f"({result.planned_total / goal:.2f} x goal)")
    console.print(f"expected quota carried after attrition and vacancies: now {format_value(carried_now, cur)}, "
                  f"proposed {format_value(carried, cur)}")
    if math.isfinite(result.p_equal):
        console.print(f"every full-tenure rep's chance of making quota: {_pct(result.p_equal)}")
    own = any(t.named_quotas for t in result.territories)
    out = _table("territories: quota = the territory's quota_annual; P(attain) of full-tenure reps; reps at quota: "
                 "every filled seat", ["territory", "quotas", "seats", "full-tenure"] + (["own quotas"] if own else [])
                 + ["quota", "planned total", "P(attain) ± se", "P10-P90 attainment", "reps at quota"],
                 left=("territory", "quotas"))
    for i, t in enumerate(result.territories):
        if i:
            out.add_section()
        extra_now = [""] if own else []
        extra_new = [str(t.named_quotas) if t.named_quotas else ""] if own else []
        out.add_row(t.territory, "now", str(t.seats), str(t.full_seats), *extra_now, format_value(t.current, cur),
                    format_value(t.current_total, cur), _pm(t.p_attain_current, t.p_attain_current_se, "probability"),
                    _range(t.attainment_current[0], t.attainment_current[2]), _pct(t.at_quota_current))
        out.add_row("", "proposed", "", "", *extra_new, format_value(t.proposed, cur), format_value(t.proposed_total, cur),
                    _pm(t.p_attain, t.p_attain_se, "probability"), _range(t.attainment[0], t.attainment[2]),
                    _pct(t.at_quota))
    console.print(out)
    if by_rep:
        reps = _table("reps: the planned rep of each seat, in the futures where they still hold it at the year's end"
                      + ("; own: a quota of their own" if own else ""),
                      ["seat", "territory", "planned rep", "quota share", "stays", "quota now", "P(attain) now",
                       "P10-P90 now", "quota"] + ([""] if own else []) + ["P(attain) ± se", "P10-P90"],
                      left=("territory", "planned rep", ""))
        for s in result.seats:
            mark = ["own" if ".reps." in s.key else ""] if own else []
            reps.add_row(str(s.seat), s.territory, s.planned, f"{s.units:.2f}", _pct(s.stays),
                         format_value(s.current, cur), _pct(s.p_attain_current), _range(*s.attainment_current),
                         format_value(s.proposed, cur), *mark, _pm(s.p_attain, s.p_attain_se, "probability"),
                         _range(*s.attainment))
        console.print(reps)
    for note in result.notes:
        console.print(f"note: {note}")

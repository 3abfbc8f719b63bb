"""The planning commands: ``optimize`` and ``quotas`` (:mod:`salessim.plan`).

Each parses its options, calls the library and prints a table (or JSON); with ``-o`` it
writes the input scenario with the proposal in place, keeping the file's comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import plan as _plan
from ..plan import render as _render
from ..plan.writing import proposal_yaml, write_proposal
from ..whatif.common import parse_number
from .helpers import UserError, library_call, load, output_path, parse_sets, runs_progress
from .options import seed_option, set_option

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                       help="Print tables, or one JSON document for scripts. Example: --format json > plan.json")


def _scenario_output(output: str | None, scenario: str, command: str, sc) -> Path | None:
    """The ``-o`` path for a scenario YAML (None: nothing is written), checked by the one output rule."""
    if output is None:
        return None
    out = output_path(output, Path(f"{command}.yaml"), [scenario, *sc.files_read])
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise UserError(f"--output {out}: a scenario file must end in .yaml or .yml")
    return out


def _write(out: Path | None, scenario_path: str, sets: tuple[str, ...], scenario, changes: dict, note: str) -> None:
    if out is None:
        return
    text = library_call(proposal_yaml, scenario, changes, base_text=Path(scenario_path).read_text(encoding="utf-8"),
                        overrides=parse_sets(sets), note=note, base_dir=Path(scenario_path).parent, out_dir=out.parent)
    try:
        write_proposal(out, text)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)


@click.command("optimize")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--hires", type=click.IntRange(min=1), default=None,
              help="Most hires to add to the scenario's plan. Example: --hires 10")
@click.option("--budget-cost", default=None, metavar="AMOUNT",
              help="Most planned cost of the added hires, in the scenario currency: each hire is priced on target "
                   "(hiring cost, base, overhead and variable pay at 100% of its ramped quota) until the end of "
                   "--cost-window. Example: --budget-cost 1.5e6")
@click.option("--slots", "slots", multiple=True, required=True, metavar="TERRITORIES:WINDOW",
              help="Where and when a hire may start (repeatable): territories (comma-separated, or *) and one "
                   "month, a month range (every month) or a fiscal-quarter range (the first month of each). "
                   "Example: --slots 'East,West:2027-01..2027-12' or --slots '*:2027Q1..2027Q4'")
@click.option("--objective", required=True, metavar="EXPR",
              help="What to maximise: a summary metric for a fiscal year, or a sum of them (a number may weight "
                   "a term). Example: --objective 'p_goal[2028]' or 'bookings[2028] - sales_cost[2028]'")
@click.option("--cost-window", type=click.Choice(["objective", "horizon"]), default="objective", show_default=True,
              help="Price hires until the end of the objective's last fiscal year, or of the horizon. "
                   "Example: --cost-window horizon")
@click.option("-n", "--trials", type=click.IntRange(min=20), default=4_000, show_default=True,
              help="Most trials a comparison may use (the precision rule stops earlier when it can), and the "
                   "trials of the final comparison of plans. Example: -n 8000")
@click.option("--min-trials", type=click.IntRange(min=20), default=500, show_default=True,
              help="Trials of the first round of each comparison (doubled while the race is open). "
                   "Example: --min-trials 250")
@click.option("--tolerance", type=float, default=0.05, show_default=True,
              help="Resolution of the search as a fraction of the first hire's gain: smaller differences are "
                   "not worth more trials. Example: --tolerance 0.1")
@seed_option
@set_option
@_FORMAT
@click.option("-o", "--output", default=None,
              help="Write the scenario with the chosen hiring plan added (comments kept). Example: -o plan.yaml")
def optimize_cmd(scenario: str, hires: int | None, budget_cost: str | None, slots: tuple[str, ...], objective: str,
                 cost_window: str, trials: int, min_trials: int, tolerance: float, seed: int, sets: tuple[str, ...],
                 fmt: str, output: str | None) -> None:
    """Choose where and when to add hires so that an objective is largest.

    Greedy: each hire goes to the slot with the largest gain per unit of cost (per hire
    when the budget is a count), all candidates run on the same futures (paired
    differences). Then hires are moved one at a time while a move improves the objective
    by more than 2 standard errors. Prints each step's gain with its paired standard
    error, the chosen plan against the scenario's own plan and an even spread of the same
    hires (P(goal), bookings, cost), and the hiring_plan block to paste.

    \b
    Examples:
      salessim optimize scenarios/baseline.yaml --hires 10 --slots '*:2027Q1..2027Q4' --objective 'p_goal[2028]'
      salessim optimize scenarios/baseline.yaml --budget-cost 1.5e6 --slots 'East,West:2027-01..2027-06' \\
          --objective 'net_contribution[2028]' -o plan.yaml
    """
    sc = load(scenario, sets)
    out = _scenario_output(output, scenario, "optimize", sc)
    cost = library_call(parse_number, budget_cost, "--budget-cost") if budget_cost is not None else None
    result = runs_progress("optimizing", hires, _plan.optimize, sc, hires, list(slots), objective, budget_cost=cost,
                           trials=trials, min_trials=min_trials, tolerance=tolerance, seed=seed, cost_window=cost_window)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _render.render_optimize(result)
    note = f"added by salessim optimize: {result.objective}, seed {seed}"
    _write(out, scenario, sets, sc, {"hiring_plan": result.hiring_plan}, note)


@click.command("quotas")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--rule", type=click.Choice(list(_plan.RULES)), default="equal-chance", show_default=True,
              help="equal-chance: every full-tenure rep (named reps of a roster with their own skill, open deals and "
                   "year to date) gets the same chance of making quota; capacity: quotas in proportion to each rep's "
                   "expected bookings; flat: one number. Example: --rule capacity")
@click.option("--over-assign", type=float, default=1.1, show_default=True,
              help="Planned quota over the goal (ramping reps count with their ramped share). Example: --over-assign 1.2")
@click.option("--fiscal-year", type=int, default=None,
              help="Fiscal year whose goal is allocated [default: the first with a goal, the one in progress included]. "
                   "Example: --fiscal-year 2028")
@click.option("-n", "--trials", type=click.IntRange(min=20), default=4_000, show_default=True,
              help="Trials of the simulation behind the figures. Example: -n 10000")
@click.option("--by-rep/--no-by-rep", default=True, show_default=True,
              help="Also print one row per rep (seat). Example: --no-by-rep")
@seed_option
@set_option
@_FORMAT
@click.option("-o", "--output", default=None,
              help="Write the scenario with the proposed quotas in place (comments kept). Example: -o quotas.yaml")
def quotas_cmd(scenario: str, rule: str, over_assign: float, fiscal_year: int | None, trials: int, by_rep: bool,
               seed: int, sets: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Allocate the goal, times an over-assignment, to territory and rep quotas.

    Each territory gets a quota_annual (its anonymous reps, hires, backfills and ramping
    reps) and each full-tenure named rep of a roster one of their own
    (territories[i].reps[j].quota_annual). The proposed quotas sum (as planned: each rep
    assumed to stay, ramping reps at their ramped share, plus the quota already carried
    in a fiscal year in progress) to goal x over-assignment. Per territory and rep the
    tables show the quota, P(attainment >= 100%), P10-P90 attainment and the share of reps
    at quota, for the proposed and for the current quotas, from one simulation.

    \b
    Examples:
      salessim quotas scenarios/baseline.yaml --rule equal-chance --over-assign 1.1 --fiscal-year 2028
      salessim quotas scenarios/baseline.yaml --rule capacity --format json -o quotas.yaml
      salessim quotas scenarios/midyear.yaml --fiscal-year 2028 -o midyear_quotas.yaml
    """
    sc = load(scenario, sets)
    out = _scenario_output(output, scenario, "quotas", sc)
    result = library_call(_plan.quotas, sc, rule, over_assign, fiscal_year, trials=trials, seed=seed)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _render.render_quotas(result, by_rep=by_rep)
    note = f"quotas by salessim quotas: rule {rule}, FY{result.fiscal_year}, over-assign {over_assign:g}, seed {seed}"
    _write(out, scenario, sets, sc, dict(result.changes), note)

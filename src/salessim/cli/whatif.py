"""The what-if commands: ``compare``, ``sweep``, ``solve`` and ``sensitivity`` (:mod:`salessim.whatif`)."""

from __future__ import annotations

import click

from .. import whatif as _whatif
from ..whatif import render as _render
from .helpers import UserError, cluster_session, library_call, load, runs_progress, save, whatif_output
from .options import cluster_option, few_trials_option, seed_option, set_option, trials_option, whatif_output_option


@click.command("compare")
@click.argument("scenarios", nargs=-1, required=True, metavar="A.yaml B.yaml [C.yaml ...]")
@trials_option
@seed_option
@set_option
@whatif_output_option
@cluster_option
def compare_cmd(scenarios: tuple[str, ...], trials: int, seed: int, sets: tuple[str, ...], output: str | None,
                cluster: str | None = None) -> None:
    """Run plans on the same random futures and compare them with the first.

    Per fiscal year: mean and P10/P50/P90 of bookings (and cost of sales when the
    scenarios carry compensation), P(bookings >= goal), share of reps at quota; for each
    plan against the first, the paired difference with its standard error and the share
    of futures in which it books more. --set applies to every scenario.

    \b
    Example:
      salessim compare scenarios/baseline.yaml planB.yaml -n 10000 --seed 1 -o results/ab.h5
    """
    if len(scenarios) < 2:
        raise UserError(f"compare needs at least two scenario files, got {len(scenarios)}: {' '.join(scenarios)}")
    loaded = [load(path, sets) for path in scenarios]
    out = whatif_output(output, "compare", [*scenarios, *(f for sc in loaded for f in sc.files_read)])
    with cluster_session(cluster, loaded[0]) as client:
        ds = runs_progress("comparing", len(loaded), _whatif.compare, loaded, trials, seed, client=client)
    _render.render_compare(ds)
    save(ds, out)


def _parse_vary(items: tuple[str, ...]) -> dict[str, list[str]]:
    vary: dict[str, list[str]] = {}
    for item in items:
        path, sep, text = item.partition("=")
        path = path.strip()
        if not sep or not path or not text.strip():
            raise UserError(f"--vary expects PATH=V1,V2,... such as territories.East.reps=6,8,10, got {item!r}")
        if path in vary:
            raise UserError(f"--vary {path} is given twice; list all its values once: {path}=V1,V2,...")
        values = [v.strip() for v in text.split(",")]
        if any(not v for v in values):
            raise UserError(f"--vary {path}: empty value in {text!r}; write {path}=V1,V2,...")
        vary[path] = values
    return vary


@click.command("sweep")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--vary", "vary", multiple=True, required=True, metavar="PATH=V1,V2,...",
              help="A scenario path and the values to try (repeatable; every combination runs). "
                   "Example: --vary territories.East.reps=6,8,10 --vary market.annual_growth=0,0.1")
@few_trials_option
@seed_option
@set_option
@whatif_output_option
@cluster_option
def sweep_cmd(scenario: str, vary: tuple[str, ...], trials: int, seed: int, sets: tuple[str, ...], output: str | None,
              cluster: str | None = None) -> None:
    """Run SCENARIO at every combination of the varied values, on common random numbers.

    The table shows bookings, P(goal) and reps at quota per grid point and fiscal year; the
    saved Dataset has one dimension per varied path, with the values as its coordinate.

    \b
    Example:
      salessim sweep scenarios/baseline.yaml --vary hiring_plan.1.hires=0,2,4 --vary territories.West.win_rate=0.3,0.36
    """
    sc = load(scenario, sets)
    grid = _parse_vary(vary)
    out = whatif_output(output, "sweep", [scenario, *sc.files_read])
    total = 1
    for values in grid.values():
        total *= len(values)
    with cluster_session(cluster, sc) as client:
        ds = runs_progress("sweeping", total, _whatif.sweep, sc, grid, trials, seed, client=client)
    _render.render_sweep(ds)
    save(ds, out)


@click.command("solve")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--lever", required=True, metavar="PATH",
              help="The scenario value to solve for, as a --set path. Example: --lever hiring_plan.1.hires")
@click.option("--range", "range_", required=True, metavar="LO:HI",
              help="The values searched. Example: --range 0:20 (hires) or --range 200000:500000 (quota)")
@click.option("--target", required=True, metavar="EXPR",
              help="METRIC[YEAR] OP NUMBER or METRIC[YEAR,TERRITORY] OP NUMBER with a summary metric and OP one of "
                   ">=, <=, >, <. Example: --target 'p_goal[2027] >= 0.9'")
@click.option("--largest", is_flag=True, default=False,
              help="Find the largest value meeting the target instead of the smallest. "
                   "Example: --lever defaults.quota_annual --largest")
@click.option("--tol", type=float, default=None,
              help="For real-valued levers: stop when the bracket is this narrow, in the lever's unit "
                   "[default: (HI - LO) / 1000]. Example: --tol 500")
@few_trials_option
@seed_option
@set_option
@whatif_output_option
@cluster_option
def solve_cmd(scenario: str, lever: str, range_: str, target: str, largest: bool, tol: float | None, trials: int,
              seed: int, sets: tuple[str, ...], output: str | None, cluster: str | None = None) -> None:
    """Find the smallest (or largest) lever value whose summary metric meets a target.

    Every point runs on the same seed (common random numbers), which makes the estimate
    (near-)monotone in the lever, and a bisection finds the boundary: over whole numbers
    for whole-number levers (hires, reps), to --tol for real ones. The table lists every
    point explored with the metric's standard error. A target that no value in the range
    meets is reported with the best value reached (exit status 2).

    \b
    Examples:
      salessim solve scenarios/baseline.yaml --lever hiring_plan.1.hires --range 0:20 --target 'p_goal[2027] >= 0.9'
      salessim solve scenarios/baseline.yaml --lever defaults.quota_annual --range 200000:500000 \\
          --target 'reps_at_quota[2027] >= 0.6' --largest
    """
    sc = load(scenario, sets)
    lo, hi = library_call(_whatif.parse_range, range_)
    goal = library_call(_whatif.parse_target, target)
    out = whatif_output(output, "solve", [scenario, *sc.files_read])
    with cluster_session(cluster, sc) as client:
        result = runs_progress("solving", None, _whatif.solve, sc, lever.strip(), lo, hi, goal,
                               largest=largest, trials=trials, seed=seed, tol=tol, client=client)
    _render.render_solve(result)
    if not result.met:
        raise UserError(result.message)
    if out is not None:  # the curve Dataset (and xarray) only when it is saved
        save(result.curve, out)


@click.command("sensitivity")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--delta", type=float, default=0.1, show_default=True,
              help="Relative move of each assumption, down and up. Example: --delta 0.2 (80% and 120%)")
@click.option("--year", type=int, default=None,
              help="Fiscal year whose effects rank the assumptions [default: the first full one]. Example: --year 2028")
@click.option("--rank-by", type=click.Choice(["bookings", "p_goal"]), default="bookings", show_default=True,
              help="Rank by the effect on mean bookings or on P(goal). Example: --rank-by p_goal")
@click.option("--param", "params", multiple=True, metavar="PATH",
              help="Only these assumptions (repeatable). Example: --param territories.East.win_rate")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Show only the largest effects in the table (the Dataset keeps all). Example: --top 10")
@few_trials_option
@seed_option
@set_option
@whatif_output_option
@cluster_option
def sensitivity_cmd(scenario: str, delta: float, year: int | None, rank_by: str, params: tuple[str, ...], top: int | None,
                    trials: int, seed: int, sets: tuple[str, ...], output: str | None, cluster: str | None = None) -> None:
    """Rank the assumptions by how much they move bookings and P(goal): a tornado table.

    Each numeric assumption (per territory where it is per territory) is moved down and up
    by --delta, one at a time, on the base run's random numbers; effects are paired
    differences with standard errors. Whole-number keys are rounded and probabilities
    clipped to [0, 1] (noted in the table); lists, the hiring plan, the goal and quotas
    are not moved.

    \b
    Example:
      salessim sensitivity scenarios/baseline.yaml --delta 0.1 --top 12 -o results/tornado.h5
    """
    sc = load(scenario, sets)
    out = whatif_output(output, "sensitivity", [scenario, *sc.files_read])
    moves, _ = library_call(_whatif.assumptions, sc, delta) if 0 < delta < 1 else ([], [])
    total = 1 + 2 * (len(params) if params else len(moves))
    with cluster_session(cluster, sc) as client:
        ds = runs_progress("sensitivity", total, _whatif.sensitivity, sc, delta, trials, seed,
                           parameters=list(params) or None, year=year, rank_by=rank_by, client=client)
    _render.render_sensitivity(ds, top=top)
    save(ds, out)

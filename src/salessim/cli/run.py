"""``run``, ``validate``, ``summary`` and ``keys``: simulate a scenario and read its summary."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from ..engine import SimulationError, simulate
from ..results import ResultsError, save_results
from ..scenario import Scenario
from ..summary import summarize
from ..table import render_summary
from .helpers import UserError, echo, load, output_path, runs_progress, warning_lines
from .options import format_option, seed_option, set_option, trials_option

@click.command("run")
@click.argument("scenario", metavar="SCENARIO")
@trials_option
@seed_option
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Results file to write (HDF5) [default: results/<scenario name>.h5]; a path ending in / is a "
                   "folder to write <scenario name>.h5 in. Example: -o results/planB.h5")
@set_option
@click.option("--chunk-trials", type=click.IntRange(min=1), default=None,
              help="Trials simulated per chunk (bounds memory; never changes results). Example: --chunk-trials 1000")
@format_option
@click.option("--precision", type=float, default=None, metavar="SE",
              help="Add chunks of --chunk-trials trials (default 1000) until the standard error of P(goal) in every "
                   "fiscal year, and the relative standard error of mean bookings, are at most SE; -n is then not used. "
                   "Example: --precision 0.01")
@click.option("--max-trials", type=click.IntRange(min=2), default=None,
              help="With --precision: never run more trials than this [default: 50000]. Example: --max-trials 20000")
@click.option("--stream", is_flag=True, default=False,
              help="Write each chunk of trials to the results file as it is simulated and keep only the summary "
                   "in memory, for runs too large to hold (same file as without). Example: -n 1000000 --stream")
def run(scenario: str, trials: int, seed: int, output: str | None, sets: tuple[str, ...],
        chunk_trials: int | None, fmt: str, precision: float | None = None, max_trials: int | None = None,
        stream: bool = False) -> None:
    """Simulate SCENARIO, save the results and print the summary.

    \b
    Example:
      salessim run scenarios/baseline.yaml -n 10000 --seed 7 --set territories.East.reps=10
    """
    sc = load(scenario, sets)
    out = output_path(output, Path("results") / f"{sc.name}.h5", [scenario, *sc.files_read])
    report = None
    if stream:
        if precision is not None:
            raise UserError("--stream and --precision cannot be combined (--precision needs the trials in memory)")
        table = _stream_with_progress(sc, out, trials, seed, chunk_trials)
        attrs = {"scenario_name": sc.name, "description": sc.spec.description, "seed": seed, "trials": trials,
                 "currency": sc.spec.currency}
        _print_table(table, attrs, fmt, saved_to=out)
        return
    if precision is not None:
        ds, report = _run_to_precision(sc, precision, max_trials, seed, chunk_trials)
    elif max_trials is not None:
        raise UserError("--max-trials only works with --precision (use -n for a fixed number of trials)")
    else:
        try:
            ds = _simulate_with_progress(sc, trials, seed, chunk_trials)
        except SimulationError as exc:
            raise UserError(str(exc)) from None
    # the summary is computed while the file is compressed and written (the save releases the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        saving = pool.submit(save_results, ds, out)
        table = summarize(ds)
        try:
            saving.result()
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    _print_table(table, ds.attrs, fmt, saved_to=out)
    if report is not None:
        click.echo(report.message, err=fmt != "table")  # csv/json stay parseable on stdout


def _simulate_with_progress(sc: Scenario, trials: int, seed: int, chunk_trials: int | None):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("simulating {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(sc.name, total=trials)
        return simulate(sc, trials, seed, chunk_trials=chunk_trials,
                        progress=lambda done, total: bar.update(task, completed=done))


def _stream_with_progress(sc: Scenario, out: Path, trials: int, seed: int, chunk_trials: int | None):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..stream import simulate_to_file

    console = Console(stderr=True)
    columns = (TextColumn("simulating {task.description} to file"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(sc.name, total=trials)
            return simulate_to_file(sc, out, trials, seed, chunk_trials=chunk_trials,
                                    progress=lambda done, total: bar.update(task, completed=done))
    except SimulationError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def _print_table(table, attrs, fmt: str, saved_to: Path | None = None) -> None:
    if fmt == "csv":
        from ..export import spreadsheet_safe

        click.echo(spreadsheet_safe(table).to_csv(index=False), nl=False)  # opened in spreadsheets: no formulas
    elif fmt == "json":
        payload = {
            "scenario": attrs.get("scenario_name"),
            "seed": int(attrs["seed"]),
            "trials": int(attrs["trials"]),
            "currency": attrs.get("currency"),
            "rows": [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                     for row in table.to_dict(orient="records")],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        render_summary(attrs, table, saved_to=saved_to)


@click.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@set_option
def validate(scenarios: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check one or more scenario files and report every problem.

    \b
    Example:
      salessim validate scenarios/baseline.yaml scenarios/startup.yaml
    """
    failures = []
    for path in scenarios:
        try:
            sc = load(path, sets, warn=False)
        except UserError as exc:
            failures.append(exc.message)
            continue
        seats = len(sc.seat_territories())
        full = sum(1 for _, first, last in sc.fiscal_year_spans() if last - first == 11)
        extra = []
        if sc.fiscal_year_in_progress() is not None:
            extra.append(f"FY{sc.fiscal_year_in_progress()} in progress with actuals")
        if sc.spec.pipeline:
            extra.append(f"{len(sc.spec.pipeline):,} open deals")
        if sc.spec.uncertainty is not None and sc.spec.uncertainty.parameters:
            extra.append(f"{len(sc.spec.uncertainty.parameters)} uncertain parameters")
        echo(f"ok: {path} ({sc.name}: {len(sc.territories)} territories, {seats} seats, "
                   f"{sc.horizon_months} months from {sc.spec.start}, {full} full fiscal years"
                   + "".join(f", {e}" for e in extra) + ")")
        for line in warning_lines(sc):
            echo(f"  {line}")
    if failures:
        raise UserError("\n".join(failures))


@click.command()
@click.argument("results", metavar="RESULTS.h5")
@format_option
def summary(results: str, fmt: str) -> None:
    """Print the summary of a results file.

    \b
    Example:
      salessim summary results/baseline.h5 --format json
    """
    from ..stream import summarize_file

    try:
        table, attrs = summarize_file(results)  # chunk by chunk: any size of file
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    _print_table(table, attrs, fmt)


@click.command()
def keys() -> None:
    """Print every scenario key with its meaning, unit and default (Markdown).

    \b
    Example:
      salessim keys > keys.md
    """
    from ..scenario import key_reference

    click.echo(key_reference(), nl=False)


def _run_to_precision(sc: Scenario, precision: float, max_trials: int | None, seed: int, chunk_trials: int | None):
    """``run --precision``: add chunks of trials until the standard errors are small enough."""
    from click.core import ParameterSource

    from ..whatif import simulate_to_precision

    ctx = click.get_current_context()
    if ctx.get_parameter_source("trials") == ParameterSource.COMMANDLINE:
        raise UserError("--precision decides the number of trials; give --max-trials instead of -n/--trials")
    limit = 50_000 if max_trials is None else max_trials
    step = chunk_trials or 1_000
    return runs_progress(f"simulating {sc.name} to precision {precision:g}", limit,
                               simulate_to_precision, sc, precision, seed=seed, max_trials=limit, step=step)

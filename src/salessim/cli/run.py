"""``run``, ``validate``, ``summary`` and ``keys``: simulate a scenario and read its summary."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from ..engine import SimulationError, result_parts, run_buffers, to_dataset
from ..results import ResultsError, save_results, write_parts
from ..scenario import Scenario
from ..summary import COLUMNS, rows_of_parts, summarize
from ..table import render_summary
from ..yearly import KEEP
from .helpers import UserError, cluster_session, echo, interruptible, load, output_path, runs_progress, warning_lines, write_error
from .options import cluster_option, format_option, seed_option, set_option, trials_option

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
@click.option("--resume", is_flag=True, default=False,
              help="With --stream: continue an interrupted or killed stream of the same run (same scenario, -n, --seed, "
                   "--keep, --chunk-trials) from its last complete chunk; the file is identical to an uninterrupted "
                   "run. Example: -n 1000000 --stream --resume")
@click.option("--keep", type=click.Choice(KEEP), default="full", show_default=True,
              help="What the file stores: full (every month) or yearly (the per-trial fiscal-year figures the summary "
                   "needs plus per-seat attainment, about 7x smaller; same summary). Example: --keep yearly")
@cluster_option
@click.option("--in-flight", "in_flight", type=click.IntRange(min=1), default=None,
              help="With --cluster: chunks submitted to the workers and not yet written (bounds this process's "
                   "memory) [default: twice the worker threads]. Example: --in-flight 8")
def run(scenario: str, trials: int, seed: int, output: str | None, sets: tuple[str, ...],
        chunk_trials: int | None, fmt: str, precision: float | None = None, max_trials: int | None = None,
        stream: bool = False, resume: bool = False, keep: str = "full", cluster: str | None = None,
        in_flight: int | None = None) -> None:
    """Simulate SCENARIO, save the results and print the summary.

    Ctrl-C stops the run: a plain run writes nothing (an earlier file stays as it was); a
    streamed run keeps what it has done for --resume.

    \b
    Examples:
      salessim run scenarios/baseline.yaml -n 10000 --seed 7 --set territories.East.reps=10
      salessim run scenarios/baseline.yaml -n 1000000 --stream --keep yearly --cluster local
    """
    sc = load(scenario, sets)
    out = output_path(output, Path("results") / f"{sc.name}.h5", [scenario, *sc.files_read])
    if stream and precision is not None:
        raise UserError("--stream and --precision cannot be combined (--precision needs the trials in memory)")
    if resume and not stream:
        raise UserError("--resume continues an interrupted --stream run; add --stream")
    if in_flight is not None and cluster is None:
        raise UserError("--in-flight bounds the chunks sent to a cluster; add --cluster")
    if max_trials is not None and precision is None:
        raise UserError("--max-trials only works with --precision (use -n for a fixed number of trials)")
    try:
        _run(sc, out, trials, seed, chunk_trials, fmt, precision, max_trials, stream, resume, keep, cluster, in_flight)
    except KeyboardInterrupt:  # while a cluster was starting or stopping: nothing was written
        _interrupted(f"interrupted: nothing was written{'; ' + str(out) + ' is unchanged' if out.exists() else ''}")


def _run(sc, out, trials, seed, chunk_trials, fmt, precision, max_trials, stream, resume, keep, cluster, in_flight):
    report = None
    with interruptible(), cluster_session(cluster, sc) as client:
        if stream:
            table = _stream_with_progress(sc, out, trials, seed, chunk_trials, keep, resume, client, in_flight)
            attrs = {"scenario_name": sc.name, "description": sc.spec.description, "seed": seed, "trials": trials,
                     "currency": sc.spec.currency}
            _print_table(table, attrs, fmt, saved_to=out)
            return
        try:
            if precision is not None:
                ds, report = _run_to_precision(sc, precision, max_trials, seed, chunk_trials, client)
            else:
                buffers = _simulate_with_progress(sc, trials, seed, chunk_trials, client, in_flight)
        except KeyboardInterrupt:
            _interrupted(f"interrupted: nothing was written{'; ' + str(out) + ' is unchanged' if out.exists() else ''}")
        if precision is None and keep == "full":
            # the file and the summary straight from the kernel's arrays: no Dataset (and no
            # xarray or pandas) on the way, which is most of a warm run's fixed cost
            parts = result_parts(sc, buffers, seed=seed)
            table = _save_and_summarize(parts, out, write_parts, rows_of_parts)
            attrs = parts.attrs
        else:
            from ..yearly import to_yearly

            if precision is None:
                ds = to_dataset(sc, buffers, seed=seed, derived=False)  # what the file stores
            if keep == "yearly":
                ds = to_yearly(ds)
            table = _save_and_summarize(ds, out, save_results, summarize)
            attrs = ds.attrs
    _print_table(table, attrs, fmt, saved_to=out)
    if report is not None:
        click.echo(report.message, err=fmt != "table")  # csv/json stay parseable on stdout


def _interrupted(message: str):
    click.echo(message, err=True)
    raise SystemExit(130)  # the shell's code for a run stopped by SIGINT


def _save_and_summarize(results, out: Path, save, summarize):
    """``save(results, out)`` in this (the main) thread, so that an interrupt stops the save
    before the file is replaced, while ``summarize(results)`` runs alongside in a worker thread."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        summarizing = pool.submit(summarize, results)
        try:
            save(results, out)
        except OSError as exc:
            raise write_error(out, exc) from None
        except KeyboardInterrupt:
            _interrupted(f"interrupted while saving: nothing was written{'; ' + str(out) + ' is unchanged' if out.exists() else ''}")
        return summarizing.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _simulate_with_progress(sc: Scenario, trials: int, seed: int, chunk_trials: int | None, client=None,
                            in_flight: int | None = None):
    """The kernel's arrays of the run (:func:`salessim.engine.run_buffers`), with a progress bar on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("simulating {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(sc.name, total=trials)
        try:
            return run_buffers(sc, trials, seed, chunk_trials=chunk_trials, client=client, max_in_flight=in_flight,
                               progress=lambda done, total: bar.update(task, completed=done))
        except SimulationError as exc:
            raise UserError(str(exc)) from None


def _stream_with_progress(sc: Scenario, out: Path, trials: int, seed: int, chunk_trials: int | None, keep: str,
                          resume: bool, client, in_flight: int | None):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .._files import partials
    from ..stream import StreamError, simulate_to_file

    console = Console(stderr=True)
    columns = (TextColumn("simulating {task.description} to file"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    if resume and not partials(out):
        click.echo(f"no interrupted stream of {out} to resume: starting from trial 0", err=True)
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(sc.name, total=trials)
            return simulate_to_file(sc, out, trials, seed, chunk_trials=chunk_trials, keep=keep, resume=resume,
                                    client=client, max_in_flight=in_flight,
                                    progress=lambda done, total: bar.update(task, completed=done))
    except (SimulationError, StreamError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise write_error(out, exc) from None
    except KeyboardInterrupt:
        kept = partials(out)
        if kept:
            import h5netcdf

            with h5netcdf.File(kept[0], "r") as f:
                done = int(f.attrs["trials"])
            _interrupted(f"interrupted: {done:,} of {trials:,} trials are kept in {kept[0]}; run the same command "
                         f"with --resume to continue{'; ' + str(out) + ' is unchanged' if out.exists() else ''}")
        _interrupted(f"interrupted: nothing was written{'; ' + str(out) + ' is unchanged' if out.exists() else ''}")


def _print_table(table, attrs, fmt: str, saved_to: Path | None = None) -> None:
    """Print a summary (a DataFrame, or :func:`~salessim.summary.summary_rows` dicts)."""
    if fmt == "csv":
        import pandas as pd

        from ..export import spreadsheet_safe

        if isinstance(table, list):
            table = pd.DataFrame(table, columns=COLUMNS)
        click.echo(spreadsheet_safe(table).to_csv(index=False), nl=False)  # opened in spreadsheets: no formulas
    elif fmt == "json":
        records = table if isinstance(table, list) else table.to_dict(orient="records")
        payload = {
            "scenario": attrs.get("scenario_name"),
            "seed": int(attrs["seed"]),
            "trials": int(attrs["trials"]),
            "currency": attrs.get("currency"),
            "rows": [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                     for row in records],
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


def _run_to_precision(sc: Scenario, precision: float, max_trials: int | None, seed: int, chunk_trials: int | None,
                      client=None):
    """``run --precision``: add chunks of trials until the standard errors are small enough."""
    from click.core import ParameterSource

    from ..whatif import simulate_to_precision

    ctx = click.get_current_context()
    if ctx.get_parameter_source("trials") == ParameterSource.COMMANDLINE:
        raise UserError("--precision decides the number of trials; give --max-trials instead of -n/--trials")
    limit = 50_000 if max_trials is None else max_trials
    step = chunk_trials or 1_000
    return runs_progress(f"simulating {sc.name} to precision {precision:g}", limit,
                         simulate_to_precision, sc, precision, seed=seed, max_trials=limit, step=step, client=client)

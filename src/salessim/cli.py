"""The ``salessim`` command line: parse, call the library, print or write.

Every error a user can cause (missing file, bad YAML, invalid scenario, bad ``--set``,
unreadable results) prints one message and exits with status 2; nothing is written.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import click
import yaml

from .engine import MAX_SEED, SimulationError, simulate
from .results import ResultsError, open_results, save_results
from .scenario import Scenario, ScenarioError, load_scenario
from .summary import summarize
from .table import render_summary


class UserError(click.ClickException):
    """A mistake in the user's input: message, no traceback, exit status 2."""

    exit_code = 2


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for pair in pairs:
        path, sep, text = pair.partition("=")
        if not sep or not path.strip():
            raise UserError(f"--set expects PATH=VALUE such as territories.East.win_rate=0.5, got {pair!r}")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise UserError(f"--set {path}: cannot read the value {text!r} (write numbers, true/false, null or [a, b])") from None
        overrides[path.strip()] = value
    return overrides


def _load(path: str, sets: tuple[str, ...] = ()) -> Scenario:
    overrides = _parse_sets(sets)
    try:
        sc = load_scenario(path)
        return sc.with_overrides(overrides) if overrides else sc
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


# Options shared by commands that run simulations (defined once).
trials_option = click.option(
    "-n", "--trials", type=click.IntRange(min=1), default=10_000, show_default=True,
    help="Number of simulated futures (trials). Example: -n 2000 for a quick look.")
seed_option = click.option(
    "--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
    help="Random seed; the same seed gives bit-identical results. Example: --seed 42.")
set_option = click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE",
    help="Override a scenario key by dotted path (repeatable); the value is read as YAML. "
         "Example: --set territories.East.win_rate=0.5 --set goal.annual=[9e6,11e6,13e6]")
format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
    help="How to print the summary. Example: --format csv > summary.csv")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="salessim")
def main() -> None:
    """salessim: simulate a sales organisation month by month and answer how likely the goal is.

    \b
    Examples:
      salessim validate scenarios/*.yaml
      salessim run scenarios/baseline.yaml -n 10000 --seed 1
      salessim summary results/baseline.h5 --format csv
      salessim keys
    """


@main.command()
@click.argument("scenario", metavar="SCENARIO")
@trials_option
@seed_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Results file to write (HDF5) [default: results/<scenario name>.h5]. Example: -o results/planB.h5")
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
    sc = _load(scenario, sets)
    out = Path(output) if output else Path("results") / f"{sc.name}.h5"
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name such as {out / (sc.name + '.h5')}")
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

    from .stream import simulate_to_file

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


def _print_summary(ds, fmt: str, saved_to: Path | None = None) -> None:
    _print_table(summarize(ds), ds.attrs, fmt, saved_to)


def _print_table(table, attrs, fmt: str, saved_to: Path | None = None) -> None:
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
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


@main.command()
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
            sc = _load(path, sets)
        except UserError as exc:
            failures.append(exc.message)
            continue
        seats = len(sc.seat_territories())
        click.echo(f"ok: {path} ({sc.name}: {len(sc.territories)} territories, {seats} seats, "
                   f"{sc.horizon_months} months from {sc.spec.start}, {len(sc.fiscal_years())} full fiscal years)")
    if failures:
        raise UserError("\n".join(failures))


@main.command()
@click.argument("results", metavar="RESULTS.h5")
@format_option
def summary(results: str, fmt: str) -> None:
    """Print the summary of a results file.

    \b
    Example:
      salessim summary results/baseline.h5 --format json
    """
    from .stream import summarize_file

    try:
        table, attrs = summarize_file(results)  # chunk by chunk: any size of file
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    _print_table(table, attrs, fmt)


@main.command()
def keys() -> None:
    """Print every scenario key with its meaning, unit and default (Markdown).

    \b
    Example:
      salessim keys > keys.md
    """
    from .scenario import key_reference

    click.echo(key_reference(), nl=False)


# --- pictures, report and exports (salessim.plot / report / export) ---------------------------

_PLOT_OPTIONS = {"fiscal_year": ("attainment", "funnel", "territories", "tornado"),
                 "by_tenure": ("attainment",), "metric": ("tornado",)}


def _open_output_source(results: str, kind: str | None = None):
    """Open a results file for a picture, report or export; a tornado also reads a CSV table."""
    if kind == "tornado" and results.lower().endswith(".csv"):
        import pandas as pd

        if not Path(results).is_file():
            raise UserError(f"no such file: {results}")
        try:
            return pd.read_csv(results)
        except Exception as exc:  # pandas raises many kinds for a file that is not CSV
            raise UserError(f"cannot read {results} as a CSV table: {exc}") from None
    try:
        return open_results(results)
    except ResultsError as exc:
        raise UserError(str(exc)) from None


@contextmanager
def _writing(results: str, out: Path, library_error: type[Exception]):
    """Turn a writer's errors into one message for the user (exit 2, no traceback)."""
    try:
        yield
    except library_error as exc:
        raise UserError(f"{results}: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def _refuse_directory(out: Path) -> None:
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name")


@main.command("plot")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-k", "--kind", default="bookings", show_default=True, metavar="KIND",
              help="Picture to draw: bookings, attainment, headcount, funnel, territories (results files), "
                   "compare (a compare/sweep output), tornado (a sensitivity output, or a CSV with columns "
                   "parameter, low, high, base). Example: --kind attainment")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Image to write; .png or .svg picks the format [default: RESULTS-KIND.png beside the results]. "
                   "Example: -o docs/bookings.svg")
@click.option("--fiscal-year", type=int, default=None,
              help="Fiscal year for attainment, funnel, territories and tornado [default: the first full one]. "
                   "Example: --fiscal-year 2028")
@click.option("--by-tenure", is_flag=True, default=False,
              help="attainment only: stack the histogram by tenure band. Example: --kind attainment --by-tenure")
@click.option("--metric", default=None,
              help="tornado only: metric whose sensitivity to show [default: bookings]. Example: --metric p_goal")
@click.option("--dpi", type=click.IntRange(50, 600), default=110, show_default=True,
              help="Resolution of PNG output. Example: --dpi 200")
def plot_command(results: str, kind: str, output: str | None, fiscal_year: int | None, by_tenure: bool,
                 metric: str | None, dpi: int) -> None:
    """Draw a picture of a results file as PNG or SVG.

    \b
    Examples:
      salessim plot results/baseline.h5 --kind bookings -o bookings.png
      salessim plot results/baseline.h5 --kind attainment --by-tenure -o attainment.svg
      salessim plot results/compare.h5 --kind compare -o compare.png
    """
    from . import plot as plotting

    if kind not in plotting.KINDS:
        raise UserError(f"--kind {kind!r} is not a picture kind; choose one of {', '.join(plotting.KINDS)}")
    out = Path(output) if output else Path(results).with_name(f"{Path(results).stem}-{kind}.png")
    if out.suffix.lower() not in plotting.FORMATS:
        raise UserError(f"--output {out}: cannot tell the image format; end the name with .png or .svg")
    _refuse_directory(out)
    options = {"fiscal_year": fiscal_year, "by_tenure": by_tenure or None, "metric": metric}
    for name, value in options.items():
        if value is not None and kind not in _PLOT_OPTIONS[name]:
            flag = "--" + name.replace("_", "-")
            raise UserError(f"{flag} applies to --kind {' / '.join(_PLOT_OPTIONS[name])}, not {kind}")
    options = {k: v for k, v in options.items() if v is not None}
    data = _open_output_source(results, kind)
    with _writing(results, out, plotting.PlotError):
        plotting.save(data, kind, out, dpi=dpi, **options)
    click.echo(f"wrote {out}")


@main.command("report")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="HTML file to write [default: RESULTS.html beside the results]. Example: -o baseline.html")
def report_command(results: str, output: str | None) -> None:
    """Write one self-contained HTML report of a results file (opens offline, mails as one file).

    Key numbers first (P(goal), median bookings against the goal, reps at quota, cost of
    sales when present), then the figures, the summary tables, the assumptions and the
    provenance.

    \b
    Example:
      salessim report results/baseline.h5 -o baseline.html
    """
    from .report import ReportError, write_report

    out = Path(output) if output else Path(results).with_suffix(".html")
    _refuse_directory(out)
    ds = _open_output_source(results)
    with _writing(results, out, ReportError):
        write_report(ds, out, source=results)
    click.echo(f"wrote {out}")


@main.command("export")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-f", "--format", "fmt", default="xlsx", show_default=True, metavar="csv|xlsx|parquet",
              help="csv or parquet: a folder with one file per table; xlsx: one workbook, one sheet per table. "
                   "Example: --format csv")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Workbook (xlsx) or folder (csv, parquet) to write [default: RESULTS.xlsx, or a RESULTS-csv / "
                   "RESULTS-parquet folder beside the results]. Example: -o finance/baseline.xlsx")
def export_command(results: str, fmt: str, output: str | None) -> None:
    """Export the summary and per-month percentile tables (tidy) for spreadsheets.

    Tables: summary (as `salessim summary`), monthly (per metric, month, territory and
    statistic: mean, p10, p25, p50, p75, p90) and about (provenance).

    \b
    Examples:
      salessim export results/baseline.h5 --format xlsx -o baseline.xlsx
      salessim export results/baseline.h5 --format csv -o baseline-tables
    """
    from .export import FORMATS, ExportError, export

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not an export format; choose one of {', '.join(FORMATS)}")
    stem = Path(results).with_suffix("")
    out = Path(output) if output else (stem.with_suffix(".xlsx") if fmt == "xlsx" else stem.with_name(f"{stem.name}-{fmt}"))
    if fmt == "xlsx":
        _refuse_directory(out)
        if out.suffix.lower() != ".xlsx":
            raise UserError(f"--output {out}: an xlsx export needs a file name ending in .xlsx")
    elif out.exists() and not out.is_dir():
        raise UserError(f"--output {out} is a file; a {fmt} export writes a folder with one file per table")
    ds = _open_output_source(results)
    with _writing(results, out, ExportError):
        written = export(ds, out, fmt)
    for path in written:
        click.echo(f"wrote {path}")


# --------------------------------------------------------------------------- what-if tools
# compare, sweep, solve, sensitivity, and run --precision (salessim.whatif)

from . import whatif as _whatif  # noqa: E402
from .whatif import render as _render  # noqa: E402

few_trials_option = click.option(
    "-n", "--trials", type=click.IntRange(min=2), default=2_000, show_default=True,
    help="Trials per run (every run shares the seed: common random numbers). Example: -n 5000")
whatif_output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None,
    help="Save the labelled what-if Dataset (HDF5) here; nothing is written unless given. Example: -o results/whatif.h5")


def _whatif_call(fn, *args, **kwargs):
    """Run a library call; a user's mistake becomes one message with exit status 2."""
    try:
        return fn(*args, **kwargs)
    except (_whatif.WhatIfError, ScenarioError, SimulationError) as exc:
        raise UserError(str(exc)) from None


def _check_output(output: str | None) -> Path | None:
    if output is None:
        return None
    out = Path(output)
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name such as {out / 'whatif.h5'}")
    return out


def _save(ds, out: Path | None) -> None:
    if out is None:
        return
    try:
        save_results(ds, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"saved to {out}")


def _with_runs_progress(description: str, total: int | None, fn, *args, **kwargs):
    """Call ``fn(..., progress=...)`` under a progress bar on a terminal (stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        return _whatif_call(fn, *args, progress=lambda done, _total: bar.update(task, completed=done), **kwargs)


@main.command("compare")
@click.argument("scenarios", nargs=-1, required=True, metavar="A.yaml B.yaml [C.yaml ...]")
@trials_option
@seed_option
@set_option
@whatif_output_option
def compare_cmd(scenarios: tuple[str, ...], trials: int, seed: int, sets: tuple[str, ...], output: str | None) -> None:
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
    loaded = [_load(path, sets) for path in scenarios]
    out = _check_output(output)
    ds = _with_runs_progress("comparing", len(loaded), _whatif.compare, loaded, trials, seed)
    _render.render_compare(ds)
    _save(ds, out)


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


@main.command("sweep")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--vary", "vary", multiple=True, required=True, metavar="PATH=V1,V2,...",
              help="A scenario path and the values to try (repeatable; every combination runs). "
                   "Example: --vary territories.East.reps=6,8,10 --vary market.annual_growth=0,0.1")
@few_trials_option
@seed_option
@set_option
@whatif_output_option
def sweep_cmd(scenario: str, vary: tuple[str, ...], trials: int, seed: int, sets: tuple[str, ...], output: str | None) -> None:
    """Run SCENARIO at every combination of the varied values, on common random numbers.

    The table shows bookings, P(goal) and reps at quota per grid point and fiscal year; the
    saved Dataset has one dimension per varied path, with the values as its coordinate.

    \b
    Example:
      salessim sweep scenarios/baseline.yaml --vary hiring_plan.1.hires=0,2,4 --vary territories.West.win_rate=0.3,0.36
    """
    sc = _load(scenario, sets)
    grid = _parse_vary(vary)
    out = _check_output(output)
    total = 1
    for values in grid.values():
        total *= len(values)
    ds = _with_runs_progress("sweeping", total, _whatif.sweep, sc, grid, trials, seed)
    _render.render_sweep(ds)
    _save(ds, out)


@main.command("solve")
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
def solve_cmd(scenario: str, lever: str, range_: str, target: str, largest: bool, tol: float | None, trials: int,
              seed: int, sets: tuple[str, ...], output: str | None) -> None:
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
    sc = _load(scenario, sets)
    lo, hi = _whatif_call(_whatif.parse_range, range_)
    goal = _whatif_call(_whatif.parse_target, target)
    out = _check_output(output)
    result = _with_runs_progress("solving", None, _whatif.solve, sc, lever.strip(), lo, hi, goal,
                                 largest=largest, trials=trials, seed=seed, tol=tol)
    _render.render_solve(result)
    if not result.met:
        raise UserError(result.message)
    _save(result.curve, out)


@main.command("sensitivity")
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
def sensitivity_cmd(scenario: str, delta: float, year: int | None, rank_by: str, params: tuple[str, ...], top: int | None,
                    trials: int, seed: int, sets: tuple[str, ...], output: str | None) -> None:
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
    sc = _load(scenario, sets)
    out = _check_output(output)
    moves, _ = _whatif_call(_whatif.assumptions, sc, delta) if 0 < delta < 1 else ([], [])
    total = 1 + 2 * (len(params) if params else len(moves))
    ds = _with_runs_progress("sensitivity", total, _whatif.sensitivity, sc, delta, trials, seed,
                             parameters=list(params) or None, year=year, rank_by=rank_by)
    _render.render_sensitivity(ds, top=top)
    _save(ds, out)


def _run_to_precision(sc: Scenario, precision: float, max_trials: int | None, seed: int, chunk_trials: int | None):
    """``run --precision``: add chunks of trials until the standard errors are small enough."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if ctx.get_parameter_source("trials") == ParameterSource.COMMANDLINE:
        raise UserError("--precision decides the number of trials; give --max-trials instead of -n/--trials")
    limit = 50_000 if max_trials is None else max_trials
    step = chunk_trials or 1_000
    return _with_runs_progress(f"simulating {sc.name} to precision {precision:g}", limit,
                               _whatif.simulate_to_precision, sc, precision, seed=seed, max_trials=limit, step=step)



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``salessim`` command line: parse, call the library, print or write.

Every error a user can cause (missing file, bad YAML, invalid scenario, bad ``--set``,
unreadable results) prints one message and exits with status 2; nothing is written.
"""

from __future__ import annotations

import json
import sys
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
def run(scenario: str, trials: int, seed: int, output: str | None, sets: tuple[str, ...],
        chunk_trials: int | None, fmt: str) -> None:
    """Simulate SCENARIO, save the results and print the summary.

    \b
    Example:
      salessim run scenarios/baseline.yaml -n 10000 --seed 7 --set territories.East.reps=10
    """
    sc = _load(scenario, sets)
    out = Path(output) if output else Path("results") / f"{sc.name}.h5"
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name such as {out / (sc.name + '.h5')}")
    try:
        ds = _simulate_with_progress(sc, trials, seed, chunk_trials)
    except SimulationError as exc:
        raise UserError(str(exc)) from None
    try:
        save_results(ds, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    _print_summary(ds, fmt, saved_to=out)


def _simulate_with_progress(sc: Scenario, trials: int, seed: int, chunk_trials: int | None):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("simulating {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(sc.name, total=trials)
        return simulate(sc, trials, seed, chunk_trials=chunk_trials,
                        progress=lambda done, total: bar.update(task, completed=done))


def _print_summary(ds, fmt: str, saved_to: Path | None = None) -> None:
    table = summarize(ds)
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    elif fmt == "json":
        payload = {
            "scenario": ds.attrs.get("scenario_name"),
            "seed": int(ds.attrs["seed"]),
            "trials": int(ds.attrs["trials"]),
            "currency": ds.attrs.get("currency"),
            "rows": [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                     for row in table.to_dict(orient="records")],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        render_summary(ds, table, saved_to=saved_to)


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
    try:
        ds = open_results(results)
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    _print_summary(ds, fmt)


@main.command()
def keys() -> None:
    """Print every scenario key with its meaning, unit and default (Markdown).

    \b
    Example:
      salessim keys > keys.md
    """
    from .scenario import key_reference

    click.echo(key_reference(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

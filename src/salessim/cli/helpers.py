"""Pieces every command shares: the user-error type, loading scenarios with ``--set``,
turning library errors into messages, output-path checks and progress bars.

A mistake a user can make becomes a :class:`UserError`: one message, no traceback,
exit status 2, nothing written.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
import yaml

from ..results import ResultsError, open_results, save_results
from ..scenario import Scenario, ScenarioError, load_scenario

__all__ = ["UserError", "parse_sets", "load", "warning_lines", "open_source", "writing", "refuse_directory", "check_output",
           "save", "runs_progress", "library_call"]


class UserError(click.ClickException):
    """A mistake in the user's input: message, no traceback, exit status 2."""

    exit_code = 2


def parse_sets(pairs: tuple[str, ...]) -> dict[str, object]:
    """``--set PATH=VALUE`` pairs as a dict of overrides (values read as YAML)."""
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


def load(path: str, sets: tuple[str, ...] = (), warn: bool = True) -> Scenario:
    """Load and validate a scenario file with ``--set`` overrides applied.

    Its warnings (valid but probably not meant: a pipeline owner who is no rep, a territory
    without actuals) go to stderr unless ``warn`` is False.
    """
    overrides = parse_sets(sets)
    try:
        sc = load_scenario(path)
        sc = sc.with_overrides(overrides) if overrides else sc
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    if warn:
        for line in warning_lines(sc):
            click.echo(line, err=True)
    return sc


def warning_lines(sc: Scenario) -> list[str]:
    """``warning: LOCATION: MESSAGE`` for each of a scenario's warnings."""
    return [f"warning: {loc}: {msg}" if loc else f"warning: {msg}" for loc, msg in sc.warnings]


def open_source(results: str, kind: str | None = None):
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
def writing(results: str, out: Path, library_error: type[Exception]):
    """Turn a writer's errors into one message for the user (exit 2, no traceback)."""
    try:
        yield
    except library_error as exc:
        raise UserError(f"{results}: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def refuse_directory(out: Path) -> None:
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name")


def check_output(output: str | None) -> Path | None:
    """The ``-o`` path of a what-if command (None: nothing is written)."""
    if output is None:
        return None
    out = Path(output)
    if out.exists() and out.is_dir():
        raise UserError(f"--output {out} is a directory; give a file name such as {out / 'whatif.h5'}")
    return out


def save(ds, out: Path | None) -> None:
    """Save a labelled Dataset if ``-o`` was given."""
    if out is None:
        return
    try:
        save_results(ds, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"saved to {out}")


def library_call(fn, *args, **kwargs):
    """Run a library call; a user's mistake becomes one message with exit status 2."""
    from ..engine import SimulationError
    from ..whatif import WhatIfError

    try:
        return fn(*args, **kwargs)
    except (WhatIfError, ScenarioError, SimulationError) as exc:
        raise UserError(str(exc)) from None


def runs_progress(description: str, total: int | None, fn, *args, **kwargs):
    """Call ``fn(..., progress=...)`` under a progress bar on a terminal (stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        return library_call(fn, *args, progress=lambda done, _total: bar.update(task, completed=done), **kwargs)

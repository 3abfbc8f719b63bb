"""Pieces every command shares: the user-error type, loading scenarios with ``--set``,
turning library errors into messages, output-path checks and progress bars.

A mistake a user can make becomes a :class:`UserError`: one message, no traceback,
exit status 2, nothing written.
"""

from __future__ import annotations

import errno
import signal
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
import yaml

from ..results import ResultsError, open_results, save_results
from ..scenario import Scenario, ScenarioError, load_scenario

__all__ = ["UserError", "parse_sets", "load", "open_source", "writing", "refuse_directory", "check_output",
           "save", "runs_progress", "library_call", "write_error", "interruptible", "cluster_session"]


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


def load(path: str, sets: tuple[str, ...] = ()) -> Scenario:
    """Load and validate a scenario file with ``--set`` overrides applied."""
    overrides = parse_sets(sets)
    try:
        sc = load_scenario(path)
        return sc.with_overrides(overrides) if overrides else sc
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


LAZY_BYTES = 256 * 2**20  # results files at least this large are read lazily, chunk by chunk (with dask)


def _lazy_chunks(results: str) -> dict | None:
    """Chunks to read ``results`` lazily with, or None to load it: large files (when dask is
    installed) are read chunk by chunk, so pictures, reports and exports of files larger
    than memory work; smaller ones load whole, which is faster."""
    try:
        if Path(results).stat().st_size < LAZY_BYTES:
            return None
        import dask.array  # noqa: F401
    except (OSError, ImportError):
        return None
    from ..results import file_trial_chunk

    return {"trial": file_trial_chunk(results)}


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
        ds = open_results(results, chunks=_lazy_chunks(results))
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    if ds.attrs.get("keep") == "yearly":
        raise UserError(f"{results} was written with --keep yearly: it holds fiscal-year figures, not months. "
                        "`salessim summary` reads it; pictures, reports and exports need a --keep full run")
    return ds


@contextmanager
def writing(results: str, out: Path, library_error: type[Exception]):
    """Turn a writer's errors into one message for the user (exit 2, no traceback)."""
    try:
        yield
    except library_error as exc:
        raise UserError(f"{results}: {exc}") from None
    except OSError as exc:
        raise write_error(out, exc) from None


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
        raise write_error(out, exc) from None
    click.echo(f"saved to {out}")


def write_error(out: Path, exc: OSError) -> UserError:
    """The message for a failed write: ``no space left on <folder>`` for a full disk."""
    if exc.errno == errno.ENOSPC:
        text = str(exc.strerror or exc)
        if not text.startswith("no space left on"):
            text = f"no space left on {Path(out).parent or Path('.')}"
        return UserError(f"cannot write {out}: {text}; the previous file, if any, is unchanged")
    return UserError(f"cannot write {out}: {exc.strerror or exc}")


@contextmanager
def interruptible():
    """Ctrl-C (SIGINT) and SIGTERM raise KeyboardInterrupt in the main thread while the block runs.

    A shell starts background jobs with SIGINT ignored, and Python then never installs its
    handler: ``kill -INT`` would be ignored and the run would finish and replace the file.
    Installing the handler here makes every interrupt stop the run between two steps of
    the main thread (the kernel's chunks at the latest), and the writers' cleanup runs.
    """
    def stop(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    saved = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread (e.g. inside a test runner's thread): leave signals alone
        saved = {}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def cluster_session(spec: str | None, scenario: Scenario | None = None):
    """``--cluster``: a context yielding a Dask client (None without the option; dask is not imported then)."""
    if spec is None:
        return nullcontext(None)
    return _cluster(spec, scenario)


@contextmanager
def _cluster(spec: str, scenario: Scenario | None):
    from ..cluster import ClusterError, connect, parse_spec

    try:
        parsed = parse_spec(spec)
    except ClusterError as exc:
        raise UserError(str(exc)) from None
    inputs = None
    if scenario is not None:
        from ..inputs import build_inputs

        inputs = build_inputs(scenario)
    click.echo(f"starting {parsed} ..." if parsed.kind == "local" else f"connecting to {parsed} ...", err=True)
    try:
        with connect(parsed, inputs=inputs) as (client, info):
            click.echo(info.describe(), err=True)
            try:
                yield client
            except ClusterError as exc:
                raise UserError(str(exc)) from None
    except ClusterError as exc:
        raise UserError(str(exc)) from None


def library_call(fn, *args, **kwargs):
    """Run a library call; a user's mistake becomes one message with exit status 2."""
    from ..engine import SimulationError
    from ..whatif import WhatIfError

    try:
        return fn(*args, **kwargs)
    except (WhatIfError, ScenarioError, SimulationError) as exc:
        raise UserError(str(exc)) from None


def runs_progress(description: str, total: int | None, fn, *args, **kwargs):
    """Call ``fn(..., progress=...)`` under a progress bar on a terminal (stderr); Ctrl-C stops it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        with interruptible():
            return library_call(fn, *args, progress=lambda done, _total: bar.update(task, completed=done), **kwargs)

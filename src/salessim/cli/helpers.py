"""Pieces every command shares: the user-error type, loading scenarios with ``--set``,
turning library errors into messages, output-path checks and progress bars.

A mistake a user can make becomes a :class:`UserError`: one message, no traceback,
exit status 2, nothing written.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click

from ..limits import MAX_SET_VALUE_BYTES, MAX_VALUE_CHARS
from ..results import ResultsError, open_results, save_results
from ..scenario import Scenario, ScenarioError, load_scenario
from ..textsafe import printable
from ..yamlsafe import YAMLInputError, load as load_yaml

__all__ = ["UserError", "parse_sets", "load", "warning_lines", "open_source", "writing", "output_path",
           "whatif_output", "save", "runs_progress", "library_call", "echo", "write_error", "interruptible",
           "cluster_session"]


class UserError(click.ClickException):
    """A mistake in the user's input: message, no traceback, exit status 2.

    The message is shown as text: control characters in it (an ANSI escape in a file
    name or a value) are printed as visible escapes, never sent to the terminal.
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(printable(message, lines=True))


def echo(message: str, **kwargs) -> None:
    """``click.echo`` of a line that may hold user text (paths, names): control characters escaped."""
    click.echo(printable(message, lines=True), **kwargs)


def parse_sets(pairs: tuple[str, ...]) -> dict[str, object]:
    """``--set PATH=VALUE`` pairs as a dict of overrides (values read as YAML)."""
    overrides: dict[str, object] = {}
    for pair in pairs:
        path, sep, text = pair.partition("=")
        if not sep or not path.strip():
            raise UserError(f"--set expects PATH=VALUE such as territories.East.win_rate=0.5, got {pair!r}")
        try:
            value = load_yaml(text, limit_bytes=MAX_SET_VALUE_BYTES) if text.strip() else None
        except YAMLInputError as exc:
            shown = repr(text) if len(text) <= MAX_VALUE_CHARS else repr(text[:MAX_VALUE_CHARS]) + "..."
            raise UserError(f"--set {path}: cannot read the value {shown}: {exc.message} "
                            "(write numbers, true/false, null or [a, b])") from None
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


def _names_a_folder(text: str) -> bool:
    return text.endswith("/") or text.endswith(os.sep) or bool(os.altsep and text.endswith(os.altsep))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):  # hard links and symlinks to one file
            return True
    except OSError:  # one of them does not exist (yet)
        pass
    return a.resolve() == b.resolve()


def _check_target(target: Path, inputs: Sequence[Path], default_name: str) -> None:
    """Refuse writing ``target``: an input of the command, a folder, a device or pipe, or under a file."""
    for given in inputs:
        if _same_file(target, given):
            raise UserError(f"--output {target} is the input {given} of this command; writing it would destroy "
                            "the input: choose another name")
    try:
        mode = os.stat(target).st_mode  # follows symlinks: a link to /dev/null is a device
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError:  # no permission to look: the write reports it
        return
    if mode is not None and stat.S_ISDIR(mode):
        raise UserError(f"--output {target} is a directory; give a file name such as {target / default_name}, "
                        f"or end the path with / to write {default_name} inside it")
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(f"--output {target} exists and is not a regular file (a device, pipe or socket); "
                        "salessim writes only new files or replaces regular files")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"--output {target}: {parent} is a file, not a folder")


def output_path(output: str | None, default: Path, inputs: Sequence[str | os.PathLike] = (), *,
                folder: bool = False, files: Sequence[str] = ()) -> Path:
    """The path a command writes, checked before any work is done.

    The one rule for every ``-o`` (README, "Output paths"):

    - without ``-o``, ``default``; a path ending in ``/`` names a folder, and the default
      file name is written inside it (created if needed);
    - never an input of the same command (the same path, or the same file through a
      link), never an existing folder, device, pipe or socket: only new paths and
      regular files are written (and replaced atomically).

    Parameters
    ----------
    output : str or None
        The ``-o`` value as typed.
    default : Path
        What the command writes without ``-o``; its name is used inside a folder.
    inputs : sequence of paths
        Every file the command reads (scenario, results, tables).
    folder : bool
        The output is a folder of ``files`` (csv and parquet exports): ``-o`` names the
        folder itself, which must be a folder or new, and each file in it follows the rule.

    Raises
    ------
    UserError
        With the path and the rule it breaks.
    """
    if output is None:
        out = Path(default)
    elif _names_a_folder(output) and not folder:
        out = Path(output) / Path(default).name
    else:
        out = Path(output)
    given = [Path(p) for p in inputs]
    if not folder:
        _check_target(out, given, Path(default).name)
        return out
    if out.exists() and not out.is_dir():
        raise UserError(f"--output {out} is a file; this export writes a folder with one file per table")
    for given_input in given:
        if _same_file(out, given_input):
            raise UserError(f"--output {out} is the input {given_input} of this command; choose another name")
    for name in files:
        _check_target(out / name, given, name)
    return out


def whatif_output(output: str | None, command: str, inputs: Sequence[str | os.PathLike]) -> Path | None:
    """The ``-o`` path of a what-if command (None: nothing is written); ``-o folder/`` writes COMMAND.h5 there."""
    return None if output is None else output_path(output, Path(f"{command}.h5"), inputs)


def save(ds, out: Path | None) -> None:
    """Save a labelled Dataset if ``-o`` was given."""
    if out is None:
        return
    try:
        save_results(ds, out)
    except OSError as exc:
        raise write_error(out, exc) from None
    echo(f"saved to {out}")


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

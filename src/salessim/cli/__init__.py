"""The ``salessim`` command line: parse, call the library, print or write.

One module per command family, as rasterio's ``rio/`` package does:

- :mod:`.run`: ``run``, ``validate``, ``summary``, ``keys``
- :mod:`.whatif`: ``compare``, ``sweep``, ``solve``, ``sensitivity``
- :mod:`.outputs`: ``plot``, ``report``, ``export``
- :mod:`.plan`: ``optimize``, ``quotas``
- :mod:`.crm`: ``calibrate``, ``backtest``
- :mod:`.pipeline`: ``pipeline steady``

Shared options live in :mod:`.options` and shared helpers (the user-error type, loading
with ``--set``, output checks) in :mod:`.helpers`. Every error a user can cause prints
one message and exits with status 2; nothing is written.

Only :mod:`.run` is imported with the group; every other command's module is imported
when that command runs (or when ``--help`` lists them), so ``salessim run`` does not pay
for the libraries of plots, reports, what-ifs or calibration.
"""

from __future__ import annotations

import atexit
import gc
import importlib

import click

from . import run
from .helpers import UserError

__all__ = ["main", "UserError"]


class _Group(click.Group):
    """The command group; a run that needs more memory than the machine has is a user's
    choice of size, so it gets one message (exit 2) rather than a traceback.

    Commands in :data:`LAZY_COMMANDS` are imported on first use. ``salessim --help`` lists
    them from :data:`LAZY_HELP` without importing them (that import took xarray, scipy.stats
    and scipy.optimize along, over a second); the listing is the same text.
    """

    _listing = False

    def main(self, *args, **kwargs):
        _freeze_objects_at_exit()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: click.Context, name: str):
        if self._listing and name not in self.commands and name in LAZY_HELP:
            return click.Command(name, help=LAZY_HELP[name])  # only its one-line help is read
        if name not in self.commands and name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(f".{module}", __name__), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MemoryError:
            raise UserError("not enough memory for this run: use fewer trials (-n), smaller chunks "
                            "(--chunk-trials) or run --stream") from None


def _freeze_objects_at_exit() -> None:
    """Make the interpreter's exit after a command take milliseconds instead of 0.2-0.4 s.

    When Python exits it runs full garbage collections that walk every object still alive;
    after a kernel call that is well over 100,000 objects (Numba's typing and compiler
    state), which took 0.23-0.31 s after a warm ``salessim run`` on the shared machine here. :func:`gc.freeze` as the last exit handler moves them out of
    the collector's reach. Nothing is lost: every object is still released by reference
    counting, files are closed and output flushed before this point, handlers registered
    earlier (weakref finalizers, logging) run after it as before, and the memory of
    objects in reference cycles goes back to the operating system with the process. It
    is registered once, when a command runs, so a program that imports the CLI (or a
    test session invoking it many times) is affected only at its own exit.
    """
    global _exit_handler_registered
    if not _exit_handler_registered:
        atexit.register(gc.freeze)
        _exit_handler_registered = True


_exit_handler_registered = False


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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


for _command in (run.run, run.validate, run.summary, run.keys):
    main.add_command(_command)
# command name -> "module:attribute" in this package, imported when the command is used
LAZY_COMMANDS = {
    "compare": "whatif:compare_cmd", "sweep": "whatif:sweep_cmd", "solve": "whatif:solve_cmd",
    "sensitivity": "whatif:sensitivity_cmd",
    "plot": "outputs:plot_command", "report": "outputs:report_command", "export": "outputs:export_command",
    "calibrate": "crm:calibrate_command", "backtest": "crm:backtest_command",
    "optimize": "plan:optimize_cmd", "quotas": "plan:quotas_cmd",
    "pipeline": "pipeline:pipeline_group",
}
# command name -> the first paragraph of its help, as ``salessim --help`` shortens it (a
# command missing here is imported to list it; tests/test_cli_startup.py checks the texts)
LAZY_HELP = {
    "compare": "Run plans on the same random futures and compare them with the first.",
    "sweep": "Run SCENARIO at every combination of the varied values, on common random numbers.",
    "solve": "Find the smallest (or largest) lever value whose summary metric meets a target.",
    "sensitivity": "Rank the assumptions by how much they move bookings and P(goal): a tornado table.",
    "plot": "Draw a picture of a results file as PNG or SVG.",
    "report": "Write one self-contained HTML report of a results file (opens offline, mails as one file).",
    "export": "Export the summary and per-month percentile tables (tidy) for spreadsheets.",
    "calibrate": "Fit a scenario from a CRM opportunities export (and optionally a rep roster).",
    "backtest": "How good would the forecast have been? Calibrate at each --as-of date, simulate the next --months, "
                "and score the forecast against what actually booked.",
    "optimize": "Choose where and when to add hires so that an objective is largest.",
    "quotas": "Allocate the goal, times an over-assignment, to territory and rep quotas.",
    "pipeline": "Open pipelines at a scenario's start.",
}

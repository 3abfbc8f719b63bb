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

    Commands in :data:`LAZY_COMMANDS` are imported on first use.
    """

    def main(self, *args, **kwargs):
        _freeze_objects_at_exit()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str):
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
    state), which took 0.2 s on an idle machine here and 0.4 s on a busy one, a tenth of a
    warm ``salessim run``. :func:`gc.freeze` as the last exit handler moves them out of
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

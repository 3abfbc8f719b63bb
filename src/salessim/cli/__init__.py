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
"""

from __future__ import annotations

import click

from . import crm, outputs, pipeline, plan, run, whatif
from .helpers import UserError

__all__ = ["main", "UserError"]


class _Group(click.Group):
    """The command group; a run that needs more memory than the machine has is a user's
    choice of size, so it gets one message (exit 2) rather than a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MemoryError:
            raise UserError("not enough memory for this run: use fewer trials (-n), smaller chunks "
                            "(--chunk-trials) or run --stream") from None


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


for _command in (run.run, run.validate, run.summary, run.keys,
                 whatif.compare_cmd, whatif.sweep_cmd, whatif.solve_cmd, whatif.sensitivity_cmd,
                 outputs.plot_command, outputs.report_command, outputs.export_command,
                 crm.calibrate_command, crm.backtest_command):
    main.add_command(_command)
main.add_command(plan.optimize_cmd)
main.add_command(plan.quotas_cmd)
main.add_command(pipeline.pipeline_group)

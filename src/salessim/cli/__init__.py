"""The ``salessim`` command line: parse, call the library, print or write.

One module per command family, as rasterio's ``rio/`` package does:

- :mod:`.run`: ``run``, ``validate``, ``summary``, ``keys``
- :mod:`.whatif`: ``compare``, ``sweep``, ``solve``, ``sensitivity``
- :mod:`.outputs`: ``plot``, ``report``, ``export``
- :mod:`.pipeline`: ``pipeline steady``

Shared options live in :mod:`.options` and shared helpers (the user-error type, loading
with ``--set``, output checks) in :mod:`.helpers`. Every error a user can cause prints
one message and exits with status 2; nothing is written.
"""

from __future__ import annotations

import click

from . import outputs, pipeline, run, whatif
from .helpers import UserError

__all__ = ["main", "UserError"]


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


for _command in (run.run, run.validate, run.summary, run.keys,
                 whatif.compare_cmd, whatif.sweep_cmd, whatif.solve_cmd, whatif.sensitivity_cmd,
                 outputs.plot_command, outputs.report_command, outputs.export_command):
    main.add_command(_command)
main.add_command(pipeline.pipeline_group)

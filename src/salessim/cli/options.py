"""Click options shared by several commands, defined once (as rasterio's ``rio/options.py``)."""

from __future__ import annotations

import click

from ..engine import MAX_SEED
from ..limits import MAX_TRIALS

__all__ = ["trials_option", "seed_option", "set_option", "format_option", "few_trials_option", "whatif_output_option",
           "cluster_option"]

trials_option = click.option(
    "-n", "--trials", type=click.IntRange(1, MAX_TRIALS), default=10_000, show_default=True,
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
few_trials_option = click.option(
    "-n", "--trials", type=click.IntRange(2, MAX_TRIALS), default=2_000, show_default=True,
    help="Trials per run (every run shares the seed: common random numbers). Example: -n 5000")
whatif_output_option = click.option(
    "-o", "--output", type=click.Path(), default=None,
    help="Save the labelled what-if Dataset (HDF5) here (a path ending in / is a folder to write COMMAND.h5 in); "
         "nothing is written unless given. Example: -o results/whatif.h5")
cluster_option = click.option(
    "--cluster", "cluster", default=None, metavar="local[:N]|tcp://HOST:PORT",
    help="Run on Dask: local starts one worker process per core on this machine (local:N, N processes), "
         "tcp://HOST:PORT uses a running scheduler; same results, bit for bit. Needs salessim[cluster]. "
         "Example: --cluster local:2")

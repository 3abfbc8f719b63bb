"""``salessim pipeline``: open pipelines for a scenario's start (``pipeline steady``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline import write_steady_pipeline
from .helpers import UserError, echo, load, output_path
from .options import set_option


@click.group("pipeline")
def pipeline_group() -> None:
    """Open pipelines at a scenario's start.

    \b
    Example:
      salessim pipeline steady scenarios/enterprise.yaml -o scenarios/enterprise_pipeline.csv
    """


@pipeline_group.command("steady")
@click.argument("scenario", metavar="SCENARIO")
@click.option("-o", "--output", required=True,
              help="CSV file to write (columns id, territory, owner, age_months, amount, win_probability). "
                   "Example: -o scenarios/open_deals.csv")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the deal counts and amounts; the same seed writes the same file. Example: --seed 3")
@set_option
def steady_command(scenario: str, output: str, seed: int, sets: tuple[str, ...]) -> None:
    """Write the open pipeline SCENARIO's own funnel carries in steady state at its start.

    For each starting rep and each age, the expected number of opportunities opened that
    many months before the start and still open (the scenario's leads, seasonality,
    growth, ramp, capacity and conversion, times the chance the sales cycle is that long),
    drawn as a Poisson count; amounts are drawn from the territory's deal size; owners are
    the reps (anonymous reps by their seat names, such as East#3). Point the scenario at the
    file with `pipeline_file:` to start from a realistic pipeline instead of an empty one.

    \b
    Example:
      salessim pipeline steady scenarios/enterprise.yaml -o scenarios/enterprise_pipeline.csv
    """
    sc = load(scenario, sets)
    out = output_path(output, Path(f"{sc.name}_pipeline.csv"), [scenario, *sc.files_read])
    if sc.spec.pipeline:
        click.echo(f"note: {scenario} already has {len(sc.spec.pipeline):,} open deals; the steady-state pipeline "
                   "is computed from its funnel and ignores them", err=True)
    try:
        deals = write_steady_pipeline(sc, out, seed)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    by_territory: dict[str, list[dict]] = {}
    for deal in deals:
        by_territory.setdefault(deal["territory"], []).append(deal)
    rates = {t.name: t.win_rate for t in sc.territories}
    echo(f"wrote {len(deals):,} open deals to {out}")
    for name, mine in by_territory.items():
        value = sum(d["amount"] for d in mine)
        echo(f"  {name}: {len(mine):,} deals, face value {value:,.0f} {sc.spec.currency}, "
                   f"expected to book {value * rates[name]:,.0f} (x win rate {rates[name]:g}), "
                   f"mean age {sum(d['age_months'] for d in mine) / len(mine):.1f} months")

"""``calibrate``: from a CRM export to a scenario file (SPEC section 10)."""

from __future__ import annotations

from pathlib import Path

import click

from .helpers import UserError, output_path
from .options import seed_option


_ORDERS = {"mdy": "month/day/year or ISO", "dmy": "day/month/year or ISO", "iso": "ISO"}


def _print_import(data) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    for role, path in data.files.items():
        click.echo(f"{role}: {path}: {data.rows_read[path]:,} rows read")
    click.echo(f"opportunities used: {len(data.opportunities):,} in {len(data.territories)} "
               f"territor{'y' if len(data.territories) == 1 else 'ies'}; dates read as "
               + ", ".join(_ORDERS.get(fmt, fmt) for fmt in dict.fromkeys(data.date_formats.values())))
    summary = data.problem_summary()
    if summary.empty:
        click.echo("no problems found")
        return
    for file, rows in summary.groupby("file", sort=False):
        table = Table(title=f"{Path(file).name}: problems found, and the rule applied", title_justify="left")
        for col in ("problem", "rule", "rows", "first rows"):
            table.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
        for r in rows.itertuples(index=False):
            table.add_row(r.problem, r.action, f"{r.rows:,}", r.examples)
        console.print(table)


def _print_fits(cal) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..crm.report import territory_table

    cols, rows = territory_table(cal)
    # one column per territory, one row per number: fits an 80-column terminal
    table = Table(title=f"fitted as of {cal.asof.date:%Y-%m-%d}", title_justify="left")
    table.add_column("")
    for row in rows:
        table.add_column(row[0], justify="right", overflow="fold")
    for j, col in enumerate(cols[1:], start=1):
        table.add_row(col, *(row[j] for row in rows))
    Console(soft_wrap=False).print(table)
    counts = cal.sources["source"].value_counts()
    click.echo("keys: " + ", ".join(f"{counts.get(s, 0)} from {s}" for s in ("data", "base", "default", "option")
                                    if counts.get(s, 0)))
    defaults = cal.sources.loc[cal.sources["source"] == "default", "key"].tolist()
    if defaults:
        click.echo("defaults to review (the export cannot inform them): " + ", ".join(defaults))
    for note in cal.notes:
        click.echo(f"note: {note}")


@click.command("calibrate")
@click.argument("opportunities", metavar="OPPS.csv|xlsx")
@click.option("--reps", type=click.Path(dir_okay=False), default=None,
              help="Rep roster (CSV or xlsx: name, territory, hire date, leave date): tenures, attrition and ramp. "
                   "Example: --reps reps.csv")
@click.option("--preset", type=click.Choice(["salesforce", "hubspot"]), default=None,
              help="Column names of a Salesforce report/data export or a HubSpot deals export [default: detected "
                   "from the header]. Example: --preset hubspot")
@click.option("--map", "map_file", type=click.Path(dir_okay=False), default=None,
              help="Mapping YAML naming the columns and stage values (SPEC section 10) instead of a preset. "
                   "Example: --map crm-map.yaml")
@click.option("--as-of", "as_of", required=True, metavar="DATE",
              help="Only rows dated on or before this date inform the fits; the scenario starts the month after. "
                   "A date or a month (its last day). Example: --as-of 2025-03-31")
@click.option("--base", type=click.Path(dir_okay=False), default=None,
              help="Scenario whose goal, quotas, pay, hiring plan and other keys the data cannot inform are kept. "
                   "Example: --base scenarios/baseline.yaml")
@click.option("-o", "--output", required=True,
              help="Scenario YAML to write; the open pipeline goes beside it as OUT-pipeline.csv. "
                   "Example: -o scenarios/calibrated.yaml")
@click.option("--report", default=None,
              help="Also write the fit report (HTML with figures). Example: --report fit.html")
@click.option("--problems", default=None,
              help="Write every problem row (file, row, column, value, problem, action) as CSV. "
                   "Example: --problems problems.csv")
@click.option("--since", default=None, metavar="DATE",
              help="First month of history to fit on [default: the earliest created date]. Example: --since 2023-01")
@click.option("--horizon", type=click.IntRange(1, 600), default=None,
              help="Months to simulate [default: to the end of the fiscal year after the one in progress]. "
                   "Example: --horizon 24")
@click.option("--draws", type=click.IntRange(2, 10_000), default=200, show_default=True,
              help="Posterior or bootstrap draws per fitted number in the uncertainty block. Example: --draws 500")
@seed_option
@click.option("--date-format", default=None, metavar="FORMAT",
              help="How dates are written when auto-detection refuses: auto, iso, us (month/day), eu (day/month) or a "
                   "strptime format. Example: --date-format eu")
@click.option("--name", default=None,
              help="Scenario name [default: the output file's name]. Example: --name fy25-reforecast")
@click.option("--inline-pipeline", is_flag=True, default=False,
              help="Write the open deals inline (pipeline:) instead of a pipeline_file. Example: --inline-pipeline")
def calibrate_command(opportunities: str, reps: str | None, preset: str | None, map_file: str | None, as_of: str,
                      base: str | None, output: str, report: str | None, problems: str | None, since: str | None,
                      horizon: int | None, draws: int, seed: int, date_format: str | None, name: str | None,
                      inline_pipeline: bool) -> None:
    """Fit a scenario from a CRM opportunities export (and optionally a rep roster).

    Leads, win rate and sales cycle (open deals censored, competing risks), deal size,
    skill spread, attrition and ramp, with posterior draws of each in the uncertainty
    block; the roster, open pipeline and year-to-date actuals at --as-of. Every number
    is commented with where it came from. Messy rows are repaired or dropped by a
    documented rule, counted and listed.

    \b
    Examples:
      salessim calibrate examples/crm/opportunities.csv --reps examples/crm/reps.csv \\
          --as-of 2024-12-31 -o calibrated.yaml --report fit.html
      salessim calibrate deals.xlsx --preset hubspot --as-of 2025-03 --base scenarios/baseline.yaml -o q2.yaml
      salessim calibrate export.csv --map crm-map.yaml --as-of 2025-06-30 --date-format eu -o plan.yaml
    """
    import re

    from ..crm import CrmError, calibrate

    inputs = [p for p in (opportunities, reps, map_file, base) if p]
    out = output_path(output, Path("calibrated.yaml"), inputs)
    report = str(output_path(report, Path("fit.html"), inputs)) if report else None
    problems = str(output_path(problems, Path("problems.csv"), inputs)) if problems else None
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise UserError(f"--output {out}: a scenario file name ends in .yaml")
    if preset and map_file:
        raise UserError("give --preset or --map, not both")
    scenario_name = name or re.sub(r"[^A-Za-z0-9_.-]", "-", out.stem).strip("-.") or "calibrated"
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", scenario_name):
        raise UserError(f"--name {scenario_name!r}: use letters, digits and _.- (starting with a letter or digit)")
    try:
        cal = calibrate(opportunities, reps, as_of=as_of, preset=preset, mapping=map_file, base=base, since=since,
                        horizon=horizon, draws=draws, seed=seed, date_format=date_format, name=scenario_name)
    except CrmError as exc:
        raise UserError(str(exc)) from None
    _print_import(cal.data)
    _print_fits(cal)
    try:
        written = cal.write(out, inline_pipeline=inline_pipeline)
        if report:
            written.append(cal.write_report(report))
        if problems:
            from .._files import write_atomic

            written.append(write_atomic(problems, lambda tmp: cal.data.problems.to_csv(tmp, index=False)))
    except OSError as exc:
        raise UserError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
    for path in written:
        click.echo(f"wrote {path}")

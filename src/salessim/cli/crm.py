"""``calibrate`` (from a CRM export to a scenario file) and ``backtest`` (how good that
forecast would have been on the export's own history): SPEC section 10."""

from __future__ import annotations

from pathlib import Path

import click

from .helpers import UserError, cluster_session, output_path, runs_progress
from ..limits import MAX_TRIALS
from .options import cluster_option, seed_option


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


# options calibrate and backtest share (the same export, read the same way)
_opportunities_argument = click.argument("opportunities", metavar="OPPS.csv|xlsx")
_reps_option = click.option(
    "--reps", type=click.Path(dir_okay=False), default=None,
    help="Rep roster (CSV or xlsx: name, territory, hire date, leave date): tenures, attrition and ramp. "
         "Example: --reps reps.csv")
_preset_option = click.option(
    "--preset", type=click.Choice(["salesforce", "hubspot"]), default=None,
    help="Column names of a Salesforce report/data export or a HubSpot deals export [default: detected "
         "from the header]. Example: --preset hubspot")
_map_option = click.option(
    "--map", "map_file", type=click.Path(dir_okay=False), default=None,
    help="Mapping YAML naming the columns and stage values (SPEC section 10) instead of a preset. "
         "Example: --map crm-map.yaml")
_base_option = click.option(
    "--base", type=click.Path(dir_okay=False), default=None,
    help="Scenario whose goal, quotas, pay, hiring plan and other keys the data cannot inform are kept. "
         "Example: --base scenarios/baseline.yaml")
_since_option = click.option(
    "--since", default=None, metavar="DATE",
    help="First month of history to fit on [default: the earliest created date]. Example: --since 2023-01")
_draws_option = click.option(
    "--draws", type=click.IntRange(2, 10_000), default=200, show_default=True,
    help="Posterior or bootstrap draws per fitted number in the uncertainty block. Example: --draws 500")
_date_format_option = click.option(
    "--date-format", default=None, metavar="FORMAT",
    help="How dates are written when auto-detection refuses: auto, iso, us (month/day), eu (day/month) or a "
         "strptime format. Example: --date-format eu")


def _export_options(fn):
    """The export and how to read it: OPPS, --reps, --preset, --map."""
    for option in (_map_option, _preset_option, _reps_option, _opportunities_argument):
        fn = option(fn)
    return fn


@click.command("calibrate")
@_export_options
@click.option("--as-of", "as_of", required=True, metavar="DATE",
              help="Only rows dated on or before this date inform the fits; the scenario starts the month after. "
                   "A date or a month (its last day). Example: --as-of 2025-03-31")
@_base_option
@click.option("-o", "--output", required=True,
              help="Scenario YAML to write; the open pipeline goes beside it as OUT-pipeline.csv. "
                   "Example: -o scenarios/calibrated.yaml")
@click.option("--report", default=None,
              help="Also write the fit report (HTML with figures). Example: --report fit.html")
@click.option("--problems", default=None,
              help="Write every problem row (file, row, column, value, problem, action) as CSV. "
                   "Example: --problems problems.csv")
@_since_option
@click.option("--horizon", type=click.IntRange(1, 600), default=None,
              help="Months to simulate [default: to the end of the fiscal year after the one in progress]. "
                   "Example: --horizon 24")
@_draws_option
@seed_option
@_date_format_option
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


def _money(x: float) -> str:
    from ..plot import format_money

    return format_money(x)


def _print_backtest(bt) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=False)
    for w in bt.windows:
        table = Table(title=f"as of {w.as_of:%Y-%m-%d}: the next {bt.months} months ({bt.currency}; red: outside "
                            "P10-P90)", title_justify="left")
        for col in ("territory", "month", "actual", "mean", "P10", "P50", "P90", "PIT", "CRPS"):
            table.add_column(col, justify="left" if col in ("territory", "month") else "right", overflow="fold")
        last = w.rows["month"].iloc[-1]
        for r in w.rows.itertuples(index=False):
            actual = _money(r.actual) if r.p10 <= r.actual <= r.p90 else f"[red]{_money(r.actual)}[/red]"
            table.add_row(Text(r.territory), r.month, actual, _money(r.mean), _money(r.p10), _money(r.p50),
                          _money(r.p90), f"{r.pit:.2f}", _money(r.crps), end_section=r.month == last)
        console.print(table)
        for note in w.notes:
            click.echo(f"note: {note}")
    scores = Table(title="scores: actuals inside the P25-P75 and P10-P90 intervals; mean CRPS against the mean "
                         "absolute error of the run-rate and weighted-pipeline forecasts", title_justify="left")
    for col in ("as of", "rows", "n", "in 50%", "in 80%", "CRPS", "run-rate", "pipeline"):
        scores.add_column(col, justify="left" if col in ("as of", "rows") else "right")
    totals = Table(title=f"the period's company total against its forecast ({bt.currency})", title_justify="left")
    for col in ("as of", "actual", "P10", "P50", "P90", "PIT", "inside P10-P90"):
        totals.add_column(col, justify="left" if col == "as of" else "right")

    def score_rows(label: str, m: dict) -> None:
        for name, part in (("territory", m), ("company", m["company"])):
            b = part["baselines"]
            scores.add_row(label, name, str(part["rows"]), f"{part['coverage_50']:.0%}", f"{part['coverage_80']:.0%}",
                           _money(part["mean_crps"]), _money(b["run_rate"]["mae"]),
                           _money(b["weighted_pipeline"]["mae"]))
            label = ""

    for w in bt.windows:
        score_rows(f"{w.as_of:%Y-%m-%d}", w.metrics)
        t = w.metrics["total"]
        totals.add_row(f"{w.as_of:%Y-%m-%d}", _money(t["actual"]), _money(t["p10"]), _money(t["p50"]),
                       _money(t["p90"]), f"{t['pit']:.2f}", "yes" if t["inside_80"] else "[red]no[/red]")
    if len(bt.windows) > 1:
        scores.add_section()
        score_rows("all windows", bt.metrics)
        totals.add_section()
        totals.add_row("all windows", "", "", "", "", "", f"{bt.metrics['totals_inside_80']} of {len(bt.windows)}")
    console.print(scores)
    console.print(totals)
    click.echo("CRPS is in money, lower is better; for a point forecast (run-rate, weighted pipeline) it is the "
               "absolute error. A calibrated forecast has about 50% and 80% of the actuals inside its P25-P75 and "
               "P10-P90.")


def _as_of_dates(values: tuple[str, ...]) -> list[str]:
    dates = [d.strip() for v in values for d in v.split(",")]
    if any(not d for d in dates):
        raise UserError(f"--as-of: empty date in {', '.join(values)!r}; write --as-of 2024-03-31 --as-of 2024-06-30 "
                        "or --as-of 2024-03-31,2024-06-30")
    return dates


@click.command("backtest")
@_export_options
@click.option("--as-of", "as_of", required=True, multiple=True, metavar="DATE",
              help="Calibrate on the rows known on this date and forecast the months after it (repeatable, or "
                   "comma-separated: one window each). Example: --as-of 2024-03-31 --as-of 2024-06-30")
@click.option("--months", type=click.IntRange(1, 120), required=True,
              help="Months forecast and scored after each as-of month. Example: --months 6")
@_base_option
@_since_option
@click.option("-n", "--trials", type=click.IntRange(2, MAX_TRIALS), default=2_000, show_default=True,
              help="Simulated futures per window. Example: -n 5000")
@_draws_option
@seed_option
@_date_format_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help='How to print the result; json prints {"windows": [{"as_of", "rows", "metrics"}], "overall"}. '
                   "Example: --format json > backtest.json")
@click.option("--plot", "plot_file", default=None,
              help="Write a fan chart per territory with the actuals (PNG or SVG). Example: --plot fan.png")
@cluster_option
def backtest_command(opportunities: str, reps: str | None, preset: str | None, map_file: str | None,
                     as_of: tuple[str, ...], months: int, base: str | None, since: str | None, trials: int, draws: int,
                     seed: int, date_format: str | None, fmt: str, plot_file: str | None, cluster: str | None) -> None:
    """How good would the forecast have been? Calibrate at each --as-of date, simulate the next
    --months, and score the forecast against what actually booked.

    Per territory-month and for the company ("all"): actual, mean, P10/P50/P90, PIT and CRPS;
    per window the share of actuals inside the 50% and 80% intervals, mean CRPS, the
    period total against its P10-P90, and the two forecasts planners use today (run-rate,
    weighted pipeline) scored on the same months. Actual bookings are the won deals
    whose close date falls in each month after the as-of month.

    \b
    Examples:
      salessim backtest examples/crm/opportunities.csv --reps examples/crm/reps.csv \\
          --as-of 2024-03-31 --as-of 2024-06-30 --months 6 --plot fan.png
      salessim backtest deals.csv --preset hubspot --as-of 2024-01-31,2024-04-30,2024-07-31 --months 3 --format json
      salessim backtest export.csv --map crm-map.yaml --as-of 2024-06-30 --months 6 -n 5000 --cluster local
    """
    from ..crm import CrmError
    from ..crm.backtest import backtest
    from ..plot import FORMATS

    inputs = [p for p in (opportunities, reps, map_file, base) if p]
    if preset and map_file:
        raise UserError("give --preset or --map, not both")
    plot_path = output_path(plot_file, Path("fan.png"), inputs) if plot_file else None
    if plot_path is not None and plot_path.suffix.lower() not in FORMATS:
        raise UserError(f"--plot {plot_path}: end the name with .png or .svg")
    dates = _as_of_dates(as_of)
    try:
        with cluster_session(cluster) as client:
            bt = runs_progress("backtest windows", len(dates), backtest, opportunities, reps, as_of=dates,
                               months=months, preset=preset, mapping=map_file, base=base, since=since, trials=trials,
                               draws=draws, seed=seed, date_format=date_format, client=client)
    except CrmError as exc:
        raise UserError(str(exc)) from None
    if fmt == "json":
        click.echo(bt.to_json())
    else:
        _print_backtest(bt)
    if plot_path is not None:
        try:
            written = bt.plot(plot_path)
        except OSError as exc:
            raise UserError(f"cannot write {exc.filename or plot_path}: {exc.strerror or exc}") from None
        click.echo(f"wrote {written}", err=fmt == "json")

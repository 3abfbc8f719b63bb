"""Pictures, the HTML report and exports of a results file: ``plot``, ``report``, ``export``."""

from __future__ import annotations

from pathlib import Path

import click

from .helpers import UserError, echo, open_source, output_path, writing

_PLOT_OPTIONS = {"fiscal_year": ("attainment", "funnel", "territories", "tornado"),
                 "by_tenure": ("attainment",), "metric": ("tornado",)}


@click.command("plot")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-k", "--kind", default="bookings", show_default=True, metavar="KIND",
              help="Picture to draw: bookings, attainment, headcount, funnel, territories (results files), "
                   "compare (a compare/sweep output), tornado (a sensitivity output, or a CSV with columns "
                   "parameter, low, high, base). Example: --kind attainment")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Image to write; .png or .svg picks the format [default: RESULTS-KIND.png beside the results]; "
                   "a path ending in / is a folder to write RESULTS-KIND.png in. Example: -o docs/bookings.svg")
@click.option("--fiscal-year", type=int, default=None,
              help="Fiscal year for attainment, funnel, territories and tornado [default: the first full one]. "
                   "Example: --fiscal-year 2028")
@click.option("--by-tenure", is_flag=True, default=False,
              help="attainment only: stack the histogram by tenure band. Example: --kind attainment --by-tenure")
@click.option("--metric", default=None,
              help="tornado only: metric whose sensitivity to show [default: bookings]. Example: --metric p_goal")
@click.option("--dpi", type=click.IntRange(50, 600), default=110, show_default=True,
              help="Resolution of PNG output. Example: --dpi 200")
def plot_command(results: str, kind: str, output: str | None, fiscal_year: int | None, by_tenure: bool,
                 metric: str | None, dpi: int) -> None:
    """Draw a picture of a results file as PNG or SVG.

    \b
    Examples:
      salessim plot results/baseline.h5 --kind bookings -o bookings.png
      salessim plot results/baseline.h5 --kind attainment --by-tenure -o attainment.svg
      salessim plot results/compare.h5 --kind compare -o compare.png
    """
    from .. import plot as plotting

    if kind not in plotting.KINDS:
        raise UserError(f"--kind {kind!r} is not a picture kind; choose one of {', '.join(plotting.KINDS)}")
    out = output_path(output, Path(results).with_name(f"{Path(results).stem}-{kind}.png"), [results])
    if out.suffix.lower() not in plotting.FORMATS:
        raise UserError(f"--output {out}: cannot tell the image format; end the name with .png or .svg")
    options = {"fiscal_year": fiscal_year, "by_tenure": by_tenure or None, "metric": metric}
    for name, value in options.items():
        if value is not None and kind not in _PLOT_OPTIONS[name]:
            flag = "--" + name.replace("_", "-")
            raise UserError(f"{flag} applies to --kind {' / '.join(_PLOT_OPTIONS[name])}, not {kind}")
    options = {k: v for k, v in options.items() if v is not None}
    data = open_source(results, kind)
    with writing(results, out, plotting.PlotError):
        plotting.save(data, kind, out, dpi=dpi, **options)
    echo(f"wrote {out}")


@click.command("report")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="HTML file to write [default: RESULTS.html beside the results]; a path ending in / is a folder "
                   "to write RESULTS.html in. Example: -o baseline.html")
def report_command(results: str, output: str | None) -> None:
    """Write one self-contained HTML report of a results file (opens offline, mails as one file).

    Key numbers first (P(goal), median bookings against the goal, reps at quota, cost of
    sales when present), then the figures, the summary tables, the assumptions and the
    provenance.

    \b
    Example:
      salessim report results/baseline.h5 -o baseline.html
    """
    from ..report import ReportError, write_report

    out = output_path(output, Path(results).with_suffix(".html"), [results])
    ds = open_source(results)
    with writing(results, out, ReportError):
        write_report(ds, out, source=results)
    echo(f"wrote {out}")


@click.command("export")
@click.argument("results", metavar="RESULTS.h5")
@click.option("-f", "--format", "fmt", default="xlsx", show_default=True, metavar="csv|xlsx|parquet",
              help="csv or parquet: a folder with one file per table; xlsx: one workbook, one sheet per table. "
                   "Example: --format csv")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Workbook (xlsx) or folder (csv, parquet) to write [default: RESULTS.xlsx, or a RESULTS-csv / "
                   "RESULTS-parquet folder beside the results]; for xlsx, a path ending in / is a folder to write "
                   "RESULTS.xlsx in. Example: -o finance/baseline.xlsx")
def export_command(results: str, fmt: str, output: str | None) -> None:
    """Export the summary and per-month percentile tables (tidy) for spreadsheets.

    Tables: summary (as `salessim summary`), monthly (per metric, month, territory and
    statistic: mean, p10, p25, p50, p75, p90) and about (provenance).

    \b
    Examples:
      salessim export results/baseline.h5 --format xlsx -o baseline.xlsx
      salessim export results/baseline.h5 --format csv -o baseline-tables
    """
    from ..export import FORMATS, TABLES, ExportError, export

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not an export format; choose one of {', '.join(FORMATS)}")
    stem = Path(results).with_suffix("")
    if fmt == "xlsx":
        out = output_path(output, stem.with_suffix(".xlsx"), [results])
        if out.suffix.lower() != ".xlsx":
            raise UserError(f"--output {out}: an xlsx export needs a file name ending in .xlsx")
    else:
        out = output_path(output, stem.with_name(f"{stem.name}-{fmt}"), [results], folder=True,
                          files=[f"{name}.{fmt}" for name in TABLES])
    ds = open_source(results)
    with writing(results, out, ExportError):
        written = export(ds, out, fmt)
    for path in written:
        echo(f"wrote {path}")

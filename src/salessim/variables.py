"""The one registry of output variables: name, dims, dtype, units, long_name, description.

The engine builds the results Dataset from this table and nothing else, so every
variable in a results file carries its metadata. ``{currency}`` in units is replaced
by the scenario's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kernels.month import (
    C_DEPARTURES,
    C_HEADCOUNT,
    C_HIRES,
    C_LEADS,
    C_LEADS_UNWORKED,
    C_OPEN_REQS,
    C_OPPORTUNITIES,
    C_WINS,
    F_BOOKINGS,
    F_QUOTA,
    F_RAMPED_FTE,
)

__all__ = ["Variable", "VARIABLES", "by_name"]

TMK = ("trial", "month", "territory")


@dataclass(frozen=True)
class Variable:
    name: str
    dims: tuple[str, ...]
    dtype: str
    units: str
    long_name: str
    description: str
    source: str  # kernel output array it comes from
    index: int | None = None  # position along the kernel array's variable axis


VARIABLES: tuple[Variable, ...] = (
    Variable("headcount", TMK, "int32", "reps", "reps in seat", "Reps in seat during the month (a rep leaving at the month's end still counts).", "counts", C_HEADCOUNT),
    Variable("ramped_fte", TMK, "float64", "FTE", "ramped full-time equivalents", "Sum over reps in seat of their ramp productivity f.", "flows", F_RAMPED_FTE),
    Variable("hires", TMK, "int32", "reps", "joiners", "Planned hires and backfills who start in the month.", "counts", C_HIRES),
    Variable("departures", TMK, "int32", "reps", "leavers", "Reps who leave at the end of the month.", "counts", C_DEPARTURES),
    Variable("open_reqs", TMK, "int32", "seats", "seats awaiting backfill", "Seats empty during the month because their backfill has not started.", "counts", C_OPEN_REQS),
    Variable("leads", TMK, "int32", "leads", "leads", "Leads arriving in the territory.", "counts", C_LEADS),
    Variable("leads_unworked", TMK, "int32", "leads", "unworked leads", "Leads beyond the reps' capacity, or arriving when no rep can take them.", "counts", C_LEADS_UNWORKED),
    Variable("opportunities", TMK, "int32", "opportunities", "opportunities", "Worked leads that became opportunities.", "counts", C_OPPORTUNITIES),
    Variable("wins", TMK, "int32", "deals", "won deals", "Opportunities won in the month (they book after the sales cycle).", "counts", C_WINS),
    Variable("bookings", TMK, "float64", "{currency}", "bookings", "Value of deals booked in the month, including orphaned deals that still closed.", "flows", F_BOOKINGS),
    Variable("quota", TMK, "float64", "{currency}", "quota carried", "Sum of the monthly quotas of reps in seat.", "flows", F_QUOTA),
    Variable("downturn", ("trial", "month"), "int8", "1", "in a downturn", "1 in months inside a market downturn, else 0.", "downturn"),
    Variable("pipeline_end", ("trial", "territory"), "float64", "{currency}", "pipeline at horizon end", "Face value of wins that would book after the horizon, whoever owns them.", "pipeline_end"),
    Variable("goal", ("fiscal_year",), "float64", "{currency}", "bookings goal", "Company bookings goal of the fiscal year.", "goal"),
    Variable("attainment", ("trial", "fiscal_year", "seat"), "float64", "1", "quota attainment", "Bookings credited to the rep holding the seat in the fiscal year's last month, over that rep's quota in the year; NaN for empty seats or zero quota.", "attainment"),
    Variable("tenure", ("trial", "fiscal_year", "seat"), "float64", "months", "tenure at year end", "Completed months of service of the seat's rep at the fiscal year's end; NaN for empty seats.", "tenure"),
)

_BY_NAME = {v.name: v for v in VARIABLES}


def by_name(name: str) -> Variable:
    return _BY_NAME[name]

"""The one registry of output variables: name, dims, dtype, units, long_name, description.

The engine builds the results Dataset from this table and nothing else, so every
variable in a results file carries its metadata. ``{currency}`` in units is replaced
by the scenario's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kernels.month import (
    C_CHURNED_CUSTOMERS,
    C_DEPARTURES,
    C_HEADCOUNT,
    C_HIRES,
    C_LEADS,
    C_LEADS_UNWORKED,
    C_NEW_CUSTOMERS,
    C_OPEN_REQS,
    C_OPPORTUNITIES,
    C_WINS,
    F_ARR,
    F_BOOKINGS,
    F_CHURNED_ARR,
    F_COMMISSION,
    F_QUOTA,
    F_RAMPED_FTE,
    F_REVENUE_EXISTING,
    F_REVENUE_NEW,
    F_BOOKINGS_FROM_PIPELINE,
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
    source: str  # kernel output array it comes from, "derived" (from other variables) or "goal"/"actuals" (the scenario)
    index: int | None = None  # position along the kernel array's variable axis
    only_with: str | None = None  # "uncertainty": present only in runs with uncertain parameters

    def attrs(self, currency: str) -> dict[str, str]:
        """The variable's attributes in a Dataset of results in ``currency``."""
        return {"units": self.units.format(currency=currency), "long_name": self.long_name,
                "description": self.description}


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
    # economics: pay, cost of selling, customers and revenue
    Variable("base_pay", TMK, "float64", "{currency}", "base salaries", "Base salary of the reps in seat: headcount x base_salary_annual / 12.", "derived"),
    Variable("commission", TMK, "float64", "{currency}", "commission paid", "Commission settled in the month: at each commission period's end, or when a rep leaves, on the period's bookings against its (ramped) quota with accelerators, decelerator and cap.", "flows", F_COMMISSION),
    Variable("hiring_cost", TMK, "float64", "{currency}", "hiring cost", "Recruiting and onboarding: hires x hiring_cost.", "derived"),
    Variable("overhead", TMK, "float64", "{currency}", "rep overhead", "Tools, travel and management: headcount x overhead_per_rep_month.", "derived"),
    Variable("cost_of_sale", TMK, "float64", "{currency}", "cost of sale of deals", "Account cost of the deals booked: bookings x cost_of_sale_rate.", "derived"),
    Variable("sales_cost", TMK, "float64", "{currency}", "total cost of sales", "base_pay + commission + hiring_cost + overhead + cost_of_sale.", "derived"),
    Variable("new_customers", TMK, "int32", "customers", "new customers", "Deals booked in the month (each a new account).", "counts", C_NEW_CUSTOMERS),
    Variable("churned_customers", TMK, "int32", "customers", "customers lost", "Customers lost to churn in the month (recurring model).", "counts", C_CHURNED_CUSTOMERS),
    Variable("arr", TMK, "float64", "{currency}/year", "annual recurring revenue", "ARR at the month's end: retained ARR after churn and expansion plus the month's bookings (recurring model; 0 for one_time).", "flows", F_ARR),
    Variable("churned_arr", TMK, "float64", "{currency}/year", "ARR lost to churn", "ARR of the customers lost in the month (recurring model).", "flows", F_CHURNED_ARR),
    Variable("revenue_new", TMK, "float64", "{currency}", "revenue from new customers", "Revenue recognised in the month from customers won during the run: ARR / 12 (recurring) or the bookings (one_time).", "flows", F_REVENUE_NEW),
    Variable("revenue_existing", TMK, "float64", "{currency}", "revenue from existing customers", "Revenue recognised in the month from the customers at the start: their ARR / 12 (recurring; 0 for one_time).", "flows", F_REVENUE_EXISTING),
    Variable("revenue", TMK, "float64", "{currency}", "recognised revenue", "revenue_new + revenue_existing.", "derived"),
    Variable("commission_earned", ("trial", "fiscal_year", "seat"), "float64", "{currency}", "commission earned by the seat", "Commission paid to the seat's reps (every occupant) in the fiscal year.", "commission_earned"),
    # starting state: open deals, the fiscal year in progress, who holds each seat
    Variable("bookings_from_pipeline", TMK, "float64", "{currency}", "bookings from the starting pipeline", "The part of bookings from deals open at the start (pipeline / pipeline_file); bookings minus this is from opportunities created in the run.", "flows", F_BOOKINGS_FROM_PIPELINE),
    Variable("actual_bookings", ("fiscal_year", "territory"), "float64", "{currency}", "bookings before the start", "Bookings of the fiscal year in progress before the first simulated month (actuals); 0 for every other year. A fiscal year's bookings are these plus the simulated months'.", "actuals"),
    Variable("occupant", ("trial", "fiscal_year", "seat"), "int32", "1", "occupant at year end", "Which occupant of the seat holds it at the fiscal year's end, the one whose attainment is reported: 0 = the starting rep or planned hire, 1 = the first backfill, ...; -1 if empty.", "occupant"),
    # uncertain parameters (two-level Monte Carlo)
    Variable("parameter_value", ("trial", "parameter"), "float64", "1", "uncertain parameter values", "The value each trial ran with, per uncertain parameter (pmfs flattened as <path>.<month>); in the key's own unit.", "parameter_value", only_with="uncertainty"),
    Variable("parameter_draw", ("trial",), "int64", "1", "parameter draw", "The parameter draw d the trial used: trial // trials_per_draw.", "parameter_draw", only_with="uncertainty"),
    Variable("parameter_sample", ("trial",), "int64", "1", "index into samples", "The index j(d) into every `samples` list of the uncertainty block for the trial's draw; -1 without samples.", "parameter_sample", only_with="uncertainty"),
)

_BY_NAME = {v.name: v for v in VARIABLES}


def by_name(name: str) -> Variable:
    return _BY_NAME[name]

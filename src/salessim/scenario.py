"""The scenario vocabulary: every key a scenario file may hold, validated once.

A scenario file is YAML. :func:`load_scenario` reads it, validates it with pydantic
(strict types, unknown keys rejected), runs the checks that span several keys, and
either returns a :class:`Scenario` or raises one :class:`ScenarioError` that lists
**every** problem with its location and offending value.

Each field below carries its unit, default and one-line meaning in ``Field(...)``;
:func:`key_reference` renders them as the Markdown table in ``scenarios/README.md``
(a test keeps the two identical), so the documentation is generated from this module.

Per-territory keys may be given in ``defaults``; a territory's own value wins.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from . import limits as L
from .textsafe import CONTROL_CHARACTERS
from .yamlsafe import YAMLInputError, load as _load_yaml, read_file as _read_yaml_file
from .scenario_files import inline_files, relocate
from .state_checks import check_state, fiscal_year_in_progress, hire_names, starting_names

__all__ = [
    "Scenario",
    "ScenarioError",
    "Territory",
    "HirePlanEntry",
    "load_scenario",
    "key_reference",
    "truncated",
    "truncated_data",
]

PMF_TOLERANCE = 1e-9
MAX_HORIZON_MONTHS = 600
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")



def _number(value: Any) -> float:
    """Accept ints and floats (and YAML 1.1's unquoted ``1e5``, which arrives as text); never bools."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value}")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int beyond float range
            raise ValueError(f"must be a number within float range (about 1.8e308), got {_got(value)}") from None
    if isinstance(value, str):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            pass
    raise ValueError(f"must be a number, got {_got(value)}")


Number = Annotated[float, BeforeValidator(_number)]


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _nonneg_whole(value: Any) -> int:
    if not _is_whole(value):
        raise ValueError(f"must be a whole number, got {_cut(repr(value))}")
    if value < 0:
        raise ValueError(f"must be a non-negative whole number, got {_got(value)}")
    return value


# Reasons quoted by the bound messages (docs/limits.md has the full table).
_WHY_SEAT_INDEX = f"a seat's random-stream address holds the rep's index in {L.SEAT_INDEX_BITS} bits"
_WHY_MONEY = "a larger amount is a typing mistake, and sums over deals, months and trials must stay finite"
_WHY_FACTOR = "products with money amounts must stay finite"
_WHY_CUSTOMERS = "churned-customer counts are int32 and churn draws grow with the customer count"


def _plain_name(v: str) -> str:
    """A name is one line of visible text: no control characters, no bidi overrides, bounded length."""
    if len(v) > L.MAX_NAME_CHARS:
        raise ValueError(f"must be at most {L.MAX_NAME_CHARS} characters (names label tables, plots and files), "
                         f"got {len(v):,}: {_got(v)}")
    bad = CONTROL_CHARACTERS.search(v)
    if bad:
        raise ValueError(f"must not contain control or bidirectional-override characters (U+{ord(bad.group()):04X} "
                         f"at position {bad.start()}), got {_got(v)}")
    return v


def _at_most(value: Any, bound: float, why: str) -> Any:
    """``value``, or a ValueError naming the bound and why it exists (NaN and inf pass: other checks report them)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > bound and (
            isinstance(value, int) or math.isfinite(value)):
        shown = f"{bound:,}" if isinstance(bound, int) else f"{bound:g}"
        raise ValueError(f"must be at most {shown} ({why}), got {_got(value)}")
    return value


def _max_items(bound: int, why: str):
    """A before-validator refusing a list longer than ``bound`` before its entries are validated."""
    def check(value: Any) -> Any:
        if isinstance(value, list) and len(value) > bound:
            raise ValueError(f"must list at most {bound:,} entries ({why}), got {len(value):,}")
        return value
    return BeforeValidator(check)


def _tenure(value: Any) -> int:
    return _at_most(_nonneg_whole(value), L.MAX_TENURE_MONTHS, "a hundred years of service")


def _unit_interval(value: float) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {_got(value)}")
    return value


Tenure = Annotated[Any, BeforeValidator(_tenure)]
Fraction = Annotated[Number, AfterValidator(_unit_interval)]
NonNegative = Annotated[Number, AfterValidator(lambda v: _check_nonneg(v))]  # defined below
Factor = Annotated[Number, AfterValidator(lambda v: _at_most(_check_nonneg(v), L.MAX_FACTOR, _WHY_FACTOR))]
Money = Annotated[Number, AfterValidator(lambda v: _at_most(_check_nonneg(v), L.MAX_MONEY, _WHY_MONEY))]
# one tenure for every starting rep, or a list with one per rep (errors then name the entry)
TenureMonths = Annotated[
    Annotated[Tenure, Tag("one")]
    | Annotated[list[Tenure], _max_items(L.MAX_REPS_PER_TERRITORY, _WHY_SEAT_INDEX), Tag("each")],
    Discriminator(lambda v: "each" if isinstance(v, list) else "one"),
]
PmfMonths = Annotated[list[NonNegative], _max_items(L.MAX_PMF_MONTHS, "the longest horizon")]


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists ``(location, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" {self.source}" if self.source else ""
        n = len(self.problems)
        head = f"invalid scenario{where}: {n:,} problem{'s' if n != 1 else ''}"
        # every problem is kept in .problems; the message shows the first ones, each cut to
        # a bounded length, so no input can make an error message of megabytes
        shown = self.problems[: L.MAX_PROBLEMS_SHOWN]
        lines = [_cut(f"  {loc}: {msg}" if loc else f"  {msg}", L.MAX_PROBLEM_CHARS) for loc, msg in shown]
        if n > len(shown):
            lines.append(f"  ... and {n - len(shown):,} more problems")
        return "\n".join([head, *lines])


# --------------------------------------------------------------------------- helpers


def _cut(text: str, limit: int = L.MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _got(value: Any) -> str:
    """Render an offending value the way a user wrote it (cut to a bounded length)."""
    if isinstance(value, str):
        return _cut(repr(value))
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * L.MAX_VALUE_CHARS:
        # str() of a huge int is long, slow, and refused past 4,300 digits
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    return _cut(str(value))


def _parse_month(value: Any) -> tuple[int, int]:
    if not isinstance(value, str) or not _MONTH_RE.match(value):
        raise ValueError(f"must be a month written YYYY-MM, got {_got(value)}")
    year, month = int(value[:4]), int(value[5:])
    if not 1 <= month <= 12:
        raise ValueError(f"must be a month written YYYY-MM with MM in 01..12, got {_got(value)}")
    return year, month


def _check_finite(values: list[float]) -> None:
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"entry {i} must be a finite number, got {_got(v)}")


def _check_pmf(values: list[float]) -> list[float]:
    if len(values) == 0:
        raise ValueError("must list at least one probability, got []")
    _check_finite(values)
    for i, v in enumerate(values):
        if v < 0:
            raise ValueError(f"entry {i} must be a non-negative probability, got {_got(v)} in {_got(values)}")
    total = math.fsum(values)
    if abs(total - 1.0) > PMF_TOLERANCE:
        raise ValueError(f"must sum to 1 (within {PMF_TOLERANCE:g}), got {_got(values)} summing to {total:.12g}")
    return [v / total for v in values]


def _check_probability(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"must be a finite number between 0 and 1, got {_got(v)}")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {_got(v)}")
    return float(v)


def _check_nonneg(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"must be a finite number >= 0, got {_got(v)}")
    if v < 0:
        raise ValueError(f"must be >= 0, got {_got(v)}")
    return float(v)


def _check_count(v: int) -> int:
    if v < 0:
        raise ValueError(f"must be a non-negative whole number, got {_got(v)}")
    return v


# --------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True, frozen=True)


class DealSize(_Strict):
    """Value of a won deal: lognormal ``{mean, cv}``, or resampled history ``{empirical: [...]}``
    (or ``{empirical_file: FILE}``, read relative to the scenario file and inlined)."""

    mean: Number | None = Field(None, description="mean value of one won deal (lognormal form)|currency|required unless empirical")
    cv: Number = Field(0.0, description="coefficient of variation (sd / mean) of deal value; 0 = every deal is `mean`|fraction|0")
    empirical: Annotated[list[Number], _max_items(L.MAX_EMPIRICAL_VALUES, "the values are stored in every results file")] | None = Field(None, description="historical deal values, resampled with equal weight (instead of mean and cv): a real product mix is multimodal|currency|none")
    empirical_file: StrictStr | None = Field(None, description="CSV file of historical deal values (an `amount` column, or one column), read relative to the scenario file and inlined as `empirical`|path|none")

    @field_validator("mean")
    @classmethod
    def _mean(cls, v: float | None) -> float | None:
        if v is not None and (not math.isfinite(v) or v <= 0):
            raise ValueError(f"must be a finite number > 0, got {_got(v)}")
        return _at_most(v, L.MAX_MONEY, _WHY_MONEY)

    @field_validator("cv")
    @classmethod
    def _cv(cls, v: float) -> float:
        return _at_most(_check_nonneg(v), L.MAX_DEAL_CV, "beyond it the lognormal's mean rests on a few extreme deals")

    @field_validator("empirical")
    @classmethod
    def _empirical(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return None
        if not v:
            raise ValueError("must list at least one deal value, got []")
        for i, x in enumerate(v):
            if not math.isfinite(x) or x <= 0:
                raise ValueError(f"entry {i} must be a finite number > 0, got {_got(x)}")
            _at_most(x, L.MAX_MONEY, _WHY_MONEY)
        return [float(x) for x in v]

    @model_validator(mode="after")
    def _one_form(self) -> "DealSize":
        empirical = self.empirical is not None or self.empirical_file is not None
        if self.empirical is not None and self.empirical_file is not None:
            raise ValueError("give empirical or empirical_file, not both")
        if empirical and ({"mean", "cv"} & self.model_fields_set):
            raise ValueError("give either {mean, cv} (lognormal) or empirical deal values, not both")
        if not empirical and self.mean is None:
            raise ValueError("needs mean (and optionally cv), or empirical deal values")
        return self

    @property
    def is_empirical(self) -> bool:
        return self.empirical is not None


class RosterRep(_Strict):
    """One named rep in seat at the start."""

    name: StrictStr = Field(description="the rep's name, unique in the scenario (the seat's `seat_name`; pipeline owners refer to it)|text|required")
    tenure_months: Tenure = Field(description="completed months of service at the start|months|required")
    skill: Factor | None = Field(None, description="the rep's persistent multiplier on win rate (1 = average); omitted: drawn as for a joiner|factor|drawn")
    quota_annual: Money | None = Field(None, description="this rep's annual quota when fully ramped (a backfill gets the territory's)|currency/year|territory's")
    ytd_bookings: Money | None = Field(None, description="bookings credited to the rep in the fiscal year in progress, before `start` (needs `actuals`)|currency|0")
    ytd_quota: Money | None = Field(None, description="quota the rep carried in that fiscal year before `start` (needs `actuals`)|currency|0")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(f"must not be empty, got {v!r}")
        if "#" in v or v.startswith("hire:"):
            raise ValueError(f"must not contain '#' or start with 'hire:' (kept for the derived names of anonymous seats), got {v!r}")
        return v

    @field_validator("skill")
    @classmethod
    def _skill(cls, v: float | None) -> float | None:
        if v is not None and (not math.isfinite(v) or v <= 0):
            raise ValueError(f"must be a finite number > 0, got {_got(v)}")
        return v


# reps in seat at the start: a count of anonymous reps, or a roster of named reps
Reps = Annotated[
    Annotated[StrictInt, Tag("int")]
    | Annotated[list[RosterRep], _max_items(L.MAX_REPS_PER_TERRITORY, _WHY_SEAT_INDEX), Tag("roster")],
    Discriminator(lambda v: "roster" if isinstance(v, list) else "int"),
]


class AttritionBand(_Strict):
    """One tenure band of annual attrition."""

    until_month: StrictInt | None = Field(None, description="band covers tenure months below this value; omit on the last band|months|last band: none")
    annual: Number = Field(description="annual attrition rate in this band|fraction|required")

    @field_validator("until_month")
    @classmethod
    def _until(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(f"must be a whole number >= 1, got {_got(v)}")
        return _at_most(v, L.MAX_BAND_MONTH, "no rep's tenure reaches it; omit until_month on the last band")

    @field_validator("annual")
    @classmethod
    def _annual(cls, v: float) -> float:
        return _check_probability(v)


class Tier(_Strict):
    """One accelerator tier: the marginal commission rate times ``multiplier`` above ``above`` x quota."""

    above: Factor = Field(description="attainment above which the tier applies (1.0 = 100% of quota)|fraction of quota|required")
    multiplier: Factor = Field(description="multiple of the base commission rate paid on bookings in the tier|factor|required")


class Decelerator(_Strict):
    """A lower marginal rate on bookings below a threshold."""

    below: Factor = Field(description="attainment below which the reduced rate applies|fraction of quota|required")
    multiplier: Factor = Field(description="multiple of the base commission rate paid on bookings below the threshold|factor|required")


class Commission(_Strict):
    """How variable pay is earned: measured and paid per period on that period's quota."""

    period: Literal["month", "quarter", "year"] = Field("quarter", description="fiscal period over which attainment is measured and commission paid: month, quarter or year|-|quarter")
    rate: Number | None = Field(None, description="base commission rate on bookings; default variable_annual / quota_annual|fraction of bookings|variable / quota")
    accelerators: Annotated[list[Tier], _max_items(L.MAX_COMMISSION_TIERS, "each payout walks the tiers")] = Field(default_factory=list, description="tiers `{above, multiplier}` with increasing `above`, e.g. `[{above: 1.0, multiplier: 1.5}, {above: 1.5, multiplier: 2.0}]`|-|none")
    decelerator: Decelerator | None = Field(None, description="optional `{below, multiplier}`: reduced rate on bookings below `below` x quota|-|none")
    cap: Number | None = Field(None, description="most a rep can earn in a period, as a multiple of the period's target incentive (rate x quota)|multiple of target|none")

    @field_validator("rate", "cap")
    @classmethod
    def _nonneg(cls, v: float | None) -> float | None:
        return None if v is None else _at_most(_check_nonneg(v), L.MAX_FACTOR, _WHY_FACTOR)

    @field_validator("accelerators")
    @classmethod
    def _tiers(cls, v: list[Tier]) -> list[Tier]:
        for a, b in zip(v, v[1:]):
            if b.above <= a.above:
                raise ValueError(f"`above` must increase from tier to tier, got {_got(b.above)} after {_got(a.above)}")
        return v

    @model_validator(mode="after")
    def _decelerator_below_tiers(self) -> "Commission":
        if self.decelerator is not None and self.accelerators and self.decelerator.below > self.accelerators[0].above:
            raise ValueError(f"decelerator.below ({_got(self.decelerator.below)}) must not exceed the first accelerator's above "
                             f"({_got(self.accelerators[0].above)})")
        return self


class TerritoryFields(_Strict):
    """Keys a territory may set itself or inherit from ``defaults``."""

    reps: Reps | None = Field(None, description="reps in seat at the start: a number of anonymous reps, or a roster, a list of `{name, tenure_months, skill, quota_annual, ytd_bookings, ytd_quota}` (see `reps[]`)|reps|required")
    initial_tenure_months: TenureMonths | None = Field(None, description="completed months of service of the starting reps: one number for all, or a list with one per rep|months|24")
    leads_per_month: Number | None = Field(None, description="expected inbound leads per month before seasonality, growth and downturns|leads/month|required")
    lead_to_opportunity: Number | None = Field(None, description="share of worked leads that become opportunities|fraction|required")
    win_rate: Number | None = Field(None, description="share of opportunities won (times the rep's skill and any downturn multiplier, capped at 1)|fraction|required")
    sales_cycle_months: PmfMonths | None = Field(None, description="pmf of months from opportunity to booking (entry k = k months)|pmf over months|[1.0]")
    deal_size: DealSize | None = Field(None, description="value of a won deal: lognormal `{mean, cv}`, or `{empirical: [...]}` / `{empirical_file: FILE}` resampled|currency|required")
    ramp: Annotated[list[Fraction], _max_items(L.MAX_RAMP_MONTHS, "five years of ramp")] | None = Field(None, description="productivity by tenure month (entry 0 = first month); 1.0 after the list ends|fraction|[] (no ramp)")
    capacity_leads_per_month: Number | None = Field(None, description="leads one fully ramped rep can work per month; null = unlimited|leads/month|null")
    attrition_annual: Number | None = Field(None, description="annual attrition rate, the same at every tenure; exclusive with attrition_by_tenure|fraction|0")
    attrition_by_tenure: Annotated[list[AttritionBand], _max_items(L.MAX_ATTRITION_BANDS, "each departure time walks the bands")] | None = Field(None, description="annual attrition by tenure band: `[{until_month: 12, annual: 0.4}, {annual: 0.25}]`|fraction|none")
    skill_sigma: Number | None = Field(None, description="sd of the log of a rep's persistent productivity multiplier (mean 1) on win rate|log-sd|0")
    quota_annual: Number | None = Field(None, description="annual quota of a fully ramped rep|currency/year|required")
    quota_ramped: StrictBool | None = Field(None, description="new hires' monthly quota follows the ramp curve|true/false|true")
    backfill: StrictBool | None = Field(None, description="replace reps who leave|true/false|true")
    time_to_fill_months: PmfMonths | None = Field(None, description="pmf of months between a departure and the replacement's start (entry k = k months)|pmf over months|[1.0]")
    orphaned_deal_close_rate: Number | None = Field(None, description="probability that a won deal whose owner left before it booked still books (to the territory)|fraction|0.5")
    quarter_end_pull: Number | None = Field(None, description="share of deals due in a fiscal quarter's first or second month that book in its last month instead (B2B quarter-end bunching; the quarter's last month then holds (1 + 2 x pull) / 3 of evenly spread deals)|fraction|0")
    base_salary_annual: Number | None = Field(None, description="base salary of a rep, paid monthly while in seat|currency/year|0")
    variable_annual: Number | None = Field(None, description="target incentive: variable pay of a fully ramped rep at 100% of quota|currency/year|0")
    commission: Commission | None = Field(None, description="commission plan: `{period, rate, accelerators, decelerator, cap}`|-|quarterly, no tiers")
    hiring_cost: Number | None = Field(None, description="recruiting and onboarding cost of each hire (planned or backfill)|currency/hire|0")
    overhead_per_rep_month: Number | None = Field(None, description="tools, travel and management cost of a rep in seat|currency/rep-month|0")
    cost_of_sale_rate: Number | None = Field(None, description="account cost of a booked deal as a share of its value|fraction of bookings|0")
    revenue_model: Literal["recurring", "one_time"] | None = Field(None, description="one_time: a booking is revenue when booked; recurring: a booking is new ARR, recognised as ARR / 12 each month|-|one_time")
    existing_arr: Number | None = Field(None, description="annual recurring revenue from existing customers at the start (recurring model)|currency/year|0")
    existing_customers: StrictInt | None = Field(None, description="customers behind existing_arr (recurring model)|customers|existing_arr / deal_size.mean, rounded")
    churn_annual: Number | None = Field(None, description="share of customers (and their ARR) lost per year (recurring model)|fraction/year|0")
    expansion_annual: Number | None = Field(None, description="growth of the ARR of retained customers per year (recurring model)|fraction/year|0")
    gross_margin: Number | None = Field(None, description="gross margin on revenue, for customer lifetime value|fraction|1")

    @field_validator("reps")
    @classmethod
    def _reps(cls, v: int | list[RosterRep] | None) -> int | list[RosterRep] | None:
        return _at_most(_check_count(v), L.MAX_REPS_PER_TERRITORY, _WHY_SEAT_INDEX) if isinstance(v, int) else v

    @field_validator("leads_per_month")
    @classmethod
    def _leads(cls, v: float | None) -> float | None:
        return None if v is None else _check_nonneg(v)

    @field_validator("base_salary_annual", "variable_annual", "hiring_cost", "overhead_per_rep_month", "existing_arr")
    @classmethod
    def _money(cls, v: float | None) -> float | None:
        return None if v is None else _at_most(_check_nonneg(v), L.MAX_MONEY, _WHY_MONEY)

    @field_validator("expansion_annual")
    @classmethod
    def _expansion(cls, v: float | None) -> float | None:
        return None if v is None else _at_most(_check_nonneg(v), L.MAX_FACTOR, _WHY_FACTOR)

    @field_validator("existing_customers")
    @classmethod
    def _customers(cls, v: int | None) -> int | None:
        return None if v is None else _at_most(_check_count(v), L.MAX_CUSTOMERS, _WHY_CUSTOMERS)

    @field_validator("lead_to_opportunity", "win_rate", "attrition_annual", "orphaned_deal_close_rate",
                     "quarter_end_pull", "cost_of_sale_rate", "churn_annual", "gross_margin")
    @classmethod
    def _prob(cls, v: float | None) -> float | None:
        return None if v is None else _check_probability(v)

    @field_validator("sales_cycle_months", "time_to_fill_months")
    @classmethod
    def _pmf(cls, v: list[float] | None) -> list[float] | None:
        return None if v is None else _check_pmf(v)

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return None
        _check_finite(v)
        for i, x in enumerate(v):
            if not 0.0 <= x <= 1.0:
                raise ValueError(f"entry {i} must be between 0 and 1, got {_got(x)} in {_got(v)}")
        return [float(x) for x in v]

    @field_validator("capacity_leads_per_month")
    @classmethod
    def _capacity(cls, v: float | None) -> float | None:
        if v is None:
            return None
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"must be a finite number > 0 (or null for unlimited), got {_got(v)}")
        return v

    @field_validator("attrition_by_tenure")
    @classmethod
    def _bands(cls, v: list[AttritionBand] | None) -> list[AttritionBand] | None:
        if v is None:
            return None
        if not v:
            raise ValueError("must list at least one band, got []")
        if v[-1].until_month is not None:
            raise ValueError(f"the last band must omit until_month (it covers all later tenure), got until_month {v[-1].until_month}")
        previous = 0
        for band in v[:-1]:
            if band.until_month is None:
                raise ValueError("only the last band may omit until_month")
            if band.until_month <= previous:
                raise ValueError(f"until_month must increase from band to band, got {band.until_month} after {previous}")
            previous = band.until_month
        return v

    @field_validator("skill_sigma")
    @classmethod
    def _sigma(cls, v: float | None) -> float | None:
        return None if v is None else _at_most(_check_nonneg(v), L.MAX_SKILL_SIGMA,
                                               "skill multipliers exp(5 z) already differ ten-billion-fold")

    @field_validator("quota_annual")
    @classmethod
    def _quota(cls, v: float | None) -> float | None:
        if v is None:
            return None
        if 0 < v < L.MIN_POSITIVE_QUOTA:
            raise ValueError(f"must be 0 (no quota) or at least {L.MIN_POSITIVE_QUOTA:g} (attainment and the default "
                             f"commission rate divide by it), got {_got(v)}")
        return _at_most(_check_nonneg(v), L.MAX_MONEY, _WHY_MONEY)


class TerritoryEntry(TerritoryFields):
    name: StrictStr = Field(description="territory name, unique|text|required")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(f"must not be empty, got {v!r}")
        return _plain_name(v)


class Downturn(_Strict):
    """A market shock shared by all territories."""

    probability_per_year: Number = Field(description="chance that a downturn starts within a year (spread evenly over months)|fraction|required")
    duration_months: StrictInt = Field(description="months a downturn lasts|months|required")
    lead_multiplier: Number = Field(1.0, description="multiplier on lead volume during a downturn|factor|1.0")
    win_rate_multiplier: Number = Field(1.0, description="multiplier on win rate during a downturn|factor|1.0")

    @field_validator("probability_per_year")
    @classmethod
    def _p(cls, v: float) -> float:
        return _check_probability(v)

    @field_validator("duration_months")
    @classmethod
    def _d(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be a whole number >= 1, got {_got(v)}")
        return _at_most(v, MAX_HORIZON_MONTHS, "the longest horizon")

    @field_validator("lead_multiplier", "win_rate_multiplier")
    @classmethod
    def _m(cls, v: float) -> float:
        return _at_most(_check_nonneg(v), L.MAX_FACTOR, _WHY_FACTOR)


class Market(_Strict):
    seasonality: list[NonNegative] = Field(default_factory=lambda: [1.0] * 12, description="lead-volume multipliers for Jan..Dec, rescaled to mean 1|factor|twelve 1.0s")
    annual_growth: Number = Field(0.0, description="growth of lead volume per year, compounded monthly|fraction/year|0")
    downturn: Downturn | None = Field(None, description="optional shared shock: `{probability_per_year, duration_months, lead_multiplier, win_rate_multiplier}`|-|none")

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"must list 12 values (Jan..Dec), got {len(v)}")
        _check_finite(v)
        for i, x in enumerate(v):
            if x < 0:
                raise ValueError(f"entry {i} must be >= 0, got {_got(x)}")
        mean = math.fsum(v) / 12.0
        if mean <= 0:
            raise ValueError("must have a positive mean, got all zeros")
        return [x / mean for x in v]

    @field_validator("annual_growth")
    @classmethod
    def _growth(cls, v: float) -> float:
        if not math.isfinite(v) or v <= -1.0:
            raise ValueError(f"must be a finite number > -1, got {_got(v)}")
        return float(v)


class Goal(_Strict):
    annual: list[NonNegative] = Field(description="company bookings goal, one value per fiscal year fully inside the horizon, led by the fiscal year in progress at `start` when the scenario has `actuals`|currency/year|required")

    @field_validator("annual")
    @classmethod
    def _annual(cls, v: list[float]) -> list[float]:
        for i, x in enumerate(v):
            if not math.isfinite(x) or x < 0:
                raise ValueError(f"entry {i} must be a finite number >= 0, got {_got(x)}")
            if x > L.MAX_MONEY:
                raise ValueError(f"entry {i} must be at most {L.MAX_MONEY:g} ({_WHY_MONEY}), got {_got(x)}")
        return [float(x) for x in v]


class HirePlanEntry(_Strict):
    month: StrictStr = Field(description="month the hires start, inside the horizon|YYYY-MM|required")
    territory: StrictStr = Field(description="name of an existing territory|text|required")
    hires: StrictInt = Field(description="reps who start that month|reps|required")

    @field_validator("month")
    @classmethod
    def _month(cls, v: str) -> str:
        _parse_month(v)
        return v

    @field_validator("hires")
    @classmethod
    def _hires(cls, v: int) -> int:
        return _at_most(_check_count(v), L.MAX_HIRES_PER_ENTRY, f"a hire's random-stream address holds its index in {L.SEAT_INDEX_BITS} bits")


def _deal_id(value: Any) -> str:
    """Deal ids are text; a YAML number (``id: 1001``) is read as its text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be text (a deal id), got {_got(value)}")
    text = str(value).strip()
    if not text:
        raise ValueError(f"must not be empty, got {value!r}")
    return text


class OpenDeal(_Strict):
    """One deal open at ``start`` (SPEC section 9)."""

    id: Annotated[str, BeforeValidator(_deal_id)] = Field(description="the deal's id, unique; its random draws are keyed by it|text|required")
    territory: StrictStr = Field(description="territory the deal belongs to|text|required")
    owner: StrictStr | None = Field(None, description="the rep who owns it: a named rep, or an anonymous starting rep's seat name such as `East#3`; none or another name: the deal books to the territory and credits no rep|text|none")
    age_months: Tenure = Field(description="whole months since the deal was opened|months|required")
    amount: Number | None = Field(None, description="value if won; omitted: drawn from the territory's deal_size|currency|drawn")
    win_probability: Fraction | None = Field(None, description="chance the deal is won; omitted: the territory's win_rate|fraction|win_rate")

    @field_validator("amount")
    @classmethod
    def _amount(cls, v: float | None) -> float | None:
        if v is not None and (not math.isfinite(v) or v <= 0):
            raise ValueError(f"must be a finite number > 0, got {_got(v)}")
        return _at_most(v, L.MAX_MONEY, _WHY_MONEY)


class Actuals(_Strict):
    """What was already booked in the fiscal year in progress at ``start``."""

    bookings: dict[StrictStr, Money] = Field(description="bookings per territory name in the fiscal year in progress, before `start` (a territory left out booked 0)|currency|required")


class Spread(_Strict):
    """A location and a spread: ``{mean, sd}`` or ``{mean, cv}``."""

    mean: Number = Field(description="mean of the distribution (before truncation)|key's unit|required")
    sd: NonNegative | None = Field(None, description="standard deviation; 0 = a point mass at mean|key's unit|sd or cv")
    cv: NonNegative | None = Field(None, description="coefficient of variation sd / mean|fraction|sd or cv")

    @model_validator(mode="after")
    def _one_spread(self) -> "Spread":
        if (self.sd is None) == (self.cv is None):
            raise ValueError("give exactly one of sd and cv")
        if not math.isfinite(self.mean):
            raise ValueError(f"mean must be a finite number, got {_got(self.mean)}")
        return self

    @property
    def sd_value(self) -> float:
        return float(self.sd) if self.sd is not None else float(self.cv) * abs(float(self.mean))


def _samples(value: Any) -> list:
    """Posterior draws: a list of numbers, or (for a pmf) a list of lists of numbers."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of draws, got {_got(value)}")
    if len(value) > L.MAX_UNCERTAIN_DRAWS:
        raise ValueError(f"must list at most {L.MAX_UNCERTAIN_DRAWS:,} draws (they are stored in every results file), got {len(value):,}")
    if all(isinstance(v, list) for v in value):
        return [[_number(x) for x in v] for v in value]
    if any(isinstance(v, list) for v in value):
        raise ValueError("must be all numbers (draws of a number) or all lists (draws of a pmf), not a mix")
    out = [_number(x) for x in value]
    for i, x in enumerate(out):
        if not math.isfinite(x):
            raise ValueError(f"entry {i} must be a finite number, got {_got(x)}")
    return out


DISTRIBUTIONS = ("beta", "gamma", "normal", "lognormal", "uniform", "triangular", "dirichlet", "samples")


class Distribution(_Strict):
    """One uncertain parameter: exactly one distribution family, optionally truncated to [min, max]."""

    beta: list[Number] | None = Field(None, description="`[a, b]`, both > 0: mean a / (a + b), e.g. wins + 1 and losses + 1|-|-")
    gamma: Spread | None = Field(None, description="`{mean, sd}` or `{mean, cv}` with mean > 0|-|-")
    normal: Spread | None = Field(None, description="`{mean, sd}` or `{mean, cv}`|-|-")
    lognormal: Spread | None = Field(None, description="`{mean, sd}` or `{mean, cv}` of the value itself, mean > 0|-|-")
    uniform: list[Number] | None = Field(None, description="`[low, high]`|-|-")
    triangular: list[Number] | None = Field(None, description="`[low, mode, high]`|-|-")
    dirichlet: list[Number] | None = Field(None, description="concentrations `[a0, a1, ...]` > 0, one per entry of the pmf it replaces; mean a_i / sum(a)|-|-")
    samples: Annotated[list, BeforeValidator(_samples)] | None = Field(None, description="posterior draws: numbers, or pmfs (lists); all `samples` of a block have one length N and draw d takes one index j(d) for all of them|-|-")
    min: Number | None = Field(None, description="lower truncation bound (beta, gamma, normal, lognormal)|key's unit|none")
    max: Number | None = Field(None, description="upper truncation bound (beta, gamma, normal, lognormal)|key's unit|none")

    @model_validator(mode="after")
    def _one_family(self) -> "Distribution":
        given = [name for name in DISTRIBUTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one distribution ({', '.join(DISTRIBUTIONS)}), got "
                             f"{', '.join(given) if given else 'none'}")
        family = given[0]
        if (self.min is not None or self.max is not None) and family not in ("beta", "gamma", "normal", "lognormal"):
            raise ValueError(f"min and max truncate beta, gamma, normal and lognormal only, not {family}")
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"min and max must be finite numbers, got {_got(bound)}")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min must be below max, got min {_got(self.min)}, max {_got(self.max)}")
        if family == "beta":
            if len(self.beta) != 2 or not all(math.isfinite(x) and x > 0 for x in self.beta):
                raise ValueError(f"beta must be [a, b] with a, b > 0, got {self.beta}")
        elif family in ("gamma", "lognormal"):
            spread = getattr(self, family)
            if not spread.mean > 0:
                raise ValueError(f"{family} needs mean > 0, got {_got(spread.mean)}")
        elif family == "uniform":
            u = self.uniform
            if len(u) != 2 or not all(math.isfinite(x) for x in u) or not u[0] <= u[1]:
                raise ValueError(f"uniform must be [low, high] with low <= high, got {u}")
        elif family == "triangular":
            t = self.triangular
            if len(t) != 3 or not all(math.isfinite(x) for x in t) or not t[0] <= t[1] <= t[2]:
                raise ValueError(f"triangular must be [low, mode, high] with low <= mode <= high, got {t}")
        elif family == "dirichlet":
            if not self.dirichlet or not all(math.isfinite(x) and x > 0 for x in self.dirichlet):
                raise ValueError(f"dirichlet must list concentrations > 0, got {self.dirichlet}")
        return self

    @property
    def family(self) -> str:
        return next(name for name in DISTRIBUTIONS if getattr(self, name) is not None)


class Uncertainty(_Strict):
    """Two-level Monte Carlo: parameters drawn once per draw, futures simulated per trial."""

    trials_per_draw: StrictInt = Field(1, description="trials that share one parameter draw: trial k uses draw k // trials_per_draw (above 1, the summary splits variance into parameter and future)|trials|1")
    parameters: dict[StrictStr, Distribution] = Field(default_factory=dict, description="dotted path (as `--set` takes it) -> distribution; see `uncertainty.parameters`|-|empty")

    @field_validator("trials_per_draw")
    @classmethod
    def _tpd(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be a whole number >= 1, got {_got(v)}")
        return v


class ScenarioFile(_Strict):
    name: StrictStr = Field(description="scenario name; names the default results file|letters, digits, `_.-`|required")
    description: StrictStr = Field("", description="free text shown in summaries and reports|text|empty")
    start: StrictStr = Field(description="first simulated month|YYYY-MM|required")
    horizon_months: StrictInt = Field(description=f"months simulated (1..{MAX_HORIZON_MONTHS})|months|required")
    fiscal_year_start_month: StrictInt = Field(1, description="calendar month in which a fiscal year starts (1..12); a fiscal year is labelled by the calendar year it starts in|month|1")
    currency: StrictStr = Field("USD", description="three-letter currency code for every money value|ISO 4217|USD")
    goal: Goal = Field(description="company bookings goal: `{annual: [...]}`|currency/year|required")
    market: Market = Field(default_factory=Market, description="demand shared by all territories: seasonality, growth, downturn|-|no seasonality, no growth, no downturn")
    defaults: TerritoryFields = Field(default_factory=TerritoryFields, description="per-territory keys merged into every territory that does not set them|-|empty")
    territories: Annotated[list[TerritoryEntry], _max_items(L.MAX_TERRITORIES, "per-territory tables must fit in memory")] = Field(description="the territories, each a mapping of per-territory keys plus `name`|-|required")
    hiring_plan: Annotated[list[HirePlanEntry], _max_items(L.MAX_HIRING_PLAN_ENTRIES, f"a hired seat's random-stream address holds its entry in {L.SEAT_GROUP_BITS} bits")] = Field(default_factory=list, description="planned hires: `{month, territory, hires}` entries|-|empty")
    pipeline: Annotated[list[OpenDeal], _max_items(L.MAX_PIPELINE_DEALS, "a trial simulates every open deal")] | None = Field(None, description="deals open at `start`: `{id, territory, owner, age_months, amount, win_probability}` entries (see `pipeline[]`)|-|none")
    pipeline_file: StrictStr | None = Field(None, description="CSV file of the open deals (header `id,territory,owner,age_months,amount,win_probability`; owner, amount and win_probability may be empty), read relative to the scenario file and stored inlined as `pipeline_csv`|path|none")
    pipeline_csv: StrictStr | None = Field(None, description="the same CSV as text (a YAML literal block); what a pipeline_file becomes in a stored scenario|text|none")
    actuals: Actuals | None = Field(None, description="the fiscal year in progress at `start`: `{bookings: {TERRITORY: amount}}` booked before `start`; that year then gets a goal and figures|-|none")
    uncertainty: Uncertainty | None = Field(None, description="uncertain parameters: `{trials_per_draw, parameters: {PATH: distribution}}`|-|none")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(f"must start with a letter or digit and use only letters, digits and _ . - (it names the results file), got {_got(v)}")
        return _plain_name(v)

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        if len(v) > L.MAX_DESCRIPTION_CHARS:
            raise ValueError(f"must be at most {L.MAX_DESCRIPTION_CHARS:,} characters (it is shown in summaries and reports), got {len(v):,}")
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        year, _ = _parse_month(v)
        if not L.MIN_START_YEAR <= year <= L.MAX_START_YEAR:
            raise ValueError(f"must be a month from {L.MIN_START_YEAR}-01 to {L.MAX_START_YEAR}-12 (months are stored as "
                             f"datetime64[ns], which ends in 2262), got {_got(v)}")
        return v

    @field_validator("horizon_months")
    @classmethod
    def _horizon(cls, v: int) -> int:
        if not 1 <= v <= MAX_HORIZON_MONTHS:
            raise ValueError(f"must be a whole number between 1 and {MAX_HORIZON_MONTHS}, got {_got(v)}")
        return v

    @field_validator("fiscal_year_start_month")
    @classmethod
    def _fy(cls, v: int) -> int:
        if not 1 <= v <= 12:
            raise ValueError(f"must be a whole number between 1 and 12, got {_got(v)}")
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"must be a three-letter upper-case code such as USD or EUR, got {_got(v)}")
        return v

    @field_validator("territories")
    @classmethod
    def _territories(cls, v: list[TerritoryEntry]) -> list[TerritoryEntry]:
        if not v:
            raise ValueError("must list at least one territory, got []")
        return v


# Built-in values of the optional per-territory keys (``required`` ones have none).
TERRITORY_DEFAULTS: dict[str, Any] = {
    "initial_tenure_months": 24,
    "sales_cycle_months": [1.0],
    "ramp": [],
    "capacity_leads_per_month": None,
    "attrition_annual": 0.0,
    "attrition_by_tenure": None,
    "skill_sigma": 0.0,
    "quota_ramped": True,
    "backfill": True,
    "time_to_fill_months": [1.0],
    "orphaned_deal_close_rate": 0.5,
    "quarter_end_pull": 0.0,
    "base_salary_annual": 0.0,
    "variable_annual": 0.0,
    "commission": None,
    "hiring_cost": 0.0,
    "overhead_per_rep_month": 0.0,
    "cost_of_sale_rate": 0.0,
    "revenue_model": "one_time",
    "existing_arr": 0.0,
    "existing_customers": None,
    "churn_annual": 0.0,
    "expansion_annual": 0.0,
    "gross_margin": 1.0,
}
_NULL_IS_A_VALUE = {"capacity_leads_per_month"}  # null = unlimited; any other null means "not set"
REQUIRED_TERRITORY_KEYS = ("reps", "leads_per_month", "lead_to_opportunity", "win_rate", "deal_size", "quota_annual")
_ATTRITION_KEYS = ("attrition_annual", "attrition_by_tenure")


# --------------------------------------------------------------------------- resolved


@dataclass(frozen=True)
class Territory:
    """A territory with ``defaults`` merged and built-in defaults filled in."""

    name: str
    reps: int
    initial_tenure_months: tuple[int, ...]  # one per starting rep
    roster: tuple[RosterRep, ...] | None  # the named reps, one per starting rep, or None (anonymous reps)
    leads_per_month: float
    lead_to_opportunity: float
    win_rate: float
    sales_cycle_months: tuple[float, ...]
    deal_mean: float  # lognormal mean; for empirical deal sizes the mean of the values
    deal_cv: float  # lognormal cv; for empirical deal sizes the cv of the values
    deal_empirical: tuple[float, ...] | None  # historical deal values resampled instead of the lognormal
    ramp: tuple[float, ...]
    capacity_leads_per_month: float | None
    attrition_bands: tuple[tuple[int | None, float], ...]  # (until_month, annual); last has None
    skill_sigma: float
    quota_annual: float
    quota_ramped: bool
    backfill: bool
    time_to_fill_months: tuple[float, ...]
    orphaned_deal_close_rate: float
    quarter_end_pull: float
    base_salary_annual: float
    variable_annual: float
    commission: Commission
    hiring_cost: float
    overhead_per_rep_month: float
    cost_of_sale_rate: float
    revenue_model: str
    existing_arr: float
    existing_customers: int
    churn_annual: float
    expansion_annual: float
    gross_margin: float


def _picker(defaults: TerritoryFields, entry: TerritoryEntry):
    """``pick(key)``: a territory's value of a per-territory key: its own, else defaults', else built in.

    A key set to null counts as not set, except where null is itself a setting
    (``capacity_leads_per_month: null`` is unlimited capacity).
    """
    def given(model: TerritoryFields, key: str) -> bool:
        return key in model.model_fields_set and (getattr(model, key) is not None or key in _NULL_IS_A_VALUE)

    if any(given(entry, k) for k in _ATTRITION_KEYS):
        attrition_source = entry  # a territory's own attrition key replaces both defaults
    elif any(given(defaults, k) for k in _ATTRITION_KEYS):
        attrition_source = defaults
    else:
        attrition_source = None

    def pick(key: str) -> Any:
        if key in _ATTRITION_KEYS:
            if attrition_source is None:
                return TERRITORY_DEFAULTS[key]
            return getattr(attrition_source, key) if given(attrition_source, key) else None
        if given(entry, key):
            return getattr(entry, key)
        if given(defaults, key):
            return getattr(defaults, key)
        return TERRITORY_DEFAULTS.get(key)  # None for a required key that is missing

    return pick


def _resolve_territory(defaults: TerritoryFields, entry: TerritoryEntry) -> Territory:
    pick = _picker(defaults, entry)

    reps = pick("reps")
    roster = None
    if isinstance(reps, list):  # a roster of named reps gives each rep's tenure
        roster = tuple(reps)
        reps = len(roster)
        tenure_list = tuple(int(r.tenure_months) for r in roster)
    else:
        tenure = pick("initial_tenure_months")
        tenure_list = tuple(tenure) if isinstance(tenure, list) else (tenure,) * reps
    bands_raw = pick("attrition_by_tenure")
    if bands_raw:
        bands = tuple((b.until_month, b.annual) for b in bands_raw)
    else:
        bands = ((None, pick("attrition_annual") or 0.0),)
    deal = pick("deal_size")
    if deal.is_empirical:
        values = np.asarray(deal.empirical, dtype=np.float64)
        deal_mean, deal_cv = float(values.mean()), float(values.std() / values.mean())
    else:
        deal_mean, deal_cv = float(deal.mean), float(deal.cv)
    return Territory(
        name=entry.name,
        reps=reps,
        initial_tenure_months=tenure_list,
        roster=roster,
        leads_per_month=pick("leads_per_month"),
        lead_to_opportunity=pick("lead_to_opportunity"),
        win_rate=pick("win_rate"),
        sales_cycle_months=tuple(pick("sales_cycle_months")),
        deal_mean=deal_mean,
        deal_cv=deal_cv,
        deal_empirical=tuple(deal.empirical) if deal.is_empirical else None,
        ramp=tuple(pick("ramp")),
        capacity_leads_per_month=pick("capacity_leads_per_month"),
        attrition_bands=bands,
        skill_sigma=pick("skill_sigma"),
        quota_annual=pick("quota_annual"),
        quota_ramped=pick("quota_ramped"),
        backfill=pick("backfill"),
        time_to_fill_months=tuple(pick("time_to_fill_months")),
        orphaned_deal_close_rate=pick("orphaned_deal_close_rate"),
        quarter_end_pull=pick("quarter_end_pull"),
        base_salary_annual=pick("base_salary_annual"),
        variable_annual=pick("variable_annual"),
        commission=pick("commission") or Commission(),
        hiring_cost=pick("hiring_cost"),
        overhead_per_rep_month=pick("overhead_per_rep_month"),
        cost_of_sale_rate=pick("cost_of_sale_rate"),
        revenue_model=pick("revenue_model"),
        existing_arr=pick("existing_arr"),
        existing_customers=_existing_customers(pick("existing_customers"), pick("existing_arr"), deal_mean),
        churn_annual=pick("churn_annual"),
        expansion_annual=pick("expansion_annual"),
        gross_margin=pick("gross_margin"),
    )


def _existing_customers(given: int | None, arr: float, deal_mean: float) -> int:
    if given is not None:
        return given
    return max(1, int(round(arr / deal_mean))) if arr > 0 else 0


# libyaml's loader and emitter where PyYAML has them (the same safe subset, many times faster:
# a stored scenario can hold a pipeline of thousands of deals); the pure-Python ones otherwise


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Safe YAML with multi-line text as literal blocks (``|``)."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


_PIPELINE_KEYS = ("pipeline", "pipeline_file", "pipeline_csv")


class Scenario:
    """A validated scenario.

    Build it with :func:`load_scenario` or :meth:`from_yaml`; it never holds an invalid
    state. ``spec`` is the validated file, ``territories`` the resolved territories and
    ``data`` the plain data it was built from (what :meth:`to_yaml` writes back).
    """

    def __init__(self, data: dict[str, Any], spec: ScenarioFile, source: str | None = None,
                 warnings: list[tuple[str, str]] | None = None, base_dir: Path | None = None):
        self.data = data
        self.spec = spec
        self.source = source
        self.base_dir = base_dir  # where files the scenario names are read from (overrides naming new ones too)
        self.territories: tuple[Territory, ...] = tuple(_resolve_territory(spec.defaults, t) for t in spec.territories)
        #: (location, message) of what is valid but probably not meant (``salessim validate`` lists them)
        self.warnings: list[tuple[str, str]] = list(warnings or [])
        #: the CSV files the scenario named and that were inlined (inputs no command may overwrite)
        self.files_read: tuple[Path, ...] = ()

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, source: str | None = None, base_dir: str | Path | None = None) -> Scenario:
        """Validate plain data (as parsed from YAML); raise :class:`ScenarioError`.

        Files the data names (``pipeline_file``, ``deal_size.empirical_file``) are read
        relative to ``base_dir`` (default: the current folder) and inlined.
        """
        if data is None:
            raise ScenarioError([("", "the file is empty; a scenario is a mapping of keys such as name, start, territories")], source)
        if not isinstance(data, dict):
            raise ScenarioError([("", f"a scenario must be a mapping of keys, got {type(data).__name__}")], source)
        data = copy.deepcopy(data)
        data, checked, lines, problems, files = inline_files(data, Path.cwd() if base_dir is None else Path(base_dir))
        spec = None
        try:
            spec = ScenarioFile.model_validate(checked)
        except ValidationError as exc:
            problems.extend(_format_pydantic(exc, checked))
        problems.extend(_cross_checks(checked))
        if spec is not None:
            problems.extend(_resource_checks(spec))
        warnings: list[tuple[str, str]] = []
        if not problems:
            assert spec is not None
            territories = tuple(_resolve_territory(spec.defaults, t) for t in spec.territories)
            found, warnings = check_state(spec, territories, _parse_month(spec.start))
            problems.extend(found)
        if problems:
            raise ScenarioError(_dedupe(relocate(problems, lines)), source)
        assert spec is not None
        out = cls(data, spec, source, relocate(warnings, lines), None if base_dir is None else Path(base_dir))
        out.files_read = tuple(files)
        return out

    @classmethod
    def from_yaml(cls, text: str, source: str | None = None, base_dir: str | Path | None = None) -> Scenario:
        """Parse and validate YAML text (such as a results file's ``scenario`` attribute)."""
        try:
            data = _load_yaml(text)
        except YAMLInputError as exc:
            raise ScenarioError([(f"line {exc.line}" if exc.line else "", exc.message)], source) from None
        return cls.from_dict(data, source, base_dir)

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a new scenario with dotted-path keys replaced.

        Paths walk mappings by key and lists by index; in ``territories`` a name may
        stand for the index: ``{"territories.East.win_rate": 0.5,
        "market.downturn.probability_per_year": 0.2, "hiring_plan.0.hires": 3}``.
        A key that does not exist yet is added (validation then rejects unknown keys).
        """
        data = copy.deepcopy(self.data)
        # an override that gives the pipeline replaces it, whatever form the scenario gave it in
        given = [k for k in _PIPELINE_KEYS if overrides.get(k) is not None]
        if len(given) == 1:
            for key in _PIPELINE_KEYS:
                data.pop(key, None)
        problems = []
        located = {}  # location in the data -> the override path that set it
        for path, value in overrides.items():
            try:
                located[_set_path(data, path, value)] = path
            except KeyError as exc:
                problems.append((path, exc.args[0]))
        source = f"{self.source or 'scenario'} with overrides"
        if problems:
            raise ScenarioError(problems, source)
        try:
            out = Scenario.from_dict(data, self.source, self.base_dir)
        except ScenarioError as exc:
            raise ScenarioError([(loc, msg + _override_note(loc, located)) for loc, msg in exc.problems], source) from None
        out.files_read = self.files_read + out.files_read
        return out

    def to_yaml(self) -> str:
        """The scenario as YAML text that :meth:`from_yaml` reads back to an equal scenario.

        Text over several lines (an inlined pipeline CSV) is written as a literal block.
        """
        return yaml.dump(self.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)

    # -- convenient views ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def horizon_months(self) -> int:
        return self.spec.horizon_months

    @property
    def start(self) -> tuple[int, int]:
        """(year, month) of the first simulated month."""
        return _parse_month(self.spec.start)

    def month_index(self, month: str) -> int:
        """Index of a ``YYYY-MM`` month relative to ``start`` (may be outside the horizon)."""
        y, m = _parse_month(month)
        y0, m0 = self.start
        return (y - y0) * 12 + (m - m0)

    def calendar_months(self) -> list[tuple[int, int]]:
        """(year, month) of every simulated month."""
        y0, m0 = self.start
        return [(y0 + (m0 - 1 + t) // 12, (m0 - 1 + t) % 12 + 1) for t in range(self.horizon_months)]

    def fiscal_years(self) -> list[tuple[int, int]]:
        """(label, first simulated month index) of every fiscal year with figures (goal, attainment).

        Those are the fiscal years fully inside the horizon and, when the scenario has
        ``actuals``, the fiscal year in progress at ``start`` (first simulated month 0).
        """
        return [(label, first) for label, first, _ in self.fiscal_year_spans()]

    def fiscal_year_spans(self) -> list[tuple[int, int, int]]:
        """(label, first, last simulated month index) of every fiscal year with figures."""
        return _fiscal_year_spans(self.start, self.horizon_months, self.spec.fiscal_year_start_month,
                                  self.spec.actuals is not None)

    def fiscal_year_in_progress(self) -> int | None:
        """Label of the fiscal year in progress at ``start`` that has figures (the scenario has actuals), else None."""
        if self.spec.actuals is None:
            return None
        progress = fiscal_year_in_progress(self.start, self.spec.fiscal_year_start_month)
        return None if progress is None else progress[0]

    def actual_bookings(self) -> list[float]:
        """Per territory: bookings before ``start`` in the fiscal year in progress (0 without actuals)."""
        if self.spec.actuals is None:
            return [0.0] * len(self.territories)
        return [float(self.spec.actuals.bookings.get(t.name, 0.0)) for t in self.territories]

    def seat_names(self) -> list[str]:
        """Name of each seat (order of :meth:`seat_territories`): a named rep's name, ``East#3`` for
        the third anonymous starting rep of East, ``hire:2027-06:West#1`` for the first rep the
        plan hires into West in 2027-06 (numbered across plan entries of that month and territory)."""
        names = [name for per_territory in starting_names(self.territories) for name in per_territory]
        return names + [name for per_entry in hire_names(self.spec.hiring_plan) for name in per_entry]

    def fiscal_year_labels(self) -> list[int]:
        """Fiscal-year label of every simulated month (full or partial year)."""
        fy = self.spec.fiscal_year_start_month
        return [y if m >= fy else y - 1 for y, m in self.calendar_months()]

    def seat_territories(self) -> list[int]:
        """Territory index of each seat: starting reps in territory order, then planned hires in plan order."""
        seats = [k for k, terr in enumerate(self.territories) for _ in range(terr.reps)]
        index = {t.name: k for k, t in enumerate(self.territories)}
        for entry in self.spec.hiring_plan:
            seats.extend([index[entry.territory]] * entry.hires)
        return seats

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.spec == other.spec

    def __repr__(self) -> str:
        return f"Scenario(name={self.name!r}, territories={[t.name for t in self.territories]}, horizon_months={self.horizon_months})"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        If the file is missing, is not YAML, or breaks any rule; the error lists every problem.
    """
    path = Path(path)
    try:
        text = _read_yaml_file(path)  # refuses devices, pipes and oversized files before reading
    except FileNotFoundError:
        raise ScenarioError([("", f"no such file: {path}")], str(path)) from None
    except IsADirectoryError:
        raise ScenarioError([("", f"is a directory, not a scenario file: {path}")], str(path)) from None
    except YAMLInputError as exc:
        raise ScenarioError([("", f"cannot read {path}: it {exc.message}")], str(path)) from None
    except OSError as exc:
        raise ScenarioError([("", f"cannot read {path}: {exc.strerror or exc}")], str(path)) from None
    return Scenario.from_yaml(text, str(path), base_dir=path.parent)


# --------------------------------------------------------------------------- checks


def _full_fiscal_years(start: tuple[int, int], horizon: int, fy_start: int) -> list[tuple[int, int]]:
    y0, m0 = start
    offset = (fy_start - m0) % 12  # months until the first fiscal-year start
    years = []
    t = offset
    while t + 12 <= horizon:
        year = y0 + (m0 - 1 + t) // 12
        years.append((year, t))
        t += 12
    return years


def _fiscal_year_spans(start: tuple[int, int], horizon: int, fy_start: int, with_actuals: bool) -> list[tuple[int, int, int]]:
    """(label, first, last month index) of the fiscal years with figures: every one fully inside
    the horizon and, with actuals, the one in progress at ``start`` if its remaining months fit."""
    spans = [(label, first, first + 11) for label, first in _full_fiscal_years(start, horizon, fy_start)]
    progress = fiscal_year_in_progress(start, fy_start) if with_actuals else None
    if progress is not None and progress[1] <= horizon:
        spans.insert(0, (progress[0], 0, progress[1] - 1))
    return spans


def _cross_checks(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks that span several keys, run on raw data so they report alongside field errors.

    Each check skips values that are malformed (pydantic reports those).
    """
    problems: list[tuple[str, str]] = []
    territories = data.get("territories")
    territories = territories if isinstance(territories, list) else []
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}

    names: dict[str, int] = {}
    for i, terr in enumerate(territories):
        if not isinstance(terr, dict):
            continue
        name = terr.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append((f"territories[{i}].name", f"duplicate territory name {name!r} (also territories[{names[name]}])"))
            else:
                names[name] = i
        for key in REQUIRED_TERRITORY_KEYS:
            if terr.get(key) is None and defaults.get(key) is None:
                problems.append((f"territories[{i}].{key}", "required: set it in the territory or in defaults"))
        def merged(key: str) -> Any:  # as _picker resolves it: a null is not set
            return terr[key] if terr.get(key) is not None else defaults.get(key)

        merged_reps = merged("reps")
        tenure = merged("initial_tenure_months")
        if isinstance(tenure, list) and _is_whole(merged_reps) and merged_reps >= 0:
            if len(tenure) != merged_reps:
                where = "territories" if terr.get("initial_tenure_months") is not None else "defaults"
                loc = f"territories[{i}].initial_tenure_months" if where == "territories" else "defaults.initial_tenure_months"
                problems.append((loc, f"must list one tenure per rep ({merged_reps} reps in territories[{i}]), got {len(tenure)} values"))
        arr = merged("existing_arr")
        customers = merged("existing_customers")
        if isinstance(arr, (int, float)) and arr > 0 and customers == 0 and not isinstance(customers, bool):
            problems.append((f"territories[{i}].existing_customers", f"must be >= 1 when existing_arr is above 0 (existing_arr {_got(arr)}), got 0"))
    for where, mapping in [("defaults", defaults)] + [(f"territories[{i}]", t) for i, t in enumerate(territories) if isinstance(t, dict)]:
        if all(mapping.get(k) is not None for k in _ATTRITION_KEYS):
            problems.append((f"{where}.attrition_by_tenure", "set either attrition_annual or attrition_by_tenure, not both"))

    start = horizon = None
    try:
        start = _parse_month(data.get("start"))
    except ValueError:
        pass
    if isinstance(data.get("horizon_months"), int) and 1 <= data["horizon_months"] <= MAX_HORIZON_MONTHS:
        horizon = data["horizon_months"]

    plan = data.get("hiring_plan")
    for i, entry in enumerate(plan if isinstance(plan, list) else []):
        if not isinstance(entry, dict):
            continue
        terr = entry.get("territory")
        if isinstance(terr, str) and territories and terr not in names:
            problems.append((f"hiring_plan[{i}].territory", f"no territory named {terr!r} (have {', '.join(names) or 'none'})"))
        if start is not None and horizon is not None:
            try:
                y, m = _parse_month(entry.get("month"))
            except ValueError:
                continue
            t = (y - start[0]) * 12 + (m - start[1])
            if not 0 <= t < horizon:
                last = start[0] * 12 + start[1] - 1 + horizon - 1
                problems.append((f"hiring_plan[{i}].month", f"must be inside the horizon {data['start']}..{last // 12:04d}-{last % 12 + 1:02d}, got {entry.get('month')!r}"))

    fy_start = data.get("fiscal_year_start_month", 1)
    goal = data.get("goal")
    if start is not None and horizon is not None and isinstance(fy_start, int) and 1 <= fy_start <= 12 and isinstance(goal, dict) and isinstance(goal.get("annual"), list):
        with_actuals = isinstance(data.get("actuals"), dict)
        years = _fiscal_year_spans(start, horizon, fy_start, with_actuals)
        if len(goal["annual"]) != len(years):
            labels = ", ".join(f"FY{y}" + (" (in progress, with actuals)" if last - first < 11 else "")
                               for y, first, last in years) or "none"
            which = "fully inside the horizon or in progress at start with actuals" if with_actuals else "fully inside the horizon"
            problems.append(("goal.annual", f"must give one value per fiscal year {which} ({len(years)}: {labels}), got {len(goal['annual'])} values"))
    return problems


def _seat_count(reps: int | list | None) -> int:
    """Starting seats of a territory: its number of anonymous reps, or its roster's length."""
    return len(reps) if isinstance(reps, list) else (reps or 0)


def _resource_checks(spec: ScenarioFile) -> list[tuple[str, str]]:
    """Bounds that depend on several keys (docs/limits.md), on a file that passed the field rules.

    They keep whatever ``validate`` accepts runnable in time and memory proportional to
    the work, with every count inside int32 and every amount finite.
    """
    problems: list[tuple[str, str]] = []
    h = spec.horizon_months
    picks = [_picker(spec.defaults, t) for t in spec.territories]
    k_count = len(picks)
    if k_count * h > L.MAX_TERRITORY_MONTHS:
        problems.append(("territories", f"{k_count:,} territories x {h} months = {k_count * h:,} territory-months, more than "
                                        f"the limit of {L.MAX_TERRITORY_MONTHS:,} (one trial's results would not fit in 8 MB); "
                                        "use fewer territories or a shorter horizon"))
    seats = sum(_seat_count(p("reps")) for p in picks) + sum(e.hires for e in spec.hiring_plan)
    if seats * h > L.MAX_SEAT_MONTHS:
        problems.append(("hiring_plan" if spec.hiring_plan else "territories",
                         f"{seats:,} seats (starting reps plus planned hires) x {h} months = {seats * h:,} seat-months, "
                         f"more than the limit of {L.MAX_SEAT_MONTHS:,} (a trial keeps every seat's future bookings per "
                         "month); use fewer seats or a shorter horizon"))

    years = h / 12.0
    log_limit = math.log(L.MAX_GROWTH_FACTOR)
    growth = spec.market.annual_growth
    if years * math.log1p(growth) > log_limit:
        problems.append(("market.annual_growth", f"compounded over the horizon ({h} months) multiplies lead volume by "
                                                 f"{_power(growth, years)}, more than the limit of {L.MAX_GROWTH_FACTOR:g}, got {_got(growth)}"))
    else:
        problems.extend(_lead_peaks(spec, picks))
    for i, pick in enumerate(picks):
        expansion = pick("expansion_annual") or 0.0
        if years * math.log1p(expansion) > log_limit:
            problems.append((f"territories[{i}].expansion_annual",
                             f"compounded over the horizon ({h} months) multiplies ARR by {_power(expansion, years)}, "
                             f"more than the limit of {L.MAX_GROWTH_FACTOR:g}, got {_got(expansion)}"))
        arr, deal = pick("existing_arr") or 0.0, pick("deal_size")
        if pick("existing_customers") is None and arr > 0 and deal is not None and arr / deal.mean > L.MAX_CUSTOMERS + 0.5:
            problems.append((f"territories[{i}].existing_customers",
                             f"not set, so existing_arr / deal_size.mean = {arr / deal.mean:.3g} customers, more than the "
                             f"limit of {L.MAX_CUSTOMERS:,} ({_WHY_CUSTOMERS}); set existing_customers"))
    return problems


def _power(rate: float, years: float) -> str:
    log10 = years * math.log1p(rate) / math.log(10.0)
    return f"{10**log10:.3g}" if log10 < 300 else f"10^{log10:.0f}"


def _lead_peaks(spec: ScenarioFile, picks: list) -> list[tuple[str, str]]:
    """Each territory's largest expected leads in one month: the kernel's Poisson mean at its peak."""
    market = spec.market
    _, m0 = _parse_month(spec.start)
    log_growth = math.log1p(market.annual_growth) / 12.0
    peak, peak_t = -math.inf, 0  # log of the largest seasonality x growth factor over the horizon
    for t in range(spec.horizon_months):
        season = market.seasonality[(m0 - 1 + t) % 12]
        if season > 0 and math.log(season) + t * log_growth > peak:
            peak, peak_t = math.log(season) + t * log_growth, t
    # the horizon's total of the same factor, in log space so it never overflows
    terms = [math.log(market.seasonality[(m0 - 1 + t) % 12]) + t * log_growth
             for t in range(spec.horizon_months) if market.seasonality[(m0 - 1 + t) % 12] > 0]
    top = max(terms, default=-math.inf)
    log_total = top + math.log(math.fsum(math.exp(x - top) for x in terms)) if terms else -math.inf
    dt = market.downturn
    shock = max(1.0, dt.lead_multiplier) if dt is not None and dt.probability_per_year > 0 else 1.0
    problems = []
    leads_all = math.fsum(pick("leads_per_month") or 0.0 for pick in picks)
    if leads_all > 0 and log_total > -math.inf:
        log_trial = math.log(leads_all) + log_total + math.log(shock)
        if log_trial > math.log(L.MAX_LEADS_PER_TRIAL):
            shown = f"{math.exp(log_trial):.3g}" if log_trial < 690 else f"10^{log_trial / math.log(10.0):.0f}"
            problems.append(("territories", f"expected leads over the horizon add up to {shown} per trial, more than the "
                                            f"limit of {L.MAX_LEADS_PER_TRIAL:.0e}: every lead is drawn and every won deal "
                                            "simulated, so one trial would take minutes or more"))
    for i, pick in enumerate(picks):
        leads = pick("leads_per_month")
        if not leads or peak == -math.inf:
            continue
        log_peak = math.log(leads) + peak + math.log(shock)
        if log_peak > math.log(L.MAX_LEADS_PER_TERRITORY_MONTH):
            y0, _ = _parse_month(spec.start)
            month = f"{y0 + (m0 - 1 + peak_t) // 12:04d}-{(m0 - 1 + peak_t) % 12 + 1:02d}"
            shown = f"{math.exp(log_peak):.3g}" if log_peak < 690 else f"10^{log_peak / math.log(10.0):.0f}"
            problems.append((f"territories[{i}].leads_per_month",
                             f"expected leads reach {shown} in one month ({month}: leads_per_month {leads:g} x seasonality "
                             f"and growth {math.exp(peak):.3g}" + (f" x downturn {shock:g}" if shock > 1 else "")
                             + f"), more than the limit of {L.MAX_LEADS_PER_TERRITORY_MONTH:,} per territory-month: "
                             "counts are int32 and every won deal is simulated one by one"))
    return problems


_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys",
    "missing": "required key is missing",
    "finite_number": "must be a finite number",
}
_UNION_TAGS = {"int", "float", "list[int]", "list[float]", "str", "bool", "none", "one", "each", "roster"}


def _format_location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (part in _UNION_TAGS or part.startswith(("list[", "function-", "lax-", "constrained-"))):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed at the mapping that holds ``loc``'s last element."""
    parent = tuple(p for p in loc[:-1] if not (isinstance(p, str) and p in _UNION_TAGS))
    model: type[BaseModel] = ScenarioFile
    for part in parent:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    keys = list(model.model_fields)
    return keys


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _format_pydantic(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    seen_union: set[str] = set()
    for err in exc.errors():
        loc = _format_location(err["loc"])
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])
            known = _known_keys(err["loc"])
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else (f" (allowed: {', '.join(known)})" if known else "")
            problems.append((loc, f"unknown key {key!r}{hint}"))
            continue
        if kind == "value_error":
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append((loc, msg))
            continue
        # a union (int | list[int], number | null) reports once per branch: keep one line
        if loc in seen_union:
            continue
        raw_tags = [p for p in err["loc"] if isinstance(p, str) and p in _UNION_TAGS]
        if raw_tags:
            seen_union.add(loc)
        base = _TYPE_MESSAGES.get(kind, str(err["msg"]).rstrip("."))
        if kind == "missing":
            problems.append((loc, base))
        elif kind == "literal_error":
            problems.append((loc, f"must be one of {err.get('ctx', {}).get('expected', '')}, got {_got(value)}"))
        elif kind.startswith("int") and isinstance(value, float):
            problems.append((loc, f"{base}, got {value!r}"))  # show 2.0 as written, not as 2
        else:
            problems.append((loc, f"{base}, got {_got(value)}"))
    return problems


def _dedupe(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _set_path(data: Any, path: str, value: Any) -> str:
    """Set ``value`` at a dotted ``path``; return its location as errors spell it (``territories[0].win_rate``)."""
    parts = [p for p in path.split(".")]
    if not path or any(p == "" for p in parts):
        raise KeyError(f"not a dotted path such as territories.East.win_rate, got {path!r}")
    node = data
    location = ""
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = _list_index(node, part, here)
            location += f"[{index}]"
            if last:
                node[index] = value
                return location
            node = node[index]
        elif isinstance(node, dict):
            location += f".{part}" if location else part
            if last:
                node[part] = value
                return location
            if part not in node:
                node[part] = {}
            node = node[part]
        else:
            raise KeyError(f"{'.'.join(parts[:depth])} is a value, not a mapping or list; cannot set {here}")
    return location


def _override_note(loc: str, located: dict[str, str]) -> str:
    for where, path in located.items():
        if loc == where or loc.startswith((where + ".", where + "[")):
            return f" (set by override {path})"
    return ""


def _list_index(node: list[Any], part: str, here: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(node) <= index < len(node):
            raise KeyError(f"index {index} is out of range at {here} (the list has {len(node)} entries)")
        return index
    names = [item.get("name") for item in node if isinstance(item, dict)]
    if part in names:
        return names.index(part)
    have = ", ".join(str(n) for n in names if n is not None)
    raise KeyError(f"no entry named {part!r} at {here} (have {have or 'only numbered entries'})")


# --------------------------------------------------------------------------- docs


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for key, field in model.model_fields.items():
        meaning, unit, default = (field.description or "||").split("|")
        rows.append(f"| `{prefix}{key}` | {meaning} | {unit} | {default} |")
    return rows


def key_reference() -> str:
    """Markdown tables of every scenario key with meaning, unit and default."""
    sections = [
        ("Top level", ScenarioFile, ""),
        ("`goal`", Goal, "goal."),
        ("`market`", Market, "market."),
        ("`market.downturn`", Downturn, "market.downturn."),
        ("Per territory (in `territories[]` or `defaults`)", TerritoryEntry, ""),
        ("`reps[]` (a roster of named reps)", RosterRep, ""),
        ("`deal_size`", DealSize, "deal_size."),
        ("`commission`", Commission, "commission."),
        ("`commission.accelerators[]`", Tier, ""),
        ("`commission.decelerator`", Decelerator, "commission.decelerator."),
        ("`attrition_by_tenure[]`", AttritionBand, ""),
        ("`hiring_plan[]`", HirePlanEntry, ""),
        ("`pipeline[]` (or the columns of `pipeline_file`)", OpenDeal, ""),
        ("`actuals`", Actuals, "actuals."),
        ("`uncertainty`", Uncertainty, "uncertainty."),
        ("`uncertainty.parameters` values (distributions)", Distribution, ""),
        ("`{mean, sd}` / `{mean, cv}` of gamma, normal, lognormal", Spread, ""),
    ]
    out = []
    for title, model, prefix in sections:
        out += [f"### {title}", "", "| key | meaning | unit | default |", "|---|---|---|---|", *_rows(model, prefix), ""]
    return "\n".join(out).rstrip() + "\n"


def truncated_data(scenario: Scenario, through: int | None) -> dict:
    """The scenario's data cut after month index ``through`` (None: as it is).

    The goal keeps the fiscal years still inside (the year in progress at ``start`` included); hiring-plan entries that would
    start later keep their place with zero hires, so the random-stream keys of every
    other entry are unchanged and the months kept are simulated exactly as before.
    """
    data = copy.deepcopy(scenario.data)
    data["hiring_plan"] = [dict(e) for e in data.get("hiring_plan") or []]
    if through is not None and through + 1 < scenario.horizon_months:
        horizon = through + 1
        years = [y for y, _, last in scenario.fiscal_year_spans() if last < horizon]
        data["horizon_months"] = horizon
        data["goal"] = dict(data["goal"], annual=list(scenario.spec.goal.annual[: len(years)]))
        for entry in data["hiring_plan"]:
            if scenario.month_index(entry["month"]) >= horizon:
                entry.update(month=scenario.spec.start, hires=0)
    return data


def truncated(scenario: Scenario, through: int | None) -> Scenario:
    """:func:`truncated_data` as a scenario."""
    return Scenario.from_dict(truncated_data(scenario, through), scenario.source)

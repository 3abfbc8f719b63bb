"""Which columns of an export mean what: mapping files (SPEC section 10) and presets.

A mapping names, for the opportunities file, the columns holding each deal's id, owner,
territory, stage, created date, close date and amount, the stage values that mean won
and lost (every other stage is open), and how dates are written; for the optional rep
roster, the columns holding each rep's name, territory, hire date and leave date::

    opportunities: {id: Id, owner: Owner, territory: Region, stage: StageName,
                    created: CreatedDate, closed: CloseDate, amount: Amount,
                    won: [Closed Won], lost: [Closed Lost], date_format: auto}
    reps: {name: Name, territory: Region, hired: HireDate, left: TerminationDate}

Beyond SPEC section 10 a mapping may give ``open`` (the open stages; any other value is
then reported as an unknown stage), ``is_won`` / ``is_closed`` (flag columns such as
Salesforce's ``Won`` and ``Closed``, which then decide the outcome whatever the stage is
called) and ``sheet`` (the worksheet of an xlsx file).

The presets are written from the columns the two tools document for their exports:
Salesforce report exports (labels such as ``Opportunity ID``, ``Opportunity Owner``,
``Stage``, ``Created Date``, ``Close Date``, ``Amount``, ``Won``, ``Closed``) and data
exports (API names such as ``Id``, ``StageName``, ``CreatedDate``, ``IsWon``); HubSpot
deal exports (``Record ID``, ``Deal owner``, ``Deal Stage``, ``Create Date``, ``Close
Date``, ``Amount``) and their internal property names (``hs_object_id``, ``dealstage``,
``createdate``, ...). A preset field lists several candidate columns; the first one the
file has is used. Stage values match without regard to case or spacing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = ["CrmError", "Columns", "OpportunityMap", "RosterMap", "Mapping", "PRESETS", "load_mapping",
           "resolve_mapping", "normalise_stage", "DATE_FORMATS"]

DATE_FORMATS = ("auto", "iso", "us", "eu")
"""Named date formats: ``auto`` (detect, refuse ambiguity), ``iso`` (year first), ``us``
(month/day/year), ``eu`` (day/month/year); any text with a ``%`` is a strptime format."""


class CrmError(ValueError):
    """An export, roster or mapping cannot be used; the message names the file, row, column and value."""


def _columns(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"must be a column name or a list of candidate column names, got {value!r}")
    return [v.strip() for v in value]


Columns = Annotated[list[str], BeforeValidator(_columns)]
"""A column name, or candidates tried in order (presets)."""


def _stages(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ValueError(f"must be a list of stage values, got {value!r}")
    return [str(v) for v in value]


Stages = Annotated[list[str], BeforeValidator(_stages)]


def normalise_stage(text: str) -> str:
    """Stage values compare without case or repeated spaces: ``'Closed  won'`` matches ``'Closed Won'``."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def _check_date_format(value: str) -> str:
    value = value.strip()
    if value.lower() in DATE_FORMATS:
        return value.lower()
    if "%" in value:
        return value
    raise ValueError(f"must be one of {', '.join(DATE_FORMATS)} or a strptime format such as '%d/%m/%Y', got {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpportunityMap(_Strict):
    """Columns of the opportunities export and the meaning of its stage values."""

    id: Columns = Field(description="unique opportunity id")
    owner: Columns | None = Field(None, description="owning rep's name (matches the roster's name column)")
    territory: Columns | None = Field(None, description="territory of the deal; else the owner's roster territory")
    stage: Columns | None = Field(None, description="stage value, mapped to won / lost / open")
    created: Columns = Field(description="date the opportunity was created")
    closed: Columns = Field(description="close date (the actual close for won/lost deals, a forecast for open ones)")
    amount: Columns = Field(description="deal value in the scenario's currency")
    is_won: Columns | None = Field(None, description="flag column: true when won (decides the outcome with is_closed)")
    is_closed: Columns | None = Field(None, description="flag column: true when closed")
    won: Stages = Field(default_factory=list, description="stage values that mean won")
    lost: Stages = Field(default_factory=list, description="stage values that mean lost")
    open: Stages | None = Field(None, description="stage values that mean open; when given, others are reported as unknown")
    date_format: str = Field("auto", description="auto, iso, us, eu or a strptime format")
    sheet: str | int | None = Field(None, description="worksheet name or index of an xlsx file (default the first)")

    @field_validator("date_format")
    @classmethod
    def _fmt(cls, v: str) -> str:
        return _check_date_format(v)

    @model_validator(mode="after")
    def _outcome_source(self) -> "OpportunityMap":
        if (self.is_won is None) != (self.is_closed is None):
            raise ValueError("is_won and is_closed go together: give both flag columns or neither")
        if self.is_won is None:
            if self.stage is None:
                raise ValueError("name a stage column (or both flag columns is_won and is_closed)")
            if not self.won or not self.lost:
                raise ValueError("list the stage values that mean won and lost, e.g. won: [Closed Won], lost: [Closed Lost]")
        overlap = {normalise_stage(s) for s in self.won} & {normalise_stage(s) for s in self.lost}
        if overlap:
            raise ValueError(f"stage values listed as both won and lost: {', '.join(sorted(overlap))}")
        return self


class RosterMap(_Strict):
    """Columns of the rep roster (an HR export)."""

    name: Columns = Field(description="rep's name, as the opportunities' owner column writes it")
    territory: Columns | None = Field(None, description="rep's territory")
    hired: Columns | None = Field(None, description="hire date")
    left: Columns | None = Field(None, description="leave (termination) date; empty while employed")
    date_format: str = Field("auto", description="auto, iso, us, eu or a strptime format")
    sheet: str | int | None = Field(None, description="worksheet name or index of an xlsx file")

    @field_validator("date_format")
    @classmethod
    def _fmt(cls, v: str) -> str:
        return _check_date_format(v)


# Roster columns of HR exports (Workday, BambooHR and Salesforce User exports call them
# by these names); used by both presets and when a mapping file has no `reps` section.
_ROSTER = RosterMap(
    name=["Name", "Full Name", "Rep", "Employee", "Employee Name", "User", "Owner"],
    territory=["Territory", "Region", "Sales Region", "Team"],
    hired=["Hire Date", "HireDate", "Hired", "Start Date", "StartDate"],
    left=["Termination Date", "TerminationDate", "Leave Date", "Left", "End Date", "EndDate"],
)


class Mapping(_Strict):
    """A whole mapping file: ``opportunities`` and optional ``reps``."""

    opportunities: OpportunityMap
    reps: RosterMap = _ROSTER


_SALESFORCE_OPEN = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
                    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review"]
_HUBSPOT_OPEN = ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In",
                 "Contract Sent", "appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                 "decisionmakerboughtin", "contractsent"]

PRESETS: dict[str, Mapping] = {
    # Salesforce: report exports use field labels, data exports (Data Loader, Workbench,
    # the REST API) use API names. Won/lost is stage metadata (OpportunityStage.IsWon,
    # IsClosed), exported as the Won and Closed flags; the standard stage picklist names
    # the fallback. "Amount (converted)" is the corporate-currency amount of multi-currency orgs.
    "salesforce": Mapping(opportunities=OpportunityMap(
        id=["Opportunity ID", "Id", "Opportunity Id", "Opportunity: ID"],
        owner=["Opportunity Owner", "Owner Name", "Owner Full Name", "Owner", "Opportunity Owner: Full Name"],
        territory=["Territory", "Territory Name", "Sales Region", "Region"],
        stage=["Stage", "StageName"],
        created=["Created Date", "CreatedDate"],
        closed=["Close Date", "CloseDate"],
        amount=["Amount (converted)", "Amount"],
        is_won=["Won", "IsWon"],
        is_closed=["Closed", "IsClosed"],
        won=["Closed Won"], lost=["Closed Lost"], open=_SALESFORCE_OPEN,
    )),
    # HubSpot deal exports: column labels from the UI, internal names from API exports.
    # The default sales pipeline's stages, by label and internal id.
    "hubspot": Mapping(opportunities=OpportunityMap(
        id=["Record ID", "Deal ID", "hs_object_id", "dealId"],
        owner=["Deal owner", "Deal Owner", "hubspot_owner_id"],
        territory=["Territory", "Region", "Sales Region"],
        stage=["Deal Stage", "dealstage"],
        created=["Create Date", "createdate"],
        closed=["Close Date", "closedate"],
        amount=["Amount in company currency", "amount_in_home_currency", "Amount", "amount"],
        won=["Closed Won", "closedwon"], lost=["Closed Lost", "closedlost"], open=_HUBSPOT_OPEN,
    )),
}
"""Mappings for the documented export columns of Salesforce and HubSpot."""


def _pydantic_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        out.append(f"{loc}: {msg}" if loc else msg)
    return out


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; raise :class:`CrmError` naming every problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrmError(f"no such mapping file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CrmError(f"cannot read the mapping file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise CrmError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CrmError(f"{path}: a mapping file is a mapping with an 'opportunities' section (and optionally 'reps')")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
        raise CrmError(f"invalid mapping file {path}: " + "; ".join(problems)) from None


def resolve_mapping(preset: str | None = None, mapping: Mapping | str | Path | None = None) -> Mapping | None:
    """The mapping to use: a ``Mapping``, a mapping file, a preset name, or None (detect from the header)."""
    if preset is not None and mapping is not None:
        raise CrmError("give a preset or a mapping file, not both")
    if mapping is not None:
        return mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if preset is not None:
        if preset not in PRESETS:
            raise CrmError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)} or give a mapping file")
        return PRESETS[preset]
    return None

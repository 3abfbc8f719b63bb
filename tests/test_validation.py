"""Layer 1: every bad scenario input gives a message naming its location and value.

Bad scenarios are built by changing one thing in the (valid) baseline scenario. Each
rule of SPEC section 2 has its own case; each case checks that the single
``ScenarioError`` names the full location (``territories[1].win_rate``) and the
offending value, both in ``.problems`` and in the printed message.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import salessim
from salessim import Scenario, ScenarioError

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
# as the scenario stores it: its pipeline file inlined (pipeline_csv), so the data validates from any folder
_BASE_DATA = copy.deepcopy(salessim.load_scenario(BASELINE).data)

NAN = float("nan")
INF = float("inf")


@pytest.fixture
def base() -> dict[str, Any]:
    """A fresh, valid copy of the baseline scenario as plain data."""
    return copy.deepcopy(_BASE_DATA)


def problems_of(data: Any) -> tuple[ScenarioError, list[tuple[str, str]]]:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    return info.value, info.value.problems


def assert_problem(data: Any, location: str, *fragments: str) -> str:
    """Validation fails with a problem at exactly ``location`` whose message holds every fragment."""
    err, problems = problems_of(data)
    at = [msg for loc, msg in problems if loc == location]
    assert at, f"no problem at {location!r}; got {problems}"
    msg = at[0]
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in message {msg!r} at {location}"
    # the printed error carries the same "location: message" line
    assert f"{location}: {msg}" in str(err)
    return msg


def test_baseline_is_valid(base):
    sc = Scenario.from_dict(base)
    assert [t.name for t in sc.territories] == ["East", "West", "Central"]


# --------------------------------------------------------------------------- cases
# (id, change to the baseline data, location, fragments the message must contain)


def _set(*path_and_value: Any) -> Callable[[dict], None]:
    *path, value = path_and_value

    def change(d: dict) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return change


def _pop(*path: Any) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return change


UNKNOWN_KEYS = [
    ("top-level", _set("nmae", "x"), "nmae", ["unknown key 'nmae'", "did you mean 'name'"]),
    ("top-level-no-close-match", _set("zzzzzz", 1), "zzzzzz", ["unknown key 'zzzzzz'", "allowed:", "territories"]),
    ("in-defaults", _set("defaults", "rampp", [1.0]), "defaults.rampp", ["unknown key 'rampp'", "did you mean 'ramp'"]),
    ("in-territory", _set("territories", 1, "win_rat", 0.3), "territories[1].win_rat", ["unknown key 'win_rat'", "did you mean 'win_rate'"]),
    ("nested-deal_size", _set("territories", 1, "deal_size", "cvv", 0.3), "territories[1].deal_size.cvv", ["unknown key 'cvv'", "did you mean 'cv'"]),
    ("nested-downturn", _set("market", "downturn", "durration_months", 3), "market.downturn.durration_months", ["unknown key 'durration_months'", "did you mean 'duration_months'"]),
    ("in-market", _set("market", "seasonalty", [1.0] * 12), "market.seasonalty", ["unknown key 'seasonalty'", "did you mean 'seasonality'"]),
    ("in-goal", _set("goal", "anual", [1, 2, 3]), "goal.anual", ["unknown key 'anual'", "did you mean 'annual'"]),
    ("in-attrition-band", _set("territories", 2, "attrition_by_tenure", 0, "anual", 0.1), "territories[2].attrition_by_tenure[0].anual", ["unknown key 'anual'", "did you mean 'annual'"]),
    ("in-hiring-plan", _set("hiring_plan", 1, "hire", 2), "hiring_plan[1].hire", ["unknown key 'hire'", "did you mean 'hires'"]),
]

WRONG_TYPES = [
    ("text-for-number", _set("territories", 1, "win_rate", "high"), "territories[1].win_rate", ["must be a number", "'high'"]),
    ("bool-for-number", _set("territories", 1, "win_rate", True), "territories[1].win_rate", ["must be a number", "True"]),
    ("bool-for-count", _set("territories", 0, "reps", True), "territories[0].reps", ["whole number", "True"]),
    ("bool-for-hires", _set("hiring_plan", 0, "hires", True), "hiring_plan[0].hires", ["whole number", "True"]),
    ("float-for-count-reps", _set("territories", 1, "reps", 8.5), "territories[1].reps", ["whole number", "8.5"]),
    ("integral-float-for-count", _set("territories", 1, "reps", 8.0), "territories[1].reps", ["whole number", "8.0"]),
    ("float-for-horizon", _set("horizon_months", 36.0), "horizon_months", ["whole number", "36.0"]),
    ("text-for-count", _set("horizon_months", "36"), "horizon_months", ["whole number", "'36'"]),
    ("list-for-scalar", _set("territories", 1, "leads_per_month", [1, 2]), "territories[1].leads_per_month", ["must be a number", "[1, 2]"]),
    ("list-for-probability", _set("territories", 0, "win_rate", [0.3]), "territories[0].win_rate", ["must be a number", "[0.3]"]),
    ("scalar-for-list", _set("defaults", "ramp", 0.5), "defaults.ramp", ["must be a list", "0.5"]),
    ("scalar-for-pmf", _set("defaults", "time_to_fill_months", 1), "defaults.time_to_fill_months", ["must be a list", "1"]),
    ("scalar-for-mapping", _set("territories", 0, "deal_size", 9000), "territories[0].deal_size", ["mapping", "9000"]),
    ("mapping-for-list", _set("territories", {"East": {}}), "territories", ["must be a list", "'East'"]),
    ("text-for-bool", _set("territories", 0, "quota_ramped", "yes"), "territories[0].quota_ramped", ["true or false", "'yes'"]),
    ("number-for-text", _set("start", 202701), "start", ["must be text", "202701"]),
]

PROBABILITIES = [
    ("win_rate-above-1", _set("territories", 1, "win_rate", 1.4), "territories[1].win_rate", ["between 0 and 1", "1.4"]),
    ("lead_to_opportunity-negative", _set("territories", 1, "lead_to_opportunity", -0.1), "territories[1].lead_to_opportunity", ["between 0 and 1", "-0.1"]),
    ("attrition_annual-above-1", _set("defaults", "attrition_annual", 1.5), "defaults.attrition_annual", ["between 0 and 1", "1.5"]),
    ("orphaned-above-1", _set("defaults", "orphaned_deal_close_rate", 2), "defaults.orphaned_deal_close_rate", ["between 0 and 1", "got 2"]),
    ("downturn-probability", _set("market", "downturn", "probability_per_year", 1.2), "market.downturn.probability_per_year", ["between 0 and 1", "1.2"]),
    ("attrition-band-annual", _set("territories", 2, "attrition_by_tenure", 1, "annual", 1.1), "territories[2].attrition_by_tenure[1].annual", ["between 0 and 1", "1.1"]),
]

PMFS = [
    ("negative-entry", _set("defaults", "time_to_fill_months", [-0.1, 0.6, 0.5]), "defaults.time_to_fill_months[0]", [">= 0", "-0.1"]),
    ("sum-below-1", _set("defaults", "time_to_fill_months", [0.3, 0.6]), "defaults.time_to_fill_months", ["sum to 1", "0.9", "[0.3, 0.6]"]),
    ("sum-above-1", _set("territories", 0, "sales_cycle_months", [0.5, 0.6]), "territories[0].sales_cycle_months", ["sum to 1", "1.1", "[0.5, 0.6]"]),
    ("sum-off-by-more-than-tolerance", _set("defaults", "time_to_fill_months", [0.0, 0.3, 0.5, 0.2 + 2e-9]), "defaults.time_to_fill_months", ["sum to 1", "1.000000002"]),
    ("empty", _set("defaults", "sales_cycle_months", []), "defaults.sales_cycle_months", ["at least one", "[]"]),
]

RAMP = [
    ("above-1", _set("defaults", "ramp", [0.1, 1.2]), "defaults.ramp[1]", ["between 0 and 1", "1.2"]),
    ("negative", _set("defaults", "ramp", [-0.1, 0.2]), "defaults.ramp[0]", ["between 0 and 1", "-0.1"]),
    ("in-territory", _set("territories", 1, "ramp", [0.5, 3]), "territories[1].ramp[1]", ["between 0 and 1", "3"]),
]

SEASONALITY = [
    ("11-values", _set("market", "seasonality", [1.0] * 11), "market.seasonality", ["12 values", "got 11"]),
    ("13-values", _set("market", "seasonality", [1.0] * 13), "market.seasonality", ["12 values", "got 13"]),
    ("negative", _set("market", "seasonality", [1.0] * 11 + [-0.5]), "market.seasonality[11]", [">= 0", "-0.5"]),
    ("all-zero", _set("market", "seasonality", [0.0] * 12), "market.seasonality", ["positive mean", "zeros"]),
]

NAMES_AND_PLAN = [
    ("duplicate-territory-name", _set("territories", 2, "name", "East"), "territories[2].name", ["duplicate", "'East'", "territories[0]"]),
    ("hire-month-before-start", _set("hiring_plan", 0, "month", "2026-12"), "hiring_plan[0].month", ["inside the horizon", "2027-01..2029-12", "'2026-12'"]),
    ("hire-month-after-end", _set("hiring_plan", 0, "month", "2030-01"), "hiring_plan[0].month", ["inside the horizon", "2027-01..2029-12", "'2030-01'"]),
    ("hire-unknown-territory", _set("hiring_plan", 0, "territory", "North"), "hiring_plan[0].territory", ["no territory named 'North'", "East, West, Central"]),
    ("hire-territory-wrong-case", _set("hiring_plan", 3, "territory", "east"), "hiring_plan[3].territory", ["'east'"]),
]

COUNTS = [
    ("reps-negative", _set("territories", 0, "reps", -1), "territories[0].reps", ["non-negative whole number", "-1"]),
    ("reps-non-integer", _set("territories", 0, "reps", 2.5), "territories[0].reps", ["whole number", "2.5"]),
    ("hires-negative", _set("hiring_plan", 0, "hires", -2), "hiring_plan[0].hires", ["non-negative whole number", "-2"]),
    ("hires-non-integer", _set("hiring_plan", 0, "hires", 1.5), "hiring_plan[0].hires", ["whole number", "1.5"]),
    ("horizon-negative", _set("horizon_months", -3), "horizon_months", ["whole number", "-3"]),
    ("horizon-zero", _set("horizon_months", 0), "horizon_months", ["between 1 and", "got 0"]),
    ("horizon-too-long", _set("horizon_months", 601), "horizon_months", ["between 1 and 600", "601"]),
    ("horizon-non-integer", _set("horizon_months", 36.5), "horizon_months", ["whole number", "36.5"]),
    ("tenure-negative", _set("territories", 0, "initial_tenure_months", -1), "territories[0].initial_tenure_months", ["non-negative", "-1"]),
    ("tenure-non-integer", _set("territories", 0, "initial_tenure_months", 2.5), "territories[0].initial_tenure_months", ["whole number", "2.5"]),
    ("tenure-list-negative", _set("territories", 0, "initial_tenure_months", [1] * 7 + [-2]), "territories[0].initial_tenure_months[7]", ["non-negative", "-2"]),
    ("tenure-list-non-integer", _set("territories", 0, "initial_tenure_months", [1] * 7 + [2.5]), "territories[0].initial_tenure_months[7]", ["whole number", "2.5"]),
    ("downturn-duration-zero", _set("market", "downturn", "duration_months", 0), "market.downturn.duration_months", [">= 1", "got 0"]),
]

MONTHS = [
    ("start-one-digit-month", _set("start", "2027-1"), "start", ["YYYY-MM", "'2027-1'"]),
    ("start-month-13", _set("start", "2027-13"), "start", ["01..12", "'2027-13'"]),
    ("start-month-00", _set("start", "2027-00"), "start", ["01..12", "'2027-00'"]),
    ("start-words", _set("start", "Jan 2027"), "start", ["YYYY-MM", "'Jan 2027'"]),
    ("hire-month-slash", _set("hiring_plan", 0, "month", "2027/03"), "hiring_plan[0].month", ["YYYY-MM", "'2027/03'"]),
    ("hire-month-full-date", _set("hiring_plan", 0, "month", "2027-03-01"), "hiring_plan[0].month", ["YYYY-MM", "'2027-03-01'"]),
]


def _fy_april(d: dict) -> None:
    d["fiscal_year_start_month"] = 4  # Jan 2027 + 36 months holds only FY2027 and FY2028 in full


GOAL = [
    ("too-few", _set("goal", "annual", [1e6, 2e6]), "goal.annual", ["one value per fiscal year", "FY2027, FY2028, FY2029", "got 2 values"]),
    ("too-many", _set("goal", "annual", [1e6, 2e6, 3e6, 4e6]), "goal.annual", ["one value per fiscal year", "got 4 values"]),
    ("fiscal-year-april", _fy_april, "goal.annual", ["(2: FY2027, FY2028)", "got 3 values"]),
    ("negative", _set("goal", "annual", [1e6, -2e6, 3e6]), "goal.annual[1]", [">= 0", "-2000000"]),
]


def _tenure_in_defaults(d: dict) -> None:
    d["defaults"]["initial_tenure_months"] = [1, 2, 3]
    del d["territories"][0]["initial_tenure_months"]


TENURE_LIST = [
    ("shorter-than-reps", _set("territories", 1, "initial_tenure_months", [1] * 11), "territories[1].initial_tenure_months", ["one tenure per rep", "12 reps", "got 11 values"]),
    ("longer-than-reps", _set("territories", 0, "initial_tenure_months", [1] * 9), "territories[0].initial_tenure_months", ["one tenure per rep", "8 reps", "got 9 values"]),
    ("list-in-defaults", _tenure_in_defaults, "defaults.initial_tenure_months", ["one tenure per rep", "8 reps in territories[0]", "got 3 values"]),
]

ATTRITION = [
    ("both-in-territory", _set("territories", 2, "attrition_annual", 0.2), "territories[2].attrition_by_tenure", ["attrition_annual", "attrition_by_tenure", "not both"]),
    ("both-in-defaults", _set("defaults", "attrition_by_tenure", [{"annual": 0.3}]), "defaults.attrition_by_tenure", ["attrition_annual", "not both"]),
    ("bands-decreasing", _set("territories", 2, "attrition_by_tenure", [{"until_month": 12, "annual": 0.4}, {"until_month": 6, "annual": 0.3}, {"annual": 0.2}]), "territories[2].attrition_by_tenure", ["increase", "got 6 after 12"]),
    ("bands-equal", _set("territories", 2, "attrition_by_tenure", [{"until_month": 12, "annual": 0.4}, {"until_month": 12, "annual": 0.3}, {"annual": 0.2}]), "territories[2].attrition_by_tenure", ["increase", "got 12 after 12"]),
    ("last-band-with-until", _set("territories", 2, "attrition_by_tenure", [{"until_month": 12, "annual": 0.4}, {"until_month": 24, "annual": 0.3}]), "territories[2].attrition_by_tenure", ["last band", "until_month 24"]),
    ("middle-band-without-until", _set("territories", 2, "attrition_by_tenure", [{"annual": 0.4}, {"annual": 0.3}]), "territories[2].attrition_by_tenure", ["only the last band", "until_month"]),
    ("band-until-zero", _set("territories", 2, "attrition_by_tenure", [{"until_month": 0, "annual": 0.4}, {"annual": 0.3}]), "territories[2].attrition_by_tenure[0].until_month", [">= 1", "got 0"]),
    ("no-bands", _set("territories", 2, "attrition_by_tenure", []), "territories[2].attrition_by_tenure", ["at least one band", "[]"]),
]

REQUIRED = [
    ("win_rate-in-territory", _pop("territories", 0, "win_rate"), "territories[0].win_rate", ["required", "defaults"]),
    ("deal_size-in-territory", _pop("territories", 1, "deal_size"), "territories[1].deal_size", ["required", "defaults"]),
    ("reps", _pop("territories", 2, "reps"), "territories[2].reps", ["required"]),
    ("leads_per_month", _pop("territories", 2, "leads_per_month"), "territories[2].leads_per_month", ["required"]),
    ("quota-in-defaults", _pop("defaults", "quota_annual"), "territories[0].quota_annual", ["required", "territory or in defaults"]),
    ("top-level-goal", _pop("goal"), "goal", ["required"]),
    ("top-level-start", _pop("start"), "start", ["required"]),
    ("downturn-duration", _pop("market", "downturn", "duration_months"), "market.downturn.duration_months", ["required"]),
    ("hire-month", _pop("hiring_plan", 2, "month"), "hiring_plan[2].month", ["required"]),
]

OTHER_VALUES = [
    ("capacity-zero", _set("defaults", "capacity_leads_per_month", 0), "defaults.capacity_leads_per_month", ["> 0", "null for unlimited", "got 0"]),
    ("capacity-negative", _set("territories", 0, "capacity_leads_per_month", -5), "territories[0].capacity_leads_per_month", ["> 0", "-5"]),
    ("deal-mean-zero", _set("territories", 0, "deal_size", {"mean": 0, "cv": 0.3}), "territories[0].deal_size.mean", ["> 0", "got 0"]),
    ("deal-mean-negative", _set("territories", 0, "deal_size", {"mean": -5, "cv": 0.3}), "territories[0].deal_size.mean", ["-5"]),
    ("deal-cv-negative", _set("territories", 0, "deal_size", {"mean": 100, "cv": -0.3}), "territories[0].deal_size.cv", [">= 0", "-0.3"]),
    ("leads-negative", _set("territories", 0, "leads_per_month", -1), "territories[0].leads_per_month", [">= 0", "-1"]),
    ("growth-at-minus-1", _set("market", "annual_growth", -1.0), "market.annual_growth", ["> -1", "got -1"]),
    ("fy-start-0", _set("fiscal_year_start_month", 0), "fiscal_year_start_month", ["between 1 and 12", "got 0"]),
    ("fy-start-13", _set("fiscal_year_start_month", 13), "fiscal_year_start_month", ["between 1 and 12", "got 13"]),
    ("currency-lower-case", _set("currency", "usd"), "currency", ["three-letter", "'usd'"]),
    ("currency-two-letters", _set("currency", "US"), "currency", ["three-letter", "'US'"]),
    ("currency-word", _set("currency", "DOLLARS"), "currency", ["three-letter", "'DOLLARS'"]),
    ("currency-number", _set("currency", 840), "currency", ["must be text", "840"]),
    ("name-with-space", _set("name", "my plan"), "name", ["letters, digits", "'my plan'"]),
    ("name-path", _set("name", "../evil"), "name", ["letters, digits", "'../evil'"]),
    ("name-empty", _set("name", ""), "name", ["letters, digits", "''"]),
    ("name-leading-dash", _set("name", "-x"), "name", ["letters, digits", "'-x'"]),
    ("name-number", _set("name", 5), "name", ["must be text", "5"]),
    ("territory-name-empty", _set("territories", 0, "name", " "), "territories[0].name", ["must not be empty"]),
    ("no-territories", _set("territories", []), "territories", ["at least one territory", "[]"]),
]

ALL_CASES = {
    "unknown_key": UNKNOWN_KEYS,
    "wrong_type": WRONG_TYPES,
    "probability": PROBABILITIES,
    "pmf": PMFS,
    "ramp": RAMP,
    "seasonality": SEASONALITY,
    "names_and_plan": NAMES_AND_PLAN,
    "count": COUNTS,
    "month": MONTHS,
    "goal": GOAL,
    "tenure_list": TENURE_LIST,
    "attrition": ATTRITION,
    "required": REQUIRED,
    "value": OTHER_VALUES,
}
_PARAMS = [
    pytest.param(change, loc, frags, id=f"{group}-{case_id}")
    for group, cases in ALL_CASES.items()
    for case_id, change, loc, frags in cases
]


@pytest.mark.parametrize(("change", "location", "fragments"), _PARAMS)
def test_rule_names_location_and_value(base, change, location, fragments):
    change(base)
    assert_problem(base, location, *fragments)


@pytest.mark.parametrize(("change", "location", "fragments"), _PARAMS)
def test_each_single_change_reports_only_its_own_problems(base, change, location, fragments):
    """One mistake gives problems only at that place (no spurious reports elsewhere).

    A required key missing from defaults is reported once per territory that needs it,
    and renaming a territory orphans the hiring-plan entries that name it; those cases are
    allowed their known companions.
    """
    change(base)
    _, problems = problems_of(base)
    others = [(loc, msg) for loc, msg in problems if loc != location]
    allowed_prefixes = {
        "territories[0].quota_annual": ("territories[1].quota_annual", "territories[2].quota_annual"),
        "territories[2].name": ("hiring_plan[2].territory",),  # 'Central' no longer exists
        "territories[0].name": ("hiring_plan[0].territory", "hiring_plan[3].territory"),  # nor 'East'
        "start": ("hiring_plan",),  # no start: plan months cannot be placed, goal cannot be checked
        "territories": (),
    }.get(location, ())
    unexpected = [p for p in others if not (allowed_prefixes and p[0].startswith(allowed_prefixes))]
    assert not unexpected, f"unexpected extra problems: {unexpected}"


def test_required_key_missing_everywhere_is_reported_per_territory(base):
    del base["defaults"]["quota_annual"]
    _, problems = problems_of(base)
    locs = [loc for loc, _ in problems]
    assert locs == [f"territories[{i}].quota_annual" for i in range(3)]


def test_required_key_in_defaults_only_is_enough(base):
    for terr in base["territories"]:
        del terr["win_rate"]
    base["defaults"]["win_rate"] = 0.35
    sc = Scenario.from_dict(base)
    assert [t.win_rate for t in sc.territories] == [0.35, 0.35, 0.35]


def test_tenure_list_with_one_bad_entry_reports_one_problem(base):
    base["territories"][0]["initial_tenure_months"] = [1] * 7 + [2.5]
    _, problems = problems_of(base)
    assert [loc for loc, _ in problems] == ["territories[0].initial_tenure_months[7]"]


def test_negative_reps_with_tenure_list_reports_only_reps(base):
    base["territories"][1]["reps"] = -2
    _, problems = problems_of(base)
    assert [loc for loc, _ in problems] == ["territories[1].reps"]


def test_negative_deal_mean_message_states_the_rule(base):
    base["territories"][0]["deal_size"] = {"mean": -5, "cv": 0.3}
    assert_problem(base, "territories[0].deal_size.mean", "> 0", "-5")
    msg = dict(problems_of(base)[1])["territories[0].deal_size.mean"]
    assert ">= 0" not in msg


# --------------------------------------------------------------------------- NaN / infinity


NON_FINITE = [
    ("win_rate-nan", ("territories", 0, "win_rate"), NAN, "territories[0].win_rate", "nan"),
    ("win_rate-inf", ("territories", 0, "win_rate"), INF, "territories[0].win_rate", "inf"),
    ("lead_to_opportunity-minus-inf", ("territories", 1, "lead_to_opportunity"), -INF, "territories[1].lead_to_opportunity", "-inf"),
    ("leads-nan", ("territories", 0, "leads_per_month"), NAN, "territories[0].leads_per_month", "nan"),
    ("leads-inf", ("territories", 0, "leads_per_month"), INF, "territories[0].leads_per_month", "inf"),
    ("quota-inf", ("defaults", "quota_annual"), INF, "defaults.quota_annual", "inf"),
    ("skill-sigma-nan", ("defaults", "skill_sigma"), NAN, "defaults.skill_sigma", "nan"),
    ("capacity-inf", ("defaults", "capacity_leads_per_month"), INF, "defaults.capacity_leads_per_month", "inf"),
    ("attrition-nan", ("defaults", "attrition_annual"), NAN, "defaults.attrition_annual", "nan"),
    ("orphaned-nan", ("defaults", "orphaned_deal_close_rate"), NAN, "defaults.orphaned_deal_close_rate", "nan"),
    ("deal-mean-nan", ("territories", 0, "deal_size", "mean"), NAN, "territories[0].deal_size.mean", "nan"),
    ("deal-cv-inf", ("territories", 0, "deal_size", "cv"), INF, "territories[0].deal_size.cv", "inf"),
    ("ramp-entry-nan", ("defaults", "ramp", 1), NAN, "defaults.ramp[1]", "nan"),
    ("pmf-entry-nan", ("defaults", "time_to_fill_months", 0), NAN, "defaults.time_to_fill_months[0]", "nan"),
    ("sales-cycle-inf", ("defaults", "sales_cycle_months", 4), INF, "defaults.sales_cycle_months[4]", "inf"),
    ("seasonality-inf", ("market", "seasonality", 11), INF, "market.seasonality[11]", "inf"),
    ("growth-nan", ("market", "annual_growth"), NAN, "market.annual_growth", "nan"),
    ("downturn-probability-nan", ("market", "downturn", "probability_per_year"), NAN, "market.downturn.probability_per_year", "nan"),
    ("downturn-lead-multiplier-inf", ("market", "downturn", "lead_multiplier"), INF, "market.downturn.lead_multiplier", "inf"),
    ("downturn-win-multiplier-nan", ("market", "downturn", "win_rate_multiplier"), NAN, "market.downturn.win_rate_multiplier", "nan"),
    ("goal-nan", ("goal", "annual", 1), NAN, "goal.annual[1]", "nan"),
    ("goal-inf", ("goal", "annual", 2), INF, "goal.annual[2]", "inf"),
    ("band-annual-nan", ("territories", 2, "attrition_by_tenure", 0, "annual"), NAN, "territories[2].attrition_by_tenure[0].annual", "nan"),
    ("reps-nan", ("territories", 0, "reps"), NAN, "territories[0].reps", "nan"),
    ("horizon-inf", ("horizon_months",), INF, "horizon_months", "inf"),
    ("hires-inf", ("hiring_plan", 0, "hires"), INF, "hiring_plan[0].hires", "inf"),
    ("tenure-nan", ("territories", 0, "initial_tenure_months"), NAN, "territories[0].initial_tenure_months", "nan"),
]


@pytest.mark.parametrize(("path", "value", "location", "shown"), [pytest.param(*c[1:], id=c[0]) for c in NON_FINITE])
def test_nan_and_infinity_from_yaml_are_rejected(base, tmp_path, path, value, location, shown):
    """The value travels through a real YAML file (``.nan`` / ``.inf`` / ``-.inf``)."""
    _set(*path, value)(base)
    text = yaml.safe_dump(base, sort_keys=False)
    assert any(tok in text for tok in (".nan", ".inf"))
    f = tmp_path / "nonfinite.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    at = [msg for loc, msg in info.value.problems if loc == location]
    assert at, info.value.problems
    assert f"got {shown}" in at[0]
    assert f"{location}: {at[0]}" in str(info.value)


def test_nan_spellings_in_yaml_text(tmp_path):
    text = BASELINE.read_text(encoding="utf-8")
    text = text.replace("win_rate: 0.44", "win_rate: .NaN").replace("leads_per_month: 256", "leads_per_month: .Inf")
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    problems = dict(info.value.problems)
    assert "nan" in problems["territories[0].win_rate"]
    assert "inf" in problems["territories[1].leads_per_month"]


# --------------------------------------------------------------------------- pmfs within tolerance


def test_pmf_within_tolerance_is_accepted_and_renormalised(base):
    base["territories"][0]["sales_cycle_months"] = [0.5, 0.5 + 5e-10]
    base["defaults"]["time_to_fill_months"] = [0.0, 0.3, 0.5, 0.2 - 5e-10]
    sc = Scenario.from_dict(base)
    cycle = sc.territories[0].sales_cycle_months
    fill = sc.territories[0].time_to_fill_months
    assert math.fsum(cycle) == pytest.approx(1.0, abs=1e-15)
    assert math.fsum(fill) == pytest.approx(1.0, abs=1e-15)
    # renormalised: divided by the total, so not the values as written
    assert cycle[1] != 0.5 + 5e-10
    assert cycle[0] == pytest.approx(0.5 / (1.0 + 5e-10), rel=0, abs=1e-16)
    assert cycle[0] < 0.5 < cycle[1]


def test_pmf_just_beyond_tolerance_is_rejected(base):
    base["territories"][0]["sales_cycle_months"] = [0.5, 0.5 + 1.5e-9]
    assert_problem(base, "territories[0].sales_cycle_months", "sum to 1", "1e-09")


def test_seasonality_is_rescaled_to_mean_1(base):
    base["market"]["seasonality"] = [2.0] * 12
    sc = Scenario.from_dict(base)
    assert sc.spec.market.seasonality == [1.0] * 12


# --------------------------------------------------------------------------- many problems at once


def test_all_problems_are_reported_in_one_error(base):
    base["territories"][1]["win_rate"] = 1.4
    base["currency"] = "usd"
    base["hiring_plan"][0]["hires"] = -1
    base["hiring_plan"][1]["territory"] = "North"
    base["defaults"]["rampp"] = [1.0]
    base["market"]["seasonality"] = [1.0] * 5
    base["territories"][0]["deal_size"]["mean"] = 0
    base["goal"]["annual"] = [1e6]
    err, problems = problems_of(base)
    locs = [loc for loc, _ in problems]
    assert sorted(locs) == sorted([
        "territories[1].win_rate",
        "currency",
        "hiring_plan[0].hires",
        "hiring_plan[1].territory",
        "defaults.rampp",
        "market.seasonality",
        "territories[0].deal_size.mean",
        "goal.annual",
    ])
    text = str(err)
    assert text.splitlines()[0].endswith("8 problems")
    assert "territories[1].win_rate: must be between 0 and 1, got 1.4" in text
    assert "hiring_plan[1].territory: no territory named 'North'" in text
    assert "currency:" in text and "'usd'" in text
    assert len(text.splitlines()) == 1 + len(problems)


def test_many_problems_in_a_yaml_file(tmp_path):
    text = (
        "name: bad plan\n"
        "start: 2027-13\n"
        "horizon_months: 12\n"
        "currency: usd\n"
        "goal: {annual: [1000]}\n"
        "territories:\n"
        "  - {name: A, reps: -1, leads_per_month: 10, lead_to_opportunity: 0.5, win_rate: 1.5,\n"
        "     deal_size: {mean: 100}, quota_annual: 1000, colour: red}\n"
        "  - {name: A, reps: 2, leads_per_month: .nan, lead_to_opportunity: 0.5, win_rate: 0.5,\n"
        "     deal_size: {mean: 100}}\n"
    )
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    problems = dict(info.value.problems)
    assert set(problems) >= {
        "name", "start", "currency", "territories[0].reps", "territories[0].win_rate",
        "territories[0].colour", "territories[1].name", "territories[1].leads_per_month",
        "territories[1].quota_annual",
    }
    assert "-1" in problems["territories[0].reps"]
    assert "1.5" in problems["territories[0].win_rate"]
    assert "'2027-13'" in problems["start"]
    assert str(f) in str(info.value)  # the error names the file


# --------------------------------------------------------------------------- defaults merge


def test_territory_value_wins_over_defaults(base):
    base["defaults"]["win_rate"] = 0.2
    del base["territories"][1]["win_rate"]
    sc = Scenario.from_dict(base)
    assert sc.territories[0].win_rate == 0.44  # own value
    assert sc.territories[1].win_rate == 0.2  # inherited
    assert sc.territories[2].win_rate == 0.30


def test_defaults_fill_territories_and_builtins_fill_the_rest(base):
    base["territories"][0]["ramp"] = [0.5]
    del base["defaults"]["orphaned_deal_close_rate"]
    del base["defaults"]["capacity_leads_per_month"]
    sc = Scenario.from_dict(base)
    assert sc.territories[0].ramp == (0.5,)
    assert sc.territories[1].ramp == (0.1, 0.3, 0.5, 0.7, 0.9)
    assert all(t.orphaned_deal_close_rate == 0.5 for t in sc.territories)
    assert all(t.capacity_leads_per_month is None for t in sc.territories)


def test_territory_attrition_by_tenure_replaces_defaults_attrition_annual(base):
    sc = Scenario.from_dict(base)
    east, west, central = sc.territories
    assert east.attrition_bands == ((None, 0.30),)
    assert west.attrition_bands == ((None, 0.30),)
    assert central.attrition_bands == ((12, 0.40), (None, 0.25))


def test_territory_attrition_annual_replaces_defaults_bands(base):
    del base["defaults"]["attrition_annual"]
    base["defaults"]["attrition_by_tenure"] = [{"until_month": 6, "annual": 0.5}, {"annual": 0.2}]
    base["territories"][0]["attrition_annual"] = 0.1
    del base["territories"][2]["attrition_by_tenure"]
    sc = Scenario.from_dict(base)
    assert sc.territories[0].attrition_bands == ((None, 0.1),)
    assert sc.territories[1].attrition_bands == ((6, 0.5), (None, 0.2))
    assert sc.territories[2].attrition_bands == ((6, 0.5), (None, 0.2))


def test_initial_tenure_months_as_list_and_as_number(base):
    sc = Scenario.from_dict(base)
    assert sc.territories[0].initial_tenure_months == (24,) * 8
    assert sc.territories[1].initial_tenure_months == (36, 30, 24, 24, 18, 18, 12, 12, 9, 6, 4, 2)


def test_initial_tenure_months_list_in_defaults_matching_reps(base):
    for terr in base["territories"]:
        terr["reps"] = 3
        terr.pop("initial_tenure_months", None)
    base["defaults"]["initial_tenure_months"] = [0, 5, 40]
    sc = Scenario.from_dict(base)
    assert all(t.initial_tenure_months == (0, 5, 40) for t in sc.territories)


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(path)
    assert "no such file" in str(info.value)
    assert str(path) in str(info.value)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(tmp_path)
    assert "directory" in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["name: [unclosed\n", "name: x\n  bad: indentation\n - y\n", "a: b: c\n"],
    ids=["unclosed-list", "bad-indentation", "nested-colon"],
)
def test_not_yaml(tmp_path, text):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    assert "not valid YAML" in str(info.value)
    assert str(f) in str(info.value)
    assert len(info.value.problems) == 1


def test_not_utf8(tmp_path):
    f = tmp_path / "bin.yaml"
    f.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    assert "cannot read" in str(info.value)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("hello\n", "str"), ("42\n", "int")],
    ids=["list", "text", "number"],
)
def test_not_a_mapping(tmp_path, text, kind):
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    assert "must be a mapping" in str(info.value)
    assert kind in str(info.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file_says_it_is_empty(tmp_path, text):
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(f)
    assert "the file is empty" in str(info.value)


def test_from_dict_rejects_non_mapping():
    with pytest.raises(ScenarioError, match="mapping"):
        Scenario.from_dict(["name", "x"])


def test_from_dict_does_not_modify_its_input(base):
    before = copy.deepcopy(base)
    Scenario.from_dict(base)
    base_bad = copy.deepcopy(base)
    base_bad["territories"][0]["win_rate"] = 2.0
    with pytest.raises(ScenarioError):
        Scenario.from_dict(base_bad)
    assert base == before


def test_yaml_round_trip(base):
    sc = Scenario.from_dict(base)
    again = Scenario.from_yaml(sc.to_yaml())
    assert again == sc
    assert again.territories == sc.territories

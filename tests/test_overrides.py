"""``Scenario.with_overrides``: dotted paths, as the CLI's ``--set`` uses them."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import salessim
from salessim import ScenarioError

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def sc() -> salessim.Scenario:
    return salessim.load_scenario(BASELINE)


def _error(sc, overrides) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        sc.with_overrides(overrides)
    return info.value


# --------------------------------------------------------------------------- valid paths


def test_territory_by_name(sc):
    new = sc.with_overrides({"territories.East.win_rate": 0.5})
    assert new.territories[0].win_rate == 0.5
    assert [t.win_rate for t in new.territories[1:]] == [t.win_rate for t in sc.territories[1:]]


def test_territory_by_index(sc):
    new = sc.with_overrides({"territories.1.win_rate": 0.5})
    assert new.territories[1].name == "West"
    assert new.territories[1].win_rate == 0.5
    assert new.territories[0].win_rate == sc.territories[0].win_rate


def test_territory_by_negative_index(sc):
    new = sc.with_overrides({"territories.-1.reps": 9})
    assert new.territories[2].name == "Central"
    assert new.territories[2].reps == 9


def test_nested_key_in_territory(sc):
    new = sc.with_overrides({"territories.Central.deal_size.mean": 12_345})
    assert new.territories[2].deal_mean == 12_345
    assert new.territories[2].deal_cv == sc.territories[2].deal_cv


def test_defaults_reach_territories_without_their_own_value(sc):
    new = sc.with_overrides({"defaults.quota_annual": 400_000, "defaults.ramp": [0.5]})
    assert [t.quota_annual for t in new.territories] == [400_000.0] * 3
    assert [t.ramp for t in new.territories] == [(0.5,)] * 3


def test_defaults_do_not_override_a_territory_value(sc):
    new = sc.with_overrides({"defaults.win_rate": 0.9})
    assert [t.win_rate for t in new.territories] == [t.win_rate for t in sc.territories]


def test_market_downturn(sc):
    new = sc.with_overrides({"market.downturn.probability_per_year": 0.3, "market.downturn.duration_months": 3})
    d = new.spec.market.downturn
    assert (d.probability_per_year, d.duration_months) == (0.3, 3)
    assert d.lead_multiplier == sc.spec.market.downturn.lead_multiplier


def test_remove_downturn_with_null(sc):
    new = sc.with_overrides({"market.downturn": None})
    assert new.spec.market.downturn is None
    assert sc.spec.market.downturn is not None


def test_hiring_plan_entry_by_index(sc):
    new = sc.with_overrides({"hiring_plan.0.hires": 5})
    assert new.spec.hiring_plan[0].hires == 5
    assert len(new.seat_territories()) == len(sc.seat_territories()) + 3


def test_goal_annual_as_list(sc):
    new = sc.with_overrides({"goal.annual": [9e6, 11e6, 13e6]})
    assert new.spec.goal.annual == [9e6, 11e6, 13e6]


def test_replace_attrition_with_bands(sc):
    new = sc.with_overrides({"territories.East.attrition_by_tenure": [{"until_month": 6, "annual": 0.5}, {"annual": 0.1}]})
    assert new.territories[0].attrition_bands == ((6, 0.5), (None, 0.1))
    assert new.territories[1].attrition_bands == sc.territories[1].attrition_bands


def test_top_level_scalar(sc):
    new = sc.with_overrides({"horizon_months": 48, "goal.annual": [1e6, 2e6, 3e6, 4e6], "name": "longer"})
    assert new.horizon_months == 48
    assert [y for y, _ in new.fiscal_years()] == [2027, 2028, 2029, 2030]
    assert new.name == "longer"


def test_several_overrides_at_once(sc):
    new = sc.with_overrides({"territories.East.reps": 10, "territories.East.initial_tenure_months": 3, "territories.West.win_rate": 0.4})
    assert new.territories[0].reps == 10
    assert new.territories[0].initial_tenure_months == (3,) * 10
    assert new.territories[1].win_rate == 0.4


def test_empty_overrides_give_an_equal_scenario(sc):
    assert sc.with_overrides({}) == sc


def test_overrides_are_written_back_by_to_yaml(sc):
    new = sc.with_overrides({"territories.East.win_rate": 0.5})
    again = salessim.Scenario.from_yaml(new.to_yaml())
    assert again == new
    assert again.territories[0].win_rate == 0.5


# --------------------------------------------------------------------------- invalid values


@pytest.mark.parametrize(
    ("overrides", "location", "fragments"),
    [
        ({"territories.East.win_rate": 1.4}, "territories[0].win_rate", ["between 0 and 1", "1.4"]),
        ({"territories.2.lead_to_opportunity": -0.5}, "territories[2].lead_to_opportunity", ["between 0 and 1", "-0.5"]),
        ({"territories.West.reps": 2.5}, "territories[1].reps", ["whole number", "2.5"]),
        ({"hiring_plan.0.hires": -1}, "hiring_plan[0].hires", ["non-negative", "-1"]),
        ({"hiring_plan.0.month": "2031-01"}, "hiring_plan[0].month", ["inside the horizon", "'2031-01'"]),
        ({"hiring_plan.0.territory": "North"}, "hiring_plan[0].territory", ["'North'"]),
        ({"goal.annual": [1e6, 2e6]}, "goal.annual", ["one value per fiscal year", "got 2 values"]),
        ({"market.downturn.probability_per_year": 2}, "market.downturn.probability_per_year", ["between 0 and 1", "2"]),
        ({"defaults.ramp": [0.5, 1.5]}, "defaults.ramp[1]", ["between 0 and 1", "1.5", "set by override defaults.ramp"]),
        ({"defaults.time_to_fill_months": [0.5, 0.4]}, "defaults.time_to_fill_months", ["sum to 1", "0.9"]),
        ({"territories.East.win_rate": float("nan")}, "territories[0].win_rate", ["nan"]),
        ({"territories.East.win_rate": "high"}, "territories[0].win_rate", ["must be a number", "'high'"]),
        ({"territories.East.win_rat": 0.4}, "territories[0].win_rat", ["unknown key 'win_rat'", "did you mean 'win_rate'"]),
        ({"market.newsub.x": 1}, "market.newsub", ["unknown key 'newsub'"]),
        ({"territories.Central.attrition_annual": 0.2}, "territories[2].attrition_by_tenure", ["not both"]),
    ],
    ids=["win_rate", "by-index", "reps-float", "hires", "hire-month", "hire-territory", "goal-length",
         "downturn-probability", "ramp", "pmf", "nan", "text", "unknown-key", "unknown-nested-key", "attrition-both"],
)
def test_override_producing_an_invalid_value(sc, overrides, location, fragments):
    err = _error(sc, overrides)
    msgs = [msg for loc, msg in err.problems if loc == location]
    assert msgs, err.problems
    for fragment in fragments:
        assert fragment in msgs[0]
    assert f"{location}: {msgs[0]}" in str(err)


def test_invalid_overrides_are_all_reported(sc):
    err = _error(sc, {"territories.West.win_rate": 1.4, "territories.East.reps": -2})
    assert {loc for loc, _ in err.problems} == {"territories[1].win_rate", "territories[0].reps"}


# --------------------------------------------------------------------------- bad paths


def test_unknown_territory_name(sc):
    err = _error(sc, {"territories.North.win_rate": 0.4})
    assert len(err.problems) == 1
    loc, msg = err.problems[0]
    assert loc == "territories.North.win_rate"
    assert "'North'" in msg
    assert "East, West, Central" in msg


def test_territory_name_is_case_sensitive(sc):
    err = _error(sc, {"territories.east.win_rate": 0.4})
    assert "'east'" in err.problems[0][1]


@pytest.mark.parametrize(
    ("path", "index", "size"),
    [("territories.7.win_rate", "7", "3"), ("territories.-4.win_rate", "-4", "3"), ("hiring_plan.9.hires", "9", "5")],
    ids=["territory", "negative", "hiring-plan"],
)
def test_index_out_of_range(sc, path, index, size):
    err = _error(sc, {path: 1})
    loc, msg = err.problems[0]
    assert loc == path
    assert f"index {index} is out of range" in msg
    assert f"has {size} entries" in msg


def test_name_in_a_list_without_names(sc):
    err = _error(sc, {"hiring_plan.first.hires": 1})
    loc, msg = err.problems[0]
    assert loc == "hiring_plan.first.hires"
    assert "'first'" in msg


@pytest.mark.parametrize(
    ("path", "scalar"),
    [("territories.East.win_rate.x", "territories.East.win_rate"), ("name.x", "name"), ("market.annual_growth.y.z", "market.annual_growth")],
    ids=["territory-key", "top-level", "deep"],
)
def test_path_through_a_scalar(sc, path, scalar):
    err = _error(sc, {path: 1})
    loc, msg = err.problems[0]
    assert loc == path
    assert f"{scalar} is a value" in msg
    assert f"cannot set {'.'.join(path.split('.')[: len(scalar.split('.')) + 1])}" in msg


@pytest.mark.parametrize("path", ["", "a..b", ".name", "name."], ids=["empty", "double-dot", "leading-dot", "trailing-dot"])
def test_malformed_path(sc, path):
    err = _error(sc, {path: 1})
    assert "not a dotted path" in str(err)
    assert repr(path) in str(err)


def test_bad_paths_are_all_reported_together(sc):
    err = _error(sc, {"territories.North.win_rate": 0.4, "territories.9.reps": 1})
    assert [loc for loc, _ in err.problems] == ["territories.North.win_rate", "territories.9.reps"]


# --------------------------------------------------------------------------- the original is untouched


def test_original_scenario_is_unchanged(sc):
    data_before = copy.deepcopy(sc.data)
    spec_before = sc.spec.model_copy(deep=True)
    terr_before = sc.territories
    sc.with_overrides({"territories.East.win_rate": 0.5, "defaults.ramp": [1.0], "hiring_plan.0.hires": 7,
                       "market.downturn.duration_months": 2, "goal.annual": [1, 2, 3]})
    assert sc.data == data_before
    assert sc.spec == spec_before
    assert sc.territories == terr_before
    assert sc == salessim.load_scenario(BASELINE)


def test_original_unchanged_after_a_failed_override(sc):
    data_before = copy.deepcopy(sc.data)
    with pytest.raises(ScenarioError):
        sc.with_overrides({"territories.East.win_rate": 5, "territories.West.reps": 3})
    with pytest.raises(ScenarioError):
        sc.with_overrides({"territories.West.reps": 3, "territories.North.win_rate": 0.5})
    assert sc.data == data_before
    assert sc.territories[1].reps == 12


def test_new_scenario_does_not_alias_the_override_value(sc):
    goal = [9e6, 11e6, 13e6]
    new = sc.with_overrides({"goal.annual": goal})
    goal[0] = -1.0
    assert new.spec.goal.annual[0] == 9e6
    assert new.data["goal"]["annual"][0] == 9e6


def test_overrides_chain(sc):
    a = sc.with_overrides({"territories.East.win_rate": 0.5})
    b = a.with_overrides({"territories.East.reps": 3, "territories.East.initial_tenure_months": [1, 2, 3]})
    assert (b.territories[0].win_rate, b.territories[0].reps) == (0.5, 3)
    assert a.territories[0].reps == 8

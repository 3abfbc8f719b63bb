"""Layer 1 for the starting state and uncertain parameters: each bad input gets a located message.

Each case changes one thing in a small valid scenario and checks the single
``ScenarioError`` names the location and the rule; owners who are no rep of the deal's
territory are a warning, not an error.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from helpers_model import scenario_dict, territory
from salessim import Scenario, ScenarioError, load_scenario


def base() -> dict:
    east = territory("East", reps=[{"name": "Ana", "tenure_months": 10}, {"name": "Bo", "tenure_months": 3}])
    del east["initial_tenure_months"]
    west = territory("West", reps=2, sales_cycle_months=[0.5, 0.3, 0.2])
    data = scenario_dict([east, west], horizon=21, start="2027-04")
    data["goal"] = {"annual": [1e6, 1e6]}
    data["actuals"] = {"bookings": {"East": 10.0, "West": 20.0}}
    data["pipeline"] = [{"id": "d1", "territory": "East", "owner": "Ana", "age_months": 1},
                        {"id": "d2", "territory": "West", "owner": "West#2", "age_months": 0, "amount": 5.0}]
    return data


def problem(data: dict, location: str, *fragments: str, base_dir=None) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, base_dir=base_dir)
    at = [msg for loc, msg in info.value.problems if loc == location]
    assert at, info.value.problems
    for fragment in fragments:
        assert fragment in at[0], (fragment, at[0])
    assert f"{location}: {at[0]}" in str(info.value)


def test_the_base_scenario_is_valid_without_warnings():
    sc = Scenario.from_dict(base())
    assert sc.warnings == []
    assert sc.fiscal_year_in_progress() == 2027


def with_(**changes) -> dict:
    data = base()
    data.update(copy.deepcopy(changes))
    return data


# --------------------------------------------------------------------------- pipeline


def test_owner_who_is_a_named_rep_of_another_territory_is_an_error():
    data = base()
    data["pipeline"][1]["owner"] = "Ana"
    problem(data, "pipeline[1].owner", "'Ana' is a rep of East", "deal's territory West")


def test_owner_who_is_an_anonymous_rep_of_another_territory_is_an_error():
    data = base()
    data["pipeline"][0]["owner"] = "West#1"
    problem(data, "pipeline[0].owner", "rep of West")


def test_owner_who_is_no_rep_books_to_the_territory_with_a_warning():
    data = base()
    data["pipeline"][0]["owner"] = "Carla (left in January)"
    sc = Scenario.from_dict(data)
    assert sc.warnings == [("pipeline[0].owner", "'Carla (left in January)' is not a rep in seat at start in East: "
                                                 "the deal books to the territory and credits no rep")]


@pytest.mark.parametrize("key, value, fragment", [
    ("age_months", -2, "non-negative whole number, got -2"),
    ("age_months", 1.5, "whole number"),
    ("win_probability", 1.2, "between 0 and 1, got 1.2"),
    ("amount", -10.0, "> 0, got -10"),
    ("territory", "North", "no territory named 'North'"),
])
def test_bad_deal_values_name_the_deal_and_key(key, value, fragment):
    data = base()
    data["pipeline"][0][key] = value
    problem(data, f"pipeline[0].{key}", fragment)


def test_duplicate_deal_ids_are_an_error():
    data = base()
    data["pipeline"][1]["id"] = "d1"
    problem(data, "pipeline[1].id", "duplicate deal id 'd1'", "pipeline[0]")


def test_missing_pipeline_file_is_named(tmp_path):
    data = base()
    del data["pipeline"]
    data["pipeline_file"] = "nowhere.csv"
    problem(data, "pipeline_file", "no such file", "nowhere.csv", base_dir=tmp_path)


def test_a_bad_csv_row_names_the_file_the_line_and_the_column(tmp_path):
    (tmp_path / "deals.csv").write_text("id,territory,owner,age_months,amount,win_probability\n"
                                        "d1,East,Ana,1,100,\n"
                                        "\n"
                                        "d2,East,Bo,-3,200,0.5\n"
                                        "d3,West,,2,abc,\n", encoding="utf-8")
    data = base()
    del data["pipeline"]
    data["pipeline_file"] = "deals.csv"
    problem(data, "pipeline_file deals.csv line 4, column age_months", "non-negative whole number, got -3",
            base_dir=tmp_path)
    problem(data, "pipeline_file deals.csv line 5, column amount", "must be a number, got 'abc'", base_dir=tmp_path)


def test_csv_header_problems_are_named(tmp_path):
    data = base()
    del data["pipeline"]
    data["pipeline_file"] = "deals.csv"
    (tmp_path / "deals.csv").write_text("id,region,age\nd1,East,1\n", encoding="utf-8")
    problem(data, "pipeline_file deals.csv line 1", "unknown column 'region'", base_dir=tmp_path)
    (tmp_path / "deals.csv").write_text("id,territory\nd1,East\n", encoding="utf-8")
    problem(data, "pipeline_file deals.csv line 1", "missing column 'age_months'", base_dir=tmp_path)
    (tmp_path / "deals.csv").write_text("id,territory,age_months\nd1,East,1,9\n", encoding="utf-8")
    problem(data, "pipeline_file deals.csv line 2", "has 4 cells", base_dir=tmp_path)


def test_pipeline_given_twice_is_an_error():
    problem(with_(pipeline_csv="id,territory,age_months\nx,East,1\n"), "pipeline_csv", "give one of pipeline")


# --------------------------------------------------------------------------- roster and actuals


def test_duplicate_rep_names_are_an_error():
    data = base()
    data["territories"][1]["reps"] = [{"name": "Ana", "tenure_months": 4}]
    del data["territories"][1]["initial_tenure_months"]
    data["pipeline"] = data["pipeline"][:1]
    problem(data, "territories[1].reps[0].name", "duplicate rep name 'Ana'", "territories[0].reps[0].name")


def test_roster_names_may_not_look_like_derived_seat_names():
    data = base()
    data["territories"][0]["reps"][1]["name"] = "East#2"
    problem(data, "territories[0].reps[1].name", "must not contain '#'")


def test_roster_with_initial_tenure_is_an_error():
    data = base()
    data["territories"][0]["initial_tenure_months"] = 12
    problem(data, "territories[0].initial_tenure_months", "a roster gives each rep's tenure_months")


def test_roster_in_defaults_is_an_error():
    data = base()
    data["defaults"] = {"reps": [{"name": "Zed", "tenure_months": 1}]}
    problem(data, "defaults.reps", "belongs to one territory")


def test_year_to_date_figures_need_actuals():
    data = base()
    del data["actuals"]
    data["goal"] = {"annual": [1e6]}
    data["territories"][0]["reps"][0]["ytd_bookings"] = 5.0
    problem(data, "territories[0].reps[0].ytd_bookings", "need the `actuals` block")


def test_actuals_need_a_fiscal_year_in_progress():
    data = base()
    data["start"] = "2027-01"
    data["horizon_months"] = 12
    data["goal"] = {"annual": [1e6]}
    problem(data, "actuals", "is the first month of a fiscal year")


def test_actuals_for_an_unknown_territory_are_an_error_and_a_missing_one_a_warning():
    data = base()
    data["actuals"] = {"bookings": {"Eats": 1.0}}
    problem(data, "actuals.bookings.Eats", "no territory named 'Eats'")
    data["actuals"] = {"bookings": {"East": 1.0}}
    assert ("actuals.bookings", "no actuals for West: taken as 0 booked so far in FY2027") in Scenario.from_dict(data).warnings


def test_goal_length_counts_the_year_in_progress_with_actuals():
    data = base()
    data["goal"] = {"annual": [1e6]}
    problem(data, "goal.annual", "FY2027 (in progress, with actuals), FY2028", "got 1 values")


def test_negative_actuals_are_an_error():
    data = base()
    data["actuals"]["bookings"]["East"] = -5.0
    problem(data, "actuals.bookings.East", ">= 0")


# --------------------------------------------------------------------------- deal sizes


def test_empirical_and_lognormal_deal_sizes_are_exclusive():
    data = base()
    data["territories"][1]["deal_size"] = {"mean": 10.0, "empirical": [1.0, 2.0]}
    problem(data, "territories[1].deal_size", "not both")


def test_empirical_values_must_be_positive():
    data = base()
    data["territories"][1]["deal_size"] = {"empirical": [1.0, 0.0]}
    problem(data, "territories[1].deal_size.empirical", "entry 1 must be a finite number > 0, got 0")


def test_empirical_file_problems_name_the_file_and_line(tmp_path):
    data = base()
    data["territories"][1]["deal_size"] = {"empirical_file": "sizes.csv"}
    problem(data, "territories[1].deal_size.empirical_file", "no such file", base_dir=tmp_path)
    (tmp_path / "sizes.csv").write_text("amount\n1200\n-4\n", encoding="utf-8")
    problem(data, "territories[1].deal_size.empirical_file (sizes.csv line 3)", "must be a deal value > 0, got '-4'",
            base_dir=tmp_path)
    (tmp_path / "sizes.csv").write_text("Id,Amount,Stage\n1,1200,Won\n2,3400,Won\n", encoding="utf-8")
    sc = Scenario.from_dict(data, base_dir=tmp_path)
    assert sc.territories[1].deal_empirical == (1200.0, 3400.0)
    assert sc.data["territories"][1]["deal_size"] == {"empirical": [1200.0, 3400.0]}  # inlined


# --------------------------------------------------------------------------- uncertainty


def uncertain(parameters: dict, trials_per_draw=1) -> dict:
    return with_(uncertainty={"trials_per_draw": trials_per_draw, "parameters": parameters})


def test_unknown_uncertain_path_names_what_is_supported():
    problem(uncertain({"territories.East.quota_annual": {"uniform": [1, 2]}}),
            "uncertainty.parameters.territories.East.quota_annual", "cannot be uncertain", "supported paths:",
            "territories.NAME.KEY or defaults.KEY", "win_rate", "churn_annual", "market.downturn.{probability_per_year, "
            "duration_months")


def test_uncertain_path_in_an_unknown_territory():
    problem(uncertain({"territories.Nowhere.win_rate": {"uniform": [0.1, 0.2]}}),
            "uncertainty.parameters.territories.Nowhere.win_rate", "no territory named 'Nowhere'")


def test_dirichlet_length_must_match_the_pmf_it_replaces():
    problem(uncertain({"territories.West.sales_cycle_months": {"dirichlet": [1, 2]}}),
            "uncertainty.parameters.territories.West.sales_cycle_months",
            "one concentration per entry of the pmf it replaces (3), got 2")


def test_samples_of_unequal_lengths_are_an_error():
    problem(uncertain({"territories.East.win_rate": {"samples": [0.1, 0.2, 0.3]},
                       "territories.West.win_rate": {"samples": [0.2, 0.3]}}),
            "uncertainty.parameters", "same length", "territories.East.win_rate has 3", "territories.West.win_rate has 2")


def test_a_probability_needs_a_distribution_inside_zero_one():
    problem(uncertain({"territories.East.win_rate": {"normal": {"mean": 0.4, "sd": 0.1}}}),
            "uncertainty.parameters.territories.East.win_rate", "outside the key's range [0, 1]", "truncate it with min and max")
    problem(uncertain({"territories.East.win_rate": {"uniform": [0.5, 1.2]}}),
            "uncertainty.parameters.territories.East.win_rate", "uniform takes values in 0.5..1.2")


def test_pmfs_take_dirichlet_or_pmf_samples_and_numbers_take_the_rest():
    problem(uncertain({"territories.West.sales_cycle_months": {"beta": [1, 2]}}),
            "uncertainty.parameters.territories.West.sales_cycle_months", "is a pmf over months")
    problem(uncertain({"territories.West.win_rate": {"dirichlet": [1, 2]}}),
            "uncertainty.parameters.territories.West.win_rate", "is a number")
    problem(uncertain({"territories.West.sales_cycle_months": {"samples": [[0.5, 0.6]]}}),
            "uncertainty.parameters.territories.West.sales_cycle_months.samples[0]", "must be a pmf")


@pytest.mark.parametrize("dist, fragment", [
    ({"beta": [1, 2], "uniform": [0, 1]}, "give exactly one distribution"),
    ({}, "give exactly one distribution"),
    ({"beta": [0, 2]}, "a, b > 0"),
    ({"uniform": [0.5, 0.1]}, "low <= high"),
    ({"triangular": [0.1, 0.5, 0.3]}, "low <= mode <= high"),
    ({"normal": {"mean": 0.4}}, "exactly one of sd and cv"),
    ({"normal": {"mean": 0.4, "sd": 0.1}, "min": 0.5, "max": 0.3}, "min must be below max"),
    ({"uniform": [0.1, 0.2], "min": 0.0}, "truncate beta, gamma, normal and lognormal only"),
    ({"gamma": {"mean": -1, "sd": 1}}, "mean > 0"),
    ({"samples": [0.1, [0.2]]}, "not a mix"),
    ({"wibble": [1]}, "unknown key 'wibble'"),
])
def test_malformed_distributions_are_named(dist, fragment):
    data = uncertain({"territories.East.win_rate": dist})
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    msgs = [msg for loc, msg in info.value.problems if loc.startswith("uncertainty.parameters.territories.East.win_rate")]
    assert msgs and any(fragment in m for m in msgs), info.value.problems


def test_truncation_must_keep_enough_mass():
    problem(uncertain({"territories.East.win_rate": {"beta": [50, 50], "min": 0.9, "max": 1.0}}),
            "uncertainty.parameters.territories.East.win_rate", "keep only", "of the beta distribution")


def test_trials_per_draw_must_be_positive():
    problem(uncertain({}, trials_per_draw=0), "uncertainty.trials_per_draw", "whole number >= 1, got 0")


def test_keys_the_scenario_does_not_use_cannot_be_uncertain():
    problem(uncertain({"market.downturn.lead_multiplier": {"uniform": [0.7, 0.9]}}),
            "uncertainty.parameters.market.downturn.lead_multiplier", "no market.downturn")
    data = base()
    data["territories"][1]["attrition_by_tenure"] = [{"until_month": 12, "annual": 0.3}, {"annual": 0.1}]
    del data["territories"][1]["attrition_annual"]
    data["uncertainty"] = {"parameters": {"territories.West.attrition_annual": {"uniform": [0.1, 0.2]}}}
    problem(data, "uncertainty.parameters.territories.West.attrition_annual", "uses attrition_by_tenure")
    data["uncertainty"] = {"parameters": {"territories.West.attrition_by_tenure.2.annual": {"uniform": [0.1, 0.2]}}}
    problem(data, "uncertainty.parameters.territories.West.attrition_by_tenure.2.annual", "has 2 attrition bands")
    data = base()
    data["territories"][1]["deal_size"] = {"empirical": [1.0, 2.0]}
    data["uncertainty"] = {"parameters": {"territories.West.deal_size.mean": {"uniform": [1, 2]}}}
    problem(data, "uncertainty.parameters.territories.West.deal_size.mean", "empirical")


def test_every_problem_is_listed_at_once():
    data = base()
    data["pipeline"][0]["owner"] = "West#1"
    data["pipeline"][1]["id"] = "d1"
    data["uncertainty"] = {"parameters": {"territories.East.quota_annual": {"uniform": [1, 2]}}}
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    locations = [loc for loc, _ in info.value.problems]
    assert {"pipeline[0].owner", "pipeline[1].id", "uncertainty.parameters.territories.East.quota_annual"} <= set(locations)


def test_cli_validate_lists_warnings_and_exits_0(tmp_path):
    from click.testing import CliRunner

    from salessim.cli import main

    data = base()
    data["pipeline"][0]["owner"] = "Nobody"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.output
    assert "warning: pipeline[0].owner: 'Nobody' is not a rep in seat at start in East" in result.output
    assert load_scenario(tmp_path / "s.yaml").warnings

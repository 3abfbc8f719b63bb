"""``salessim.solve`` / ``salessim solve``: the smallest (largest) lever value meeting a target."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.whatif import WhatIfError, parse_target, solve
from salessim.whatif.solve import parse_range
from whatif_helpers import TRIALS, deterministic, stochastic

SEED = 7


def test_known_answer_on_a_zero_variance_scenario():
    sc = deterministic()
    result = solve(sc, "hiring_plan.0.hires", 0, 40, "p_goal[2027] >= 0.9", trials=20, seed=SEED)
    assert result.integer and result.met and result.value == 10
    pts = result.points.set_index("value")
    assert pts.loc[10, "mean"] == 1.0 and pts.loc[9, "mean"] == 0.0  # the boundary was explored on both sides
    # bookings grow linearly with hires, with no noise: 120,000 + 90,000 x hires
    curve = result.curve
    hires = curve["hiring_plan.0.hires"].values
    bookings = curve["headline_mean"].sel(metric="bookings", fiscal_year=2027).values
    assert bookings == pytest.approx(120_000.0 + 90_000.0 * hires, rel=1e-12)  # deal value exp(log 1000) is not exact
    assert np.all(curve["se"].values == 0.0)


def test_known_answer_on_bookings_and_with_largest():
    sc = deterministic()
    assert solve(sc, "hiring_plan.0.hires", 0, 40, "bookings[2027] >= 569000", trials=5).value == 5
    assert solve(sc, "hiring_plan.0.hires", 0, 40, "bookings[2027] > 571000", trials=5).value == 6
    # the largest hiring that keeps bookings below 751,000 is 7 (120k + 7 x 90k = 750k)
    assert solve(sc, "hiring_plan.0.hires", 0, 40, "bookings[2027] < 751000", largest=True, trials=5).value == 7


def test_stochastic_search_is_monotone_and_reproducible():
    sc = stochastic()
    args = dict(trials=TRIALS, seed=SEED)
    one = solve(sc, "hiring_plan.0.hires", 0, 12, "bookings[2027] >= 1000000", **args)
    two = solve(sc, "hiring_plan.0.hires", 0, 12, "bookings[2027] >= 1000000", **args)
    assert one.met and one.value == two.value
    assert one.points.equals(two.points)
    # explored means rise with the lever; a dip may only be Monte Carlo noise (4 SE)
    pts = one.points.sort_values("value")
    steps = np.diff(pts["mean"].to_numpy())
    noise = 4 * np.hypot(pts["se"].to_numpy()[1:], pts["se"].to_numpy()[:-1])
    assert np.all(steps >= -noise)
    below = pts[pts.value < one.value]
    assert not below["meets"].any() and pts[pts.value == one.value]["meets"].all()


def test_real_lever_largest_quota():
    sc = stochastic()
    result = solve(sc, "territories.East.quota_annual", 100_000, 600_000, "reps_at_quota[2027] >= 0.3", largest=True,
                   trials=TRIALS, seed=SEED, tol=1_000)
    assert not result.integer and result.met
    pts = result.points.sort_values("value")
    # the answer meets the target and the nearest explored value above it does not, within tol
    above = pts[pts.value > result.value].iloc[0]
    assert not above.meets and above.value - result.value <= 1_000
    shares = pts["mean"].to_numpy()
    assert np.all(np.diff(shares) <= 4 * np.hypot(pts.se.to_numpy()[1:], pts.se.to_numpy()[:-1]))
    again = solve(sc, "territories.East.quota_annual", 100_000, 600_000, "reps_at_quota[2027] >= 0.3", largest=True,
                  trials=TRIALS, seed=SEED, tol=1_000)
    assert again.value == result.value


def test_unreachable_target_reports_the_best_value():
    sc = deterministic()
    result = solve(sc, "hiring_plan.0.hires", 0, 5, "p_goal[2027] >= 0.9", trials=5)
    assert not result.met and result.value is None
    assert result.best_value == 5 or result.best_mean == 0.0
    assert "cannot be met" in result.message and "best reached" in result.message


@pytest.mark.parametrize("text, expected", [
    ("p_goal[2027] >= 0.9", ("p_goal", 2027, "all", ">=", 0.9)),
    ("reps_at_quota[FY2028]>0.6", ("reps_at_quota", 2028, "all", ">", 0.6)),
    ("bookings[2027, East] < 4e6", ("bookings", 2027, "East", "<", 4e6)),
    ("p_goal[2027] >= 90%", ("p_goal", 2027, "all", ">=", 0.9)),
])
def test_target_grammar(text, expected):
    t = parse_target(text)
    assert (t.metric, t.year, t.territory, t.op) == expected[:4]
    assert t.threshold == pytest.approx(expected[4])


@pytest.mark.parametrize("text", ["p_goal >= 0.9", "p_goal[2027] = 0.9", "p_goal[2027] >= x", "p_goal[abc] >= 1", ""])
def test_malformed_targets(text):
    with pytest.raises(WhatIfError):
        parse_target(text)


@pytest.mark.parametrize("text", ["5", "a:b", "5:1", "1:1", ":3", "1:2:3"])
def test_malformed_ranges(text):
    with pytest.raises(WhatIfError):
        parse_range(text)


@pytest.mark.parametrize("lever, target, message", [
    ("hiring_plan.0.nope", "p_goal[2027] >= 0.9", "unknown key 'nope'"),
    ("hiring_plan.3.hires", "p_goal[2027] >= 0.9", "out of range"),
    ("hiring_plan.0.hires", "nope[2027] >= 0.9", "unknown metric 'nope'"),
    ("hiring_plan.0.hires", "p_goal[2031] >= 0.9", "no fiscal year 2031"),
    ("hiring_plan.0.hires", "bookings[2027,Mars] >= 1", "no figure for territory 'Mars'"),
])
def test_bad_inputs_fail_before_searching(lever, target, message):
    with pytest.raises(WhatIfError, match=message):
        solve(deterministic(), lever, 0, 5, target, trials=5)


def _file(tmp_path, sc):
    path = tmp_path / "sc.yaml"
    path.write_text(sc.to_yaml())
    return str(path)


def test_cli_solve_prints_the_curve_and_saves_it(tmp_path):
    out = tmp_path / "solve.h5"
    res = CliRunner().invoke(main, ["solve", _file(tmp_path, deterministic()), "--lever", "hiring_plan.0.hires",
                                    "--range", "0:40", "--target", "p_goal[2027] >= 0.9", "-n", "5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "<- answer" in res.output and "smallest hiring_plan.0.hires meeting p_goal[2027] >= 0.9: 10" in res.output
    curve = salessim.open_results(out)
    assert int(curve.attrs["solution"]) == 10 and curve.attrs["lever"] == "hiring_plan.0.hires"


@pytest.mark.parametrize("args, message", [
    (["--range", "0:5", "--target", "p_goal[2027] >= 0.9"], "cannot be met"),
    (["--range", "5", "--target", "p_goal[2027] >= 0.9"], "write LO:HI"),
    (["--range", "0:five", "--target", "p_goal[2027] >= 0.9"], "expected a number"),
    (["--range", "0:5", "--target", "p_goal[2027] => 0.9"], "cannot read"),
    (["--range", "0:5", "--target", "p_goal[2027] >= 0.9", "--lever", "hiring_plan.0.nope"], "unknown key"),
    (["--range", "0.5:5", "--target", "p_goal[2027] >= 0.9"], "whole number"),
])
def test_cli_solve_user_errors(tmp_path, args, message):
    out = tmp_path / "never.h5"
    lever = [] if "--lever" in args else ["--lever", "hiring_plan.0.hires"]
    res = CliRunner().invoke(main, ["solve", _file(tmp_path, deterministic()), *lever, *args, "-n", "5", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_points_cut_after_the_target_year_give_the_full_runs_bits(monkeypatch):
    """Each point runs only through the target's fiscal year; the model is causal, so the
    target's mean and SE at every point, the path and the answer are exactly those of full
    runs, and only the headline means of the later years are left out (NaN)."""
    import importlib

    solve_module = importlib.import_module("salessim.whatif.solve")  # the module (the package exports the function)
    sc = salessim.load_scenario("scenarios/baseline.yaml")
    args = (sc, "hiring_plan.1.hires", 0, 12, "p_goal[2028] >= 0.9")
    cut = solve(*args, trials=300)
    monkeypatch.setattr(solve_module, "truncated", lambda scenario, last: scenario)
    full = solve(*args, trials=300)
    assert cut.value == full.value and cut.met == full.met
    assert cut.path.values == full.path.values
    assert np.array_equal(cut.path.means, full.path.means) and np.array_equal(cut.path.ses, full.path.ses)
    years = list(cut.path.years)
    assert years == [2027, 2028, 2029] and list(full.path.years) == years
    kept = years.index(2028) + 1
    assert np.array_equal(cut.path.headline_mean[:, :, :kept], full.path.headline_mean[:, :, :kept])
    assert np.isnan(cut.path.headline_mean[:, :, kept:]).all()
    assert np.isfinite(full.path.headline_mean[:, :, kept:]).all()
    assert cut.path.dataset(cut).attrs["simulated_through_fiscal_year"] == 2028

"""``salessim.sensitivity`` / ``salessim sensitivity``: one assumption at a time, ranked."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.whatif import WhatIfError, assumptions, per_trial, sensitivity
from whatif_helpers import stochastic, stochastic_dict

SEED = 3
TRIALS = 200


@pytest.fixture(scope="module")
def tornado():
    return sensitivity(stochastic(), 0.1, TRIALS, SEED)


def test_assumptions_are_per_territory_and_include_inherited_defaults():
    d = stochastic_dict()
    d["defaults"] = {"skill_sigma": 0.3}
    for t in d["territories"]:
        del t["skill_sigma"]
    d["market"] = {"annual_growth": 0.1, "downturn": {"probability_per_year": 0.95, "duration_months": 1,
                                                       "lead_multiplier": 0.8}}
    moves, skipped = assumptions(salessim.Scenario.from_dict(d), 0.1)
    by = {m.parameter: m for m in moves}
    assert by["territories.East.skill_sigma"].base == 0.3 and by["territories.West.skill_sigma"].base == 0.3
    assert by["territories.East.skill_sigma"].set_high == {"territories.East.skill_sigma": pytest.approx(0.33)}
    assert by["market.downturn.probability_per_year"].high == 1.0  # 1.045 clipped
    assert "clipped" in by["market.downturn.probability_per_year"].note
    # 3 reps x 0.9 and x 1.1 both round to 3: skipped, and said so
    assert "territories.East.reps" not in by
    assert any(s.startswith("territories.East.reps: unchanged after rounding") for s in skipped)
    assert "territories.East.quota_annual" not in by and not any(p.startswith("hiring_plan") for p in by)
    # deal size: both parts kept when one moves
    assert by["territories.West.deal_size.mean"].set_low == {"territories.West.deal_size": {"mean": pytest.approx(5_400.0), "cv": 0.6}}


def test_dataset_layout_and_ranking(tornado):
    assert tornado["low"].dims == ("parameter", "metric", "fiscal_year")
    assert tornado["base"].dims == ("metric", "fiscal_year")
    for name in ("low_value", "high_value", "base_value", "note", "effect_low", "effect_high_se", "low_se", "high_se"):
        assert name in tornado
    eff = tornado.sel(metric="bookings", fiscal_year=int(tornado.attrs["rank_year"]))
    size = np.fmax(np.abs(eff["effect_low"].values), np.abs(eff["effect_high"].values))
    assert np.all(np.diff(size) <= 0)  # largest first
    assert int(tornado.attrs["rank_year"]) == 2027


def test_effects_are_paired_differences_from_the_base_run(tornado):
    sc = stochastic()
    base = per_trial(salessim.simulate(sc, TRIALS, SEED)).sel(metric="bookings", fiscal_year=2027).values
    high = per_trial(salessim.simulate(sc.with_overrides({"territories.West.win_rate": 0.35 * 1.1}), TRIALS, SEED))
    d = high.sel(metric="bookings", fiscal_year=2027).values - base
    row = tornado.sel(parameter="territories.West.win_rate", metric="bookings", fiscal_year=2027)
    assert float(row["effect_high"]) == pytest.approx(d.mean(), rel=1e-12)
    assert float(row["effect_high_se"]) == pytest.approx(d.std(ddof=1) / np.sqrt(TRIALS), rel=1e-9)
    # a better win rate books more, by several standard errors; a worse one less
    assert float(row["effect_high"]) > 4 * float(row["effect_high_se"])
    low = tornado.sel(parameter="territories.West.win_rate", metric="bookings", fiscal_year=2027)
    assert float(low["effect_low"]) < -4 * float(low["effect_low_se"])


def test_deal_size_mean_scales_bookings_exactly(tornado):
    """With common random numbers a 10% larger mean deal is the same deals, 10% larger."""
    row = tornado.sel(parameter="territories.East.deal_size.mean", metric="bookings", fiscal_year=2027)
    east_only = salessim.simulate(stochastic(), TRIALS, SEED)["bookings"].sel(territory="East")
    east_fy = east_only.isel(month=slice(0, 12)).sum("month").values
    assert float(row["effect_high"]) == pytest.approx(0.1 * east_fy.mean(), rel=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    ({"delta": 0}, "between 0 and 1"),
    ({"delta": 1.5}, "between 0 and 1"),
    ({"delta": "abc"}, "expected a number"),
    ({"parameters": ["territories.East.nope"]}, "unknown assumption"),
    ({"year": 2031}, "no fiscal year 2031"),
    ({"rank_by": "cost"}, "bookings or p_goal"),
])
def test_bad_inputs(kwargs, message):
    args = {"delta": 0.1, **kwargs}
    with pytest.raises(WhatIfError, match=message):
        sensitivity(stochastic(), trials=50, seed=SEED, **args)


def test_cli_sensitivity(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "tornado.h5"
    res = CliRunner().invoke(main, ["sensitivity", str(path), "--delta", "0.2", "-n", "100", "--param",
                                    "territories.East.win_rate", "--param", "territories.West.leads_per_month",
                                    "--rank-by", "p_goal", "--year", "2028", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "territories.East.win_rate" in res.output and "Δ bookings low" in res.output
    ds = salessim.open_results(out)
    assert ds.sizes["parameter"] == 2 and float(ds.attrs["delta"]) == 0.2 and ds.attrs["rank_by"] == "p_goal"


@pytest.mark.parametrize("args, message", [
    (["--delta", "2"], "between 0 and 1"),
    (["--param", "nope"], "unknown assumption"),
    (["--set", "territories.East.win_rate=7"], "must be between 0 and 1"),
])
def test_cli_sensitivity_user_errors(tmp_path, args, message):
    path = tmp_path / "small.yaml"
    path.write_text(stochastic().to_yaml())
    out = tmp_path / "never.h5"
    res = CliRunner().invoke(main, ["sensitivity", str(path), *args, "-n", "50", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()

"""Quotas for named reps (salessim.plan.quotas on rosters), and the planning tools on a
scenario with a roster, an open pipeline, actuals and uncertain parameters (midyear.yaml).

The claims of the issue are checked against independent runs of the written scenarios:
equal-chance gives every full-tenure rep (named reps of known skill included) the same
P(attain); capacity quotas follow each rep's expected bookings; quotas sum to goal x
over-assignment; the attainment at the proposed quotas is what a run with them gives.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import salessim
from helpers_model import Z
from plan_helpers import in_progress, in_progress_dict, roster
from salessim.cli import main
from salessim.plan import PlanError, quotas
from salessim.plan.balance import balance
from salessim.plan.evaluate import Evaluator, PlanLayout
from salessim.plan.holders import RepYears, planned_units, year_seats
from salessim.plan.objective import parse_objective
from salessim.plan.quotas import share_se
from salessim.plan.slots import parse_slots
from salessim.summary import trial_values

TRIALS = 1_500
ROOT = Path(__file__).resolve().parents[1]
MIDYEAR = ROOT / "scenarios" / "midyear.yaml"


@pytest.fixture(scope="module")
def sc():
    return roster()


@pytest.fixture(scope="module")
def equal(sc):
    return quotas(sc, "equal-chance", 1.1, trials=TRIALS, seed=3)


def _seat(result, name):
    return next(s for s in result.seats if s.name == name)


def _planned_p(scenario, trials, seed) -> dict[str, tuple[float, float]]:
    """P(attain) of each seat's planned rep in the futures where they hold it at the year's end."""
    ds = salessim.simulate(scenario, trials, seed)
    att, occ = ds["attainment"].values[:, 0, :], ds["occupant"].values[:, 0, :]
    out = {}
    for s, name in enumerate(ds["seat_name"].values):
        mask = np.zeros_like(occ, dtype=bool)
        mask[:, s] = (occ[:, s] == 0) & np.isfinite(att[:, s])
        out[str(name)] = share_se(att >= 1.0, mask)
    return out


def test_named_reps_of_known_skill_get_quotas_of_their_own(sc, equal):
    keys = {s.name: s.key for s in equal.seats}
    assert keys["Star"] == "territories.0.reps.0.quota_annual" and keys["Ace"] == "territories.1.reps.0.quota_annual"
    assert keys["hire:2027-05:Low#1"] == "territories.1.quota_annual"
    star, steady, ace, slow = (_seat(equal, n) for n in ("Star", "Steady", "Ace", "Slow"))
    # a rep with a known high skill carries more than one with a known low skill, in either territory
    assert star.proposed > steady.proposed and ace.proposed > slow.proposed
    assert star.proposed > ace.proposed  # the same skill books more where demand is higher
    assert steady.current == 260_000 and star.current == 250_000
    written = equal.scenario.territories
    assert written[0].roster[0].quota_annual == star.proposed and written[1].roster[1].quota_annual == slow.proposed


def test_equal_chance_gives_named_reps_the_same_p_attain_in_an_independent_run(equal):
    """Named reps of different known skill in two territories of very different demand.

    The allocation sets each quota at a quantile of that rep's own simulated bookings, so
    the P(attain) an independent run measures at it varies by the allocation's sampling
    error too: each comparison's SE combines both runs' (clustered) errors."""
    indep = _planned_p(equal.scenario, TRIALS, 12)
    alloc = {s.name: s for s in equal.seats}

    def se(name):
        return math.hypot(indep[name][1], alloc[name].p_attain_se)

    for a, b in (("Star", "Ace"), ("Steady", "Slow")):
        assert abs(indep[a][0] - indep[b][0]) <= 2 * math.hypot(se(a), se(b)), (a, b, indep[a], indep[b])
    # every equalised rep at once: their deviations from the common chance are standard normal
    names = [s.name for s in equal.seats if s.equalised]
    assert len(names) == 6
    chi2 = sum(((indep[n][0] - equal.p_equal) / se(n)) ** 2 for n in names)
    assert stats.chi2.sf(chi2, len(names)) > 2 * stats.norm.sf(Z)
    # in the allocation run itself, each named rep's share at quota is the common chance up to one rep-year
    for n in names:
        x = alloc[n]
        assert abs(x.p_attain - equal.p_equal) <= 1.0 / (x.stays * equal.trials) + 1e-9


def test_without_allocation_named_reps_have_very_different_chances(sc):
    p = _planned_p(sc, TRIALS, 11)
    assert p["Star"][0] - p["Slow"][0] > Z * math.hypot(p["Star"][1], p["Slow"][1])


def test_ramping_named_reps_keep_the_ramped_share_of_the_territory_quota(equal):
    newbie, high = _seat(equal, "Newbie"), equal.territories[0]
    assert not newbie.equalised and newbie.current == 100_000
    assert newbie.proposed == high.proposed and equal.changes["territories.0.reps.3.quota_annual"] == high.proposed
    assert newbie.proposed_year == pytest.approx(high.proposed * newbie.units, rel=1e-12) and newbie.units < 1
    # no full-tenure rep-year carries the territory's quota here: the note says where it comes from
    assert any(n.startswith("High: no full-tenure rep-year carries the territory's quota") for n in equal.notes)


@pytest.mark.parametrize("rule", ["equal-chance", "capacity", "flat"])
@pytest.mark.parametrize("make", [roster, in_progress], ids=["full-year", "in-progress"])
def test_roster_quotas_sum_to_goal_times_over_assignment(make, rule):
    """Summed from the written scenario itself: each seat's quota (the rep's own or the
    territory's) x its planned units, plus the quota carried before start in the year."""
    base = make()
    r = quotas(base, rule, 1.2, trials=400, seed=1)
    out = r.scenario
    units = planned_units(out, 2027)
    fixed = [rep.ytd_quota or 0.0 for t in out.territories for rep in t.roster] if out.spec.actuals else []
    quota = [rep.quota_annual or t.quota_annual for t in out.territories for rep in t.roster]
    quota += [out.territories[k].quota_annual for k in out.seat_territories()[len(quota):]]
    total = float(np.dot(quota, units)) + sum(fixed)
    assert abs(total - 1.2 * 1_700_000) <= 0.5 * units.sum()
    assert r.planned_total == pytest.approx(total, rel=1e-12)
    if rule == "flat":
        assert len({q for q, u in zip(quota, units) if u > 0}) == 1


def test_capacity_quotas_follow_each_reps_expected_bookings(sc):
    """Each named rep's planned quota share is their share of the planned reps' expected
    bookings (each in the futures where they stay): the allocation's estimator on its own run
    exactly, and an independent run within MC error."""
    from test_plan_quotas import expected_shares

    r = quotas(sc, "capacity", 1.1, trials=TRIALS, seed=5)
    names = list(sc.seat_names())
    groups = {s.name: [names.index(s.name)] for s in r.seats if s.equalised}
    groups.update({t.territory: [names.index(s.name) for s in r.seats if s.territory == t.territory and not s.equalised]
                   for t in r.territories})
    own = expected_shares(sc, salessim.simulate(sc, TRIALS, 5), groups)
    other = expected_shares(sc, salessim.simulate(sc, TRIALS, 22), groups)
    planned = {s.name: s.proposed_year for s in r.seats if s.equalised}
    planned.update({t.territory: sum(s.proposed_year for s in r.seats if s.territory == t.territory and not s.equalised)
                    for t in r.territories})
    units = planned_units(sc, 2027)
    for name, value in planned.items():
        share = value / r.target
        assert share == pytest.approx(own[name][0], abs=0.5 * units.sum() / r.target), name
        assert abs(share - other[name][0]) <= Z * math.hypot(own[name][1], other[name][1]), name
    # the named rep with the higher known skill is expected to book more, so carries more
    assert _seat(r, "Star").proposed > _seat(r, "Steady").proposed


def test_rescaled_attainment_with_year_to_date_is_what_a_run_with_the_new_quotas_gives():
    """The year in progress: attainment = (ytd bookings + simulated) / (ytd quota + the new
    quota's simulated months), for named reps and backfills alike, to the last bits."""
    base = in_progress()
    r = quotas(base, "equal-chance", 1.1, trials=300, seed=2)
    before, after = year_seats(base, 2027), year_seats(r.scenario, 2027)
    ds0, ds1 = salessim.simulate(base, 300, 2), salessim.simulate(r.scenario, 300, 2)
    assert (ds0["occupant"].values[:, 0] > 0).any()  # backfills are in the comparison
    got = RepYears.from_dataset(ds0, base, before).rescaled(after.quota, after.territory_quota)
    assert not np.allclose(got, ds0["attainment"].values[:, 0], equal_nan=True)
    np.testing.assert_allclose(got, ds1["attainment"].values[:, 0], rtol=1e-12, equal_nan=True)
    assert r.months == 9 and r.fixed == pytest.approx(sum(rep["ytd_quota"] for t in in_progress_dict()["territories"]
                                                          for rep in t["reps"]))


def test_in_progress_a_rep_ahead_of_plan_needs_more_of_what_is_left():
    """Equal chance on the rest of the year: X more booked before start (and X more to
    allocate) raises that rep's quota for the year's simulated months by exactly X, that is
    their full-year quota by X / units, and leaves every other quota as it was."""
    extra = 15_000.0
    base = in_progress_dict()
    r0 = quotas(salessim.Scenario.from_dict(base), "equal-chance", 1.1, trials=600, seed=4)
    ahead = in_progress_dict()
    ahead["territories"][1]["reps"][1]["ytd_bookings"] += extra  # Slow
    ahead["goal"]["annual"] = [ahead["goal"]["annual"][0] + extra / 1.1]
    r1 = quotas(salessim.Scenario.from_dict(ahead), "equal-chance", 1.1, trials=600, seed=4)
    assert r1.p_equal == pytest.approx(r0.p_equal, abs=1e-9)
    slow0, slow1 = _seat(r0, "Slow"), _seat(r1, "Slow")
    assert slow0.fixed == 62_500 and slow0.units == pytest.approx(9 / 12, rel=1e-12)
    assert slow1.proposed - slow0.proposed == pytest.approx(extra / slow0.units, abs=1.0)
    for name, q in r0.changes.items():
        if name != "territories.1.reps.1.quota_annual":
            assert abs(r1.changes[name] - q) <= 1, name


def test_bad_roster_input_names_the_rule():
    d = in_progress_dict()
    d["goal"]["annual"] = [300_000.0]  # below the 377,500 of quota already carried before April
    with pytest.raises(PlanError, match=r"is not above the quota the reps already carried before start in the year "
                                        r"\(377,500\), so nothing is left to allocate"):
        quotas(salessim.Scenario.from_dict(d), "flat", 1.0, trials=50)
    d = roster().data
    d["territories"][0]["attrition_annual"] = 1.0  # every rep leaves after their first month
    d["territories"][0]["reps"].pop()  # no ramping rep: High's reps all carry quotas of their own
    with pytest.raises(PlanError, match="--rule equal-chance: Star never holds their seat at the end of FY2027"):
        quotas(salessim.Scenario.from_dict(d), "equal-chance", trials=50)


def test_a_named_rep_without_a_quota_today_gets_one(sc):
    d = sc.data
    d["territories"][1]["reps"][0]["quota_annual"] = 0.0
    r = quotas(salessim.Scenario.from_dict(d), "equal-chance", 1.1, trials=300, seed=3)
    ace = _seat(r, "Ace")
    assert math.isnan(ace.p_attain_current) and ace.proposed > 0 and math.isfinite(ace.p_attain)
    assert "reps without a quota today have no current figures" in r.notes


# --------------------------------------------------------------------------- midyear.yaml


@pytest.fixture
def midyear_dir(tmp_path, monkeypatch) -> Path:
    for name in ("midyear.yaml", "midyear_pipeline.csv"):
        shutil.copy(ROOT / "scenarios" / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_midyear_quotas_write_rep_quotas_keeping_the_comments(midyear_dir):
    (midyear_dir / "out").mkdir()
    r = CliRunner().invoke(main, ["quotas", "midyear.yaml", "--fiscal-year", "2028", "-n", "100", "-o", "out/q.yaml"])
    assert r.exit_code == 0, r.output
    for text in ("quotas midyear FY2028", "Ana Ruiz, tenure 41", "own", "hire:2027-05:West#1", "wrote out/q.yaml"):
        assert text in r.output
    text = (midyear_dir / "out" / "q.yaml").read_text()
    assert text.startswith("# A mid-year re-forecast.") and "# FY2027 (in progress, with actuals), FY2028" in text
    # the pipeline file is named from the new file's folder (absolute: it lies outside it)
    assert f"pipeline_file: {(midyear_dir / 'midyear_pipeline.csv').as_posix()}" in text
    out = salessim.load_scenario(midyear_dir / "out" / "q.yaml")
    base = salessim.load_scenario(midyear_dir / "midyear.yaml")
    ana = out.territories[0].roster[0]
    assert ana.quota_annual != 340_000 and f"quota_annual: {ana.quota_annual:_.0f}" in text  # the file's digit groups
    assert all(rep.quota_annual for t in out.territories for rep in t.roster if rep.tenure_months >= 5)
    assert out.spec.pipeline == base.spec.pipeline and out.spec.uncertainty == base.spec.uncertainty
    doc = json.loads(CliRunner().invoke(main, ["quotas", "midyear.yaml", "-n", "60", "--format", "json"]).stdout,
                     parse_constant=lambda c: pytest.fail(f"JSON holds {c}"))
    assert doc["fiscal_year"] == 2027 and doc["months"] == 10 and doc["fixed"] > 0
    assert set(doc["rep_quotas"]) >= {"Ana Ruiz", "Zoe Novak"} and "Hugo Lambert" not in doc["rep_quotas"]
    assert doc["changes"]["territories.0.reps.0.quota_annual"] == doc["rep_quotas"]["Ana Ruiz"]


def test_midyear_optimize_and_its_plan_file(midyear_dir):
    r = CliRunner().invoke(main, ["optimize", "midyear.yaml", "--hires", "1", "--slots", "East,West:2027-06",
                                  "--objective", "bookings[2027]", "-n", "50", "--min-trials", "30", "-o", "plan.yaml"])
    assert r.exit_code == 0, r.output
    assert "rounded to whole parameter draws of 20 trials: 40 to 40 (asked 30 to 50)" in r.output
    out = salessim.load_scenario(midyear_dir / "plan.yaml")
    assert len(out.spec.hiring_plan) == 5 and out.spec.hiring_plan[-1].month == "2027-06"
    text = (midyear_dir / "plan.yaml").read_text()
    assert "# A mid-year re-forecast." in text and "pipeline_file: midyear_pipeline.csv  # open deals" in text
    r = CliRunner().invoke(main, ["optimize", "midyear.yaml", "--hires", "1", "--slots", "East:2027-06",
                                  "--objective", "bookings[2027]", "-n", "30", "--min-trials", "20"])
    assert r.exit_code == 2 and "--trials 30: midyear shares each parameter draw among 20 trials" in r.output


def test_batched_evaluation_of_midyear_plans_equals_plain_runs():
    """Roster, open pipeline, actuals and uncertain parameters: the optimizer's truncated,
    batched per-trial objective of each plan is a plain run's, and SEs cluster draws."""
    sc = salessim.load_scenario(MIDYEAR)
    objective = parse_objective("bookings[2027] + 1e5*p_goal[2027]").check(sc)
    slots = parse_slots(sc, "East,Central:2027-05")
    layout = PlanLayout(sc, slots, through=9)
    ev = Evaluator(layout, objective, seed=5)
    plans = [(0, 0), (1, 0), (0, 2)]
    ev.ensure(plans, 60)
    for plan in plans:
        entries = [dict(e) for e in sc.data["hiring_plan"]] + layout.entries(plan)
        full = salessim.Scenario.from_dict(dict(sc.data, hiring_plan=entries), sc.source)
        plain = objective.values(trial_values(salessim.simulate(full, 60, 5)))
        np.testing.assert_array_equal(ev.values(plan, 60), plain)


def test_clustered_standard_errors_of_the_search_follow_the_draws():
    from salessim.plan.stats import clusters, mean_se

    sc = salessim.load_scenario(MIDYEAR)
    groups = clusters(sc, 100)
    assert list(np.unique(groups)) == [0, 1, 2, 3, 4]
    x = np.repeat(np.arange(5.0), 20)  # values shared within each draw: 5 observations, not 100
    assert mean_se(x, groups)[1] == pytest.approx(np.std(np.arange(5.0), ddof=1) / math.sqrt(5), rel=1e-12)
    assert mean_se(x)[1] < mean_se(x, groups)[1] / 3


def test_midyear_balance_and_report(tmp_path):
    sc = salessim.load_scenario(MIDYEAR)
    ds = salessim.simulate(sc, 100, 1)
    b = balance(ds, trials=60)
    assert b.fiscal_year == 2027 and [t.territory for t in b.territories] == ["East", "West", "Central"]
    assert b.next_hire is not None and b.next_hire.trials % 20 == 0 and b.next_hire.month == "2027-03"
    att = ds["attainment"].sel(fiscal_year=2027).values
    east = np.asarray(ds["seat_territory"].values).astype(str) == "East"
    by_draw = share_se(att[:, east] >= 1.0, np.isfinite(att[:, east]), ds["parameter_draw"].values)
    assert (b.territories[0].p_attain, b.territories[0].p_attain_se) == pytest.approx(by_draw, rel=1e-12)
    salessim.save_results(ds, tmp_path / "m.h5")
    r = CliRunner().invoke(main, ["report", str(tmp_path / "m.h5"), "-o", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "m.html").read_text()
    assert "Territory balance (FY2027)" in html and "Next hire:" in html


"""``salessim calibrate`` and ``salessim.calibrate``: the scenario file it writes, and the CLI.

The output is checked structurally against the SPEC section 9 format, then loaded as it
is written (roster, pipeline file, actuals, uncertainty, quarter-end pull) and simulated.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import salessim
from salessim.cli import main
from salessim.crm import TerritoryTruth, Truth, calibrate, synthetic_export, write_export
from salessim.crm.writer import Section, render

DATA = Path(__file__).resolve().parent / "data"
AS_OF = "2024-06-30"
TRUTH = Truth(territories={"East": TerritoryTruth(70.0, 0.3, 9, 20_000.0, 0.6),
                           "West": TerritoryTruth(45.0, 0.22, 7, 35_000.0, 0.7)},
              seasonality=(0.8, 0.9, 1.3, 0.85, 0.9, 1.3, 0.75, 0.8, 1.3, 0.9, 1.0, 1.5), annual_growth=0.1,
              never_close=0.15, skill_sigma=0.1)
DRAWS = 40
KEY_ORDER = ["name", "description", "start", "horizon_months", "fiscal_year_start_month", "currency", "goal", "market",
             "defaults", "territories", "pipeline_file", "actuals", "hiring_plan", "uncertainty"]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    opps, reps = synthetic_export(TRUTH, start="2022-01", months=36, seed=4)
    paths = write_export(opps, reps, folder)
    return opps, reps, paths


@pytest.fixture(scope="module")
def cal(export):
    _, _, (opps, reps) = export
    return calibrate(opps, reps, as_of=AS_OF, draws=DRAWS, seed=3)


@pytest.fixture(scope="module")
def written(cal, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "calibrated.yaml"
    files = cal.write(out)
    return out, files, yaml.safe_load(out.read_text())


def _resolve(scenario: dict, path: str):
    node = scenario
    for part in path.split("."):
        if isinstance(node, list):
            node = next(t for t in node if t.get("name") == part) if not part.isdigit() else node[int(part)]
        else:
            node = node[part]
    return node


def test_output_parses_back_to_the_document(cal, written):
    out, files, data = written
    assert [f.name for f in files] == ["calibrated.yaml", "calibrated-pipeline.csv"]
    assert data == cal.document("calibrated-pipeline.csv").data()
    assert list(data) == KEY_ORDER
    assert data["start"] == "2024-07" and data["horizon_months"] == 18  # to the end of FY2025
    assert len(data["goal"]["annual"]) == 2  # FY2024 (in progress, with actuals) and FY2025


def test_spec_section_9_structure(export, written):
    opps, reps, _ = export
    _, _, data = written
    as_of = pd.Timestamp(AS_OF)
    in_seat = reps[(reps["hired"] <= as_of) & (reps["left"].isna() | (reps["left"] > as_of))]
    for terr in data["territories"]:
        roster = terr["reps"]
        assert all(set(r) <= {"name", "tenure_months", "skill", "ytd_bookings", "ytd_quota"} for r in roster)
        mine = in_seat[in_seat["territory"] == terr["name"]]
        assert sorted(r["name"] for r in roster) == sorted(mine["name"])
        for r in roster:
            hired = mine.set_index("name").loc[r["name"], "hired"]
            assert r["tenure_months"] == (2024 * 12 + 6) - (hired.year * 12 + hired.month - 1)
        assert "initial_tenure_months" not in terr
    # actuals: won amounts booked 2024-01-01..as-of
    won = opps[opps["won"] & (opps["closed"] >= "2024-01-01") & (opps["closed"] <= as_of)]
    expected = won.groupby("territory")["amount"].sum()
    for k, v in data["actuals"]["bookings"].items():
        assert v == pytest.approx(expected[k], abs=0.01)
    ytd = sum(r["ytd_bookings"] for t in data["territories"] for r in t["reps"])
    assert ytd <= sum(data["actuals"]["bookings"].values()) + 0.01  # deals of departed reps count for no rep


def test_pipeline_file(export, written, cal):
    opps, _, _ = export
    out, _, data = written
    pipe = pd.read_csv(out.parent / data["pipeline_file"])
    assert list(pipe.columns) == ["id", "territory", "owner", "age_months", "amount", "win_probability"]
    as_of = pd.Timestamp(AS_OF)
    open_then = opps[(opps["created"] <= as_of) & ~(opps["is_closed"] & (opps["closed"] <= as_of))]
    assert sorted(pipe["id"]) == sorted(open_then["id"])  # deals that closed after as-of were open then
    created = open_then.set_index("id")["created"].reindex(pipe["id"])
    assert (pipe["age_months"].to_numpy() == (2024 * 12 + 6) - (created.dt.year * 12 + created.dt.month - 1)).all()
    assert pipe["win_probability"].between(0, 1).all()
    for k, fit in cal.fits.outcomes.items():
        stale = pipe[(pipe["territory"] == k) & (pipe["age_months"] > fit.max_cycle)]
        assert len(stale) and (stale["win_probability"] < 0.01).all()  # stale deals do not inflate the forecast


def test_uncertainty_block(written):
    _, _, data = written
    block = data["uncertainty"]
    assert block["trials_per_draw"] == 1
    params = block["parameters"]
    assert {"territories.East.win_rate", "territories.West.leads_per_month", "territories.East.sales_cycle_months",
            "territories.East.deal_size.mean", "market.annual_growth", "defaults.skill_sigma",
            "defaults.attrition_by_tenure.0.annual"} <= set(params)
    lengths = {len(v["samples"]) for v in params.values()}
    assert lengths == {DRAWS}  # SPEC: every samples entry of the block has the same length
    for path, spec in params.items():
        current = _resolve(data, path)
        samples = spec["samples"]
        if isinstance(current, list):
            assert all(len(s) == len(current) and abs(sum(s) - 1) < 1e-9 for s in samples), path
        else:
            assert isinstance(current, (int, float)), path
            assert min(samples) <= current * 1.5 + 1e-9 and max(samples) >= current * 0.5 - 1e-9, path
        if path.endswith("win_rate") or "attrition" in path:
            assert all(0 <= s <= 1 for s in samples)


def test_fitted_numbers_near_the_truth(cal):
    a, o = cal.fits.arrivals, cal.fits.outcomes
    years = (2024 * 12 + 6 - 2022 * 12) / 12
    for i, (k, t) in enumerate(TRUTH.territories.items()):
        lead_truth = t.leads_per_month * (1 + TRUTH.annual_growth) ** years
        assert abs(a.leads[i] - lead_truth) <= 4 * a.leads_draws[:, i].std()
        # the realised reps' skills move a territory's rate by about sigma / sqrt(reps)
        se = np.hypot(o[k].win_rate_draws.std(), t.win_rate * TRUTH.skill_sigma / np.sqrt(t.reps))
        assert abs(o[k].win_rate - t.win_rate) <= 4 * se
        np.testing.assert_allclose(o[k].cycle, TRUTH.sales_cycle_months, atol=4 * o[k].cycle_draws.std(0).max())


def test_every_number_says_where_it_came_from(written, cal):
    out, _, _ = written
    text = out.read_text()
    lines = text.splitlines()

    def comment_of(i: int) -> str:
        """The line's own comment and the comment block right above it."""
        above = []
        j = i - 1
        while j >= 0 and lines[j].lstrip().startswith("#"):
            above.insert(0, lines[j])
            j -= 1
        return " ".join(above + [lines[i]])

    for key in ("leads_per_month", "win_rate", "sales_cycle_months", "deal_size", "skill_sigma", "seasonality",
                "annual_growth", "attrition_by_tenure", "ramp", "quarter_end_pull"):
        found = [i for i, ln in enumerate(lines) if re.match(rf"\s*{key}:", ln)]
        assert found and all("# data:" in comment_of(i) for i in found), key
    assert re.search(r"quota_annual: \d+  # default: 12 x fitted bookings", text)
    assert re.search(r"annual: \[.*\]  # default: FY2024 default, FY2025 default", text)
    assert "interval" in text and "90% [" in text and "opportunities created 2022-01..2024-06" in text
    pulls = [i for i, ln in enumerate(lines) if re.match(r"\s*quarter_end_pull: [\d.e-]+", ln)]
    assert len(pulls) == 2 and all("wins due in a fiscal quarter's first two months" in comment_of(i) for i in pulls)
    assert "before the quarter-end pull" in text  # the cycle the kernel pulls
    assert set(cal.sources["source"]) == {"data", "default"}


def test_the_calibrated_scenario_validates_and_simulates(cal, written):
    """The file as written (named roster, pipeline file, actuals, uncertainty, quarter-end pull) loads and runs."""
    out, _, data = written
    sc = salessim.load_scenario(out)
    assert not sc.warnings, sc.warnings  # every open deal's owner is a named rep of its territory, or none
    ds = salessim.simulate(sc, trials=40, seed=0)
    roster = sum(len(t["reps"]) for t in data["territories"])
    names = [str(n) for n in ds["seat_name"].values[:roster]]
    assert names == [r["name"] for t in data["territories"] for r in t["reps"]]
    assert float(ds["bookings_from_pipeline"].sum()) > 0
    actual = ds["actual_bookings"].sel(fiscal_year=2024).values
    np.testing.assert_allclose(actual, [data["actuals"]["bookings"][k] for k in ds["territory"].values])
    drawn = {str(p).rsplit(".", 1)[0] if "sales_cycle_months." in str(p) else str(p) for p in ds["parameter"].values}
    assert set(data["uncertainty"]["parameters"]) <= drawn  # pmfs are stored per entry, <path>.<month>
    assert {"territories.East.quarter_end_pull", "territories.West.quarter_end_pull"} <= drawn
    sizes = ds["parameter_value"].sel(parameter="territories.East.deal_size.mean").values
    assert len(np.unique(sizes)) > 1  # trial k runs with posterior draw k


def test_same_seed_same_file_and_seeds_only_move_draws(export, cal):
    _, _, (opps, reps) = export
    again = calibrate(opps, reps, as_of=AS_OF, draws=DRAWS, seed=3, data=cal.data)
    assert again.to_yaml("p.csv") == cal.to_yaml("p.csv")
    other = calibrate(opps, reps, as_of=AS_OF, draws=DRAWS, seed=4, data=cal.data).scenario
    base = cal.scenario
    assert other["territories"][0]["win_rate"] == base["territories"][0]["win_rate"]
    assert other["uncertainty"] != base["uncertainty"]


def test_base_supplies_what_the_data_cannot(export, cal, tmp_path):
    base = yaml.safe_load((Path(salessim.__file__).parents[2] / "scenarios" / "baseline.yaml").read_text())
    base.update(start="2024-01", horizon_months=36)
    del base["pipeline_file"]  # the calibrated scenario brings its own open pipeline
    base["goal"] = {"annual": [5e6, 6e6, 7e6]}
    base["hiring_plan"] = [{"month": "2024-09", "territory": "East", "hires": 2},
                           {"month": "2024-03", "territory": "West", "hires": 1},  # before the new start
                           {"month": "2025-02", "territory": "Central", "hires": 1}]  # no such territory in the data
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    result = calibrate(None, None, as_of=AS_OF, base=path, draws=DRAWS, data=cal.data)
    s = result.scenario
    assert s["goal"]["annual"] == [5e6, 6e6]
    d = s["defaults"]
    assert d["quota_annual"] == 290_000 and d["commission"]["period"] == "quarter" and d["base_salary_annual"] == 50_000
    assert d["time_to_fill_months"] == [0.0, 0.3, 0.5, 0.2]
    assert d["skill_sigma"] != 0.25 and "attrition_annual" not in d  # fitted keys replace the base's
    assert s["market"]["downturn"]["probability_per_year"] == 0.15
    east = s["territories"][0]
    assert east["existing_arr"] == 3_000_000 and east["win_rate"] != 0.44
    assert s["hiring_plan"] == [{"month": "2024-09", "territory": "East", "hires": 2}]
    assert any("2 hiring-plan entries" in n for n in result.notes)
    sources = result.sources.set_index("key")["source"]
    assert sources["goal.annual"] == "base" and sources["defaults.quota_annual"] == "base"
    assert sources["territories.East.win_rate"] == "data"
    text = result.to_yaml("p.csv")
    assert "quota_annual: 290000  # base" in text


def test_without_roster_reps_are_recent_owners(export, tmp_path):
    opps, _, (opp_path, _) = export
    result = calibrate(opp_path, None, as_of="2024-06-15", draws=DRAWS)
    s = result.scenario
    assert s["defaults"]["attrition_annual"] == 0 and s["defaults"]["ramp"] == []
    sources = result.sources.set_index("key")
    assert sources.loc["defaults.attrition_annual", "source"] == "default"
    assert "no roster" in sources.loc["defaults.attrition_annual", "detail"]
    recent = opps[(opps["created"] >= "2024-03-01") & (opps["created"] <= "2024-05-31")]
    names = sorted(r["name"] for t in s["territories"] for r in t["reps"])
    assert names == sorted(recent["owner"].unique())
    assert "lower bound" in sources.loc["territories.East.reps", "detail"]
    assert any("mid-month" in n for n in result.notes)
    assert "Note: the as-of date 2024-06-15 is mid-month" in result.to_yaml()


def test_since_shortens_the_history(cal):
    short = calibrate(None, None, as_of=AS_OF, since="2023-01", draws=DRAWS, data=cal.data)
    assert short.fits.arrivals.counts.index[0] == "2023-01" and len(short.fits.arrivals.counts) == 18
    assert not short.fits.arrivals.seasonality_fitted  # 18 whole months: seasonality needs 24
    s = short.scenario
    assert s["market"]["seasonality"] == [1.0] * 12
    assert "seasonality needs 24" in short.sources.set_index("key").loc["market.seasonality", "detail"]
    assert "history 2023-01..2024-06 (18 whole months)" in short.to_yaml()


def test_reps_unknown_without_owners_roster_or_base(export, tmp_path):
    opps, _, _ = export
    anonymous = opps.drop(columns=["owner"]).assign(owner="")
    path, _ = write_export(anonymous, None, tmp_path / "anon")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["Opportunity Owner"])
    frame.to_csv(path, index=False)
    with pytest.raises(salessim.CrmError, match=r"cannot tell how many reps East, West have: no --reps roster was given"):
        calibrate(path, None, as_of=AS_OF, draws=DRAWS)
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({
        "name": "b", "start": "2024-07", "horizon_months": 18, "goal": {"annual": [1e6]},
        "defaults": {"quota_annual": 500_000, "reps": 4},
        "territories": [{"name": "East", "reps": 9, "initial_tenure_months": 30, "leads_per_month": 1,
                         "lead_to_opportunity": 1, "win_rate": 0.1, "deal_size": {"mean": 1}},
                        {"name": "West", "leads_per_month": 1, "lead_to_opportunity": 1, "win_rate": 0.1,
                         "deal_size": {"mean": 1}}]}))
    s = calibrate(path, None, as_of=AS_OF, base=base, draws=DRAWS).scenario
    assert [(t["reps"], t.get("initial_tenure_months")) for t in s["territories"]] == [(9, 30), (4, None)]


def test_inline_pipeline_and_empirical_deal_size(export, tmp_path):
    opps, reps, _ = export
    rng = np.random.default_rng(5)
    mix = opps.copy()
    east = mix["territory"] == "East"
    mix.loc[east, "amount"] = np.where(rng.random(east.sum()) < 0.7, rng.lognormal(np.log(4000), 0.15, east.sum()),
                                       rng.lognormal(np.log(60000), 0.15, east.sum()))
    paths = write_export(mix, reps, tmp_path / "mix")
    result = calibrate(*paths, as_of=AS_OF, draws=DRAWS)
    files = result.write(tmp_path / "inline.yaml", inline_pipeline=True)
    assert [f.name for f in files] == ["inline.yaml"]
    s = yaml.safe_load(files[0].read_text())
    assert "pipeline_file" not in s and len(s["pipeline"]) == len(result.pipeline)
    assert set(s["pipeline"][0]) <= {"id", "territory", "owner", "age_months", "amount", "win_probability"}
    east_size = s["territories"][0]["deal_size"]
    assert set(east_size) == {"empirical"} and len(east_size["empirical"]) > 50
    assert "territories.East.deal_size.mean" not in s["uncertainty"]["parameters"]
    assert set(s["territories"][1]["deal_size"]) == {"mean", "cv"}
    assert "fails its check" in files[0].read_text()


def test_writer_layout():
    doc = Section(note=["header"])
    doc.add("a", 1, "one")
    inner = Section()
    inner.add("b", [0.25, 0.75], "pmf")
    doc.add("m", inner)
    doc.add("rows", [{"id": "x: y", "n": 1}, {"id": "#2", "n": 2}], "flow rows")
    doc.add("long", {"samples": list(np.linspace(0, 1, 60))}, "many draws")
    terr = Section()
    terr.add("name", "East")
    terr.add("k", None, "null")
    doc.add("t", [terr])
    doc.trailer = ["the end"]
    text = render(doc)
    assert text.startswith("# header\na: 1  # one\n")
    assert yaml.safe_load(text) == doc.data()
    assert "  - {id: 'x: y', n: 1}" in text and "# many draws" in text and text.endswith("# the end\n")
    assert sum(1 for ln in text.splitlines() if ln.startswith("  ") and ln.strip()[0].isdigit()) >= 3  # long lists wrap


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15), min_size=1, max_size=4),
       st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=30))
def test_writer_round_trips_any_names_and_numbers(names, numbers):
    """Territory and rep names come from exports: whatever they hold, the YAML reads back the same."""
    doc = Section(note=["header " + " ".join(names)])
    terrs = []
    for name in names:
        t = Section()
        t.add("name", name, f"territory {name}")  # comments quote names too
        t.add("reps", [{"name": name, "tenure_months": 3}], f"roster of {name}")
        terrs.append(t)
    doc.add("territories", terrs)
    doc.add("samples", {"samples": numbers}, "draws")
    assert yaml.safe_load(render(doc)) == doc.data()


# --------------------------------------------------------------------------- fit report

def test_fit_report(cal, tmp_path):
    path = cal.write_report(tmp_path / "fit.html")
    html = path.read_text()
    assert html.count("<img src=\"data:image/png;base64,") == 6
    assert "<script" not in html and "http://" not in html and "https://" not in html
    for words in ("Fitted numbers", "Where each number comes from", "Problems found", "Stage values",
                  "Kaplan-Meier", "Nelson-Aalen", "QQ", "shrink"):
        assert words in html, words


# --------------------------------------------------------------------------- CLI

def test_cli_calibrate(export, tmp_path):
    _, _, (opps, reps) = export
    out = tmp_path / "plans" / "fy24 reforecast.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(opps), "--reps", str(reps), "--as-of", AS_OF, "-o", str(out),
                                       "--report", str(tmp_path / "fit.html"), "--problems", str(tmp_path / "p.csv"),
                                       "--draws", "20"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output and "win rate (90%)" in result.output
    assert "defaults to review" in result.output and "goal.annual" in result.output
    for name in ("fy24 reforecast.yaml", "fy24 reforecast-pipeline.csv"):
        assert (out.parent / name).exists()
    assert yaml.safe_load(out.read_text())["name"] == "fy24-reforecast"
    assert (tmp_path / "fit.html").exists()
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == ["file", "row", "column", "value", "problem", "action"]


def test_import_salessim_does_not_load_the_crm_package():
    """``salessim run`` starts fast: the CRM fits (scipy.stats, lifelines) load only when used."""
    code = ("import sys, salessim, salessim.cli; assert 'salessim.crm' not in sys.modules; "
            "assert 'lifelines' not in sys.modules; salessim.calibrate; assert 'salessim.crm' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_help_has_examples():
    result = CliRunner().invoke(main, ["calibrate", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--as-of 2024-12-31" in result.output
    for option in ("--reps", "--preset", "--map", "--base", "--report", "--problems", "--since", "--horizon",
                   "--draws", "--date-format", "--inline-pipeline"):
        assert option in result.output


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--as-of", "2024-03-31", "-o", "x.yaml"], "no such file: missing.csv"),
    ([str(DATA / "salesforce_opportunities.csv"), "--as-of", "someday", "-o", "x.yaml"], "--as-of 'someday' is not a month (YYYY-MM) or a date"),
    ([str(DATA / "salesforce_opportunities.csv"), "--as-of", "2024-03-31", "-o", "x.txt"], "ends in .yaml"),
    ([str(DATA / "salesforce_opportunities.csv"), "--as-of", "2024-03-31", "-o", "x.yaml", "--preset", "hubspot",
      "--map", "m.yaml"], "give --preset or --map, not both"),
    ([str(DATA / "salesforce_opportunities.csv"), "--reps", str(DATA / "salesforce_reps.csv"), "--as-of", "2024-03-31",
      "-o", "x.yaml"], "territory East: 5 won and 1 lost deals closed by 2024-03; the win-rate and cycle fits need"),
    ([str(DATA / "salesforce_opportunities.csv"), "--as-of", "2024-03-31", "-o", "x.yaml", "--preset", "hubspot"],
     "no column for opportunities.id (looked for 'Record ID'"),
    ([str(DATA / "salesforce_opportunities.csv"), "--as-of", "2020-01-31", "-o", "x.yaml"],
     "no opportunity was created on or before the as-of date 2020-01-31"),
    ([str(DATA / "hubspot_deals.csv"), "--as-of", "2024-03-31", "-o", "x.yaml", "--date-format", "%Y"],
     "too little usable data"),
])
def test_cli_errors_exit_2_and_write_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["calibrate", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_cli_ambiguous_dates_name_the_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = ["Opportunity ID,Opportunity Owner,Stage,Created Date,Close Date,Amount"]
    lines += [f"{i},Ann,Closed Won,0{m}/0{m + 1}/2024,0{m + 1}/0{m + 2}/2024,100" for i, m in enumerate(range(1, 7))]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["calibrate", "o.csv", "--as-of", "2024-12-31", "-o", "x.yaml"])
    assert result.exit_code == 2
    assert "o.csv: dates are ambiguous: 6 rows hold dates such as '01/02/2024' (row 2, column 'Created Date')" in result.output
    assert "rows 2, 3, 4, 5, 6, 7" in result.output and "--date-format" in result.output

"""``salessim optimize`` and ``salessim quotas`` through click's CliRunner: output, JSON,
-o scenarios that validate and keep the user's comments, and bad input (exit 2, one
message naming option, value and rule, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import salessim
from plan_helpers import busy_idle_dict, uneven_dict
from salessim.cli import main

FAST = ["-n", "200", "--min-trials", "50"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A folder with busyidle.yaml (with comments) and uneven.yaml; the CWD moved there."""
    text = "# a small plan\n" + yaml.safe_dump(busy_idle_dict(), sort_keys=False).replace(
        "horizon_months: 24", "horizon_months: 24   # two fiscal years")
    (tmp_path / "busyidle.yaml").write_text(text)
    (tmp_path / "uneven.yaml").write_text("# quotas test\n" + yaml.safe_dump(uneven_dict(), sort_keys=False))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_optimize_prints_steps_plans_and_the_block_and_writes_the_scenario(workdir):
    r = invoke("optimize", "busyidle.yaml", "--hires", "2", "--slots", "Busy,Idle:2027-01..2027-02",
               "--objective", "bookings[2028]", *FAST, "-o", "plan.yaml")
    assert r.exit_code == 0, r.output
    for text in ("optimize busyidle: 2 hires over 4 slots, objective bookings[2028]", "steps", "+1 Busy",
                 "scenario plan", "even spread", "optimized", "hiring_plan:", "wrote plan.yaml"):
        assert text in r.output
    written = (workdir / "plan.yaml").read_text()
    assert written.startswith("# a small plan\n") and "# two fiscal years" in written  # the user's comments stay
    assert "# added by salessim optimize: bookings[2028], seed 0" in written
    sc = salessim.load_scenario(workdir / "plan.yaml")
    assert sum(e.hires for e in sc.spec.hiring_plan) == 2 and {e.territory for e in sc.spec.hiring_plan} == {"Busy"}
    rest = {k: v for k, v in sc.data.items() if k != "hiring_plan"}
    assert rest == {k: v for k, v in busy_idle_dict().items() if k != "hiring_plan"}


def test_optimize_json_is_one_document(workdir):
    r = CliRunner().invoke(main, ["optimize", "busyidle.yaml", "--hires", "1", "--slots", "*:2027-01",
                                                  "--objective", "bookings[2028]", *FAST, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"JSON holds {c}"))
    assert doc["added"] == [{"month": "2027-01", "territory": "Busy", "hires": 1}]
    assert [p["name"] for p in doc["plans"]] == ["scenario plan", "even spread", "optimized"]
    assert doc["steps"][0]["action"] == "+1 Busy 2027-01" and doc["precision"]["max_trials"] == 200


def test_optimize_with_set_writes_the_override_too(workdir):
    r = invoke("optimize", "busyidle.yaml", "--hires", "1", "--slots", "*:2027-01", "--objective", "bookings[2028]",
               *FAST, "--set", "territories.Idle.reps=4", "-o", "plan.yaml")
    assert r.exit_code == 0, r.output
    sc = salessim.load_scenario(workdir / "plan.yaml")
    assert sc.territories[1].reps == 4 and "# a small plan" in (workdir / "plan.yaml").read_text()


@pytest.mark.parametrize("args, message", [
    (["--slots", "Nowhere:2027-01"], "--slots 'Nowhere:2027-01': no territory named 'Nowhere' (have Busy, Idle)"),
    (["--objective", "bookings[2031]"], "no fiscal year 2031 in busyidle"),
    (["--objective", "bookings[2028] sales"], "cannot read 'sales'"),
    (["--budget-cost", "lots"], "--budget-cost: expected a number, got 'lots'"),
    (["--budget-cost", "1e6"], "prices a hire at 0"),
    (["--hires", "0"], "Invalid value for '--hires': 0 is not in the range x>=1"),
    (["--tolerance", "2"], "--tolerance must be a fraction between 0 and 1"),
    (["--min-trials", "500"], "--min-trials must be a whole number between 20 and --trials (200), got 500"),
    (["-o", "plan.txt"], "--output plan.txt: a scenario file must end in .yaml or .yml"),
    (["-o", "sub"], "--output sub is a directory"),
])
def test_optimize_bad_input_exits_2_and_writes_nothing(workdir, args, message):
    (workdir / "sub").mkdir()
    (workdir / "old.yaml").write_text("an earlier file\n")
    before = snapshot(workdir)
    options = {"--hires": "2", "--slots": "*:2027-01", "--objective": "bookings[2028]", "-n": "200",
               "--min-trials": "50", "-o": "old.yaml"}
    options.update(dict(zip(args[::2], args[1::2])))
    if "--budget-cost" in options:
        del options["--hires"]
    r = invoke("optimize", "busyidle.yaml", *[x for kv in options.items() for x in kv])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert snapshot(workdir) == before


def test_missing_scenario_file_exits_2(workdir):
    r = invoke("optimize", "nope.yaml", "--hires", "1", "--slots", "*:2027-01", "--objective", "bookings[2028]")
    assert r.exit_code == 2 and "no such file: nope.yaml" in r.output


def test_quotas_prints_both_quotas_and_writes_them(workdir):
    r = invoke("quotas", "uneven.yaml", "--rule", "equal-chance", "--over-assign", "1.1", "--fiscal-year", "2027",
               "-n", "300", "-o", "q.yaml")
    assert r.exit_code == 0, r.output
    for text in ("quotas uneven FY2027, rule equal-chance", "every full-tenure rep's chance of making quota",
                 "territories", "now", "proposed", "reps", "hire:2027-05:", "wrote q.yaml"):
        assert text in r.output
    written = (workdir / "q.yaml").read_text()
    assert written.startswith("# quotas test\n")
    sc = salessim.load_scenario(workdir / "q.yaml")
    high, low = (t.quota_annual for t in sc.territories)
    assert high > 250_000 > low
    doc = json.loads(CliRunner().invoke(
        main, ["quotas", "uneven.yaml", "-n", "300", "--format", "json", "--rule", "flat"]).stdout)
    assert doc["rule"] == "flat" and doc["quotas"]["High"] == doc["quotas"]["Low"]
    strict = json.loads(CliRunner().invoke(main, ["quotas", "uneven.yaml", "-n", "300", "--format", "json"]).stdout,
                        parse_constant=lambda c: pytest.fail(f"JSON holds {c}"))  # no NaN or Infinity
    assert strict["seats"][0]["attainment"][0] is None or strict["seats"][0]["attainment"][0] >= 0
    assert doc["target"] == pytest.approx(1.1 * 1_900_000)


@pytest.mark.parametrize("args, message", [
    (["--rule", "fair"], "Invalid value for '--rule': 'fair' is not one of 'equal-chance', 'capacity', 'flat'"),
    (["--over-assign", "0"], "--over-assign must be a factor above 0 and at most 5"),
    (["--fiscal-year", "2031"], "--fiscal-year 2031: not a full fiscal year of uneven (have 2027)"),
    (["-o", "sub"], "--output sub is a directory"),
])
def test_quotas_bad_input_exits_2_and_writes_nothing(workdir, args, message):
    (workdir / "sub").mkdir()
    (workdir / "old.yaml").write_text("an earlier file\n")
    before = snapshot(workdir)
    out = [] if "-o" in args else ["-o", "old.yaml"]
    r = invoke("quotas", "uneven.yaml", "-n", "50", *args, *out)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert snapshot(workdir) == before


def test_help_shows_examples():
    for cmd in ("optimize", "quotas"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Example" in r.output and f"salessim {cmd} scenarios/baseline.yaml" in r.output

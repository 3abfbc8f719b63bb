"""The command line: ``run``, ``validate``, ``summary`` through click's CliRunner.

Every error a user can cause exits with status 2, prints one message without a
traceback, and writes nothing (an earlier results file at the target stays as it was).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.summary import COLUMNS

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
TRIALS = "50"
HEADER = "metric,period,territory,unit,mean,se,p10,p50,p90,trials,section"
SENTINEL = b"an earlier results file that must survive\n"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A working folder holding baseline.yaml (and the pipeline file it names), with the CWD moved there."""
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    shutil.copy(BASELINE.with_name("baseline_pipeline.csv"), tmp_path / "baseline_pipeline.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def ok(result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``root``."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else None
    return out


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> Path:
    """A small results file made through the library (seed 3, 40 trials)."""
    path = tmp_path_factory.mktemp("res") / "baseline.h5"
    ds = salessim.simulate(salessim.load_scenario(BASELINE), trials=40, seed=3)
    salessim.save_results(ds, path)
    return path


# --------------------------------------------------------------------------- run


def test_run_writes_default_results_file_and_prints_summary(workdir):
    result = invoke("run", "baseline.yaml", "-n", TRIALS)
    ok(result)
    out = workdir / "results" / "baseline.h5"
    assert out.is_file()
    assert sorted(p.name for p in (workdir / "results").iterdir()) == ["baseline.h5"]  # no temp file left
    ds = salessim.open_results(out)
    assert int(ds.attrs["trials"]) == 50 and ds.sizes["trial"] == 50
    assert int(ds.attrs["seed"]) == 0  # default seed
    text = result.output
    assert "baseline: 50 trials, seed 0" in text
    for word in ("bookings", "p_goal", "goal_attainment", "headcount_end", "FY2027", "FY2029", "East", "West", "Central"):
        assert word in text
    assert f"results saved to {Path('results') / 'baseline.h5'}" in text
    assert "Traceback" not in text


def test_run_summary_numbers_match_the_file(workdir):
    result = invoke("run", "baseline.yaml", "-n", TRIALS, "--format", "csv")
    ok(result)
    ds = salessim.open_results(workdir / "results" / "baseline.h5")
    printed = pd.read_csv(io.StringIO(result.stdout))
    expected = salessim.summarize(ds)
    pd.testing.assert_frame_equal(printed, pd.read_csv(io.StringIO(expected.to_csv(index=False))))


def test_run_output_option(workdir):
    result = invoke("run", "baseline.yaml", "-n", TRIALS, "-o", "out/planB.h5")
    ok(result)
    assert (workdir / "out" / "planB.h5").is_file()
    assert not (workdir / "results").exists()
    assert "results saved to out/planB.h5" in result.output
    result = invoke("run", "baseline.yaml", "-n", TRIALS, "--output", "other.h5")
    ok(result)
    assert (workdir / "other.h5").is_file()


def test_run_replaces_an_existing_results_file(workdir):
    (workdir / "results").mkdir()
    (workdir / "results" / "baseline.h5").write_bytes(SENTINEL)
    ok(invoke("run", "baseline.yaml", "-n", TRIALS))
    ds = salessim.open_results(workdir / "results" / "baseline.h5")
    assert ds.sizes["trial"] == 50


def test_run_seed(workdir):
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "--seed", "7", "-o", "a.h5"))
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "--seed", "7", "-o", "b.h5"))
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "--seed", "8", "-o", "c.h5"))
    a, b, c = (salessim.open_results(workdir / f"{x}.h5") for x in "abc")
    assert int(a.attrs["seed"]) == 7 and int(c.attrs["seed"]) == 8
    for name in a.data_vars:
        xr.testing.assert_identical(a[name], b[name])
    assert not np.array_equal(a["bookings"].values, c["bookings"].values)


def test_run_trials_option_long_form(workdir):
    ok(invoke("run", "baseline.yaml", "--trials", "7", "-o", "t.h5"))
    assert salessim.open_results(workdir / "t.h5").sizes["trial"] == 7


def test_run_set_changes_the_result(workdir):
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "-o", "base.h5"))
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "-o", "low.h5", "--set", "territories.East.win_rate=0.1"))
    base = salessim.open_results(workdir / "base.h5")
    low = salessim.open_results(workdir / "low.h5")
    assert salessim.scenario_of(low).territories[0].win_rate == 0.1
    assert salessim.scenario_of(base).territories[0].win_rate == 0.44
    east_base = float(base["bookings"].sel(territory="East").sum())
    east_low = float(low["bookings"].sel(territory="East").sum())
    assert east_low < 0.5 * east_base


def test_run_several_sets_and_list_values(workdir):
    result = invoke("run", "baseline.yaml", "-n", "5", "-o", "s.h5",
                    "--set", "goal.annual=[9e6, 11e6, 13e6]",
                    "--set", "territories.1.reps=14",
                    "--set", "territories.West.initial_tenure_months=12",
                    "--set", "market.downturn=null")
    ok(result)
    ds = salessim.open_results(workdir / "s.h5")
    np.testing.assert_array_equal(ds["goal"].values, [9e6, 11e6, 13e6])
    sc = salessim.scenario_of(ds)
    assert sc.territories[1].reps == 14
    assert sc.spec.market.downturn is None
    assert int(ds["downturn"].sum()) == 0


def test_run_format_json(workdir):
    result = invoke("run", "baseline.yaml", "-n", TRIALS, "--seed", "4", "--format", "json")
    ok(result)
    payload = json.loads(result.stdout)  # nothing but JSON on stdout
    assert payload["seed"] == 4 and payload["trials"] == 50
    assert payload["scenario"] == "baseline" and payload["currency"] == "USD"
    table = salessim.summarize(salessim.open_results(workdir / "results" / "baseline.h5"))
    rows = payload["rows"]
    assert len(rows) == len(table)
    assert all(list(row) == COLUMNS for row in rows)
    for row, (_, expected) in zip(rows, table.iterrows()):
        assert (row["metric"], row["period"], row["territory"]) == (expected["metric"], expected["period"], expected["territory"])
        # pandas' to_json keeps 10 decimal places
        assert row["mean"] == pytest.approx(expected["mean"], rel=1e-9, abs=1e-9)
        assert row["trials"] == expected["trials"]


def test_run_format_csv(workdir):
    result = invoke("run", "baseline.yaml", "-n", TRIALS, "--format", "csv")
    ok(result)
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == HEADER.split(",")
    expected = salessim.summarize(salessim.open_results(workdir / "results" / "baseline.h5"))
    assert len(table) == len(expected)
    assert set(table["metric"]) >= {"bookings", "p_goal", "goal_attainment", "pipeline_end"}


def test_run_chunk_trials_does_not_change_results(workdir):
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "-o", "a.h5"))
    ok(invoke("run", "baseline.yaml", "-n", TRIALS, "-o", "b.h5", "--chunk-trials", "7"))
    a, b = salessim.open_results(workdir / "a.h5"), salessim.open_results(workdir / "b.h5")
    for name in a.data_vars:
        xr.testing.assert_identical(a[name], b[name])


# --------------------------------------------------------------------------- validate


def test_validate_one_file(workdir):
    result = invoke("validate", "baseline.yaml")
    ok(result)
    assert result.output.strip() == (
        "ok: baseline.yaml (baseline: 3 territories, 35 seats, 36 months from 2027-01, 3 full fiscal years, "
        "451 open deals)"
    )
    assert snapshot(workdir) == {"baseline.yaml": BASELINE.read_bytes(),  # validate writes nothing
                                 "baseline_pipeline.csv": BASELINE.with_name("baseline_pipeline.csv").read_bytes()}


def test_validate_several_files(workdir):
    text = BASELINE.read_text(encoding="utf-8").replace("name: baseline", "name: other")
    (workdir / "other.yaml").write_text(text, encoding="utf-8")
    result = invoke("validate", "baseline.yaml", "other.yaml")
    ok(result)
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ok: baseline.yaml (baseline:")
    assert lines[1].startswith("ok: other.yaml (other:")


def test_validate_with_an_invalid_file_lists_its_problems(workdir):
    text = BASELINE.read_text(encoding="utf-8")
    bad = text.replace("win_rate: 0.333", "win_rate: 1.4").replace("currency: USD", "currency: usd")
    (workdir / "bad.yaml").write_text(bad, encoding="utf-8")
    (workdir / "bad2.yaml").write_text("name: [\n", encoding="utf-8")
    result = invoke("validate", "baseline.yaml", "bad.yaml", "bad2.yaml")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    out = result.output
    assert "ok: baseline.yaml" in out
    assert "ok: bad.yaml" not in out
    assert "bad.yaml: 2 problems" in out
    assert "territories[1].win_rate: must be between 0 and 1, got 1.4" in out
    assert "currency:" in out and "'usd'" in out
    assert "bad2.yaml" in out and "not valid YAML" in out
    assert out.count("Error:") == 1
    assert "Traceback" not in out


def test_validate_with_set(workdir):
    ok(invoke("validate", "baseline.yaml", "--set", "territories.East.win_rate=0.5"))
    result = invoke("validate", "baseline.yaml", "--set", "territories.East.win_rate=1.5")
    assert result.exit_code == 2
    assert "territories[0].win_rate" in result.output and "1.5" in result.output


def test_validate_needs_a_file(workdir):
    result = invoke("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


# --------------------------------------------------------------------------- summary


def test_summary_table(results_file):
    result = invoke("summary", str(results_file))
    ok(result)
    out = result.output
    assert "baseline: 40 trials, seed 3" in out
    for word in ("bookings", "p_goal", "FY2028", "pipeline_end", "Central"):
        assert word in out
    assert "results saved" not in out


def test_summary_csv(results_file):
    result = invoke("summary", str(results_file), "--format", "csv")
    ok(result)
    assert result.stdout.splitlines()[0] == HEADER
    expected = salessim.summarize(salessim.open_results(results_file))
    assert result.stdout == expected.to_csv(index=False)


def test_summary_json(results_file):
    result = invoke("summary", str(results_file), "--format", "json")
    ok(result)
    payload = json.loads(result.stdout)
    assert (payload["seed"], payload["trials"], payload["scenario"]) == (3, 40, "baseline")
    expected = salessim.summarize(salessim.open_results(results_file))
    assert len(payload["rows"]) == len(expected)
    assert [r["metric"] for r in payload["rows"]] == list(expected["metric"])
    assert [r["p50"] for r in payload["rows"] if r["metric"] == "bookings"] == pytest.approx(
        list(expected.loc[expected["metric"] == "bookings", "p50"]))


def test_summary_does_not_write(results_file):
    before = snapshot(results_file.parent)
    ok(invoke("summary", str(results_file)))
    assert snapshot(results_file.parent) == before


def test_summary_rejects_unknown_format(results_file):
    result = invoke("summary", str(results_file), "--format", "xml")
    assert result.exit_code == 2
    assert "xml" in result.output


# --------------------------------------------------------------------------- help


COMMANDS = {"run": main.commands["run"], "validate": main.commands["validate"], "summary": main.commands["summary"]}


@pytest.mark.parametrize("name", ["run", "validate", "summary"])
def test_help_explains_every_option_with_an_example(name):
    cmd = COMMANDS[name]
    result = invoke(name, "--help")
    ok(result)
    text = result.output
    assert "Example" in text
    options = [p for p in cmd.params if p.param_type_name == "option"]
    assert options, name
    for opt in options:
        for flag in opt.opts:
            assert flag in text, f"{flag} missing from `salessim {name} --help`"
        assert opt.help and "Example" in opt.help, f"{opt.opts} has no example in its help"
    assert invoke(name, "-h").output == text


def test_run_help_names_each_option():
    text = invoke("run", "--help").output
    for flag in ("-n", "--trials", "--seed", "-o", "--output", "--set", "--format", "--chunk-trials", "PATH=VALUE"):
        assert flag in text


def test_main_help_and_version():
    result = invoke("--help")
    ok(result)
    assert "Example" in result.output
    for name in ("run", "validate", "summary"):
        assert name in result.output
    version = invoke("--version")
    ok(version)
    assert salessim.__version__ in version.output


# --------------------------------------------------------------------------- user errors


def _write_bad_yaml(root: Path) -> None:
    (root / "bad.yaml").write_text("name: [unclosed\n", encoding="utf-8")


def _write_invalid(root: Path) -> None:
    text = BASELINE.read_text(encoding="utf-8").replace("win_rate: 0.44", "win_rate: 1.4")
    (root / "invalid.yaml").write_text(text, encoding="utf-8")


def _mkdir(name: str):
    def setup(root: Path) -> None:
        (root / name).mkdir(parents=True, exist_ok=True)
    return setup


def _default_target_is_dir(root: Path) -> None:
    (root / "results" / "baseline.h5").unlink()
    (root / "results" / "baseline.h5").mkdir()
    (root / "results" / "baseline.h5" / "keep.txt").write_text("x")


def _plain_hdf5(root: Path) -> None:
    with h5py.File(root / "plain.h5", "w") as f:
        f["x"] = np.arange(3)


def _netcdf_not_salessim(root: Path) -> None:
    xr.Dataset({"a": ("x", np.arange(3.0))}, attrs={"title": "other"}).to_netcdf(root / "other.h5", engine="h5netcdf")


def _noop(root: Path) -> None:
    pass


USER_ERRORS = [
    ("missing-scenario", _noop, ["run", "missing.yaml", "-n", TRIALS, "-o", "out.h5"], ["missing.yaml", "no such file"]),
    ("scenario-is-directory", _mkdir("adir"), ["run", "adir", "-n", TRIALS, "-o", "out.h5"], ["adir", "directory"]),
    ("bad-yaml", _write_bad_yaml, ["run", "bad.yaml", "-n", TRIALS, "-o", "out.h5"], ["bad.yaml", "not valid YAML"]),
    ("invalid-scenario", _write_invalid, ["run", "invalid.yaml", "-n", TRIALS], ["territories[0].win_rate", "1.4"]),
    ("set-without-equals", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.East.win_rate"], ["PATH=VALUE", "'territories.East.win_rate'"]),
    ("set-without-path", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "=0.5"], ["PATH=VALUE", "'=0.5'"]),
    ("set-unknown-territory", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.North.win_rate=0.3"], ["'North'", "East, West, Central"]),
    ("set-index-out-of-range", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.5.win_rate=0.3"], ["index 5", "out of range"]),
    ("set-unknown-key", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.East.win_rat=0.3"], ["win_rat", "did you mean 'win_rate'"]),
    ("set-invalid-value", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.East.win_rate=1.4"], ["territories[0].win_rate", "1.4"]),
    ("set-unreadable-value", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "territories.East.win_rate=[1,"], ["--set territories.East.win_rate", "'[1,'"]),
    ("set-through-scalar", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--set", "name.x=1"], ["name is a value"]),
    ("trials-zero", _noop, ["run", "baseline.yaml", "-n", "0"], ["'-n' / '--trials'", "0"]),
    ("trials-negative", _noop, ["run", "baseline.yaml", "-n", "-5"], ["--trials", "-5"]),
    ("trials-not-a-number", _noop, ["run", "baseline.yaml", "-n", "many"], ["--trials", "many"]),
    ("seed-negative", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--seed", "-1"], ["--seed", "-1"]),
    ("seed-too-large", _noop, ["run", "baseline.yaml", "-n", TRIALS, "--seed", str(2**63)], ["--seed", str(2**63)]),
    ("output-is-directory", _mkdir("somedir"), ["run", "baseline.yaml", "-n", TRIALS, "-o", "somedir"], ["somedir", "directory"]),
    ("default-output-is-directory", _default_target_is_dir, ["run", "baseline.yaml", "-n", TRIALS], [str(Path("results") / "baseline.h5"), "directory"]),
    ("summary-missing-file", _noop, ["summary", "nope.h5"], ["nope.h5", "no such"]),
    ("summary-directory", _mkdir("adir"), ["summary", "adir"], ["adir", "directory"]),
    ("summary-not-hdf5", _noop, ["summary", "baseline.yaml"], ["baseline.yaml", "HDF5"]),
    ("summary-hdf5-not-salessim", _plain_hdf5, ["summary", "plain.h5"], ["plain.h5", "not salessim results"]),
    ("summary-netcdf-not-salessim", _netcdf_not_salessim, ["summary", "other.h5"], ["other.h5", "not salessim results"]),
    ("validate-missing-file", _noop, ["validate", "missing.yaml"], ["missing.yaml", "no such file"]),
    ("validate-invalid", _write_invalid, ["validate", "invalid.yaml"], ["territories[0].win_rate", "1.4"]),
]


@pytest.mark.parametrize(("setup", "args", "fragments"), [pytest.param(*c[1:], id=c[0]) for c in USER_ERRORS])
def test_user_error_exits_2_with_one_message_and_writes_nothing(workdir, setup, args, fragments):
    (workdir / "results").mkdir()
    (workdir / "results" / "baseline.h5").write_bytes(SENTINEL)  # the default target already exists
    (workdir / "out.h5").write_bytes(SENTINEL)  # and so does the -o target
    setup(workdir)
    before = snapshot(workdir)
    result = invoke(*args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # a handled error, not a crash
    out = result.output
    assert "Traceback" not in out
    assert out.count("Error:") == 1, out
    for fragment in fragments:
        assert fragment in out, f"{fragment!r} not in {out!r}"
    assert snapshot(workdir) == before  # nothing written, earlier files byte-identical


def _salessim_exe() -> list[str]:
    exe = Path(sys.executable).parent / "salessim"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "salessim.cli"]


def test_user_error_in_a_real_process_has_no_traceback(workdir):
    _write_invalid(workdir)
    proc = subprocess.run([*_salessim_exe(), "run", "invalid.yaml", "-n", "5"], capture_output=True, text=True,
                          cwd=workdir, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "territories[0].win_rate: must be between 0 and 1, got 1.4" in proc.stderr
    assert proc.stdout == ""
    assert not (workdir / "results").exists()


def test_summary_of_plain_hdf5_prints_only_the_error(workdir):
    _plain_hdf5(workdir)
    proc = subprocess.run([*_salessim_exe(), "summary", "plain.h5"], capture_output=True, text=True,
                          cwd=workdir, timeout=120)
    assert proc.returncode == 2
    assert "not salessim results" in proc.stderr
    assert "Warning" not in proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip().count("\n") == 0  # one line: the error

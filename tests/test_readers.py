"""Edited, incomplete or inconsistent results files (issue 14, item 7): one message, exit 2.

0.1.0 answered a results file whose ``scenario`` attribute was edited, or that lacked
``seed``, ``trials`` or ``bookings``, with ScenarioError, KeyError or ValueError
tracebacks in ``summary``, ``report`` and ``export``. Every reader now goes through one
check (``results.check_results``), for in-memory and chunked reading alike.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

import salessim
from salessim import ResultsError
from salessim.cli import main
from salessim.results import check_results, scenario_of
from salessim.stream import summarize_file

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"

@pytest.fixture
def good(baseline_results) -> Path:
    return baseline_results


def _edit_attr(name, value):
    def edit(f: h5py.File) -> None:
        if value is None:
            del f.attrs[name]
        else:
            f.attrs[name] = value
    return edit


def _delete(name):
    def edit(f: h5py.File) -> None:
        del f[name]
    return edit


def _scenario_text(old: str, new: str):
    def edit(f: h5py.File) -> None:
        text = f.attrs["scenario"]
        text = text.decode() if isinstance(text, bytes) else text
        assert old in text
        f.attrs["scenario"] = text.replace(old, new)
    return edit


EDITS = [
    ("scenario-not-yaml", _edit_attr("scenario", "name: [unclosed"), "not valid"),
    ("scenario-invalid", _scenario_text("win_rate: 0.44", "win_rate: 1.44"), "territories[0].win_rate"),
    ("scenario-bomb", _edit_attr("scenario", "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdef", "bcdefg"))), "more than 500,000"),
    ("scenario-other-horizon", _scenario_text("horizon_months: 36", "horizon_months: 37"), "file's months (36)"),
    ("scenario-renamed-territory", _scenario_text("East", "Eest"), "file's territories (['East'"),
    ("scenario-more-reps", _scenario_text("reps: 8", "reps: 9"), "file's seats (35)"),
    ("no-seed", _edit_attr("seed", None), "'seed'"),
    ("no-trials", _edit_attr("trials", None), "'trials'"),
    ("trials-wrong", _edit_attr("trials", 99), "says 99"),
    ("seed-text", _edit_attr("seed", "zero"), "'seed' attribute must be a whole number"),
    ("no-bookings", _delete("bookings"), "lacks bookings"),
    ("no-attainment", _delete("attainment"), "lacks attainment"),
]
COMMANDS = [
    ("summary", lambda p, out: ["summary", p]),
    ("summary-csv", lambda p, out: ["summary", p, "--format", "csv"]),
    ("report", lambda p, out: ["report", p, "-o", out / "r.html"]),
    ("export", lambda p, out: ["export", p, "-o", out / "r.xlsx"]),
    ("export-csv", lambda p, out: ["export", p, "--format", "csv", "-o", out / "t"]),
    ("plot", lambda p, out: ["plot", p, "--kind", "funnel", "-o", out / "f.png"]),
]


def _edited(good: Path, tmp_path: Path, edit) -> Path:
    path = tmp_path / "edited.h5"
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


@pytest.fixture(params=[pytest.param(e, id=e[0]) for e in EDITS])
def edited(request, good, tmp_path) -> tuple[Path, str]:
    _, edit, fragment = request.param
    return _edited(good, tmp_path, edit), fragment


def _one_message(args: list, path: Path, fragment: str, out: Path) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and result.output.count("Error:") == 1
    assert fragment in result.output and str(path) in result.output
    assert len(result.output) < 1_000
    assert not out.exists()  # nothing written


def test_summary_gives_one_message_for_every_edit(edited, tmp_path):
    path, fragment = edited
    _one_message(["summary", path], path, fragment, tmp_path / "out")


@pytest.mark.parametrize("edit", [pytest.param(e, id=e[0]) for e in EDITS if e[0] in ("scenario-invalid", "no-seed", "no-bookings")])
@pytest.mark.parametrize("command", [pytest.param(c[1], id=c[0]) for c in COMMANDS])
def test_every_reader_gives_one_message(good, edit, command, tmp_path):
    _, change, fragment = edit
    path = _edited(good, tmp_path, change)
    out = tmp_path / "out"
    _one_message(command(path, out), path, fragment, out)


@pytest.mark.parametrize("edit", [pytest.param(e, id=e[0]) for e in EDITS if e[0] in ("scenario-bomb", "trials-wrong", "no-attainment")])
def test_both_readers_share_the_check(good, edit, tmp_path):
    _, change, fragment = edit
    path = _edited(good, tmp_path, change)
    with pytest.raises(ResultsError, match=None) as eager:
        salessim.open_results(path)
    with pytest.raises(ResultsError) as chunked:
        summarize_file(path)
    assert fragment in str(eager.value) and str(eager.value) == str(chunked.value)


def test_a_good_file_passes(good):
    ds = salessim.open_results(good)
    check_results(ds, good)
    table, attrs = summarize_file(good)
    assert len(table) and attrs["trials"] == 4


def test_scenario_of_an_invalid_attribute_is_a_results_error(good):
    ds = salessim.open_results(good)
    ds.attrs["scenario"] = "name: x\n"
    with pytest.raises(ResultsError, match="scenario stored in the file is not valid"):
        scenario_of(ds)
    del ds.attrs["scenario"]
    with pytest.raises(ResultsError, match="no 'scenario' attribute"):
        scenario_of(ds)


def test_summary_of_a_what_if_output_is_one_message(tmp_path):
    """0.1.0 raised KeyError: 'bookings'."""
    sc = salessim.load_scenario(BASELINE)
    salessim.save_results(salessim.compare([sc, sc.with_overrides({"territories.East.reps": 9})], trials=4), tmp_path / "ab.h5")
    result = CliRunner().invoke(main, ["summary", str(tmp_path / "ab.h5")])
    assert result.exit_code == 2 and "is a compare output, not the results of one simulation" in result.output


def test_a_pipe_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.h5")
    result = CliRunner().invoke(main, ["summary", str(tmp_path / "pipe.h5")])  # 0.1.0 waited for a writer
    assert result.exit_code == 2 and "not a regular file" in result.output

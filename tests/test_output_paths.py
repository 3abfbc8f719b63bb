"""Where outputs may go (issue 14, item 2): never onto an input, never onto a non-file.

0.1.0 overwrote the scenario with HDF5 (``run s.yaml -o s.yaml``), replaced the results
with HTML (``report r.h5 -o r.h5``), replaced ``/dev/null`` with a file when run as root,
and wrote a file named ``newdir`` for ``-o newdir/``. One rule now covers every command
with ``-o`` (``cli.helpers.output_path``), and the library refuses non-regular targets.
Devices are represented here by FIFOs in a temporary folder: a test must never risk
``/dev/null`` on a shared machine.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import salessim
from conftest import copy_scenario
from salessim._files import write_atomic
from salessim.cli import main

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture
def work(tmp_path, monkeypatch, baseline_results) -> Path:
    copy_scenario(BASELINE, tmp_path / "s.yaml")
    copy_scenario(BASELINE, tmp_path / "b.yaml")
    shutil.copy(baseline_results, tmp_path / "r.h5")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(root: Path) -> dict[str, object]:
    out = {}
    for p in sorted(root.rglob("*")):
        mode = p.lstat().st_mode
        out[str(p.relative_to(root))] = p.read_bytes() if stat.S_ISREG(mode) else stat.S_IFMT(mode)
    return out


def refused(work: Path, *args: str, fragments: tuple[str, ...]) -> str:
    before = snapshot(work)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and result.output.count("Error:") == 1
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert snapshot(work) == before  # nothing written, nothing replaced
    return result.output


INPUT_CASES = [
    ("run", ["run", "s.yaml", "-n", "3", "-o", "s.yaml"], "s.yaml"),
    ("run-through-dot", ["run", "s.yaml", "-n", "3", "-o", "./sub/../s.yaml"], "s.yaml"),
    ("report", ["report", "r.h5", "-o", "r.h5"], "r.h5"),
    ("plot", ["plot", "r.h5", "-o", "r.h5"], "r.h5"),
    ("export-xlsx", ["export", "r.h5", "-o", "r.h5"], "r.h5"),
    ("compare", ["compare", "s.yaml", "b.yaml", "-n", "3", "-o", "b.yaml"], "b.yaml"),
    ("sweep", ["sweep", "s.yaml", "--vary", "territories.East.reps=2,3", "-n", "3", "-o", "s.yaml"], "s.yaml"),
    ("solve", ["solve", "s.yaml", "--lever", "territories.East.reps", "--range", "1:3", "--target",
               "bookings[2027] >= 1", "-n", "3", "-o", "s.yaml"], "s.yaml"),
    ("sensitivity", ["sensitivity", "s.yaml", "-n", "3", "-o", "s.yaml"], "s.yaml"),
]


@pytest.mark.parametrize("args, name", [pytest.param(a, n, id=i) for i, a, n in INPUT_CASES])
def test_output_onto_an_input_is_refused(work, args, name):
    (work / "sub").mkdir()
    refused(work, *args, fragments=("is the input", name))


def test_an_input_reached_through_a_link_is_refused(work):
    os.link(work / "r.h5", work / "hard.h5")
    os.symlink(work / "s.yaml", work / "soft.yaml")
    refused(work, "plot", "hard.h5", "-o", "r.h5", fragments=("is the input hard.h5",))
    refused(work, "run", "s.yaml", "-n", "3", "-o", "soft.yaml", fragments=("is the input s.yaml",))


def test_an_export_folder_whose_table_is_an_input_is_refused(work):
    (work / "tables").mkdir()
    os.link(work / "r.h5", work / "tables" / "summary.csv")
    refused(work, "export", "tables/summary.csv", "--format", "csv", "-o", "tables",
            fragments=("tables/summary.csv is the input",))


@pytest.mark.parametrize("args", [
    ["run", "s.yaml", "-n", "3", "-o", "pipe"],
    ["plot", "r.h5", "-o", "pipe.png"],
    ["report", "r.h5", "-o", "pipe"],
    ["export", "r.h5", "-o", "pipe.xlsx"],
    ["compare", "s.yaml", "b.yaml", "-n", "3", "-o", "pipe"],
])
def test_output_onto_a_device_or_pipe_is_refused(work, args):
    os.mkfifo(work / args[-1])
    refused(work, *args, fragments=("is not a regular file",))


def test_the_library_refuses_to_replace_a_pipe_or_a_folder(work):
    ds = salessim.open_results(work / "r.h5")
    os.mkfifo(work / "pipe.h5")
    with pytest.raises(OSError, match="not a regular file"):
        salessim.save_results(ds, work / "pipe.h5")
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(work / "pipe.h5", lambda tmp: tmp.write_bytes(b"x"))
    (work / "folder.h5").mkdir()
    with pytest.raises(IsADirectoryError):
        salessim.save_results(ds, work / "folder.h5")
    assert stat.S_ISFIFO(os.lstat(work / "pipe.h5").st_mode) and (work / "folder.h5").is_dir()
    assert not [p for p in work.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("args, written", [
    (["run", "s.yaml", "-n", "3", "-o", "newdir/"], "newdir/baseline.h5"),
    (["report", "r.h5", "-o", "out/"], "out/r.html"),
    (["plot", "r.h5", "--kind", "headcount", "-o", "pics/"], "pics/r-headcount.png"),
    (["export", "r.h5", "-o", "x/"], "x/r.xlsx"),
    (["export", "r.h5", "--format", "csv", "-o", "tables/"], "tables/summary.csv"),
    (["compare", "s.yaml", "b.yaml", "-n", "3", "-o", "ab/"], "ab/compare.h5"),
])
def test_a_trailing_slash_writes_the_default_name_inside(work, monkeypatch, args, written):
    import salessim.export
    import salessim.plot
    import salessim.report

    def touch(path: Path) -> list[Path]:  # the writers are tested elsewhere; here only the path matters
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(b"x")
        return [Path(path)]

    monkeypatch.setattr(salessim.report, "write_report", lambda ds, out, source=None: touch(out))
    monkeypatch.setattr(salessim.plot, "save", lambda data, kind, out, **kw: touch(out))
    if args[-2:] == ["-o", "x/"]:
        monkeypatch.setattr(salessim.export, "export", lambda ds, out, fmt: touch(out))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (work / written).is_file()
    assert not (work / args[-1].rstrip("/")).is_file()


def test_an_existing_folder_without_the_slash_is_refused_with_the_way_out(work):
    (work / "somedir").mkdir()
    refused(work, "run", "s.yaml", "-n", "3", "-o", "somedir",
            fragments=("is a directory", "somedir/baseline.h5", "end the path with /"))


def test_a_file_in_place_of_a_folder_is_refused(work):
    refused(work, "report", "r.h5", "-o", "s.yaml/report.html", fragments=("s.yaml is a file, not a folder",))

"""Never lose a file: full disks, Ctrl-C and kill -9 against real processes (issue 14, items 1, 6, 8).

Signals are real: the CLI runs in a subprocess and gets SIGINT or SIGKILL. Full disks are a
small tmpfs (skipped, saying why, where it cannot be mounted) and an ``OSError(ENOSPC)``
injected into the writer.
"""

from __future__ import annotations

import errno
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
from salessim import _files
from salessim.cli import main

from helpers_model import strip_attrs

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios/baseline.yaml")
GOOD = b"\x89HDF\r\n\x1a\n an earlier good file"


def _cli(*args):
    return CliRunner().invoke(main, list(args))


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs (root only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {exc}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# ------------------------------------------------------------------------- full disk


@pytest.mark.parametrize("extra", [[], ["--stream", "--chunk-trials", "500"]], ids=["plain", "stream"])
def test_run_on_a_full_tmpfs_exits_2_and_keeps_the_previous_file(small_disk, extra):
    target = small_disk / "r.h5"
    target.write_bytes(GOOD)
    result = _cli("run", BASELINE, "-n", "3000", "-o", str(target), *extra)
    assert result.exit_code == 2, result.output
    assert f"no space left on {small_disk}" in result.output
    assert "results saved" not in result.output and "Traceback" not in result.output
    assert _listing(small_disk) == {"r.h5": GOOD}  # previous file intact, no temporary or partial file


def test_compare_on_a_full_tmpfs_exits_2_and_keeps_the_previous_file(small_disk):
    target = small_disk / "ab.h5"
    target.write_bytes(GOOD)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (7 * 2**20))  # leaves less than the writers' safety margin
    result = _cli("compare", BASELINE, BASELINE, "-n", "200", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert f"no space left on {small_disk}" in result.output and "Traceback" not in result.output
    assert target.read_bytes() == GOOD and sorted(p.name for p in small_disk.iterdir()) == ["ab.h5", "filler"]


def test_csv_export_on_a_full_tmpfs_leaves_no_partial_folder(small_disk, tmp_path):
    results = tmp_path / "r.h5"
    assert _cli("run", BASELINE, "-n", "100", "-o", str(results), "--format", "csv").exit_code == 0
    (small_disk / "filler").write_bytes(b"\0" * (8 * 2**20 - 40_000))
    for fmt in ("csv", "parquet"):
        result = _cli("export", str(results), "--format", fmt, "-o", str(small_disk / f"tables-{fmt}"))
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("command", [
    ["run", BASELINE, "-n", "50"],
    ["run", BASELINE, "-n", "50", "--stream"],
    ["compare", BASELINE, BASELINE, "-n", "20"],
])
def test_enospc_from_the_writer_is_one_message_and_the_old_file_stays(tmp_path, monkeypatch, command):
    import xarray as xr

    from salessim import results

    target = tmp_path / "out.h5"
    target.write_bytes(GOOD)
    monkeypatch.setattr(results, "_create", _no_space)  # results files are created this way ...
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _no_space)  # ... every other file (streams, what-ifs) this way
    result = _cli(*command, "-o", str(target))
    assert result.exit_code == 2, result.output
    assert f"cannot write {target}: no space left on {tmp_path}" in result.output
    assert _listing(tmp_path) == {"out.h5": GOOD}


def test_folder_writer_builds_beside_the_target_and_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "tables"

    def half(folder: Path):
        (folder / "a.csv").write_text("a")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        _files.write_folder_atomic(out, half)
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    (out / "a.csv").write_text("old")

    def whole(folder: Path):
        (folder / "a.csv").write_text("new")
        (folder / "b.csv").write_text("b")
        return [folder / "a.csv", folder / "b.csv"]

    assert _files.write_folder_atomic(out, whole) == [out / "a.csv", out / "b.csv"]
    assert {p.name: p.read_text() for p in out.iterdir()} == {"mine.txt": "keep me", "a.csv": "new", "b.csv": "b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


# ------------------------------------------------------------------------- signals


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "salessim.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout=90.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _partial_trials(folder: Path, target: str):
    for p in folder.iterdir():
        if p.name.startswith(f".{target}.") and p.name.endswith(".partial.h5"):
            try:
                with h5py.File(p, "r", locking=False) as f:  # the writer holds HDF5's lock
                    return p, int(np.asarray(f.attrs["trials"]).reshape(-1)[0])
            except (OSError, KeyError):
                return None
    return None


def test_ctrl_c_during_a_stream_stops_it_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "s.h5"
    target.write_bytes(GOOD)
    proc = _start(["run", BASELINE, "-n", "100000", "--chunk-trials", "250", "--stream", "-o", str(target)], tmp_path)
    _wait_for(lambda: (_partial_trials(tmp_path, "s.h5") or (None, 0))[1] >= 500)
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.time() - t0 < 30  # between chunks, not at the end of the run
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert target.read_bytes() == GOOD


def test_sigint_ignored_by_the_parent_shell_still_stops_a_run(tmp_path):
    """A shell starts background jobs with SIGINT ignored; `kill -INT` must still stop the run."""
    target = tmp_path / "s.h5"
    target.write_bytes(GOOD)
    proc = subprocess.Popen([sys.executable, "-m", "salessim.cli", "run", BASELINE, "-n", "100000", "--chunk-trials",
                             "250", "--stream", "-o", str(target)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    _wait_for(lambda: (_partial_trials(tmp_path, "s.h5") or (None, 0))[1] >= 250)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert target.read_bytes() == GOOD


def test_kill_9_during_a_stream_then_resume_is_identical_to_an_uninterrupted_run(tmp_path):
    args = ["run", BASELINE, "-n", "6000", "--seed", "5", "--chunk-trials", "250", "--stream", "-o", "k.h5",
            "--format", "csv"]
    proc = _start(args, tmp_path)
    _wait_for(lambda: (_partial_trials(tmp_path, "k.h5") or (None, 0))[1] >= 750)
    proc.kill()
    proc.wait()
    partial, held = _partial_trials(tmp_path, "k.h5")
    assert 750 <= held < 6000 and not (tmp_path / "k.h5").exists()
    with h5py.File(partial, "r") as f:  # honest: trials says what it holds; the dimension may only run ahead
        assert f.attrs["trials_planned"] == 6000 and f["trial"].shape[0] >= held
        np.testing.assert_array_equal(f["trial"][:held], np.arange(held))
    resumed = subprocess.run([sys.executable, "-m", "salessim.cli", *args, "--resume"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.h5"]
    plain = _cli("run", BASELINE, "-n", "6000", "--seed", "5", "-o", str(tmp_path / "p.h5"), "--format", "csv")
    assert resumed.stdout == plain.output  # the same summary
    xr.testing.assert_identical(strip_attrs(salessim.open_results(tmp_path / "k.h5")),
                                strip_attrs(salessim.open_results(tmp_path / "p.h5")))


def test_kill_9_during_a_save_leaves_a_temp_file_the_next_save_removes(tmp_path):
    target = tmp_path / "big.h5"
    target.write_bytes(GOOD)
    proc = _start(["run", BASELINE, "-n", "30000", "-o", str(target)], tmp_path)
    temp = _wait_for(lambda: [p for p in tmp_path.iterdir() if p.name.startswith(".big.h5.") and ".tmp" in p.name])
    proc.kill()
    proc.wait()
    assert temp[0].exists() and target.read_bytes() == GOOD
    host, pid, kind = _files.temp_owner(temp[0], target)
    assert pid == proc.pid and kind == "tmp"
    salessim.save_results(salessim.simulate(salessim.load_scenario(BASELINE), 20, 1), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.h5"]


def test_ctrl_c_during_the_save_of_a_plain_run_does_not_replace_the_file(tmp_path, monkeypatch):
    """The save runs in the main thread: an interrupt while it writes stops it before the rename."""
    from salessim import results

    target = tmp_path / "r.h5"
    target.write_bytes(GOOD)
    real = results._write_parts

    def interrupted(parts, tmp, pool):
        real(parts, tmp, pool)  # the temporary file is complete ...
        raise KeyboardInterrupt  # ... and Ctrl-C arrives before the rename

    monkeypatch.setattr(results, "_write_parts", interrupted)
    result = _cli("run", BASELINE, "-n", "50", "-o", str(target))
    assert result.exit_code == 130
    assert "interrupted while saving" in result.output
    assert _listing(tmp_path) == {"r.h5": GOOD}


def test_stale_temp_files_of_live_processes_and_other_hosts_are_left_alone(tmp_path):
    target = tmp_path / "x.h5"
    mine = _files.new_temp(target)
    other_host = tmp_path / ".x.h5.salessim-elsewhere-1-0abc.tmp.h5"
    other_host.write_bytes(b"")
    dead = tmp_path / f".x.h5.salessim-{_files._HOST}-{2**22 + 12345}-0abc.tmp.h5"  # beyond pid_max: never alive
    dead.write_bytes(b"")
    removed = _files.remove_stale(target)
    assert removed == [dead] and mine.exists() and other_host.exists()

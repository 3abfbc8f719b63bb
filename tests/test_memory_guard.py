"""A run too large for memory is refused before it starts, with the way out (``--stream``).

Linux over-commits: a plain run of too many trials got its buffers and was killed later by
the out-of-memory killer, with no message and no exit code the CLI chose (issue 14). The
budget comes from ``/proc/meminfo`` and the cgroup limit; ``SALESSIM_MEMORY_BYTES`` sets it
here so that the tests do not depend on the machine.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

import salessim
from salessim import memory
from salessim.cli import main
from salessim.engine import MEMORY_PER_BUFFER_BYTE, SimulationError, trial_bytes
from salessim.inputs import build_inputs

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios/baseline.yaml")


@pytest.fixture(scope="module")
def per_trial() -> float:
    return trial_bytes(build_inputs(salessim.load_scenario(BASELINE))) * MEMORY_PER_BUFFER_BYTE


def test_a_plain_run_too_large_is_refused_naming_the_size_and_stream(tmp_path, monkeypatch, per_trial):
    monkeypatch.setenv("SALESSIM_MEMORY_BYTES", str(int(per_trial * 1_000)))  # room for 1,000 trials
    out = tmp_path / "r.h5"
    res = CliRunner().invoke(main, ["run", BASELINE, "-n", "5000", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert "5,000 trials need about" in res.output
    assert "at most 1,000 trials fit" in res.output
    assert "--stream" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_same_run_streamed_fits(tmp_path, monkeypatch, per_trial):
    """The message's way out works: a stream holds one chunk, whatever the trial count."""
    monkeypatch.setenv("SALESSIM_MEMORY_BYTES", str(int(per_trial * 1_000)))
    out = tmp_path / "r.h5"
    res = CliRunner().invoke(main, ["run", BASELINE, "-n", "1500", "--chunk-trials", "500", "--stream",
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    with h5py.File(out) as f:
        assert f["trial"].shape == (1500,)


def test_a_run_that_fits_is_not_refused(monkeypatch, per_trial):
    monkeypatch.setenv("SALESSIM_MEMORY_BYTES", str(int(per_trial * 1_000)))
    ds = salessim.simulate(salessim.load_scenario(BASELINE), trials=1_000, seed=0)
    assert ds.sizes["trial"] == 1_000


def test_the_python_api_refuses_too(monkeypatch, per_trial):
    monkeypatch.setenv("SALESSIM_MEMORY_BYTES", str(int(per_trial * 10)))
    with pytest.raises(SimulationError, match=r"11 trials need about .* at most 10 trials fit"):
        salessim.simulate(salessim.load_scenario(BASELINE), trials=11, seed=0)


def test_available_is_the_smaller_of_meminfo_and_the_cgroup(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESSIM_MEMORY_BYTES", raising=False)
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text("3000000000\n")
    usage.write_text("1000000000\n")
    monkeypatch.setattr(memory, "_CGROUP_FILES", ((str(limit), str(usage)),))
    monkeypatch.setattr(memory, "_meminfo_available", lambda: 5_000_000_000)
    assert memory.available_bytes() == 2_000_000_000
    monkeypatch.setattr(memory, "_meminfo_available", lambda: 1_500_000_000)
    assert memory.available_bytes() == 1_500_000_000
    limit.write_text("max\n")  # cgroup v2 without a limit
    assert memory.available_bytes() == 1_500_000_000
    monkeypatch.setattr(memory, "_meminfo_available", lambda: None)
    assert memory.available_bytes() is None


def test_meminfo_is_read_on_linux():
    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo on this system")
    assert memory._meminfo_available() > 0


@pytest.mark.parametrize("n, text", [(999, "999 bytes"), (28_450, "28.4 KB"), (2.5e9, "2.5 GB"), (1.2e12, "1.2 TB")])
def test_format_bytes(n, text):
    assert memory.format_bytes(n) == text

"""Files larger than memory (issue 11, item 7): ``summary``, ``report`` and ``export`` on a
results file at least 3x the memory limit of the process that reads it.

Slow suite (``make test-slow``, about 15 minutes): the file is about 3.3 GB (470,000 trials) and each
command reads it in full.
The limit is ``RLIMIT_DATA`` (heap and private mappings: what the process can allocate), set
in each subprocess before it starts; the peak resident size of every child is checked too.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import salessim
from salessim.stream import simulate_to_file

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 2**30  # bytes each reading process may allocate

pytestmark = pytest.mark.slow


def _limited():
    resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "salessim.cli", *args], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=_limited, timeout=1800)


def test_summary_report_and_export_of_a_file_three_times_the_memory_limit(tmp_path):
    pytest.importorskip("dask.array")
    sc = salessim.load_scenario(ROOT / "scenarios/baseline.yaml")
    big = tmp_path / "big.h5"
    trials = 470_000  # about 7.1 KB per trial for the baseline (the derived money variables are not stored)
    want = simulate_to_file(sc, big, trials, 3, chunk_trials=2500)
    size = big.stat().st_size
    assert size >= 3 * LIMIT, f"the file is only {size / 2**20:.0f} MiB"

    summary = _cli("summary", str(big), "--format", "csv", cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr[-2000:]
    got = pd.read_csv(pd.io.common.StringIO(summary.stdout))
    expected = pd.read_csv(pd.io.common.StringIO(want.to_csv(index=False)))
    pd.testing.assert_frame_equal(got, expected)

    report = _cli("report", str(big), "-o", "big.html", cwd=tmp_path)
    assert report.returncode == 0, report.stderr[-2000:]
    html = (tmp_path / "big.html").read_text()
    assert f"{trials:,}" in html and "<img" in html

    export = _cli("export", str(big), "--format", "csv", "-o", "tables", cwd=tmp_path)
    assert export.returncode == 0, export.stderr[-2000:]
    monthly = pd.read_csv(tmp_path / "tables" / "monthly.csv")
    assert set(monthly["statistic"]) == {"mean", "p10", "p25", "p50", "p75", "p90"}
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "tables" / "summary.csv"), expected)

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert peak < LIMIT, f"a reader's peak resident size was {peak / 2**20:.0f} MiB"

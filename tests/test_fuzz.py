"""Fuzz: seeded scenario mutants through ``validate`` and ``run``: no crash, no hang, bounded memory.

A campaign (tests/fuzz_scenarios.py makes the mutants, tests/fuzz_worker.py runs them)
runs in a subprocess with an address-space limit and a timeout. The assertions:

- **no crash**: every command exits 0 or 2 and raises nothing but ``SystemExit``
  (a user error is one message, exit 2, no traceback);
- **bounded messages**: no error message is longer than ``MAX_MESSAGE_CHARS``;
- **no hang**: every step ends within ``STEP_SECONDS`` and the campaign within the
  timeout (a hung step is named from the log, which is written before each step);
- **bounded memory**: the worker runs under ``RLIMIT_AS``; a step that tried to use more
  would have crashed with MemoryError;
- **whatever validate accepts, run runs**: every sampled mutant that validates runs to
  exit 0, and its results file reads back through ``summary``.

The default campaign (240 mutants, a dozen runs) takes about 30 s on two cores; the
slow one (``-m slow``) runs 2,500 mutants and 80 runs with every output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MEMORY_BYTES = 3 * 2**30  # address space: the interpreter, numba and its threads take about 1.9 GB of it
STEP_SECONDS = 20.0
MAX_MESSAGE_CHARS = 64_000


def _campaign(tmp_path: Path, timeout: float, **args) -> list[dict]:
    args = {"memory_bytes": MEMORY_BYTES, "trials": 3, "max_leads": 3e7, **args}
    log = tmp_path / "fuzz.jsonl"
    work = tmp_path / "work"
    work.mkdir()
    try:
        proc = subprocess.run([sys.executable, str(HERE / "fuzz_worker.py"), json.dumps(args), str(log), str(work)],
                              capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        lines = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
        last = next((x for x in reversed(lines) if x.get("event") == "start"), None)
        pytest.fail(f"the campaign hung past {timeout:.0f} s; last step started: {last}")
    lines = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    assert proc.returncode == 0, (f"worker exited {proc.returncode} (killed for memory or crashed); last step: "
                                  f"{lines[-1] if lines else None}\n{proc.stderr[-3000:]}")
    assert lines and lines[-1]["event"] == "done"
    return [x for x in lines if x.get("event") == "end"]


def _check(steps: list[dict]) -> None:
    crashes = [s for s in steps if s["crash"] or s["exit_code"] not in (0, 2)]
    assert not crashes, "\n\n".join(f"{s['label']} [{s['stage']}] exit {s['exit_code']}: {s['crash']}" for s in crashes[:5])
    tracebacks = [s for s in steps if "Traceback" in s["head"]]
    assert not tracebacks, tracebacks[:3]
    long = [s for s in steps if s["exit_code"] == 2 and s["output_chars"] > MAX_MESSAGE_CHARS]
    assert not long, [(s["label"], s["stage"], s["output_chars"]) for s in long[:5]]
    slow = [s for s in steps if s["seconds"] > STEP_SECONDS]
    assert not slow, [(s["label"], s["stage"], s["seconds"]) for s in slow[:5]]
    failed_runs = [s for s in steps if s["stage"] != "validate" and s["exit_code"] != 0]
    assert not failed_runs, "\n".join(f"{s['label']} [{s['stage']}]: {s['head']}" for s in failed_runs[:5])


def test_fuzz_campaign_validate_and_run(tmp_path):
    steps = _campaign(tmp_path, timeout=240, seed=14, count=240, runs=12)
    validated = [s for s in steps if s["stage"] == "validate"]
    assert len(validated) == 240
    assert sum(s["exit_code"] == 2 for s in validated) >= 100  # most mutants break a rule ...
    assert sum(s["stage"] == "run" for s in steps) >= 8  # ... and enough stay valid to run
    _check(steps)


@pytest.mark.slow
def test_fuzz_long_campaign_with_every_output(tmp_path):
    steps = _campaign(tmp_path, timeout=3000, seed=2014, count=2500, runs=80, outputs=True, max_leads=3e8)
    assert sum(s["stage"] == "run" for s in steps) >= 60
    _check(steps)

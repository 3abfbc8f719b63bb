"""Peak memory of streamed runs (issue 6, item 4): `salessim run --stream` at 10k, 100k, 1M trials.

Each size runs in a fresh process (`salessim run scenarios/baseline.yaml -n N --stream`)
under the same interpreter; the peak resident set size is read from the child's
``ru_maxrss``. The results file goes to a temporary folder and is deleted afterwards (a
million trials of the baseline is about 9.5 GB on disk).

    .venv/bin/python benchmarks/memory.py                      # 10,000, 100,000 and 1,000,000 trials
    .venv/bin/python benchmarks/memory.py --trials 10000,100000

Figures are merged into results/benchmarks.json under the key ``memory``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 1536  # target: peak RSS under 1.5 GB for a million trials


def measure(trials: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stream.h5"
        cmd = [sys.executable, "-m", "salessim.cli", "run", str(ROOT / "scenarios" / "baseline.yaml"),
               "-n", str(trials), "--stream", "-o", str(out), "--format", "csv"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = out.stat().st_size
    if peak_kb < before:  # ru_maxrss of children is the largest child so far
        peak_kb = before
    return {"trials": trials, "peak_rss_mb": round(peak_kb / 1024), "seconds": round(seconds, 1),
            "file_gb": round(size / 1e9, 3), "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="10000,100000,1000000", help="comma-separated trial counts")
    parser.add_argument("--output", default=str(ROOT / "results" / "benchmarks.json"))
    args = parser.parse_args()
    rows = []
    for n in sorted(int(x) for x in args.trials.split(",")):
        row = measure(n)  # sizes ascend, so each child's peak is the largest so far
        rows.append(row)
        print(f"{row['trials']:>9,} trials  peak RSS {row['peak_rss_mb']:>5,} MB  {row['seconds']:>7.1f} s  "
              f"file {row['file_gb']:.2f} GB  load {row['load_average'][0]}", flush=True)
    biggest = rows[-1]
    verdict = "met" if biggest["peak_rss_mb"] < LIMIT_MB else "MISSED"
    print(f"peak RSS at {biggest['trials']:,} trials: {biggest['peak_rss_mb']} MB (target < {LIMIT_MB} MB: {verdict})")
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["memory"] = {"rows": rows, "target_mb": LIMIT_MB, "verdict": verdict}
    path.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()

"""Time the kernel of an older commit against the working tree, in one run, interleaved.

    .venv/bin/python benchmarks/compare_kernels.py [--ref 53186dd] [--trials 10000] [--rounds 5]
        [--scenario scenarios/baseline.yaml] [--output results/compare_kernels.json]

``git archive`` exports ``src/salessim`` of ``--ref`` (and of ``--new-ref``, if given, instead
of the working tree) to a temporary folder. Then fresh
subprocesses, alternating old and new (``--rounds`` of each, so a burst of load on a
shared machine hits both alike), each import their package (PYTHONPATH), build the
scenario's inputs, warm the kernel up (compile or cache load, left out of the timing),
and time ``salessim.engine.run_chunk(inputs, seed, 0, trials)``: the parallel kernel over
all trials in one call, no Dataset. Each package keeps its own Numba cache (its own
``__pycache__``). Reported: the best time of each, their ratio (new / old), and whether
the two gave the same bookings (the same model and random streams give the same bits).

The scenario is read by each side's own loader, so it must be valid for the old release.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_TIMED = r"""
import hashlib, json, sys, time
import numba
import salessim
from salessim.engine import run_chunk
from salessim.inputs import build_inputs
from salessim.kernels.month import F_BOOKINGS
sc = salessim.load_scenario(sys.argv[1])
trials, seed = int(sys.argv[2]), int(sys.argv[3])
inputs = build_inputs(sc)
run_chunk(inputs, seed, 0, 64)  # compile or load from the cache
t0 = time.perf_counter()
out = run_chunk(inputs, seed, 0, trials)
seconds = time.perf_counter() - t0
digest = hashlib.sha256(out["flows"][F_BOOKINGS].copy().tobytes()).hexdigest()
print(json.dumps({"seconds": seconds, "bookings_sha256": digest, "threads": numba.get_num_threads(),
                  "package": salessim.__file__}))
"""


def export(ref: str, into: Path) -> Path:
    """``src/salessim`` of commit ``ref`` under ``into``; returns the folder to put on PYTHONPATH."""
    data = subprocess.run(["git", "archive", "--format=tar", ref, "src/salessim"], cwd=ROOT, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def timed_run(pythonpath: Path, scenario: Path, trials: int, seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    env.pop("NUMBA_CACHE_DIR", None)  # each package caches beside its own sources
    proc = subprocess.run([sys.executable, "-c", _TIMED, str(scenario), str(trials), str(seed)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"timed run with PYTHONPATH={pythonpath} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="53186dd", help="the older commit (default 53186dd, release 0.1.0)")
    parser.add_argument("--new-ref", default=None, help="compare against this commit instead of the working tree")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each side, alternating (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", type=Path, default=ROOT / "tests" / "data" / "pinned" / "baseline.yaml",
                        help="a scenario both sides can read (default: the baseline as of release 0.1.0)")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "compare_kernels.json")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="salessim-old-") as tmp, \
            tempfile.TemporaryDirectory(prefix="salessim-new-") as tmp_new:
        old_path = export(args.ref, Path(tmp))
        new_path = ROOT / "src" if args.new_ref is None else export(args.new_ref, Path(tmp_new))
        runs = {"old": [], "new": []}
        for side, path in (("old", old_path), ("new", new_path)):  # compile both once, untimed
            timed_run(path, args.scenario, 64, args.seed)
        for _ in range(args.rounds):
            for side, path in (("old", old_path), ("new", new_path)):
                runs[side].append(timed_run(path, args.scenario, args.trials, args.seed))
    best = {side: min(r["seconds"] for r in rs) for side, rs in runs.items()}
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "ref": args.ref,
        "new_ref": args.new_ref or "working tree",
        "scenario": str(args.scenario),
        "trials": args.trials,
        "rounds": args.rounds,
        "threads": runs["new"][0]["threads"],
        "old_best_s": best["old"],
        "new_best_s": best["new"],
        "ratio_new_over_old": best["new"] / best["old"],
        "old_all_s": [r["seconds"] for r in runs["old"]],
        "new_all_s": [r["seconds"] for r in runs["new"]],
        "same_bookings_bits": runs["old"][0]["bookings_sha256"] == runs["new"][0]["bookings_sha256"],
        "load_average_at_start": [round(x, 2) for x in load_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"kernel run_chunk, {args.scenario.name}, {args.trials:,} trials, best of {args.rounds} interleaved "
          f"({result['threads']} threads; load {result['load_average_at_start'][0]:.2f} -> "
          f"{result['load_average_at_end'][0]:.2f})")
    print(f"  {args.ref:>10}: {best['old']:.3f} s   (all: {', '.join(f'{s:.3f}' for s in result['old_all_s'])})")
    print(f"  {(args.new_ref or 'worktree'):>10}: {best['new']:.3f} s   (all: {', '.join(f'{s:.3f}' for s in result['new_all_s'])})")
    print(f"  ratio new / old: {result['ratio_new_over_old']:.3f}; same bookings bits: {result['same_bookings_bits']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()

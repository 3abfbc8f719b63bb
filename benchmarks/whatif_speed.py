"""Issue 12, targets 1, 2 and 5: a warm `salessim run`, a warm `salessim solve`, a streamed million.

    .venv/bin/python benchmarks/whatif_speed.py [--ref 29171ae] [--repeats 5] [--stream-trials 0]

Both sides run the console entry point (``python -m salessim.cli``) in fresh processes of
this interpreter: "before" is ``src/salessim`` of ``--ref`` exported with ``git archive``
(``benchmarks/compare_kernels.py`` does the same) and put on ``PYTHONPATH``; "after" is the
working tree. Each side keeps its own Numba cache next to its sources and is warmed up
once (compile or cache load) before timing, so every timed run is a warm run as a planner
gets it the second time. Before and after take turns, run after run, so a burst of load on
the shared machine hits both alike; the load average (1 minute) is recorded with each run.

* **run**: ``salessim run scenarios/baseline.yaml -n 10000 -o <tmp>/out.h5``: file written,
  summary printed (to a pipe). Median of ``--repeats``; target 2.0 s.
* **solve**: README worked example 1, ``salessim solve scenarios/baseline.yaml --lever
  hiring_plan.1.hires --range 0:20 --target 'p_goal[2028] >= 0.9'``. Median of ``--repeats``;
  target 2.5 s. The printed search tables of both sides are compared (same search path).
* **stream** (``--stream-trials N``, off by default: a million trials takes minutes and
  writes about 10 GB): ``salessim run ... -n N --stream`` per side, peak RSS of the child
  (``ru_maxrss`` from ``os.wait4``) and wall time; target < 1.5 GB.

Writes ``results/whatif_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from compare_kernels import export  # noqa: E402  (git archive of src/salessim at a commit)

SCENARIO = ROOT / "scenarios" / "baseline.yaml"
RUN_TARGET_S, SOLVE_TARGET_S, STREAM_LIMIT_MB = 2.0, 2.5, 1536
SOLVE_ARGS = ["solve", str(SCENARIO), "--lever", "hiring_plan.1.hires", "--range", "0:20",
              "--target", "p_goal[2028] >= 0.9"]


def timed(args: list[str], src: Path, cwd: Path, peak: bool = False) -> dict:
    """Run ``python -m salessim.cli ARGS`` with ``src`` first on the path: wall s, load, stdout.

    With ``peak``, stdout is discarded and the child is reaped with ``os.wait4`` for its own
    peak resident set size (MB).
    """
    env = dict(os.environ, PYTHONPATH=str(src))
    env.pop("NUMBA_CACHE_DIR", None)  # each side caches next to its own sources
    cmd = [sys.executable, "-m", "salessim.cli", *args]
    load = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    if peak:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed ({proc.returncode}) with {src}")
        return {"seconds": wall, "load": load, "peak_rss_mb": round(usage.ru_maxrss / 1024)}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}) with {src}:\n{proc.stderr[-3000:]}")
    return {"seconds": wall, "load": load, "stdout": proc.stdout}


def _search_table(stdout: str) -> str:
    return "\n".join(line.rstrip() for line in stdout.splitlines() if line.strip())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="29171ae", help="the 'before' commit (main before issue 12)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--stream-trials", type=int, default=0, help="also a streamed run of N trials per side")
    parser.add_argument("--stream-sides", default="before,after", help="which sides stream (comma-separated)")
    parser.add_argument("--skip", choices=["run", "solve"], action="append", default=[])
    parser.add_argument("--output", default=str(ROOT / "results" / "whatif_speed.json"))
    args = parser.parse_args(argv)
    result: dict = {"ref": args.ref, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "nproc": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="salessim-whatif-") as name:
        tmp = Path(name)
        sides = {"before": export(args.ref, tmp / "before"), "after": ROOT / "src"}
        for src in sides.values():  # both sides with bytecode, as an install has it (PYTHONDONTWRITEBYTECODE may be set)
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
        run_args = ["run", str(SCENARIO), "-n", str(args.trials), "-o", str(tmp / "out.h5")]
        for side, src in sides.items():  # warm-up: compile or load from the cache
            if not ("run" in args.skip and "solve" in args.skip and side not in args.stream_sides):
                timed(run_args, src, tmp)
            if "solve" not in args.skip:
                timed(SOLVE_ARGS, src, tmp)
        for what, cmd, target in (("run", run_args, RUN_TARGET_S), ("solve", SOLVE_ARGS, SOLVE_TARGET_S)):
            if what in args.skip:
                continue
            rows: dict[str, list[dict]] = {side: [] for side in sides}
            for _ in range(args.repeats):
                for side, src in sides.items():
                    rows[side].append(timed(cmd, src, tmp))
            entry = {"target_s": target}
            for side in sides:
                secs = [r["seconds"] for r in rows[side]]
                entry[side] = {"median_s": round(statistics.median(secs), 3), "runs_s": [round(s, 3) for s in secs],
                               "load": [r["load"] for r in rows[side]]}
            entry["after_over_before"] = round(entry["after"]["median_s"] / entry["before"]["median_s"], 3)
            entry["target_met"] = entry["after"]["median_s"] <= target
            if what == "solve":
                entry["same_search_table"] = (_search_table(rows["before"][0]["stdout"])
                                              == _search_table(rows["after"][0]["stdout"]))
                entry["after_table"] = _search_table(rows["after"][0]["stdout"])
            result[what] = entry
            print(f"{what}: before {entry['before']['median_s']:.2f} s, after {entry['after']['median_s']:.2f} s "
                  f"(median of {args.repeats}; target {target} s: {'met' if entry['target_met'] else 'MISSED'}); "
                  f"loads before {entry['before']['load']}, after {entry['after']['load']}", flush=True)
        if args.stream_trials:
            stream_args = ["run", str(SCENARIO), "-n", str(args.stream_trials), "--stream", "-o",
                           str(tmp / "stream.h5"), "--format", "csv"]
            entry = {"trials": args.stream_trials, "limit_mb": STREAM_LIMIT_MB}
            for side in args.stream_sides.split(","):
                src = sides[side]
                r = timed(stream_args, src, tmp, peak=True)
                size = (tmp / "stream.h5").stat().st_size
                (tmp / "stream.h5").unlink()
                entry[side] = {"seconds": round(r["seconds"], 1), "peak_rss_mb": r["peak_rss_mb"],
                               "file_gb": round(size / 1e9, 2), "load_at_start": r["load"],
                               "load_at_end": round(os.getloadavg()[0], 2)}
                print(f"stream {args.stream_trials:,} trials, {side}: {entry[side]}", flush=True)
            result["stream"] = entry
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

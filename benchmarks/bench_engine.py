"""Benchmark the Numba engine against the plain NumPy model on scenarios/baseline.yaml.

    .venv/bin/python benchmarks/bench_engine.py [--trials 10000] [--repeats 3]   (or: make bench)

In one process, after warming both up (JIT compile time is excluded), it times
``salessim.simulate`` (kernel plus Dataset assembly), the bare kernel
(``salessim.engine.run_chunk`` over the whole trial range, one call) and
``benchmarks/numpy_model.simulate_numpy``, each the best of ``--repeats`` runs, and reports
rep-months simulated (headcount summed over trials, months and territories), seconds,
rep-months per second and the engine/NumPy speed ratio.

Two fresh subprocesses sharing an empty temporary ``NUMBA_CACHE_DIR`` measure the first
``simulate`` call: the first one compiles (the first-run compile time), the second should
load the machine code from Numba's on-disk cache and take a fraction of it ("cache hit").
The timed runs then use that fresh cache too, so they measure the current sources: Numba
checks a cached function only against its own file, and the in-tree cache of
``kernels/month.py`` can hold code built against an older ``kernels/streams.py``.

The issue-6 measurements live in their own modules and run from here too (all of them by
default; name some with ``--core``, ``--floor``, ``--scaling``, ``--startup`` to run only those):

* ``--floor`` (``benchmarks/floor.py``): the engine kernel against a kernel that only draws
  the engine's variates for the same trials (target: within 2x);
* ``--scaling`` (``benchmarks/scaling.py``): fitted slopes of time against trials, months and
  reps over 10x ranges, and the 1-thread to 2-thread speed-up (target: at least 1.8x);
* ``--startup`` (``benchmarks/startup.py``): import time, the first (compiling) and second
  (cached) ``salessim run scenarios/baseline.yaml -n 10000`` (target: second run under 3 s).

``--before REF`` instead times the kernel of commit REF against the working tree in one run
(``benchmarks/compare_kernels.py``): the before/after of a kernel change.

Figures go to the terminal and, as JSON, to results/benchmarks.json.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: a first call this much faster than the compiling one counts as served from the cache
CACHE_HIT_SPEEDUP = 4.0

_FIRST_CALL = """
import json, sys, time
t0 = time.perf_counter()
import salessim
t1 = time.perf_counter()
sc = salessim.load_scenario(sys.argv[1])
t2 = time.perf_counter()
salessim.simulate(sc, trials=16, seed=0)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_call_s": t3 - t2}))
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def engine_source() -> dict:
    """Which engine was measured: git HEAD, whether the package differs from it, kernel file hashes."""
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    kernels = ROOT / "src" / "salessim" / "kernels"
    status = git("status", "--porcelain", "--", "src/salessim")
    return {
        "git_head": git("rev-parse", "HEAD"),
        "package_modified_since_head": None if status is None else bool(status),
        "kernel_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(kernels.glob("*.py"))},
    }


def first_call(cache_dir: str) -> dict:
    """Import salessim and time one small simulate call in a fresh interpreter."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _FIRST_CALL, str(SCENARIO)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"first-call subprocess failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


def compile_and_cache(cache_dir: str) -> dict:
    """First-call times of two fresh interpreters sharing the (empty) ``cache_dir``."""
    cold = first_call(cache_dir)
    files = [p.name for p in Path(cache_dir).rglob("*") if p.suffix in (".nbi", ".nbc")]
    warm = first_call(cache_dir)
    nbi = sum(name.endswith(".nbi") for name in files)
    nbc = sum(name.endswith(".nbc") for name in files)
    hit = nbi > 0 and nbc > 0 and warm["first_call_s"] * CACHE_HIT_SPEEDUP < cold["first_call_s"]
    return {
        "compile_first_call_s": cold["first_call_s"],
        "cached_first_call_s": warm["first_call_s"],
        "import_s": cold["import_s"],
        "cache_files_nbi": nbi,
        "cache_files_nbc": nbc,
        "cache_hit": bool(hit),
    }


def timed(fn):
    """(seconds, result) of one call, after a garbage collection."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000, help="trials per timed run (default 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each, best taken (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "benchmarks.json")
    parser.add_argument("--skip-compile", action="store_true", help="skip the fresh-process compile/cache check")
    parser.add_argument("--core", action="store_true", help="run the engine-vs-NumPy comparison")
    parser.add_argument("--floor", action="store_true", help="run the engine-vs-floor comparison (floor.py)")
    parser.add_argument("--scaling", action="store_true", help="run the scaling measurements (scaling.py)")
    parser.add_argument("--startup", action="store_true", help="run the start-up measurements (startup.py)")
    parser.add_argument("--all", action="store_true", help="run everything (the default when no section is named)")
    parser.add_argument("--installed-copy", action="store_true",
                        help="with --startup: also run the CLI from a copied package (compiles once more)")
    parser.add_argument("--before", metavar="REF", default=None,
                        help="only time the kernel of commit REF against the working tree, interleaved in one run "
                             "(benchmarks/compare_kernels.py), e.g. --before 53186dd")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.repeats < 1:
        parser.error("--trials and --repeats must be >= 1")
    if args.before is not None:  # before/after of a kernel change, same run (fresh processes, interleaved)
        import compare_kernels

        return compare_kernels.main(["--ref", args.before, "--trials", str(args.trials),
                                     "--rounds", str(max(args.repeats, 3))])
    if args.all or not (args.core or args.floor or args.scaling or args.startup):
        args.core = args.floor = args.scaling = args.startup = True

    load_at_start = os.getloadavg()
    cache = None
    tmp_cache = None
    startup = None
    if args.startup:  # fresh processes first, while this one has loaded nothing heavy
        import startup as startup_bench

        startup = startup_bench.measure(args.trials, min(args.repeats, 2), copy=args.installed_copy)
    if args.core and not args.skip_compile and "numba" not in sys.modules:  # the variable only counts before numba loads
        tmp_cache = tempfile.TemporaryDirectory(prefix="salessim-numba-cache-")
        cache = compile_and_cache(tmp_cache.name)
        cache["in_process_uses_this_cache"] = True
        # Time the code the subprocesses just compiled from the current sources. Numba checks a
        # cached function only against its own file, so the in-tree cache of kernels/month.py
        # can hold machine code built against an older kernels/streams.py.
        os.environ["NUMBA_CACHE_DIR"] = tmp_cache.name
    try:
        return measure(args, cache, load_at_start, startup)
    finally:
        if tmp_cache is not None:
            tmp_cache.cleanup()


def measure(args: argparse.Namespace, cache: dict | None, load_at_start: tuple[float, float, float],
            startup: dict | None = None) -> dict:
    import numba

    import salessim

    threads = numba.get_num_threads()
    core = measure_core(args) if args.core else None
    floor = scaling = None
    if args.floor:
        import floor as floor_bench

        floor = floor_bench.measure(args.trials, args.repeats, args.seed)
    if args.scaling:
        import scaling as scaling_bench

        scaling = scaling_bench.measure(max(1, args.trials // 2), args.repeats, args.seed)
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "trials": args.trials,
        "repeats": args.repeats,
        "seed": args.seed,
        **(core or {}),
        "numba_threads": threads,
        "numba_threading_layer": numba.threading_layer() if core else None,
        "numba_cache_dir": "fresh (compiled by the compile check)" if cache is not None else "default (may be stale)",
        "compile": cache,
        "floor": floor,
        "scaling": scaling,
        "startup": startup,
        "targets": targets(core, floor, scaling, startup),
        "engine_source": engine_source(),
        "machine": {
            "nproc": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cpu_model": cpu_model(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "numpy": __import__("numpy").__version__,
            "numba": numba.__version__,
            "salessim": salessim.__version__,
        },
    }
    if core:
        report(result)
    if floor:
        floor_bench.report(floor)
    if scaling:
        scaling_bench.report(scaling)
    if startup:
        import startup as startup_bench

        startup_bench.report(startup)
    report_targets(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.output)
    print(f"wrote {args.output}")
    return result


def targets(core: dict | None, floor: dict | None, scaling: dict | None, startup: dict | None) -> list[dict]:
    """The issue-6 targets measured in this run: figure, target, met or not."""
    rows = []
    if core:
        rows.append({"target": "engine (simulate) vs NumPy model", "figure": core["ratio_engine_vs_numpy"],
                     "goal": ">= 15x", "met": core["ratio_engine_vs_numpy"] >= 15.0})
    if floor:
        rows.append({"target": "engine kernel time / floor time", "figure": floor["ratio_engine_vs_floor"],
                     "goal": "<= 2x", "met": floor["target_met"]})
    if scaling:
        for name, ax in scaling["axes"].items():
            rows.append({"target": f"time vs {name}: fitted slope ({ax['range_ratio']:.0f}x range)",
                         "figure": ax["slope"], "goal": "~1.0 (linear)", "met": abs(ax["slope"] - 1.0) <= 0.1})
        t = scaling["threads"]
        rows.append({"target": "1-thread to 2-thread speed-up", "figure": t["speedup"], "goal": ">= 1.8x",
                     "met": t["target_met"]})
    if startup:
        c = startup["cli"]
        rows.append({"target": "second `salessim run baseline -n 10000` (s)", "figure": c["second_run_best_s"],
                     "goal": "< 3 s", "met": c["target_met"]})
        rows.append({"target": "first `salessim run` (compile) (s)", "figure": c["first_run_s"], "goal": "(reported)",
                     "met": None})
        rows.append({"target": "import salessim (s)", "figure": startup["imports"]["import_wall_s"],
                     "goal": "(reported)", "met": None})
    return rows


def report_targets(r: dict) -> None:
    print(f"\ntargets (load average {r['machine']['load_average_at_start'][0]:.2f} at start, "
          f"{r['machine']['load_average_at_end'][0]:.2f} at end; nproc {r['machine']['nproc']})")
    for row in r["targets"]:
        met = "-" if row["met"] is None else ("met" if row["met"] else "MISSED")
        print(f"  {row['target']:<52}{row['figure']:>9.2f}  {row['goal']:<14}{met}")


def measure_core(args: argparse.Namespace) -> dict:
    """The engine (simulate and bare kernel, 2 and 1 threads) against the NumPy model."""
    import numba

    import salessim
    from numpy_model import simulate_numpy, without_open_pipeline
    from salessim.engine import run_chunk
    from salessim.inputs import build_inputs
    from salessim.kernels.month import C_HEADCOUNT

    sc = without_open_pipeline(salessim.load_scenario(SCENARIO))  # the NumPy model starts from an empty pipeline
    inputs = build_inputs(sc)
    n, seed = args.trials, args.seed

    # warm up: JIT compile (or cache load) and first-touch costs stay out of the timings.
    # simulate() over several chunks passes strided views of its buffers, a separate
    # specialisation of the kernel from the one contiguous chunk of a small run: warm both.
    salessim.simulate(sc, trials=64, seed=seed)
    salessim.simulate(sc, trials=128, seed=seed, chunk_trials=64)
    run_chunk(inputs, seed, 0, 64)
    simulate_numpy(inputs, 64, seed)
    threads = numba.get_num_threads()

    # the four timed runs interleave, repeat after repeat, so a change in machine load hits them alike
    best = {"simulate": math.inf, "kernel": math.inf, "kernel_1_thread": math.inf, "numpy": math.inf}
    rep_months = rep_months_kernel = rep_months_numpy = None
    for _ in range(args.repeats):
        seconds, ds = timed(lambda: salessim.simulate(sc, trials=n, seed=seed))
        best["simulate"] = min(best["simulate"], seconds)
        rep_months = int(ds["headcount"].values.sum(dtype="int64"))
        del ds
        seconds, chunk = timed(lambda: run_chunk(inputs, seed, 0, n))
        best["kernel"] = min(best["kernel"], seconds)
        rep_months_kernel = int(chunk["counts"][C_HEADCOUNT].sum(dtype="int64"))
        del chunk
        numba.set_num_threads(1)
        try:
            seconds, chunk = timed(lambda: run_chunk(inputs, seed, 0, n))
        finally:
            numba.set_num_threads(threads)
        best["kernel_1_thread"] = min(best["kernel_1_thread"], seconds)
        del chunk
        seconds, np_out = timed(lambda: simulate_numpy(inputs, n, seed))
        best["numpy"] = min(best["numpy"], seconds)
        rep_months_numpy = int(np_out["headcount"].sum(dtype="int64"))
        del np_out
    assert rep_months_kernel == rep_months  # same trials, same draws

    rows = {
        "simulate": {"seconds": best["simulate"], "rep_months": rep_months, "threads": threads},
        "kernel": {"seconds": best["kernel"], "rep_months": rep_months, "threads": threads},
        "kernel_1_thread": {"seconds": best["kernel_1_thread"], "rep_months": rep_months, "threads": 1},
        "numpy": {"seconds": best["numpy"], "rep_months": rep_months_numpy, "threads": 1},
    }
    for row in rows.values():
        row["rep_months_per_s"] = row["rep_months"] / row["seconds"]
    for name in ("simulate", "kernel", "kernel_1_thread"):
        rows[name]["speedup_vs_numpy"] = rows[name]["rep_months_per_s"] / rows["numpy"]["rep_months_per_s"]
    return {
        "rep_months": rep_months,
        "timings": rows,
        "ratio_engine_vs_numpy": rows["simulate"]["speedup_vs_numpy"],
        "ratio_kernel_vs_numpy": rows["kernel"]["speedup_vs_numpy"],
        "load_average_after_core": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict) -> None:
    labels = {
        "simulate": f"salessim.simulate ({r['numba_threads']} threads)",
        "kernel": f"kernel run_chunk ({r['numba_threads']} threads)",
        "kernel_1_thread": "kernel run_chunk (1 thread)",
        "numpy": "NumPy model",
    }
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text fallback
        Console = None
    title = f"baseline.yaml, {r['trials']:,} trials, best of {r['repeats']}"
    header = ("implementation", "trials", "rep-months", "seconds", "rep-months/s", "vs NumPy")
    body = [(labels[k], f"{r['trials']:,}", f"{v['rep_months']:,}", f"{v['seconds']:.3f}",
             f"{v['rep_months_per_s']:,.0f}", f"{v.get('speedup_vs_numpy', 1.0):.2f}x")
            for k, v in r["timings"].items()]
    if Console is not None:
        table = Table(title=title)
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in body:
            table.add_row(*row)
        Console().print(table)
    else:
        print(title)
        for row in (header, *body):
            print("  ".join(f"{c:>16}" for c in row))
    m = r["machine"]
    print(f"engine/NumPy speed ratio: {r['ratio_engine_vs_numpy']:.2f}x (simulate), "
          f"{r['ratio_kernel_vs_numpy']:.2f}x (kernel only)")
    print(f"numba threads: {r['numba_threads']} ({r['numba_threading_layer']} layer); "
          f"nproc {m['nproc']}, {m['cpu_model']}; load average at start {m['load_average_at_start']}")
    c = r["compile"]
    if c is not None:
        print(f"first simulate call, fresh process, empty NUMBA_CACHE_DIR (compile): {c['compile_first_call_s']:.2f} s")
        print(f"first simulate call, fresh process, same NUMBA_CACHE_DIR:            {c['cached_first_call_s']:.2f} s")
        print(f"cache files: {c['cache_files_nbi']} .nbi, {c['cache_files_nbc']} .nbc; "
              f"cache hit: {'yes' if c['cache_hit'] else 'no'}")


if __name__ == "__main__":
    main()

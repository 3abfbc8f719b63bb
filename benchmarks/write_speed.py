"""Saving a run's results: the writer before issue 12 (h5netcdf) against today's (h5py directly).

    .venv/bin/python benchmarks/write_speed.py [--trials 10000] [--repeats 7]

Issue 12, target 1 (the save phase of a warm ``salessim run scenarios/baseline.yaml -n
10000``). One process, one set of :class:`~salessim.engine.ResultParts` (the baseline at
``--trials`` trials, seed 0), written ``--repeats`` times by each writer, interleaved
(old, new, old, new, ...), to files in one temporary folder; best and median wall time of
each and their ratio, with the load average (the machine may be shared: compare the
ratio, not the seconds). Also, on one thread (CPU time): the compression of every per-trial
chunk, old (one deflate of the whole shuffled chunk) against new (byte plane by byte
plane, noise stored).

The old writer is ``src/salessim/results.py`` as of commit ``OLD_COMMIT`` (read with
``git show``, loaded as a module of the package), so it needs a git checkout. Both files
are checked to decode to the same values.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

import salessim
from salessim import results
from salessim.engine import result_parts, run_buffers

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
OLD_COMMIT = "3903d20"  # main before the h5py writer: write_parts through h5netcdf


def old_results_module():
    """``salessim.results`` as of ``OLD_COMMIT``, importable next to today's."""
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:src/salessim/results.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="salessim-old-writer-"))
    path = folder / "results_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("salessim._results_before", path)  # relative imports: salessim
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wall(write, parts, path) -> float:
    t0 = time.perf_counter()
    write(parts, path)
    return time.perf_counter() - t0


def _cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def _chunks(parts):
    """Every per-trial chunk of the file, as the writers cut them."""
    out = []
    for dims, data, _ in parts.data_vars.values():
        if dims[0] != "trial":
            continue
        chunks = results._trial_chunks(tuple(dims), data.shape, data.dtype.itemsize)
        out += [(data[s : s + chunks[0]], chunks) for s in range(0, data.shape[0], chunks[0])]
    return out


def _same_values(a: Path, b: Path) -> bool:
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        if set(fa) != set(fb):
            return False
        for name in fa:
            x, y = fa[name][()], fb[name][()]
            if x.dtype.kind == "O":
                if list(x) != list(y):
                    return False
            elif x.dtype != y.dtype or x.tobytes() != y.tobytes():
                return False
    return True


def measure(trials: int = 10_000, repeats: int = 7) -> dict:
    old = old_results_module()
    sc = salessim.load_scenario(SCENARIO)
    parts = result_parts(sc, run_buffers(sc, trials, 0), seed=0)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="salessim-write-") as name:
        folder = Path(name)
        old_path, new_path = folder / "old.h5", folder / "new.h5"
        old.write_parts(parts, old_path)  # warm both (imports, page cache of the folder)
        results.write_parts(parts, new_path)
        walls = {"old": [], "new": []}
        for _ in range(repeats):
            walls["old"].append(_wall(old.write_parts, parts, old_path))
            walls["new"].append(_wall(results.write_parts, parts, new_path))
        same = _same_values(old_path, new_path)
        sizes = {"old": old_path.stat().st_size, "new": new_path.stat().st_size}
    chunks = _chunks(parts)
    cpu = {"old": [], "new": []}
    for _ in range(max(3, repeats // 2)):
        cpu["old"].append(_cpu(lambda: [old._shuffled_deflate(b, c) for b, c in chunks]))
        cpu["new"].append(_cpu(lambda: [results._shuffled_deflate(b, c) for b, c in chunks]))
    return {
        "trials": trials, "repeats": repeats, "cpus": os.cpu_count(),
        "data_mb": sum(v[1].nbytes for v in parts.data_vars.values()) / 2**20,
        "file_mb": {k: v / 2**20 for k, v in sizes.items()},
        "wall_best_s": {k: min(v) for k, v in walls.items()},
        "wall_median_s": {k: statistics.median(v) for k, v in walls.items()},
        "compress_cpu_best_s": {k: min(v) for k, v in cpu.items()},
        "chunks": len(chunks),
        "same_values": same,
        "load_average": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict) -> None:
    w, m, c = r["wall_best_s"], r["wall_median_s"], r["compress_cpu_best_s"]
    print(f"write_parts, baseline, {r['trials']:,} trials ({r['data_mb']:.0f} MB of arrays; files "
          f"{r['file_mb']['old']:.1f} MB old, {r['file_mb']['new']:.1f} MB new; {r['cpus']} CPUs; load average "
          f"{r['load_average'][0]:.2f} at start, {r['load_average_end'][0]:.2f} at end)")
    print(f"  old (h5netcdf, {OLD_COMMIT}): best {w['old']:.3f} s, median {m['old']:.3f} s")
    print(f"  new (h5py):              best {w['new']:.3f} s, median {m['new']:.3f} s")
    print(f"  ratio old/new: {w['old'] / w['new']:.2f}x best, {m['old'] / m['new']:.2f}x median "
          f"(best of {r['repeats']}, interleaved)")
    print(f"  compression of the {r['chunks']} per-trial chunks, one thread, CPU: old {c['old']:.3f} s, "
          f"new {c['new']:.3f} s ({c['old'] / c['new']:.2f}x)")
    print(f"  both files decode to the same values: {r['same_values']}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    r = measure(args.trials, args.repeats)
    report(r)
    if not r["same_values"]:
        sys.exit("the two writers' files differ")
    return r


if __name__ == "__main__":
    main()

"""1 thread against 2 threads (issue 12, target 4: at least 1.85x), in one process, taking turns.

    .venv/bin/python benchmarks/threads.py [--trials 10000] [--repeats 5]

Times, best of ``--repeats`` with 1 and 2 Numba threads alternating (so a burst of load
from other processes hits both alike): the bare kernel over all trials in one call
(``engine.run_chunk``: one parallel region) and the run as ``salessim run`` makes it
(``engine.run_buffers``: chunks of the default size, one parallel region and one barrier
each); each also with Numba's default schedule (equal shares, ``engine.TRIALS_PER_TASK = 0``)
against the engine's (threads take ``engine.TRIALS_PER_TASK`` trials at a time). Baseline scenario, kernel compiled or loaded from the cache before timing. Writes
``results/threads.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
TARGET = 1.85


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "results" / "threads.json"))
    args = parser.parse_args(argv)

    import numba

    import salessim
    from salessim.engine import default_chunk_trials, run_buffers, run_chunk
    from salessim.inputs import build_inputs

    sc = salessim.load_scenario(SCENARIO)
    inputs = build_inputs(sc)
    run_chunk(inputs, 0, 0, 64)
    from salessim import engine

    def scheduled(per_task, fn):
        def run():
            engine.TRIALS_PER_TASK, saved = per_task, engine.TRIALS_PER_TASK
            try:
                fn()
            finally:
                engine.TRIALS_PER_TASK = saved
        return run

    runs = {
        f"run_chunk, {engine.TRIALS_PER_TASK} trials per task": lambda: run_chunk(inputs, 0, 0, args.trials),
        "run_chunk, equal shares (Numba default)": scheduled(0, lambda: run_chunk(inputs, 0, 0, args.trials)),
        f"run_buffers (default chunks), {engine.TRIALS_PER_TASK} per task": lambda: run_buffers(sc, args.trials, 0, inputs=inputs),
        "run_buffers, equal shares": scheduled(0, lambda: run_buffers(sc, args.trials, 0, inputs=inputs)),
    }
    best = {(name, th): (math.inf, math.inf) for name in runs for th in (1, 2)}
    load0 = os.getloadavg()
    for _ in range(args.repeats):
        for name, fn in runs.items():
            for th in (1, 2):
                numba.set_num_threads(th)
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                best[name, th] = min(best[name, th], (time.perf_counter() - t0, time.process_time() - c0))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    result = {"trials": args.trials, "repeats": args.repeats, "target": TARGET,
              "chunk_trials": default_chunk_trials(inputs, args.trials),
              "load_average": [round(x, 2) for x in load0],
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "rows": []}
    print(f"1 vs 2 threads, {args.trials:,} trials, best of {args.repeats} (load average {load0[0]:.2f} before, "
          f"{result['load_average_after'][0]:.2f} after)")
    for name in runs:
        (w1, c1), (w2, c2) = best[name, 1], best[name, 2]
        row = {"run": name, "one_thread_s": w1, "two_threads_s": w2, "speedup": w1 / w2,
               "cpu_one_s": c1, "cpu_two_s": c2}
        result["rows"].append(row)
        print(f"  {name:<48} 1 thread {w1:.3f} s, 2 threads {w2:.3f} s: {w1 / w2:.2f}x "
              f"(CPU {c1:.2f} s vs {c2:.2f} s; target >= {TARGET}x: {'met' if w1 / w2 >= TARGET else 'MISSED'})")
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

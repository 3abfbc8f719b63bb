"""The engine against the minimal-draw floor: a kernel that draws only the random numbers the model needs.

    .venv/bin/python benchmarks/floor.py [--trials 10000] [--repeats 5] [--threads 2]
    (or as part of: .venv/bin/python benchmarks/bench_engine.py --floor)

Issue 12, target 3. The floor is defined as the issue defines it: a Numba kernel that, for
the same rep-months and wins as the engine's run, draws **one uniform and one Poisson per
rep-month and one uniform and one lognormal per win, and nothing else**. The engine's time
over the floor's time, on the same trials and the same thread count (2 by default), says
how much the engine spends beyond the randomness it cannot avoid: every other draw (a
rep-month's funnel beyond one Poisson, a deal's orphan coin, joiners, downturns, churn)
and all bookkeeping (seat state, routing deals to booking months, quota, commission,
ARR, the output arrays).

How the floor gets "the same rep-months and wins": the engine runs the trials first
(untimed) and the floor reads, per (trial, month, territory), the engine's headcount
(rep-months) and new wins, and the month's expected leads per rep (the scenario's
``lead_mean`` times the downturn multiplier of that trial-month, over the headcount).
A rep-month's Poisson is the library's single-variate sampler, ``poisson_inv`` (inversion
with one uniform: a rep-month has its own mean); a win's lognormal is the engine's
deal-size draw, ``exp(mu + sigma * normal_zig)``. The floor keeps one counter-based stream
per trial (no per-rep-month stream address) and sums every variate into a value it
returns, so none is optimised away. This floor reproduces the issue's "2.6-2.7x today".

A stricter floor is reported beside it: the same, but every rep-month of a
territory-month draws its Poisson by ``poisson_lookup`` on one shared CDF table built
with ``poisson_table`` (in the floor all reps of a territory-month share a mean, which the
engine's reps do only when fully ramped), about 1.6x faster than inversion.

Both run on the baseline without its open pipeline (the floor has no open deals; the
engine's open deals are measured in ``starting_state.py``), and, with ``--pinned``, on
the 0.1.0 baseline (``tests/data/pinned/baseline.yaml``).

Before issue 12 this script measured a different floor (every draw the engine made,
counted exactly by replaying its decisions: 1.39x); the issue asks for the minimal one,
which is the lower bound that matters, so the script now measures that.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

from salessim.kernels.streams import (
    POISSON_TABLE_MAX_MEAN,
    POISSON_TABLE_SIZE,
    normal_zig,
    poisson_inv,
    poisson_lookup,
    poisson_table,
    trial_key,
    uniform,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
PINNED = ROOT / "tests" / "data" / "pinned" / "baseline.yaml"
TARGET_RATIO = 2.0


@njit(cache=True)
def floor_trial(seed, trial, reps, wins, lam, deal_mu, deal_sigma, shared):
    """One trial: per rep-month a uniform and a Poisson(lam[t, k]), per win a uniform and a
    lognormal; ``reps`` and ``wins`` are (H, K) counts. Returns the sum of every variate.

    The Poisson is ``poisson_inv``, or with ``shared`` a lookup in a table built once per
    territory-month."""
    H, K = reps.shape
    st = np.empty(1, dtype=np.uint64)
    st[0] = trial_key(seed, trial)
    table = np.empty(POISSON_TABLE_SIZE)
    total = 0.0
    count = 0
    for t in range(H):
        for k in range(K):
            mean = lam[t, k]
            n = reps[t, k]
            if n > 0:
                if shared and mean < POISSON_TABLE_MAX_MEAN:
                    length = poisson_table(mean, table)  # once per territory-month, as the engine builds it
                    for _ in range(n):
                        total += uniform(st)
                        count += poisson_lookup(uniform(st), mean, table, length)
                else:
                    for _ in range(n):
                        total += uniform(st)
                        count += poisson_inv(uniform(st), mean)
            mu, sigma = deal_mu[k], deal_sigma[k]
            for _ in range(wins[t, k]):
                total += uniform(st)
                total += math.exp(mu + sigma * normal_zig(st))
    return total + count


@njit(cache=True, parallel=True)
def floor_chunk(seed, reps, wins, lam, deal_mu, deal_sigma, shared):
    """The floor over trials 0 .. n-1 (one per row of ``reps``), in parallel; the sum of all variates."""
    n = reps.shape[0]
    acc = np.zeros(n)
    for i in prange(n):
        acc[i] = floor_trial(seed, i, reps[i], wins[i], lam[i], deal_mu, deal_sigma, shared)
    return acc.sum()


class FloorRun:
    """The floor's inputs for trials ``0 .. n-1`` (from the engine's run of them) and a callable running it."""

    def __init__(self, inputs, seed: int, engine_out: dict):
        from salessim.kernels.month import C_HEADCOUNT, C_WINS

        market, terr = inputs.market, inputs.territories
        counts = engine_out["counts"]
        self.reps = np.ascontiguousarray(counts[C_HEADCOUNT])
        self.wins = np.ascontiguousarray(counts[C_WINS])
        mult = np.where(engine_out["downturn"] > 0, float(market.downturn_lead_mult[0]), 1.0)  # (n, H)
        leads = market.lead_mean[0][None, :, :] * mult[:, :, None]
        self.lam = np.ascontiguousarray(leads / np.maximum(self.reps, 1))
        self.deal_mu, self.deal_sigma = np.ascontiguousarray(terr.deal_mu[0]), np.ascontiguousarray(terr.deal_sigma[0])
        self.seed = seed
        self.rep_months = int(self.reps.sum(dtype=np.int64))
        self.deals = int(self.wins.sum(dtype=np.int64))

    def __call__(self, shared: bool = False) -> float:
        return floor_chunk(np.uint64(self.seed), self.reps, self.wins, self.lam, self.deal_mu, self.deal_sigma, shared)


def _timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    c0 = time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def measure(trials: int = 10_000, repeats: int = 5, seed: int = 0, scenario: Path = SCENARIO,
            threads: int | None = None) -> dict:
    """Engine kernel and floor on the same trials and threads, taking turns, best of ``repeats``."""
    import numba

    import salessim
    from salessim.engine import run_chunk
    from salessim.inputs import build_inputs

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from numpy_model import without_open_pipeline

    if threads is not None:
        numba.set_num_threads(threads)
    sc = without_open_pipeline(salessim.load_scenario(scenario))
    inputs = build_inputs(sc)
    run_chunk(inputs, seed, 0, 64)  # JIT or cache load, both kernels
    FloorRun(inputs, seed, run_chunk(inputs, seed, 0, 64))()
    floor = FloorRun(inputs, seed, run_chunk(inputs, seed, 0, trials))
    load_before = os.getloadavg()
    engine_best = floor_best = shared_best = (math.inf, math.inf)
    for _ in range(repeats):  # interleaved, so a burst of load hits all three
        wall, cpu, _ = _timed(lambda: run_chunk(inputs, seed, 0, trials))
        engine_best = min(engine_best, (wall, cpu))
        wall, cpu, acc = _timed(floor)
        floor_best = min(floor_best, (wall, cpu))
        wall, cpu, _ = _timed(lambda: floor(shared=True))
        shared_best = min(shared_best, (wall, cpu))
    n_threads = numba.get_num_threads()
    rm = floor.rep_months
    return {
        "scenario": str(Path(scenario).resolve().relative_to(ROOT)),
        "trials": trials,
        "repeats": repeats,
        "threads": n_threads,
        "rep_months": rm,
        "deals_per_rep_month": floor.deals / rm,
        "engine_kernel_s": engine_best[0],
        "floor_s": floor_best[0],
        "engine_cpu_s": engine_best[1],
        "floor_cpu_s": floor_best[1],
        "ratio_engine_vs_floor": engine_best[0] / floor_best[0],
        "target_ratio": TARGET_RATIO,
        "target_met": engine_best[0] / floor_best[0] <= TARGET_RATIO,
        "engine_ns_per_rep_month": engine_best[0] * 1e9 / rm,
        "floor_ns_per_rep_month": floor_best[0] * 1e9 / rm,
        "shared_table_floor_s": shared_best[0],
        "shared_table_floor_cpu_s": shared_best[1],
        "ratio_engine_vs_shared_table_floor": engine_best[0] / shared_best[0],
        "floor_checksum": float(acc),
        "load_average": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict) -> None:
    print(f"\nfloor: {r['scenario']} without open deals, {r['trials']:,} trials, {r['threads']} threads, best of "
          f"{r['repeats']} (load average {r['load_average'][0]:.2f} before, {r['load_average_after'][0]:.2f} after)")
    print(f"  {r['rep_months']:,} rep-months, {r['deals_per_rep_month']:.2f} wins per rep-month")
    print(f"  {'kernel':<34}{'seconds':>9}{'CPU s':>8}{'ns / rep-month':>17}")
    rm = r["rep_months"]
    for name, s, cpu in (("engine kernel (run_chunk)", r["engine_kernel_s"], r["engine_cpu_s"]),
                         ("floor: poisson_inv", r["floor_s"], r["floor_cpu_s"]),
                         ("stricter floor: shared tables", r["shared_table_floor_s"], r["shared_table_floor_cpu_s"])):
        print(f"  {name:<34}{s:>9.3f}{cpu:>8.3f}{s * 1e9 / rm:>17.1f}")
    verdict = "met" if r["target_met"] else f"missed by {r['ratio_engine_vs_floor'] / r['target_ratio']:.2f}x"
    print(f"  engine / floor = {r['ratio_engine_vs_floor']:.2f}x (target <= {r['target_ratio']:.0f}x: {verdict}); "
          f"CPU time {r['engine_cpu_s'] / r['floor_cpu_s']:.2f}x; against the stricter floor "
          f"{r['ratio_engine_vs_shared_table_floor']:.2f}x")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Engine kernel against the minimal-draw floor (issue 12).")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    parser.add_argument("--pinned", action="store_true", help="also measure the 0.1.0 baseline")
    args = parser.parse_args(argv)
    r = measure(args.trials, args.repeats, args.seed, threads=args.threads)
    report(r)
    if args.pinned:
        report(measure(args.trials, args.repeats, args.seed, scenario=PINNED, threads=args.threads))
    return r


if __name__ == "__main__":
    sys.exit(main() and 0)

"""The engine against a floor: a kernel that only draws the engine's random numbers.

    .venv/bin/python benchmarks/floor.py [--trials 10000] [--repeats 3]
    (or as part of: .venv/bin/python benchmarks/bench_engine.py --floor)

Issue 6, item 2. For the same trials of ``scenarios/baseline.yaml`` the floor kernel
:func:`floor_chunk` draws the same number and kinds of variates that the engine's
``simulate_chunk`` draws, with the same samplers of :mod:`salessim.kernels.streams`, and
nothing else: no seat state, no routing of deals, no bookings, quota, commission or ARR.
Every variate is summed into an accumulator that the kernel returns, so none is optimised
away. ``engine time / floor time`` says how much of the engine is bookkeeping around the
draws.

How the counts are obtained (exactly, not approximately):

1. :func:`census_chunk` replays the engine's random decisions for each trial from the
   engine's own streams: downturns, joiners (skill, departure tenure, time to fill),
   ramp, each rep-month's leads (shared CDF tables for fully ramped reps, ``poisson_inv``
   otherwise), whether capacity binds, opportunities and wins. It keeps per
   (trial, month, territory) how many rep-months took each sampler path, how many were
   capacity-bound (and by which sampler), how many deals were won, how many
   shared-table pairs were built, joiners and "no productive rep" draws, plus the mean
   Poisson parameters actually used. Its headcount, leads, opportunities and wins are
   checked to equal the engine's ``C_HEADCOUNT``, ``C_LEADS``, ``C_OPPORTUNITIES`` and
   ``C_WINS`` for every (trial, month, territory): if they do not, the script stops.
   (The census is untimed and is not the floor: it carries the seat state the floor
   leaves out.)
2. The customers before each month's churn draw come from the engine's
   ``C_NEW_CUSTOMERS`` and ``C_CHURNED_CUSTOMERS`` (existing customers plus the running sum).
3. :func:`floor_chunk` then loops over those numbers. Per (trial, month, territory):
   per rep-month one stream key, two Poisson variates (``poisson_lookup`` on the shared
   tables, built once per territory-month as the engine does, for the ramped reps;
   ``poisson_inv`` for the others), the win uniform, the capacity-bound opportunity
   lookup (``table_lookup`` on the precomputed Binomial CDFs) or a skipped uniform, and
   ``binomial_inv_logs`` for the wins; per deal ``categorical_inv`` (cycle lag),
   ``normal_zig`` + ``math.exp`` (value) and a uniform (orphan coin); per joiner a
   ``normal_inv`` + ``exp`` skill, an Exp(1) departure tenure and a ``categorical_inv``
   time to fill; per month the downturn uniform; per territory-month the churn binomial.

Parameters are the engine's: per (trial, month, territory) the Poisson means the engine
used (ramped reps: leads_per_month x seasonality x growth x downturn multiplier / the
territory's total ramp; ramping reps: the mean of their own means), ``p_opp``, the capped
CDFs, win rate x downturn multiplier (skill is left at its mean, 1), deal mu and sigma
(:func:`salessim.inputs.build_inputs`). The one simplification: a floor rep-month's win
binomial has as many trials as the floor's own opportunity draw, which has the engine's
law but not the engine's value, and the capacity-bound rep-months are the first ones of
their kind in the territory-month. The number of deals drawn is the engine's exactly.
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

from salessim.kernels.month import departure_tenure, draw_occupant
from salessim.kernels.streams import (
    NEVER,
    POISSON_TABLE_MAX_MEAN,
    POISSON_TABLE_SIZE,
    PURPOSE_CHURN,
    PURPOSE_DOWNTURN,
    PURPOSE_OCCUPANT,
    PURPOSE_REP_MONTH,
    PURPOSE_UNWORKED,
    binomial_inv,
    binomial_inv_logs,
    categorical_inv,
    normal_inv,
    normal_zig,
    poisson_inv,
    poisson_lookup,
    poisson_table,
    skip,
    substream_key,
    table_lookup,
    trial_key,
    uniform,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"

# census columns, per (trial, month, territory)
(N_RM_TABLE, N_RM_INV, N_RM_ZERO, N_CAP_RAMPED, N_CAP_RAMPING, N_CAP_BINV, N_WINS, N_OPPS, N_LEADS,
 N_TABLES, N_UNWORKED, N_JOINERS, N_DOWNTURN) = range(13)
N_CENSUS = 13
CENSUS_NAMES = ("rep-months, shared Poisson tables", "rep-months, poisson_inv", "rep-months with f = 0",
                "capacity-bound, ramped", "capacity-bound, ramping", "capacity-bound by binomial_inv",
                "deals (wins)", "opportunities", "leads", "shared-table pairs built",
                "no-productive-rep Poisson draws", "joiners", "downturn uniforms")
# census parameters: Poisson mean of a fully ramped rep, mean of the ramping reps' means, win multiplier
P_LAM_RAMPED, P_LAM_RAMPING_SUM, P_WIN_MULT = range(3)
N_PARAMS = 3


@njit(cache=True)
def census_trial(seed, trial, lead_mean, downturn_p_month, downturn_months, downturn_lead_mult, downturn_win_mult,
                 p_opp, win_rate, capacity, skill_sigma, ramp, ramp_len, fill_cdf, fill_len,
                 band_until, band_hazard, band_count, capped_cdf, capped_len, backfill,
                 seat_key, seat_terr, seat_start, seat_tenure0, out, par):
    """Replay one trial's random decisions as ``simulate_trial`` makes them; count into ``out`` (H, K, N_CENSUS)."""
    H, K = lead_mean.shape
    S = seat_terr.shape[0]
    st = np.empty(1, dtype=np.uint64)
    tkey = trial_key(seed, trial)
    active = np.zeros(S, dtype=np.bool_)
    occupants = np.zeros(S, dtype=np.int64)
    next_start = seat_start.copy()
    tenure = np.zeros(S, dtype=np.int64)
    leave_at = np.zeros(S, dtype=np.int64)
    fill_lag = np.zeros(S, dtype=np.int64)
    skill = np.ones(S)
    ramp_f = np.zeros(S)
    sum_f = np.zeros(K)
    opp_table = np.empty((K, POISSON_TABLE_SIZE))
    non_table = np.empty((K, POISSON_TABLE_SIZE))
    opp_len = np.zeros(K, dtype=np.int64)
    non_len = np.zeros(K, dtype=np.int64)
    downturn_last = -1
    for t in range(H):
        if t > downturn_last and downturn_p_month > 0.0:
            st[0] = substream_key(tkey, PURPOSE_DOWNTURN, t, 0)
            out[t, 0, N_DOWNTURN] += 1
            if uniform(st) < downturn_p_month:
                downturn_last = t + downturn_months - 1
        in_downturn = t <= downturn_last
        win_mult = downturn_win_mult if in_downturn else 1.0
        lead_mult = downturn_lead_mult if in_downturn else 1.0
        sum_f[:] = 0.0
        for s in range(S):
            k = seat_terr[s]
            if not active[s] and next_start[s] == t:
                first = occupants[s] == 0
                tenure[s] = seat_tenure0[s] if first else 0
                skill[s], leave_at[s], fill_lag[s] = draw_occupant(
                    st, tkey, seat_key[s], occupants[s], tenure[s], skill_sigma[k],
                    band_until[k], band_hazard[k], band_count[k], fill_cdf[k], fill_len[k])
                occupants[s] += 1
                active[s] = True
                next_start[s] = NEVER
                out[t, k, N_JOINERS] += 1
            if active[s]:
                f = ramp[k, tenure[s]] if tenure[s] < ramp_len[k] else 1.0
                ramp_f[s] = f
                sum_f[k] += f
        for k in range(K):
            opp_len[k] = 0
            par[t, k, P_WIN_MULT] = win_mult
            # with no productive rep: the territory's whole mean (the unworked draw)
            par[t, k, P_LAM_RAMPED] = lead_mean[t, k] * lead_mult / (sum_f[k] if sum_f[k] > 0.0 else 1.0)
            if sum_f[k] <= 0.0:
                st[0] = substream_key(tkey, PURPOSE_UNWORKED, k, t)
                out[t, k, N_LEADS] += poisson_inv(uniform(st), lead_mean[t, k] * lead_mult)
                out[t, k, N_UNWORKED] += 1
        for s in range(S):
            if not active[s]:
                continue
            k = seat_terr[s]
            f = ramp_f[s]
            if f > 0.0:
                lam = lead_mean[t, k] * lead_mult * f / sum_f[k]
                p = p_opp[k]
                lam_opp = lam * p
                lam_non = lam * (1.0 - p)
                st[0] = substream_key(tkey, PURPOSE_REP_MONTH, seat_key[s], t)
                ramped = f == 1.0 and lam_opp < POISSON_TABLE_MAX_MEAN and lam_non < POISSON_TABLE_MAX_MEAN
                if ramped:
                    if opp_len[k] == 0:
                        opp_len[k] = poisson_table(lam_opp, opp_table[k])
                        non_len[k] = poisson_table(lam_non, non_table[k])
                        out[t, k, N_TABLES] += 1
                    opps = poisson_lookup(uniform(st), lam_opp, opp_table[k], opp_len[k])
                    leads = opps + poisson_lookup(uniform(st), lam_non, non_table[k], non_len[k])
                    out[t, k, N_RM_TABLE] += 1
                else:
                    opps = poisson_inv(uniform(st), lam_opp)
                    leads = opps + poisson_inv(uniform(st), lam_non)
                    out[t, k, N_RM_INV] += 1
                    par[t, k, P_LAM_RAMPING_SUM] += lam
                u_wins = uniform(st)
                cap = capacity[k] * f
                if leads <= cap:
                    skip(st, 1)
                else:
                    worked = int(math.floor(cap))
                    level = min(tenure[s], ramp_len[k])
                    if ramped:
                        out[t, k, N_CAP_RAMPED] += 1
                    else:
                        out[t, k, N_CAP_RAMPING] += 1
                    if capped_len[k, level] > 0:
                        opps = table_lookup(uniform(st), capped_cdf[k, level], capped_len[k, level])
                    else:
                        opps = binomial_inv(uniform(st), worked, p)
                        out[t, k, N_CAP_BINV] += 1
                pw = min(1.0, win_rate[k] * skill[s] * win_mult)
                lp = math.log(pw) if pw > 0.0 else -math.inf
                lq = math.log1p(-pw) if pw < 1.0 else -math.inf
                wins = binomial_inv_logs(u_wins, opps, pw, lp, lq)
                out[t, k, N_LEADS] += leads
                out[t, k, N_OPPS] += opps
                out[t, k, N_WINS] += wins
            else:
                out[t, k, N_RM_ZERO] += 1
            if tenure[s] >= leave_at[s]:
                active[s] = False
                if backfill[k]:
                    next_start[s] = t + 1 + fill_lag[s]
            else:
                tenure[s] += 1


@njit(cache=True, parallel=True)
def census_chunk(seed, trial0, lead_mean, downturn_p_month, downturn_months, downturn_lead_mult, downturn_win_mult,
                 p_opp, win_rate, capacity, skill_sigma, ramp, ramp_len, fill_cdf, fill_len,
                 band_until, band_hazard, band_count, capped_cdf, capped_len, backfill,
                 seat_key, seat_terr, seat_start, seat_tenure0, out, par):
    for i in prange(out.shape[0]):
        census_trial(seed, trial0 + i, lead_mean, downturn_p_month, downturn_months, downturn_lead_mult,
                     downturn_win_mult, p_opp, win_rate, capacity, skill_sigma, ramp, ramp_len, fill_cdf, fill_len,
                     band_until, band_hazard, band_count, capped_cdf, capped_len, backfill,
                     seat_key, seat_terr, seat_start, seat_tenure0, out[i], par[i])


@njit(cache=True)
def floor_trial(seed, trial, census, par, customers, p_opp, win_rate, capacity, ramp, ramp_len, capped_cdf, capped_len,
                cycle_cdf, cycle_len, deal_mu, deal_sigma, orphan_rate, skill_sigma, fill_cdf, fill_len,
                band_until, band_hazard, band_count, churn_month):
    """Draw one trial's variates as counted by the census; return their sum."""
    H, K = census.shape[0], census.shape[1]
    st = np.empty(1, dtype=np.uint64)
    aux = np.empty(1, dtype=np.uint64)
    opp_table = np.empty(POISSON_TABLE_SIZE)
    non_table = np.empty(POISSON_TABLE_SIZE)
    tkey = trial_key(seed, trial)
    total = 0.0
    itotal = 0
    for t in range(H):
        if census[t, 0, N_DOWNTURN] > 0:
            st[0] = substream_key(tkey, PURPOSE_DOWNTURN, t, 0)
            total += uniform(st)
        for k in range(K):
            c = census[t, k]
            p = p_opp[k]
            for j in range(c[N_JOINERS]):
                st[0] = substream_key(tkey, PURPOSE_OCCUPANT, k * 4096 + j, t)
                sig = skill_sigma[k]
                total += math.exp(sig * normal_inv(uniform(st)) - 0.5 * sig * sig)
                itotal += departure_tenure(-math.log(uniform(st)), 0, band_until[k], band_hazard[k], band_count[k]) & 1023
                itotal += categorical_inv(uniform(st), fill_cdf[k], fill_len[k])
            lam = par[t, k, P_LAM_RAMPED]
            for j in range(c[N_UNWORKED]):
                st[0] = substream_key(tkey, PURPOSE_UNWORKED, k, t)
                itotal += poisson_inv(uniform(st), lam)
            # rep-months: fully ramped reps on the shared tables, then the others by inversion
            pw = min(1.0, win_rate[k] * par[t, k, P_WIN_MULT])
            lp = math.log(pw) if pw > 0.0 else -math.inf
            lq = math.log1p(-pw) if pw < 1.0 else -math.inf
            n_table = c[N_RM_TABLE]
            n_inv = c[N_RM_INV]
            opp_len = 0
            non_len = 0
            if c[N_TABLES] > 0:
                opp_len = poisson_table(lam * p, opp_table)
                non_len = poisson_table(lam * (1.0 - p), non_table)
            lam_inv = par[t, k, P_LAM_RAMPING_SUM] / n_inv if n_inv > 0 else 0.0
            for j in range(n_table + n_inv):
                st[0] = substream_key(tkey, PURPOSE_REP_MONTH, k * 4096 + j, t)
                if j < n_table:
                    opps = poisson_lookup(uniform(st), lam * p, opp_table, opp_len)
                    leads = opps + poisson_lookup(uniform(st), lam * (1.0 - p), non_table, non_len)
                    capped = j < c[N_CAP_RAMPED]
                    level = ramp_len[k]
                    f = 1.0
                else:
                    opps = poisson_inv(uniform(st), lam_inv * p)
                    leads = opps + poisson_inv(uniform(st), lam_inv * (1.0 - p))
                    capped = j - n_table < c[N_CAP_RAMPING]
                    level = ramp_len[k] // 2
                    f = ramp[k, level]
                u_wins = uniform(st)
                if capped:
                    if capped_len[k, level] > 0:
                        opps = table_lookup(uniform(st), capped_cdf[k, level], capped_len[k, level])
                    else:
                        opps = binomial_inv(uniform(st), int(math.floor(capacity[k] * f)), p)
                else:
                    skip(st, 1)
                itotal += leads + opps + binomial_inv_logs(u_wins, opps, pw, lp, lq)
            # deals: cycle lag, lognormal value, orphan coin
            st[0] = substream_key(tkey, PURPOSE_REP_MONTH, k * 4096 + 4095, t)
            for _ in range(c[N_WINS]):
                itotal += categorical_inv(uniform(st), cycle_cdf[k], cycle_len[k])
                total += math.exp(deal_mu[k] + deal_sigma[k] * normal_zig(st, aux))
                itotal += uniform(st) < orphan_rate[k]
            n_cust = customers[t, k]
            if n_cust > 0 and churn_month[k] > 0.0:
                st[0] = substream_key(tkey, PURPOSE_CHURN, k, t)
                itotal += binomial_inv(uniform(st), n_cust, churn_month[k])
    return total + itotal


@njit(cache=True, parallel=True)
def floor_chunk(seed, trial0, census, par, customers, p_opp, win_rate, capacity, ramp, ramp_len, capped_cdf, capped_len,
                cycle_cdf, cycle_len, deal_mu, deal_sigma, orphan_rate, skill_sigma, fill_cdf, fill_len,
                band_until, band_hazard, band_count, churn_month):
    """The floor over trials ``trial0 ..`` (one per row of ``census``), in parallel; the sum of all variates."""
    n = census.shape[0]
    acc = np.zeros(n)
    for i in prange(n):
        acc[i] = floor_trial(seed, trial0 + i, census[i], par[i], customers[i], p_opp, win_rate, capacity, ramp,
                             ramp_len, capped_cdf, capped_len, cycle_cdf, cycle_len, deal_mu, deal_sigma, orphan_rate,
                             skill_sigma, fill_cdf, fill_len, band_until, band_hazard, band_count, churn_month)
    return acc.sum()


class FloorRun:
    """The census of trials ``0 .. n-1`` and a callable that runs the floor over them."""

    def __init__(self, inputs, seed: int, n: int, engine_out: dict):
        from salessim.kernels.month import (C_CHURNED_CUSTOMERS, C_HEADCOUNT, C_LEADS, C_NEW_CUSTOMERS,
                                            C_OPPORTUNITIES, C_WINS)

        from numpy_model import flat_inputs

        h, k, _, _ = inputs.shape
        inputs = flat_inputs(inputs)
        self.inputs, self.seed, self.n = inputs, seed, n
        census = np.zeros((n, h, k, N_CENSUS), dtype=np.int64)
        par = np.zeros((n, h, k, N_PARAMS))
        i = inputs
        # the stream address of each seat (older engines used the seat's position)
        seat_key = getattr(inputs, "seat_key", None)
        if seat_key is None:
            seat_key = np.arange(inputs.seat_terr.shape[0], dtype=np.int64)
        census_chunk(np.uint64(seed), np.int64(0), i.lead_mean, i.downturn_p_month, np.int64(i.downturn_months),
                     i.downturn_lead_mult, i.downturn_win_mult, i.p_opp, i.win_rate, i.capacity, i.skill_sigma,
                     i.ramp, i.ramp_len, i.fill_cdf, i.fill_len, i.band_until, i.band_hazard, i.band_count,
                     i.capped_cdf, i.capped_len, i.backfill, seat_key, i.seat_terr, i.seat_start, i.seat_tenure0, census, par)
        counts = engine_out["counts"]
        checks = {
            "headcount": (census[..., N_RM_TABLE] + census[..., N_RM_INV] + census[..., N_RM_ZERO], counts[C_HEADCOUNT]),
            "leads": (census[..., N_LEADS], counts[C_LEADS]),
            "opportunities": (census[..., N_OPPS], counts[C_OPPORTUNITIES]),
            "wins": (census[..., N_WINS], counts[C_WINS]),
        }
        for name, (ours, engine) in checks.items():
            if not np.array_equal(ours, engine):
                bad = int((ours != engine).sum())
                raise RuntimeError(f"floor census disagrees with the engine's {name} in {bad} (trial, month, territory) "
                                   "cells: the engine changed; update census_trial in benchmarks/floor.py")
        # customers before each month's churn: existing ones plus the running sum of (new - churned) before it
        net = counts[C_NEW_CUSTOMERS].astype(np.int64) - counts[C_CHURNED_CUSTOMERS]
        before = np.cumsum(net, axis=1) - net
        customers = np.where(inputs.recurring[None, None, :] > 0,
                             inputs.existing_customers[None, None, :] + before, 0).astype(np.int64)
        # the churn draw happens before this month's new customers arrive: subtract nothing more
        self.census, self.par, self.customers = census, par, np.ascontiguousarray(customers)
        tot = census.sum(axis=(0, 1, 2))
        self.totals = {name: int(v) for name, v in zip(CENSUS_NAMES, tot)}
        self.totals["churn binomials"] = int(((customers > 0) & (inputs.churn_month[None, None, :] > 0)).sum())
        self.totals["rep-months (headcount)"] = int(counts[C_HEADCOUNT].sum(dtype=np.int64))

    def __call__(self) -> float:
        i = self.inputs
        return floor_chunk(np.uint64(self.seed), np.int64(0), self.census, self.par, self.customers, i.p_opp,
                           i.win_rate, i.capacity, i.ramp, i.ramp_len, i.capped_cdf, i.capped_len, i.cycle_cdf,
                           i.cycle_len, i.deal_mu, i.deal_sigma, i.orphan_rate, i.skill_sigma, i.fill_cdf, i.fill_len,
                           i.band_until, i.band_hazard, i.band_count, i.churn_month)


def _timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(trials: int = 10_000, repeats: int = 3, seed: int = 0, scenario: Path = SCENARIO) -> dict:
    """Engine kernel time and floor time on the same trials (both at the current thread count), best of ``repeats``."""
    import numba

    import salessim
    from salessim.engine import run_chunk
    from salessim.inputs import build_inputs

    from numpy_model import without_open_pipeline

    sc = without_open_pipeline(salessim.load_scenario(scenario))  # the floor kernel draws no open deals
    inputs = build_inputs(sc)
    # warm up both (JIT or cache load); the census needs the engine's counts of the same trials
    run_chunk(inputs, seed, 0, 64)
    FloorRun(inputs, seed, 64, run_chunk(inputs, seed, 0, 64))()
    load_before = os.getloadavg()
    engine_out = run_chunk(inputs, seed, 0, trials)
    t0 = time.perf_counter()
    floor = FloorRun(inputs, seed, trials, engine_out)
    census_s = time.perf_counter() - t0
    del engine_out
    best_engine = best_floor = math.inf
    for _ in range(repeats):  # interleaved, so a burst of load hits both
        seconds, _ = _timed(lambda: run_chunk(inputs, seed, 0, trials))
        best_engine = min(best_engine, seconds)
        seconds, acc = _timed(floor)
        best_floor = min(best_floor, seconds)
    rep_months = floor.totals["rep-months (headcount)"]
    return {
        "scenario": str(Path(scenario).resolve().relative_to(ROOT)) if Path(scenario).resolve().is_relative_to(ROOT) else str(scenario),
        "trials": trials,
        "repeats": repeats,
        "threads": numba.get_num_threads(),
        "engine_kernel_s": best_engine,
        "floor_s": best_floor,
        "ratio_engine_vs_floor": best_engine / best_floor,
        "target_ratio": 2.0,
        "target_met": best_engine / best_floor <= 2.0,
        "engine_ns_per_rep_month_cpu": best_engine * numba.get_num_threads() * 1e9 / rep_months,
        "floor_ns_per_rep_month_cpu": best_floor * numba.get_num_threads() * 1e9 / rep_months,
        "census_s": census_s,
        "census_checked_against_engine": True,
        "variates": floor.totals,
        "floor_checksum": float(acc),
        "load_average": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict) -> None:
    print(f"\nfloor: baseline, {r['trials']:,} trials, {r['threads']} threads, best of {r['repeats']} "
          f"(load average {r['load_average'][0]:.2f} before, {r['load_average_after'][0]:.2f} after)")
    rows = [("engine kernel (run_chunk)", r["engine_kernel_s"], r["engine_ns_per_rep_month_cpu"]),
            ("floor (variates only)", r["floor_s"], r["floor_ns_per_rep_month_cpu"])]
    print(f"  {'kernel':<28}{'seconds':>10}{'CPU ns / rep-month':>22}")
    for name, s, ns in rows:
        print(f"  {name:<28}{s:>10.3f}{ns:>22.1f}")
    verdict = "met" if r["target_met"] else f"missed by {r['ratio_engine_vs_floor'] / r['target_ratio']:.2f}x"
    print(f"  engine / floor = {r['ratio_engine_vs_floor']:.2f}x (target <= 2x: {verdict})")
    v = r["variates"]
    rm = v["rep-months (headcount)"]
    print(f"  per rep-month: {v['deals (wins)'] / rm:.2f} deals, "
          f"{(v['capacity-bound, ramped'] + v['capacity-bound, ramping']) / rm:.1%} capacity-bound, "
          f"{v['rep-months, poisson_inv'] / rm:.1%} by poisson_inv (ramping), "
          f"{v['rep-months, shared Poisson tables'] / rm:.1%} on shared tables")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Engine kernel against a kernel that only draws its variates.")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    r = measure(args.trials, args.repeats, args.seed)
    report(r)
    return r


if __name__ == "__main__":
    sys.exit(main() and 0)

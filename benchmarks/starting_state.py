"""What a starting pipeline and uncertain parameters cost, measured in one run (issue 9 targets).

    .venv/bin/python benchmarks/starting_state.py [--trials 10000] [--repeats 5] [--output results/starting_state.json]

Every configuration is timed with ``salessim.simulate`` (kernel plus Dataset, what a user
waits for) and with the bare kernel (``salessim.engine.run_chunk``), JIT excluded (each is
run once before timing), best of ``--repeats``, the configurations taking turns repeat after
repeat so a burst of load on a shared machine hits them alike:

- ``plain``: the baseline without its open pipeline (as it was before issue 9);
- ``pipeline 3000``: the same with 3,000 open deals given as ``pipeline_csv`` (as a
  ``pipeline_file`` is stored), with amounts: the baseline's steady-state pipeline, about
  450 deals, repeated under new ids to 3,000 (about six times what its 26 reps carry, so
  the heaviest case per rep);
- ``org x6.6 plain`` / ``org x6.6 + own pipeline``: the baseline with 6.6 times the reps, leads
  and hires (``scaling.with_reps``), without and with its own steady-state pipeline (about
  3,000 deals): a 3,000-deal pipeline in the organisation that carries it;
- ``uncertain (every key), tpd 1`` / ``tpd 10``: the plain baseline with every supported key
  uncertain (:data:`EVERY_KEY`: all 14 territory keys in every territory, the attrition
  band of Central, growth and the four downturn keys; beta, gamma, normal, lognormal,
  uniform, triangular, dirichlet and samples all used), one trial per draw and ten.

Reported: seconds, and each configuration's ratio to its plain counterpart (targets:
pipeline < 1.10, uncertainty <= 1.3).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
SCENARIO = ROOT / "scenarios" / "baseline.yaml"

#: every supported uncertain key, for the baseline's territories (East, West, Central)
EVERY_KEY = {
    "market.annual_growth": {"normal": {"mean": 0.10, "sd": 0.04}, "min": -0.5},
    "market.downturn.probability_per_year": {"beta": [3, 17]},
    "market.downturn.duration_months": {"samples": [4, 6, 6, 8]},
    "market.downturn.lead_multiplier": {"uniform": [0.7, 0.9]},
    "market.downturn.win_rate_multiplier": {"triangular": [0.75, 0.85, 0.95]},
}
for _name, _leads, _p, _w, _mean in (("East", 160, 0.45, 0.44, 9000), ("West", 256, 0.5625, 0.333, 9000),
                                     ("Central", 126, 0.556, 0.30, 10000)):
    _t = f"territories.{_name}"
    EVERY_KEY.update({
        f"{_t}.leads_per_month": {"gamma": {"mean": _leads, "cv": 0.08}},
        f"{_t}.lead_to_opportunity": {"beta": [_p * 400, (1 - _p) * 400]},
        f"{_t}.win_rate": {"beta": [_w * 300, (1 - _w) * 300]},
        f"{_t}.deal_size.mean": {"lognormal": {"mean": _mean, "cv": 0.1}},
        f"{_t}.deal_size.cv": {"uniform": [0.5, 0.7]},
        f"{_t}.sales_cycle_months": {"dirichlet": [10, 30, 30, 20, 10]},
        f"{_t}.time_to_fill_months": {"dirichlet": [1, 30, 50, 20]},
        f"{_t}.skill_sigma": {"gamma": {"mean": 0.25, "sd": 0.05}},
        f"{_t}.capacity_leads_per_month": {"normal": {"mean": 20, "sd": 2}, "min": 10, "max": 30},
        f"{_t}.orphaned_deal_close_rate": {"beta": [50, 50]},
        f"{_t}.churn_annual": {"beta": [12, 88]},
        f"{_t}.expansion_annual": {"gamma": {"mean": 0.05, "sd": 0.01}},
    })
    if _name == "Central":  # Central has attrition bands
        EVERY_KEY[f"{_t}.attrition_by_tenure.0.annual"] = {"beta": [40, 60]}
        EVERY_KEY[f"{_t}.attrition_by_tenure.1.annual"] = {"uniform": [0.2, 0.3]}
    else:
        EVERY_KEY[f"{_t}.attrition_annual"] = {"uniform": [0.25, 0.35]}


def configurations():
    """(name, scenario, plain counterpart's name)."""
    import salessim
    from salessim.pipeline import steady_pipeline
    from salessim.scenario_files import pipeline_csv_text
    from scaling import with_reps

    base = salessim.load_scenario(SCENARIO)
    plain = base.with_overrides({"pipeline": None, "pipeline_csv": None})
    steady = steady_pipeline(plain, seed=0)
    repeated = [dict(d, id=f"{d['id']}-{copy}") for copy in range(math.ceil(3000 / len(steady))) for d in steady][:3000]
    big = with_reps(plain, 6.6)
    big_deals = steady_pipeline(big, seed=0)
    return [
        ("plain", plain, "plain"),
        ("pipeline 3000", plain.with_overrides({"pipeline_csv": pipeline_csv_text(repeated)}), "plain"),
        ("org x6.6 plain", big, "org x6.6 plain"),
        (f"org x6.6 + own pipeline ({len(big_deals):,} deals)",
         big.with_overrides({"pipeline_csv": pipeline_csv_text(big_deals)}), "org x6.6 plain"),
        ("uncertain (every key), tpd 1", plain.with_overrides({"uncertainty": {"parameters": EVERY_KEY}}), "plain"),
        ("uncertain (every key), tpd 10",
         plain.with_overrides({"uncertainty": {"trials_per_draw": 10, "parameters": EVERY_KEY}}), "plain"),
    ]


def _timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(trials: int, repeats: int, seed: int = 0) -> dict:
    import numba

    import salessim
    from salessim.engine import run_chunk
    from salessim.inputs import build_inputs

    configs = configurations()
    inputs = {name: build_inputs(sc) for name, sc, _ in configs}
    for name, sc, _ in configs:  # compile / load from the cache, first touches
        salessim.simulate(sc, 64, seed)
        run_chunk(inputs[name], seed, 0, 64)
    best = {name: {"simulate": math.inf, "kernel": math.inf} for name, _, _ in configs}
    load = os.getloadavg()
    for _ in range(repeats):
        for name, sc, _ in configs:
            seconds, ds = _timed(lambda: salessim.simulate(sc, trials, seed))
            best[name]["simulate"] = min(best[name]["simulate"], seconds)
            del ds
            seconds, out = _timed(lambda: run_chunk(inputs[name], seed, 0, trials))
            best[name]["kernel"] = min(best[name]["kernel"], seconds)
            del out
    rows = []
    for name, sc, reference in configs:
        rows.append({
            "configuration": name,
            "open_deals": len(sc.spec.pipeline or []),
            "uncertain_paths": len(sc.spec.uncertainty.parameters) if sc.spec.uncertainty else 0,
            "simulate_s": best[name]["simulate"],
            "kernel_s": best[name]["kernel"],
            "against": reference,
            "simulate_ratio": best[name]["simulate"] / best[reference]["simulate"],
            "kernel_ratio": best[name]["kernel"] / best[reference]["kernel"],
        })
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "trials": trials,
        "repeats": repeats,
        "threads": numba.get_num_threads(),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }


def report(r: dict) -> None:
    print(f"starting state and uncertainty, {r['trials']:,} trials, best of {r['repeats']} interleaved, "
          f"{r['threads']} threads (load {r['load_average_at_start'][0]:.2f} -> {r['load_average_at_end'][0]:.2f})")
    print(f"  {'configuration':<44}{'deals':>7}{'paths':>7}{'simulate s':>12}{'ratio':>8}{'kernel s':>10}{'ratio':>8}  against")
    for row in r["rows"]:
        print(f"  {row['configuration']:<44}{row['open_deals']:>7,}{row['uncertain_paths']:>7}{row['simulate_s']:>12.3f}"
              f"{row['simulate_ratio']:>8.3f}{row['kernel_s']:>10.3f}{row['kernel_ratio']:>8.3f}  {row['against']}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "starting_state.json")
    args = parser.parse_args(argv)
    result = measure(args.trials, args.repeats, args.seed)
    report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()

"""Optimizer speed (issue 13): the baseline with 10 hires over 3 territories x 4 quarters.

    .venv/bin/python benchmarks/optimize.py [--objective 'p_goal[2028]'] [--output results/optimize.json]

Everything runs in this one process, after a warm-up that loads the compiled kernels:

* ``salessim.optimize(baseline, 10, '*:2027Q1..2027Q4', objective)`` with its defaults
  (the precision rule: 500 to 4,000 trials per comparison, tolerance 0.05), wall clock,
  with the trials it simulated and the steps it took;
* a plain ``salessim.simulate(baseline, 10_000)``, the unit of work on this machine: the
  optimizer's time is also reported as a multiple of it, which carries across machines
  and machine load better than seconds do (wall clock, and process CPU time, which other
  people's work on a shared machine disturbs less);
* one greedy step's evaluation (the 12 candidate plans and the current plan at 1,000
  trials) three ways: the optimizer's evaluator (horizon cut after FY2028, one Dataset per
  batch of plans); the same without the cut; and a ``simulate`` plus ``trial_values`` of
  each plan on its own (a full Dataset per candidate). The ratios show what the cut and
  the batching save.

The load average before and after is recorded: on a shared machine the seconds move with
other people's work, the ratios much less.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="p_goal[2028]")
    parser.add_argument("--output", default=str(ROOT / "results" / "optimize.json"))
    args = parser.parse_args()

    import salessim
    from salessim.plan import parse_objective, parse_slots
    from salessim.plan.evaluate import Evaluator, PlanLayout
    from salessim.summary import trial_values

    sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    salessim.simulate(sc, 64, 0)  # warm-up: load the kernels' machine code
    out: dict = {"load_before": _load()}

    t, c = time.perf_counter(), time.process_time()
    salessim.simulate(sc, 10_000, 0)
    unit, unit_cpu = time.perf_counter() - t, time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    result = salessim.optimize(sc, 10, "*:2027Q1..2027Q4", args.objective)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    out["optimize"] = {
        "objective": args.objective, "seconds": seconds, "cpu_seconds": cpu, "simulate_10k_seconds": unit,
        "simulate_10k_cpu_seconds": unit_cpu, "ratio_to_simulate_10k": seconds / unit,
        "cpu_ratio_to_simulate_10k": cpu / unit_cpu,
        "trials_simulated": result.trials_simulated, "steps": [s.action for s in result.steps],
        "greedy_steps": sum(s.phase == "greedy" for s in result.steps), "moves": sum(s.phase == "move" for s in result.steps),
        "added": result.added,
        "plans": {p.name: {"objective": p.objective, "objective_se": p.objective_se, "diff": p.diff, "diff_se": p.diff_se}
                  for p in result.plans},
    }

    slots = parse_slots(sc, "*:2027Q1..2027Q4")
    obj = parse_objective(args.objective).check(sc)
    plans = [(0,) * 12] + [tuple(int(j == i) for j in range(12)) for i in range(12)]
    step = {}
    for name, through in (("evaluator (cut after FY2028, batched)", 23), ("evaluator (full horizon, batched)", None)):
        ev = Evaluator(PlanLayout(sc, slots, through=through), obj, 0)
        t = time.perf_counter()
        ev.ensure(plans, 1_000)
        step[name] = time.perf_counter() - t
    layout = PlanLayout(sc, slots)
    t = time.perf_counter()
    for plan in plans:
        obj.values(trial_values(salessim.simulate(layout.scenario(plan), 1_000, 0)))
    step["simulate + trial_values per plan (full horizon)"] = time.perf_counter() - t
    base = step["simulate + trial_values per plan (full horizon)"]
    out["greedy_step"] = {k: {"seconds": v, "ratio_to_per_plan_runs": v / base} for k, v in step.items()}
    out["load_after"] = _load()

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=2))
    o = out["optimize"]
    print(f"load average before {out['load_before']}, after {out['load_after']}")
    print(f"optimize, 10 hires over 12 slots, {o['objective']}: {o['seconds']:.1f} s, {o['cpu_seconds']:.1f} CPU s "
          f"({o['ratio_to_simulate_10k']:.1f} x the wall time of a 10,000-trial simulate, {unit:.2f} s; "
          f"{o['cpu_ratio_to_simulate_10k']:.1f} x its CPU time, {unit_cpu:.2f} s); "
          f"{o['trials_simulated']:,} trials simulated; {o['greedy_steps']} greedy steps, {o['moves']} moves")
    for name, plan in o["plans"].items():
        print(f"  {name:14s} objective {plan['objective']:.4f} ± {plan['objective_se']:.4f}"
              + (f"   optimized - plan {plan['diff']:+.4f} ± {plan['diff_se']:.4f}" if plan["diff"] == plan["diff"] else ""))
    print("one greedy step (13 plans x 1,000 trials):")
    for name, v in out["greedy_step"].items():
        print(f"  {name:48s} {v['seconds']:6.2f} s  ({v['ratio_to_per_plan_runs']:.2f} x per-plan runs)")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

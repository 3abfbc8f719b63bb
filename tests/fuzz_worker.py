"""One fuzz campaign, run in its own process by tests/test_fuzz.py under a memory limit.

    python tests/fuzz_worker.py '{"seed": 1, "count": 240, "runs": 12, ...}' LOG.jsonl WORKDIR

Every mutant of :func:`fuzz_scenarios.mutants` goes through ``salessim validate``; the
first ``runs`` that validate go through ``salessim run`` with a few trials, then
``summary`` (and with ``"outputs": true`` also ``plot``, ``report`` and ``export``). Each
step is one line of LOG (JSON), written and flushed *before* the step starts and again
when it ends, so when the parent kills a hung process the log names the mutant that hung.
Address space is limited with ``resource.setrlimit(RLIMIT_AS)``: an input that tries to
use unbounded memory fails here with MemoryError instead of taking the machine down.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str]) -> None:
    args = json.loads(argv[1])
    log_path, work = Path(argv[2]), Path(argv[3])
    limit = int(args["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from click.testing import CliRunner

    from fuzz_scenarios import mutants
    from salessim.cli import main as cli
    from salessim.inputs import build_inputs
    from salessim.scenario import load_scenario

    runner = CliRunner()
    log = log_path.open("w", encoding="utf-8")

    def record(**fields) -> None:
        log.write(json.dumps(fields) + "\n")
        log.flush()

    def step(index: int, label: str, stage: str, cli_args: list[str]) -> dict:
        record(index=index, label=label, stage=stage, event="start")
        t0 = time.perf_counter()
        try:
            result = runner.invoke(cli, cli_args, catch_exceptions=True)
            exc = result.exception
            crash = None if exc is None or isinstance(exc, SystemExit) else (
                f"{type(exc).__name__}: {exc}"[:500] + "\n" + "".join(traceback.format_exception(exc))[-2000:])
            out = {"exit_code": result.exit_code, "crash": crash, "output_chars": len(result.output),
                   "head": result.output[:400]}
        except MemoryError:  # the limit hit outside click's handling
            out = {"exit_code": None, "crash": "MemoryError outside the command", "output_chars": 0, "head": ""}
        out.update(index=index, label=label, stage=stage, event="end", seconds=round(time.perf_counter() - t0, 3))
        record(**out)
        return out

    ran = 0
    for index, (label, text) in enumerate(mutants(args["seed"], args["count"])):
        path = work / f"m{index}.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        result = step(index, label, "validate", ["validate", str(path)])
        if result["exit_code"] != 0 or ran >= args["runs"]:
            continue
        sc = load_scenario(path)
        inputs = build_inputs(sc)
        market = inputs.market  # row 0: the scenario as written
        expected = float(market.lead_mean[0].sum()) * max(1.0, float(market.downturn_lead_mult[0])) * args["trials"]
        if expected > args["max_leads"]:  # proportional but slow: left to the slow campaign
            record(index=index, label=label, stage="run", event="skipped", expected_leads=expected)
            continue
        ran += 1
        out = work / f"m{index}.h5"
        result = step(index, label, "run", ["run", str(path), "-n", str(args["trials"]), "-o", str(out)])
        if result["exit_code"] != 0:
            continue
        step(index, label, "summary", ["summary", str(out)])
        if args.get("outputs"):
            step(index, label, "plot", ["plot", str(out), "--kind", "territories", "-o", str(work / f"m{index}.png")])
            step(index, label, "report", ["report", str(out), "-o", str(work / f"m{index}.html")])
            step(index, label, "export", ["export", str(out), "--format", "xlsx", "-o", str(work / f"m{index}.xlsx")])
        out.unlink(missing_ok=True)
    record(event="done")
    log.close()


if __name__ == "__main__":
    main(sys.argv)

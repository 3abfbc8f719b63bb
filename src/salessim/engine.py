"""Run the kernels over chunks of trials and label the result (SPEC sections 4 and 7).

The kernel writes each chunk of trials straight into the run's result arrays (one
contiguous array per variable), which the Dataset then wraps without copying; the
kernel's own scratch memory is per trial. :mod:`salessim.stream` runs chunk by chunk into
a file when even the results would not fit.

The way out has two steps: :func:`run_buffers` (the kernel's arrays) and
:func:`result_parts` (the registry's stored variables, the coordinates and the provenance
as plain ``(dims, array, attrs)`` tuples, the netCDF data model). :func:`to_dataset` wraps
those parts in an ``xarray.Dataset`` and adds the derived money variables
(:mod:`salessim.derived`); ``salessim run`` writes the parts to the results file and
summarises them without building one, so it never imports xarray or pandas and never
makes the derived arrays (:func:`salessim.results.write_parts`,
:func:`salessim.summary.rows_of_parts`).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple

import numba
import numpy as np

from . import __version__
from ._numba_start import first_kernel_call
from .inputs import ModelInputs, build_inputs
from .kernels.layout import Outputs, Trace
from .kernels.month import N_COUNTS, N_FLOWS, simulate_chunk, simulate_trial
from .scenario import Scenario
from .derived import DERIVED, DERIVED_FROM, add_derived, derived_values  # noqa: F401 (add_derived: part of this module's API)
from .variables import VARIABLES, by_name

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["simulate", "run_buffers", "result_parts", "ResultParts", "to_dataset", "SimulationError", "MAX_SEED",
           "add_derived", "trace_trial", "TrialTrace"]

MAX_SEED = 2**63 - 1
_CHUNK_BYTES = 64 * 2**20  # target size of one chunk's buffers
# Trials a kernel thread takes at a time (Numba's parallel chunk size): threads take the
# next batch when they finish one instead of an equal share each, so a core slowed by other
# work, or a run of costly trials, does not leave the other thread idle at the chunk's end.
# A trial of the baseline is ~0.25 ms on one core, so a batch is a few ms, far above the
# cost of handing one out. 0 = Numba's default (equal shares). Results never depend on it.
TRIALS_PER_TASK = 16
# A run held in memory peaks at about this multiple of its kernel buffers: the labelled
# results (derived money variables) and the summary's per-trial values come on top.
# Measured 1.9 for `salessim run scenarios/baseline.yaml` (peak RSS over 20,000 and 60,000
# trials: 28 KB more per trial, for 15 KB of buffers).
MEMORY_PER_BUFFER_BYTE = 2.0

Progress = Callable[[int, int], None]


class SimulationError(ValueError):
    """Arguments to :func:`simulate` that cannot be run (bad trial count or seed)."""


def _check_args(trials: int, seed: int, first_trial: int, chunk_trials: int | None) -> None:
    def whole(x: object) -> bool:
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

    if not whole(trials) or trials < 1:
        raise SimulationError(f"trials must be a whole number >= 1, got {trials!r}")
    if not whole(seed) or not 0 <= seed <= MAX_SEED:
        raise SimulationError(f"seed must be a whole number between 0 and {MAX_SEED}, got {seed!r}")
    if not whole(first_trial) or first_trial < 0:
        raise SimulationError(f"first_trial must be a whole number >= 0, got {first_trial!r}")
    if chunk_trials is not None and (not whole(chunk_trials) or chunk_trials < 1):
        raise SimulationError(f"chunk_trials must be a whole number >= 1, got {chunk_trials!r}")


def default_chunk_trials(inputs: ModelInputs, trials: int) -> int:
    """Trials per chunk: at least 5 progress steps, and a bounded kernel workload per call.

    Fewer, larger chunks keep both threads busy (each chunk ends in a barrier): at 10,000
    trials of the baseline, chunks of 2,000 run ~15% faster than chunks of 500.
    """
    h, k, s, y = inputs.shape
    per_trial = (4 * N_COUNTS + 8 * N_FLOWS) * h * k + 28 * y * s + h + 8 * k + 24 * s * h
    cap = max(64, _CHUNK_BYTES // max(per_trial, 1))
    return int(min(cap, max(256, math.ceil(trials / 5))))


def _buffers(n: int, inputs: ModelInputs) -> dict[str, np.ndarray]:
    """Zeroed kernel outputs for n trials (counts and flows variable-major: (V, n, H, K)).

    counts and flows are views of (V, n + 1, H, K) arrays: each variable's n trials are
    contiguous, while the arrays as a whole, and so every chunk of them handed to the
    kernel, are never C-contiguous. Numba then compiles (and caches) one kernel for every
    run instead of a second one for the single-chunk case.
    """
    h, k, s, y = inputs.shape
    out = {
        "counts": np.zeros((N_COUNTS, n + 1, h, k), dtype=np.int32)[:, :n],
        "flows": np.zeros((N_FLOWS, n + 1, h, k), dtype=np.float64)[:, :n],
        "downturn": np.zeros((n, h), dtype=np.uint8),
        "pipeline_end": np.zeros((n, k), dtype=np.float64),
        "attainment": np.empty((n, y, s), dtype=np.float64),
        "tenure": np.empty((n, y, s), dtype=np.float64),
        "commission_earned": np.empty((n, y, s), dtype=np.float64),
        "occupant": np.empty((n, y, s), dtype=np.int32),
    }
    if inputs.uncertainty is not None:  # the parameter values each trial ran with
        out["parameter_value"] = np.empty((n, inputs.parameters), dtype=np.float64)
        out["parameter_draw"] = np.empty(n, dtype=np.int64)
        out["parameter_sample"] = np.empty(n, dtype=np.int64)
    return out


def trial_bytes(inputs: ModelInputs) -> int:
    """Bytes of kernel output one trial of these inputs fills (its share of :func:`_buffers`)."""
    return sum(a.nbytes for a in _buffers(1, inputs).values())


def check_memory(inputs: ModelInputs, trials: int) -> None:
    """Refuse a run whose results cannot be held in the memory left (:mod:`salessim.memory`).

    Without this, the operating system grants the buffers (it over-commits) and kills the
    process later with no message; a streamed run needs one chunk in memory, whatever the
    trial count, so that is the way out the message names.
    """
    from .memory import available_bytes, format_bytes

    available = available_bytes()
    per_trial = trial_bytes(inputs) * MEMORY_PER_BUFFER_BYTE
    if available is None or trials * per_trial <= available:
        return
    raise SimulationError(
        f"{trials:,} trials need about {format_bytes(trials * per_trial)} of memory for their results "
        f"({format_bytes(per_trial)} per trial of this scenario), but about {format_bytes(available)} is "
        f"available: at most {int(available // per_trial):,} trials fit. Stream them to the file instead "
        f"(salessim run --stream, or salessim.stream.simulate_to_file), which holds one chunk at a time, "
        f"or run fewer trials")


def _trial_slice(buffers: dict[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    """Views of trials start..stop-1 of :func:`_buffers` output."""
    return {name: (a[:, start:stop] if name in ("counts", "flows") else a[start:stop]) for name, a in buffers.items()}


def _run_into(inputs: ModelInputs, seed: int, trial0: int, out: dict[str, np.ndarray]) -> None:
    """Run trials ``trial0 ..`` into the buffers ``out`` (of :func:`_buffers`, or a :func:`_trial_slice` of them)."""
    n = out["counts"].shape[1]
    chunk = inputs.chunk(seed, trial0, n)
    outputs = Outputs(**{name: out[name] for name in Outputs._fields})
    previous = numba.set_parallel_chunksize(TRIALS_PER_TASK)
    try:
        with first_kernel_call():
            simulate_chunk(np.uint64(seed), np.int64(trial0), *inputs.kernel_groups(chunk), outputs)
    finally:
        numba.set_parallel_chunksize(previous)
    if chunk.parameter_values is not None:
        out["parameter_value"][:] = chunk.parameter_values
        out["parameter_draw"][:] = chunk.draws
        out["parameter_sample"][:] = chunk.sample_index


def run_chunk(inputs: ModelInputs, seed: int, trial0: int, n: int) -> dict[str, np.ndarray]:
    """Kernel outputs for trials ``trial0 .. trial0 + n - 1`` (the arrays of :mod:`.kernels.month`)."""
    out = _buffers(n, inputs)
    _run_into(inputs, seed, trial0, out)
    return out


def simulate(
    scenario: Scenario,
    trials: int = 10_000,
    seed: int = 0,
    *,
    first_trial: int = 0,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
    client=None,
    max_in_flight: int | None = None,
) -> xr.Dataset:
    """Simulate ``trials`` possible futures of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`salessim.load_scenario`).
    trials : int
        Number of trials (independent futures).
    seed : int
        0 <= seed < 2**63. Trial ``k`` depends only on (seed, k, scenario).
    first_trial : int
        Index of the first trial: ``simulate(sc, 1, seed, first_trial=k)`` re-runs trial k alone.
    chunk_trials : int, optional
        Trials simulated per chunk (bounds working memory); never changes the results.
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk.
    client : dask.distributed.Client, optional
        Run the chunks on a Dask cluster (:mod:`salessim.cluster`); the result is
        bit-identical to the in-process run. ``max_in_flight`` bounds the chunks submitted
        but not yet copied into the result.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`salessim.variables.VARIABLES` with provenance attributes.
    """
    buffers = run_buffers(scenario, trials, seed, first_trial=first_trial, chunk_trials=chunk_trials,
                          progress=progress, client=client, max_in_flight=max_in_flight)
    return to_dataset(scenario, buffers, seed=seed, first_trial=first_trial)


def run_buffers(
    scenario: Scenario,
    trials: int,
    seed: int,
    *,
    first_trial: int = 0,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
    client=None,
    max_in_flight: int | None = None,
    inputs: ModelInputs | None = None,
) -> dict[str, np.ndarray]:
    """The kernel's outputs for ``trials`` trials (the arrays of :func:`_buffers`), unlabelled.

    Arguments as :func:`simulate`; ``inputs`` are the scenario's :func:`build_inputs`, when
    the caller has them already. :func:`to_dataset` or :func:`result_parts` label the result.
    """
    _check_args(trials, seed, first_trial, chunk_trials)
    inputs = build_inputs(scenario) if inputs is None else inputs
    chunk = chunk_trials or default_chunk_trials(inputs, trials)
    check_memory(inputs, trials)
    full = _buffers(trials, inputs)
    if client is not None:
        from .cluster import map_ordered

        plan = [(first_trial + t0, min(chunk, trials - t0)) for t0 in range(0, trials, chunk)]
        done = 0
        for (t0, n), part in zip(plan, map_ordered(client, run_chunk, [(t0, n) for t0, n in plan],
                                                   shared=(inputs, seed), max_in_flight=max_in_flight)):
            for name, view in _trial_slice(full, done, done + n).items():
                view[...] = part[name]
            done += n
            if progress is not None:
                progress(done, trials)
        return full
    done = 0
    while done < trials:
        n = min(chunk, trials - done)
        _run_into(inputs, seed, first_trial + done, _trial_slice(full, done, done + n))
        done += n
        if progress is not None:
            progress(done, trials)
    return full


_COORD_NAMES = {
    "month": "first day of the simulated month",
    "territory": "territory",
    "seat": "seat: a starting rep's or planned hire's position, kept by backfills",
    "fiscal_year": "fiscal year, labelled by the calendar year it starts in",
    "seat_territory": "territory of the seat",
    "fiscal_year_of_month": "fiscal year the month belongs to",
    "fiscal_year_months": "simulated months of the fiscal year (12, or fewer for the year in progress at the start, "
                          "whose earlier months are actuals)",
    "seat_name": "the seat's name: a named rep's, <territory>#<i> for an anonymous starting rep, "
                 "hire:<month>:<territory>#<i> for a planned hire",
    "parameter": "uncertain parameter (dotted path; pmf entries as <path>.<month>)",
    "parameter_unit": "unit of the parameter's values",
    "trial": "trial index (its random draws depend only on seed, trial and scenario)",
}


def coordinates(scenario: Scenario, trial_index: np.ndarray) -> dict[str, tuple]:
    """The results' coordinates as ``(dims, values)``: NumPy arrays (strings as objects, months as datetime64[ns])."""
    seats = scenario.seat_territories()
    names = [t.name for t in scenario.territories]
    spans = scenario.fiscal_year_spans()
    plan = None
    if scenario.spec.uncertainty is not None and scenario.spec.uncertainty.parameters:
        from .uncertainty import build_plan

        plan = build_plan(scenario)
    extra = {} if plan is None else {
        "parameter": ("parameter", np.array(plan.names, dtype=object)),
        "parameter_unit": ("parameter", np.array(plan.units(scenario.spec.currency), dtype=object)),
    }
    return extra | {
        "trial": ("trial", trial_index.astype(np.int64)),
        "month": ("month", np.array([f"{y:04d}-{m:02d}-01" for y, m in scenario.calendar_months()], dtype="datetime64[ns]")),
        "territory": ("territory", np.array(names, dtype=object)),
        "fiscal_year": ("fiscal_year", np.array([y for y, _, _ in spans], dtype=np.int64)),
        "fiscal_year_months": ("fiscal_year", np.array([last - first + 1 for _, first, last in spans], dtype=np.int64)),
        "seat": ("seat", np.arange(len(seats), dtype=np.int64)),
        "seat_territory": ("seat", np.array([names[k] for k in seats], dtype=object)),
        "seat_name": ("seat", np.array(scenario.seat_names(), dtype=object)),
        "fiscal_year_of_month": ("month", np.array(scenario.fiscal_year_labels(), dtype=np.int64)),
    }


def _library_version(name: str) -> str:
    """A library's installed version, read from its metadata without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - every library named is a dependency
        return "not installed"


def provenance(scenario: Scenario, seed: int, trials: int, first_trial: int) -> dict[str, object]:
    import numba

    return {
        "title": f"salessim results: {scenario.name}",
        "scenario_name": scenario.name,
        "description": scenario.spec.description,
        "currency": scenario.spec.currency,
        "salessim_version": __version__,
        "scenario": scenario.to_yaml(),
        "seed": int(seed),
        "trials": int(trials),
        "first_trial": int(first_trial),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "library_versions": (
            f"python {platform.python_version()}; numpy {np.__version__}; numba {numba.__version__}; "
            f"xarray {_library_version('xarray')}; pandas {_library_version('pandas')}; h5py {_library_version('h5py')}"
        ),
    }


def _attrs(var, scenario: Scenario) -> dict[str, str]:
    return var.attrs(scenario.spec.currency)


class ResultParts(NamedTuple):
    """A run's results as the netCDF data model: ``name -> (dims, array, attrs)`` for the
    data variables and the coordinates, and the file's attributes. ``xarray.Dataset(*parts)``
    is :func:`to_dataset`; :func:`salessim.results.write_parts` writes them as they are."""

    data_vars: dict[str, tuple]
    coords: dict[str, tuple]
    attrs: dict[str, object]


def result_parts(scenario: Scenario, arrays: dict[str, np.ndarray], *, seed: int, first_trial: int = 0) -> ResultParts:
    """Label a run's kernel outputs (the buffers of :func:`_buffers`) with the registry, without xarray:
    the stored variables, which are what a results file holds (no derived ones).

    The arrays are used in place where their dtype is the registry's (no copy).
    """
    trials = arrays["counts"].shape[1]
    uncertain = "parameter_value" in arrays
    values = {}
    for var in VARIABLES:
        if var.source == "derived" or (var.only_with == "uncertainty" and not uncertain):
            continue
        if var.source == "goal":
            data = np.asarray(scenario.spec.goal.annual, dtype=np.float64)
        elif var.source == "actuals":
            data = _actual_bookings(scenario)
        elif var.index is None:
            data = arrays[var.source]
        else:
            data = arrays[var.source][var.index]
        values[var.name] = np.ascontiguousarray(data, dtype=var.dtype)
    data_vars = {var.name: (var.dims, values[var.name], _attrs(var, scenario)) for var in VARIABLES if var.name in values}
    coords = {name: ((dims,), data, {"long_name": _COORD_NAMES[name]})
              for name, (dims, data) in coordinates(scenario, np.arange(first_trial, first_trial + trials)).items()}
    return ResultParts(data_vars, coords, provenance(scenario, seed, trials, first_trial))


def to_dataset(scenario: Scenario, arrays: dict[str, np.ndarray], *, seed: int, first_trial: int = 0,
               derived: bool = True) -> xr.Dataset:
    """Label a run's kernel outputs (the buffers of :func:`_buffers`) as the results Dataset:
    :func:`result_parts` and, unless ``derived`` is false (what a file stores), the derived variables."""
    import xarray as xr

    parts = result_parts(scenario, arrays, seed=seed, first_trial=first_trial)
    data_vars = parts.data_vars
    if derived:
        values = derived_values({name: data_vars[name][1] for name in DERIVED_FROM}, scenario)
        data_vars = dict(data_vars) | {name: (by_name(name).dims, values[name], _attrs(by_name(name), scenario))
                                       for name in DERIVED}
        data_vars = {v.name: data_vars[v.name] for v in VARIABLES if v.name in data_vars}
    return xr.Dataset(data_vars, coords=parts.coords, attrs=parts.attrs)


def _actual_bookings(scenario: Scenario) -> np.ndarray:
    """(fiscal_year, territory): the actuals in the fiscal year in progress at the start, 0 elsewhere."""
    spans = scenario.fiscal_year_spans()
    out = np.zeros((len(spans), len(scenario.territories)))
    if scenario.fiscal_year_in_progress() is not None:
        out[0] = scenario.actual_bookings()
    return out


# --------------------------------------------------------------------------- traces

DEAL_FIELDS = [("created", np.int64), ("territory", np.int64), ("seat", np.int64), ("occupant", np.int64),
               ("due", np.int64), ("value", np.float64), ("outcome", np.int8), ("pipeline", np.int64)]
REP_MONTH_FIELDS = [("month", np.int64), ("seat", np.int64), ("occupant", np.int64), ("territory", np.int64),
                    ("leads", np.int64), ("worked", np.int64), ("opportunities", np.int64), ("wins", np.int64)]
OCCUPANT_FIELDS = [("seat", np.int64), ("occupant", np.int64), ("territory", np.int64), ("start", np.int64),
                   ("tenure0", np.int64), ("last", np.int64), ("skill", np.float64)]
#: ``TrialTrace.deals["outcome"]``: booked to its owner (or, with no owner, to the territory),
#: orphaned and booked to the territory, orphaned and lost, due after the horizon
OUTCOMES = ("booked", "booked_orphaned", "lost_orphaned", "after_horizon")


@dataclass(frozen=True)
class TrialTrace:
    """Deal-level records of one trial (:func:`trace_trial`). Month indices count from ``start``.

    ``deals``: one row per won deal (new wins and won open deals): ``created`` (month the
    opportunity was won; ``-1 - age`` for a deal open at the start), ``territory``, ``seat``
    (-1: none), ``occupant`` (the seat's occupant number, 0 = its first; -1: none), ``due``
    (booking month after the sales cycle and the quarter-end pull; may be >= ``horizon``),
    ``value``, ``outcome`` (an index into :data:`OUTCOMES`), ``pipeline`` (the open deal's
    index in the scenario's pipeline, -1 for a new win).

    ``rep_months``: one row per rep-month with productivity f > 0: ``month``, ``seat``,
    ``occupant``, ``territory``, ``leads``, ``worked`` (within capacity), ``opportunities``,
    ``wins`` (lost opportunities are ``opportunities - wins``).

    ``occupants``: one row per occupant of every seat: ``seat``, ``occupant``,
    ``territory``, ``start`` (first month in seat), ``tenure0`` (completed months of
    service then: a starting rep's tenure, 0 for a hire), ``last`` (the month at whose end
    they leave, -1 if still in seat at the horizon), ``skill``.

    ``dataset`` is the trial's results, equal to trial ``trial`` of any ``simulate`` run
    of the scenario with ``seed``; ``calendar`` gives (year, month) of each month index.
    """

    scenario: Scenario
    seed: int
    trial: int
    deals: np.ndarray
    rep_months: np.ndarray
    occupants: np.ndarray
    dataset: xr.Dataset

    @property
    def horizon(self) -> int:
        return self.scenario.horizon_months

    @property
    def calendar(self) -> list[tuple[int, int]]:
        return self.scenario.calendar_months()


def _records(table: np.ndarray, n: int, fields: list) -> np.ndarray:
    out = np.empty(n, dtype=fields)
    for j, (name, dtype) in enumerate(fields):
        out[name] = table[:n, j].astype(dtype)
    return out


def trace_trial(scenario: Scenario, seed: int, trial: int) -> TrialTrace:
    """Trial ``trial`` of ``scenario`` with ``seed``, with its deal-level records.

    The kernel runs the trial once with tables of a first guess at their length, and again
    with exact lengths if a table was too short; the trial's draws never depend on the
    trace, so the records are those of the trial every ``simulate`` run gives (a test
    checks the trace's bookings against the Dataset's, month by month).
    """
    if not isinstance(trial, (int, np.integer)) or isinstance(trial, bool) or trial < 0:
        raise SimulationError(f"trial must be a whole number >= 0, got {trial!r}")
    _check_args(1, seed, trial, None)
    inputs = build_inputs(scenario)
    h, _, s, _ = inputs.shape
    sizes = [max(64, 16 * s * h), max(16, s * h), 4 * s + 16]
    while True:
        out = _buffers(1, inputs)
        chunk = inputs.chunk(seed, trial, 1)
        rows, market, terr, rules, cal, seats, pipe = inputs.kernel_groups(chunk)
        trace = Trace(np.zeros(3, dtype=np.int64), np.zeros((sizes[0], 8)), np.zeros((sizes[1], 8), dtype=np.int64),
                      np.zeros((sizes[2], 7)))
        mine = Outputs(out["counts"][:, 0], out["flows"][:, 0], out["downturn"][0], out["pipeline_end"][0],
                       out["attainment"][0], out["tenure"][0], out["commission_earned"][0], out["occupant"][0])
        with first_kernel_call():
            simulate_trial(np.uint64(seed), np.int64(trial), rows[0], market, terr, rules, cal, seats, pipe, mine, trace)
        written = [int(x) for x in trace.rows]
        if all(w <= size for w, size in zip(written, sizes)):
            break
        sizes = [max(w, size) for w, size in zip(written, sizes)]
    if chunk.parameter_values is not None:
        out["parameter_value"][:] = chunk.parameter_values
        out["parameter_draw"][:] = chunk.draws
        out["parameter_sample"][:] = chunk.sample_index
    return TrialTrace(
        scenario=scenario, seed=int(seed), trial=int(trial),
        deals=_records(trace.deals, written[0], DEAL_FIELDS),
        rep_months=_records(trace.rep_months, written[1], REP_MONTH_FIELDS),
        occupants=_records(trace.occupants, written[2], OCCUPANT_FIELDS),
        dataset=to_dataset(scenario, out, seed=seed, first_trial=trial),
    )

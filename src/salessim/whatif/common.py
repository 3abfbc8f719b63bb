"""Shared pieces of the what-if tools: the user-error type, numbers and overrides, runs
on common random numbers, and the labelled statistics Dataset they all return."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..engine import MAX_SEED, SimulationError, simulate
from ..scenario import Scenario, ScenarioError
from ..summary import trial_values
from .metrics import HEADLINE, STATS, describe, per_trial, per_trial_of_items, unit_of

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["WhatIfError", "Progress", "parse_number", "override", "run_metrics", "run_all", "run_items", "concat_items",
           "stats_dataset", "base_attrs", "check_run_args", "draw_clusters"]

Progress = Callable[[int, int], None]


class WhatIfError(ValueError):
    """Input a what-if tool cannot use (bad path, value, range or target; unreachable target)."""


def parse_number(text: object, what: str) -> int | float:
    """A number as a user writes it (``3``, ``0.9``, ``1e6``, ``330_000``); ints stay ints."""
    if isinstance(text, bool):
        raise WhatIfError(f"{what}: expected a number, got {text!r}")
    if isinstance(text, (int, np.integer)):
        return int(text)
    if isinstance(text, (float, np.floating)):
        value = float(text)
    else:
        raw = str(text).strip().replace("_", "")
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            value = float(raw)
        except ValueError:
            raise WhatIfError(f"{what}: expected a number, got {str(text).strip()!r}") from None
    if not np.isfinite(value):
        raise WhatIfError(f"{what}: expected a finite number, got {text!r}")
    return value


def override(scenario: Scenario, overrides: dict[str, object]) -> Scenario:
    """``scenario.with_overrides`` with its error turned into a :class:`WhatIfError`."""
    try:
        return scenario.with_overrides(overrides)
    except ScenarioError as exc:
        raise WhatIfError(str(exc)) from None


def run_metrics(scenario: Scenario, trials: int, seed: int, client=None) -> xr.DataArray:
    """Simulate and return the per-trial headline metrics (metric, trial, fiscal_year)."""
    if client is not None:
        return per_trial_of_items(run_items([scenario], trials, seed, client, headline=True)[0], np.arange(trials))
    try:
        ds = simulate(scenario, trials, seed)
    except SimulationError as exc:
        raise WhatIfError(str(exc)) from None
    return per_trial(ds)


def run_all(scenarios: list[Scenario], trials: int, seed: int, progress: Progress | None = None,
            client=None) -> tuple[list[xr.DataArray], list[str]]:
    """:func:`run_metrics` of each scenario on one seed, and the metrics every run has.

    With a Dask ``client`` every run is split into chunks of trials and all runs' chunks
    go to the cluster at once (:func:`run_items`); the values are the same bits.
    """
    if client is not None:
        runs = [per_trial_of_items(items, np.arange(trials))
                for items in run_items(scenarios, trials, seed, client, progress, headline=True)]
    else:
        runs = []
        for i, sc in enumerate(scenarios):
            runs.append(run_metrics(sc, trials, seed))
            if progress is not None:
                progress(i + 1, len(scenarios))
    common = [m for m in runs[0]["metric"].values if all(m in r["metric"].values for r in runs)]
    return runs, common


def _chunk_items(scenarios: list[Scenario], seed: int, headline: bool, i: int, trial0: int, n: int) -> list[dict]:
    """On a worker: the summary's per-trial values of trials trial0 .. trial0 + n - 1 of run i
    (only the company-wide headline metrics when ``headline``: what comes back is smaller)."""
    items = trial_values(simulate(scenarios[i], n, seed, first_trial=trial0))
    if headline:
        items = [it for it in items if it["territory"] == "all" and it["metric"] in (*HEADLINE, "sales_cost")]
    return items


def run_items(scenarios: list[Scenario], trials: int, seed: int, client, progress: Progress | None = None,
              *, headline: bool = False) -> list[list[dict]]:
    """Per scenario, :func:`~salessim.summary.trial_values` of all its trials, run on a cluster.

    Each run is cut into chunks so that there are at least two tasks per worker thread
    (each chunk continues the same random streams, so the chunking never changes a value).
    ``headline`` keeps only the metrics :func:`per_trial` uses. ``progress(runs done, runs)``
    is called as each run's last chunk arrives.
    """
    from ..cluster import map_ordered, nthreads

    per_run = max(1, math.ceil(2 * nthreads(client) / max(len(scenarios), 1)))
    chunk = max(250, math.ceil(trials / per_run))
    plan = [(i, t0, min(chunk, trials - t0)) for i in range(len(scenarios)) for t0 in range(0, trials, chunk)]
    out: list[list[dict]] = [[] for _ in scenarios]
    parts: list[list[dict]] = []
    try:
        results = map_ordered(client, _chunk_items, plan, shared=(list(scenarios), seed, headline))
        for (i, t0, n), items in zip(plan, results):
            parts.append(items)
            if t0 + n == trials:
                out[i] = concat_items(parts)
                parts = []
                if progress is not None:
                    progress(i + 1, len(scenarios))
    except SimulationError as exc:
        raise WhatIfError(str(exc)) from None
    return out


def concat_items(parts: list[list[dict]]) -> list[dict]:
    """The trial_values of consecutive chunks of one run, joined along trials."""
    first = parts[0]
    return [dict(item, values=item["values"] if item["constant"] else np.concatenate([p[r]["values"] for p in parts]))
            for r, item in enumerate(first)]


def draw_clusters(scenarios: Sequence[Scenario], trials: int) -> np.ndarray | None:
    """Clusters of trials whose results are correlated through shared parameter draws, or None.

    Trial k of a scenario with uncertain parameters uses draw k // trials_per_draw; across
    several scenarios the clusters are runs of lcm(trials_per_draw) trials, which contain
    every scenario's draws whole. None when every trial has its own draw (independent trials).
    """
    per_draw = [sc.spec.uncertainty.trials_per_draw for sc in scenarios
                if sc.spec.uncertainty is not None and sc.spec.uncertainty.parameters]
    size = math.lcm(*per_draw) if per_draw else 1
    return None if size <= 1 else np.arange(trials, dtype=np.int64) // size


def stats_dataset(values: xr.DataArray, currency: str, groups: np.ndarray | None = None) -> xr.Dataset:
    """Per-trial ``value`` (..., metric, trial, fiscal_year) plus mean, se, p10, p50, p90 over trials.

    ``groups`` (:func:`draw_clusters`) makes the standard errors cluster-robust.
    """
    import xarray as xr

    values = values.transpose(..., "trial", "fiscal_year")
    stats = describe(values.values, groups)
    dims = tuple(d for d in values.dims if d != "trial")
    ds = xr.Dataset({"value": values.astype(np.float64)})
    long = {"mean": "mean across trials", "se": "Monte Carlo standard error of the mean",
            "p10": "10th percentile across trials", "p50": "median across trials", "p90": "90th percentile across trials"}
    for name in STATS:
        ds[name] = (dims, stats[name], {"long_name": long[name]})
    ds["value"].attrs.update(long_name="the metric in each trial (NaN where it has no value)")
    ds["unit"] = ("metric", np.array([unit_of(str(m), currency) for m in ds["metric"].values], dtype=object),
                  {"long_name": "unit of the metric"})
    ds["metric"].attrs.update(long_name="bookings: company bookings in the fiscal year; p_goal: 1 if bookings >= goal "
                                        "(mean = P(goal)); reps_at_quota: share of filled seats at >= 100% of quota; "
                                        "sales_cost: total cost of sales, only when the results carry costs")
    ds["fiscal_year"].attrs.update(long_name="fiscal year, labelled by the calendar year it starts in")
    return ds


def base_attrs(kind: str, scenarios: Sequence[Scenario], trials: int, seed: int) -> dict[str, object]:
    return {
        "title": f"salessim {kind}",
        "what_if": kind,
        "salessim_version": __version__,
        "seed": int(seed),
        "trials": int(trials),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "currency": scenarios[0].spec.currency if scenarios else "",
        "scenario": scenarios[0].to_yaml() if scenarios else "",
        "scenario_name": scenarios[0].name if scenarios else "",
        "common_random_numbers": "every run uses the same seed, so trial k of each run shares its random draws",
    }


def check_run_args(trials: object, seed: object) -> None:
    """Fail before any work on a trial count or seed that ``simulate`` would reject."""
    def whole(x: object) -> bool:
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

    if not whole(trials) or trials < 2:
        raise WhatIfError(f"trials must be a whole number >= 2 (standard errors need two), got {trials!r}")
    if not whole(seed) or not 0 <= seed <= MAX_SEED:
        raise WhatIfError(f"seed must be a whole number between 0 and {MAX_SEED}, got {seed!r}")

"""Run until the Monte Carlo error is small enough: add chunks of trials, stop at the first
chunk where the standard error of P(goal) in every fiscal year, and the relative standard
error of mean bookings in every fiscal year, are at or below the target.

Chunks continue the same random streams (``first_trial``), so the result is identical to
one plain run with the number of trials used.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from ..engine import SimulationError, simulate
from ..scenario import Scenario
from .common import Progress, WhatIfError, check_run_args, parse_number, draw_clusters
from .metrics import describe, per_trial

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PrecisionReport", "simulate_to_precision", "precision_errors"]


@dataclass(frozen=True)
class PrecisionReport:
    """How a precision run ended: trials used, whether the target was met, errors achieved."""

    target: float
    trials: int
    max_trials: int
    met: bool
    se_p_goal: dict[int, float]  # fiscal year -> standard error of P(goal)
    rel_se_bookings: dict[int, float]  # fiscal year -> SE(mean bookings) / mean bookings

    @property
    def message(self) -> str:
        worst_p = max(self.se_p_goal.values())
        worst_b = max(self.rel_se_bookings.values())
        errors = f"max SE of P(goal) {worst_p:.4f}, max relative SE of mean bookings {worst_b:.4%}"
        if self.met:
            return f"precision {self.target:g} reached with {self.trials:,} trials ({errors})"
        return (f"precision {self.target:g} NOT reached within --max-trials {self.max_trials:,}: "
                f"stopped at {self.trials:,} trials ({errors})")


def precision_errors(metrics: xr.DataArray, groups: np.ndarray | None = None) -> tuple[dict[int, float], dict[int, float]]:
    """SE of P(goal) and relative SE of mean bookings per fiscal year, from per-trial metrics
    (cluster-robust over parameter draws when ``groups`` is given)."""
    years = [int(y) for y in metrics["fiscal_year"].values]
    p = describe(metrics.sel(metric="p_goal").values, groups)
    b = describe(metrics.sel(metric="bookings").values, groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(b["se"] == 0, 0.0, b["se"] / np.abs(b["mean"]))
    return ({y: float(v) for y, v in zip(years, p["se"])}, {y: float(v) for y, v in zip(years, rel)})


def simulate_to_precision(
    scenario: Scenario,
    precision: float,
    *,
    seed: int = 0,
    max_trials: int = 50_000,
    step: int = 1_000,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
    client=None,
) -> tuple[xr.Dataset, PrecisionReport]:
    """Simulate in steps of ``step`` trials until the errors are at or below ``precision``.

    Stops at the first step meeting the target, or at ``max_trials`` (never more); the
    last step is shortened to end exactly there. Returns the results Dataset (identical to
    ``simulate(scenario, trials_used, seed)``, with ``precision_*`` attributes added) and
    a :class:`PrecisionReport`. With a Dask ``client`` each step's chunks run on the cluster
    (same bits).
    """
    import xarray as xr

    precision = float(parse_number(precision, "--precision"))
    if not 0 < precision < 1:
        raise WhatIfError(f"--precision must be between 0 and 1 (0.01 = one percentage point), got {precision:g}")
    for name, v in (("--max-trials", max_trials), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise WhatIfError(f"{name} must be a whole number >= 2, got {v!r}")
    check_run_args(int(max_trials), seed)
    if not scenario.fiscal_years():
        raise WhatIfError(f"{scenario.name}: no fiscal year lies fully inside the horizon, so there is no P(goal) to make precise")
    parts: list[xr.Dataset] = []
    metrics: list[xr.DataArray] = []
    done = 0
    while True:
        n = min(step, max_trials - done)
        try:
            part = simulate(scenario, n, seed, first_trial=done, chunk_trials=chunk_trials, client=client)
        except SimulationError as exc:
            raise WhatIfError(str(exc)) from None
        parts.append(part)
        metrics.append(per_trial(part))
        done += n
        se_p, rel_b = precision_errors(xr.concat(metrics, dim="trial"), draw_clusters([scenario], done))
        met = all(v <= precision for v in se_p.values()) and all(v <= precision for v in rel_b.values())
        if progress is not None:
            progress(done, max_trials)
        if met or done >= max_trials:
            break
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, dim="trial", data_vars="minimal", coords="minimal",
                                                    compat="override", join="override", combine_attrs="override")
    ds.attrs.update({"trials": int(done), "first_trial": 0, "precision_target": precision, "precision_met": int(met),
                     "precision_max_trials": int(max_trials),
                     "precision_se_p_goal": max(se_p.values()), "precision_rel_se_bookings": max(rel_b.values())})
    return ds, PrecisionReport(precision, done, int(max_trials), met, se_p, rel_b)

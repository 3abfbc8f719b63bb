"""Sweep assumptions over a grid (every combination) on common random numbers."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario
from .common import (Progress, WhatIfError, base_attrs, check_run_args, override, parse_number, run_all, stats_dataset,
                     draw_clusters)

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["sweep"]


def _grid_values(path: str, values: Sequence[object]) -> list[int | float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise WhatIfError(f"--vary {path}: give a list of values such as {path}=1,2,3")
    if len(values) == 0:
        raise WhatIfError(f"--vary {path}: give at least one value, such as {path}=1,2,3")
    parsed = [parse_number(v, f"--vary {path}") for v in values]
    if len(set(parsed)) != len(parsed):
        raise WhatIfError(f"--vary {path}: values must not repeat, got {list(values)}")
    return parsed


def sweep(
    scenario: Scenario,
    vary: Mapping[str, Sequence[object]],
    trials: int = 2_000,
    seed: int = 0,
    *,
    progress: Progress | None = None,
    client=None,
) -> xr.Dataset:
    """Run ``scenario`` at every combination of the varied values, all with the same seed.

    Parameters
    ----------
    scenario : Scenario
    vary : mapping of dotted path -> values
        Paths as ``--set`` takes them (``territories.East.win_rate``, ``hiring_plan.0.hires``);
        values are numbers. Every combination is run.
    trials, seed : int
        Trials per grid point and the seed all points share (common random numbers).
    progress : callable, optional
        ``progress(done, total)`` after each grid point.
    client : dask.distributed.Client, optional
        Run on a Dask cluster (:mod:`salessim.cluster`): every run's chunks of trials go to the
        workers at once; the results are the same bits as in-process.

    Returns
    -------
    xarray.Dataset
        One dimension per varied path (named by the path, the values as its coordinate),
        plus ``metric``, ``fiscal_year`` and ``trial``: ``value`` per trial and ``mean``,
        ``se``, ``p10``, ``p50``, ``p90`` across trials. Grid point ``p`` equals a plain run
        of ``scenario.with_overrides(p)`` with the same trials and seed, bit for bit.
    """
    import xarray as xr

    if not vary:
        raise WhatIfError("give at least one path to vary, such as --vary territories.East.reps=6,8,10")
    check_run_args(trials, seed)
    paths = [str(p).strip() for p in vary]
    grids = [_grid_values(p, v) for p, v in zip(paths, vary.values())]
    for path in paths:
        if path in ("metric", "fiscal_year", "trial", "scenario"):
            raise WhatIfError(f"--vary {path}: not a scenario path")
    # build (and so validate) every grid point before running any
    points = [override(scenario, dict(zip(paths, combo))) for combo in itertools.product(*grids)]
    results, common = run_all(points, trials, seed, progress, client=client)
    stacked = np.stack([r.sel(metric=common).values for r in results])  # (points, metric, trial, year)
    shape = tuple(len(g) for g in grids) + stacked.shape[1:]
    coords = {p: (p, np.asarray(g, dtype=np.int64 if all(isinstance(x, int) for x in g) else np.float64)) for p, g in zip(paths, grids)}
    coords.update({d: results[0][d].values for d in ("metric", "trial", "fiscal_year")})
    values = xr.DataArray(stacked.reshape(shape), dims=(*paths, "metric", "trial", "fiscal_year"), coords=coords)
    out = stats_dataset(values, scenario.spec.currency, draw_clusters(points, trials))
    out["goal"] = ("fiscal_year", np.asarray(scenario.spec.goal.annual, dtype=np.float64),
                   {"long_name": "bookings goal of the swept scenario", "units": scenario.spec.currency})
    for p in paths:
        out[p].attrs.update(long_name=f"value of {p} (scenario path)")
    out.attrs.update(base_attrs("sweep", [scenario], trials, seed))
    out.attrs["varied"] = ", ".join(paths)
    return out

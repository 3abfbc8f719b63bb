"""Compare plans on common random numbers: side by side, and each against the first."""

from __future__ import annotations

import os
from collections.abc import Sequence

from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario, ScenarioError, load_scenario
from .common import Progress, WhatIfError, base_attrs, check_run_args, run_all, stats_dataset, draw_clusters
from .metrics import paired

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["compare"]


def _as_scenario(item: Scenario | str | os.PathLike) -> Scenario:
    if isinstance(item, Scenario):
        return item
    try:
        return load_scenario(item)
    except ScenarioError as exc:
        raise WhatIfError(str(exc)) from None


def _labels(scenarios: Sequence[Scenario], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(scenarios):
            raise WhatIfError(f"give one label per scenario ({len(scenarios)}), got {len(labels)}")
        if len(set(labels)) != len(labels):
            raise WhatIfError(f"labels must be unique, got {labels}")
        return labels
    names = [sc.name for sc in scenarios]
    if len(set(names)) == len(names):
        return names
    return [f"{name}#{i + 1}" for i, name in enumerate(names)]


def compare(
    scenarios: Sequence[Scenario | str | os.PathLike],
    trials: int = 10_000,
    seed: int = 0,
    *,
    labels: Sequence[str] | None = None,
    progress: Progress | None = None,
    client=None,
) -> xr.Dataset:
    """Run every scenario with the same seed (common random numbers) and compare them.

    Parameters
    ----------
    scenarios : sequence of Scenario or paths
        Two or more plans; the first is the reference the others are compared with.
    trials, seed : int
        Trials per scenario, and the seed they all share.
    labels : sequence of str, optional
        Names for the ``scenario`` coordinate [default: the scenario names, numbered if repeated].
    progress : callable, optional
        ``progress(done, total)`` after each scenario.
    client : dask.distributed.Client, optional
        Run on a Dask cluster (:mod:`salessim.cluster`): every run's chunks of trials go to the
        workers at once; the results are the same bits as in-process.

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario``, ``metric`` (bookings, p_goal, reps_at_quota, and cost when
        the results carry one), ``fiscal_year`` and ``trial``. ``value`` holds every trial;
        ``mean``, ``se``, ``p10``, ``p50``, ``p90`` the statistics across trials; ``diff``,
        ``diff_se`` and ``p_better`` the paired difference from the first scenario (trial k
        against trial k), its standard error and P(this scenario > the first) in the same
        future; ``goal`` (scenario, fiscal_year).
    """
    import xarray as xr

    scenarios = [_as_scenario(s) for s in scenarios]
    if len(scenarios) < 2:
        raise WhatIfError(f"compare needs at least two scenarios, got {len(scenarios)}")
    check_run_args(trials, seed)
    names = _labels(scenarios, labels)
    years = [[y for y, _ in sc.fiscal_years()] for sc in scenarios]
    for name, ys in zip(names[1:], years[1:]):
        if ys != years[0]:
            raise WhatIfError(f"scenarios must cover the same fiscal years to be compared: {names[0]} has "
                              f"{years[0] or 'none'}, {name} has {ys or 'none'}")
    if not years[0]:
        raise WhatIfError(f"{names[0]}: no fiscal year lies fully inside the horizon; nothing to compare")
    currencies = {sc.spec.currency for sc in scenarios}
    if len(currencies) > 1:
        raise WhatIfError(f"scenarios must use one currency to be compared, got {sorted(currencies)}")

    runs, common = run_all(list(scenarios), trials, seed, progress, client=client)
    values = xr.concat([r.sel(metric=common) for r in runs], dim="scenario")
    values = values.assign_coords(scenario=("scenario", np.array(names, dtype=object)))
    groups = draw_clusters(scenarios, trials)
    out = stats_dataset(values, scenarios[0].spec.currency, groups)
    diffs = paired(values.values, values.values[0][None], groups)
    dims = ("scenario", "metric", "fiscal_year")
    out["diff"] = (dims, diffs["diff"], {"long_name": "mean paired difference from the first scenario (same trials)"})
    out["diff_se"] = (dims, diffs["diff_se"], {"long_name": "standard error of the paired difference"})
    out["p_better"] = (dims, diffs["p_better"], {"long_name": "share of trials in which this scenario's value exceeds the first's"})
    out["goal"] = (("scenario", "fiscal_year"), np.array([sc.spec.goal.annual for sc in scenarios], dtype=np.float64),
                   {"long_name": "bookings goal", "units": scenarios[0].spec.currency})
    out["scenario_yaml"] = ("scenario", np.array([sc.to_yaml() for sc in scenarios], dtype=object),
                            {"long_name": "each scenario as YAML (enough to rerun it)"})
    out["scenario"].attrs.update(long_name="scenario compared; the first is the reference")
    out.attrs.update(base_attrs("compare", scenarios, trials, seed))
    return out

"""Solve for a plan: the smallest (or largest) lever value whose summary metric meets a target.

With common random numbers (every run uses the same seed) the estimated metric moves
(near-)monotonically with the lever, so a bisection finds the boundary with few runs:
integers for whole-number levers (hires, reps), to a tolerance for real ones (quota,
win rate). Each run's metric is the one :func:`salessim.summarize` reports, computed from
the run's per-trial values (:func:`salessim.summary.trial_values`) without a Dataset.

Points that the search needs at once (the two ends of the range) run concurrently, and
where cores are idle (a cluster with spare workers, or more cores than the kernel's
threads) the next levels of the bisection run ahead, speculatively. The path reported is
always the plain bisection's: a point run ahead is kept only when the search reaches it,
so the table, the Dataset and the answer are the same bits with or without ``--cluster``.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..engine import SimulationError, result_parts, run_buffers
from ..scenario import Scenario, ScenarioError, truncated
from ..summary import _row, summary_rows, trial_values
from .common import Progress, WhatIfError, base_attrs, check_run_args, draw_clusters, override, parse_number, run_items
from .metrics import headline_values

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["Target", "parse_target", "parse_range", "solve", "SolveResult", "TERM_PATTERN", "term_year", "check_metric"]

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
# one summary row: METRIC[YEAR] or METRIC[YEAR,TERRITORY] (also read by salessim.plan's objectives)
TERM_PATTERN = (r"(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*\[\s*(?P<year>[^\],]+?)\s*"
                r"(?:,\s*(?P<territory>[^\]]+?)\s*)?\]")
_TARGET_RE = re.compile(r"^\s*" + TERM_PATTERN + r"\s*(?P<op>>=|<=|>|<)\s*(?P<number>\S+)\s*$")
TARGET_HELP = "METRIC[YEAR] OP NUMBER or METRIC[YEAR,TERRITORY] OP NUMBER, e.g. 'p_goal[2027] >= 0.9'"


@dataclass(frozen=True)
class Target:
    """A condition on one summary row: ``metric[year(, territory)] op threshold``."""

    metric: str
    year: int
    territory: str
    op: str
    threshold: float

    @property
    def period(self) -> str:
        return f"FY{self.year}"

    def holds(self, value: float) -> bool:
        return bool(np.isfinite(value) and _OPS[self.op](value, self.threshold))

    def __str__(self) -> str:
        where = f"{self.year}" if self.territory == "all" else f"{self.year},{self.territory}"
        return f"{self.metric}[{where}] {self.op} {self.threshold:g}"


def parse_target(text: str) -> Target:
    """Read ``p_goal[2027] >= 0.9`` or ``bookings[2028,East] > 4e6`` (a trailing % divides by 100)."""
    m = _TARGET_RE.match(text or "")
    if not m:
        raise WhatIfError(f"--target: cannot read {text!r}; write {TARGET_HELP}")
    year = term_year(m["year"], f"--target {text!r}")
    number = m["number"]
    scale = 1.0
    if number.endswith("%"):
        number, scale = number[:-1], 0.01
    threshold = float(parse_number(number, f"--target {text!r}")) * scale
    return Target(m["metric"], year, (m["territory"] or "all").strip(), m["op"], threshold)


def term_year(text: str, what: str) -> int:
    """The fiscal year inside a term's brackets: ``2027`` or ``FY2027``."""
    year_text = text.strip().upper().removeprefix("FY")
    if not year_text.isdigit():
        raise WhatIfError(f"{what}: the year must be a fiscal-year label such as 2027, got {text.strip()!r}")
    return int(year_text)


def parse_range(text: str) -> tuple[int | float, int | float]:
    """Read ``LO:HI`` (numbers, LO < HI)."""
    parts = (text or "").split(":")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise WhatIfError(f"--range: write LO:HI such as 0:10 or 250000:450000, got {text!r}")
    lo, hi = (parse_number(p, f"--range {text!r}") for p in parts)
    if not lo < hi:
        raise WhatIfError(f"--range {text!r}: LO must be below HI")
    return lo, hi


def _target_stats(items: list[dict], target: Target, groups: np.ndarray | None) -> tuple[float, float]:
    """Mean and standard error of the target's summary row, from a run's :func:`trial_values`."""
    for item in items:
        if (item["metric"], item["period"], item["territory"]) == (target.metric, target.period, target.territory):
            row = _row(item["metric"], item["period"], item["territory"], item["unit"], item["values"],
                       None if item["constant"] else groups)
            return row["mean"], row["se"]
    return math.nan, math.nan


def _run_items(scenario: Scenario, trials: int, seed: int, threads: int | None = None) -> list[dict]:
    """The summary's per-trial values of one in-process run (kernel arrays, no Dataset).

    ``threads`` sets this thread's Numba threads (runs on several threads at once share the cores).
    """
    if threads is not None:
        import numba

        numba.set_num_threads(threads)
    try:
        buffers = run_buffers(scenario, trials, seed)
    except SimulationError as exc:
        raise WhatIfError(str(exc)) from None
    return trial_values(result_parts(scenario, buffers, seed=seed))


def _check_target(scenario: Scenario, target: Target, seed: int) -> str:
    """Fail early on a metric, year or territory the summary does not have; return the metric's unit."""
    rows = summary_rows(_run_items(scenario, 2, seed))
    return check_metric(rows, scenario, target.metric, target.year, target.territory, "--target")


def check_metric(table: pd.DataFrame | list[dict], scenario: Scenario, metric: str, year: int, territory: str,
                 option: str) -> str:
    """Fail on a metric, year or territory that ``table`` (a summary of ``scenario``: a DataFrame or its
    rows as dicts) lacks; return its unit."""
    records = table.to_dict(orient="records") if hasattr(table, "to_dict") else table
    metrics = sorted({r["metric"] for r in records})
    if metric not in metrics:
        raise WhatIfError(f"{option}: unknown metric {metric!r}; summary metrics are {', '.join(metrics)}")
    years = [y for y, _ in scenario.fiscal_years()]
    if year not in years:
        raise WhatIfError(f"{option}: no fiscal year {year} in {scenario.name} (full fiscal years: "
                          f"{', '.join(map(str, years)) or 'none'})")
    rows = [r for r in records if r["metric"] == metric and r["period"] == f"FY{year}"]
    if territory not in {r["territory"] for r in rows}:
        have = ", ".join(sorted({r["territory"] for r in rows}))
        raise WhatIfError(f"{option}: {metric} has no figure for territory {territory!r} (have {have})")
    return str(rows[0]["unit"])


def _is_integer_lever(scenario: Scenario, lever: str, lo: float, hi: float) -> bool:
    """A lever is whole-numbered when the scenario rejects a fractional value there."""
    probe = lo + 0.5 if lo + 0.5 <= hi else (lo + hi) / 2
    try:
        scenario.with_overrides({lever: float(probe)})
    except ScenarioError as exc:
        return any("whole number" in msg for _, msg in exc.problems)
    return False


@dataclass
class SolveResult:
    """The lever value found (``value``; None when the target is not met in the range) and
    every run explored, as a Dataset (``curve``) and a DataFrame (``points``).

    ``curve`` and ``points`` are built on first use (from ``path``), so a search that only
    prints its table imports neither xarray nor pandas.
    """

    lever: str
    target: Target
    largest: bool
    integer: bool
    value: int | float | None
    met: bool
    best_value: int | float
    best_mean: float
    best_se: float
    path: _Path = field(repr=False)

    @functools.cached_property
    def points(self) -> pd.DataFrame:
        """One row per point explored, in lever order: ``value``, ``mean``, ``se``, ``meets``, ``step``."""
        import pandas as pd

        p = self.path
        return pd.DataFrame({"value": p.values, "mean": p.means, "se": p.ses, "meets": p.meets, "step": p.steps})

    @functools.cached_property
    def curve(self) -> xr.Dataset:
        """The explored points as a Dataset (dimension ``point``), as ``-o`` saves it."""
        return self.path.dataset(self)

    def rows(self) -> list[tuple]:
        """(value, mean, se, meets, step) of every point explored, in lever order."""
        p = self.path
        return list(zip(p.values, p.means.tolist(), p.ses.tolist(), p.meets.tolist(), p.steps.tolist()))

    @property
    def unit(self) -> str:
        """Unit of the target's metric (``probability``, ``fraction``, a currency, ...)."""
        return self.path.unit

    @property
    def message(self) -> str:
        goal = "largest" if self.largest else "smallest"
        if self.met:
            k = self.path.values.index(self.value)
            return (f"{goal} {self.lever} meeting {self.target}: {_fmt(self.value)} "
                    f"({self.target.metric} = {self._metric(self.path.means[k], self.path.ses[k])})")
        lo, hi = self.path.lo, self.path.hi
        return (f"target {self.target} cannot be met with {self.lever} in {_fmt(lo)}..{_fmt(hi)}: the best reached is "
                f"{self.target.metric} = {self._metric(self.best_mean, self.best_se)} at {self.lever} = {_fmt(self.best_value)}")

    def _metric(self, mean: float, se: float) -> str:
        if self.unit in ("probability", "fraction"):
            return f"{100 * mean:.1f}% ± {100 * se:.1f} pp"
        return f"{mean:,.4g} ± {se:,.2g}" if abs(mean) < 1000 else f"{mean:,.0f} ± {se:,.0f}"


@dataclass
class _Path:
    """The points a search explored, in lever order, as plain arrays."""

    scenario: Scenario
    lo: int | float
    hi: int | float
    tol: float | None
    trials: int
    seed: int
    unit: str
    values: list
    means: np.ndarray
    ses: np.ndarray
    meets: np.ndarray
    steps: np.ndarray  # order in which each point was run (1 = first)
    metrics: list[str]  # headline metrics ...
    years: np.ndarray  # ... per fiscal year ...
    headline_mean: np.ndarray  # ... their means at each point (point, metric, fiscal_year)

    def dataset(self, result: SolveResult) -> xr.Dataset:
        import xarray as xr

        target, lever = result.target, result.lever
        dtype = np.int64 if result.integer else np.float64
        unit = self.unit
        curve = xr.Dataset(
            {
                "mean": ("point", self.means, {"long_name": f"mean of {target.metric} ({target.period}, {target.territory})",
                                               "units": unit}),
                "se": ("point", self.ses, {"long_name": "Monte Carlo standard error of the mean", "units": unit}),
                "meets": ("point", self.meets.astype(np.int8), {"long_name": f"1 where the mean meets {target}"}),
                "step": ("point", self.steps, {"long_name": "order in which the point was run (1 = first)"}),
                "headline_mean": (("point", "metric", "fiscal_year"), self.headline_mean,
                                  {"long_name": "mean of the headline metrics at the point"}),
            },
            coords={
                "point": ("point", np.arange(len(self.values), dtype=np.int64)),
                lever: ("point", np.asarray(self.values, dtype=dtype), {"long_name": f"value of {lever}"}),
                "metric": np.asarray(self.metrics),
                "fiscal_year": self.years,
            },
        )
        curve.attrs.update(base_attrs("solve", [self.scenario], self.trials, self.seed))
        curve.attrs.update({
            "lever": lever, "target": str(target), "direction": "largest" if result.largest else "smallest",
            "integer_lever": int(result.integer), "range_lo": self.lo, "range_hi": self.hi, "met": int(result.met),
            "tolerance": float(self.tol) if self.tol is not None and not result.integer else 1,
            # every point ran through the end of the target's fiscal year only: later years' headline means are NaN
            "simulated_through_fiscal_year": int(target.year),
        })
        if result.met:
            curve.attrs["solution"] = result.value
        return curve


def _fmt(v: float) -> str:
    return f"{v:,}" if isinstance(v, (int, np.integer)) else f"{v:,.6g}"


def solve(
    scenario: Scenario,
    lever: str,
    lo: float,
    hi: float,
    target: Target | str,
    *,
    largest: bool = False,
    trials: int = 2_000,
    seed: int = 0,
    tol: float | None = None,
    integer: bool | None = None,
    progress: Progress | None = None,
    client=None,
) -> SolveResult:
    """Find the smallest (or, with ``largest``, largest) value of ``lever`` in [lo, hi] that meets ``target``.

    Every run uses the same trials and seed (common random numbers), which makes the
    estimated metric (near-)monotone in the lever; the search assumes monotonicity and
    bisects: over integers when the lever takes whole numbers only (detected from the
    scenario, e.g. ``hiring_plan.0.hires``), else down to ``tol`` (default: (hi - lo) / 1000).
    A target "met" means the estimated mean meets it; the standard error of each
    explored point is reported alongside.

    Parameters
    ----------
    scenario : Scenario
    lever : str
        Dotted path as ``--set`` takes it (``defaults.quota_annual``, ``hiring_plan.0.hires``).
    lo, hi : number
        The range searched.
    target : Target or str
        ``'p_goal[2027] >= 0.9'``: a metric of :func:`salessim.summarize`, a fiscal year (and
        optionally a territory: ``'bookings[2028,East] >= 4e6'``), an operator and a number.
    largest : bool
        Look for the largest value meeting the target (e.g. the highest quota) instead.
    client : dask.distributed.Client, optional
        Run each explored point's trials on a Dask cluster; the path explored and the answer
        are the same as in-process.

    Returns
    -------
    SolveResult
        ``met`` is False (and ``value`` None) when no value in the range meets the target;
        ``best_value`` then names the value that came closest.
    """
    target = parse_target(target) if isinstance(target, str) else target
    check_run_args(trials, seed)
    lo = parse_number(lo, "--range LO")
    hi = parse_number(hi, "--range HI")
    if not lo < hi:
        raise WhatIfError(f"--range: LO must be below HI, got {lo}:{hi}")
    for v in (lo, hi):
        override(scenario, {lever: v})  # an unknown path or a value out of bounds fails here
    if integer is None:
        integer = _is_integer_lever(scenario, lever, lo, hi)
    if integer:
        if float(lo) != int(lo) or float(hi) != int(hi):
            raise WhatIfError(f"--range: {lever} takes whole numbers; write whole LO:HI, got {lo}:{hi}")
        lo, hi = int(lo), int(hi)
    else:
        lo, hi = float(lo), float(hi)
        tol = (hi - lo) / 1000 if tol is None else float(tol)
        if not tol > 0:
            raise WhatIfError(f"--tol must be > 0, got {tol}")
    unit = _check_target(scenario, target, seed)

    groups = draw_clusters([scenario], trials)
    runs = _Runs(scenario, lever, trials, seed, client, target.year)
    years = np.asarray([y for y, _, _ in scenario.fiscal_year_spans()], dtype=np.int64)
    seen: dict[float, tuple] = {}  # the points of the search's path, in its order: (mean, se, headline means)

    def measure(values) -> None:
        """Run the points not run yet, all at once; the path keeps those the search reaches."""
        for v, items in runs.run([v for v in dict.fromkeys(values) if v not in runs.done]).items():
            mean, se = _target_stats(items, target, groups)
            runs.done[v] = (mean, se, _headline_means(items, trials, years))

    def evaluate(v):
        if v not in seen:
            if v not in runs.done:
                measure([v])
            seen[v] = runs.done[v]
            if progress is not None:
                progress(len(seen), 0)
        return target.holds(seen[v][0])

    # ``good`` meets the target, ``bad`` does not; bisect between them
    measure([lo, hi])  # both are needed: run them together
    at_lo, at_hi = evaluate(lo), evaluate(hi)
    answer = None
    ahead = runs.levels_ahead()
    if largest:
        if at_hi:
            answer = hi
        elif at_lo:
            answer = _bisect(evaluate, lo, hi, integer, tol, ahead, measure)
    else:
        if at_lo:
            answer = lo
        elif at_hi:
            answer = _bisect(evaluate, hi, lo, integer, tol, ahead, measure)
    return _result(scenario, lever, lo, hi, target, largest, integer, answer, seen, unit, trials, seed, tol)


class _Runs:
    """The runs of one search: each lever value's per-trial summary values, in-process or on a
    cluster, several at once where the cores allow.

    Each point is simulated only through the end of the target's fiscal year
    (:func:`~salessim.scenario.truncated`): the model is causal, so the months kept are the
    same bits as in a full run and the target's value is exactly the full run's; the later
    months would cost time and change nothing the search looks at (a third of the kernel's
    work for a target in the middle year of three). The headline metrics of the years cut
    off are NaN in the path.
    """

    def __init__(self, scenario: Scenario, lever: str, trials: int, seed: int, client, year: int | None = None):
        self.scenario, self.lever, self.trials, self.seed, self.client = scenario, lever, trials, seed, client
        self.year = year
        self.done: dict[float, tuple] = {}
        import numba

        self.threads = numba.get_num_threads()
        # concurrent calls of the parallel kernel are safe with the OpenMP and TBB layers only
        self.concurrent = client is not None or numba.threading_layer() in ("omp", "tbb")

    def idle_cores(self) -> int:
        """Cores the kernel of one run leaves idle: a cluster's threads beyond what one run's
        chunks fill, or this machine's cores beyond the kernel's threads and the other load."""
        if self.client is not None:
            from ..cluster import nthreads

            return max(0, nthreads(self.client) - 2)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(0, int(cores - max(self.threads, os.getloadavg()[0])))

    def levels_ahead(self) -> int:
        """Bisection levels run at once: 2 (the next point and both of its successors) when
        cores are idle, else 1. Only the search's speed depends on it, never its path."""
        return 2 if self.concurrent and self.idle_cores() >= 2 else 1

    def point(self, value) -> Scenario:
        """The scenario at lever ``value``, cut after the target's fiscal year (when it ends before the horizon)."""
        sc = override(self.scenario, {self.lever: value})
        last = {label: last for label, _, last in sc.fiscal_year_spans()}.get(self.year)
        return sc if last is None else truncated(sc, last)

    def run(self, values: list) -> dict:
        points = {v: self.point(v) for v in values}
        if not points:
            return {}
        if self.client is not None:
            return dict(zip(points, run_items(list(points.values()), self.trials, self.seed, self.client)))
        if len(points) == 1 or not self.concurrent:
            return {v: _run_items(sc, self.trials, self.seed) for v, sc in points.items()}
        share = max(1, self.threads // len(points))  # the runs share the kernel's threads
        with ThreadPoolExecutor(max_workers=len(points)) as pool:
            futures = {v: pool.submit(_run_items, sc, self.trials, self.seed, share) for v, sc in points.items()}
            return {v: f.result() for v, f in futures.items()}


def _bisect(meets, good, bad, integer: bool, tol: float | None, ahead: int = 1, measure=None):
    """Bisect between ``good`` (meets the target) and ``bad``. With ``ahead`` > 1, the
    candidates of the next ``ahead`` levels are measured together (``measure(values)``) and
    the search then takes ``ahead`` steps through them: the same steps as one at a time."""
    def done(g, b):
        return abs(g - b) <= (1 if integer else tol)

    def mid_of(g, b):
        return (g + b) // 2 if integer else (g + b) / 2

    while not done(good, bad):
        if ahead > 1 and measure is not None:
            level, batch = [(good, bad)], []
            for _ in range(ahead):
                following = []
                for g, b in level:
                    if not done(g, b):
                        m = mid_of(g, b)
                        batch.append(m)
                        following += [(m, b), (g, m)]  # (good, bad) after m meets the target, or does not
                level = following
            measure(batch)
        for _ in range(ahead):
            if done(good, bad):
                break
            mid = mid_of(good, bad)
            if meets(mid):
                good = mid
            else:
                bad = mid
    return good


def _result(scenario, lever, lo, hi, target, largest, integer, answer, seen, unit, trials, seed, tol) -> SolveResult:
    order = list(seen)  # order explored
    values = sorted(seen)
    means = np.array([seen[v][0] for v in values], dtype=np.float64)
    ses = np.array([seen[v][1] for v in values], dtype=np.float64)
    meets = np.array([target.holds(m) for m in means], dtype=bool)
    steps = np.array([order.index(v) + 1 for v in values], dtype=np.int64)
    if answer is None:
        # closest to the target in the direction it asks for
        sign = 1.0 if target.op in (">=", ">") else -1.0
        finite = np.where(np.isfinite(means), sign * means, -np.inf)
        k = int(np.argmax(finite))
        best_value, best_mean, best_se = values[k], float(means[k]), float(ses[k])
    else:
        best_value, best_mean, best_se = answer, seen[answer][0], seen[answer][1]
    names, years, _ = seen[values[0]][2]
    path = _Path(scenario, lo, hi, tol, trials, seed, unit, values, means, ses, meets, steps, names, years,
                 np.stack([seen[v][2][2] for v in values]))
    return SolveResult(lever, target, largest, integer, answer, answer is not None, best_value, best_mean, best_se, path)


def _headline_means(items: list[dict], trials: int, all_years: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The headline metrics' means over trials at one point: (names, ``all_years``, (metric, fiscal_year)),
    NaN for the years the point's run did not reach (cut after the target's year)."""
    names, years, values = headline_values(items, trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a metric with no value in any trial is NaN
        means = np.nanmean(values, axis=1)
    out = np.full((len(names), len(all_years)), np.nan)
    for j, y in enumerate(all_years):
        hit = np.flatnonzero(years == y)
        if hit.size:
            out[:, j] = means[:, hit[0]]
    return names, all_years, out

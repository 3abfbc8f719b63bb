"""Solve for a plan: the smallest (or largest) lever value whose summary metric meets a target.

With common random numbers (every run uses the same seed) the estimated metric moves
(near-)monotonically with the lever, so a bisection finds the boundary with few runs:
integers for whole-number levers (hires, reps), to a tolerance for real ones (quota,
win rate). Each run's metric is read from :func:`salessim.summarize`.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..engine import SimulationError, simulate
from ..scenario import Scenario, ScenarioError
from ..summary import frame, summarize
from .common import Progress, WhatIfError, base_attrs, check_run_args, override, parse_number, run_items
from .metrics import per_trial, per_trial_of_items

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


def _metric_row(table: pd.DataFrame, target: Target) -> tuple[float, float]:
    row = table[(table.metric == target.metric) & (table.period == target.period) & (table.territory == target.territory)]
    if row.empty:
        return math.nan, math.nan
    return float(row["mean"].iloc[0]), float(row["se"].iloc[0])


def _check_target(scenario: Scenario, target: Target, seed: int) -> str:
    """Fail early on a metric, year or territory the summary does not have; return the metric's unit."""
    table = summarize(simulate(scenario, 2, seed))
    return check_metric(table, scenario, target.metric, target.year, target.territory, "--target")


def check_metric(table: pd.DataFrame, scenario: Scenario, metric: str, year: int, territory: str, option: str) -> str:
    """Fail on a metric, year or territory that ``table`` (a summary of ``scenario``) lacks; return its unit."""
    metrics = sorted(set(table.metric))
    if metric not in metrics:
        raise WhatIfError(f"{option}: unknown metric {metric!r}; summary metrics are {', '.join(metrics)}")
    years = [y for y, _ in scenario.fiscal_years()]
    if year not in years:
        raise WhatIfError(f"{option}: no fiscal year {year} in {scenario.name} (full fiscal years: "
                          f"{', '.join(map(str, years)) or 'none'})")
    rows = table[(table.metric == metric) & (table.period == f"FY{year}")]
    if territory not in set(rows.territory):
        have = ", ".join(sorted(set(rows.territory)))
        raise WhatIfError(f"{option}: {metric} has no figure for territory {territory!r} (have {have})")
    return str(rows.unit.iloc[0])


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
    every run explored, as a Dataset (``curve``) and a DataFrame (``points``)."""

    lever: str
    target: Target
    largest: bool
    integer: bool
    value: int | float | None
    met: bool
    best_value: int | float
    best_mean: float
    best_se: float
    curve: xr.Dataset
    points: pd.DataFrame = field(repr=False)

    @property
    def message(self) -> str:
        goal = "largest" if self.largest else "smallest"
        if self.met:
            row = self.points.set_index("value").loc[self.value]
            return (f"{goal} {self.lever} meeting {self.target}: {_fmt(self.value)} "
                    f"({self.target.metric} = {self._metric(row['mean'], row['se'])})")
        lo, hi = self.curve.attrs["range_lo"], self.curve.attrs["range_hi"]
        return (f"target {self.target} cannot be met with {self.lever} in {_fmt(lo)}..{_fmt(hi)}: the best reached is "
                f"{self.target.metric} = {self._metric(self.best_mean, self.best_se)} at {self.lever} = {_fmt(self.best_value)}")

    def _metric(self, mean: float, se: float) -> str:
        if self.curve["mean"].attrs.get("units") in ("probability", "fraction"):
            return f"{100 * mean:.1f}% ± {100 * se:.1f} pp"
        return f"{mean:,.4g} ± {se:,.2g}" if abs(mean) < 1000 else f"{mean:,.0f} ± {se:,.0f}"


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

    seen: dict[float, tuple[float, float, xr.DataArray]] = {}

    def evaluate(v):
        if v not in seen:
            point = override(scenario, {lever: v})
            if client is not None:
                items = run_items([point], trials, seed, client)[0]
                table, metrics = frame(items), per_trial_of_items(items, np.arange(trials))
            else:
                try:
                    ds = simulate(point, trials, seed)
                except SimulationError as exc:
                    raise WhatIfError(str(exc)) from None
                table, metrics = summarize(ds), per_trial(ds)
            mean, se = _metric_row(table, target)
            seen[v] = (mean, se, metrics)
            if progress is not None:
                progress(len(seen), 0)
        return target.holds(seen[v][0])

    # ``good`` meets the target, ``bad`` does not; bisect between them
    at_lo, at_hi = evaluate(lo), evaluate(hi)
    answer = None
    if largest:
        if at_hi:
            answer = hi
        elif at_lo:
            good, bad = lo, hi
            answer = _bisect(evaluate, good, bad, integer, tol)
    else:
        if at_lo:
            answer = lo
        elif at_hi:
            good, bad = hi, lo
            answer = _bisect(evaluate, good, bad, integer, tol)
    return _result(scenario, lever, lo, hi, target, largest, integer, answer, seen, unit, trials, seed, tol)


def _bisect(meets, good, bad, integer: bool, tol: float | None):
    while abs(good - bad) > (1 if integer else tol):
        mid = (good + bad) // 2 if integer else (good + bad) / 2
        if meets(mid):
            good = mid
        else:
            bad = mid
    return good


def _result(scenario, lever, lo, hi, target, largest, integer, answer, seen, unit, trials, seed, tol) -> SolveResult:
    order = list(seen)  # order explored
    values = sorted(seen)
    means = np.array([seen[v][0] for v in values])
    ses = np.array([seen[v][1] for v in values])
    meets = np.array([target.holds(m) for m in means])
    points = pd.DataFrame({"value": values, "mean": means, "se": ses, "meets": meets,
                           "step": [order.index(v) + 1 for v in values]})
    if answer is None:
        # closest to the target in the direction it asks for
        sign = 1.0 if target.op in (">=", ">") else -1.0
        finite = np.where(np.isfinite(means), sign * means, -np.inf)
        k = int(np.argmax(finite))
        best_value, best_mean, best_se = values[k], float(means[k]), float(ses[k])
    else:
        best_value, best_mean, best_se = answer, seen[answer][0], seen[answer][1]
    headline = xr.concat([seen[v][2] for v in values], dim="point")
    stats_mean = headline.mean("trial", skipna=True)
    dtype = np.int64 if integer else np.float64
    curve = xr.Dataset(
        {
            "mean": ("point", means, {"long_name": f"mean of {target.metric} ({target.period}, {target.territory})", "units": unit}),
            "se": ("point", ses, {"long_name": "Monte Carlo standard error of the mean", "units": unit}),
            "meets": ("point", meets.astype(np.int8), {"long_name": f"1 where the mean meets {target}"}),
            "step": ("point", points["step"].to_numpy(np.int64), {"long_name": "order in which the point was run (1 = first)"}),
            "headline_mean": (("point", "metric", "fiscal_year"), stats_mean.transpose("point", "metric", "fiscal_year").values,
                              {"long_name": "mean of the headline metrics at the point"}),
        },
        coords={
            "point": ("point", np.arange(len(values), dtype=np.int64)),
            lever: ("point", np.asarray(values, dtype=dtype), {"long_name": f"value of {lever}"}),
            "metric": headline["metric"].values,
            "fiscal_year": headline["fiscal_year"].values,
        },
    )
    curve.attrs.update(base_attrs("solve", [scenario], trials, seed))
    curve.attrs.update({
        "lever": lever, "target": str(target), "direction": "largest" if largest else "smallest",
        "integer_lever": int(integer), "range_lo": lo, "range_hi": hi, "met": int(answer is not None),
        "tolerance": float(tol) if tol is not None and not integer else 1,
    })
    if answer is not None:
        curve.attrs["solution"] = answer
    return SolveResult(lever, target, largest, integer, answer, answer is not None,
                       best_value, best_mean, best_se, curve, points)

"""One-at-a-time sensitivity: move each numeric assumption down and up, rank by effect.

Each assumption is scaled by (1 - delta) and (1 + delta), one at a time, per territory
where the key is per territory (inherited ``defaults`` included: the moved value is set
on the territory itself), and every run uses the base run's seed, so each effect is a
paired difference on common random numbers. Whole-number keys (reps, tenure, downturn
length) are rounded, probabilities clipped to [0, 1]; each such case is noted.

Left out, on purpose: lists (seasonality, ramp, pmfs), true/false keys, the hiring plan
(decisions, not assumptions: vary them with ``sweep`` or ``solve``), the goal and the
quota (targets: they move attainment and P(goal) by definition, never bookings), a named
roster (people, not a number to scale) and empirical deal sizes (a list of values).

Uncertain keys (the scenario's ``uncertainty`` block) already carry their own range: such a
key is not moved by delta but *fixed* at the 10th and then the 90th percentile of its
distribution (its uncertainty removed, every other uncertain key still drawn), so the
tornado shows how much of the outcome's spread that key's uncertainty drives. The
territories whose value a ``defaults.<key>`` draw sets are not also moved by delta. Keys
whose distribution is a pmf (dirichlet, samples of pmfs) are left out, as other pmfs are.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario
from ..state_checks import resolve_path
from ..uncertainty import quantile
from .common import Progress, WhatIfError, base_attrs, check_run_args, override, parse_number, run_all
from .metrics import describe, paired, unit_of

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Assumption", "assumptions", "sensitivity"]

_PROBABILITIES = {"lead_to_opportunity", "win_rate", "attrition_annual", "orphaned_deal_close_rate", "quarter_end_pull"}


@dataclass(frozen=True)
class Assumption:
    """One assumption moved: its label, the overrides that set it low/high, and display values."""

    parameter: str
    base: float
    low: float
    high: float
    set_low: dict
    set_high: dict
    note: str = ""


def _moved(base: float, delta: float, *, kind: str) -> tuple[float, float, str]:
    low, high = base * (1 - delta), base * (1 + delta)
    notes = []
    if kind == "count" or kind == "count1":
        low, high = float(round(low)), float(round(high))
        if kind == "count1":
            low = max(low, 1.0)
        notes.append("rounded")
    elif kind == "probability":
        c_low, c_high = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
        if (c_low, c_high) != (low, high):
            notes.append("clipped to [0, 1]")
        low, high = c_low, c_high
    return low, high, "; ".join(notes)


def _scalar(parameter: str, path: str, base: float, delta: float, kind: str, out: list, skipped: list) -> None:
    if base == 0:
        skipped.append(f"{parameter}: 0 cannot be scaled")
        return
    low, high, note = _moved(base, delta, kind=kind)
    if low == base and high == base:
        skipped.append(f"{parameter}: unchanged after rounding ({base:g})")
        return
    cast = int if kind.startswith("count") else float
    out.append(Assumption(parameter, base, low, high, {path: cast(low)}, {path: cast(high)}, note))


def _uncertain(scenario: Scenario, out: list, skipped: list) -> set[tuple[str, int]]:
    """One assumption per uncertain scalar key, fixed at its P10 and P90; returns the (key, territory)
    pairs (territory -1 for market keys) that the draws set, which are not moved by delta."""
    block = scenario.spec.uncertainty
    covered: set[tuple[str, int]] = set()
    if block is None:
        return covered
    for path, dist in block.parameters.items():
        target = resolve_path(path, scenario.spec, scenario.territories)
        covered.update({(target.key, -1)} if not target.territories else
                       {(target.key if target.band < 0 else f"band{target.band}", k) for k in target.territories})
        if target.domain is None:
            skipped.append(f"{target.path}: uncertain pmf ({dist.family}) is not fixed")
            continue
        rest = {p: d for p, d in scenario.data["uncertainty"]["parameters"].items() if p != path}
        low, mid, high = (quantile(dist, q) for q in (0.1, 0.5, 0.9))
        if target.domain.integer:
            low, mid, high = (float(round(x)) for x in (low, mid, high))
        sets = [_fixed(scenario, target, path, v) | {"uncertainty.parameters": rest} for v in (low, high)]
        out.append(Assumption(target.path, mid, low, high, sets[0], sets[1],
                              f"uncertain ({dist.family}): fixed at its P10 / P90; base = its median"))
    return covered


def _fixed(scenario: Scenario, target, path: str, value: float) -> dict:
    """Overrides that set an uncertain key to ``value`` where its path points."""
    value = int(value) if target.domain.integer else float(value)
    if target.key.startswith("deal_size."):  # the whole deal_size mapping, the other half as resolved
        t = scenario.territories[target.territories[0]]
        other = {"mean": t.deal_mean, "cv": t.deal_cv}
        return {path.rsplit(".", 1)[0]: other | {target.key.split(".")[1]: value}}
    if target.key == "band":
        t = scenario.territories[target.territories[0]]
        bands = [({"until_month": u} if u is not None else {}) | {"annual": value if b == target.band else a}
                 for b, (u, a) in enumerate(t.attrition_bands)]
        return {path.rsplit(".", 2)[0]: bands}  # ...attrition_by_tenure.<band>.annual -> the band list
    return {path: value}


def assumptions(scenario: Scenario, delta: float = 0.1) -> tuple[list[Assumption], list[str]]:
    """Every numeric assumption of ``scenario`` moved by ``delta`` (uncertain keys fixed at their
    P10 and P90 instead), and notes on what was skipped."""
    out: list[Assumption] = []
    skipped: list[str] = []
    covered = _uncertain(scenario, out, skipped)
    moved: list[Assumption] = []
    _assumptions(scenario, delta, moved, skipped)
    for a in moved:
        key, k = _key_of(scenario, a.parameter)
        if (key, k) in covered or (key == "attrition_by_tenure" and any(c[0].startswith("band") and c[1] == k for c in covered)):
            skipped.append(f"{a.parameter}: uncertain, fixed at P10 / P90 instead of moved by delta")
        else:
            out.append(a)
    return out, skipped


def _key_of(scenario: Scenario, parameter: str) -> tuple[str, int]:
    """(key, territory index or -1) of an assumption label such as territories.East.win_rate."""
    if not parameter.startswith("territories."):
        return parameter, -1
    names = [t.name for t in scenario.territories]
    for k, name in enumerate(names):
        prefix = f"territories.{name}."
        if parameter.startswith(prefix):
            key = parameter[len(prefix):]
            return key, k
    return parameter, -1


def _assumptions(scenario: Scenario, delta: float, out: list, skipped: list) -> None:
    """The numeric assumptions moved by delta (before uncertain keys are taken out)."""
    market = scenario.spec.market
    _scalar("market.annual_growth", "market.annual_growth", market.annual_growth, delta, "real", out, skipped)
    if market.downturn is not None:
        d = market.downturn
        _scalar("market.downturn.probability_per_year", "market.downturn.probability_per_year", d.probability_per_year, delta, "probability", out, skipped)
        _scalar("market.downturn.duration_months", "market.downturn.duration_months", d.duration_months, delta, "count1", out, skipped)
        _scalar("market.downturn.lead_multiplier", "market.downturn.lead_multiplier", d.lead_multiplier, delta, "real", out, skipped)
        _scalar("market.downturn.win_rate_multiplier", "market.downturn.win_rate_multiplier", d.win_rate_multiplier, delta, "real", out, skipped)
    raw_defaults = scenario.data.get("defaults") or {}
    for i, t in enumerate(scenario.territories):
        p = f"territories.{t.name}"
        raw = scenario.data["territories"][i]
        tenure = raw.get("initial_tenure_months", raw_defaults.get("initial_tenure_months", 24))
        if t.roster is not None:
            skipped.append(f"{p}.reps: a named roster is not scaled (nor its tenures)")
        else:
            _reps(p, t.reps, tenure, delta, out, skipped)
        if t.roster is not None:
            pass
        elif isinstance(tenure, list):
            skipped.append(f"{p}.initial_tenure_months: a list (one per rep) is not scaled")
        else:
            _scalar(f"{p}.initial_tenure_months", f"{p}.initial_tenure_months", tenure, delta, "count", out, skipped)
        for key in ("leads_per_month", "lead_to_opportunity", "win_rate", "skill_sigma", "orphaned_deal_close_rate"):
            _scalar(f"{p}.{key}", f"{p}.{key}", getattr(t, key), delta, "probability" if key in _PROBABILITIES else "real", out, skipped)
        if t.quarter_end_pull > 0:  # moved only where the scenario sets it (most scenarios have none)
            _scalar(f"{p}.quarter_end_pull", f"{p}.quarter_end_pull", t.quarter_end_pull, delta, "probability", out, skipped)
        if t.capacity_leads_per_month is None:
            skipped.append(f"{p}.capacity_leads_per_month: unlimited")
        else:
            _scalar(f"{p}.capacity_leads_per_month", f"{p}.capacity_leads_per_month", t.capacity_leads_per_month, delta, "real", out, skipped)
        for key in ("mean", "cv"):
            if t.deal_empirical is not None:
                skipped.append(f"{p}.deal_size.{key}: empirical deal sizes are not scaled")
                continue
            base = t.deal_mean if key == "mean" else t.deal_cv
            if base == 0:
                skipped.append(f"{p}.deal_size.{key}: 0 cannot be scaled")
                continue
            low, high, note = _moved(base, delta, kind="real")
            other = "cv" if key == "mean" else "mean"
            other_value = t.deal_cv if key == "mean" else t.deal_mean
            out.append(Assumption(f"{p}.deal_size.{key}", base, low, high,
                                  {f"{p}.deal_size": {key: low, other: other_value}},
                                  {f"{p}.deal_size": {key: high, other: other_value}}, note))
        _attrition(scenario, i, p, delta, out, skipped)


def _reps(p: str, reps: int, tenure: object, delta: float, out: list, skipped: list) -> None:
    """Starting reps; a per-rep tenure list is cut (low) or extended with its mean (high) to match."""
    if not isinstance(tenure, list):
        _scalar(f"{p}.reps", f"{p}.reps", reps, delta, "count", out, skipped)
        return
    if reps == 0:
        skipped.append(f"{p}.reps: 0 cannot be scaled")
        return
    low, high, note = _moved(reps, delta, kind="count")
    if low == reps and high == reps:
        skipped.append(f"{p}.reps: unchanged after rounding ({reps})")
        return
    low, high = int(low), int(high)
    fill = int(round(sum(tenure) / len(tenure)))
    out.append(Assumption(f"{p}.reps", reps, low, high,
                          {f"{p}.reps": low, f"{p}.initial_tenure_months": list(tenure[:low])},
                          {f"{p}.reps": high, f"{p}.initial_tenure_months": list(tenure) + [fill] * (high - reps)},
                          note + f"; tenure list cut / extended with its mean ({fill} mo)"))


def _attrition(scenario: Scenario, i: int, p: str, delta: float, out: list, skipped: list) -> None:
    t = scenario.territories[i]
    raw = scenario.data["territories"][i]
    defaults = scenario.data.get("defaults") or {}
    uses_bands = "attrition_by_tenure" in raw or ("attrition_annual" not in raw and "attrition_by_tenure" in defaults)
    if not uses_bands:
        _scalar(f"{p}.attrition_annual", f"{p}.attrition_annual", t.attrition_bands[0][1], delta, "probability", out, skipped)
        return
    annuals = [a for _, a in t.attrition_bands]
    if not any(annuals):
        skipped.append(f"{p}.attrition_by_tenure: all 0, cannot be scaled")
        return
    moved = [_moved(a, delta, kind="probability") for a in annuals]

    def bands(pick: int) -> list[dict]:
        return [({"until_month": u} if u is not None else {}) | {"annual": m[pick]} for (u, _), m in zip(t.attrition_bands, moved)]

    note = "all bands scaled (mean shown)" + ("; clipped to [0, 1]" if any(m[2] for m in moved) else "")
    base = float(np.mean(annuals))
    out.append(Assumption(f"{p}.attrition_by_tenure", base, float(np.mean([m[0] for m in moved])),
                          float(np.mean([m[1] for m in moved])), {f"{p}.attrition_by_tenure": bands(0)},
                          {f"{p}.attrition_by_tenure": bands(1)}, note))


def sensitivity(
    scenario: Scenario,
    delta: float = 0.1,
    trials: int = 2_000,
    seed: int = 0,
    *,
    parameters: list[str] | None = None,
    year: int | None = None,
    rank_by: str = "bookings",
    progress: Progress | None = None,
    client=None,
) -> xr.Dataset:
    """Move each numeric assumption down and up by ``delta`` and rank them by effect.

    Parameters
    ----------
    scenario : Scenario
    delta : float
        Relative move, 0 < delta < 1: 0.1 runs every assumption at 90% and 110% of its value.
    trials, seed : int
        Trials per run; every run shares the seed (common random numbers).
    parameters : list of str, optional
        Only these assumptions (labels as in the output, e.g. ``territories.East.win_rate``).
    year : int, optional
        Fiscal year whose effects rank the assumptions [default: the first full fiscal year].
    rank_by : {"bookings", "p_goal"}
        Rank by the larger of |effect low| and |effect high| on mean bookings, or on P(goal).
    client : dask.distributed.Client, optional
        Run on a Dask cluster (:mod:`salessim.cluster`): every run's chunks of trials go to the
        workers at once; the results are the same bits as in-process.

    Returns
    -------
    xarray.Dataset
        Dimension ``parameter`` (ranked, largest effect first), with ``base_value``,
        ``low_value``, ``high_value`` and ``note``; and over (``metric``, ``fiscal_year``):
        ``base``/``base_se``, ``low``/``low_se``, ``high``/``high_se`` (means and their SEs)
        and ``effect_low``/``effect_high`` with ``effect_low_se``/``effect_high_se`` (paired
        differences from the base run).
    """
    import xarray as xr

    delta = float(parse_number(delta, "--delta"))
    if not 0 < delta < 1:
        raise WhatIfError(f"--delta must be a number between 0 and 1 (0.1 = down and up by 10%), got {delta!r}")
    if rank_by not in ("bookings", "p_goal"):
        raise WhatIfError(f"--rank-by must be bookings or p_goal, got {rank_by!r}")
    check_run_args(trials, seed)
    years = [y for y, _ in scenario.fiscal_years()]
    if not years:
        raise WhatIfError(f"{scenario.name}: no fiscal year lies fully inside the horizon; nothing to measure")
    year = years[0] if year is None else int(year)
    if year not in years:
        raise WhatIfError(f"--year: no fiscal year {year} in {scenario.name} (full fiscal years: {', '.join(map(str, years))})")
    moves, skipped = assumptions(scenario, delta)
    if parameters:
        known = {a.parameter: a for a in moves}
        unknown = [p for p in parameters if p not in known]
        if unknown:
            names = ", ".join(sorted(known))
            raise WhatIfError(f"--param: unknown assumption {', '.join(map(repr, unknown))}; the assumptions are: {names}")
        moves = [known[p] for p in parameters]
    if not moves:
        raise WhatIfError(f"{scenario.name}: no numeric assumption to move")
    # build (and so validate) every moved scenario before running any
    scenarios = [(override(scenario, a.set_low), override(scenario, a.set_high)) for a in moves]
    runs, _ = run_all([scenario] + [sc for pair in scenarios for sc in pair], trials, seed, progress, client=client)
    base = runs[0]
    lows = [r.sel(metric=base["metric"]).values for r in runs[1::2]]
    highs = [r.sel(metric=base["metric"]).values for r in runs[2::2]]
    b = base.values  # (metric, trial, year)
    low, high = np.stack(lows), np.stack(highs)  # (parameter, metric, trial, year)
    s_base, s_low, s_high = describe(b), describe(low), describe(high)
    e_low, e_high = paired(low, b[None]), paired(high, b[None])

    m = list(base["metric"].values).index(rank_by)
    y = years.index(year)
    size = np.fmax(np.abs(e_low["diff"][:, m, y]), np.abs(e_high["diff"][:, m, y]))
    order = np.argsort(-np.nan_to_num(size, nan=-1.0), kind="stable")

    dims = ("parameter", "metric", "fiscal_year")
    pm = lambda a: a[order]  # noqa: E731  (parameter-first arrays in ranked order)
    out = xr.Dataset(
        {
            "base_value": ("parameter", np.array([moves[k].base for k in order]), {"long_name": "the assumption's value in the scenario"}),
            "low_value": ("parameter", np.array([moves[k].low for k in order]), {"long_name": "value after moving down by delta"}),
            "high_value": ("parameter", np.array([moves[k].high for k in order]), {"long_name": "value after moving up by delta"}),
            "note": ("parameter", np.array([moves[k].note for k in order], dtype=object), {"long_name": "rounding or clipping applied"}),
            "base": (("metric", "fiscal_year"), s_base["mean"], {"long_name": "mean in the base run"}),
            "base_se": (("metric", "fiscal_year"), s_base["se"], {"long_name": "standard error of the base mean"}),
            "low": (dims, pm(s_low["mean"]), {"long_name": "mean with the assumption moved down"}),
            "low_se": (dims, pm(s_low["se"]), {"long_name": "standard error of that mean"}),
            "high": (dims, pm(s_high["mean"]), {"long_name": "mean with the assumption moved up"}),
            "high_se": (dims, pm(s_high["se"]), {"long_name": "standard error of that mean"}),
            "effect_low": (dims, pm(e_low["diff"]), {"long_name": "paired difference low - base (same trials)"}),
            "effect_low_se": (dims, pm(e_low["diff_se"]), {"long_name": "standard error of effect_low"}),
            "effect_high": (dims, pm(e_high["diff"]), {"long_name": "paired difference high - base (same trials)"}),
            "effect_high_se": (dims, pm(e_high["diff_se"]), {"long_name": "standard error of effect_high"}),
        },
        coords={
            "parameter": ("parameter", np.array([moves[k].parameter for k in order], dtype=object),
                          {"long_name": "assumption (scenario path), ranked by effect, largest first"}),
            "metric": base["metric"].values,
            "fiscal_year": base["fiscal_year"].values,
        },
    )
    out["unit"] = ("metric", np.array([unit_of(str(m), scenario.spec.currency) for m in base["metric"].values], dtype=object),
                   {"long_name": "unit of the metric"})
    out.attrs.update(base_attrs("sensitivity", [scenario], trials, seed))
    out.attrs.update({"delta": delta, "rank_by": rank_by, "rank_year": int(year),
                      "skipped": "; ".join(skipped) or "none"})
    return out

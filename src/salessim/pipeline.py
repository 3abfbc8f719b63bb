"""The open pipeline a scenario's own funnel carries in steady state at ``start``.

A run that starts from an empty pipeline books almost nothing in its first months, and a
long-cycle business (enterprise: 6-12 month cycles) loses most of its first fiscal year
to that artefact. :func:`steady_pipeline` gives such a scenario the deals its starting
reps would have open on day one had they been selling as the scenario says before it:

- For each starting rep and each age a = 1, 2, ... months: the rep's expected
  opportunities in month -a (the scenario's leads for that calendar month, seasonality and
  growth included, no downturn; routed to the reps in seat then in proportion to their ramp
  productivity at their tenure then; capacity as in the model: E[min(leads, floor(capacity
  x f))] worked, times lead_to_opportunity), times P(cycle >= a), the chance such an
  opportunity is still open at ``start``. The number of open deals of that rep and age is
  a Poisson draw with that mean.
- Each deal's amount is a draw from the territory's ``deal_size`` (lognormal or
  empirical); its owner is the rep (a roster name, or an anonymous rep's seat name such as
  ``East#3``); its win probability is left to the territory's ``win_rate``.

Run from that pipeline, the model's semantics for open deals (SPEC section 9: won with
probability w, booking L - a months later with P(L = l | L >= a)) continue the funnel's
own bookings: an open deal of age a books in month m with probability w p_{a+m} / P(L >= a),
so the expected bookings from the pipeline in month m are what the months before ``start``
would have delivered. Reps who left before ``start`` and their deals are not modelled.

The draws use NumPy generators seeded by (seed, territory), so a pipeline is reproducible
and one territory's deals do not change when another territory changes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import stats

from .scenario import Scenario
from .scenario_files import write_pipeline_csv
from .state_checks import starting_names

__all__ = ["steady_pipeline", "write_steady_pipeline", "expected_open_deals"]


def _worked(lam: float, cap: float) -> float:
    """E[min(N, floor(cap))] for N ~ Poisson(lam): the expected leads a rep works."""
    if not math.isfinite(cap):
        return lam
    c = math.floor(cap)
    if c <= 0 or lam <= 0:
        return 0.0
    k = np.arange(c)
    # E[min(N, c)] = sum_{k < c} P(N > k)
    return float(stats.poisson.sf(k, lam).sum())


def expected_open_deals(sc: Scenario) -> list[dict]:
    """Per (territory, starting rep, age): the expected number of deals open at ``start``.

    Returns dicts with ``territory`` (index), ``rep`` (seat name), ``age_months`` and ``mean``.
    """
    spec = sc.spec
    y0, m0 = sc.start
    season = spec.market.seasonality
    out = []
    names = starting_names(sc.territories)
    for k, t in enumerate(sc.territories):
        pmf = np.asarray(t.sales_cycle_months, dtype=np.float64)
        still_open = 1.0 - np.concatenate(([0.0], np.cumsum(pmf)))[:-1]  # P(L >= a) for a = 0 .. len-1
        longest = int(np.nonzero(pmf > 0)[0].max())
        ramp = t.ramp
        for a in range(1, longest + 1):
            month = (m0 - 1 - a) % 12
            lam_territory = t.leads_per_month * season[month] * (1.0 + spec.market.annual_growth) ** (-a / 12.0)
            tenure_then = [tenure - a for tenure in t.initial_tenure_months]
            f = np.array([0.0 if n < 0 else (ramp[n] if n < len(ramp) else 1.0) for n in tenure_then])
            total = f.sum()
            if total <= 0:
                continue
            cap = math.inf if t.capacity_leads_per_month is None else t.capacity_leads_per_month
            p_open = max(0.0, float(still_open[a]))
            for i, fi in enumerate(f):
                if fi <= 0:
                    continue
                opps = t.lead_to_opportunity * _worked(lam_territory * fi / total, cap * fi)
                out.append({"territory": k, "rep": names[k][i], "age_months": a, "mean": opps * p_open})
    return out


def steady_pipeline(sc: Scenario, seed: int = 0) -> list[dict]:
    """Open deals of the steady-state pipeline at ``start`` (see the module docstring).

    Returns deal dicts with the columns of a pipeline file: ``id`` (``<territory>-<n>``,
    numbered in order of rep and age), ``territory``, ``owner``, ``age_months``, ``amount``
    (rounded to cents) and ``win_probability`` (None: the territory's win rate).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    expected = expected_open_deals(sc)
    deals = []
    for k, t in enumerate(sc.territories):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(k,))))
        count = 0
        for cell in (c for c in expected if c["territory"] == k):
            n = int(rng.poisson(cell["mean"]))
            if t.deal_empirical is not None:
                amounts = rng.choice(np.asarray(t.deal_empirical), size=n)
            else:
                s2 = math.log1p(t.deal_cv**2)
                amounts = rng.lognormal(math.log(t.deal_mean) - s2 / 2.0, math.sqrt(s2), size=n)
            for amount in amounts:
                count += 1
                deals.append({"id": f"{t.name}-{count:05d}", "territory": t.name, "owner": cell["rep"],
                              "age_months": cell["age_months"], "amount": round(float(amount), 2),
                              "win_probability": None})
    return deals


def write_steady_pipeline(sc: Scenario, path: str | Path, seed: int = 0) -> list[dict]:
    """:func:`steady_pipeline` written as a pipeline CSV (atomically); returns the deals."""
    deals = steady_pipeline(sc, seed)
    write_pipeline_csv(deals, Path(path))
    return deals

"""What a planned hire costs: the figure a cost budget (``--budget-cost``) is spent in.

A hire starting in month m of territory k is priced at its on-target cost over a window
that ends with the objective's last fiscal year (``window="objective"``, the default: the
money spent until the objective is judged) or with the horizon (``window="horizon"``):

    hiring_cost + sum over its months in the window of
        base_salary_annual / 12 + overhead_per_rep_month + commission rate x monthly quota x q(tenure)

where q(tenure) is the ramp productivity when ``quota_ramped`` (else 1), so the last term
is variable pay at 100% of the hire's (ramped) quota, and the commission rate is the
plan's ``rate`` or ``variable_annual / quota_annual``. The price assumes the hire stays:
a budget commits to seats, and attrition, backfills and pay above or below target are
what the simulation's ``sales_cost`` measures (the optimizer reports both).
"""

from __future__ import annotations

import numpy as np

from ..inputs import commission_rate
from ..scenario import Scenario
from .slots import Slot

__all__ = ["hire_cost", "has_hire_costs", "COST_WINDOWS"]

COST_WINDOWS = ("objective", "horizon")


def hire_cost(scenario: Scenario, slot: Slot, last_month: int) -> float:
    """On-target cost of one hire in ``slot`` from its start to month index ``last_month`` (inclusive)."""
    t = scenario.territories[slot.territory_index]
    months = max(0, last_month - slot.month_index + 1)
    tenure = np.arange(months)
    ramp = np.asarray(t.ramp, dtype=np.float64)
    f = np.where(tenure < ramp.size, ramp[np.minimum(tenure, max(ramp.size - 1, 0))] if ramp.size else 1.0, 1.0)
    q = f if t.quota_ramped else np.ones(months)
    monthly = t.base_salary_annual / 12.0 + t.overhead_per_rep_month
    variable = commission_rate(t) * t.quota_annual / 12.0
    return float(t.hiring_cost + months * monthly + variable * q.sum())


def has_hire_costs(scenario: Scenario) -> bool:
    """True when some territory prices a hire above zero (the economics keys are set)."""
    return any(t.hiring_cost > 0 or t.base_salary_annual > 0 or t.overhead_per_rep_month > 0
               or commission_rate(t) * t.quota_annual > 0 for t in scenario.territories)

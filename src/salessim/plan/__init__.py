"""Planning tools: propose a plan rather than judge one.

- :func:`optimize`: where and when the next hires should go (greedy on common random
  numbers, then local moves), with the chosen ``hiring_plan`` and a comparison of plans.
- :func:`quotas`: territory and named-rep quotas from goal x over-assignment
  (equal-chance, capacity or flat), with P(attain) for the proposed and the current
  quotas; who carries which quota is :mod:`.holders`.
"""

from .errors import PlanError
from .objective import Objective, parse_objective
from .optimize import OptimizeResult, Precision, Step, optimize
from .quotas import RULES, QuotaResult, quotas
from .slots import Slot, parse_slots

__all__ = ["PlanError", "Objective", "parse_objective", "optimize", "OptimizeResult", "Precision", "Step",
           "Slot", "parse_slots", "quotas", "QuotaResult", "RULES"]

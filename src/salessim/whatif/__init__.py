"""What-if tools on common random numbers: compare plans, sweep assumptions, solve for a
plan, rank the drivers, and run until the Monte Carlo error is small enough.

Every tool runs its scenarios with one seed, so trial k of each run shares its random
draws (SPEC section 7) and differences between runs are paired, trial by trial.
"""

from .common import WhatIfError
from .compare import compare
from .metrics import per_trial
from .precision import PrecisionReport, simulate_to_precision
from .sensitivity import assumptions, sensitivity
from .solve import SolveResult, Target, parse_range, parse_target, solve
from .sweep import sweep

__all__ = [
    "WhatIfError",
    "compare",
    "sweep",
    "solve",
    "SolveResult",
    "Target",
    "parse_target",
    "parse_range",
    "assumptions",
    "sensitivity",
    "simulate_to_precision",
    "PrecisionReport",
    "per_trial",
]

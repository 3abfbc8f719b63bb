"""salessim: Monte Carlo sales capacity planning.

    import salessim
    sc = salessim.load_scenario("scenarios/baseline.yaml")
    ds = salessim.simulate(sc, trials=10_000, seed=42)
    salessim.save_results(ds, "results/baseline.h5")
    table = salessim.summarize(ds)
"""

__version__ = "0.1.0"

import os as _os  # noqa: E402

# A Dask worker started by salessim.cluster: its Numba thread count is set here, before
# numba is first imported (numba reads NUMBA_NUM_THREADS once). The cluster passes it
# under its own name so that the client's numba, already running, never sees a change.
if "SALESSIM_WORKER_NUMBA_THREADS" in _os.environ:
    _os.environ["NUMBA_NUM_THREADS"] = _os.environ["SALESSIM_WORKER_NUMBA_THREADS"]

from .engine import SimulationError, simulate  # noqa: E402
from .results import ResultsError, open_results, save_results, scenario_of  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .summary import summarize  # noqa: E402
from .whatif import WhatIfError, compare, sensitivity, simulate_to_precision, solve, sweep  # noqa: E402
from .plan import PlanError, optimize, quotas  # noqa: E402

__all__ = [
    "__version__",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "ResultsError",
    "load_scenario",
    "simulate",
    "save_results",
    "open_results",
    "scenario_of",
    "summarize",
    "WhatIfError",
    "compare",
    "sweep",
    "solve",
    "sensitivity",
    "simulate_to_precision",
    "PlanError",
    "optimize",
    "quotas",
    "calibrate",
    "backtest",
    "CrmError",
]


def __getattr__(name: str):
    """``salessim.calibrate``, ``salessim.backtest`` and ``salessim.CrmError`` load the CRM package
    on first use, so that ``import salessim`` (and every ``salessim run``) does not pay for its imports."""
    if name in ("calibrate", "backtest", "CrmError"):
        from . import crm

        return getattr(crm, name)
    raise AttributeError(f"module 'salessim' has no attribute {name!r}")

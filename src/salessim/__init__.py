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


# The public names and the module each lives in, imported on first use (PEP 562): a plain
# ``salessim run`` then loads only what it runs (no pandas, xarray, scipy or matplotlib).
_LAZY = {
    "Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
    "SimulationError": "engine", "simulate": "engine",
    "ResultsError": "results", "open_results": "results", "save_results": "results", "scenario_of": "results",
    "summarize": "summary",
    "WhatIfError": "whatif", "compare": "whatif", "sweep": "whatif", "solve": "whatif", "sensitivity": "whatif",
    "simulate_to_precision": "whatif",
    "PlanError": "plan", "optimize": "plan", "quotas": "plan",
    "calibrate": "crm", "backtest": "crm", "CrmError": "crm",
}


def __getattr__(name: str):
    """Load the module behind a public name on first use (``salessim.simulate``, ``from salessim import solve``)."""
    import importlib
    import importlib.util

    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f".{name}", __name__)  # a submodule: salessim.plot, salessim.whatif
        raise AttributeError(f"module 'salessim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""The Numba engine and the plain NumPy model (benchmarks/numpy_model.py) agree in distribution.

The two share no code past :func:`salessim.inputs.build_inputs` and no random numbers
(counter-based streams with inverse-transform samplers against ``numpy.random.Generator``),
so agreement of many means on the baseline checks both: the benchmark compares the engine
with an implementation of the same model, and the engine implements SPEC section 3 as an
independent reading of it does.

Each check is a two-sample z test with no hand-set tolerance:
``|mean_engine - mean_numpy| <= 4 * sqrt(se_engine**2 + se_numpy**2)``, se the Monte Carlo
standard error of the mean over trials. With about 75 statistics the chance that a correct
pair fails one is about 0.5%; the seeds are fixed, so a run is reproducible either way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import salessim
from salessim.inputs import build_inputs

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 4000
Z = 4.0


def _numpy_model():
    spec = importlib.util.spec_from_file_location("numpy_model", ROOT / "benchmarks" / "numpy_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs():
    sc = _numpy_model().without_open_pipeline(salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    ds = salessim.simulate(sc, trials=TRIALS, seed=20261123)
    engine = {name: ds[name].values for name in ds.data_vars}
    numpy_out = _numpy_model().simulate_numpy(build_inputs(sc), TRIALS, seed=1123)
    fy_of_month = ds["fiscal_year_of_month"].values
    years = ds["fiscal_year"].values
    return engine, numpy_out, fy_of_month, years


def _stats(per_trial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over trials (axis 0) and its standard error."""
    x = np.asarray(per_trial, dtype=np.float64)
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


def _per_trial_statistics(out: dict, fy_of_month: np.ndarray, years: np.ndarray) -> dict[str, np.ndarray]:
    """name -> (trials, ...) array of one number per trial and label."""
    stats = {}
    for y in years:
        stats[f"bookings FY{y} by territory"] = out["bookings"][:, fy_of_month == y].sum(axis=1)
    for m in (0, 5, 12, 24, 35):
        stats[f"headcount month {m} by territory"] = out["headcount"][:, m]
    for name in ("wins", "leads", "leads_unworked", "opportunities", "departures", "hires", "open_reqs",
                 "ramped_fte", "quota"):
        stats[f"total {name} by territory"] = out[name].sum(axis=1)
    stats["departures in the first year by territory"] = out["departures"][:, :12].sum(axis=1)
    stats["pipeline_end by territory"] = out["pipeline_end"]
    stats["months in a downturn"] = out["downturn"].sum(axis=1)
    att = out["attainment"]
    with np.errstate(invalid="ignore"):
        stats["mean attainment over filled seats by fiscal year"] = np.nanmean(att, axis=2)
        stats["share of seats at or above quota by fiscal year"] = (att >= 1.0).sum(axis=2) / np.isfinite(att).sum(axis=2)
    stats["filled seats at fiscal year end"] = np.isfinite(att).sum(axis=2)
    stats["attainment of seat 0 (East, tenured) by fiscal year"] = np.nan_to_num(att[:, :, 0], nan=0.0)
    stats["mean tenure at fiscal year end"] = np.nanmean(out["tenure"], axis=2)
    for y_index, y in enumerate(years):
        in_year = fy_of_month == y
        for name in ("commission", "new_customers", "churned_customers", "churned_arr", "revenue_new", "revenue_existing"):
            stats[f"{name} FY{y} by territory"] = out[name][:, in_year].sum(axis=1)
        stats[f"ARR at the end of FY{y} by territory"] = out["arr"][:, np.nonzero(in_year)[0][-1]]
        stats[f"commission earned by seat 0 in FY{y}"] = out["commission_earned"][:, y_index, 0]
    return stats


def test_numpy_model_has_the_engine_shapes(runs):
    engine, numpy_out, _, _ = runs
    for name in ("headcount", "ramped_fte", "hires", "departures", "open_reqs", "leads", "leads_unworked",
                 "opportunities", "wins", "bookings", "quota", "pipeline_end", "attainment", "tenure", "downturn",
                 "commission", "new_customers", "arr", "revenue_new", "revenue_existing", "commission_earned"):
        assert numpy_out[name].shape == engine[name].shape, name


def _equal_to_rounding(actual, desired, err_msg=""):
    """Sums of the same money in another order: equal to a few ulps (the two models add reps in different orders)."""
    np.testing.assert_allclose(actual, desired, rtol=4 * np.finfo(np.float64).eps, atol=0, err_msg=err_msg)


def test_deterministic_quantities_are_identical(runs):
    engine, numpy_out, _, _ = runs
    # month 0 is fixed by the scenario: the reps in seat, their ramp and quota, planned hires, no open reqs
    for name in ("headcount", "ramped_fte", "quota", "hires", "open_reqs"):
        check = np.testing.assert_array_equal if engine[name].dtype.kind in "iu" else _equal_to_rounding
        check(engine[name][:, 0], numpy_out[name][:, 0], err_msg=name)


def test_engine_and_numpy_model_agree_in_distribution(runs):
    engine, numpy_out, fy_of_month, years = runs
    a = _per_trial_statistics(engine, fy_of_month, years)
    b = _per_trial_statistics(numpy_out, fy_of_month, years)
    failures, checked = [], 0
    for name in a:
        mean_a, se_a = _stats(a[name])
        mean_b, se_b = _stats(b[name])
        bound = np.atleast_1d(Z * np.sqrt(se_a**2 + se_b**2))
        diff = np.atleast_1d(np.abs(mean_a - mean_b))
        mean_a, se_a, mean_b, se_b = (np.atleast_1d(v) for v in (mean_a, se_a, mean_b, se_b))
        checked += diff.size
        for i in zip(*np.nonzero(~(diff <= bound))):
            failures.append(f"{name}{list(i)}: engine {mean_a[i]:.6g} +- {se_a[i]:.3g}, "
                            f"numpy {mean_b[i]:.6g} +- {se_b[i]:.3g}, |diff| {diff[i]:.3g} > {bound[i]:.3g}")
    assert checked > 50
    assert not failures, f"{len(failures)} of {checked} statistics disagree:\n" + "\n".join(failures)

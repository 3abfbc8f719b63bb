"""SPEC section 7: a trial's draws depend only on (seed, trial index, scenario).

Bit-identical results across thread counts, chunk sizes, total trial counts and
re-running one trial alone; different seeds differ; two scenarios run with the same seed
share their randomness (common random numbers), which makes paired comparisons sharp.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import salessim
from helpers_model import strip_attrs, yearly

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
SEED = 20270101


@pytest.fixture(scope="module")
def baseline() -> salessim.Scenario:
    return salessim.load_scenario(BASELINE)


def _data_only(ds: xr.Dataset) -> xr.Dataset:
    return strip_attrs(ds)


_RUN = textwrap.dedent("""
    import sys
    import numba
    import salessim
    path, trials, seed, out, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    assert numba.get_num_threads() == threads, (numba.get_num_threads(), threads)
    ds = salessim.simulate(salessim.load_scenario(path), trials=trials, seed=seed)
    salessim.save_results(ds, out)
""")


def _run_with_threads(threads: int, trials: int, out: Path) -> xr.Dataset:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, "-c", _RUN, str(BASELINE), str(trials), str(SEED), str(out), str(threads)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return salessim.open_results(out)


def test_identical_across_thread_counts(tmp_path, baseline):
    trials = 600  # several default chunks' worth of work for each thread
    one = _run_with_threads(1, trials, tmp_path / "threads1.h5")
    two = _run_with_threads(2, trials, tmp_path / "threads2.h5")
    xr.testing.assert_identical(_data_only(one), _data_only(two))
    # and the same as this process (default thread count), through the same file round trip
    here = salessim.save_results(salessim.simulate(baseline, trials=trials, seed=SEED), tmp_path / "here.h5")
    xr.testing.assert_identical(_data_only(one), _data_only(salessim.open_results(here)))


def test_identical_across_chunk_sizes(baseline):
    runs = [salessim.simulate(baseline, trials=60, seed=SEED, chunk_trials=c) for c in (1, 7, 1000)]
    runs.append(salessim.simulate(baseline, trials=60, seed=SEED))
    for other in runs[1:]:
        xr.testing.assert_identical(_data_only(runs[0]), _data_only(other))


def test_trial_independent_of_total_and_rerun_alone(baseline):
    small = salessim.simulate(baseline, trials=20, seed=SEED)
    large = salessim.simulate(baseline, trials=300, seed=SEED)
    xr.testing.assert_identical(_data_only(small), _data_only(large.isel(trial=slice(0, 20))))
    for k in (0, 7, 19):
        alone = salessim.simulate(baseline, trials=1, seed=SEED, first_trial=k)
        assert int(alone["trial"][0]) == k
        xr.testing.assert_identical(_data_only(alone.isel(trial=0)), _data_only(small.isel(trial=k)))
        xr.testing.assert_identical(_data_only(alone.isel(trial=0)), _data_only(large.isel(trial=k)))
    # a window in the middle of a run equals the same trials of a longer run
    window = salessim.simulate(baseline, trials=50, seed=SEED, first_trial=200)
    xr.testing.assert_identical(_data_only(window), _data_only(large.isel(trial=slice(200, 250))))


def test_different_seeds_differ(baseline):
    a = salessim.simulate(baseline, trials=20, seed=1)
    b = salessim.simulate(baseline, trials=20, seed=2)
    c = salessim.simulate(baseline, trials=20, seed=1, first_trial=20)
    for other in (b, c):
        for var in ("leads", "bookings", "headcount", "pipeline_end"):
            assert not np.array_equal(a[var].values, other[var].values), var
    # within a run, trials differ from one another
    book = a["bookings"].sum(["month", "territory"]).values
    assert len(np.unique(book)) == len(book)


def _with_extra_hire(sc: salessim.Scenario) -> salessim.Scenario:
    data = copy.deepcopy(sc.data)
    # appended to the plan, so the seats of the baseline keep their numbers (and streams)
    data["hiring_plan"] = list(data.get("hiring_plan", [])) + [{"month": "2027-02", "territory": "East", "hires": 1}]
    return salessim.Scenario.from_dict(data)


def test_common_random_numbers_sharpen_plan_comparisons(baseline):
    trials = 2000
    alt = _with_extra_hire(baseline)
    total = lambda ds: yearly(ds, "bookings").sum("territory").values  # noqa: E731  (trial, fiscal_year)
    base = total(salessim.simulate(baseline, trials=trials, seed=SEED))
    paired = total(salessim.simulate(alt, trials=trials, seed=SEED)) - base
    independent = total(salessim.simulate(alt, trials=trials, seed=SEED + 1)) - base
    ratios = independent.var(axis=0, ddof=1) / paired.var(axis=0, ddof=1)
    years = [y for y, _ in baseline.fiscal_years()]
    print("\nCRN variance ratio var(independent)/var(paired) by fiscal year:",
          {y: round(float(r), 1) for y, r in zip(years, ratios)})
    print("mean paired difference in yearly bookings:", {y: round(float(m)) for y, m in zip(years, paired.mean(axis=0))})
    assert np.all(ratios >= 4.0), ratios


def test_seat_draws_are_keyed_by_what_the_seat_is_not_its_position():
    """One more hire in the first plan entry renumbers later seats but leaves their draws alone."""
    import numpy as np

    sc = salessim.load_scenario("scenarios/baseline.yaml")
    more = sc.with_overrides({"hiring_plan.0.hires": sc.spec.hiring_plan[0].hires + 1})
    a = salessim.simulate(sc, 60, 5)
    b = salessim.simulate(more, 60, 5)
    n_start = sum(t.reps for t in sc.territories)
    first_entry = sc.spec.hiring_plan[0].hires
    same_a = list(range(n_start)) + list(range(n_start + first_entry, a.sizes["seat"]))
    same_b = list(range(n_start)) + list(range(n_start + first_entry + 1, b.sizes["seat"]))
    # tenure depends only on each seat's own occupants' departure and time-to-fill draws
    np.testing.assert_array_equal(a["tenure"].values[:, :, same_a], b["tenure"].values[:, :, same_b])
    assert list(a["seat_territory"].values[same_a]) == list(b["seat_territory"].values[same_b])

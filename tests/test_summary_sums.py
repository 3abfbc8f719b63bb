"""The summary's fiscal-year month sums (``summary._month_sum``) give NumPy's ``sum`` to the bit.

The summary adds a fiscal year's months slice by slice instead of calling ``sum(axis=1)``
(which is slow with a few territories); every printed figure depends on these totals
being the same floats as before, so they are compared byte for byte, with magnitudes
that make the order of additions matter, with -0.0, and for one territory (where NumPy
sums pairwise and the summary keeps ``sum``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from salessim.summary import _month_sum


@st.composite
def _months_and_positions(draw):
    trials = draw(st.integers(1, 40))
    months = draw(st.integers(1, 40))
    territories = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float64, np.int32, np.float32]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (trials, months, territories)
    if dtype is np.int32:
        values = rng.integers(-(2**31), 2**31 - 1, size=shape, dtype=np.int32)  # int64 sums, no overflow
    else:
        # magnitudes from 1e-3 to 1e12, signs mixed, some -0.0: the order of additions changes the floats
        values = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 13, size=shape)).astype(dtype)
        values[rng.random(shape) < 0.1] = -0.0
    first = draw(st.integers(0, months - 1))
    stop = draw(st.integers(first, months))
    if draw(st.booleans()):
        idx = np.arange(first, stop)
    else:  # any set of positions (not a fiscal year, but the function must still be right)
        idx = np.sort(rng.choice(months, size=draw(st.integers(0, months)), replace=False))
    return values, idx


@settings(max_examples=300, deadline=None)
@given(_months_and_positions())
def test_month_sums_are_numpys_sum_to_the_bit(case):
    values, idx = case
    expected = values[:, idx, :].sum(axis=1)
    got = _month_sum(values, idx)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(expected).tobytes()


def test_a_year_of_negative_zeros_sums_to_positive_zero_as_numpy_does():
    values = np.full((3, 12, 2), -0.0)
    got = _month_sum(values, np.arange(12))
    assert not np.signbit(got).any()
    assert not np.signbit(values.sum(axis=1)).any()

"""The inverse-transform samplers and counter-based streams of ``kernels/streams.py``
against scipy.stats (layer 2: kernel against an obvious reference).

A quantile is accepted when it equals scipy's ``ppf`` exactly, or when ``u`` lies within
``STEP_TOL`` of a CDF step, i.e. the engine's answer is the exact quantile of some u'
with |u' - u| <= STEP_TOL (rounding in either implementation decides such ties).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss

from salessim.kernels.streams import (
    GOLDEN,
    LEAD_COINS_MAX,
    binomial_inv,
    categorical_inv,
    coin_threshold,
    funnel_coins,
    mix64,
    normal_inv,
    poisson_inv,
    stream_key,
    uniform,
)

STEP_TOL = 1e-12
_RNG = np.random.default_rng(20270101)
# round values from 1e-9 to 1 - 1e-9, plus random ones; the far tails are tested separately
U_GRID = np.concatenate([
    [1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 2 / 3,
     0.7, 0.75, 0.8, 0.9, 0.95, 0.99, 0.999, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9],
    _RNG.random(250),
])
# the smallest and largest values uniform() is meant to produce, and other far-tail points
U_TAILS = np.array([2.0**-53, 1e-15, 1e-12, 1 - 1e-12, 1 - 2.0**-53])  # uniform() spans [2**-53, 1 - 2**-53]

POISSON_LAMBDAS = [0.0, 1e-3, 0.5, 1.0, 5.0, 29.9, 29.999999, 30.0, 30.000001, 31.5, 100.0, 250.0, 1000.0, 5000.0]
BINOMIAL_NS = [0, 1, 2, 5, 17, 60, 100, 1000, 10000]
BINOMIAL_PS = [0.0, 0.001, 0.01, 0.1, 0.3, 0.4999, 0.5, 0.5001, 0.7, 0.9, 0.99, 1.0]
U64 = (1 << 64) - 1


def _quantile_ok(k: int, u: float, ref: float, cdf) -> bool:
    if k == ref:
        return True
    # k is the exact quantile of some u' within STEP_TOL of u: F(k-1) < u' <= F(k)
    return cdf(k) >= u - STEP_TOL and (k == 0 or cdf(k - 1) < u + STEP_TOL)


def _mismatches(sampler, params, us, ppf, cdf) -> list[tuple]:
    bad = []
    for args in params:
        ref = ppf(us, *args)
        for u, r in zip(us, ref):
            k = sampler(float(u), *args)
            if not _quantile_ok(k, float(u), r, lambda j: cdf(j, *args)):
                bad.append((*args, float(u), k, r))
    return bad


# ------------------------------------------------------------------------- Poisson


def test_poisson_inv_equals_scipy_ppf():
    params = [(lam,) for lam in POISSON_LAMBDAS]
    bad = _mismatches(poisson_inv, params, U_GRID, ss.poisson.ppf, ss.poisson.cdf)
    assert not bad, f"(lam, u, engine, scipy) mismatches: {bad[:10]}"


def test_poisson_inv_zero_rate_is_zero():
    for u in (1e-9, 0.5, 1 - 1e-9):
        assert poisson_inv(u, 0.0) == 0
        assert poisson_inv(u, -1.0) == 0


def test_samplers_far_tails_equal_scipy_ppf():
    bad = _mismatches(poisson_inv, [(250.0,), (5000.0,)], U_TAILS, ss.poisson.ppf, ss.poisson.cdf)
    bad += _mismatches(binomial_inv, [(10000, p) for p in (0.01, 0.1, 0.4999, 0.5001, 0.9)], U_TAILS,
                       ss.binom.ppf, ss.binom.cdf)
    assert not bad, f"far-tail mismatches (params..., u, engine, scipy): {bad}"


def test_poisson_inv_monotone_in_lambda():
    lams = np.concatenate([np.linspace(0.0, 60.0, 1201), np.linspace(29.99, 30.01, 201), [250.0, 250.5, 5000.0, 5000.5]])
    lams.sort()
    for u in [1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-6, *_RNG.random(10)]:
        ks = np.array([poisson_inv(float(u), float(lam)) for lam in lams])
        assert np.all(np.diff(ks) >= 0), f"poisson_inv({u}, lam) decreases in lam at lam={lams[1:][np.diff(ks) < 0]}"


# ------------------------------------------------------------------------ binomial


def test_binomial_inv_equals_scipy_ppf():
    params = [(n, p) for n in BINOMIAL_NS for p in BINOMIAL_PS]
    bad = _mismatches(binomial_inv, params, U_GRID, ss.binom.ppf, ss.binom.cdf)
    assert not bad, f"(n, p, u, engine, scipy) mismatches: {bad[:10]}"


def test_binomial_inv_edges():
    for u in (1e-9, 0.5, 1 - 1e-9):
        assert binomial_inv(u, 0, 0.3) == 0
        assert binomial_inv(u, 25, 0.0) == 0
        assert binomial_inv(u, 25, 1.0) == 25
        assert 0 <= binomial_inv(u, 25, 0.5) <= 25


def test_binomial_inv_monotone_in_n_and_p():
    ns = np.arange(0, 301)
    ps = np.concatenate([np.linspace(0.0, 1.0, 1001), np.linspace(0.499, 0.501, 201)])
    ps.sort()
    for u in [1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-6, *_RNG.random(8)]:
        u = float(u)
        for p in (0.01, 0.3, 0.5, 0.51, 0.9):
            ks = np.array([binomial_inv(u, int(n), p) for n in ns])
            assert np.all(np.diff(ks) >= 0), f"binomial_inv({u}, n, {p}) decreases in n"
        for n in (1, 7, 60, 1000):
            ks = np.array([binomial_inv(u, n, float(p)) for p in ps])
            assert np.all(np.diff(ks) >= 0), f"binomial_inv({u}, {n}, p) decreases in p at p={ps[1:][np.diff(ks) < 0]}"


# -------------------------------------------------------------------------- normal


def test_normal_inv_matches_scipy():
    us = np.concatenate([U_GRID, U_TAILS, [0.425, 0.075, 0.925, 0.5 + 1e-10, 0.5 - 1e-10,
                                           math.exp(-25.0), 1 - math.exp(-25.0), 1e-300]])
    us = us[us != 0.5]
    got = np.array([normal_inv(float(u)) for u in us])
    np.testing.assert_allclose(got, ss.norm.ppf(us), rtol=1e-12, atol=0.0)
    assert normal_inv(0.5) == 0.0


# ------------------------------------------------------------------------- uniform


def test_uniform_inside_open_interval():
    st = np.zeros(1, dtype=np.uint64)
    draws = []
    for key in range(2000):
        st[0] = stream_key(7, key, 3, key % 11, key % 5)
        draws.extend(uniform(st) for _ in range(50))
    x = np.array(draws)
    assert np.all((x > 0.0) & (x < 1.0))
    # and it looks uniform: mean 1/2 within 4 SE of the sample
    assert abs(x.mean() - 0.5) <= 4 * math.sqrt(1 / 12 / x.size)


def _mix64_inverse(y: int) -> int:
    """The counter value whose SplitMix64 finalisation is ``y`` (mix64 is a bijection)."""
    def unxorshift(z: int, s: int) -> int:
        x = z
        for _ in range(64 // s + 1):
            x = z ^ (x >> s)
        return x & U64

    y = unxorshift(y, 31)
    y = y * pow(0x94D049BB133111EB, -1, 1 << 64) & U64
    y = unxorshift(y, 27)
    y = y * pow(0xBF58476D1CE4E5B9, -1, 1 << 64) & U64
    return unxorshift(y, 30)


def _uniform_from_hash(h: int) -> float:
    """uniform() on the state whose next mixed value is ``h``."""
    x = _mix64_inverse(h)
    assert int(mix64(np.uint64(x))) == h
    st = np.array([(x - int(GOLDEN)) & U64], dtype=np.uint64)  # uniform() adds GOLDEN first
    return uniform(st)


def test_uniform_extreme_low_hash_is_positive():
    assert _uniform_from_hash(0) == 2.0**-53


def test_uniform_extreme_high_hash_is_below_one():
    u = _uniform_from_hash(U64)
    assert u == 1.0 - 2.0**-53, f"uniform() gave {u!r}"
    assert math.isfinite(normal_inv(u))


# --------------------------------------------------------------------- categorical


def test_categorical_inv_matches_searchsorted():
    for pmf in ([1.0], [0.2, 0.8], [0.0, 0.3, 0.0, 0.5, 0.2], [0.1] * 10, [0.0, 0.0, 1.0]):
        cdf = np.cumsum(pmf)
        cdf[-1] = 1.0
        padded = np.concatenate([cdf, np.ones(3)])  # as inputs.py pads to a common width
        us = np.concatenate([U_GRID, cdf[:-1], np.nextafter(cdf[:-1], 1.0)])
        us = us[(us > 0) & (us < 1)]
        for u in us:
            want = min(int(np.searchsorted(cdf, u, side="left")), len(pmf) - 1)
            assert categorical_inv(float(u), padded, len(pmf)) == want, (pmf, u)
            assert pmf[want] > 0.0 or u in cdf  # zero-probability categories are never drawn
    # a cdf whose last entry rounded below 1 still returns the last index
    short = np.array([0.3, 0.999999999999])
    assert categorical_inv(1 - 1e-14, short, 2) == 1


def test_categorical_inv_frequencies():
    pmf = np.array([0.1, 0.0, 0.6, 0.3])
    cdf = np.cumsum(pmf)
    u = _RNG.random(20000)
    k = np.array([categorical_inv(float(x), cdf, 4) for x in u])
    for j, p in enumerate(pmf):
        hit = (k == j).astype(float)
        if p == 0.0:
            assert hit.sum() == 0
        else:
            assert abs(hit.mean() - p) <= 4 * math.sqrt(p * (1 - p) / u.size)


# ---------------------------------------------------------------------- stream key


def test_stream_key_differs_across_each_argument():
    base = (12345, 7, 3, 5, 2)
    k0 = int(stream_key(*base))
    for i in range(5):
        for delta in (1, 2, 1000):
            args = list(base)
            args[i] += delta
            assert int(stream_key(*args)) != k0, f"argument {i} changed by {delta} gives the same key"
    # a grid of addresses: every key distinct, including swapped (a, b) and (trial, purpose)
    keys = {int(stream_key(s, t, p, a, b))
            for s in (0, 1, 2**40) for t in range(6) for p in range(1, 5) for a in range(6) for b in range(6)}
    assert len(keys) == 3 * 6 * 4 * 6 * 6
    assert int(stream_key(0, 0, 1, 1, 2)) != int(stream_key(0, 0, 1, 2, 1))


def test_stream_key_deterministic():
    assert int(stream_key(42, 9, 2, 4, 1)) == int(stream_key(42, 9, 2, 4, 1))
    st = np.zeros(1, dtype=np.uint64)
    st[0] = stream_key(42, 9, 2, 4, 1)
    a = [uniform(st) for _ in range(5)]
    st[0] = stream_key(42, 9, 2, 4, 1)
    b = [uniform(st) for _ in range(5)]
    assert a == b and len(set(a)) == 5


# ------------------------------------------------------------- shared tables, ziggurat

from numba import njit  # noqa: E402

from salessim.kernels.streams import (  # noqa: E402
    POISSON_TABLE_MAX_MEAN,
    POISSON_TABLE_SIZE,
    normal_zig,
    poisson_lookup,
    poisson_table,
    table_lookup,
)


@pytest.mark.parametrize("lam", [0.0, 0.3, 4.4, 9.0, 11.5, 29.9])
def test_poisson_table_lookup_equals_direct_inversion(lam):
    assert lam < 30.0  # the regime where the table and poisson_inv share their recurrence
    cdf = np.empty(POISSON_TABLE_SIZE)
    n = poisson_table(lam, cdf)
    assert cdf[n - 1] >= 0.999 or n == POISSON_TABLE_SIZE
    for u in np.concatenate([U_GRID, U_TAILS]):
        assert poisson_lookup(float(u), lam, cdf, n) == poisson_inv(float(u), lam), (lam, u)


@pytest.mark.parametrize("lam", [30.0, 31.5, 47.0, 72.25, 99.99])
def test_poisson_table_lookup_is_the_quantile_up_to_rounding(lam):
    """Means 30..100: the table (forward recurrence) and poisson_inv (search from the mode) agree to rounding."""
    assert lam < POISSON_TABLE_MAX_MEAN
    cdf = np.empty(POISSON_TABLE_SIZE)
    n = poisson_table(lam, cdf)
    assert cdf[n - 1] >= 0.999 and n < POISSON_TABLE_SIZE
    bad = [(float(u), poisson_lookup(float(u), lam, cdf, n)) for u in np.concatenate([U_GRID, U_TAILS])
           if not _quantile_ok(poisson_lookup(float(u), lam, cdf, n), float(u), ss.poisson.ppf(u, lam),
                               lambda j: ss.poisson.cdf(j, lam))]
    assert not bad, bad[:5]


@njit
def _funnel_counts(seed, n, p_opp, p_win, reps):
    out = np.empty((reps, 2), dtype=np.int64)
    for i in range(reps):
        out[i, 0], out[i, 1] = funnel_coins(stream_key(seed, i, 77, 0, 0), n, p_opp, p_win)
    return out


def _binomial_ok(x, n, p, reps):
    """Mean and variance of Binomial(n, p) within 4 SE, and a chi-square test of the pmf."""
    mean, var = n * p, n * p * (1 - p)
    assert abs(x.mean() - mean) <= 4 * math.sqrt(var / reps + 1e-300)
    mu4 = var * (1 + 3 * (n - 2) * p * (1 - p))  # the sample variance's exact SE, from the fourth central moment
    assert abs(x.var(ddof=1) - var) <= 4 * math.sqrt(max(mu4 - var**2 * (reps - 3) / (reps - 1), 0.0) / reps) + 1e-12
    if var > 0 and n <= 200:
        counts = np.bincount(x, minlength=n + 1).astype(float)
        expected = ss.binom.pmf(np.arange(n + 1), n, p) * reps
        keep = expected >= 5
        stat, pvalue = ss.chisquare(counts[keep], expected[keep] * counts[keep].sum() / expected[keep].sum())
        assert pvalue > 1e-4, (stat, pvalue)


@pytest.mark.parametrize(("n", "p_opp", "p_win"), [(1, 0.5, 0.5), (5, 0.45, 0.44), (8, 0.3, 1.0), (9, 0.45, 0.44),
                                                   (31, 0.05, 0.9), (33, 0.9, 0.2), (70, 0.45, 0.3),
                                                   (LEAD_COINS_MAX + 1, 0.2, 0.4)])
def test_funnel_coins_are_the_binomial_funnel(n, p_opp, p_win):
    """Over many streams: opportunities ~ Binomial(n, p_opp), wins ~ Binomial(n, p_opp p_win)
    (and wins <= opportunities), each within 4 SE in mean and variance and by chi-square;
    the blocks of 8 and 32 and the two-inversion path for many leads alike."""
    reps = 40_000
    x = _funnel_counts(123, n, p_opp, p_win, reps)
    opps, wins = x[:, 0], x[:, 1]
    assert opps.min() >= 0 and opps.max() <= n and np.all(wins <= opps)
    _binomial_ok(opps, n, p_opp, reps)
    _binomial_ok(wins, n, p_opp * p_win, reps)


def test_funnel_coins_compare_each_leads_uniform():
    """The integer thresholds say opportunity or win exactly when the lead's uniform
    (k + 1/2) / 2**52 is below p_opp or p_opp x p_win, including p just at a lead's own uniform."""
    key = int(stream_key(11, 0, 77, 5, 6))
    us = []
    for j in range(1, 41):
        h = int(mix64(np.uint64((key + j * int(GOLDEN)) % 2**64)))
        us.append(((h >> 12) + 0.5) / 2.0**52)
    ps = [0.0, 1e-300, 0.3, 0.44, 0.5, 0.9, 1.0] + us[:8] + [math.nextafter(u, 2.0) for u in us[:8]]
    for p in ps:
        assert coin_threshold(p) == (0 if p <= 0 else math.ceil(min(p, 1.0) * 2.0**52 - 0.5))
        for n in (1, 7, 8, 9, 32, 33, 40):
            for p_win in (1.0, 0.5):
                opps, wins = funnel_coins(np.uint64(key), n, p, p_win)
                assert opps == sum(u < p for u in us[:n]), (p, n)
                assert wins == sum(u < p * p_win for u in us[:n]), (p, n, p_win)


def test_funnel_coins_are_monotone():
    """More worked leads, a higher p_opp or a higher p_win never give fewer opportunities or
    wins from the same key (common random numbers)."""
    key = np.uint64(stream_key(5, 0, 77, 1, 2))
    for p_opp, p_win in ((0.1, 0.5), (0.45, 0.44), (0.9, 0.9)):
        counts = [funnel_coins(key, n, p_opp, p_win) for n in range(0, 200)]
        assert all(b[0] - a[0] in (0, 1) and b[1] - a[1] in (0, 1) for a, b in zip(counts, counts[1:]))
    for n in (5, 40, 150):
        by_opp = [funnel_coins(key, n, p, 0.5) for p in np.linspace(0.0, 1.0, 101)]
        assert by_opp[0] == (0, 0) and by_opp[-1][0] == n
        assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(by_opp, by_opp[1:]))
        by_win = [funnel_coins(key, n, 0.45, p) for p in np.linspace(0.0, 1.0, 101)]
        assert len({o for o, _ in by_win}) == 1 and by_win[0][1] == 0 and by_win[-1][1] == by_win[-1][0]
        assert all(b[1] >= a[1] for a, b in zip(by_win, by_win[1:]))


@njit
def _zig_draws(n, seed):
    st = np.empty(1, np.uint64)
    st[0] = stream_key(seed, 0, 99, 0, 0)
    out = np.empty(n)
    for i in range(n):
        out[i] = normal_zig(st)
    return out


def test_normal_zig_is_standard_normal():
    n = 400_000
    x = _zig_draws(n, 7)
    # moments within 4 standard errors: mean (1/sqrt n), variance (sqrt(2/n)), skew, kurtosis
    assert abs(x.mean()) <= 4 / math.sqrt(n)
    assert abs(x.var() - 1.0) <= 4 * math.sqrt(2.0 / n)
    assert abs(ss.skew(x)) <= 4 * math.sqrt(6.0 / n)
    assert abs(ss.kurtosis(x)) <= 4 * math.sqrt(24.0 / n)
    assert ss.kstest(x, "norm").pvalue > 1e-4
    # the tail beyond r (drawn by rejection) has the right mass: binomial SE
    p_tail = 2 * ss.norm.sf(3.442619855899)
    share = np.mean(np.abs(x) > 3.442619855899)
    assert abs(share - p_tail) <= 4 * math.sqrt(p_tail * (1 - p_tail) / n)


def test_normal_zig_advances_its_stream_by_exactly_one():
    st = np.array([stream_key(3, 1, 99, 0, 0)], np.uint64)
    for _ in range(10_000):  # includes rejections, which draw from their own side stream only
        before = int(st[0])
        normal_zig(st)
        assert (int(st[0]) - before) % 2**64 == int(GOLDEN)

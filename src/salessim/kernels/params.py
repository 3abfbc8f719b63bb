"""Parameter draws (two-level Monte Carlo) and per-draw lookup tables, for Numba.

Draw ``d`` of uncertain path ``p`` comes from its own stream, keyed by
``mix64(draw_key(seed, d) ^ path_key)``, where ``path_key`` is a 64-bit hash of the
canonical path: it does not depend on the trials, the chunk, the thread or the other
paths, so two scenarios that share an uncertainty block share its draws (common random
numbers). The index into ``samples`` lists comes from the stream ``mix64(draw_key ^
SAMPLES_KEY)``, one per draw for all of them (joint posterior draws stay together).

Families (codes below; ``par`` holds their parameters, ``lo``/``hi`` the truncation bounds,
+-inf when absent):

- normal (mean, sd) and lognormal (mu, sigma of the log) by inversion of the truncated CDF
  (one uniform; monotone in it);
- gamma (shape, scale) by Marsaglia and Tsang's method, beta (a, b) as X / (X + Y) of two
  gammas, truncated by rejection (validation keeps at least 1% of the mass inside);
- uniform (low, high) and triangular (low, mode, high) by inversion;
- a spread of 0 is a point mass: the value is the mean itself, bit for bit.

Keep :data:`STREAMS_SHA256` equal to the SHA-256 of ``streams.py`` (see :mod:`salessim.kernels`).
"""

import math

import numpy as np
from numba import njit

from .streams import draw_key, mix64, normal_inv, uniform

STREAMS_SHA256 = "9555693ef78d96041c5240a8ca7d66661cf4eaacf14adebec172e39037906749"

FAMILY_NORMAL, FAMILY_LOGNORMAL, FAMILY_GAMMA, FAMILY_BETA, FAMILY_UNIFORM, FAMILY_TRIANGULAR = range(6)
SAMPLES_KEY = np.uint64(0x3C6EF372FE94F82B)  # the joint samples index stream of a draw

_SQRT1_2 = 0.7071067811865476


@njit(cache=True, inline="always")
def _phi(x):
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x * _SQRT1_2)


@njit(cache=True)
def truncated_normal(u, mean, sd, lo, hi):
    """mean + sd Z with Z standard normal truncated to [(lo - mean) / sd, (hi - mean) / sd], at uniform u."""
    if sd == 0.0:
        return mean
    a = (lo - mean) / sd
    b = (hi - mean) / sd
    if a > 0.0:  # both bounds in the upper tail: invert the mirror image, where the CDF is precise
        pa, pb = _phi(-b), _phi(-a)
        z = -normal_inv(pa + (1.0 - u) * (pb - pa))
    else:
        pa, pb = _phi(a), _phi(b)
        z = normal_inv(pa + u * (pb - pa))
    return min(max(mean + sd * z, lo), hi)


@njit(cache=True)
def gamma_draw(st, shape):
    """Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through Gamma(shape + 1) U^(1/shape)."""
    boost = 1.0
    if shape < 1.0:
        boost = uniform(st) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = normal_inv(uniform(st))
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(uniform(st)) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost


@njit(cache=True)
def draw_scalar(st, family, p0, p1, p2, lo, hi):
    """One value of a scalar family from stream ``st`` (see the module docstring)."""
    if family == FAMILY_NORMAL:
        return truncated_normal(uniform(st), p0, p1, lo, hi)
    if family == FAMILY_LOGNORMAL:  # p0, p1: mu and sigma of the log; p2: the mean (the point mass)
        if p1 == 0.0:
            return p2
        llo = math.log(lo) if lo > 0.0 else -math.inf
        lhi = math.log(hi) if hi < math.inf else math.inf
        return min(max(math.exp(truncated_normal(uniform(st), p0, p1, llo, lhi)), lo), hi)
    if family == FAMILY_GAMMA:  # p0 shape, p1 scale; p2 the mean (a point mass when shape is inf)
        if p0 == math.inf:
            return p2
        while True:
            x = gamma_draw(st, p0) * p1
            if lo <= x <= hi:
                return x
    if family == FAMILY_BETA:
        while True:
            x = gamma_draw(st, p0)
            y = gamma_draw(st, p1)
            b = x / (x + y) if x + y > 0.0 else (1.0 if p0 > p1 else 0.0)
            if lo <= b <= hi:
                return b
    if family == FAMILY_UNIFORM:
        return p0 + uniform(st) * (p1 - p0) if p1 > p0 else p0
    # triangular (low p0, mode p1, high p2)
    if p2 <= p0:
        return p0
    u = uniform(st)
    cut = (p1 - p0) / (p2 - p0)
    if u < cut:
        return p0 + math.sqrt(u * (p2 - p0) * (p1 - p0))
    return p2 - math.sqrt((1.0 - u) * (p2 - p0) * (p2 - p1))


@njit(cache=True)
def draw_scalars(seed, d0, path_key, family, p0, p1, p2, lo, hi, out):
    """``out[j]`` = draw ``d0 + j`` of one scalar path (``path_key``: the hash of its path)."""
    st = np.empty(1, dtype=np.uint64)
    for j in range(out.shape[0]):
        st[0] = mix64(draw_key(seed, d0 + j) ^ np.uint64(path_key))
        out[j] = draw_scalar(st, family, p0, p1, p2, lo, hi)


@njit(cache=True)
def draw_dirichlet(seed, d0, path_key, alpha, out):
    """``out[j]`` = draw ``d0 + j`` of a Dirichlet(alpha) pmf: gammas normalised to sum 1."""
    st = np.empty(1, dtype=np.uint64)
    m = alpha.shape[0]
    for j in range(out.shape[0]):
        st[0] = mix64(draw_key(seed, d0 + j) ^ np.uint64(path_key))
        total = 0.0
        for i in range(m):
            out[j, i] = gamma_draw(st, alpha[i])
            total += out[j, i]
        if total > 0.0:
            for i in range(m):
                out[j, i] /= total
        else:  # every gamma underflowed (tiny concentrations): the limit puts all mass on the largest concentration
            out[j, :] = 0.0
            out[j, np.argmax(alpha)] = 1.0


@njit(cache=True)
def sample_indices(seed, d0, n_samples, out):
    """``out[j]`` = the index j(d) into every ``samples`` list for draw ``d = d0 + j``."""
    st = np.empty(1, dtype=np.uint64)
    for j in range(out.shape[0]):
        st[0] = mix64(draw_key(seed, d0 + j) ^ SAMPLES_KEY)
        out[j] = min(int(uniform(st) * n_samples), n_samples - 1)

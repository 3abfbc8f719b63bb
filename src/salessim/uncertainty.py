"""Uncertain parameters: two-level Monte Carlo (SPEC section 9).

A scenario's ``uncertainty`` block maps dotted paths (as ``--set`` takes them) to
distributions. Each parameter *draw* d gives every listed path one value; trial k runs
with draw k // ``trials_per_draw``. Outer level: the parameters (what we do not know
about the organisation: a win rate estimated from 300 deals); inner level: the futures
(what nobody can know).

- Draw d of path p comes from the stream keyed by (seed, d, p) (:mod:`.kernels.params`),
  so draws agree across scenarios, thread counts, chunkings and trial counts; the
  ``samples`` lists of a block are indexed jointly by one j(d) per draw, from the stream
  keyed by (seed, d).
- A ``defaults.<key>`` path gives one value to every territory that takes the key from
  ``defaults`` (fully correlated); a ``territories.<name>.<key>`` path sets that territory
  and wins over the defaults path there.
- The draws of a chunk of trials are made and turned into the kernel's per-draw arrays
  here, one row per draw (:func:`salessim.inputs.derive`, the code that builds the
  scenario's own arrays); the kernel only picks each trial's row. Nothing is rebuilt per
  trial in Python.
- Integer keys (``market.downturn.duration_months``) are rounded to the nearest whole
  number. A pmf (``sales_cycle_months``, ``time_to_fill_months``) is replaced whole by a
  dirichlet draw or one of the ``samples`` pmfs.
- The drawn values are stored per trial in the results: ``parameter_value`` (trial,
  parameter), with pmfs flattened as ``<path>.<month>``, ``parameter_draw`` (trial) and,
  with ``samples``, ``parameter_sample`` (trial).

A point mass (sd or cv 0, ``uniform`` with low = high, one repeated sample) yields the
value itself, and a draw equal to the scenario's value yields the scenario's own arrays,
so such a run reproduces the plain run bit for bit.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np

from .kernels import params as kp
from .scenario import Scenario
from .state_checks import KEY_UNITS, UncertainTarget, resolve_path

__all__ = ["Plan", "build_plan", "path_key", "quantile", "flat_names"]


def path_key(path: str) -> int:
    """64-bit stream address of an uncertain path (a hash of its canonical text)."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Entry:
    """One uncertain path, ready to draw."""

    target: UncertainTarget
    kind: str  # "scalar", "dirichlet", "samples", "pmf_samples"
    family: int  # kernels.params FAMILY_* for scalar draws
    par: tuple[float, float, float]
    lo: float
    hi: float
    values: np.ndarray | None  # samples (N,) or pmf samples (N, L) or dirichlet concentrations (L,)
    key: int

    @property
    def width(self) -> int:
        """Flattened values per draw: 1, or the pmf's entries."""
        if self.kind == "scalar" or self.kind == "samples":
            return 1
        return int(self.values.shape[-1])


def _entry(target: UncertainTarget, dist) -> Entry:
    family = dist.family
    lo = -math.inf if dist.min is None else float(dist.min)
    hi = math.inf if dist.max is None else float(dist.max)
    key = path_key(target.path)
    if family == "samples":
        if isinstance(dist.samples[0], list):  # pmfs, zero-padded to the longest (a month more with probability 0)
            width = max(len(pmf) for pmf in dist.samples)
            values = np.zeros((len(dist.samples), width))
            for j, pmf in enumerate(dist.samples):
                values[j, : len(pmf)] = np.asarray(pmf) / math.fsum(pmf)  # each sums to 1 within 1e-9
            return Entry(target, "pmf_samples", -1, (0.0, 0.0, 0.0), lo, hi, values, key)
        return Entry(target, "samples", -1, (0.0, 0.0, 0.0), lo, hi, np.asarray(dist.samples, dtype=np.float64), key)
    if family == "dirichlet":
        return Entry(target, "dirichlet", -1, (0.0, 0.0, 0.0), lo, hi, np.asarray(dist.dirichlet, dtype=np.float64), key)
    if family == "normal":
        par, code = (float(dist.normal.mean), dist.normal.sd_value, 0.0), kp.FAMILY_NORMAL
    elif family == "lognormal":
        mean, sd = float(dist.lognormal.mean), dist.lognormal.sd_value
        s2 = math.log1p((sd / mean) ** 2)
        par, code = (math.log(mean) - s2 / 2.0, math.sqrt(s2), mean), kp.FAMILY_LOGNORMAL
    elif family == "gamma":
        mean, sd = float(dist.gamma.mean), dist.gamma.sd_value
        par = (math.inf, 0.0, mean) if sd == 0 else ((mean / sd) ** 2, sd * sd / mean, mean)
        code = kp.FAMILY_GAMMA
    elif family == "beta":
        par, code = (float(dist.beta[0]), float(dist.beta[1]), 0.0), kp.FAMILY_BETA
    elif family == "uniform":
        par, code = (float(dist.uniform[0]), float(dist.uniform[1]), 0.0), kp.FAMILY_UNIFORM
    else:
        par, code = tuple(float(x) for x in dist.triangular), kp.FAMILY_TRIANGULAR
    return Entry(target, "scalar", code, par, lo, hi, None, key)


def flat_names(entries: list[Entry]) -> list[str]:
    """Names of the stored per-trial parameter values: the path, or ``<path>.<month>`` for pmf entries."""
    names = []
    for e in entries:
        names += [e.target.path] if e.width == 1 and e.target.domain is not None else \
            [f"{e.target.path}.{i}" for i in range(e.width)]
    return names


@dataclass(frozen=True)
class Plan:
    """The uncertainty block of a scenario, resolved: what to draw and where it goes."""

    trials_per_draw: int
    entries: tuple[Entry, ...]
    names: tuple[str, ...]  # flattened parameter names (the results' ``parameter`` coordinate)
    n_samples: int  # length of the ``samples`` lists (0: none)

    def units(self, currency: str) -> list[str]:
        """Unit of each flattened parameter (aligned with ``names``)."""
        return [KEY_UNITS[e.target.key].format(currency=currency) for e in self.entries for _ in range(e.width)]

    def draws(self, seed: int, d0: int, count: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Values of draws ``d0 .. d0 + count - 1``: per entry (count,) or (count, L), and j(d) (count,) or -1s."""
        sample = np.full(count, -1, dtype=np.int64)
        if self.n_samples:
            kp.sample_indices(np.uint64(seed), np.int64(d0), np.int64(self.n_samples), sample)
        out = []
        for e in self.entries:
            if e.kind == "scalar":
                v = np.empty(count)
                kp.draw_scalars(np.uint64(seed), np.int64(d0), np.uint64(e.key), np.int64(e.family), e.par[0], e.par[1],
                                e.par[2], e.lo, e.hi, v)
                if e.target.domain is not None and e.target.domain.integer:
                    v = np.floor(v + 0.5)
            elif e.kind == "dirichlet":
                v = np.empty((count, e.values.shape[0]))
                kp.draw_dirichlet(np.uint64(seed), np.int64(d0), np.uint64(e.key), e.values, v)
            else:
                v = e.values[sample]
            out.append(v)
        return out, sample

    def chunk(self, inputs, seed: int, trial0: int, n: int):
        """:class:`salessim.inputs.ChunkInputs` of trials ``trial0 .. trial0 + n - 1``."""
        from .inputs import ChunkInputs, derive

        tpd = self.trials_per_draw
        trials = np.arange(trial0, trial0 + n, dtype=np.int64)
        d0 = trial0 // tpd
        count = int((trial0 + n - 1) // tpd - d0 + 1)
        values, sample = self.draws(seed, d0, count)
        raw = self.apply(inputs.raw, values)
        market, territories = derive(raw, inputs.context)
        flat = np.concatenate([v.reshape(count, -1) for v in values], axis=1)
        rows = trials // tpd - d0
        return ChunkInputs(rows, market, territories, np.ascontiguousarray(flat[rows]), trials // tpd,
                           sample[rows])

    def apply(self, base, values: list[np.ndarray]):
        """Raw parameters with one row per draw: the scenario's, overwritten where the draws say."""
        count = values[0].shape[0] if values else 1
        cycle = max([base.cycle_pmf.shape[-1]] + [v.shape[1] for e, v in zip(self.entries, values)
                                                  if e.target.key == "sales_cycle_months"])
        fill = max([base.fill_pmf.shape[-1]] + [v.shape[1] for e, v in zip(self.entries, values)
                                                if e.target.key == "time_to_fill_months"])
        raw = base.widened(cycle, fill).repeat(count)
        # defaults paths first, so a territory's own path wins where both set it
        order = sorted(range(len(self.entries)), key=lambda i: not self.entries[i].target.from_defaults)
        for i in order:
            _set(raw, self.entries[i].target, values[i])
        return raw


_SCALAR_FIELDS = {
    "leads_per_month": "leads", "lead_to_opportunity": "p_opp", "win_rate": "win_rate", "deal_size.mean": "deal_mean",
    "deal_size.cv": "deal_cv", "skill_sigma": "skill_sigma", "capacity_leads_per_month": "capacity",
    "orphaned_deal_close_rate": "orphan_rate", "quarter_end_pull": "quarter_pull", "churn_annual": "churn",
    "expansion_annual": "expansion",
}
_MARKET_FIELDS = {
    "market.annual_growth": "growth", "market.downturn.probability_per_year": "downturn_prob",
    "market.downturn.duration_months": "downturn_months", "market.downturn.lead_multiplier": "downturn_lead",
    "market.downturn.win_rate_multiplier": "downturn_win",
}


def _set(raw, target: UncertainTarget, v: np.ndarray) -> None:
    """Write draws ``v`` of one path into ``raw`` (arrays with one row per draw), in place."""
    key = target.key
    if key in _MARKET_FIELDS:
        getattr(raw, _MARKET_FIELDS[key])[:] = v
        return
    for k in target.territories:
        if key in _SCALAR_FIELDS:
            getattr(raw, _SCALAR_FIELDS[key])[:, k] = v
        elif key in ("attrition_annual", "band"):
            raw.band_annual[:, k, max(target.band, 0)] = v
        else:  # a pmf
            pmf, n = (raw.cycle_pmf, raw.cycle_n) if key == "sales_cycle_months" else (raw.fill_pmf, raw.fill_n)
            pmf[:, k, :] = 0.0
            pmf[:, k, : v.shape[1]] = v
            n[:, k] = v.shape[1]


def build_plan(sc: Scenario, inputs=None) -> Plan | None:
    """The resolved uncertainty block of a validated scenario, or None without uncertain parameters."""
    block = sc.spec.uncertainty
    if block is None or not block.parameters:
        return None
    entries = []
    for path, dist in block.parameters.items():
        target = resolve_path(path, sc.spec, sc.territories)
        entries.append(_entry(target, dist))
    # a territory's own path wins over a defaults path for that territory
    own = {(e.target.key, k, e.target.band) for e in entries if not e.target.from_defaults for k in e.target.territories}
    entries = [replace(e, target=replace(e.target, territories=tuple(k for k in e.target.territories
                                                                     if (e.target.key, k, e.target.band) not in own)))
               if e.target.from_defaults else e for e in entries]
    lengths = {e.values.shape[0] for e in entries if e.kind in ("samples", "pmf_samples")}
    return Plan(block.trials_per_draw, tuple(entries), tuple(flat_names(entries)), lengths.pop() if lengths else 0)


def quantile(dist, q: float) -> float:
    """The q-quantile of a scalar distribution of an ``uncertainty`` block (truncation included).

    Used by :func:`salessim.whatif.sensitivity` to fix an uncertain key at its P10 and P90.
    """
    from scipy import stats

    family = dist.family
    if family == "samples":
        return float(np.quantile(np.asarray(dist.samples, dtype=np.float64), q))
    if family == "uniform":
        lo, hi = dist.uniform
        return float(lo + q * (hi - lo))
    if family == "triangular":
        lo, mode, hi = dist.triangular
        if hi == lo:
            return float(lo)
        return float(stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo).ppf(q))
    if family == "beta":
        law = stats.beta(*dist.beta)
    else:
        spread = getattr(dist, family)
        mean, sd = float(spread.mean), spread.sd_value
        if sd == 0:
            return mean
        if family == "normal":
            law = stats.norm(mean, sd)
        elif family == "gamma":
            law = stats.gamma((mean / sd) ** 2, scale=sd * sd / mean)
        else:
            s2 = math.log1p((sd / mean) ** 2)
            law = stats.lognorm(math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))
    lo = law.cdf(-math.inf if dist.min is None else dist.min)
    hi = law.cdf(math.inf if dist.max is None else dist.max)
    return float(law.ppf(lo + q * (hi - lo)))

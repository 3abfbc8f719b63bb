"""Scenario -> plain arrays: everything the kernels need, cast and laid out once.

:func:`build_inputs` is the only place that reads a :class:`~salessim.scenario.Scenario`
on the way to the engine; the kernels see nothing but the arrays of :class:`ModelInputs`.
Variable-length per-territory lists (ramp, pmfs, attrition bands) are padded into 2-D
arrays with a length per territory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from .kernels.streams import NEVER
from .scenario import Scenario

__all__ = ["ModelInputs", "build_inputs"]


@dataclass(frozen=True)
class ModelInputs:
    """Plain arrays describing one scenario (K territories, S seats, H months, Y fiscal years).

    Money is in the scenario currency, rates are per month unless named otherwise.
    """

    lead_mean: np.ndarray  # (H, K) float64: expected leads before downturns (seasonality x growth)
    downturn_p_month: float  # chance a downturn starts in a month not already in one
    downturn_months: int  # duration of a downturn
    downturn_lead_mult: float
    downturn_win_mult: float
    p_opp: np.ndarray  # (K,) lead -> opportunity
    win_rate: np.ndarray  # (K,) opportunity -> win, before skill and downturn
    capacity: np.ndarray  # (K,) leads a fully ramped rep can work per month; inf = unlimited
    skill_sigma: np.ndarray  # (K,) log-sd of skill
    deal_mu: np.ndarray  # (K,) lognormal mu of deal value
    deal_sigma: np.ndarray  # (K,) lognormal sigma of deal value
    quota_month: np.ndarray  # (K,) monthly quota of a ramped rep
    quota_ramped: np.ndarray  # (K,) uint8: quota follows ramp
    backfill: np.ndarray  # (K,) uint8
    orphan_rate: np.ndarray  # (K,) chance an orphaned won deal still books
    ramp: np.ndarray  # (K, R) productivity by tenure month, padded
    ramp_len: np.ndarray  # (K,) int64
    cycle_cdf: np.ndarray  # (K, L) CDF of months from win to booking, padded with 1
    cycle_len: np.ndarray  # (K,) int64
    fill_cdf: np.ndarray  # (K, F) CDF of months from departure to the replacement's start
    fill_len: np.ndarray  # (K,) int64
    band_until: np.ndarray  # (K, B) int64 tenure month where each attrition band ends (NEVER on the last)
    band_hazard: np.ndarray  # (K, B) monthly cumulative hazard -log(1 - h) of each band (inf if h = 1)
    band_count: np.ndarray  # (K,) int64
    capped_cdf: np.ndarray  # (K, R+1, C) CDF of Binomial(floor(capacity x f), p_opp) by ramp level (level R = ramped)
    capped_len: np.ndarray  # (K, R+1) int64 entries in each CDF (0 = no table: unlimited or too large)
    commission_rate: np.ndarray  # (K,) base commission rate on bookings
    tier_lo: np.ndarray  # (K, T) attainment where each commission tier starts (first 0), padded
    tier_mult: np.ndarray  # (K, T) multiple of the base rate in each tier
    tier_count: np.ndarray  # (K,) int64
    commission_cap: np.ndarray  # (K,) most a period pays, as a multiple of rate x quota; inf = no cap
    period_end: np.ndarray  # (H, K) uint8: commission is settled at the end of this month
    fy_of_month: np.ndarray  # (H,) int64 index of the full fiscal year of each month, -1 if partial
    recurring: np.ndarray  # (K,) uint8: bookings are new ARR
    churn_month: np.ndarray  # (K,) monthly customer churn probability
    expansion_month: np.ndarray  # (K,) monthly growth of retained ARR
    existing_arr: np.ndarray  # (K,) ARR of existing customers at the start
    existing_customers: np.ndarray  # (K,) int64
    seat_key: np.ndarray  # (S,) int64 stable random-stream address of each seat (see seat_stream_key)
    seat_terr: np.ndarray  # (S,) int64 territory of each seat
    seat_start: np.ndarray  # (S,) int64 month the seat's first occupant starts
    seat_tenure0: np.ndarray  # (S,) int64 tenure of the first occupant when they start
    seat_is_hire: np.ndarray  # (S,) uint8: the first occupant is a planned hire (counted in hires)
    fy_first: np.ndarray  # (Y,) int64 index of each full fiscal year's first month

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(H, K, S, Y)."""
        h, k = self.lead_mean.shape
        return h, k, self.seat_terr.shape[0], self.fy_first.shape[0]

    def kernel_args(self) -> tuple:
        """The arrays and scalars in the order the kernels take them."""
        return tuple(getattr(self, f.name) for f in fields(self))


def _padded(rows: list[list[float]], pad: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    width = max(1, max(len(r) for r in rows))
    out = np.full((len(rows), width), pad, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, np.array([len(r) for r in rows], dtype=np.int64)


def _cdf(pmf: tuple[float, ...]) -> list[float]:
    c = np.cumsum(pmf)
    c[-1] = 1.0  # inversion never runs past the last entry
    return list(c)


CAPPED_TABLE_MAX = 256  # largest worked-lead count with a precomputed opportunity CDF


def _capped_tables(capacity: np.ndarray, p_opp: np.ndarray, ramp: np.ndarray, ramp_len: np.ndarray):
    """CDFs of the opportunities among a capacity-bound rep's worked leads, per ramp level.

    A rep whose leads exceed capacity works floor(capacity x f) of them; f takes one of the
    ramp values (or 1 once ramped), so the Binomial(worked, p_opp) CDFs are few and fixed.
    """
    from scipy.special import bdtr  # binomial CDF

    k_count, levels = ramp.shape[0], ramp.shape[1] + 1
    lengths = np.zeros((k_count, levels), dtype=np.int64)
    for k in range(k_count):
        if not math.isfinite(capacity[k]):
            continue
        for j in range(levels):
            f = ramp[k, j] if j < ramp_len[k] else 1.0
            n = math.floor(capacity[k] * f)
            if n <= CAPPED_TABLE_MAX:
                lengths[k, j] = n + 1
    cdf = np.ones((k_count, levels, max(1, int(lengths.max()))))
    for k in range(k_count):
        for j in range(levels):
            n = lengths[k, j] - 1
            if n >= 0:
                cdf[k, j, : n + 1] = bdtr(np.arange(n + 1), n, p_opp[k])
                cdf[k, j, n] = 1.0
    return cdf, lengths


_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def commission_tiers(terr) -> list[tuple[float, float]]:
    """(attainment where the tier starts, rate multiple) of a territory's commission plan."""
    plan = terr.commission
    tiers = [(0.0, 1.0)]
    if plan.decelerator is not None:
        tiers = [(0.0, plan.decelerator.multiplier), (plan.decelerator.below, 1.0)]
    tiers += [(t.above, t.multiplier) for t in plan.accelerators]
    return tiers


def commission_rate(terr) -> float:
    """The plan's base rate, or variable pay over quota (0 without quota)."""
    if terr.commission.rate is not None:
        return terr.commission.rate
    return terr.variable_annual / terr.quota_annual if terr.quota_annual > 0 else 0.0


def seat_stream_key(kind: int, group: int, index: int) -> int:
    """Random-stream address of a seat: (starting rep ``index`` of territory ``group``) for
    kind 0, (hire ``index`` of hiring-plan entry ``group``) for kind 1.

    Keyed by what the seat is rather than by its position, so adding reps to one territory
    or hires to one plan entry leaves every other seat's draws unchanged (common random
    numbers across plans). Fits the 28 bits of a stream address.
    """
    if not (0 <= group < 2**11 and 0 <= index < 2**16):
        raise ValueError(f"seat address out of range: group {group}, index {index}")
    return (kind << 27) | (group << 16) | index


def monthly_hazard(annual: float) -> float:
    """h = 1 - (1 - annual)^(1/12): the monthly leaving probability for an annual rate."""
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


def build_inputs(sc: Scenario) -> ModelInputs:
    """Cast a validated scenario into :class:`ModelInputs`."""
    terrs = sc.territories
    spec = sc.spec
    h = sc.horizon_months
    cal = sc.calendar_months()
    season = np.asarray(spec.market.seasonality, dtype=np.float64)
    growth = (1.0 + spec.market.annual_growth) ** (np.arange(h) / 12.0)
    month_factor = season[[m - 1 for _, m in cal]] * growth
    lead_mean = month_factor[:, None] * np.array([t.leads_per_month for t in terrs])[None, :]

    dt = spec.market.downturn
    if dt is None:
        dt_p, dt_months, dt_lead, dt_win = 0.0, 1, 1.0, 1.0
    else:
        dt_p = 1.0 - (1.0 - dt.probability_per_year) ** (1.0 / 12.0)
        dt_months, dt_lead, dt_win = dt.duration_months, float(dt.lead_multiplier), float(dt.win_rate_multiplier)

    sigma2 = np.array([math.log1p(t.deal_cv**2) for t in terrs])
    deal_mu = np.log([t.deal_mean for t in terrs]) - sigma2 / 2.0

    ramp, ramp_len = _padded([list(t.ramp) for t in terrs], 1.0)
    cycle_cdf, cycle_len = _padded([_cdf(t.sales_cycle_months) for t in terrs], 1.0)
    fill_cdf, fill_len = _padded([_cdf(t.time_to_fill_months) for t in terrs], 1.0)
    until_rows, hazard_rows = [], []
    for t in terrs:
        until_rows.append([NEVER if u is None else u for u, _ in t.attrition_bands])
        hazard_rows.append([math.inf if a >= 1.0 else -math.log1p(-monthly_hazard(a)) for _, a in t.attrition_bands])
    band_until, band_count = _padded(until_rows, NEVER, np.int64)
    band_hazard, _ = _padded(hazard_rows, 0.0)

    capacity = np.array([math.inf if t.capacity_leads_per_month is None else t.capacity_leads_per_month for t in terrs])
    p_opp = np.array([t.lead_to_opportunity for t in terrs])
    capped_cdf, capped_len = _capped_tables(capacity, p_opp, ramp, ramp_len)

    tiers = [commission_tiers(t) for t in terrs]
    tier_lo, tier_count = _padded([[lo for lo, _ in tt] for tt in tiers], math.inf)
    tier_mult, _ = _padded([[m for _, m in tt] for tt in tiers], 0.0)
    fy_start = spec.fiscal_year_start_month
    period_end = np.zeros((h, len(terrs)), dtype=np.uint8)
    for k, t in enumerate(terrs):
        months = _PERIOD_MONTHS[t.commission.period]
        for i, (_, m) in enumerate(cal):
            period_end[i, k] = ((m - fy_start) % 12) % months == months - 1 or i == h - 1
    fy_of_month = np.full(h, -1, dtype=np.int64)
    for y, (_, first) in enumerate(sc.fiscal_years()):
        fy_of_month[first : first + 12] = y

    seat_key, seat_terr, seat_start, seat_tenure0, seat_is_hire = [], [], [], [], []
    for k, t in enumerate(terrs):
        for i, tenure in enumerate(t.initial_tenure_months):
            seat_key.append(seat_stream_key(0, k, i))
            seat_terr.append(k)
            seat_start.append(0)
            seat_tenure0.append(tenure)
            seat_is_hire.append(0)
    index = {t.name: k for k, t in enumerate(terrs)}
    for e, entry in enumerate(spec.hiring_plan):
        for i in range(entry.hires):
            seat_key.append(seat_stream_key(1, e, i))
            seat_terr.append(index[entry.territory])
            seat_start.append(sc.month_index(entry.month))
            seat_tenure0.append(0)
            seat_is_hire.append(1)

    def arr(values, dtype=np.float64):
        return np.ascontiguousarray(np.asarray(values, dtype=dtype))

    return ModelInputs(
        lead_mean=arr(lead_mean),
        downturn_p_month=float(dt_p),
        downturn_months=int(dt_months),
        downturn_lead_mult=dt_lead,
        downturn_win_mult=dt_win,
        p_opp=arr(p_opp),
        win_rate=arr([t.win_rate for t in terrs]),
        capacity=arr(capacity),
        skill_sigma=arr([t.skill_sigma for t in terrs]),
        deal_mu=arr(deal_mu),
        deal_sigma=arr(np.sqrt(sigma2)),
        quota_month=arr([t.quota_annual / 12.0 for t in terrs]),
        quota_ramped=arr([t.quota_ramped for t in terrs], np.uint8),
        backfill=arr([t.backfill for t in terrs], np.uint8),
        orphan_rate=arr([t.orphaned_deal_close_rate for t in terrs]),
        ramp=ramp,
        ramp_len=ramp_len,
        cycle_cdf=cycle_cdf,
        cycle_len=cycle_len,
        fill_cdf=fill_cdf,
        fill_len=fill_len,
        band_until=band_until,
        band_hazard=band_hazard,
        band_count=band_count,
        capped_cdf=arr(capped_cdf),
        capped_len=capped_len,
        commission_rate=arr([commission_rate(t) for t in terrs]),
        tier_lo=tier_lo,
        tier_mult=tier_mult,
        tier_count=tier_count,
        commission_cap=arr([math.inf if t.commission.cap is None else t.commission.cap for t in terrs]),
        period_end=period_end,
        fy_of_month=fy_of_month,
        recurring=arr([t.revenue_model == "recurring" for t in terrs], np.uint8),
        churn_month=arr([monthly_hazard(t.churn_annual) for t in terrs]),
        expansion_month=arr([(1.0 + t.expansion_annual) ** (1.0 / 12.0) - 1.0 for t in terrs]),
        existing_arr=arr([t.existing_arr for t in terrs]),
        existing_customers=arr([t.existing_customers for t in terrs], np.int64),
        seat_key=arr(seat_key, np.int64),
        seat_terr=arr(seat_terr, np.int64),
        seat_start=arr(seat_start, np.int64),
        seat_tenure0=arr(seat_tenure0, np.int64),
        seat_is_hire=arr(seat_is_hire, np.uint8),
        fy_first=arr([t0 for _, t0 in sc.fiscal_years()], np.int64),
    )

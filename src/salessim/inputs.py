"""Scenario -> plain arrays: everything the kernels need, cast and laid out once.

:func:`build_inputs` is the only place that reads a :class:`~salessim.scenario.Scenario`
on the way to the engine; the kernels see nothing but the arrays of :class:`ModelInputs`.
Variable-length per-territory lists (ramp, pmfs, attrition bands) are padded into 2-D
arrays with a length per territory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kernels.layout import Calendar, Market, Seats, TerritoryParams, TerritoryRules
from .kernels.streams import NEVER
from .scenario import Scenario

__all__ = ["ModelInputs", "build_inputs"]


@dataclass(frozen=True)
class ModelInputs:
    """One scenario as the kernel's named tuples (:mod:`salessim.kernels.layout`).

    K territories, S seats, H months, Y fiscal years with figures. ``market`` and
    ``territories`` hold one parameter draw (row 0) of the scenario as written.
    """

    market: Market
    territories: TerritoryParams
    rules: TerritoryRules
    calendar: Calendar
    seats: Seats

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(H, K, S, Y)."""
        _, h, k = self.market.lead_mean.shape
        return h, k, self.seats.terr.shape[0], self.calendar.fy_first.shape[0]

    def chunk_groups(self, trial0: int, n: int) -> tuple:
        """The kernel's inputs for trials ``trial0 .. trial0 + n - 1``: (rows, market, territories, rules, calendar, seats)."""
        rows = np.zeros(n, dtype=np.int64)
        return rows, self.market, self.territories, self.rules, self.calendar, self.seats


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

    def per_draw(values, dtype=np.float64):  # one parameter draw: a leading axis of length 1
        return arr(np.asarray(values, dtype=dtype)[None])

    market = Market(
        lead_mean=per_draw(lead_mean),
        downturn_p_month=per_draw(float(dt_p)),
        downturn_months=per_draw(int(dt_months), np.int64),
        downturn_lead_mult=per_draw(dt_lead),
        downturn_win_mult=per_draw(dt_win),
    )
    territories = TerritoryParams(
        p_opp=per_draw(p_opp),
        win_rate=per_draw([t.win_rate for t in terrs]),
        capacity=per_draw(capacity),
        skill_sigma=per_draw([t.skill_sigma for t in terrs]),
        deal_mu=per_draw(deal_mu),
        deal_sigma=per_draw(np.sqrt(sigma2)),
        orphan_rate=per_draw([t.orphaned_deal_close_rate for t in terrs]),
        cycle_cdf=per_draw(cycle_cdf),
        cycle_len=per_draw(cycle_len, np.int64),
        fill_cdf=per_draw(fill_cdf),
        fill_len=per_draw(fill_len, np.int64),
        band_hazard=per_draw(band_hazard),
        capped_cdf=per_draw(capped_cdf),
        capped_len=per_draw(capped_len, np.int64),
        churn_month=per_draw([monthly_hazard(t.churn_annual) for t in terrs]),
        expansion_month=per_draw([(1.0 + t.expansion_annual) ** (1.0 / 12.0) - 1.0 for t in terrs]),
    )
    rules = TerritoryRules(
        quota_month=arr([t.quota_annual / 12.0 for t in terrs]),
        quota_ramped=arr([t.quota_ramped for t in terrs], np.uint8),
        backfill=arr([t.backfill for t in terrs], np.uint8),
        ramp=arr(ramp),
        ramp_len=arr(ramp_len, np.int64),
        band_until=arr(band_until, np.int64),
        band_count=arr(band_count, np.int64),
        commission_rate=arr([commission_rate(t) for t in terrs]),
        tier_lo=arr(tier_lo),
        tier_mult=arr(tier_mult),
        tier_count=arr(tier_count, np.int64),
        commission_cap=arr([math.inf if t.commission.cap is None else t.commission.cap for t in terrs]),
        recurring=arr([t.revenue_model == "recurring" for t in terrs], np.uint8),
        existing_arr=arr([t.existing_arr for t in terrs]),
        existing_customers=arr([t.existing_customers for t in terrs], np.int64),
    )
    fy_first = [t0 for _, t0 in sc.fiscal_years()]
    calendar = Calendar(
        period_end=arr(period_end, np.uint8),
        fy_of_month=arr(fy_of_month, np.int64),
        fy_first=arr(fy_first, np.int64),
        fy_last=arr([t0 + 11 for t0 in fy_first], np.int64),
    )
    seats = Seats(
        key=arr(seat_key, np.int64),
        terr=arr(seat_terr, np.int64),
        start=arr(seat_start, np.int64),
        tenure0=arr(seat_tenure0, np.int64),
        is_hire=arr(seat_is_hire, np.uint8),
    )
    return ModelInputs(market, territories, rules, calendar, seats)

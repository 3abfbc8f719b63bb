"""Scenario -> plain arrays: everything the kernels need, cast and laid out once.

:func:`build_inputs` is the only place that reads a :class:`~salessim.scenario.Scenario`
on the way to the engine; the kernels see nothing but the named tuples of arrays of
:mod:`salessim.kernels.layout`. Variable-length per-territory lists (ramp, pmfs,
attrition bands) are padded into 2-D arrays with a length per territory.

The parameters that may be uncertain are first laid out as :class:`RawParams` (the
values as a scenario writes them, with a leading draw axis) and then turned into the
kernel's :class:`~salessim.kernels.layout.Market` and
:class:`~salessim.kernels.layout.TerritoryParams` by :func:`derive`: the same code for the
scenario as written (one draw) and for the parameter draws of an uncertain run
(:mod:`salessim.uncertainty`), so a draw equal to the scenario's value gives the
scenario's arrays bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from .kernels.layout import Calendar, Market, Pipeline, Seats, TerritoryParams, TerritoryRules
from .kernels.streams import NEVER
from .scenario import Scenario
from .state_checks import deal_key, starting_names

__all__ = ["ModelInputs", "ChunkInputs", "RawParams", "build_inputs", "derive"]


@dataclass(frozen=True)
class RawParams:
    """The parameters that may be uncertain, as a scenario states them, one row per draw.

    D draws, K territories; L, F, B the widths of the cycle pmfs, time-to-fill pmfs and
    attrition bands (zero-padded). Annual rates are per year, as in the scenario.
    """

    leads: np.ndarray  # (D, K) leads_per_month
    growth: np.ndarray  # (D,) market.annual_growth
    downturn_prob: np.ndarray  # (D,) downturn probability_per_year (0 without a downturn)
    downturn_months: np.ndarray  # (D,) int64 duration_months (1 without a downturn)
    downturn_lead: np.ndarray  # (D,) lead_multiplier
    downturn_win: np.ndarray  # (D,) win_rate_multiplier
    p_opp: np.ndarray  # (D, K) lead_to_opportunity
    win_rate: np.ndarray  # (D, K)
    capacity: np.ndarray  # (D, K) capacity_leads_per_month, inf = unlimited
    skill_sigma: np.ndarray  # (D, K)
    deal_mean: np.ndarray  # (D, K) deal_size.mean
    deal_cv: np.ndarray  # (D, K) deal_size.cv
    orphan_rate: np.ndarray  # (D, K) orphaned_deal_close_rate
    quarter_pull: np.ndarray  # (D, K) quarter_end_pull
    churn: np.ndarray  # (D, K) churn_annual
    expansion: np.ndarray  # (D, K) expansion_annual
    cycle_pmf: np.ndarray  # (D, K, L) sales_cycle_months
    cycle_n: np.ndarray  # (D, K) int64 entries of each
    fill_pmf: np.ndarray  # (D, K, F) time_to_fill_months
    fill_n: np.ndarray  # (D, K) int64
    band_annual: np.ndarray  # (D, K, B) annual attrition of each band
    band_n: np.ndarray  # (K,) int64 bands of each territory (fixed)

    def repeat(self, draws: int) -> RawParams:
        """``draws`` copies of row 0 (to be overwritten by parameter draws)."""
        out = {}
        for f in fields(self):
            a = getattr(self, f.name)
            out[f.name] = a if f.name == "band_n" else np.ascontiguousarray(np.repeat(a[:1], draws, axis=0))
        return RawParams(**out)

    def widened(self, cycle: int, fill: int) -> RawParams:
        """The same parameters with the pmf arrays zero-padded to at least ``cycle`` / ``fill`` entries."""
        def pad(a: np.ndarray, width: int) -> np.ndarray:
            if a.shape[-1] >= width:
                return a
            return np.concatenate([a, np.zeros(a.shape[:-1] + (width - a.shape[-1],))], axis=-1)

        return replace(self, cycle_pmf=pad(self.cycle_pmf, cycle), fill_pmf=pad(self.fill_pmf, fill))


@dataclass(frozen=True)
class ChunkInputs:
    """What the kernel needs for one chunk of n trials, and the parameter values they used."""

    rows: np.ndarray  # (n,) int64 row of the per-draw groups each trial reads
    market: Market
    territories: TerritoryParams
    parameter_values: np.ndarray | None  # (n, P) float64 value of each flattened uncertain parameter (None: none)
    draws: np.ndarray | None  # (n,) int64 parameter draw of each trial
    sample_index: np.ndarray | None  # (n,) int64 index j(d) into the ``samples`` lists, -1 without any


@dataclass(frozen=True)
class ModelInputs:
    """One scenario as the kernel's named tuples (:mod:`salessim.kernels.layout`).

    K territories, S seats, H months, Y fiscal years with figures. ``market`` and
    ``territories`` hold one parameter draw (row 0): the scenario as written, derived from
    ``raw``. ``uncertainty`` (a :class:`salessim.uncertainty.Plan`) draws the others.
    """

    market: Market
    territories: TerritoryParams
    rules: TerritoryRules
    calendar: Calendar
    seats: Seats
    pipeline: Pipeline
    raw: RawParams
    context: DeriveContext
    uncertainty: object | None = None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(H, K, S, Y)."""
        _, h, k = self.market.lead_mean.shape
        return h, k, self.seats.terr.shape[0], self.calendar.fy_first.shape[0]

    @property
    def parameters(self) -> int:
        """Number of flattened uncertain parameters stored per trial (0 without uncertainty)."""
        return 0 if self.uncertainty is None else len(self.uncertainty.names)

    def chunk(self, seed: int, trial0: int, n: int) -> ChunkInputs:
        """The per-draw inputs of trials ``trial0 .. trial0 + n - 1``.

        Without uncertain parameters every trial reads row 0. With them, trial k uses
        parameter draw k // trials_per_draw; the chunk's draws are made and derived here,
        one row per draw.
        """
        if self.uncertainty is None:
            return ChunkInputs(np.zeros(n, dtype=np.int64), self.market, self.territories, None, None, None)
        return self.uncertainty.chunk(self, seed, trial0, n)

    def kernel_groups(self, chunk: ChunkInputs) -> tuple:
        """The kernel's arguments after (seed, trial0): rows and the input groups."""
        return (chunk.rows, chunk.market, chunk.territories, self.rules, self.calendar, self.seats, self.pipeline)


@dataclass(frozen=True)
class DeriveContext:
    """What :func:`derive` needs besides the raw parameters (fixed by the scenario)."""

    season: np.ndarray  # (H,) seasonality factor of each simulated month
    ramp: np.ndarray  # (K, R) padded
    ramp_len: np.ndarray  # (K,)


def _padded(rows: list[list[float]], pad: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    width = max(1, max(len(r) for r in rows))
    out = np.full((len(rows), width), pad, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, np.array([len(r) for r in rows], dtype=np.int64)


def _cdfs(pmf: np.ndarray, n: np.ndarray) -> np.ndarray:
    """CDFs of zero-padded pmfs (..., W) with n entries each: the last entry set to 1 (inversion
    never runs past it) and the padding to 1."""
    c = np.cumsum(pmf, axis=-1)
    width = pmf.shape[-1]
    c[np.arange(width) >= n[..., None]] = 1.0
    np.put_along_axis(c, (n - 1)[..., None], 1.0, axis=-1)
    return np.ascontiguousarray(c)


def _elementwise(fn, values: np.ndarray) -> np.ndarray:
    """``fn`` (Python float math) applied to every element, evaluated once per distinct value.

    The kernel's per-month rates come from annual ones by Python's ``math`` (the C library),
    whose last bits NumPy's vectorised functions do not always reproduce; computing each
    distinct value the same way for the scenario and for its parameter draws keeps them
    bit-identical, at the cost of one Python call per distinct value.
    """
    if values.size == 0:
        return np.zeros(values.shape)
    distinct, inverse = np.unique(values, return_inverse=True)
    out = np.array([fn(x) for x in distinct.tolist()], dtype=np.float64)
    return np.ascontiguousarray(out[inverse.reshape(-1)].reshape(values.shape))


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




def _downturn_month(p: float) -> float:
    """Chance a downturn starts in a month, for a chance ``p`` per year."""
    return 1.0 - (1.0 - p) ** (1.0 / 12.0)


def _band_hazard(annual: float) -> float:
    """Monthly cumulative hazard -log(1 - h) of an annual attrition rate (inf if it is 1)."""
    return math.inf if annual >= 1.0 else -math.log1p(-monthly_hazard(annual))


def _log_variance(cv: float) -> float:
    """sigma^2 = log(1 + cv^2) of a lognormal with coefficient of variation ``cv``."""
    return math.log1p(cv**2)


def _expansion_month(annual: float) -> float:
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def derive(raw: RawParams, ctx: DeriveContext) -> tuple[Market, TerritoryParams]:
    """The kernel's per-draw groups from the raw parameters (every array with D rows).

    Months: lead_mean = seasonality x (1 + growth)^(t/12) x leads_per_month; rates per
    month from annual ones; lognormal mu and sigma from mean and cv; CDFs from pmfs.
    """
    d_count, k_count = raw.leads.shape
    h = ctx.season.shape[0]
    growth = (1.0 + raw.growth[:, None]) ** (np.arange(h) / 12.0)[None, :]
    month_factor = ctx.season[None, :] * growth
    lead_mean = month_factor[:, :, None] * raw.leads[:, None, :]
    sigma2 = _elementwise(_log_variance, raw.deal_cv)
    hazard = np.where(np.arange(raw.band_annual.shape[-1])[None, None, :] < raw.band_n[None, :, None],
                      _elementwise(_band_hazard, raw.band_annual), 0.0)

    def c(a, dtype=np.float64):
        return np.ascontiguousarray(a, dtype=dtype)

    market = Market(
        lead_mean=c(lead_mean),
        downturn_p_month=_elementwise(_downturn_month, raw.downturn_prob),
        downturn_months=c(raw.downturn_months, np.int64),
        downturn_lead_mult=c(raw.downturn_lead),
        downturn_win_mult=c(raw.downturn_win),
    )
    territories = TerritoryParams(
        p_opp=c(raw.p_opp),
        win_rate=c(raw.win_rate),
        capacity=c(raw.capacity),
        skill_sigma=c(raw.skill_sigma),
        deal_mu=c(np.log(raw.deal_mean) - sigma2 / 2.0),
        deal_sigma=c(np.sqrt(sigma2)),
        orphan_rate=c(raw.orphan_rate),
        quarter_pull=c(raw.quarter_pull),
        cycle_cdf=_cdfs(raw.cycle_pmf, raw.cycle_n),
        cycle_len=c(raw.cycle_n, np.int64),
        fill_cdf=_cdfs(raw.fill_pmf, raw.fill_n),
        fill_len=c(raw.fill_n, np.int64),
        band_hazard=c(hazard),
        churn_month=_elementwise(monthly_hazard, raw.churn),
        expansion_month=_elementwise(_expansion_month, raw.expansion),
    )
    return market, territories


def _raw_params(sc: Scenario) -> RawParams:
    """The scenario's own parameters as one draw."""
    terrs = sc.territories
    dt = sc.spec.market.downturn

    def row(values, dtype=np.float64):
        return np.ascontiguousarray(np.asarray(values, dtype=dtype)[None])

    cycle, cycle_n = _padded([list(t.sales_cycle_months) for t in terrs], 0.0)
    fill, fill_n = _padded([list(t.time_to_fill_months) for t in terrs], 0.0)
    bands, band_n = _padded([[a for _, a in t.attrition_bands] for t in terrs], 0.0)
    return RawParams(
        leads=row([t.leads_per_month for t in terrs]),
        growth=row(sc.spec.market.annual_growth),
        downturn_prob=row(0.0 if dt is None else dt.probability_per_year),
        downturn_months=row(1 if dt is None else dt.duration_months, np.int64),
        downturn_lead=row(1.0 if dt is None else dt.lead_multiplier),
        downturn_win=row(1.0 if dt is None else dt.win_rate_multiplier),
        p_opp=row([t.lead_to_opportunity for t in terrs]),
        win_rate=row([t.win_rate for t in terrs]),
        capacity=row([math.inf if t.capacity_leads_per_month is None else t.capacity_leads_per_month for t in terrs]),
        skill_sigma=row([t.skill_sigma for t in terrs]),
        deal_mean=row([t.deal_mean for t in terrs]),
        deal_cv=row([t.deal_cv if t.deal_empirical is None else 0.0 for t in terrs]),
        orphan_rate=row([t.orphaned_deal_close_rate for t in terrs]),
        quarter_pull=row([t.quarter_end_pull for t in terrs]),
        churn=row([t.churn_annual for t in terrs]),
        expansion=row([t.expansion_annual for t in terrs]),
        cycle_pmf=row(cycle),
        cycle_n=row(cycle_n, np.int64),
        fill_pmf=row(fill),
        fill_n=row(fill_n, np.int64),
        band_annual=row(bands),
        band_n=np.ascontiguousarray(band_n, dtype=np.int64),
    )


def build_inputs(sc: Scenario) -> ModelInputs:
    """Cast a validated scenario into :class:`ModelInputs`."""
    terrs = sc.territories
    spec = sc.spec
    h = sc.horizon_months
    cal = sc.calendar_months()

    def arr(values, dtype=np.float64):
        return np.ascontiguousarray(np.asarray(values, dtype=dtype))

    season = np.asarray(spec.market.seasonality, dtype=np.float64)[[m - 1 for _, m in cal]]
    ramp, ramp_len = _padded([list(t.ramp) for t in terrs], 1.0)
    raw = _raw_params(sc)
    context = DeriveContext(season=arr(season), ramp=arr(ramp), ramp_len=arr(ramp_len, np.int64))
    market, territories = derive(raw, context)

    until_rows = [[NEVER if u is None else u for u, _ in t.attrition_bands] for t in terrs]
    band_until, band_count = _padded(until_rows, NEVER, np.int64)
    tiers = [commission_tiers(t) for t in terrs]
    tier_lo, tier_count = _padded([[lo for lo, _ in tt] for tt in tiers], math.inf)
    tier_mult, _ = _padded([[m for _, m in tt] for tt in tiers], 0.0)
    values, values_len = _padded([sorted(t.deal_empirical) if t.deal_empirical is not None else [] for t in terrs], 0.0)
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
        deal_values=arr(values),
        deal_values_len=arr(values_len, np.int64),
    )

    fy_start = spec.fiscal_year_start_month
    period_end = np.zeros((h, len(terrs)), dtype=np.uint8)
    for k, t in enumerate(terrs):
        months = _PERIOD_MONTHS[t.commission.period]
        for i, (_, m) in enumerate(cal):
            period_end[i, k] = ((m - fy_start) % 12) % months == months - 1 or i == h - 1
    spans = sc.fiscal_year_spans()
    fy_of_month = np.full(h, -1, dtype=np.int64)
    for y, (_, first, last) in enumerate(spans):
        fy_of_month[first : last + 1] = y
    calendar = Calendar(
        period_end=arr(period_end, np.uint8),
        fy_of_month=arr(fy_of_month, np.int64),
        fy_first=arr([first for _, first, _ in spans], np.int64),
        fy_last=arr([last for _, _, last in spans], np.int64),
        # fiscal quarters start at fiscal_year_start_month: month i is the q-th month (0, 1, 2) of its quarter
        quarter_end=arr([i + 2 - (m - fy_start) % 3 for i, (_, m) in enumerate(cal)], np.int64),
    )
    seats = _seats(sc)
    pipeline = _pipeline(sc)
    from .uncertainty import build_plan  # the plan reads these inputs' raw parameters

    inputs = ModelInputs(market, territories, rules, calendar, seats, pipeline, raw, context)
    plan = build_plan(sc, inputs)
    return inputs if plan is None else replace(inputs, uncertainty=plan)


def _seats(sc: Scenario) -> Seats:
    """Seats: starting reps in territory order (a roster's reps in its order), then planned hires."""
    in_progress = sc.fiscal_year_in_progress() is not None
    key, terr, start, tenure0, is_hire, skill0, quota0, ytd_b, ytd_q = ([] for _ in range(9))
    for k, t in enumerate(sc.territories):
        for i, tenure in enumerate(t.initial_tenure_months):
            rep = t.roster[i] if t.roster is not None else None
            key.append(seat_stream_key(0, k, i))
            terr.append(k)
            start.append(0)
            tenure0.append(tenure)
            is_hire.append(0)
            skill0.append(math.nan if rep is None or rep.skill is None else rep.skill)
            quota0.append(math.nan if rep is None or rep.quota_annual is None else rep.quota_annual / 12.0)
            ytd_b.append(float(rep.ytd_bookings or 0.0) if rep is not None and in_progress else 0.0)
            ytd_q.append(float(rep.ytd_quota or 0.0) if rep is not None and in_progress else 0.0)
    index = {t.name: k for k, t in enumerate(sc.territories)}
    for e, entry in enumerate(sc.spec.hiring_plan):
        for i in range(entry.hires):
            key.append(seat_stream_key(1, e, i))
            terr.append(index[entry.territory])
            start.append(sc.month_index(entry.month))
            tenure0.append(0)
            is_hire.append(1)
            skill0.append(math.nan)
            quota0.append(math.nan)
            ytd_b.append(0.0)
            ytd_q.append(0.0)

    def arr(values, dtype=np.float64):
        return np.ascontiguousarray(np.asarray(values, dtype=dtype))

    return Seats(key=arr(key, np.int64), terr=arr(terr, np.int64), start=arr(start, np.int64),
                 tenure0=arr(tenure0, np.int64), is_hire=arr(is_hire, np.uint8), skill0=arr(skill0),
                 quota_month0=arr(quota0), ytd_bookings=arr(ytd_b), ytd_quota=arr(ytd_q))


def _pipeline(sc: Scenario) -> Pipeline:
    """The open deals; an owner is the seat of a starting rep of the deal's territory (by name), else -1."""
    deals = sc.spec.pipeline or []
    index = {t.name: k for k, t in enumerate(sc.territories)}
    seat_of: dict[tuple[int, str], int] = {}
    s = 0
    for k, names in enumerate(starting_names(sc.territories)):
        for name in names:
            seat_of[(k, name)] = s
            s += 1
    nan = math.nan
    return Pipeline(
        key=np.ascontiguousarray([deal_key(d.id) for d in deals], dtype=np.uint64),
        terr=np.ascontiguousarray([index[d.territory] for d in deals], dtype=np.int64),
        owner=np.ascontiguousarray([seat_of.get((index[d.territory], d.owner), -1) if d.owner else -1 for d in deals],
                                   dtype=np.int64),
        age=np.ascontiguousarray([d.age_months for d in deals], dtype=np.int64),
        amount=np.ascontiguousarray([nan if d.amount is None else d.amount for d in deals], dtype=np.float64),
        win_prob=np.ascontiguousarray([nan if d.win_probability is None else d.win_probability for d in deals],
                                      dtype=np.float64),
    )

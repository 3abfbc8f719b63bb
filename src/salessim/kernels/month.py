"""The model: one trial month by month (:func:`simulate_trial`) and many in parallel
(:func:`simulate_chunk`). Pure functions over arrays; see SPEC section 3 for semantics.

The inputs and outputs are the named tuples of :mod:`.layout`, grouped by role (market,
territory parameters and rules, calendar, seats, outputs). ``counts`` and ``flows`` are
variable-major, indexed by the ``C_*`` and ``F_*`` constants below, so each variable of a
run is one contiguous array; the trial kernel gets the ``[:, i]`` slices.

Random draws come from :mod:`.streams`, addressed by (seed, trial, purpose, ...), so a
trial's result depends only on (seed, trial, inputs).
"""

import math

import numpy as np
from numba import njit, prange

from .layout import Outputs, Trace

from .streams import (
    GOLDEN,
    NEVER,
    PURPOSE_CHURN,
    PURPOSE_DOWNTURN,
    PURPOSE_OCCUPANT,
    PURPOSE_REP_MONTH,
    PURPOSE_UNWORKED,
    binomial_inv,
    deal_stream_key,
    key_uniform,
    mix64,
    categorical_inv,
    funnel_coins,
    normal_inv,
    normal_zig,
    POISSON_TABLE_MAX_MEAN,
    POISSON_TABLE_SIZE,
    poisson_inv,
    poisson_lookup,
    poisson_table,
    skip,
    substream_key,
    trial_key,
    uniform,
)

# The samplers are compiled into these kernels, but Numba's cache only watches this file:
# keep this equal to the SHA-256 of streams.py so a sampler change recompiles the model.
STREAMS_SHA256 = "9555693ef78d96041c5240a8ca7d66661cf4eaacf14adebec172e39037906749"

(C_HEADCOUNT, C_HIRES, C_DEPARTURES, C_OPEN_REQS, C_LEADS, C_LEADS_UNWORKED, C_OPPORTUNITIES, C_WINS,
 C_NEW_CUSTOMERS, C_CHURNED_CUSTOMERS) = range(10)
N_COUNTS = 10
(F_RAMPED_FTE, F_BOOKINGS, F_QUOTA, F_COMMISSION, F_ARR, F_CHURNED_ARR, F_REVENUE_NEW,
 F_REVENUE_EXISTING, F_BOOKINGS_FROM_PIPELINE) = range(9)
N_FLOWS = 9
# an open deal older than every cycle with more than this probability books in month 0 (the
# CDF's rounding, not the pmf, would otherwise decide where it books)
OPEN_DEAL_TAIL = 1e-12
# a won deal's quarter-end coin is a side draw: a hash of its stream position with this salt,
# so the stream advances as without the pull (same layout, same results when the pull is 0)
_PULL_SALT = np.uint64(0x5851F42D4C957F2D)
_COIN_SALT = np.uint64(0x2545F4914F6CDD1D)  # a rep-month's lead coins: its stream key xor this starts their sequence
# outcome codes of a traced deal (Trace.deals column 6)
BOOKED_TO_OWNER, BOOKED_ORPHANED, LOST_ORPHANED, AFTER_HORIZON = 0, 1, 2, 3


@njit(cache=True)
def departure_tenure(e, tenure0, until, hazard, nbands):
    """Tenure month at whose end a rep leaves, given an Exp(1) draw ``e``.

    The rep has completed ``tenure0`` months. Band b covers tenure months below
    ``until[b]`` with monthly cumulative hazard ``hazard[b]`` = -log(1 - h_b), so the rep
    leaves in the first month where the accumulated hazard reaches ``e``: the same law as
    a monthly coin with probability h_b, for one draw per rep. Returns NEVER if never.
    """
    tau = tenure0
    for b in range(nbands):
        end = until[b]
        if tau >= end:
            continue
        c = hazard[b]
        if c == math.inf:
            return tau
        if c > 0.0:
            need = math.ceil(e / c)  # months of this band until the hazard reaches e
            if need <= end - tau:
                return tau + int(need) - 1
            e -= c * (end - tau)
        tau = end
    return NEVER


@njit(cache=True, inline="always")
def draw_occupant(st, tkey, seat_key, occupant, tenure0, sigma, until, hazard, nbands, fill_cdf, fill_len):
    """A new occupant of a seat: (skill, tenure month at whose end they leave, months to fill after).

    Draws from the occupant's own stream (purpose OCCUPANT, seat key, occupant number):
    skill ~ LogNormal(-sigma^2/2, sigma), a departure time given the starting tenure, and
    the time to fill the seat once they leave.
    """
    st[0] = substream_key(tkey, PURPOSE_OCCUPANT, seat_key, occupant)
    skill = math.exp(sigma * normal_inv(uniform(st)) - 0.5 * sigma * sigma)
    leave_at = departure_tenure(-math.log(uniform(st)), tenure0, until, hazard, nbands)
    fill_lag = categorical_inv(uniform(st), fill_cdf, fill_len)
    return skill, leave_at, fill_lag


@njit(cache=True)
def commission_payout(bookings, quota, rate, lo, mult, row, ntiers, cap):
    """Commission on a period's ``bookings`` against its ``quota`` (money).

    Tier i of the plan in row ``row`` of ``lo`` and ``mult`` (tiers by territory) pays
    ``mult[row, i] x rate`` on the bookings between ``lo[row, i] x quota`` and the next
    tier's start (marginal tiers: accelerators above quota, a decelerator below a
    threshold). The total is capped at ``cap x rate x quota`` (cap = inf: no cap). With no
    quota every booking falls in the top tier. The row is an index, not a slice, so the
    inlined call makes no array view (and no reference counting) per settlement.
    """
    pay = 0.0
    for i in range(ntiers):
        start = lo[row, i] * quota
        if bookings <= start:
            break
        end = lo[row, i + 1] * quota if i + 1 < ntiers else math.inf
        pay += mult[row, i] * (min(bookings, end) - start)
    pay *= rate
    if cap < math.inf:
        pay = min(pay, cap * rate * quota)
    return pay


@njit(cache=True, inline="always")
def deal_value(st, k, deal_mu, deal_sigma, deal_values, deal_values_len):
    """Value of a won deal in territory ``k``: one draw of stream ``st`` (the layout is the same
    for both kinds): a resampled historical value (sorted, so the draw is monotone in the
    uniform), or a lognormal value from an exact ziggurat normal."""
    n = deal_values_len[k]
    if n > 0:
        return deal_values[k, min(int(uniform(st) * n), n - 1)]
    return math.exp(deal_mu[k] + deal_sigma[k] * normal_zig(st))


@njit(cache=True, inline="always")
def quarter_pulled(due, u, pull, quarter_end):
    """The booking month of a deal due in month ``due``: the last month of its fiscal quarter
    with probability ``pull`` (coin ``u``) when ``due`` is the quarter's first or second month."""
    if pull > 0.0 and 0 <= due < quarter_end.shape[0] and quarter_end[due] != due and u < pull:
        return quarter_end[due]
    return due


@njit(cache=True, inline="always")
def trace_deal(trace, created, k, s, occupant, due, value, outcome, pipeline):
    """Append one won deal to the trace (see :class:`~.layout.Trace`)."""
    i = trace.rows[0]
    if i < trace.deals.shape[0]:
        row = trace.deals[i]
        row[0], row[1], row[2], row[3] = created, k, s, occupant
        row[4], row[5], row[6], row[7] = due, value, outcome, pipeline
    trace.rows[0] = i + 1


@njit(cache=True)
def open_deals(tkey, pipe, win_rate, cycle_cdf, cycle_len, deal_mu, deal_sigma, deal_values, deal_values_len,
               orphan_rate, quarter_pull, quarter_end, leave_at, tenure, occupants, st, owner_pipe, owner_deals,
               territory_pipe, territory_deals, from_pipeline, pipeline_end, trace):
    """Route the deals open at the start (SPEC section 9), in month 0 of a trial.

    Deal i (territory k, age a, cycle pmf p) is won with probability ``win_prob`` (or the
    territory's win rate); a won deal books in month L - a, where P(L = l) = p_l / sum_{m >= a}
    p_m for l >= a, or in month 0 if no cycle is as long as a. Its value is ``amount`` or a
    deal-size draw. It books to its owner if the owner is still in seat then, else to the
    territory with the orphaned-deal probability; with no owner it books to the territory.
    Won deals due after the horizon go to ``pipeline_end``.

    A deal due in a fiscal quarter's first or second month books in its last month with
    probability ``quarter_pull`` (the quarter-end pull), before the orphan rule applies.

    Each deal has its own stream (:func:`.streams.deal_stream_key` of its id's hash): the
    key itself is the win coin, then fixed positions 1, 2, 3, 4 give the booking month, the
    value, the orphan coin and the pull coin (drawn only when needed), so a deal's draws do
    not depend on the other deals. ``from_pipeline`` (H, K) receives what books.
    """
    tracing = trace.rows.shape[0] > 0
    H = owner_pipe.shape[1]
    N = pipe.key.shape[0]
    # first the win coins of every deal, without branches (the hashes vectorise), keeping the
    # won deals' indices and keys; then the won deals alone
    keys = np.empty(N, dtype=np.uint64)
    for i in range(N):
        keys[i] = deal_stream_key(tkey, pipe.key[i])
    won = np.empty(N, dtype=np.int64)
    m = 0
    for i in range(N):
        w = pipe.win_prob[i]
        w = win_rate[pipe.terr[i]] if math.isnan(w) else w
        won[m] = i
        m += key_uniform(keys[i]) < w
    for j in range(m):
        i = won[j]
        key = keys[i]
        k = pipe.terr[i]
        a = pipe.age[i]
        n = cycle_len[k]
        below = cycle_cdf[k, a - 1] if 0 < a <= n else (0.0 if a == 0 else 1.0)  # P(L < a)
        if below >= 1.0 - OPEN_DEAL_TAIL:
            due = 0  # older than the longest cycle: it books now
        else:
            u = key_uniform(mix64(key + GOLDEN))  # position 1 of the deal's stream
            lag = categorical_inv(below + u * (1.0 - below), cycle_cdf[k], n)
            due = max(lag, a) - a
        value = pipe.amount[i]
        if math.isnan(value):
            st[0] = key + GOLDEN
            value = deal_value(st, k, deal_mu, deal_sigma, deal_values, deal_values_len)  # position 2
        if quarter_pull[k] > 0.0:
            due = quarter_pulled(due, key_uniform(mix64(key + GOLDEN * np.uint64(4))), quarter_pull[k], quarter_end)  # position 4
        s = pipe.owner[i]
        created = -1 - a
        occupant = occupants[s] - 1 if s >= 0 else -1
        if due >= H:
            pipeline_end[k] += value
            if tracing:
                trace_deal(trace, created, k, s, occupant, due, value, AFTER_HORIZON, i)
            continue
        if s >= 0 and due <= leave_at[s] - tenure[s]:  # the owner is still in seat in month ``due``
            owner_pipe[s, due] += value
            owner_deals[s, due] += 1
            outcome = BOOKED_TO_OWNER
        elif s >= 0 and not key_uniform(mix64(key + GOLDEN * np.uint64(3))) < orphan_rate[k]:  # position 3
            if tracing:  # the owner left first and the orphaned deal is lost
                trace_deal(trace, created, k, s, occupant, due, value, LOST_ORPHANED, i)
            continue
        else:
            territory_pipe[k, due] += value
            territory_deals[k, due] += 1
            outcome = BOOKED_ORPHANED if s >= 0 else BOOKED_TO_OWNER
        from_pipeline[due, k] += value
        if tracing:
            trace_deal(trace, created, k, s, occupant, due, value, outcome, i)


@njit(cache=True)
def simulate_trial(seed, trial, row, market, terr, rules, cal, seats, pipe, out, trace):
    """Simulate one trial, reading row ``row`` of the per-draw groups.

    ``market`` (:class:`~.layout.Market`), ``terr`` (:class:`~.layout.TerritoryParams`),
    ``rules`` (:class:`~.layout.TerritoryRules`), ``cal`` (:class:`~.layout.Calendar`),
    ``seats`` (:class:`~.layout.Seats`), ``pipe`` (:class:`~.layout.Pipeline`); ``out`` is an
    :class:`~.layout.Outputs` of this trial's slices (shapes as in :mod:`.layout` without
    the trial axis); ``trace`` a :class:`~.layout.Trace` (zero-length arrays: none).

    Each month: the downturn state, then a pass over seats for joiners, ramp, headcount and
    quota (which fixes each territory's total productivity), in month 0 the open deals at
    the start, then a pass over seats for each rep's leads, funnel and deals, the bookings
    due, the year-end attainment and the month-end departure.
    """
    # this trial's parameter draw
    lead_mean = market.lead_mean[row]
    downturn_p_month = market.downturn_p_month[row]
    downturn_months = market.downturn_months[row]
    downturn_lead_mult = market.downturn_lead_mult[row]
    downturn_win_mult = market.downturn_win_mult[row]
    p_opp = terr.p_opp[row]
    win_rate = terr.win_rate[row]
    capacity = terr.capacity[row]
    skill_sigma = terr.skill_sigma[row]
    deal_mu = terr.deal_mu[row]
    deal_sigma = terr.deal_sigma[row]
    orphan_rate = terr.orphan_rate[row]
    quarter_pull = terr.quarter_pull[row]
    cycle_cdf = terr.cycle_cdf[row]
    cycle_len = terr.cycle_len[row]
    fill_cdf = terr.fill_cdf[row]
    fill_len = terr.fill_len[row]
    band_hazard = terr.band_hazard[row]
    churn_month = terr.churn_month[row]
    expansion_month = terr.expansion_month[row]
    # rules, calendar and seats
    quota_month, quota_ramped, backfill = rules.quota_month, rules.quota_ramped, rules.backfill
    ramp, ramp_len = rules.ramp, rules.ramp_len
    band_until, band_count = rules.band_until, rules.band_count
    commission_rate, commission_cap = rules.commission_rate, rules.commission_cap
    tier_lo, tier_mult, tier_count = rules.tier_lo, rules.tier_mult, rules.tier_count
    recurring, existing_arr, existing_customers = rules.recurring, rules.existing_arr, rules.existing_customers
    deal_values, deal_values_len = rules.deal_values, rules.deal_values_len
    period_end, fy_of_month, fy_first, fy_last = cal.period_end, cal.fy_of_month, cal.fy_first, cal.fy_last
    quarter_end = cal.quarter_end
    seat_key, seat_terr, seat_start, seat_tenure0, seat_is_hire = seats.key, seats.terr, seats.start, seats.tenure0, seats.is_hire
    counts, flows, downturn, pipeline_end = out.counts, out.flows, out.downturn, out.pipeline_end
    attainment, tenure_out, commission_earned, occupant_out = out.attainment, out.tenure, out.commission_earned, out.occupant

    H, K = lead_mean.shape
    S = seat_terr.shape[0]
    Y = fy_first.shape[0]
    st = np.empty(1, dtype=np.uint64)
    tkey = trial_key(seed, trial)
    tracing = trace.rows.shape[0] > 0
    trace_row = np.full(S, -1, dtype=np.int64)  # row of each seat's current occupant in trace.occupants

    # seat state: the current occupant's facts
    active = np.zeros(S, dtype=np.bool_)
    occupants = np.zeros(S, dtype=np.int64)  # occupants so far; the current one is number occupants-1
    next_start = seat_start.copy()  # month the next occupant starts, NEVER if none
    awaiting = np.zeros(S, dtype=np.bool_)  # empty, waiting for a backfill
    tenure = np.zeros(S, dtype=np.int64)
    leave_at = np.zeros(S, dtype=np.int64)  # tenure month at whose end the occupant leaves
    fill_lag = np.zeros(S, dtype=np.int64)  # months from the occupant's departure to the backfill
    skill = np.ones(S)
    quota_rep = np.zeros(S)  # monthly quota of the current occupant when fully ramped
    ramp_f = np.zeros(S)
    # win probability min(1, win_rate x skill x downturn multiplier), per seat
    p_win = np.zeros(S)
    year_bookings = np.zeros(S)  # credited to the current occupant in the current fiscal year
    year_quota = np.zeros(S)
    period_bookings = np.zeros(S)  # ... and in the current commission period
    period_quota = np.zeros(S)
    # recurring revenue per territory: ARR from customers won in the run and from those at the start
    arr_new = np.zeros(K)
    arr_existing = existing_arr.copy()
    customers = existing_customers.copy()
    # future bookings: per seat for deals that book while their owner is still in seat,
    # per territory for orphaned deals that still book
    owner_pipe = np.zeros((S, H))
    territory_pipe = np.zeros((K, H))
    owner_deals = np.zeros((S, H), dtype=np.int64)  # the number of deals behind each
    territory_deals = np.zeros((K, H), dtype=np.int64)
    sum_f = np.zeros(K)
    # this month's counts and flows per territory, written to the outputs once at the month's
    # end: the per-rep-month updates stay in two small arrays instead of ten strided output
    # arrays (same sums in the same order, so the same bits)
    mc = np.zeros((N_COUNTS, K), dtype=np.int64)
    mf = np.zeros((N_FLOWS, K))
    # per territory and month: the Poisson CDF table of a fully ramped rep's leads, shared by
    # all such reps (length 0 = not built yet this month)
    # (flat arrays with an offset per territory: a row slice per rep-month would be an array
    # view, with its reference counting, in the hottest loop)
    lead_table = np.empty(K * POISSON_TABLE_SIZE)
    lead_len = np.zeros(K, dtype=np.int64)
    cycle_flat = cycle_cdf.reshape(-1)  # (K x C) sales-cycle CDFs, territory k's at k x C
    cycle_width = cycle_cdf.shape[1]

    attainment[:, :] = np.nan
    tenure_out[:, :] = np.nan
    commission_earned[:, :] = 0.0
    occupant_out[:, :] = -1
    downturn_last = -1  # last month of the current downturn
    was_in_downturn = False
    y = 0  # next fiscal year to close

    for t in range(H):
        # 10. downturn: a new one may start in a month not already in one
        if t > downturn_last and downturn_p_month > 0.0:
            st[0] = substream_key(tkey, PURPOSE_DOWNTURN, t, 0)
            if uniform(st) < downturn_p_month:
                downturn_last = t + downturn_months - 1
        in_downturn = t <= downturn_last
        downturn[t] = in_downturn
        win_mult = downturn_win_mult if in_downturn else 1.0
        lead_mult = downturn_lead_mult if in_downturn else 1.0
        year_start = y < Y and t == fy_first[y]
        year_end = y < Y and t == fy_last[y]

        # 1, 2, 8. joiners (skill, departure time, later time to fill), ramp, headcount, quota
        sum_f[:] = 0.0
        mc[:, :] = 0
        mf[:, :] = 0.0
        for s in range(S):
            k = seat_terr[s]
            if year_start:
                year_bookings[s] = 0.0
                year_quota[s] = 0.0
            if not active[s] and next_start[s] == t:
                first = occupants[s] == 0
                tenure[s] = seat_tenure0[s] if first else 0
                skill[s], leave_at[s], fill_lag[s] = draw_occupant(
                    st, tkey, seat_key[s], occupants[s], tenure[s], skill_sigma[k],
                    band_until[k], band_hazard[k], band_count[k], fill_cdf[k], fill_len[k])
                # a named rep's own skill and quota (their skill draw is still made, and
                # dropped, so their departure and time-to-fill draws are the anonymous seat's)
                if first and not math.isnan(seats.skill0[s]):
                    skill[s] = seats.skill0[s]
                quota_rep[s] = seats.quota_month0[s] if first and not math.isnan(seats.quota_month0[s]) else quota_month[k]
                if tracing:
                    i = trace.rows[2]
                    if i < trace.occupants.shape[0]:
                        r = trace.occupants[i]
                        r[0], r[1], r[2], r[3], r[4], r[5], r[6] = s, occupants[s], k, t, tenure[s], -1, skill[s]
                    trace_row[s] = i
                    trace.rows[2] = i + 1
                occupants[s] += 1
                active[s] = True
                awaiting[s] = False
                next_start[s] = NEVER
                # a starting rep's year-to-date figures open the fiscal year in progress
                year_bookings[s] = seats.ytd_bookings[s] if first else 0.0
                year_quota[s] = seats.ytd_quota[s] if first else 0.0
                period_bookings[s] = 0.0
                period_quota[s] = 0.0
                if not first or seat_is_hire[s]:
                    mc[C_HIRES, k] += 1
                p_win[s] = -1.0  # recompute below
            if active[s]:
                if p_win[s] < 0.0 or in_downturn != was_in_downturn:
                    p_win[s] = min(1.0, win_rate[k] * skill[s] * win_mult)
                f = ramp[k, tenure[s]] if tenure[s] < ramp_len[k] else 1.0
                ramp_f[s] = f
                sum_f[k] += f
                q = quota_rep[s] * (f if quota_ramped[k] else 1.0)
                year_quota[s] += q
                period_quota[s] += q
                mc[C_HEADCOUNT, k] += 1
                mf[F_RAMPED_FTE, k] += f
                mf[F_QUOTA, k] += q
            elif awaiting[s]:
                mc[C_OPEN_REQS, k] += 1
        was_in_downturn = in_downturn

        # the deals open at the start: drawn once, in month 0, when their owners' departure
        # months are known (as a win's are routed when it is won)
        if t == 0:
            open_deals(tkey, pipe, win_rate, cycle_cdf, cycle_len, deal_mu, deal_sigma, deal_values, deal_values_len,
                       orphan_rate, quarter_pull, quarter_end, leave_at, tenure, occupants, st, owner_pipe,
                       owner_deals, territory_pipe, territory_deals, flows[F_BOOKINGS_FROM_PIPELINE], pipeline_end, trace)

        # 3-4. demand; with no productive rep every lead goes unworked
        for k in range(K):
            lead_len[k] = 0
            if sum_f[k] <= 0.0:
                st[0] = substream_key(tkey, PURPOSE_UNWORKED, k, t)
                n = poisson_inv(uniform(st), lead_mean[t, k] * lead_mult)
                mc[C_LEADS, k] += n
                mc[C_LEADS_UNWORKED, k] += n
            mf[F_BOOKINGS, k] += territory_pipe[k, t]  # orphaned deals due now
            mc[C_NEW_CUSTOMERS, k] += territory_deals[k, t]

        for s in range(S):
            if not active[s]:
                continue
            k = seat_terr[s]
            f = ramp_f[s]
            if f > 0.0:
                # 4-6. routing in proportion to f, capacity, funnel, as the model states it:
                # the rep's leads (one Poisson), the worked ones within capacity, and a coin
                # per worked lead for opportunity and win (on the stream's salted sequence,
                # so the deal draws below keep their places whatever the counts)
                lam = lead_mean[t, k] * lead_mult * f / sum_f[k]
                st[0] = substream_key(tkey, PURPOSE_REP_MONTH, seat_key[s], t)
                coins = st[0] ^ _COIN_SALT
                if f == 1.0 and lam < POISSON_TABLE_MAX_MEAN:
                    if lead_len[k] == 0:  # shared by every fully ramped rep of the territory
                        lead_len[k] = poisson_table(lam, lead_table, k * POISSON_TABLE_SIZE)
                    leads = poisson_lookup(uniform(st), lam, lead_table, lead_len[k], k * POISSON_TABLE_SIZE)
                else:
                    leads = poisson_inv(uniform(st), lam)
                cap = capacity[k] * f
                worked = leads if leads <= cap else int(math.floor(cap))
                opps, wins = funnel_coins(coins, worked, p_opp[k], p_win[s])
                mc[C_LEADS, k] += leads
                mc[C_LEADS_UNWORKED, k] += leads - worked
                mc[C_OPPORTUNITIES, k] += opps
                mc[C_WINS, k] += wins
                if tracing:
                    i = trace.rows[1]
                    if i < trace.rep_months.shape[0]:
                        r = trace.rep_months[i]
                        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = t, s, occupants[s] - 1, k, leads, worked, opps, wins
                    trace.rows[1] = i + 1
                # 7. cycle and deal size. The owner's departure month is already drawn, so a
                # deal that would book after it is orphaned now: it books to the territory
                # if its coin says so.
                owner_last = t + leave_at[s] - tenure[s]
                n_values = deal_values_len[k]
                empirical = n_values > 0  # decided once per rep-month (deal_value called here cost ~25% of the kernel)
                cycle_at, cycle_n, mu_k, sigma_k = k * cycle_width, cycle_len[k], deal_mu[k], deal_sigma[k]
                for _ in range(wins):
                    lag = categorical_inv(uniform(st), cycle_flat, cycle_n, cycle_at)
                    if empirical:  # one draw either way, as deal_value
                        value = deal_values[k, min(int(uniform(st) * n_values), n_values - 1)]
                    else:
                        value = math.exp(mu_k + sigma_k * normal_zig(st))
                    # the orphan coin's place in the stream is kept, but it is only computed
                    # for a deal due after its owner leaves (key_uniform of the advanced
                    # key is the uniform the stream would have drawn)
                    skip(st, 1)
                    due = t + lag
                    if quarter_pull[k] > 0.0:  # the pull before the orphan rule: a pulled deal books later
                        due = quarter_pulled(due, key_uniform(mix64(st[0] ^ _PULL_SALT)), quarter_pull[k], quarter_end)
                    if due >= H:
                        pipeline_end[k] += value
                        outcome = AFTER_HORIZON
                    elif due <= owner_last:
                        owner_pipe[s, due] += value
                        owner_deals[s, due] += 1
                        outcome = BOOKED_TO_OWNER
                    elif key_uniform(mix64(st[0])) < orphan_rate[k]:  # survives orphaning
                        territory_pipe[k, due] += value  # due > t: owner_last >= t
                        territory_deals[k, due] += 1
                        outcome = BOOKED_ORPHANED
                    else:
                        outcome = LOST_ORPHANED
                    if tracing:
                        trace_deal(trace, t, k, s, occupants[s] - 1, due, value, outcome, -1)

            # bookings due to this rep now (this month's wins with no cycle included)
            booked = owner_pipe[s, t]
            mf[F_BOOKINGS, k] += booked
            mc[C_NEW_CUSTOMERS, k] += owner_deals[s, t]
            year_bookings[s] += booked
            period_bookings[s] += booked
            leaving = tenure[s] >= leave_at[s]

            # commission, settled at the period's end or when the rep leaves
            if period_end[t, k] or leaving:
                pay = commission_payout(period_bookings[s], period_quota[s], commission_rate[k],
                                        tier_lo, tier_mult, k, tier_count[k], commission_cap[k])
                mf[F_COMMISSION, k] += pay
                if fy_of_month[t] >= 0:
                    commission_earned[fy_of_month[t], s] += pay
                period_bookings[s] = 0.0
                period_quota[s] = 0.0

            # attainment of whoever holds the seat in a fiscal year's last month
            if year_end:
                if year_quota[s] > 0.0:
                    attainment[y, s] = year_bookings[s] / year_quota[s]
                tenure_out[y, s] = tenure[s] + 1
                occupant_out[y, s] = occupants[s] - 1

            # 9. attrition at month end (deals booking later were routed when won),
            # backfill after the time to fill; tenure grows
            if leaving:
                mc[C_DEPARTURES, k] += 1
                active[s] = False
                if tracing and 0 <= trace_row[s] < trace.occupants.shape[0]:
                    trace.occupants[trace_row[s], 5] = t
                if backfill[k]:
                    awaiting[s] = True
                    next_start[s] = t + 1 + fill_lag[s]
            else:
                tenure[s] += 1
        if year_end:
            y += 1

        # recurring revenue: retained customers churn and expand, this month's deals add ARR
        for k in range(K):
            if recurring[k]:
                if customers[k] > 0 and churn_month[k] > 0.0:
                    st[0] = substream_key(tkey, PURPOSE_CHURN, k, t)
                    lost = binomial_inv(uniform(st), customers[k], churn_month[k])
                    kept = 1.0 - lost / customers[k]
                    mf[F_CHURNED_ARR, k] = (arr_new[k] + arr_existing[k]) * (1.0 - kept)
                    mc[C_CHURNED_CUSTOMERS, k] = lost
                    customers[k] -= lost
                    arr_new[k] *= kept
                    arr_existing[k] *= kept
                arr_new[k] = arr_new[k] * (1.0 + expansion_month[k]) + mf[F_BOOKINGS, k]
                arr_existing[k] *= 1.0 + expansion_month[k]
                customers[k] += mc[C_NEW_CUSTOMERS, k]
                mf[F_ARR, k] = arr_new[k] + arr_existing[k]
                mf[F_REVENUE_NEW, k] = arr_new[k] / 12.0
                mf[F_REVENUE_EXISTING, k] = arr_existing[k] / 12.0
            else:
                mf[F_REVENUE_NEW, k] = mf[F_BOOKINGS, k]
        for k in range(K):
            for c in range(N_COUNTS):
                counts[c, t, k] = mc[c, k]
            for c in range(N_FLOWS):
                if c != F_BOOKINGS_FROM_PIPELINE:  # written by open_deals directly
                    flows[c, t, k] = mf[c, k]


@njit(cache=True, parallel=True)
def simulate_chunk(seed, trial0, rows, market, terr, rules, cal, seats, pipe, out):
    """Simulate trials ``trial0 .. trial0 + n - 1`` in parallel into zeroed outputs of length n.

    Trial ``trial0 + i`` reads row ``rows[i]`` of the per-draw groups (``market``, ``terr``).
    """
    n = out.counts.shape[1]
    for i in prange(n):
        mine = Outputs(out.counts[:, i], out.flows[:, i], out.downturn[i], out.pipeline_end[i], out.attainment[i],
                       out.tenure[i], out.commission_earned[i], out.occupant[i])
        simulate_trial(seed, trial0 + i, rows[i], market, terr, rules, cal, seats, pipe, mine, empty_trace())


@njit(cache=True)
def empty_trace():
    """The :class:`~.layout.Trace` of an ordinary run: no records."""
    return Trace(np.zeros(0, dtype=np.int64), np.zeros((0, 8)), np.zeros((0, 8), dtype=np.int64), np.zeros((0, 7)))

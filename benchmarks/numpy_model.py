"""The salessim model (SPEC section 3) in plain NumPy: the yardstick for the Numba engine.

This is the implementation a competent analyst would write without Numba: every trial
is simulated at once as a row of ``(trials, seats)`` state arrays, with a Python loop
over the months only. Each month is a handful of array operations: Poisson routing,
binomial funnel, a per-month attrition coin, and the won deals drawn one per deal
(``np.repeat`` to one row per deal, then lag, value and orphan coin as vectors) and
scattered into a ring buffer of future booking months with ``np.bincount``.

It uses ``numpy.random.Generator`` (one stream, seeded once), so its draws differ from
the engine's counter-based streams; its distribution is the same, which
``tests/test_numpy_reference.py`` checks. It reads only :class:`salessim.inputs.ModelInputs`.

    from salessim import load_scenario
    from salessim.inputs import build_inputs
    out = simulate_numpy(build_inputs(without_open_pipeline(load_scenario("scenarios/baseline.yaml"))), 1000, seed=1)
    out["bookings"].shape  # (1000, 36, 3): trial, month, territory
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from salessim.inputs import ModelInputs

__all__ = ["simulate_numpy", "flat_inputs", "without_open_pipeline", "TMK_NAMES"]

#: outputs with dims (trial, month, territory)
TMK_NAMES = (
    "headcount", "ramped_fte", "hires", "departures", "open_reqs",
    "leads", "leads_unworked", "opportunities", "wins", "bookings", "quota",
    "commission", "new_customers", "churned_customers", "arr", "churned_arr", "revenue_new", "revenue_existing",
)
_INT_NAMES = {"headcount", "hires", "departures", "open_reqs", "leads", "leads_unworked", "opportunities", "wins",
              "new_customers", "churned_customers"}
_NEVER = np.iinfo(np.int64).max


def without_open_pipeline(sc):
    """The scenario with no open deals at the start: this model simulates the funnel from an
    empty pipeline, so comparisons with the engine run both on that."""
    return sc.with_overrides({"pipeline": None, "pipeline_csv": None})


def flat_inputs(inp: ModelInputs) -> SimpleNamespace:
    """The scenario's arrays under one flat namespace: the first parameter draw of the per-draw
    groups (market, territory parameters), the rules and calendar, and the seats as ``seat_*``.

    Reference implementations (this model, ``floor.py``) read the scenario as written, so
    they take row 0 of the per-draw groups and drop the draw axis.
    """
    names = {}
    for group in (inp.market, inp.territories):
        names.update({f: getattr(group, f)[0] for f in group._fields})
    for group in (inp.rules, inp.calendar):
        names.update({f: getattr(group, f) for f in group._fields})
    names.update({f"seat_{f}": getattr(inp.seats, f) for f in inp.seats._fields})
    names["shape"] = inp.shape
    for scalar in ("downturn_p_month", "downturn_lead_mult", "downturn_win_mult"):
        names[scalar] = float(names[scalar])
    names["downturn_months"] = int(names["downturn_months"])
    return SimpleNamespace(**names)


def _hazard_table(inp: ModelInputs, max_tenure: int) -> np.ndarray:
    """(K, max_tenure + 1) monthly leaving probability h by territory and tenure month."""
    inp = flat_inputs(inp) if isinstance(inp, ModelInputs) else inp
    K = inp.band_count.shape[0]
    table = np.zeros((K, max_tenure + 1))
    tau = np.arange(max_tenure + 1)
    for k in range(K):
        nb = int(inp.band_count[k])
        until = inp.band_until[k, :nb]
        band = np.minimum(np.searchsorted(until, tau, side="right"), nb - 1)  # first band with until > tau
        table[k] = -np.expm1(-inp.band_hazard[k, :nb][band])  # h = 1 - exp(-(-log(1 - h)))
    return table


def _categorical(rng: np.random.Generator, cdf: np.ndarray, length: np.ndarray, terr: np.ndarray) -> np.ndarray:
    """One draw per element of ``terr`` from territory ``terr``'s pmf, given as a padded CDF.

    The draw is the first index k with cdf[k] >= u, i.e. the number of cdf entries below u
    (u in (0, 1]; the padding is 1.0, never below u). Pmfs are short, so a few vectorised
    comparisons beat ``np.searchsorted`` on unsorted keys.
    """
    u = 1.0 - rng.random(terr.shape[0])
    rows = cdf[:, : max(int(length.max()) - 1, 0)]
    if (rows == rows[0]).all():  # one pmf for all territories (the usual case)
        k = np.zeros(terr.shape[0], dtype=np.intp)
        for c in rows[0]:
            k += u > c
        return k
    return (u[:, None] > rows[terr]).sum(axis=1)


def _commission(bookings, quota, rate, lo, mult, count, cap):
    """Vectorised commission_payout over (n, S): marginal tiers, then the cap."""
    pay = np.zeros_like(bookings)
    T = lo.shape[1]
    with np.errstate(invalid="ignore"):  # inf x 0 quota: a tier that starts at infinity
        return _tiers(pay, bookings, quota, rate, lo, mult, count, cap, T)


def _tiers(pay, bookings, quota, rate, lo, mult, count, cap, T):
    for i in range(T):
        live = i < count
        start = np.where(live, lo[:, i], np.inf) * quota
        nxt = lo[:, i + 1] if i + 1 < T else np.full(lo.shape[0], np.inf)
        end = np.where(i + 1 < count, nxt, np.inf) * quota
        end = np.where(np.isnan(end), np.inf, end)  # inf x 0 quota
        start = np.where(np.isnan(start), np.inf, start)
        pay += np.where(live, mult[:, i], 0.0) * np.clip(np.minimum(bookings, end) - start, 0.0, None)
    pay *= rate
    return np.minimum(pay, np.where(np.isfinite(cap), cap * rate * quota, np.inf))


def simulate_numpy(inp: ModelInputs, trials: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Simulate ``trials`` futures; returns a dict of arrays.

    ``headcount`` .. ``quota`` (the names in :data:`TMK_NAMES`) have shape (trials, months,
    territories); ``downturn`` (trials, months); ``pipeline_end`` (trials, territories);
    ``attainment`` and ``tenure`` (trials, fiscal_years, seats), NaN for empty seats.
    """
    inp = flat_inputs(inp)
    H, K, S, Y = inp.shape
    n = int(trials)
    rng = np.random.default_rng(seed)

    # --- per-seat constants (S,) and lookup tables
    terr = inp.seat_terr
    onehot = np.zeros((S, K))
    onehot[np.arange(S), terr] = 1.0

    def by_terr(x: np.ndarray) -> np.ndarray:  # (n, S) -> (n, K) sums over each territory's seats
        return x.astype(np.float64, copy=False) @ onehot

    R = inp.ramp.shape[1]
    ramp_tab = np.hstack([np.where(np.arange(R)[None, :] < inp.ramp_len[:, None], inp.ramp, 1.0), np.ones((K, 1))])
    max_tenure = int(inp.seat_tenure0.max(initial=0)) + H + 1
    haz_tab = _hazard_table(inp, max_tenure)
    p_opp_s = inp.p_opp[terr]
    win_s = inp.win_rate[terr]
    cap_s = inp.capacity[terr]
    sig_s = inp.skill_sigma[terr]
    quota_s = inp.quota_month[terr]
    quota_ramped_s = inp.quota_ramped[terr].astype(bool)
    backfill_s = inp.backfill[terr].astype(bool)
    tenure0_s = inp.seat_tenure0
    is_hire_s = inp.seat_is_hire.astype(bool)
    fy_first = [int(x) for x in inp.fy_first]
    fy_last = [int(x) for x in inp.fy_last]
    W = int(inp.cycle_len.max())  # deals book at most W - 1 months after the win: ring of W months
    rate_s = inp.commission_rate[terr]
    tier_lo_s, tier_mult_s, tier_count_s = inp.tier_lo[terr], inp.tier_mult[terr], inp.tier_count[terr]
    cap_comm_s = inp.commission_cap[terr]
    recurring = inp.recurring.astype(bool)

    # --- outputs
    out = {name: np.zeros((n, H, K), dtype=np.int32 if name in _INT_NAMES else np.float64) for name in TMK_NAMES}
    downturn = np.zeros((n, H), dtype=np.uint8)
    pipeline_end = np.zeros((n, K))
    attainment = np.full((n, Y, S), np.nan)
    tenure_out = np.full((n, Y, S), np.nan)

    # --- state, one row per trial
    active = np.zeros((n, S), dtype=bool)
    awaiting = np.zeros((n, S), dtype=bool)  # empty, waiting for its backfill
    first = np.ones((n, S), dtype=bool)  # the next occupant is the seat's first
    next_start = np.broadcast_to(inp.seat_start, (n, S)).copy()
    tenure = np.zeros((n, S), dtype=np.int64)
    skill = np.ones((n, S))
    year_bookings = np.zeros((n, S))
    year_quota = np.zeros((n, S))
    period_bookings = np.zeros((n, S))
    period_quota = np.zeros((n, S))
    commission_earned = np.zeros((n, Y, S))
    owner_count = np.zeros((n, S, W))  # number of deals behind owner_ring
    orphan_count = np.zeros((n, S, W))
    terr_count = np.zeros((n, K, W))
    arr_new = np.zeros((n, K))
    arr_existing = np.broadcast_to(inp.existing_arr, (n, K)).copy()
    customers = np.broadcast_to(inp.existing_customers, (n, K)).copy()
    owner_ring = np.zeros((n, S, W))  # value due to the current owner, by booking month mod W
    orphan_ring = np.zeros((n, S, W))  # the part of it that still books if the owner leaves
    terr_ring = np.zeros((n, K, W))  # orphaned deals that will book, by territory
    downturn_last = np.full(n, -1, dtype=np.int64)
    trial_seat = np.arange(n * S, dtype=np.int64)  # flat (trial, seat) index
    seat_of = np.tile(np.arange(S), n)
    y = 0

    for t in range(H):
        slot = t % W
        # 10. downturn
        if inp.downturn_p_month > 0.0:
            starts = (t > downturn_last) & (rng.random(n) < inp.downturn_p_month)
            downturn_last[starts] = t + inp.downturn_months - 1
        in_dt = t <= downturn_last
        downturn[:, t] = in_dt
        if y < Y and t == fy_first[y]:
            year_bookings[:] = 0.0
            year_quota[:] = 0.0

        # 1. joiners
        join = ~active & (next_start == t)
        if join.any():
            m = int(join.sum())
            sig = np.broadcast_to(sig_s, (n, S))[join]
            skill[join] = np.exp(sig * rng.standard_normal(m) - 0.5 * sig * sig)
            tenure[join] = np.where(first, tenure0_s, 0)[join]
            out["hires"][:, t] = by_terr(join & (~first | is_hire_s))
            active |= join
            awaiting &= ~join
            first &= ~join
            next_start[join] = _NEVER
            year_bookings[join] = 0.0
            year_quota[join] = 0.0
            period_bookings[join] = 0.0
            period_quota[join] = 0.0

        # 2, 8. ramp, headcount, quota
        f = np.where(active, ramp_tab[terr, np.minimum(tenure, R)], 0.0)
        q = np.where(active, quota_s * np.where(quota_ramped_s, f, 1.0), 0.0)
        year_quota += q
        period_quota += q
        sum_f = by_terr(f)
        out["headcount"][:, t] = by_terr(active)
        out["ramped_fte"][:, t] = sum_f
        out["quota"][:, t] = by_terr(q)
        out["open_reqs"][:, t] = by_terr(awaiting)

        # 3-6. demand, routing, capacity, funnel
        lam = inp.lead_mean[t][None, :] * np.where(in_dt, inp.downturn_lead_mult, 1.0)[:, None]  # (n, K)
        nobody = sum_f <= 0.0
        share = np.divide(f, sum_f[:, terr], out=np.zeros_like(f), where=f > 0.0)
        leads = rng.poisson(lam[:, terr] * share)
        worked = np.fmin(leads, np.floor(cap_s * f)).astype(np.int64)  # fmin: inf * 0 is NaN where f = 0
        opps = rng.binomial(worked, p_opp_s)
        p_win = np.minimum(1.0, win_s * skill * np.where(in_dt, inp.downturn_win_mult, 1.0)[:, None])
        wins = rng.binomial(opps, p_win)
        lost_leads = rng.poisson(np.where(nobody, lam, 0.0)) if nobody.any() else 0
        out["leads"][:, t] = by_terr(leads) + lost_leads
        out["leads_unworked"][:, t] = by_terr(leads - worked) + lost_leads
        out["opportunities"][:, t] = by_terr(opps)
        out["wins"][:, t] = by_terr(wins)

        # 7. one row per won deal: lag, value, orphan coin; scatter into the booking ring
        wins_flat = wins.ravel()
        owner = np.repeat(trial_seat, wins_flat)
        dk = terr[np.repeat(seat_of, wins_flat)]
        lag = _categorical(rng, inp.cycle_cdf, inp.cycle_len, dk)
        value = np.exp(inp.deal_mu[dk] + inp.deal_sigma[dk] * rng.standard_normal(owner.shape[0]))
        survives = rng.random(owner.shape[0]) < inp.orphan_rate[dk]
        late = t + lag >= H
        if late.any():
            pipeline_end += np.bincount((owner[late] // S) * K + dk[late], weights=value[late],
                                        minlength=n * K).reshape(n, K)
            keep = ~late
            owner, lag, value, survives = owner[keep], lag[keep], value[keep], survives[keep]
        idx = owner * W + (t + lag) % W
        owner_ring += np.bincount(idx, weights=value, minlength=n * S * W).reshape(n, S, W)
        orphan_ring += np.bincount(idx, weights=value * survives, minlength=n * S * W).reshape(n, S, W)
        owner_count += np.bincount(idx, minlength=n * S * W).reshape(n, S, W)
        orphan_count += np.bincount(idx, weights=survives.astype(np.float64), minlength=n * S * W).reshape(n, S, W)

        # bookings due this month (incl. this month's zero-lag wins): owners, then orphans
        due = owner_ring[:, :, slot]
        year_bookings += due
        period_bookings += due
        out["bookings"][:, t] = by_terr(due) + terr_ring[:, :, slot]
        out["new_customers"][:, t] = np.rint(by_terr(owner_count[:, :, slot]) + terr_count[:, :, slot])
        owner_ring[:, :, slot] = 0.0
        orphan_ring[:, :, slot] = 0.0
        terr_ring[:, :, slot] = 0.0
        owner_count[:, :, slot] = 0.0
        orphan_count[:, :, slot] = 0.0
        terr_count[:, :, slot] = 0.0

        # attainment of whoever holds the seat in a fiscal year's last month
        if y < Y and t == fy_last[y]:
            ok = active & (year_quota > 0.0)
            attainment[:, y] = np.where(ok, year_bookings / np.where(ok, year_quota, 1.0), np.nan)
            tenure_out[:, y] = np.where(active, tenure + 1, np.nan)
            y += 1

        # 9. attrition at month end (a coin per rep-month), orphaning, backfill, tenure
        h = haz_tab[terr, np.minimum(tenure, max_tenure)]
        leave = active & (rng.random((n, S)) < h)
        out["departures"][:, t] = by_terr(leave)
        settle = active & (inp.period_end[t][terr][None, :].astype(bool) | leave)
        pay = np.where(settle, _commission(period_bookings, period_quota, rate_s, tier_lo_s, tier_mult_s,
                                           tier_count_s, cap_comm_s), 0.0)
        out["commission"][:, t] = by_terr(pay)
        if inp.fy_of_month[t] >= 0:
            commission_earned[:, inp.fy_of_month[t]] += pay
        period_bookings[settle] = 0.0
        period_quota[settle] = 0.0
        ti, si = np.nonzero(leave)
        if ti.size:
            np.add.at(terr_ring, (ti, terr[si]), orphan_ring[ti, si])  # every slot left is a future month
            np.add.at(terr_count, (ti, terr[si]), orphan_count[ti, si])
            owner_ring[ti, si] = 0.0
            orphan_ring[ti, si] = 0.0
            owner_count[ti, si] = 0.0
            orphan_count[ti, si] = 0.0
            active[ti, si] = False
            bf = backfill_s[si]
            ti, si = ti[bf], si[bf]
            awaiting[ti, si] = True
            next_start[ti, si] = t + 1 + _categorical(rng, inp.fill_cdf, inp.fill_len, terr[si])
        tenure[active] += 1

        # recurring revenue: churn of customers, expansion, this month's bookings as new ARR
        if recurring.any():
            lost = rng.binomial(customers, np.where(recurring, inp.churn_month, 0.0))
            kept = np.where(customers > 0, 1.0 - lost / np.maximum(customers, 1), 1.0)
            out["churned_arr"][:, t] = np.where(recurring, (arr_new + arr_existing) * (1.0 - kept), 0.0)
            out["churned_customers"][:, t] = np.where(recurring, lost, 0)
            customers -= np.where(recurring, lost, 0)
            growth = 1.0 + inp.expansion_month
            arr_new = arr_new * kept * growth + out["bookings"][:, t]
            arr_existing = arr_existing * kept * growth
            customers += out["new_customers"][:, t]
            out["arr"][:, t] = np.where(recurring, arr_new + arr_existing, 0.0)
            out["revenue_new"][:, t] = np.where(recurring, arr_new / 12.0, out["bookings"][:, t])
            out["revenue_existing"][:, t] = np.where(recurring, arr_existing / 12.0, 0.0)
        else:
            out["revenue_new"][:, t] = out["bookings"][:, t]

    out["commission_earned"] = commission_earned
    out["downturn"] = downturn
    out["pipeline_end"] = pipeline_end
    out["attainment"] = attainment
    out["tenure"] = tenure_out
    return out

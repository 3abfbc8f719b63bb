"""Seeded statistical tests of the model (SPEC section 3) against analytic values.

Every check passes when |estimate - truth| <= 4 Monte Carlo standard errors, the SE
estimated from the same sample (for a variance: sqrt((m4 - s^4) / n)). Seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss

import salessim
from helpers_model import (
    assert_mean,
    assert_variance,
    make,
    monthly_hazard,
    seasonality_factors,
    territory,
    yearly,
)

SEASON = [0.8, 0.9, 1.3, 0.85, 0.9, 1.3, 0.75, 0.8, 1.3, 0.9, 1.0, 1.5]


# ----------------------------------------------------------------------- attrition


def test_headcount_without_backfill_is_binomial():
    n0, annual = 20, 0.4
    sc = make([territory(reps=n0, attrition_annual=annual, backfill=False)], horizon=24)
    ds = salessim.simulate(sc, trials=20_000, seed=101)
    surv = 1.0 - monthly_hazard(annual)
    hc = ds["headcount"].isel(territory=0).values
    assert np.all(hc[:, 0] == n0)  # nobody leaves before the end of month 0
    for t in (1, 3, 6, 12, 23):
        q = surv**t  # survivors of t earlier month-ends
        assert_mean(hc[:, t], n0 * q, f"mean headcount month {t}")
        assert_variance(hc[:, t], n0 * q * (1 - q), f"variance of headcount month {t}")
    # departures: expected leavers at the end of month t are the month's headcount times h
    dep = ds["departures"].isel(territory=0).values
    for t in (0, 11, 23):
        assert_mean(dep[:, t], n0 * surv**t * (1 - surv), f"mean departures month {t}")
    assert int(ds["hires"].sum()) == 0 and int(ds["open_reqs"].sum()) == 0


def test_tenure_banded_attrition_survival_is_product_of_band_hazards():
    bands = [{"until_month": 6, "annual": 0.6}, {"until_month": 18, "annual": 0.3}, {"annual": 0.1}]
    tenures = {"New": 0, "Mid": 10, "Old": 40}
    n0 = 15
    sc = make([territory(name, reps=n0, initial_tenure_months=t0, attrition_by_tenure=bands, backfill=False)
               for name, t0 in tenures.items()], horizon=24)
    ds = salessim.simulate(sc, trials=10_000, seed=202)

    def h_at(tenure: int) -> float:  # band chosen by the tenure the rep has during the month
        annual = 0.6 if tenure < 6 else 0.3 if tenure < 18 else 0.1
        return monthly_hazard(annual)

    for name, t0 in tenures.items():
        hc = ds["headcount"].sel(territory=name).values
        for t in (3, 6, 9, 15, 23):
            q = math.prod(1.0 - h_at(t0 + j) for j in range(t))
            assert_mean(hc[:, t], n0 * q, f"{name} mean headcount month {t}")
            assert_variance(hc[:, t], n0 * q * (1 - q), f"{name} headcount variance month {t}")


# ------------------------------------------------------------ Poisson demand and wins


def _poisson_funnel_scenario():
    terrs = [
        territory("A", reps=3, leads_per_month=40.0, lead_to_opportunity=0.4, win_rate=0.3,
                  deal_size={"mean": 5000.0, "cv": 0.8}),
        territory("B", reps=1, leads_per_month=12.5, lead_to_opportunity=0.7, win_rate=0.55,
                  deal_size={"mean": 20_000.0, "cv": 0.3}),
    ]
    market = {"seasonality": SEASON, "annual_growth": 0.1}
    return make(terrs, horizon=24, market=market), terrs, market


def test_unlimited_capacity_yearly_wins_poisson_and_bookings_compound_poisson():
    sc, terrs, market = _poisson_funnel_scenario()
    ds = salessim.simulate(sc, trials=20_000, seed=303)
    factor = seasonality_factors(market["seasonality"], "2027-01", 24, market["annual_growth"])
    wins_y = yearly(ds, "wins")
    book_y = yearly(ds, "bookings")
    for k, terr in enumerate(terrs):
        pq = terr["lead_to_opportunity"] * terr["win_rate"]
        mean_d = terr["deal_size"]["mean"]
        ed2 = mean_d**2 * (1 + terr["deal_size"]["cv"] ** 2)
        for y in range(2):
            lam = float(np.sum(terr["leads_per_month"] * factor[12 * y: 12 * y + 12]) * pq)
            w = wins_y.isel(territory=k, fiscal_year=y).values
            b = book_y.isel(territory=k, fiscal_year=y).values
            label = f"{terr['name']} FY{y}"
            assert_mean(w, lam, f"{label} mean wins")
            assert_variance(w, lam, f"{label} variance of wins")
            assert_mean(b, lam * mean_d, f"{label} mean bookings")
            assert_variance(b, lam * ed2, f"{label} variance of bookings")
    # nothing is lost: no capacity limit, every lead is worked
    assert int(ds["leads_unworked"].sum()) == 0
    assert float(ds["pipeline_end"].sum()) == 0.0  # sales cycle [1.0]: every win books at once


def test_sales_cycle_convolves_wins_into_bookings_and_pipeline_end():
    pmf = [0.1, 0.3, 0.4, 0.2]
    H = 12
    terr = territory(reps=2, leads_per_month=30.0, lead_to_opportunity=0.5, win_rate=0.4,
                     deal_size={"mean": 1000.0, "cv": 0.5}, sales_cycle_months=pmf)
    market = {"seasonality": SEASON}
    sc = make([terr], horizon=H, market=market)
    ds = salessim.simulate(sc, trials=20_000, seed=404)
    mean_d = 1000.0
    ew = 30.0 * seasonality_factors(SEASON, "2027-01", H) * 0.5 * 0.4  # E[wins in month t]
    wins = ds["wins"].isel(territory=0).values
    book = ds["bookings"].isel(territory=0).values
    for t in (0, 2, 5, 8, 11):
        assert_mean(wins[:, t], ew[t], f"mean wins month {t}")
    for t in range(H):
        truth = sum(pmf[l] * ew[t - l] for l in range(len(pmf)) if t - l >= 0) * mean_d
        assert_mean(book[:, t], truth, f"mean bookings month {t}")
    beyond = sum(ew[t] * pmf[l] for t in range(H) for l in range(len(pmf)) if t + l >= H) * mean_d
    assert_mean(ds["pipeline_end"].isel(territory=0).values, beyond, "mean pipeline_end")


# ------------------------------------------------------------------- ramp and hires


def test_hire_cohort_ramped_fte_follows_ramp_exactly():
    ramp = [0.25, 0.5, 0.75]  # dyadic, so sums are exact
    terr = territory(reps=0, ramp=ramp, quota_annual=120_000.0, quota_ramped=True)
    plan = [{"month": "2027-03", "territory": "T", "hires": 3}, {"month": "2027-05", "territory": "T", "hires": 2}]
    sc = make([terr], horizon=12, hiring_plan=plan)
    ds = salessim.simulate(sc, trials=50, seed=505)

    def f(tenure: int) -> float:
        return ramp[tenure] if tenure < len(ramp) else 1.0

    want_fte = np.array([(3 * f(t - 2) if t >= 2 else 0.0) + (2 * f(t - 4) if t >= 4 else 0.0) for t in range(12)])
    want_hc = np.array([(3 if t >= 2 else 0) + (2 if t >= 4 else 0) for t in range(12)])
    want_hires = np.zeros(12, dtype=int)
    want_hires[2], want_hires[4] = 3, 2
    fte = ds["ramped_fte"].isel(territory=0).values
    assert np.array_equal(fte, np.broadcast_to(want_fte, fte.shape)), (fte[0], want_fte)
    assert np.array_equal(ds["headcount"].isel(territory=0).values, np.broadcast_to(want_hc, (50, 12)))
    assert np.array_equal(ds["hires"].isel(territory=0).values, np.broadcast_to(want_hires, (50, 12)))
    assert np.array_equal(ds["quota"].isel(territory=0).values, np.broadcast_to(10_000.0 * want_fte, (50, 12)))
    # before anyone is in seat every lead is unworked
    assert np.array_equal(ds["leads"].values[:, :2], ds["leads_unworked"].values[:, :2])


# ------------------------------------------------------------------------ capacity


def test_capacity_worked_leads_is_expected_min_of_poisson_and_capacity():
    lam, cap_whole = 10.0, 10
    terrs = [
        # a fully ramped rep with capacity 10.5 works at most floor(10.5) = 10 leads
        territory("Full", leads_per_month=lam, capacity_leads_per_month=10.5),
        # a lone rep at f = 0.5 still gets every lead, and works at most floor(21 x 0.5) = 10
        territory("Half", leads_per_month=lam, capacity_leads_per_month=21.0, ramp=[0.5] * 30, initial_tenure_months=0),
    ]
    sc = make(terrs, horizon=12)
    ds = salessim.simulate(sc, trials=5_000, seed=606)
    e_min = sum(ss.poisson.sf(j, lam) for j in range(cap_whole))  # E[min(N, C)] = sum_{j<C} P(N > j)
    for name in ("Full", "Half"):
        leads = ds["leads"].sel(territory=name).values
        unworked = ds["leads_unworked"].sel(territory=name).values
        worked = leads - unworked
        assert worked.max() <= cap_whole
        assert_mean(leads, lam, f"{name} mean leads")
        assert_mean(worked, e_min, f"{name} mean worked leads")
        assert_mean(unworked, lam - e_min, f"{name} mean unworked leads")


# ------------------------------------------------------------------------- backfill


def _vacancy_markov(h: float, lag: int, months: int) -> np.ndarray:
    """Exact P(seat empty in month t), t < months, from the seat's Markov chain.

    States: 0 occupied; j = 1..lag empty with j months to go. An occupant leaves at a month
    end with probability h; the replacement starts ``lag`` months later (SPEC 3.9), so the
    seat is empty for exactly ``lag`` months.
    """
    p = np.zeros((lag + 1, lag + 1))
    p[0, 0], p[0, lag] = 1 - h, h
    for j in range(1, lag + 1):
        p[j, j - 1] = 1.0
    x = np.zeros(lag + 1)
    x[0] = 1.0
    out = np.empty(months)
    for t in range(months):
        out[t] = x[1:].sum()
        x = x @ p
    return out


def test_backfill_fixed_lag_vacancy_fraction_is_renewal_value():
    annual, lag, seats, H = 0.6, 3, 10, 96
    h = monthly_hazard(annual)
    pmf = [0.0] * lag + [1.0]
    sc = make([territory(reps=seats, attrition_annual=annual, backfill=True, time_to_fill_months=pmf)], horizon=H)
    ds = salessim.simulate(sc, trials=2_000, seed=707)
    # a rep's time in seat is Geometric(h) on {1, 2, ...} (mean 1/h), then the seat is empty
    # for exactly `lag` months: the renewal-reward vacancy fraction is lag / (1/h + lag)
    steady = lag / (1.0 / h + lag)
    window = slice(48, H)
    exact = _vacancy_markov(h, lag, H)[window]
    assert np.max(np.abs(exact - steady)) < 1e-9  # the window is in steady state
    open_frac = ds["open_reqs"].isel(territory=0).values[:, window] / seats
    assert_mean(open_frac.mean(axis=1), steady, "vacancy fraction")  # trials are independent
    hc = ds["headcount"].isel(territory=0).values
    assert np.all(hc + ds["open_reqs"].isel(territory=0).values == seats)  # no seat is ever lost


def test_backfill_with_zero_lag_keeps_every_seat_filled():
    sc = make([territory(reps=6, attrition_annual=0.5, backfill=True, time_to_fill_months=[1.0])], horizon=24)
    ds = salessim.simulate(sc, trials=500, seed=708)
    assert np.all(ds["headcount"].values == 6)
    assert np.all(ds["open_reqs"].values == 0)
    dep = ds["departures"].values
    assert dep.sum() > 0
    assert np.array_equal(ds["hires"].values[:, 1:], dep[:, :-1])  # each leaver is replaced next month


# -------------------------------------------------- deterministic capacity calculation


def test_bookings_match_deterministic_capacity_calculation():
    ramp = [0.15, 0.45, 0.8]
    cap, p_opp, win, deal = 20.0, 0.3, 0.4, 7000.0
    terr = territory(reps=3, initial_tenure_months=[0, 2, 30], ramp=ramp, capacity_leads_per_month=cap,
                     leads_per_month=20_000.0, lead_to_opportunity=p_opp, win_rate=win,
                     deal_size={"mean": deal, "cv": 0.0})
    plan = [{"month": "2027-05", "territory": "T", "hires": 1}]
    H = 24
    sc = make([terr], horizon=H, hiring_plan=plan)
    ds = salessim.simulate(sc, trials=4_000, seed=808)

    def f(tenure: int) -> float:
        return ramp[tenure] if tenure < len(ramp) else 1.0

    starts = [(0, 0), (0, 2), (0, 30), (4, 0)]  # (start month, tenure at start)
    worked = np.array([sum(math.floor(cap * f(t - m + t0)) for m, t0 in starts if t >= m) for t in range(H)])
    # leads far above capacity: worked leads are deterministic in every trial
    got = (ds["leads"] - ds["leads_unworked"]).isel(territory=0).values
    assert np.array_equal(got, np.broadcast_to(worked, got.shape))
    book_y = yearly(ds, "bookings").isel(territory=0).values
    for y in range(2):
        truth = worked[12 * y: 12 * y + 12].sum() * p_opp * win * deal
        assert_mean(book_y[:, y], truth, f"FY{y} bookings vs deterministic capacity plan")


# ------------------------------------------------------------------ orphaned deals


def test_orphaned_deal_close_rate():
    n0, annual, H = 4, 0.6, 24
    lam, p_opp, win, mean_d = 30.0, 0.5, 0.5, 1000.0
    h = monthly_hazard(annual)
    base = dict(reps=n0, attrition_annual=annual, backfill=False, leads_per_month=lam, lead_to_opportunity=p_opp,
                win_rate=win, deal_size={"mean": mean_d, "cv": 0.5}, sales_cycle_months=[0.0, 0.0, 1.0])
    totals = {}
    for rate in (1.0, 0.0, 0.5):
        sc = make([territory(orphaned_deal_close_rate=rate, **base)], horizon=H)
        ds = salessim.simulate(sc, trials=10_000, seed=909)
        totals[rate] = ds["bookings"].sum("month").isel(territory=0).values
        # A win in month t exists while any rep is in seat (prob a_t); it books at t + 2 to its
        # owner if the owner survives the month-ends t and t + 1, else to the territory w.p. rate
        a = 1.0 - (1.0 - (1.0 - h) ** np.arange(H)) ** n0
        keep = (1 - h) ** 2 + rate * (1 - (1 - h) ** 2)
        truth = sum(lam * p_opp * win * mean_d * a[t] * keep for t in range(H - 2))
        assert_mean(totals[rate], truth, f"total bookings at orphaned_deal_close_rate {rate}")
        beyond = sum(lam * p_opp * win * mean_d * a[t] for t in range(H - 2, H))
        assert_mean(ds["pipeline_end"].isel(territory=0).values, beyond, f"pipeline_end at rate {rate}")
    assert np.all(totals[1.0] >= totals[0.5]) and np.all(totals[0.5] >= totals[0.0])  # same draws
    # the 0.5 case lies halfway between 0 and 1 (paired on the same seed)
    assert_mean(totals[0.5] - 0.5 * (totals[1.0] + totals[0.0]), 0.0, "rate 0.5 minus the midpoint")
    assert np.mean(totals[1.0] - totals[0.0]) > 0


# ------------------------------------------------------------------------ downturn


def test_downturn_start_probability_and_duration():
    p_year, d, H = 0.5, 3, 24
    market = {"downturn": {"probability_per_year": p_year, "duration_months": d, "lead_multiplier": 0.5,
                           "win_rate_multiplier": 1.0}}
    sc = make([territory(reps=0, leads_per_month=50.0)], horizon=H, market=market)
    ds = salessim.simulate(sc, trials=20_000, seed=1010)
    p_m = 1.0 - (1.0 - p_year) ** (1.0 / 12.0)
    dt = ds["downturn"].values.astype(int)
    for t in range(d):  # before a first downturn can end: in one iff one started in 0..t
        truth = 1.0 - (1.0 - p_m) ** (t + 1)
        assert_mean(dt[:, t], truth, f"share in a downturn at month {t}")
    # every downturn covers exactly d consecutive months (truncated at the horizon)
    for row in dt:
        t = 0
        while t < H:
            if row[t]:
                assert np.all(row[t: t + d] == 1), row
                t += d
            else:
                t += 1
    # leads (all unworked here) are Poisson(50 x multiplier)
    leads = ds["leads"].isel(territory=0).values
    assert_mean(leads[dt == 1], 25.0, "mean leads in a downturn")
    assert_mean(leads[dt == 0], 50.0, "mean leads outside a downturn")


def test_downturn_win_rate_multiplier():
    market = {"downturn": {"probability_per_year": 0.9, "duration_months": 4, "lead_multiplier": 1.0,
                           "win_rate_multiplier": 0.5}}
    sc = make([territory(reps=2, leads_per_month=40.0, lead_to_opportunity=0.5, win_rate=0.6)], horizon=12, market=market)
    ds = salessim.simulate(sc, trials=4_000, seed=1011)
    dt = ds["downturn"].values.astype(bool)
    wins = ds["wins"].isel(territory=0).values
    assert_mean(wins[dt], 40.0 * 0.5 * 0.3, "mean wins in a downturn")
    assert_mean(wins[~dt], 40.0 * 0.5 * 0.6, "mean wins outside a downturn")


# ---------------------------------------------------------------------- attainment


@pytest.mark.parametrize("fy_start", [1, 4])
def test_attainment_and_tenure_by_hand(fy_start):
    ramp = [0.25, 0.5, 0.75]
    cap, deal, quota_annual = 20.0, 1000.0, 120_000.0
    terrs = [
        territory("Ramped", initial_tenure_months=0, ramp=ramp, capacity_leads_per_month=cap, leads_per_month=10_000.0,
                  lead_to_opportunity=1.0, win_rate=1.0, deal_size={"mean": deal, "cv": 0.0},
                  quota_annual=quota_annual, quota_ramped=True),
        territory("Flat", initial_tenure_months=1, ramp=ramp, capacity_leads_per_month=cap, leads_per_month=10_000.0,
                  lead_to_opportunity=1.0, win_rate=1.0, deal_size={"mean": deal, "cv": 0.0},
                  quota_annual=quota_annual, quota_ramped=False),
    ]
    H = 27 if fy_start == 4 else 24
    sc = make(terrs, horizon=H, fy_start=fy_start)
    ds = salessim.simulate(sc, trials=20, seed=1212)
    first = [t0 for _, t0 in sc.fiscal_years()]
    assert len(first) == 2

    def f(tenure: int) -> float:
        return ramp[tenure] if tenure < len(ramp) else 1.0

    for seat, (t0, ramped) in enumerate([(0, True), (1, False)]):
        for y, m0 in enumerate(first):
            months = range(m0, m0 + 12)
            bookings = sum(math.floor(cap * f(t0 + t)) * deal for t in months)
            quota = sum(quota_annual / 12.0 * (f(t0 + t) if ramped else 1.0) for t in months)
            att = ds["attainment"].isel(seat=seat, fiscal_year=y).values
            np.testing.assert_allclose(att, bookings / quota, rtol=1e-12)
            assert np.all(ds["tenure"].isel(seat=seat, fiscal_year=y).values == t0 + m0 + 12)
            if fy_start == 1:
                assert np.all(ds["tenure"].isel(seat=seat, fiscal_year=y).values == t0 + 12 * (y + 1))

"""Every fitter against synthetic data with known truth, generated here with NumPy.

Tolerances come from each estimator's standard error: analytic where there is one
(Poisson, binomial, lognormal, exponential rates), else the fit's own bootstrap or
posterior spread; a check passes when |estimate - truth| <= 4 SE. Seeds are fixed. The
competing-risks estimator is also checked against lifelines' Aalen-Johansen and
Kaplan-Meier fitters, and the attrition fit against lifelines' piecewise exponential.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from salessim.crm.asof import AsOf
from salessim.crm.fits.arrivals import fit_arrivals
from salessim.crm.fits.deal_size import fit_deal_size
from salessim.crm.fits.outcomes import competing_risks, event_table, fit_outcomes
from salessim.crm.fits.quarter import fit_quarter_end_pull, quarter_position
from salessim.crm.fits.skill import fit_skill, rep_records
from salessim.crm.fits.workforce import fit_attrition, fit_ramp

FIRST = 2022 * 12  # 2022-01 as a month number
Z = 4.0


def asof(months: int) -> AsOf:
    last = FIRST + months - 1
    date = pd.Period(f"{last // 12}-{last % 12 + 1:02d}", "M").end_time.normalize()
    return AsOf(date=date, first=FIRST, last_full=last, start=last + 1)


def view(territory, created_m, closed_m=None, state=None, amount=None, rep=None) -> pd.DataFrame:
    n = len(created_m)
    return pd.DataFrame({
        "territory": np.asarray(territory, dtype=object) if np.ndim(territory) else np.full(n, territory, object),
        "created_m": np.asarray(created_m, float),
        "closed_m": np.full(n, np.nan) if closed_m is None else np.asarray(closed_m, float),
        "state": pd.Categorical(np.full(n, "open") if state is None else state, categories=["won", "lost", "open"]),
        "amount": np.full(n, np.nan) if amount is None else np.asarray(amount, float),
        "rep": np.full(n, None, object) if rep is None else np.asarray(rep, dtype=object)})


def close_to(estimate, truth, se, z=Z):
    estimate, truth, se = (np.asarray(x, float) for x in (estimate, truth, se))
    assert np.all(np.abs(estimate - truth) <= z * se), (estimate, truth, se)


# --------------------------------------------------------------------------- arrivals

def _arrival_view(rates: dict[str, np.ndarray], rng) -> pd.DataFrame:
    terr, created = [], []
    for k, lam in rates.items():
        counts = rng.poisson(lam)
        created.append(np.repeat(FIRST + np.arange(len(lam)), counts))
        terr.append(np.full(counts.sum(), k, object))
    return view(np.concatenate(terr), np.concatenate(created))


def test_constant_rate_matches_the_poisson_mean():
    rng = np.random.default_rng(11)
    T = 18
    v = _arrival_view({"A": np.full(T, 40.0), "B": np.full(T, 15.0)}, rng)
    fit = fit_arrivals(v, asof(T), ["A", "B"], growth=False, seasonality=False, draws=400, seed=1)
    se = np.sqrt(np.array([40.0, 15.0]) / T)
    close_to(fit.leads, [40.0, 15.0], se)
    np.testing.assert_allclose(fit.leads, fit.counts.mean().to_numpy())  # the MLE is the mean count
    # quasi-Poisson: the spread is the Poisson one, scaled up when the counts look overdispersed
    np.testing.assert_allclose(fit.leads_draws.std(0), np.sqrt(fit.leads / T * max(fit.dispersion, 1)), rtol=0.15)
    assert fit.growth == 0 and np.all(fit.seasonality == 1)


def test_growth_and_seasonality_recovered():
    rng = np.random.default_rng(12)
    T, g = 48, 0.15
    season = np.array([0.8, 0.9, 1.3, 0.85, 0.9, 1.3, 0.75, 0.8, 1.3, 0.9, 1.0, 1.5])
    season = season / season.mean()
    a = asof(T)
    t = np.arange(T)
    years = (FIRST + t - a.start) / 12
    leads = {"A": 120.0, "B": 45.0}
    rates = {k: lam * season[t % 12] * (1 + g) ** years for k, lam in leads.items()}
    fit = fit_arrivals(_arrival_view(rates, rng), a, list(leads), draws=400, seed=2)
    assert fit.growth_fitted and fit.seasonality_fitted
    close_to(fit.leads, list(leads.values()), fit.leads_draws.std(0))
    close_to(fit.growth, g, fit.growth_draws.std())
    close_to(fit.seasonality, season, fit.seasonality_draws.std(0))
    assert abs(fit.seasonality.mean() - 1) < 1e-12
    assert 0.6 < fit.dispersion < 1.5


def test_overdispersed_counts_widen_the_draws():
    rng = np.random.default_rng(13)
    T = 36
    lam = rng.gamma(4.0, 50.0 / 4.0, T)  # negative binomial counts: variance 50 + 50^2/4
    v = _arrival_view({"A": lam}, rng)
    fit = fit_arrivals(v, asof(T), ["A"], growth=False, seasonality=False, draws=400, seed=3)
    poisson_se = np.sqrt(fit.leads[0] / T)
    assert fit.dispersion > 4
    np.testing.assert_allclose(fit.leads_draws.std(), poisson_se * np.sqrt(fit.dispersion), rtol=0.15)


# --------------------------------------------------------------------------- outcomes

WON_CYCLE = np.array([0.1, 0.3, 0.3, 0.2, 0.1])
LOST_CYCLE = np.array([0.3, 0.3, 0.2, 0.2])


def _deals(n_per_month: float, months: int, win: float, stale: float, rng, territory="A"):
    created = np.repeat(FIRST + np.arange(months), rng.poisson(n_per_month, months))
    n = len(created)
    won = rng.random(n) < win
    never = ~won & (rng.random(n) < stale)
    lag = np.where(won, rng.choice(5, n, p=WON_CYCLE), rng.choice(4, n, p=LOST_CYCLE))
    closed = np.where(never, np.inf, created + lag)
    a = asof(months)
    done = closed <= a.last_full
    return view(territory, created, np.where(done, closed, np.nan),
                np.where(done, np.where(won, "won", "lost"), "open")), a


def test_no_censoring_gives_the_plain_share():
    rng = np.random.default_rng(21)
    v, a = _deals(50, 30, 0.3, 0.0, rng)
    mature = v["created_m"] <= a.last_full - 5  # every outcome of these cohorts is known
    v = v[mature].reset_index(drop=True)
    fit = fit_outcomes(v, a, ["A"], draws=300, seed=1)["A"]
    won = (v["state"] == "won").to_numpy()
    assert fit.win_rate == pytest.approx(won.mean(), abs=1e-12)
    lags = (v["closed_m"] - v["created_m"]).to_numpy()[won].astype(int)
    np.testing.assert_allclose(fit.cycle, np.bincount(lags, minlength=5)[: len(fit.cycle)] / won.sum(), atol=1e-12)
    se = np.sqrt(0.3 * 0.7 / len(v))
    close_to(fit.win_rate, 0.3, se)
    np.testing.assert_allclose(fit.win_rate_draws.std(), se, rtol=0.2)


def test_censoring_and_stale_deals():
    """Open deals are censored, stale deals never close: the win rate is still P(eventually won)."""
    rng = np.random.default_rng(22)
    v, a = _deals(80, 36, 0.3, 0.25, rng)
    fit = fit_outcomes(v, a, ["A"], draws=400, seed=2)["A"]
    se = fit.win_rate_draws.std()
    close_to(fit.win_rate, 0.3, se)
    close_to(fit.cycle, WON_CYCLE, fit.cycle_draws.std(0))
    assert fit.naive_win_rate > 0.3 + Z * se  # won / (won + lost) ignores the deals that never close
    # a deal open past every cycle is stale: it gets no win probability
    assert fit.max_cycle == 4
    assert np.all(fit.conditional_win([6, 12, 30]) == 0)
    # among deals open at age 1, the share eventually won, from the truth
    p_open_1 = 1 - 0.3 * WON_CYCLE[0] - 0.7 * 0.75 * LOST_CYCLE[0]
    truth = 0.3 * (1 - WON_CYCLE[0]) / p_open_1
    assert abs(fit.conditional_win([1])[0] - truth) < 0.03


def test_conditional_win_is_the_share_eventually_won():
    # five deals, all closed: won at ages 0, 2, 3 and lost at 1, 2
    v = view("A", [FIRST] * 5, [FIRST, FIRST + 2, FIRST + 3, FIRST + 1, FIRST + 2], ["won", "won", "won", "lost", "lost"])
    a = asof(10)
    est = competing_risks(event_table(v["created_m"].to_numpy(), v["closed_m"].to_numpy(), v["state"].to_numpy(), a.last_full))
    assert est["cif_won"][-1] == pytest.approx(0.6)
    fit = fit_outcomes(pd.concat([v] * 5, ignore_index=True), a, ["A"], draws=10)["A"]
    assert fit.conditional_win([0, 1, 2, 3, 4]).tolist() == pytest.approx([3 / 5, 2 / 4, 2 / 3, 1.0, 0.0])


def test_matches_lifelines_aalen_johansen_and_kaplan_meier():
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    rng = np.random.default_rng(23)
    v, a = _deals(30, 24, 0.35, 0.2, rng)
    table = event_table(v["created_m"].to_numpy(), v["closed_m"].to_numpy(), v["state"].to_numpy(), a.last_full)
    est = competing_risks(table)
    closed = v["closed_m"].notna().to_numpy()
    ages = np.where(closed, v["closed_m"] - v["created_m"], a.last_full - v["created_m"]).astype(float)
    kind = np.where(closed, np.where(v["state"] == "won", 1, 2), 0)
    # censored deals were seen through their whole age: after that age's events (lifelines' convention)
    kmf = KaplanMeierFitter().fit(ages, event_observed=kind > 0)
    km = kmf.survival_function_at_times(np.arange(len(est["open"]) - 1)).to_numpy()
    np.testing.assert_allclose(est["open"][1:], km, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns that it jitters tied times
        # ages shifted by one month: lifelines' Aalen-Johansen drops events at time 0
        ajf = AalenJohansenFitter(jitter_level=1e-6, seed=0).fit(ages + 1 + 0.5 * (kind == 0), kind, event_of_interest=1)
    cif = ajf.cumulative_density_.iloc[:, 0]
    at = np.arange(table.shape[1] - 1) + 1.25
    lifelines_cif = np.array([cif[cif.index <= t].iloc[-1] if (cif.index <= t).any() else 0.0 for t in at])
    np.testing.assert_allclose(est["cif_won"][:-1], lifelines_cif, atol=1e-9)


def test_too_few_closed_deals_is_an_error():
    v = view("A", [FIRST] * 10, [FIRST + 1] * 10, ["won"] * 3 + ["lost"] * 7)
    with pytest.raises(Exception, match=r"territory A: 3 won and 7 lost deals .*at least 20 closed deals"):
        fit_outcomes(v, asof(12), ["A"])


# --------------------------------------------------------------------------- skill

def _records(sigma: float, reps: int, w: float, rng) -> pd.DataFrame:
    s = np.exp(rng.normal(-sigma * sigma / 2, sigma, reps)) if sigma > 0 else np.ones(reps)
    deals = rng.integers(40, 100, reps)
    won = rng.binomial(deals, np.minimum(1, w * s))
    return pd.DataFrame({"territory": np.where(np.arange(reps) % 2, "A", "B"), "rep": [f"r{i}" for i in range(reps)],
                         "deals": deals, "won": won})


def test_skill_sigma_recovered_after_binomial_noise():
    rng = np.random.default_rng(31)
    rec = _records(0.35, 150, 0.25, rng)
    fit = fit_skill(rec, draws=400, seed=1)
    close_to(fit.sigma, 0.35, fit.sigma_draws.std())
    raw_spread = np.log(rec["won"].clip(lower=1) / rec["deals"]).std()
    assert raw_spread > fit.sigma + 0.05  # raw rates overstate the spread
    assert fit.reps["shrunk"].std() < fit.reps["raw"].std()
    for k in ("A", "B"):
        close_to(fit.territory_rate[k], 0.25, 0.25 * 0.35 / np.sqrt(75) + np.sqrt(0.25 * 0.75 / rec["deals"].sum() * 2))


def test_no_skill_spread_gives_a_small_sigma():
    rng = np.random.default_rng(32)
    fit = fit_skill(_records(0.0, 100, 0.3, rng), draws=400, seed=2)
    assert np.quantile(fit.sigma_draws, 0.05) < 0.02  # the posterior reaches the boundary
    assert fit.sigma <= Z * fit.sigma_draws.std()
    assert fit_skill(_records(0.3, 4, 0.3, rng)) is None  # under 5 reps: not fitted


def test_rep_records_count_only_mature_deals():
    a = asof(24)
    v = view("A", [FIRST, FIRST, a.last_full - 1, FIRST + 3], [FIRST + 2, np.nan, np.nan, FIRST + 4],
             ["won", "open", "open", "lost"], rep=["x", "x", "x", None])
    rec = rep_records(v, a, {"A": 4})
    assert rec.to_dict("records") == [{"territory": "A", "rep": "x", "deals": 2, "won": 1}]


# --------------------------------------------------------------------------- quarter-end pull

def _pulled(q: float, months: int, rng, per_month=60.0):
    p = np.array([0.15, 0.35, 0.3, 0.2])
    created = np.repeat(FIRST + np.arange(months), rng.poisson(per_month, months))
    natural = created + rng.choice(4, len(created), p=p)
    pos = quarter_position(natural)
    booked = np.where((pos < 2) & (rng.random(len(created)) < q), natural + 2 - pos, natural)
    a = asof(months)
    done = booked <= a.last_full
    return view("A", created, np.where(done, booked, np.nan), np.where(done, "won", "open")), a, p


@pytest.mark.parametrize("q", [0.0, 0.35])
def test_quarter_end_pull_recovered(q):
    rng = np.random.default_rng(41)
    v, a, p = _pulled(q, 48, rng)
    fit = fit_quarter_end_pull(v, a, ["A"], draws=200, seed=1)["A"]
    se = max(fit.pull_draws.std(), 1e-3)
    close_to(fit.pull, q, se)
    close_to(fit.natural_cycle[:4], p, 0.03)
    # analytic: with steady arrivals a quarter's last month holds (1 + 2q) / 3 of its wins
    share = (1 + 2 * q) / 3
    close_to(fit.last_month_share, share, np.sqrt(share * (1 - share) / fit.wins))


def test_quarter_end_pull_follows_the_fiscal_calendar():
    rng = np.random.default_rng(42)
    v, a, _ = _pulled(0.5, 48, rng)
    # quarters that end in Feb/May/Aug/Nov (fiscal year from March... shifted by one) see no pull
    shifted = fit_quarter_end_pull(v, a, ["A"], fiscal_year_start_month=2, draws=20)["A"]
    calendar = fit_quarter_end_pull(v, a, ["A"], fiscal_year_start_month=1, draws=20)["A"]
    assert calendar.pull > 0.4 and shifted.pull < calendar.pull - 0.2


# --------------------------------------------------------------------------- deal size

def test_lognormal_deal_size_within_its_standard_error():
    rng = np.random.default_rng(51)
    n, mean, cv = 400, 20_000.0, 0.6
    s2 = np.log1p(cv * cv)
    x = np.exp(rng.normal(np.log(mean) - s2 / 2, np.sqrt(s2), n))
    fit = fit_deal_size(view("A", np.zeros(n), np.zeros(n), ["won"] * n, x), ["A"], draws=2000, seed=1)["A"]
    assert fit.lognormal and fit.empirical is None and fit.gof_pvalue >= 0.01
    se_mean = mean * np.sqrt(s2 / n + s2 * s2 / (2 * (n - 1)))  # delta method for exp(mu + s^2/2)
    close_to(fit.mean, mean, se_mean)
    np.testing.assert_allclose(fit.mean_draws.std(), se_mean, rtol=0.15)
    se_cv = (1 + cv * cv) * np.sqrt(s2 * s2 / (2 * (n - 1))) / cv  # d cv / d s^2 x sd(s^2)
    close_to(fit.cv, cv, se_cv)


def test_a_product_mix_fails_the_check_and_goes_empirical():
    rng = np.random.default_rng(52)
    small = np.exp(rng.normal(np.log(5_000), 0.2, 400))
    large = np.exp(rng.normal(np.log(80_000), 0.2, 200))
    x = np.concatenate([small, large])
    fit = fit_deal_size(view("A", np.zeros(600), np.zeros(600), ["won"] * 600, x), ["A"], draws=200)["A"]
    assert not fit.lognormal and fit.gof_pvalue <= 0.01
    np.testing.assert_allclose(np.sort(fit.empirical), np.sort(x))
    big = np.concatenate([x] * 5)
    fit = fit_deal_size(view("A", np.zeros(3000), np.zeros(3000), ["won"] * 3000, big), ["A"], draws=50)["A"]
    assert len(fit.empirical) == 1000
    close_to(np.mean(fit.empirical), big.mean(), big.std() / np.sqrt(1000))


def test_deal_size_needs_ten_amounts():
    with pytest.raises(Exception, match="territory A: 9 won deals with an amount"):
        fit_deal_size(view("A", np.zeros(9), np.zeros(9), ["won"] * 9, np.ones(9)), ["A"])


# --------------------------------------------------------------------------- attrition

def _roster(n: int, hazards: tuple[float, float], rng, a: AsOf):
    """Reps hired over 8 years before the as-of date, leaving by band hazards (per month)."""
    end = np.datetime64(a.date, "D")
    hired = end - rng.integers(0, 8 * 365, n).astype("timedelta64[D]")
    early = rng.exponential(1 / hazards[0], n)
    life = np.where(early < 12, early, 12 + rng.exponential(1 / hazards[1], n))
    left = hired + np.round(life * 365.25 / 12).astype("timedelta64[D]")
    reps = pd.DataFrame({"name": [f"r{i}" for i in range(n)], "territory": "A", "hired": hired.astype("datetime64[ns]"),
                         "left": np.where(left <= end, left, np.datetime64("NaT")).astype("datetime64[ns]")})
    window = pd.Timestamp(f"{a.label(a.first)}-01")
    return reps[(reps["left"].isna()) | (reps["left"] > window)].reset_index(drop=True)  # the roster of the window


def test_attrition_bands_with_delayed_entry_and_censoring():
    rng = np.random.default_rng(61)
    a = asof(36)
    hazards = (1 - (1 - 0.35) ** (1 / 12), 1 - (1 - 0.18) ** (1 / 12))
    hazards = tuple(-np.log1p(-h) for h in hazards)  # continuous monthly rates with those annual rates
    reps = _roster(1500, hazards, rng, a)
    fit = fit_attrition(reps, a, breaks=(12,), draws=2000, seed=1)
    truth = np.array([0.35, 0.18])
    rate = -np.log1p(-fit.annual) / 12
    se = 12 * np.exp(-12 * rate) * rate / np.sqrt(fit.events)  # delta method on events / exposure
    close_to(fit.annual, truth, se)
    np.testing.assert_allclose(fit.annual_draws.std(0), se, rtol=0.2)
    assert fit.left_before_window == 0 and fit.reps == len(reps)


def test_attrition_agrees_with_lifelines_piecewise_exponential():
    from lifelines import PiecewiseExponentialFitter

    rng = np.random.default_rng(62)
    a = asof(36)
    fit = fit_attrition(_roster(600, (0.04, 0.015), rng, a), a, breaks=(12,), draws=10)
    pwf = PiecewiseExponentialFitter(breakpoints=[12]).fit(fit.exit, fit.event, entry=fit.entry)
    rate = -np.log1p(-fit.annual) / 12
    np.testing.assert_allclose(1 / pwf.summary["coef"].to_numpy(), rate, rtol=1e-3)


# --------------------------------------------------------------------------- ramp

def test_ramp_recovered_from_lead_shares():
    rng = np.random.default_rng(71)
    months, ramp = 40, np.array([0.2, 0.5, 0.8])
    a = asof(months)
    rows, opp_rep, opp_month, opp_terr = [], [], [], []
    for k in ("A", "B"):
        hires = [(f"{k}{i}", FIRST - 24) for i in range(8)] + [(f"{k}h{i}", FIRST + int(m)) for i, m in
                                                              enumerate(rng.integers(0, months - 4, 25))]
        for name, h in hires:
            rows.append((name, k, h))
        for t in range(months):
            active = [(name, FIRST + t - h) for name, h in hires if h <= FIRST + t]
            f = np.array([ramp[tau] if tau < 3 else 1.0 for _, tau in active])
            n = rng.multinomial(rng.poisson(300), f / f.sum())
            for (name, _), c in zip(active, n):
                opp_rep += [name] * c
                opp_month += [FIRST + t] * c
                opp_terr += [k] * c
    reps = pd.DataFrame(rows, columns=["name", "territory", "hire_m"])
    reps["hired"] = [pd.Timestamp(f"{m // 12}-{m % 12 + 1:02d}-10") for m in reps["hire_m"]]
    reps["left"] = pd.NaT
    v = view(np.array(opp_terr), opp_month, rep=opp_rep)
    fit = fit_ramp(v, reps, a, draws=100, seed=1)
    se = fit.productivity_draws.std(0)
    close_to(fit.productivity[:3], ramp, se[:3])
    close_to(fit.productivity[3:], 1.0, se[3:])
    assert len(fit.ramp) == 3 and fit.hires == 50

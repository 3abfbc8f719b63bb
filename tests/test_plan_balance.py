"""Territory balance (salessim.plan.balance) and its section in the HTML report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import salessim
from helpers_model import Z
from plan_helpers import busy_idle
from salessim.plan.balance import OVERSTAFFED_LOAD, UNDERSTAFFED_UNWORKED, balance
from salessim.report import render_report


@pytest.fixture(scope="module")
def ds():
    return salessim.simulate(busy_idle(), 600, 2)


@pytest.fixture(scope="module")
def result(ds):
    return balance(ds, trials=400)


def _ratio_se(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio of sums over trials and its delta-method standard error."""
    r = num.sum() / den.sum()
    return float(r), float((num - r * den).std(ddof=1) / math.sqrt(num.size) / den.mean())


def test_load_and_unworked_share_match_the_model(ds, result):
    busy, idle = result.territories
    # Idle: 30 leads a month shared by 6 ramped reps, all worked
    assert idle.leads_per_ramped_rep == pytest.approx(
        ds["leads"].values[:, :12, 1].sum() / (6 * 12 * ds.sizes["trial"]), rel=1e-12)
    leads = ds["leads"].values[:, :12, 1].sum(axis=1) / 72.0
    assert abs(idle.leads_per_ramped_rep - 5.0) <= Z * leads.std(ddof=1) / math.sqrt(leads.size)
    assert idle.unworked_share == 0.0
    # Busy: each of 2 reps gets Poisson(100) leads and works at most 20
    k = np.arange(400)
    truth = 1.0 - float(np.sum(np.minimum(k, 20) * stats.poisson.pmf(k, 100.0))) / 100.0
    est, se = _ratio_se(ds["leads_unworked"].values[:, :12, 0].sum(axis=1).astype(float),
                        ds["leads"].values[:, :12, 0].sum(axis=1).astype(float))
    assert busy.unworked_share == pytest.approx(est, rel=1e-12)
    assert abs(est - truth) <= Z * se


def test_flags_name_the_understaffed_and_the_overstaffed_territory(result):
    busy, idle = result.territories
    assert busy.flag == "understaffed" and busy.unworked_share >= UNDERSTAFFED_UNWORKED
    assert busy.reason == f"{busy.unworked_share:.0%} of leads unworked"
    assert idle.flag == "overstaffed" and idle.leads_per_ramped_rep < OVERSTAFFED_LOAD * 20
    assert 0 <= idle.p_attain < busy.p_attain <= 1  # reps short of demand rarely make quota


def test_the_next_hire_goes_where_leads_are_unworked(result):
    hire = result.next_hire
    assert hire.territory == "Busy" and hire.month == "2027-01" and hire.objective == "bookings[2027]"
    assert hire.gain > Z * hire.se and hire.gains["Busy"] > hire.gains["Idle"]


def test_the_report_has_a_balance_section(ds):
    html = render_report(ds)
    section = html.split('<section id="balance">', 1)[1].split("</section>", 1)[0]
    assert "Territory balance (FY2027)" in section
    assert "<strong>understaffed</strong>" in section and "<strong>overstaffed</strong>" in section
    assert "Next hire: <strong>Busy</strong>" in section


def test_no_suggestion_for_a_large_scenario(ds, monkeypatch):
    import salessim.plan.balance as bal

    monkeypatch.setattr(bal, "SUGGEST_WORK_LIMIT", 1.0)
    b = balance(ds)
    assert b.next_hire is None and "run salessim optimize" in b.note


def test_unlimited_capacity_flags_no_territory_overstaffed():
    from helpers_model import make, territory

    sc = make([territory("Wide", reps=5, leads_per_month=10.0, capacity_leads_per_month=None)], horizon=12)
    b = balance(salessim.simulate(sc, 100, 0), suggest=False)
    (t,) = b.territories
    assert t.capacity is None and t.flag == "" and t.unworked_share == 0.0 and b.next_hire is None

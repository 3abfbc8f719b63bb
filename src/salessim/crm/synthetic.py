"""Synthetic CRM exports generated from known parameters (ground truth for tests and examples).

A small NumPy model of a sales team, month by month, written as plainly as possible so
that what the calibration should recover is obvious:

- **Roster**: each territory starts with reps of random tenure; every month a rep leaves
  with the monthly hazard of their tenure band and is replaced the next month (backfill).
- **Arrivals**: territory k gets Poisson(leads_per_month x seasonality[month] x
  (1 + annual_growth)^(t/12)) new opportunities in history month t, each owned by an
  active rep with probability proportional to the rep's ramp productivity.
- **Outcome**: an opportunity is won with probability min(1, win_rate x skill), where
  each rep's skill is LogNormal(-sigma^2/2, sigma); otherwise it never closes with
  probability ``never_close`` (a stale deal) or is lost.
- **Timing**: a win books ``sales_cycle_months`` months after its creation month; a win
  due in a quarter's first two months books in the quarter's last month instead with
  probability ``quarter_end_pull``. A loss closes ``loss_cycle_months`` after creation.
- **Export**: the state at the export date: deals closed by then are won or lost, the
  rest are open (with a forecast close date, as CRMs carry).

``synthetic_export`` returns the opportunities and the roster as tables with typed
columns; ``write_export`` writes them as CSV files with a preset's column names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Truth", "TerritoryTruth", "synthetic_export", "write_export", "PRESET_COLUMNS"]


@dataclass(frozen=True)
class TerritoryTruth:
    """One territory's true parameters (``leads_per_month`` at the first history month)."""

    leads_per_month: float = 60.0
    win_rate: float = 0.3
    reps: int = 8
    deal_mean: float = 20_000.0
    deal_cv: float = 0.6


@dataclass(frozen=True)
class Truth:
    """Every parameter the synthetic history is drawn from."""

    territories: dict[str, TerritoryTruth] = field(default_factory=lambda: {
        "East": TerritoryTruth(80.0, 0.30, 10, 20_000.0, 0.6),
        "West": TerritoryTruth(50.0, 0.22, 7, 35_000.0, 0.8)})
    seasonality: tuple[float, ...] = (1.0,) * 12
    annual_growth: float = 0.0
    sales_cycle_months: tuple[float, ...] = (0.1, 0.3, 0.3, 0.2, 0.1)
    loss_cycle_months: tuple[float, ...] = (0.2, 0.3, 0.3, 0.2)
    never_close: float = 0.0
    skill_sigma: float = 0.25
    attrition_bands: tuple[tuple[float | None, float], ...] = ((12, 0.35), (None, 0.20))
    """(until tenure month, annual rate) per band; the last band has no end."""
    ramp: tuple[float, ...] = (0.2, 0.5, 0.8)
    quarter_end_pull: float = 0.0
    fiscal_year_start_month: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


_OPEN_STAGES = ("Prospecting", "Qualification", "Value Proposition", "Proposal/Price Quote", "Negotiation/Review")


def _days_in(months: np.ndarray) -> np.ndarray:
    """Number of days of each month (months as ``datetime64[M]``)."""
    return ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)


def _date_in(months: np.ndarray, rng: np.random.Generator, not_before: np.ndarray | None = None) -> np.ndarray:
    """A uniformly random day within each month (on or after ``not_before`` when it falls in that month)."""
    first = months.astype("datetime64[D]")
    days = _days_in(months)
    low = np.zeros(len(months), np.int64)
    if not_before is not None:
        same = not_before.astype("datetime64[M]") == months
        low = np.where(same, (not_before - first).astype(np.int64), 0)
    return first + (low + np.floor(rng.random(len(months)) * (days - low)).astype(np.int64)).astype("timedelta64[D]")


def _monthly_hazard(bands, tenure: np.ndarray) -> np.ndarray:
    out = np.empty(len(tenure))
    lower = 0
    for until, annual in bands:
        upper = np.inf if until is None else until
        sel = (tenure >= lower) & (tenure < upper)
        out[sel] = 1.0 - (1.0 - annual) ** (1.0 / 12.0)
        lower = upper
    return out


def synthetic_export(truth: Truth | None = None, *, start: str = "2022-01", months: int = 36,
                     seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``months`` of history from ``start`` and export it at the last month's end.

    Returns
    -------
    opportunities : DataFrame
        ``id``, ``owner``, ``territory``, ``stage``, ``created``, ``closed`` (datetime64;
        a forecast for open deals), ``amount`` (float), ``won``, ``is_closed`` (bool).
    reps : DataFrame
        ``name``, ``territory``, ``hired``, ``left`` (datetime64, NaT while employed).
    """
    truth = truth or Truth()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5E7,)))
    first = np.datetime64(start, "M")
    export_date = (first + months).astype("datetime64[D]") - 1
    ramp = np.asarray(truth.ramp, float)
    season = np.asarray(truth.seasonality, float)
    season = season / season.mean()
    cycle, loss = np.asarray(truth.sales_cycle_months, float), np.asarray(truth.loss_cycle_months, float)
    sigma = truth.skill_sigma

    rep_rows, opp_blocks, next_id = [], [], 0
    for k, (tname, terr) in enumerate(truth.territories.items()):
        # reps: hire month (index relative to `first`), leave month (or None), skill
        hire = list(-rng.integers(1, 61, terr.reps))
        leave: list[int | None] = [None] * terr.reps
        skill = list(np.exp(rng.normal(-sigma * sigma / 2, sigma, terr.reps)))
        for t in range(months):
            active = [i for i in range(len(hire)) if hire[i] <= t and leave[i] is None]
            tenure = np.array([t - hire[i] for i in active], float)
            f = np.where(tenure < len(ramp), ramp[np.minimum(tenure, len(ramp) - 1).astype(int)], 1.0)
            lam = terr.leads_per_month * season[(int(str(first + t)[5:7]) - 1)] * (1 + truth.annual_growth) ** (t / 12)
            n = rng.poisson(lam)
            if n and f.sum() > 0:
                owners = np.asarray(active)[rng.choice(len(active), size=n, p=f / f.sum())]
                opp_blocks.append((k, t, owners + 0, np.asarray(skill)[owners], next_id))
                next_id += n
            gone = np.asarray(active)[rng.random(len(active)) < _monthly_hazard(truth.attrition_bands, tenure)]
            for i in gone:
                leave[i] = t
                hire.append(t + 1)
                leave.append(None)
                skill.append(float(np.exp(rng.normal(-sigma * sigma / 2, sigma))))
        for i in range(len(hire)):
            if hire[i] < months and (leave[i] is None or leave[i] >= 0):
                rep_rows.append((f"{tname} Rep {i + 1:03d}", tname, hire[i], leave[i]))

    terr_names = list(truth.territories)
    k = np.concatenate([np.full(len(b[2]), b[0]) for b in opp_blocks])
    t = np.concatenate([np.full(len(b[2]), b[1]) for b in opp_blocks])
    owner_idx = np.concatenate([b[2] for b in opp_blocks])
    skill = np.concatenate([b[3] for b in opp_blocks])
    n = len(k)
    win = np.array([truth.territories[name].win_rate for name in terr_names])[k]
    u = rng.random(n)
    won = u < np.minimum(1.0, win * skill)
    stale = ~won & (rng.random(n) < truth.never_close)
    lag = np.where(won, rng.choice(len(cycle), size=n, p=cycle / cycle.sum()),
                   rng.choice(len(loss), size=n, p=loss / loss.sum()))
    book = t + lag
    if truth.quarter_end_pull > 0:
        pos = (book - (truth.fiscal_year_start_month - 1) + int(str(first)[5:7]) - 1) % 3
        pull = won & (pos < 2) & (rng.random(n) < truth.quarter_end_pull)
        book = np.where(pull, book + (2 - pos), book)
    created_month = first + t
    created = _date_in(created_month, rng)
    close_month = first + book
    closed = _date_in(close_month, rng, not_before=created)
    is_closed = ~stale & (closed <= export_date)
    forecast = created + (30 + rng.integers(0, 120, n)).astype("timedelta64[D]")
    mean = np.array([truth.territories[name].deal_mean for name in terr_names])[k]
    cv = np.array([truth.territories[name].deal_cv for name in terr_names])[k]
    s2 = np.log1p(cv * cv)
    amount = np.round(np.exp(rng.normal(np.log(mean) - s2 / 2, np.sqrt(s2))), 2)
    stage = np.where(is_closed, np.where(won, "Closed Won", "Closed Lost"),
                     np.asarray(_OPEN_STAGES, dtype=object)[rng.integers(0, len(_OPEN_STAGES), n)])
    owner = np.array([f"{terr_names[kk]} Rep {i + 1:03d}" for kk, i in zip(k, owner_idx)], dtype=object) if n else np.array([], object)
    opps = pd.DataFrame({
        "id": [f"OPP{i:07d}" for i in range(n)], "owner": owner, "territory": np.asarray(terr_names, dtype=object)[k],
        "stage": stage, "created": created.astype("datetime64[ns]"),
        "closed": np.where(is_closed, closed, forecast).astype("datetime64[ns]"),
        "amount": amount, "won": won & is_closed, "is_closed": is_closed,
    })
    reps = pd.DataFrame(rep_rows, columns=["name", "territory", "hire_month", "leave_month"])
    hired = _date_in(first + reps["hire_month"].to_numpy(int), rng)
    leave_m = reps["leave_month"].astype(float).to_numpy()
    left = np.where(np.isnan(leave_m), np.datetime64("NaT"),
                    _date_in(first + np.nan_to_num(leave_m).astype(int), rng, not_before=hired)).astype("datetime64[ns]")
    reps = pd.DataFrame({"name": reps["name"], "territory": reps["territory"],
                         "hired": hired.astype("datetime64[ns]"), "left": left})
    return opps, reps


PRESET_COLUMNS = {
    "salesforce": {"id": "Opportunity ID", "owner": "Opportunity Owner", "territory": "Territory", "stage": "Stage",
                   "created": "Created Date", "closed": "Close Date", "amount": "Amount", "won": "Won",
                   "is_closed": "Closed"},
    "hubspot": {"id": "Record ID", "owner": "Deal owner", "territory": "Territory", "stage": "Deal Stage",
                "created": "Create Date", "closed": "Close Date", "amount": "Amount"},
}
"""Export column names per preset (what the tools call the generic columns)."""


def write_export(opps: pd.DataFrame, reps: pd.DataFrame | None, folder: str | Path, *, preset: str = "salesforce",
                 date_format: str = "%m/%d/%Y", currency_symbol: str = "$") -> tuple[Path, Path | None]:
    """Write ``opportunities.csv`` (and ``reps.csv``) the way the preset's tool exports them.

    Amounts are written with the currency symbol and thousands separators (``$12,000.00``),
    dates with ``date_format``, flags as 1/0.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols = PRESET_COLUMNS[preset]
    out = pd.DataFrame()
    for key, name in cols.items():
        value = opps[key]
        if key in ("created", "closed"):
            value = value.dt.strftime(date_format)
        elif key == "amount":
            value = pd.Series([f"{currency_symbol}{a:,.2f}" for a in value.to_numpy()], index=value.index)
        elif key in ("won", "is_closed"):
            value = value.astype(int)
        out[name] = value
    if preset == "hubspot":  # HubSpot writes its own stage labels
        out["Deal Stage"] = out["Deal Stage"].replace({"Closed Won": "Closed won", "Closed Lost": "Closed lost",
                                                       "Prospecting": "Appointment scheduled",
                                                       "Qualification": "Qualified to buy",
                                                       "Value Proposition": "Presentation scheduled",
                                                       "Proposal/Price Quote": "Decision maker bought-in",
                                                       "Negotiation/Review": "Contract sent"})
    opp_path = folder / "opportunities.csv"
    out.to_csv(opp_path, index=False)
    rep_path = None
    if reps is not None:
        rep_path = folder / "reps.csv"
        pd.DataFrame({"Name": reps["name"], "Territory": reps["territory"],
                      "Hire Date": reps["hired"].dt.strftime(date_format),
                      "Termination Date": reps["left"].dt.strftime(date_format).fillna("")}).to_csv(rep_path, index=False)
    return opp_path, rep_path

"""The organisation on the as-of date: roster with tenures, open pipeline, year-to-date actuals.

- **Roster**: reps in seat on the as-of date (hired by then, not yet left), each with
  ``tenure_months`` counted in calendar months from the hire month to the scenario's
  first month (the hire month is tenure month 0, as in the ramp fit). Without a roster
  file, the reps are the owners of opportunities created in the last three months
  before the as-of date, and their tenure counts from their first opportunity (a lower
  bound, said so in the output).
- **Pipeline**: every deal open on the as-of date, with its age in whole months at the
  scenario's start (SPEC section 9), its amount when the export has one, and its win
  probability given that age from the competing-risks fit (among deals still open at that
  age, the share eventually won). Stale deals keep their (small) probability rather than
  the CRM's stage probability.
- **Actuals**: won amounts booked in the fiscal year in progress at the scenario's start,
  per territory and per rep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .asof import AsOf, month_label, month_number
from .fits.outcomes import OutcomeFit

__all__ = ["StartingState", "starting_state", "fiscal_year_start", "ACTIVE_OWNER_MONTHS"]

ACTIVE_OWNER_MONTHS = 3


def fiscal_year_start(month: int, fiscal_year_start_month: int) -> int:
    """Month number of the first month of the fiscal year containing ``month``."""
    return month - (month % 12 - (fiscal_year_start_month - 1)) % 12


@dataclass
class StartingState:
    """The starting state.

    Attributes
    ----------
    roster : DataFrame ``territory``, ``name``, ``tenure_months``, ``hired``, ``ytd_months`` (months
        of the fiscal year in progress the rep was in seat, with the tenure of each, see
        ``ytd_tenures``), ``ytd_bookings``
    roster_source : ``'roster'`` or ``'owners'`` (no roster file: recent owners)
    pipeline : DataFrame ``id``, ``territory``, ``owner``, ``age_months``, ``amount``, ``win_probability``
    actuals : {territory: bookings} in the fiscal year in progress (None when the start begins a year)
    actuals_window : (first day, as-of day) of the actuals, or None
    actuals_missing_amounts : won deals in that window without an amount (not counted)
    stale_deals : open deals older than their territory's longest cycle
    """

    roster: pd.DataFrame
    roster_source: str
    pipeline: pd.DataFrame
    actuals: dict[str, float] | None
    actuals_window: tuple[pd.Timestamp, pd.Timestamp] | None
    actuals_missing_amounts: int
    stale_deals: int


def _roster(view: pd.DataFrame, reps: pd.DataFrame | None, asof: AsOf) -> tuple[pd.DataFrame, str]:
    if reps is not None:
        hired = reps["hired"]
        active = (hired.isna() | (hired <= asof.date)) & (reps["left"].isna() | (reps["left"] > asof.date))
        frame = reps[active.to_numpy()].copy()
        # a rep with no hire date: tenure from their first opportunity (a lower bound)
        first_opp = view.dropna(subset=["rep"]).groupby("rep")["created"].min()
        start_date = frame["hired"].fillna(frame["name"].map(first_opp))
        return pd.DataFrame({"territory": frame["territory"].to_numpy(), "name": frame["name"].to_numpy(),
                             "hired": start_date.to_numpy()}), "roster"
    recent = view["created_m"].to_numpy() > asof.last_full - ACTIVE_OWNER_MONTHS
    owners = view[recent & view["owner"].notna().to_numpy()]
    main = owners.groupby("owner")["territory"].agg(lambda s: s.value_counts().index[0])
    first = view.dropna(subset=["owner"]).groupby("owner")["created"].min()
    return pd.DataFrame({"territory": main.to_numpy(), "name": main.index.to_numpy(),
                         "hired": first.reindex(main.index).to_numpy()}), "owners"


def starting_state(view: pd.DataFrame, reps: pd.DataFrame | None, asof: AsOf, outcomes: dict[str, OutcomeFit],
                   fiscal_year_start_month: int = 1) -> StartingState:
    """Build the :class:`StartingState` on ``asof.date`` from the as-of view and the outcome fits."""
    roster, source = _roster(view, reps, asof)
    roster = roster[roster["territory"].isin(list(outcomes))].reset_index(drop=True)
    hire_m = month_number(roster["hired"])
    roster["tenure_months"] = np.where(np.isfinite(hire_m), asof.start - np.nan_to_num(hire_m), 0).astype(int)
    roster["tenure_months"] = roster["tenure_months"].clip(lower=0)

    fy_first = fiscal_year_start(asof.start, fiscal_year_start_month)
    actuals, window, missing = None, None, 0
    won = (view["state"] == "won").to_numpy()
    in_fy = won & (view["closed_m"].to_numpy() >= fy_first)
    if fy_first < asof.start:
        window = (pd.Timestamp(f"{month_label(fy_first)}-01"), asof.date)
        amounts = view["amount"].where(in_fy, np.nan)
        missing = int((in_fy & view["amount"].isna().to_numpy()).sum())
        actuals = {k: float(amounts[(view["territory"] == k).to_numpy()].sum()) for k in outcomes}
        by_rep = view[in_fy & view["rep"].notna().to_numpy()].groupby("rep")["amount"].sum()
        roster["ytd_bookings"] = roster["name"].map(by_rep).fillna(0.0).to_numpy()
        first_month = np.maximum(np.nan_to_num(hire_m, nan=fy_first), fy_first)
        roster["ytd_months"] = np.clip(asof.start - first_month, 0, None).astype(int)
    else:
        roster["ytd_bookings"] = 0.0
        roster["ytd_months"] = 0

    open_ = (view["state"] == "open").to_numpy() & np.isfinite(view["created_m"].to_numpy()) \
        & view["territory"].isin(list(outcomes)).to_numpy()
    deals = view[open_]
    age = (asof.start - deals["created_m"].to_numpy()).astype(int)
    prob = np.empty(len(deals))
    stale = 0
    for name, fit in outcomes.items():
        sel = (deals["territory"] == name).to_numpy()
        prob[sel] = fit.conditional_win(age[sel])
        stale += int((age[sel] > fit.max_cycle).sum())
    named = set(zip(roster["territory"], roster["name"]))
    owner = [o if (t, o) in named else None for t, o in zip(deals["territory"], deals["rep"])]
    pipeline = pd.DataFrame({"id": deals["id"].to_numpy(), "territory": deals["territory"].to_numpy(),
                             "owner": owner, "age_months": age, "amount": deals["amount"].to_numpy(),
                             "win_probability": prob})
    return StartingState(roster=roster, roster_source=source, pipeline=pipeline, actuals=actuals,
                         actuals_window=window, actuals_missing_amounts=missing, stale_deals=stale)

"""The history as it was known on the as-of date, in whole months.

Only rows dated on or before ``as_of`` inform a fit (SPEC section 10): a deal created
later does not exist yet, and a deal that closed after ``as_of`` was still open then, so
it is censored there, never dropped. Months are counted as calendar months
(``year * 12 + month - 1``): a deal created in March and won in May has a cycle of 2
months, which is what the model's ``sales_cycle_months`` means (a win books L months
after the month its opportunity arrived).

Counting and survival fits use whole months only, up to ``last_full`` (the as-of month
when ``as_of`` is its last day, else the month before), so a half-observed month neither
lowers the arrival rate nor raises a closing hazard. The scenario starts the month after
the as-of month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .importer import CrmData
from .mapping import CrmError

__all__ = ["AsOf", "resolve_as_of", "month_number", "month_label", "known_at"]


def month_number(dates) -> np.ndarray:
    """Calendar month number ``year * 12 + month - 1`` of each date (float, NaN for NaT)."""
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates, dtype="datetime64[ns]")))
    out = (d.year * 12 + d.month - 1).to_numpy(dtype=float)
    out[np.isnat(np.asarray(dates, dtype="datetime64[ns]"))] = np.nan
    return out


def month_label(number: int) -> str:
    """``YYYY-MM`` of a month number."""
    number = int(number)
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


@dataclass(frozen=True)
class AsOf:
    """The cut-off and the month grid derived from it.

    Attributes
    ----------
    date : the as-of date (inclusive)
    last_full : month number of the last whole month of history
    first : month number of the first history month
    start : month number of the scenario's first simulated month (as-of month + 1)
    """

    date: pd.Timestamp
    first: int
    last_full: int
    start: int

    @property
    def months(self) -> int:
        """Whole months of history."""
        return self.last_full - self.first + 1

    @property
    def mid_month(self) -> bool:
        """True when ``date`` is not the last day of its month."""
        return not self.date.is_month_end

    def label(self, number: int) -> str:
        return month_label(number)


def resolve_as_of(as_of, data: CrmData, since=None) -> AsOf:
    """Build the :class:`AsOf` grid: ``as_of`` a date or ``YYYY-MM`` (that month's end);
    ``since`` (optional) the first history month (default: the month of the earliest created date)."""
    date = _date(as_of, "as-of")
    created = data.opportunities["created"]
    earliest = created.min()
    if pd.isna(earliest) or earliest > date:
        raise CrmError(f"{data.files['opportunities']}: no opportunity was created on or before the as-of date "
                       f"{date:%Y-%m-%d} (the earliest is {earliest:%Y-%m-%d})" if not pd.isna(earliest) else
                       f"{data.files['opportunities']}: no opportunity has a created date")
    first = int(month_number([earliest])[0])
    if since is not None:
        first = max(first, int(month_number([_date(since, "since", end=False)])[0]))
    month = int(month_number([date])[0])
    last_full = month if date.is_month_end else month - 1
    if last_full < first:
        raise CrmError(f"the history from {month_label(first)} to the as-of date {date:%Y-%m-%d} holds no whole month")
    return AsOf(date=date, first=first, last_full=last_full, start=month + 1)


def _date(value, what: str, end: bool = True) -> pd.Timestamp:
    """A date, or ``YYYY-MM`` meaning that month's last day (``end``) or first day."""
    if isinstance(value, str) and len(value.strip()) == 7:
        try:
            period = pd.Period(value.strip(), freq="M")
        except ValueError:
            raise CrmError(f"--{what} {value!r} is not a month (YYYY-MM) or a date (YYYY-MM-DD)") from None
        return (period.end_time if end else period.start_time).normalize()
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise CrmError(f"--{what} {value!r} is not a date; write YYYY-MM-DD or YYYY-MM") from None
    if pd.isna(stamp):
        raise CrmError(f"--{what} is empty; write a date YYYY-MM-DD or a month YYYY-MM")
    return stamp.normalize()


def known_at(data: CrmData, asof: AsOf) -> pd.DataFrame:
    """The opportunities as known on ``asof.date``.

    Returns the rows of ``data.opportunities`` that existed then (created on or before
    the date, or with no created date but closed by then), with added columns:

    ``state`` (won / lost / open on the as-of date), ``created_m`` and ``closed_m``
    (month numbers; NaN when unknown or, for ``closed_m``, not closed by the as-of date).
    """
    opps = data.opportunities
    created, closed = opps["created"], opps["closed"]
    is_closed = opps["status"].isin(["won", "lost"]).to_numpy()
    closed_by = is_closed & (closed <= asof.date).to_numpy()
    exists = (created <= asof.date).to_numpy() | (created.isna().to_numpy() & closed_by)
    out = opps[exists].copy()
    closed_by = closed_by[exists]
    out["state"] = pd.Categorical(np.where(closed_by, out["status"].astype(str), "open"), categories=["won", "lost", "open"])
    out["created_m"] = month_number(out["created"])
    out["closed_m"] = np.where(closed_by, month_number(out["closed"]), np.nan)
    return out.reset_index(drop=True)

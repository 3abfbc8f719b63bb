"""Quarter-end concentration: ``quarter_end_pull``.

B2B deals bunch at quarter ends. The model of this pull (the scenario key
``quarter_end_pull``, applied by the kernel to new wins and open deals alike): a won deal that would naturally book in the first or second month of a
fiscal quarter books in the quarter's last month instead with probability ``q``; deals
due in a last month stay. So a deal created in month ``c`` with natural cycle ``L ~ p``
books ``d`` months later with probability

    P(d | c) = p[d] (1 - q)                   if month c + d is a quarter's 1st or 2nd month
    P(d | c) = p[d] + q (p[d-1] + p[d-2])     if it is a quarter's last month

Because deals created in different months of the quarter meet the quarter end at
different cycle lengths, ``q`` and the natural cycle ``p`` are separately identified. The
fit is maximum likelihood by EM (the natural month of each win is the missing data),
over the **mature** creation months (created at least the longest cycle + 2 months
before the as-of month, so that every win of those cohorts has booked and no
truncation correction is needed). With steady demand the share of a quarter's bookings
that land in its last month is ``(1 + 2q) / 3``: 1/3 without pull, 60% at q = 0.4.

Uncertainty: a bootstrap of the (creation month, cycle) table of wins, with EM run on
all draws at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..asof import AsOf
from .common import stream

__all__ = ["QuarterFit", "fit_quarter_end_pull", "quarter_position", "pull_em", "MIN_WINS"]

MIN_WINS = 30


def quarter_position(month_number, fiscal_year_start_month: int = 1) -> np.ndarray:
    """0, 1 or 2: a month's place in its fiscal quarter (2 = the quarter's last month)."""
    return (np.asarray(month_number, dtype=np.int64) - (fiscal_year_start_month - 1)) % 3


def _cells(p: np.ndarray, q: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model pieces per cell for natural pmfs ``p`` (B, C), pulls ``q`` (B,) and the last-month mask (M, D).

    Returns (stay, from1, from2), each (B, M, D): the probability of booking at offset d by
    not moving, by a pull from d - 1, and by a pull from d - 2.
    """
    B, C = p.shape
    M, D = last.shape
    pad = np.zeros((B, D + 2))
    pad[:, 2: 2 + C] = p  # pad[:, 2 + d] = p[d]
    p_d, p_d1, p_d2 = pad[:, 2: D + 2], pad[:, 1: D + 1], pad[:, 0: D]
    qq = q[:, None, None]
    stay = np.where(last[None], p_d[:, None, :], p_d[:, None, :] * (1 - qq))
    from1 = np.where(last[None], qq * p_d1[:, None, :], 0.0)
    from2 = np.where(last[None], qq * p_d2[:, None, :], 0.0)
    return stay, from1, from2


def pull_em(counts: np.ndarray, last: np.ndarray, cycle_len: int, iterations: int = 1000,
            tol: float = 1e-7, start: tuple[np.ndarray, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """EM for (natural pmf, pull) from win counts.

    Parameters
    ----------
    counts : (B, M, D) wins by creation cohort and booking offset, for B tables at once
    last : (M, D) bool, True where cohort m's offset d lands in a quarter's last month
    cycle_len : C, length of the natural pmf (D = C + 2)
    start : (p, q) to start from (the bootstrap starts from the estimate); default uniform p, q = 0.3

    Returns
    -------
    p : (B, C) natural cycle pmfs; q : (B,) pulls
    """
    B = counts.shape[0]
    C = cycle_len
    p = np.full((B, C), 1.0 / C) if start is None else np.tile(np.maximum(start[0], 1e-6), (B, 1))
    p /= p.sum(axis=1, keepdims=True)
    q = np.full(B, 0.3 if start is None else max(float(start[1]), 1e-3))
    total = counts.sum(axis=(1, 2))
    for _ in range(iterations):
        stay, from1, from2 = _cells(p, q, last)
        model = stay + from1 + from2
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(model > 0, counts / model, 0.0)
        # expected natural-offset counts: staying at d, or pulled from d-1 / d-2
        natural = (stay * ratio).sum(axis=1)
        natural[:, :-1] += (from1 * ratio).sum(axis=1)[:, 1:]
        natural[:, :-2] += (from2 * ratio).sum(axis=1)[:, 2:]
        pulled = (from1 * ratio).sum(axis=(1, 2)) + (from2 * ratio).sum(axis=(1, 2))
        stayed_early = (stay * ratio * ~last[None]).sum(axis=(1, 2))
        new_p = natural[:, :C] / np.maximum(total[:, None], 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            new_q = np.where(pulled + stayed_early > 0, pulled / (pulled + stayed_early), 0.0)
        change = max(np.max(np.abs(new_p - p)), np.max(np.abs(new_q - q)))
        p, q = new_p, new_q
        if change < tol:
            break
    return p, q


@dataclass
class QuarterFit:
    """One territory's quarter-end pull.

    Attributes
    ----------
    pull : q; pull_draws : (N,)
    natural_cycle : (C,) pmf of the natural cycle (before the pull): the scenario's
        ``sales_cycle_months`` when the pull is written as ``quarter_end_pull``
    natural_cycle_draws : (N, C) its bootstrap draws (joint with ``pull_draws``)
    last_month_share : observed share of wins booked in a quarter's last month
    wins : wins used; cohorts : ``YYYY-MM`` range of the creation months used
    """

    territory: str
    pull: float
    pull_draws: np.ndarray
    natural_cycle: np.ndarray
    natural_cycle_draws: np.ndarray
    last_month_share: float
    wins: int
    cohorts: str


def fit_quarter_end_pull(view: pd.DataFrame, asof: AsOf, territories: list[str], *, fiscal_year_start_month: int = 1,
                         draws: int = 200, seed: int = 0) -> dict[str, QuarterFit]:
    """Fit ``quarter_end_pull`` per territory from won deals (see the module docstring).

    Territories with fewer than 30 wins in mature cohorts are left out of the result.
    """
    out = {}
    created, closed = view["created_m"].to_numpy(), view["closed_m"].to_numpy()
    won = (view["state"] == "won").to_numpy() & np.isfinite(created) & np.isfinite(closed) & (closed <= asof.last_full)
    for name in territories:
        sel = won & (view["territory"] == name).to_numpy() & (created >= asof.first)
        d_all = (closed[sel] - created[sel]).astype(int)
        if len(d_all) < MIN_WINS:
            continue
        C = int(np.quantile(d_all, 0.995)) + 1
        D = C + 2
        newest = asof.last_full - (D - 1)  # cohorts whose every booking offset is observed
        cohort = created[sel].astype(int)
        keep = (cohort <= newest) & (d_all < D)
        if keep.sum() < MIN_WINS:
            continue
        months = np.arange(asof.first, newest + 1)
        counts = np.zeros((len(months), D))
        np.add.at(counts, (cohort[keep] - asof.first, d_all[keep]), 1)
        last = quarter_position(months[:, None] + np.arange(D)[None, :], fiscal_year_start_month) == 2
        p, q = pull_em(counts[None], last, C)
        n = int(counts.sum())
        rng = stream(seed, "quarter_end_pull", name)
        boot = rng.multinomial(n, (counts / n).ravel(), size=draws).reshape(draws, *counts.shape).astype(float)
        p_draws, q_draws = pull_em(boot, last, C, start=(p[0], q[0]))
        share = float((counts * last).sum() / n)
        out[name] = QuarterFit(territory=name, pull=float(q[0]), pull_draws=q_draws, natural_cycle=p[0],
                               natural_cycle_draws=p_draws, last_month_share=share, wins=n,
                               cohorts=f"{asof.label(asof.first)}..{asof.label(newest)}")
    return out

"""Win rate and sales cycle as competing risks: won, lost, or still open.

Every opportunity created in a whole history month is followed in calendar months from
its creation month. It ends won or lost in month ``l`` (an event of one of two competing
types) or is still open at the as-of date (right-censored at its age then: "not closed
yet" is information, not a loss). Dropping open deals would keep only the fast closers;
counting them as losses would ignore that they may still close.

The estimator is Aalen-Johansen on the discrete monthly time scale (``l`` = 0, 1, ...):
with ``R[l]`` deals still open and observed at age ``l``, and ``W[l]``, ``L[l]`` won and
lost at that age, the hazards are ``W/R`` and ``L/R``; ``S[l]``, the share still open at
the start of age ``l``, is the Kaplan-Meier product of ``1 - (W + L)/R``, and the
cumulative incidence of a win is ``F_won(l) = sum_{j <= l} S[j] W[j] / R[j]``. It is
computed from the event table with NumPy because the bootstrap recomputes it for every
draw; the tests check it against lifelines' ``AalenJohansenFitter``.

- ``win_rate`` = F_won at the longest observed age: the probability that an opportunity
  is **eventually** won, which is what the model's win rate means.
- ``sales_cycle_months`` = the increments of F_won divided by the win rate: the months
  from creation to booking among deals that are won. It is cut at the age by which
  99.5% of the wins have happened (the tail is folded into the last entry, so the win
  rate is unchanged).
- Stale deals (open far longer than any normal cycle) never close in the data, so they
  stay in the risk set without events: they lower the hazards at old ages and end up
  with a win probability near zero instead of inflating the forecast.
- ``conditional_win(a)``: among deals still open at age ``a``, the share eventually won,
  ``(F_won(inf) - F_won(a - 1)) / S[a]``. This is the win probability of each open deal
  in the starting pipeline.

Uncertainty: a bootstrap over opportunities, drawn as a multinomial over the cells of the
event table (resampling deals is resampling their (age, outcome) cells), so a million
deals cost no more than a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..asof import AsOf
from .common import FitError, stream

__all__ = ["OutcomeFit", "fit_outcomes", "event_table", "competing_risks", "MIN_CLOSED", "MIN_WON", "COVERAGE"]

MIN_CLOSED = 20
MIN_WON = 5
COVERAGE = 0.995


def event_table(created_m: np.ndarray, closed_m: np.ndarray, state: np.ndarray, last_full: int) -> np.ndarray:
    """Counts of (won, lost, censored) at each age: array (3, A) for ages 0..A-1.

    ``created_m``/``closed_m`` are month numbers (closed NaN when open), ``state`` won /
    lost / open. Events after ``last_full`` are treated as not yet observed.
    """
    closed_in = np.isfinite(closed_m) & (closed_m <= last_full)
    age = np.where(closed_in, closed_m - created_m, last_full - created_m).astype(int)
    kind = np.where(closed_in, np.where(state == "won", 0, 1), 2)
    table = np.zeros((3, int(age.max()) + 2 if len(age) else 1))
    np.add.at(table, (kind, age), 1)
    return table


def competing_risks(table: np.ndarray) -> dict[str, np.ndarray]:
    """Aalen-Johansen estimates from an event table (3, A) or a stack of them (N, 3, A).

    Returns ``at_risk``, ``hazard_won``, ``hazard_lost``, ``open`` (S: share still open at
    the start of each age), ``cif_won`` and ``cif_lost`` (cumulative incidence up to and
    including each age), each shaped like one row of the table.
    """
    won, lost, cens = table[..., 0, :], table[..., 1, :], table[..., 2, :]
    total = won + lost + cens
    at_risk = np.flip(np.cumsum(np.flip(total, -1), -1), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        h_won = np.where(at_risk > 0, won / at_risk, 0.0)
        h_lost = np.where(at_risk > 0, lost / at_risk, 0.0)
    survive = np.cumprod(1.0 - h_won - h_lost, axis=-1)
    S = np.concatenate([np.ones_like(survive[..., :1]), survive[..., :-1]], axis=-1)
    return {"at_risk": at_risk, "hazard_won": h_won, "hazard_lost": h_lost, "open": S,
            "cif_won": np.cumsum(S * h_won, -1), "cif_lost": np.cumsum(S * h_lost, -1)}


def _pmf(cif_won: np.ndarray, cut: int) -> np.ndarray:
    """Cycle pmf 0..cut from cumulative incidence of wins (tail folded into the last entry)."""
    total = cif_won[..., -1:]
    inc = np.diff(cif_won[..., : cut + 1], prepend=0.0, axis=-1)
    inc[..., -1] += total[..., 0] - cif_won[..., cut]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inc / np.where(total > 0, total, 1.0), 1.0 / (cut + 1))


@dataclass
class OutcomeFit:
    """One territory's win rate, cycle and open-deal win probabilities.

    Attributes
    ----------
    win_rate : P(eventually won)
    cycle : (C,) pmf of months from creation to booking among won deals
    win_rate_draws : (N,); cycle_draws : (N, C)
    table : DataFrame by age (months): won, lost, censored, at_risk, open (S), cif_won, cif_lost
    naive_win_rate : won / (won + lost), the estimate that ignores open deals (for comparison)
    deals, closed, open : counts of opportunities used
    """

    territory: str
    win_rate: float
    cycle: np.ndarray
    win_rate_draws: np.ndarray
    cycle_draws: np.ndarray
    table: pd.DataFrame
    naive_win_rate: float
    deals: int
    closed: int
    open: int

    @property
    def max_cycle(self) -> int:
        """Longest cycle of the pmf (months); open deals older than this are stale."""
        return len(self.cycle) - 1

    def conditional_win(self, age) -> np.ndarray:
        """P(eventually won | still open at age ``age`` months), for an array of ages (0 beyond the data)."""
        age = np.asarray(age, dtype=int)
        S = self.table["open"].to_numpy()
        cif = self.table["cif_won"].to_numpy()
        total = cif[-1]
        before = np.where(age >= 1, cif[np.clip(age - 1, 0, len(cif) - 1)], 0.0)
        still = S[np.clip(age, 0, len(S) - 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(still > 0, (total - before) / still, 0.0)
        return np.where(age < len(S), np.clip(p, 0.0, 1.0), 0.0)


def fit_outcomes(view: pd.DataFrame, asof: AsOf, territories: list[str], *, draws: int = 200,
                 seed: int = 0, coverage: float = COVERAGE) -> dict[str, OutcomeFit]:
    """Fit each territory's competing-risks outcome (see the module docstring).

    Raises :class:`FitError` when a territory has fewer than 20 closed or 5 won deals.
    """
    created = view["created_m"].to_numpy()
    use = np.isfinite(created) & (created >= asof.first) & (created <= asof.last_full)
    out = {}
    for name in territories:
        sel = use & (view["territory"] == name).to_numpy()
        state = view["state"].to_numpy()[sel].astype(str)
        table = event_table(created[sel], view["closed_m"].to_numpy()[sel], state, asof.last_full)
        n_won, n_lost = int(table[0].sum()), int(table[1].sum())
        if n_won + n_lost < MIN_CLOSED or n_won < MIN_WON:
            raise FitError(f"territory {name}: {n_won} won and {n_lost} lost deals closed by "
                           f"{asof.label(asof.last_full)}; the win-rate and cycle fits need at least {MIN_CLOSED} "
                           f"closed deals of which {MIN_WON} won (use an earlier --since, a later --as-of, or "
                           f"merge territories)")
        est = competing_risks(table)
        cif = est["cif_won"]
        cut = int(np.argmax(cif >= coverage * cif[-1]))
        n = int(table.sum())
        rng = stream(seed, "outcomes", name)
        boot = rng.multinomial(n, (table / n).ravel(), size=draws).reshape(draws, *table.shape).astype(float)
        cif_d = competing_risks(boot)["cif_won"]
        frame = pd.DataFrame({"won": table[0], "lost": table[1], "censored": table[2], **{
            k: est[k] for k in ("at_risk", "open", "cif_won", "cif_lost", "hazard_won", "hazard_lost")}})
        frame.index.name = "age_months"
        out[name] = OutcomeFit(
            territory=name, win_rate=float(cif[-1]), cycle=_pmf(cif, cut), win_rate_draws=cif_d[:, -1],
            cycle_draws=_pmf(cif_d, cut), table=frame, naive_win_rate=n_won / (n_won + n_lost),
            deals=n, closed=n_won + n_lost, open=int(table[2].sum()))
    return out

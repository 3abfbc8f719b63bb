"""Synthetic ground truth: one simulated trial as a CRM export and a roster.

``history(ds, trial)`` reruns trial ``trial`` of a results Dataset with its deal-level
records (:func:`salessim.engine.trace_trial`, bit for bit the trial of the Dataset) and
writes what a CRM would hold at the end of the horizon. Calibrating on it tests the
fits against parameters known exactly, and it shows a user the format ``calibrate``
reads. The tables are those of :func:`~salessim.crm.synthetic.synthetic_export` (typed
columns), so :func:`~salessim.crm.synthetic.write_export` writes them with a preset's
column names and ``salessim calibrate`` reads them back.

Opportunities (one row per opportunity, ids ``OPP0000001``... in order of creation):

- **won deals** (the trace's deals): created in the month the opportunity was won, owned
  by the seat's occupant of that month; ``Closed Won`` with the close date in the booking
  month (after the cycle and the quarter-end pull) when it booked (to its owner or, the
  owner gone, to the territory); ``Closed Lost`` in that month when its owner left and
  the orphan rule lost it; still open when it was due after the horizon. The amount is
  the deal's simulated value.
- **lost opportunities** are counts in the model (a rep-month's opportunities less its
  wins). Each gets a close date by a documented rule: ``Closed Lost`` L months after its
  creation month, L drawn from the territory's ``sales_cycle_months`` (as written in the
  scenario), or still open when that falls after the horizon. Its amount is a draw from
  the territory's deal size (the model values only won deals; CRMs record an amount on
  every deal, and the weighted-pipeline baseline reads them).
- **deals open at the start** (``pipeline``): created ``age_months`` before ``start``;
  those the trial won are won deals as above; the others are lost ``L - age`` months
  after the start (L from the cycle given L >= age), or still open after the horizon.
  Their amount is the pipeline's, else a deal-size draw. Their owner is the pipeline's.
- Days: created on a uniformly random day of the creation month; closed on a random day
  of the close month, not before the created day. An open deal carries a forecast close
  date (the last day of the month its outcome falls in, after the export date).

Roster (one row per occupant of every seat): ``name`` (:func:`person_name`: the seat's
name, see :meth:`~salessim.Scenario.seat_names`, for its first occupant, ``East rep 3``
for an anonymous seat ``East#3``; ``<name> r<k>`` for its k-th replacement), ``territory``, ``hired`` (the first day of the month the rep started;
starting reps ``tenure0`` months before ``start``), ``left`` (the last day of the month
at whose end the rep left; NaT while in seat).

The export is as of the last day of the horizon. Every random choice (days, lost deals'
cycles and amounts) comes from one stream keyed by (seed, trial), never global state.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import xarray as xr

from ..engine import OUTCOMES, TrialTrace, trace_trial
from ..results import scenario_of
from ..scenario import Scenario
from .synthetic import _OPEN_STAGES, _date_in

__all__ = ["history", "history_of_trace", "export_date", "person_name"]

_BOOKED, _BOOKED_ORPHANED, _LOST_ORPHANED, _AFTER_HORIZON = (OUTCOMES.index(o) for o in OUTCOMES)


def export_date(scenario: Scenario) -> pd.Timestamp:
    """The date a :func:`history` export is taken: the last day of the horizon."""
    y, m = scenario.calendar_months()[-1]
    return pd.Timestamp(year=y, month=m, day=1) + pd.offsets.MonthEnd(0)


def history(ds: xr.Dataset, trial: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trial ``trial`` (a value of ``ds.trial``) of a results Dataset as a CRM export and roster.

    Returns
    -------
    opportunities : DataFrame
        ``id``, ``owner``, ``territory``, ``stage``, ``created``, ``closed`` (datetime64; a
        forecast for open deals), ``amount`` (float), ``won``, ``is_closed`` (bool).
    reps : DataFrame
        ``name``, ``territory``, ``hired``, ``left`` (datetime64, NaT while in seat).

    See the module docstring for every rule.
    """
    trials = ds["trial"].values
    if trial not in trials:
        raise ValueError(f"trial {trial!r} is not in the results (trials {trials[0]}..{trials[-1]})")
    return history_of_trace(trace_trial(scenario_of(ds), int(ds.attrs["seed"]), int(trial)))


def person_name(seat_name: str, occupant: int) -> str:
    """The roster name of a seat's ``occupant``: the seat's name for its first (``East#3`` becomes
    ``East rep 3``, ``hire:2027-06:West#1`` becomes ``West hire 2027-06 1``: a named rep may not
    carry ``#``), then ``<name> r<k>`` for its k-th replacement."""
    if seat_name.startswith("hire:"):
        _, month, rest = seat_name.split(":", 2)
        terr, _, i = rest.rpartition("#")
        base = f"{terr} hire {month} {i}"
    else:
        terr, sep, i = seat_name.rpartition("#")
        base = f"{terr} rep {i}" if sep else seat_name
    return base if occupant == 0 else f"{base} r{occupant}"


def _stream(seed: int, trial: int) -> np.random.Generator:
    purpose = zlib.crc32(b"crm.history")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(trial), purpose])))


def _months(scenario: Scenario, index: np.ndarray) -> np.ndarray:
    """Month indices (from ``start``, any sign) as ``datetime64[M]``."""
    y0, m0 = scenario.start
    return np.datetime64(f"{y0:04d}-{m0:02d}", "M") + np.asarray(index, dtype=np.int64)


def _deal_sizes(territory, n: int, rng: np.random.Generator) -> np.ndarray:
    if territory.deal_empirical is not None:
        return rng.choice(np.asarray(territory.deal_empirical, float), size=n)
    if territory.deal_cv == 0:
        return np.full(n, territory.deal_mean)
    s2 = np.log1p(territory.deal_cv ** 2)
    return rng.lognormal(np.log(territory.deal_mean) - s2 / 2, np.sqrt(s2), n)


def history_of_trace(trace: TrialTrace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`history` of an already computed :class:`~salessim.engine.TrialTrace`."""
    sc = trace.scenario
    h = sc.horizon_months
    rng = _stream(trace.seed, trace.trial)
    terrs = sc.territories
    seat_names = sc.seat_names()
    occ = trace.occupants
    name_of = {(int(s), int(o)): person_name(seat_names[s], int(o)) for s, o in zip(occ["seat"], occ["occupant"])}
    seat_of = {name: s for s, name in enumerate(seat_names)}

    def owners(seat, occupant):
        return np.array([name_of.get((int(s), int(o))) if s >= 0 else None for s, o in zip(seat, occupant)],
                        dtype=object)

    pipeline = sc.spec.pipeline or []
    d = trace.deals
    new = d["pipeline"] < 0
    # won deals, new wins and won open deals alike
    created = np.where(new, d["created"], 0)
    pipe_idx = d["pipeline"][~new]
    created[~new] = [-pipeline[i].age_months for i in pipe_idx]
    owner = owners(d["seat"], d["occupant"])
    def pipeline_owner(i):
        o = pipeline[i].owner
        return name_of.get((seat_of[o], 0), o) if o in seat_of else o

    owner[~new] = [pipeline_owner(i) for i in pipe_idx]
    won_state = np.select([d["outcome"] <= _BOOKED_ORPHANED, d["outcome"] == _LOST_ORPHANED], ["won", "lost"], "open")
    blocks = [dict(created=created, territory=d["territory"], owner=owner, close=d["due"], state=won_state,
                   amount=d["value"], order=np.zeros(len(d)))]

    # lost opportunities of each rep-month: a cycle draw from the territory's pmf
    rm = trace.rep_months
    lost = rm["opportunities"] - rm["wins"]
    rows = np.repeat(np.arange(len(rm)), lost)
    terr = rm["territory"][rows]
    lag = np.zeros(len(rows), dtype=np.int64)
    amount = np.zeros(len(rows))
    for k, t in enumerate(terrs):
        sel = terr == k
        pmf = np.asarray(t.sales_cycle_months, float)
        lag[sel] = rng.choice(len(pmf), size=int(sel.sum()), p=pmf / pmf.sum())
        amount[sel] = _deal_sizes(t, int(sel.sum()), rng)
    close = rm["month"][rows] + lag
    blocks.append(dict(created=rm["month"][rows], territory=terr, owner=owners(rm["seat"][rows], rm["occupant"][rows]),
                       close=close, state=np.where(close < h, "lost", "open"), amount=amount,
                       order=np.ones(len(rows))))

    # open deals at the start the trial did not win: lost by the conditional cycle given their age
    won_pipe = set(pipe_idx.tolist())
    rest = [i for i in range(len(pipeline)) if i not in won_pipe]
    if rest:
        index = {t.name: k for k, t in enumerate(terrs)}
        p_terr = np.array([index[pipeline[i].territory] for i in rest], dtype=np.int64)
        age = np.array([pipeline[i].age_months for i in rest], dtype=np.int64)
        p_close = np.zeros(len(rest), dtype=np.int64)
        p_amount = np.array([np.nan if pipeline[i].amount is None else pipeline[i].amount for i in rest])
        for j in range(len(rest)):
            t = terrs[p_terr[j]]
            pmf = np.asarray(t.sales_cycle_months, float)
            tail = pmf[age[j]:] if age[j] < len(pmf) else np.zeros(0)
            p_close[j] = 0 if tail.sum() <= 0 else int(rng.choice(len(tail), p=tail / tail.sum()))
            if not np.isfinite(p_amount[j]):
                p_amount[j] = _deal_sizes(t, 1, rng)[0]
        blocks.append(dict(created=-age, territory=p_terr, owner=np.array([pipeline_owner(i) for i in rest], object),
                           close=p_close, state=np.where(p_close < h, "lost", "open"), amount=p_amount,
                           order=np.full(len(rest), 2.0)))

    cols = {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}
    # creation order (then won, lost, open-at-start), so ids read like a CRM's
    order = np.lexsort((cols["order"], cols["created"]))
    cols = {key: v[order] for key, v in cols.items()}
    n = len(order)
    created_day = _date_in(_months(sc, cols["created"]), rng)
    state = cols["state"].astype(str)
    is_closed = state != "open"
    close_month = _months(sc, cols["close"])
    close_day = _date_in(close_month, rng, not_before=created_day)
    forecast = ((close_month + 1).astype("datetime64[D]") - 1)  # open: the last day of its expected month
    closed = np.where(is_closed, close_day, np.maximum(forecast, created_day))
    stage = np.where(state == "won", "Closed Won", np.where(state == "lost", "Closed Lost",
                     np.asarray(_OPEN_STAGES, dtype=object)[rng.integers(0, len(_OPEN_STAGES), n)]))
    names = np.array([t.name for t in terrs], dtype=object)
    opps = pd.DataFrame({
        "id": [f"OPP{i + 1:07d}" for i in range(n)],
        "owner": cols["owner"].astype(object),
        "territory": names[cols["territory"].astype(np.int64)],
        "stage": stage,
        "created": created_day.astype("datetime64[ns]"),
        "closed": closed.astype("datetime64[ns]"),
        "amount": np.round(cols["amount"].astype(float), 2),
        "won": state == "won",
        "is_closed": is_closed,
    })
    start_month = occ["start"] - occ["tenure0"]
    hired = _months(sc, start_month).astype("datetime64[D]")
    last = occ["last"]
    left = np.where(last >= 0, (_months(sc, np.maximum(last, 0)) + 1).astype("datetime64[D]") - 1, np.datetime64("NaT"))
    reps = pd.DataFrame({"name": [name_of[(int(s), int(o))] for s, o in zip(occ["seat"], occ["occupant"])],
                         "territory": names[occ["territory"].astype(np.int64)],
                         "hired": hired.astype("datetime64[ns]"), "left": left.astype("datetime64[ns]")})
    return opps, reps

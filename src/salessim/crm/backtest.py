"""``salessim backtest``: how good the forecast was, on the company's own history.

A backtest is calibrate -> simulate -> score, composed from the public pieces (STYLE.md).
For each as-of date (a *window*):

1. :func:`~salessim.crm.calibrate.calibrate` on the rows known on that date (SPEC section
   10: a deal created later does not exist yet, one that closed later was still open), with
   a horizon of ``months``;
2. :func:`~salessim.simulate` the calibrated scenario as written: its roster, the open
   pipeline with age-conditional win probabilities, and its parameter draws (the
   ``uncertainty:`` block), so the forecast carries the fits' uncertainty as well as the
   model's randomness;
3. score the simulated bookings against what actually booked, per territory-month and for
   the company (territory ``"all"``).

**What "actually booked" means.** A deal counts in month m of the window when the export
(the whole file, not the as-of view) says it is won and its close date falls in m. The
months are the scenario's: the first is the month after the as-of month, so with a
mid-month as-of date, deals closed in the rest of that month are in neither the forecast
nor the actuals (calibrate notes it). Won deals without an amount cannot be valued: they
are left out of the actuals and counted in the window's notes (the import lists their
rows). Won deals of a territory the calibration did not have (its first deal came after
the as-of date) are counted in the notes too; the company row has the calibrated
territories only. The export is taken to run to the month of its latest date (created or
closed of a closed deal); a window reaching past it is refused.

**Scores** (per row; the simulated values of a row are its ensemble):

- ``mean``, ``p10``, ``p25``, ``p50``, ``p75``, ``p90``: of the ensemble;
- ``pit``: the mid-PIT, P(X < actual) + P(X = actual) / 2, uniform on [0, 1] when the
  forecast is calibrated (the half weight on ties keeps months where nothing booked, an
  atom at 0, from piling up at 0 or 1);
- ``crps``: the continuous ranked probability score of the ensemble's distribution
  (``scoringrules.crps_ensemble``, its quantile-decomposition estimator: exactly
  E|X - y| - E|X - X'|/2 over the ensemble, in O(m log m)), in money; lower is better, and
  for a point forecast it is the absolute error, so it compares directly with the baselines;
- ``run_rate`` and ``weighted_pipeline``: the two forecasts planners use today.

**Baselines** (per territory, from the rows known on the as-of date):

- run-rate: the mean monthly bookings of the last 3 whole months before the window
  (fewer when the history is shorter), for every month of the window;
- weighted pipeline: the amount of every deal open on the as-of date (deals without an
  amount add nothing) times the historical win rate (won / (won + lost) of the deals closed
  by then), spread evenly over the next quarter (the window's first three months), and the
  run-rate for the months after it.

**Per window** (``Window.metrics``): over the territory-month rows, ``coverage_50`` and
``coverage_80`` (the share of actuals inside the central 50% and 80% intervals, ends
included), ``mean_crps`` and the baselines' ``mae``; the same over the company rows
(``company``); and the window's company total against its own distribution (``total``:
actual, mean, P10, P50, P90, ``inside_80``, PIT). :attr:`Backtest.metrics` pools every
window's rows the same way.

With a Dask ``client`` each window is one task (:func:`salessim.cluster.map_ordered`):
calibration and simulation are pure functions of (export, as-of date, settings, seed), so
the result is bit-identical to the in-process run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..scenario import Scenario, ScenarioError
from .asof import AsOf, known_at, month_label, month_number, resolve_as_of
from .calibrate import _load_base, calibrate
from .importer import CrmData, read_export
from .mapping import CrmError, Mapping

__all__ = ["Backtest", "Window", "backtest", "run_window", "score", "booked", "RUN_RATE_MONTHS",
           "PIPELINE_MONTHS", "ROW_COLUMNS"]

RUN_RATE_MONTHS = 3
"""Whole months before the window whose mean bookings are the run-rate."""
PIPELINE_MONTHS = 3
"""Months (the next quarter) over which the weighted pipeline is spread."""
ROW_COLUMNS = ["territory", "month", "actual", "mean", "p10", "p25", "p50", "p75", "p90", "pit", "crps",
               "run_rate", "weighted_pipeline"]
COMPANY = "all"


@dataclass(frozen=True)
class Settings:
    """What every window of a backtest shares."""

    months: int
    trials: int
    draws: int
    seed: int
    since: object = None
    base: Scenario | None = None


@dataclass
class Window:
    """One as-of date of a backtest.

    Attributes
    ----------
    as_of : the as-of date
    rows : DataFrame of :data:`ROW_COLUMNS`, one row per territory-month and per company
        month (territory ``"all"``); money in the scenario's currency
    metrics : dict (see the module docstring)
    notes : what the reader should know (actuals left out, mid-month as-of, ...)
    currency : the calibrated scenario's currency
    scenario : the calibrated scenario YAML (pipeline inline): ``salessim run`` reruns it
    """

    as_of: pd.Timestamp
    rows: pd.DataFrame
    metrics: dict
    notes: list[str]
    currency: str = "USD"
    scenario: str = field(repr=False, default="")

    def to_dict(self) -> dict:
        """The JSON form: ``{"as_of", "rows", "metrics", "notes"}``."""
        return {"as_of": f"{self.as_of:%Y-%m-%d}", "rows": _records(self.rows), "metrics": self.metrics,
                "notes": list(self.notes)}


@dataclass
class Backtest:
    """Every window of a backtest, the pooled metrics and the monthly bookings of the export.

    Attributes
    ----------
    windows : one :class:`Window` per as-of date, in the order given
    metrics : the window metrics pooled over every window's rows, plus ``windows`` (count)
        and ``totals_inside_80`` (windows whose company total fell inside its P10-P90)
    history : DataFrame, index ``YYYY-MM`` (every month of the export), one column per
        territory: won amounts by close month (what the fan chart draws as actuals)
    currency : the scenarios' currency
    months, trials, seed : the settings
    """

    windows: list[Window]
    metrics: dict
    history: pd.DataFrame
    currency: str
    months: int
    trials: int
    seed: int

    @property
    def rows(self) -> pd.DataFrame:
        """Every window's rows, with an ``as_of`` column first."""
        return pd.concat([w.rows.assign(as_of=f"{w.as_of:%Y-%m-%d}")[["as_of", *ROW_COLUMNS]] for w in self.windows],
                         ignore_index=True)

    def to_dict(self) -> dict:
        """``{"windows": [{"as_of": "YYYY-MM-DD", "rows": [...], "metrics": {...}}], "overall": {...}}``."""
        return {"windows": [w.to_dict() for w in self.windows], "overall": self.metrics,
                "settings": {"months": self.months, "trials": self.trials, "seed": self.seed,
                             "currency": self.currency}}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def plot(self, path: str | Path, dpi: int = 110) -> Path:
        """Write the fan chart (PNG or SVG, from the extension) atomically; see :func:`~salessim.crm.fan.fan_chart`."""
        from .fan import save_fan_chart

        return save_fan_chart(self, path, dpi=dpi)


def _records(rows: pd.DataFrame) -> list[dict]:
    out = []
    for r in rows.itertuples(index=False):
        rec = {}
        for col in ROW_COLUMNS:
            v = getattr(r, col)
            rec[col] = v if isinstance(v, str) else float(v)
        out.append(rec)
    return out


# --------------------------------------------------------------------------- scoring

def score(ensemble: np.ndarray, actual: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of forecasts given as ensembles.

    Parameters
    ----------
    ensemble : (R, M) float, M simulated values of each of R quantities
    actual : (R,) float, what happened

    Returns
    -------
    dict of (R,) arrays: ``mean``, ``p10``, ``p25``, ``p50``, ``p75``, ``p90``, ``pit`` (mid-PIT)
    and ``crps`` (of the ensemble's empirical distribution, by scoringrules)
    """
    import scoringrules

    ensemble = np.asarray(ensemble, float)
    actual = np.asarray(actual, float)
    q = np.quantile(ensemble, [0.1, 0.25, 0.5, 0.75, 0.9], axis=1)
    below = (ensemble < actual[:, None]).mean(axis=1)
    ties = (ensemble == actual[:, None]).mean(axis=1)
    crps = np.asarray(scoringrules.crps_ensemble(actual, ensemble, m_axis=1, estimator="qd", backend="numpy"), float)
    return {"mean": ensemble.mean(axis=1), "p10": q[0], "p25": q[1], "p50": q[2], "p75": q[3], "p90": q[4],
            "pit": below + ties / 2, "crps": crps}


def _inside(rows: pd.DataFrame, lo: str, hi: str) -> np.ndarray:
    return ((rows["actual"] >= rows[lo]) & (rows["actual"] <= rows[hi])).to_numpy()


def _row_metrics(rows: pd.DataFrame) -> dict:
    """Coverage, mean CRPS and baseline MAEs over a set of rows."""
    if not len(rows):
        return {"rows": 0}
    actual = rows["actual"].to_numpy()
    return {
        "rows": int(len(rows)),
        "coverage_50": float(_inside(rows, "p25", "p75").mean()),
        "coverage_80": float(_inside(rows, "p10", "p90").mean()),
        "mean_crps": float(rows["crps"].mean()),
        "baselines": {name: {"mae": float(np.abs(rows[name].to_numpy() - actual).mean())}
                      for name in ("run_rate", "weighted_pipeline")},
    }


def _metrics(rows: pd.DataFrame) -> dict:
    """Window (or pooled) metrics: territory rows at the top level, company rows under ``company``."""
    terr = rows[rows["territory"] != COMPANY]
    out = _row_metrics(terr)
    out["company"] = _row_metrics(rows[rows["territory"] == COMPANY])
    return out


# --------------------------------------------------------------------------- actuals and baselines

def booked(data: CrmData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Won amounts and won deals without an amount, by close month and territory.

    Returns two DataFrames indexed by month number (every month from the first created or
    closed date to the last), one column per territory: the sum of won amounts, and the
    count of won deals whose amount is unknown.
    """
    opps = data.opportunities
    won = (opps["status"] == "won").to_numpy() & opps["closed"].notna().to_numpy()
    months = month_number(opps["closed"][won])
    first, last = _export_span(data)
    index = pd.RangeIndex(first, last + 1)
    terr = opps["territory"][won].to_numpy()
    amount = opps["amount"][won].to_numpy(float)
    frame = pd.DataFrame({"month": months.astype(int), "territory": terr, "amount": amount})
    known = frame[np.isfinite(amount)]
    sums = known.pivot_table(index="month", columns="territory", values="amount", aggfunc="sum", fill_value=0.0)
    missing = frame[~np.isfinite(amount)].groupby(["month", "territory"]).size().unstack(fill_value=0)
    cols = data.territories
    return (sums.reindex(index=index, columns=cols, fill_value=0.0).astype(float),
            missing.reindex(index=index, columns=cols, fill_value=0).astype(int))


def _export_span(data: CrmData) -> tuple[int, int]:
    """First and last month numbers of the export (created dates, and close dates of closed deals)."""
    first, last = _export_dates(data)
    return int(month_number([first])[0]), int(month_number([last])[0])


def _export_dates(data: CrmData) -> tuple[pd.Timestamp, pd.Timestamp]:
    opps = data.opportunities
    closed = opps["closed"].where(opps["status"].isin(["won", "lost"]).to_numpy())
    dates = pd.concat([opps["created"], closed]).dropna()
    return dates.min(), dates.max()


def _baselines(view: pd.DataFrame, asof: AsOf, territories: list[str], months: int) -> dict[str, np.ndarray]:
    """Run-rate and weighted-pipeline forecasts, (territories, months) arrays."""
    state = view["state"].to_numpy()
    closed_m = view["closed_m"].to_numpy()
    terr = view["territory"].to_numpy()
    amount = view["amount"].to_numpy(float)
    first = max(asof.first, asof.last_full - RUN_RATE_MONTHS + 1)
    span = asof.last_full - first + 1
    run = np.zeros((len(territories), months))
    pipe = np.zeros((len(territories), months))
    for i, k in enumerate(territories):
        mine = terr == k
        recent = mine & (state == "won") & (closed_m >= first) & (closed_m <= asof.last_full)
        rate = float(np.nansum(amount[recent])) / span
        won, lost = int((mine & (state == "won")).sum()), int((mine & (state == "lost")).sum())
        win_rate = won / (won + lost) if won + lost else 0.0
        open_amount = float(np.nansum(amount[mine & (state == "open")]))
        run[i] = rate
        pipe[i] = rate
        pipe[i, :PIPELINE_MONTHS] = open_amount * win_rate / PIPELINE_MONTHS
    return {"run_rate": run, "weighted_pipeline": pipe}


# --------------------------------------------------------------------------- one window

def run_window(data: CrmData, settings: Settings, as_of) -> Window:
    """Calibrate on the rows known on ``as_of``, simulate ``settings.months`` and score them.

    A pure function of its arguments (the Dask task of a window). Raises :class:`CrmError`
    naming the as-of date when the calibration cannot be made.
    """
    from ..engine import SimulationError, simulate

    label = as_of if isinstance(as_of, str) else f"{pd.Timestamp(as_of):%Y-%m-%d}"
    try:
        cal = calibrate(None, None, as_of=as_of, data=data, base=settings.base, since=settings.since,
                        horizon=settings.months, draws=settings.draws, seed=settings.seed,
                        name=f"backtest-{label}")
    except CrmError as exc:
        raise CrmError(f"--as-of {label}: {exc}") from None
    text = cal.to_yaml(None)
    try:
        scenario = Scenario.from_dict(cal.scenario)
        ds = simulate(scenario, settings.trials, settings.seed)
    except (ScenarioError, SimulationError) as exc:  # a calibrated scenario is valid by construction
        raise CrmError(f"--as-of {label}: the calibrated scenario cannot be simulated: {exc}") from None
    territories = [str(t) for t in ds["territory"].values]
    sim = ds["bookings"].transpose("territory", "month", "trial").to_numpy()  # (K, M, trials)
    asof = cal.asof
    window = np.arange(asof.start, asof.start + settings.months)
    sums, missing = booked(data)
    actual = sums.reindex(index=window, columns=territories, fill_value=0.0).to_numpy().T  # (K, M)
    base = _baselines(known_at(data, asof), asof, territories, settings.months)

    K, M = actual.shape
    ensemble = np.concatenate([sim.reshape(K * M, -1), sim.sum(axis=0)])
    truth = np.concatenate([actual.ravel(), actual.sum(axis=0)])
    scores = score(ensemble, truth)
    labels = [month_label(m) for m in window]
    rows = pd.DataFrame({
        "territory": [*np.repeat(territories, M), *[COMPANY] * M],
        "month": labels * (K + 1),
        "actual": truth,
        **scores,
        **{name: np.concatenate([v.ravel(), v.sum(axis=0)]) for name, v in base.items()},
    })[ROW_COLUMNS]
    metrics = _metrics(rows)
    total = score(sim.sum(axis=(0, 1))[None], np.array([actual.sum()]))
    metrics["total"] = {"actual": float(actual.sum()), **{k: float(total[k][0]) for k in
                                                          ("mean", "p10", "p50", "p90", "pit")},
                        "inside_80": bool(total["p10"][0] <= actual.sum() <= total["p90"][0])}
    notes = list(cal.notes)
    lost_amounts = int(missing.reindex(index=window, columns=territories, fill_value=0).to_numpy().sum())
    if lost_amounts:
        notes.append(f"{lost_amounts} won deals closed {labels[0]}..{labels[-1]} have no amount: left out of the actuals")
    others = [k for k in sums.columns if k not in territories]
    if others:
        extra = sums.reindex(index=window, columns=others, fill_value=0.0).sum()
        extra = extra[extra > 0]
        if len(extra):
            notes.append("won amounts of territories without history on the as-of date are not in the company rows: "
                         + ", ".join(f"{k} {v:,.0f}" for k, v in extra.items()))
    return Window(as_of=asof.date, rows=rows, metrics=metrics, notes=notes, currency=scenario.spec.currency,
                  scenario=text)


# --------------------------------------------------------------------------- the backtest

def _check_windows(data: CrmData, dates: Sequence, months: int, since) -> list[AsOf]:
    if not len(dates):
        raise CrmError("give at least one --as-of date")
    if months < 1:
        raise CrmError(f"--months must be at least 1, got {months}")
    _, last_date = _export_dates(data)
    last = int(month_number([last_date])[0])
    grids, seen = [], {}
    for d in dates:
        try:
            asof = resolve_as_of(d, data, since)
        except CrmError as exc:
            text = str(exc)
            raise CrmError(text if text.startswith("--as-of") else f"--as-of {d}: {text}") from None
        if asof.date in seen:
            raise CrmError(f"--as-of {d} is given twice (as {seen[asof.date]!r} too)")
        seen[asof.date] = d
        end = asof.start + months - 1
        if end > last:
            raise CrmError(f"--as-of {asof.date:%Y-%m-%d} with --months {months} runs to {month_label(end)}, but "
                           f"{data.files['opportunities']} ends in {month_label(last)} (its latest date is "
                           f"{last_date:%Y-%m-%d}): nothing says what booked after that; use an earlier --as-of "
                           f"or fewer --months")
        grids.append(asof)
    return grids


def backtest(opportunities: str | Path | None, reps: str | Path | None = None, *, as_of, months: int,
             preset: str | None = None, mapping: Mapping | str | Path | None = None,
             base: Scenario | str | Path | None = None, since=None, trials: int = 2000, draws: int = 200,
             seed: int = 0, date_format: str | None = None, data: CrmData | None = None, client=None,
             progress: Callable[[int, int], None] | None = None) -> Backtest:
    """Backtest the calibrated forecast at one or more as-of dates (SPEC section 10).

    Parameters
    ----------
    opportunities, reps, preset, mapping, date_format : the export, as for :func:`~salessim.crm.calibrate`
    as_of : a date (``YYYY-MM-DD``, or ``YYYY-MM`` for that month's end) or a list of them
    months : months simulated and scored after each as-of month
    base, since, draws : as for :func:`~salessim.crm.calibrate`
    trials : simulated futures per window
    seed : seed of the calibration draws and of the simulation (the same in every window)
    data : an already imported export (skips reading the files)
    client : a ``dask.distributed.Client``: one task per window, same bits as in-process
    progress : called as ``progress(windows done, windows)``

    Raises
    ------
    CrmError
        Unreadable export, a window reaching past the export's last month, too little data
        for a calibration (naming the as-of date).
    """
    if trials < 2:
        raise CrmError(f"trials must be at least 2, got {trials}")
    dates = [as_of] if isinstance(as_of, (str, pd.Timestamp)) or not isinstance(as_of, Sequence) else list(as_of)
    data = data if data is not None else read_export(opportunities, reps, preset=preset, mapping=mapping,
                                                     date_format=date_format)
    _check_windows(data, dates, months, since)
    settings = Settings(months=int(months), trials=int(trials), draws=int(draws), seed=int(seed), since=since,
                        base=_load_base(base))
    items = [(d,) for d in dates]
    if client is not None:
        from ..cluster import map_ordered

        results = map_ordered(client, run_window, items, shared=(data, settings))
    else:
        results = (run_window(data, settings, *item) for item in items)
    windows = []
    for w in results:
        windows.append(w)
        if progress is not None:
            progress(len(windows), len(items))
    rows = pd.concat([w.rows for w in windows], ignore_index=True)
    metrics = {"windows": len(windows), **_metrics(rows),
               "totals_inside_80": int(sum(w.metrics["total"]["inside_80"] for w in windows))}
    sums, _ = booked(data)
    history = sums.copy()
    history.index = [month_label(m) for m in history.index]
    return Backtest(windows=windows, metrics=metrics, history=history, currency=windows[0].currency, months=settings.months,
                    trials=settings.trials, seed=settings.seed)

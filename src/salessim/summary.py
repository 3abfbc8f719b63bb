"""Summary statistics of a results Dataset: one row per metric, period and territory.

Every row gives the Monte Carlo mean, its standard error (sd / sqrt(trials with a
value); with ``trials_per_draw`` > 1, the cluster-robust error over parameter draws) and
the 10th, 50th and 90th percentiles across trials.

The statistics are NumPy over plain arrays: they read a results ``xarray.Dataset`` or a
run's :class:`~salessim.engine.ResultParts` alike (:class:`_Results`), so ``salessim run``
summarises the kernel's arrays before any Dataset exists, and pandas is imported only
for the :func:`summarize` DataFrame.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from .derived import DERIVED, year_totals
from .mcstats import grouped_se, variance_split

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["summarize", "trial_values", "frame", "summary_rows", "rows_of_parts", "SummaryAccumulator", "COLUMNS",
           "fiscal_year_masks", "has_economics", "actual_bookings", "trial_groups", "seat_stats"]

COLUMNS = ["metric", "period", "territory", "unit", "mean", "se", "p10", "p50", "p90", "trials", "section"]
ALL = "all"


class _Results:
    """What the summary reads of a results Dataset or of :class:`~salessim.engine.ResultParts`:
    arrays by name (data variables and coordinates), their dims and attributes, the file's attributes."""

    def __init__(self, source):
        if isinstance(source, _Results):
            source = source.source
        self.source = source
        self.parts = hasattr(source, "data_vars") and isinstance(source.data_vars, dict)  # ResultParts
        self.attrs = source.attrs

    def __contains__(self, name: str) -> bool:
        if self.parts:
            return name in self.source.data_vars or name in self.source.coords
        return name in self.source.variables

    def is_coord(self, name: str) -> bool:
        return name in self.source.coords

    def _entry(self, name: str) -> tuple:
        if self.parts:
            return self.source.data_vars[name] if name in self.source.data_vars else self.source.coords[name]
        var = self.source[name]
        return var.dims, var, var.attrs

    def values(self, name: str) -> np.ndarray:
        data = self._entry(name)[1]
        return np.asarray(data) if self.parts else data.values

    def dims(self, name: str) -> tuple[str, ...]:
        return tuple(self._entry(name)[0]) if self.parts else self.source[name].dims

    def var_attrs(self, name: str) -> dict:
        return self._entry(name)[2]

    def size(self, dim: str) -> int:
        if self.parts:
            for dims, data, _ in (*self.source.data_vars.values(), *self.source.coords.values()):
                if dim in dims:
                    return np.shape(data)[tuple(dims).index(dim)]
            raise KeyError(dim)
        return self.source.sizes[dim]

    def year(self, name: str, y: int) -> np.ndarray:
        """Values of a variable in the y-th fiscal year (its ``fiscal_year`` axis taken at y)."""
        return np.take(self.values(name), y, axis=self.dims(name).index("fiscal_year"))


def fiscal_year_masks(ds: xr.Dataset) -> dict[int, np.ndarray]:
    """Month positions of each fiscal year with figures, from the ``fiscal_year_of_month``
    coordinate (none for a ``--keep yearly`` Dataset, which has no months)."""
    r = _Results(ds)
    years = r.values("fiscal_year")
    if not ("fiscal_year_of_month" in r and r.is_coord("fiscal_year_of_month")):
        return {int(fy): np.zeros(0, dtype=np.int64) for fy in years}
    of_month = r.values("fiscal_year_of_month")
    return {int(fy): np.nonzero(of_month == fy)[0] for fy in years}


@functools.lru_cache(maxsize=8)
def _scenario_from_text(text: str):
    from .scenario import Scenario

    return Scenario.from_yaml(text, source="results file")


def scenario_of(ds: xr.Dataset):
    """The results' scenario, parsed once per text (a summary reads it several times; a stored
    scenario with a large open pipeline takes tens of milliseconds to validate)."""
    return _scenario_from_text(ds.attrs["scenario"])


def actual_bookings(ds: xr.Dataset) -> dict[int, float]:
    """Company bookings before the first simulated month in each fiscal year (actuals; 0 if none).

    A fiscal year's bookings are these plus the sum of its simulated months: every reader
    that totals a year's bookings adds them (results files older than 0.2 have none).
    """
    r = _Results(ds)
    years = r.values("fiscal_year")
    if "actual_bookings" not in r:
        return {int(fy): 0.0 for fy in years}
    values = r.values("actual_bookings").sum(axis=r.dims("actual_bookings").index("territory"))
    return {int(fy): float(v) for fy, v in zip(years, values)}


def trial_groups(ds: xr.Dataset) -> np.ndarray | None:
    """The parameter draw of each trial when draws are shared by several trials (trials_per_draw > 1), else None."""
    r = _Results(ds)
    if "parameter_draw" not in r:
        return None
    draws = r.values("parameter_draw")
    return draws if np.unique(draws).size < draws.size else None


def seat_stats(att: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per trial, from attainment (trial, seat): share of filled seats at >= 100%, mean attainment."""
    filled = np.isfinite(att)
    n_filled = filled.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_filled > 0, ((att >= 1.0) & filled).sum(axis=1) / np.maximum(n_filled, 1), np.nan)
        mean_att = np.where(n_filled > 0, np.nansum(att, axis=1) / np.maximum(n_filled, 1), np.nan)
    return share, mean_att


def _is_lazy(ds: xr.Dataset) -> bool:
    """True for a dask-backed Dataset (``open_results(path, chunks=...)``)."""
    return any(v.chunks is not None for v in ds.data_vars.values())


def _row(metric: str, period: str, territory: str, unit: str, values: np.ndarray,
         groups: np.ndarray | None = None) -> dict:
    v = np.asarray(values, dtype=np.float64)
    grouped = groups is not None and v.size == np.asarray(groups).size and v.size > 1
    if grouped:
        se_grouped = grouped_se(v, groups)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        mean = se = p10 = p50 = p90 = np.nan
    else:
        mean = float(v.mean())
        se = float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        if grouped:
            se = se_grouped
        p10, p50, p90 = (float(x) for x in np.percentile(v, [10, 50, 90]))
    return {"metric": metric, "period": period, "territory": territory, "unit": unit,
            "mean": mean, "se": se, "p10": p10, "p50": p50, "p90": p90, "trials": n}


def has_economics(ds: xr.Dataset) -> bool:
    """True when the scenario has costs or recurring revenue to report (older files have neither)."""
    r = _Results(ds)
    if not all(name in r for name in ("commission", "revenue_new", "revenue_existing")):
        return False
    for t in scenario_of(ds).territories:
        costs = (t.base_salary_annual, t.variable_annual, t.hiring_cost, t.overhead_per_rep_month, t.cost_of_sale_rate)
        if any(c > 0 for c in costs) or t.revenue_model == "recurring" or t.commission.rate:
            return True
    return False


def _territory_terms(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per territory: gross margin and expected customer lifetime in years (1 purchase for one_time)."""
    terrs = scenario_of(ds).territories
    margin = np.array([t.gross_margin for t in terrs])
    with np.errstate(divide="ignore"):
        life = np.array([(1.0 / t.churn_annual if t.churn_annual > 0 else np.inf) if t.revenue_model == "recurring" else 1.0
                         for t in terrs])
    return margin, life


def summarize(ds: xr.Dataset) -> pd.DataFrame:
    """Headline metrics per fiscal year (and per territory), across trials.

    Each row has a ``section``: ``goal``, ``team``, ``funnel``, ``economics`` (when the run
    has costs or recurring revenue) or ``territory``. ``period`` is ``FY<year>``, or
    ``horizon`` for whole-run figures. Metrics:

    - goal: ``bookings``, ``goal``, ``goal_attainment`` (bookings / goal), ``p_goal``
      (P(bookings >= goal), the mean of a 0/1 indicator), ``bookings_growth`` (on the
      previous fiscal year), ``pipeline_end``; for the fiscal year in progress at the start
      (with ``actuals``) bookings are the actuals plus the simulated months, and
      ``bookings_actual`` shows the actuals; with an open pipeline ``bookings_from_pipeline``
      and ``bookings_from_new`` split the simulated bookings into the deals open at the start
      and the opportunities created in the run
    - team: ``reps_at_quota`` (share of filled seats whose rep attained >= 100%),
      ``rep_attainment`` (mean over filled seats), ``headcount_end``, ``ramped_fte_end``
      (in the year's last month), ``hires``, ``departures``
    - funnel: ``leads``, ``leads_unworked``, ``opportunities``, ``wins``, ``new_customers``,
      ``conversion`` (new customers / leads)
    - economics: ``sales_cost`` (total cost of sales) and its parts ``base_pay``,
      ``commission``, ``hiring_cost``, ``overhead``, ``cost_of_sale``; ``cost_share``
      (sales cost / bookings); ``revenue`` = ``revenue_new`` + ``revenue_existing``;
      ``net_contribution`` (revenue - sales cost); ``cac`` (sales cost per new customer);
      ``ltv`` (gross margin x value per new customer x expected life: ARR x 1/churn years
      for recurring, the deal once for one_time; NaN with zero churn); ``ltv_cac``;
      ``arr_end`` and ``arr_growth`` (ARR at the year's end, on the previous year's end or
      on the starting ARR)
    - territory (per territory): ``leads``, ``opportunities``, ``new_customers`` (new
      accounts), ``conversion``, ``bookings``, and with economics ``net_contribution``
    - parameters (with uncertain parameters): each drawn parameter's values across trials
      (period ``draws``)
    - uncertainty (with ``trials_per_draw`` > 1): :func:`uncertainty_rows`

    With ``trials_per_draw`` > 1 every standard error is cluster-robust over parameter draws.
    Team and funnel figures of a fiscal year in progress cover its simulated months only.

    A lazy (dask-backed) Dataset is summarised one chunk of trials at a time, so a file
    larger than memory can be summarised; a ``--keep yearly`` Dataset gives the same
    table as the full one it was reduced from.
    """
    if _is_lazy(ds):
        acc = SummaryAccumulator(ds.sizes["trial"])
        start = 0
        for n in ds.chunks.get("trial") or (ds.sizes["trial"],):
            acc.add(ds.isel(trial=slice(start, start + n)).load())
            start += n
        return acc.frame()
    return frame(trial_values(ds), trial_groups(ds))


def rows_of_parts(parts) -> list[dict]:
    """The rows of :func:`summarize` (as dicts, in its order) of a run's
    :class:`~salessim.engine.ResultParts`: the same figures, without xarray or pandas."""
    return summary_rows(trial_values(parts), trial_groups(parts))


def summary_rows(items: list[dict], groups: np.ndarray | None = None) -> list[dict]:
    """Summary rows (mean, SE, percentiles), one dict per row, of :func:`trial_values` items.

    ``groups`` (the parameter draw of each trial, :func:`trial_groups`) makes the standard
    errors cluster-robust and adds the ``uncertainty`` section (:func:`uncertainty_rows`).
    """
    rows = [{"section": i["section"], **_row(i["metric"], i["period"], i["territory"], i["unit"], i["values"],
                                              None if i["constant"] else groups)} for i in items]
    if groups is not None:
        rows += uncertainty_rows(items, groups)
    return [{c: row[c] for c in COLUMNS} for row in rows]


def frame(items: list[dict], groups: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`summary_rows` as a DataFrame (columns :data:`COLUMNS`)."""
    import pandas as pd

    return pd.DataFrame(summary_rows(items, groups), columns=COLUMNS)


def uncertainty_rows(items: list[dict], groups: np.ndarray) -> list[dict]:
    """The ``uncertainty`` section: bookings and P(goal) per fiscal year, their variance split by
    the law of total variance into parameter uncertainty and in-future randomness.

    Rows per metric m and year: ``m_sd_total``, ``m_sd_parameter`` (sd of E[m | parameters]
    across draws, bias-corrected), ``m_sd_future`` (sqrt of E[Var(m | parameters)]) and
    ``m_parameter_share`` (the parameters' share of the variance). ``mean`` holds the
    estimate and ``se`` its delete-one-draw jackknife standard error (for the sds, by the
    delta method); ``trials`` the trials used. Percentiles do not apply (NaN).
    """
    rows = []
    for item in items:
        if item["section"] != "goal" or item["territory"] != ALL or item["metric"] not in ("bookings", "p_goal"):
            continue
        split = variance_split(item["values"], groups)
        if split is None:
            continue
        metric, unit = item["metric"], item["unit"]

        def add(name, value, se, row_unit):
            rows.append({"section": "uncertainty", "metric": f"{metric}_{name}", "period": item["period"], "territory": ALL,
                         "unit": row_unit, "mean": value, "se": se, "p10": np.nan, "p50": np.nan, "p90": np.nan,
                         "trials": split["trials"]})

        for name, var in (("sd_total", "total"), ("sd_parameter", "parameter"), ("sd_future", "future")):
            value = float(np.sqrt(max(split[var], 0.0)))
            se = split[f"{var}_se"] / (2 * value) if value > 0 else np.nan  # delta method: d sqrt(x) = dx / (2 sqrt x)
            add(name, value, se, unit)
        add("parameter_share", split["share"], split["share_se"], "fraction")
    return rows


def _month_sum(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[:, idx, :].sum(axis=1)`` (trials, territories), bit for bit, without copying the months.

    ``values`` is (trial, month, territory), ``idx`` a fiscal year's month positions. With
    more than one territory NumPy's sum adds the months one after another (its inner loop
    runs over the few territories), so adding whole (trial, territory) slices month by month,
    in the same order and from zero, gives the same floats, without the fancy-indexed copy
    (the baseline's ``trial_values``: 0.18 -> 0.14 s); with one territory NumPy sums each
    trial's contiguous months pairwise, so that case keeps ``sum``.
    """
    if values.shape[2] < 2 or idx.size < 2 or np.any(np.diff(idx) != 1):
        return values[:, idx, :].sum(axis=1)
    # from zero, as sum does (so an all -0.0 year gives +0.0), in sum's dtype (int32 -> int64)
    total = np.zeros((values.shape[0], values.shape[2]), dtype=np.result_type(values.dtype.type(0).sum()))
    for m in range(int(idx[0]), int(idx[-1]) + 1):
        total += values[:, m, :]
    return total


def trial_values(ds: xr.Dataset) -> list[dict]:
    """Every summary metric as one value per trial (``values``), with its labels.

    The metrics of :func:`summarize`; each is a function of one trial, so the values of
    a run split into chunks of trials are the chunks' values concatenated (which is how
    streamed runs are summarised). ``constant`` items (the goal) hold a single value.
    """
    ds = _Results(ds)
    currency = ds.attrs.get("currency", ds.var_attrs("bookings").get("units", ""))
    rows: list[dict] = []
    terr = [str(t) for t in ds.values("territory")]
    econ = has_economics(ds)

    def add(section, metric, period, unit, values, territory=ALL):
        rows.append({"section": section, "metric": metric, "period": period, "territory": territory, "unit": unit,
                     "values": np.asarray(values, dtype=np.float64), "constant": metric in ("goal", "bookings_actual")})

    sums: dict[tuple[str, int], np.ndarray] = {}
    monthly = "month" in ds.dims("bookings")

    def fy_sum(name, idx):  # (trials, territories); ``y`` is the fiscal year's position in the loop below
        if name in DERIVED and monthly:  # from the totals of what they are computed from, stored or not
            if (name, y) not in sums:
                sums.update({(n, y): v for n, v in year_totals(lambda n: fy_sum(n, idx), scenario_of(ds)).items()})
            return sums[name, y]
        if "month" not in ds.dims(name):  # a --keep yearly Dataset holds the fiscal-year totals
            return ds.year(name, y)
        if (name, y) not in sums:  # several rows read the same year's totals (funnel and territory sections)
            sums[name, y] = _month_sum(ds.values(name), idx)
        return sums[name, y]

    def fy_end(name, last):  # (trials, territories) in the fiscal year's last month
        if "month" not in ds.dims(name):
            return ds.year(name, y)
        return ds.values(name)[:, last, :]

    actuals = actual_bookings(ds)
    actual_by_terr = ds.values("actual_bookings") if "actual_bookings" in ds else None
    has_pipeline = "bookings_from_pipeline" in ds and bool(scenario_of(ds).spec.pipeline)

    if econ:
        margin, life = _territory_terms(ds)
        arr_prev = _starting_arr(ds)
    bookings_prev = None
    for y, (fy, idx) in enumerate(fiscal_year_masks(ds).items()):
        period = f"FY{fy}"
        by_terr = fy_sum("bookings", idx)
        if actual_by_terr is not None:
            by_terr = by_terr + actual_by_terr[y][None, :]  # the year's bookings before the start (actuals)
        total = by_terr.sum(axis=1)
        goal = float(ds.year("goal", y))
        add("goal", "bookings", period, currency, total)
        if actuals[fy] != 0.0:
            add("goal", "bookings_actual", period, currency, np.full(1, actuals[fy]))
        if has_pipeline:
            from_pipeline = fy_sum("bookings_from_pipeline", idx).sum(axis=1)
            add("goal", "bookings_from_pipeline", period, currency, from_pipeline)
            add("goal", "bookings_from_new", period, currency, total - actuals[fy] - from_pipeline)
        add("goal", "goal", period, currency, np.full(1, goal))
        if goal > 0:
            add("goal", "goal_attainment", period, "fraction", total / goal)
        add("goal", "p_goal", period, "probability", (total >= goal).astype(np.float64))
        if bookings_prev is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                add("goal", "bookings_growth", period, "fraction", total / bookings_prev - 1.0)
        bookings_prev = total

        if "reps_at_quota" in ds:  # --keep yearly: computed from full-precision attainment
            share = ds.year("reps_at_quota", y)
            mean_att = ds.year("rep_attainment", y)
        else:
            share, mean_att = seat_stats(ds.year("attainment", y))  # (n, S)
        add("team", "reps_at_quota", period, "fraction", share)
        add("team", "rep_attainment", period, "fraction", mean_att)
        last = idx[-1] if idx.size else None
        add("team", "headcount_end", period, "reps", fy_end("headcount", last).sum(axis=1))
        add("team", "ramped_fte_end", period, "FTE", fy_end("ramped_fte", last).sum(axis=1))
        add("team", "hires", period, "reps", fy_sum("hires", idx).sum(axis=1))
        add("team", "departures", period, "reps", fy_sum("departures", idx).sum(axis=1))

        leads = fy_sum("leads", idx)
        customers = fy_sum("new_customers", idx) if "new_customers" in ds else None
        for name, unit in [("leads", "leads"), ("leads_unworked", "leads"), ("opportunities", "opportunities"), ("wins", "deals")]:
            add("funnel", name, period, unit, fy_sum(name, idx).sum(axis=1))
        if customers is not None:
            add("funnel", "new_customers", period, "customers", customers.sum(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                add("funnel", "conversion", period, "fraction", customers.sum(axis=1) / leads.sum(axis=1))

        if econ:
            cost = fy_sum("sales_cost", idx)
            revenue = fy_sum("revenue", idx)
            add("economics", "sales_cost", period, currency, cost.sum(axis=1))
            for part in ("base_pay", "commission", "hiring_cost", "overhead", "cost_of_sale"):
                add("economics", part, period, currency, fy_sum(part, idx).sum(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                add("economics", "cost_share", period, "fraction", cost.sum(axis=1) / total)
                add("economics", "revenue", period, currency, revenue.sum(axis=1))
                add("economics", "revenue_new", period, currency, fy_sum("revenue_new", idx).sum(axis=1))
                add("economics", "revenue_existing", period, currency, fy_sum("revenue_existing", idx).sum(axis=1))
                add("economics", "net_contribution", period, currency, revenue.sum(axis=1) - cost.sum(axis=1))
                n_new = customers.sum(axis=1)
                cac = cost.sum(axis=1) / n_new
                ltv = (margin[None, :] * by_terr * life[None, :]).sum(axis=1) / n_new
                add("economics", "cac", period, currency, cac)
                add("economics", "ltv", period, currency, ltv)
                add("economics", "ltv_cac", period, "ratio", ltv / cac)
                arr_end = fy_end("arr", last).sum(axis=1)
                add("economics", "arr_end", period, currency + "/year", arr_end)
                if np.any(arr_prev > 0):
                    add("economics", "arr_growth", period, "fraction", arr_end / arr_prev - 1.0)
                arr_prev = arr_end

        for k, name in enumerate(terr):
            add("territory", "leads", period, "leads", leads[:, k], name)
            add("territory", "opportunities", period, "opportunities", fy_sum("opportunities", idx)[:, k], name)
            if customers is not None:
                add("territory", "new_customers", period, "customers", customers[:, k], name)
                with np.errstate(divide="ignore", invalid="ignore"):
                    add("territory", "conversion", period, "fraction", customers[:, k] / leads[:, k], name)
            add("territory", "bookings", period, currency, by_terr[:, k], name)
            if econ:
                net = fy_sum("revenue", idx)[:, k] - fy_sum("sales_cost", idx)[:, k]
                add("territory", "net_contribution", period, currency, net, name)
    add("goal", "pipeline_end", "horizon", currency, ds.values("pipeline_end").sum(axis=1))
    if "parameter_value" in ds:  # the uncertain parameters' drawn values, as the trials used them
        units = (ds.values("parameter_unit") if "parameter_unit" in ds and ds.is_coord("parameter_unit")
                 else ["value"] * ds.size("parameter"))
        values = ds.values("parameter_value")
        for j, (name, unit) in enumerate(zip(ds.values("parameter"), units)):
            add("parameters", str(name), "draws", str(unit), values[:, j])
    return rows


class SummaryAccumulator:
    """Summary of a run seen chunk by chunk.

    Per-trial values are kept as float64 while that takes under 256 MB, else as float32
    (about 0.6 GB for the baseline at a million trials), which rounds each trial's value
    by at most 6e-8 relative: far below the Monte Carlo error of any row. Beyond
    ``RAM_BUDGET`` they go to an anonymous temporary file (memory-mapped, in ``TMPDIR``,
    deleted when closed or killed), and :meth:`frame` reads one metric at a time: memory
    then stays near 20 bytes per trial (10^8 trials: about 2 GB), not 4 bytes per trial
    per metric.
    """

    FLOAT64_BUDGET = 256 * 2**20
    RAM_BUDGET = 1024 * 2**20

    def __init__(self, trials: int):
        self.trials = trials
        self.items: list[dict] | None = None
        self.values: np.ndarray | None = None
        self.filled = 0
        self.draws: np.ndarray | None = None  # parameter draw of each trial (uncertain runs)

    def add(self, ds: xr.Dataset) -> None:
        r = _Results(ds)
        draws = r.values("parameter_draw") if "parameter_draw" in r else None
        self.add_items(trial_values(ds), r.size("trial"), draws)

    def add_items(self, items: list[dict], n: int, draws: np.ndarray | None = None) -> None:
        """Add the :func:`trial_values` of the next ``n`` trials (computed elsewhere, e.g. on a
        worker), with their parameter draws when the run has uncertain parameters."""
        if self.items is None:
            self.items = [{k: v for k, v in i.items() if k != "values"} | ({"values": i["values"]} if i["constant"] else {})
                          for i in items]
            exact = len(items) * self.trials * 8 <= self.FLOAT64_BUDGET
            dtype = np.float64 if exact else np.float32
            shape = (len(items), self.trials)
            if len(items) * self.trials * np.dtype(dtype).itemsize <= self.RAM_BUDGET:
                self.values = np.empty(shape, dtype=dtype)
            else:
                import tempfile

                self.values = np.memmap(tempfile.TemporaryFile(prefix="salessim-summary-"), dtype=dtype,
                                        mode="w+", shape=shape)
        keys = [(i["section"], i["metric"], i["period"], i["territory"]) for i in items]
        if keys != [(i["section"], i["metric"], i["period"], i["territory"]) for i in self.items]:
            raise ValueError("chunks of one run gave different summary rows")
        for r, item in enumerate(items):
            if not item["constant"]:
                self.values[r, self.filled : self.filled + n] = item["values"]
        if draws is not None:
            if self.draws is None:
                self.draws = np.empty(self.trials, dtype=np.int64)
            self.draws[self.filled : self.filled + n] = draws
        self.filled += n

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        assert self.items is not None and self.filled == self.trials
        groups = self.draws if self.draws is not None and np.unique(self.draws).size < self.draws.size else None
        rows = []
        split = []
        for r, item in enumerate(self.items):  # one row's float64 copy at a time
            values = item["values"] if item["constant"] else self.values[r].astype(np.float64)
            rows.append({"section": item["section"],
                         **_row(item["metric"], item["period"], item["territory"], item["unit"], values,
                                None if item["constant"] else groups)})
            if groups is not None and item["section"] == "goal" and item["metric"] in ("bookings", "p_goal"):
                split.append(item | {"values": values})
        if groups is not None:
            rows += uncertainty_rows(split, groups)
        return pd.DataFrame(rows, columns=COLUMNS)


def _starting_arr(ds: xr.Dataset) -> np.ndarray:
    """Company ARR before the first simulated month (the existing ARR), per trial."""
    start = sum(t.existing_arr for t in scenario_of(ds).territories)
    return np.full(_Results(ds).size("trial"), start, dtype=np.float64)

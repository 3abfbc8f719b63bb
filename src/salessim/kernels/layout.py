"""The kernel's inputs and outputs, grouped by role: one typed named tuple per group.

Numba passes these named tuples of arrays into ``@njit`` functions as they are (each is
one type, whatever the sizes), so the model's inputs are written out once, here, and
adding one means adding a field to its group, filling it in
:func:`salessim.inputs.build_inputs` and reading it in the kernel.

Shapes: D parameter draws (1 without uncertain parameters), H months, K territories, S
seats, Y fiscal years with figures, N open deals at the start, n trials in a chunk.
Money is in the scenario currency; rates are per month unless a name says otherwise.
Every array is C-contiguous (one compiled kernel for every run).

The groups marked *per draw* carry a leading draw axis: trial ``i`` of a chunk reads row
``rows[i]`` of each of them, so uncertain parameters (two-level Monte Carlo) change
nothing but which row a trial reads. Without uncertainty D = 1 and every trial reads row 0.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["Market", "TerritoryParams", "TerritoryRules", "Calendar", "Seats", "Pipeline", "Outputs", "Trace"]


class Market(NamedTuple):
    """Demand and shocks shared by all territories (per draw)."""

    lead_mean: np.ndarray  # (D, H, K) float64: expected leads before downturns (seasonality x growth x leads_per_month)
    downturn_p_month: np.ndarray  # (D,) float64: chance a downturn starts in a month not already in one
    downturn_months: np.ndarray  # (D,) int64: duration of a downturn
    downturn_lead_mult: np.ndarray  # (D,) float64
    downturn_win_mult: np.ndarray  # (D,) float64


class TerritoryParams(NamedTuple):
    """Per-territory parameters that may be uncertain (per draw)."""

    p_opp: np.ndarray  # (D, K) lead -> opportunity
    win_rate: np.ndarray  # (D, K) opportunity -> win, before skill and downturn
    capacity: np.ndarray  # (D, K) leads a fully ramped rep can work per month; inf = unlimited
    skill_sigma: np.ndarray  # (D, K) log-sd of skill
    deal_mu: np.ndarray  # (D, K) lognormal mu of deal value
    deal_sigma: np.ndarray  # (D, K) lognormal sigma of deal value
    orphan_rate: np.ndarray  # (D, K) chance an orphaned won deal still books
    quarter_pull: np.ndarray  # (D, K) chance a deal due in a quarter's first two months books in its last month
    cycle_cdf: np.ndarray  # (D, K, L) CDF of months from win to booking, padded with 1
    cycle_len: np.ndarray  # (D, K) int64 entries of each cycle CDF
    fill_cdf: np.ndarray  # (D, K, F) CDF of months from departure to the replacement's start
    fill_len: np.ndarray  # (D, K) int64
    band_hazard: np.ndarray  # (D, K, B) monthly cumulative hazard -log(1 - h) of each attrition band (inf if h = 1)
    churn_month: np.ndarray  # (D, K) monthly customer churn probability
    expansion_month: np.ndarray  # (D, K) monthly growth of retained ARR


class TerritoryRules(NamedTuple):
    """Per-territory rules and plans that are never uncertain."""

    quota_month: np.ndarray  # (K,) monthly quota of a ramped rep
    quota_ramped: np.ndarray  # (K,) uint8: quota follows ramp
    backfill: np.ndarray  # (K,) uint8
    ramp: np.ndarray  # (K, R) productivity by tenure month, padded
    ramp_len: np.ndarray  # (K,) int64
    band_until: np.ndarray  # (K, B) int64 tenure month where each attrition band ends (NEVER on the last)
    band_count: np.ndarray  # (K,) int64
    commission_rate: np.ndarray  # (K,) base commission rate on bookings
    tier_lo: np.ndarray  # (K, T) attainment where each commission tier starts (first 0), padded
    tier_mult: np.ndarray  # (K, T) multiple of the base rate in each tier
    tier_count: np.ndarray  # (K,) int64
    commission_cap: np.ndarray  # (K,) most a period pays, as a multiple of rate x quota; inf = no cap
    recurring: np.ndarray  # (K,) uint8: bookings are new ARR
    existing_arr: np.ndarray  # (K,) ARR of existing customers at the start
    existing_customers: np.ndarray  # (K,) int64
    deal_values: np.ndarray  # (K, E) sorted historical deal values resampled instead of the lognormal, padded
    deal_values_len: np.ndarray  # (K,) int64 values of each territory (0 = lognormal deal sizes)


class Calendar(NamedTuple):
    """Months, commission periods and fiscal years."""

    period_end: np.ndarray  # (H, K) uint8: commission is settled at the end of this month
    fy_of_month: np.ndarray  # (H,) int64 index of the fiscal year (with figures) of each month, -1 if none
    fy_first: np.ndarray  # (Y,) int64 first simulated month of each fiscal year with figures
    fy_last: np.ndarray  # (Y,) int64 its last month
    quarter_end: np.ndarray  # (H,) int64 last month of the fiscal quarter of each month (may be >= H)


class Seats(NamedTuple):
    """One seat per starting rep and per planned hire; backfills take over the seat."""

    key: np.ndarray  # (S,) int64 stable random-stream address of the seat (see inputs.seat_stream_key)
    terr: np.ndarray  # (S,) int64 territory of the seat
    start: np.ndarray  # (S,) int64 month the seat's first occupant starts
    tenure0: np.ndarray  # (S,) int64 tenure of the first occupant when they start
    is_hire: np.ndarray  # (S,) uint8: the first occupant is a planned hire (counted in hires)
    skill0: np.ndarray  # (S,) float64 skill of the first occupant (a named rep's); NaN = drawn as for a joiner
    quota_month0: np.ndarray  # (S,) float64 monthly ramped quota of the first occupant; NaN = the territory's
    ytd_bookings: np.ndarray  # (S,) float64 the first occupant's bookings in the fiscal year in progress before start
    ytd_quota: np.ndarray  # (S,) float64 ... and quota carried in it before start


class Pipeline(NamedTuple):
    """Deals open at the start (SPEC section 9); N may be 0."""

    key: np.ndarray  # (N,) uint64 56-bit hash of the deal's id: its random-stream address
    terr: np.ndarray  # (N,) int64 territory
    owner: np.ndarray  # (N,) int64 seat of the owner (a starting rep), -1 = books to the territory, credits no rep
    age: np.ndarray  # (N,) int64 whole months since the deal was opened
    amount: np.ndarray  # (N,) float64 value if won; NaN = drawn from the territory's deal size
    win_prob: np.ndarray  # (N,) float64 chance it is won; NaN = the territory's win rate


class Outputs(NamedTuple):
    """Preallocated results of a chunk of n trials (or, in :func:`month.simulate_trial`, of one trial: no n axis)."""

    counts: np.ndarray  # (N_COUNTS, n, H, K) int32, indexed by the C_* constants of kernels.month
    flows: np.ndarray  # (N_FLOWS, n, H, K) float64, indexed by the F_* constants
    downturn: np.ndarray  # (n, H) uint8: 1 in months inside a downturn
    pipeline_end: np.ndarray  # (n, K) value of wins that would book after the horizon
    attainment: np.ndarray  # (n, Y, S) per seat at each fiscal year end; NaN if empty
    tenure: np.ndarray  # (n, Y, S) completed months of service of that rep at the year's end
    commission_earned: np.ndarray  # (n, Y, S) commission paid to the seat's reps in each fiscal year
    occupant: np.ndarray  # (n, Y, S) int32 which occupant holds the seat at the year's end (0 = the first), -1 = empty


class Trace(NamedTuple):
    """Deal-level records of one trial, for :func:`salessim.engine.trace_trial`.

    Zero-length arrays (``rows`` of length 0) mean no trace: every ordinary run passes
    those, and the kernel skips the records. Otherwise ``rows`` counts the rows written to
    each table; a count above a table's length means it was too short (the caller reruns
    the trial with longer tables: the trial's draws do not depend on the trace).
    """

    rows: np.ndarray  # (3,) int64 rows written: deals, rep_months, occupants
    deals: np.ndarray  # (Nd, 8) float64: created, territory, seat, occupant, due, value, outcome, pipeline
    rep_months: np.ndarray  # (Nr, 8) int64: month, seat, occupant, territory, leads, worked, opportunities, wins
    occupants: np.ndarray  # (No, 7) float64: seat, occupant, territory, start, tenure0, last, skill

"""Every limit salessim puts on its inputs, with the reason for it, in one place.

A limit is checked *before* the work it protects (reading, composing, validating or
simulating), and breaking one gives a located message naming the key, the value and the
bound. The bounds fall in three groups:

- **reading YAML** (:mod:`salessim.yamlsafe`): the size of a file, the nodes it expands
  to (aliases included), how deeply it nests. They keep a hostile or broken file from
  taking unbounded time or memory before validation even starts.
- **what the engine can address** (:mod:`salessim.scenario`): every random draw is
  addressed by (seed, trial, purpose, seat, month) in fixed bit fields
  (:func:`salessim.inputs.seat_stream_key`), and counts are ``int32``. A scenario that
  does not fit these fields could not be simulated correctly, so it is refused.
- **what keeps a run proportional to its work**: a trial's memory, the expected leads
  in one territory-month, compounded growth, and the size of money amounts and factors,
  so that every total stays finite and exact enough, and no sampler is asked for a count
  its arithmetic cannot hold.

``docs/limits.md`` holds the table that :func:`limits_table` renders (a test keeps the two
identical), so the documentation is generated from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limit", "LIMITS", "limits_table"]

# --------------------------------------------------------------------------- reading YAML
MAX_YAML_BYTES = 8 * 2**20
MAX_YAML_NODES = 500_000
MAX_YAML_DEPTH = 32
MAX_SET_VALUE_BYTES = 64 * 2**10

# --------------------------------------------------------------------------- messages
MAX_PROBLEMS_SHOWN = 50
MAX_VALUE_CHARS = 80
MAX_PROBLEM_CHARS = 1_000  # one line of an error message: the location, the rule and the quoted value

# --------------------------------------------------------------------------- text
MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 5_000

# --------------------------------------------------------------------------- structure
SEAT_INDEX_BITS = 16  # rep or hire index inside a territory or plan entry
SEAT_GROUP_BITS = 11  # territory or hiring-plan entry
MAX_REPS_PER_TERRITORY = 2**SEAT_INDEX_BITS  # 65,536
MAX_HIRES_PER_ENTRY = 2**SEAT_INDEX_BITS
MAX_HIRING_PLAN_ENTRIES = 2**SEAT_GROUP_BITS  # 2,048
MAX_TERRITORIES = 1_000
MAX_TERRITORY_MONTHS = 50_000
MAX_SEAT_MONTHS = 2_000_000
MAX_RAMP_MONTHS = 60
MAX_PMF_MONTHS = 600
MAX_ATTRITION_BANDS = 100
MAX_COMMISSION_TIERS = 100

# --------------------------------------------------------------------------- time
MIN_START_YEAR = 1900
MAX_START_YEAR = 2200
MAX_TENURE_MONTHS = 1_200
MAX_BAND_MONTH = 1_800  # MAX_TENURE_MONTHS + the longest horizon (600)

# --------------------------------------------------------------------------- numbers
MAX_LEADS_PER_TERRITORY_MONTH = 1_000_000
MAX_LEADS_PER_TRIAL = 1_000_000_000
MAX_GROWTH_FACTOR = 1e6
MAX_DEAL_CV = 100.0
MAX_SKILL_SIGMA = 5.0
MAX_MONEY = 1e15
MIN_POSITIVE_QUOTA = 1.0
MAX_FACTOR = 1e6
MAX_CUSTOMERS = 1_000_000_000

# --------------------------------------------------------------------------- starting state and uncertainty
MAX_PIPELINE_DEALS = 1_000_000
MAX_TABLE_FILE_BYTES = 256 * 2**20
MAX_EMPIRICAL_VALUES = 1_000_000
MAX_UNCERTAIN_DRAWS = 1_000_000

# --------------------------------------------------------------------------- runs
MAX_TRIALS = 100_000_000


@dataclass(frozen=True)
class Limit:
    """One input limit: what it bounds, the bound as a user reads it, and why."""

    applies_to: str
    bound: str
    reason: str


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e12 else f"{x:g}"


LIMITS: tuple[Limit, ...] = (
    Limit("scenario file, or a results file's `scenario` text", f"{MAX_YAML_BYTES // 2**20} MiB",
          "checked before the file is read, so a 50 MB file is refused at once; a scenario at the node limit, "
          "written back by salessim into a results file, still fits"),
    Limit("YAML nodes, counted with every alias expanded", _n(MAX_YAML_NODES),
          "counted while parsing, before anything is built, so an alias bomb (a few KB expanding to billions "
          "of nodes) fails at once in bounded memory"),
    Limit("YAML nesting depth", _n(MAX_YAML_DEPTH),
          "a scenario nests at most six levels; the bound keeps deep nesting from exhausting the parser's stack"),
    Limit("one `--set` value", f"{MAX_SET_VALUE_BYTES // 2**10} KiB", "a value on the command line, read as YAML with the limits above"),
    Limit("problems listed in one error", _n(MAX_PROBLEMS_SHOWN),
          "every problem is found, the first ones are shown, and the rest are counted, so a broken file "
          "cannot produce an error message of megabytes"),
    Limit("an offending value quoted in a message", f"{MAX_VALUE_CHARS} characters", "longer values are cut with `...`"),
    Limit("one problem line of an error message", f"{MAX_PROBLEM_CHARS:,} characters",
          "the location, the rule and the quoted value; enough for the longest rule (the list of uncertain paths)"),
    Limit("`name` (scenario), `territories[].name`", f"{MAX_NAME_CHARS} characters",
          "names label tables, plots and file names (a scenario's name is its results file's name)"),
    Limit("`description`", f"{MAX_DESCRIPTION_CHARS:,} characters", "shown in summaries and reports"),
    Limit("`reps` per territory (and its `initial_tenure_months` list)", _n(MAX_REPS_PER_TERRITORY),
          f"a seat's random-stream address holds the rep's index in {SEAT_INDEX_BITS} bits "
          "(`inputs.seat_stream_key`); more reps would share streams"),
    Limit("`hires` of one `hiring_plan` entry", _n(MAX_HIRES_PER_ENTRY), f"the same {SEAT_INDEX_BITS}-bit field"),
    Limit("`hiring_plan` entries", _n(MAX_HIRING_PLAN_ENTRIES),
          f"a hired seat's stream address holds its plan entry in {SEAT_GROUP_BITS} bits"),
    Limit("`territories`", _n(MAX_TERRITORIES),
          f"stream addresses allow {2**SEAT_GROUP_BITS:,}; the per-territory tables of capacity-bound reps "
          "(ramp levels x worked leads) stay under about 125 MB"),
    Limit("territories x `horizon_months`", _n(MAX_TERRITORY_MONTHS),
          "one trial's results hold about 150 bytes per territory-month, so a trial stays under 8 MB and a "
          "chunk of trials fits in memory"),
    Limit("seats x `horizon_months` (seats: starting reps plus planned hires)", _n(MAX_SEAT_MONTHS),
          "a trial being simulated keeps each seat's future bookings per month (16 bytes per seat-month, "
          "about 32 MB at the bound, per thread)"),
    Limit("`ramp` entries", _n(MAX_RAMP_MONTHS),
          "five years of ramp; each ramp level of a capacity-bound territory gets its own table"),
    Limit("`sales_cycle_months`, `time_to_fill_months` entries", _n(MAX_PMF_MONTHS),
          "the longest horizon: months beyond it can only move a deal past the end of any run"),
    Limit("`attrition_by_tenure` bands", _n(MAX_ATTRITION_BANDS), "each departure time walks the bands"),
    Limit("`commission.accelerators` tiers", _n(MAX_COMMISSION_TIERS), "each payout walks the tiers"),
    Limit("`start`", f"{MIN_START_YEAR}-01 .. {MAX_START_YEAR}-12",
          "months are stored as datetime64[ns], which ends in April 2262; 2200-12 plus 600 months fits"),
    Limit("`initial_tenure_months`", _n(MAX_TENURE_MONTHS), "a hundred years of service"),
    Limit("`attrition_by_tenure[].until_month`", _n(MAX_BAND_MONTH),
          "the longest tenure plus the longest horizon: a band ending later is never reached (omit "
          "`until_month` on the last band instead)"),
    Limit("`market.downturn.duration_months`", "600", "the longest horizon"),
    Limit("expected leads in one territory-month: `leads_per_month` x the seasonality peak x growth "
          "compounded over the horizon x a downturn `lead_multiplier` above 1", _n(MAX_LEADS_PER_TERRITORY_MONTH),
          "lead, opportunity and win counts are int32 (at most 2,147,483,647 per territory-month) and every "
          "won deal is simulated one by one; the bound keeps every count exact with a wide margin"),
    Limit("expected leads of one trial: the same, summed over territories and months", f"{MAX_LEADS_PER_TRIAL:.0e}",
          "the time of a trial is proportional to its leads and deals; at the bound one trial takes tens of "
          "seconds, so a run's time stays predictable (the largest real sales organisations are far below)"),
    Limit("`market.annual_growth` compounded over the horizon, and `expansion_annual` compounded over the "
          "horizon", f"a factor of {_n(MAX_GROWTH_FACTOR)}",
          "larger factors overflow lead means and ARR over long horizons"),
    Limit("`deal_size.cv`", _n(MAX_DEAL_CV),
          "a lognormal with cv 100 already takes half its mean from the top 0.12% of deals, so Monte Carlo "
          "means stop being informative; far larger values overflow"),
    Limit("`skill_sigma`", _n(MAX_SKILL_SIGMA),
          "skill multipliers exp(5 z) already differ ten-billion-fold between the 1st and 99th percentile rep"),
    Limit("every money amount (`deal_size.mean`, quotas, pay, costs, `existing_arr`, `goal.annual`)",
          f"{MAX_MONEY:g}", "a thousand trillion in any currency; keeps every sum over deals, months and trials finite"),
    Limit("`quota_annual`", f"0, or at least {MIN_POSITIVE_QUOTA:g}",
          "attainment and the default commission rate (variable_annual / quota_annual) divide by it; a tinier "
          "quota makes both overflow"),
    Limit("factors and rates without a natural bound (`lead_multiplier`, `win_rate_multiplier`, "
          "`commission.rate`, tier `above`/`below`/`multiplier`, `cap`, `expansion_annual`)", f"{MAX_FACTOR:g}",
          "keeps products with money amounts finite"),
    Limit("`existing_customers` (given, or derived as `existing_arr` / `deal_size.mean`)", _n(MAX_CUSTOMERS),
          "churned-customer counts are int32, and each month's churn draw takes time that grows with the "
          "square root of the customer count"),
    Limit("open deals at `start` (`pipeline`, `pipeline_file`)", _n(MAX_PIPELINE_DEALS),
          "each deal is simulated in every trial from its own stream; a million deals is far beyond any CRM's open "
          "pipeline and keeps a trial's work bounded"),
    Limit("a CSV file a scenario names (`pipeline_file`, `deal_size.empirical_file`)", f"{MAX_TABLE_FILE_BYTES // 2**20} MiB, regular files only",
          "checked before the file is read, like scenario files, so a device or pipe never hangs validation"),
    Limit("`deal_size.empirical` values", _n(MAX_EMPIRICAL_VALUES), "resampled by index; the list is stored in every results file"),
    Limit("`samples` of one uncertain parameter", _n(MAX_UNCERTAIN_DRAWS), "stored with the scenario in every results file"),
    Limit("`age_months` of an open deal, `tenure_months` of a named rep", _n(MAX_TENURE_MONTHS), "a hundred years"),
    Limit("trials of one run (`-n`)", _n(MAX_TRIALS),
          "stops absurd counts (10**20) before anything is allocated; a run near it takes hours even for the "
          "baseline, and a streamed run keeps about 0.6 KB of summary values per trial of the baseline"),
    Limit("trials of a run held in memory (a plain `run`, `simulate`, without `--stream`)",
          "what the memory left holds: about 2x the kernel's output per trial (30 KB for the baseline) times "
          "the trials, against `MemAvailable` and the cgroup limit",
          "the operating system grants larger allocations and then kills the process with no message; the "
          "error says how many trials fit and points to `--stream`, which holds one chunk at a time"),
)
"""The documented limits, in the order of ``docs/limits.md``."""


def limits_table() -> str:
    """The Markdown table of :data:`LIMITS` that ``docs/limits.md`` holds."""
    rows = ["| what | limit | why |", "|---|---|---|"]
    rows += [f"| {lim.applies_to} | {lim.bound} | {lim.reason} |" for lim in LIMITS]
    return "\n".join(rows) + "\n"

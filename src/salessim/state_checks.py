"""Starting state and uncertain parameters: the rules that span keys (SPEC section 9).

:func:`check_state` runs on a scenario whose keys are each valid (the schema passed) and
returns ``(problems, warnings)``, both lists of ``(location, message)``:

- **roster**: names unique in the scenario; a roster belongs to a territory (not
  ``defaults``) and gives each rep's tenure (no ``initial_tenure_months`` beside it);
  ``ytd_bookings`` / ``ytd_quota`` need ``actuals``.
- **pipeline**: ids unique (draws are keyed by a 56-bit hash of the id; distinct ids whose
  hashes coincide, about N^2 / 2^57 likely, are also rejected); territories exist; an
  owner who is a rep of another territory is an error, an owner who is no rep of the
  deal's territory a warning (the deal books to the territory and credits no rep).
- **actuals**: there is a fiscal year in progress at ``start``, it ends inside the
  horizon, every territory named exists; territories left out booked 0 (a warning).
- **uncertainty**: every path is one of :data:`SUPPORTED` (else the message lists them),
  the distribution fits the key (a pmf takes dirichlet or samples of pmfs, a number any
  other family), its values lie in the key's range (unbounded families need ``min`` /
  ``max``), truncation keeps some mass, a dirichlet has one concentration per pmf entry,
  every ``samples`` list has the same length.

:func:`resolve_path` maps one uncertain path to the territories (or the market) it sets;
:mod:`salessim.uncertainty` uses it to build the draws.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["check_state", "resolve_path", "UncertainTarget", "Domain", "SUPPORTED", "starting_names",
           "hire_names", "deal_key", "fiscal_year_in_progress"]

Problem = tuple[str, str]


@dataclass(frozen=True)
class Domain:
    """The values a key accepts: lo..hi, each end open or closed; ``integer`` keys are rounded."""

    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False

    def text(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        hi = "inf" if self.hi == math.inf else f"{self.hi:g}"
        return f"{left}{self.lo:g}, {hi}{right}"


_PROB = Domain(0.0, 1.0)
_NONNEG = Domain(0.0, math.inf, hi_open=True)
_POSITIVE = Domain(0.0, math.inf, lo_open=True, hi_open=True)
PMF = None  # marker: the key is a pmf over months

#: territory keys that may be uncertain (set per territory or in defaults) and their ranges
TERRITORY_KEYS: dict[str, Domain | None] = {
    "leads_per_month": _NONNEG,
    "lead_to_opportunity": _PROB,
    "win_rate": _PROB,
    "deal_size.mean": _POSITIVE,
    "deal_size.cv": _NONNEG,
    "sales_cycle_months": PMF,
    "attrition_annual": _PROB,
    "attrition_by_tenure.N.annual": _PROB,
    "time_to_fill_months": PMF,
    "skill_sigma": _NONNEG,
    "capacity_leads_per_month": _POSITIVE,
    "orphaned_deal_close_rate": _PROB,
    "quarter_end_pull": _PROB,
    "churn_annual": _PROB,
    "expansion_annual": _NONNEG,
}
#: market keys that may be uncertain
MARKET_KEYS: dict[str, Domain] = {
    "market.annual_growth": Domain(-1.0, math.inf, lo_open=True, hi_open=True),
    "market.downturn.probability_per_year": _PROB,
    "market.downturn.duration_months": Domain(1.0, math.inf, hi_open=True, integer=True),
    "market.downturn.lead_multiplier": _NONNEG,
    "market.downturn.win_rate_multiplier": _NONNEG,
}
#: unit of each uncertain key's values, for summaries ({currency} is the scenario's)
KEY_UNITS: dict[str, str] = {
    "leads_per_month": "leads/month", "lead_to_opportunity": "fraction", "win_rate": "fraction",
    "deal_size.mean": "{currency}", "deal_size.cv": "ratio", "sales_cycle_months": "probability",
    "attrition_annual": "fraction", "band": "fraction", "time_to_fill_months": "probability", "skill_sigma": "log-sd",
    "capacity_leads_per_month": "leads/month", "orphaned_deal_close_rate": "fraction", "quarter_end_pull": "fraction", "churn_annual": "fraction",
    "expansion_annual": "fraction", "market.annual_growth": "fraction", "market.downturn.probability_per_year": "probability",
    "market.downturn.duration_months": "months", "market.downturn.lead_multiplier": "ratio",
    "market.downturn.win_rate_multiplier": "ratio",
}
SUPPORTED = tuple(MARKET_KEYS) + tuple(f"territories.NAME.{k}" for k in TERRITORY_KEYS) + tuple(
    f"defaults.{k}" for k in TERRITORY_KEYS)
_SEAT_KEYS = ("reps", "initial_tenure_months")


@dataclass(frozen=True)
class UncertainTarget:
    """Where an uncertain path lands: a market key, or a territory key in some territories."""

    path: str  # canonical: territories by name
    key: str  # market key (``market....``) or territory key (``win_rate``, ``deal_size.mean``, ``band``, ...)
    territories: tuple[int, ...]  # territories it sets (empty for market keys)
    band: int  # attrition band for ``band``, else -1
    domain: Domain | None  # None: a pmf
    pmf_length: int  # for pmfs: the length of the pmf it replaces (every target's), else 0
    from_defaults: bool


def _supported_text() -> str:
    """The supported paths, compactly enough for one line of an error message."""
    keys = ", ".join(TERRITORY_KEYS).replace("attrition_by_tenure.N.annual", "attrition_by_tenure.<band>.annual")
    downturn = ", ".join(k.removeprefix("market.downturn.") for k in MARKET_KEYS if k.startswith("market.downturn."))
    return (f"market.annual_growth, market.downturn.{{{downturn}}}, and territories.NAME.KEY or defaults.KEY "
            f"for KEY in {keys}")


def resolve_path(path: str, spec: Any, territories: tuple) -> UncertainTarget:
    """The target of uncertain ``path`` in a valid scenario; ValueError with a located message if none.

    ``territories.<name or index>.<key>`` sets that territory; ``defaults.<key>`` sets every
    territory that takes the key from ``defaults`` (one shared draw). Attrition bands are
    ``attrition_by_tenure.<band>.annual``; ``attrition_annual`` is the single-rate form.
    """
    parts = path.split(".")
    if path in MARKET_KEYS:
        if parts[1] == "downturn" and spec.market.downturn is None:
            raise ValueError("the scenario has no market.downturn to make uncertain")
        return UncertainTarget(path, path, (), -1, MARKET_KEYS[path], 0, False)
    names = [t.name for t in territories]
    if parts[0] == "territories" and len(parts) >= 3:
        who = parts[1]
        if who in names:
            k = names.index(who)
        elif who.lstrip("-").isdigit() and -len(names) <= int(who) < len(names):
            k = int(who) % len(names)
        else:
            raise ValueError(f"no territory named {who!r} (have {', '.join(names)})")
        key = ".".join(parts[2:])
        canonical = f"territories.{names[k]}.{key}"
        targets = (k,)
        from_defaults = False
    elif parts[0] == "defaults" and len(parts) >= 2:
        key = ".".join(parts[1:])
        canonical = path
        targets = None
        from_defaults = True
    else:
        raise ValueError(f"{path!r} cannot be uncertain; supported paths: {_supported_text()}")
    band = -1
    table_key = key
    if len(parts) >= 2 and key.startswith("attrition_by_tenure.") and key.endswith(".annual"):
        middle = key[len("attrition_by_tenure."):-len(".annual")]
        if not middle.isdigit():
            raise ValueError(f"write the band as a number: attrition_by_tenure.0.annual, got {path!r}")
        band = int(middle)
        table_key = "attrition_by_tenure.N.annual"
    if key in _SEAT_KEYS:
        raise ValueError(f"{key} changes the seats and cannot be uncertain (draws change parameters, never the seats)")
    if table_key not in TERRITORY_KEYS:
        raise ValueError(f"{path!r} cannot be uncertain; supported paths: {_supported_text()}")
    domain = TERRITORY_KEYS[table_key]
    base = key.split(".")[0]
    if targets is None:
        targets = tuple(k for k, entry in enumerate(spec.territories) if _inherits(entry, spec.defaults, base))
        if not targets:
            raise ValueError(f"no territory takes {base} from defaults (each sets its own)")
    # the key must exist in the form the path names, in every target territory
    for k in targets:
        t = territories[k]
        uses_bands = len(t.attrition_bands) > 1 or t.attrition_bands[0][0] is not None
        if key == "attrition_annual" and uses_bands:
            raise ValueError(f"{names[k]} uses attrition_by_tenure; make a band uncertain instead "
                             "(attrition_by_tenure.<band>.annual)")
        if band >= 0:
            if not uses_bands and band > 0:
                raise ValueError(f"{names[k]} has one attrition rate (attrition_annual), not band {band}")
            if band >= len(t.attrition_bands):
                raise ValueError(f"{names[k]} has {len(t.attrition_bands)} attrition bands (0..{len(t.attrition_bands) - 1}), "
                                 f"not band {band}")
        if key.startswith("deal_size.") and t.deal_empirical is not None:
            raise ValueError(f"{names[k]}'s deal sizes are empirical; their mean and cv cannot be uncertain")
    pmf_length = 0
    if domain is None:
        lengths = {len(getattr(territories[k], base)) for k in targets}
        pmf_length = max(lengths)
        if len(lengths) > 1:  # only possible through defaults, which share one pmf; kept for safety
            raise ValueError(f"the territories it sets have pmfs of different lengths {sorted(lengths)}")
    return UncertainTarget(canonical, "band" if band >= 0 else key, tuple(targets), band, domain, pmf_length,
                           from_defaults)


def _inherits(entry: Any, defaults: Any, base: str) -> bool:
    """Does territory ``entry`` take key ``base`` from ``defaults`` (or the built-in value)?"""
    if base.startswith("attrition"):
        own = entry.model_fields_set & {"attrition_annual", "attrition_by_tenure"}
        if own:
            return False
        if base == "attrition_by_tenure":
            return "attrition_by_tenure" in defaults.model_fields_set
        return "attrition_by_tenure" not in defaults.model_fields_set
    return base not in entry.model_fields_set


# --------------------------------------------------------------------------- names


def starting_names(territories: tuple) -> list[list[str]]:
    """Per territory, the seat name of each starting rep: the roster's names, or
    ``<territory>#<i>`` (1-based) for anonymous reps."""
    out = []
    for t in territories:
        if t.roster is not None:
            out.append([r.name for r in t.roster])
        else:
            out.append([f"{t.name}#{i + 1}" for i in range(t.reps)])
    return out


def hire_names(plan: list) -> list[list[str]]:
    """Per hiring-plan entry, the seat names of its hires: ``hire:<month>:<territory>#<i>``,
    numbered 1.. across all entries of the same month and territory."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for entry in plan:
        key = (entry.month, entry.territory)
        first = seen.get(key, 0)
        out.append([f"hire:{entry.month}:{entry.territory}#{first + i + 1}" for i in range(entry.hires)])
        seen[key] = first + entry.hires
    return out


def deal_key(deal_id: str) -> int:
    """The 56-bit random-stream address of an open deal: a hash of its id (stable across runs and machines)."""
    return int.from_bytes(hashlib.blake2b(deal_id.encode("utf-8"), digest_size=7).digest(), "little")


def fiscal_year_in_progress(start: tuple[int, int], fy_start: int) -> tuple[int, int] | None:
    """(label, months of it left from ``start``) of the fiscal year that began before ``start``, or None."""
    y0, m0 = start
    left = (fy_start - m0) % 12
    if left == 0:
        return None
    return (y0 if m0 >= fy_start else y0 - 1), left


# --------------------------------------------------------------------------- checks


def check_state(spec: Any, territories: tuple, start: tuple[int, int]) -> tuple[list[Problem], list[Problem]]:
    """Problems and warnings of the roster, pipeline, actuals and uncertainty of a valid scenario."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    _check_roster(spec, problems)
    _check_actuals(spec, territories, start, problems, warnings)
    _check_pipeline(spec, territories, problems, warnings)
    _check_uncertainty(spec, territories, problems)
    return problems, warnings


def _check_roster(spec: Any, problems: list[Problem]) -> None:
    if isinstance(spec.defaults.reps, list):
        problems.append(("defaults.reps", "a roster of named reps belongs to one territory; set it in territories[].reps"))
    seen: dict[str, str] = {}
    for i, entry in enumerate(spec.territories):
        if not isinstance(entry.reps, list):
            continue
        if "initial_tenure_months" in entry.model_fields_set:
            problems.append((f"territories[{i}].initial_tenure_months",
                             "a roster gives each rep's tenure_months; leave initial_tenure_months out"))
        for j, rep in enumerate(entry.reps):
            where = f"territories[{i}].reps[{j}].name"
            if rep.name in seen:
                problems.append((where, f"duplicate rep name {rep.name!r} (also {seen[rep.name]})"))
            else:
                seen[rep.name] = where
            if spec.actuals is None:
                for key in ("ytd_bookings", "ytd_quota"):
                    if getattr(rep, key) is not None:
                        problems.append((f"territories[{i}].reps[{j}].{key}",
                                         "year-to-date figures need the `actuals` block (the fiscal year in progress at start)"))


def _check_actuals(spec: Any, territories: tuple, start: tuple[int, int], problems: list[Problem],
                   warnings: list[Problem]) -> None:
    if spec.actuals is None:
        return
    names = [t.name for t in territories]
    progress = fiscal_year_in_progress(start, spec.fiscal_year_start_month)
    if progress is None:
        problems.append(("actuals", f"start {spec.start} is the first month of a fiscal year: there is no fiscal "
                                    "year in progress to record actuals for"))
    elif progress[1] > spec.horizon_months:
        problems.append(("actuals", f"FY{progress[0]} (in progress at start) has {progress[1]} months left, beyond "
                                    f"the horizon of {spec.horizon_months} months: it cannot get figures"))
    for name in spec.actuals.bookings:
        if name not in names:
            problems.append((f"actuals.bookings.{name}", f"no territory named {name!r} (have {', '.join(names)})"))
    missing = [n for n in names if n not in spec.actuals.bookings]
    if missing and progress is not None:
        warnings.append(("actuals.bookings", f"no actuals for {', '.join(missing)}: taken as 0 booked so far in FY{progress[0]}"))


def _check_pipeline(spec: Any, territories: tuple, problems: list[Problem], warnings: list[Problem]) -> None:
    if not spec.pipeline:
        return
    names = [t.name for t in territories]
    reps_of = {name: k for k, seat_names in enumerate(starting_names(territories)) for name in seat_names}
    ids: dict[str, int] = {}
    keys: dict[int, str] = {}
    for i, deal in enumerate(spec.pipeline):
        where = f"pipeline[{i}]"
        if deal.id in ids:
            problems.append((f"{where}.id", f"duplicate deal id {deal.id!r} (also pipeline[{ids[deal.id]}])"))
        else:
            ids[deal.id] = i
            key = deal_key(deal.id)
            if key in keys:
                problems.append((f"{where}.id", f"deal ids {keys[key]!r} and {deal.id!r} share a 56-bit stream "
                                                "address (a hash collision); rename one"))
            keys[key] = deal.id
        if deal.territory not in names:
            problems.append((f"{where}.territory", f"no territory named {deal.territory!r} (have {', '.join(names)})"))
            continue
        if deal.owner is None:
            continue
        k = names.index(deal.territory)
        owner_terr = reps_of.get(deal.owner)
        if owner_terr is None:
            warnings.append((f"{where}.owner", f"{deal.owner!r} is not a rep in seat at start in {deal.territory}: "
                                               "the deal books to the territory and credits no rep"))
        elif owner_terr != k:
            problems.append((f"{where}.owner", f"{deal.owner!r} is a rep of {names[owner_terr]}, not of the deal's "
                                               f"territory {deal.territory}"))


def _support(dist: Any) -> tuple[float, bool, float, bool]:
    """(lo, lo_open, hi, hi_open) of the values a scalar distribution can take."""
    family = dist.family
    if family == "beta":
        lo, lo_open, hi, hi_open = 0.0, False, 1.0, False
    elif family in ("gamma", "lognormal"):
        spread = getattr(dist, family)
        if spread.sd_value == 0:
            return spread.mean, False, spread.mean, False
        lo, lo_open, hi, hi_open = 0.0, True, math.inf, True
    elif family == "normal":
        if dist.normal.sd_value == 0:
            return dist.normal.mean, False, dist.normal.mean, False
        lo, lo_open, hi, hi_open = -math.inf, True, math.inf, True
    elif family == "uniform":
        return dist.uniform[0], False, dist.uniform[1], False
    elif family == "triangular":
        return dist.triangular[0], False, dist.triangular[2], False
    else:  # samples of numbers
        return min(dist.samples), False, max(dist.samples), False
    if dist.min is not None and dist.min >= lo:
        lo, lo_open = dist.min, False
    if dist.max is not None and dist.max <= hi:
        hi, hi_open = dist.max, False
    return lo, lo_open, hi, hi_open


def _inside(support: tuple[float, bool, float, bool], domain: Domain) -> bool:
    lo, lo_open, hi, hi_open = support
    low_ok = lo > domain.lo or (lo == domain.lo and (lo_open or not domain.lo_open))
    high_ok = hi < domain.hi or (hi == domain.hi and (hi_open or not domain.hi_open))
    return low_ok and high_ok


def truncated_mass(dist: Any) -> float:
    """Probability the untruncated distribution puts inside [min, max] (1 without bounds)."""
    if dist.min is None and dist.max is None:
        return 1.0
    from scipy import stats

    family = dist.family
    if family == "beta":
        law = stats.beta(*dist.beta)
    elif family == "normal":
        if dist.normal.sd_value == 0:
            inside = (dist.min is None or dist.min <= dist.normal.mean) and (dist.max is None or dist.normal.mean <= dist.max)
            return 1.0 if inside else 0.0
        law = stats.norm(dist.normal.mean, dist.normal.sd_value)
    else:
        spread = getattr(dist, family)
        mean, sd = spread.mean, spread.sd_value
        if sd == 0:
            inside = (dist.min is None or dist.min <= mean) and (dist.max is None or mean <= dist.max)
            return 1.0 if inside else 0.0
        if family == "gamma":
            law = stats.gamma((mean / sd) ** 2, scale=sd * sd / mean)
        else:
            s2 = math.log1p((sd / mean) ** 2)
            law = stats.lognorm(math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))
    lo = -math.inf if dist.min is None else dist.min
    hi = math.inf if dist.max is None else dist.max
    return float(law.cdf(hi) - law.cdf(lo))


#: least mass truncation may keep: beta and gamma are drawn by rejection, normal and lognormal by inversion
MIN_TRUNCATED_MASS = {"beta": 0.01, "gamma": 0.01, "normal": 1e-12, "lognormal": 1e-12}


def _check_uncertainty(spec: Any, territories: tuple, problems: list[Problem]) -> None:
    if spec.uncertainty is None:
        return
    lengths: dict[str, int] = {}
    resolved: dict[str, str] = {}
    for path, dist in spec.uncertainty.parameters.items():
        where = f"uncertainty.parameters.{path}"
        try:
            target = resolve_path(path, spec, territories)
        except ValueError as exc:
            problems.append((where, str(exc)))
            continue
        if target.path in resolved:
            problems.append((where, f"the same key as {resolved[target.path]!r}"))
            continue
        resolved[target.path] = path
        family = dist.family
        is_pmf_draws = family == "dirichlet" or (family == "samples" and isinstance(dist.samples[0], list))
        if family == "samples":
            lengths[path] = len(dist.samples)
        if target.domain is None:  # a pmf
            if not is_pmf_draws:
                problems.append((where, f"is a pmf over months: give dirichlet (one concentration per entry) or samples "
                                        f"of pmfs, not {family}"))
            elif family == "dirichlet" and len(dist.dirichlet) != target.pmf_length:
                problems.append((where, f"dirichlet must have one concentration per entry of the pmf it replaces "
                                        f"({target.pmf_length}), got {len(dist.dirichlet)}"))
            elif family == "samples":
                for j, pmf in enumerate(dist.samples):
                    if not pmf or any(not math.isfinite(x) or x < 0 for x in pmf) or abs(math.fsum(pmf) - 1.0) > 1e-9:
                        problems.append((f"{where}.samples[{j}]", f"must be a pmf (non-negative, summing to 1 within "
                                                                   f"1e-9), got {pmf}"))
                        break
            continue
        if is_pmf_draws:
            problems.append((where, f"is a number: give beta, gamma, normal, lognormal, uniform, triangular or "
                                    f"samples of numbers, not {'dirichlet' if family == 'dirichlet' else 'samples of lists'}"))
            continue
        domain = target.domain
        support = _support(dist)
        if not _inside(support, domain):
            unbounded = family in ("beta", "gamma", "normal", "lognormal")
            lo, _, hi, _ = support
            hint = (f"; truncate it with min and max inside {domain.text()}" if unbounded
                    else "")
            problems.append((where, f"{family} takes values in {lo:g}..{hi:g}, outside the key's range "
                                    f"{domain.text()}{hint}"))
            continue
        mass = truncated_mass(dist)
        need = MIN_TRUNCATED_MASS.get(family, 0.0)
        if family in MIN_TRUNCATED_MASS and mass < need:
            problems.append((where, f"min and max keep only {mass:.3g} of the {family} distribution's probability "
                                    f"(at least {need:g} needed); widen them or move the distribution"))
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{p} has {n}" for p, n in lengths.items())
        problems.append(("uncertainty.parameters", f"every `samples` list must have the same length (draws are "
                                                   f"taken jointly, one index for all): {listed}"))

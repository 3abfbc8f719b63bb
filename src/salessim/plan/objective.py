"""Objectives of the optimizer: a summary metric for a fiscal year, or a weighted sum of them.

``p_goal[2028]``, ``net_contribution[2028]``, ``bookings[2028] - sales_cost[2028]`` or
``bookings[2028,East] + 0.5*bookings[2029,East]``: each term is a metric of
:func:`salessim.summarize` with a fiscal year (and optionally a territory) in the
``METRIC[YEAR(,TERRITORY)]`` form that ``solve --target`` reads, optionally multiplied by
a number. Parsed with a regular expression term by term, never evaluated as code.
Per-trial values come from :func:`salessim.summary.trial_values`, so the objective of
trial k of two plans run on one seed can be differenced (common random numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..engine import simulate
from ..scenario import Scenario
from ..summary import ALL, summarize
from ..whatif import WhatIfError
from ..whatif.solve import TERM_PATTERN, check_metric, term_year
from .errors import PlanError

__all__ = ["Term", "Objective", "parse_objective", "OBJECTIVE_HELP"]

OBJECTIVE_HELP = ("a summary metric with a fiscal year, or a sum of them, e.g. 'p_goal[2028]', "
                  "'net_contribution[2028]' or 'bookings[2028] - sales_cost[2028]'")
_NUMBER = r"(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TERM_RE = re.compile(r"\s*(?P<sign>[+-])?\s*(?:(?P<coef>" + _NUMBER + r")\s*\*\s*)?" + TERM_PATTERN + r"\s*")


@dataclass(frozen=True)
class Term:
    """``coef x metric[year(, territory)]``."""

    coef: float
    metric: str
    year: int
    territory: str = ALL
    weighted: bool = False  # the user wrote a number in front

    @property
    def key(self) -> tuple[str, str, str]:
        """(metric, period, territory) as :func:`~salessim.summary.trial_values` labels its items."""
        return self.metric, f"FY{self.year}", self.territory

    def __str__(self) -> str:
        where = f"{self.year}" if self.territory == ALL else f"{self.year},{self.territory}"
        body = f"{self.metric}[{where}]"
        magnitude = abs(self.coef)
        return body if magnitude == 1 and not self.weighted else f"{magnitude:g}*{body}"


@dataclass(frozen=True)
class Objective:
    """A weighted sum of summary metrics, to maximise; ``unit`` is set by :meth:`check`."""

    text: str
    terms: tuple[Term, ...]
    unit: str = ""

    @property
    def years(self) -> list[int]:
        return sorted({t.year for t in self.terms})

    def __str__(self) -> str:
        out = ""
        for i, t in enumerate(self.terms):
            sign = "-" if t.coef < 0 else "+"
            out += (f"-{t}" if sign == "-" else f"{t}") if i == 0 else f" {sign} {t}"
        return out

    def check(self, scenario: Scenario, seed: int = 0) -> "Objective":
        """Fail on a metric, year or territory the scenario's summary lacks; return it with its unit.

        Terms of different units (a probability and money) need a weight on at least one
        of them; the sum is then a unitless ``score``.
        """
        table = summarize(simulate(scenario, 2, seed))
        try:
            units = [check_metric(table, scenario, t.metric, t.year, t.territory, f"--objective {self.text!r}")
                     for t in self.terms]
        except WhatIfError as exc:
            raise PlanError(str(exc)) from None
        if len(set(units)) > 1:
            if not any(t.weighted for t in self.terms):
                mixed = ", ".join(f"{t.metric} ({u})" for t, u in zip(self.terms, units))
                raise PlanError(f"--objective {self.text!r}: the terms have different units ({mixed}); weight them "
                                f"with numbers to make one score, e.g. '1e6*p_goal[2028] + net_contribution[2028]'")
            return replace(self, unit="score")
        return replace(self, unit=units[0])

    def values(self, items: list[dict]) -> np.ndarray:
        """Per-trial objective from :func:`~salessim.summary.trial_values` items (NaN where a term has none)."""
        by_key = {(i["metric"], i["period"], i["territory"]): i["values"] for i in items}
        total = None
        for t in self.terms:
            if t.key not in by_key:
                raise PlanError(f"--objective {self.text!r}: the results have no {t.metric} for FY{t.year}"
                                + ("" if t.territory == ALL else f" in {t.territory}"))
            v = t.coef * by_key[t.key]
            total = v if total is None else total + v
        return np.asarray(total, dtype=np.float64)


def parse_objective(text: str) -> Objective:
    """Read an objective expression (syntax only; :meth:`Objective.check` checks it against a scenario)."""
    if not isinstance(text, str) or not text.strip():
        raise PlanError(f"--objective: give {OBJECTIVE_HELP}")
    terms = []
    pos = 0
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if m is None or (terms and m["sign"] is None):
            rest = text[pos:].strip()
            raise PlanError(f"--objective {text!r}: cannot read {rest!r} (at character {pos + 1}); write {OBJECTIVE_HELP}")
        coef = float(m["coef"].replace("_", "")) if m["coef"] else 1.0
        if m["sign"] == "-":
            coef = -coef
        try:
            year = term_year(m["year"], f"--objective {text!r}")
        except WhatIfError as exc:
            raise PlanError(str(exc)) from None
        terms.append(Term(coef, m["metric"], year, (m["territory"] or ALL).strip(), weighted=m["coef"] is not None))
        pos = m.end()
    return Objective(text.strip(), tuple(terms))

"""Candidate slots of the optimizer: where (territory) and when (month) a hire may start.

``--slots`` reads ``TERRITORIES:WINDOW``. TERRITORIES is a comma-separated list of
territory names (or ``*`` for all of them). WINDOW is one month (``2027-03``), a range of
months (``2027-01..2027-12``: every month), one fiscal quarter (``2027Q2``) or a range of
them (``2027Q1..2027Q4``: a hire may start in the first month of each). Quarters are
fiscal: ``2027Q1`` is the first quarter of FY2027, which starts in
``fiscal_year_start_month`` of 2027.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..scenario import Scenario
from .errors import PlanError

__all__ = ["Slot", "parse_slots", "SLOTS_HELP"]

SLOTS_HELP = "TERRITORIES:WINDOW such as 'East,West:2027-01..2027-12' or '*:2027Q1..2027Q4'"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Slot:
    """A place a hire may go: ``month_index`` (months after ``start``) is first, so slots sort by time."""

    month_index: int
    territory_index: int
    month: str  # YYYY-MM
    territory: str

    @property
    def label(self) -> str:
        return f"{self.territory} {self.month}"


def _month_text(sc: Scenario, index: int) -> str:
    y0, m0 = sc.start
    total = y0 * 12 + m0 - 1 + index
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _point(sc: Scenario, text: str, spec: str) -> tuple[str, int]:
    """('month' or 'quarter', month index) of one end of a window."""
    text = text.strip()
    m = _MONTH.match(text)
    if m:
        if not 1 <= int(m[2]) <= 12:
            raise PlanError(f"--slots {spec!r}: {text!r} is not a month (MM must be 01..12)")
        return "month", sc.month_index(text)
    q = _QUARTER.match(text)
    if q:
        first = sc.spec.fiscal_year_start_month - 1 + 3 * (int(q[2]) - 1)
        total = int(q[1]) * 12 + first
        return "quarter", sc.month_index(f"{total // 12:04d}-{total % 12 + 1:02d}")
    raise PlanError(f"--slots {spec!r}: cannot read {text!r} as a month (YYYY-MM) or a fiscal quarter (YYYYQn); "
                    f"write {SLOTS_HELP}")


def _window(sc: Scenario, text: str, spec: str) -> list[int]:
    ends = text.split("..")
    if len(ends) > 2 or not all(e.strip() for e in ends):
        raise PlanError(f"--slots {spec!r}: the window must be one month or quarter, or FIRST..LAST; write {SLOTS_HELP}")
    points = [_point(sc, e, spec) for e in ends]
    kinds = {k for k, _ in points}
    if len(kinds) > 1:
        raise PlanError(f"--slots {spec!r}: both ends of a window must be months, or both quarters")
    first, last = points[0][1], points[-1][1]
    if last < first:
        raise PlanError(f"--slots {spec!r}: the window ends before it starts ({ends[-1].strip()} is before {ends[0].strip()})")
    step = 3 if kinds == {"quarter"} else 1
    months = list(range(first, last + 1, step))
    horizon = sc.horizon_months
    outside = [t for t in months if not 0 <= t < horizon]
    if outside:
        raise PlanError(f"--slots {spec!r}: {_month_text(sc, outside[0])} is outside the horizon "
                        f"{_month_text(sc, 0)}..{_month_text(sc, horizon - 1)}; hires must start inside it")
    return months


def parse_slots(scenario: Scenario, specs: str | Iterable[str]) -> tuple[Slot, ...]:
    """Read ``--slots`` specifications (one string or several) into sorted, distinct slots.

    Raises
    ------
    PlanError
        Naming the specification, the offending part and the rule it breaks.
    """
    specs = [specs] if isinstance(specs, str) else list(specs)
    if not specs:
        raise PlanError(f"--slots: give at least one, such as {SLOTS_HELP}")
    names = [t.name for t in scenario.territories]
    found: set[Slot] = set()
    for spec in specs:
        where, sep, window = str(spec).rpartition(":")
        if not sep or not where.strip() or not window.strip():
            raise PlanError(f"--slots {spec!r}: write {SLOTS_HELP}")
        wanted = [w.strip() for w in where.split(",")]
        if wanted == ["*"]:
            wanted = names
        for name in wanted:
            if name not in names:
                raise PlanError(f"--slots {spec!r}: no territory named {name!r} (have {', '.join(names)})")
        for t in _window(scenario, window, spec):
            for name in wanted:
                found.add(Slot(t, names.index(name), _month_text(scenario, t), name))
    return tuple(sorted(found))

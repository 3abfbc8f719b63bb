"""Where the next hires should go: a greedy search on common random numbers, then local moves.

Given a budget (a number of hires, a cost limit priced by :mod:`.costs`, or both), the
candidate slots (territories x start months, :mod:`.slots`) and an objective (a summary
metric for a fiscal year or a weighted sum of them, :mod:`.objective`), :func:`optimize`

1. adds hires one at a time, each to the slot with the largest marginal gain of the
   objective per unit of cost (per hire when the budget is a count only), while the
   budget allows and the best gain is positive;
2. then moves one added hire at a time to another slot while some move improves the
   objective by more than 2 standard errors of its paired difference;
3. runs the chosen plan, the scenario's own plan and an even spread of the same number
   of hires on one seed and reports P(goal), bookings and cost of each.

Every candidate of a step is evaluated on the same trials as the current plan, so gains
are paired differences (:mod:`.evaluate`). The number of trials is set by a precision
rule, not fixed: see :class:`Precision`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..engine import MAX_SEED, SimulationError, simulate
from ..scenario import Scenario, ScenarioError
from ..summary import ALL, trial_values
from .costs import COST_WINDOWS, has_hire_costs, hire_cost
from .errors import PlanError
from .evaluate import Evaluator, Plan, PlanLayout
from .objective import Objective, parse_objective
from .slots import Slot, parse_slots
from .stats import clusters, mean_se

__all__ = ["optimize", "OptimizeResult", "Step", "PlanFigures", "Precision", "even_spread"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Precision:
    """The precision rule: how many trials each comparison gets.

    A step compares its candidates on ``min_trials`` trials first and doubles the trials
    of those still in the race until the race is decided or ``max_trials`` is reached.

    The resolution of the search is ``tolerance`` x the gain of the first hire (the value
    of one hire sets the scale of the problem; smaller differences are not worth telling
    apart). In the first step, before that scale is known, it is ``tolerance`` x the
    leader's gain.

    - Greedy step: a candidate is out once the leader's gain per unit of cost beats it by
      more than ``z`` standard errors of the paired difference. The step is decided when
      one candidate is left, or when every remaining difference to the leader has a
      standard error below the resolution (they are equal for the purpose), and the
      leader's own gain is known (more than ``z`` SE from 0, or an SE below the
      resolution).
    - Local move: a move is accepted once its gain exceeds ``z_early`` standard errors
      (strong evidence, however many moves are tried) or, at ``max_trials``, ``z``
      standard errors. A move is dropped once its gain plus ``z`` SE falls below the
      resolution (it cannot help by a useful amount).
    """

    min_trials: int = 500
    max_trials: int = 4_000
    tolerance: float = 0.05
    z: float = 2.0
    z_early: float = 4.0


@dataclass(frozen=True)
class Step:
    """One change of the plan: ``added`` gains a hire (and ``removed`` loses one, for a move)."""

    number: int
    phase: str  # "greedy" or "move"
    added: Slot
    removed: Slot | None
    gain: float  # paired mean change of the objective
    se: float  # its standard error
    cost: float  # change of the planned cost of the added hires
    trials: int  # trials the decision used
    candidates: int  # candidates compared

    @property
    def action(self) -> str:
        if self.removed is None:
            return f"+1 {self.added.label}"
        return f"move {self.removed.label} -> {self.added.label}"


@dataclass
class PlanFigures:
    """One plan run on the comparison trials: per fiscal year, and its objective."""

    name: str
    hiring_plan: list[dict]  # the full hiring_plan block (the scenario's own entries first)
    added_hires: int
    planned_cost: float  # on-target cost of the added hires (see costs)
    years: list[int]
    p_goal: list[float]
    p_goal_se: list[float]
    bookings: list[float]
    bookings_se: list[float]
    sales_cost: list[float] | None
    sales_cost_se: list[float] | None
    objective: float
    objective_se: float
    diff: float = math.nan  # objective of the optimized plan minus this plan's, paired
    diff_se: float = math.nan


@dataclass
class OptimizeResult:
    """The chosen plan, the steps that led to it and the comparison of plans."""

    scenario: Scenario  # the input scenario with the chosen hiring plan in place
    objective: Objective
    slots: tuple[Slot, ...]
    counts: tuple[int, ...]  # chosen hires per slot
    steps: list[Step]
    plans: list[PlanFigures]  # scenario plan, even spread, optimized
    stop_reason: str
    hires_budget: int | None
    cost_budget: float | None
    cost_window: str
    slot_costs: tuple[float, ...]
    trials: int
    seed: int
    precision: Precision
    trials_simulated: int
    notes: list[str] = field(default_factory=list)

    @property
    def hiring_plan(self) -> list[dict]:
        """The hiring_plan block of the chosen plan (the scenario's own entries, then the new ones)."""
        return self.plans[-1].hiring_plan

    @property
    def added(self) -> list[dict]:
        """The new entries only: ``{month, territory, hires}`` per slot that gets hires."""
        return _entries(self.slots, self.counts)

    def plan_yaml(self) -> str:
        """The hiring_plan block as YAML, ready to paste into a scenario."""
        lines = ["hiring_plan:"]
        lines += [f"  - {{month: {e['month']}, territory: {e['territory']}, hires: {e['hires']}}}" for e in self.hiring_plan]
        return "\n".join(lines if self.hiring_plan else ["hiring_plan: []"]) + "\n"

    def to_dict(self) -> dict:
        """Everything as plain data (JSON-ready)."""
        def slot(s: Slot | None):
            return None if s is None else {"territory": s.territory, "month": s.month}

        return _clean({
            "scenario": self.scenario.name,
            "objective": str(self.objective),
            "objective_unit": self.objective.unit,
            "hires_budget": self.hires_budget,
            "cost_budget": self.cost_budget,
            "cost_window": self.cost_window,
            "slots": [dict(slot(s), planned_cost=c) for s, c in zip(self.slots, self.slot_costs)],
            "added": self.added,
            "hiring_plan": self.hiring_plan,
            "steps": [{"step": s.number, "phase": s.phase, "action": s.action, "added": slot(s.added),
                       "removed": slot(s.removed), "gain": s.gain, "se": s.se, "cost": s.cost,
                       "trials": s.trials, "candidates": s.candidates} for s in self.steps],
            "stop_reason": self.stop_reason,
            "plans": [asdict(p) for p in self.plans],
            "trials": self.trials,
            "seed": self.seed,
            "precision": asdict(self.precision),
            "trials_simulated": self.trials_simulated,
            "notes": self.notes,
        })


def _clean(value):
    """NaN and infinity as None, for JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def _entries(slots: Sequence[Slot], counts: Sequence[int]) -> list[dict]:
    return [{"month": s.month, "territory": s.territory, "hires": int(h)} for s, h in zip(slots, counts) if h > 0]


def even_spread(slots: Sequence[Slot], hires: int) -> tuple[int, ...]:
    """``hires`` dealt over the slots in time order, every territory in turn within a month.

    Slots are sorted by month, then territory, so 10 hires over 3 territories x 4 quarters
    fill the first three quarters in every territory and the first territory of the fourth.
    """
    counts = [0] * len(slots)
    for i in range(hires):
        counts[i % len(slots)] += 1
    return tuple(counts)


def whole_draws(precision: Precision, scenario: Scenario) -> tuple[Precision, str | None]:
    """The precision rule in whole parameter draws, and a note when it changed.

    With ``uncertainty.trials_per_draw`` > 1 the futures of one draw share their
    parameters: standard errors cluster them (:mod:`.stats`), which needs at least two
    draws, and a comparison stopped inside a draw would weigh its last draw less. So
    ``min_trials`` is rounded up and ``max_trials`` down to whole draws.
    """
    unc = scenario.spec.uncertainty
    per = unc.trials_per_draw if unc is not None and unc.parameters else 1
    if per <= 1:
        return precision, None
    if precision.max_trials < 2 * per:
        raise PlanError(f"--trials {precision.max_trials}: {scenario.name} shares each parameter draw among {per} "
                        f"trials (uncertainty.trials_per_draw), and standard errors need at least 2 draws: give "
                        f"-n {2 * per} or more")
    top = precision.max_trials // per * per
    low = min(max(-(-precision.min_trials // per) * per, 2 * per), top)
    if (low, top) == (precision.min_trials, precision.max_trials):
        return precision, None
    note = (f"trials per comparison rounded to whole parameter draws of {per} trials: {low:,} to {top:,} "
            f"(asked {precision.min_trials:,} to {precision.max_trials:,})")
    return replace(precision, min_trials=low, max_trials=top), note


def _check_budget(hires, budget_cost, scenario) -> tuple[int | None, float | None]:
    if hires is None and budget_cost is None:
        raise PlanError("give a budget: --hires N (a number of hires), --budget-cost X (a cost limit), or both")
    if hires is not None:
        if isinstance(hires, bool) or not isinstance(hires, (int, np.integer)) or hires < 1:
            raise PlanError(f"--hires must be a whole number >= 1, got {hires!r}")
        hires = int(hires)
    if budget_cost is not None:
        if isinstance(budget_cost, bool) or not isinstance(budget_cost, (int, float, np.integer, np.floating)) \
                or not math.isfinite(budget_cost) or budget_cost <= 0:
            raise PlanError(f"--budget-cost must be a finite amount > 0 in {scenario.spec.currency}, got {budget_cost!r}")
        if not has_hire_costs(scenario):
            raise PlanError(f"--budget-cost {budget_cost:g}: {scenario.name} prices a hire at 0 (hiring_cost, "
                            "base_salary_annual, variable_annual and overhead_per_rep_month are all 0); "
                            "set them, or give --hires instead")
        budget_cost = float(budget_cost)
    return hires, budget_cost


def _check_precision(trials, min_trials, tolerance, seed) -> Precision:
    def whole(x):
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

    if not whole(trials) or trials < 20:
        raise PlanError(f"--trials (the most trials a comparison may use) must be a whole number >= 20, got {trials!r}")
    if not whole(min_trials) or not 20 <= min_trials <= trials:
        raise PlanError(f"--min-trials must be a whole number between 20 and --trials ({trials}), got {min_trials!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
        raise PlanError(f"--tolerance must be a fraction between 0 and 1 (0.1 = a tenth of the best gain), got {tolerance!r}")
    if not whole(seed) or not 0 <= seed <= MAX_SEED:
        raise PlanError(f"--seed must be a whole number between 0 and {MAX_SEED}, got {seed!r}")
    return Precision(min_trials=int(min_trials), max_trials=int(trials), tolerance=float(tolerance))


class _Search:
    """The greedy pass and the local moves over one evaluator."""

    def __init__(self, ev: Evaluator, costs: np.ndarray, hires: int | None, budget: float | None, precision: Precision,
                 progress: Progress | None):
        self.ev, self.costs, self.hires, self.budget, self.p = ev, costs, hires, budget, precision
        self.progress = progress
        self.steps: list[Step] = []
        self.m = len(costs)
        self.scale = math.nan  # gain of the first hire, in the objective's unit: sets the resolution
        self._groups: dict[int, np.ndarray | None] = {}

    def _stat(self, x: np.ndarray) -> tuple[float, float]:
        """Mean and standard error of per-trial values of trials 0..n-1, clustered by parameter draw."""
        n = len(x)
        if n not in self._groups:
            self._groups[n] = clusters(self.ev.layout.full, n)
        return mean_se(x, self._groups[n])

    def _cost(self, plan: Plan) -> float:
        return float(np.dot(plan, self.costs))

    def _fits(self, plan: Plan) -> bool:
        if self.hires is not None and sum(plan) > self.hires:
            return False
        return self.budget is None or self._cost(plan) <= self.budget * (1 + 1e-12)

    def _unit(self, s: int) -> float:
        return self.costs[s] if self.budget is not None else 1.0

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(len(self.steps), 0)

    def greedy(self, plan: Plan) -> tuple[Plan, str]:
        while True:
            cands = [s for s in range(self.m) if self._fits(_plus(plan, s))]
            if not cands:
                return plan, "budget spent" if sum(plan) else "no slot fits the budget"
            best, gain, se, n = self._race_greedy(plan, cands)
            if not gain > 0:
                return plan, "no further hire improves the objective"
            plan = _plus(plan, best)
            if not np.isfinite(self.scale):
                self.scale = gain
            self.steps.append(Step(len(self.steps) + 1, "greedy", self.ev.layout.slots[best], None, gain, se,
                                   float(self.costs[best]), n, len(cands)))
            self._tick()

    def _race_greedy(self, base: Plan, cands: list[int]) -> tuple[int, float, float, int]:
        p = self.p
        n = min(p.min_trials, p.max_trials)
        alive = list(cands)
        while True:
            self.ev.ensure([base] + [_plus(base, s) for s in alive], n)
            v0 = self.ev.values(base, n)
            gain = {s: self.ev.values(_plus(base, s), n) - v0 for s in alive}
            score = {s: gain[s] / self._unit(s) for s in alive}
            mean = {s: self._stat(score[s])[0] for s in alive}
            # ties: the cheaper slot, then the earlier one
            leader = max(alive, key=lambda s: (mean[s] if np.isfinite(mean[s]) else -math.inf, -self._unit(s), -s))
            g, g_se = self._stat(gain[leader])
            resolution = p.tolerance * abs(self.scale if np.isfinite(self.scale) else g)
            keep, settled = [leader], True
            for s in alive:
                if s == leader:
                    continue
                d, d_se = self._stat(score[leader] - score[s])
                if d > p.z * (d_se if np.isfinite(d_se) else 0.0):
                    continue  # beaten
                keep.append(s)
                if not (d_se <= resolution / self._unit(leader)):
                    settled = False
            alive = keep
            known = not np.isfinite(g_se) or g_se == 0 or abs(g) > p.z * g_se or g_se <= resolution
            if ((len(alive) == 1 or settled) and known) or n >= p.max_trials:
                return leader, g, g_se, n
            n = min(2 * n, p.max_trials)

    def local(self, plan: Plan) -> Plan:
        visited = {plan}
        for _ in range(4 * max(sum(plan), 1) + 10):
            moves = [(a, b) for a in range(self.m) if plan[a] > 0 for b in range(self.m)
                     if b != a and self._fits(_plus(_minus(plan, a), b)) and _plus(_minus(plan, a), b) not in visited]
            if not moves:
                return plan
            found = self._race_moves(plan, moves)
            if found is None:
                return plan
            (a, b), gain, se, n = found
            plan = _plus(_minus(plan, a), b)
            visited.add(plan)
            slots = self.ev.layout.slots
            self.steps.append(Step(len(self.steps) + 1, "move", slots[b], slots[a], gain, se,
                                   float(self.costs[b] - self.costs[a]), n, len(moves)))
            self._tick()
        return plan

    def _race_moves(self, base: Plan, moves: list[tuple[int, int]]):
        p = self.p
        n = min(p.min_trials, p.max_trials)
        floor = p.tolerance * abs(self.scale)
        alive = list(moves)
        while True:
            targets = {m: _plus(_minus(base, m[0]), m[1]) for m in alive}
            self.ev.ensure([base] + list(targets.values()), n)
            v0 = self.ev.values(base, n)
            stats = {m: self._stat(self.ev.values(targets[m], n) - v0) for m in alive}
            best = max(alive, key=lambda m: (stats[m][0] if np.isfinite(stats[m][0]) else -math.inf))
            g, g_se = stats[best]
            se0 = g_se if np.isfinite(g_se) else 0.0
            if g > 0 and (g > p.z_early * se0 or (n >= p.max_trials and g > p.z * se0)):
                return best, g, g_se, n
            if n >= p.max_trials:
                return None
            alive = [m for m in alive if np.isfinite(stats[m][0])
                     and stats[m][0] + p.z * (stats[m][1] if np.isfinite(stats[m][1]) else 0.0) >= floor]
            if not alive:
                return None
            n = min(2 * n, p.max_trials)


def _plus(plan: Plan, s: int) -> Plan:
    return plan[:s] + (plan[s] + 1,) + plan[s + 1 :]


def _minus(plan: Plan, s: int) -> Plan:
    return plan[:s] + (plan[s] - 1,) + plan[s + 1 :]


def _through(scenario: Scenario, objective: Objective) -> int:
    """Last month index of the objective's last fiscal year."""
    return {label: last for label, _, last in scenario.fiscal_year_spans()}[objective.years[-1]]


def _figures(name: str, scenario: Scenario, own: list[dict], slots, counts, costs, objective: Objective,
             trials: int, seed: int) -> tuple[PlanFigures, np.ndarray]:
    entries = own + _entries(slots, counts)
    sc = _with_plan(scenario, entries)
    try:
        items = trial_values(simulate(sc, trials, seed))
    except SimulationError as exc:
        raise PlanError(str(exc)) from None
    groups = clusters(sc, trials)
    by = {(i["metric"], i["period"]): i["values"] for i in items if i["territory"] == ALL}
    years = [y for y, _ in scenario.fiscal_years()]

    def stat(metric):
        if not all((metric, f"FY{y}") in by for y in years):
            return None, None
        pairs = [mean_se(by[(metric, f"FY{y}")], groups) for y in years]
        return [m for m, _ in pairs], [s for _, s in pairs]

    p_goal, p_goal_se = stat("p_goal")
    bookings, bookings_se = stat("bookings")
    cost, cost_se = stat("sales_cost")
    values = objective.values(items)
    obj, obj_se = mean_se(values, groups)
    fig = PlanFigures(name, entries, int(sum(counts)), float(np.dot(counts, costs)), years, p_goal, p_goal_se,
                      bookings, bookings_se, cost, cost_se, obj, obj_se)
    return fig, values


def _with_plan(scenario: Scenario, entries: list[dict]) -> Scenario:
    data = dict(scenario.data, hiring_plan=[dict(e) for e in entries])
    try:
        return Scenario.from_dict(data, scenario.source)
    except ScenarioError as exc:
        raise PlanError(str(exc)) from None


def optimize(
    scenario: Scenario,
    hires: int | None = None,
    slots: str | Sequence[str] | Sequence[Slot] = (),
    objective: str | Objective = "",
    *,
    budget_cost: float | None = None,
    trials: int = 4_000,
    min_trials: int = 500,
    tolerance: float = 0.05,
    seed: int = 0,
    cost_window: str = "objective",
    progress: Progress | None = None,
) -> OptimizeResult:
    """Choose where and when to add hires to ``scenario`` so that ``objective`` is largest.

    Parameters
    ----------
    scenario : Scenario
        Its own hiring plan stays; the hires found are added to it.
    hires : int, optional
        Most hires to add (``--hires``).
    slots : str or sequence of str or Slot
        Candidate slots, ``'East,West:2027-01..2027-12'`` or ``'*:2027Q1..2027Q4'``
        (:func:`~salessim.plan.slots.parse_slots`).
    objective : str or Objective
        ``'p_goal[2028]'``, ``'bookings[2028] - sales_cost[2028]'``, ... (maximised).
    budget_cost : float, optional
        Most planned cost of the added hires, in the scenario currency (``--budget-cost``;
        priced by :func:`~salessim.plan.costs.hire_cost` over ``cost_window``). At least
        one of ``hires`` and ``budget_cost`` is needed. With a cost budget, hires are
        ranked by gain per unit of cost; with a count only, by gain per hire.
    trials : int
        Most trials any comparison uses, and the trials of the final comparison of plans.
    min_trials, tolerance : int, float
        The precision rule (:class:`Precision`).
    seed : int
        One seed for every run (common random numbers); the result depends only on the inputs and it.
    cost_window : {"objective", "horizon"}
        Price hires until the end of the objective's last fiscal year, or of the horizon.

    Returns
    -------
    OptimizeResult
    """
    hires, budget_cost = _check_budget(hires, budget_cost, scenario)
    precision, rounded = whole_draws(_check_precision(trials, min_trials, tolerance, seed), scenario)
    if cost_window not in COST_WINDOWS:
        raise PlanError(f"--cost-window must be one of {', '.join(COST_WINDOWS)}, got {cost_window!r}")
    objective = parse_objective(objective) if isinstance(objective, str) else objective
    objective = objective.check(scenario, seed)
    if slots and all(isinstance(s, Slot) for s in slots):
        slot_list = tuple(sorted(set(slots)))
    else:
        slot_list = parse_slots(scenario, slots)
    through = _through(scenario, objective)
    late = [s for s in slot_list if s.month_index > through]
    if late:
        raise PlanError(f"--slots: {late[0].label} starts after FY{objective.years[-1]}, the objective's last fiscal "
                        f"year, ends; a hire there cannot move {objective}")
    last = through if cost_window == "objective" else scenario.horizon_months - 1
    costs = np.array([hire_cost(scenario, s, last) for s in slot_list])
    if budget_cost is not None and hires is None and costs.min() <= 0:
        free = slot_list[int(np.argmin(costs))]
        raise PlanError(f"--budget-cost: a hire in {free.label} costs nothing (its territory's economics keys are 0), "
                        "so a cost budget alone does not limit the hires; give --hires too")
    if budget_cost is not None and costs.min() > budget_cost:
        cheapest = int(np.argmin(costs))
        raise PlanError(f"--budget-cost {budget_cost:,.0f}: the cheapest slot, {slot_list[cheapest].label}, costs "
                        f"{costs[cheapest]:,.0f} (on-target cost until the end of the {cost_window} window); "
                        "no hire fits")

    layout = PlanLayout(scenario, slot_list, through=through)
    ev = Evaluator(layout, objective, seed)
    search = _Search(ev, costs, hires, budget_cost, precision, progress)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # metrics with no value in a trial are NaN, left out
        plan, reason = search.greedy(layout.zeros())
        greedy_steps = len(search.steps)
        if sum(plan):
            plan = search.local(plan)

        own = [dict(e) for e in scenario.data.get("hiring_plan") or []]
        even = even_spread(slot_list, sum(plan))
        zero = layout.zeros()
        figs = []
        values = []
        for name, counts in (("scenario plan", zero), ("even spread", even), ("optimized", plan)):
            fig, v = _figures(name, scenario, own, slot_list, counts, costs, objective, precision.max_trials, seed)
            figs.append(fig)
            values.append(v)
        for fig, v in zip(figs[:2], values[:2]):
            fig.diff, fig.diff_se = mean_se(values[2] - v, clusters(scenario, len(v)))
    notes = [rounded] if rounded else []
    if greedy_steps < len(search.steps):
        notes.append(f"{len(search.steps) - greedy_steps} local move(s) improved on the greedy plan")
    if budget_cost is not None and figs[1].planned_cost > budget_cost:
        notes.append(f"the even spread deals out the same number of hires whatever they cost: its planned cost "
                     f"{figs[1].planned_cost:,.0f} is above --budget-cost {budget_cost:,.0f}")
    chosen = _with_plan(scenario, figs[-1].hiring_plan)
    return OptimizeResult(chosen, objective, slot_list, plan, search.steps, figs, reason, hires, budget_cost,
                          cost_window, tuple(float(c) for c in costs), precision.max_trials, int(seed), precision,
                          ev.trials_simulated, notes)

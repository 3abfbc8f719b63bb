"""Plans as hires per candidate slot, and their per-trial objective on common random numbers.

A plan is a tuple of whole numbers, the hires in each slot. Its scenario is the user's
scenario with one hiring-plan entry appended per slot (zero hires included), always in
slot order. A seat's random streams are keyed by its plan entry and its number within
the entry (SPEC section 7), so two plans share the draws of every seat they share:
adding a hire to a slot adds one seat and leaves all others as they were. Trial k of
every plan then sees the same future, and differences between plans are paired.

The search only needs months up to the end of the objective's last fiscal year, so it
simulates a scenario cut there (the kernel's months before the cut do not depend on the
months after it; a test checks the values are identical). Values are cached per plan and
extended chunk by chunk (trial k depends only on (seed, k, scenario), so the first n
trials of a longer run are the n trials of a shorter one). The kernel runs once per plan
and chunk; the per-trial metrics of a whole batch of plans come from one
:func:`~salessim.summary.trial_values` call on one Dataset, in which each plan's seats sit
at their place among the seats of the batch's largest plan (seats a plan lacks are empty,
which no metric counts), so the cost of labelling is paid once per batch, not per plan.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..engine import _buffers, result_parts, run_chunk
from ..inputs import build_inputs
from ..kernels.month import N_COUNTS, N_FLOWS
from ..scenario import Scenario, ScenarioError, truncated, truncated_data
from ..summary import trial_values
from .errors import PlanError
from .objective import Objective
from .slots import Slot

__all__ = ["PlanLayout", "Evaluator", "Plan", "truncated_data", "truncated"]

Plan = tuple[int, ...]
_BATCH_BYTES = 64 * 2**20  # target size of one batch's buffers


class PlanLayout:
    """Scenarios of plans: ``scenario`` with one appended hiring-plan entry per slot.

    Parameters
    ----------
    scenario : Scenario
        The user's scenario; its own hiring plan stays in place, first.
    slots : sequence of Slot
    through : int, optional
        Last month index to simulate (the end of the objective's last fiscal year). Entries
        of the scenario's own plan that start later keep their place with zero hires, so
        the stream keys of every other entry are unchanged.
    """

    def __init__(self, scenario: Scenario, slots: Sequence[Slot], through: int | None = None):
        self.full = scenario
        self.slots = tuple(slots)
        self._data = truncated_data(scenario, through)
        self.base_seats = len(self.scenario(self.zeros()).seat_territories())

    def zeros(self) -> Plan:
        return (0,) * len(self.slots)

    def entries(self, plan: Plan) -> list[dict]:
        """The appended hiring-plan entries of ``plan`` (one per slot, zero hires included)."""
        return [{"month": s.month, "territory": s.territory, "hires": int(h)} for s, h in zip(self.slots, plan)]

    def scenario(self, plan: Plan) -> Scenario:
        data = dict(self._data, hiring_plan=self._data["hiring_plan"] + self.entries(plan))
        try:
            return Scenario.from_dict(data, self.full.source)
        except ScenarioError as exc:  # slots are checked before; this would be a bug
            raise PlanError(str(exc)) from None

    def seat_positions(self, plan: Plan, union: Plan) -> np.ndarray:
        """Where ``plan``'s seats sit among the seats of ``union`` (a plan with at least as many hires per slot)."""
        parts = [np.arange(self.base_seats)]
        offset = self.base_seats
        for h, u in zip(plan, union):
            parts.append(offset + np.arange(h))
            offset += u
        return np.concatenate(parts).astype(np.int64)


class Evaluator:
    """Per-trial objective values of plans, cached and extended on demand.

    ``values(plan, n)`` is the objective of trials 0..n-1 of ``plan``; :meth:`ensure`
    simulates what is missing for many plans at once.
    """

    def __init__(self, layout: PlanLayout, objective: Objective, seed: int):
        self.layout = layout
        self.objective = objective
        self.seed = int(seed)
        self._values: dict[Plan, np.ndarray] = {}
        self.trials_simulated = 0  # kernel trials run, over all plans (a measure of the work done)
        sc = layout.scenario(layout.zeros())
        h, k = sc.horizon_months, len(sc.territories)
        y = len(sc.fiscal_years())
        per_trial = h * k * (4 * N_COUNTS + 8 * N_FLOWS + 8 * 8) + 24 * y * (layout.base_seats + 8)
        self._batch_trials = max(64, _BATCH_BYTES // per_trial)

    def values(self, plan: Plan, n: int) -> np.ndarray:
        self.ensure([plan], n)
        return self._values[plan][:n]

    def ensure(self, plans: Sequence[Plan], n: int) -> None:
        """Simulate trials so that every plan in ``plans`` has at least ``n`` values."""
        todo: dict[int, list[Plan]] = {}
        for p in dict.fromkeys(tuple(int(h) for h in p) for p in plans):
            have = len(self._values.get(p, ()))
            if have < n:
                todo.setdefault(have, []).append(p)
        for start, group in todo.items():
            step = min(n - start, self._batch_trials)
            for lo in range(start, n, step):
                hi = min(n, lo + step)
                per_batch = max(1, self._batch_trials // (hi - lo))
                for b in range(0, len(group), per_batch):
                    self._extend(group[b : b + per_batch], lo, hi)

    def _extend(self, plans: list[Plan], lo: int, hi: int) -> None:
        k = hi - lo
        union = tuple(int(max(p[s] for p in plans)) for s in range(len(self.layout.slots)))
        union_sc = self.layout.scenario(union)
        n = k * len(plans)
        big = _buffers(n, build_inputs(union_sc))  # every kernel output, for the batch's largest plan
        seat_outputs = {"attainment": np.nan, "tenure": np.nan, "commission_earned": 0.0, "occupant": -1}
        for name, empty in seat_outputs.items():  # seats a plan lacks stay empty, as the kernel leaves them
            big[name][...] = empty
        for j, plan in enumerate(plans):
            out = run_chunk(build_inputs(self.layout.scenario(plan)), self.seed, lo, k)
            rows = slice(j * k, (j + 1) * k)
            for name in ("counts", "flows"):
                big[name][:, rows] = out[name]
            seats = self.layout.seat_positions(plan, union)
            for name, values in out.items():
                if name in seat_outputs:
                    big[name][rows, :, seats] = values  # one advanced index: dims stay in place
                elif name not in ("counts", "flows"):
                    big[name][rows] = values
        self.trials_simulated += n
        values = self.objective.values(trial_values(result_parts(union_sc, big, seed=self.seed)))
        for j, plan in enumerate(plans):
            part = values[j * k : (j + 1) * k]
            old = self._values.get(plan)
            self._values[plan] = part.copy() if old is None else np.concatenate([old, part])

"""Render the pictures shown in the README from the baseline scenario.

    .venv/bin/python docs/make_pictures.py        # 10,000 trials, seed 0 -> docs/*.png

The compare picture puts the baseline beside a plan with two more reps in East from the
start; the tornado picture moves six assumptions down and up by 10%. Every run shares
seed 0 (common random numbers).
"""

from __future__ import annotations

from pathlib import Path

import salessim
import salessim.plot as plot

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TRIALS, SEED, DPI = 10_000, 0, 90


def main() -> None:
    sc = salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    ds = salessim.simulate(sc, TRIALS, SEED)
    for kind, options in [("bookings", {}), ("attainment", {"by_tenure": True}), ("headcount", {}),
                          ("funnel", {}), ("territories", {})]:
        print("wrote", plot.save(ds, kind, DOCS / f"{kind}.png", dpi=DPI, **options))
    more = salessim.simulate(sc.with_overrides({"territories.East.reps": 10,
                                                "territories.East.initial_tenure_months": 24}), TRIALS, SEED)
    stacked = plot.stack_scenarios({"baseline": ds, "East +2 reps": more})
    print("wrote", plot.save(stacked, "compare", DOCS / "compare.png", dpi=DPI))
    from salessim.whatif import sensitivity

    sens = sensitivity(sc, delta=0.1, trials=2_000, seed=SEED, parameters=[
        "territories.West.deal_size.mean", "territories.East.win_rate", "territories.West.leads_per_month",
        "territories.Central.capacity_leads_per_month", "market.annual_growth", "territories.East.attrition_annual"])
    print("wrote", plot.save(sens, "tornado", DOCS / "tornado.png", dpi=DPI))


if __name__ == "__main__":
    main()

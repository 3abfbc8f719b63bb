"""From CRM exports to calibrated scenarios (SPEC section 10).

The second door into the flow (``shared/STYLE.md``): export -> validated table -> fits ->
scenario file, which then enters the usual flow (scenario -> engine -> results).

    import salessim
    cal = salessim.calibrate("opportunities.csv", reps="reps.csv", as_of="2024-12-31")
    cal.write("calibrated.yaml")          # + calibrated-pipeline.csv
    cal.write_report("fit.html")
    cal.data.problem_summary()            # every messy row, grouped, with the rule applied
    cal.fits.outcomes["East"].win_rate    # each fit with its draws
    bt = salessim.backtest("opportunities.csv", reps="reps.csv", as_of=["2024-03-31", "2024-06-30"], months=6)
    bt.metrics["coverage_80"], bt.rows    # how often the actuals fell inside the 80% intervals

Modules: :mod:`.mapping` (presets and mapping files), :mod:`.reading` (CSV/xlsx to
text), :mod:`.parsing` (dates, amounts, flags), :mod:`.importer` (row rules, the
validated table), :mod:`.asof` (the history as known on the as-of date), :mod:`.fits`
(one module per fit), :mod:`.state` (roster, pipeline, actuals at as-of),
:mod:`.writer` (the one YAML writer), :mod:`.calibrate` (composition), :mod:`.figures` and
:mod:`.report` (the fit report), :mod:`.synthetic` (exports from known parameters),
:mod:`.history` (a simulated trial as an export: ground truth),
:mod:`.backtest` (calibrate -> simulate -> score at past as-of dates) and :mod:`.fan` (its
fan chart).
"""

from .backtest import Backtest, Window, backtest
from .calibrate import Calibration, Fits, calibrate
from .history import history
from .importer import CrmData, read_export
from .mapping import PRESETS, CrmError, Mapping, load_mapping
from .synthetic import Truth, TerritoryTruth, synthetic_export, write_export

__all__ = ["calibrate", "Calibration", "Fits", "backtest", "Backtest", "Window", "read_export", "CrmData", "CrmError", "Mapping", "load_mapping",
           "PRESETS", "Truth", "TerritoryTruth", "synthetic_export", "write_export", "history"]

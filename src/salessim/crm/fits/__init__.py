"""Fits: pure functions from validated tables to parameter distributions.

Each fit takes the as-of view of the export (:func:`salessim.crm.asof.known_at`) and
returns a point estimate with ``draws`` (posterior or bootstrap), which become the
``uncertainty:`` block of the calibrated scenario. One module per question:

- :mod:`.arrivals`: new opportunities per month per territory, growth, seasonality
- :mod:`.outcomes`: win rate and sales-cycle pmf as competing risks (won / lost / still
  open), and the win probability of an open deal given its age
- :mod:`.skill`: rep-to-rep skill spread after removing binomial noise
- :mod:`.quarter`: quarter-end concentration (``quarter_end_pull``)
- :mod:`.deal_size`: lognormal deal size with a goodness-of-fit check, or empirical
- :mod:`.workforce`: attrition by tenure band, ramp by tenure month
"""

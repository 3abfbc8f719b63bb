"""The Jinja2 template of the HTML report (a Python string, so it ships with the package).

Self-contained by construction: CSS inline, figures as ``data:`` PNGs, no scripts and
no external URL anywhere. :data:`STYLE` and :data:`FIGURES` are shared with the fit
report (:mod:`salessim.crm._report_template`), so both look alike.
"""

STYLE = """<style>
  :root { --ink: #1d232b; --muted: #5d6673; --line: #dfe3e8; --accent: #1f5fa8; --good: #2a9d5c; --bad: #c0392b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
         color: var(--ink); background: #f6f7f9; }
  main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 60px; background: #fff; }
  h1 { font-size: 28px; margin: 0 0 4px; }
  h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
  h3 { font-size: 16px; margin: 22px 0 8px; }
  .lede { color: var(--muted); margin: 0 0 6px; font-size: 16px; }
  .meta { color: var(--muted); font-size: 13px; margin: 0; }
  nav { margin: 14px 0 0; font-size: 14px; }
  nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 14px; }
  .card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
  .card h3 { margin: 0 0 6px; font-size: 15px; color: var(--muted); font-weight: 600; }
  .big { font-size: 34px; font-weight: 700; line-height: 1.1; }
  .big.good { color: var(--good); } .big.bad { color: var(--bad); }
  .card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 10px 0 0; font-size: 14px; }
  .card dt { color: var(--muted); }
  .card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  figure { margin: 18px 0 26px; }
  figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
  figcaption { color: var(--muted); font-size: 14px; margin-top: 6px; }
  table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 14px; }
  th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
  th { background: #f0f2f5; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.group th { background: #fff; color: var(--accent); text-transform: capitalize; padding-top: 12px;
                border-bottom: 2px solid var(--line); }
  .note { color: var(--muted); font-size: 13.5px; }
  code { font-size: 13px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
  @media print { body { background: #fff; } main { padding: 0; } figure, table { break-inside: avoid; } }
</style>"""

# the figures as embedded PNGs (``figures``: the dicts of :func:`salessim.report.embed_figure`)
FIGURES = """<section id="figures">
<h2>Figures</h2>
{% for fig in figures %}
<figure>
  <img src="data:image/png;base64,{{ fig.data }}" alt="{{ fig.alt }}" width="{{ fig.width }}" height="{{ fig.height }}">
  <figcaption>{{ fig.caption }}</figcaption>
</figure>
{% endfor %}
</section>
"""

# The start of every report page, through the opening of its header: the same document
# head and page style for the results report and the fit report (crm/_report_template.py).
PAGE_START = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="salessim {{ version }}">
<title>{{ title }}</title>
""" + STYLE + """
</head>
<body>
<main>
<header>
"""

TEMPLATE = PAGE_START + """  <h1>{{ name }}</h1>
  {% if description %}<p class="lede">{{ description }}</p>{% endif %}
  <p class="meta">{{ "{:,}".format(trials) }} simulated futures, seed {{ seed }} &middot; {{ horizon }} &middot;
     results created {{ created }} &middot; salessim {{ version }}</p>
  <nav><a href="#key-numbers">Key numbers</a><a href="#figures">Figures</a><a href="#summary">Summary tables</a><a
       href="#assumptions">Assumptions</a><a href="#provenance">Provenance</a></nav>
</header>

<section id="key-numbers">
<h2>Key numbers</h2>
<div class="cards">
{% for card in cards %}
  <div class="card">
    <h3>FY{{ card.fy }}: P(bookings &ge; goal)</h3>
    <div class="big {{ card.tone }}">{{ card.p_goal }}</div>
    <dl>
      <dt>median bookings</dt><dd>{{ card.median }}</dd>
      <dt>goal</dt><dd>{{ card.goal }}</dd>
      <dt>median / goal</dt><dd>{{ card.ratio }}</dd>
      <dt>P10 - P90 bookings</dt><dd>{{ card.range }}</dd>
      <dt>reps at quota</dt><dd>{{ card.reps_at_quota }}</dd>
      {% for label, value in card.costs %}<dt>{{ label }}</dt><dd>{{ value }}</dd>
      {% endfor %}
    </dl>
  </div>
{% endfor %}
</div>
{% if not cards %}<p class="note">The horizon covers no full fiscal year, so there is no goal to compare against.</p>{% endif %}
<p class="note">P(goal) is the share of simulated futures in which the fiscal year's bookings reach the goal
(&plusmn; {{ p_goal_se }} Monte Carlo standard error at most). Reps at quota: the mean share of filled seats
whose rep booked at least their quota.{% if has_costs %} Cost figures are medians across futures.{% endif %}</p>
</section>

{% if balance %}
<section id="balance">
<h2>Territory balance (FY{{ balance.fy }})</h2>
<table>
  <thead><tr><th>territory</th><th class="num">leads per ramped rep / month</th><th class="num">capacity</th>
    <th class="num">leads unworked</th><th class="num">expected attainment</th><th class="num">P(attain)</th>
    <th>flag</th></tr></thead>
  <tbody>
  {% for row in balance.rows %}<tr><td>{{ row.territory }}</td><td class="num">{{ row.load }}</td><td class="num">{{ row.capacity }}</td>
    <td class="num">{{ row.unworked }}</td><td class="num">{{ row.attainment }}</td><td class="num">{{ row.p_attain }}</td>
    <td>{% if row.flag %}<strong>{{ row.flag }}</strong>: {{ row.reason }}{% endif %}</td></tr>
  {% endfor %}
  </tbody>
</table>
<p class="note">Leads per ramped rep: the year's leads over its ramped rep-months. Expected attainment and P(attain):
reps in seat at the year's end. A territory is flagged understaffed when {{ balance.unworked_limit }} or more of its
leads go unworked, and overstaffed when a ramped rep gets less than {{ balance.load_limit }} of the leads one can
work (reps short of demand).</p>
{% if balance.hire %}
<p>Next hire: <strong>{{ balance.hire.territory }}</strong>. One more rep starting {{ balance.hire.month }} adds
{{ balance.hire.gain }} to {{ balance.hire.objective }} (paired over {{ balance.hire.trials }} futures; elsewhere:
{{ balance.hire.others }}). <code>salessim optimize</code> plans several hires.</p>
{% elif balance.note %}
<p class="note">Next hire: {{ balance.note }}.</p>
{% endif %}
</section>
{% endif %}

""" + FIGURES + """
<section id="summary">
<h2>Summary tables</h2>
<p class="note">Across {{ "{:,}".format(trials) }} trials: the mean with its Monte Carlo standard error and the 10th, 50th
and 90th percentiles. Money in {{ currency }}.</p>
{% for block in summary %}
<h3>{{ block.period }}</h3>
<table>
  <thead><tr><th>metric</th><th>territory</th><th>unit</th><th class="num">mean</th><th class="num">&plusmn; se</th>
    <th class="num">P10</th><th class="num">P50</th><th class="num">P90</th></tr></thead>
  <tbody>
  {% for row in block.rows %}{% if row.group %}<tr class="group"><th colspan="8">{{ row.group }}</th></tr>
  {% endif %}<tr><td>{{ row.metric }}</td><td>{{ row.territory }}</td><td>{{ row.unit }}</td><td class="num">{{ row.mean }}</td>
    <td class="num">{{ row.se }}</td><td class="num">{{ row.p10 }}</td><td class="num">{{ row.p50 }}</td><td class="num">{{ row.p90 }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endfor %}
</section>

<section id="assumptions">
<h2>Assumptions</h2>
<p class="note">The scenario as written in the results file; keys it leaves out take their documented defaults
(<code>salessim keys</code> lists them).</p>
{% for section in assumptions %}
<h3>{{ section.title }}</h3>
<table>
  <thead><tr>{% for col in section.columns %}<th>{{ col }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in section.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
  {% endfor %}
  </tbody>
</table>
{% endfor %}
</section>

<section id="provenance">
<h2>Provenance</h2>
<table>
  <tbody>
  {% for label, value in provenance %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>
  {% endfor %}
  </tbody>
</table>
<p class="note">The results file alone is enough to rerun this: it stores the scenario text, the seed and the
number of trials.</p>
</section>
</main>
</body>
</html>
"""

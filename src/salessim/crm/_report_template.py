"""The Jinja2 template of the fit report; the page style is the results report's, so both look alike."""

from .._report_template import FIGURES, PAGE_START

TEMPLATE = PAGE_START + """  <h1>{{ title }}</h1>
  <p class="lede">As of {{ as_of }}: history {{ history }}; the calibrated scenario starts {{ start }}.</p>
  <p class="meta">{% for f in files %}{{ f.role }}: {{ f.path }} ({{ "{:,}".format(f.rows) }} rows read){% if not loop.last %} &middot; {% endif %}{% endfor %} &middot; salessim {{ version }} &middot; {{ created }}</p>
  <nav><a href="#fitted">Fitted numbers</a><a href="#figures">Figures</a><a href="#sources">Where each number comes from</a><a href="#import">Import</a></nav>
</header>
{% if notes %}
<section><h2>Notes</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul></section>
{% endif %}
<section id="fitted">
<h2>Fitted numbers</h2>
<table>
  <tr>{% for c in territory_columns %}<th{% if not loop.first %} class="num"{% endif %}>{{ c }}</th>{% endfor %}</tr>
  {% for row in territory_rows %}<tr>{% for v in row %}<td{% if not loop.first %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
  {% endfor %}
</table>
<table>
  <tr><th>company</th><th class="num">value</th><th>detail</th></tr>
  {% for row in company_rows %}<tr><td>{{ row[0] }}</td><td class="num">{{ row[1] }}</td><td>{{ row[2] }}</td></tr>
  {% endfor %}
</table>
</section>
""" + FIGURES + """<section id="sources">
<h2>Where each number comes from</h2>
<p class="note">data: fitted from the export; base: from the --base scenario; default: the export cannot inform it
(replace it with your plan's value).</p>
<table>
  <tr><th>key</th><th>source</th><th>detail</th></tr>
  {% for r in sources %}<tr><td><code>{{ r.key }}</code></td><td>{{ r.source }}</td><td>{{ r.detail }}</td></tr>
  {% endfor %}
</table>
</section>
<section id="import">
<h2>Import</h2>
<p>{{ "{:,}".format(used) }} opportunities used. Date format: {{ date_formats }}.{% if reading_notes %} {{ reading_notes }}.{% endif %}</p>
<h3>Problems found, and what was done</h3>
{% if problems %}
<table>
  <tr><th>file</th><th>problem</th><th>rule applied</th><th class="num">rows</th><th>rows (first)</th></tr>
  {% for p in problems %}<tr><td>{{ p.file }}</td><td>{{ p.problem }}</td><td>{{ p.action }}</td><td class="num">{{ "{:,}".format(p.rows) }}</td><td>{{ p.examples }}</td></tr>
  {% endfor %}
</table>
{% else %}<p class="note">None: every row was read as it is.</p>{% endif %}
<h3>Stage values</h3>
<table>
  <tr><th>stage</th><th>read as</th><th class="num">rows</th></tr>
  {% for s in stages %}<tr><td>{{ s.stage }}</td><td>{{ s.status }}</td><td class="num">{{ "{:,}".format(s.rows) }}</td></tr>
  {% endfor %}
</table>
</section>
</main>
</body>
</html>
"""

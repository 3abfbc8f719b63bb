"""The summary table's fixed column widths (``table._natural_widths``) print what rich's own layout prints.

``render_summary`` hands rich each column's natural width (and ``no_wrap``) when the table
fits, to save it measuring and wrapping every cell; the characters on the screen must be
the ones rich would print by itself, for tables that fit and tables that do not (long or
wide-character names, narrow terminals), with and without colour.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

import salessim.table as table

_NAMES = st.text(alphabet=st.sampled_from("abcXYZ_-. 1é東京🙂"), min_size=1, max_size=70)
_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.integers(-10**12, 10**12).map(float))


@st.composite
def _rows(draw):
    """Rows of one section (one rich table), one or two periods."""
    rows = []
    section = draw(st.sampled_from(["goal", "territory", "economics"]))
    for period in draw(st.lists(st.sampled_from(["FY2027", "FY2028", "horizon"]), min_size=1, max_size=2, unique=True)):
        for _ in range(draw(st.integers(1, 3))):
            rows.append({"section": section, "metric": draw(_NAMES), "period": period, "territory": draw(_NAMES),
                         "unit": draw(st.sampled_from(["USD", "fraction", "ratio", "reps", "ÆØÅ per year"])),
                         **{c: draw(_VALUES) for c in ("mean", "se", "p10", "p50", "p90")}})
    return rows


def _render(rows, width: int, colour: bool) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=colour, color_system="truecolor" if colour else None)
    attrs = {"scenario_name": "s", "trials": 10, "seed": 1, "description": "d"}
    table.render_summary(attrs, rows, saved_to="out.h5", console=console)
    return buf.getvalue()


@settings(max_examples=80, deadline=None)
@given(_rows(), st.integers(-3, 3), st.sampled_from([None, 40, 80]), st.booleans())
def test_fixed_widths_print_what_riches_own_layout_prints(rows, near, width, colour):
    if width is None:  # a terminal within 3 cells of the table's natural width: the edge of fitting
        width = max(cell_len(line) for line in _render(rows, 1000, False).splitlines()) + near
    fast = _render(rows, width, colour)
    natural = table._natural_widths
    try:
        table._natural_widths = lambda *args: None  # rich measures, shrinks and wraps by itself
        own = _render(rows, width, colour)
    finally:
        table._natural_widths = natural
    assert fast == own


def test_the_widths_are_used_when_the_table_fits_and_not_otherwise():
    header = ["metric", "unit"]
    cells = [[table.terminal("bookings"), table.terminal("USD")]]
    assert table._natural_widths(header, cells, 120) == [8, 4]
    # 8 + 4 widths, 2 x 2 padding, 3 rules: 19 cells wide
    assert table._natural_widths(header, cells, 19) == [8, 4]
    assert table._natural_widths(header, cells, 18) is None
    assert table._natural_widths(header, [[Text("two\nlines"), Text("USD")]], 120) is None

"""User text is text everywhere (issue 14, items 5 and 6).

0.1.0 crashed ``run`` (after saving) and ``summary`` on a territory or description with rich
markup (``[/]``), crashed ``plot`` and ``report`` on a name with ``$...$`` (mathtext),
passed ANSI escapes to the terminal, and wrote names starting with ``=``, ``+``, ``-`` or
``@`` as live formulas into xlsx exports (5,203 formula cells, ``=HYPERLINK(...)``
included). The scenarios here carry every such payload at once.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from rich.console import Console

import salessim
from conftest import copy_scenario, self_contained_text
from salessim.cli import main
from salessim.export import spreadsheet_safe, tables
from salessim.table import render_summary
from salessim.textsafe import CONTROL_CHARACTERS, is_formula_like, plot_text, printable, spreadsheet_text

ROOT = Path(__file__).resolve().parents[1]
MARKUP = "[/] [link=http://evil.example]E$\\frac$ast[/link] :smile:"
PATHLIKE = "[/][bold]West $x^$[/bold]"  # no = or , so it can stand in a --vary path
FORMULA = '=HYPERLINK("http://evil.example","click")'
NAMES = [MARKUP, FORMULA, "+1+2", "-3+4", "@SUM(A1)", PATHLIKE]
DESCRIPTION = "\x1b[31mred\x1b[0m [bold]loud[/] $x^$ \u202eevil =cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> Path:
    """A folder with payload.yaml (the baseline with hostile names) and payload.h5 (its results)."""
    folder = tmp_path_factory.mktemp("text")
    data = yaml.safe_load(self_contained_text(ROOT / "scenarios" / "baseline.yaml"))
    data["description"] = DESCRIPTION
    data["horizon_months"] = 12  # one fiscal year keeps the exports small
    data["goal"]["annual"] = data["goal"]["annual"][:1]
    data["territories"] = [dict(data["territories"][i % 3], name=name) for i, name in enumerate(NAMES)]
    data["hiring_plan"] = [{"month": "2027-03", "territory": MARKUP, "hires": 1}]
    del data["pipeline_file"]  # open deals with hostile ids and owners, in the hostile territories
    data["pipeline"] = [{"id": f"=HYPERLINK({i})", "territory": name, "owner": MARKUP, "age_months": 1, "amount": 10_000}
                        for i, name in enumerate(NAMES)]
    (folder / "payload.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    salessim.save_results(salessim.simulate(salessim.load_scenario(folder / "payload.yaml"), 6, 0), folder / "payload.h5")
    return folder


def invoke(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_run_and_summary_print_markup_and_escapes_as_text(payload, tmp_path):
    out = invoke("run", payload / "payload.yaml", "-n", "4", "-o", tmp_path / "r.h5")
    again = invoke("summary", tmp_path / "r.h5")
    for text in (out, again):
        assert "\x1b" not in text and "\u202e" not in text
        assert "\\x1b[31mred" in text and "\\u202e" in text  # shown, as escapes
        assert "[bold]loud[/]" in text  # markup printed as written
    assert "[link=http:/" in again  # territory names in the table (the column cuts them)


def test_render_summary_never_interprets_markup(payload):
    ds = salessim.open_results(payload / "payload.h5")
    buf = io.StringIO()
    render_summary(ds, salessim.summarize(ds), saved_to=Path("a[/]b.h5"), console=Console(file=buf, width=400))
    text = buf.getvalue()
    assert MARKUP in text and "a[/]b.h5" in text and ":smile:" in text


def test_whatif_tables_print_markup_in_paths_and_names(payload):
    out = invoke("sweep", payload / "payload.yaml", "--vary", f"territories.{PATHLIKE}.reps=2,3", "-n", "3")
    assert f"{PATHLIKE}.reps" in out


def test_plot_and_report_draw_mathtext_as_text(payload, tmp_path):
    invoke("plot", payload / "payload.h5", "--kind", "territories", "-o", tmp_path / "t.svg")
    invoke("report", payload / "payload.h5", "-o", tmp_path / "r.html")
    assert (tmp_path / "t.svg").stat().st_size > 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert MARKUP in html  # the name as text, in the tables
    assert html.count("<img") == 5  # every figure drew (0.1.0 failed on the first)


def test_plot_text_renders_literally():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title(plot_text("E$\\frac$ast $x^$"))
    ax.set_xticks([0, 1], [plot_text("$\\undefined$"), plot_text("a$b$c")])
    fig.savefig(io.BytesIO(), format="png")  # unescaped, each of these raises ValueError (mathtext)


def test_report_escapes_html_in_names(payload, monkeypatch):
    import salessim.report as report

    monkeypatch.setattr(report, "_figures", lambda ds: [])  # the figures are tested above; this is about the page
    ds = salessim.open_results(payload / "payload.h5")
    ds.attrs["scenario_name"] = "<script>alert(1)</script>"
    html = report.render_report(ds)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_xlsx_export_has_no_formula_cells(payload, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    import salessim.export as export

    full = export.monthly_table
    monkeypatch.setattr(export, "monthly_table", lambda ds: full(ds).head(400))  # openpyxl is slow; 400 rows will do
    invoke("export", payload / "payload.h5", "-o", tmp_path / "x.xlsx")
    book = load_workbook(tmp_path / "x.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {c.value for c in cells if isinstance(c.value, str)}
    for name in NAMES[1:]:
        assert name in names  # the exact text, stored as text
    formula_like = [c for c in cells if is_formula_like(c.value)]
    assert formula_like and all(c.data_type == "s" and c.quotePrefix for c in formula_like)
    numbers = [c.value for c in cells if c.data_type == "n" and c.value is not None]
    assert len(numbers) > 1000  # numbers stay numbers
    assert any("\\x1b[31mred" in str(c.value) for c in cells)  # control characters shown (worksheets refuse them)


def test_csv_export_and_summary_csv_quote_formulas(payload, tmp_path):
    invoke("export", payload / "payload.h5", "--format", "csv", "-o", tmp_path / "t")
    summary = pd.read_csv(tmp_path / "t" / "summary.csv", keep_default_na=False)
    territories = set(summary["territory"])
    assert {"'" + FORMULA, "'+1+2", "'-3+4", "'@SUM(A1)", MARKUP} <= territories
    assert not [t for t in territories if is_formula_like(t)]
    assert summary["mean"].dtype == np.float64 and summary["trials"].dtype == np.int64  # numbers stay numbers
    printed = invoke("summary", payload / "payload.h5", "--format", "csv")
    assert "'" + FORMULA.replace('"', '""') in printed and "\n" + FORMULA not in printed


def test_parquet_keeps_text_exactly(payload, tmp_path):
    invoke("export", payload / "payload.h5", "--format", "parquet", "-o", tmp_path / "p")
    assert FORMULA in set(pd.read_parquet(tmp_path / "p" / "summary.parquet")["territory"])


def test_messages_show_control_characters_as_escapes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_scenario(ROOT / "scenarios" / "baseline.yaml", tmp_path / "b.yaml")
    result = CliRunner().invoke(main, ["run", "no\x1b[2Jsuch.yaml"])
    assert result.exit_code == 2 and "\x1b" not in result.output and "no\\x1b[2Jsuch.yaml" in result.output
    result = CliRunner().invoke(main, ["validate", "b.yaml", "--set", "territories.East.win_rate=\x1b]0;owned\x07"])
    assert result.exit_code == 2 and "\x1b" not in result.output and "\\x1b]0;owned\\x07" in result.output


# --------------------------------------------------------------------------- the helpers

@settings(max_examples=60)
@given(st.text())
def test_printable_leaves_no_control_character(text):
    shown = printable(text)
    assert not CONTROL_CHARACTERS.search(shown)
    assert printable(shown) == shown  # escaping is idempotent on its output
    if not CONTROL_CHARACTERS.search(text):
        assert shown == text  # plain text is untouched


@settings(max_examples=60)
@given(st.text())
def test_plot_text_has_no_unescaped_dollar(text):
    assert not re.search(r"(?<!\\)\$", plot_text(text).replace("\\\\", ""))


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("East", "East"), ("", ""), (-5, -5), (3.5, 3.5), (None, None),
])
def test_spreadsheet_text_follows_owasp(value, cell):
    assert spreadsheet_text(value) == cell


def test_spreadsheet_safe_touches_only_text_columns():
    frame = pd.DataFrame({"name": ["=x", "y"], "value": [-1.0, 2.0]})
    safe = spreadsheet_safe(frame)
    assert list(safe["name"]) == ["'=x", "y"] and safe["value"].tolist() == [-1.0, 2.0]
    assert list(frame["name"]) == ["=x", "y"]  # the input is left alone


def test_export_tables_keep_exact_names(payload):
    t = tables(salessim.open_results(payload / "payload.h5"))
    assert FORMULA in set(t["summary"]["territory"])  # neutralised only when written for a spreadsheet

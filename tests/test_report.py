"""The HTML report: content, self-containment, the CLI, and a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import salessim
from salessim.cli import main
from salessim.report import ReportError, render_report, write_report

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
TITLE = "salessim report: baseline"


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return salessim.simulate(salessim.load_scenario(BASELINE), trials=300, seed=2)


@pytest.fixture(scope="module")
def html(ds) -> str:
    return render_report(ds, source="results/baseline.h5")


@pytest.fixture(scope="module")
def report_file(ds, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    salessim.save_results(ds, folder / "baseline.h5")
    result = CliRunner().invoke(main, ["report", str(folder / "baseline.h5"), "-o", str(folder / "report.html")])
    assert result.exit_code == 0, result.output
    return folder / "report.html"


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


# --------------------------------------------------------------------------- content


def test_report_has_the_sections_in_order(html):
    assert f"<title>{TITLE}</title>" in html
    positions = [html.index(f'id="{s}"') for s in ("key-numbers", "figures", "summary", "assumptions", "provenance")]
    assert positions == sorted(positions)  # key numbers first
    assert "Three territories, 26 reps, FY2027-FY2029 plan" in html


def test_key_numbers_match_the_results(ds, html):
    summary = salessim.summarize(ds)
    key = html[html.index('id="key-numbers"'):html.index('id="figures"')]
    for fy in ds["fiscal_year"].values:
        rows = summary[(summary.period == f"FY{fy}") & (summary.territory == "all")]
        p_goal = float(rows[rows.metric == "p_goal"]["mean"].iloc[0])
        reps = float(rows[rows.metric == "reps_at_quota"]["mean"].iloc[0])
        assert f"FY{fy}: P(bookings &ge; goal)" in key
        assert f'">{p_goal:.0%}</div>' in key
        assert f"<dd>{reps:.0%}</dd>" in key
    from salessim.plot import format_money

    first_goal = float(ds["goal"].values[0])
    assert "median bookings" in key and f"<dd>{format_money(first_goal, 'USD')}</dd>" in key  # FY2027 goal


def test_figures_are_embedded_pngs(html):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 5
    assert all(len(data) > 20_000 for data in images)
    assert "P10-P90" in html  # the captions explain the bands


def test_report_is_self_contained(html):
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", html) is None  # only data: URIs and anchors
    assert "@import" not in html and "url(" not in html


def test_summary_assumptions_and_provenance(ds, html):
    summary = html[html.index('id="summary"'):html.index('id="assumptions"')]
    for fy in ds["fiscal_year"].values:
        assert f"<h3>FY{fy}</h3>" in summary
    assert "<td>p_goal</td>" in summary and "<td>reps_at_quota</td>" in summary
    assumptions = html[html.index('id="assumptions"'):html.index('id="provenance"')]
    first_goal = f"{float(ds['goal'].values[0]):,.0f}"
    for word in ("East", "West", "Central", "win_rate", "leads_per_month", "Hiring plan", "2027-03",
                 first_goal, "market.seasonality"):
        assert word in assumptions, word
    provenance = html[html.index('id="provenance"'):]
    assert f"<td>{salessim.__version__}</td>" in provenance
    assert "<th>seed</th><td>2</td>" in provenance and "<th>trials</th><td>300</td>" in provenance
    assert "results/baseline.h5" in provenance and str(ds.attrs["created"]) in provenance


def test_user_text_is_escaped(ds, monkeypatch):
    monkeypatch.setattr("salessim.report.FIGURES", ())  # figures are tested above; keep this fast
    odd = ds.copy()
    odd.attrs = {**ds.attrs, "description": "<b>bold</b> & <script>alert(1)</script>"}
    html = render_report(odd)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


def test_cost_lines_only_when_costs_exist(ds, monkeypatch):
    monkeypatch.setattr("salessim.report.FIGURES", ())
    base = ds.drop_vars([v for v in ("sales_cost", "cost_of_sales", "total_cost", "commission") if v in ds])
    key = lambda h: h[h.index('id="key-numbers"'):h.index('id="figures"')]  # noqa: E731
    plain = key(render_report(base))
    assert "cost" not in plain.lower().replace("cost figures", "") and "commission" not in plain
    costly = base.assign(cost_of_sales=0.25 * base["bookings"])
    costly["cost_of_sales"].attrs.update(long_name="cost of sales", units="USD")
    text = key(render_report(costly))
    assert "cost of sales (median)" in text and "<dd>25.0%</dd>" in text


def test_report_refuses_what_is_not_one_simulation(ds):
    stacked = xr.concat([ds[["bookings", "goal"]]] * 2, dim="scenario")
    with pytest.raises(ReportError, match="one simulation"):
        render_report(stacked)


def test_write_report_is_atomic(ds, tmp_path):
    path = write_report(ds, tmp_path / "sub" / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["r.html"]


# --------------------------------------------------------------------------- CLI


def test_cli_report(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert f"<title>{TITLE}</title>" in text and 100_000 < len(text) < 3_000_000


def test_cli_report_default_output_and_errors(report_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(report_file.parent / "baseline.h5", "plan.h5")
    result = CliRunner().invoke(main, ["report", "plan.h5"])
    assert result.exit_code == 0 and Path("plan.html").is_file()
    result = CliRunner().invoke(main, ["report", "missing.h5", "-o", "x.html"])
    assert result.exit_code == 2 and "no such results file" in result.output and not Path("x.html").exists()
    Path("junk.h5").write_text("junk")
    result = CliRunner().invoke(main, ["report", "junk.h5", "-o", "x.html"])
    assert result.exit_code == 2 and "Traceback" not in result.output and not Path("x.html").exists()


# --------------------------------------------------------------------------- a real browser


def test_report_renders_in_headless_chromium(report_file, tmp_path):
    browser = _find_chromium()
    if browser is None:
        pytest.skip("no chromium binary found (chromium, chromium-browser, /usr/bin/chromium); "
                    "install Debian's `chromium` package to run the browser test (.ci/run tries to)")
    shot = tmp_path / "screenshot.png"
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
            "--enable-logging=stderr", "--v=0", "--dump-dom", report_file.resolve().as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # rendered: the DOM has the title and the key numbers
    assert f"<title>{TITLE}</title>" in done.stdout
    assert "Key numbers" in done.stdout and done.stdout.count("data:image/png;base64,") == 5
    # no console errors from the page (Chromium logs page console messages as CONSOLE lines)
    page = report_file.name
    bad = [line for line in done.stderr.splitlines()
           if ("CONSOLE" in line and page in line) or "Uncaught" in line]
    assert not bad, bad
    # the screenshot is a real picture, not a blank page
    assert shot.is_file() and shot.stat().st_size > 20_000
    img = mpimg.imread(shot)
    assert img.shape[:2] == (2000, 1280)
    rgb = img[..., :3]
    assert rgb.std() > 0.05  # not one colour
    assert len(np.unique((rgb.reshape(-1, 3) * 255).astype(np.uint8), axis=0)) > 50  # text, figures, colours

"""Pictures: every kind drawn from a small real run and checked for content, the
what-if kinds from Datasets built here, and the ``salessim plot`` command."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import salessim
import salessim.plot as P
from salessim.cli import main

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
TRIALS = 300


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return salessim.simulate(salessim.load_scenario(BASELINE), trials=TRIALS, seed=0)


@pytest.fixture(scope="module")
def results_file(ds, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plot") / "baseline.h5"
    salessim.save_results(ds, path)
    return path


@pytest.fixture(scope="module")
def stacked(ds) -> xr.Dataset:
    """Two plans on the same seed, stacked along ``scenario`` (the compare contract)."""
    sc = salessim.load_scenario(BASELINE)
    more = salessim.simulate(sc.with_overrides({"territories.East.reps": 10}), trials=TRIALS, seed=0)
    return P.stack_scenarios({"baseline": ds, "East +2": more})


@pytest.fixture
def tornado_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "parameter": ["territories.East.win_rate", "territories.East.attrition_annual", "market.annual_growth"],
        "low": [9.9e6, 10.3e6, 10.15e6],
        "high": [10.6e6, 10.1e6, 10.25e6],
        "base": 10.2e6,
        "low_value": [0.40, 0.27, 0.09],
        "high_value": [0.48, 0.33, 0.11],
    })


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _fy_totals(ds: xr.Dataset) -> dict[int, np.ndarray]:
    total = ds["bookings"].sum("territory").values
    of_month = ds["fiscal_year_of_month"].values
    return {int(fy): total[:, of_month == fy].sum(axis=1) for fy in ds["fiscal_year"].values}


# --------------------------------------------------------------------------- results kinds


def test_bookings_fan_chart(ds):
    ax = P.bookings(ds)
    assert isinstance(ax, Axes) and len(ax.figure.axes) == 1
    years = [int(y) for y in ds["fiscal_year"].values]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2 * len(years)  # P10-P90 and P25-P75 per fiscal year
    goal_lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(goal_lines) == len(years)
    assert sorted(float(ln.get_ydata()[0]) for ln in goal_lines) == sorted(float(g) for g in ds["goal"].values)
    title = ax.get_title(loc="left")
    assert "P(goal)" in title
    for fy, total in _fy_totals(ds).items():
        goal = float(ds["goal"].sel(fiscal_year=fy))
        assert f"FY{fy} {np.mean(total >= goal):.0%}" in title
    # the median line ends at the median of the year's total
    medians = [ln for ln in ax.get_lines() if ln.get_label() == "median" or ln.get_linestyle() == "-"]
    last = max(medians, key=lambda ln: ln.get_xdata()[-1])
    assert float(last.get_ydata()[-1]) == pytest.approx(np.median(_fy_totals(ds)[years[-1]]))
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"P10-P90", "P25-P75", "median", "goal"}
    assert ax.get_ylabel().endswith("(USD)")
    assert ax.yaxis.get_major_formatter()(8_000_000, 0) == "$8M"


def test_bookings_draws_on_a_given_axes(ds):
    from matplotlib.figure import Figure as F

    fig = F()
    ax = fig.add_subplot()
    assert P.bookings(ds, ax=ax) is ax


def test_attainment_histogram(ds):
    ax = P.attainment(ds)
    fy = int(ds["fiscal_year"].values[0])
    att = ds["attainment"].sel(fiscal_year=fy).values.ravel()
    att = att[np.isfinite(att)]
    bars = _bars(ax)
    assert len(bars) == 60  # 5-point bins from 0 to 300%
    assert sum(b.get_height() for b in bars) == pytest.approx(1.0)  # shares of rep-years
    share = np.mean(att >= 1.0)
    assert f"{share:.0%} of reps at or above quota" in ax.get_title(loc="left")
    assert any(ln.get_xdata()[0] == 1.0 for ln in ax.get_lines())  # the 100% line
    assert ax.xaxis.get_major_formatter()(1.0, 0) == "100%"


def test_attainment_by_tenure_and_year(ds):
    ax = P.attainment(ds, by_tenure=True, fiscal_year=2028)
    assert "FY2028" in ax.get_title(loc="left") and "tenure" in ax.get_title(loc="left")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    bands = [label for label in labels if "at quota (" in label]
    assert 2 <= len(bands) <= 4
    assert len(_bars(ax)) == 60 * len(bands)
    assert sum(b.get_height() for b in _bars(ax)) == pytest.approx(1.0)


def test_headcount_two_panels(ds):
    fig = P.headcount(ds)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    top, bottom = fig.axes
    assert len([c for c in top.collections if isinstance(c, PolyCollection)]) == 2
    assert len(top.get_lines()) == 2
    months = ds.sizes["month"]
    bars = _bars(bottom)
    assert len(bars) == 2 * months
    hires = ds["hires"].sum("territory").mean("trial").values
    assert sum(b.get_height() for b in bars if b.get_height() > 0) == pytest.approx(hires.sum())
    assert "hires" in bottom.get_title(loc="left") and "departures" in bottom.get_title(loc="left")


def test_funnel_bars_per_territory(ds):
    ax = P.funnel(ds)
    k = ds.sizes["territory"]
    bars = _bars(ax)
    assert len(bars) == 4 * k
    fy = int(ds["fiscal_year"].values[0])
    idx = ds["fiscal_year_of_month"].values == fy
    leads = ds["leads"].values[:, idx, :].sum(axis=1).mean(axis=0)
    assert [b.get_height() for b in bars[:k]] == pytest.approx(list(leads))
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(t) for t in ds["territory"].values]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"leads", "unworked leads", "opportunities", "wins"}
    assert sum("win/lead" in t.get_text() for t in ax.texts) == k


def test_territories_balance(ds):
    fig = P.territories(ds, fiscal_year=2029)
    assert len(fig.axes) == 2
    left, right = fig.axes
    k = ds.sizes["territory"]
    assert len([p for p in left.patches]) == k and len([p for p in right.patches]) == k  # one box each
    assert all("at quota" in t.get_text() for t in right.get_xticklabels())
    assert all("leads/rep/mo" in t.get_text() for t in left.get_xticklabels())
    assert "FY2029" in left.get_title(loc="left")
    assert "territory balance" in fig.get_suptitle()


# --------------------------------------------------------------------------- what-if kinds


def test_compare_side_by_side(stacked):
    assert stacked["bookings"].dims[0] == "scenario"
    ax = P.compare(stacked)
    n_years = stacked.sizes["fiscal_year"]
    assert len(ax.patches) == 2 * n_years  # one box per scenario and year
    pct = [t for t in ax.texts if t.get_text().endswith("%")]
    assert len(pct) == 2 * n_years  # P(goal) above every box
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"FY{y}" for y in stacked["fiscal_year"].values]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"baseline", "East +2", "goal"}


def test_compare_accepts_the_whatif_statistics_dataset(stacked):
    """The what-if tools' form: value (scenario, metric, trial, fiscal_year)."""
    totals = []
    for s in stacked["scenario"].values:
        one = stacked.sel(scenario=s)
        totals.append(np.stack(list(_fy_totals(one).values()), axis=1))  # (trial, fy)
    value = np.stack(totals)[:, None]  # (scenario, metric, trial, fy)
    alt = xr.Dataset(
        {"value": (("scenario", "metric", "trial", "fiscal_year"), value),
         "goal": (("scenario", "fiscal_year"), np.stack([stacked["goal"].values] * 2) if stacked["goal"].ndim == 1
                  else stacked["goal"].values)},
        coords={"scenario": stacked["scenario"].values, "metric": ["bookings"],
                "trial": stacked["trial"].values, "fiscal_year": stacked["fiscal_year"].values},
        attrs={"currency": "USD"})
    a, b = P.compare(stacked), P.compare(alt)
    assert [t.get_text() for t in a.texts] == [t.get_text() for t in b.texts]


def test_compare_needs_a_scenario_dimension(ds):
    with pytest.raises(P.PlotError, match="scenario"):
        P.compare(ds)


def test_tornado_from_a_dataframe(tornado_frame):
    ax = P.tornado(tornado_frame, currency="USD")
    assert len(_bars(ax)) == 2 * len(tornado_frame)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1].startswith("territories.East.win_rate")  # largest swing on top
    assert labels[0].startswith("market.annual_growth")
    assert "(0.4 / 0.48)" in labels[-1]
    assert "$10.2M" in ax.get_title(loc="left")
    assert any(t.get_text() == "+$400k" for t in ax.texts)  # high win rate: 10.6M vs 10.2M


def test_tornado_from_a_sensitivity_dataset(tornado_frame):
    years, metrics = [2027, 2028], ["bookings", "p_goal"]
    low = np.zeros((3, 2, 2))
    high = np.zeros((3, 2, 2))
    low[:, 0, 1], high[:, 0, 1] = tornado_frame["low"], tornado_frame["high"]
    low[:, 1, 1], high[:, 1, 1] = [0.5, 0.6, 0.55], [0.7, 0.62, 0.56]
    base = np.array([[0.0, 10.2e6], [0.0, 0.58]])
    sens = xr.Dataset(
        {"low": (("parameter", "metric", "fiscal_year"), low), "high": (("parameter", "metric", "fiscal_year"), high),
         "base": (("metric", "fiscal_year"), base),
         "low_value": ("parameter", tornado_frame["low_value"].values),
         "high_value": ("parameter", tornado_frame["high_value"].values)},
        coords={"parameter": tornado_frame["parameter"].values, "metric": metrics, "fiscal_year": years},
        attrs={"currency": "USD", "rank_year": 2028})
    ax = P.tornado(sens)
    assert "FY2028" in ax.get_title(loc="left") and "$10.2M" in ax.get_title(loc="left")
    ax = P.tornado(sens, metric="p_goal")
    assert "58.0%" in ax.get_title(loc="left")
    assert any(t.get_text() == "+12.0 pp" for t in ax.texts)
    with pytest.raises(P.PlotError, match="metric"):
        P.tornado(sens, metric="nope")


def test_tornado_needs_low_high_base():
    with pytest.raises(P.PlotError, match="base"):
        P.tornado(pd.DataFrame({"parameter": ["a"], "low": [1.0], "high": [2.0]}))


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("kind", ["bookings", "attainment", "headcount", "funnel", "territories"])
def test_save_png_and_svg(ds, kind, tmp_path):
    png = P.save(ds, kind, tmp_path / f"{kind}.png")
    assert 10_000 < png.stat().st_size < 2_000_000
    img = mpimg.imread(png)
    assert img.ndim == 3 and img.shape[1] >= 1000 and img.std() > 0.05  # a real picture, not one colour
    svg = P.save(ds, kind, tmp_path / f"{kind}.svg")
    text = svg.read_text()
    assert "<svg" in text and text.count("<path") > 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{kind}.png", f"{kind}.svg"])  # no temp files


def test_save_rejects_unknown_format_and_kind(ds, tmp_path):
    with pytest.raises(P.PlotError, match=r"\.png or \.svg"):
        P.save(ds, "bookings", tmp_path / "x.jpg")
    with pytest.raises(P.PlotError, match="unknown picture kind"):
        P.save(ds, "pie", tmp_path / "x.png")
    with pytest.raises(P.PlotError, match="fiscal year 2040"):
        P.save(ds, "funnel", tmp_path / "x.png", fiscal_year=2040)
    assert list(tmp_path.iterdir()) == []


def test_format_money():
    assert P.format_money(8_000_000, "USD") == "$8M"
    assert P.format_money(10_500_000, "USD") == "$10.5M"
    assert P.format_money(500_000, "EUR") == "€500k"
    assert P.format_money(-300_000, "USD") == "-$300k"
    assert P.format_money(999_999, "USD") == "$1M"
    assert P.format_money(1234, "CHF") == "CHF 1.23k"
    assert P.format_money(float("nan"), "USD") == "-"


# --------------------------------------------------------------------------- CLI


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("kind", ["bookings", "attainment", "headcount", "funnel", "territories"])
def test_cli_plot_each_kind(results_file, kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    result = invoke("plot", results_file, "--kind", kind, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert out.stat().st_size > 10_000


def test_cli_plot_options_and_default_output(results_file, tmp_path):
    import shutil

    copy = tmp_path / "plan.h5"
    shutil.copy(results_file, copy)
    result = invoke("plot", copy, "--kind", "attainment", "--by-tenure", "--fiscal-year", "2028")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plan-attainment.png").is_file()
    result = invoke("plot", copy, "--kind", "funnel", "-o", tmp_path / "f.svg")
    assert result.exit_code == 0 and "<svg" in (tmp_path / "f.svg").read_text()


def test_cli_plot_compare_and_tornado_files(stacked, tornado_frame, tmp_path):
    stacked = stacked.assign_attrs(salessim_version=salessim.__version__, scenario="name: baseline\n")
    salessim.save_results(stacked, tmp_path / "compare.h5")
    result = invoke("plot", tmp_path / "compare.h5", "--kind", "compare", "-o", tmp_path / "c.png")
    assert result.exit_code == 0, result.output
    tornado_frame.to_csv(tmp_path / "sens.csv", index=False)
    result = invoke("plot", tmp_path / "sens.csv", "--kind", "tornado", "-o", tmp_path / "t.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.png").stat().st_size > 10_000 and (tmp_path / "t.png").stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["--kind", "pie"], "not a picture kind"),
    (["-o", "out.jpg"], "end the name with .png or .svg"),
    (["--kind", "compare"], "scenario"),
    (["--kind", "bookings", "--by-tenure"], "--by-tenure applies to --kind attainment"),
    (["--kind", "funnel", "--fiscal-year", "1999"], "fiscal year 1999"),
])
def test_cli_plot_user_errors(results_file, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot", results_file, *args, *([] if "-o" in args else ["-o", "out.png"]))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and result.output.count("Error:") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cli_plot_bad_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot", "missing.h5", "-o", "x.png")
    assert result.exit_code == 2 and "no such results file" in result.output
    Path("junk.h5").write_bytes(b"not hdf5 at all")
    result = invoke("plot", "junk.h5", "-o", "x.png")
    assert result.exit_code == 2 and "cannot read junk.h5" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.h5"]


def test_docs_pictures_exist_and_are_shown_in_the_readme():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    for kind in P.KINDS:
        path = root / "docs" / f"{kind}.png"
        assert path.is_file(), f"{path} missing: run docs/make_pictures.py"
        assert 10_000 < path.stat().st_size < 200_000
        assert f"(docs/{kind}.png)" in readme

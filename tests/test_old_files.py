"""Results files written by earlier versions stay readable by every reader.

``tests/data/results/`` holds small files written by release 0.1.0 and by ``main`` before
the results writer and the money encoding changed (its README says how each was made),
each with the summary that version printed. Every reader (``open_results``, eager and lazy,
``summarize``, the chunked reader behind ``salessim summary``, pictures and exports) reads
them, and the figures are the ones the writing version printed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import salessim
from salessim.stream import summarize_file

DATA = Path(__file__).resolve().parent / "data" / "results"
FILES = sorted(p.name for p in DATA.glob("*.h5"))


def _printed(name: str) -> dict[tuple[str, str, str], dict]:
    with open(DATA / name.replace(".h5", ".summary.csv"), newline="") as fh:
        return {(r["metric"], r["period"], r["territory"]): r for r in csv.DictReader(fh)}


def _same(table, printed: dict) -> None:
    """Every row the writing version printed has the same figures now (the rows it shares)."""
    ours = {(r.metric, r.period, r.territory): r for r in table.itertuples(index=False)}
    shared = set(ours) & set(printed)
    assert len(shared) >= 0.9 * len(printed), sorted(set(printed) - shared)[:5]
    for key in shared:
        for column in ("mean", "p10", "p50", "p90"):
            want = printed[key][column]
            got = getattr(ours[key], column)
            if want == "":
                assert not np.isfinite(got), (key, column, got)
            else:
                assert got == pytest.approx(float(want), rel=1e-12, abs=1e-9), (key, column)


def test_the_data_files_are_there():
    assert FILES == ["main-30808f3-baseline-yearly.h5", "main-30808f3-midyear.h5", "v0.1.0-baseline.h5"]


@pytest.mark.parametrize("name", FILES)
def test_open_and_summarize_give_what_the_writing_version_printed(name):
    ds = salessim.open_results(DATA / name)
    _same(salessim.summarize(ds), _printed(name))
    table, attrs = summarize_file(DATA / name)  # salessim summary: chunk by chunk
    _same(table, _printed(name))
    assert int(attrs["trials"]) == ds.sizes["trial"]


@pytest.mark.parametrize("name", FILES)
def test_a_lazy_read_gives_the_same_summary(name):
    eager = salessim.summarize(salessim.open_results(DATA / name))
    lazy_ds = salessim.open_results(DATA / name, chunks=2)
    try:
        lazy = salessim.summarize(lazy_ds)
    finally:
        lazy_ds.close()
    assert lazy.equals(eager)


@pytest.mark.parametrize("name", ["v0.1.0-baseline.h5", "main-30808f3-midyear.h5"])
def test_pictures_and_exports_read_them(name, tmp_path):
    from salessim import export, plot

    ds = salessim.open_results(DATA / name)
    for kind in ("bookings", "attainment", "funnel"):
        assert plot.draw(ds, kind) is not None
    written = export.export(ds, tmp_path / "tables", "csv")
    assert written and all(p.stat().st_size > 0 for p in written)

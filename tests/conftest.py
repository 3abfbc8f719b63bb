"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

import salessim

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="session")
def baseline_results(tmp_path_factory) -> Path:
    """A small results file of the baseline (4 trials, seed 0); copy it before changing it."""
    path = tmp_path_factory.mktemp("baseline_results") / "baseline.h5"
    salessim.save_results(salessim.simulate(salessim.load_scenario(BASELINE), 4, 0), path)
    return path


def self_contained_text(path: Path = BASELINE) -> str:
    """A shipped scenario's YAML text with the CSV files it names given by absolute path, so
    tests can edit the text or write it anywhere and it still finds its open pipeline."""
    text = path.read_text(encoding="utf-8")
    for line, key, name in _named_files(text):
        if not Path(name).is_absolute():
            text = text.replace(line, f"{key}: {path.parent.resolve() / name}", 1)
    return text


def _named_files(text: str) -> list[tuple[str, str, str]]:
    """(line, key, file name) of each ``pipeline_file:`` / ``empirical_file:`` line."""
    out = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        name = value.split("#", 1)[0].strip()
        if key.strip() in ("pipeline_file", "empirical_file") and name:
            out.append((line, key, name))
    return out


def copy_scenario(path: Path, target: Path) -> Path:
    """Copy a shipped scenario file to ``target`` with the CSV files it names beside it."""
    import shutil

    shutil.copy(path, target)
    for _, _, name in _named_files(path.read_text(encoding="utf-8")):
        shutil.copy(path.parent / name, target.parent / name)
    return target

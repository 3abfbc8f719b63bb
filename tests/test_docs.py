"""Documentation is generated from, and checked against, the code."""

from pathlib import Path

import xarray as xr

import salessim
from salessim.scenario import key_reference
from salessim.variables import VARIABLES

ROOT = Path(__file__).resolve().parents[1]


def test_scenario_readme_lists_every_key_as_the_schema_defines_it():
    text = (ROOT / "scenarios" / "README.md").read_text()
    block = text.split("<!-- keys:start -->\n", 1)[1].split("<!-- keys:end -->", 1)[0]
    assert block == key_reference(), "scenarios/README.md is stale: regenerate with `salessim keys`"


def test_every_shipped_scenario_is_valid_and_described_in_the_readme():
    text = (ROOT / "scenarios" / "README.md").read_text()
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        sc = salessim.load_scenario(path)
        assert f"`{path.name}`" in text
        assert sc.name == path.stem


def test_readme_documents_every_result_variable():
    text = (ROOT / "README.md").read_text()
    for var in VARIABLES:
        assert f"`{var.name}`" in text, var.name


def test_every_registered_variable_is_in_a_simulated_dataset_with_metadata():
    plain = salessim.simulate(salessim.load_scenario(ROOT / "scenarios" / "baseline.yaml"), trials=3, seed=0)
    uncertain = salessim.simulate(salessim.load_scenario(ROOT / "scenarios" / "midyear.yaml"), trials=3, seed=0)
    # variables kept for runs with uncertain parameters are absent from plain runs
    assert set(plain.data_vars) == {v.name for v in VARIABLES if v.only_with is None}
    assert set(uncertain.data_vars) == {v.name for v in VARIABLES}
    for v in VARIABLES:
        assert uncertain[v.name].dims == v.dims
        assert uncertain[v.name].attrs["units"] and uncertain[v.name].attrs["long_name"] == v.long_name
    assert isinstance(plain, xr.Dataset)

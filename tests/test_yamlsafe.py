"""Reading hostile YAML (issue 14, items 3 and 9): bounded time, bounded memory, located messages.

Each case reproduces what broke 0.1.0: an alias bomb that used 5.5 GB, one whose error
message was 226 MB, a 50 MB file that took minutes, deep nesting (RecursionError), and
duplicate keys that were accepted silently.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import salessim
from salessim import Scenario, ScenarioError, limits
from salessim.cli import main
from salessim.yamlsafe import YAMLInputError, load, read_file

from conftest import self_contained_text  # noqa: E402

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
BASE_TEXT = self_contained_text(BASELINE)


def bomb(levels: int = 9, width: int = 9) -> str:
    """The billion laughs: ``width ** levels`` strings from a few hundred bytes."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_fails_at_once_in_bounded_memory():
    text = BASE_TEXT.replace("description:", "description: *l8\nx:", 1) + bomb()  # 9**9 = 387 million strings
    assert len(text) < 5_000
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert elapsed < 2.0  # generous: the check is a single pass over a few hundred events
    (loc, msg), = info.value.problems
    assert loc.startswith("line ") and f"more than {limits.MAX_YAML_NODES:,} values" in msg


def test_a_bomb_used_as_a_value_gives_a_short_message():
    # in 0.1.0 the whole expansion was quoted in "must be a number, got [[[...": 226 MB
    text = BASE_TEXT.replace("win_rate: 0.44", "win_rate: *l6", 1) + bomb(levels=7)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text)
    assert len(str(info.value)) < 2_000


def test_an_expansion_below_the_limit_reads_the_same_as_safe_load():
    text = "base: &b {mean: 9000, cv: 0.6}\nsizes: [*b, *b, *b]\nother:\n  <<: *b\n  cv: 0.7\n"
    assert load(text) == yaml.safe_load(text)  # a merge key overriding a merged value is not a duplicate


@pytest.mark.parametrize("text, fragment", [
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nest"),
    ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n", f"deeper than {limits.MAX_YAML_DEPTH}"),
    ("a: &a [1, *a]\n", "recursive"),
])
def test_deep_or_recursive_structures_give_a_located_message(text, fragment):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text)
    (loc, msg), = info.value.problems
    assert fragment in msg and loc.startswith("line ")


def test_large_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as fh:  # sparse: the size is there, the bytes are not
        fh.truncate(50 * 2**20)
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(path)
    assert time.perf_counter() - t0 < 1.0
    assert "52,428,800 bytes" in str(info.value) and f"{limits.MAX_YAML_BYTES:,}" in str(info.value)


def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        salessim.load_scenario(fifo)  # reading it would wait for a writer forever


@pytest.mark.slow
def test_the_largest_valid_file_is_read_in_seconds(tmp_path):
    """A file at the node limit: time and memory stay bounded (0.1.0: 205 s and 6 GB for 50 MB)."""
    text = BASE_TEXT.replace("ramp: [0.1, 0.3, 0.5, 0.7, 0.9]",
                             "ramp: [" + ", ".join(["0.5"] * (limits.MAX_YAML_NODES - 400)) + "]")
    assert len(text.encode()) < limits.MAX_YAML_BYTES
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text)
    assert time.perf_counter() - t0 < 20.0  # about 3 s on a busy two-core machine
    assert "defaults.ramp: must list at most 60 entries" in str(info.value)


def test_duplicate_key_names_the_key_and_both_lines(tmp_path):
    lines = BASE_TEXT.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("win_rate: 0.44"))
    lines.insert(at + 2, lines[at].replace("0.44", "0.9"))  # two lines further down, the same key again
    path = tmp_path / "dup.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        salessim.load_scenario(path)
    (loc, msg), = info.value.problems
    assert loc == f"line {at + 3}"
    assert "duplicate key 'win_rate'" in msg and f"first given on line {at + 1}" in msg


def test_duplicate_key_in_a_set_value_is_an_error(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(BASELINE), "--set", "territories.East.deal_size={mean: 1, mean: 2}"])
    assert result.exit_code == 2
    assert "duplicate key 'mean'" in result.output and "Traceback" not in result.output


def test_a_set_value_is_read_with_the_same_limits():
    result = CliRunner().invoke(main, ["validate", str(BASELINE), "--set", "description=" + "[" * 5000])
    assert result.exit_code == 2 and "cannot read the value" in result.output and len(result.output) < 1_000


@pytest.mark.parametrize("text, fragment", [
    ("reps: " + "9" * 5000 + "\n", "cannot be read"),  # int() refuses 5,000 digits: 0.1.0 raised ValueError
    ("start: 2027-13-45\n", "cannot be read"),  # a timestamp with month 13
    ("a: !!python/object/apply:os.system [ls]\n", "could not determine a constructor"),
    ("a: 1\n---\nb: 2\n", "expected a single document"),
    ("a: \x00\n", "control characters are not allowed"),
])
def test_malformed_yaml_is_one_scenario_error(text, fragment):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(text)
    assert fragment in str(info.value)


def test_read_file_returns_the_text(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE_TEXT, encoding="utf-8")
    assert read_file(path) == BASE_TEXT
    with pytest.raises(YAMLInputError, match="more than the limit"):
        read_file(path, limit_bytes=100)


def test_an_error_lists_every_problem_but_shows_the_first():
    data = yaml.safe_load(BASE_TEXT)
    data["territories"] = [dict(data["territories"][0], name=f"T{i}", win_rate=2.0) for i in range(500)]
    data["hiring_plan"] = []
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    assert len(info.value.problems) == 500
    text = str(info.value)
    assert f"... and {500 - limits.MAX_PROBLEMS_SHOWN} more problems" in text
    assert text.count("\n") == limits.MAX_PROBLEMS_SHOWN + 1


def test_long_offending_values_are_cut():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(BASE_TEXT.replace("currency: USD", "currency: " + "X" * 10_000))
    (loc, msg), = info.value.problems
    assert loc == "currency" and len(msg) < 300 and "..." in msg

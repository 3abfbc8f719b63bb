"""Seeded scenario mutants for the fuzz campaign (tests/test_fuzz.py).

A mutant is YAML text made from a shipped scenario by one to three random changes:

- **structure**: a key deleted, an unknown key added, a mapping or list emptied, a
  territory or plan entry duplicated, a node replaced by a value of another type;
- **numbers**: the same number scaled to an edge (zero, 1e-12, a thousand or a billion
  times larger), zero, negatives, 2**31, 2**63, 10**30, a 500-digit integer, 1e308, tiny
  values, NaN and infinities, and every documented bound of :mod:`salessim.limits`, just
  inside and just outside;
- **strings**: rich markup, ANSI escapes, mathtext, spreadsheet formulas, bidi overrides,
  NUL and other control characters, very long text, YAML 1.1 oddities (``1e5``, ``0x1F``,
  ``1_000``, ``.inf``, ``2027-13``);
- **YAML tricks** on the text: alias bombs, recursive aliases, deep nesting (flow and
  block), duplicate keys, merge keys, python tags, several documents, a BOM, tabs, CRLF,
  a NUL byte, a file cut short, a flipped byte.

Everything is drawn from ``random.Random(seed)``, so a campaign is reproducible and a
failing mutant is found again from its seed and index.
"""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any

import yaml

from salessim import limits as L

ROOT = Path(__file__).resolve().parents[1]
def _self_contained(path: Path) -> dict:
    """A shipped scenario's data with the CSV files it names inlined (a mutant is written elsewhere)."""
    import salessim

    return salessim.load_scenario(path).data


BASES = {p.stem: _self_contained(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))}

STRINGS = [
    "", " ", "x", "[/]", "[link=http://evil.example]click[/link]", "[bold red]loud", "\x1b[31mred\x1b[0m", "\x1b]0;title\x07",
    "$\\frac$", "$x^$", "a $b$ c", "=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB",
    "\rCR", "\u202eevil\u202c", "nul\x00byte", "line\nbreak", "é🙂中文", "x" * 5000, "{{ 7*7 }}", "<script>alert(1)</script>",
    "../../etc/passwd", "1e5", "0x1F", "1_000", ".inf", "NaN", "2027-13", "2027-1", "9999-12", "0000-01", "yes", "null",
]
NUMBERS = [0, -1, 1, 2, 0.5, -0.5, 1e-300, 5e-324, 1e308, -1e308, math.nan, math.inf, -math.inf, 2**31, 2**31 - 1,
           2**32, 2**62, 2**63, 2**64, 10**20, 10**30, 10**500, 1.0000001, 0.9999999, 12, 600, 601, 65536, 65537]
BOUNDS = [L.MAX_REPS_PER_TERRITORY, L.MAX_HIRES_PER_ENTRY, L.MAX_TENURE_MONTHS, L.MAX_BAND_MONTH, L.MAX_DEAL_CV,
          L.MAX_SKILL_SIGMA, L.MAX_MONEY, L.MAX_FACTOR, L.MAX_CUSTOMERS, L.MAX_LEADS_PER_TERRITORY_MONTH, 600]


def _values(rng: random.Random) -> Any:
    """A replacement value: a number, a string, a bound (just inside or outside), or a container."""
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(NUMBERS)
    if kind < 0.55:
        return rng.choice(STRINGS)
    if kind < 0.75:
        bound = rng.choice(BOUNDS)
        return rng.choice([bound, bound + 1, bound * 1.0001, bound * 0.9999, -bound])
    if kind < 0.85:
        return rng.choice([True, False, None])
    return rng.choice([[], {}, [1, 2, 3], {"a": 1}, [[[]]], [0.5] * rng.choice([1, 11, 13, 61, 601, 5000]),
                       {"mean": 1, "cv": 1e300}, [{"until_month": 12, "annual": 0.4}]])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys and indices) inside ``node``."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


def _edge(value: Any, rng: random.Random) -> Any:
    """A value of the same type as ``value`` at an edge that validation may well accept."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, 1, value * 2, value * 100, 600, 1200, 2048, 65536, 10**9])
    scale = rng.choice([0.0, 1e-12, 1e-3, 0.999999, 1.0, 2.0, 1e3, 1e6, 1e9, 1e15])
    return value * scale if rng.random() < 0.5 else scale


def _mutate_data(data: dict, rng: random.Random) -> str:
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    parent, key = _get(data, path[:-1]), path[-1]
    if rng.random() < 0.3:  # numbers at the edges, to reach the engine with extreme but valid values
        numeric = [p for p in paths if isinstance(_get(data, p), (int, float))]
        if numeric:
            path = rng.choice(numeric)
            parent, key = _get(data, path[:-1]), path[-1]
            parent[key] = _edge(parent[key], rng)
            return f"edge {'.'.join(map(str, path))}"
    op = rng.random()
    if op < 0.45:
        parent[key] = _values(rng)
        return f"set {'.'.join(map(str, path))}"
    if op < 0.6:
        del parent[key]
        return f"delete {'.'.join(map(str, path))}"
    if op < 0.7 and isinstance(parent, dict):
        parent[rng.choice(["unknown_key", "win_rat", "reps ", "Reps", 7, "<<"])] = _values(rng)
        return f"add key at {'.'.join(map(str, path[:-1]))}"
    if op < 0.8 and isinstance(parent, list):
        parent.extend([copy.deepcopy(parent[key])] * rng.choice([1, 2, 50, 2100]))
        return f"duplicate {'.'.join(map(str, path))}"
    if op < 0.9:
        value = parent[key]
        parent[key] = [value] if not isinstance(value, list) else {"x": value}
        return f"wrap {'.'.join(map(str, path))}"
    node = parent[key]
    if isinstance(node, (dict, list)):
        parent[key] = type(node)()
        return f"empty {'.'.join(map(str, path))}"
    parent[key] = _values(rng)
    return f"set {'.'.join(map(str, path))}"


def _bomb(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _mutate_text(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    op = rng.randrange(14)
    if op == 0:
        return text.replace("description:", "bomb: " + f"*l{rng.choice([5, 8, 9])}\nx_description:", 1) + _bomb(rng.choice([6, 9, 10]), 9), "alias bomb"
    if op == 1:
        return _bomb(9, 9) + text, "alias bomb before the scenario"
    if op == 2:
        depth = rng.choice([40, 1000, 100_000])
        return text + "deep: " + "[" * depth + "]" * depth + "\n", f"flow nesting {depth}"
    if op == 3:
        depth = rng.choice([33, 200])
        return text + "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n", f"block nesting {depth}"
    if op == 4:
        i = rng.randrange(len(lines))
        return "".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]), f"line {i + 1} repeated (duplicate key)"
    if op == 5:
        return "base: &b {reps: 3}\n" + text.replace("territories:", "x_merge:\n  <<: *b\n  reps: 4\nterritories:", 1), "merge key"
    if op == 6:
        return text + rng.choice(["evil: !!python/object/apply:os.system [ls]\n", "b: !!binary aGVsbG8=\n",
                                  "s: !!set {a, b}\n", "r: &r [*r]\n", "u: *undefined\n"]), "tags and aliases"
    if op == 7:
        return text + "---\nname: second\n", "two documents"
    if op == 8:
        return "\ufeff" + text.replace("\n", "\r\n"), "BOM and CRLF"
    if op == 9:
        i = rng.randrange(len(lines))
        return "".join(lines[:i] + ["\t" + lines[i]] + lines[i + 1 :]), "tab indentation"
    if op == 10:
        cut = rng.randrange(len(text))
        return text[:cut], f"cut at {cut}"
    if op == 11:
        i = rng.randrange(len(text))
        return text[:i] + chr(rng.choice([0, 1, 0x1B, 0x7F, 0x85, 0xFFFE])) + text[i + 1 :], f"control character at {i}"
    if op == 12:
        return text + "long: " + "9" * rng.choice([400, 5000, 20000]) + "\n", "huge integer literal"
    return text + "many: [" + ", ".join(["1"] * rng.choice([1000, 600_000])) + "]\n", "long list"


def mutants(seed: int, count: int) -> list[tuple[str, str]]:
    """``count`` mutants as (label, YAML text), reproducible from ``seed``."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        name = rng.choice(sorted(BASES))
        data = copy.deepcopy(BASES[name])
        labels = []
        if rng.random() < 0.8:
            for _ in range(rng.choice([1, 1, 2, 3])):
                labels.append(_mutate_data(data, rng))
        try:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except (ValueError, OverflowError):  # a value PyYAML cannot write: keep the base
            text = yaml.safe_dump(BASES[name], sort_keys=False)
        if rng.random() < 0.3 or not labels:
            text, label = _mutate_text(text, rng)
            labels.append(label)
        out.append((f"{i}: {name}: " + "; ".join(labels), text))
    return out

"""The README's worked examples of ``salessim optimize`` and ``salessim quotas`` are real:
each command is run as written and its output must be what the README shows.

An example is a fenced block right after a ``<!-- checked example -->`` comment (or
``<!-- checked example (slow) -->``, run by ``-m slow``): its first line is ``$ salessim
...`` (continued with trailing backslashes), the rest is the output. The README shows the
tables without their box-drawing borders; the comparison ignores borders and spacing.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from salessim.cli import main

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"<!-- checked example( \(slow\))? -->\n```[a-z]*\n(.*?)```", re.S)
_BOX = re.compile("[\u2500-\u257f]")


def examples() -> list:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for slow, body in _BLOCK.findall(text):
        lines = body.rstrip("\n").split("\n")
        command = lines.pop(0)
        while command.endswith("\\"):
            command = command[:-1] + " " + lines.pop(0).strip()
        marks = [pytest.mark.slow] if slow else []
        out.append(pytest.param(command.removeprefix("$ ").strip(), "\n".join(lines), marks=marks,
                                id=" ".join(command.split()[1:3])))
    return out


def normalised(text: str) -> list[str]:
    """Lines without box-drawing characters, runs of spaces collapsed, empty lines dropped."""
    lines = (" ".join(_BOX.sub(" ", line).split()) for line in text.splitlines())
    return [line for line in lines if line]


def test_the_readme_has_checked_examples_of_both_commands():
    commands = [p.values[0] for p in examples()]
    assert any(c.startswith("salessim optimize") for c in commands)
    assert any(c.startswith("salessim quotas") for c in commands)


@pytest.mark.parametrize("command, shown", examples())
def test_readme_example_output(command, shown, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)
    assert args[0] == "salessim"
    result = CliRunner().invoke(main, args[1:])
    assert result.exit_code == 0, result.output
    assert normalised(result.output) == normalised(shown), (
        "the README example is stale; its output now reads:\n" + result.output)

"""Rerun the README's checked examples (``<!-- checked example -->`` blocks) and write their
current output back into the README, tables without box-drawing borders.

    .venv/bin/python docs/refresh_examples.py            # the default examples
    .venv/bin/python docs/refresh_examples.py --slow     # the slow ones too

``tests/test_plan_readme.py`` checks that each block shows what its command prints; run
this after a change of the model, the random streams or the shipped scenarios.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from click.testing import CliRunner

from salessim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- checked example( \(slow\))? -->\n```[a-z]*\n)(.*?)(```)", re.S)
BOX = re.compile("[\u2500-\u257f]")


def shown(output: str) -> str:
    lines = [BOX.sub(" ", line).rstrip() for line in output.splitlines()]
    return "\n".join(line for line in lines if line.strip()) + "\n"


def refresh(text: str, slow: bool) -> str:
    def one(m: re.Match) -> str:
        if m.group(2) and not slow:
            return m.group(0)
        lines = m.group(3).rstrip("\n").split("\n")
        head = [lines.pop(0)]
        while head[-1].endswith("\\"):
            head.append(lines.pop(0))
        command = " ".join(h[:-1] if h.endswith("\\") else h for h in head).removeprefix("$ ")
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        if result.exit_code != 0:
            raise SystemExit(f"{command}: exit {result.exit_code}\n{result.output}")
        return m.group(1) + "\n".join(head) + "\n" + shown(result.output) + m.group(4)
    return BLOCK.sub(one, text)


if __name__ == "__main__":
    os.chdir(ROOT)
    readme = ROOT / "README.md"
    readme.write_text(refresh(readme.read_text(encoding="utf-8"), "--slow" in sys.argv), encoding="utf-8")

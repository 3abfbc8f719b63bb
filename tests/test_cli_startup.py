"""What a command pays before and after its work: the fast exit (``gc.freeze`` as an exit
handler, :func:`salessim.cli._freeze_objects_at_exit`) and ``salessim --help`` listing the
lazily imported commands from :data:`salessim.cli.LAZY_HELP` without importing them."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import pytest

import salessim.cli
from salessim.cli import LAZY_COMMANDS, LAZY_HELP, main

ROOT = Path(__file__).resolve().parents[1]


def test_the_exit_handler_is_registered_once_however_many_commands_run(monkeypatch):
    registered = []
    monkeypatch.setattr(salessim.cli, "_exit_handler_registered", False)
    monkeypatch.setattr(salessim.cli.atexit, "register", registered.append)
    for _ in range(2):
        result = CliRunner().invoke(main, ["--help"])
        assert result.exit_code == 0, result.output
    assert registered.count(gc.freeze) == 1  # (the modules --help imports may register handlers of their own)
    assert gc.get_freeze_count() == 0  # commands freeze nothing while the program runs; only its exit does


def test_a_real_run_exits_cleanly_with_all_its_output_and_the_objects_frozen(tmp_path):
    # an exit handler registered before the command's runs after it (last in, first out)
    code = ("import atexit, gc, sys, salessim.cli\n"
            "atexit.register(lambda: sys.stderr.write(f'frozen at exit: {gc.get_freeze_count() > 0}\\n'))\n"
            "salessim.cli.main(sys.argv[1:])\n")
    out = tmp_path / "r.h5"
    proc = subprocess.run([sys.executable, "-c", code, "run", str(ROOT / "scenarios" / "baseline.yaml"), "-n", "50",
                           "-o", str(out), "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "frozen at exit: True" in proc.stderr
    payload = json.loads(proc.stdout)  # the whole of stdout was flushed
    assert payload["trials"] == 50 and len(payload["rows"]) > 100
    from salessim import open_results

    with open_results(out) as ds:
        assert ds.sizes["trial"] == 50


def _help(width: int) -> str:
    result = CliRunner().invoke(main, ["--help"], terminal_width=width, max_content_width=width)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("width", [50, 80, 140])
def test_help_lists_the_lazy_commands_as_their_own_help_would(monkeypatch, width):
    eager = {name: cmd for name, cmd in main.commands.items() if name not in LAZY_COMMANDS}
    monkeypatch.setattr(main, "commands", dict(eager))  # none of the lazy commands imported yet
    listed = _help(width)
    assert set(main.commands) == set(eager)  # listing imported none of them
    for name in LAZY_COMMANDS:
        main.get_command(None, name)  # import every command: click lists their own help texts
    assert set(main.commands) == set(eager) | set(LAZY_COMMANDS)
    assert listed == _help(width)


def test_every_lazy_command_has_its_help_line_and_each_line_is_the_commands_first_paragraph():
    assert set(LAZY_HELP) <= set(LAZY_COMMANDS)
    for name in LAZY_HELP:
        command = main.get_command(None, name)
        first = (command.help or "").split("\n\n")[0]
        assert " ".join(first.split()) == LAZY_HELP[name], name


def test_help_in_a_real_process_imports_none_of_the_heavy_libraries():
    code = ("import sys, salessim.cli\n"
            "try:\n    salessim.cli.main(['--help'])\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
            "print(sorted(m for m in ('xarray', 'pandas', 'matplotlib', 'scipy.stats', 'scipy.optimize', 'dask') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "Commands:" in proc.stdout and "sensitivity" in proc.stdout

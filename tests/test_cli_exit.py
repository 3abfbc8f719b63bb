"""The CLI's fast exit (``gc.freeze`` as an exit handler, :func:`salessim.cli._freeze_objects_at_exit`)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import salessim.cli
from salessim.cli import main

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

"""Dask scale-out (salessim.cluster): the same bits on a LocalCluster of 2 worker processes,
a worker killed mid-run, an unreachable scheduler, Ctrl-C, and no dask without --cluster."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import salessim
from salessim.stream import simulate_to_file

from helpers_model import strip_attrs

distributed = pytest.importorskip("distributed")
from salessim import cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(cluster.local_cores() < 2, reason="needs 2 cores for a 2-worker LocalCluster")


@pytest.fixture(scope="module")
def baseline():
    return salessim.load_scenario(ROOT / "scenarios/baseline.yaml")


@pytest.fixture(scope="module")
def client(baseline):
    from salessim.inputs import build_inputs

    with cluster.connect("local:2", inputs=build_inputs(baseline)) as (c, info):
        assert info.workers == 2 and info.threads == 2
        assert set(info.numba_threads.values()) == {1}  # one thread per worker, Numba matching
        assert len(info.warm_seconds) == 2 and all(s > 0 for s in info.warm_seconds.values())
        yield c


def _same_data(a: xr.Dataset, b: xr.Dataset) -> None:
    xr.testing.assert_identical(strip_attrs(a), strip_attrs(b))


def test_simulate_on_two_workers_is_bit_identical(baseline, client):
    got = salessim.simulate(baseline, 1500, 11, chunk_trials=400, client=client, max_in_flight=1)
    _same_data(got, salessim.simulate(baseline, 1500, 11))
    again = salessim.simulate(baseline, 300, 11, first_trial=1200, client=client)
    _same_data(again, salessim.simulate(baseline, 1500, 11).isel(trial=slice(1200, 1500)))


@pytest.mark.parametrize("keep", ["full", "yearly"])
def test_stream_on_two_workers_writes_the_same_file(baseline, client, tmp_path, keep):
    a = simulate_to_file(baseline, tmp_path / "a.h5", 1200, 3, chunk_trials=200, keep=keep, client=client, max_in_flight=3)
    b = simulate_to_file(baseline, tmp_path / "b.h5", 1200, 3, chunk_trials=200, keep=keep)
    pd.testing.assert_frame_equal(a, b)
    _same_data(salessim.open_results(tmp_path / "a.h5"), salessim.open_results(tmp_path / "b.h5"))


def test_out_of_order_arrivals_are_written_in_trial_order(client):
    def slow_first(i):
        time.sleep(0.6 if i == 0 else 0.0)
        return i

    arrived = []
    got = list(cluster.map_ordered(client, slow_first, [(i,) for i in range(6)], max_in_flight=4,
                                   progress=lambda done, total: arrived.append(done)))
    assert got == list(range(6)) and arrived == list(range(1, 7))


def test_sweep_solve_compare_sensitivity_precision_on_a_cluster_equal_in_process(baseline, client):
    vary = {"hiring_plan.1.hires": [0, 4]}
    xr.testing.assert_identical(salessim.sweep(baseline, vary, 300, 2, client=client).drop_attrs(),
                                salessim.sweep(baseline, vary, 300, 2).drop_attrs())
    kw = dict(lever="hiring_plan.1.hires", lo=0, hi=12, target="p_goal[2028] >= 0.8", trials=300, seed=2)
    on, off = salessim.solve(baseline, client=client, **kw), salessim.solve(baseline, **kw)
    assert on.value == off.value
    pd.testing.assert_frame_equal(on.points, off.points)
    other = baseline.with_overrides({"territories.East.reps": 9})
    xr.testing.assert_identical(salessim.compare([baseline, other], 300, 2, client=client).drop_attrs(),
                                salessim.compare([baseline, other], 300, 2).drop_attrs())
    params = ["territories.East.win_rate", "market.annual_growth"]
    xr.testing.assert_identical(salessim.sensitivity(baseline, trials=300, parameters=params, client=client).drop_attrs(),
                                salessim.sensitivity(baseline, trials=300, parameters=params).drop_attrs())
    (d1, r1), (d2, r2) = (salessim.simulate_to_precision(baseline, 0.05, max_trials=600, step=300, client=client),
                          salessim.simulate_to_precision(baseline, 0.05, max_trials=600, step=300))
    assert r1 == r2
    _same_data(d1, d2)


def test_backtest_windows_on_a_cluster_equal_in_process(client):
    """Each window is one task (calibrate, simulate, score on a worker): the same bits as in-process."""
    from salessim.crm import read_export

    data = read_export(ROOT / "examples/crm/opportunities.csv", ROOT / "examples/crm/reps.csv")
    kw = dict(as_of=["2024-03-31", "2024-09-30"], months=3, trials=200, draws=20, seed=5, data=data)
    on, off = salessim.backtest(None, client=client, **kw), salessim.backtest(None, **kw)
    assert on.to_json() == off.to_json()
    pd.testing.assert_frame_equal(on.rows, off.rows, check_exact=True)


def test_a_worker_killed_mid_run_leaves_a_complete_identical_file(baseline, client, tmp_path):
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def kill_once(done, total):
        if done >= 600 and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    got = simulate_to_file(baseline, tmp_path / "k.h5", 3000, 8, chunk_trials=200, client=client, progress=kill_once)
    assert killed, "the worker was never killed"
    want = simulate_to_file(baseline, tmp_path / "w.h5", 3000, 8, chunk_trials=200)
    pd.testing.assert_frame_equal(got, want)
    _same_data(salessim.open_results(tmp_path / "k.h5"), salessim.open_results(tmp_path / "w.h5"))
    deadline = time.time() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:  # the nanny restarts it
        time.sleep(0.2)
    assert victim not in client.run(os.getpid).values()


@pytest.mark.parametrize("spec, fragment", [
    ("local:0", "N in local:N must be a whole number >= 1"),
    ("local:x", "N in local:N must be a whole number >= 1"),
    ("tcp://nohost", "write tcp://HOST:PORT"),
    ("tcp://host:99999", "write tcp://HOST:PORT"),
    ("spark://x:1", "write local (one worker per core), local:N"),
])
def test_bad_cluster_spec_is_a_clear_message(spec, fragment):
    with pytest.raises(cluster.ClusterError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        cluster.parse_spec(spec)


def test_more_local_workers_than_cores_is_refused():
    n = cluster.local_cores() + 1
    with pytest.raises(cluster.ClusterError, match=f"local:{n}: this machine has {n - 1} core"):
        with cluster.connect(f"local:{n}"):
            pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from salessim.cli import main

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    out = tmp_path / "never.h5"
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["run", str(ROOT / "scenarios/baseline.yaml"), "-n", "50", "-o", str(out),
                                       "--cluster", address])
    assert result.exit_code == 2, result.output
    assert f"cannot reach the Dask scheduler at {address}" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


_WITHOUT_OPTION = """
import sys, json
{block}
import salessim
from salessim.cli import main
from salessim.stream import simulate_to_file
sc = salessim.load_scenario({scenario!r})
ds = salessim.simulate(sc, 20, 1)
salessim.save_results(ds, {tmp!r} + '/a.h5')
salessim.summarize(salessim.open_results({tmp!r} + '/a.h5'))
simulate_to_file(sc, {tmp!r} + '/b.h5', 20, 1, keep="yearly")
salessim.compare([sc, sc], 10, 1)
try:
    main(["run", {scenario!r}, "-n", "20", "-o", {tmp!r} + "/c.h5", "--stream"])
except SystemExit as exc:
    assert exc.code == 0, exc.code
print(json.dumps(sorted(m for m, mod in sys.modules.items()
                        if mod is not None and (m.split(".")[0] in ("dask", "distributed") or m == "salessim.cluster"))))
"""

_BLOCK_DASK = """
for _name in ("dask", "dask.array", "distributed", "dask.distributed"):
    sys.modules[_name] = None  # import fails and importlib.util.find_spec says None: as if not installed
"""


@pytest.mark.parametrize("blocked", [False, True], ids=["dask-installed", "dask-absent"])
def test_nothing_uses_dask_without_the_option(tmp_path, blocked):
    """Without --cluster/client= no salessim code imports dask (salessim.cluster is never
    loaded, no cluster starts), and everything works where dask cannot be imported at all.
    Where dask is installed, xarray itself imports dask.array (to recognise dask arrays) and
    dask.distributed (to pick a write lock); that is xarray's doing, not ours."""
    code = _WITHOUT_OPTION.format(block=_BLOCK_DASK if blocked else "", scenario=str(ROOT / "scenarios/baseline.yaml"),
                                  tmp=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "salessim.cluster" not in loaded
    if blocked:
        assert loaded == []


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_shuts_the_local_cluster_down_and_leaves_no_file(tmp_path):
    out = tmp_path / "run.h5"
    proc = subprocess.Popen([sys.executable, "-m", "salessim.cli", "run", str(ROOT / "scenarios/baseline.yaml"),
                             "-n", "200000", "--chunk-trials", "500", "-o", str(out), "--cluster", "local:2"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: set[int] = set()
    deadline = time.time() + 120
    while time.time() < deadline and len(workers) < 2:  # both workers running
        time.sleep(0.5)
        workers = {p for p in _descendants(proc.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")}
    assert len(workers) >= 2, "the workers did not start"
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 130, err
    assert "interrupted: nothing was written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    deadline = time.time() + 20
    while any(_alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "worker processes survived the interrupt"

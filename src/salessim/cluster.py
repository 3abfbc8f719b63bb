"""Scale-out on Dask: run chunks of trials (or whole what-if runs) on a cluster, bit for bit.

Nothing else in salessim imports dask; this module imports it only inside its functions,
and only the ``client=`` parameters and the CLI's ``--cluster`` option reach it.

- :func:`connect` opens a cluster from a spec: ``local`` or ``local:N`` starts a
  ``LocalCluster`` of N worker processes on this machine (N defaults to the cores), and
  ``tcp://HOST:PORT`` connects to a running scheduler.
- :func:`map_ordered` is the chunk runner: it submits ``fn(*shared, *item)`` for each item,
  keeps at most ``max_in_flight`` tasks submitted but not yet consumed (memory on this
  side stays bounded), and yields the results **in item order** as they arrive, holding
  early arrivals until their turn. A task whose worker dies is rescheduled by Dask; since
  every task is a pure function of its arguments (the random draws depend only on seed and
  trial), the result is the same. ``backtest`` (or anything else) needs one call.

Numba on workers, done right:

- The kernel is compiled (or loaded from Numba's on-disk cache) in this process *before*
  any worker starts, so workers only read the cache: several processes writing the cache
  at once can crash (numba#4807). On an existing cluster one worker warms first, then the
  others.
- Each local worker is one process with one thread (``threads_per_worker=1``) and
  ``NUMBA_NUM_THREADS=1`` set in its environment before it starts (Dask's
  ``pre-spawn-environ``; Dask sets the BLAS/OpenMP variables but not Numba's), so N
  workers run N threads on N cores: no oversubscription. ``local:N`` with N above the
  cores is refused. On an existing cluster every task caps Numba's threads at the cores of
  its host divided by the worker's threads (``numba.set_num_threads`` is per thread).
- :class:`ClusterInfo` reports what each worker paid to get the kernel ready (compile or
  cache load), measured by running one trial there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["ClusterError", "ClusterSpec", "ClusterInfo", "parse_spec", "connect", "map_ordered", "warm_workers",
           "local_cores", "nthreads", "CONNECT_TIMEOUT"]

CONNECT_TIMEOUT = float(os.environ.get("SALESSIM_CLUSTER_TIMEOUT", "10"))  # seconds to reach a scheduler
SPEC_HELP = "local (one worker per core), local:N (N worker processes) or tcp://HOST:PORT (a running scheduler)"

_WARM_YAML = """
name: warm-up
start: 2027-01
horizon_months: 12
goal: {annual: [1]}
territories:
  - {name: T, reps: 1, quota_annual: 1, leads_per_month: 1, lead_to_opportunity: 0.5, win_rate: 0.5,
     deal_size: {mean: 1, cv: 0.5}}
"""


class ClusterError(RuntimeError):
    """A cluster that cannot be started, reached or used (bad spec, unreachable scheduler, dead workers)."""


def local_cores() -> int:
    """Cores this process may run on (respects CPU affinity and cpusets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ClusterSpec:
    kind: str  # "local" or "remote"
    workers: int | None = None  # local: worker processes
    address: str | None = None  # remote: scheduler address

    def __str__(self) -> str:
        if self.kind == "local":
            return "local" if self.workers is None else f"local:{self.workers}"
        return str(self.address)


def parse_spec(text: str | ClusterSpec) -> ClusterSpec:
    """Read ``local``, ``local:N`` or ``tcp://HOST:PORT``."""
    if isinstance(text, ClusterSpec):
        return text
    raw = str(text).strip()
    if raw == "local":
        return ClusterSpec("local")
    if raw.startswith("local:"):
        n = raw[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise ClusterError(f"--cluster {raw!r}: N in local:N must be a whole number >= 1")
        return ClusterSpec("local", workers=int(n))
    for scheme in ("tcp://", "tls://"):
        if raw.startswith(scheme):
            host, sep, port = raw[len(scheme):].rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ClusterError(f"--cluster {raw!r}: write {scheme}HOST:PORT, such as {scheme}10.0.0.5:8786")
            return ClusterSpec("remote", address=raw)
    raise ClusterError(f"--cluster {raw!r}: write {SPEC_HELP}")


@dataclass
class ClusterInfo:
    """What a connected cluster is: workers, threads, dashboard, and each worker's warm-up cost."""

    spec: ClusterSpec
    workers: int
    threads: int
    dashboard: str | None
    warm_seconds: dict[str, float] = field(default_factory=dict)  # worker address -> seconds to get the kernel ready
    numba_threads: dict[str, int] = field(default_factory=dict)  # worker address -> size of its Numba thread pool
    local_warm_seconds: float | None = None  # this process, before the workers started

    def describe(self) -> str:
        text = f"cluster {self.spec}: {self.workers} worker{'s' if self.workers != 1 else ''}, {self.threads} thread(s)"
        if self.numba_threads:
            text += f", Numba threads per worker {sorted(set(self.numba_threads.values()))}"
        if self.warm_seconds:
            w = sorted(self.warm_seconds.values())
            text += f"; kernel ready on each worker in {w[0]:.2f}-{w[-1]:.2f} s"
        if self.dashboard:
            text += f"; dashboard {self.dashboard}"
        return text


def _warm_scenario():
    from .scenario import Scenario

    return Scenario.from_yaml(_WARM_YAML, source="salessim.cluster warm-up")


def _warm_here(inputs=None) -> float:
    """Compile or load the kernel in this process (writes Numba's cache if it is missing)."""
    from .engine import run_chunk
    from .inputs import build_inputs

    t = time.perf_counter()
    run_chunk(inputs if inputs is not None else build_inputs(_warm_scenario()), 0, 0, 1)
    return time.perf_counter() - t


def _cap_threads() -> int:
    """On a worker: Numba threads per task = host cores / worker threads (at least 1)."""
    import numba

    try:
        from distributed import get_worker

        per_worker = max(1, get_worker().state.nthreads)
    except (ImportError, ValueError):
        per_worker = 1
    allowed = max(1, local_cores() // per_worker)
    if numba.get_num_threads() > allowed:
        numba.set_num_threads(allowed)
    return numba.get_num_threads()


def _warm_task(inputs=None) -> dict:
    import socket

    import numba

    from . import __version__

    _cap_threads()
    seconds = _warm_here(inputs)
    # the size of Numba's thread pool: 1 on local workers, from their environment
    return {"seconds": seconds, "numba_threads": int(numba.config.NUMBA_NUM_THREADS), "version": __version__,
            "host": socket.gethostname(), "layer": numba.threading_layer()}


def _task(fn: Callable, *args):
    """What every submitted task runs: cap Numba's threads, then ``fn(*args)``."""
    _cap_threads()
    return fn(*args)


def dask_setup(worker) -> None:
    """Preload hook of local workers: they ignore SIGINT, so a Ctrl-C on the terminal (sent
    to the whole process group) reaches only the client, which shuts the cluster down."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass


def nthreads(client) -> int:
    """Total worker threads of a cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def warm_workers(client, inputs=None) -> tuple[dict[str, float], dict[str, int]]:
    """Get the kernel ready on every worker: one first (it may write the cache), then the rest.

    Returns each worker's seconds and Numba threads per task. Raises :class:`ClusterError`
    when a worker runs another salessim version.
    """
    from . import __version__

    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ClusterError("the cluster has no workers")
    reports = client.run(_warm_task, inputs, workers=workers[:1])
    if len(workers) > 1:
        reports.update(client.run(_warm_task, inputs, workers=workers[1:]))
    versions = {r["version"] for r in reports.values()}
    if versions != {__version__}:
        raise ClusterError(f"the workers run salessim {', '.join(sorted(versions))}, this process {__version__}: "
                           "install the same version on every worker")
    return ({w: r["seconds"] for w, r in reports.items()}, {w: r["numba_threads"] for w, r in reports.items()})


@contextmanager
def connect(spec: str | ClusterSpec, *, inputs=None, timeout: float | None = None) -> Iterator[tuple[object, ClusterInfo]]:
    """Open a cluster; yield ``(client, info)``; close what was opened on exit (also on Ctrl-C).

    Parameters
    ----------
    spec : str
        ``local``, ``local:N`` or ``tcp://HOST:PORT``.
    inputs : ModelInputs, optional
        Warm the kernel with these inputs (default: a one-rep warm-up scenario).
    timeout : float, optional
        Seconds to reach a scheduler [default: ``SALESSIM_CLUSTER_TIMEOUT`` or 10].
    """
    spec = parse_spec(spec)
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--cluster needs dask.distributed: pip install 'salessim[cluster]'") from None
    cluster = client = None
    local_warm = None
    set_here = False
    try:
        if spec.kind == "local":
            cores = local_cores()
            n = spec.workers or cores
            if n > cores:
                raise ClusterError(f"--cluster local:{n}: this machine has {cores} core(s); more worker processes than "
                                   f"cores would oversubscribe them (each worker runs one thread). Use local:{cores} or fewer")
            local_warm = _warm_here(inputs)  # before any worker exists: they will only read Numba's cache
            # Dask sets pre-spawn variables in this process's environment too (and again when it
            # restarts a worker), so Numba's own variable would change under the client's running
            # Numba; salessim/__init__.py turns this one into NUMBA_NUM_THREADS in the worker,
            # before numba is imported there.
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
            environ["SALESSIM_WORKER_NUMBA_THREADS"] = "1"
            set_here = "SALESSIM_WORKER_NUMBA_THREADS" not in os.environ
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), _deferred_interrupts() as stop:
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=":8787", preload=["salessim.cluster"], silence_logs=50)
                client = Client(cluster)
            if stop:  # Ctrl-C while the cluster was starting: it is closed below (finally), then we stop
                raise KeyboardInterrupt
        else:
            try:
                client = Client(spec.address, timeout=CONNECT_TIMEOUT if timeout is None else timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {spec.address}: {exc}. Is `dask scheduler` "
                                   "running there, and is the address right?") from None
        warm, numba_threads = warm_workers(client, inputs)
        info = ClusterInfo(spec, len(warm), nthreads(client), getattr(client, "dashboard_link", None),
                           warm, numba_threads, local_warm)
        yield client, info
    finally:
        with _deferred_interrupts():  # a second Ctrl-C must not leave the workers running
            if client is not None:
                try:
                    client.close()
                except Exception:
                    pass
            if cluster is not None:
                try:
                    cluster.close()
                except Exception:
                    pass
            if spec.kind == "local" and set_here:
                os.environ.pop("SALESSIM_WORKER_NUMBA_THREADS", None)


class _Stop(list):
    def __bool__(self) -> bool:
        return bool(len(self))


@contextmanager
def _deferred_interrupts():
    """Hold SIGINT and SIGTERM while the block runs (starting or closing a cluster must not be
    cut in half, or worker processes outlive us); yields a flag that is true if one came."""
    import signal
    import threading

    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    saved = {sig: signal.signal(sig, lambda signum, frame: stop.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def map_ordered(
    client,
    fn: Callable,
    items: Sequence[tuple],
    *,
    shared: tuple = (),
    max_in_flight: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator:
    """Run ``fn(*shared, *item)`` on the cluster for every item; yield the results in item order.

    ``shared`` arguments (scenario, inputs, seed) are sent to the workers once. At most
    ``max_in_flight`` tasks [default: twice the cluster's threads] are submitted ahead of
    the next result to yield, so this process holds at most that many results however
    the arrivals are ordered. ``progress(arrived, total)`` is called as each task completes.
    Leaving the loop early (an error, Ctrl-C, ``break``) cancels what is still running.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - older distributed
        from distributed import KilledWorker

    items = list(items)
    total = len(items)
    if total == 0:
        return
    limit = max(1, int(max_in_flight) if max_in_flight else 2 * nthreads(client))
    remote = [client.scatter(s, broadcast=True, hash=False) if _worth_scattering(s) else s for s in shared]
    futures: dict[int, object] = {}
    index_of: dict[object, int] = {}
    ready: dict[int, object] = {}
    pending = as_completed()
    submitted = arrived = 0
    next_out = 0

    def submit_more():
        nonlocal submitted
        while submitted < total and submitted < next_out + limit:
            f = client.submit(_task, fn, *remote, *items[submitted], pure=False)
            futures[submitted] = f
            index_of[f.key] = submitted
            pending.add(f)
            submitted += 1

    try:
        submit_more()
        while next_out < total:
            while next_out not in ready:
                f = next(pending)
                i = index_of.pop(f.key)
                try:
                    ready[i] = f.result()
                except KilledWorker as exc:
                    raise ClusterError(f"task {i + 1} of {total} was lost with its worker too many times: {exc}") from None
                except FutureCancelledError:
                    raise ClusterError(f"task {i + 1} of {total} was cancelled (the cluster shut down?)") from None
                del futures[i]
                f.release()
                arrived += 1
                if progress is not None:
                    progress(arrived, total)
            result = ready.pop(next_out)
            next_out += 1
            submit_more()
            yield result
    finally:
        if futures:
            try:
                client.cancel(list(futures.values()))
            except Exception:
                pass


def _worth_scattering(obj) -> bool:
    """Large shared arguments go to the workers once; small ones travel with each task."""
    return not isinstance(obj, (int, float, str, bool, type(None)))

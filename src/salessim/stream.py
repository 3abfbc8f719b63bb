"""Run a scenario chunk by chunk straight into a results file, in bounded memory.

:func:`simulate_to_file` is :func:`salessim.simulate` followed by
:func:`salessim.save_results` and :func:`salessim.summarize`, without ever holding the
whole run. Each chunk of trials is simulated, labelled, reduced (``keep="yearly"``),
compressed into HDF5 chunks and reduced to per-trial summary values by
:func:`encode_chunk`, in this process or on a Dask worker (``client=``); the
:class:`StreamWriter`, the only process that touches the file, appends the encoded
chunks in trial order. The file holds the same data as a saved in-memory run of the same
seed and trials.

Until the run completes the file is a hidden *partial* stream beside the target
(``.<name>.salessim-<host>-<pid>-<token>.partial.h5``): its ``trials`` attribute and its
``trial`` dimension always say how many trials it holds (``trials_planned`` says how many
were asked for), and it is flushed after every chunk. On success it is renamed over the
target. An interrupt (Ctrl-C, SIGTERM) or ``kill -9`` leaves the partial stream and the
target as they were; ``resume=True`` (``salessim run --stream --resume``) continues it
from its last complete chunk, and the result is identical to an uninterrupted run. Other
failures (a full disk: ``OSError(ENOSPC)``, checked before every chunk) remove it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5netcdf
import numpy as np
import pandas as pd
import xarray as xr

from ._files import PARTIAL, claim, commit, ensure_space, new_temp, partials, release, remove_partials
from .engine import Progress, _buffers, _check_args, default_chunk_trials, run_chunk, to_dataset
from .inputs import ModelInputs, build_inputs
from .results import _COMPLEVEL, ResultsError, _inflate, _shuffled_deflate
from .scenario import Scenario
from .summary import SummaryAccumulator, trial_values
from .yearly import KEEP, to_yearly

__all__ = ["simulate_to_file", "summarize_file", "STREAM_CHUNK_TRIALS", "encode_chunk", "EncodedChunk",
           "StreamWriter", "StreamError", "chunk_plan"]

STREAM_CHUNK_TRIALS = 10_000  # default trials per chunk when streaming (~0.2 GB of buffers for the baseline)


class StreamError(ValueError):
    """A stream that cannot be started or resumed as asked."""


@dataclass
class EncodedChunk:
    """One chunk of trials, ready to be written: compressed HDF5 chunks and summary values.

    The summary's per-trial values travel compressed too (shuffle + deflate of one
    (metrics, trials) float64 array): for a ``--keep yearly`` chunk they would otherwise
    be more bytes than the data.
    """

    trial0: int
    n: int
    blocks: dict[str, bytes]  # variable name -> one HDF5 chunk (shuffle + deflate), padded to the chunk length
    labels: list[dict] = field(repr=False)  # trial_values items without their per-trial values
    packed_values: bytes = field(repr=False, default=b"")

    @classmethod
    def pack(cls, trial0: int, n: int, blocks: dict[str, bytes], items: list[dict]) -> EncodedChunk:
        per_trial = [i["values"] for i in items if not i["constant"]]
        stacked = np.ascontiguousarray(np.stack(per_trial) if per_trial else np.zeros((0, n)), dtype=np.float64)
        labels = [{k: v for k, v in i.items() if k != "values" or i["constant"]} for i in items]
        return cls(trial0, n, blocks, labels, _shuffled_deflate(stacked, stacked.shape))

    @property
    def items(self) -> list[dict]:
        """The chunk's :func:`~salessim.summary.trial_values` (unpacked)."""
        rows = sum(not i["constant"] for i in self.labels)
        raw = np.frombuffer(_inflate(self.packed_values), dtype=np.uint8)
        values = raw.reshape(8, -1).T.copy().view(np.float64).reshape(rows, self.n)  # undo the byte shuffle
        out, r = [], 0
        for label in self.labels:
            if label["constant"]:
                out.append(dict(label))
            else:
                out.append(dict(label, values=values[r]))
                r += 1
        return out

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.blocks.values())


def chunk_plan(trials: int, chunk: int, start: int = 0) -> list[tuple[int, int]]:
    """(first trial, trials) of each chunk from ``start`` to ``trials``."""
    return [(t0, min(chunk, trials - t0)) for t0 in range(start, trials, chunk)]


def _reduce(ds: xr.Dataset, keep: str) -> xr.Dataset:
    return to_yearly(ds) if keep == "yearly" else ds


def _trial_variables(ds: xr.Dataset) -> list[str]:
    return [name for name, v in ds.variables.items() if v.dims and v.dims[0] == "trial"]


def template(scenario: Scenario, inputs: ModelInputs, seed: int, trials: int, keep: str) -> xr.Dataset:
    """The structure of the results file (no trials yet): variables, coordinates, attributes."""
    ds = _reduce(to_dataset(scenario, _buffers(0, inputs), seed=seed, derived=False), keep)
    ds.attrs["trials"] = 0
    ds.attrs["trials_planned"] = int(trials)
    ds.attrs["keep"] = keep
    return ds


def encode_chunk(scenario: Scenario, inputs: ModelInputs, seed: int, trial0: int, n: int, chunk: int,
                 keep: str = "full") -> EncodedChunk:
    """Simulate trials ``trial0 .. trial0 + n - 1`` and encode them for :class:`StreamWriter`.

    Pure: the result depends only on the arguments, so a Dask worker can run it and a
    rescheduled task gives the same bytes. ``chunk`` is the file's chunk length along
    ``trial`` (a last, shorter chunk is padded, as HDF5 stores it).
    """
    ds = _reduce(to_dataset(scenario, run_chunk(inputs, seed, trial0, n), seed=seed, first_trial=trial0, derived=False),
                 keep)
    blocks = {}
    for name in _trial_variables(ds):
        values = np.ascontiguousarray(ds[name].values)
        blocks[name] = _shuffled_deflate(values, (chunk,) + values.shape[1:])
    return EncodedChunk.pack(trial0, n, blocks, trial_values(ds))


class StreamWriter:
    """The single writer of a streamed results file: appends encoded chunks in trial order.

    Parameters
    ----------
    path : path
        The target; the stream is written to a partial file beside it.
    structure : xarray.Dataset
        :func:`template` of the run.
    chunk : int
        Trials per chunk (the HDF5 chunk length along ``trial``).
    resume : bool
        Continue the newest partial stream of ``path`` made by the same run (scenario, seed,
        trials, keep and chunk); start a new one if there is none.
    """

    def __init__(self, path: str | os.PathLike, structure: xr.Dataset, chunk: int, *, resume: bool = False):
        self.path = Path(path)
        self.chunk = int(chunk)
        self.trials = int(structure.attrs["trials_planned"])
        self.done = 0
        self.resumed_from: Path | None = None
        self._handle: h5netcdf.File | None = None
        self.tmp = self._find_partial(structure) if resume else None
        if self.tmp is None:
            self.tmp = new_temp(self.path, PARTIAL)
            claim(self.tmp)
            try:
                self._create(structure)
            except BaseException:
                self.tmp.unlink(missing_ok=True)
                release(self.tmp)
                raise
        else:
            self.resumed_from = self.tmp
            claim(self.tmp)
            self._reopen()

    # -- creating and resuming

    def _create(self, structure: xr.Dataset) -> None:
        encoding = {}
        for name in _trial_variables(structure):
            var = structure[name]
            encoding[name] = {"zlib": True, "complevel": _COMPLEVEL, "shuffle": True,
                              "chunksizes": (self.chunk,) + var.shape[1:]}
        for name in structure.data_vars:
            encoding.setdefault(name, {})
        structure.to_netcdf(self.tmp, engine="h5netcdf", unlimited_dims=["trial"], encoding=encoding)
        self._handle = h5netcdf.File(self.tmp, "a")

    def _find_partial(self, structure: xr.Dataset) -> Path | None:
        keys = ("scenario", "seed", "trials_planned", "keep", "salessim_version")
        mismatches = []
        for candidate in partials(self.path):
            try:
                with h5netcdf.File(candidate, "r") as f:
                    attrs = dict(f.attrs)
                    chunks = f.variables["trial"].chunks
            except Exception:  # a partial stream killed before its first flush is not readable
                continue
            differ = [k for k in keys if str(attrs.get(k)) != str(structure.attrs.get(k))]
            if not differ and chunks and chunks[0] != self.chunk:
                differ = ["chunk_trials"]
            if differ:
                mismatches.append(f"{candidate.name} differs in {', '.join(differ)}")
                continue
            return candidate
        if mismatches:
            raise StreamError(f"cannot resume {self.path}: no partial stream was made by this run ("
                              + "; ".join(mismatches) + "); run the same command as before, or drop --resume")
        return None

    def _reopen(self) -> None:
        self._handle = h5netcdf.File(self.tmp, "a")
        done = int(self._handle.attrs["trials"])
        done -= done % self.chunk if done < self.trials else 0  # a complete run keeps its short last chunk
        self.done = done
        self._handle.resize_dimension("trial", done)  # drop anything written after the last complete chunk
        self._handle.attrs["trials"] = done
        self._flush()

    # -- writing

    def append(self, enc: EncodedChunk) -> None:
        """Write the chunk that starts at trial ``self.done``; flush; update ``trials``."""
        if enc.trial0 != self.done:
            raise ValueError(f"chunks must arrive in trial order: expected trial {self.done}, got {enc.trial0}")
        if enc.trial0 % self.chunk:
            raise ValueError(f"chunk at trial {enc.trial0} is not aligned to {self.chunk}")
        ensure_space(self.tmp.parent, 2 * enc.nbytes, "the next chunk")
        f = self._handle
        stop = enc.trial0 + enc.n
        f.resize_dimension("trial", stop)
        for name, block in enc.blocks.items():
            var = f.variables[name]
            var._h5ds.id.write_direct_chunk((enc.trial0,) + (0,) * (len(var.dimensions) - 1), block)
        # the chunks and their index reach the file before ``trials`` counts them: HDF5 may
        # write a dirty object header (the attribute) out of its cache at any time, and a
        # process killed after that but before the chunk index was written would leave a
        # file that claims trials it does not hold (they would read as fill values)
        self._flush()
        f.attrs["trials"] = stop
        self._flush()
        self.done = stop

    def _flush(self) -> None:
        """Push HDF5's caches to the file (h5netcdf's own flush does not): a process killed
        after this point leaves a file that opens and holds the trials it says."""
        self._handle.flush()
        self._handle._h5file.flush()

    def finish(self) -> Path:
        """Complete the file (drop ``trials_planned``), rename it over the target."""
        if self.done != self.trials:
            raise ValueError(f"stream holds {self.done} of {self.trials} trials")
        f = self._handle
        del f.attrs["trials_planned"]
        f.close()
        self._handle = None
        commit(self.tmp, self.path)
        release(self.tmp)
        remove_partials(self.path)
        return self.path

    def close(self, keep_partial: bool) -> None:
        """Stop without completing: keep the partial stream (for ``resume``) or remove it."""
        if self._handle is not None:
            try:
                self._handle.close()
            except Exception:
                pass
            self._handle = None
        if not keep_partial or self.done == 0:
            self.tmp.unlink(missing_ok=True)
        release(self.tmp)


def _local_chunks(scenario, inputs, seed, plan, chunk, keep) -> Iterator[EncodedChunk]:
    for t0, n in plan:
        yield encode_chunk(scenario, inputs, seed, t0, n, chunk, keep)


def _draws(scenario: Scenario, trial0: int, n: int) -> np.ndarray | None:
    """The parameter draw of trials trial0 .. trial0 + n - 1 (trial k uses draw k // trials_per_draw), or None."""
    block = scenario.spec.uncertainty
    if block is None or not block.parameters:
        return None
    return np.arange(trial0, trial0 + n, dtype=np.int64) // block.trials_per_draw


def _reread(writer: StreamWriter, summary: SummaryAccumulator) -> None:
    """Summary values of the trials a resumed stream already holds (read back from it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_dataset(writer.tmp, engine="h5netcdf")
    with ds:
        for t0 in range(0, writer.done, writer.chunk):
            summary.add(ds.isel(trial=slice(t0, min(writer.done, t0 + writer.chunk))).load())


def simulate_to_file(
    scenario: Scenario,
    path: str | os.PathLike,
    trials: int = 10_000,
    seed: int = 0,
    *,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
    keep: str = "full",
    resume: bool = False,
    client=None,
    max_in_flight: int | None = None,
) -> pd.DataFrame:
    """Simulate ``trials`` futures into the results file ``path``; return the summary table.

    Parameters
    ----------
    keep : {"full", "yearly"}
        What the file stores: every month, or the per-trial yearly figures the summary
        needs plus per-seat attainment (:mod:`salessim.yearly`).
    resume : bool
        Continue an interrupted stream of the same run (see the module docstring).
    client : dask.distributed.Client, optional
        Run the chunks on a Dask cluster (:mod:`salessim.cluster`); this process stays the
        only writer of the file. Same bits as without.
    max_in_flight : int, optional
        With ``client``: chunks submitted but not yet written (bounds this process's memory).

    Peak memory is about one chunk of results (``max_in_flight`` chunks with a cluster)
    plus the per-trial summary values (float32), so a million trials of the baseline fit
    in well under 1.5 GB.
    """
    _check_args(trials, seed, 0, chunk_trials)
    if keep not in KEEP:
        raise StreamError(f"keep must be one of {', '.join(KEEP)}, got {keep!r}")
    inputs = build_inputs(scenario)
    chunk = chunk_trials or min(STREAM_CHUNK_TRIALS, max(default_chunk_trials(inputs, trials), 1))
    writer = StreamWriter(path, template(scenario, inputs, seed, trials, keep), chunk, resume=resume)
    summary = SummaryAccumulator(trials)
    try:
        if writer.done:
            _reread(writer, summary)
            if progress is not None:
                progress(writer.done, trials)
        plan = chunk_plan(trials, chunk, writer.done)
        if client is None:
            chunks: Iterable[EncodedChunk] = _local_chunks(scenario, inputs, seed, plan, chunk, keep)
        else:
            from .cluster import map_ordered

            chunks = map_ordered(client, encode_chunk, [(t0, n, chunk, keep) for t0, n in plan],
                                 shared=(scenario, inputs, seed), max_in_flight=max_in_flight)
        first = True
        for enc in chunks:
            if first:  # fail early, before simulating the rest, when the whole file cannot fit
                ensure_space(writer.tmp.parent, enc.nbytes / enc.n * (trials - writer.done), "the results file")
                first = False
            writer.append(enc)
            summary.add_items(enc.items, enc.n, _draws(scenario, enc.trial0, enc.n))
            if progress is not None:
                progress(writer.done, trials)
        writer.finish()
    except (KeyboardInterrupt, SystemExit):
        writer.close(keep_partial=True)
        raise
    except BaseException:
        writer.close(keep_partial=False)
        raise
    return summary.frame()


def summarize_file(path: str | os.PathLike, chunk_trials: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Summary table and attributes of a results file, read ``chunk_trials`` trials at a time
    [default: the file's own HDF5 chunk along ``trial``, so each chunk is decompressed once].

    Equal to ``summarize(open_results(path))`` (to float32 rounding for very large runs),
    in memory bounded by the chunk plus the per-trial summary values: for files too large
    to load whole.
    """
    import warnings

    import xarray as xr

    from .results import check_results, file_trial_chunk, open_results

    path = Path(path)
    if not (path.exists() and path.is_file()):
        open_results(path)  # raises the right ResultsError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lazy = xr.open_dataset(path, engine="h5netcdf", phony_dims="access")
    except Exception as exc:
        raise ResultsError(f"cannot read {path} as a salessim results file (HDF5): {exc}") from None
    with lazy:
        check_results(lazy, path, what_if_ok=False)
        n = lazy.sizes["trial"]
        chunk_trials = chunk_trials or file_trial_chunk(path)
        summary = SummaryAccumulator(n)
        for start in range(0, n, chunk_trials):
            try:
                part = lazy.isel(trial=slice(start, min(n, start + chunk_trials))).load()
            except Exception as exc:  # a damaged chunk: h5py raises OSError, numcodecs others
                raise ResultsError(f"cannot read trials {start:,}.. of {path}: {exc}") from None
            summary.add(part)
        return summary.frame(), dict(lazy.attrs)

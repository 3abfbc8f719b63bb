"""Atomic writes: results files, plots, reports, export files and export folders.

The rule everywhere: build the output under a temporary name in the target's folder,
flush it to disk, then rename it over the target. A failure, an interrupt or a full disk
never leaves a half-written file at the target and never destroys an earlier good one.

Temporary names say who made them: ``.<target name>.salessim-<host>-<pid>-<token>.<kind>``
(plus the target's suffix, which some writers use to pick the format). A process killed
with ``kill -9`` cannot remove its temporary file, so every later write to the same target
removes the temporary files of processes of this host that no longer exist
(:func:`remove_stale`). Partial streams (kind ``partial``) are the exception: they are
kept for ``salessim run --stream --resume`` until a later write to the target succeeds.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic", "write_folder_atomic", "refuse_special", "new_temp", "commit", "remove_stale",
           "remove_partials", "partials", "claim", "release", "ensure_space", "no_space", "temp_owner", "TEMP", "PARTIAL"]

TEMP = "tmp"  # an ordinary write in progress
PARTIAL = "partial"  # a streamed run in progress (resumable)
SPACE_MARGIN = 4 * 2**20  # bytes kept free beyond an estimate (HDF5 metadata, the file system's own needs)

_IN_USE: set[Path] = set()  # partial streams this process is writing now (see claim / release)
_HOST = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:32] or "host"


def refuse_special(path: Path) -> None:
    """Raise OSError if ``path`` exists and is not a regular file (a folder, device, pipe, socket).

    The rename at the end of an atomic write would replace such a thing (as root, even
    ``/dev/null``) with a regular file, so salessim never targets one.
    """
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a link to a device is a device
    except OSError:
        return  # absent (or not ours to look at): the write itself decides
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    if not stat.S_ISREG(mode):
        raise FileExistsError(errno.EEXIST, "exists and is not a regular file (a device, pipe or socket)", str(path))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pattern(target: Path) -> re.Pattern:
    return re.compile(r"^\." + re.escape(target.name) + r"\.salessim-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[0-9a-f]+"
                      r"\.(?P<kind>" + TEMP + "|" + PARTIAL + r")(?:dir)?" + re.escape(target.suffix) + "$")


def temp_owner(path: Path, target: Path) -> tuple[str, int, str] | None:
    """(host, pid, kind) encoded in a temporary name made for ``target``, or None."""
    m = _pattern(target).match(path.name)
    return (m["host"], int(m["pid"]), m["kind"]) if m else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _siblings(target: Path):
    try:
        entries = list(target.parent.iterdir())
    except FileNotFoundError:
        return
    for p in entries:
        owner = temp_owner(p, target)
        if owner is not None:
            yield p, owner


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def remove_stale(target: str | os.PathLike) -> list[Path]:
    """Remove temporary files (not partial streams) left for ``target`` by dead processes of this host."""
    target = Path(target)
    removed = []
    for p, (host, pid, kind) in list(_siblings(target)):
        if kind == TEMP and host == _HOST and pid != os.getpid() and not _alive(pid):
            _remove(p)
            removed.append(p)
    return removed


def partials(target: str | os.PathLike) -> list[Path]:
    """Partial streams of ``target`` whose writer is gone (resumable), newest first."""
    target = Path(target)
    found = [p for p, (host, pid, kind) in _siblings(target)
             if kind == PARTIAL and p not in _IN_USE and not (host == _HOST and pid != os.getpid() and _alive(pid))]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def claim(path: Path) -> None:
    """Mark a partial stream as being written by this process (other writers leave it alone)."""
    _IN_USE.add(Path(path))


def release(path: Path) -> None:
    _IN_USE.discard(Path(path))


def remove_partials(target: str | os.PathLike, keep: Path | None = None) -> None:
    """Remove the partial streams of ``target`` (after a write to it succeeded: they are superseded)."""
    for p in partials(target):
        if keep is None or p != keep:
            _remove(p)


def new_temp(target: str | os.PathLike, kind: str = TEMP, directory: bool = False) -> Path:
    """Create an empty temporary file (or folder) beside ``target``, named for :func:`remove_stale`.

    Stale temporary files of ``target`` are removed first. The file follows the umask.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    name = f".{target.name}.salessim-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.{kind}{'dir' if directory else ''}{target.suffix}"
    tmp = target.parent / name
    if directory:
        tmp.mkdir(mode=0o777 & ~_umask())
    else:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask())
        os.close(fd)
    return tmp


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp: Path, target: Path) -> Path:
    """Flush ``tmp`` to disk and rename it over ``target`` (then flush the folder entry)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    try:
        _fsync_path(target.parent)
    except OSError:  # some file systems cannot fsync a folder; the rename itself is atomic
        pass
    return target


def no_space(where: str | os.PathLike, detail: str = "") -> OSError:
    """The error a full disk gives: ``no space left on <where>``."""
    return OSError(errno.ENOSPC, f"no space left on {where}" + (f" ({detail})" if detail else ""))


def ensure_space(folder: str | os.PathLike, nbytes: float, what: str = "") -> None:
    """Raise ENOSPC before writing ``nbytes`` into ``folder`` if they would not fit with a margin.

    Writers call this before each large write so that HDF5 never meets a full disk in the
    middle of a write (h5py can crash the process when it does).
    """
    folder = Path(folder)
    free = shutil.disk_usage(folder).free
    need = int(nbytes) + SPACE_MARGIN
    if free < need:
        raise no_space(folder, f"{what + ' ' if what else ''}needs about {_size(need)}, {_size(free)} free")


def _size(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then rename it to ``path``.

    The parent folder is created if needed. The temporary file keeps the target's
    suffix (some writers pick the format from it) and is removed on any failure.
    """
    path = Path(path)
    refuse_special(path)
    tmp = new_temp(path)
    try:
        write(tmp)
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_folder_atomic(path: str | os.PathLike, write: Callable[[Path], list[Path]]) -> list[Path]:
    """Call ``write(tmpdir)`` to fill a temporary folder, then move its files to folder ``path``.

    ``write`` returns the files it made inside ``tmpdir``. A new folder is renamed into place
    in one step. Into an existing folder the files are moved one by one with ``os.replace``
    (each move is atomic and needs no space, so the work that can fail, writing, is over
    before the first move); other files in that folder are left alone. On any failure the
    temporary folder is removed and ``path`` is as it was. Returns the paths written.
    """
    path = Path(path)
    tmp = new_temp(path, directory=True)
    try:
        made = [Path(p) for p in write(tmp)]
        for p in made:
            _fsync_path(p)
        names = [p.relative_to(tmp) for p in made]
        if not path.exists():
            os.replace(tmp, path)
        else:
            for name in names:
                os.replace(tmp / name, path / name)
            shutil.rmtree(tmp, ignore_errors=True)
        try:
            _fsync_path(path)
        except OSError:
            pass
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [path / name for name in names]

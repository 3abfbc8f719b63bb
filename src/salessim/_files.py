"""Atomic writes for the output files of plots, reports and exports.

Same rule as ``results.py``: write to a temporary file in the target's folder, flush it
to disk, then rename it over the target, so a failure never leaves a half-written file
and never destroys an earlier good one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic", "refuse_special"]


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


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then rename it to ``path``.

    The parent folder is created if needed. The temporary file keeps the target's
    suffix (some writers pick the format from it) and is removed on any failure.
    """
    path = Path(path)
    refuse_special(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs follow the umask
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

"""How much memory this process can still use, so that a run too large to hold in memory is
refused with a message before it starts, instead of being killed part-way by the kernel's
out-of-memory killer (which gives no message at all: Linux over-commits, so allocating the
result arrays succeeds and the process dies later, while the kernel writes into them).

The figure is the smaller of what the machine reports available (``MemAvailable`` in
``/proc/meminfo``: free memory plus the page cache it can drop) and what the process's
control group still allows (cgroup v2 ``memory.max`` minus ``memory.current``, or v1's
``memory.limit_in_bytes`` minus ``memory.usage_in_bytes``), which is the limit in a
container or a CI job. ``None`` where neither can be read (not Linux): then nothing is
refused, and a ``MemoryError`` still gets its message from the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["available_bytes", "format_bytes"]

_CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),  # v1
)


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) reads as None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file counts in KiB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    for limit_path, usage_path in _CGROUP_FILES:
        limit, usage = _read_int(limit_path), _read_int(usage_path)
        if limit is not None and usage is not None and limit < 2**60:  # v1 writes a huge number for "no limit"
            return max(limit - usage, 0)
    return None


def available_bytes() -> int | None:
    """Bytes this process can still allocate without swapping or being killed, or None if unknown."""
    if os.environ.get("SALESSIM_MEMORY_BYTES"):  # an explicit budget (tests, shared machines) wins
        return int(os.environ["SALESSIM_MEMORY_BYTES"])
    known = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    return min(known) if known else None


def format_bytes(n: float) -> str:
    """``1.2 GB``, ``340 MB``, ``28 KB``: decimal units, as disks and ``free -h`` on most systems show."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} bytes"

"""What every fit shares: addressed random streams, intervals and the too-little-data error."""

from __future__ import annotations

import zlib

import numpy as np

from ..mapping import CrmError

__all__ = ["stream", "interval", "FitError", "LEVEL"]

LEVEL = 0.9
"""Central interval reported for every fitted number (the issue's "stated 90% interval")."""


class FitError(CrmError):
    """Too little data for a fit; the message names the territory, the count and the minimum."""


def _key(part) -> int:
    return zlib.crc32(str(part).encode("utf-8"))


def stream(seed: int, purpose: str, *keys) -> np.random.Generator:
    """The random stream of one purpose: keyed by (seed, purpose, keys), never global state,
    so each fit's draws are the same whatever else ran before it."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(_key(purpose), *map(_key, keys)))))


def interval(draws, level: float = LEVEL) -> tuple[float, float]:
    """Central ``level`` interval of draws (along the first axis)."""
    lo, hi = np.quantile(np.asarray(draws, float), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi

"""Numba's cache must never serve kernels compiled against older samplers."""

import hashlib
from pathlib import Path

from salessim.kernels import month, params

KERNELS = Path(month.__file__).parent


def test_month_records_the_current_streams_source():
    actual = hashlib.sha256((KERNELS / "streams.py").read_bytes()).hexdigest()
    assert month.STREAMS_SHA256 == actual, (
        "kernels/streams.py changed: set STREAMS_SHA256 in kernels/month.py to "
        f"{actual} so Numba recompiles the kernels that inline the samplers"
    )


def test_parameter_draws_record_the_current_streams_source():
    actual = hashlib.sha256((KERNELS / "streams.py").read_bytes()).hexdigest()
    assert params.STREAMS_SHA256 == actual, (
        f"kernels/streams.py changed: set STREAMS_SHA256 in kernels/params.py to {actual}"
    )

"""Numba kernels: pure functions over arrays.

- :mod:`.streams`: counter-based random streams and inverse-transform samplers.
- :mod:`.month`: the model, one trial month by month and many trials in parallel.

Numba's on-disk cache (``cache=True``) checks a compiled function only against the file
that defines it, yet the kernels in :mod:`.month` compile the samplers of :mod:`.streams`
into themselves. So :mod:`.month` records the SHA-256 of ``streams.py``
(``month.STREAMS_SHA256``): any change to the samplers must update it, which changes
``month.py`` and invalidates its cache. ``tests/test_kernel_cache.py`` enforces this.
"""

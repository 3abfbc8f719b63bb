"""Numba kernels: pure functions over arrays.

- :mod:`.streams`: counter-based random streams and inverse-transform samplers.
- :mod:`.month`: the model, one trial month by month and many trials in parallel.
- :mod:`.layout`: the kernel's inputs and outputs as typed named tuples, grouped by role.
- :mod:`.params`: parameter draws of uncertain runs and per-draw lookup tables.

Numba's on-disk cache (``cache=True``) checks a compiled function only against the file
that defines it, yet the kernels in :mod:`.month` compile the samplers of :mod:`.streams`
into themselves. So :mod:`.month` and :mod:`.params` record the SHA-256 of ``streams.py``
(``STREAMS_SHA256``): any change to the samplers must update both, which changes their
files and invalidates their caches. ``tests/test_kernel_cache.py`` enforces this.
"""

"""Numba's first kernel call in a process, without importing ``scipy.linalg``.

The first call of any compiled function, even one loaded from Numba's cache, makes Numba
load its typing and lowering registries. One of them, ``numba.np.arraymath``, checks at
import whether BLAS is available by importing ``scipy.linalg.cython_blas``, and Python
imports a submodule's package first: all of ``scipy.linalg`` (and the array-API layer
it pulls in), about 0.1-0.2 s of a warm ``salessim run``, for a check no salessim kernel
needs (none calls ``np.dot`` or ``np.linalg``).

:func:`first_kernel_call` loads the ``cython_blas`` extension module alone from its
file while that first call runs, so the check finds it and gives Numba the same answer
(BLAS is there), and then takes it out of ``sys.modules`` again: a later
``import scipy.linalg`` is an ordinary import (the extension module, once initialised,
is the same object). Numba's own state is untouched. Where anything differs from what
this expects (``scipy.linalg`` already imported, no such file, a load error) it does
nothing and Numba imports ``scipy.linalg`` as before.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_BLAS = "scipy.linalg.cython_blas"
_lock = threading.Lock()
_started = False


@contextmanager
def first_kernel_call() -> Iterator[None]:
    """Wrap a kernel call: the first one in the process runs with ``scipy.linalg.cython_blas``
    loaded on its own (see the module docstring); later ones run as they are."""
    global _started
    if _started:
        yield
        return
    with _lock:
        if _started:  # another thread made the first call while this one waited
            yield
            return
        module = _load_cython_blas()
        try:
            yield
        finally:
            _started = True
            if module is not None and sys.modules.get(_BLAS) is module:
                if "scipy.linalg" in sys.modules:  # imported meanwhile: keep the module, as its attribute
                    setattr(sys.modules["scipy.linalg"], "cython_blas", module)
                else:
                    del sys.modules[_BLAS]


def _load_cython_blas():
    """The ``scipy.linalg.cython_blas`` extension module, loaded from its file without its
    package and put in ``sys.modules``; None if that is not possible (nothing changed)."""
    if _BLAS in sys.modules or "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return None  # nothing to save: the check already ran, or its import is free
    try:
        import scipy

        folder = Path(scipy.__file__).parent / "linalg"
        path = next((folder / f"cython_blas{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
                     if (folder / f"cython_blas{suffix}").is_file()), None)
        if path is None:
            return None
        spec = importlib.util.spec_from_file_location(_BLAS, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_BLAS] = module
        spec.loader.exec_module(module)
    except Exception:  # any surprise: leave it to Numba's own import
        sys.modules.pop(_BLAS, None)
        return None
    return module

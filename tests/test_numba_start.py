"""Numba's first kernel call without importing scipy.linalg (salessim._numba_start)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys
import numpy as np
import salessim
sc = salessim.load_scenario(sys.argv[1])
first = salessim.simulate(sc, trials=20, seed=1)
after_first = {m: m in sys.modules for m in ("scipy.linalg", "scipy.linalg.cython_blas")}
import numba.np.arraymath as arraymath
have_blas = bool(arraymath._HAVE_BLAS)
import scipy.linalg  # an ordinary import afterwards
from scipy.linalg import cython_blas
import numba
@numba.njit
def dot(a, b):
    return np.dot(a, b)
again = salessim.simulate(sc, trials=20, seed=1)
print(json.dumps({"after_first": after_first, "have_blas": have_blas,
                  "attribute": scipy.linalg.cython_blas is cython_blas and len(cython_blas.__pyx_capi__) > 0,
                  "dot": float(dot(np.arange(3.0), np.arange(3.0))), "same": bool(first.equals(again)),
                  "solve": float(scipy.linalg.solve(np.eye(2) * 2.0, np.ones(2))[0])}))
"""


def test_the_first_kernel_call_leaves_scipy_linalg_unimported_and_numba_as_it_would_be():
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT / "scenarios" / "baseline.yaml")],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["after_first"] == {"scipy.linalg": False, "scipy.linalg.cython_blas": False}
    assert got["have_blas"] is True  # Numba's BLAS check found cython_blas, as with scipy.linalg imported
    assert got["attribute"] is True
    assert got["dot"] == 5.0
    assert got["solve"] == 0.5
    assert got["same"] is True


def test_nothing_is_done_when_scipy_linalg_is_already_imported():
    child = ("import sys, scipy.linalg, salessim; sc = salessim.load_scenario(sys.argv[1]); "
             "salessim.simulate(sc, trials=5, seed=0); import salessim._numba_start as s; "
             "print(s._started, 'scipy.linalg.cython_blas' in sys.modules, scipy.linalg.cython_blas.__name__)")
    out = subprocess.run([sys.executable, "-c", child, str(ROOT / "scenarios" / "baseline.yaml")],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "True", "scipy.linalg.cython_blas"]

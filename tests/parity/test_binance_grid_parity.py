"""first_off_step (the Binance grid check on every parsed value) against its .py_func and numpy."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.data import _binance_kernels as bk


@pytest.mark.parametrize(("values", "step", "want"), [
    (np.array([60000.1, 60000.2, 0.0, -1.0, np.nan]), 0.1, -1),  # <= 0 and NaN are skipped
    (np.array([60000.1, 60000.15]), 0.1, 1),
    (np.array([4700.25, 4700.5, 4701.0]), 0.25, -1),
    (np.array([1e-5, 3e-5, 1.2e-4]), 1e-5, -1),
    (np.array([1e-5, 2e-5, 3.5e-6, 1e-6]), 1e-5, 2),
    (np.array([60000.01, 60000.00001]), 0.01, 1),  # 1e-3 of a tick at q = 6e6: caught
    (np.array([0.1 * k for k in range(1, 2000)]), 0.1, -1),  # float noise of k * 0.1 passes
])
def test_first_off_step_matches_py_func_and_numpy(values, step, want):
    got = bk.first_off_step(values, step, 2.0 ** 53)
    ref = bk.first_off_step.py_func(values, step, 2.0 ** 53)
    v = np.where((values > 0) & (values <= 2.0 ** 53), values / step, 0.0)
    off = np.flatnonzero(np.abs(v - np.rint(v)) > 1e-12 * np.maximum(1, np.abs(v)))
    assert got == ref == want == (int(off[0]) if len(off) else -1)

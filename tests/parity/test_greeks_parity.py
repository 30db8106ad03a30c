"""Every kernel of qlib.risk._greeks_kernels agrees with its own .py_func."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.risk import _greeks_kernels as _k


@pytest.fixture(scope="module")
def opts():
    rng = np.random.default_rng(5)
    n = 2_000
    s = rng.uniform(50, 150, n)
    k = rng.uniform(50, 150, n)
    t = rng.uniform(0.0, 3.0, n)
    t[:20] = 0.0  # expired: deterministic limit
    r = rng.uniform(-0.01, 0.08, n)
    q = rng.uniform(0.0, 0.04, n)
    v = rng.uniform(0.0, 1.5, n)
    v[20:40] = 0.0
    w = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    return s, k, t, r, q, v, w


def test_bsm_greeks_parity(opts):
    jit = [np.empty(len(opts[0])) for _ in range(6)]
    py = [np.empty(len(opts[0])) for _ in range(6)]
    _k.bsm_greeks(*opts, *jit)
    _k.bsm_greeks.py_func(*opts, *py)
    for a, b in zip(jit, py, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_bsm_prices_parity(opts):
    a, b = np.empty(len(opts[0])), np.empty(len(opts[0]))
    _k.bsm_prices(*opts, a)
    _k.bsm_prices.py_func(*opts, b)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_bsm_price_one_and_norm_parity():
    args = (101.0, 97.0, 0.4, 0.02, 0.01, 0.3, -1.0)
    assert _k.bsm_price_one(*args) == pytest.approx(_k.bsm_price_one.py_func(*args), rel=1e-14)
    for x in (-8.0, -1.0, 0.0, 0.5, 7.0):
        assert _k.norm_cdf(x) == pytest.approx(_k.norm_cdf.py_func(x), rel=1e-15)
        assert _k.norm_pdf(x) == pytest.approx(_k.norm_pdf.py_func(x), rel=1e-15)


def test_implied_vols_parity(opts):
    s, k, t, r, q, v, w = opts
    px = np.empty(len(s))
    _k.bsm_prices(s, k, t, r, q, v, w, px)
    px[::7] *= 3.0  # some above the upper bound
    px[::11] = 0.0  # some below the lower bound
    out = [np.empty(len(s)), np.empty(len(s), np.int8), np.empty(len(s)), np.empty(len(s), np.int8)]
    _k.implied_vols(px, s, k, t, r, q, w, 1e-12, 100, out[0], out[1])
    _k.implied_vols.py_func(px, s, k, t, r, q, w, 1e-12, 100, out[2], out[3])
    assert np.array_equal(out[1], out[3])
    assert {0, 1, 2, 4} <= set(out[1].tolist())
    np.testing.assert_allclose(out[0], out[2], rtol=1e-12, atol=1e-14)


def test_worst_window_parity():
    x = np.random.default_rng(2).normal(0, 0.01, 5_000)
    for length in (1, 7, 5_000):
        a = _k.worst_window(x, length)
        b = _k.worst_window.py_func(x, length)
        assert a[0] == b[0]
        assert a[1] == pytest.approx(b[1], rel=1e-12, abs=1e-15)

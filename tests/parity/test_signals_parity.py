"""Every kernel of qlib.signals._kernels agrees with its own .py_func on real and random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.signals import _kernels as _k


@pytest.fixture(scope="module")
def book():
    rng = np.random.default_rng(11)
    n = 3_000
    bid = 100 + np.cumsum(rng.integers(-1, 2, n)) * 0.01
    ask = bid + rng.integers(1, 4, n) * 0.01
    return bid, rng.integers(1, 50, n).astype(float), ask, rng.integers(1, 50, n).astype(float)


def test_ofi_events_parity(book):
    a, b = np.empty(len(book[0])), np.empty(len(book[0]))
    _k.ofi_events(*book, a)
    _k.ofi_events.py_func(*book, b)
    assert np.array_equal(a, b)


def test_multilevel_ofi_events_parity(book):
    two = [np.column_stack([x, x[::-1]]) for x in book]
    a, b = np.empty(two[0].shape), np.empty(two[0].shape)
    _k.multilevel_ofi_events(*two, a)
    _k.multilevel_ofi_events.py_func(*two, b)
    assert np.array_equal(a, b)


def test_tick_rule_and_lee_ready_parity(book):
    px = book[0] + 0.005 * np.random.default_rng(1).integers(-1, 2, len(book[0]))
    mid = (book[0] + book[2]) / 2
    out = [np.zeros(len(px), np.int8) for _ in range(4)]
    _k.tick_rule(px, out[0])
    _k.tick_rule.py_func(px, out[1])
    assert np.array_equal(out[0], out[1])
    _k.lee_ready(px, mid, out[0], out[2])
    _k.lee_ready.py_func(px, mid, out[0], out[3])
    assert np.array_equal(out[2], out[3])


@pytest.mark.parametrize("lag", [1, 7, 300])
def test_lagged_sq_sum_parity(book, lag):
    x = np.log(book[0])
    assert _k.lagged_sq_sum(x, lag) == pytest.approx(_k.lagged_sq_sum.py_func(x, lag), rel=1e-12)


def test_first_order_autocov_parity(book):
    dp = np.diff(book[0])
    assert _k.first_order_autocov(dp) == pytest.approx(_k.first_order_autocov.py_func(dp),
                                                       rel=1e-12)


def test_previous_tick_parity():
    ts = np.array([5, 5, 9, 20, 31], dtype=np.int64)
    v = np.arange(5.0)
    grid = np.arange(0, 40, 4, dtype=np.int64)
    a, b = np.empty(len(grid)), np.empty(len(grid))
    assert _k.previous_tick(ts, v, grid, a) == _k.previous_tick.py_func(ts, v, grid, b) == 2
    assert np.array_equal(a, b)
    assert a.tolist() == [0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0]


def test_ofi_real_day_parity(shared_data):
    from qlib.book import bbo
    from qlib.data import load
    q = bbo(load("binance", shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz"))
    cols = [q[c].to_numpy() for c in ("bid_px", "bid_qty", "ask_px", "ask_qty")]
    a, b = np.empty(len(q)), np.empty(len(q))
    _k.ofi_events(*cols, a)
    _k.ofi_events.py_func(*cols, b)
    assert np.array_equal(a, b)
